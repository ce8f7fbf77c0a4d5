// The content-prior ALS solve of one item (operators/tail/prior_solve.hpp) against the dense textbook formula
// x = (YᵀCY + λI)⁻¹ (YᵀCp + λc) over all users.
#include "operators/tail/prior_solve.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include <Eigen/Dense>
#include <random>

#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "operators/tail/als_items.hpp"
#include "tests/support/distributed_test.hpp"

namespace tailflow::ops::tail {
namespace {

using testing::run_distributed;

struct Problem {
  Eigen::MatrixXf users;        // all users × k
  std::vector<int> item_users;  // who interacted with the item
  std::vector<float> values;    // their values
  Eigen::VectorXf content;      // the prior centre
};

Problem random_problem(int users, int k, int interactions, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 0.5f);
  Problem p;
  p.users = Eigen::MatrixXf::NullaryExpr(users, k, [&] { return normal(rng); });
  p.content = Eigen::VectorXf::NullaryExpr(k, [&] { return normal(rng); });
  for (int i = 0; i < interactions; ++i) {
    p.item_users.push_back((i * 7 + 3) % users);
    p.values.push_back(1.0f + static_cast<float>(i % 3));
  }
  return p;
}

std::vector<float> solve(const Problem& p, const PriorSolveSettings& settings) {
  std::vector<float> rows;
  for (int u : p.item_users)
    for (Eigen::Index d = 0; d < p.users.cols(); ++d) rows.push_back(p.users(u, d));
  const Eigen::MatrixXf gram = p.users.transpose() * p.users;
  return solve_with_content_prior(gram, rows, p.values,
                                  std::span<const float>(p.content.data(), p.content.size()), settings);
}

TEST(TailPriorSolve, ImplicitMatchesDenseFormula) {
  const Problem p = random_problem(40, 5, 6, 1);
  PriorSolveSettings settings;
  settings.alpha = 2;
  settings.regularization = 0.7;
  const Eigen::MatrixXd y = p.users.cast<double>();
  Eigen::VectorXd confidence = Eigen::VectorXd::Ones(y.rows()), preference = Eigen::VectorXd::Zero(y.rows());
  for (std::size_t i = 0; i < p.item_users.size(); ++i) {
    confidence[p.item_users[i]] = 1 + settings.alpha * p.values[i];
    preference[p.item_users[i]] = 1;
  }
  const Eigen::MatrixXd a = y.transpose() * confidence.asDiagonal() * y +
                            settings.regularization * Eigen::MatrixXd::Identity(y.cols(), y.cols());
  const Eigen::VectorXd b = y.transpose() * confidence.asDiagonal() * preference +
                            settings.regularization * p.content.cast<double>();
  const Eigen::VectorXd expected = a.ldlt().solve(b);
  const auto x = solve(p, settings);
  ASSERT_EQ(x.size(), 5u);
  for (int d = 0; d < 5; ++d) EXPECT_NEAR(x[d], expected[d], 1e-4);
}

TEST(TailPriorSolve, ExplicitMatchesDenseFormulaWithCountScaling) {
  const Problem p = random_problem(30, 4, 5, 2);
  PriorSolveSettings settings;
  settings.feedback = als::Feedback::kExplicit;
  settings.regularization = 0.3;
  settings.reg_scaling = als::RegScaling::kCount;
  Eigen::MatrixXd a = 0.3 * 5 * Eigen::MatrixXd::Identity(4, 4);
  Eigen::VectorXd b = 0.3 * 5 * p.content.cast<double>();
  for (std::size_t i = 0; i < p.item_users.size(); ++i) {
    const Eigen::VectorXd y = p.users.row(p.item_users[i]).transpose().cast<double>();
    a += y * y.transpose();
    b += p.values[i] * y;
  }
  const Eigen::VectorXd expected = a.ldlt().solve(b);
  const auto x = solve(p, settings);
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(x[d], expected[d], 1e-4);
}

TEST(TailPriorSolve, StrongPriorOrNoDataGivesTheContentVector) {
  Problem p = random_problem(20, 3, 4, 3);
  PriorSolveSettings settings;
  settings.regularization = 1e7;
  auto x = solve(p, settings);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(x[d], p.content[d], 1e-3);
  // Explicit feedback without interactions: nothing but the prior.
  p.item_users.clear();
  p.values.clear();
  settings.feedback = als::Feedback::kExplicit;
  settings.regularization = 0.1;
  x = solve(p, settings);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(x[d], p.content[d], 1e-5);
}

TEST(TailPriorSolve, PriorStrengthReplacesTheAlsLambda) {
  const Problem p = random_problem(20, 3, 4, 5);
  PriorSolveSettings als_lambda;
  als_lambda.regularization = 0.5;
  als_lambda.reg_scaling = als::RegScaling::kCount;
  // Unset: today's λ (0.5 × 4 interactions). Set to that same value: the same solution, without scaling.
  PriorSolveSettings same = als_lambda;
  same.prior_strength = 2.0;
  const auto today = solve(p, als_lambda), explicit_strength = solve(p, same);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(today[d], explicit_strength[d], 1e-5);
  // A strong prior pulls to the content vector whatever the ALS λ; a weak one stays near the data's solution.
  PriorSolveSettings strong = als_lambda;
  strong.prior_strength = 1e7;
  const auto pulled = solve(p, strong);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(pulled[d], p.content[d], 1e-3);
  double before = 0, after = 0;
  PriorSolveSettings medium = als_lambda;
  medium.prior_strength = 50.0;
  const auto closer = solve(p, medium);
  for (int d = 0; d < 3; ++d) {
    before += std::pow(today[d] - p.content[d], 2);
    after += std::pow(closer[d] - p.content[d], 2);
  }
  EXPECT_LT(after, before);
}

TEST(TailPriorSolve, RejectsInconsistentInput) {
  const Eigen::MatrixXf gram = Eigen::MatrixXf::Identity(3, 3);
  const std::vector<float> two_values = {1, 2}, one_user(3), content(3);
  EXPECT_THROW(solve_with_content_prior(gram, one_user, two_values, content, PriorSolveSettings{}), Error);
  EXPECT_THROW(solve_with_content_prior(Eigen::MatrixXf(), {}, {}, content, PriorSolveSettings{}), Error);
}

TEST(TailPriorSolve, DistributedItemsMatchSerialSolves) {
  // 6 feature rows; ALS rows are reversed, row 4 has no ALS vector; items 1 and 3 are solved. The repeated
  // (user 2, item row 4) interaction is summed (implicit feedback).
  const std::size_t dims = 2, feature_rows = 6;
  const std::vector<std::uint64_t> als_row_of_feature = {5, 4, 3, 2, kNotInAls, 0};
  const std::vector<std::uint8_t> solve_flags = {0, 1, 0, 1, 0, 0};
  const std::vector<float> users = {1, 0, 0, 1, 0.5f, 0.5f, -1, 2};
  const std::vector<AlsInteraction> all = {{4, 0, 1}, {4, 2, 2}, {2, 1, 3}, {4, 2, 1}, {5, 3, 1}, {2, 3, 1}};
  std::vector<float> content(feature_rows * dims);
  for (std::size_t v = 0; v < content.size(); ++v) content[v] = 0.1f * static_cast<float>(v);
  PriorSolveSettings settings;
  settings.alpha = 3;
  settings.regularization = 0.5;
  const Eigen::Map<const Eigen::Matrix<float, 4, 2, Eigen::RowMajor>> y(users.data());
  const Eigen::MatrixXf gram = y.transpose() * y;
  const auto serial = [&](std::vector<float> item_users, std::vector<float> values, std::size_t row) {
    return solve_with_content_prior(gram, item_users, values,
                                    std::span<const float>(content).subspan(row * dims, dims), settings);
  };
  // Item row 4 (feature 1): users 0 (1) and 2 (2 + 1); item row 2 (feature 3): users 1 (3) and 3 (1).
  const auto expected1 = serial({1, 0, 0.5f, 0.5f}, {1, 3}, 1);
  const auto expected3 = serial({0, 1, -1, 2}, {3, 1}, 3);
  run_distributed([&](Context& ctx) {
    const auto share = io::balanced_share(feature_rows, ctx.rank(), ctx.size());
    const auto mine = io::balanced_share(all.size(), ctx.rank(), ctx.size());
    const std::span<const AlsInteraction> my_interactions(all.data() + mine.first, mine.count);
    const auto rows = std::span<const std::uint64_t>(als_row_of_feature).subspan(share.first, share.count);
    const auto flags = std::span<const std::uint8_t>(solve_flags).subspan(share.first, share.count);
    const auto my_content = std::span<const float>(content).subspan(share.first * dims, share.count * dims);
    std::vector<float> out(my_content.begin(), my_content.end());
    const auto solved = solve_tail_items_with_prior(ctx, my_interactions, rows, flags, users, dims,
                                                    my_content, settings, out);
    std::uint64_t expected_solved = 0;
    for (std::size_t i = 0; i < share.count; ++i) {
      const std::size_t row = share.first + i;
      expected_solved += solve_flags[row];
      for (std::size_t d = 0; d < dims; ++d) {
        const float want = row == 1 ? expected1[d] : row == 3 ? expected3[d] : content[row * dims + d];
        EXPECT_NEAR(out[i * dims + d], want, 1e-5) << "row " << row;
      }
    }
    EXPECT_EQ(solved, expected_solved);
  });
}

}  // namespace
}  // namespace tailflow::ops::tail
