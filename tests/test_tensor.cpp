// Tensor members and factories.

#include "helpers.hpp"

#include <cmath>
#include <limits>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;

TEST_CASE("an undefined tensor says so", "[tensor]") {
  Tensor t;
  CHECK_FALSE(t.defined());
  CHECK_TG_ERROR(t.shape(), "tensor: operation on an undefined tensor");
  CHECK_TG_ERROR(t.numel(), "undefined tensor");
}

TEST_CASE("shape queries", "[tensor]") {
  Tensor t = tg::zeros({2, 3, 4});
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.dim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(0) == 2);
  CHECK(t.size(-1) == 4);
  CHECK(t.dtype() == Dtype::Float32);
  CHECK_TG_ERROR(t.size(3), "size: dimension 3 out of range for a 3-d tensor (expected -3 to 2)");
  Tensor scalar = tg::full({}, 7);
  CHECK(scalar.dim() == 0);
  CHECK(scalar.numel() == 1);
  CHECK(scalar.item<float>() == 7);
}

TEST_CASE("factories fill and convert", "[tensor]") {
  CHECK(tg::ones({3}).to_vector<float>() == std::vector<float>{1, 1, 1});
  CHECK(tg::zeros({2}, {.dtype = Dtype::Float64}).to_vector<double>() == std::vector<double>{0, 0});
  CHECK(tg::full({2}, -1.5).to_vector<float>() == std::vector<float>{-1.5, -1.5});
  CHECK(tg::arange(4).to_vector<float>() == std::vector<float>{0, 1, 2, 3});
  CHECK(tg::arange(3, {.dtype = Dtype::Int64}).to_vector<int64_t>() ==
        std::vector<int64_t>{0, 1, 2});
  Tensor labels = tg::tensor({2, 0, 1}, {3}, {.dtype = Dtype::Int64});
  CHECK(labels.dtype() == Dtype::Int64);
  CHECK(labels.data<int64_t>()[0] == 2);
  CHECK(tg::from_vector<double>({1.5, 2.5}, {2}).dtype() == Dtype::Float64);
  CHECK(tg::from_vector<int64_t>({4, 5}, {1, 2}).to_vector<int64_t>() ==
        std::vector<int64_t>{4, 5});
  CHECK(tg::from_vector<float>({1, 2, 3, 4}, {2, 2}).size(1) == 2);
  CHECK(tg::ones({2}, {.requires_grad = true}).requires_grad());
}

TEST_CASE("factory misuse", "[tensor]") {
  CHECK_TG_ERROR(tg::tensor({1, 2, 3}, {2, 2}),
                 "tensor: 3 values do not fill shape [2, 2] (4 elements)");
  CHECK_TG_ERROR(tg::from_vector<float>({1}, {2}), "from_vector: 1 values do not fill shape [2]");
  CHECK_TG_ERROR(tg::tensor({1.5}, {1}, {.dtype = Dtype::Int64}),
                 "tensor: value 1.5 is not an integer but the dtype is Int64");
  CHECK_TG_ERROR(tg::zeros({2, -1}), "tensor: negative dimension in shape [2, -1]");
  CHECK_TG_ERROR(tg::randn({2}, {.dtype = Dtype::Int64}),
                 "randn: expected a floating dtype, got Int64");
  CHECK_TG_ERROR(tg::arange(-1), "arange: expected a non-negative length, got -1");
  CHECK_TG_ERROR(tg::ones({2}, {.dtype = Dtype::Int64, .requires_grad = true}), "Int64");
}

TEST_CASE("a value Int64 cannot hold is an error, not an out-of-range conversion", "[tensor]") {
  // torch.full((2,), 1e300, dtype=torch.int64): "value cannot be converted to type int64_t
  // without overflow"; the same for inf and nan. 2^63 is just past the largest int64.
  CHECK_TG_ERROR(tg::full({2}, 1e300, {.dtype = Dtype::Int64}),
                 "full: value 1e+300 cannot be converted to Int64 without overflow");
  CHECK_TG_ERROR(tg::full({2}, INFINITY, {.dtype = Dtype::Int64}),
                 "full: value inf cannot be converted to Int64 without overflow");
  CHECK_TG_ERROR(tg::full({2}, 0x1p63, {.dtype = Dtype::Int64}), "cannot be converted to Int64");
  CHECK_TG_ERROR(tg::full({2}, NAN, {.dtype = Dtype::Int64}),
                 "full: value nan is not an integer but the dtype is Int64");
  CHECK_TG_ERROR(tg::tensor({1, -1e19}, {2}, {.dtype = Dtype::Int64}),
                 "tensor: value -1e+19 cannot be converted to Int64 without overflow");
  CHECK(tg::full({1}, -0x1p63, {.dtype = Dtype::Int64}).item<int64_t>() ==
        std::numeric_limits<int64_t>::min());  // −2⁶³ itself fits
}

TEST_CASE("to(Int64) and Int64 reads refuse floats Int64 cannot hold", "[tensor]") {
  // torch.tensor([nan]).to(torch.int64) gives whatever the CPU's conversion gives
  // (-9223372036854775808 on x86); in C++ that conversion is undefined, so tapegrad refuses.
  const Tensor x = tg::tensor({1.5, NAN}, {2});
  CHECK_TG_ERROR(x.to(Dtype::Int64),
                 "to: element 1 of Float32 [2] is nan, which cannot be converted to Int64");
  CHECK_TG_ERROR(tg::tensor({1e300}, {1}, {.dtype = Dtype::Float64}).to(Dtype::Int64),
                 "element 0 of Float64 [1] is 1e+300");
  CHECK_TG_ERROR(x.to_vector<int64_t>(), "to: element 1 of Float32 [2] is nan");
  CHECK_TG_ERROR(tg::full({}, INFINITY).item<int64_t>(), "is inf, which cannot be converted");
  CHECK(tg::tensor({-2.75}, {1}).item<int64_t>() == -2);  // truncates, as .to(torch.int64)
}

