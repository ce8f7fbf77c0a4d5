#include "operators/als/loss.hpp"

#include <array>
#include <cmath>

#include "engine/comm/collectives.hpp"

namespace tailflow::ops::als {
namespace {

// Σ_rows λ_row ‖row‖² over every stored value of the row (factors and, with biases, the bias).
double regularisation(const HalfStep& step, const FactorMatrix& rows, const CsrBlock& block) {
  double sum = 0;
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    Eigen::Map<const Eigen::VectorXf> row(rows.row(r), rows.dims());
    sum += static_cast<double>(step.row_regularization(block.row_nnz(r))) * row.squaredNorm();
  }
  return sum;
}

}  // namespace

LossValue compute_loss(Context& ctx, const HalfStep& item_step, const FactorMatrix& items,
                       const FactorMatrix& users, const CsrBlock& user_block, double users_times_items) {
  const CsrBlock& block = *item_step.block;
  const FactorMatrix& fixed = *item_step.fixed;
  const int k = item_step.factors;
  const bool implicit = item_step.feedback == Feedback::kImplicit;
  const Eigen::MatrixXf& gram = item_step.gram;
  // data term, regularisation, Σ confidence over observed cells, observed cells
  std::array<double, 4> sums{0, 0, 0, 0};
  Eigen::VectorXf projected(k);
  for (std::size_t r = 0; r < block.rows(); ++r) {
    Eigen::Map<const Eigen::VectorXf> y(items.row(r), k);
    if (implicit) {
      projected.noalias() = gram * y;
      sums[0] += y.dot(projected);
    }
    for (std::uint64_t j = block.row_ptr[r]; j < block.row_ptr[r + 1]; ++j) {
      const float* user = fixed.row(block.cols[j]);
      const double score = Eigen::Map<const Eigen::VectorXf>(user, k).dot(y);
      const double value = block.values[j];
      if (implicit) {
        const double confidence = 1.0 + item_step.alpha * value;
        sums[0] += confidence * (1.0 - score) * (1.0 - score) - score * score;
        sums[2] += confidence;
      } else {
        double predicted = score;
        if (item_step.biases) predicted += item_step.global_mean + user[k] + items.row(r)[k];
        sums[0] += (value - predicted) * (value - predicted);
      }
    }
    sums[3] += static_cast<double>(block.row_nnz(r));
  }
  sums[1] = regularisation(item_step, items, block) + regularisation(item_step, users, user_block);
  comm::allreduce(ctx.comm(), std::span<double>(sums), comm::ReduceOp::kSum);

  LossValue loss;
  loss.total = sums[0] + sums[1];
  if (implicit) {
    const double all_confidence = sums[2] + users_times_items - sums[3];
    loss.normalised = all_confidence > 0 ? loss.total / all_confidence : 0;
  } else {
    loss.normalised = sums[3] > 0 ? loss.total / sums[3] : 0;
    loss.rmse = sums[3] > 0 ? std::sqrt(sums[0] / sums[3]) : 0;
  }
  return loss;
}

}  // namespace tailflow::ops::als
