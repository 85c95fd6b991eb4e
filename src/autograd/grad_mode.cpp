#include <tapegrad/autograd.hpp>

namespace tg {

NoGradGuard::NoGradGuard() : previous_(detail::grad_enabled) { detail::grad_enabled = false; }

NoGradGuard::~NoGradGuard() { detail::grad_enabled = previous_; }

}  // namespace tg
