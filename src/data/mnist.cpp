// load_mnist: IDX files (plain or gzip), every size checked before anything is allocated.

#include <tapegrad/data/mnist.hpp>
#include <tapegrad/error.hpp>

#include <unistd.h>
#include <zlib.h>

#include "data/regular_file.hpp"

#include <algorithm>
#include <filesystem>

namespace tg::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;      // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;      // unsigned bytes, 1 dimension
constexpr size_t kMaxFileBytes = size_t{1} << 30;  // bounds a declared payload; MNIST has 47 MB

// An IDX file: magic, dimensions, then the payload of unsigned bytes.
struct Idx {
  std::vector<uint64_t> dims;
  std::vector<unsigned char> payload;
};

uint32_t big_endian(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// An open IDX file, plain or gzip: zlib's gzread detects gzip by its 1F 8B magic and reads any
// other file unchanged.
class IdxReader {
 public:
  explicit IdxReader(const std::string& path) : path_(path) {
    const int fd = detail::open_regular_file(path, "load_mnist").fd;
    file_ = gzdopen(fd, "rb");  // from now on gzclose closes fd
    if (!file_) {
      ::close(fd);
      fail("load_mnist: cannot open '{}': zlib could not start reading it", path);
    }
  }
  ~IdxReader() { gzclose(file_); }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  // Reads up to `count` bytes; returns how many there were.
  size_t read_some(unsigned char* out, size_t count) {
    size_t done = 0;
    while (done < count) {
      const auto chunk = static_cast<unsigned>(std::min<size_t>(count - done, 1 << 20));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) fail("load_mnist: '{}' is not a readable (gzip) file", path_);
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

  void read_exactly(unsigned char* out, size_t count, size_t offset) {
    const size_t got = read_some(out, count);
    if (got != count) {
      fail("load_mnist: '{}' is truncated: it ends after {} bytes, its header needs {}", path_,
           offset + got, offset + count);
    }
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

// Reads and checks an IDX file: the magic, then dimensions whose product is bounded before
// anything is allocated, then exactly that many bytes (no fewer, no more). The payload buffer
// grows with the data actually read, so a header declaring more than the file holds allocates
// nothing it cannot fill, and a gzip bomb stops at the declared size.
Idx read_idx(const std::string& path, uint32_t magic) {
  IdxReader file(path);
  unsigned char word[4];
  file.read_exactly(word, 4, 0);
  if (big_endian(word) != magic) {
    fail("load_mnist: '{}' has magic 0x{:08x}, expected 0x{:08x}", path, big_endian(word), magic);
  }
  Idx idx;
  uint64_t payload = 1;
  const size_t rank = magic & 0xff;
  for (size_t d = 0; d < rank; ++d) {
    file.read_exactly(word, 4, 4 + 4 * d);
    idx.dims.push_back(big_endian(word));
    payload *= idx.dims.back();  // each factor < 2³², and the product is bounded at every step
    if (payload > kMaxFileBytes) fail("load_mnist: '{}' declares impossible sizes", path);
  }
  const size_t header = 4 + 4 * rank;
  constexpr size_t kChunk = size_t{1} << 20;
  while (idx.payload.size() < payload) {
    const size_t done = idx.payload.size();
    idx.payload.resize(done + std::min<size_t>(kChunk, payload - done));
    const size_t got = file.read_some(idx.payload.data() + done, idx.payload.size() - done);
    if (done + got < idx.payload.size()) {
      fail("load_mnist: '{}' holds {} bytes, but its header declares {}", path, header + done + got,
           header + payload);
    }
  }
  unsigned char extra;
  if (file.read_some(&extra, 1) != 0) {
    fail("load_mnist: '{}' holds more bytes than the {} its header declares", path,
         header + payload);
  }
  return idx;
}

std::string find_file(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem, stem + ".gz"}) {
    const auto path = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(path)) return path.string();
  }
  fail("load_mnist: neither '{}' nor '{}.gz' exists in '{}'", stem, stem, dir);
}

}  // namespace

TensorDataset load_mnist(const std::string& dir, Split split) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  const Idx images = read_idx(images_path, kImagesMagic);
  const Idx labels = read_idx(labels_path, kLabelsMagic);
  const std::vector<uint64_t>& image_dims = images.dims;
  const std::vector<uint64_t>& label_dims = labels.dims;
  if (image_dims[1] != 28 || image_dims[2] != 28) {
    fail("load_mnist: '{}' holds {}x{} images, expected 28x28", images_path, image_dims[1],
         image_dims[2]);
  }
  if (image_dims[0] != label_dims[0]) {
    fail("load_mnist: {} images in '{}' but {} labels in '{}'", image_dims[0], images_path,
         label_dims[0], labels_path);
  }
  const auto n = static_cast<int64_t>(image_dims[0]);
  Tensor inputs = empty({n, 784});
  float* pixels = inputs.data<float>();
  for (int64_t i = 0; i < n * 784; ++i)
    pixels[i] = static_cast<float>(images.payload[static_cast<size_t>(i)]) / 255.0f;
  Tensor targets = empty({n}, {.dtype = Dtype::Int64});
  int64_t* classes = targets.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    classes[i] = labels.payload[static_cast<size_t>(i)];
    if (classes[i] > 9)
      fail("load_mnist: label {} at index {} in '{}' is not in 0..9", classes[i], i, labels_path);
  }
  return {inputs, targets};
}

}  // namespace tg::data
