#include "operators/features/attribute_encoding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include "engine/comm/collectives.hpp"
#include "engine/dataset/dataset.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::features {

namespace {

double transformed(double value, NumericTransform transform) {
  return transform == NumericTransform::kLog1p ? std::log1p(std::max(0.0, value)) : value;
}

}  // namespace

NumericStandardiser NumericStandardiser::fit(Context& ctx,
                                             const std::vector<std::optional<double>>& local_values,
                                             NumericTransform transform) {
  long double sum = 0, squares = 0;
  double counts[2] = {0, 0};  // present, missing
  for (const auto& value : local_values) {
    if (!value) {
      ++counts[1];
      continue;
    }
    long double x = transformed(*value, transform);
    sum += x;
    squares += x * x;
    ++counts[0];
  }
  double sums[2] = {static_cast<double>(sum), static_cast<double>(squares)};
  comm::allreduce(ctx.comm(), std::span<double>(sums), comm::ReduceOp::kSum);
  comm::allreduce(ctx.comm(), std::span<double>(counts), comm::ReduceOp::kSum);
  NumericStandardiser result;
  result.transform = transform;
  result.count = static_cast<std::uint64_t>(counts[0]);
  result.missing = static_cast<std::uint64_t>(counts[1]);
  if (result.count > 0) {
    const double n = counts[0];
    result.mean = sums[0] / n;
    const double variance = std::max(0.0, sums[1] / n - result.mean * result.mean);
    const double stddev = std::sqrt(variance);
    // Below this the values are equal up to rounding: dividing would only amplify noise.
    result.stddev = stddev > 1e-12 * std::max(1.0, std::abs(result.mean)) ? stddev : 1.0;
  }
  return result;
}

float NumericStandardiser::apply(std::optional<double> value) const {
  if (!value) return 0.0f;
  return static_cast<float>((transformed(*value, transform) - mean) / stddev);
}

CategoricalVocabulary CategoricalVocabulary::build(Context& ctx, const std::vector<std::string>& local_values,
                                                   std::uint64_t min_count) {
  using Count = std::pair<std::string, std::uint64_t>;
  std::vector<Count> ones;
  ones.reserve(local_values.size());
  for (const auto& value : local_values)
    if (!value.empty()) ones.emplace_back(value, 1);
  auto counted = Dataset<Count>(ctx, std::move(ones))
                     .reduce_by_key([](const Count& c) { return c.first; },
                                    [](const Count& a, const Count& b) {
                                      return Count{a.first, a.second + b.second};
                                    },
                                    "vocabulary");
  auto all = counted.collect();
  std::sort(all.begin(), all.end(), [](const Count& a, const Count& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> values = {std::string(kUnknownValue)};
  std::vector<std::uint64_t> counts = {0};
  for (auto& [value, count] : all) {
    if (count < std::max<std::uint64_t>(1, min_count)) continue;
    values.push_back(std::move(value));
    counts.push_back(count);
  }
  CategoricalVocabulary vocabulary(std::move(values));
  vocabulary.counts_ = std::move(counts);
  return vocabulary;
}

CategoricalVocabulary::CategoricalVocabulary(std::vector<std::string> values) : values_(std::move(values)) {
  if (values_.empty() || values_.front() != kUnknownValue)
    throw Error(fmt::format("a categorical vocabulary must start with the entry '{}'", kUnknownValue));
  for (std::size_t id = 1; id < values_.size(); ++id)
    ids_.emplace(values_[id], static_cast<std::int64_t>(id));
}

std::int64_t CategoricalVocabulary::id_of(std::string_view value) const {
  if (value.empty()) return 0;
  auto found = ids_.find(std::string(value));
  return found == ids_.end() ? 0 : found->second;
}

}  // namespace tailflow::ops::features
