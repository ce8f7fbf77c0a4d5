#include "operators/als/cholesky_solver.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "operators/als/dense_cholesky.hpp"
#include "operators/als/register_transpose.hpp"
#include "operators/als/symmetric_rank_update.hpp"

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

// Implicit feedback with one λ for every row (no count scaling, no biases). Every row's matrix is
// A = G + Σ w y yᵀ with the same G = YᵀY + λI = LLᵀ (factored once per half-step, in double). In the basis
// where G is the identity — every fixed row transformed once per half-step, ỹ = L⁻¹y — a row solves
//     (I + Σ w ỹ ỹᵀ) z = Σ c ỹ,    x = L⁻ᵀ z.
// A row with fewer interactions than factors (most rows of power-law data) then needs no k × k matrix: with
// H the rows √w·ỹ and t = c/√w, (I + HᵀH)⁻¹Hᵀ = Hᵀ(I + HHᵀ)⁻¹, so z = Hᵀu where (I + HHᵀ)u = t, an
// nnz × nnz system. Longer rows form the k × k matrix I + HᵀH by blocks of gathered rows, as above.
template <int K>
struct SharedGramSolver {
  using Gathered = Eigen::Matrix<float, kGatherRows, K, Eigen::RowMajor>;
  using Square = Eigen::Matrix<float, K, K>;
  using SquareDouble = Eigen::Matrix<double, K, K>;
  using Vector = Eigen::Matrix<float, K, 1>;
  using VectorDouble = Eigen::Matrix<double, K, 1>;
  // At most K × K: no heap allocation for the fixed sizes.
  using Small = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, K, K>;
  using SmallDouble = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, K, K>;
  using SmallVectorDouble = Eigen::Matrix<double, Eigen::Dynamic, 1, Eigen::ColMajor, K, 1>;

  SquareDouble back;  // L⁻ᵀ (upper triangular): x = L⁻ᵀ z
  Square normal;
  Vector rhs;
  VectorDouble transformed_solution;
  VectorDouble solution;
  Gathered gathered;  // row i: √w_i · ỹ_i
  Eigen::Matrix<float, kGatherRows, 1> targets;
  Eigen::LLT<SquareDouble> llt;
  Small small;
  SmallDouble small_double;
  SmallVectorDouble small_solution;
  Eigen::LLT<SmallDouble> small_llt;
  Eigen::Matrix<double, K, K> factor;  // dense_cholesky.hpp's L
  VectorDouble inverse_diagonal;

  explicit SharedGramSolver(int k)
      : back(k, k),
        normal(k, k),
        rhs(k),
        transformed_solution(k),
        solution(k),
        gathered(kGatherRows, k),
        llt(k),
        small(k, k),
        small_double(k, k),
        small_solution(k),
        small_llt(k),
        factor(k, k),
        inverse_diagonal(k) {
    factor.setZero();  // its unused entries are read as scratch (dense_cholesky.hpp)
  }
};

// Rows of `fixed` times L⁻ᵀ into `transformed` (the same shape), in double, 256 rows at a time.
void transform_fixed_rows(const FactorMatrix& fixed, const Eigen::MatrixXd& back, int k,
                          FactorMatrix& transformed) {
  using Rows = Eigen::Map<const RowMajorMatrix, Eigen::Aligned64, Eigen::OuterStride<>>;
  using RowsOut = Eigen::Map<RowMajorMatrix, Eigen::Aligned64, Eigen::OuterStride<>>;
  using RowMajorDouble = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  constexpr std::size_t kRowsPerBlock = 256;
  RowMajorDouble in(kRowsPerBlock, k), out(kRowsPerBlock, k);
  for (std::size_t begin = 0; begin < fixed.rows(); begin += kRowsPerBlock) {
    const auto count = static_cast<Eigen::Index>(std::min(kRowsPerBlock, fixed.rows() - begin));
    Rows rows(fixed.row(begin), count, k, Eigen::OuterStride<>(fixed.stride()));
    in.topRows(count) = rows.cast<double>();
    out.topRows(count).noalias() = in.topRows(count) * back.triangularView<Eigen::Upper>();
    RowsOut(transformed.row(begin), count, k, Eigen::OuterStride<>(transformed.stride())) =
        out.topRows(count).cast<float>();
  }
}

