#include <tapegrad/data/loader.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>

#include <algorithm>
#include <numeric>

namespace tg::data {

DataLoader::DataLoader(TensorDataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options), order_(dataset_.size()) {
  if (options.batch_size <= 0) {
    fail("DataLoader: invalid batch_size: {} (expected batch_size > 0)", options.batch_size);
  }
  std::iota(order_.begin(), order_.end(), 0);
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  if (options_.shuffle) {
    // A generator of its own, seeded from (seed, epoch): the order depends on nothing else,
    // so a resumed run sees the same epochs.
    Generator generator(options_.seed ^
                        (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch_ + 1)));
    order_ = generator.permutation(dataset_.size());
  }
  ++epoch_;
  return Iterator(this, 0);
}

void DataLoader::set_epoch(int64_t epoch) {
  if (epoch < 0) fail("DataLoader.set_epoch: epoch {} is negative", epoch);
  epoch_ = epoch;
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, size()); }

Batch DataLoader::batch(int64_t index) const {
  const int64_t first = index * options_.batch_size;
  const int64_t last = std::min<int64_t>(first + options_.batch_size, dataset_.size());
  const std::vector<int64_t> rows(order_.begin() + first, order_.begin() + last);
  return {gather_rows(dataset_.inputs, rows), gather_rows(dataset_.targets, rows)};
}

const Batch& DataLoader::Iterator::operator*() const {
  if (!gathered_) {
    current_ = loader_->batch(batch_);
    gathered_ = true;
  }
  return current_;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++batch_;
  gathered_ = false;
  current_ = Batch();  // drop the previous batch's tensors now rather than at the next gather
  return *this;
}

}  // namespace tg::data
