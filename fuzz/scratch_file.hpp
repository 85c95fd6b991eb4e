// What the fuzz harnesses share: a scratch file to hand their input to the real file readers,
// and bitwise snapshots to check that a rejected file changed nothing.
#pragma once

#include <tapegrad/tensor.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fuzz {

/// A directory of this process's own under /dev/shm (or the temporary directory).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? "/dev/shm"
                                           : std::filesystem::temp_directory_path();
    auto path = base / ("tapegrad-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

/// Writes `size` bytes to scratch_dir()/name and returns the path.
inline std::filesystem::path write_scratch(const std::string& name, const uint8_t* data,
                                           size_t size) {
  const auto path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

/// Appends the tensor's bytes: compared bitwise, since a loaded NaN never equals itself.
inline void append_bytes(std::string& out, const tg::Tensor& t) {
  out.append(static_cast<const char*>(t.raw_data()),
             static_cast<size_t>(t.numel()) * tg::dtype_size(t.dtype()));
}

}  // namespace fuzz
