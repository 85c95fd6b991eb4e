// Free lists of small blocks, one set per thread (see object_pool.hpp). A freed block is pushed
// onto the calling thread's list of its size class; each list keeps at most kMaxBlocksPerClass
// blocks and hands the rest to the global allocator. Lists are emptied at thread exit.

#include "tensor/object_pool.hpp"
#include "tensor/thread_cache.hpp"

#include <array>
#include <new>
#include <utility>

namespace tg::detail {
namespace {

constexpr std::size_t kGranule = 16;  // malloc's alignment, enough for every pooled object
constexpr std::size_t kClasses = 16;  // blocks of 16, 32, …, 256 bytes
constexpr int kMaxBlocksPerClass = 4096;

struct FreeBlock {
  FreeBlock* next;
};

class FreeLists {
 public:
  FreeLists() = default;
  FreeLists(const FreeLists&) = delete;
  FreeLists& operator=(const FreeLists&) = delete;
  ~FreeLists() {
    for (FreeBlock* head : heads_) {
      while (head) ::operator delete(std::exchange(head, head->next));
    }
  }

  void* take(std::size_t size_class) {
    FreeBlock*& head = heads_[size_class];
    if (!head) return nullptr;
    --counts_[size_class];
    return std::exchange(head, head->next);
  }

  bool keep(void* block, std::size_t size_class) {
    if (counts_[size_class] == kMaxBlocksPerClass) return false;
    ++counts_[size_class];
    heads_[size_class] = new (block) FreeBlock{heads_[size_class]};
    return true;
  }

 private:
  std::array<FreeBlock*, kClasses> heads_{};
  std::array<int, kClasses> counts_{};
};

FreeLists* thread_lists() { return this_thread_cache<FreeLists>(); }

// The class of a block of `bytes`, or kClasses when it is too large for the pool.
std::size_t size_class(std::size_t bytes) {
  return bytes == 0 || bytes > kClasses * kGranule ? kClasses : (bytes - 1) / kGranule;
}

}  // namespace

void* pool_allocate(std::size_t bytes) {
  const std::size_t index = size_class(bytes);
  if (index == kClasses) return ::operator new(bytes);
  if (FreeLists* lists = thread_lists()) {
    if (void* block = lists->take(index)) return block;
  }
  return ::operator new((index + 1) * kGranule);
}

void pool_deallocate(void* block, std::size_t bytes) noexcept {
  const std::size_t index = size_class(bytes);
  if (index != kClasses) {
    FreeLists* lists = thread_lists();
    if (lists && lists->keep(block, index)) return;
  }
  ::operator delete(block);
}

}  // namespace tg::detail
