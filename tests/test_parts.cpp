// Parts and joins: narrow, select, chunk, split, index_select, gather, index_copy_, cat, stack.
// Values and gradients against PyTorch (tests/fixtures/tensor_api.txt), gradcheck, storage
// sharing as in PyTorch (a part contiguous in its input is a view, any other part a copy that
// refuses writes), saved indices and the version counter, misuse, zero-size shapes.

#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <functional>
#include <limits>

using tg::Shape;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::randn64;
using V = std::vector<float>;
using D = std::vector<double>;
using Inputs = std::map<std::string, Tensor>;

using tg::testing::kTight;

namespace {

using In = const std::vector<Tensor>&;

struct Row {
  std::string name;
  std::function<Tensor(In)> fn;
  std::vector<Shape> shapes;  // of the inputs, Float64 normal draws that require grad
};

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    std::vector<Tensor> inputs;
    for (const Shape& shape : row.shapes) inputs.push_back(randn64(shape));
    DYNAMIC_SECTION(row.name) {
      CHECK(tg::gradcheck(row.fn, inputs, kTight));
      CHECK(tg::gradgradcheck(row.fn, inputs, kTight));
    }
  }
}

Tensor ids(std::vector<int64_t> values, Shape shape) {
  return tg::from_vector<int64_t>(std::move(values), std::move(shape));
}
Tensor ids(std::vector<int64_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return ids(std::move(values), {n});
}

// The parts weighted 1, 2, 3, … and joined again, so gradcheck sees every part's Jacobian.
Tensor weighted_join(const std::vector<Tensor>& parts, int64_t dim) {
  std::vector<Tensor> weighted;
  for (size_t i = 0; i < parts.size(); ++i) weighted.push_back(parts[i] * double(i + 1));
  return tg::cat(weighted, dim);
}

// 0, 1, …, 11 as a Float32 [3, 4] tensor.
Tensor iota34() { return tg::arange(12).reshape({3, 4}); }

}  // namespace

TEST_CASE("parts and joins match PyTorch's values and gradients", "[parts]") {
  const auto one = [](Tensor t) { return std::vector<Tensor>{std::move(t)}; };
  const auto dim = [](const FixtureCase& c) { return int64_t(c.option("dim", 0)); };
  const auto abc = [](const Inputs& in) {
    return std::vector<Tensor>{in.at("a"), in.at("b"), in.at("c")};
  };
  using C = const FixtureCase&;
  const auto get = [](C c, const char* key) { return int64_t(c.option(key, 0)); };
  const std::map<std::string, tg::testing::TensorApiOp> ops = {
      {"narrow",
       [&](C c, const Inputs& in) {
         return one(in.at("x").narrow(dim(c), get(c, "start"), get(c, "length")));
       }},
      {"select",
       [&](C c, const Inputs& in) { return one(in.at("x").select(dim(c), get(c, "index"))); }},
      {"chunk", [&](C c, const Inputs& in) { return in.at("x").chunk(get(c, "chunks"), dim(c)); }},
      {"split",
       [&](C c, const Inputs& in) { return in.at("x").split(get(c, "split_size"), dim(c)); }},
      {"index_select",
       [&](C c, const Inputs& in) {
         return one(in.at("x").index_select(dim(c), in.at("index_const")));
       }},
      {"gather",
       [&](C c, const Inputs& in) { return one(in.at("x").gather(dim(c), in.at("index_const"))); }},
      {"cat", [&](C c, const Inputs& in) { return one(tg::cat(abc(in), dim(c))); }},
      {"stack", [&](C c, const Inputs& in) { return one(tg::stack(abc(in), dim(c))); }},
  };
  const std::set<std::string> expected = {"narrow",       "select", "chunk", "split",
                                          "index_select", "gather", "cat",   "stack"};
  CHECK(tg::testing::check_tensor_api_cases(ops) == expected);
}

