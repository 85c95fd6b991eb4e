// Printing like PyTorch.

#include "helpers.hpp"

#include <sstream>

TEST_CASE("tensors print like PyTorch, with shape and dtype", "[format]") {
  CHECK(tg::to_string(tg::tensor({1.5, -2, 3, 4.25}, {2, 2})) ==
        "tensor([[ 1.5000, -2.0000],\n"
        "        [ 3.0000,  4.2500]], shape=[2, 2], dtype=Float32)");
  CHECK(tg::to_string(tg::tensor({1, 2, 3}, {3}, {.dtype = tg::Dtype::Int64})) ==
        "tensor([1, 2, 3], shape=[3], dtype=Int64)");
  CHECK(tg::to_string(tg::ones({2}, {.requires_grad = true})) ==
        "tensor([1., 1.], shape=[2], dtype=Float32, requires_grad=True)");
  CHECK(tg::to_string(tg::tensor({1e-6, 3e5}, {2}, {.dtype = tg::Dtype::Float64})) ==
        "tensor([1.0000e-06, 3.0000e+05], shape=[2], dtype=Float64)");
  CHECK(tg::to_string(tg::full({}, 0.5)) == "tensor(0.5000, shape=[], dtype=Float32)");
  CHECK(tg::to_string(tg::Tensor()) == "tensor(undefined)");
}

TEST_CASE("recorded tensors show their grad_fn", "[format]") {
  tg::Tensor x = tg::ones({1}, {.requires_grad = true});
  CHECK(tg::to_string(x * 2.0) == "tensor([2.], shape=[1], dtype=Float32, grad_fn=<mul>)");
}

TEST_CASE("big tensors are elided with ...", "[format]") {
  const std::string text = tg::to_string(tg::arange(2000, {.dtype = tg::Dtype::Int64}));
  CHECK(text == "tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000], dtype=Int64)");
}

TEST_CASE("operator<< and fmt print the same text", "[format]") {
  const tg::Tensor t = tg::tensor({1, 2}, {2});
  std::ostringstream out;
  out << t;
  CHECK(out.str() == fmt::format("{}", t));
}
