#include "dist/gradient_blocks.hpp"

#include <tapegrad/dtype.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/shape.hpp>

#include "tensor/tensor_impl.hpp"

#include <algorithm>
#include <cstring>

namespace tg::dist::detail {
namespace {

constexpr size_t kHeaderWords = 2;

size_t words_for(size_t bytes) { return (bytes + 7) / 8; }

const unsigned char* flags(std::span<const uint64_t> block) {
  return reinterpret_cast<const unsigned char*>(block.data() + kHeaderWords);
}

// sum[i] += add[i], the engine's accumulation (src/autograd/backward.cpp) on raw words.
template <class T>
void add_into(Tensor& sum, const uint64_t* add, int64_t n) {
  T* __restrict out = sum.data<T>();
  const T* __restrict in = reinterpret_cast<const T*>(add);
  for (int64_t i = 0; i < n; ++i) out[i] += in[i];
}

}  // namespace

GradientBlocks::GradientBlocks(const std::vector<Tensor>& parameters, const char* op) {
  words_ = kHeaderWords + words_for(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    const Tensor& p = parameters[i];
    if (p.dtype() != Dtype::Float32 && p.dtype() != Dtype::Float64) {
      fail("{}: parameter {} is {}, but gradients are Float32 or Float64", op, i,
           dtype_name(p.dtype()));
    }
    slots_.push_back({p.shape(), p.dtype(), p.numel(), words_});
    words_ += words_for(static_cast<size_t>(p.numel()) * dtype_size(p.dtype()));
  }
}

void GradientBlocks::pack(const BlockHeader& header, const std::vector<Tensor>& grads,
                          std::span<uint64_t> block) const {
  std::fill(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(words_), 0);
  std::memcpy(block.data(), &header, sizeof header);
  auto* present = reinterpret_cast<unsigned char*>(block.data() + kHeaderWords);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!grads[i].defined()) continue;
    present[i] = 1;
    const Tensor g = grads[i].contiguous();
    std::memcpy(block.data() + slots_[i].offset, g.raw_data(),
                static_cast<size_t>(slots_[i].numel) * dtype_size(slots_[i].dtype));
  }
}

BlockHeader GradientBlocks::header(std::span<const uint64_t> block) {
  BlockHeader header{};
  std::memcpy(&header, block.data(), sizeof header);
  return header;
}

std::vector<Tensor> GradientBlocks::sum(std::span<const uint64_t> blocks) const {
  const size_t count = blocks.size() / words_;
  std::vector<Tensor> sums(slots_.size());
  for (size_t b = 0; b < count; ++b) {
    const std::span<const uint64_t> block = blocks.subspan(b * words_, words_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!flags(block)[i]) continue;
      const Slot& slot = slots_[i];
      const uint64_t* values = block.data() + slot.offset;
      if (!sums[i].defined()) {
        sums[i] = make_tensor(slot.shape, slot.dtype);
        std::memcpy(sums[i].raw_data(), values,
                    static_cast<size_t>(slot.numel) * dtype_size(slot.dtype));
      } else if (slot.dtype == Dtype::Float32) {
        add_into<float>(sums[i], values, slot.numel);
      } else {
        add_into<double>(sums[i], values, slot.numel);
      }
    }
  }
  return sums;
}

}  // namespace tg::dist::detail
