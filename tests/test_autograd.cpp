// The tape's behaviour: accumulation, retain_graph, misuse, grad mode, deep graphs, no leaks.

#include "helpers.hpp"

using tg::Tensor;

TEST_CASE("a tensor used twice accumulates both gradients", "[autograd]") {
  Tensor x = tg::tensor({2, -3}, {2}, {.requires_grad = true});
  // y = Σ x·x + x  →  dy/dx = 2x + 1
  tg::sum(x * x + x).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{5, -5});
}

TEST_CASE("leaf gradients accumulate across backward calls until zero_grad", "[autograd]") {
  Tensor w = tg::tensor({1.5}, {1}, {.requires_grad = true});
  tg::sum(w * 3.0).backward();
  tg::sum(w * 3.0).backward();
  CHECK(w.grad().item<float>() == 6.0f);
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  tg::sum(w * 3.0).backward();
  CHECK(w.grad().item<float>() == 3.0f);
}

TEST_CASE("retain_graph allows a second backward, without it the second one throws", "[autograd]") {
  Tensor x = tg::tensor({2}, {1}, {.requires_grad = true});
  Tensor y = tg::sum(tg::exp(x));
  y.backward({}, true);
  y.backward();
  CHECK(x.grad().item<float>() == Approx(2 * std::exp(2.0f)));
  CHECK_TG_ERROR(y.backward(), "retain_graph");
  CHECK_TG_ERROR(y.backward(), "'sum'");  // names the op whose values were freed
  CHECK(x.grad().item<float>() == Approx(2 * std::exp(2.0f)));  // unchanged by the failure
}

TEST_CASE("backward misuse is a tg::Error naming the problem", "[autograd]") {
  Tensor x = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  CHECK_TG_ERROR((x * 2.0).backward(),
                 "backward: a gradient can be implied only for one-element "
                 "outputs, got shape [3]");
  CHECK_TG_ERROR((x * 2.0).backward(tg::ones({2})),
                 "backward: gradient Float32 [2] does not match the output Float32 [3]");
  CHECK_TG_ERROR(tg::sum(tg::ones({3})).backward(), "does not require grad");
  CHECK_TG_ERROR(tg::ones({2}, {.dtype = tg::Dtype::Int64}).set_requires_grad(),
                 "only Float32 and Float64 tensors can require grad, got Int64");
  CHECK_TG_ERROR((x * 2.0).set_requires_grad(false), "only leaf tensors");
}

TEST_CASE("a backward that throws leaves no gradient behind for the next one", "[autograd]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  bool fail_once = true;
  const auto flaky = [&fail_once](const Tensor& input) {
    return tg::record("flaky", input.detach() * 2.0, {input},
                      [&fail_once](const Tensor& gy) -> tg::Grads {
                        if (fail_once) tg::fail("flaky: failing on purpose");
                        return {gy * 2.0};
                      });
  };
  // Backward runs newest first: the add hands a gradient to the older sum(x·3), which is still
  // waiting for its turn when flaky throws.
  const Tensor direct = tg::sum(x * 3.0);
  const Tensor through_flaky = tg::sum(flaky(x));
  Tensor loss = direct + through_flaky;
  CHECK_THROWS_AS(loss.backward({}, true), tg::Error);
  x.zero_grad();
  fail_once = false;
  loss.backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{5, 5});  // not 8: nothing stale
}

TEST_CASE("backward with an explicit gradient computes a vector-Jacobian product", "[autograd]") {
  Tensor x = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  (x * x).backward(tg::tensor({1, 0.5, -1}, {3}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 2, -6});
}

