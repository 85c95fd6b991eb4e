// Anomaly mode's checks, called by record() and the backward engine only when it is on.
#pragma once

#include <tapegrad/autograd.hpp>

namespace tg::detail {

/// True while set_detect_anomaly(true) is in effect (one relaxed load: free when off).
bool anomaly_enabled();

/// Throws naming `op` when its forward output holds NaN or Inf (skipped inside backward, whose
/// internal ops are checked through the node they belong to).
void check_forward_output(const char* op, const Tensor& output);

/// Throws naming the node when the gradient it returned for input `input` holds NaN or Inf.
void check_backward_output(const Node& node, size_t input, const Tensor& gradient);

/// Marks this thread as running a backward pass for its lifetime.
class BackwardScope {
 public:
  BackwardScope();
  ~BackwardScope();
  BackwardScope(const BackwardScope&) = delete;
  BackwardScope& operator=(const BackwardScope&) = delete;

 private:
  bool previous_;
};

}  // namespace tg::detail
