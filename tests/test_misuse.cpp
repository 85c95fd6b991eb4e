// Misuse of the public API that the per-file tests do not already cover: each is a tg::Error
// naming the operation and the offending value, never a crash or a silent wrong answer.

#include <tapegrad/tapegrad.hpp>

#include "helpers.hpp"

#include <cstdint>
#include <limits>

using namespace tg;

TEST_CASE("undefined tensors are named, not dereferenced", "[misuse]") {
  const Tensor undefined;
  CHECK_TG_ERROR(undefined.shape(), "undefined tensor");
  CHECK_TG_ERROR(undefined.numel(), "undefined tensor");
  CHECK_TG_ERROR(undefined.data<float>(), "undefined tensor");
  CHECK_TG_ERROR(undefined.backward(), "undefined tensor");
  CHECK_TG_ERROR(tg::relu(undefined), "undefined tensor");
  CHECK_TG_ERROR(tg::matmul(undefined, tg::ones({2, 2})), "undefined tensor");
}

TEST_CASE("impossible sizes are errors, not overflows or std::bad_alloc", "[misuse]") {
  constexpr int64_t big = int64_t{1} << 40;
  CHECK_TG_ERROR(tg::zeros({big, big}), "shape [1099511627776, 1099511627776] has more elements");
  CHECK_TG_ERROR(tg::empty({std::numeric_limits<int64_t>::max()}), "cannot allocate Float32");
  CHECK_TG_ERROR(tg::empty({big, 1 << 20}), "more than the 1 TiB tapegrad allows");
  CHECK_TG_ERROR(tg::ones({4}).reshape({-1, -1}), "reshape");
  CHECK_TG_ERROR(tg::ones({4}).reshape({3}), "reshape");
  CHECK_TG_ERROR(tg::ones({4}).reshape({-1, 0}), "reshape");
  CHECK_TG_ERROR(tg::ones({2, 3}).transpose(0, 2), "transpose");
  CHECK_TG_ERROR(tg::ones({2, 3}).size(2), "dimension 2 out of range");
}

TEST_CASE("layers, data and schedulers reject bad arguments", "[misuse]") {
  CHECK_TG_ERROR(nn::Linear(3, -1), "Linear");
  nn::Linear layer(3, 2);
  CHECK_TG_ERROR(layer(tg::ones({4, 5})), "[4, 5]");
  CHECK_TG_ERROR(layer(tg::ones({4, 3}, {.dtype = Dtype::Int64})), "Int64");
  CHECK_TG_ERROR(layer.to(Dtype::Int64), "Int64");
  CHECK_TG_ERROR(data::TensorDataset(tg::ones({4, 2}), tg::ones({3})), "4");
  CHECK_TG_ERROR(data::gather_rows(tg::ones({4, 2}), {0, 4}), "4");
  CHECK_TG_ERROR(data::gather_rows(tg::ones({4, 2}), {-1}), "-1");
  CHECK_TG_ERROR(data::gather_rows(tg::zeros({}), {0}),
                 "gather_rows: expected a tensor with at least one dimension, got shape []");
  CHECK_TG_ERROR(set_num_threads(0), "set_num_threads");
  CHECK_TG_ERROR(nn::clip_grad_norm(layer.parameters(), -1.0), "max_norm");
  Generator generator(1);
  CHECK_TG_ERROR(generator.below(0), "below");
  CHECK_TG_ERROR(generator.permutation(-1), "permutation");
  optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  CHECK_TG_ERROR(optim::CosineAnnealingLR(sgd, 0), "T_max");
  CHECK_TG_ERROR(optim::ExponentialLR(sgd, -0.5), "gamma");
  CHECK_TG_ERROR(optim::SGD({}, {.lr = 0.1}), "empty parameter list");
}

TEST_CASE("a parameter group that does not exist is a tg::Error naming the method", "[misuse]") {
  // PyTorch's opt.param_groups[99] is an IndexError; here each accessor names itself.
  Tensor w = tg::ones({2}, {.requires_grad = true});
  optim::RMSProp opt({w}, {.lr = 0.01});
  CHECK_TG_ERROR(opt.group_lr(99), "RMSProp.group_lr: parameter group 99 out of range [0, 1)");
  CHECK_TG_ERROR(opt.set_group_lr(99, 0.1), "RMSProp.set_group_lr: parameter group 99 out of");
  CHECK_TG_ERROR(opt.options(99), "RMSProp.options: parameter group 99 out of range [0, 1)");
  CHECK(opt.group_lr(0) == 0.01);  // the failed set_group_lr changed nothing
}

TEST_CASE("backward rejects a gradient of the wrong shape or dtype", "[misuse]") {
  const Tensor x = tg::ones({3}, {.requires_grad = true});
  const Tensor y = x * 2.0;
  CHECK_TG_ERROR(y.backward(tg::ones({4})), "[4]");
  CHECK_TG_ERROR(y.backward(tg::ones({3}, {.dtype = Dtype::Float64})), "Float64");
  CHECK_TG_ERROR(y.backward(), "a gradient can be implied only for one-element outputs");
}
