// load_mnist: IDX files (plain or gzip), every size checked before anything is allocated.

#include <tapegrad/data/mnist.hpp>
#include <tapegrad/error.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace tg::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;      // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;      // unsigned bytes, 1 dimension
constexpr size_t kMaxFileBytes = size_t{1} << 30;  // far above MNIST's 47 MB; stops gzip bombs

// The file's bytes, decompressed when it starts with gzip's magic 1F 8B.
std::vector<unsigned char> read_bytes(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (!file) fail("load_mnist: cannot open '{}'", path);
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  int got = 0;
  while ((got = gzread(file, chunk, sizeof chunk)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (bytes.size() > kMaxFileBytes) {
      gzclose(file);
      fail("load_mnist: '{}' is larger than {} bytes", path, kMaxFileBytes);
    }
  }
  const bool failed = got < 0;
  gzclose(file);
  if (failed) fail("load_mnist: '{}' is not a readable (gzip) file", path);
  return bytes;
}

uint32_t big_endian(const std::vector<unsigned char>& bytes, size_t offset) {
  return (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) |
         (uint32_t{bytes[offset + 2]} << 8) | uint32_t{bytes[offset + 3]};
}

// Checks magic and dimensions against the file size; returns the dimensions.
std::vector<uint64_t> idx_dims(const std::vector<unsigned char>& bytes, uint32_t magic,
                               const std::string& path) {
  const size_t rank = magic & 0xff;
  if (bytes.size() < 4) fail("load_mnist: '{}' is truncated ({} bytes)", path, bytes.size());
  if (big_endian(bytes, 0) != magic) {
    fail("load_mnist: '{}' has magic 0x{:08x}, expected 0x{:08x}", path, big_endian(bytes, 0),
         magic);
  }
  if (bytes.size() < 4 + 4 * rank)
    fail("load_mnist: '{}' is truncated ({} bytes)", path, bytes.size());
  std::vector<uint64_t> dims;
  uint64_t payload = 1;
  for (size_t d = 0; d < rank; ++d) {
    dims.push_back(big_endian(bytes, 4 + 4 * d));
    payload *= dims.back();  // ≤ (2³²)³ would overflow; the size check below bounds it first
    if (payload > kMaxFileBytes) fail("load_mnist: '{}' declares impossible sizes", path);
  }
  if (bytes.size() != 4 + 4 * rank + payload) {
    fail("load_mnist: '{}' holds {} bytes, but its header declares {}", path, bytes.size(),
         4 + 4 * rank + payload);
  }
  return dims;
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
  const std::vector<unsigned char> images = read_bytes(images_path);
  const std::vector<unsigned char> labels = read_bytes(labels_path);
  const std::vector<uint64_t> image_dims = idx_dims(images, kImagesMagic, images_path);
  const std::vector<uint64_t> label_dims = idx_dims(labels, kLabelsMagic, labels_path);
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
  for (int64_t i = 0; i < n * 784; ++i) pixels[i] = static_cast<float>(images[16 + i]) / 255.0f;
  Tensor targets = empty({n}, {.dtype = Dtype::Int64});
  int64_t* classes = targets.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    classes[i] = labels[8 + i];
    if (classes[i] > 9)
      fail("load_mnist: label {} at index {} in '{}' is not in 0..9", classes[i], i, labels_path);
  }
  return {inputs, targets};
}

}  // namespace tg::data
