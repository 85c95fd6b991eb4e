// Views of shape: view, flatten, unsqueeze, squeeze, expand, permute, contiguous, transpose.
// Values and gradients against PyTorch (tests/fixtures/tensor_api.txt), gradcheck, which results
// share storage (as PyTorch's views) and which are copies that refuse in-place writes, misuse.

#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <functional>

using tg::Shape;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::option_list;
using tg::testing::randn64;
using V = std::vector<float>;
using Inputs = std::map<std::string, Tensor>;

using tg::testing::kTight;

namespace {

struct Row {
  std::string name;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  Shape shape;
};

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.name) {
      const Tensor x = randn64(row.shape);
      CHECK(tg::gradcheck(row.fn, {x}, kTight));
      CHECK(tg::gradgradcheck(row.fn, {x}, kTight));
    }
  }
}

// 0, 1, …, 5 as a Float32 [2, 3] tensor.
Tensor iota23() { return tg::arange(6).reshape({2, 3}); }

}  // namespace

TEST_CASE("views of shape match PyTorch's values and gradients", "[views]") {
  const auto one = [](Tensor t) { return std::vector<Tensor>{std::move(t)}; };
  const std::map<std::string, tg::testing::TensorApiOp> ops = {
      {"view", [&](const FixtureCase& c,
                   const Inputs& in) { return one(in.at("x").view(option_list(c, "shape"))); }},
      {"flatten",
       [&](const FixtureCase& c, const Inputs& in) {
         return one(in.at("x").flatten(int64_t(c.option("start_dim", 0)),
                                       int64_t(c.option("end_dim", -1))));
       }},
      {"unsqueeze",
       [&](const FixtureCase& c, const Inputs& in) {
         return one(in.at("x").unsqueeze(int64_t(c.option("dim", 0))));
       }},
      {"squeeze",
       [&](const FixtureCase& c, const Inputs& in) {
         const Tensor& x = in.at("x");
         return one(c.options.count("dim") ? x.squeeze(int64_t(c.option("dim", 0))) : x.squeeze());
       }},
      {"expand", [&](const FixtureCase& c,
                     const Inputs& in) { return one(in.at("x").expand(option_list(c, "shape"))); }},
      {"permute",
       [&](const FixtureCase& c, const Inputs& in) {
         return one(in.at("x").permute(option_list(c, "dims")));
       }},
      {"permute_contiguous",
       [&](const FixtureCase& c, const Inputs& in) {
         return one(in.at("x").permute(option_list(c, "dims")).contiguous());
       }},
  };
  const std::set<std::string> expected = {"view",   "flatten", "unsqueeze",         "squeeze",
                                          "expand", "permute", "permute_contiguous"};
  CHECK(tg::testing::check_tensor_api_cases(ops) == expected);
}

TEST_CASE("gradcheck: views of shape", "[views]") {
  tg::manual_seed(41);
  check_rows({
      {"view -1",
       [](const auto& in) {
         return in[0].view({-1, 2});
       },
       {2, 3, 2}},
      {"flatten all", [](const auto& in) { return in[0].flatten(); }, {2, 3, 4}},
      {"flatten 1..2", [](const auto& in) { return in[0].flatten(1, 2); }, {2, 3, 4}},
      {"flatten 0-d", [](const auto& in) { return in[0].flatten(); }, {}},
      {"unsqueeze -1", [](const auto& in) { return in[0].unsqueeze(-1); }, {3, 4}},
      {"squeeze", [](const auto& in) { return in[0].squeeze(); }, {1, 3, 1, 2}},
      {"squeeze 2", [](const auto& in) { return in[0].squeeze(2); }, {1, 3, 1, 2}},
      {"expand new dims",
       [](const auto& in) {
         return in[0].expand({2, 3, 4});
       },
       {3, 1}},
      {"expand -1",
       [](const auto& in) {
         return in[0].expand({2, -1, 4});
       },
       {3, 1}},
      {"expand 0-d",
       [](const auto& in) {
         return in[0].expand({2, 2});
       },
       {}},
      {"expand leading 1 (a view)",
       [](const auto& in) {
         return in[0].expand({1, 3});
       },
       {3}},
      {"permute 3-d",
       [](const auto& in) {
         return in[0].permute({2, 0, 1});
       },
       {2, 3, 4}},
      {"permute -1",
       [](const auto& in) {
         return in[0].permute({-1, 1, 0});
       },
       {2, 3, 4}},
      {"permute of size-1 dims (a view)",
       [](const auto& in) {
         return in[0].permute({1, 0, 2});
       },
       {1, 3, 4}},
      {"permute contiguous",
       [](const auto& in) {
         return in[0].permute({1, 0}).contiguous();
       },
       {3, 4}},
      {"transpose 1-d (a view)", [](const auto& in) { return in[0].transpose(0, -1); }, {5}},
      {"a chain of views and copies",
       [](const auto& in) {
         return in[0].permute({1, 0, 2}).flatten(1).unsqueeze(0).expand({2, -1, -1});
       },
       {2, 3, 2}},
  });
}