TEST_CASE("gradcheck: parts", "[parts]") {
  tg::manual_seed(51);
  check_rows({
      {"narrow dim 0 (a view)", [](In x) { return x[0].narrow(0, 1, 2); }, {{4, 3}}},
      {"narrow dim 1 (a copy)", [](In x) { return x[0].narrow(1, 1, 2); }, {{4, 3}}},
      {"narrow negative start", [](In x) { return x[0].narrow(-1, -2, 2); }, {{2, 3, 4}}},
      {"narrow to nothing", [](In x) { return x[0].narrow(1, 3, 0); }, {{2, 3}}},
      {"select dim 0", [](In x) { return x[0].select(0, -1); }, {{3, 4}}},
      {"select dim 1", [](In x) { return x[0].select(1, 2); }, {{3, 4}}},
      {"select of 1-d", [](In x) { return x[0].select(0, 1); }, {{3}}},
      {"chunk 5 into 3", [](In x) { return weighted_join(x[0].chunk(3, 1), 1); }, {{2, 5}}},
      {"chunk 6 into 4 gives 3", [](In x) { return weighted_join(x[0].chunk(4), 0); }, {{6}}},
      {"split 2 of 5", [](In x) { return weighted_join(x[0].split(2), 0); }, {{5, 2}}},
      {"split 3 of 7 along 1", [](In x) { return weighted_join(x[0].split(3, 1), 1); }, {{2, 7}}},
  });
}

TEST_CASE("gradcheck: indexing and joins", "[parts]") {
  tg::manual_seed(52);
  const Tensor repeated = ids({2, 0, 2, 3, 2});
  const Tensor scalar_one = ids({1}, {});
  const Tensor rows = ids({0, 2, 2, 1, 2, 2, 0, 0}, {2, 4});
  const Tensor wide = ids({3, 3, 1, 0, 3, 0, 1, 1, 1, 2}, {2, 5});
  check_rows({
      {"index_select dim 0, repeated",
       [&](In x) { return x[0].index_select(0, repeated); },
       {{4, 3}}},
      {"index_select 0-d index", [&](In x) { return x[0].index_select(1, scalar_one); }, {{4, 3}}},
      {"index_select of 0-d", [&](In x) { return x[0].index_select(0, ids({0})); }, {{}}},
      {"gather dim 0", [&](In x) { return x[0].gather(0, rows); }, {{3, 4}}},
      {"gather dim 1, wider than the input", [&](In x) { return x[0].gather(1, wide); }, {{3, 4}}},
      {"index_copy_ into a recorded tensor",
       [](In x) {
         Tensor t = x[0] * 1.0;  // not a leaf: a recorded in-place write is allowed
         return t.index_copy_(1, ids({2, 0}), x[1]);
       },
       {{3, 4}, {3, 2}}},
      {"cat of three",
       [](In x) {
         return tg::cat({x[0], x[1], x[2]}, 1);
       },
       {{2, 1}, {2, 2}, {2, 3}}},
      {"cat skips a 1-d empty tensor",
       [](In x) {
         return tg::cat({x[0], x[1]}, -1);
       },
       {{0}, {2, 2, 3}}},
      {"stack at the end",
       [](In x) {
         return tg::stack({x[0], x[1]}, 2);
       },
       {{2, 3}, {2, 3}}},
      {"stack of 0-d",
       [](In x) {
         return tg::stack({x[0], x[1], x[0]});
       },
       {{}, {}}},
  });
}

