// Crash safety of save: SIGKILL at random moments, read-only and full file systems, concurrent
// writers and the longest file names.

#include <tapegrad/tapegrad.hpp>

#include "helpers.hpp"
#include "io/file.hpp"
#include "scratch.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <random>
#include <thread>

using namespace tg;
using tg::testing::bytes_of;
using tg::testing::ScratchDir;

namespace {

// About 0.8 MB of parameters, so a save takes long enough for kills to land inside it.
nn::Sequential big_model() { return nn::Sequential{nn::Linear(400, 400), nn::Linear(400, 100)}; }

void fill(nn::Module& model, float value) {
  NoGradGuard no_grad;
  for (Tensor& p : model.parameters()) {
    float* data = p.data<float>();
    std::fill(data, data + p.numel(), value);
  }
}

// The one value every parameter element holds, or nullopt for a mixed state.
std::optional<float> uniform_value(const nn::Module& model) {
  std::optional<float> value;
  for (const Tensor& p : model.parameters()) {
    for (const float x : p.to_vector<float>()) {
      if (value && *value != x) return std::nullopt;
      value = x;
    }
  }
  return value;
}

// A tmpfs mounted on a scratch directory (needs root; otherwise mounted() is false).
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::filesystem::path& where, const char* size) : where_(where) {
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", where.c_str(), "tmpfs", 0,
                                           fmt::format("size={}", size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool make_read_only() {
    return ::mount("tmpfs", where_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::filesystem::path where_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a save killed at 200+ random moments never leaves a truncated or mixed file") {
  ScratchDir dir;
  const auto path = dir / "model.safetensors";
  std::mt19937 random(12345);
  int killed_mid_save = 0, complete = 0, absent = 0;
  for (int round = 0; round < 220; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      nn::Sequential model = big_model();
      for (int i = 1;; ++i) {
        fill(model, static_cast<float>(round * 100000 + i));
        save(model, path);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 20000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    bool leftover = false;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      leftover |= entry.path().filename().string().starts_with(".model.safetensors.tmp-");
    killed_mid_save += leftover;
    if (!std::filesystem::exists(path)) {
      ++absent;
      continue;
    }
    nn::Sequential loaded = big_model();
    load(loaded, path);  // throws (failing the test) on a truncated or corrupt file
    const auto value = uniform_value(loaded);
    REQUIRE(value.has_value());  // never a mix of two states
    CHECK(*value >= 1);
    ++complete;
  }
  INFO("complete " << complete << ", absent " << absent << ", killed mid-save " << killed_mid_save);
  CHECK(complete + absent == 220);
  CHECK(killed_mid_save > 0);  // the kills did land inside saves
  nn::Sequential model = big_model();
  save(model, path);  // and the next save cleans up after them
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);
}

TEST_CASE("saving into a read-only directory fails and the previous checkpoint still loads") {
  ScratchDir dir;
  TmpfsMount mount(dir.path(), "1m");
  manual_seed(1);
  nn::Linear saved(3, 2);
  save(saved, dir / "model.safetensors");
  if (mount.mounted()) {
    REQUIRE(mount.make_read_only());
  } else {
    std::filesystem::permissions(
        dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  }
  nn::Linear other(3, 2);
  CHECK_TG_ERROR(save(other, dir / "model.safetensors"), "model.safetensors");
  nn::Linear loaded(3, 2);
  load(loaded, dir / "model.safetensors");
  CHECK(bytes_of(loaded.parameters()) == bytes_of(saved.parameters()));
  if (!mount.mounted()) std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
}

TEST_CASE("saving onto a full file system fails and the previous checkpoint still loads") {
  ScratchDir dir;
  TmpfsMount mount(dir.path(), "64k");
  if (!mount.mounted()) {
    WARN("skipped: mounting a small tmpfs needs root");
    return;
  }
  manual_seed(2);
  nn::Linear saved(3, 2);
  save(saved, dir / "model.safetensors");
  nn::Sequential too_big = big_model();
  CHECK_TG_ERROR(save(too_big, dir / "model.safetensors"), "No space left on device");
  nn::Linear loaded(3, 2);
  load(loaded, dir / "model.safetensors");
  CHECK(bytes_of(loaded.parameters()) == bytes_of(saved.parameters()));
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);  // the temporary file was removed
}

TEST_CASE("two processes saving to one path at once never fail and leave a loadable file") {
  ScratchDir dir;
  const auto path = dir / "model.safetensors";
  constexpr int kSaves = 150;
  pid_t children[2];
  for (int writer = 0; writer < 2; ++writer) {
    children[writer] = ::fork();
    REQUIRE(children[writer] >= 0);
    if (children[writer] == 0) {
      nn::Linear model(100, 100);
      int failures = 0;
      for (int i = 1; i <= kSaves; ++i) {
        fill(model, static_cast<float>((writer + 1) * 1000 + i));
        try {
          save(model, path);
        } catch (const Error&) {
          ++failures;
        }
      }
      ::_exit(std::min(failures, 100));  // _exit: skip the parent's destructors
    }
  }
  for (const pid_t child : children) {
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // the number of failed saves
  }
  nn::Linear loaded(100, 100);
  load(loaded, path);
  const auto value = uniform_value(loaded);
  REQUIRE(value.has_value());
  CHECK((*value == 1000 + kSaves || *value == 2000 + kSaves));  // one writer's last save
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);  // every temporary file was renamed or removed
}

TEST_CASE("a save removes stale temporary files but not one a live writer holds locked") {
  ScratchDir dir;
  const auto path = dir / "model.safetensors";
  const auto live = dir / ".model.safetensors.tmp-1-live";
  const auto stale = dir / ".model.safetensors.tmp-2-stale";
  tg::testing::write_bytes(live, {1, 2, 3});
  tg::testing::write_bytes(stale, {1, 2, 3});
  // A writer holds a lock on its temporary file until the rename; this descriptor plays one.
  const int writer = ::open(live.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(writer >= 0);
  REQUIRE(::flock(writer, LOCK_EX) == 0);
  nn::Linear model(3, 2);
  save(model, path);
  CHECK(std::filesystem::exists(live));
  CHECK(!std::filesystem::exists(stale));
  ::close(writer);  // the writer is gone: its file is stale now
  save(model, path);
  CHECK(!std::filesystem::exists(live));
}

TEST_CASE("file names of up to 255 bytes save and load and leave no temporary file behind") {
  ScratchDir dir;
  manual_seed(3);
  nn::Linear saved(3, 2);
  for (const size_t length : {1, 200, 222, 223, 227, 228, 240, 254, 255}) {
    INFO("name length " << length);
    const std::string name = std::string(length - 1, 'm') + "x";
    const auto path = dir / name;
    // A stale temporary file of an interrupted save of this path, named as a save names it.
    const auto stale = dir / (io::detail::temporary_prefix(path) + "1-dead");
    tg::testing::write_bytes(stale, {1, 2, 3});
    REQUIRE(std::filesystem::exists(stale));  // so the temporary name fits in NAME_MAX
    save(saved, path);
    nn::Linear loaded(3, 2);
    load(loaded, path);
    CHECK(bytes_of(loaded.parameters()) == bytes_of(saved.parameters()));
    CHECK(!std::filesystem::exists(stale));
    std::filesystem::remove(path);
  }
  CHECK(std::filesystem::is_empty(dir.path()));
}
