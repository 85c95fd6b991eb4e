// tg::dist's pieces that need no mpirun: the DataLoader's DistributedSampler-style sharding and
// the one-process behaviour of the collectives (tests/test_dist_mpi.cpp runs several ranks).

#include <tapegrad/tapegrad.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

using namespace tg;
using Catch::Contains;

namespace {

// The first input column of every row a loader hands out in one epoch, in order.
std::vector<float> epoch_rows(data::DataLoader& loader) {
  std::vector<float> rows;
  for (const data::Batch& batch : loader) {
    for (int64_t i = 0; i < batch.inputs.size(0); ++i)
      rows.push_back(batch.inputs.data<float>()[i]);
  }
  return rows;
}

data::TensorDataset numbered(int64_t n) {
  std::vector<float> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), 0.0f);
  return {from_vector<float>(values, {n, 1}), from_vector<float>(values, {n})};
}

}  // namespace

TEST_CASE("LoaderOptions rank and world_size shard each epoch's order as DistributedSampler",
          "[dist]") {
  const data::TensorDataset dataset = numbered(10);
  data::DataLoader whole(dataset, {.batch_size = 3, .shuffle = true, .seed = 4});
  const std::vector<float> order = epoch_rows(whole);
  // 10 rows over 3 ranks: padded to 12 by the order's first 2 rows; rank r takes positions
  // r, r + 3, r + 6, r + 9 (torch/utils/data/distributed.py, drop_last=False).
  std::vector<float> padded = order;
  padded.push_back(order[0]);
  padded.push_back(order[1]);
  for (int64_t rank = 0; rank < 3; ++rank) {
    data::DataLoader part(
        dataset, {.batch_size = 3, .shuffle = true, .seed = 4, .rank = rank, .world_size = 3});
    CHECK(part.size() == 2);  // 4 rows: a batch of 3 and one of 1, on every rank
    std::vector<float> expected;
    for (size_t k = static_cast<size_t>(rank); k < padded.size(); k += 3)
      expected.push_back(padded[k]);
    CHECK(epoch_rows(part) == expected);
  }
}

TEST_CASE("every rank's shard of the next epoch follows that epoch's shuffle", "[dist]") {
  const data::TensorDataset dataset = numbered(8);
  data::DataLoader whole(dataset, {.batch_size = 8, .shuffle = true, .seed = 9});
  data::DataLoader part(dataset,
                        {.batch_size = 8, .shuffle = true, .seed = 9, .rank = 1, .world_size = 2});
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::vector<float> order = epoch_rows(whole);
    const std::vector<float> mine = epoch_rows(part);
    REQUIRE(mine.size() == 4);
    for (size_t k = 0; k < 4; ++k) CHECK(mine[k] == order[1 + 2 * k]);
  }
}

TEST_CASE("a DataLoader rejects a rank outside its world", "[dist]") {
  const data::TensorDataset dataset = numbered(4);
  CHECK_THROWS_WITH(data::DataLoader(dataset, {.rank = 2, .world_size = 2}),
                    "DataLoader: invalid rank 2 of world_size 2 (expected 0 <= rank < world_size)");
  CHECK_THROWS_WITH(data::DataLoader(dataset, {.rank = 0, .world_size = 0}),
                    Contains("invalid rank 0 of world_size 0"));
}

#ifdef TAPEGRAD_WITH_MPI
TEST_CASE("outside mpirun's init the collectives act on one process", "[dist]") {
  CHECK_FALSE(dist::is_initialized());
  CHECK(dist::rank() == 0);
  CHECK(dist::world_size() == 1);
  Tensor w = from_vector<float>({1, 2}, {2});
  w.set_requires_grad();
  (w * w).sum().backward();
  dist::all_reduce_gradients({w});  // the mean over one rank: unchanged
  CHECK(w.grad().to_vector<float>() == std::vector<float>{2, 4});
  dist::broadcast_parameters({w});
  CHECK(w.to_vector<float>() == std::vector<float>{1, 2});
  CHECK_THROWS_WITH(dist::agree("step", "step: no file"), "step: no file");
  CHECK_THROWS_WITH(dist::finalize(), Contains("tg::dist::finalize: MPI is not running"));
}

TEST_CASE("launched_by_mpirun reads the variables a launcher sets", "[dist]") {
  const char* names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"};
  std::vector<std::optional<std::string>> saved;
  for (const char* name : names) {
    const char* value = std::getenv(name);
    saved.push_back(value ? std::optional<std::string>(value) : std::nullopt);
    ::unsetenv(name);
  }
  CHECK_FALSE(dist::launched_by_mpirun());
  for (const char* name : names) {
    ::setenv(name, "0", 1);
    CHECK(dist::launched_by_mpirun());
    ::unsetenv(name);
  }
  for (size_t i = 0; i < saved.size(); ++i) {
    if (saved[i]) ::setenv(names[i], saved[i]->c_str(), 1);
  }
}
#endif
