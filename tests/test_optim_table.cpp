// What every optimizer of the table (optim_table.hpp) must do: restore every option from its
// state_dict, resume bit-identically, give the same bits at any thread count, reject a missing
// (NaN) option by name, and take a closure.

#include "helpers.hpp"
#include "optim_table.hpp"
#include "scratch.hpp"

#include <cmath>
#include <set>

using tg::Tensor;
using tg::testing::every_optimizer;
using tg::testing::OptimizerRow;

namespace {

// n Float32 elements trained `steps` closure steps on Σ w·p², with `threads` threads.
std::vector<unsigned char> train_with_threads(const tg::testing::MakeOptimizer& make, int threads) {
  const int previous = tg::num_threads();
  tg::set_num_threads(threads);
  tg::manual_seed(4);
  // Above kParallelUpdateElements (2^15) and not a multiple of 16: ranges split unevenly.
  Tensor p = tg::randn({(1 << 16) + 5}, {.requires_grad = true});
  const Tensor w = tg::randn({(1 << 16) + 5});
  const auto optimizer = make({p});
  for (int step = 0; step < 3; ++step) {
    optimizer->step([&] {
      optimizer->zero_grad();
      Tensor loss = tg::sum(p * p * w);
      loss.backward();
      return loss;
    });
  }
  tg::set_num_threads(previous);
  return tg::testing::bytes_of(std::vector<Tensor>{p});
}

}  // namespace

TEST_CASE("the optimizer table lists every optimizer once, with two distinct configurations",
          "[optim]") {
  std::set<std::string> names;
  for (const OptimizerRow& row : every_optimizer()) {
    INFO(row.name);
    CHECK(names.insert(row.name).second);
    const auto configured = row.fields(true), defaults = row.fields(false);
    REQUIRE(configured.size() == defaults.size());
    // Each listed field differs, so the round trip below checks every one of them.
    for (size_t f = 0; f < configured.size(); ++f) {
      INFO(configured[f].first);
      CHECK(configured[f].second != defaults[f].second);
    }
  }
  CHECK(names.size() >= 10);
}

TEST_CASE("load_state_dict restores every option (operator==) and the description", "[optim]") {
  for (const OptimizerRow& row : every_optimizer()) {
    INFO(row.name);
    CHECK(row.round_trip_restores_options());
  }
}

TEST_CASE("a NaN option is rejected at construction, naming optimizer and option", "[optim]") {
  for (const OptimizerRow& row : every_optimizer()) {
    for (const auto& [option, message] : row.nan_option_errors()) {
      INFO(row.name << "." << option << ": " << message);
      CHECK(message.rfind(row.name + ": ", 0) == 0);
      // Betas are named as torch's tuple: beta1 → betas[0].
      const std::string named = option.rfind("beta", 0) == 0 && option.size() == 5
                                    ? fmt::format("betas[{}]", option[4] - '1')
                                    : option;
      CHECK(message.find(named) != std::string::npos);
    }
  }
}

TEST_CASE("every optimizer resumes from its state_dict bit-identically", "[optim]") {
  using tg::testing::detail_table::bowl_start;
  using tg::testing::detail_table::train_bowl;
  for (const OptimizerRow& row : every_optimizer()) {
    for (const bool configured : {true, false}) {
      INFO(row.name << (configured ? " configured" : " defaults"));
      const auto& make = configured ? row.configured : row.defaults;
      Tensor p = bowl_start();
      const auto optimizer = make({p});
      train_bowl(*optimizer, p, 4);
      const tg::optim::StateDict saved = optimizer->state_dict();
      Tensor q = tg::tensor(p.to_vector<double>(), {5},
                            {.dtype = tg::Dtype::Float64, .requires_grad = true});
      train_bowl(*optimizer, p, 4);
      const auto resumed = make({q});
      resumed->load_state_dict(saved);
      train_bowl(*resumed, q, 4);
      CHECK(tg::testing::bytes_of(std::vector<Tensor>{q}) ==
            tg::testing::bytes_of(std::vector<Tensor>{p}));
      CHECK(tg::testing::bytes_of(resumed->state_dict()) ==
            tg::testing::bytes_of(optimizer->state_dict()));
    }
  }
}

TEST_CASE("every optimizer gives the same bits with 1 and 3 threads", "[optim][threads]") {
  for (const OptimizerRow& row : every_optimizer()) {
    for (const bool configured : {true, false}) {
      INFO(row.name << (configured ? " configured" : " defaults"));
      const auto& make = configured ? row.configured : row.defaults;
      CHECK(train_with_threads(make, 1) == train_with_threads(make, 3));
    }
  }
}

TEST_CASE("step(closure) returns the closure's loss, through the base class", "[optim]") {
  for (const OptimizerRow& row : every_optimizer()) {
    INFO(row.name);
    Tensor p = tg::testing::detail_table::bowl_start();
    const std::unique_ptr<tg::optim::Optimizer> optimizer = row.defaults({p});
    int calls = 0;
    const tg::NoGradGuard no_grad;
    const Tensor loss = optimizer->step([&] {
      ++calls;
      CHECK(tg::is_grad_enabled());  // even when step is called under NoGradGuard
      optimizer->zero_grad();
      Tensor l = tg::sum(p * p);
      l.backward();
      return l;
    });
    CHECK(calls >= 1);
    // The first evaluation, before any update: Σ p₀² = 1 + 0.25 + 0.0625 + 4 + 2.25.
    CHECK(loss.item<double>() == Approx(7.5625).epsilon(1e-15));
  }
}

TEST_CASE("describe() prints the options from the field list", "[optim]") {
  const Tensor p = tg::zeros({1}, {.requires_grad = true});
  tg::optim::Adamax adamax({p}, {.lr = 0.5, .maximize = true});
  CHECK(adamax.describe() ==
        "Adamax(lr=0.5, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0, maximize=1)");
}
