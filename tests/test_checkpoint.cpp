#include <tapegrad/tapegrad.hpp>

#include "helpers.hpp"
#include "optim_table.hpp"
#include "scratch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <memory>

using namespace tg;
using tg::testing::bytes_of;
using tg::testing::ScratchDir;

namespace {

using tg::testing::MakeOptimizer;

// Every optimizer of the table, each with the options that add state.
std::vector<std::pair<std::string, MakeOptimizer>> every_optimizer() {
  std::vector<std::pair<std::string, MakeOptimizer>> all;
  for (const auto& row : tg::testing::every_optimizer()) all.emplace_back(row.name, row.configured);
  return all;
}

// The first optimizer of that name in every_optimizer().
MakeOptimizer optimizer_named(const std::string& name) {
  for (const auto& [n, make] : every_optimizer()) {
    if (n == name) return make;
  }
  throw std::runtime_error("no optimizer " + name);
}

data::TensorDataset regression_data() {
  manual_seed(11);
  Tensor x = randn({96, 3});
  return {x, tg::sum(tg::tanh(x * 2.0), 1, true)};
}

// A training run whose every source of state matters: shuffled batches, input noise from the
// default generator, a StepLR schedule.
struct Run {
  explicit Run(const MakeOptimizer& make, uint64_t init_seed)
      : loader(regression_data(), {.batch_size = 16, .shuffle = true, .seed = 3}) {
    manual_seed(init_seed);
    model = nn::Sequential{nn::Linear(3, 8), nn::Tanh(), nn::Linear(8, 1)};
    optimizer = make(model.parameters());
    scheduler = std::make_unique<optim::StepLR>(*optimizer, 2, 0.5);
  }

  void train_epoch() {
    for (const auto& batch : loader) {
      const Tensor noisy = batch.inputs + randn(batch.inputs.shape()) * 0.01;
      optimizer->step([&] {  // a closure, which L-BFGS needs (and may call more than once)
        optimizer->zero_grad();
        Tensor loss = nn::mse_loss(model(noisy), batch.targets);
        loss.backward();
        return loss;
      });
      ++steps;
    }
    scheduler->step();
  }

  CheckpointExtra extra() {
    return {.epoch = loader.epoch(),
            .step = steps,
            .scheduler = scheduler.get(),
            .generator = &default_generator()};
  }

  nn::Sequential model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::StepLR> scheduler;
  data::DataLoader loader;
  int64_t steps = 0;
};

}  // namespace

TEST_CASE(
    "resuming from a checkpoint is bit-identical to an uninterrupted run, for every optimizer") {
  constexpr int kSavedAfter = 3, kTotal = 6;
  for (const auto& [name, make] : every_optimizer()) {
    INFO(name);
    ScratchDir dir;
    Run uninterrupted(make, 1);
    for (int e = 0; e < kTotal; ++e) uninterrupted.train_epoch();

    Run first_half(make, 1);
    for (int e = 0; e < kSavedAfter; ++e) first_half.train_epoch();
    save_checkpoint(dir / "run.ckpt", first_half.model, *first_half.optimizer, first_half.extra());
    manual_seed(999);  // the resumed process starts from an unrelated generator state

    Run resumed(make, 2);  // different initial weights: everything must come from the file
    CheckpointExtra extra = resumed.extra();
    load_checkpoint(dir / "run.ckpt", resumed.model, *resumed.optimizer, extra);
    CHECK(extra.epoch == kSavedAfter);
    CHECK(extra.step == first_half.steps);
    resumed.loader.set_epoch(extra.epoch);
    resumed.steps = extra.step;
    for (int e = kSavedAfter; e < kTotal; ++e) resumed.train_epoch();

    CHECK(bytes_of(resumed.model.parameters()) == bytes_of(uninterrupted.model.parameters()));
    CHECK(bytes_of(resumed.optimizer->state_dict()) ==
          bytes_of(uninterrupted.optimizer->state_dict()));
    CHECK(resumed.optimizer->lr() == uninterrupted.optimizer->lr());
    CHECK(resumed.steps == uninterrupted.steps);
  }
}

TEST_CASE("a ReduceLROnPlateau scheduler is checkpointed too") {
  ScratchDir dir;
  manual_seed(1);
  nn::Linear layer(2, 1);
  optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  optim::ReduceLROnPlateau plateau(sgd, {.patience = 0});
  plateau.step(1.0);
  plateau.step(2.0);  // no improvement: lr 0.1 → 0.01
  save_checkpoint(dir / "p.ckpt", layer, sgd, {.scheduler = &plateau});
  optim::SGD fresh_sgd(layer.parameters(), {.lr = 0.1});
  optim::ReduceLROnPlateau fresh(fresh_sgd, {.patience = 0});
  CheckpointExtra extra{.scheduler = &fresh};
  load_checkpoint(dir / "p.ckpt", layer, fresh_sgd, extra);
  CHECK(fresh_sgd.lr() == Approx(0.01));
  CHECK(bytes_of(fresh.state_dict()) == bytes_of(plateau.state_dict()));
}

