// Differentiates y = Σ x² through the installed headers and library; exits 0 when dy/dx = 2x.
#include <tapegrad/tapegrad.hpp>

int main() {
  tg::Tensor x = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  tg::sum(tg::square(x)).backward();
  const std::vector<float> grad = x.grad().to_vector<float>();
  return grad == std::vector<float>{2, 4, 6} ? 0 : 1;
}