TEST_CASE("NoGradGuard stops recording and restores the previous mode", "[autograd]") {
  Tensor x = tg::ones({2}, {.requires_grad = true});
  REQUIRE(tg::is_grad_enabled());
  {
    tg::NoGradGuard guard;
    CHECK_FALSE(tg::is_grad_enabled());
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    { tg::NoGradGuard nested; }
    CHECK_FALSE(tg::is_grad_enabled());
  }
  CHECK(tg::is_grad_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("detach shares storage but cuts the tape", "[autograd]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor y = x * 3.0;
  Tensor d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  d.data<float>()[0] = 10;
  CHECK(y.to_vector<float>()[0] == 10);  // same storage
  // Only the path through y reaches x: z = Σ (x·3)·d  →  dz/dx = 3·d
  tg::sum(y * d).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{30, 18});
}

TEST_CASE("a branch that does not reach the output gets no gradient", "[autograd]") {
  Tensor a = tg::ones({2}, {.requires_grad = true});
  Tensor b = tg::ones({2}, {.requires_grad = true});
  Tensor unused = b * 2.0;
  tg::sum(a * 2.0).backward();
  CHECK(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("a chain of 100,000 ops backpropagates and is freed without recursion", "[autograd]") {
  const int64_t nodes_before = tg::debug::live_nodes();
  Tensor x = tg::tensor({0.5}, {1}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  {
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1e-6;
    CHECK(tg::debug::live_nodes() - nodes_before == 100000);
    tg::sum(y).backward();
    CHECK(x.grad().item<double>() == 1.0);
  }
  {
    Tensor y = x;  // never backpropagated: destruction alone must not recurse either
    for (int i = 0; i < 100000; ++i) y = y * 1.0;
  }
  CHECK(tg::debug::live_nodes() == nodes_before);
}

TEST_CASE("10,000 training steps leave no nodes or storages behind", "[autograd]") {
  tg::manual_seed(11);
  const Tensor x = tg::randn({16, 4});
  const Tensor target = tg::randn({16, 1});
  std::vector<Tensor> params = {tg::randn({4, 8}) * 0.5, tg::zeros({8}), tg::randn({8, 1}) * 0.5,
                                tg::zeros({1})};
  for (Tensor& p : params) p = p.detach().set_requires_grad(true);

  const auto step = [&] {
    for (Tensor& p : params) p.zero_grad();
    Tensor hidden = tg::tanh(tg::matmul(x, params[0]) + params[1]);
    Tensor loss = tg::mean(tg::square(tg::matmul(hidden, params[2]) + params[3] - target));
    loss.backward();
    tg::NoGradGuard no_grad;
    for (Tensor& p : params) {
      float* value = p.data<float>();
      const float* grad = p.grad().data<float>();
      for (int64_t i = 0; i < p.numel(); ++i) value[i] -= 0.05f * grad[i];
    }
    return loss.item<float>();
  };
  const float first_loss = step();
  const int64_t nodes = tg::debug::live_nodes();
  const int64_t storages = tg::debug::live_storages();
  float last_loss = 0;
  for (int i = 0; i < 10000; ++i) last_loss = step();
  CHECK(tg::debug::live_nodes() == nodes);
  CHECK(tg::debug::live_storages() == storages);
  CHECK(last_loss < first_loss);

  // A forward pass that is never backpropagated (an evaluation with grad on) is freed too.
  for (int i = 0; i < 100; ++i) Tensor unused = tg::tanh(tg::matmul(x, params[0]));
  CHECK(tg::debug::live_nodes() == nodes);
  CHECK(tg::debug::live_storages() == storages);
}

TEST_CASE("gradients flow through dtype conversions back in the leaf's dtype", "[autograd]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  tg::sum(x.to(tg::Dtype::Float64) * 2.0).backward();
  CHECK(x.grad().dtype() == tg::Dtype::Float32);
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("backward on a leaf accumulates the gradient into it", "[autograd]") {
  Tensor x = tg::tensor({3}, {}, {.requires_grad = true});
  x.backward();
  CHECK(x.grad().item<float>() == 1.0f);
}

TEST_CASE("a stored gradient is not aliased with the caller's gradient tensor", "[autograd]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor seed = tg::ones({2});
  (x + 0.0).backward(seed);
  seed.data<float>()[0] = 100;
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 1});
}

TEST_CASE("tg::grad returns backward's gradients and leaves every .grad() alone", "[autograd]") {
  tg::manual_seed(21);
  Tensor w = tg::randn({3, 2}, {.requires_grad = true});
  Tensor b = tg::randn({2}, {.requires_grad = true});
  Tensor unused = tg::randn({4}, {.requires_grad = true});
  const Tensor x = tg::randn({5, 3});
  const auto loss = [&] { return tg::sum(tg::tanh(tg::matmul(x, w) + b) * 3.0); };

  b.backward(tg::ones({2}));  // an existing .grad() must stay as it is
  const std::vector<Tensor> grads = tg::grad(loss(), {w, b, unused, w});
  REQUIRE(grads.size() == 4);
  CHECK(!w.grad().defined());
  CHECK(b.grad().to_vector<float>() == std::vector<float>{1, 1});
  CHECK(!grads[2].defined());  // the loss does not depend on it
  CHECK(grads[3].to_vector<float>() == grads[0].to_vector<float>());  // asked for twice

  w.zero_grad();
  b.zero_grad();
  loss().backward();
  CHECK(grads[0].to_vector<float>() == w.grad().to_vector<float>());
  CHECK(grads[1].to_vector<float>() == b.grad().to_vector<float>());

  // A seed scales the result, as in backward(gradient).
  const std::vector<Tensor> halved = tg::grad(loss(), {b}, tg::full({}, 0.5));
  const std::vector<float> full_b = b.grad().to_vector<float>(),
                           half_b = halved[0].to_vector<float>();
  for (size_t i = 0; i < full_b.size(); ++i) CHECK(half_b[i] == 0.5f * full_b[i]);
}

TEST_CASE("tg::grad takes interior tensors as inputs and runs only what reaches them",
          "[autograd]") {
  Tensor w = tg::full({2}, 1.5, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  const Tensor y = w * 2.0;  // 3
  const Tensor z = tg::sum(y * y);

  SECTION("the gradient summed into an interior tensor, beside a leaf's") {
    const std::vector<Tensor> g = tg::grad(z, {w, y});
    CHECK(g[0].to_vector<double>() == std::vector<double>{12, 12});  // 8w
    CHECK(g[1].to_vector<double>() == std::vector<double>{6, 6});    // 2y
  }
  SECTION("the ops below an interior input do not run, so they are not freed") {
    const std::vector<Tensor> g = tg::grad(z, {y});
    CHECK(g[0].to_vector<double>() == std::vector<double>{6, 6});
    y.backward(tg::ones({2}, {.dtype = tg::Dtype::Float64}));  // y's op still has its values
    CHECK(w.grad().to_vector<double>() == std::vector<double>{2, 2});
  }
  SECTION("an input upstream of another gets the paths through it too") {
    const Tensor a = w * 3.0, b = a * a;  // d/da sum(b + a) = 2a + 1, d/db = 1
    const std::vector<Tensor> g = tg::grad(tg::sum(b + a), {b, a});
    CHECK(g[0].to_vector<double>() == std::vector<double>{1, 1});
    CHECK(g[1].to_vector<double>() == std::vector<double>{10, 10});
  }
  SECTION("an op older than every input is left out, and nothing is left waiting in it") {
    const Tensor c = w * 5.0, a = w * 3.0;  // c's op is older than a's
    const std::vector<Tensor> g = tg::grad(tg::sum(a * c), {a});
    CHECK(g[0].to_vector<double>() == std::vector<double>{7.5, 7.5});
    tg::sum(c).backward();  // a gradient parked in c's op would be added here
    CHECK(w.grad().to_vector<double>() == std::vector<double>{5, 5});
  }
  SECTION("with create_graph the result is differentiated through the input's history") {
    Tensor x = tg::from_vector<double>({-0.7, 0.2, 1.1}, {3}).set_requires_grad();
    const Tensor u = tg::tanh(x);
    const Tensor g = tg::grad(tg::sum(u * u), {u}, {}, false, true)[0];  // 2u
    const std::vector<double> second = tg::grad(tg::sum(g), {x})[0].to_vector<double>();
    const std::vector<double> values = x.detach().to_vector<double>();
    for (size_t i = 0; i < values.size(); ++i) {
      const double t = std::tanh(values[i]);
      CHECK(second[i] == Approx(2 * (1 - t * t)).epsilon(1e-14));
    }
  }
}

TEST_CASE("tg::grad rejects inputs that do not require grad", "[autograd]") {
  Tensor w = tg::ones({2}, {.requires_grad = true});
  const Tensor y = w * 2.0;
  CHECK_TG_ERROR(tg::grad(tg::sum(y), {w, tg::ones({2})}),
                 "grad: input 1 does not require grad (neither a leaf that requires grad nor "
                 "computed from one)");
  CHECK_TG_ERROR(tg::grad(tg::sum(y), {Tensor()}), "grad: input 0 does not require grad");
  CHECK_TG_ERROR(tg::grad(tg::sum(tg::ones({2})), {w}),
                 "grad: the tensor [] does not require grad");
  CHECK_TG_ERROR(tg::grad(y, {w}), "grad: a gradient can be implied only for one-element outputs");
}
