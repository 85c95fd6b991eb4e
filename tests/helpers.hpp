#pragma once

#include <tapegrad/tapegrad.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace tg::testing {

/// Matches an exception whose what() contains every given fragment.
class MessageContains : public Catch::MatcherBase<std::exception> {
 public:
  explicit MessageContains(std::string fragment) : fragment_(std::move(fragment)) {}
  bool match(const std::exception& e) const override {
    return std::string(e.what()).find(fragment_) != std::string::npos;
  }
  std::string describe() const override { return "message contains \"" + fragment_ + "\""; }

 private:
  std::string fragment_;
};

/// Float64 tensor of normal draws (seeded by the caller) that requires grad.
inline Tensor randn64(Shape shape) {
  return randn(std::move(shape), {.dtype = Dtype::Float64, .requires_grad = true});
}

/// Float64 tensor of draws in [0.5, 2.5), away from the singularities of log, sqrt and pow.
inline Tensor positive64(Shape shape) {
  Tensor x = rand(std::move(shape), {.dtype = Dtype::Float64}) * 2.0 + 0.5;
  return x.detach().set_requires_grad(true);
}

}  // namespace tg::testing

/// Checks that `expr` throws tg::Error with `fragment` in its message.
#define CHECK_TG_ERROR(expr, fragment) \
  CHECK_THROWS_MATCHES(expr, tg::Error, tg::testing::MessageContains(fragment))
