#include "operators/als/conjugate_gradient.hpp"

#include <memory>

namespace tailflow::ops::als {
namespace {

// Rows of the fixed side this many interactions ahead are prefetched while the current one is used: the
// first pass over a row's interactions reads factors from all over memory.
constexpr std::uint64_t kPrefetchDistance = 8;

inline void prefetch_row(const float* row, int stride) {
  for (int offset = 0; offset < stride; offset += 16) __builtin_prefetch(row + offset);
}

template <int K>
struct Kernel {
  using Vec = Eigen::Matrix<float, K, 1>;
  using ConstRow = Eigen::Map<const Vec, Eigen::Aligned64>;
  using Gram = Eigen::Matrix<float, K, K>;

  const CsrBlock& block;
  const float* fixed;
  std::size_t stride;
  int k;

  ConstRow fixed_row(std::uint32_t col) const { return ConstRow(fixed + col * stride, k); }

  // out += Σ_j coefficient(value_j, y_j·v) · y_j over interactions [begin, end), four at a time so that the
  // four dot products (each ending in a horizontal sum) overlap instead of waiting on one another.
  template <bool kPrefetch, class Coefficient>
  void add_projections(std::uint64_t begin, std::uint64_t end, const Vec& v, Vec& out,
                       Coefficient coefficient) const {
    const std::uint32_t* cols = block.cols.data();
    const float* values = block.values.data();
    const std::uint64_t nnz = block.cols.size();
    std::uint64_t j = begin;
    for (; j + 4 <= end; j += 4) {
      if constexpr (kPrefetch) {
        for (std::uint64_t ahead = j + kPrefetchDistance; ahead < j + kPrefetchDistance + 4 && ahead < nnz;
             ++ahead)
          prefetch_row(fixed + cols[ahead] * stride, static_cast<int>(stride));
      }
      ConstRow y0 = fixed_row(cols[j]);
      ConstRow y1 = fixed_row(cols[j + 1]);
      ConstRow y2 = fixed_row(cols[j + 2]);
      ConstRow y3 = fixed_row(cols[j + 3]);
      const float a0 = coefficient(values[j], y0.dot(v));
      const float a1 = coefficient(values[j + 1], y1.dot(v));
      const float a2 = coefficient(values[j + 2], y2.dot(v));
      const float a3 = coefficient(values[j + 3], y3.dot(v));
      out += a0 * y0 + a1 * y1 + a2 * y2 + a3 * y3;
    }
    for (; j < end; ++j) {
      ConstRow y = fixed_row(cols[j]);
      out += coefficient(values[j], y.dot(v)) * y;
    }
  }

  template <bool kImplicit>
  std::uint64_t solve(const HalfStep& step, int steps, FactorMatrix& rows) const {
    using Row = Eigen::Map<Vec, Eigen::Aligned64>;
    // Fixed-size k × k matrices can be large (64 KiB for k = 128): keep them off the stack.
    auto gram = std::make_unique<Gram>();
    if constexpr (kImplicit) *gram = step.gram;
    Vec residual(k), direction(k), product(k);
    const float alpha = step.alpha;
    std::uint64_t flops = 0;
    for (std::size_t r = 0; r < block.rows(); ++r) {
      const std::uint64_t begin = block.row_ptr[r];
      const std::uint64_t end = block.row_ptr[r + 1];
      Row x(rows.row(r), k);
      if (begin == end) {  // no interactions: b = 0, so x = 0
        x.setZero();
        continue;
      }
      const float lambda = step.row_regularization(end - begin);

      // residual = b − A x
      if constexpr (kImplicit) {
        residual.noalias() = -(*gram) * x;
        residual -= lambda * x;
        add_projections<true>(begin, end, x, residual, [alpha](float value, float dot) {
          const float confidence_minus_one = alpha * value;
          return (1.0f + confidence_minus_one) - confidence_minus_one * dot;
        });
      } else {
        residual = -lambda * x;
        add_projections<true>(begin, end, x, residual, [](float value, float dot) { return value - dot; });
      }
      direction = residual;
      float residual_norm = residual.squaredNorm();
      int done = 0;
      for (; done < steps && residual_norm > 1e-20f; ++done) {
        // product = A · direction
        if constexpr (kImplicit) {
          product.noalias() = (*gram) * direction;
          product += lambda * direction;
          add_projections<false>(begin, end, direction, product,
                                 [alpha](float value, float dot) { return alpha * value * dot; });
        } else {
          product = lambda * direction;
          add_projections<false>(begin, end, direction, product, [](float, float dot) { return dot; });
        }
        const float step_length = residual_norm / direction.dot(product);
        x += step_length * direction;
        residual -= step_length * product;
        const float new_norm = residual.squaredNorm();
        direction = residual + (new_norm / residual_norm) * direction;
        residual_norm = new_norm;
      }
      const std::uint64_t passes = 1 + done;
      flops += passes * 4ull * k * (end - begin) + (kImplicit ? passes * 2ull * k * k : 0) + done * 10ull * k;
    }
    return flops;
  }
};

template <int K>
std::uint64_t solve_with(const HalfStep& step, int steps, FactorMatrix& rows) {
  Kernel<K> kernel{*step.block, step.fixed->data(), static_cast<std::size_t>(step.fixed->stride()),
                   step.factors};
  return step.feedback == Feedback::kImplicit ? kernel.template solve<true>(step, steps, rows)
                                              : kernel.template solve<false>(step, steps, rows);
}

}  // namespace

std::uint64_t solve_conjugate_gradient(const HalfStep& step, int steps, FactorMatrix& rows) {
  switch (step.factors) {
    case 32:
      return solve_with<32>(step, steps, rows);
    case 64:
      return solve_with<64>(step, steps, rows);
    case 128:
      return solve_with<128>(step, steps, rows);
    default:
      return solve_with<Eigen::Dynamic>(step, steps, rows);
  }
}

}  // namespace tailflow::ops::als
