// Schedulers against torch.optim.lr_scheduler's 50-epoch sequences (make_optim_fixtures.py).

#include "fixture.hpp"
#include "helpers.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

using namespace tg::optim;

namespace {

std::vector<double> run_epoch_scheduler(const tg::testing::FixtureCase& c) {
  tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
  SGD optimizer({p}, {.lr = 0.1});
  const auto count = [&](const char* key) { return static_cast<int64_t>(c.option(key, 0)); };
  std::unique_ptr<LRScheduler> scheduler;
  std::vector<std::unique_ptr<LRScheduler>> children;  // of the composites, by name
  const auto parts = [&](auto... made) {
    (children.push_back(std::unique_ptr<LRScheduler>(made)), ...);
    std::vector<LRScheduler*> out;
    for (auto& child : children) out.push_back(child.get());
    return out;
  };
  if (c.name == "step_lr") {
    scheduler = std::make_unique<StepLR>(optimizer, count("step_size"), c.option("gamma", 0));
  } else if (c.name == "exponential_lr") {
    scheduler = std::make_unique<ExponentialLR>(optimizer, c.option("gamma", 0));
  } else if (c.name == "cosine_annealing_lr") {
    scheduler =
        std::make_unique<CosineAnnealingLR>(optimizer, count("T_max"), c.option("eta_min", 0));
  } else if (c.name == "lambda_lr_warmup") {  // the fixture script's lambdas
    scheduler = std::make_unique<LambdaLR>(
        optimizer, [](int64_t e) { return std::min(1.0, static_cast<double>(e + 1) / 10); });
  } else if (c.name == "lambda_lr_power") {
    scheduler = std::make_unique<LambdaLR>(
        optimizer, [](int64_t e) { return std::pow(0.95, static_cast<double>(e)); });
  } else if (c.name == "multi_step_lr") {
    scheduler = std::make_unique<MultiStepLR>(optimizer, std::vector<int64_t>{30, 5, 12, 12},
                                              c.option("gamma", 0));
  } else if (c.name == "linear_lr") {
    scheduler = std::make_unique<LinearLR>(optimizer, c.option("start_factor", 0),
                                           c.option("end_factor", 0), count("total_iters"));
  } else if (c.name == "linear_lr_default") {
    scheduler = std::make_unique<LinearLR>(optimizer);
  } else if (c.name == "constant_lr") {
    scheduler =
        std::make_unique<ConstantLR>(optimizer, c.option("factor", 0), count("total_iters"));
  } else if (c.name == "sequential_warmup_cosine") {
    // Constructed in the fixture script's order: each constructor sets rates, as in PyTorch.
    scheduler = std::make_unique<SequentialLR>(
        optimizer,
        parts(new LinearLR(optimizer, 0.1, 1, 5), new CosineAnnealingLR(optimizer, 20, 0.001)),
        std::vector<int64_t>{5});
  } else if (c.name == "sequential_three") {
    scheduler = std::make_unique<SequentialLR>(
        optimizer,
        parts(new ConstantLR(optimizer, 0.5, 3), new ExponentialLR(optimizer, 0.9),
              new MultiStepLR(optimizer, {3, 8}, 0.5)),
        std::vector<int64_t>{4, 20});
  } else if (c.name == "chained_constant_exponential") {
    scheduler = std::make_unique<ChainedScheduler>(
        parts(new ConstantLR(optimizer, 0.1, 2), new ExponentialLR(optimizer, 0.9)));
  } else if (c.name == "chained_linear_step") {
    scheduler = std::make_unique<ChainedScheduler>(parts(new LinearLR(optimizer, 0.25, 1, 8),
                                                         new StepLR(optimizer, 10, 0.5),
                                                         new CosineAnnealingLR(optimizer, 15)));
  } else {
    REQUIRE(c.name.rfind("cosine_warm_restarts", 0) == 0);
    scheduler = std::make_unique<CosineAnnealingWarmRestarts>(
        optimizer, count("T_0"), count("T_mult"), c.option("eta_min", 0));
  }
  std::vector<double> lrs;
  for (int epoch = 0; epoch < 50; ++epoch) {
    scheduler->step();
    lrs.push_back(optimizer.lr());
  }
  return lrs;
}

std::vector<double> run_plateau(const tg::testing::FixtureCase& c) {
  using Options = ReduceLROnPlateauOptions;
  tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
  SGD optimizer({p}, {.lr = 0.1});
  Options options;
  if (c.name == "plateau_min") options = {.factor = 0.5, .patience = 3};
  if (c.name == "plateau_cooldown_abs") {
    options = {.factor = 0.3,
               .patience = 2,
               .threshold = 0.01,
               .threshold_mode = Options::ThresholdMode::Abs,
               .cooldown = 4,
               .min_lr = 0.002};
  }
  if (c.name == "plateau_max") options = {.mode = Options::Mode::Max, .factor = 0.5, .patience = 2};
  ReduceLROnPlateau scheduler(optimizer, options);
  std::vector<double> lrs;
  for (double metric : c.at("metric").to_vector<double>()) {
    scheduler.step(metric);
    lrs.push_back(optimizer.lr());
  }
  return lrs;
}

struct Sequences {
  std::vector<double> lrs, momenta;
};

// The fixture script's three OneCycleLR runs (50 steps of 50).
Sequences run_one_cycle(const tg::testing::FixtureCase& c) {
  tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<OneCycleLR> scheduler;
  const char* momentum = nullptr;
  if (c.name == "one_cycle_momentum") {
    optimizer =
        std::make_unique<Momentum>(std::vector{p}, MomentumOptions{.lr = 0.1, .momentum = 0.9});
    scheduler = std::make_unique<OneCycleLR>(*optimizer, 1.0, 50);
    momentum = "momentum";
  } else if (c.name == "one_cycle_adam_linear_three_phase") {
    optimizer = std::make_unique<Adam>(std::vector{p}, AdamOptions{.lr = 0.01});
    scheduler = std::make_unique<OneCycleLR>(
        *optimizer, 0.02, 50,
        OneCycleLROptions{.pct_start = 0.25,
                          .anneal_strategy = OneCycleLROptions::Anneal::Linear,
                          .base_momentum = 0.8,
                          .max_momentum = 0.9,
                          .div_factor = 10,
                          .final_div_factor = 100,
                          .three_phase = true});
    momentum = "beta1";
  } else {
    REQUIRE(c.name == "one_cycle_adagrad_no_momentum");
    optimizer = std::make_unique<Adagrad>(std::vector{p}, AdagradOptions{.lr = 0.01});
    scheduler = std::make_unique<OneCycleLR>(
        *optimizer, 0.5, 50, OneCycleLROptions{.pct_start = 0.4, .cycle_momentum = false});
  }
  Sequences out;
  for (int step = 0; step < 50; ++step) {
    scheduler->step();
    out.lrs.push_back(optimizer->lr());
    if (momentum) out.momenta.push_back(*optimizer->group_option(0, momentum));
  }
  CHECK_TG_ERROR(scheduler->step(), "OneCycleLR: tried to step 52 times");
  return out;
}

void check_sequence(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t e = 0; e < expected.size(); ++e) {
    INFO("epoch " << e + 1);
    CHECK(actual[e] == Approx(expected[e]).epsilon(1e-14).margin(1e-17));
  }
}

}  // namespace

