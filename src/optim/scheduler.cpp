// Learning-rate schedulers: torch/optim/lr_scheduler.py (1.13), recursive forms.

#include <tapegrad/optim/scheduler.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <set>
#include <string>

namespace tg::optim {
namespace {

Tensor scalar(double value) { return full({}, value, {.dtype = Dtype::Float64}); }

// Python's a % m for m > 0: never negative.
int64_t python_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  base_lrs_ = optimizer_.initial_lrs();
}

LRScheduler::~LRScheduler() = default;

void LRScheduler::step() {
  ++last_epoch_;
  const std::vector<double> lrs = get_lr();
  for (size_t g = 0; g < lrs.size(); ++g) optimizer_.set_group_lr(g, lrs[g]);
}

void LRScheduler::restart() {
  last_epoch_ = 0;
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_group_lr(g, base_lrs_[g]);
  apply_initial_lr();
}

void LRScheduler::apply_initial_lr() {
  const std::vector<double> lrs = get_lr();
  for (size_t g = 0; g < lrs.size(); ++g) optimizer_.set_group_lr(g, lrs[g]);
}

std::vector<double> LRScheduler::get_last_lr() const { return optimizer_.group_lrs(); }

StateDict LRScheduler::state_dict() const {
  StateDict out{{"last_epoch", scalar(static_cast<double>(last_epoch_))}};
  for (size_t g = 0; g < base_lrs_.size(); ++g)
    out[fmt::format("base_lr.{}", g)] = scalar(base_lrs_[g]);
  return out;
}

void LRScheduler::load_state_dict(const StateDict& state) {
  std::set<std::string> known{"last_epoch"};
  std::vector<double> base(base_lrs_.size());
  for (size_t g = 0; g < base.size(); ++g) {
    const std::string key = *known.insert(fmt::format("base_lr.{}", g)).first;
    base[g] = detail::read_scalar(state, key);
    if (!(std::isfinite(base[g]) && base[g] >= 0))
      fail("LRScheduler.load_state_dict: '{}' = {} is not a learning rate", key, base[g]);
  }
  const int64_t last_epoch = detail::read_count(state, "last_epoch");
  detail::check_known_keys("LRScheduler.load_state_dict", state, known);
  last_epoch_ = last_epoch;
  base_lrs_ = base;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (!(gamma > 0 && std::isfinite(gamma)))
    fail("StepLR: invalid gamma: {} (expected gamma > 0)", gamma);
  if (step_size <= 0) fail("StepLR: invalid step_size: {} (expected step_size > 0)", step_size);
}

// lr ← lr·γ when the epoch is a multiple of step_size.
std::vector<double> StepLR::get_lr() const {
  std::vector<double> lrs = optimizer_.group_lrs();
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  // A negative factor would make the learning rate negative; PyTorch does not check.
  if (!(gamma > 0 && std::isfinite(gamma)))
    fail("ExponentialLR: invalid gamma: {} (expected gamma > 0)", gamma);
}

// lr ← lr·γ every epoch.
std::vector<double> ExponentialLR::get_lr() const {
  std::vector<double> lrs = optimizer_.group_lrs();
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  if (T_max <= 0) fail("CosineAnnealingLR: invalid T_max: {} (expected T_max > 0)", T_max);
}

// Recursive form of η_t = η_min + (η_0 − η_min)(1 + cos(πt/T))/2:
//   η_t = (1 + cos(πt/T)) / (1 + cos(π(t−1)/T)) · (η_{t−1} − η_min) + η_min,
// with the restart step (t − 1 − T) mod 2T = 0 written additively, as PyTorch does.
std::vector<double> CosineAnnealingLR::get_lr() const {
  const double pi = std::numbers::pi;
  const auto t = static_cast<double>(last_epoch_);
  const auto T = static_cast<double>(T_max_);
  std::vector<double> lrs = optimizer_.group_lrs();
  if (last_epoch_ == 0) return lrs;
  for (size_t g = 0; g < lrs.size(); ++g) {
    if (python_mod(last_epoch_ - 1 - T_max_, 2 * T_max_) == 0) {
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    } else {
      lrs[g] = (1 + std::cos(pi * t / T)) / (1 + std::cos(pi * (t - 1) / T)) * (lrs[g] - eta_min_) +
               eta_min_;
    }
  }
  return lrs;
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> fn)
    : LRScheduler(optimizer), fn_(std::move(fn)) {
  if (!fn_) fail("LambdaLR: the lambda is empty");
  apply_initial_lr();
}

// lr = base_lr·λ(epoch), a closed form in PyTorch too.
std::vector<double> LambdaLR::get_lr() const {
  std::vector<double> lrs = base_lrs_;
  const double factor = fn_(last_epoch_);
  for (double& lr : lrs) lr *= factor;
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  if (!(gamma > 0 && std::isfinite(gamma)))
    fail("MultiStepLR: invalid gamma: {} (expected gamma > 0)", gamma);
  std::sort(milestones_.begin(), milestones_.end());
  apply_initial_lr();  // a milestone 0 applies at once, as in PyTorch
}

// lr ← lr·γ^k at an epoch listed k times among the milestones (PyTorch's Counter).
std::vector<double> MultiStepLR::get_lr() const {
  std::vector<double> lrs = optimizer_.group_lrs();
  const auto k = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  if (k == 0) return lrs;
  const double factor = std::pow(gamma_, static_cast<double>(k));
  for (double& lr : lrs) lr *= factor;
  return lrs;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   int64_t total_iters)
    : LRScheduler(optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1))
    fail("LinearLR: invalid start_factor: {} (expected 0 < start_factor <= 1)", start_factor);
  if (!(end_factor >= 0 && end_factor <= 1))
    fail("LinearLR: invalid end_factor: {} (expected 0 <= end_factor <= 1)", end_factor);
  if (total_iters <= 0)
    fail("LinearLR: invalid total_iters: {} (expected total_iters > 0)", total_iters);
  apply_initial_lr();
}

