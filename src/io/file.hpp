// POSIX file access for the savers and loaders: exact reads, and writes that never leave a
// partial file at the target path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>

namespace tg::io::detail {

/// A file opened for reading; every read is bounds-checked against the size seen at open.
class InputFile {
 public:
  /// Opens `path`; `op` names the calling operation in error messages.
  InputFile(const std::filesystem::path& path, const char* op);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }
  /// Reads exactly `count` bytes at `offset`, or throws.
  void read_at(uint64_t offset, void* out, uint64_t count) const;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
  const char* op_;
};

/// Appends bytes to the temporary file behind write_atomically, looping on short writes.
class OutputFile {
 public:
  void write(const void* data, uint64_t count);

 private:
  friend void write_atomically(const std::filesystem::path&, const char*,
                               const std::function<void(OutputFile&)>&);
  OutputFile(int fd, std::string path, const char* op) : fd_(fd), path_(std::move(path)), op_(op) {}
  int fd_;
  std::string path_;
  const char* op_;
};

/// Writes `path` through `body` so that `path` always holds either its old content or the
/// complete new one: a temporary file created exclusively next to it is written, fsync'd,
/// closed, renamed over `path`, and the directory is fsync'd. The temporary file is flock'ed
/// until the rename; temporary files of `path` whose lock nobody holds (left by a save that
/// died) are removed first, those of saves still running are not. Any failure throws a
/// tg::Error naming `op` and the path, and removes the temporary file.
void write_atomically(const std::filesystem::path& path, const char* op,
                      const std::function<void(OutputFile&)>& body);

/// The prefix of write_atomically's temporary files for `path` (for tests and cleanup):
/// ".NAME.tmp-", or, where that and the unique suffix would not fit in the file system's
/// NAME_MAX, the start of NAME, '~' and a 64-bit hash of all of NAME in place of NAME.
std::string temporary_prefix(const std::filesystem::path& path);

}  // namespace tg::io::detail