TEST_CASE("OneCycleLR gives PyTorch's rates and momenta", "[optim][scheduler]") {
  int seen = 0;
  for (const auto& c : tg::testing::read_fixture("schedulers.txt")) {
    if (c.name.rfind("one_cycle", 0) != 0) continue;
    ++seen;
    DYNAMIC_SECTION(c.name) {
      const Sequences run = run_one_cycle(c);
      std::vector<double> lrs = c.at("lr").to_vector<double>();
      if (c.name == "one_cycle_adam_linear_three_phase") {
        // PyTorch's extrapolated rate past the last step is negative; ours holds min_lr.
        CHECK(lrs.back() < 0);
        lrs.back() = 0.02 / 10 / 100;
      }
      check_sequence(run.lrs, lrs);
      if (c.tensors.count("momentum"))
        check_sequence(run.momenta, c.at("momentum").to_vector<double>());
    }
  }
  CHECK(seen == 3);
  tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
  {  // resumed from the scheduler's and the optimizer's saved state, it goes on identically
    Momentum first({p}, {.lr = 0.1, .momentum = 0.9});
    OneCycleLR schedule(first, 1.0, 30);
    for (int i = 0; i < 12; ++i) schedule.step();
    const StateDict saved_schedule = schedule.state_dict(), saved_optimizer = first.state_dict();
    Momentum second({p}, {.lr = 0.1, .momentum = 0.9});
    OneCycleLR resumed(second, 1.0, 30);
    second.load_state_dict(saved_optimizer);
    resumed.load_state_dict(saved_schedule);
    for (int i = 0; i < 10; ++i) {
      schedule.step();
      resumed.step();
      CHECK(second.lr() == first.lr());
      CHECK(*second.group_option(0, "momentum") == *first.group_option(0, "momentum"));
    }
  }
  SGD sgd({p}, {.lr = 0.1});
  CHECK_TG_ERROR(OneCycleLR(sgd, 1, 10), "OneCycleLR: SGD has no momentum or beta1 option");
  CHECK_TG_ERROR(OneCycleLR(sgd, 1, 0, {.cycle_momentum = false}), "invalid total_steps: 0");
  CHECK_TG_ERROR(OneCycleLR(sgd, 1, 5, {.pct_start = 1.5, .cycle_momentum = false}),
                 "invalid pct_start: 1.5");
  CHECK_TG_ERROR(sgd.set_group_option(0, "momentum", 0.9),
                 "SGD.set_group_option: no numeric option 'momentum'");
}

