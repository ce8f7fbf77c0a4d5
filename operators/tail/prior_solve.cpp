#include "operators/tail/prior_solve.hpp"

#include <fmt/format.h>

#include <Eigen/Cholesky>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::ops::tail {

std::vector<float> solve_with_content_prior(const Eigen::MatrixXf& gram, std::span<const float> user_vectors,
                                            std::span<const float> values, std::span<const float> content,
                                            const PriorSolveSettings& settings) {
  const auto k = static_cast<Eigen::Index>(content.size());
  const bool implicit = settings.feedback == als::Feedback::kImplicit;
  if (user_vectors.size() != values.size() * content.size() ||
      (implicit && (gram.rows() != k || gram.cols() != k)))
    throw Error(fmt::format("prior solve: {} user values for {} interactions of {} factors, Gram {}x{}",
                            user_vectors.size(), values.size(), k, gram.rows(), gram.cols()));
  // Accumulate in double: a tail item's system is small, and λ may be tiny next to YᵀY.
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(k, k);
  if (implicit) a = gram.cast<double>();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(k);
  for (std::size_t u = 0; u < values.size(); ++u) {
    const Eigen::VectorXd y =
        Eigen::Map<const Eigen::VectorXf>(user_vectors.data() + u * content.size(), k).cast<double>();
    const double r = values[u];
    if (implicit) {
      a.noalias() += settings.alpha * r * y * y.transpose();
      b += (1 + settings.alpha * r) * y;
    } else {
      a.noalias() += y * y.transpose();
      b += r * y;
    }
  }
  const double lambda = settings.prior_strength ? *settings.prior_strength
                        : settings.reg_scaling == als::RegScaling::kCount
                            ? settings.regularization * static_cast<double>(values.size())
                            : settings.regularization;
  const Eigen::VectorXd c = Eigen::Map<const Eigen::VectorXf>(content.data(), k).cast<double>();
  a.diagonal().array() += lambda;
  b += lambda * c;
  if (k == 0) return {};
  Eigen::LLT<Eigen::MatrixXd> cholesky(a);
  if (cholesky.info() != Eigen::Success)
    throw Error(fmt::format("prior solve: the {}x{} system is not positive definite (regularisation {})", k,
                            k, lambda));
  const Eigen::VectorXd x = cholesky.solve(b);
  std::vector<float> result(content.size());
  for (Eigen::Index d = 0; d < k; ++d) result[static_cast<std::size_t>(d)] = static_cast<float>(x[d]);
  return result;
}

std::uint64_t solve_tail_items_with_prior(Context& ctx, std::span<const AlsInteraction> interactions,
                                          std::span<const std::uint64_t> local_als_rows,
                                          std::span<const std::uint8_t> solve, std::span<const float> users,
                                          std::size_t dims, std::span<const float> content,
                                          const PriorSolveSettings& settings, std::span<float> out) {
  const std::size_t local = local_als_rows.size();
  if (solve.size() != local || content.size() != local * dims || out.size() != local * dims ||
      (dims > 0 && users.size() % dims != 0))
    throw Error(
        fmt::format("prior solve: inconsistent sizes ({} rows, {} flags, {} content, {} output values)",
                    local, solve.size(), content.size(), out.size()));
  // The rank that solves each ALS item row (−1: nobody), known everywhere.
  std::uint64_t als_rows = 0;
  for (auto row : local_als_rows)
    if (row != std::numeric_limits<std::uint64_t>::max()) als_rows = std::max(als_rows, row + 1);
  for (const auto& interaction : interactions)
    als_rows = std::max<std::uint64_t>(als_rows, interaction.item_row + 1);
  als_rows = comm::allreduce_max(ctx.comm(), als_rows);
  std::vector<std::int32_t> solver_rank(als_rows, -1);
  std::unordered_map<std::uint64_t, std::size_t> local_row_of;
  for (std::size_t i = 0; i < local; ++i)
    if (solve[i]) {
      solver_rank[local_als_rows[i]] = ctx.rank();
      local_row_of.emplace(local_als_rows[i], i);
    }
  comm::allreduce(ctx.comm(), std::span<std::int32_t>(solver_rank), comm::ReduceOp::kMax);

  // Send each interaction of an item to be solved to the rank that solves it.
  std::vector<std::vector<AlsInteraction>> outgoing(static_cast<std::size_t>(ctx.size()));
  for (const auto& interaction : interactions)
    if (const int rank = solver_rank[interaction.item_row]; rank >= 0)
      outgoing[static_cast<std::size_t>(rank)].push_back(interaction);
  std::vector<AlsInteraction> send;
  std::vector<std::size_t> send_counts;
  for (const auto& part : outgoing) {
    send.insert(send.end(), part.begin(), part.end());
    send_counts.push_back(part.size());
  }
  const auto mine = comm::alltoallv(ctx.comm(), std::span<const AlsInteraction>(send), send_counts);

  std::vector<std::vector<std::uint32_t>> users_of(local);
  std::vector<std::vector<float>> values_of(local);
  for (const auto& interaction : mine) {
    const std::size_t i = local_row_of.at(interaction.item_row);
    users_of[i].push_back(interaction.user_row);
    values_of[i].push_back(interaction.value);
  }
  // Implicit ALS sums repeated (user, item) pairs into one cell (block_layout.hpp); explicit keeps each one.
  if (settings.feedback == als::Feedback::kImplicit)
    for (std::size_t i = 0; i < local; ++i) {
      std::vector<std::pair<std::uint32_t, float>> cells;
      for (std::size_t j = 0; j < users_of[i].size(); ++j)
        cells.emplace_back(users_of[i][j], values_of[i][j]);
      std::sort(cells.begin(), cells.end());
      users_of[i].clear();
      values_of[i].clear();
      for (const auto& [user, value] : cells) {
        if (!users_of[i].empty() && users_of[i].back() == user) {
          values_of[i].back() += value;
        } else {
          users_of[i].push_back(user);
          values_of[i].push_back(value);
        }
      }
    }
  const auto k = static_cast<Eigen::Index>(dims);
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> all_users(
      users.data(), dims == 0 ? 0 : static_cast<Eigen::Index>(users.size() / dims), k);
  Eigen::MatrixXf gram;
  if (settings.feedback == als::Feedback::kImplicit) gram = all_users.transpose() * all_users;
  std::uint64_t solved = 0;
  std::vector<float> item_users;
  for (std::size_t i = 0; i < local; ++i) {
    if (!solve[i]) continue;
    item_users.clear();
    for (auto user : users_of[i]) {
      if (user >= static_cast<std::uint64_t>(all_users.rows()))
        throw Error(fmt::format("prior solve: user row {} outside the {} users", user, all_users.rows()));
      const auto row = users.subspan(user * dims, dims);
      item_users.insert(item_users.end(), row.begin(), row.end());
    }
    const auto x =
        solve_with_content_prior(gram, item_users, values_of[i], content.subspan(i * dims, dims), settings);
    std::copy(x.begin(), x.end(), out.begin() + static_cast<std::ptrdiff_t>(i * dims));
    ++solved;
  }
  return solved;
}

}  // namespace tailflow::ops::tail
