// Port of the two engine tests of micrograd (github.com/karpathy/micrograd, test/test_engine.py,
// commit c911406): test_sanity_check and test_more_ops, the expressions that micrograd checks
// against PyTorch. This is the PyTorch half in tapegrad, in Float64 as the test's `.double()`,
// printing the forward value and the gradients with 17 significant digits, so that every bit
// can be compared with what torch 1.13 computes (examples/ports/expected/micrograd_engine.txt,
// written by examples/ports/make_expected.py from the unmodified test).
//
// The test's torch half rewrites micrograd's `c += c + 1` as `c = c + c + 1`; here the
// micrograd lines are kept as they are, because tapegrad, like PyTorch, can update a tensor
// that is not a leaf in place and still differentiate through it (the old c's history becomes
// the input of the add that replaces it).
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

namespace {

// torch.Tensor([v]).double() with requires_grad = True: a one-element Float64 leaf.
tg::Tensor leaf(double v) {
  return tg::tensor({v}, {1}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
}

void print(const char* test, const char* name, const tg::Tensor& value) {
  fmt::print("{} {} {:.17g}\n", test, name, value.item<double>());
}

void sanity_check() {
  tg::Tensor x = leaf(-4.0);
  tg::Tensor z = 2 * x + 2 + x;
  tg::Tensor q = z.relu() + z * x;
  tg::Tensor h = (z * z).relu();
  tg::Tensor y = h + q + q * x;
  y.backward();
  print("test_sanity_check", "y", y);
  print("test_sanity_check", "x.grad", x.grad());
}

void more_ops() {
  tg::Tensor a = leaf(-4.0);
  tg::Tensor b = leaf(2.0);
  tg::Tensor c = a + b;
  tg::Tensor d = a * b + b.pow(3);
  c += c + 1;
  c += 1 + c + (-a);
  d += d * 2 + (b + a).relu();
  d += 3 * d + (b - a).relu();
  tg::Tensor e = c - d;
  tg::Tensor f = e.pow(2);
  tg::Tensor g = f / 2.0;
  g += 10.0 / f;
  g.backward();
  print("test_more_ops", "g", g);
  print("test_more_ops", "a.grad", a.grad());
  print("test_more_ops", "b.grad", b.grad());
}

}  // namespace

int main() {
  sanity_check();
  more_ops();
}
