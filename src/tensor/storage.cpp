#include <tapegrad/tensor.hpp>

#include "tensor/storage.hpp"

#include <atomic>
#include <new>

namespace tg {
namespace {
constexpr std::align_val_t kAlignment{64};  // a cache line, and enough for AVX-512 loads
std::atomic<int64_t> live_storages{0};
}  // namespace

Storage::Storage(std::size_t bytes)
    : data_(::operator new(bytes == 0 ? 1 : bytes, kAlignment)), bytes_(bytes) {
  ++live_storages;
}

Storage::~Storage() {
  ::operator delete(data_, kAlignment);
  --live_storages;
}

int64_t Storage::live_count() { return live_storages.load(); }

int64_t debug::live_storages() { return Storage::live_count(); }

}  // namespace tg
