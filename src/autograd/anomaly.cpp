// set_detect_anomaly: find the op where NaN or Inf first appears, forward or backward.

#include <tapegrad/error.hpp>

#include "autograd/anomaly.hpp"

#include <atomic>
#include <cmath>

namespace tg {
namespace {

std::atomic<bool> anomaly_mode{false};
thread_local bool in_backward = false;

// "NaN" or "Inf" for the first non-finite element, or nullptr when all are finite.
const char* first_non_finite(const Tensor& t) {
  if (!t.defined() || !is_floating(t.dtype())) return nullptr;
  const auto scan = [&](const auto* data) -> const char* {
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (!std::isfinite(data[i])) return std::isnan(data[i]) ? "NaN" : "Inf";
    }
    return nullptr;
  };
  return t.dtype() == Dtype::Float32 ? scan(t.data<float>()) : scan(t.data<double>());
}

}  // namespace

void set_detect_anomaly(bool enabled) { anomaly_mode.store(enabled, std::memory_order_relaxed); }

bool is_anomaly_enabled() { return detail::anomaly_enabled(); }

namespace detail {

bool anomaly_enabled() { return anomaly_mode.load(std::memory_order_relaxed); }

void check_forward_output(const char* op, const Tensor& output) {
  if (in_backward) return;
  if (const char* found = first_non_finite(output)) {
    fail("detect_anomaly: the forward of '{}' produced {} in its output {} {}", op, found,
         output.dtype(), shape_str(output.shape()));
  }
}

void check_backward_output(const Node& node, size_t input, const Tensor& gradient) {
  if (const char* found = first_non_finite(gradient)) {
    fail("detect_anomaly: the backward of '{}' produced {} in the gradient of its input {} {}",
         node.name(), found, input, shape_str(gradient.shape()));
  }
}

BackwardScope::BackwardScope() : previous_(in_backward) { in_backward = true; }

BackwardScope::~BackwardScope() { in_backward = previous_; }

}  // namespace detail
}  // namespace tg
