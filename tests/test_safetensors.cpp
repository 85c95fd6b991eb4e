#include <tapegrad/tapegrad.hpp>

#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "helpers.hpp"
#include "scratch.hpp"

#include <sys/stat.h>

#include <filesystem>

using namespace tg;
using tg::testing::bytes_of;
using tg::testing::ScratchDir;

namespace {

const std::filesystem::path kFixtures = std::filesystem::path(TAPEGRAD_FIXTURES) / "safetensors";

nn::Sequential small_model(uint64_t seed) {
  manual_seed(seed);
  return nn::Sequential{nn::Linear(4, 3), nn::Tanh(), nn::Linear(3, 2)};
}

uint64_t little_endian_u64(const std::vector<unsigned char>& bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[static_cast<size_t>(i)];
  return value;
}

}  // namespace

TEST_CASE("save then load restores every parameter bit for bit") {
  ScratchDir dir;
  nn::Sequential saved = small_model(1);
  save(saved, dir / "model.safetensors");
  nn::Sequential loaded = small_model(2);
  REQUIRE(bytes_of(loaded.parameters()) != bytes_of(saved.parameters()));
  load(loaded, dir / "model.safetensors");
  CHECK(bytes_of(loaded.parameters()) == bytes_of(saved.parameters()));
  CHECK(loaded.parameters()[0].requires_grad());
}

TEST_CASE("save writes the safetensors layout exactly") {
  ScratchDir dir;
  nn::Sequential model = small_model(3);
  model.to(Dtype::Float64);
  save(model, dir / "model.safetensors");
  const auto bytes = tg::testing::read_bytes(dir / "model.safetensors");
  const uint64_t header_size = little_endian_u64(bytes);
  REQUIRE(bytes.size() > 8 + header_size);
  CHECK(header_size % 8 == 0);  // padded with spaces so the data is 8-byte aligned
  const auto header =
      nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_size));
  uint64_t offset = 0;
  const auto data = bytes.begin() + 8 + static_cast<long>(header_size);
  for (const auto& [name, param] : model.named_parameters()) {
    INFO(name);
    REQUIRE(header.contains(name));
    CHECK(header[name]["dtype"] == "F64");
    CHECK(header[name]["shape"].get<Shape>() == param.shape());
    const auto offsets = header[name]["data_offsets"].get<std::vector<uint64_t>>();
    CHECK(offsets[0] == offset);
    offset = offsets[1];
    const std::vector<unsigned char> stored(data + static_cast<long>(offsets[0]),
                                            data + static_cast<long>(offsets[1]));
    CHECK(stored == bytes_of(std::vector<Tensor>{param}));
  }
  CHECK(8 + header_size + offset == bytes.size());
  const auto& metadata = header["__metadata__"];
  CHECK(metadata["format_version"] == "1");
  CHECK(metadata["tapegrad_version"] == version());
  CHECK(metadata["dtype"] == "F64");
  CHECK(metadata["openblas_kernel"] == blas_core_name());
  CHECK(metadata["threads"] == std::to_string(num_threads()));
  CHECK(metadata["crc32"].get<std::string>().size() == 8);
}

TEST_CASE("a file written by the fixture script loads with the values it holds") {
  nn::Linear layer(3, 2);
  load(layer, kFixtures / "valid_linear_3_2.safetensors");
  CHECK(layer.weight.to_vector<float>() ==
        std::vector<float>{0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f});
  CHECK(layer.bias.to_vector<float>() == std::vector<float>{0.125f, -2.0f});
}

TEST_CASE("every malformed file is a tg::Error and leaves the module untouched") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kFixtures / "malformed")) {
    INFO(entry.path().filename().string());
    manual_seed(7);
    nn::Linear layer(3, 2);
    const auto before = bytes_of(layer.parameters());
    CHECK_TG_ERROR(load(layer, entry.path()), entry.path().string());
    CHECK(bytes_of(layer.parameters()) == before);
    ++files;
  }
  CHECK(files >= 30);
}

