#pragma once

#include <tapegrad/nn/loss.hpp>
#include <tapegrad/tensor.hpp>

#include <functional>
#include <vector>

namespace tg::nn {

/// The loss of one shard of a batch: its rows of the inputs and targets in, a one-element loss
/// out, e.g. `[&](const Tensor& x, const Tensor& y) { return cross_entropy(model(x), y); }`.
using ShardLoss = std::function<Tensor(const Tensor& inputs, const Tensor& targets)>;

/// `loss(inputs, targets).backward()` with the batch split into one shard of consecutive rows
/// per 64 rows, at most 4 (a batch of 128 rows: 2 shards; of 256 or more: 4), shared among up to
/// that many of tg::num_threads() threads. Every parameter's grad() receives the whole batch's
/// gradient, the shards' gradients summed in shard order: the shards depend only on the batch,
/// so the bits are the same for every thread count, 1 included, run after run (they differ from
/// a plain backward()'s in the last bits, like any change of summation order). `reduction` says
/// how `loss` combines rows: Mean weights shard s by its share of the rows, Sum adds. Returns the
/// batch's loss, detached. A batch of fewer than 128 rows is one shard: exactly
/// `loss(inputs, targets)` and its backward.
///
/// Across the ranks of a tg::dist job (built with MPI, after tg::dist::init) every rank passes
/// the same whole batch and gets the same grad()s and loss: rank r of n computes shards
/// [S·r/n, S·(r+1)/n) of the S above, the shards' gradients are exchanged and added in shard
/// order, so the bits are still those of one process with one thread. Call it on every rank;
/// an error on one (a batch or parameter list that differs, a shard that throws) is a tg::Error
/// on all of them (docs/distributed.md).
///
/// `loss` runs on several threads at once: it may read the model (a Module's forward does) but
/// must not change shared state. The parameters must be leaves that require grad; one listed
/// twice (a weight tied between modules) gets its gradient once, as with backward().
Tensor data_parallel_backward(const std::vector<Tensor>& parameters, const Tensor& inputs,
                              const Tensor& targets, const ShardLoss& loss,
                              Reduction reduction = Reduction::Mean);

}  // namespace tg::nn
