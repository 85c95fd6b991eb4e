// Parallelism: data_parallel_backward against a plain backward, optimizer updates split across
// threads, and the worker pool under both.

#include "helpers.hpp"

#include "thread_pool.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <vector>

using tg::Tensor;
namespace nn = tg::nn;

namespace {

// Restores the thread count a test changes.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : previous_(tg::num_threads()) { tg::set_num_threads(threads); }
  ~ThreadCount() { tg::set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};

// Labels 0, 1, 2, 0, … for n rows.
Tensor labels(int64_t n) {
  std::vector<int64_t> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(i % 3);
  return tg::from_vector(values, {n});
}

struct Problem {
  nn::Sequential model{nn::Linear(6, 16), nn::ReLU(), nn::Linear(16, 3)};
  // 259 rows: four shards (of 64 and 65 rows) that do not split evenly.
  Tensor inputs = tg::randn({259, 6});
  Tensor targets = labels(259);
  nn::ShardLoss loss = [this](const Tensor& x, const Tensor& y) {
    return nn::cross_entropy(model(x), y);
  };
  nn::ShardLoss summed_loss = [this](const Tensor& x, const Tensor& y) {
    return nn::cross_entropy(model(x), y, {.reduction = nn::Reduction::Sum});
  };
};

std::vector<std::vector<float>> gradients(const std::vector<Tensor>& params) {
  std::vector<std::vector<float>> out;
  for (const Tensor& p : params) out.push_back(p.grad().to_vector<float>());
  return out;
}

// ThreadSanitizer cannot start threads in a child forked from a threaded process.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadsInForkedChild = false;
#elif defined(__has_feature)
constexpr bool kThreadsInForkedChild = !__has_feature(thread_sanitizer);
#else
constexpr bool kThreadsInForkedChild = true;
#endif

// Runs `child` in a forked process that then calls exit() with its result (so static destructors
// run, as in a real program; _Exit under AddressSanitizer, see below). Returns that exit code, or
// -1 when the child did not exit normally within 30 s (it is then killed): generous, so a loaded
// machine does not fail the test.
int exit_code_in_child(const std::function<int()>& child) {
  std::cout.flush();
  std::fflush(nullptr);  // or the child's exit() writes the parent's buffered output again
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 99;  // the child threw
    try {
      code = child();
    } catch (...) {
    }
#if defined(__SANITIZE_ADDRESS__)
    // LeakSanitizer's check at exit misreads a forked child (the parent's threads are gone, their
    // thread_local buffers look leaked, and it can hang stopping threads that do not exist).
    std::_Exit(code);
#else
    std::exit(code);
#endif
  }
  int status = 0;
  for (int waited_ms = 0; waited_ms < 30'000; waited_ms += 10) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// The threads this process has now (tapegrad's, OpenBLAS's and the test's).
int thread_count() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<int>(std::distance(begin(tasks), end(tasks)));
}

}  // namespace

TEST_CASE(
    "data_parallel_backward gives the batch's gradients, the same bits for every thread count",
    "[parallel]") {
  tg::manual_seed(31);
  Problem problem;
  const std::vector<Tensor> params = problem.model.parameters();
  const Tensor plain = problem.loss(problem.inputs, problem.targets);
  plain.backward();
  const auto want = gradients(params);

  std::vector<std::vector<float>> one_thread;
  for (int threads : {1, 2, 3, 4}) {
    const ThreadCount count(threads);
    problem.model.zero_grad();
    const Tensor loss =
        nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss);
    const auto got = gradients(params);
    INFO(threads << " threads");
    CHECK(!loss.requires_grad());
    CHECK(loss.item<double>() == Approx(plain.item<double>()).epsilon(1e-6));
    for (size_t i = 0; i < got.size(); ++i) {
      REQUIRE(got[i].size() == want[i].size());
      for (size_t j = 0; j < got[i].size(); ++j) {
        CHECK(got[i][j] == Approx(want[i][j]).margin(1e-6));  // another summation order
      }
    }
    if (threads == 1) one_thread = got;
    CHECK(got == one_thread);  // the shards depend on the batch only
    problem.model.zero_grad();
    nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss);
    CHECK(gradients(params) == got);  // and run after run
  }
}

TEST_CASE("data_parallel_backward accumulates like backward and handles summed losses",
          "[parallel]") {
  tg::manual_seed(32);
  Problem problem;
  const std::vector<Tensor> params = problem.model.parameters();
  problem.summed_loss(problem.inputs, problem.targets).backward();
  problem.summed_loss(problem.inputs, problem.targets).backward();  // twice: accumulated
  const auto want = gradients(params);

  const ThreadCount count(2);
  problem.model.zero_grad();
  for (int i = 0; i < 2; ++i) {
    nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.summed_loss,
                               nn::Reduction::Sum);
  }
  const auto got = gradients(params);
  for (size_t i = 0; i < got.size(); ++i) {
    for (size_t j = 0; j < got[i].size(); ++j) CHECK(got[i][j] == Approx(want[i][j]).margin(1e-4));
  }
}

