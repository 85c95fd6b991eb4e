#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

namespace tg::optim {

void AdamWOptions::validate() const { validate_adam_options(*this); }

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : OptimizerBase(std::move(params), options) {}

// The update compiled for AVX-512, AVX2 and SSE2 and picked at load time, as RMSProp's; no
// multiply-add is fused, so every version gives the same bits.
namespace detail {
__attribute__((target_clones("avx512f", "avx2", "default"))) void adamw_update_floats(
    const AdamWOptions& o, AdamState& s, float* p, const float* g, int64_t begin, int64_t end) {
  adam_update<float>(o, s, p, g, begin, end, true);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void adamw_update_doubles(
    const AdamWOptions& o, AdamState& s, double* p, const double* g, int64_t begin, int64_t end) {
  adam_update<double>(o, s, p, g, begin, end, true);
}
}  // namespace detail

// Weight decay is decoupled: p ← p·(1 − lr·λ) before the Adam step (see adam_update.hpp).
void AdamW::step() {
  for_each_parameter([]<class T>(const AdamWOptions& o, AdamState& s, T* p, const T* g, int64_t n) {
    detail::step_in_ranges(detail::adamw_update_floats, detail::adamw_update_doubles, o, s, p, g,
                           n);
  });
}

}  // namespace tg::optim
