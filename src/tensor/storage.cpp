#include <tapegrad/tensor.hpp>

#include "tensor/block_cache.hpp"
#include "tensor/storage.hpp"

#include <atomic>

namespace tg {
namespace {
std::atomic<int64_t> live_storages{0};
}  // namespace

Storage::Storage(std::size_t bytes) : data_(detail::acquire_block(bytes)), bytes_(bytes) {
  ++live_storages;
}

Storage::~Storage() {
  detail::release_block(data_, bytes_);
  --live_storages;
}

int64_t Storage::live_count() { return live_storages.load(); }

int64_t debug::live_storages() { return Storage::live_count(); }

}  // namespace tg