TEST_CASE("view, flatten, unsqueeze and squeeze share storage: writes reach the base", "[views]") {
  Tensor x = tg::zeros({2, 3});
  {
    tg::NoGradGuard no_grad;
    x.flatten().data<float>()[4] = 9;  // flat element 4 is x[1][1]
    x.view({3, 2}).data<float>()[1] = 1;
    x.unsqueeze(0).data<float>()[2] = 2;
    x.unsqueeze(0).squeeze().data<float>()[3] = 3;
    x.squeeze(1).data<float>()[5] = 5;  // squeeze of an extent that is not 1: still a view
  }
  CHECK(x.to_vector<float>() == V{0, 1, 2, 3, 9, 5});
  CHECK(x.flatten().raw_data() == x.raw_data());

  const int64_t before = x.version();
  x.unsqueeze(1).fill_(7);
  CHECK(x.version() == before + 1);  // one in-place write through a view: the base's version
  CHECK(x.to_vector<float>() == V(6, 7));
  // A recorded write through a view would have to rewrite x's history: refused, naming the view.
  CHECK_TG_ERROR(x.flatten().add_(tg::ones({6}, {.requires_grad = true})),
                 "a view that 'flatten' made");
}

TEST_CASE("a write through a view makes a backward that saved the base throw", "[views]") {
  Tensor x = tg::ones({2, 3}, {.dtype = tg::Dtype::Float64});
  Tensor w = randn64({2, 3});
  Tensor loss = (x * w).sum();  // mul saves x for the gradient of w
  {
    tg::NoGradGuard no_grad;
    x.view({6}).add_(1);
  }
  CHECK_TG_ERROR(loss.backward(), "mul: a tensor its backward needs");
}

TEST_CASE("permute, expand and transpose copies refuse in-place writes, naming the op", "[views]") {
  Tensor x = iota23();
  tg::NoGradGuard no_grad;
  CHECK_TG_ERROR(x.permute({1, 0}).add_(1), "add_: this tensor ([3, 2]) is a copy that 'permute'");
  CHECK_TG_ERROR(x.t().zero_(), "this tensor ([3, 2]) is a copy that 'transpose'");
  CHECK_TG_ERROR(x.reshape({3, 2, 1}).expand({3, 2, 4}).fill_(0), "a copy that 'expand' made");
  // A view of such a copy would write into the copy as well.
  CHECK_TG_ERROR(x.permute({1, 0}).unsqueeze(0).fill_(0), "a copy that 'permute' made");
  CHECK(x.to_vector<float>() == V{0, 1, 2, 3, 4, 5});
}

TEST_CASE("contiguous of a copy is a plain copy that may be written, of a view the view itself",
          "[views]") {
  Tensor x = iota23();
  Tensor c = x.permute({1, 0}).contiguous();
  c.add_(1);
  CHECK(c.to_vector<float>() == V{1, 4, 2, 5, 3, 6});  // xᵀ + 1
  CHECK(x.to_vector<float>() == V{0, 1, 2, 3, 4, 5});
  CHECK(x.contiguous().raw_data() == x.raw_data());  // already contiguous: PyTorch returns self
  CHECK(x.unsqueeze(0).contiguous().raw_data() == x.raw_data());
}

