// InputFile and write_atomically: the only places that touch file descriptors.

#include <tapegrad/error.hpp>

#include "data/regular_file.hpp"
#include "io/file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

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

// The longest suffix create_temporary appends to temporary_prefix(): a pid_t's 10 digits, '-' and
// 16 hexadecimal digits.
constexpr size_t kUniqueSuffixBytes = 10 + 1 + 16;

// The longest file name the directory's file system accepts (NAME_MAX: 255 bytes on Linux's).
size_t name_max(const std::filesystem::path& dir) {
  const long limit = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  return limit > 0 ? static_cast<size_t>(limit) : NAME_MAX;
}

// FNV-1a, 64 bits: stable across runs and builds, so a shortened prefix names one target.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return hash;
}

// Removes the temporary files that interrupted saves of `path` left behind. Every writer holds an
// flock on its temporary file from creation until the rename, and the kernel releases it when the
// writer dies: a file whose lock can be taken is stale, one whose lock is held belongs to a save in
// progress (another thread's or process's) and is left alone.
void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::string prefix = temporary_prefix(path);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(path), error)) {
    if (!entry.path().filename().string().starts_with(prefix)) continue;
    const int fd = retry([&] {
      return ::open(entry.path().c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    });
    if (fd < 0) continue;  // already gone, or not ours to judge
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(entry.path().c_str());
    ::close(fd);
  }
}

// Locks a temporary file just created as `name`. A cleanup may have taken the lock first, in the
// moment between the creation and the lock, and removed the file: then `name` no longer names the
// open file and the caller starts over. Where the file system cannot lock, no cleanup can take the
// lock either, so the file is safe without it.
bool lock_as_ours(int fd, const std::string& name) {
  retry([&] { return ::flock(fd, LOCK_EX); });
  struct stat opened {};
  struct stat named {};
  return ::fstat(fd, &opened) == 0 && ::stat(name.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

// A temporary file being written: `fd` for the data, and `lock`, a duplicate of it that shares its
// lock and keeps it from the close of `fd` (checked before the rename) until the rename.
struct Temporary {
  int fd;
  int lock;
  std::string name;
};

// Creates and locks a new temporary file next to `path`, with O_EXCL.
Temporary create_temporary(const std::filesystem::path& path, const char* op) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint64_t unique =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL);
    const std::string name = (directory_of(path) / temporary_prefix(path)).string() +
                             fmt::format("{}-{:016x}", ::getpid(), unique);
    const int fd =
        retry([&] { return ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); });
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      fail("{}: cannot create a temporary file next to '{}': {}", op, path.string(), last_error());
    }
    const int lock = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (lock < 0) {
      const std::string error = last_error();
      ::close(fd);
      ::unlink(name.c_str());
      fail("{}: cannot lock a temporary file next to '{}': {}", op, path.string(), error);
    }
    if (lock_as_ours(lock, name)) return {fd, lock, name};
    ::close(lock);  // a cleanup removed the file before it was locked: try another name
    ::close(fd);
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
  const data::detail::RegularFile file = data::detail::open_regular_file(path_, op_);
  fd_ = file.fd;
  size_ = file.size;
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
  const std::string name = path.filename().string();
  const size_t limit = name_max(directory_of(path));
  std::string prefix = fmt::format(".{}.tmp-", name);
  if (prefix.size() + kUniqueSuffixBytes <= limit) return prefix;
  // A name too long for that: the start of it for whoever lists the directory, and a hash of all of
  // it so that the prefix still belongs to this one target.
  const std::string tail = fmt::format("~{:016x}.tmp-", fnv1a(name));
  const size_t fixed = 1 + tail.size() + kUniqueSuffixBytes;
  return fmt::format(".{}{}", std::string_view(name).substr(0, limit > fixed ? limit - fixed : 0),
                     tail);
}

void write_atomically(const std::filesystem::path& path, const char* op,
                      const std::function<void(OutputFile&)>& body) {
  if (path.filename().empty()) fail("{}: '{}' does not name a file", op, path.string());
  remove_stale_temporaries(path);
  Temporary temporary = create_temporary(path, op);
  try {
    OutputFile file(temporary.fd, path.string(), op);
    body(file);
    if (::fsync(temporary.fd) != 0) {
      fail("{}: cannot sync '{}': {}", op, path.string(), last_error());
    }
    if (::close(std::exchange(temporary.fd, -1)) != 0) {
      fail("{}: cannot close '{}': {}", op, path.string(), last_error());
    }
    if (::rename(temporary.name.c_str(), path.c_str()) != 0) {
      fail("{}: cannot rename the temporary file onto '{}': {}", op, path.string(), last_error());
    }
  } catch (...) {
    if (temporary.fd >= 0) ::close(temporary.fd);
    ::unlink(temporary.name.c_str());
    ::close(temporary.lock);
    throw;
  }
  ::close(temporary.lock);  // the temporary name it guarded is gone
  sync_directory(path, op);
}

}  // namespace tg::io::detail
