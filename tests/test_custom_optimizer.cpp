// The "write your own optimizer" example of docs/optimizers.md (tests/custom_optimizer/lion.hpp,
// shown there verbatim): it compiles, follows its formula, and gets state_dict, validation and
// checkpointing from the shared mechanism with nothing else written.

#include "custom_optimizer/lion.hpp"
#include "helpers.hpp"

#include <cmath>

using tg::Dtype;
using tg::Tensor;
using tg::optim::Lion;

namespace {

// Lion on f(p) = Σ (p − t)² written out with plain doubles, independent of the library.
std::vector<double> reference_lion(std::vector<double> p, const std::vector<double>& t, int steps,
                                   double lr, double b1, double b2, double wd) {
  std::vector<double> m(p.size(), 0);
  for (int k = 0; k < steps; ++k) {
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = 2 * (p[i] - t[i]);
      const double c = b1 * m[i] + (1 - b1) * g;
      p[i] = p[i] * (1 - lr * wd) - lr * ((c > 0) - (c < 0));
      m[i] = b2 * m[i] + (1 - b2) * g;
    }
  }
  return p;
}

}  // namespace

TEST_CASE("a custom optimizer in one file follows its formula", "[optim][custom]") {
  const std::vector<double> start{0.5, -1.25, 2, 0.125}, target{1, 1, -1, 0.1};
  for (const double wd : {0.0, 0.3}) {
    Tensor p = tg::tensor(start, {4}, {.dtype = Dtype::Float64}).set_requires_grad(true);
    const Tensor t = tg::tensor(target, {4}, {.dtype = Dtype::Float64});
    Lion optimizer({p}, {.lr = 0.01, .betas = {0.8, 0.95}, .weight_decay = wd});
    for (int k = 0; k < 40; ++k) {
      optimizer.zero_grad();
      tg::sum(tg::square(p - t)).backward();
      optimizer.step();
    }
    const std::vector<double> expected = reference_lion(start, target, 40, 0.01, 0.8, 0.95, wd);
    const std::vector<double> actual = p.to_vector<double>();
    for (size_t i = 0; i < actual.size(); ++i)
      CHECK(actual[i] == Approx(expected[i]).margin(1e-14));
  }
}

TEST_CASE("a custom optimizer gets validation and state_dict from the shared mechanism",
          "[optim][custom]") {
  Tensor p = tg::ones({3}, {.requires_grad = true});
  CHECK_TG_ERROR(Lion({p}, {.lr = -1}), "Lion: invalid lr: -1");
  CHECK_TG_ERROR(Lion({p}, {.betas = {0.9, 1.0}}), "betas[1]");

  Lion first({p}, {.lr = 0.05, .betas = {0.7, 0.9}, .weight_decay = 0.1});
  tg::sum(tg::square(p)).backward();
  first.step();
  Tensor q = tg::ones({3}, {.requires_grad = true});
  Lion second({q});
  second.load_state_dict(first.state_dict());
  CHECK(second.options() == first.options());  // every listed field travels
  // The momentum buffer travelled too: the same next step from the same point.
  {
    tg::NoGradGuard no_grad;
    q.copy_(p);
  }
  for (Tensor* x : {&p, &q}) {
    x->zero_grad();
    tg::sum(tg::square(*x)).backward();
  }
  first.step();
  second.step();
  CHECK(q.to_vector<float>() == p.to_vector<float>());
}
