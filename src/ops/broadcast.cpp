// broadcast_to and sum_to: each is the other's backward, and sum_to is how the engine reduces
// every broadcast gradient to its input's shape.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "kernels/cpu_level.hpp"
#include "ops/kernels.hpp"

#include <optional>
#include <utility>

namespace tg {
namespace {

// Throws unless `small` broadcasts to exactly `large`.
void require_broadcastable(const Shape& small, const Shape& large, const char* op) {
  bool fits = small.size() <= large.size();
  const size_t offset = large.size() - small.size();
  for (size_t i = 0; fits && i < small.size(); ++i) {
    fits = small[i] == 1 || small[i] == large[offset + i];
  }
  if (!fits) {
    fail("{}: shape {} cannot be broadcast to {}", op, shape_str(small), shape_str(large));
  }
}

// The common case of a bias gradient: [rows, columns] summed to [columns] or [1, columns].
// A sum over leading dimensions only ([N, O, K] → [O, K] or [1, O, K], a bias's [N, C] → [C]):
// the column sums of big seen as [rows, columns]. Null for any other reduction.
std::optional<std::pair<int64_t, int64_t>> as_column_sum(const Shape& big, const Shape& small) {
  const size_t rank = big.size(), pad = rank - small.size();
  const auto target = [&](size_t d) { return d < pad ? int64_t{1} : small[d - pad]; };
  size_t kept = rank;  // the kept trailing dimensions start here
  while (kept > 0 && target(kept - 1) == big[kept - 1]) --kept;
  for (size_t d = 0; d < kept; ++d) {
    if (target(d) != 1) return std::nullopt;
  }
  int64_t rows = 1, columns = 1;
  for (size_t d = 0; d < rank; ++d) (d < kept ? rows : columns) *= big[d];
  return std::pair{rows, columns};
}

template <class T, class Acc>
[[gnu::always_inline]] inline void column_sums(const T* in, int64_t rows, int64_t columns,
                                               Acc* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = in + r * columns;
    for (int64_t j = 0; j < columns; ++j) acc[j] += row[j];  // same order as the general path
  }
}

// acc[j] += Σ_r in[r·columns + j] for j < kWidth, in row order like column_sums, with the
// sums held in registers down all the rows instead of loaded and stored for each row.
template <int kWidth>
[[gnu::always_inline]] inline void float_column_block(const float* in, int64_t rows,
                                                      int64_t columns, double* acc) {
  double sum[kWidth];
#pragma GCC unroll 16
  for (int j = 0; j < kWidth; ++j) sum[j] = acc[j];
  for (int64_t r = 0; r < rows; ++r) {
#pragma GCC unroll 16
    for (int j = 0; j < kWidth; ++j) sum[j] += in[r * columns + j];
  }
#pragma GCC unroll 16
  for (int j = 0; j < kWidth; ++j) acc[j] = sum[j];
}

}  // namespace

// Float32 column sums (every bias gradient) at the CPU level in use, 16 columns at a time, then
// one by one (a one-column sum is then a plain loop down the column); each column is summed in
// row order at every level, so all give the same bits as column_sums.
namespace detail {
void float_column_sums(const float* in, int64_t rows, int64_t columns, double* acc) {
  at_cpu_level([&] {
    int64_t j = 0;
    for (; j + 16 <= columns; j += 16) float_column_block<16>(in + j, rows, columns, acc + j);
    for (; j < columns; ++j) float_column_block<1>(in + j, rows, columns, acc + j);
  });
}
}  // namespace detail

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  require_broadcastable(x.shape(), shape, "broadcast_to");
  if (x.shape() == shape) return x;
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    Tensor out = make_tensor(shape, x.dtype());
    const T* in = x.data<T>();
    T* o = out.data<T>();
    const std::array<std::vector<int64_t>, 1> strides{broadcast_strides(x.shape(), shape)};
    const int64_t inner = shape.back();
    const int64_t step = strides[0].back();
    for_each_row(shape, strides, [&](int64_t r, const std::array<int64_t, 1>& offsets) {
      for (int64_t j = 0; j < inner; ++j) o[r * inner + j] = in[offsets[0] + j * step];
    });
    return out;
  });
  return record("broadcast_to", y, {x},
                [shape = x.shape()](const Tensor& gy) -> Grads { return {sum_to(gy, shape)}; });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  require_broadcastable(shape, x.shape(), "sum_to");
  if (x.shape() == shape) return x;
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    // Accumulate in double so long Float32 sums keep their precision; Int64 in uint64_t, so an
    // overflowing sum wraps around as PyTorch's does, without signed overflow's undefined
    // behaviour (the conversion back is modular in C++20).
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
    std::vector<Acc> acc(static_cast<size_t>(shape_numel(shape)), Acc(0));
    const T* in = x.data<T>();
    const Shape& big = x.shape();
    if (const auto columns = as_column_sum(big, shape)) {
      const auto [rows, width] = *columns;
      if constexpr (std::is_same_v<T, float>) {
        detail::float_column_sums(in, rows, width, acc.data());  // fast path, same result
      } else {
        column_sums(in, rows, width, acc.data());
      }
    } else {
      const std::array<std::vector<int64_t>, 1> strides{broadcast_strides(shape, big)};
      const int64_t inner = big.empty() ? 1 : big.back();
      const int64_t step = strides[0].empty() ? 0 : strides[0].back();
      for_each_row(big, strides, [&](int64_t r, const std::array<int64_t, 1>& offsets) {
        for (int64_t j = 0; j < inner; ++j) acc[offsets[0] + j * step] += in[r * inner + j];
      });
    }
    Tensor out = make_tensor(shape, x.dtype());
    T* o = out.data<T>();
    for (size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<T>(acc[i]);
    return out;
  });
  return record("sum_to", y, {x}, [shape = x.shape()](const Tensor& gy) -> Grads {
    return {broadcast_to(gy, shape)};
  });
}

}  // namespace tg
