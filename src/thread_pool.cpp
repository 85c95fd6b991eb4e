// Workers wait for a generation counter to move. Between the parts of one training step (the
// next part usually follows within a few hundred µs) they spin: first with pause instructions,
// then yielding the core to any other runnable thread (OpenBLAS's, the program's), and after
// half a millisecond they sleep on a condition variable, so an idle process keeps no core busy.

#include "thread_pool.hpp"

#include <tapegrad/error.hpp>
#include <tapegrad/threads.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TG_CPU_RELAX() _mm_pause()
#else
#define TG_CPU_RELAX() ((void)0)
#endif

namespace tg::detail {
namespace {

// One worker thread running the part with its number whenever a new generation starts.
class Worker {
 public:
  explicit Worker(int part) : part_(part), thread_([this] { loop(); }) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // `run` must outlive the matching wait().
  void start(const std::function<void(int)>* run) {
    {
      std::lock_guard lock(mutex_);
      run_ = run;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_one();
  }

  void wait() const {
    const uint64_t target = generation_.load(std::memory_order_relaxed);
    while (finished_.load(std::memory_order_acquire) != target) TG_CPU_RELAX();
  }

 private:
  // Waits up to about kSpinTime for a generation after `seen` (loop() then checks under the lock).
  void spin_for_work(uint64_t seen) const {
    using Clock = std::chrono::steady_clock;
    constexpr auto kPauseTime = std::chrono::microseconds(20),
                   kSpinTime = std::chrono::microseconds(500);
    const auto start = Clock::now();
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen) return;
        TG_CPU_RELAX();
      }
      const auto waited = Clock::now() - start;
      if (waited > kSpinTime) return;
      if (waited > kPauseTime) std::this_thread::yield();
    }
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      spin_for_work(seen);
      const std::function<void(int)>* run = nullptr;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
        if (stopping_) return;
        seen = generation_.load();
        run = run_;
      }
      (*run)(part_);
      finished_.store(seen, std::memory_order_release);
    }
  }

  const int part_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  const std::function<void(int)>* run_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> finished_{0};
  std::thread thread_;  // last: starts after the fields above exist
};

class Pool {
 public:
  // `inherited`: the pool a forked child got from its parent (see below), or null.
  explicit Pool(Pool* inherited) : inherited_(inherited) {}

  // Starts the workers for parts 1 … `needed` that do not run yet. Workers beyond a lowered
  // thread count stay: idle, they sleep, and stopping them would make a program that changes the
  // count often start and join threads on every call.
  void grow(int needed) {
    while (static_cast<int>(workers_.size()) < needed) {
      const int part = static_cast<int>(workers_.size()) + 1;
      try {
        workers_.push_back(std::make_unique<Worker>(part));
      } catch (const std::system_error& e) {  // the system is out of threads or memory
        fail("thread pool: cannot start worker {} of {}: {}", part, needed, e.what());
      }
    }
  }
  Worker& worker(int part) { return *workers_[static_cast<size_t>(part - 1)]; }
  std::mutex& busy() { return busy_; }

 private:
  Pool* const inherited_;  // never used or destroyed; held so leak checkers see it is not lost
  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex busy_;  // held while one caller's parts run
};

// The pool in use. It is never destroyed: at exit its workers simply end with the process.
Pool* pool_in_use = nullptr;

// A forked child has only the thread that called fork(): the parent's workers are gone, and
// their mutexes and condition variables may be held or waited on forever. Destroying that pool
// would wait for them (the child hung in exit()), using it would wait for parts no thread runs.
// So the child sets it aside untouched and starts an empty pool (workers start on first use), as
// PyTorch does with its thread pool after fork (caffe2/utils/threadpool/pthreadpool-cpp.cc).
void start_new_pool_in_child() { pool_in_use = new Pool(pool_in_use); }

Pool& pool() {
  static const bool started = [] {
    pool_in_use = new Pool(nullptr);
    pthread_atfork(nullptr, nullptr, start_new_pool_in_child);
    return true;
  }();
  (void)started;
  return *pool_in_use;
}

}  // namespace

void run_parts(int parts, const std::function<void(int)>& task) {
  std::vector<std::exception_ptr> failures(static_cast<size_t>(std::max(parts, 0)));
  const std::function<void(int)> guarded = [&](int part) {
    try {
      task(part);
    } catch (...) {
      failures[static_cast<size_t>(part)] = std::current_exception();
    }
  };
  Pool& p = pool();
  std::unique_lock lock(p.busy(), std::try_to_lock);
  const int threads = num_threads();  // once: another thread may change it meanwhile
  const int helpers = lock.owns_lock() ? std::min(parts, threads) - 1 : 0;
  p.grow(helpers);
  for (int part = 1; part <= helpers; ++part) p.worker(part).start(&guarded);
  if (parts > 0) guarded(0);
  for (int part = helpers + 1; part < parts; ++part) guarded(part);  // more parts than threads
  for (int part = 1; part <= helpers; ++part) p.worker(part).wait();
  for (const std::exception_ptr& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

}  // namespace tg::detail
