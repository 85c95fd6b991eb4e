#include <tapegrad/data/loader.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>

#include <algorithm>
#include <numeric>

namespace tg::data {

// One pass's order, shared by the copies of its begin() iterator. `finished` is set when one of
// them reaches the end, which closes the pass even while other copies live on.
struct DataLoader::Iterator::Pass {
  std::shared_ptr<const std::vector<int64_t>> order;
  bool finished = false;
};

DataLoader::DataLoader(TensorDataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (options.batch_size <= 0) {
    fail("DataLoader: invalid batch_size: {} (expected batch_size > 0)", options.batch_size);
  }
  if (options.world_size <= 0 || options.rank < 0 || options.rank >= options.world_size) {
    fail("DataLoader: invalid rank {} of world_size {} (expected 0 <= rank < world_size)",
         options.rank, options.world_size);
  }
}

int64_t DataLoader::rows() const {
  const int64_t n = dataset_.size(), w = options_.world_size;
  return n / w + (n % w != 0 ? 1 : 0);  // ceil without overflow, padded as DistributedSampler
}

// DistributedSampler (torch/utils/data/distributed.py, 1.13, drop_last=False): positions
// rank, rank + w, … of the order repeated as far as the padding needs.
std::vector<int64_t> DataLoader::shard(const std::vector<int64_t>& order) const {
  if (options_.world_size == 1) return order;
  std::vector<int64_t> mine(static_cast<size_t>(order.empty() ? 0 : rows()));
  for (size_t k = 0; k < mine.size(); ++k) {
    const int64_t position = options_.rank + static_cast<int64_t>(k) * options_.world_size;
    mine[k] = order[static_cast<size_t>(position % static_cast<int64_t>(order.size()))];
  }
  return mine;
}

int64_t DataLoader::size() const {
  // Written so that no batch size overflows: (n + b − 1) / b would for b near INT64_MAX.
  const int64_t n = rows(), b = options_.batch_size;
  return n / b + (!options_.drop_last && n % b != 0 ? 1 : 0);
}

DataLoader::Iterator DataLoader::begin() {
  const std::shared_ptr<Iterator::Pass> open = open_.lock();
  if (open && !open->finished) {
    // Nested in an open pass: the same order again, walked by an iterator of its own.
    return Iterator(this, std::make_shared<Iterator::Pass>(Iterator::Pass{open->order}), 0);
  }
  std::vector<int64_t> order(static_cast<size_t>(dataset_.size()));
  if (options_.shuffle) {
    // A generator of its own, seeded from (seed, epoch): the order depends on nothing else,
    // so a resumed run sees the same epochs.
    Generator generator(options_.seed ^
                        (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch_ + 1)));
    order = generator.permutation(dataset_.size());
  } else {
    std::iota(order.begin(), order.end(), 0);
  }
  auto pass = std::make_shared<Iterator::Pass>(
      Iterator::Pass{std::make_shared<const std::vector<int64_t>>(shard(order))});
  pass->finished = size() == 0;
  open_ = pass;
  ++epoch_;
  return Iterator(this, std::move(pass), 0);
}

void DataLoader::set_epoch(int64_t epoch) {
  if (epoch < 0) fail("DataLoader.set_epoch: epoch {} is negative", epoch);
  epoch_ = epoch;
  open_.reset();
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, nullptr, size()); }

Batch DataLoader::batch(const std::vector<int64_t>& order, int64_t index) const {
  const int64_t first = index * options_.batch_size;  // < rows, so no overflow
  const int64_t last =
      first + std::min(options_.batch_size, static_cast<int64_t>(order.size()) - first);
  const std::vector<int64_t> rows(order.begin() + first, order.begin() + last);
  return {gather_rows(dataset_.inputs, rows), gather_rows(dataset_.targets, rows)};
}

const Batch& DataLoader::Iterator::operator*() const {
  const int64_t batches = loader_->size();
  if (!pass_ || batch_ >= batches) {
    fail("DataLoader: cannot dereference the end iterator (batch {} of {})", batch_, batches);
  }
  if (!gathered_) {
    current_ = loader_->batch(*pass_->order, batch_);
    gathered_ = true;
  }
  return current_;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++batch_;
  gathered_ = false;
  current_ = Batch();  // drop the previous batch's tensors now rather than at the next gather
  if (pass_ && batch_ >= loader_->size()) pass_->finished = true;
  return *this;
}

}  // namespace tg::data