TEST_CASE("schedulers give PyTorch's learning-rate sequences", "[optim][scheduler]") {
  for (const auto& c : tg::testing::read_fixture("schedulers.txt")) {
    if (c.name.rfind("one_cycle", 0) == 0) continue;  // the test above
    DYNAMIC_SECTION(c.name) {
      const std::vector<double> expected = c.at("lr").to_vector<double>();
      const std::vector<double> actual =
          c.name.rfind("plateau", 0) == 0 ? run_plateau(c) : run_epoch_scheduler(c);
      REQUIRE(actual.size() == expected.size());
      for (size_t e = 0; e < expected.size(); ++e) {
        INFO("epoch " << e + 1);
        CHECK(actual[e] == Approx(expected[e]).epsilon(1e-14).margin(1e-17));
      }
    }
  }
}

TEST_CASE("schedulers reject invalid settings and restore their state", "[optim][scheduler]") {
  tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
  SGD optimizer({p}, {.lr = 0.1});
  CHECK_TG_ERROR(StepLR(optimizer, 0), "StepLR: invalid step_size: 0");
  CHECK_TG_ERROR(CosineAnnealingLR(optimizer, -1), "CosineAnnealingLR: invalid T_max: -1");
  CHECK_TG_ERROR(ReduceLROnPlateau(optimizer, {.factor = 1.5}), "invalid factor: 1.5");
  CHECK_TG_ERROR(LambdaLR(optimizer, {}), "LambdaLR: the lambda is empty");
  CHECK_TG_ERROR(MultiStepLR(optimizer, {3}, 0), "MultiStepLR: invalid gamma: 0");
  CHECK_TG_ERROR(LinearLR(optimizer, 0), "LinearLR: invalid start_factor: 0");
  CHECK_TG_ERROR(LinearLR(optimizer, 0.5, 1.5), "LinearLR: invalid end_factor: 1.5");
  CHECK_TG_ERROR(LinearLR(optimizer, 0.5, 1, 0), "LinearLR: invalid total_iters: 0");
  CHECK_TG_ERROR(CosineAnnealingWarmRestarts(optimizer, 0), "invalid T_0: 0");
  CHECK_TG_ERROR(CosineAnnealingWarmRestarts(optimizer, 5, 0), "invalid T_mult: 0");
  CHECK_TG_ERROR(ConstantLR(optimizer, 0), "ConstantLR: invalid factor: 0");
  CHECK_TG_ERROR(ChainedScheduler({}), "ChainedScheduler: expected at least one scheduler");
  {
    StepLR a(optimizer, 3);
    CHECK_TG_ERROR(SequentialLR(optimizer, {&a}, {2}), "one milestone fewer than schedulers");
    SGD other({p}, {.lr = 0.1});
    StepLR b(other, 3);
    CHECK_TG_ERROR(SequentialLR(optimizer, {&a, &b}, {2}),
                   "SequentialLR: scheduler 1 belongs to another optimizer");
    CHECK_TG_ERROR(ChainedScheduler({&a, &b}), "ChainedScheduler: scheduler 1 belongs");
  }
  CHECK(optimizer.lr() == 0.1);  // a rejected scheduler leaves the rate alone

  CosineAnnealingLR first(optimizer, 10);
  for (int i = 0; i < 4; ++i) first.step();
  const StateDict saved = first.state_dict();
  const double lr_after_4 = optimizer.lr();
  first.step();
  const double lr_after_5 = optimizer.lr();
  optimizer.set_lr(lr_after_4);
  CosineAnnealingLR resumed(optimizer, 10);
  resumed.load_state_dict(saved);
  resumed.step();
  CHECK(optimizer.lr() == lr_after_5);
}

