// Which floating-point values have an Int64 value: converting any other (outside [−2⁶³, 2⁶³), or
// NaN) to int64_t is undefined behaviour; PyTorch's result is whatever the CPU gives.
#pragma once

namespace tg::detail {

/// True when `value` lies in [−2⁶³, 2⁶³) (false for NaN), so static_cast<int64_t> is defined.
template <class Float>
constexpr bool in_int64_range(Float value) {
  return value >= Float(-0x1p63) && value < Float(0x1p63);
}

}  // namespace tg::detail
