// tg::dist's collectives on tensors: gradients averaged over ranks in a fixed order, rank 0's
// parameters to everyone, and the checks that keep one rank's error from hanging the others.

#include <tapegrad/autograd.hpp>
#include <tapegrad/dist.hpp>
#include <tapegrad/dtype.hpp>
#include <tapegrad/error.hpp>

#include "autograd/accumulate.hpp"
#include "dist/fingerprint.hpp"
#include "dist/gradient_blocks.hpp"
#include "dist/world.hpp"
#include "tensor/tensor_impl.hpp"

#include <cstring>
#include <optional>
#include <span>
#include <utility>

namespace tg::dist {
namespace {

std::vector<Tensor> state_tensors(const nn::Module& module) {
  std::vector<Tensor> tensors;
  for (const auto& [name, tensor] : module.state_dict()) tensors.push_back(tensor);
  return tensors;
}

// The layout check every collective on tensors starts with: on a mismatch the ranks would
// otherwise exchange buffers of different sizes.
void agree_on_layout(const std::string& op, const std::vector<Tensor>& tensors,
                     const std::string& error) {
  const uint64_t layout = error.empty() ? detail::fingerprint(tensors, false) : 0;
  const detail::Fact facts[] = {{"the tensors' count, shapes and dtypes (a hash)", layout}};
  detail::agree(op, error, facts);
}

}  // namespace

void all_reduce_gradients(const std::vector<Tensor>& parameters) {
  const char* op = "all_reduce_gradients";
  std::optional<detail::GradientBlocks> blocks;
  std::vector<uint64_t> mine;
  const std::string error = detail::error_of([&] {
    for (size_t i = 0; i < parameters.size(); ++i) {
      if (!parameters[i].defined()) fail("{}: parameter {} is an undefined tensor", op, i);
    }
    blocks.emplace(parameters, op);
    mine.resize(blocks->words());
    std::vector<Tensor> grads;
    for (const Tensor& p : parameters) grads.push_back(p.grad());
    blocks->pack({}, grads, mine);
  });
  agree_on_layout(op, error.empty() ? parameters : std::vector<Tensor>{}, error);
  const detail::World world = detail::world();
  std::vector<uint64_t> all(mine.size() * static_cast<size_t>(world.size));
  detail::all_gather(mine, std::vector<int64_t>(world.size, static_cast<int64_t>(mine.size())),
                     all);
  // The sum in rank order, then divided by the rank count (DistributedDataParallel's mean).
  std::vector<Tensor> sums = blocks->sum(all);
  NoGradGuard no_grad;
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (!sums[i].defined()) continue;
    sums[i].div_(static_cast<double>(world.size));
    std::shared_ptr<TensorImpl>& slot = parameters[i].impl().grad;
    if (slot) {
      Tensor(slot).copy_(sums[i]);
    } else {
      tg::detail::accumulate(slot, std::exchange(sums[i], Tensor()));
    }
  }
}

void all_reduce_gradients(const nn::Module& module) { all_reduce_gradients(module.parameters()); }

void broadcast_parameters(const std::vector<Tensor>& tensors) {
  const char* op = "broadcast_parameters";
  std::string error;
  for (size_t i = 0; i < tensors.size() && error.empty(); ++i) {
    if (!tensors[i].defined()) error = fmt::format("{}: tensor {} is undefined", op, i);
  }
  agree_on_layout(op, error.empty() ? tensors : std::vector<Tensor>{}, error);
  const auto bytes_of = [](const Tensor& t) {
    return static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
  };
  size_t bytes = 0;
  for (const Tensor& t : tensors) bytes += bytes_of(t);
  std::vector<std::byte> flat(bytes);
  size_t offset = 0;
  for (const Tensor& t : tensors) {
    std::memcpy(flat.data() + offset, t.contiguous().raw_data(), bytes_of(t));
    offset += bytes_of(t);
  }
  detail::broadcast(flat);
  // copy_ rather than a memcpy into the storage: it bumps each tensor's version like any
  // in-place write, so a graph that saved the old values refuses to backpropagate through them.
  NoGradGuard no_grad;
  offset = 0;
  for (const Tensor& t : tensors) {
    Tensor received = make_tensor(t.shape(), t.dtype());
    std::memcpy(received.raw_data(), flat.data() + offset, bytes_of(t));
    Tensor(t).copy_(received);  // a handle on t's storage
    offset += bytes_of(t);
  }
}

void broadcast_parameters(const nn::Module& module) { broadcast_parameters(state_tensors(module)); }

void agree(const std::string& op, const std::string& local_error) {
  detail::agree(op, local_error);
}

void check_same_on_every_rank(const std::string& op, const std::vector<Tensor>& tensors) {
  uint64_t values = 0;
  const std::string error = detail::error_of([&] { values = detail::fingerprint(tensors, true); });
  const detail::Fact facts[] = {{"the tensors' shapes, dtypes and values (a hash)", values}};
  detail::agree(op, error, facts);
}

}  // namespace tg::dist