TEST_CASE("permute, transpose and expand that keep the row-major layout are views", "[views]") {
  Tensor x = tg::zeros({1, 3});
  tg::NoGradGuard no_grad;
  x.permute({1, 0}).data<float>()[0] = 1;  // [1, 3] → [3, 1]: the same order in memory
  x.transpose(0, 1).data<float>()[1] = 2;
  x.expand({1, 1, 3}).data<float>()[2] = 3;  // only a leading 1 is added
  x.expand({-1, 3}).add_(1);                 // the same shape
  CHECK(x.to_vector<float>() == V{2, 3, 4});
  Tensor v = tg::zeros({4});
  v.transpose(0, 0).fill_(1);  // 1-d: PyTorch's transpose is a view
  CHECK(v.to_vector<float>() == V(4, 1));
}

TEST_CASE("permute and expand values", "[views]") {
  // x = [[0, 1, 2], [3, 4, 5]]: xᵀ row by row is 0 3 / 1 4 / 2 5.
  CHECK(iota23().permute({1, 0}).to_vector<float>() == V{0, 3, 1, 4, 2, 5});
  CHECK(iota23().permute({-1, 0}).shape() == Shape{3, 2});
  // Column [0, 1, 2] repeated twice along dim 1, then the whole block twice along a new dim 0.
  Tensor e = tg::arange(3).reshape({3, 1}).expand({2, 3, 2});
  CHECK(e.shape() == Shape{2, 3, 2});
  CHECK(e.to_vector<float>() == V{0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2});
  // torch.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)[1] = [[1, 5, 9], [13, 17, 21]].
  Tensor p = tg::arange(24).reshape({2, 3, 4}).permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.to_vector<float>() ==
        V{0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23});
}

TEST_CASE("permute copies larger than a tile put every element in its place", "[views]") {
  // x[i][j][k] = (i·70 + j)·45 + k (arange); permuted by (2, 0, 1), out[k][i][j] is that element.
  const Tensor x = tg::arange(3 * 70 * 45, {.dtype = tg::Dtype::Int64}).reshape({3, 70, 45});
  const std::vector<int64_t> out = x.permute({2, 0, 1}).to_vector<int64_t>();
  bool all = true;
  for (int64_t k = 0, n = 0; k < 45; ++k) {
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 70; ++j) all = all && out[n++] == (i * 70 + j) * 45 + k;
    }
  }
  CHECK(all);
  CHECK(x.transpose(1, 2).contiguous().transpose(1, 2).to_vector<int64_t>() ==
        x.to_vector<int64_t>());
}

TEST_CASE("a gradient that a permute, transpose or expand computed can be written in place",
          "[views]") {
  Tensor x = randn64({2, 3});
  x.permute({1, 0}).sum().backward();
  x.grad().zero_();  // the gradient is not a copy that must refuse writes
  CHECK(x.grad().to_vector<double>() == std::vector<double>(6, 0.0));
  x.zero_grad();
  (x.t() * 2.0).sum().backward();
  x.grad().add_(1.0);  // d Σ 2xᵀ/dx = 2, plus 1
  CHECK(x.grad().to_vector<double>() == std::vector<double>(6, 3.0));
}