// Hᵀ(I + HHᵀ)⁻¹t for one short row [begin, end) (all weights > 0), with Eigen's product and LLT.
template <int K>
void solve_short_row(const HalfStep& step, const CsrBlock& block, const FactorMatrix& transformed,
                     std::uint64_t begin, std::uint64_t end, SharedGramSolver<K>& s) {
  const int k = step.factors;
  const auto n = static_cast<Eigen::Index>(end - begin);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (const std::uint64_t ahead = begin + i + kPrefetchDistance; ahead < block.cols.size()) {
      const float* next = transformed.row(block.cols[ahead]);
      for (int offset = 0; offset < k; offset += 16) __builtin_prefetch(next + offset);
    }
    const float weight = step.alpha * block.values[begin + i];
    const float root = std::sqrt(weight);
    s.gathered.row(i) =
        root * Eigen::Map<const Eigen::RowVectorXf>(transformed.row(block.cols[begin + i]), k);
    s.targets(i) = (1.0f + weight) / root;
  }
  const auto h = s.gathered.topRows(n);
  s.small.resize(n, n);
  s.small.noalias() = h * h.transpose();
  s.small_double = s.small.template cast<double>();
  s.small_double.diagonal().array() += 1.0;
  s.small_llt.compute(s.small_double);
  s.small_solution = s.small_llt.solve(s.targets.head(n).template cast<double>());
  s.transformed_solution.noalias() = h.transpose().template cast<double>() * s.small_solution;
}

// The same for k a multiple of 16. The rows are gathered transposed (k rows of the nnz interactions, padded
// with zeros to a multiple of 16), so that HHᵀ is the register-tiled kernel's sum over the k factors.
template <int K>
void solve_short_row_tiled(const HalfStep& step, const CsrBlock& block, const FactorMatrix& transformed,
                           std::uint64_t begin, std::uint64_t end, SharedGramSolver<K>& s) {
  const int n = static_cast<int>(end - begin);
  static_assert(2 * K <= kGatherRows, "the roots share the targets buffer");
  const int width = (n + 15) / 16 * 16;  // ≤ K, since n < K
  float* columns = s.gathered.data();    // K rows of `width`: columns[f·width + i] = √w_i ỹ_i,f
  float* roots = s.targets.data() + kGatherRows / 2;
  double* u = s.small_solution.data();
  const float* sources[K];
  // Every row's factors are requested at once: the transposes below then find them in cache.
  for (int i = 0; i < n; ++i) {
    sources[i] = transformed.row(block.cols[begin + i]);
    for (int offset = 0; offset < K; offset += 16) __builtin_prefetch(sources[i] + offset);
    const float weight = step.alpha * block.values[begin + i];
    roots[i] = std::sqrt(weight);
    u[i] = (1.0f + weight) / roots[i];
  }
  // 16 interactions at a time: their scaled rows, transposed in registers, become 16 columns' next 16
  // entries. Interactions past n are zero rows, which pads every column to `width`.
  for (int first = 0; first < width; first += 16) {
    for (int c = 0; c < K; c += 16) {
      Float16 tile[16];
      for (int i = 0; i < 16; ++i)
        tile[i] = first + i < n ? roots[first + i] * load16(sources[first + i] + c) : Float16{};
      transpose16x16(tile);
      for (int f = 0; f < 16; ++f) store16(columns + (c + f) * width + first, tile[f]);
    }
  }
  float* lower = s.normal.data();  // width × width, row-major
  std::fill(lower, lower + width * width, 0.0f);
  add_lower_gram(columns, K, width, lower);
  const int ld = (n + 7) / 8 * 8;
  double* a = s.factor.data();  // column-major, n × n with column stride ld
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) a[j * ld + i] = lower[i * width + j];
    a[i * ld + i] += 1.0;
  }
  double* inverse_diagonal = s.inverse_diagonal.data();
  if (!cholesky_factor_lower(a, n, ld, inverse_diagonal)) {  // I + HHᵀ ≥ I: only NaN or Inf inputs get here
    s.transformed_solution.setConstant(std::numeric_limits<double>::quiet_NaN());
    return;
  }
  cholesky_solve_lower(a, n, ld, inverse_diagonal, u);
  // z = Hᵀu = Σ_i u_i √w_i ỹ_i, from the (cached) transformed rows.
  double* z = s.transformed_solution.data();
  std::fill(z, z + K, 0.0);
  for (int i = 0; i < n; ++i) {
    const float* y = transformed.row(block.cols[begin + i]);
    const double coefficient = u[i] * roots[i];
    for (int f = 0; f < K; ++f) z[f] += coefficient * y[f];
  }
}

