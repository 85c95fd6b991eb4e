// InputFile and write_atomically: the only places that touch file descriptors.

#include <tapegrad/error.hpp>

#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

namespace tg::io::detail {
namespace {

std::string last_error() { return std::strerror(errno); }

// Calls `call` again while it fails with EINTR.
template <class Call>
auto retry(Call call) {
  decltype(call()) result;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  return result;
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// Removes temporary files that an interrupted save of `path` left behind.
void remove_leftovers(const std::filesystem::path& path) {
  const std::string prefix = temporary_prefix(path);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(path), error)) {
    if (entry.path().filename().string().starts_with(prefix)) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

// Creates a new temporary file next to `path` with O_EXCL; returns its descriptor and name.
std::pair<int, std::string> create_temporary(const std::filesystem::path& path, const char* op) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint64_t unique =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL);
    const std::string name = (directory_of(path) / temporary_prefix(path)).string() +
                             fmt::format("{}-{:016x}", ::getpid(), unique);
    const int fd =
        retry([&] { return ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); });
    if (fd >= 0) return {fd, name};
    if (errno != EEXIST) {
      fail("{}: cannot create a temporary file next to '{}': {}", op, path.string(), last_error());
    }
  }
  fail("{}: cannot create a unique temporary file next to '{}'", op, path.string());
}

void sync_directory(const std::filesystem::path& path, const char* op) {
  const std::string dir = directory_of(path).string();
  const int fd = retry([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) fail("{}: cannot open directory '{}' to sync it: {}", op, dir, last_error());
  const bool synced = ::fsync(fd) == 0;
  const std::string error = last_error();
  ::close(fd);
  if (!synced) fail("{}: cannot sync directory '{}': {}", op, dir, error);
}

}  // namespace

InputFile::InputFile(const std::filesystem::path& path, const char* op)
    : path_(path.string()), op_(op) {
  fd_ = retry([&] { return ::open(path_.c_str(), O_RDONLY | O_CLOEXEC); });
  if (fd_ < 0) fail("{}: cannot open '{}': {}", op_, path_, last_error());
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    fail("{}: '{}' is not a regular file", op_, path_);
  }
  size_ = static_cast<uint64_t>(info.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

void InputFile::read_at(uint64_t offset, void* out, uint64_t count) const {
  if (offset > size_ || count > size_ - offset) {
    fail("{}: '{}' is truncated: {} bytes at offset {} lie beyond its {} bytes", op_, path_, count,
         offset, size_);
  }
  auto* bytes = static_cast<char*>(out);
  while (count > 0) {
    const ssize_t got = retry([&] {
      return ::pread(fd_, bytes, static_cast<size_t>(count), static_cast<off_t>(offset));
    });
    if (got < 0) fail("{}: cannot read '{}': {}", op_, path_, last_error());
    if (got == 0) fail("{}: '{}' shrank while it was being read", op_, path_);
    bytes += got;
    offset += static_cast<uint64_t>(got);
    count -= static_cast<uint64_t>(got);
  }
}

void OutputFile::write(const void* data, uint64_t count) {
  const auto* bytes = static_cast<const char*>(data);
  while (count > 0) {
    const ssize_t put = retry([&] { return ::write(fd_, bytes, static_cast<size_t>(count)); });
    if (put < 0) fail("{}: cannot write '{}': {}", op_, path_, last_error());
    bytes += put;
    count -= static_cast<uint64_t>(put);
  }
}

std::string temporary_prefix(const std::filesystem::path& path) {
  return fmt::format(".{}.tmp-", path.filename().string());
}

void write_atomically(const std::filesystem::path& path, const char* op,
                      const std::function<void(OutputFile&)>& body) {
  if (path.filename().empty()) fail("{}: '{}' does not name a file", op, path.string());
  remove_leftovers(path);
  auto [fd, temporary] = create_temporary(path, op);
  try {
    OutputFile file(fd, path.string(), op);
    body(file);
    if (::fsync(fd) != 0) fail("{}: cannot sync '{}': {}", op, path.string(), last_error());
    const int closing = fd;
    fd = -1;
    if (::close(closing) != 0) fail("{}: cannot close '{}': {}", op, path.string(), last_error());
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      fail("{}: cannot rename the temporary file onto '{}': {}", op, path.string(), last_error());
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(path, op);
}

}  // namespace tg::io::detail