TEST_CASE("narrow and select along the outer dimension share storage: writes reach the base",
          "[parts]") {
  Tensor x = tg::zeros({4, 3});
  auto v = x.narrow(0, 1, 2);
  {
    tg::NoGradGuard g;
    v.fill_(7);
    x.select(0, 3).fill_(1);
    x.narrow(0, 1, 3).select(0, 0).data<float>()[2] = 2;  // offsets add up: x[1][2]
  }
  CHECK(x.to_vector<float>() == V{0, 0, 0, 7, 7, 2, 7, 7, 7, 1, 1, 1});
  // As torch's data_ptr: the view starts 3 elements (one row) after x.
  CHECK(v.raw_data() == static_cast<float*>(x.raw_data()) + 3);
  // A recorded write through it would have to rewrite x's history: refused, naming the view.
  CHECK_TG_ERROR(v.add_(tg::ones({3}, {.requires_grad = true})), "a view that 'narrow' made");

  Tensor row = tg::zeros({1, 5});  // dims before dim 1 have extent 1: a view as well
  row.narrow(1, 2, 2).fill_(1);
  tg::zeros({2, 2}).narrow(1, 0, 2).fill_(1);  // all of dim 1: a view
  CHECK(row.to_vector<float>() == V{0, 0, 1, 1, 0});
  Tensor parts = tg::zeros({6});
  parts.chunk(3)[1].fill_(1);
  parts.split(4)[1].fill_(2);
  CHECK(parts.to_vector<float>() == V{0, 0, 1, 1, 2, 2});
}

TEST_CASE("parts that are not contiguous in the input are copies that refuse writes", "[parts]") {
  Tensor x = iota34();
  tg::NoGradGuard g;
  CHECK_TG_ERROR(x.narrow(1, 1, 2).fill_(0), "fill_: this tensor ([3, 2]) is a copy that 'narrow'");
  CHECK_TG_ERROR(x.select(1, 0).add_(1), "add_: this tensor ([3]) is a copy that 'select'");
  CHECK_TG_ERROR(x.chunk(2, 1)[0].zero_(), "a copy that 'chunk' made");
  CHECK_TG_ERROR(x.split(3, 1)[1].mul_(2), "a copy that 'split' made");
  CHECK_TG_ERROR(x.narrow(1, 1, 2).narrow(0, 0, 1).zero_(), "a copy that 'narrow' made");
  CHECK(x.narrow(1, 1, 2).to_vector<float>() == V{1, 2, 5, 6, 9, 10});
  CHECK(x.to_vector<float>() == iota34().to_vector<float>());
}

TEST_CASE("a write through a part bumps the base's version and breaks a backward that saved it",
          "[parts]") {
  Tensor x = tg::ones({3, 2}, {.dtype = tg::Dtype::Float64});
  Tensor w = randn64({3, 2});
  Tensor loss = (x * w).sum();  // mul saves x for the gradient of w
  const int64_t before = x.version();
  {
    tg::NoGradGuard g;
    x.narrow(0, 2, 1).fill_(3);
  }
  CHECK(x.version() == before + 1);
  CHECK_TG_ERROR(loss.backward(), "mul: a tensor its backward needs");
}

TEST_CASE("narrow, select and cat save no tensor: changing their input keeps backward valid",
          "[parts]") {
  Tensor w = randn64({3, 2});
  Tensor y = w.narrow(0, 0, 2).sum() + w.select(1, 1).sum() + tg::cat({w, w}).sum();
  {
    tg::NoGradGuard g;
    w.add_(1.0);
  }
  y.backward();
  // d/dw: 1 on rows 0–1 (narrow), 1 in column 1 (select), 2 everywhere (w twice in cat).
  CHECK(w.grad().to_vector<double>() == D{3, 4, 3, 4, 2, 3});
}

TEST_CASE("index_select and gather save their index: changing it breaks backward", "[parts]") {
  Tensor x = randn64({3, 2});
  Tensor i = ids({2, 0});
  Tensor y = x.index_select(0, i).sum();
  Tensor j = ids({1, 0, 0, 1, 1, 0}, {3, 2});
  Tensor z = x.gather(1, j).sum();
  {
    tg::NoGradGuard g;
    i.data<int64_t>()[0] = 1;
    j.data<int64_t>()[0] = 0;
  }
  CHECK_TG_ERROR(y.backward(), "index_select: a tensor its backward needs");
  CHECK_TG_ERROR(z.backward(), "gather: a tensor its backward needs");
}