// (I + HᵀH) z = Hᵀt for one long row [begin, end), with Eigen's general product and LLT.
template <int K>
void solve_long_row(const HalfStep& step, const CsrBlock& block, const FactorMatrix& transformed,
                    std::uint64_t begin, std::uint64_t end, SharedGramSolver<K>& s) {
  const int k = step.factors;
  s.normal.setZero();
  s.rhs.setZero();
  for (std::uint64_t chunk = begin; chunk < end; chunk += kGatherRows) {
    const auto count = static_cast<Eigen::Index>(std::min<std::uint64_t>(kGatherRows, end - chunk));
    for (Eigen::Index i = 0; i < count; ++i) {
      if (const std::uint64_t ahead = chunk + i + kPrefetchDistance; ahead < block.cols.size()) {
        const float* next = transformed.row(block.cols[ahead]);
        for (int offset = 0; offset < k; offset += 16) __builtin_prefetch(next + offset);
      }
      Eigen::Map<const Eigen::RowVectorXf> factors(transformed.row(block.cols[chunk + i]), k);
      const float weight = step.alpha * block.values[chunk + i];
      const float target = 1.0f + weight;
      if (weight > 0) {
        const float root = std::sqrt(weight);
        s.gathered.row(i) = root * factors;
        s.targets(i) = target / root;
      } else {  // no square root: its own rank-1 term
        s.normal.noalias() += weight * factors.transpose() * factors;
        s.rhs += target * factors.transpose();
        s.gathered.row(i).setZero();
        s.targets(i) = 0;
      }
    }
    const auto block_rows = s.gathered.topRows(count);
    s.normal.noalias() += block_rows.transpose() * block_rows;
    s.rhs.noalias() += block_rows.transpose() * s.targets.head(count);
  }
  s.normal.diagonal().array() += 1.0f;
  s.llt.compute(s.normal.template cast<double>());
  s.transformed_solution = s.llt.solve(s.rhs.template cast<double>());
}

// The same for k a multiple of 16: the lower triangle only, in register tiles (symmetric_rank_update.hpp),
// and the factorisation with dense_cholesky.hpp.
template <int K>
void solve_long_row_tiled(const HalfStep& step, const CsrBlock& block, const FactorMatrix& transformed,
                          std::uint64_t begin, std::uint64_t end, SharedGramSolver<K>& s) {
  constexpr int kChunk = 128;      // 32 KiB of gathered rows at k = 64: within L1/L2 while the tiles sweep it
  float* lower = s.normal.data();  // row-major lower triangle
  float* rhs = s.rhs.data();
  std::fill(lower, lower + K * K, 0.0f);
  std::fill(rhs, rhs + K, 0.0f);
  float* gathered = s.gathered.data();
  float* targets = s.targets.data();
  for (std::uint64_t chunk = begin; chunk < end; chunk += kChunk) {
    const int count = static_cast<int>(std::min<std::uint64_t>(kChunk, end - chunk));
    int kept = 0;
    for (int i = 0; i < count; ++i) {
      if (const std::uint64_t ahead = chunk + i + kPrefetchDistance; ahead < block.cols.size()) {
        const float* next = transformed.row(block.cols[ahead]);
        for (int offset = 0; offset < K; offset += 16) __builtin_prefetch(next + offset);
      }
      const float* y = transformed.row(block.cols[chunk + i]);
      const float weight = step.alpha * block.values[chunk + i];
      const float target = 1.0f + weight;
      if (weight > 0) {
        const float root = std::sqrt(weight);
        for (int c = 0; c < K; c += 16) store16(gathered + kept * K + c, root * load16(y + c));
        targets[kept++] = target / root;
      } else {  // no square root: its own rank-1 term
        for (int a = 0; a < K; ++a) {
          for (int b = 0; b <= a; ++b) lower[a * K + b] += weight * y[a] * y[b];
          rhs[a] += target * y[a];
        }
      }
    }
    add_lower_gram<K>(gathered, kept, lower);
    add_weighted_rows<K>(gathered, targets, kept, rhs);
  }
  double* a = s.factor.data();  // column-major: column j of the lower triangle is row j of `lower`
  for (int i = 0; i < K; ++i) {
    for (int j = 0; j <= i; ++j) a[j * K + i] = lower[i * K + j];
    a[i * K + i] += 1.0;
    s.transformed_solution(i) = rhs[i];
  }
  if (cholesky_factor_lower(a, K, K, s.inverse_diagonal.data())) {
    cholesky_solve_lower(a, K, K, s.inverse_diagonal.data(), s.transformed_solution.data());
    return;
  }
  // Not positive definite (only possible with negative values): let LDLᵀ make the best of it, as Eigen's LLT
  // would have.
  Eigen::Map<Eigen::Matrix<float, K, K, Eigen::RowMajor>> tiles(lower);
  Eigen::Matrix<double, K, K> full = tiles.template cast<double>();
  full.diagonal().array() += 1.0;
  Eigen::Matrix<double, K, 1> b;
  for (int i = 0; i < K; ++i) b(i) = rhs[i];
  s.transformed_solution = full.template selfadjointView<Eigen::Lower>().ldlt().solve(b);
}

