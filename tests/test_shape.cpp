// Shape helpers: broadcasting rules and dimension normalization.

#include "helpers.hpp"

using tg::Shape;

TEST_CASE("broadcast_shapes follows NumPy", "[shape]") {
  CHECK(tg::broadcast_shapes({3, 1}, {1, 4}, "op") == Shape{3, 4});
  CHECK(tg::broadcast_shapes({2, 3, 4}, {4}, "op") == Shape{2, 3, 4});
  CHECK(tg::broadcast_shapes({}, {5}, "op") == Shape{5});
  CHECK(tg::broadcast_shapes({0, 1}, {1, 3}, "op") == Shape{0, 3});
  CHECK_TG_ERROR(tg::broadcast_shapes({3}, {4}, "add"),
                 "add: shapes cannot be broadcast together: [3] and [4]");
}

TEST_CASE("normalize_dim maps negative dims and rejects out-of-range ones", "[shape]") {
  CHECK(tg::normalize_dim(-1, 3, "op") == 2);
  CHECK(tg::normalize_dim(0, 0, "op") == 0);  // a 0-d tensor accepts dims 0 and -1, like torch
  CHECK(tg::normalize_dim(-1, 0, "op") == 0);
  CHECK_TG_ERROR(tg::normalize_dim(-4, 3, "sum"),
                 "sum: dimension -4 out of range for a 3-d tensor (expected -3 to 2)");
}

TEST_CASE("numel and strides", "[shape]") {
  CHECK(tg::shape_numel({}) == 1);
  CHECK(tg::shape_numel({2, 0, 3}) == 0);
  CHECK(tg::contiguous_strides({2, 3, 4}) == std::vector<int64_t>{12, 4, 1});
}

TEST_CASE("a zero-size shape's strides wrap like PyTorch's instead of overflowing", "[shape]") {
  // torch.empty(0, 2**32, 2**32).stride() is (0, 4294967296, 1): 2^64 wraps to 0.
  constexpr int64_t two32 = int64_t{1} << 32;
  CHECK(tg::shape_numel({0, two32, two32}) == 0);
  CHECK(tg::contiguous_strides({0, two32, two32}) == std::vector<int64_t>{0, two32, 1});
}
