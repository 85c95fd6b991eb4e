#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

namespace tg::optim {

void AdamWOptions::validate() const { validate_adam_options(*this); }

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : OptimizerBase(std::move(params), options) {}

// Weight decay is decoupled: p ← p·(1 − lr·λ) before the Adam step (see adam_update.hpp).
void AdamW::step() {
  for_each_parameter([]<class T>(const AdamWOptions& o, AdamState& s, T* p, const T* g, int64_t n) {
    detail::step_in_ranges(s, n, [&](int64_t begin, int64_t end) {
      adam_update<T>(o, s, p, g, begin, end, /*decoupled=*/true);
    });
  });
}

}  // namespace tg::optim