TEST_CASE("a rejected checkpoint leaves module, optimizer, scheduler and generator untouched") {
  ScratchDir dir;
  manual_seed(5);
  Run source(optimizer_named("RMSProp"), 5);
  source.train_epoch();
  save_checkpoint(dir / "good.ckpt", source.model, *source.optimizer, source.extra());
  save(source.model, dir / "plain.safetensors");
  io::Metadata metadata;
  const io::NamedTensors good = io::read_safetensors(dir / "good.ckpt", &metadata);
  // Rewrites the checkpoint with one tensor replaced, added, or dropped (when `replacement` is
  // undefined).
  const auto tampered = [&](const std::string& name, Tensor replacement) {
    io::NamedTensors tensors;
    for (const auto& [key, tensor] : good) {
      if (key != name) tensors.emplace_back(key, tensor);
    }
    if (replacement.defined()) tensors.emplace_back(name, replacement);
    const auto path = dir / ("tampered-" + name + ".ckpt");
    io::write_safetensors(
        path, tensors,
        {{"format", metadata.at("format")}, {"optimizer", metadata.at("optimizer")}});
    return path;
  };

  Run target(optimizer_named("RMSProp"), 6);
  target.train_epoch();
  const auto model_before = bytes_of(target.model.parameters());
  const auto optimizer_before = bytes_of(target.optimizer->state_dict());
  const auto scheduler_before = bytes_of(target.scheduler->state_dict());
  const auto generator_before = default_generator().state().words;
  CheckpointExtra extra = target.extra();
  const auto rejects = [&](const std::filesystem::path& path, const std::string& fragment) {
    INFO(path.filename().string());
    CHECK_TG_ERROR(load_checkpoint(path, target.model, *target.optimizer, extra), fragment);
    CHECK(bytes_of(target.model.parameters()) == model_before);
    CHECK(bytes_of(target.optimizer->state_dict()) == optimizer_before);
    CHECK(bytes_of(target.scheduler->state_dict()) == scheduler_before);
    CHECK(default_generator().state().words == generator_before);
    CHECK(extra.step == target.steps);
  };
  rejects(dir / "plain.safetensors", "not a tapegrad checkpoint");
  rejects(tampered("optimizer.state.0.square_avg", zeros({3})), "'state.0.square_avg' is missing");
  rejects(tampered("optimizer.state.1.step", full({}, 0.5, {.dtype = Dtype::Float64})),
          "is not a count");
  rejects(tampered("optimizer.group.0.centered", full({}, 2.0, {.dtype = Dtype::Float64})),
          "is not 0 or 1");
  rejects(tampered("optimizer.group.0.lr", full({}, -1.0, {.dtype = Dtype::Float64})),
          "invalid lr");
  rejects(tampered("optimizer.state.0.grad_avg", Tensor()), "'state.0.grad_avg' is missing");
  rejects(tampered("optimizer.group.0.extra_option", full({}, 1.0)), "unexpected entry");
  // The scheduler is loaded after the optimizer: the optimizer must be rolled back.
  rejects(tampered("scheduler.last_epoch", full({}, -1.0, {.dtype = Dtype::Float64})),
          "is not a count");
  rejects(tampered("generator.words", zeros({4}, {.dtype = Dtype::Int64})), "all zero");
  rejects(tampered("progress.step", Tensor()), "missing 'step'");
  rejects(tampered("model.0.weight", zeros({8, 2})), "Float32 [8, 2] in the file");
  rejects(tampered("model.2.bias", Tensor()), "no tensor 'model.2.bias'");
  rejects(tampered("stray", zeros({1})), "'stray'");

  optim::Adam adam(target.model.parameters(), {});
  CHECK_TG_ERROR(load_checkpoint(dir / "good.ckpt", target.model, adam, extra),
                 "holds RMSProp state, but the optimizer is Adam");
  CheckpointExtra no_scheduler{.generator = &default_generator()};
  CHECK_TG_ERROR(load_checkpoint(dir / "good.ckpt", target.model, *target.optimizer, no_scheduler),
                 "CheckpointExtra::scheduler is null");
  CHECK(bytes_of(target.model.parameters()) == model_before);
}

TEST_CASE("save_checkpoint rejects negative progress") {
  ScratchDir dir;
  nn::Linear layer(2, 1);
  optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  CHECK_TG_ERROR(save_checkpoint(dir / "x.ckpt", layer, sgd, {.epoch = -1}),
                 "must not be negative");
  CHECK_FALSE(std::filesystem::exists(dir / "x.ckpt"));
}

TEST_CASE("resuming in another environment warns that the last bits may differ") {
  ScratchDir dir;
  nn::Linear layer(2, 1);
  optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  save_checkpoint(dir / "run.ckpt", layer, sgd);
  // Pretend the checkpoint came from a run with 9 threads (same length: the header stays valid).
  auto bytes = tg::testing::read_bytes(dir / "run.ckpt");
  std::string text(bytes.begin(), bytes.end());
  const std::string now = fmt::format("\"threads\":\"{}\"", num_threads());
  REQUIRE(text.find(now) != std::string::npos);
  REQUIRE(now.size() == 13);  // one digit, like the replacement
  text.replace(text.find(now), now.size(), "\"threads\":\"9\"");
  tg::testing::write_bytes(dir / "run.ckpt", {text.begin(), text.end()});

  // Capture stderr in a file while loading.
  const int saved = ::dup(2);
  const auto log = dir / "stderr.txt";
  const int file = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(file, 2);
  CheckpointExtra extra;
  load_checkpoint(dir / "run.ckpt", layer, sgd, extra);
  ::dup2(saved, 2);
  ::close(file);
  ::close(saved);
  const auto written = tg::testing::read_bytes(log);
  const std::string message(written.begin(), written.end());
  CHECK_THAT(message, Catch::Matchers::Contains(
                          fmt::format("written with threads 9, now {}", num_threads())));
  CHECK_THAT(message, Catch::Matchers::Contains("may differ from an uninterrupted one"));
}
