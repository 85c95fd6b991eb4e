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
  base_lrs_ = optimizer_.group_lrs();
}

LRScheduler::~LRScheduler() = default;

void LRScheduler::step() {
  ++last_epoch_;
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