TEST_CASE("data<T> must match the dtype, item needs one element", "[tensor]") {
  Tensor t = tg::ones({2, 2});
  CHECK_THROWS_MATCHES(
      t.data<double>(), tg::Error,
      Catch::Matchers::Message("data: requested Float64 but the tensor is Float32"));
  CHECK_TG_ERROR(std::as_const(t).data<int64_t>(), "requested Int64 but the tensor is Float32");
  CHECK_TG_ERROR(t.item<float>(),
                 "item: expected a tensor with one element, got shape [2, 2] (4 elements)");
  CHECK(tg::full({1, 1}, 2.5).item<double>() == 2.5);
}

TEST_CASE("copies share storage, clone does not", "[tensor]") {
  Tensor a = tg::zeros({3});
  Tensor b = a;
  Tensor c = a.clone();
  Tensor r = a.reshape({1, 3});
  b.data<float>()[0] = 5;
  CHECK(a.to_vector<float>()[0] == 5);
  CHECK(r.to_vector<float>()[0] == 5);
  CHECK(c.to_vector<float>()[0] == 0);
}

TEST_CASE("reshape infers one -1 and checks the element count", "[tensor]") {
  Tensor t = tg::arange(12);
  CHECK(t.reshape({3, -1}).shape() == Shape{3, 4});
  CHECK(t.reshape({-1}).shape() == Shape{12});
  CHECK(tg::full({1}, 1).reshape({}).dim() == 0);
  CHECK_TG_ERROR(t.reshape({5, -1}), "reshape: cannot reshape [12] (12 elements) into [5, -1]");
  CHECK_TG_ERROR(t.reshape({-1, -1}), "reshape: only one dimension can be -1, got [-1, -1]");
  CHECK_TG_ERROR(t.reshape({7}), "cannot reshape [12] (12 elements) into [7]");
  CHECK_TG_ERROR(t.reshape({-2, 6}), "reshape: invalid dimension -2 in [-2, 6]");
}

TEST_CASE("reshape into extents whose product passes int64 is an error, not an overflow",
          "[tensor]") {
  // torch.zeros(4).reshape(2**62, 4, -1): "shape '[4611686018427387904, 4, -1]' is invalid for
  // input of size 4"; likewise (2**32, 2**32), whose product 2^64 wraps to 0 in int64.
  const Tensor four = tg::ones({4});
  constexpr int64_t two62 = int64_t{1} << 62, two32 = int64_t{1} << 32;
  CHECK_TG_ERROR(four.reshape({two62, 4, -1}),
                 "reshape: cannot reshape [4] (4 elements) into [4611686018427387904, 4, -1]");
  CHECK_TG_ERROR(four.reshape({two32, two32}),
                 "reshape: cannot reshape [4] (4 elements) into [4294967296, 4294967296]");
  CHECK_TG_ERROR(tg::zeros({0}).reshape({two62, 4, 0}), "cannot reshape [0] (0 elements)");
  CHECK_TG_ERROR(tg::zeros({0}).reshape({two32, two32, -1}), "cannot reshape [0] (0 elements)");
  // torch.zeros(0).reshape(0, 2**62, 2**62) has shape [0, 2^62, 2^62].
  CHECK(tg::zeros({0}).reshape({0, two62, two62}).shape() == Shape{0, two62, two62});
}

TEST_CASE("transpose and t copy the elements into the swapped layout", "[tensor]") {
  Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(a.t().shape() == Shape{3, 2});
  CHECK(a.t().to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
  Tensor b = tg::arange(24).reshape({2, 3, 4});
  Tensor bt = b.transpose(0, 2);
  CHECK(bt.shape() == Shape{4, 3, 2});
  // bt[i][j][k] = b[k][j][i]; bt[1][2][0] = b[0][2][1] = 9
  CHECK(bt.to_vector<float>()[1 * 6 + 2 * 2 + 0] == 9);
  CHECK_TG_ERROR(tg::ones({3}).t(), "t: expected a 2-d tensor, got shape [3]");
  CHECK_TG_ERROR(b.transpose(0, 3), "transpose: dimension 3 out of range");
}

TEST_CASE("to converts between dtypes", "[tensor]") {
  Tensor a = tg::tensor({1.75, -2.25}, {2});
  CHECK(a.to(Dtype::Float64).to_vector<double>() == std::vector<double>{1.75, -2.25});
  CHECK(a.to(Dtype::Int64).to_vector<int64_t>() == std::vector<int64_t>{1, -2});  // truncates
  CHECK(a.to(Dtype::Float32).shared_impl() == a.shared_impl());
}

TEST_CASE("grad is undefined until a backward writes it", "[tensor]") {
  Tensor w = tg::ones({2}, {.requires_grad = true});
  CHECK(w.is_leaf());
  CHECK_FALSE(w.grad().defined());
  Tensor y = w * 2.0;
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn() != nullptr);
  CHECK(std::string(y.grad_fn()->name()) == "mul");
}
