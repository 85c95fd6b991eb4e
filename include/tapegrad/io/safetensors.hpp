#pragma once

#include <tapegrad/dtype.hpp>
#include <tapegrad/nn/module.hpp>
#include <tapegrad/shape.hpp>
#include <tapegrad/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tg {

/// Writes the module's parameters to `path` as a safetensors file, named as
/// named_parameters() names them ("0.weight", …), so PyTorch tools can read it. The write is
/// atomic: `path` holds either its previous content or the complete new file.
void save(const nn::Module& module, const std::filesystem::path& path);

/// Reads a safetensors file into the module's parameters. Everything is checked first — that
/// `path` is a regular file, the header's size and JSON, dtypes, shapes, offsets, the file
/// size, the CRC-32 that tapegrad writes (required in a file whose metadata names tapegrad),
/// and that every parameter is present with the module's shape and dtype and nothing else is;
/// a bad file is a tg::Error and leaves the module bitwise untouched.
void load(nn::Module& module, const std::filesystem::path& path);

namespace io {

/// Named tensors in file order, as a safetensors file holds them.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
/// The string-to-string `__metadata__` of a safetensors file.
using Metadata = std::map<std::string, std::string>;

/// The largest header accepted, as in the safetensors reference implementation.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// One tensor's entry in a validated header.
struct TensorInfo {
  std::string name;
  Dtype dtype;
  Shape shape;
  uint64_t begin;  // byte offsets in the data section
  uint64_t end;
};

/// A safetensors file whose header has been read and validated (data not yet read).
class SafetensorsReader {
 public:
  /// Opens `path` and validates its header against the safetensors rules and the file size;
  /// `op` names the calling operation in error messages.
  explicit SafetensorsReader(const std::filesystem::path& path, const char* op = "load");
  ~SafetensorsReader();
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;

  /// The entries in data order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }
  /// The entry named `name`, or null.
  const TensorInfo* find(const std::string& name) const;
  /// Reads every tensor, verifying the "crc32" metadata when present. (It must be present when
  /// the metadata's "format" starts with "tapegrad" or it has "tapegrad_version": the
  /// constructor refuses such a file without it.)
  NamedTensors read_all() const;

 private:
  struct File;
  std::unique_ptr<File> file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;  // name → position in tensors_
  Metadata metadata_;
  uint64_t data_start_ = 0;
};

/// Writes tensors (Float32, Float64 or Int64; unique non-empty names) and metadata atomically.
/// tapegrad adds its own metadata: "crc32" of the data, "format", "format_version",
/// "tapegrad_version", "openblas_kernel", "threads".
void write_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                       Metadata metadata = {}, const char* op = "save");

/// Reads and validates a whole safetensors file.
NamedTensors read_safetensors(const std::filesystem::path& path, Metadata* metadata = nullptr);

/// The safetensors name of a dtype ("F32", "F64", "I64").
const char* safetensors_dtype(Dtype dtype);

}  // namespace io
}  // namespace tg
