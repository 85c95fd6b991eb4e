#pragma once

// Sums of many elements in a fixed order that vectorizes, for reductions and gradients that
// sum long runs (sum(), conv2d's bias gradient, layer_norm's statistics).

#include "kernels/cpu_level.hpp"

#include <cstdint>

namespace tg::detail {

// Σ term(i) for i < n in an order fixed by n alone: lane l of 16 adds the terms i ≡ l (mod 16)
// in index order, then the lanes are added pairwise (l += l + 8, then + 4, + 2, + 1). Sixteen
// independent sums let the loop vectorize and run at memory speed, where one chain of dependent
// additions waits an add's latency per element; the order depends on neither the CPU level (the
// same additions at every width) nor the thread count (one thread). Fewer than 16 terms are
// added in index order, with no dispatch: a reduction over very short runs (a layer_norm row of 8,
// a conv2d bias gradient over 1×1 outputs) would otherwise spend its time setting lanes up.
template <class Acc, class Term>
Acc lane_reduce(int64_t n, const Term& term) {
  constexpr int kLanes = 16;
  if (n < kLanes) {
    Acc sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += term(i);
    return sum;
  }
  Acc total[kLanes] = {};
  at_cpu_level([&] {
    Acc lane[kLanes] = {};  // a local array, so the sums stay in registers
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
#pragma GCC unroll 16
      for (int l = 0; l < kLanes; ++l) lane[l] += term(i + l);
    }
    for (int l = 0; i + l < n; ++l) lane[l] += term(i + l);
    for (int l = 0; l < kLanes; ++l) total[l] = lane[l];
  });
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) total[l] += total[l + width];
  }
  return total[0];
}

/// Σ in[i], added in Acc.
template <class T, class Acc = double>
Acc lane_sum(const T* in, int64_t n) {
  return lane_reduce<Acc>(n, [in](int64_t i) { return static_cast<Acc>(in[i]); });
}

/// Σ a[i]·b[i], each product rounded in T and added in Acc, in lane_sum's order.
template <class T, class Acc = double>
Acc lane_dot(const T* a, const T* b, int64_t n) {
  return lane_reduce<Acc>(n, [a, b](int64_t i) { return static_cast<Acc>(a[i] * b[i]); });
}

}  // namespace tg::detail
