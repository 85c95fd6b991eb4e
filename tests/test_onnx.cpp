// tg::onnx::export_model: the wire format byte for byte, the model's fields read back with a
// small protobuf reader, and the errors. tests/onnx/check_onnx.py checks whole models with
// onnx, OpenCV and torch.onnx.export.

#include <tapegrad/tapegrad.hpp>

#include "helpers.hpp"
#include "onnx/protobuf.hpp"
#include "scratch.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

using namespace tg;
using tg::testing::ScratchDir;

namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  for (const unsigned char c : bytes) out += fmt::format("{:02x} ", c);
  return out;
}

// One field of a protobuf message: a varint or fixed32's value, or a length-delimited payload.
struct Field {
  uint64_t value = 0;
  std::string bytes;
};

// A protobuf message's fields by number, in order (independent of the writer under test).
std::multimap<int, Field> parse(const std::string& message) {
  std::multimap<int, Field> fields;
  size_t at = 0;
  const auto varint = [&] {
    uint64_t value = 0;
    for (int shift = 0;; shift += 7) {
      REQUIRE(at < message.size());
      const auto byte = static_cast<unsigned char>(message[at++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
  };
  while (at < message.size()) {
    const uint64_t tag = varint();
    Field field;
    if ((tag & 7) == 0) {
      field.value = varint();
    } else if ((tag & 7) == 5) {
      REQUIRE(at + 4 <= message.size());
      uint32_t bits = 0;
      std::memcpy(&bits, message.data() + at, 4);
      field.value = bits;
      at += 4;
    } else {
      REQUIRE((tag & 7) == 2);
      const uint64_t size = varint();
      REQUIRE(at + size <= message.size());
      field.bytes = message.substr(at, size);
      at += size;
    }
    fields.emplace(static_cast<int>(tag >> 3), field);
  }
  return fields;
}

std::vector<Field> all(const std::multimap<int, Field>& fields, int number) {
  std::vector<Field> out;
  for (auto [it, end] = fields.equal_range(number); it != end; ++it) out.push_back(it->second);
  return out;
}

Field one(const std::multimap<int, Field>& fields, int number) {
  const auto found = all(fields, number);
  REQUIRE(found.size() == 1);
  return found[0];
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

float as_float(uint64_t bits) {
  float value;
  const auto word = static_cast<uint32_t>(bits);
  std::memcpy(&value, &word, 4);
  return value;
}

struct Doubler : nn::Module {
  Tensor forward(const Tensor& x) override { return x * 2; }
};

// Subclasses of exportable layers that compute something else.
struct ScaledLinear : nn::Linear {
  ScaledLinear() : nn::Linear(2, 2) {}
  Tensor forward(const Tensor& x) override { return nn::Linear::forward(x) * 3; }
};
struct Reversed : nn::Sequential {
  Reversed() : nn::Sequential(nn::Linear(2, 2), nn::Tanh()) {}
  Tensor forward(const Tensor& x) override { return (*this)[0]->forward((*this)[1]->forward(x)); }
};

}  // namespace

// The examples of https://protobuf.dev/programming-guides/encoding/: field 1 = 150 is
// 08 96 01, field 2 = "testing" is 12 07 74 65 73 74 69 6e 67; an int64 −1 is ten bytes.
TEST_CASE("the protobuf writer encodes varints, floats and bytes as protobuf does", "[onnx]") {
  onnx::detail::ProtoWriter out;
  out.varint_field(1, 150);
  out.bytes_field(2, "testing");
  out.varint_field(3, -1);
  out.float_field(4, 1.0f);  // 0x3f800000, little-endian, after the tag (4 << 3) | 5
  CHECK(hex(out.bytes()) ==
        "08 96 01 12 07 74 65 73 74 69 6e 67 18 ff ff ff ff ff ff ff ff ff 01 25 00 00 80 3f ");
}

TEST_CASE("export_model writes IR 7, opset 13, a Gemm like torch's and raw Float32 weights",
          "[onnx]") {
  ScratchDir dir;
  manual_seed(3);
  nn::Sequential model{nn::Linear(3, 2), nn::ReLU()};
  onnx::export_model(model, randn({4, 3}), dir / "m.onnx");
  const auto file = parse(read_file(dir / "m.onnx"));
  CHECK(one(file, 1).value == 7);                        // ir_version
  CHECK(one(parse(one(file, 8).bytes), 2).value == 13);  // opset_import.version
  const auto graph = parse(one(file, 7).bytes);
  const auto nodes = all(graph, 1);
  REQUIRE(nodes.size() == 2);
  const auto gemm = parse(nodes[0].bytes);
  CHECK(one(gemm, 4).bytes == "Gemm");
  std::vector<std::string> inputs;
  for (const Field& f : all(gemm, 1)) inputs.push_back(f.bytes);
  CHECK(inputs == std::vector<std::string>{"input", "0.weight", "0.bias"});
  std::map<std::string, std::multimap<int, Field>> attributes;
  for (const Field& f : all(gemm, 5)) attributes[one(parse(f.bytes), 1).bytes] = parse(f.bytes);
  CHECK(as_float(one(attributes["alpha"], 2).value) == 1.0f);
  CHECK(as_float(one(attributes["beta"], 2).value) == 1.0f);
  CHECK(one(attributes["transB"], 3).value == 1);
  const auto relu = parse(nodes[1].bytes);
  CHECK(one(relu, 4).bytes == "Relu");
  CHECK(one(relu, 2).bytes == "output");
  const auto weight = parse(all(graph, 5).at(0).bytes);
  CHECK(one(weight, 8).bytes == "0.weight");
  CHECK(all(weight, 1).size() == 2);
  CHECK(all(weight, 1)[0].value == 2);  // [out, in]
  CHECK(all(weight, 1)[1].value == 3);
  const std::vector<float> expected = model.named_parameters()[0].second.to_vector<float>();
  CHECK(one(weight, 9).bytes ==
        std::string(reinterpret_cast<const char*>(expected.data()), expected.size() * 4));
  // The input's dimension 0 is the dim_param "batch", dimension 1 is 3.
  const auto shape = parse(
      one(parse(one(parse(one(parse(all(graph, 11).at(0).bytes), 2).bytes), 1).bytes), 2).bytes);
  CHECK(one(parse(all(shape, 1).at(0).bytes), 2).bytes == "batch");
  CHECK(one(parse(all(shape, 1).at(1).bytes), 1).value == 3);
}

TEST_CASE("a layer export_model cannot express is an error naming it, and no file is written",
          "[onnx]") {
  ScratchDir dir;
  nn::Sequential custom{nn::Linear(2, 2), Doubler()};
  CHECK_TG_ERROR(onnx::export_model(custom, randn({1, 2}), dir / "a.onnx"),
                 "onnx::export_model: layer '1' (");
  CHECK_TG_ERROR(onnx::export_model(custom, randn({1, 2}), dir / "a.onnx"),
                 "Doubler): has no ONNX export");
  nn::Sequential lstm{nn::Linear(2, 2), nn::LSTM(2, 3)};
  CHECK_TG_ERROR(onnx::export_model(lstm, randn({1, 2}), dir / "a.onnx"),
                 "layer '1' (tg::nn::LSTM): has no ONNX export");
  nn::Sequential flatten{nn::Flatten(0)};
  CHECK_TG_ERROR(onnx::export_model(flatten, randn({2, 3}), dir / "a.onnx"),
                 "layer '0' (tg::nn::Flatten): only Flatten(start_dim=1, end_dim=-1) exports, got "
                 "start_dim=0");
  nn::Sequential softplus{nn::Softplus(1, 10)};
  CHECK_TG_ERROR(onnx::export_model(softplus, randn({2, 3}), dir / "a.onnx"),
                 "Softplus threshold 10 < 15 has no ONNX equivalent");
  nn::Sequential pool{nn::AdaptiveAvgPool2d(2)};
  CHECK_TG_ERROR(onnx::export_model(pool, randn({1, 1, 4, 4}), dir / "a.onnx"),
                 "only output_size 1 (GlobalAveragePool) exports, got (2, 2)");
  nn::Sequential reflect{nn::Conv2d(1, 1, 3, {.padding = 1, .padding_mode = "reflect"})};
  CHECK_TG_ERROR(onnx::export_model(reflect, randn({1, 1, 4, 4}), dir / "a.onnx"),
                 "layer '0' (tg::nn::Conv2d): padding_mode \"reflect\" is not exported yet");
  nn::Sequential batch_stats{nn::BatchNorm1d(2, {.track_running_stats = false})};
  CHECK_TG_ERROR(onnx::export_model(batch_stats, randn({3, 2}), dir / "a.onnx"),
                 "track_running_stats=false");
  CHECK(std::filesystem::is_empty(dir.path()));  // neither the file nor a temporary one
}

// torch.onnx.export (1.13) cannot export padding="same" (aten::_convolution_mode); ONNX's Conv
// takes the sides apart: pads = [top, left, bottom, right], the odd extra at the end.
TEST_CASE("padding=\"same\" exports as explicit pads, the odd extra at the end", "[onnx]") {
  ScratchDir dir;
  const auto conv_pads = [&](nn::Module& model, const Tensor& input) {
    onnx::export_model(model, input, dir / "same.onnx");
    const auto graph = parse(one(parse(read_file(dir / "same.onnx")), 7).bytes);
    std::vector<int64_t> pads;
    for (const Field& f : all(parse(all(graph, 1).at(0).bytes), 5)) {
      const auto attribute = parse(f.bytes);
      if (one(attribute, 1).bytes != "pads") continue;
      for (const Field& i : all(attribute, 8)) pads.push_back(static_cast<int64_t>(i.value));
    }
    return pads;
  };
  nn::Sequential even{nn::Conv2d(2, 3, {2, 4}, {.padding = "same"})};
  CHECK(conv_pads(even, randn({1, 2, 5, 5})) == std::vector<int64_t>{0, 1, 1, 2});
  nn::Sequential dilated{nn::Conv2d(2, 3, 3, {.padding = "same", .dilation = {1, 2}})};
  CHECK(conv_pads(dilated, randn({1, 2, 5, 5})) == std::vector<int64_t>{1, 2, 1, 2});
  nn::Sequential one_d{nn::Conv1d(2, 3, 4, {.padding = "same"})};
  CHECK(conv_pads(one_d, randn({1, 2, 6})) == std::vector<int64_t>{1, 2});
}

TEST_CASE("a subclass of an exportable layer that overrides forward is not exported as its base",
          "[onnx]") {
  ScratchDir dir;
  nn::Sequential scaled{ScaledLinear()};
  CHECK_TG_ERROR(onnx::export_model(scaled, randn({1, 2}), dir / "a.onnx"),
                 "ScaledLinear): has no ONNX export");
  Reversed reversed;
  CHECK_TG_ERROR(onnx::export_model(reversed, randn({1, 2}), dir / "a.onnx"), "layer '' (");
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("a failed export leaves an existing file as it was", "[onnx]") {
  ScratchDir dir;
  const std::string path = dir.write("m.onnx", "previous contents");
  nn::Sequential model{nn::Linear(2, 2), nn::GRU(2, 2)};
  CHECK_THROWS_AS(onnx::export_model(model, randn({1, 2}), path), Error);
  CHECK(read_file(path) == "previous contents");
}

TEST_CASE("export_model refuses Float64 models, other opsets and inputs that are not batches",
          "[onnx]") {
  ScratchDir dir;
  nn::Sequential model{nn::Linear(2, 2)};
  CHECK_TG_ERROR(onnx::export_model(model, randn({1, 2}), dir / "a.onnx", {.opset = 12}),
                 "onnx::export_model: opset 12 is not supported; the exporter writes opset 13");
  CHECK_TG_ERROR(onnx::export_model(model, randn({}), dir / "a.onnx"),
                 "the example input must be a batch (dimension 0 is the batch), got []");
  model.to(Dtype::Float64);
  CHECK_TG_ERROR(
      onnx::export_model(model, randn({1, 2}, {.dtype = Dtype::Float64}), dir / "a.onnx"),
      "'0.weight' is Float64; the exporter writes Float32 models only");
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("export_model runs the model in evaluation mode and restores every training flag",
          "[onnx]") {
  ScratchDir dir;
  nn::Sequential model{nn::Linear(2, 2), nn::Dropout(0.5), nn::Sequential{nn::Dropout(0.5)}};
  model.train();
  model[2]->eval();
  onnx::export_model(model, randn({3, 2}), dir / "m.onnx");
  CHECK(model.is_training());
  CHECK(model[1]->is_training());
  CHECK_FALSE(model[2]->is_training());
  // Dropout is the identity in evaluation: only the Gemm is written, and it is the output.
  const auto nodes = all(parse(one(parse(read_file(dir / "m.onnx")), 7).bytes), 1);
  REQUIRE(nodes.size() == 1);
  CHECK(one(parse(nodes[0].bytes), 4).bytes == "Gemm");
  CHECK(one(parse(nodes[0].bytes), 2).bytes == "output");
}
