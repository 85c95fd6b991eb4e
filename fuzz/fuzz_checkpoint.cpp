// tg::load_checkpoint of arbitrary bytes into a fixed model, optimizer, scheduler and
// generator: load or tg::Error, and a rejected file changes nothing.

#include <tapegrad/tapegrad.hpp>

#include "scratch_file.hpp"

#include <cstdlib>

namespace {

struct Training {
  tg::nn::Sequential model{tg::nn::Linear(3, 2)};
  tg::optim::RMSProp optimizer{model.parameters(), {.lr = 0.01, .momentum = 0.9, .centered = true}};
  tg::optim::StepLR scheduler{optimizer, 2};
  tg::Generator generator{1};
};

// Every bit of the training state.
std::string fingerprint(Training& t) {
  std::string out;
  for (const auto& [key, tensor] : t.optimizer.state_dict())
    out += key, fuzz::append_bytes(out, tensor);
  for (const auto& [key, tensor] : t.scheduler.state_dict())
    out += key, fuzz::append_bytes(out, tensor);
  for (const tg::Tensor& p : t.model.parameters()) fuzz::append_bytes(out, p);
  return out + std::to_string(t.generator.state().words[0]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Training t;
  const auto path = fuzz::write_scratch("run.ckpt", data, size);
  const std::string before = fingerprint(t);
  tg::CheckpointExtra extra{.scheduler = &t.scheduler, .generator = &t.generator};
  try {
    tg::load_checkpoint(path, t.model, t.optimizer, extra);
  } catch (const tg::Error&) {
    if (fingerprint(t) != before) std::abort();  // a rejected checkpoint changed something
  }
  return 0;
}
