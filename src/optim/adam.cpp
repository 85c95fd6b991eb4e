#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"

namespace tg::optim {

void AdamOptions::validate() const { validate_adam_options(*this); }

// Weight decay is L2: added to the gradient (see adam_update.hpp for the formula).
void Adam::update(const AdamOptions& o, AdamState& s, Tensor& param, const Tensor& grad) const {
  adam_update(o, s, param, grad, /*decoupled=*/false);
}

}  // namespace tg::optim
