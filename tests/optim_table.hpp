// The one table of every optimizer, which the shared tests iterate (test_optim_table.cpp,
// test_optim_parity.cpp, test_checkpoint.cpp, test_cpu_levels.cpp). Adding an optimizer adds
// one row here and one block in fixtures/make_optim_fixtures.py.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include "fixture.hpp"

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tg::testing {

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

/// One optimizer: two configurations that differ in every option, and the fixture reader.
struct OptimizerRow {
  std::string name;          // its kName, also the fixture cases' "kind"
  MakeOptimizer configured;  // every option away from its default (state-adding ones on)
  MakeOptimizer defaults;    // torch's defaults (SGD and Momentum: an lr, which has none)
  // The optimizer with a fixture case's options: each 'option NAME VALUE' sets that field of
  // Options{} (tapegrad's defaults, torch's except Momentum's momentum, which every case sets).
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>, const FixtureCase&)>
      from_fixture;
  // Every listed field of `configured` and `defaults`, as doubles, in list order.
  std::function<std::vector<std::pair<std::string, double>>(bool configured)> fields;
  // load_state_dict of a `configured` optimizer's state into a `defaults` one gives options
  // equal (operator==) to `configured`: fails when a field is missing from the field list.
  std::function<bool()> round_trip_restores_options;
  // Each Float64 option set to NaN in turn: the error message constructing with it (empty if
  // none), by option name.
  std::function<std::vector<std::pair<std::string, std::string>>()> nan_option_errors;
};

namespace detail_table {

template <class Options>
std::vector<std::pair<std::string, double>> field_values(Options options) {
  std::vector<std::pair<std::string, double>> out;
  options.for_each_field([&](const char* name, auto& value) {
    out.emplace_back(name, optim::detail::field_value(value));
  });
  return out;
}

template <class Options>
Options from_case(Options options, const FixtureCase& c) {
  options.for_each_field([&](const char* name, auto& value) {
    using T = std::remove_reference_t<decltype(value)>;
    if (c.options.count(name) == 0) return;
    const double given = c.option(name, 0);
    if constexpr (std::is_enum_v<T>) {
      value = static_cast<T>(static_cast<int64_t>(given));
    } else {
      value = static_cast<T>(given);
    }
  });
  return options;
}

// A few closure steps on L = Σ cᵢ·pᵢ²/2 + bᵢ·pᵢ, so that every buffer is allocated.
inline void train_bowl(optim::Optimizer& optimizer, Tensor& p, int steps) {
  const Tensor c = tensor({0.5, 2.0, 8.0, 0.1, 1.0}, {5}, {.dtype = Dtype::Float64});
  const Tensor b = tensor({0.3, -1.0, 0.2, 0.05, -0.4}, {5}, {.dtype = Dtype::Float64});
  for (int s = 0; s < steps; ++s) {
    optimizer.step([&] {
      optimizer.zero_grad();
      Tensor loss = tg::sum(c * p * p / 2.0 + b * p);
      loss.backward();
      return loss;
    });
  }
}

inline Tensor bowl_start() {
  return tensor({1.0, -0.5, 0.25, 2.0, -1.5}, {5},
                {.dtype = Dtype::Float64, .requires_grad = true});
}

template <class Opt, class Options>
bool round_trip(const Options& configured, const Options& defaults) {
  Tensor p = bowl_start();
  Opt source({p}, configured);
  train_bowl(source, p, 3);
  Tensor q = bowl_start();
  Opt target({q}, defaults);
  target.load_state_dict(source.state_dict());
  return target.options() == configured && target.describe() == source.describe();
}

template <class Opt, class Options>
std::vector<std::pair<std::string, std::string>> nan_errors(const Options& valid) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> names;
  Options probe = valid;
  probe.for_each_field([&](const char* name, auto& value) {
    if constexpr (std::is_same_v<std::remove_reference_t<decltype(value)>, double>) {
      names.push_back(name);
    }
  });
  for (const std::string& target : names) {
    Options bad = valid;
    bad.for_each_field([&](const char* name, auto& value) {
      if constexpr (std::is_same_v<std::remove_reference_t<decltype(value)>, double>) {
        if (target == name) value = std::numeric_limits<double>::quiet_NaN();
      }
    });
    std::string message;
    try {
      Opt({zeros({2}, {.requires_grad = true})}, bad);
    } catch (const Error& e) {
      message = e.what();
    }
    out.emplace_back(target, message);
  }
  return out;
}

}  // namespace detail_table