TEST_CASE("load names specific problems in its errors") {
  const auto malformed = kFixtures / "malformed";
  nn::Linear layer(3, 2);
  const auto error_for = [&](const std::string& file, const std::string& fragment) {
    INFO(file);
    CHECK_TG_ERROR(load(layer, malformed / (file + ".safetensors")), fragment);
  };
  error_for("header_length_2pow64_minus_1", "header length 18446744073709551615 exceeds");
  error_for("header_length_past_end_of_file", "runs past the end");
  error_for("duplicate_tensor_name", "repeats the key 'weight'");
  error_for("shape_2_by_2pow64_minus_2", "overflows");
  error_for("gap_between_tensors", "a gap");
  error_for("overlapping_tensors", "an overlap");
  error_for("trailing_bytes", "but the file holds 33");
  error_for("missing_tensor", "no tensor 'bias'");
  error_for("unexpected_tensor", "'running_mean'");
  error_for("wrong_shape", "Float32 [3, 2] in the file but Float32 [2, 3] in the module");
  error_for("crc_mismatch_bit_flip", "corrupt");
  error_for("unsupported_dtype_f16", "F16, which tapegrad does not read");
}

TEST_CASE("flipping any header byte or any data bit never loads wrong values") {
  ScratchDir dir;
  nn::Sequential saved = small_model(4);
  save(saved, dir / "good.safetensors");
  const auto good = tg::testing::read_bytes(dir / "good.safetensors");
  const auto expected = bytes_of(saved.parameters());
  const size_t header_end = 8 + little_endian_u64(good);
  int rejected = 0, loaded_equal = 0, loaded_wrong = 0;
  for (size_t at = 0; at < good.size(); ++at) {
    for (const unsigned char flip : {0x01, 0x20, 0x80}) {
      if (at >= header_end && flip != 0x01) continue;  // data: one bit per byte is enough
      auto bytes = good;
      bytes[at] ^= flip;
      tg::testing::write_bytes(dir / "flipped.safetensors", bytes);
      nn::Sequential model = small_model(5);
      try {
        load(model, dir / "flipped.safetensors");
        ++(bytes_of(model.parameters()) == expected ? loaded_equal : loaded_wrong);
      } catch (const Error&) {
        ++rejected;
      }
    }
  }
  INFO("rejected " << rejected << ", loaded equal " << loaded_equal);
  CHECK(loaded_wrong == 0);
  CHECK(rejected > 0);
}

TEST_CASE("load and save report file-system problems as tg::Error") {
  ScratchDir dir;
  nn::Linear layer(3, 2);
  CHECK_TG_ERROR(load(layer, dir / "missing.safetensors"), "cannot open");
  CHECK_TG_ERROR(load(layer, dir.path()), "not a regular file");
  CHECK_TG_ERROR(save(layer, dir / "no-such-dir" / "x.safetensors"), "no-such-dir");
  std::filesystem::create_directory(dir / "taken");
  CHECK_TG_ERROR(save(layer, dir / "taken"), "taken");
  CHECK(std::filesystem::is_directory(dir / "taken"));
}

TEST_CASE("a leftover temporary file is removed by the next save") {
  ScratchDir dir;
  nn::Linear layer(3, 2);
  tg::testing::write_bytes(dir / ".model.safetensors.tmp-1234-dead", {1, 2, 3});
  tg::testing::write_bytes(dir / ".other.safetensors.tmp-1234-dead", {1, 2, 3});
  save(layer, dir / "model.safetensors");
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{".other.safetensors.tmp-1234-dead", "model.safetensors"});
}

