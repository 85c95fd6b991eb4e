#include "dist/fingerprint.hpp"

#include <tapegrad/dtype.hpp>

#include <cstring>

namespace tg::dist::detail {
namespace {

// One step of SplitMix64's finalizer (Steele, Lea, Flood 2014): every input bit reaches every
// output bit.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t count, uint64_t seed) {
  // Four independent lanes over 32-byte strides, so the multiplies overlap: the hash of a
  // 128-row W1 batch (400 kB) then costs a few tens of microseconds, about 1% of its step.
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t lane[4] = {mix(seed + 1), mix(seed + 2), mix(seed + 3), mix(seed + 4)};
  size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t word;
      std::memcpy(&word, bytes + i + 8 * k, 8);
      lane[k] = (lane[k] ^ word) * 0x9e3779b97f4a7c15ULL;
    }
  }
  uint64_t h = mix(count);
  for (; i < count; ++i) h = mix(h ^ bytes[i]);  // the last 31 bytes at most
  for (const uint64_t l : lane) h = mix(h ^ l);
  return h;
}

uint64_t fingerprint(const std::vector<Tensor>& tensors, bool values) {
  uint64_t h = mix(tensors.size());
  for (const Tensor& t : tensors) {
    h = mix(h ^ static_cast<uint64_t>(t.dtype()));
    for (const int64_t extent : t.shape()) h = mix(h ^ static_cast<uint64_t>(extent));
    if (values) {
      h = hash_bytes(t.contiguous().raw_data(),
                     static_cast<size_t>(t.numel()) * dtype_size(t.dtype()), h);
    }
  }
  return h;
}

}  // namespace tg::dist::detail
