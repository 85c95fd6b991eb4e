// In-place ops and the version counter: PyTorch's rules for when a tensor may be written in
// place, what the write reaches, and the error a backward gives when a tensor it saved changed.

#include "helpers.hpp"
#include "scratch.hpp"

using tg::Dtype;
using tg::Tensor;
using V = std::vector<float>;

TEST_CASE("a hand-written update under NoGradGuard changes the parameter every handle sees",
          "[inplace]") {
  Tensor w = tg::tensor({1, 2, 3}, {3}, {.requires_grad = true});
  const Tensor same = w;     // a second handle, as a module's registry holds
  (w * w).sum().backward();  // grad = 2w = [2, 4, 6]
  {
    tg::NoGradGuard no_grad;
    w -= 0.5 * w.grad();  // w − ½·2w = 0
  }
  CHECK(same.to_vector<float>() == V{0, 0, 0});
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());
}

TEST_CASE("an in-place op on a leaf that requires grad is an error while grad mode is on",
          "[inplace]") {
  Tensor w = tg::ones({2}, {.requires_grad = true});
  CHECK_TG_ERROR(w.add_(1),
                 "add_: a leaf tensor that requires grad (Float32 [2]) cannot be modified");
  CHECK_TG_ERROR(w *= 2.0, "mul_: a leaf tensor that requires grad");
  CHECK_TG_ERROR(w.zero_(), "fill_: a leaf tensor that requires grad");
  CHECK(w.to_vector<float>() == V{1, 1});  // nothing was written
}

TEST_CASE("in-place arithmetic, copy_, fill_ and zero_ give PyTorch's values", "[inplace]") {
  Tensor x = tg::tensor({1, 2, 3, 4}, {2, 2});
  x.add_(tg::tensor({10, 20}, {2}), 2);  // x + 2·[10, 20] broadcast over rows
  CHECK(x.to_vector<float>() == V{21, 42, 23, 44});
  x.sub_(tg::tensor({1, 2}, {2}), 1);
  CHECK(x.to_vector<float>() == V{20, 40, 22, 42});
  x /= 2.0;
  x *= tg::tensor({1, -1}, {2});
  CHECK(x.to_vector<float>() == V{10, -20, 11, -21});
  x += 1.0;
  x -= tg::full({2, 2}, 1);
  CHECK(x.to_vector<float>() == V{10, -20, 11, -21});
  x.copy_(tg::tensor({7, 8}, {2}, {.dtype = Dtype::Float64}));  // broadcast and converted
  CHECK(x.to_vector<float>() == V{7, 8, 7, 8});
  x.copy_(x);
  CHECK(x.to_vector<float>() == V{7, 8, 7, 8});
  x.fill_(2.5);
  CHECK(x.to_vector<float>() == V{2.5, 2.5, 2.5, 2.5});
  CHECK(&x.zero_() == &x);  // in-place ops return the tensor itself
  CHECK(x.to_vector<float>() == V{0, 0, 0, 0});
}

TEST_CASE("in-place ops reject results that do not fit the tensor", "[inplace]") {
  Tensor x = tg::zeros({3});
  CHECK_TG_ERROR(x.add_(tg::ones({2, 3})), "add_: the result has shape [2, 3]");
  CHECK_TG_ERROR(x.copy_(tg::ones({2})), "copy_: shapes cannot be broadcast together: [2] and [3]");
  Tensor labels = tg::zeros({2}, {.dtype = Dtype::Int64});
  CHECK_TG_ERROR(labels.add_(tg::ones({2})), "add: dtypes differ");
  CHECK_TG_ERROR(labels.add_(0.5), "add: the scalar 0.5 is not an integer");
}

TEST_CASE("writes through detach() reach the tensor, as in PyTorch", "[inplace]") {
  Tensor w = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor view = w.detach();
  view.add_(1);  // detach() shares storage; a detached tensor may be written with grad on
  CHECK(w.to_vector<float>() == V{2, 3});
  CHECK(w.version() == view.version());
}

TEST_CASE("the version counts writes: in-place ops and mutable data pointers", "[inplace]") {
  Tensor x = tg::zeros({2});
  const int64_t start = x.version();
  x.add_(1);
  CHECK(x.version() == start + 1);
  const Tensor& read_only = x;
  (void)read_only.data<float>();  // a read-only pointer is not a write
  CHECK(x.version() == start + 1);
  x.data<float>()[0] = 5;
  CHECK(x.version() == start + 2);
}