TEST_CASE("SequentialLR and ChainedScheduler resume from their saved state", "[optim][scheduler]") {
  // A warm-up, then cosine annealing (sequential) under a chained step decay; saved at epoch 7,
  // the resumed copy must set the same rates as the original from then on.
  struct Run {
    tg::Tensor p = tg::zeros({1}, {.requires_grad = true});
    SGD optimizer{{p}, {.lr = 0.1}};
    LinearLR warmup{optimizer, 0.1, 1, 4};
    CosineAnnealingLR cosine{optimizer, 10, 0.001};
    SequentialLR sequential{optimizer, {&warmup, &cosine}, {4}};
    StepLR decay{optimizer, 6, 0.5};
    ChainedScheduler chained{{&sequential, &decay}};
  };
  Run first;
  for (int e = 0; e < 7; ++e) first.chained.step();
  const StateDict saved = first.chained.state_dict();
  CHECK(saved.count("scheduler.0.scheduler.1.last_epoch") == 1);
  Run second;
  second.optimizer.set_lr(first.optimizer.lr());
  second.chained.load_state_dict(saved);
  for (int e = 0; e < 12; ++e) {
    first.chained.step();
    second.chained.step();
    CHECK(second.optimizer.lr() == first.optimizer.lr());
  }
  StateDict bad = saved;
  bad["scheduler.5.last_epoch"] = saved.at("last_epoch");
  CHECK_TG_ERROR(second.chained.load_state_dict(bad), "names scheduler 5 of 2");
  // A state the second part rejects leaves the first part as it was, too.
  first.chained.step();  // a state one epoch on, so a partial load would show
  StateDict half = first.chained.state_dict();
  half.erase("scheduler.1.last_epoch");
  const StateDict kept = second.chained.state_dict();
  CHECK_THROWS_AS(second.chained.load_state_dict(half), tg::Error);
  CHECK(second.sequential.last_epoch() == kept.at("scheduler.0.last_epoch").item<double>());
}