TEST_CASE("data_parallel_backward rejects misuse and leaves gradients alone when a shard throws",
          "[parallel]") {
  tg::manual_seed(33);
  Problem problem;
  const std::vector<Tensor> params = problem.model.parameters();
  const ThreadCount count(2);
  CHECK_TG_ERROR(nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss,
                                            nn::Reduction::None),
                 "data_parallel_backward: the loss must be reduced (Mean or Sum), got None");
  CHECK_TG_ERROR(
      nn::data_parallel_backward(params, problem.inputs, tg::zeros({5}), problem.loss),
      "data_parallel_backward: inputs [259, 6] and targets [5] must have the same number of rows");
  CHECK_TG_ERROR(
      nn::data_parallel_backward(params, problem.inputs, problem.targets,
                                 [&](const Tensor& x, const Tensor&) { return problem.model(x); }),
      "data_parallel_backward: the loss must be one element, got [64, 3]");
  CHECK_TG_ERROR(nn::data_parallel_backward({params[0], tg::ones({2})}, problem.inputs,
                                            problem.targets, problem.loss),
                 "data_parallel_backward: parameter 1 is not a leaf tensor that requires grad");
  // The second shard's rows hold an out-of-range class: its error reaches the caller.
  Tensor bad_targets = problem.targets.clone();
  bad_targets.data<int64_t>()[36] = 7;
  CHECK_THROWS_AS(nn::data_parallel_backward(params, problem.inputs, bad_targets, problem.loss),
                  tg::Error);
  for (const Tensor& p : params) CHECK(!p.grad().defined());
  {
    const tg::NoGradGuard no_grad;
    CHECK_TG_ERROR(
        nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss),
        "data_parallel_backward: grad mode is off (a NoGradGuard is active on this thread)");
  }
}

TEST_CASE("a parameter listed twice gets its gradient once, as with backward", "[parallel]") {
  tg::manual_seed(35);
  Problem problem;
  std::vector<Tensor> params = problem.model.parameters();
  const ThreadCount count(2);
  nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss);
  const auto once = gradients(params);
  problem.model.zero_grad();
  params.push_back(params[0]);  // as a weight tied between two modules is listed
  nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss);
  params.pop_back();
  CHECK(gradients(params) == once);
}

TEST_CASE("run_parts runs every part once and rethrows the lowest part's exception", "[parallel]") {
  const ThreadCount count(2);
  for (int parts : {0, 1, 2, 5}) {
    std::vector<std::atomic<int>> runs(static_cast<size_t>(parts));
    tg::detail::run_parts(parts, [&](int part) { ++runs[static_cast<size_t>(part)]; });
    for (const auto& r : runs) CHECK(r.load() == 1);
  }
  // A part that itself splits work runs the inner parts on its own thread (no deadlock).
  std::atomic<int> inner{0};
  tg::detail::run_parts(2, [&](int) { tg::detail::run_parts(2, [&](int) { ++inner; }); });
  CHECK(inner.load() == 4);
  const auto failing = [](int part) {
    if (part >= 1) throw std::runtime_error("part " + std::to_string(part));
  };
  CHECK_THROWS_WITH(tg::detail::run_parts(3, failing), "part 1");
}

TEST_CASE("optimizer steps split across threads give the same bits as on one thread",
          "[parallel]") {
  // 100k elements: above the size at which updates are split; options that give every state
  // array a part (centered RMSProp with momentum, amsgrad, weight decay).
  const auto trajectory = [](int threads, auto make_optimizer) {
    const ThreadCount count(threads);
    tg::manual_seed(34);
    Tensor w = tg::randn({100, 1000}, {.requires_grad = true});
    const Tensor target = tg::randn({100, 1000});
    auto optimizer = make_optimizer(w);
    for (int step = 0; step < 3; ++step) {
      optimizer.zero_grad();
      tg::sum(tg::square(w - target)).backward();
      optimizer.step();
    }
    return w.to_vector<float>();
  };
  const auto check = [&](const char* name, auto make_optimizer) {
    INFO(name);
    const std::vector<float> one = trajectory(1, make_optimizer);
    CHECK(trajectory(2, make_optimizer) == one);
    CHECK(trajectory(3, make_optimizer) == one);
  };
  check("RMSProp", [](const Tensor& w) {
    return tg::optim::RMSProp(
        {w}, {.lr = 1e-2, .weight_decay = 1e-3, .momentum = 0.9, .centered = true});
  });
  check("Adam", [](const Tensor& w) {
    return tg::optim::Adam({w}, {.lr = 1e-2, .weight_decay = 1e-3, .amsgrad = true});
  });
  check("AdamW", [](const Tensor& w) { return tg::optim::AdamW({w}, {.lr = 1e-2}); });
  check("Adagrad", [](const Tensor& w) {
    return tg::optim::Adagrad({w}, {.lr = 1e-2, .lr_decay = 1e-3, .weight_decay = 1e-3});
  });
}

