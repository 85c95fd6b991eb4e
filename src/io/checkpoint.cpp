// save_checkpoint / load_checkpoint: a whole training state in one safetensors file.

#include <tapegrad/error.hpp>
#include <tapegrad/io/checkpoint.hpp>
#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/threads.hpp>
#include <tapegrad/version.hpp>

#include "dist/fingerprint.hpp"
#include "dist/world.hpp"
#include "io/parameters.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tg {
namespace {

constexpr const char* kFormat = "tapegrad-checkpoint";
constexpr const char* kFamilies[] = {"model.", "optimizer.", "scheduler.", "generator.",
                                     "progress."};

Tensor count_tensor(int64_t value) {
  return full({}, static_cast<double>(value), {.dtype = Dtype::Int64});
}

void add_prefixed(io::NamedTensors& out, const std::string& prefix, const optim::StateDict& dict) {
  for (const auto& [key, tensor] : dict) out.emplace_back(prefix + key, tensor);
}

// The entries of `loaded` under `prefix`, with the prefix removed.
optim::StateDict with_prefix(const io::NamedTensors& loaded, const std::string& prefix) {
  optim::StateDict dict;
  for (const auto& [name, tensor] : loaded) {
    if (name.starts_with(prefix)) dict[name.substr(prefix.size())] = tensor;
  }
  return dict;
}

io::NamedTensors generator_tensors(const Generator& generator) {
  const Generator::State state = generator.state();
  std::vector<int64_t> words;
  for (const uint64_t word : state.words) words.push_back(std::bit_cast<int64_t>(word));
  return {{"generator.words", from_vector<int64_t>(words, {4})},
          {"generator.spare_normal", full({}, state.spare_normal, {.dtype = Dtype::Float64})},
          {"generator.has_spare_normal", count_tensor(state.has_spare_normal ? 1 : 0)}};
}

Generator::State read_generator(const optim::StateDict& dict, const std::string& source) {
  const auto words = dict.find("words");
  if (words == dict.end() || words->second.dtype() != Dtype::Int64 ||
      words->second.shape() != Shape{4}) {
    fail("{}: 'generator.words' is missing or is not Int64 [4]", source);
  }
  Generator::State state{};
  for (size_t i = 0; i < 4; ++i)
    state.words[i] = std::bit_cast<uint64_t>(words->second.data<int64_t>()[i]);
  if (state.words == std::array<uint64_t, 4>{})
    fail("{}: 'generator.words' is all zero, which xoshiro256** never reaches", source);
  state.spare_normal = optim::detail::read_scalar(dict, "spare_normal");
  const int64_t has_spare = optim::detail::read_count(dict, "has_spare_normal");
  if (has_spare > 1) fail("{}: 'generator.has_spare_normal' is {}, not 0 or 1", source, has_spare);
  state.has_spare_normal = has_spare == 1;
  optim::detail::check_known_keys("load_checkpoint: generator", dict,
                                  {"words", "spare_normal", "has_spare_normal"});
  return state;
}

std::string metadata_value(const io::Metadata& metadata, const std::string& key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? "(none)" : it->second;
}

void check_format(const io::Metadata& metadata, const optim::Optimizer& optimizer,
                  const std::string& source) {
  if (metadata_value(metadata, "format") != kFormat) {
    fail("{}: not a tapegrad checkpoint (format '{}'; tg::save files load with tg::load)", source,
         metadata_value(metadata, "format"));
  }
  if (metadata_value(metadata, "format_version") != "1") {
    fail("{}: checkpoint format version {} is not supported (this tapegrad reads 1)", source,
         metadata_value(metadata, "format_version"));
  }
  if (metadata_value(metadata, "optimizer") != optimizer.name()) {
    fail("{}: the checkpoint holds {} state, but the optimizer is {}", source,
         metadata_value(metadata, "optimizer"), optimizer.name());
  }
}

// Results are bit-identical to an uninterrupted run only in the same environment.
void warn_if_environment_differs(const io::Metadata& metadata, const std::string& source) {
  const std::pair<const char*, std::string> now[] = {{"tapegrad_version", version()},
                                                     {"openblas_kernel", blas_core_name()},
                                                     {"threads", std::to_string(num_threads())}};
  for (const auto& [key, value] : now) {
    if (metadata_value(metadata, key) == value) continue;
    fmt::print(stderr,
               "tapegrad: warning: {}: written with {} {}, now {}; the resumed run may differ "
               "from an uninterrupted one in the last bits\n",
               source, key, metadata_value(metadata, key), value);
  }
}

void write_checkpoint(const std::filesystem::path& path, const nn::Module& module,
                      const optim::Optimizer& optimizer, const CheckpointExtra& extra) {
  if (extra.epoch < 0 || extra.step < 0) {
    fail("save_checkpoint: epoch {} and step {} must not be negative", extra.epoch, extra.step);
  }
  io::NamedTensors tensors;
  for (const auto& [name, param] : module.state_dict())
    tensors.emplace_back("model." + name, param);
  add_prefixed(tensors, "optimizer.", optimizer.state_dict());
  if (extra.scheduler) add_prefixed(tensors, "scheduler.", extra.scheduler->state_dict());
  if (extra.generator) {
    for (auto& named : generator_tensors(*extra.generator)) tensors.push_back(std::move(named));
  }
  tensors.emplace_back("progress.epoch", count_tensor(extra.epoch));
  tensors.emplace_back("progress.step", count_tensor(extra.step));
  io::write_safetensors(path, tensors, {{"format", kFormat}, {"optimizer", optimizer.name()}},
                        "save_checkpoint");
}

void read_checkpoint(const std::filesystem::path& path, nn::Module& module,
                     optim::Optimizer& optimizer, CheckpointExtra& extra) {
  const std::string source = fmt::format("load_checkpoint '{}'", path.string());
  const io::SafetensorsReader reader(path, "load_checkpoint");
  check_format(reader.metadata(), optimizer, source);
  const auto params = module.state_dict();
  io::detail::check_parameters_present(reader, params, "model.", source);
  io::detail::check_no_unexpected(
      reader,
      [&](const std::string& name) {
        for (const char* family : kFamilies)
          if (name.starts_with(family)) return true;
        return false;
      },
      source);
  const auto model_tensors =
      std::count_if(reader.tensors().begin(), reader.tensors().end(),
                    [](const io::TensorInfo& info) { return info.name.starts_with("model."); });
  if (static_cast<size_t>(model_tensors) != params.size()) {
    fail("{}: the checkpoint's model has {} parameters, the module {}", source, model_tensors,
         params.size());
  }
  const io::NamedTensors loaded = reader.read_all();
  const optim::StateDict progress = with_prefix(loaded, "progress.");
  const int64_t epoch = optim::detail::read_count(progress, "epoch");
  const int64_t step = optim::detail::read_count(progress, "step");
  optim::detail::check_known_keys("load_checkpoint: progress", progress, {"epoch", "step"});

  const optim::StateDict scheduler = with_prefix(loaded, "scheduler.");
  if (scheduler.empty() != (extra.scheduler == nullptr)) {
    fail("{}: the checkpoint {} a scheduler state but CheckpointExtra::scheduler is {}", source,
         scheduler.empty() ? "holds no" : "holds", extra.scheduler ? "set" : "null");
  }
  const optim::StateDict generator = with_prefix(loaded, "generator.");
  if (generator.empty() != (extra.generator == nullptr)) {
    fail("{}: the checkpoint {} a generator state but CheckpointExtra::generator is {}", source,
         generator.empty() ? "holds no" : "holds", extra.generator ? "set" : "null");
  }
  std::optional<Generator::State> generator_state;
  if (extra.generator) generator_state = read_generator(generator, source);

  // The two loads that can still refuse run first; the optimizer is rolled back if the
  // scheduler refuses. What follows cannot fail.
  const optim::StateDict previous = optimizer.state_dict();
  optimizer.load_state_dict(with_prefix(loaded, "optimizer."));
  if (extra.scheduler) {
    try {
      extra.scheduler->load_state_dict(scheduler);
    } catch (...) {
      optimizer.load_state_dict(previous);
      throw;
    }
  }
  io::detail::copy_into(params, loaded, "model.");
  if (generator_state) extra.generator->set_state(*generator_state);
  extra.epoch = epoch;
  extra.step = step;
  warn_if_environment_differs(reader.metadata(), source);
}

// `local` on this rank, then agreement of all ranks on its success (tg::dist): an error on one
// rank is a tg::Error on every rank, and none is left waiting in a later collective.
void on_every_rank(const char* op, const std::function<void()>& local) {
  dist::detail::agree(op, dist::detail::error_of(local));
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const nn::Module& module,
                     const optim::Optimizer& optimizer, const CheckpointExtra& extra) {
  if (dist::detail::world().size == 1) return write_checkpoint(path, module, optimizer, extra);
  // The ranks hold the same state (data_parallel_backward gives every rank the same gradients):
  // rank 0 writes it for all, the others wait to hear that the write succeeded.
  on_every_rank("save_checkpoint", [&] {
    if (dist::detail::world().rank == 0) write_checkpoint(path, module, optimizer, extra);
  });
}

void load_checkpoint(const std::filesystem::path& path, nn::Module& module,
                     optim::Optimizer& optimizer, CheckpointExtra& extra) {
  if (dist::detail::world().size == 1) return read_checkpoint(path, module, optimizer, extra);
  on_every_rank("load_checkpoint", [&] { read_checkpoint(path, module, optimizer, extra); });
  // Each rank read its own copy: they must have read the same state.
  uint64_t state = 0;
  on_every_rank("load_checkpoint", [&] {
    std::vector<Tensor> tensors = module.parameters();
    for (const auto& [key, tensor] : optimizer.state_dict()) tensors.push_back(tensor);
    state = dist::detail::fingerprint(tensors, true) ^ static_cast<uint64_t>(extra.step);
  });
  const dist::detail::Fact facts[] = {{"the loaded model and optimizer state (a hash)", state}};
  dist::detail::agree("load_checkpoint", "", facts);
}

}  // namespace tg