TEST_CASE("backward refuses a tensor it saved that was modified in place", "[inplace]") {
  SECTION("a raw write through data<T>() between forward and backward") {
    Tensor w = tg::tensor({1, 2}, {2}, {.requires_grad = true});
    Tensor x = tg::tensor({3, 4}, {2}, {.requires_grad = true});
    Tensor loss = (w * x).sum();  // mul saves both: dw = x, dx = w
    w.data<float>()[0] = 100;
    CHECK_TG_ERROR(loss.backward(),
                   "mul: a tensor its backward needs (Float32 [2]) was modified "
                   "by an in-place operation after the forward saved it");
  }
  SECTION("an optimizer step between two retain_graph backwards") {
    tg::manual_seed(3);
    tg::nn::Linear layer(3, 2);
    Tensor x = tg::randn({4, 3}, {.requires_grad = true});  // so linear saves the weight
    Tensor loss = layer(x).square().sum();
    loss.backward({}, true);
    tg::optim::SGD sgd(layer.parameters(), {.lr = 0.1});
    sgd.step();
    CHECK_TG_ERROR(loss.backward(), "linear: a tensor its backward needs (Float32 [2, 3])");
  }
  SECTION("tg::load into a model whose graph is still alive") {
    tg::testing::ScratchDir dir;
    tg::manual_seed(4);
    tg::nn::Linear layer(3, 2);
    tg::save(layer, dir / "layer.safetensors");
    Tensor x = tg::randn({4, 3}, {.requires_grad = true});
    Tensor loss = layer(x).square().sum();
    tg::load(layer, dir / "layer.safetensors");
    CHECK_TG_ERROR(loss.backward(), "linear: a tensor its backward needs");
  }
  SECTION("an op's saved output changed in place") {
    Tensor x = tg::tensor({0.5, 1}, {2}, {.requires_grad = true});
    Tensor y = x.exp();  // exp saves its output
    y.mul_(2);
    CHECK_TG_ERROR(y.sum().backward(), "exp: a tensor its backward needs");
  }
}

TEST_CASE("an in-place change to a tensor that no backward saved is fine", "[inplace]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor y = x + 1;    // add saves nothing
  Tensor z = y * 3.0;  // a scalar factor: mul saves only what dz/dy needs, the 3
  {
    tg::NoGradGuard no_grad;
    y.add_(5);
  }
  z.sum().backward();
  CHECK(x.grad().to_vector<float>() == V{3, 3});
  // A weight that does not require grad is not saved for the data's gradient, so changing the
  // data afterwards does not matter: linear needs W for dx, and x only for dW.
  tg::nn::Linear frozen(2, 1);
  for (Tensor p : frozen.parameters()) p.set_requires_grad(false);
  Tensor input = tg::tensor({1, 2}, {1, 2}, {.requires_grad = true});
  Tensor out = frozen(input);
  input.detach().fill_(9);
  out.sum().backward();
  CHECK(input.grad().defined());
}

TEST_CASE("a recorded in-place op joins the tape", "[inplace]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor w = tg::tensor({3, 4}, {2}, {.requires_grad = true});
  Tensor y = x * 2;  // mul by a scalar saves nothing of x
  y.add_(w, 2);      // y = 2x + 2w, recorded
  CHECK_FALSE(y.is_leaf());
  (y * y).sum().backward();  // d/dx Σ y² = 2y·2, d/dw = 2y·2; y = [8, 12]
  CHECK(x.grad().to_vector<float>() == V{32, 48});
  CHECK(w.grad().to_vector<float>() == V{32, 48});
}

TEST_CASE("fill_ with grad mode on cuts the tensor from its history", "[inplace]") {
  Tensor x = tg::tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor y = x * 2;
  y.fill_(1);  // y no longer depends on x (PyTorch: FillBackward passes no gradient)
  CHECK_FALSE(y.requires_grad());
  (y * x).sum().backward();  // d/dx Σ y·x = y = 1
  CHECK(x.grad().to_vector<float>() == V{1, 1});
}

TEST_CASE("a write through detach() of a copy that permute made is refused too", "[inplace]") {
  Tensor x = tg::zeros({2, 3});
  Tensor copy = x.permute({1, 0}).detach();
  CHECK_TG_ERROR(copy.add_(1), "add_: this tensor ([3, 2]) is a copy that 'permute' made");
  CHECK(x.to_vector<float>() == V{0, 0, 0, 0, 0, 0});
}

TEST_CASE("a leaf's gradient may be written in place whatever op produced it", "[inplace]") {
  Tensor w = tg::ones({2, 3}, {.requires_grad = true});
  (w.reshape({6}) * 2.0).sum().backward();     // reshape's backward returns a view
  (w.permute({1, 0}) * 3.0).sum().backward();  // permute's backward returns a copy
  tg::NoGradGuard no_grad;
  w.grad().mul_(0.5);
  CHECK(w.grad().to_vector<float>() == V{2.5, 2.5, 2.5, 2.5, 2.5, 2.5});  // (2 + 3)/2
  w.grad().zero_();
  CHECK(w.grad().to_vector<float>() == V{0, 0, 0, 0, 0, 0});
}

TEST_CASE("a recorded in-place write through a view is refused, not lost", "[inplace]") {
  Tensor x = tg::zeros({2, 2});
  Tensor w = tg::ones({4}, {.requires_grad = true});
  Tensor flat = x.reshape({4});
  CHECK_TG_ERROR(flat.add_(w), "add_: this tensor is a view that 'reshape' made");
  CHECK(x.to_vector<float>() == V{0, 0, 0, 0});
  {
    tg::NoGradGuard no_grad;  // without recording, the write reaches x
    flat.add_(w);
  }
  CHECK(x.to_vector<float>() == V{1, 1, 1, 1});
}
