#pragma once

#include <tapegrad/tapegrad.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

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

/// A Float64 leaf that requires grad, holding `values`.
inline Tensor leaf64(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = Dtype::Float64})
      .set_requires_grad(true);
}

/// A Bool tensor; nonzero values are true.
inline Tensor bools(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = Dtype::Int64}).to(Dtype::Bool);
}

/// The tolerances of the gradcheck tables (eps, atol and rtol 1e-6).
inline const GradcheckOptions kTight{.eps = 1e-6, .atol = 1e-6, .rtol = 1e-6};

/// One row of a gradcheck table: a function of its inputs, checked at those inputs.
struct GradcheckRow {
  std::string name;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  std::vector<Tensor> inputs;
};

/// Runs tg::gradcheck and tg::gradgradcheck on every row, each in its own section named after
/// it: every op in a gradcheck table is also checked to be twice differentiable.
inline void check_rows(const std::vector<GradcheckRow>& rows) {
  for (const GradcheckRow& row : rows) {
    DYNAMIC_SECTION(row.name) {
      CHECK(gradcheck(row.fn, row.inputs, kTight));
      CHECK(gradgradcheck(row.fn, row.inputs, kTight));
    }
  }
}

}  // namespace tg::testing

/// Checks that `expr` throws tg::Error with `fragment` in its message.
#define CHECK_TG_ERROR(expr, fragment) \
  CHECK_THROWS_MATCHES(expr, tg::Error, tg::testing::MessageContains(fragment))
