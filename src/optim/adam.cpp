#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

namespace tg::optim {

void AdamOptions::validate() const { validate_adam_options(*this); }

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : OptimizerBase(std::move(params), options) {}

// Weight decay is L2: added to the gradient (see adam_update.hpp for the formula).
void Adam::step() {
  for_each_parameter([]<class T>(const AdamOptions& o, AdamState& s, T* p, const T* g, int64_t n) {
    detail::step_in_ranges(s, n, [&](int64_t begin, int64_t end) {
      adam_update<T>(o, s, p, g, begin, end, /*decoupled=*/false);
    });
  });
}

}  // namespace tg::optim