/// The row of optimizer Opt, from its two configurations.
template <class Opt>
OptimizerRow row(typename Opt::options_type configured, typename Opt::options_type defaults) {
  using Options = typename Opt::options_type;
  const auto make = [](Options options) -> MakeOptimizer {
    return [options](std::vector<Tensor> params) {
      return std::make_unique<Opt>(std::move(params), options);
    };
  };
  return {
      .name = Options::kName,
      .configured = make(configured),
      .defaults = make(defaults),
      .from_fixture =
          [](std::vector<Tensor> params, const FixtureCase& c) {
            return std::make_unique<Opt>(std::move(params), detail_table::from_case(Options{}, c));
          },
      .fields =
          [=](bool which) { return detail_table::field_values(which ? configured : defaults); },
      .round_trip_restores_options =
          [=] { return detail_table::round_trip<Opt>(configured, defaults); },
      .nan_option_errors = [=] { return detail_table::nan_errors<Opt>(defaults); },
  };
}

/// Every optimizer.
inline std::vector<OptimizerRow> every_optimizer() {
  using namespace optim;
  return {
      row<SGD>({.lr = 0.05, .weight_decay = 1e-3}, {.lr = 0.1}),
      row<Momentum>(
          {.lr = 0.05, .momentum = 0.8, .dampening = 0, .nesterov = true, .weight_decay = 1e-3},
          {.lr = 0.1, .dampening = 0.2}),
      row<Adagrad>({.lr = 0.05,
                    .lr_decay = 1e-3,
                    .weight_decay = 1e-3,
                    .initial_accumulator_value = 0.1,
                    .eps = 1e-9},
                   {}),
      row<RMSProp>({.lr = 2e-2,
                    .alpha = 0.9,
                    .eps = 1e-7,
                    .weight_decay = 1e-3,
                    .momentum = 0.5,
                    .centered = true,
                    .eps_inside_sqrt = true,
                    .initial_square_avg = 0.1,
                    .lr_in_momentum = true,
                    .clamp_variance = true},
                   {}),
      row<Adam>(
          {.lr = 1e-2, .betas = {0.8, 0.99}, .eps = 1e-6, .weight_decay = 1e-2, .amsgrad = true},
          {}),
      row<AdamW>(
          {.lr = 1e-2, .betas = {0.8, 0.99}, .eps = 1e-6, .weight_decay = 0.05, .amsgrad = true},
          {}),
      row<Adadelta>({.lr = 0.5, .rho = 0.8, .eps = 1e-5, .weight_decay = 1e-3, .maximize = true},
                    {}),
      row<Adamax>(
          {.lr = 1e-2, .betas = {0.8, 0.99}, .eps = 1e-6, .weight_decay = 1e-3, .maximize = true},
          {}),
      row<NAdam>({.lr = 1e-2,
                  .betas = {0.8, 0.99},
                  .eps = 1e-6,
                  .weight_decay = 1e-3,
                  .momentum_decay = 1e-2},
                 {}),
      row<RAdam>({.lr = 1e-2, .betas = {0.8, 0.99}, .eps = 1e-6, .weight_decay = 1e-3}, {}),
      row<LBFGS>({.lr = 0.5,
                  .max_iter = 5,
                  .max_eval = 7,
                  .tolerance_grad = 1e-6,
                  .tolerance_change = 1e-8,
                  .history_size = 4,
                  .line_search_fn = LineSearch::StrongWolfe},
                 {}),
  };
}

}  // namespace tg::testing
