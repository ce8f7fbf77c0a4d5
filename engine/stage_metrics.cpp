#include "engine/stage_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "engine/comm/collectives.hpp"
#include "engine/format_units.hpp"

namespace tailflow {

std::string stage_table(comm::Communicator& comm, const StageMetrics& metrics) {
  const auto& stages = metrics.stages();
  std::size_t count = stages.size();
  if (comm::allreduce_min(comm, count) != comm::allreduce_max(comm, count))
    throw std::logic_error("stage_table: ranks recorded different numbers of stages");

  // Per stage: rows in, rows out, bytes (summed), seconds (max and min over ranks).
  std::vector<double> sums(3 * count), max_seconds(count), min_seconds(count), max_shuffle(count);
  for (std::size_t i = 0; i < count; ++i) {
    sums[3 * i] = static_cast<double>(stages[i].rows_in);
    sums[3 * i + 1] = static_cast<double>(stages[i].rows_out);
    sums[3 * i + 2] = static_cast<double>(stages[i].bytes_shuffled);
    max_seconds[i] = min_seconds[i] = stages[i].seconds;
    max_shuffle[i] = stages[i].shuffle_seconds;
  }
  comm::allreduce(comm, std::span<double>(sums), comm::ReduceOp::kSum);
  comm::allreduce(comm, std::span<double>(max_seconds), comm::ReduceOp::kMax);
  comm::allreduce(comm, std::span<double>(min_seconds), comm::ReduceOp::kMin);
  comm::allreduce(comm, std::span<double>(max_shuffle), comm::ReduceOp::kMax);
  if (comm.rank() != 0) return {};

  std::size_t name_width = 5;
  for (const auto& s : stages) name_width = std::max(name_width, s.name.size());
  std::string table = fmt::format("{:<{}}  {:>12}  {:>12}  {:>10}  {:>9}  {:>9}  {:>9}\n", "stage", name_width,
                                  "rows in", "rows out", "shuffled", "max s", "min s", "shuffle s");
  for (std::size_t i = 0; i < count; ++i) {
    table += fmt::format("{:<{}}  {:>12}  {:>12}  {:>10}  {:>9.3f}  {:>9.3f}  {:>9.3f}\n", stages[i].name, name_width,
                         static_cast<std::uint64_t>(sums[3 * i]), static_cast<std::uint64_t>(sums[3 * i + 1]),
                         format_bytes(sums[3 * i + 2]), max_seconds[i], min_seconds[i], max_shuffle[i]);
  }
  return table;
}

}  // namespace tailflow
