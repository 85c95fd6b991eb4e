#pragma once

// The one-line progress bar the training examples redraw during an epoch.

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace examples {

class ProgressBar {
 public:
  /// A bar for epoch `epoch` of `epochs`, `steps` steps long; `unit` names what update counts.
  ProgressBar(int64_t epoch, int64_t epochs, int64_t steps, std::string unit = "samples/s")
      : epoch_(epoch),
        epochs_(epochs),
        steps_(steps),
        every_(std::max<int64_t>(1, (steps + 9) / 10)),  // ten redraws an epoch: cheap on a pipe
        unit_(std::move(unit)),
        start_(std::chrono::steady_clock::now()) {}

  /// After step `done`: `mean_loss` so far, and `items` processed so far for the rate.
  void update(int64_t done, double mean_loss, int64_t items) const {
    if (done % every_ != 0 && done != steps_) return;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    const int width = 30;
    const auto filled = static_cast<int>(width * done / steps_);
    fmt::print("\repoch {:2d}/{} [{:=<{}}{:<{}}] {:3d}/{} loss {:.4f} {:7.0f} {}", epoch_, epochs_,
               "", filled, "", width - filled, done, steps_, mean_loss,
               static_cast<double>(items) / elapsed.count(), unit_);
    std::fflush(stdout);
  }

  /// Seconds since the bar was made.
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  int64_t epoch_, epochs_, steps_, every_;
  std::string unit_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace examples