// PyTorch's recursive form: lr·start at epoch 0, then each epoch ≤ total_iters
//   lr ← lr·(1 + (end − start) / (total·start + (t − 1)(end − start))).
std::vector<double> LinearLR::get_lr() const {
  std::vector<double> lrs = optimizer_.group_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= start_factor_;
  } else if (last_epoch_ <= total_iters_) {
    const double change = end_factor_ - start_factor_;
    const double factor = 1 + change / (static_cast<double>(total_iters_) * start_factor_ +
                                        static_cast<double>(last_epoch_ - 1) * change);
    for (double& lr : lrs) lr *= factor;
  }
  return lrs;
}

ConstantLR::ConstantLR(Optimizer& optimizer, double factor, int64_t total_iters)
    : LRScheduler(optimizer), factor_(factor), total_iters_(total_iters) {
  if (!(factor > 0 && factor <= 1))
    fail("ConstantLR: invalid factor: {} (expected 0 < factor <= 1)", factor);
  if (total_iters < 0)
    fail("ConstantLR: invalid total_iters: {} (expected total_iters >= 0)", total_iters);
  apply_initial_lr();
}

// PyTorch's recursive form: lr·factor at epoch 0, lr/factor at epoch total_iters.
std::vector<double> ConstantLR::get_lr() const {
  std::vector<double> lrs = optimizer_.group_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= factor_;
  } else if (last_epoch_ == total_iters_) {
    for (double& lr : lrs) lr *= 1.0 / factor_;
  }
  return lrs;
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t T_0,
                                                         int64_t T_mult, double eta_min)
    : LRScheduler(optimizer), T_0_(T_0), T_mult_(T_mult), eta_min_(eta_min) {
  if (T_0 <= 0) fail("CosineAnnealingWarmRestarts: invalid T_0: {} (expected T_0 > 0)", T_0);
  if (T_mult < 1)
    fail("CosineAnnealingWarmRestarts: invalid T_mult: {} (expected T_mult >= 1)", T_mult);
  apply_initial_lr();
}

// η = η_min + (η_base − η_min)(1 + cos(π·T_cur/T_i))/2, where T_cur counts the epochs since the
// last restart and T_i is the current cycle's length. PyTorch advances T_cur one epoch at a
// time; walking the cycles from epoch 0 gives the same T_cur and T_i, so no extra state.
std::vector<double> CosineAnnealingWarmRestarts::get_lr() const {
  int64_t T_cur = last_epoch_, T_i = T_0_;
  if (T_mult_ == 1) {
    T_cur %= T_0_;
  } else {
    while (T_cur >= T_i) {
      T_cur -= T_i;
      T_i *= T_mult_;
    }
  }
  std::vector<double> lrs = base_lrs_;
  const double cosine =
      std::cos(std::numbers::pi * static_cast<double>(T_cur) / static_cast<double>(T_i));
  for (double& lr : lrs) lr = eta_min_ + (lr - eta_min_) * (1 + cosine) / 2;
  return lrs;
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
                       OneCycleLROptions options)
    : LRScheduler(optimizer),
      max_lr_(max_lr),
      initial_lr_(max_lr / options.div_factor),
      min_lr_(initial_lr_ / options.final_div_factor),
      total_steps_(total_steps),
      options_(options) {
  if (total_steps <= 0)
    fail("OneCycleLR: invalid total_steps: {} (expected total_steps > 0)", total_steps);
  if (!(options.pct_start >= 0 && options.pct_start <= 1))
    fail("OneCycleLR: invalid pct_start: {} (expected 0 <= pct_start <= 1)", options.pct_start);
  if (options.cycle_momentum) {
    for (const char* name : {"momentum", "beta1"}) {
      if (!momentum_name_ && optimizer.group_option(0, name)) momentum_name_ = name;
    }
    if (!momentum_name_) {
      fail("OneCycleLR: {} has no momentum or beta1 option to cycle (set cycle_momentum = false)",
           optimizer.name());
    }
  }
  base_lrs_.assign(base_lrs_.size(), initial_lr_);  // PyTorch's group['initial_lr']
  optimizer.set_initial_lrs(base_lrs_);
  apply_initial_lr();
}

