// Opening an input file without trusting what the path names: shared by the CSV and IDX readers
// here and by the safetensors reader in io/ (a layer below data/). Inline, because the one
// function does not deserve a source file of its own.
#pragma once

#include <tapegrad/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace tg::data::detail {

/// A descriptor open for reading on a regular file, and the file's size when it was opened.
struct RegularFile {
  int fd;
  uint64_t size;
};

/// Opens `path` for reading, or throws a tg::Error naming `op` and the path. Only a regular file
/// is accepted: a FIFO would block the open (and every read) until a writer came, and a device
/// such as /dev/zero never ends. O_NONBLOCK makes the open of a FIFO return at once so fstat
/// can refuse it; it is cleared before any read.
inline RegularFile open_regular_file(const std::string& path, const char* op) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("{}: cannot open '{}': {}", op, path, std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail("{}: '{}' is not a regular file", op, path);
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    fail("{}: cannot read '{}': {}", op, path, error);
  }
  return {fd, static_cast<uint64_t>(info.st_size)};
}

}  // namespace tg::data::detail
