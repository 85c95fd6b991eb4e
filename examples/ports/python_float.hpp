// Numbers printed as Python prints a float, so that a port's output reads like the original's
// line for line.
#pragma once

#include <fmt/core.h>

#include <string>

namespace examples {

/// `v` as Python's repr(float): the shortest digits that read back as v, with ".0" on integers.
inline std::string python_float(double v) {
  // fmt's "{}" is the same shortest round-trip form, with the exponent from 1e16 and below 1e-4
  // as in Python, but it writes 100.0 as "100".
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

}  // namespace examples
