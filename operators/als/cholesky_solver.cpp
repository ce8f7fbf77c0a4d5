#include "operators/als/cholesky_solver.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>

namespace tailflow::ops::als {

std::uint64_t solve_cholesky(const HalfStep& step, FactorMatrix& rows) {
  constexpr std::uint64_t kGatherRows = 256;
  const CsrBlock& block = *step.block;
  const FactorMatrix& fixed = *step.fixed;
  const int k = step.factors;
  const int unknowns = k + (step.biases ? 1 : 0);
  const bool implicit = step.feedback == Feedback::kImplicit;

  Eigen::MatrixXf normal(unknowns, unknowns);
  Eigen::VectorXf rhs(unknowns);
  RowMajorMatrix gathered(kGatherRows, unknowns);
  RowMajorMatrix weighted(kGatherRows, unknowns);
  Eigen::MatrixXd normal_double(unknowns, unknowns);
  Eigen::LLT<Eigen::MatrixXd> llt(unknowns);
  Eigen::VectorXd solution(unknowns);
  std::uint64_t flops = 0;

  for (std::size_t r = 0; r < block.rows(); ++r) {
    const std::uint64_t begin = block.row_ptr[r];
    const std::uint64_t end = block.row_ptr[r + 1];
    float* out = rows.row(r);
    if (begin == end) {  // no interactions: b = 0, so the solution is 0
      std::fill(out, out + unknowns, 0.0f);
      continue;
    }
    normal.setZero();
    if (implicit) normal.topLeftCorner(k, k) = step.gram;
    normal.diagonal().array() += step.row_regularization(end - begin);
    rhs.setZero();
    for (std::uint64_t chunk = begin; chunk < end; chunk += kGatherRows) {
      const auto count = static_cast<Eigen::Index>(std::min(kGatherRows, end - chunk));
      // Row i of `gathered` is f_i, of `weighted` w_i f_i: one product then adds Σ w f fᵀ; b gets t_i f_i.
      for (Eigen::Index i = 0; i < count; ++i) {
        const float* y = fixed.row(block.cols[chunk + i]);
        const float value = block.values[chunk + i];
        float weight = 1;
        float target;
        if (implicit) {
          weight = step.alpha * value;
          target = 1.0f + weight;
        } else {
          target = step.biases ? value - step.global_mean - y[k] : value;
        }
        Eigen::Map<const Eigen::RowVectorXf> factors(y, k);
        gathered.row(i).head(k) = factors;
        weighted.row(i).head(k) = weight * factors;
        rhs.head(k) += target * factors.transpose();
        if (step.biases) {
          gathered(i, k) = 1.0f;
          weighted(i, k) = weight;
          rhs(k) += target;
        }
      }
      // A general product measured faster here than Eigen's symmetric rank-k update for k = 64.
      normal.noalias() += gathered.topRows(count).transpose() * weighted.topRows(count);
    }
    normal_double = normal.cast<double>();
    llt.compute(normal_double);
    solution = llt.solve(rhs.cast<double>());
    for (int f = 0; f < unknowns; ++f) out[f] = static_cast<float>(solution(f));
    const std::uint64_t nnz = end - begin;
    flops += 2ull * unknowns * unknowns * nnz + 2ull * unknowns * nnz +
             static_cast<std::uint64_t>(unknowns) * unknowns * unknowns / 3 + 2ull * unknowns * unknowns;
  }
  return flops;
}

}  // namespace tailflow::ops::als
