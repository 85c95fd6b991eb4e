#include <tapegrad/optim/adagrad.hpp>

#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

void AdagradOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(lr_decay >= 0, kName, "lr_decay", lr_decay, "lr_decay >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
  detail::check_option(initial_accumulator_value >= 0, kName, "initial_accumulator_value",
                       initial_accumulator_value, "initial_accumulator_value >= 0");
  detail::check_option(eps >= 0, kName, "eps", eps, "eps >= 0");
}

void AdagradState::init(const Tensor& param, const AdagradOptions& options) {
  sum = full(param.shape(), options.initial_accumulator_value, {.dtype = param.dtype()});
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : OptimizerBase(std::move(params), options) {}

namespace {

// One parameter's update, weight decay a template flag so each loop is branch-free and
// vectorizes; compiled for each CPU level by step_in_ranges.
template <class T, bool kWeightDecay>
[[gnu::always_inline]] inline void adagrad_loop(const AdagradOptions& o, AdagradState& s,
                                                T* __restrict p, const T* __restrict g,
                                                int64_t begin, int64_t end) {
  const int64_t t = s.step;  // already counted for this step
  const T clr = static_cast<T>(o.lr / (1 + static_cast<double>(t - 1) * o.lr_decay));
  const T weight_decay = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
  T* __restrict sum = s.sum.data<T>();
  for (int64_t i = begin; i < end; ++i) {
    T d = g[i];
    if constexpr (kWeightDecay) d = d + weight_decay * p[i];
    sum[i] = sum[i] + d * d;
    p[i] = p[i] + (-clr) * (d / (std::sqrt(sum[i]) + eps));
  }
}

template <class T>
[[gnu::always_inline]] inline void adagrad_update(const AdagradOptions& o, AdagradState& s, T* p,
                                                  const T* g, int64_t begin, int64_t end) {
  if (o.weight_decay != 0) {
    adagrad_loop<T, true>(o, s, p, g, begin, end);
  } else {
    adagrad_loop<T, false>(o, s, p, g, begin, end);
  }
}

}  // namespace

// torch/optim/adagrad.py (1.13), with t the step count starting at 1:
//   d = g + λ·p
//   clr = lr / (1 + (t − 1)·lr_decay)
//   sum ← sum + d²
//   p ← p − clr·d / (√sum + ε)
void Adagrad::step() {
  for_each_parameter(
      []<class T>(const AdagradOptions& o, AdagradState& s, T* p, const T* g, int64_t n) {
        detail::step_in_ranges(
            s, n, [&](int64_t begin, int64_t end) { adagrad_update<T>(o, s, p, g, begin, end); });
      });
}

}  // namespace tg::optim
