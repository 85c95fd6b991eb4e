// Data parallelism for one training step. The batch is cut into a fixed number of shards of
// consecutive rows, whatever the thread count; each thread runs the forward and backward of a
// run of consecutive shards (tg::grad, so no thread writes a parameter's .grad()), then the
// calling thread sums the shards' gradients in shard order into each .grad(). The shards and the
// order of the sum depend only on the batch, so the bits are the same for every thread count.
// Every tensor a shard creates is also released on its thread (a second round of parts), so each
// thread's storage cache gets back the blocks it hands out instead of one thread's cache filling
// with another's.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/data_parallel.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/threads.hpp>

#include "autograd/accumulate.hpp"
#include "tensor/tensor_impl.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <cstring>
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

void check_batch(const Tensor& inputs, const Tensor& targets, Reduction reduction) {
  if (reduction == Reduction::None) {
    fail("data_parallel_backward: the loss must be reduced (Mean or Sum), got None");
  }
  if (inputs.dim() < 1 || targets.dim() < 1 || inputs.size(0) != targets.size(0)) {
    fail("data_parallel_backward: inputs {} and targets {} must have the same number of rows",
         shape_str(inputs.shape()), shape_str(targets.shape()));
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
};

}  // namespace

Tensor data_parallel_backward(const std::vector<Tensor>& listed, const Tensor& inputs,
                              const Tensor& targets, const ShardLoss& loss, Reduction reduction) {
  check_batch(inputs, targets, reduction);
  if (!is_grad_enabled()) {
    fail("data_parallel_backward: grad mode is off (a NoGradGuard is active on this thread)");
  }
  const int64_t batch = inputs.size(0);
  const int shards = static_cast<int>(std::clamp<int64_t>(batch / kShardRows, 1, kMaxShards));
  if (shards <= 1) {
    Tensor value = checked_loss(loss, inputs, targets);
    value.backward();
    return value.detach();
  }
  for (size_t i = 0; i < listed.size(); ++i) {  // before any shard runs
    if (!listed[i].defined() || !listed[i].is_leaf() || !listed[i].requires_grad()) {
      fail("data_parallel_backward: parameter {} is not a leaf tensor that requires grad", i);
    }
  }
  const std::vector<Tensor> parameters = distinct(listed);
  Dtype loss_dtype = Dtype::Float32;
  Shape loss_shape;
  std::vector<ShardResult> results(static_cast<size_t>(shards));
  const auto run_shard = [&](int s) {
    const int64_t begin = batch * s / shards, end = batch * (s + 1) / shards;
    const double weight =
        reduction == Reduction::Mean ? static_cast<double>(end - begin) / batch : 1.0;
    const Tensor value = checked_loss(loss, rows(inputs, begin, end), rows(targets, begin, end));
    const Tensor seed = full(value.shape(), weight, {.dtype = value.dtype()});
    results[static_cast<size_t>(s)].grads = grad(value, parameters, seed);
    results[static_cast<size_t>(s)].loss = weight * value.item<double>();
    if (s == 0) loss_dtype = value.dtype(), loss_shape = value.shape();
  };
  // Thread t takes shards [first(t), first(t + 1)).
  const int threads = std::min(num_threads(), shards);
  const auto first = [&](int t) { return shards * t / threads; };
  detail::run_parts(threads, [&](int t) {
    for (int s = first(t); s < first(t + 1); ++s) run_shard(s);
  });
  // Shard 0 ran on this thread: its gradients become the sums (and usually the .grad()s), the
  // others are added to them in shard order.
  double total_loss = 0;
  for (const ShardResult& result : results) total_loss += result.loss;
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
  // Each shard's tensors go back to the thread that made them.
  detail::run_parts(threads, [&](int t) {
    for (int s = first(t); s < first(t + 1); ++s) results[static_cast<size_t>(s)] = ShardResult();
  });
  return full(loss_shape, total_loss, {.dtype = loss_dtype});
}

}  // namespace tg::nn
