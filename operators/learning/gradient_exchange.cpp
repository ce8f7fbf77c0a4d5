#include "operators/learning/gradient_exchange.hpp"

#include <algorithm>

#include "engine/stage_metrics.hpp"
#include "operators/learning/cpu_clock.hpp"

namespace tailflow::ops::learning {
namespace {

torch::Tensor long_tensor(const std::vector<std::int64_t>& values) {
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(values.size())}, torch::kLong);
  std::copy(values.begin(), values.end(), out.data_ptr<std::int64_t>());
  return out;
}

// A rank that did no forward pass (an empty share of the batch) has no gradients yet: it contributes zeros.
torch::Tensor& defined_gradient(torch::Tensor& parameter) {
  if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
  return parameter.mutable_grad();
}

}  // namespace

GradientExchange::GradientExchange(comm::Communicator& comm, ContentModelImpl& model,
                                   const FeatureSchema& schema, std::int64_t bucket_bytes, bool sparse_tables)
    : comm_(comm), categorical_columns_(static_cast<std::int64_t>(schema.categorical.size())) {
  if (sparse_tables) {
    for (std::size_t b = 0; b < schema.bags.size(); ++b) tables_.push_back({model.bag_table(b), true, b});
    for (std::size_t c = 0; c < schema.categorical.size(); ++c)
      tables_.push_back({model.categorical_table(c), false, c});
  }
  auto is_table = [&](const torch::Tensor& parameter) {
    return std::any_of(tables_.begin(), tables_.end(), [&](const Table& table) {
      return table.weight.unsafeGetTensorImpl() == parameter.unsafeGetTensorImpl();
    });
  };
  // Reverse registration order, as back-propagation produces them (the output layer's gradients first), so
  // that a future overlap of communication with the backward pass needs no reordering.
  auto parameters = model.parameters();
  const std::int64_t bucket_elements = std::max<std::int64_t>(1, bucket_bytes / std::int64_t{sizeof(float)});
  std::vector<Segment> bucket;
  std::int64_t elements = 0;
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    if (is_table(*it)) continue;
    bucket.push_back({*it, torch::Tensor()});
    elements += it->numel();
    if (elements >= bucket_elements) {
      buckets_.push_back(std::move(bucket));
      bucket.clear();
      elements = 0;
    }
  }
  if (!bucket.empty()) buckets_.push_back(std::move(bucket));
}

std::vector<std::int64_t> GradientExchange::touched_rows(const Table& table, const ItemFeatures& items,
                                                         std::span<const std::int64_t> global_rows) const {
  std::vector<std::int64_t> touched;
  if (table.is_bag) {
    const SparseBags& bag = items.bags[table.index];
    for (std::int64_t row : global_rows)
      touched.insert(touched.end(), bag.ids.begin() + bag.offsets[row],
                     bag.ids.begin() + bag.offsets[row + 1]);
  } else {
    for (std::int64_t row : global_rows)
      touched.push_back(
          items.categorical[row * categorical_columns_ + static_cast<std::int64_t>(table.index)]);
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  return touched;
}

ExchangeCost GradientExchange::exchange(const ItemFeatures& items, std::span<const std::int64_t> global_rows,
                                        std::int64_t global_batch_size) {
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / static_cast<double>(global_batch_size);
  ExchangeCost cost;
  std::vector<Segment> rows;
  for (Table& table : tables_)
    rows.push_back({table.weight, long_tensor(touched_rows(table, items, global_rows))});
  if (buckets_.empty()) {
    send(rows, scale, cost);
    return cost;
  }
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    if (b > 0 || rows.empty()) {
      send(buckets_[b], scale, cost);
      continue;
    }
    std::vector<Segment> first = rows;  // the touched rows ride with the first bucket
    first.insert(first.end(), buckets_[b].begin(), buckets_[b].end());
    send(first, scale, cost);
  }
  return cost;
}

void GradientExchange::send(std::vector<Segment>& message, double scale, ExchangeCost& cost) {
  if (message.empty()) return;
  if (comm_.size() == 1) {  // nothing to sum: scale in place, no packing
    for (Segment& segment : message) {
      torch::Tensor& grad = defined_gradient(segment.parameter);
      if (!segment.rows.defined())
        grad.mul_(scale);
      else  // untouched rows are zero and stay zero
        grad.index_copy_(0, segment.rows, grad.index_select(0, segment.rows).mul_(scale));
    }
    return;
  }
  auto allreduce = [&](torch::Tensor& buffer) {
    Stopwatch watch;
    const double cpu_start = thread_cpu_seconds();
    comm_.allreduce(buffer.data_ptr<float>(), static_cast<std::size_t>(buffer.numel()),
                    comm::ElementType::kFloat, comm::ReduceOp::kSum);
    cost.communication_cpu_seconds += thread_cpu_seconds() - cpu_start;
    cost.communication_seconds += watch.seconds();
    cost.values += buffer.numel();
  };
  if (message.size() == 1 && !message.front().rows.defined() &&
      defined_gradient(message.front().parameter).is_contiguous()) {  // one whole gradient: in place
    torch::Tensor& grad = message.front().parameter.mutable_grad();
    allreduce(grad);
    grad.mul_(scale);
    return;
  }
  std::vector<torch::Tensor> pieces;
  for (Segment& segment : message) {
    torch::Tensor& grad = defined_gradient(segment.parameter);
    pieces.push_back((segment.rows.defined() ? grad.index_select(0, segment.rows) : grad).reshape(-1));
  }
  torch::Tensor buffer = torch::cat(pieces);
  allreduce(buffer);
  buffer.mul_(scale);
  std::int64_t offset = 0;
  for (Segment& segment : message) {
    torch::Tensor& grad = segment.parameter.mutable_grad();
    if (!segment.rows.defined()) {
      grad.copy_(buffer.slice(0, offset, offset + grad.numel()).view_as(grad));
      offset += grad.numel();
    } else {
      const std::int64_t elements = segment.rows.numel() * grad.size(1);
      grad.index_copy_(0, segment.rows, buffer.slice(0, offset, offset + elements).view({-1, grad.size(1)}));
      offset += elements;
    }
  }
}

}  // namespace tailflow::ops::learning