// PyTorch's _annealing_cos and _annealing_linear.
double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == OneCycleLROptions::Anneal::Linear) {
    return (end - start) * pct + start;
  }
  const double cos_out = std::cos(std::numbers::pi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

// The phase holding this step, and the position within it; the momentum is set here too (the
// optimizer is held by reference), as PyTorch's get_lr does.
std::vector<double> OneCycleLR::get_lr() const {
  if (last_epoch_ > total_steps_) {
    fail("OneCycleLR: tried to step {} times; the specified number of total steps is {}",
         last_epoch_ + 1, total_steps_);
  }
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };
  const double total = static_cast<double>(total_steps_), pct = options_.pct_start;
  const double low = options_.base_momentum, high = options_.max_momentum;
  std::vector<Phase> phases;
  if (options_.three_phase) {
    phases = {{pct * total - 1, initial_lr_, max_lr_, high, low},
              {2 * pct * total - 2, max_lr_, initial_lr_, low, high},
              {total - 1, initial_lr_, min_lr_, high, high}};
  } else {
    phases = {{pct * total - 1, initial_lr_, max_lr_, high, low},
              {total - 1, max_lr_, min_lr_, low, high}};
  }
  const auto step = static_cast<double>(last_epoch_);
  double start_step = 0, lr = 0, momentum = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& phase = phases[i];
    if (step <= phase.end_step || i + 1 == phases.size()) {
      double position = (step - start_step) / (phase.end_step - start_step);
      // PyTorch allows one step past the schedule (the rate after the last optimizer step,
      // never used by it) and extrapolates there; annealed linearly that rate is negative, which
      // every optimizer here rejects, so the linear schedule holds its end value instead.
      if (options_.anneal_strategy == OneCycleLROptions::Anneal::Linear)
        position = std::min(position, 1.0);
      lr = anneal(phase.start_lr, phase.end_lr, position);
      momentum = anneal(phase.start_momentum, phase.end_momentum, position);
      break;
    }
    start_step = phase.end_step;
  }
  if (momentum_name_) {
    for (size_t g = 0; g < optimizer_.param_group_count(); ++g) {
      optimizer_.set_group_option(g, momentum_name_, momentum);
    }
  }
  return std::vector<double>(optimizer_.param_group_count(), lr);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(options) {
  if (!(options.factor > 0 && options.factor < 1)) {
    fail("ReduceLROnPlateau: invalid factor: {} (expected 0 < factor < 1)", options.factor);
  }
  if (options.patience < 0 || options.cooldown < 0) {
    fail("ReduceLROnPlateau: patience ({}) and cooldown ({}) must be non-negative",
         options.patience, options.cooldown);
  }
  const double inf = std::numeric_limits<double>::infinity();
  best_ = options.mode == ReduceLROnPlateauOptions::Mode::Min ? inf : -inf;
}

bool ReduceLROnPlateau::is_better(double metric) const {
  using Options = ReduceLROnPlateauOptions;
  const bool relative = options_.threshold_mode == Options::ThresholdMode::Rel;
  if (options_.mode == Options::Mode::Min) {
    return relative ? metric < best_ * (1 - options_.threshold)
                    : metric < best_ - options_.threshold;
  }
  return relative ? metric > best_ * (options_.threshold + 1) : metric > best_ + options_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    for (size_t g = 0; g < optimizer_.param_group_count(); ++g) {
      const double old_lr = optimizer_.group_lr(g);
      const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
      if (old_lr - new_lr > options_.eps) optimizer_.set_group_lr(g, new_lr);
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
}

std::vector<double> ReduceLROnPlateau::get_last_lr() const { return optimizer_.group_lrs(); }

StateDict ReduceLROnPlateau::state_dict() const {
  return {{"best", scalar(best_)},
          {"num_bad_epochs", scalar(static_cast<double>(num_bad_epochs_))},
          {"cooldown_counter", scalar(static_cast<double>(cooldown_counter_))},
          {"last_epoch", scalar(static_cast<double>(last_epoch_))}};
}

void ReduceLROnPlateau::load_state_dict(const StateDict& state) {
  const double best = detail::read_scalar(state, "best");
  if (best != best) fail("ReduceLROnPlateau.load_state_dict: 'best' is NaN");
  const int64_t bad = detail::read_count(state, "num_bad_epochs");
  const int64_t cooldown = detail::read_count(state, "cooldown_counter");
  const int64_t last_epoch = detail::read_count(state, "last_epoch");
  detail::check_known_keys("ReduceLROnPlateau.load_state_dict", state,
                           {"best", "num_bad_epochs", "cooldown_counter", "last_epoch"});
  last_epoch_ = last_epoch;
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown;
}

}  // namespace tg::optim
