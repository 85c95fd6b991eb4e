#include <tapegrad/optim/adam.hpp>

#include "optim/adam_update.hpp"

namespace tg::optim {

void AdamWOptions::validate() const { validate_adam_options(*this); }

// Weight decay is decoupled: p ← p·(1 − lr·λ) before the Adam step (see adam_update.hpp).
void AdamW::update(const AdamWOptions& o, AdamState& s, Tensor& param, const Tensor& grad) const {
  adam_update(o, s, param, grad, /*decoupled=*/true);
}

}  // namespace tg::optim