TEST_CASE("chunk and split follow torch's sizes", "[parts]") {
  const auto shapes = [](const std::vector<Tensor>& parts) {
    std::vector<Shape> out;
    for (const Tensor& p : parts) out.push_back(p.shape());
    return out;
  };
  using S = std::vector<Shape>;
  // torch.arange(6.).chunk(4): chunk size ceil(6/4) = 2, so 3 parts; arange(5.).chunk(3): 2 2 1.
  CHECK(shapes(tg::arange(6).chunk(4)) == S{{2}, {2}, {2}});
  CHECK(shapes(tg::arange(5).chunk(3)) == S{{2}, {2}, {1}});
  CHECK(shapes(tg::arange(2).chunk(5)) == S{{1}, {1}});
  CHECK(tg::arange(5).chunk(3)[2].to_vector<float>() == V{4});
  // torch.arange(0.).chunk(3): three empty parts; .split(2): one; torch.empty(2, 0).chunk(2, 1).
  CHECK(shapes(tg::arange(0).chunk(3)) == S{{0}, {0}, {0}});
  CHECK(shapes(tg::arange(0).split(2)) == S{{0}});
  CHECK(shapes(tg::arange(0).split(0)) == S{{0}});
  CHECK(shapes(tg::zeros({2, 0}).chunk(2, 1)) == S{{2, 0}, {2, 0}});
  // split(3) of 7 along dim 1: 3 3 1; a size above the extent gives one part.
  CHECK(shapes(tg::zeros({2, 7}).split(3, -1)) == S{{2, 3}, {2, 3}, {2, 1}});
  CHECK(shapes(tg::zeros({2, 7}).split(10, 1)) == S{{2, 7}});
}

