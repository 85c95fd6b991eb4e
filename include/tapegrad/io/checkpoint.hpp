#pragma once

#include <tapegrad/nn/module.hpp>
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/random.hpp>

#include <cstdint>
#include <filesystem>

namespace tg {

/// What a training checkpoint holds besides the model and the optimizer. save_checkpoint reads
/// it; load_checkpoint fills epoch and step and restores what the pointers point to.
struct CheckpointExtra {
  int64_t epoch = 0;                     // epochs completed
  int64_t step = 0;                      // optimizer steps taken
  optim::Stateful* scheduler = nullptr;  // a learning-rate scheduler, if the run has one
  Generator* generator = nullptr;        // e.g. &default_generator(), if the run draws from it
};

/// Writes one safetensors file holding the model's parameters ("model.NAME"), the optimizer's
/// complete state ("optimizer.KEY": options of every group, every per-parameter buffer, step
/// counts), the scheduler's and the generator's state and the epoch/step. Atomic, like save.
/// Across tg::dist ranks every rank calls it and rank 0 alone writes; a failed write is then a
/// tg::Error on every rank.
void save_checkpoint(const std::filesystem::path& path, const nn::Module& module,
                     const optim::Optimizer& optimizer, const CheckpointExtra& extra = {});

/// Restores everything save_checkpoint wrote. The file, the optimizer's algorithm, the
/// model's shapes, the optimizer's and scheduler's state and the presence of a scheduler and
/// generator are all checked first: on any error the module, optimizer, scheduler, generator
/// and `extra` are left untouched. Warns on stderr when the checkpoint was written by another
/// tapegrad version, OpenBLAS kernel or thread count, since the last bits of results may then
/// differ from an uninterrupted run. Across tg::dist ranks every rank calls it and reads `path`
/// itself; a rank that cannot (a bad file, a shape mismatch) or that read another state than
/// rank 0 makes it a tg::Error on every rank (the ranks that read it keep what they read).
void load_checkpoint(const std::filesystem::path& path, nn::Module& module,
                     optim::Optimizer& optimizer, CheckpointExtra& extra);

}  // namespace tg
