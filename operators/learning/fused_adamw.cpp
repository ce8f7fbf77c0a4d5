#include "operators/learning/fused_adamw.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <experimental/simd>
#include <memory>

namespace tailflow::ops::learning {
namespace {

namespace stdx = std::experimental;
using Pack = stdx::native_simd<float>;

struct Coefficients {
  float decay;  // 1 − lr · weight decay
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float sqrt_bias_correction2;
  float eps;
  float step;  // −lr / bias correction 1
};

inline float square_root(float x) {
  return std::sqrt(x);
}
inline Pack square_root(const Pack& x) {
  return stdx::sqrt(x);
}

// torch::optim::AdamW::step for one element (or one SIMD pack of elements), in its order of operations:
// decay, both moments, then p += −step · m / (√v / √bias_correction2 + eps).
template <class T>
inline void update(T& p, T& m, T& v, const T& g, const Coefficients& c) {
  p = p * c.decay;
  m = m * c.beta1 + g * c.one_minus_beta1;
  v = v * c.beta2 + g * g * c.one_minus_beta2;
  p = p + c.step * (m / (square_root(v) / c.sqrt_bias_correction2 + c.eps));
}

// Whole packs first (split over LibTorch's intra-op threads), then the remainder one by one. Which elements
// go through which path depends on the size alone, never on the thread count.
void update_contiguous(float* p, float* m, float* v, const float* g, std::int64_t n, const Coefficients& c) {
  constexpr auto width = static_cast<std::int64_t>(Pack::size());
  const std::int64_t packs = n / width;
  at::parallel_for(0, packs, 4096, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin * width; i < end * width; i += width) {
      Pack pp(p + i, stdx::element_aligned), mm(m + i, stdx::element_aligned),
          vv(v + i, stdx::element_aligned);
      const Pack gg(g + i, stdx::element_aligned);
      update(pp, mm, vv, gg, c);
      pp.copy_to(p + i, stdx::element_aligned);
      mm.copy_to(m + i, stdx::element_aligned);
      vv.copy_to(v + i, stdx::element_aligned);
    }
  });
  for (std::int64_t i = packs * width; i < n; ++i) update(p[i], m[i], v[i], g[i], c);
}

bool fusable(const torch::Tensor& t, const torch::Tensor& like) {
  return t.scalar_type() == torch::kFloat && t.is_contiguous() && t.numel() == like.numel() && t.is_cpu();
}

}  // namespace

void fused_adamw_step(torch::optim::AdamW& optimizer) {
  torch::NoGradGuard no_grad;
  for (auto& group : optimizer.param_groups()) {
    if (static_cast<torch::optim::AdamWOptions&>(group.options()).amsgrad()) {
      optimizer.step();
      return;
    }
  }
  for (auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<torch::optim::AdamWOptions&>(group.options());
    const auto [beta1, beta2] = options.betas();
    for (torch::Tensor& p : group.params()) {
      if (!p.grad().defined()) continue;
      // The optimiser's own state entry, created as AdamW::step would create it.
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto& states = optimizer.state();
      if (states.find(key) == states.end()) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        states[key] = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*states[key]);
      state.step(state.step() + 1);
      const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
      const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
      const double step_size = options.lr() / bias_correction1;
      const torch::Tensor& grad = p.grad();
      torch::Tensor& m = state.exp_avg();
      torch::Tensor& v = state.exp_avg_sq();
      if (!fusable(p, p) || !fusable(grad, p) || !fusable(m, p) || !fusable(v, p)) {
        // Odd layouts: LibTorch's own tensor operations.
        p.mul_(1 - options.lr() * options.weight_decay());
        m.mul_(beta1).add_(grad, 1 - beta1);
        v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        p.addcdiv_(m, (v.sqrt() / std::sqrt(bias_correction2)).add_(options.eps()), -step_size);
        continue;
      }
      const Coefficients c{static_cast<float>(1 - options.lr() * options.weight_decay()),
                           static_cast<float>(beta1),
                           static_cast<float>(1 - beta1),
                           static_cast<float>(beta2),
                           static_cast<float>(1 - beta2),
                           static_cast<float>(std::sqrt(bias_correction2)),
                           static_cast<float>(options.eps()),
                           static_cast<float>(-step_size)};
      update_contiguous(p.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), grad.data_ptr<float>(),
                        p.numel(), c);
    }
  }
}

}  // namespace tailflow::ops::learning