TEST_CASE("index_select, gather and index_copy_ values", "[parts]") {
  Tensor x = iota34();  // rows [0 1 2 3], [4 5 6 7], [8 9 10 11]
  CHECK(x.index_select(0, ids({2, 0, 2})).to_vector<float>() ==
        V{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  CHECK(x.index_select(1, ids({3}, {})).shape() == Shape{3, 1});  // 0-d index: torch keeps dim
  CHECK(x.index_select(0, ids({})).shape() == Shape{0, 4});
  // out[i][j] = x[i][index[i][j]]: row 0 takes columns 3, 0; row 1 takes 1, 1.
  CHECK(x.gather(1, ids({3, 0, 1, 1}, {2, 2})).to_vector<float>() == V{3, 0, 5, 5});
  // out[i][j] = x[index[i][j]][j]
  CHECK(x.gather(0, ids({2, 0, 1}, {1, 3})).to_vector<float>() == V{8, 1, 6});
  CHECK(tg::full({}, 5.0).gather(0, ids({0}, {})).item<float>() == 5);

  Tensor z = tg::zeros({3, 4});
  z.index_copy_(0, ids({0, 2}), tg::ones({2, 4}));
  CHECK(z.to_vector<float>() == V{1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1});
  // A repeated index: the last write wins, as torch on the CPU (column 1 gets 2, 4, 6).
  z.index_copy_(1, ids({1, 1}), tg::tensor({1, 2, 3, 4, 5, 6}, {3, 2}));
  CHECK(z.to_vector<float>() == V{1, 2, 1, 1, 0, 4, 0, 0, 1, 6, 1, 1});
  Tensor& same = z.index_copy_(1, ids({3}, {}), tg::full({3, 1}, 9.0));
  CHECK(&same == &z);
  CHECK(z.select(1, 3).to_vector<float>() == V{9, 9, 9});
  // Through a view, index_copy_ reaches the base.
  Tensor base = tg::zeros({4, 2});
  base.narrow(0, 2, 2).index_copy_(0, ids({1}), tg::full({1, 2}, 3.0));
  CHECK(base.to_vector<float>() == V{0, 0, 0, 0, 0, 0, 3, 3});
}

TEST_CASE("index_copy_ gradients: the overwritten slices get none, the source its slices",
          "[parts]") {
  Tensor w = randn64({3, 2});
  Tensor s = randn64({1, 2});
  Tensor t = w * 1.0;
  t.index_copy_(0, ids({1}), s);
  (t * tg::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, {.dtype = tg::Dtype::Float64})).sum().backward();
  // d/dw: the weights except on row 1; d/ds: row 1 of the weights.
  CHECK(w.grad().to_vector<double>() == D{1, 2, 0, 0, 5, 6});
  CHECK(s.grad().to_vector<double>() == D{3, 4});

  Tensor i = ids({0});
  Tensor u = w * 1.0;
  u.index_copy_(0, i, s);
  {
    tg::NoGradGuard g;
    i.data<int64_t>()[0] = 2;
  }
  CHECK_TG_ERROR(u.sum().backward(), "index_copy_: a tensor its backward needs");
}

TEST_CASE("cat and stack values, dtypes and torch's skipping of 1-d empty tensors", "[parts]") {
  Tensor a = tg::tensor({1, 2}, {1, 2});
  Tensor b = tg::tensor({3, 4, 5, 6}, {2, 2});
  CHECK(tg::cat({a, b}).to_vector<float>() == V{1, 2, 3, 4, 5, 6});
  CHECK(tg::cat({b, b}, 1).to_vector<float>() == V{3, 4, 3, 4, 5, 6, 5, 6});
  // torch.cat([torch.empty(0), b], 1) is b: the [0] tensor is left out whatever dim and dtype.
  Tensor empty_long = tg::zeros({0}, {.dtype = tg::Dtype::Int64});
  CHECK(tg::cat({empty_long, b, tg::zeros({0})}, 1).to_vector<float>() == V{3, 4, 5, 6});
  CHECK(tg::cat({tg::zeros({0}), tg::zeros({0})}, 1).shape() == Shape{0});
  CHECK(tg::cat({tg::zeros({0, 2}), a}).shape() == Shape{1, 2});
  CHECK(tg::cat({ids({1}), ids({2, 3})}).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3});
  // stack: [2, 2] tensors along a new dim 2 (= their rank): out[i][j] = (b[i][j], b[i][j] + 10).
  Tensor s = tg::stack({b, b + 10.0}, 2);
  CHECK(s.shape() == Shape{2, 2, 2});
  CHECK(s.to_vector<float>() == V{3, 13, 4, 14, 5, 15, 6, 16});
  CHECK(tg::stack({tg::zeros({0}), tg::zeros({0})}).shape() == Shape{2, 0});  // no skipping
}

