// Data parallelism for one training step. The batch is cut into a fixed number of shards of
// consecutive rows, whatever the thread count; each thread runs the forward and backward of a
// run of consecutive shards (tg::grad, so no thread writes a parameter's .grad()), then the
// calling thread sums the shards' gradients in shard order into each .grad(). The shards and the
// order of the sum depend only on the batch, so the bits are the same for every thread count.
// Every tensor a shard creates is also released on its thread (a second round of parts), so each
// thread's storage cache gets back the blocks it hands out instead of one thread's cache filling
// with another's.
//
// Across ranks (tg::dist, docs/distributed.md) the shards are the same: every rank holds the
// whole batch, computes the gradients of its run of consecutive shards, and one MPI_Allgatherv
// gives every rank every shard's gradients as flat blocks, which each rank then adds in shard
// order exactly as one process does: the bits are those of one process with one thread.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/data_parallel.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/threads.hpp>

#include "autograd/accumulate.hpp"
#include "dist/fingerprint.hpp"
#include "dist/gradient_blocks.hpp"
#include "dist/world.hpp"
#include "tensor/tensor_impl.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace tg::nn {
namespace {

// A batch is cut into one shard per kShardRows rows, at most kMaxShards: up to that many
// threads share a step. Every shard's GEMMs pack the whole weight matrix again (OpenBLAS), so
// shards much smaller than 64 rows cost more than a second thread gains (W1, batch 128: 4
// shards of 32 rows made an epoch 30% slower on one thread and 20% on two than 2 of 64).
constexpr int64_t kShardRows = 64;
constexpr int64_t kMaxShards = 4;

// Rows [begin, end) of a contiguous tensor, copied.
Tensor rows(const Tensor& source, int64_t begin, int64_t end) {
  Shape shape = source.shape();
  shape[0] = end - begin;
  Tensor out = make_tensor(shape, source.dtype());
  const size_t row_bytes =
      static_cast<size_t>(source.numel() / std::max<int64_t>(source.size(0), 1)) *
      dtype_size(source.dtype());
  std::memcpy(out.raw_data(), static_cast<const char*>(source.raw_data()) + begin * row_bytes,
              static_cast<size_t>(end - begin) * row_bytes);
  return out;
}

// What can be checked of a call before its shard count is known.
void check_batch(const Tensor& inputs, const Tensor& targets, Reduction reduction) {
  if (reduction == Reduction::None) {
    fail("data_parallel_backward: the loss must be reduced (Mean or Sum), got None");
  }
  if (inputs.dim() < 1 || targets.dim() < 1 || inputs.size(0) != targets.size(0)) {
    fail("data_parallel_backward: inputs {} and targets {} must have the same number of rows",
         shape_str(inputs.shape()), shape_str(targets.shape()));
  }
  if (!is_grad_enabled()) {
    fail("data_parallel_backward: grad mode is off (a NoGradGuard is active on this thread)");
  }
}

Tensor checked_loss(const ShardLoss& loss, const Tensor& inputs, const Tensor& targets) {
  Tensor value = loss(inputs, targets);
  if (!value.defined() || value.numel() != 1) {
    fail("data_parallel_backward: the loss must be one element, got {}",
         value.defined() ? shape_str(value.shape()) : std::string("an undefined tensor"));
  }
  return value;
}

// `parameters` without repeats (a tied weight is listed once per module that holds it, but
// its gradient must be added to its .grad() once), in first-seen order.
std::vector<Tensor> distinct(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> out;
  for (const Tensor& p : parameters) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const Tensor& q) {
      return q.shared_impl() == p.shared_impl();
    });
    if (!seen) out.push_back(p);
  }
  return out;
}

// What one shard leaves behind for the calling thread.
struct ShardResult {
  double loss = 0;            // already weighted
  std::vector<Tensor> grads;  // one per parameter, weighted; undefined when unused
  Dtype loss_dtype = Dtype::Float32;
  int64_t loss_dims = 0;
};

int shard_count(int64_t batch) {
  return static_cast<int>(std::clamp<int64_t>(batch / kShardRows, 1, kMaxShards));
}

