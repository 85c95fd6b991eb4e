// The per-thread cache of freed tensor storage (src/tensor/block_cache.cpp). Sanitizer builds
// bypass the cache, so there these tests only check that nothing is kept.

#include "helpers.hpp"

#include <tapegrad/memory.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

using tg::Tensor;

namespace {

bool cache_enabled() {
  tg::release_cached_memory();
  { Tensor probe = tg::empty({16}); }
  const bool kept = tg::cached_memory_bytes() > 0;
  tg::release_cached_memory();
  return kept;
}

// In sanitizer builds the cache is bypassed: all a test can check there is that nothing is kept.
bool bypassed() {
  if (cache_enabled()) return false;
  CHECK(tg::cached_memory_bytes() == 0);
  return true;
}

}  // namespace

TEST_CASE("freed storage is reused by the next tensor of the same byte size", "[memory]") {
  if (bypassed()) {
    WARN("the storage cache is bypassed in this (sanitizer) build");
    return;
  }
  const void* first = nullptr;
  {
    Tensor a = tg::empty({250});
    first = a.data<float>();
  }
  CHECK(tg::cached_memory_bytes() == 1000);
  Tensor other_size = tg::empty({251});
  CHECK(other_size.data<float>() != first);
  CHECK(tg::cached_memory_bytes() == 1000);
  Tensor same_bytes = tg::empty({125}, {.dtype = tg::Dtype::Float64});  // 1000 bytes as well
  CHECK(static_cast<const void*>(same_bytes.data<double>()) == first);
  CHECK(tg::cached_memory_bytes() == 0);
  // Storage comes back 64-byte aligned, like fresh storage.
  CHECK(reinterpret_cast<uintptr_t>(other_size.data<float>()) % 64 == 0);
}

TEST_CASE("the storage cache is bounded and can be released", "[memory]") {
  if (bypassed()) return;
  { Tensor huge = tg::empty({int64_t{17} << 20}); }  // 68 MiB: above the 64 MiB block limit
  CHECK(tg::cached_memory_bytes() == 0);
  {
    std::vector<Tensor> blocks;
    for (int i = 0; i < 20; ++i) blocks.push_back(tg::empty({int64_t{4} << 20}));  // 20 × 16 MiB
  }
  CHECK(tg::cached_memory_bytes() > 0);
  CHECK(tg::cached_memory_bytes() <= int64_t{256} << 20);
  tg::release_cached_memory();
  CHECK(tg::cached_memory_bytes() == 0);
}

TEST_CASE("a training step in steady state takes no new storage", "[memory]") {
  if (bypassed()) return;
  tg::manual_seed(3);
  tg::nn::Sequential model{tg::nn::Linear(5, 8), tg::nn::Tanh(), tg::nn::Linear(8, 1)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 1e-3, .centered = true});
  const Tensor x = tg::randn({16, 5});
  const Tensor y = tg::randn({16, 1});
  const auto step = [&] {
    optimizer.zero_grad();
    tg::nn::mse_loss(model(x), y).backward();
    optimizer.step();
  };
  step();
  step();
  const int64_t cached = tg::cached_memory_bytes();
  CHECK(cached > 0);
  for (int i = 0; i < 5; ++i) {
    step();
    CHECK(tg::cached_memory_bytes() == cached);  // every block taken was given back
  }
}

TEST_CASE("storage freed on another thread stays usable and is released with it", "[memory]") {
  Tensor shared = tg::full({1000}, 2.0);
  std::thread worker([moved = std::move(shared)]() mutable {
    CHECK(tg::sum(moved).item<float>() == 2000.0f);
    moved = Tensor();  // freed into the worker's cache, which is released at thread exit
  });
  worker.join();
  Tensor fresh = tg::full({1000}, 3.0);
  CHECK(tg::sum(fresh).item<float>() == 3000.0f);
}

TEST_CASE("the storage a worker thread keeps is counted and released from any thread", "[memory]") {
  if (bypassed()) return;
  std::mutex mutex;
  std::condition_variable changed;
  int stage = 0;  // 1: the worker has freed its tensor; 2: the main thread has looked
  std::thread worker([&] {
    { Tensor scratch = tg::empty({int64_t{1} << 20}); }  // 4 MiB freed into the worker's cache
    std::unique_lock lock(mutex);
    stage = 1;
    changed.notify_all();
    changed.wait(lock, [&] { return stage == 2; });  // alive (with its cache) until released
  });
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return stage == 1; });
  }
  CHECK(tg::cached_memory_bytes() >= (int64_t{4} << 20));
  tg::release_cached_memory();
  CHECK(tg::cached_memory_bytes() == 0);
  {
    std::lock_guard lock(mutex);
    stage = 2;
  }
  changed.notify_all();
  worker.join();
}

TEST_CASE("when memory runs out, the cached storage is given back before failing", "[memory]") {
  if (bypassed()) return;
  // In a child: keep 200 MiB in the cache (the 40 MiB blocks of a freed batch: above glibc's
  // largest mmap threshold, so each is its own mapping whatever earlier tests did to the heap),
  // allow 800 MiB more address space than is in use then, and ask for 900 MiB, which fits only
  // once the cache has been given back.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    tg::release_cached_memory();  // whatever earlier tests left
    {
      std::vector<Tensor> batch;
      for (int i = 0; i < 5; ++i) batch.push_back(tg::empty({int64_t{10} << 20}));
    }
    if (tg::cached_memory_bytes() < (int64_t{200} << 20)) _exit(4);
    rlimit limit{};
    getrlimit(RLIMIT_AS, &limit);
    long pages = 0;  // the address space in use now: /proc/self/statm's first field
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    if (pages <= 0) _exit(2);
    limit.rlim_cur = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (rlim_t{800} << 20);
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(3);
    try {
      Tensor big = tg::empty({int64_t{225} << 20});  // 900 MiB
      _exit(tg::cached_memory_bytes() == 0 ? 0 : 5);
    } catch (const tg::Error&) {
      _exit(6);
    }
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 6: the cached blocks were not released before failing
}