TEST_CASE("a child forked after a parallel step can exit and can train with or without threads",
          "[parallel]") {
  tg::manual_seed(36);
  Problem problem;
  const std::vector<Tensor> params = problem.model.parameters();
  const auto step = [&](int threads) {
    const ThreadCount count(threads);
    problem.model.zero_grad();
    nn::data_parallel_backward(params, problem.inputs, problem.targets, problem.loss);
    return gradients(params);
  };
  const auto one_thread = step(1);
  const auto two_threads = step(2);  // the pool now has a worker, which a child does not inherit
  INFO("-1: the child hung (killed after 30 s)");
  CHECK(exit_code_in_child([] { return 0; }) == 0);
  CHECK(exit_code_in_child([&] {
          if (kThreadsInForkedChild && step(2) != two_threads) return 1;
          if (step(1) != one_thread) return 2;
          return !kThreadsInForkedChild || step(2) == two_threads ? 0 : 3;
        }) == 0);
}

TEST_CASE("set_num_threads while another thread runs parts changes the count safely",
          "[parallel]") {
  // run_parts used to read the count twice: lowered in between, it started parts on workers
  // that no longer existed, and hung. In a child, so that a hang fails this test only (in
  // process under ThreadSanitizer, which then checks the pool's synchronization).
  const ThreadCount count(4);
  const auto change_while_running = [] {
    std::atomic<bool> done{false};
    std::thread changer([&] {
      for (int i = 0; !done.load(); ++i) tg::set_num_threads(i % 2 == 0 ? 1 : 4);
    });
    std::atomic<int> runs{0};
    for (int i = 0; i < 100'000; ++i) tg::detail::run_parts(4, [&](int) { ++runs; });
    done = true;
    changer.join();
    return runs.load() == 4 * 100'000 ? 0 : 1;
  };
  INFO("-1: the child hung (killed after 30 s)");
  CHECK((kThreadsInForkedChild ? exit_code_in_child(change_while_running)
                               : change_while_running()) == 0);
}

TEST_CASE("set_num_threads is bounded and the pool starts only the workers the parts need",
          "[parallel]") {
  CHECK_TG_ERROR(tg::set_num_threads(0), "set_num_threads: expected at least 1 thread, got 0");
  CHECK_TG_ERROR(tg::set_num_threads(1025),
                 "set_num_threads: expected at most 1024 threads, got 1025");
  CHECK_TG_ERROR(tg::set_num_threads(100000),
                 "set_num_threads: expected at most 1024 threads, got 100000");
  const ThreadCount count(8);
  const int before = thread_count();
  tg::detail::run_parts(2, [](int) {});  // one worker at most, not seven
  CHECK(thread_count() - before <= 1);
}

TEST_CASE("a worker thread that cannot be started is a tg::Error", "[parallel]") {
  if (!kThreadsInForkedChild) {
    WARN("skipped: ThreadSanitizer cannot start threads in a forked child");
    return;
  }
  // In a child whose threads would need a stack larger than any address space, so that every
  // thread start fails (the parent's pool is not the child's: it starts its workers anew).
  const ThreadCount count(3);
  CHECK(exit_code_in_child([] {
          pthread_attr_t huge_stack;
          pthread_attr_init(&huge_stack);
          if (pthread_attr_setstacksize(&huge_stack, size_t{1} << 60) != 0) return 2;
          if (pthread_setattr_default_np(&huge_stack) != 0) return 3;
          try {
            tg::detail::run_parts(3, [](int) {});
          } catch (const tg::Error& e) {
            const std::string message = e.what();
            return message.starts_with("thread pool: cannot start worker 1 of 2: ") ? 0 : 4;
          } catch (const std::system_error&) {
            return 5;
          }
          return 6;
        }) == 0);
}

TEST_CASE("a child forked while another thread draws random numbers can draw", "[parallel]") {
  // The drawing thread holds the default generator's lock most of the time: without fork
  // handlers the child would often inherit it held and wait forever.
  std::atomic<bool> done{false};
  std::thread drawer([&] {
    while (!done.load()) tg::default_generator().normal();
  });
  INFO("-1: the child hung (killed after 30 s)");
  for (int i = 0; i < 5; ++i) {
    CHECK(exit_code_in_child(
              [] { return std::isfinite(tg::sum(tg::randn({4})).item<double>()) ? 0 : 1; }) == 0);
  }
  done = true;
  drawer.join();
}
