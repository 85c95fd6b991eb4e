// What tapegrad's own collective steps need from the group of processes, with or without MPI:
// mpi_world.cpp implements it over MPI, one_process.cpp for a build without MPI (a world of one
// process, where every collective is a local copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace tg::dist::detail {

/// This process's rank and the number of processes: {0, 1} without MPI or outside init/finalize.
struct World {
  int rank = 0;
  int size = 1;
};

/// The world this process is in now.
World world();

/// A value every rank must have alike (a row count, a hash of the batch), named for the message.
struct Fact {
  const char* name;
  uint64_t value;
};

/// Returns on every rank or throws the same tg::Error on every rank: when some rank's
/// `local_error` is nonempty (naming `op` and the first such rank), or when the ranks' `facts`
/// differ (naming the fact and two ranks' values). At most four facts.
void agree(const std::string& op, const std::string& local_error, std::span<const Fact> facts = {});

/// Runs `local` and returns what it threw as a message ("" when it returned), for agree(): a
/// rank whose part failed must still join the collective that tells the others.
std::string error_of(const std::function<void()>& local);

/// Every rank's `mine` concatenated in rank order into `all`; rank r sends words[r] 8-byte words.
void all_gather(std::span<const uint64_t> mine, std::span<const int64_t> words,
                std::span<uint64_t> all);

/// Rank 0's `bytes` copied into every rank's (the same size on every rank).
void broadcast(std::span<std::byte> bytes);

}  // namespace tg::dist::detail