TEST_CASE("parts and joins on zero-size tensors", "[parts]") {
  Tensor z = tg::zeros({0, 3}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  // torch.zeros(0, 3): narrow(1, 1, 2) → [0, 2]; select(1, 0) → [0]; index_select with an empty
  // index → [0, 0]; gather with a [0, 2] index → [0, 2]; cat with [2, 3] → [2, 3].
  CHECK(z.narrow(1, 1, 2).shape() == Shape{0, 2});
  CHECK(z.select(1, 0).shape() == Shape{0});
  CHECK(z.index_select(1, ids({})).shape() == Shape{0, 0});
  CHECK(z.gather(1, ids({}, {0, 2})).shape() == Shape{0, 2});
  CHECK(z.chunk(2, 1).size() == 2);
  Tensor joined = tg::cat({z, randn64({2, 3})});
  CHECK(joined.shape() == Shape{2, 3});
  (z.narrow(1, 1, 2).sum() + z.select(1, 0).sum() + joined.sum() + z.index_select(0, ids({})).sum())
      .backward();
  CHECK(z.grad().shape() == Shape{0, 3});
  // Zero-size tensors may have extents whose product passes int64: nothing is walked.
  const int64_t big = int64_t{1} << 40;
  Tensor huge = tg::zeros({0, big, big});
  CHECK(huge.index_select(2, ids({0, 1})).shape() == Shape{0, big, 2});
  CHECK(huge.narrow(2, 1, 1).shape() == Shape{0, big, 1});
  CHECK(huge.chunk(2, 1)[1].shape() == Shape{0, big / 2, big});
  CHECK(tg::cat({huge, huge}, 2).shape() == Shape{0, big, 2 * big});
  CHECK(huge.gather(1, ids({}, {0, 1, 1})).shape() == Shape{0, 1, 1});
  CHECK_TG_ERROR(z.select(0, 0), "select: index 0 out of range for dimension 0 of size 0");
  CHECK_TG_ERROR(z.index_select(0, ids({0})),
                 "index 0 (at position 0 of the index) is out of range for dimension 0 of size 0");
}

TEST_CASE("parts: misuse is a tg::Error naming the op and the values", "[parts]") {
  Tensor x = tg::zeros({3, 4});
  CHECK_TG_ERROR(x.narrow(2, 0, 1), "narrow: dimension 2 out of range for a 2-d tensor");
  CHECK_TG_ERROR(x.narrow(0, 4, 0),
                 "narrow: start 4 out of range for dimension 0 of size 3 (expected -3 to 3)");
  CHECK_TG_ERROR(x.narrow(0, -4, 1), "narrow: start -4 out of range");
  CHECK_TG_ERROR(x.narrow(1, 2, 3), "narrow: start 2 + length 3 exceeds the size 4 of dimension 1");
  CHECK_TG_ERROR(x.narrow(1, 0, -1), "narrow: start 0 + length -1 exceeds");
  CHECK_TG_ERROR(tg::zeros({}).narrow(0, 0, 1), "narrow: cannot be applied to a 0-d tensor");
  CHECK_TG_ERROR(x.select(1, 4),
                 "select: index 4 out of range for dimension 1 of size 4 of [3, 4]");
  CHECK_TG_ERROR(x.select(0, -4), "select: index -4 out of range");
  CHECK_TG_ERROR(tg::zeros({}).select(0, 0), "select: cannot be applied to a 0-d tensor");
  CHECK_TG_ERROR(x.chunk(0), "chunk: the number of chunks must be positive, got 0");
  CHECK_TG_ERROR(x.chunk(2, 2), "chunk: dimension 2 out of range");
  CHECK_TG_ERROR(x.split(0), "split: split_size 0 is invalid for dimension 0 of size 3");
  CHECK_TG_ERROR(x.split(-1, 1), "split: split_size -1 is invalid");
}

TEST_CASE("indexing: misuse is a tg::Error checked before any element is read", "[parts]") {
  Tensor x = tg::zeros({4, 3});
  const int64_t huge = int64_t{1} << 40;
  CHECK_TG_ERROR(x.index_select(0, tg::zeros({2})),
                 "index_select: expected an Int64 index, got Float32 of shape [2]");
  CHECK_TG_ERROR(x.index_select(0, ids({0, 1}, {1, 2})),
                 "index_select: expected a 1-D or 0-d index, got shape [1, 2]");
  CHECK_TG_ERROR(x.index_select(0, ids({1, 4})),
                 "index_select: index 4 (at position 1 of the index) is out of range for dimension "
                 "0 of size 4");
  CHECK_TG_ERROR(x.index_select(1, ids({-1})), "index_select: index -1 (at position 0");
  CHECK_TG_ERROR(x.index_select(1, ids({huge})), fmt::format("index {} ", huge));
  CHECK_TG_ERROR(x.index_select(2, ids({0})), "index_select: dimension 2 out of range");
  CHECK_TG_ERROR(tg::zeros({}).index_select(0, ids({0, 0})),
                 "index_select: a 0-d tensor takes exactly one index, got 2");

  CHECK_TG_ERROR(x.gather(0, ids({0})), "gather: the index has 1 dimensions but the tensor has 2");
  CHECK_TG_ERROR(x.gather(1, ids({0, 0, 0, 0, 0}, {5, 1})),
                 "gather: the index's extent 5 exceeds the tensor's 4 at dimension 0");
  CHECK_TG_ERROR(
      x.gather(0, ids({4}, {1, 1})),
      "gather: index 4 (at position 0 of the index) is out of range for dimension 0 of size 4");
  CHECK_TG_ERROR(x.gather(1, ids({std::numeric_limits<int64_t>::min()}, {1, 1})),
                 "gather: index -");
  CHECK_TG_ERROR(x.gather(0, tg::zeros({1, 1}, {.dtype = tg::Dtype::Bool})),
                 "gather: expected an Int64 index, got Bool");

  CHECK_TG_ERROR(x.index_copy_(0, ids({4}), tg::zeros({1, 3})),
                 "index_copy_: index 4 (at position 0 of the index) is out of range");
  CHECK_TG_ERROR(x.index_copy_(0, ids({0, 1}), tg::zeros({3, 3})),
                 "index_copy_: the source has shape [3, 3] but 2 indices along dimension 0 of [4, "
                 "3] need [2, 3]");
  CHECK_TG_ERROR(x.index_copy_(0, ids({0}), tg::zeros({3})),
                 "index_copy_: the source has shape [3]");
  CHECK_TG_ERROR(x.index_copy_(0, ids({0}), tg::zeros({1, 3}, {.dtype = tg::Dtype::Float64})),
                 "index_copy_: dtypes differ");
  CHECK_TG_ERROR(x.t().index_copy_(0, ids({0}), tg::zeros({1, 4})), "a copy that 'transpose'");
  Tensor leaf = tg::zeros({2}, {.requires_grad = true});
  CHECK_TG_ERROR(leaf.index_copy_(0, ids({0}), tg::zeros({1})), "index_copy_: a leaf tensor");
  CHECK(x.to_vector<float>() == V(12, 0));
}

TEST_CASE("joins: misuse is a tg::Error naming the op and the values", "[parts]") {
  Tensor a = tg::zeros({2, 3});
  CHECK_TG_ERROR(tg::cat({}), "cat: expected a non-empty list of tensors");
  CHECK_TG_ERROR(tg::cat({a, tg::zeros({2, 4})}),
                 "cat: shapes differ outside dimension 0: [2, 3] and [2, 4] (tensor 1)");
  CHECK_TG_ERROR(tg::cat({a, tg::zeros({3})}),
                 "cat: shapes differ outside dimension 0: [2, 3] and [3] (tensor 1)");
  CHECK_TG_ERROR(tg::cat({a, tg::zeros({2, 3}, {.dtype = tg::Dtype::Float64})}),
                 "cat: dtypes differ: Float32 [2, 3] and Float64 [2, 3] (tensor 1)");
  CHECK_TG_ERROR(tg::cat({a, a}, 2), "cat: dimension 2 out of range for a 2-d tensor");
  CHECK_TG_ERROR(tg::cat({tg::zeros({}), tg::zeros({})}),
                 "cat: a 0-d tensor cannot be concatenated");
  CHECK_TG_ERROR(tg::stack({}), "stack: expected a non-empty list of tensors");
  CHECK_TG_ERROR(tg::stack({a, a.t()}),
                 "stack: every tensor must have the same shape and dtype, but tensor 0 is Float32 "
                 "[2, 3] and tensor 1 is Float32 [3, 2]");
  CHECK_TG_ERROR(tg::stack({a, a}, 3),
                 "stack: dimension 3 out of range for 2-d tensors (expected -3 to 2)");
}
