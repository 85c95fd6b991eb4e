// Schedulers made of schedulers: SequentialLR and ChainedScheduler, after
// torch/optim/lr_scheduler.py (1.13).

#include <tapegrad/optim/scheduler.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

namespace tg::optim {
namespace {

void check_shared_optimizer(const char* op, const Optimizer& optimizer,
                            const std::vector<LRScheduler*>& schedulers) {
  if (schedulers.empty()) fail("{}: expected at least one scheduler, got none", op);
  for (size_t i = 0; i < schedulers.size(); ++i) {
    if (schedulers[i] == nullptr) fail("{}: scheduler {} is null", op, i);
    if (&schedulers[i]->optimizer() != &optimizer)
      fail("{}: scheduler {} belongs to another optimizer than scheduler 0", op, i);
  }
}

Optimizer& optimizer_of_first(const std::vector<LRScheduler*>& schedulers) {
  if (schedulers.empty() || schedulers[0] == nullptr)
    fail("ChainedScheduler: expected at least one scheduler, got none");
  return schedulers[0]->optimizer();
}

// Each scheduler's state under "scheduler.<i>.", beside `own`.
StateDict nest(StateDict own, const std::vector<LRScheduler*>& schedulers) {
  for (size_t i = 0; i < schedulers.size(); ++i) {
    for (auto& [key, value] : schedulers[i]->state_dict())
      own[fmt::format("scheduler.{}.{}", i, key)] = value;
  }
  return own;
}

// The inverse of nest: each scheduler loads its part (checking it); what is left is returned.
StateDict unnest(const char* op, const StateDict& state,
                 const std::vector<LRScheduler*>& schedulers) {
  std::vector<StateDict> parts(schedulers.size());
  StateDict own;
  for (const auto& [key, value] : state) {
    size_t i = 0;
    int end = 0;
    if (key.rfind("scheduler.", 0) == 0 &&
        std::sscanf(key.c_str(), "scheduler.%zu.%n", &i, &end) == 1 && end > 0) {
      if (i >= schedulers.size())
        fail("{}.load_state_dict: '{}' names scheduler {} of {}", op, key, i, schedulers.size());
      parts[i][key.substr(static_cast<size_t>(end))] = value;
    } else {
      own[key] = value;
    }
  }
  for (size_t i = 0; i < schedulers.size(); ++i) schedulers[i]->load_state_dict(parts[i]);
  return own;
}

}  // namespace

CompositeScheduler::CompositeScheduler(const char* name, Optimizer& optimizer,
                                       std::vector<LRScheduler*> parts)
    : LRScheduler(optimizer), name_(name), parts_(std::move(parts)) {
  check_shared_optimizer(name, optimizer, parts_);
}

std::vector<double> CompositeScheduler::get_lr() const { return optimizer_.group_lrs(); }

StateDict CompositeScheduler::state_dict() const { return nest(LRScheduler::state_dict(), parts_); }

// All or nothing: a part that rejects its state (or the composite's own check failing after
// the parts loaded) puts back every part's state as it was, as a rejected checkpoint must.
void CompositeScheduler::load_state_dict(const StateDict& state) {
  std::vector<StateDict> before;
  for (const LRScheduler* part : parts_) before.push_back(part->state_dict());
  try {
    LRScheduler::load_state_dict(unnest(name_, state, parts_));
  } catch (...) {
    for (size_t i = 0; i < parts_.size(); ++i) parts_[i]->load_state_dict(before[i]);
    throw;
  }
}

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<LRScheduler*> schedulers,
                           std::vector<int64_t> milestones)
    : CompositeScheduler("SequentialLR", optimizer, std::move(schedulers)),
      milestones_(std::move(milestones)) {
  if (milestones_.size() + 1 != parts_.size()) {
    fail(
        "SequentialLR: expected one milestone fewer than schedulers, got {} schedulers and {} "
        "milestones",
        parts_.size(), milestones_.size());
  }
  if (!std::is_sorted(milestones_.begin(), milestones_.end()))
    fail("SequentialLR: milestones must be in increasing order");
  // PyTorch resets every rate to initial_lr and runs the first scheduler's epoch 0 again.
  parts_[0]->restart();
}

// The scheduler of this epoch (bisect_right over the milestones) steps, or starts at its
// milestone.
void SequentialLR::step() {
  ++last_epoch_;
  const auto index = static_cast<size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin());
  if (index > 0 && milestones_[index - 1] == last_epoch_) {
    parts_[index]->restart();
  } else {
    parts_[index]->step();
  }
}

ChainedScheduler::ChainedScheduler(std::vector<LRScheduler*> schedulers)
    // A copy, not a move: the optimizer is read from the list in the same argument list.
    : CompositeScheduler("ChainedScheduler", optimizer_of_first(schedulers), schedulers) {}

void ChainedScheduler::step() {
  ++last_epoch_;
  for (LRScheduler* scheduler : parts_) scheduler->step();
}

}  // namespace tg::optim