TEST_CASE("write_safetensors and read_safetensors keep names, dtypes and metadata") {
  ScratchDir dir;
  const io::NamedTensors tensors{{"ints", from_vector<int64_t>({-1, 2, 1LL << 62}, {3})},
                                 {"scalar", full({}, 0.1, {.dtype = Dtype::Float64})},
                                 {"empty", zeros({0, 5})}};
  io::write_safetensors(dir / "t.safetensors", tensors, {{"note", "hello"}});
  io::Metadata metadata;
  const io::NamedTensors back = io::read_safetensors(dir / "t.safetensors", &metadata);
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back[i].first == tensors[i].first);
    CHECK(back[i].second.shape() == tensors[i].second.shape());
    CHECK(bytes_of(std::vector<Tensor>{back[i].second}) ==
          bytes_of(std::vector<Tensor>{tensors[i].second}));
  }
  CHECK(metadata.at("note") == "hello");
  CHECK_TG_ERROR(
      io::write_safetensors(dir / "u.safetensors", {{"a", zeros({1})}, {"a", zeros({1})}}),
      "'a' is empty, reserved or repeated");
  CHECK_TG_ERROR(io::write_safetensors(dir / "u.safetensors", {{"__metadata__", zeros({1})}}),
                 "reserved");
  CHECK_TG_ERROR(io::write_safetensors(dir / "u.safetensors", {{"a", Tensor()}}), "undefined");
  CHECK_FALSE(std::filesystem::exists(dir / "u.safetensors"));
}

TEST_CASE("a PyTorch nn.Linear state dict loads into nn::Linear and gives PyTorch's outputs") {
  nn::Linear layer(5, 3);
  load(layer, kFixtures / "torch_linear_5_3.safetensors");
  const auto cases = tg::testing::read_fixture("torch_linear_5_3.txt");
  REQUIRE(cases.size() == 1);
  const Tensor x = cases[0].at("x").to(Dtype::Float32);
  const std::vector<double> expected = cases[0].at("y").to_vector<double>();
  const std::vector<float> got = layer(x).to_vector<float>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expected[i]).margin(1e-6));
}

TEST_CASE("a file that names tapegrad as its writer is rejected without its CRC-32") {
  ScratchDir dir;
  nn::Sequential saved = small_model(6);
  optim::SGD optimizer(saved.parameters(), {.lr = 0.1});
  save(saved, dir / "model.safetensors");
  save_checkpoint(dir / "run.ckpt", saved, optimizer);
  // Renames header keys in place (same length, so the file stays well-formed) and flips a
  // data bit, which only the CRC-32 can catch.
  const auto corrupt = [&](const std::filesystem::path& from, const std::string& to,
                           std::vector<std::pair<std::string, std::string>> renames) {
    auto bytes = tg::testing::read_bytes(from);
    std::string text(bytes.begin(), bytes.end());
    for (const auto& [key, replacement] : renames) {
      const size_t at = text.find('"' + key + '"');
      REQUIRE(at != std::string::npos);
      text.replace(at + 1, key.size(), replacement);
    }
    text.back() ^= 0x01;
    tg::testing::write_bytes(dir / to, {text.begin(), text.end()});
    return dir / to;
  };
  nn::Sequential model = small_model(7);
  const auto before = bytes_of(model.parameters());
  CHECK_TG_ERROR(load(model, corrupt(dir / "model.safetensors", "a", {{"crc32", "brc32"}})),
                 "has no 'crc32'");
  CHECK_TG_ERROR(load(model, corrupt(dir / "model.safetensors", "b",
                                     {{"crc32", "brc32"}, {"format", "formbt"}})),
                 "has no 'crc32'");  // tapegrad_version still names the writer
  CHECK_TG_ERROR(
      io::read_safetensors(corrupt(dir / "model.safetensors", "c", {{"crc32", "crc3x"}})),
      "has no 'crc32'");
  CheckpointExtra extra;
  CHECK_TG_ERROR(load_checkpoint(corrupt(dir / "run.ckpt", "d", {{"crc32", "brc32"}}), model,
                                 optimizer, extra),
                 "has no 'crc32'");
  CHECK(bytes_of(model.parameters()) == before);
}

TEST_CASE("load refuses a FIFO or a device instead of blocking or reading forever") {
  ScratchDir dir;
  const auto fifo = dir / "fifo.safetensors";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  nn::Linear layer(3, 2);
  // Nothing ever writes to the FIFO: a blocking open would wait forever.
  CHECK_TG_ERROR(load(layer, fifo), fmt::format("load: '{}' is not a regular file", fifo.string()));
  CHECK_TG_ERROR(load(layer, "/dev/zero"), "load: '/dev/zero' is not a regular file");
}
