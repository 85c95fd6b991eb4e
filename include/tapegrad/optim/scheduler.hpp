#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace tg::optim {

/// Base of the epoch-based schedulers: step() once per epoch, after the optimizer's steps.
/// Each scheduler updates the optimizer's group learning rates with PyTorch 1.13's recursive
/// ("chainable") formulas, so the numbers match torch.optim.lr_scheduler exactly. The
/// optimizer must outlive the scheduler.
class LRScheduler : public Stateful {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler();
  /// Advances one epoch and sets the new learning rates.
  virtual void step();
  /// Back to epoch 0, from the base rates (PyTorch's step(0): what SequentialLR does to the
  /// scheduler whose milestone has come).
  void restart();
  /// The learning rates set by the last step (or the initial ones).
  std::vector<double> get_last_lr() const;
  /// Epochs stepped so far.
  int64_t last_epoch() const { return last_epoch_; }
  /// The optimizer whose rates it sets.
  Optimizer& optimizer() const { return optimizer_; }
  /// last_epoch and base learning rates, for checkpoints.
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  /// The learning rates for epoch last_epoch_, computed from the current ones.
  virtual std::vector<double> get_lr() const = 0;
  /// Sets epoch 0's learning rates, for schedulers whose first rate is not the base rate
  /// (PyTorch's constructor steps once); called by their constructors.
  void apply_initial_lr();

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = 0;
};

/// Multiplies the learning rate by gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  int64_t step_size_;
  double gamma_;
};

/// Multiplies the learning rate by gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 private:
  std::vector<double> get_lr() const override;
  double gamma_;
};

/// Cosine annealing from the base rate to eta_min over T_max epochs (then back up, periodically).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

 private:
  std::vector<double> get_lr() const override;
  int64_t T_max_;
  double eta_min_;
};

/// Sets the learning rate to base_lr · fn(epoch).
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> fn);

 private:
  std::vector<double> get_lr() const override;
  std::function<double(int64_t)> fn_;
};

/// Multiplies the learning rate by gamma at each milestone epoch (a milestone listed twice
/// multiplies twice).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

/// Scales the learning rate linearly from start_factor·base to end_factor·base over
/// total_iters epochs, then keeps it (a warm-up).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1,
           int64_t total_iters = 5);

 private:
  std::vector<double> get_lr() const override;
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

/// The rate times factor for the first total_iters epochs, then the rate itself (a constant
/// warm-up; PyTorch's ConstantLR).
class ConstantLR : public LRScheduler {
 public:
  explicit ConstantLR(Optimizer& optimizer, double factor = 1.0 / 3, int64_t total_iters = 5);

 private:
  std::vector<double> get_lr() const override;
  double factor_;
  int64_t total_iters_;
};

/// Cosine annealing from the base rate to eta_min over T_i epochs, then a restart at the base
/// rate; T_0 for the first cycle, each next one T_mult times longer (SGDR, Loshchilov and
/// Hutter, 2017).
class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(Optimizer& optimizer, int64_t T_0, int64_t T_mult = 1,
                              double eta_min = 0);

 private:
  std::vector<double> get_lr() const override;
  int64_t T_0_, T_mult_;
  double eta_min_;
};

/// Options of OneCycleLR beyond max_lr and total_steps; defaults are PyTorch's.
struct OneCycleLROptions {
  enum class Anneal { Cos, Linear };
  double pct_start = 0.3;  ///< share of the steps spent raising the rate
  Anneal anneal_strategy = Anneal::Cos;
  bool cycle_momentum = true;  ///< the optimizer's momentum (or beta1) moves opposite the rate
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;         ///< initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;  ///< min_lr = initial_lr / final_div_factor
  bool three_phase = false;       ///< back down to initial_lr, then to min_lr
};

/// The 1cycle policy (Smith and Topin, 2017): the rate rises from max_lr/div_factor to max_lr
/// over pct_start of total_steps and anneals to min_lr by the end, the momentum doing the
/// opposite. Step it after every batch, at most total_steps times. With cycle_momentum the
/// optimizer needs a "momentum" option (Momentum, RMSProp) or a "beta1" (the Adam family).
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
             OneCycleLROptions options = {});

 private:
  std::vector<double> get_lr() const override;
  double anneal(double start, double end, double pct) const;
  double max_lr_, initial_lr_, min_lr_;
  int64_t total_steps_;
  OneCycleLROptions options_;
  const char* momentum_name_ = nullptr;  // "momentum" or "beta1" when cycling
};

/// A scheduler made of schedulers that share its optimizer and outlive it (held by pointer).
/// Its state is its own epoch and every part's state under "scheduler.<i>.".
class CompositeScheduler : public LRScheduler {
 public:
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  CompositeScheduler(const char* name, Optimizer& optimizer, std::vector<LRScheduler*> parts);
  std::vector<double> get_lr() const override;  // the parts set the rates
  const char* name_;
  std::vector<LRScheduler*> parts_;
};

/// Runs schedulers one after another: schedulers[i] from milestones[i - 1] on, restarted at
/// its milestone (PyTorch's SequentialLR, e.g. a LinearLR warm-up, then CosineAnnealingLR).
class SequentialLR : public CompositeScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<LRScheduler*> schedulers,
               std::vector<int64_t> milestones);
  void step() override;

 private:
  std::vector<int64_t> milestones_;
};

/// Steps every scheduler, in order, at each step: their recursive factors multiply (PyTorch's
/// ChainedScheduler, e.g. a ConstantLR warm-up on top of ExponentialLR).
class ChainedScheduler : public CompositeScheduler {
 public:
  explicit ChainedScheduler(std::vector<LRScheduler*> schedulers);
  void step() override;
};

/// Options of ReduceLROnPlateau; defaults are PyTorch's.
struct ReduceLROnPlateauOptions {
  enum class Mode { Min, Max };
  enum class ThresholdMode { Rel, Abs };
  Mode mode = Mode::Min;
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;
};

/// Cuts the learning rate by `factor` when a metric stops improving for `patience` epochs.
class ReduceLROnPlateau : public Stateful {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  /// Records this epoch's metric (e.g. validation loss) and reduces the rates if it stalled.
  void step(double metric);
  std::vector<double> get_last_lr() const;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 private:
  bool is_better(double metric) const;
  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
};

}  // namespace tg::optim
