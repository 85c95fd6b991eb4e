// Shared by the tests that touch files: scratch directories and bitwise comparisons.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tg::testing {

/// A fresh directory under the system's temporary directory, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tapegrad-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }
  /// Writes `bytes` to the file `name` in this directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path_ / name, std::ios::binary) << bytes;
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

/// The bytes of every tensor, concatenated: equal snapshots mean bitwise-equal tensors.
inline std::vector<unsigned char> bytes_of(const std::vector<Tensor>& tensors) {
  std::vector<unsigned char> out;
  for (const Tensor& t : tensors) {
    const auto* first = static_cast<const unsigned char*>(t.raw_data());
    out.insert(out.end(), first, first + t.numel() * static_cast<int64_t>(dtype_size(t.dtype())));
  }
  return out;
}

/// Bitwise snapshot of a state dict (keys and bytes).
inline std::vector<unsigned char> bytes_of(const optim::StateDict& dict) {
  std::vector<unsigned char> out;
  for (const auto& [key, tensor] : dict) {
    out.insert(out.end(), key.begin(), key.end());
    const auto bytes = bytes_of(std::vector<Tensor>{tensor});
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_bytes(const std::filesystem::path& path,
                        const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace tg::testing
