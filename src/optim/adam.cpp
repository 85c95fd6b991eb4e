#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

namespace tg::optim {

void AdamOptions::validate() const { validate_adam_options(*this); }

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : OptimizerBase(std::move(params), options) {}

// The update compiled for AVX-512, AVX2 and SSE2 and picked at load time, as RMSProp's; no
// multiply-add is fused, so every version gives the same bits.
namespace detail {
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update_floats(
    const AdamOptions& o, AdamState& s, float* p, const float* g, int64_t begin, int64_t end) {
  adam_update<float>(o, s, p, g, begin, end, false);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update_doubles(
    const AdamOptions& o, AdamState& s, double* p, const double* g, int64_t begin, int64_t end) {
  adam_update<double>(o, s, p, g, begin, end, false);
}
}  // namespace detail

// Weight decay is L2: added to the gradient (see adam_update.hpp for the formula).
void Adam::step() {
  for_each_parameter([]<class T>(const AdamOptions& o, AdamState& s, T* p, const T* g, int64_t n) {
    detail::step_in_ranges(detail::adam_update_floats, detail::adam_update_doubles, o, s, p, g, n);
  });
}

}  // namespace tg::optim
