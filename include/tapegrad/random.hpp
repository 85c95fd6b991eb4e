#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tg {

/// xoshiro256** seeded through splitmix64: the same seed gives bit-identical draws on every
/// platform, because the distributions below are ours, not the standard library's. Each call is
/// atomic, so threads may share a generator and between them get its one sequence, every value
/// once: a single drawing thread gets exactly the seed's sequence, while with several drawing at
/// once which thread (or tensor) gets which values depends on timing; a thread that needs
/// reproducible draws then uses a Generator of its own.
class Generator {
 public:
  explicit Generator(uint64_t seed = kDefaultSeed);
  /// A generator that continues from `other`'s state, independently of it.
  Generator(const Generator& other);
  Generator& operator=(const Generator& other);
  /// Restarts the sequence from `seed`.
  void seed(uint64_t seed);
  /// Next raw 64-bit draw.
  uint64_t next_u64();
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Standard normal draw (Box–Muller; the second value of each pair is kept for the next call).
  double normal();
  /// n draws into out: the values of n calls of uniform() / normal(), taken under one lock (so
  /// another thread's draws cannot interleave with them).
  void uniform(double* out, int64_t n);
  void normal(double* out, int64_t n);
  /// Uniform integer in [0, n) without modulo bias.
  uint64_t below(uint64_t n);
  /// A uniformly random order of 0, 1, …, n − 1 (Fisher–Yates).
  std::vector<int64_t> permutation(int64_t n);

  /// The complete state, so a checkpoint can resume the exact sequence.
  struct State {
    std::array<uint64_t, 4> words;
    double spare_normal;
    bool has_spare_normal;
  };
  State state() const;
  void set_state(const State& state);

  static constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default seed

 private:
  friend Generator& default_generator();  // holds the lock across fork()
  mutable std::mutex mutex_;              // guards state_
  State state_{};
};

/// The process-wide generator behind randn, rand and initialization, shared by all threads.
Generator& default_generator();
/// Reseeds the default generator: same seed → bit-identical results (any thread count).
void manual_seed(uint64_t seed);

}  // namespace tg
