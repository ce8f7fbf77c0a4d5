#include "operators/knn/row_fetch.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "engine/comm/collectives.hpp"
#include "operators/knn/row_ownership.hpp"

namespace tailflow::ops::knn {

RowMatrix fetch_rows(Context& ctx, const FactorSlice& slice, std::span<const std::uint64_t> wanted) {
  comm::Communicator& comm = ctx.comm();
  const auto held = static_cast<std::uint64_t>(slice.rows.rows());
  const std::int64_t my_cols = held > 0 ? slice.rows.cols() : -1;
  const std::int64_t cols = comm::allreduce_max(comm, my_cols);
  const RowOwnership owners(comm, slice.first_row, held);

  // Requests grouped by holder; `positions` remember which wanted position each request answers.
  std::vector<std::vector<std::uint64_t>> requests(comm.size());
  std::vector<std::vector<std::size_t>> positions(comm.size());
  std::string problem;
  if (my_cols >= 0 && my_cols != cols)
    problem = fmt::format("fetch_rows: this rank's rows have {} columns, another rank's {}", my_cols, cols);
  for (std::size_t i = 0; i < wanted.size() && problem.empty(); ++i) {
    const auto [rank, local] = owners.locate(wanted[i]);
    if (rank < 0) {
      problem = fmt::format("fetch_rows: no rank holds row {}", wanted[i]);
      break;
    }
    requests[rank].push_back(local);
    positions[rank].push_back(i);
  }
  ctx.check_collectively(problem);

  std::vector<std::uint64_t> send;
  std::vector<std::size_t> send_counts;
  for (const auto& part : requests) {
    send.insert(send.end(), part.begin(), part.end());
    send_counts.push_back(part.size());
  }
  std::vector<std::size_t> asked_counts;
  const auto asked = comm::alltoallv(comm, std::span<const std::uint64_t>(send),
                                     std::span<const std::size_t>(send_counts), &asked_counts);
  const auto width = static_cast<std::size_t>(std::max<std::int64_t>(cols, 0));
  std::vector<float> reply;
  reply.reserve(asked.size() * width);
  for (const auto local : asked) {
    const auto row = slice.rows.row(static_cast<Eigen::Index>(local));
    reply.insert(reply.end(), row.data(), row.data() + width);
  }
  for (auto& count : asked_counts) count *= width;
  const auto answered =
      comm::alltoallv(comm, std::span<const float>(reply), std::span<const std::size_t>(asked_counts));

  RowMatrix result(static_cast<Eigen::Index>(wanted.size()), static_cast<Eigen::Index>(width));
  std::size_t next = 0;  // replies arrive in rank order, each rank's in request order
  for (int rank = 0; rank < comm.size(); ++rank)
    for (const std::size_t position : positions[rank]) {
      std::copy_n(answered.data() + next, width, result.row(static_cast<Eigen::Index>(position)).data());
      next += width;
    }
  return result;
}

}  // namespace tailflow::ops::knn