void check_parameters(const std::vector<Tensor>& listed) {
  for (size_t i = 0; i < listed.size(); ++i) {
    if (!listed[i].defined() || !listed[i].is_leaf() || !listed[i].requires_grad()) {
      fail("data_parallel_backward: parameter {} is not a leaf tensor that requires grad", i);
    }
  }
}

// One batch cut into `count` shards, and how to compute the gradients of one.
struct Shards {
  const std::vector<Tensor>& parameters;
  const Tensor& inputs;
  const Tensor& targets;
  const ShardLoss& loss;
  Reduction reduction;
  int count;

  ShardResult run(int s) const {
    const int64_t batch = inputs.size(0);
    const int64_t begin = batch * s / count, end = batch * (s + 1) / count;
    const double weight =
        reduction == Reduction::Mean ? static_cast<double>(end - begin) / batch : 1.0;
    const Tensor value = checked_loss(loss, rows(inputs, begin, end), rows(targets, begin, end));
    const Tensor seed = full(value.shape(), weight, {.dtype = value.dtype()});
    ShardResult result;
    result.grads = grad(value, parameters, seed);
    result.loss = weight * value.item<double>();
    result.loss_dtype = value.dtype();
    result.loss_dims = value.dim();
    return result;
  }
};

// Shards [begin, end) on up to num_threads() threads, each a run of consecutive shards; `use`
// then reads the results on the calling thread, and each shard's tensors go back to the thread
// that made them.
void run_shards(const Shards& shards, int begin, int end,
                const std::function<void(std::vector<ShardResult>&)>& use) {
  std::vector<ShardResult> results(static_cast<size_t>(end - begin));
  const int threads = std::max(std::min(num_threads(), end - begin), 1);
  const auto first = [&](int t) { return begin + (end - begin) * t / threads; };
  detail::run_parts(threads, [&](int t) {
    for (int s = first(t); s < first(t + 1); ++s) results[s - begin] = shards.run(s);
  });
  use(results);
  detail::run_parts(threads, [&](int t) {
    for (int s = first(t); s < first(t + 1); ++s) results[s - begin] = ShardResult();
  });
}

Tensor loss_tensor(double total, Dtype dtype, int64_t dims) {
  return full(Shape(static_cast<size_t>(dims), 1), total, {.dtype = dtype});
}

// One process: the shards' gradients summed in shard order; shard 0's become the sums (and
// usually the .grad()s), the others are added to them.
Tensor threads_backward(const std::vector<Tensor>& parameters, const Shards& shards) {
  double total_loss = 0;
  Dtype loss_dtype = Dtype::Float32;
  int64_t loss_dims = 0;
  run_shards(shards, 0, shards.count, [&](std::vector<ShardResult>& results) {
    for (const ShardResult& result : results) total_loss += result.loss;
    loss_dtype = results[0].loss_dtype, loss_dims = results[0].loss_dims;
    for (size_t i = 0; i < parameters.size(); ++i) {
      std::shared_ptr<TensorImpl> sum;
      for (ShardResult& result : results) {
        Tensor& shard_grad = result.grads[i];
        if (!shard_grad.defined()) continue;
        if (sum) {
          detail::accumulate(sum, shard_grad);
        } else {
          sum = std::exchange(shard_grad, Tensor()).shared_impl();
        }
      }
      if (sum) detail::accumulate(parameters[i].impl().grad, Tensor(std::move(sum)));
    }
  });
  return loss_tensor(total_loss, loss_dtype, loss_dims);
}

// This rank's part of a step across ranks: rank r computes shards [first(r), first(r + 1)) and
// packs them into `mine`, one block each. A batch of one shard is computed by every rank alone.
struct RankStep {
  dist::detail::World world;
  int shards = 0;
  std::optional<dist::detail::GradientBlocks> blocks;
  std::vector<uint64_t> mine;
  Tensor whole_loss;  // when the batch is one shard

  int first(int r) const { return shards * r / world.size; }
};