TEST_CASE("views of shape on zero-size and 0-d tensors", "[views]") {
  Tensor z = tg::zeros({0, 3}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  // torch.zeros(0, 3): flatten → [0], unsqueeze(1) → [0, 1, 3], expand of [0, 1] → [0, 4],
  // permute(1, 0) → [3, 0], squeeze of [0, 1, 3] → [0, 3].
  CHECK(z.flatten().shape() == Shape{0});
  CHECK(z.unsqueeze(1).shape() == Shape{0, 1, 3});
  CHECK(z.unsqueeze(1).squeeze().shape() == Shape{0, 3});
  CHECK(z.narrow(1, 0, 1).expand({0, 4}).shape() == Shape{0, 4});
  CHECK(z.permute({1, 0}).shape() == Shape{3, 0});
  CHECK(z.permute({1, 0}).contiguous().shape() == Shape{3, 0});
  CHECK(tg::zeros({3, 1}).expand({3, 0}).shape() == Shape{3, 0});  // 1 may become 0, as torch
  (z.permute({1, 0}).sum() + z.flatten().sum() + z.unsqueeze(0).expand({2, 0, 3}).sum()).backward();
  CHECK(z.grad().shape() == Shape{0, 3});

  const int64_t big = int64_t{1} << 40;  // zero-size extents whose product passes int64
  Tensor huge = tg::zeros({0, big, big});
  CHECK(huge.permute({0, 2, 1}).transpose(1, 2).shape() == Shape{0, big, big});
  CHECK(huge.unsqueeze(0).expand({3, 0, big, big}).shape() == Shape{3, 0, big, big});
  CHECK_TG_ERROR(huge.flatten(1),
                 "flatten: dimensions 1 to 2 of [0, 1099511627776, 1099511627776] "
                 "hold more elements than an int64 counts");

  Tensor s = tg::full({}, 4.0);
  // torch.tensor(4.): flatten() → [1]; unsqueeze(0) and (-1) → [1]; squeeze(), squeeze(0),
  // permute() → []; expand(2, 2) → [2, 2] of 4s.
  CHECK(s.flatten().shape() == Shape{1});
  CHECK(s.unsqueeze(0).shape() == Shape{1});
  CHECK(s.unsqueeze(-1).shape() == Shape{1});
  CHECK(s.squeeze().shape() == Shape{});
  CHECK(s.squeeze(0).shape() == Shape{});
  CHECK(s.permute({}).shape() == Shape{});
  CHECK(s.transpose(0, -1).shape() == Shape{});
  CHECK(s.expand({2, 2}).to_vector<float>() == V(4, 4));
}

TEST_CASE("views of shape: misuse is a tg::Error naming the op and the values", "[views]") {
  Tensor x = tg::zeros({2, 3, 4});
  CHECK_TG_ERROR(x.flatten(2, 1), "flatten: start_dim 2 comes after end_dim 1 for a 3-d tensor");
  CHECK_TG_ERROR(x.flatten(0, 3), "flatten: dimension 3 out of range for a 3-d tensor");
  CHECK_TG_ERROR(x.unsqueeze(4),
                 "unsqueeze: dimension 4 out of range for a 3-d tensor (expected -4 to 3)");
  CHECK_TG_ERROR(x.unsqueeze(-5), "unsqueeze: dimension -5 out of range");
  CHECK_TG_ERROR(x.squeeze(3), "squeeze: dimension 3 out of range for a 3-d tensor");
  CHECK_TG_ERROR(x.view({5, -1}), "cannot reshape [2, 3, 4] (24 elements) into [5, -1]");
  CHECK_TG_ERROR(
      x.expand({3, 4}),
      "expand: 2 sizes [3, 4] given for a 3-d tensor of shape [2, 3, 4]; expected at least 3");
  CHECK_TG_ERROR(x.expand({2, 5, 4}), "expand: size 5 does not match the extent 3 of dimension 1");
  CHECK_TG_ERROR(x.expand({-1, 2, 3, 4}), "expand: invalid size -1 at dimension 0");
  CHECK_TG_ERROR(x.expand({2, -2, 4}), "expand: invalid size -2 at dimension 1");
  CHECK_TG_ERROR(x.permute({0, 1}), "permute: 2 dims given for a 3-d tensor: [0, 1]");
  CHECK_TG_ERROR(x.permute({0, 1, -3}), "permute: dimension 0 appears twice in [0, 1, -3]");
  CHECK_TG_ERROR(x.permute({0, 1, 3}), "permute: dimension 3 out of range for a 3-d tensor");
  CHECK_TG_ERROR(x.transpose(0, 3), "transpose: dimension 3 out of range");
}
