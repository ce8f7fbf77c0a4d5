#include "operators/als/als_checkpoint.hpp"

#include <fmt/format.h>

#include <cstring>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/checkpoint.hpp"

namespace tailflow::ops::als {
namespace {

const char* side_name(Side side) {
  return side == Side::kUsers ? "users" : "items";
}

void save_side(io::ShardedWriter& state, FactorMatrix& rows, const DegreeRelabeling& labels,
               const RowRanges& ranges, int rank, Side side) {
  std::vector<std::uint32_t> ids(rows.rows());
  std::vector<float> values(rows.rows() * rows.dims());
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    ids[r] = labels.to_external[ranges.begin(rank) + r];
    std::memcpy(values.data() + r * rows.dims(), rows.row(r), rows.dims() * sizeof(float));
  }
  state.write<std::uint32_t>(fmt::format("{}/ids", side_name(side)), ids);
  state.write_matrix<float>(fmt::format("{}/rows", side_name(side)), values, rows.dims());
}

void restore_side(Context& ctx, const io::ShardedReader& state, FactorMatrix& rows,
                  const DegreeRelabeling& labels, const RowRanges& ranges, Side side) {
  const std::string ids_name = fmt::format("{}/ids", side_name(side));
  const std::string rows_name = fmt::format("{}/rows", side_name(side));
  const int dims = rows.dims();
  if (state.rows(ids_name) != ranges.total() || state.cols(rows_name) != static_cast<std::uint64_t>(dims))
    throw Error(fmt::format("checkpoint {}: {} rows of {} values, expected {} of {}", state.path().string(),
                            state.rows(ids_name), state.cols(rows_name), ranges.total(), dims));
  auto ids = state.read_share<std::uint32_t>(ids_name, ctx.rank(), ctx.size());
  auto values = state.read_share<float>(rows_name, ctx.rank(), ctx.size());
  // Send each row to the rank owning it now.
  const int ranks = ctx.size();
  std::vector<std::size_t> counts(ranks, 0);
  std::vector<int> owner(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= labels.to_internal.size())
      throw Error(fmt::format("checkpoint {}: {} id {} out of range", state.path().string(), side_name(side),
                              ids[i]));
    owner[i] = ranges.owner(labels.to_internal[ids[i]]);
    ++counts[owner[i]];
  }
  std::vector<std::size_t> offsets(ranks, 0);
  for (int r = 1; r < ranks; ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<std::uint32_t> send_ids(ids.size());
  std::vector<float> send_values(values.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::size_t slot = offsets[owner[i]]++;
    send_ids[slot] = ids[i];
    std::memcpy(send_values.data() + slot * dims, values.data() + i * dims, dims * sizeof(float));
  }
  std::vector<std::size_t> value_counts(ranks);
  for (int r = 0; r < ranks; ++r) value_counts[r] = counts[r] * dims;
  auto my_ids = comm::alltoallv(ctx.comm(), std::span<const std::uint32_t>(send_ids),
                                std::span<const std::size_t>(counts));
  auto my_values = comm::alltoallv(ctx.comm(), std::span<const float>(send_values),
                                   std::span<const std::size_t>(value_counts));
  for (std::size_t i = 0; i < my_ids.size(); ++i) {
    std::uint32_t local = labels.to_internal[my_ids[i]] - ranges.begin(ctx.rank());
    std::memcpy(rows.row(local), my_values.data() + i * dims, dims * sizeof(float));
  }
}

}  // namespace

std::string settings_fingerprint(const AlsOptions& o, const BlockLayout& layout) {
  return fmt::format(
      "als users={} items={} nnz={} factors={} feedback={} solver={} cg_steps={} reg={} reg_scaling={} "
      "alpha={} "
      "biases={} seed={}",
      layout.users, layout.items, layout.total_nnz, o.factors, to_string(o.feedback), to_string(o.solver),
      o.cg_steps, o.regularization, to_string(o.reg_scaling), o.alpha, o.biases, o.seed);
}

void save_checkpoint(Context& ctx, const std::filesystem::path& directory, AlsTrainer& trainer,
                     const BlockLayout& layout, const std::string& fingerprint) {
  io::CheckpointWriter checkpoint(ctx, directory, static_cast<std::uint64_t>(trainer.iterations_done()),
                                  fingerprint);
  auto& state = checkpoint.state();
  save_side(state, trainer.owned(Side::kUsers), layout.user_labels, layout.user_ranges, ctx.rank(),
            Side::kUsers);
  save_side(state, trainer.owned(Side::kItems), layout.item_labels, layout.item_ranges, ctx.rank(),
            Side::kItems);
  std::vector<double> losses, seconds;
  for (const auto& report : trainer.history()) {
    losses.push_back(report.loss);
    seconds.push_back(report.seconds);
  }
  state.set_attribute("/", "loss_history", losses);
  state.set_attribute("/", "seconds_history", seconds);
  checkpoint.commit();
}

bool restore_checkpoint(Context& ctx, const std::filesystem::path& directory, AlsTrainer& trainer,
                        const BlockLayout& layout, const std::string& fingerprint) {
  auto restored = io::restore_latest_checkpoint(directory, fingerprint);
  // Every rank reads the same directory; agree anyway, so that no rank goes on alone.
  const int found = comm::allreduce_min<std::int32_t>(ctx.comm(), restored ? 1 : 0);
  if (!found) return false;
  restore_side(ctx, restored->state, trainer.owned(Side::kUsers), layout.user_labels, layout.user_ranges,
               Side::kUsers);
  restore_side(ctx, restored->state, trainer.owned(Side::kItems), layout.item_labels, layout.item_ranges,
               Side::kItems);
  auto losses = restored->state.master().vector_attribute<double>("/", "loss_history");
  auto seconds = restored->state.master().vector_attribute<double>("/", "seconds_history");
  std::vector<IterationReport> history(restored->iteration);
  for (std::size_t i = 0; i < history.size(); ++i) {
    history[i].iteration = static_cast<int>(i + 1);
    if (i < losses.size()) history[i].loss = losses[i];
    if (i < seconds.size()) history[i].seconds = seconds[i];
  }
  trainer.set_history(std::move(history));
  ctx.log().info("als: resumed from {} after iteration {}", directory.string(), restored->iteration);
  return true;
}

}  // namespace tailflow::ops::als