void compute_rank_step(RankStep& step, const std::vector<Tensor>& parameters,
                       const Shards& shards) {
  step.shards = shards.count;
  if (shards.count == 1) {
    Tensor value = checked_loss(shards.loss, shards.inputs, shards.targets);
    value.backward();
    step.whole_loss = value.detach();
    return;
  }
  step.blocks.emplace(parameters, "data_parallel_backward");
  const int begin = step.first(step.world.rank), end = step.first(step.world.rank + 1);
  const size_t words = step.blocks->words();
  step.mine.resize(static_cast<size_t>(end - begin) * words);
  if (begin == end) return;
  run_shards(shards, begin, end, [&](std::vector<ShardResult>& results) {
    for (size_t k = 0; k < results.size(); ++k) {
      const dist::detail::BlockHeader header{results[k].loss,
                                             static_cast<int32_t>(results[k].loss_dtype),
                                             static_cast<int32_t>(results[k].loss_dims)};
      step.blocks->pack(header, results[k].grads, std::span(step.mine).subspan(k * words, words));
    }
  });
}

// Every rank's blocks to every rank, then each parameter's shard gradients added in shard order
// and into its .grad(), as threads_backward does.
Tensor exchange_gradients(const RankStep& step, const std::vector<Tensor>& parameters) {
  const size_t words = step.blocks->words();
  std::vector<int64_t> counts;
  for (int r = 0; r < step.world.size; ++r) {
    counts.push_back(static_cast<int64_t>((step.first(r + 1) - step.first(r)) * words));
  }
  std::vector<uint64_t> all(static_cast<size_t>(step.shards) * words);
  dist::detail::all_gather(step.mine, counts, all);
  std::vector<Tensor> sums = step.blocks->sum(all);
  for (size_t i = 0; i < parameters.size(); ++i) {
    // A temporary, so that accumulate sees the sole owner and takes the tensor without a copy.
    if (sums[i].defined()) {
      detail::accumulate(parameters[i].impl().grad, std::exchange(sums[i], Tensor()));
    }
  }
  double total_loss = 0;
  for (int s = 0; s < step.shards; ++s) {
    total_loss += dist::detail::GradientBlocks::header(std::span(all).subspan(s * words)).loss;
  }
  const dist::detail::BlockHeader first = dist::detail::GradientBlocks::header(all);
  return loss_tensor(total_loss, static_cast<Dtype>(first.loss_dtype), first.loss_dims);
}

// Several ranks: each checks and computes its part; one small collective then agrees that every
// rank succeeded on the same batch and parameter layout before the gradients move, so an error
// on one rank is the same tg::Error on all of them, never a rank left waiting.
Tensor ranks_backward(const std::vector<Tensor>& listed, const Tensor& inputs,
                      const Tensor& targets, const ShardLoss& loss, Reduction reduction,
                      dist::detail::World world) {
  RankStep step;
  step.world = world;
  uint64_t batch_hash = 0, layout_hash = 0;
  std::vector<Tensor> parameters;
  const std::string error = dist::detail::error_of([&] {
    check_batch(inputs, targets, reduction);
    const int shards = shard_count(inputs.size(0));
    if (shards > 1) check_parameters(listed);
    parameters = distinct(listed);
    batch_hash = dist::detail::fingerprint({inputs, targets}, true);
    if (shards > 1) layout_hash = dist::detail::fingerprint(parameters, false);
    compute_rank_step(step, parameters, {parameters, inputs, targets, loss, reduction, shards});
  });
  const dist::detail::Fact facts[] = {
      {"the batch's inputs and targets (a hash; every rank must pass the whole batch)", batch_hash},
      {"the parameters' shapes and dtypes (a hash)", layout_hash}};
  dist::detail::agree("data_parallel_backward", error, facts);
  if (step.shards == 1) return step.whole_loss;
  return exchange_gradients(step, parameters);
}

}  // namespace

Tensor data_parallel_backward(const std::vector<Tensor>& listed, const Tensor& inputs,
                              const Tensor& targets, const ShardLoss& loss, Reduction reduction) {
  const dist::detail::World world = dist::detail::world();
  if (world.size > 1) return ranks_backward(listed, inputs, targets, loss, reduction, world);
  check_batch(inputs, targets, reduction);
  const int shards = shard_count(inputs.size(0));
  if (shards <= 1) {
    Tensor value = checked_loss(loss, inputs, targets);
    value.backward();
    return value.detach();
  }
  check_parameters(listed);  // before any shard runs
  const std::vector<Tensor> parameters = distinct(listed);
  return threads_backward(parameters, {parameters, inputs, targets, loss, reduction, shards});
}

}  // namespace tg::nn