template <int K>
std::uint64_t solve_rows_shared_gram(const HalfStep& step, const Eigen::LLT<Eigen::MatrixXd>& shared,
                                     FactorMatrix& rows) {
  const CsrBlock& block = *step.block;
  const int k = step.factors;
  auto solver = std::make_unique<SharedGramSolver<K>>(k);
  SharedGramSolver<K>& s = *solver;
  const Eigen::MatrixXd back =
      shared.matrixU().solve(Eigen::MatrixXd::Identity(k, k));  // (Lᵀ)⁻¹ = L⁻ᵀ, upper triangular
  s.back = back;
  // Only the rows the block references are read, but on one rank that is nearly all of them.
  FactorMatrix local;
  FactorMatrix* scratch = step.scratch ? step.scratch : &local;
  if (scratch->rows() < step.fixed->rows() || scratch->stride() != step.fixed->stride())
    *scratch = FactorMatrix(step.fixed->rows(), step.fixed->dims());
  FactorMatrix& transformed = *scratch;
  transform_fixed_rows(*step.fixed, back, k, transformed);
  std::uint64_t flops = static_cast<std::uint64_t>(k) * k * step.fixed->rows() + 2ull * k * k * k / 3;

  for (std::size_t r = 0; r < block.rows(); ++r) {
    const std::uint64_t begin = block.row_ptr[r];
    const std::uint64_t end = block.row_ptr[r + 1];
    const std::uint64_t nnz = end - begin;
    float* out = rows.row(r);
    if (nnz == 0) {  // no interactions: b = 0, so the solution is 0
      std::fill(out, out + k, 0.0f);
      continue;
    }
    bool all_positive = true;
    for (std::uint64_t j = begin; j < end; ++j) all_positive &= step.alpha * block.values[j] > 0;

    if (all_positive && nnz < static_cast<std::uint64_t>(k)) {
      if constexpr (K != Eigen::Dynamic && K % 16 == 0) {
        solve_short_row_tiled(step, block, transformed, begin, end, s);
      } else {
        solve_short_row(step, block, transformed, begin, end, s);
      }
      flops += 2ull * nnz * nnz * k + nnz * nnz * nnz / 3 + 2ull * nnz * nnz + 2ull * nnz * k;
    } else {
      if constexpr (K != Eigen::Dynamic && K % 16 == 0) {
        solve_long_row_tiled(step, block, transformed, begin, end, s);
      } else {
        solve_long_row(step, block, transformed, begin, end, s);
      }
      flops += 2ull * k * k * nnz + 2ull * k * nnz + static_cast<std::uint64_t>(k) * k * k / 3 + 2ull * k * k;
    }
    s.solution.noalias() = s.back.template triangularView<Eigen::Upper>() * s.transformed_solution;
    for (int f = 0; f < k; ++f) out[f] = static_cast<float>(s.solution(f));
    flops += static_cast<std::uint64_t>(k) * k;
  }
  return flops;
}

// The factor of G = YᵀY + λI, when the fast path can use it. The transformed rows L⁻¹y are rounded to float,
// and x = L⁻ᵀz multiplies that rounding by up to cond(L) = √cond(G): above kMaxCondition the direct form is
// more accurate (it only rounds A itself), so it is used instead.
constexpr double kMaxCondition = 1e8;

std::optional<Eigen::LLT<Eigen::MatrixXd>> factor_shared_gram(const HalfStep& step) {
  if (step.feedback != Feedback::kImplicit || step.biases || step.reg_scaling != RegScaling::kNone)
    return std::nullopt;
  Eigen::MatrixXd shared = step.gram.cast<double>();
  shared.diagonal().array() += static_cast<double>(step.regularization);
  const Eigen::VectorXd eigenvalues =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(shared, Eigen::EigenvaluesOnly).eigenvalues();
  if (!(eigenvalues.minCoeff() > 0) || eigenvalues.maxCoeff() > kMaxCondition * eigenvalues.minCoeff())
    return std::nullopt;
  Eigen::LLT<Eigen::MatrixXd> llt(shared);
  if (llt.info() != Eigen::Success) return std::nullopt;
  return llt;
}

}  // namespace

std::uint64_t solve_cholesky(const HalfStep& step, FactorMatrix& rows) {
  if (auto shared = factor_shared_gram(step)) {
    switch (step.factors) {
      case 32:
        return solve_rows_shared_gram<32>(step, *shared, rows);
      case 64:
        return solve_rows_shared_gram<64>(step, *shared, rows);
      default:
        return solve_rows_shared_gram<Eigen::Dynamic>(step, *shared, rows);
    }
  }
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
