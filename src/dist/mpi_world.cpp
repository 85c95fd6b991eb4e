// The process group over MPI: tg::dist's start and end, and the few collectives the library's
// own steps use (world.hpp). Every call is on MPI_COMM_WORLD, whose default error handler ends
// the whole job when MPI itself fails: a broken link can stop a run, never hang it.

#include <tapegrad/dist.hpp>
#include <tapegrad/error.hpp>

#include "dist/world.hpp"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tg::dist {
namespace {

bool running() {
  int started = 0, finished = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finished);
  return started && !finished;
}

int checked_int(int64_t value, const char* what) {
  if (value < 0 || value > INT_MAX) {
    fail("tg::dist: {} {} is beyond MPI's int counts (at most {})", what, value, INT_MAX);
  }
  return static_cast<int>(value);
}

// One rank's part of agree(): fixed size, so one MPI_Allgather carries it.
struct Report {
  int32_t failed = 0;
  int32_t facts = 0;
  std::array<uint64_t, 4> values{};
  std::array<char, 488> message{};
};

}  // namespace

void init(int& argc, char**& argv) {
  if (running()) fail("tg::dist::init: MPI is already initialized");
  // Serialized: tapegrad's worker threads never call MPI, but the user's thread that does
  // need not be the one that called init.
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    fail("tg::dist::init: MPI_Init_thread failed");
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    fail("tg::dist::init: this MPI provides thread level {}, tapegrad needs MPI_THREAD_SERIALIZED",
         provided);
  }
}

void finalize() {
  if (!running()) fail("tg::dist::finalize: MPI is not running (no init, or finalize twice)");
  MPI_Finalize();
}

bool is_initialized() { return running(); }

bool launched_by_mpirun() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx and PMI launchers (srun, hydra) theirs.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

int rank() { return detail::world().rank; }

int world_size() { return detail::world().size; }

void barrier() {
  if (running()) MPI_Barrier(MPI_COMM_WORLD);
}

namespace detail {

World world() {
  if (!running()) return {};
  World w;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size);
  return w;
}

void agree(const std::string& op, const std::string& local_error, std::span<const Fact> facts) {
  if (facts.size() > 4) fail("{}: agree takes at most 4 facts, got {}", op, facts.size());
  Report mine;
  mine.failed = local_error.empty() ? 0 : 1;
  mine.facts = static_cast<int32_t>(facts.size());
  for (size_t i = 0; i < facts.size(); ++i) mine.values[i] = facts[i].value;
  std::memcpy(mine.message.data(), local_error.data(),
              std::min(local_error.size(), mine.message.size() - 1));
  const World w = world();
  std::vector<Report> all(static_cast<size_t>(w.size));
  if (w.size == 1) {
    all[0] = mine;
  } else {
    MPI_Allgather(&mine, sizeof(Report), MPI_BYTE, all.data(), sizeof(Report), MPI_BYTE,
                  MPI_COMM_WORLD);
  }
  for (int r = 0; r < w.size; ++r) {
    if (!all[r].failed) continue;
    if (w.size == 1) throw Error(local_error);
    fail("{}: rank {} of {} failed: {}", op, r, w.size, all[r].message.data());
  }
  for (size_t i = 0; i < facts.size(); ++i) {
    for (int r = 1; r < w.size; ++r) {
      if (all[r].facts != all[0].facts || all[r].values[i] != all[0].values[i]) {
        fail("{}: the ranks differ in {}: rank 0 has {}, rank {} has {}", op, facts[i].name,
             all[0].values[i], r, all[r].values[i]);
      }
    }
  }
}

void all_gather(std::span<const uint64_t> mine, std::span<const int64_t> words,
                std::span<uint64_t> all) {
  const World w = world();
  if (w.size == 1) {
    std::copy(mine.begin(), mine.end(), all.begin());
    return;
  }
  std::vector<int> counts(static_cast<size_t>(w.size)), offsets(static_cast<size_t>(w.size));
  int64_t offset = 0;
  for (int r = 0; r < w.size; ++r) {
    counts[r] = checked_int(words[r], "a rank's gradient block of 8-byte words:");
    offsets[r] = checked_int(offset, "the gathered gradients' 8-byte word count");
    offset += words[r];
  }
  MPI_Allgatherv(mine.data(), counts[w.rank], MPI_UINT64_T, all.data(), counts.data(),
                 offsets.data(), MPI_UINT64_T, MPI_COMM_WORLD);
}

void broadcast(std::span<std::byte> bytes) {
  if (world().size == 1) return;
  // In pieces of at most 1 GiB, within MPI's int count.
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t begin = 0; begin < bytes.size(); begin += kPiece) {
    const size_t count = std::min(kPiece, bytes.size() - begin);
    MPI_Bcast(bytes.data() + begin, static_cast<int>(count), MPI_BYTE, 0, MPI_COMM_WORLD);
  }
}

}  // namespace detail
}  // namespace tg::dist
