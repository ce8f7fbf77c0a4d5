#include "operators/als/cholesky_solver.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <memory>

namespace tailflow::ops::als {
namespace {

constexpr Eigen::Index kGatherRows = 256;
// The gather reads fixed-side rows from all over memory: start loading this many interactions ahead.
constexpr std::uint64_t kPrefetchDistance = 8;

// One row's normal equations, solved for K unknowns (K = Eigen::Dynamic when the size is not one of the
// compiled ones, or with biases). Fixed sizes let Eigen unroll the factorisation and keep it allocation-free;
// the 16 KiB matrices live on the heap, once per half-step.
template <int K>
struct RowSolver {
  using Square = Eigen::Matrix<float, K, K>;
  using Vector = Eigen::Matrix<float, K, 1>;
  using SquareDouble = Eigen::Matrix<double, K, K>;
  using VectorDouble = Eigen::Matrix<double, K, 1>;
  using Gathered = Eigen::Matrix<float, kGatherRows, K, Eigen::RowMajor>;

  Square base;    // YᵀY (implicit) or 0, the part every row shares
  Square normal;  // A of the current row
  Vector rhs;
  VectorDouble solution;
  Gathered gathered;                             // row i: √w_i · f_i
  Eigen::Matrix<float, kGatherRows, 1> targets;  // t_i / √w_i, so that gatheredᵀ·targets = Σ t_i f_i
  Eigen::LLT<SquareDouble> llt;

  explicit RowSolver(int unknowns)
      : base(unknowns, unknowns),
        normal(unknowns, unknowns),
        rhs(unknowns),
        solution(unknowns),
        gathered(kGatherRows, unknowns),
        llt(unknowns) {}
};

template <int K>
std::uint64_t solve_rows(const HalfStep& step, FactorMatrix& rows) {
  const CsrBlock& block = *step.block;
  const FactorMatrix& fixed = *step.fixed;
  const int k = step.factors;
  const int unknowns = k + (step.biases ? 1 : 0);
  const bool implicit = step.feedback == Feedback::kImplicit;

  auto solver = std::make_unique<RowSolver<K>>(unknowns);
  RowSolver<K>& s = *solver;
  s.base.setZero();
  if (implicit) s.base.topLeftCorner(k, k) = step.gram;
  std::uint64_t flops = 0;

  for (std::size_t r = 0; r < block.rows(); ++r) {
    const std::uint64_t begin = block.row_ptr[r];
    const std::uint64_t end = block.row_ptr[r + 1];
    float* out = rows.row(r);
    if (begin == end) {  // no interactions: b = 0, so the solution is 0
      std::fill(out, out + unknowns, 0.0f);
      continue;
    }
    s.normal = s.base;
    s.normal.diagonal().array() += step.row_regularization(end - begin);
    s.rhs.setZero();
    for (std::uint64_t chunk = begin; chunk < end; chunk += kGatherRows) {
      const auto count = static_cast<Eigen::Index>(std::min<std::uint64_t>(kGatherRows, end - chunk));
      // A += Σ w f fᵀ is one product Gᵀ·G of the rows g = √w·f; b += Σ t f is Gᵀ·(t/√w). A weight ≤ 0
      // (a negative implicit value) cannot take a square root: its rank-1 term is added on its own.
      for (Eigen::Index i = 0; i < count; ++i) {
        if (const std::uint64_t ahead = chunk + i + kPrefetchDistance; ahead < block.cols.size()) {
          const float* next = fixed.row(block.cols[ahead]);
          for (int offset = 0; offset < unknowns; offset += 16) __builtin_prefetch(next + offset);
        }
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
        if (weight > 0) {
          const float root = std::sqrt(weight);
          s.gathered.row(i).head(k) = root * factors;
          if (step.biases) s.gathered(i, k) = root;
          s.targets(i) = target / root;
        } else {
          s.normal.topLeftCorner(k, k).noalias() += weight * factors.transpose() * factors;
          s.rhs.head(k) += target * factors.transpose();
          s.gathered.row(i).setZero();
          s.targets(i) = 0;
        }
      }
      const auto block_rows = s.gathered.topRows(count);
      // A general product measured faster here than Eigen's symmetric rank-k update for k = 64.
      s.normal.noalias() += block_rows.transpose() * block_rows;
      s.rhs.noalias() += block_rows.transpose() * s.targets.head(count);
    }
    s.llt.compute(s.normal.template cast<double>());
    s.solution = s.llt.solve(s.rhs.template cast<double>());
    for (int f = 0; f < unknowns; ++f) out[f] = static_cast<float>(s.solution(f));
    const std::uint64_t nnz = end - begin;
    flops += 2ull * unknowns * unknowns * nnz + 2ull * unknowns * nnz +
             static_cast<std::uint64_t>(unknowns) * unknowns * unknowns / 3 + 2ull * unknowns * unknowns;
  }
  return flops;
}

}  // namespace

std::uint64_t solve_cholesky(const HalfStep& step, FactorMatrix& rows) {
  if (!step.biases) {
    switch (step.factors) {
      case 32:
        return solve_rows<32>(step, rows);
      case 64:
        return solve_rows<64>(step, rows);
      default:
        break;
    }
  }
  return solve_rows<Eigen::Dynamic>(step, rows);
}

}  // namespace tailflow::ops::als
