// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
// name to {dtype, shape, data_offsets} (plus an optional string-to-string __metadata__), then
// the raw little-endian data. Reading follows the reference implementation's rules and checks
// every number before it is used for a size, an offset or an allocation.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/io/safetensors.hpp>
#include <tapegrad/threads.hpp>
#include <tapegrad/version.hpp>

#include <zlib.h>
#include <nlohmann/json.hpp>

#include "io/file.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; tapegrad copies it unchanged");

namespace tg::io {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 3;  // root object → tensor entry → shape / data_offsets array

// Rejects what nlohmann::json would silently accept: duplicate keys (it keeps the last) and
// nesting deeper than the format has. Runs before the document is built.
class StrictJsonCheck : public nlohmann::json_sax<json> {
 public:
  explicit StrictJsonCheck(std::string source) : source_(std::move(source)) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return enter();
  }
  bool key(string_t& name) override {
    if (!keys_.back().insert(name).second)
      fail("{}: the header repeats the key '{}'", source_, name);
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    fail("{}: the header is not valid JSON (byte {}): {}", source_, position, error.what());
  }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth)
      fail("{}: the header nests deeper than safetensors allows", source_);
    return true;
  }
  std::string source_;
  std::vector<std::set<std::string>> keys_;
  int depth_ = 0;
};

struct DtypeName {
  const char* name;
  std::optional<Dtype> dtype;  // empty: a safetensors dtype tapegrad does not read
};
constexpr DtypeName kDtypes[] = {{"F32", Dtype::Float32},
                                 {"F64", Dtype::Float64},
                                 {"I64", Dtype::Int64},
                                 {"BOOL", Dtype::Bool},
                                 {"U8", {}},
                                 {"I8", {}},
                                 {"I16", {}},
                                 {"U16", {}},
                                 {"F16", {}},
                                 {"BF16", {}},
                                 {"I32", {}},
                                 {"U32", {}},
                                 {"U64", {}},
                                 {"F8_E5M2", {}},
                                 {"F8_E4M3", {}}};

Dtype parse_dtype(const std::string& source, const std::string& tensor, const std::string& name) {
  for (const DtypeName& known : kDtypes) {
    if (name != known.name) continue;
    if (!known.dtype) {
      fail("{}: tensor '{}' has dtype {}, which tapegrad does not read (F32, F64, I64)", source,
           tensor, name);
    }
    return *known.dtype;
  }
  fail("{}: tensor '{}' has unknown dtype '{}'", source, tensor, name);
}

// Reads a JSON array of unsigned integers (safetensors' shape and data_offsets).
std::vector<uint64_t> unsigned_array(const json& value, const std::string& source,
                                     const std::string& tensor, const char* field) {
  if (!value.is_array()) fail("{}: tensor '{}': {} is not an array", source, tensor, field);
  std::vector<uint64_t> numbers;
  for (const json& item : value) {
    if (!item.is_number_unsigned()) {
      fail("{}: tensor '{}': {} holds {}, not an unsigned integer", source, tensor, field,
           item.dump());
    }
    numbers.push_back(item.get<uint64_t>());
  }
  return numbers;
}

TensorInfo parse_entry(const std::string& name, const json& entry, const std::string& source) {
  if (!entry.is_object()) fail("{}: tensor '{}' is not described by an object", source, name);
  for (const auto& [field, value] : entry.items()) {
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      fail("{}: tensor '{}' has an unknown field '{}'", source, name, field);
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) fail("{}: tensor '{}' has no '{}'", source, name, field);
  }
  if (!entry["dtype"].is_string()) fail("{}: tensor '{}': dtype is not a string", source, name);
  TensorInfo info{name, parse_dtype(source, name, entry["dtype"].get<std::string>()), {}, 0, 0};
  uint64_t bytes = dtype_size(info.dtype);
  for (const uint64_t dim : unsigned_array(entry["shape"], source, name, "shape")) {
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(bytes, dim, &bytes)) {
      fail("{}: tensor '{}': shape {} overflows", source, name, entry["shape"].dump());
    }
    info.shape.push_back(static_cast<int64_t>(dim));
  }
  const auto offsets = unsigned_array(entry["data_offsets"], source, name, "data_offsets");
  if (offsets.size() != 2 || offsets[0] > offsets[1]) {
    fail("{}: tensor '{}': data_offsets {} is not [begin, end] with begin <= end", source, name,
         entry["data_offsets"].dump());
  }
  info.begin = offsets[0];
  info.end = offsets[1];
  if (info.end - info.begin != bytes) {
    fail("{}: tensor '{}': data_offsets {} span {} bytes, but {} {} needs {}", source, name,
         entry["data_offsets"].dump(), info.end - info.begin, entry["dtype"].get<std::string>(),
         entry["shape"].dump(), bytes);
  }
  return info;
}

Metadata parse_metadata(const json& value, const std::string& source) {
  if (!value.is_object()) fail("{}: __metadata__ is not an object", source);
  Metadata metadata;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string()) fail("{}: __metadata__ '{}' is not a string", source, key);
    metadata[key] = text.get<std::string>();
  }
  return metadata;
}

// Tensors must tile the data section exactly: from 0, no gap, no overlap, nothing after.
void check_layout(std::vector<TensorInfo>& tensors, uint64_t data_size, const std::string& source) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t expected = 0;
  for (const TensorInfo& info : tensors) {
    if (info.begin != expected) {
      fail("{}: tensor '{}' starts at byte {} of the data, expected {} ({})", source, info.name,
           info.begin, expected, info.begin > expected ? "a gap" : "an overlap");
    }
    expected = info.end;
  }
  if (expected != data_size) {
    fail("{}: the tensors cover {} bytes of data, but the file holds {}", source, expected,
         data_size);
  }
}

// tapegrad writes "crc32" into every file, beside "format" and "tapegrad_version". A file that
// still names tapegrad as its writer but has no "crc32" lost it to corruption (one flipped bit
// turns the key into "brc32"); reading it unchecked would let a second corruption through.
void check_crc_present(const Metadata& metadata, const std::string& source) {
  if (metadata.contains("crc32")) return;
  const auto format = metadata.find("format");
  if ((format != metadata.end() && format->second.starts_with("tapegrad")) ||
      metadata.contains("tapegrad_version")) {
    fail("{}: the metadata names tapegrad as the writer but has no 'crc32': the header is corrupt",
         source);
  }
}

uint32_t crc32_of(uint32_t crc, const void* data, uint64_t count) {
  return static_cast<uint32_t>(
      crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(count)));
}

std::string crc_text(uint32_t crc) { return fmt::format("{:08x}", crc); }

std::string dtype_summary(const NamedTensors& tensors) {
  std::set<std::string> floating;
  for (const auto& [name, tensor] : tensors) {
    if (is_floating(tensor.dtype())) floating.insert(safetensors_dtype(tensor.dtype()));
  }
  if (floating.empty()) return "none";
  return floating.size() == 1 ? *floating.begin() : "mixed";
}

}  // namespace

struct SafetensorsReader::File {
  File(const std::filesystem::path& path, const char* op)
      : input(path, op), source(fmt::format("{} '{}'", op, path.string())) {}
  detail::InputFile input;
  std::string source;  // "OP 'PATH'", the start of every error message
};

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path, const char* op)
    : file_(std::make_unique<File>(path, op)) {
  const std::string& source = file_->source;
  const uint64_t size = file_->input.size();
  if (size < 8)
    fail("{}: the file has {} bytes, fewer than the 8 of a header length", source, size);
  unsigned char prefix[8];
  file_->input.read_at(0, prefix, 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | prefix[i];
  if (header_size > kMaxHeaderBytes) {
    fail("{}: header length {} exceeds the {}-byte limit", source, header_size, kMaxHeaderBytes);
  }
  if (header_size > size - 8) {
    fail("{}: header length {} runs past the end of the {}-byte file", source, header_size, size);
  }
  std::string header(header_size, '\0');
  file_->input.read_at(8, header.data(), header_size);
  if (header.empty() || header[0] != '{') fail("{}: the header does not start with '{{'", source);

  StrictJsonCheck check(source);
  json document;
  try {
    json::sax_parse(header, &check);
    document = json::parse(header);
  } catch (const json::exception& error) {  // the check above should leave nothing to throw
    fail("{}: the header is not valid JSON: {}", source, error.what());
  }
  data_start_ = 8 + header_size;
  for (const auto& [name, value] : document.items()) {
    if (name == "__metadata__") {
      metadata_ = parse_metadata(value, source);
    } else {
      tensors_.push_back(parse_entry(name, value, source));
    }
  }
  check_crc_present(metadata_, source);
  check_layout(tensors_, size - data_start_, source);
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

SafetensorsReader::~SafetensorsReader() = default;

const TensorInfo* SafetensorsReader::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

NamedTensors SafetensorsReader::read_all() const {
  NamedTensors out;
  uint32_t crc = crc32_of(0, nullptr, 0);
  for (const TensorInfo& info : tensors_) {
    Tensor tensor = empty(info.shape, {.dtype = info.dtype});
    file_->input.read_at(data_start_ + info.begin, tensor.raw_data(), info.end - info.begin);
    crc = crc32_of(crc, tensor.raw_data(), info.end - info.begin);
    if (info.dtype == Dtype::Bool) {
      // A C++ bool must hold 0 or 1; any other byte would make reading it undefined behaviour.
      const auto* bytes = static_cast<const unsigned char*>(tensor.raw_data());
      for (int64_t i = 0; i < tensor.numel(); ++i) {
        if (bytes[i] > 1) {
          fail("{}: tensor '{}' is BOOL but element {} is the byte {}, not 0 or 1", file_->source,
               info.name, i, bytes[i]);
        }
      }
    }
    out.emplace_back(info.name, std::move(tensor));
  }
  const auto stored = metadata_.find("crc32");
  if (stored != metadata_.end() && stored->second != crc_text(crc)) {
    fail("{}: the data is corrupt: its CRC-32 is {}, the file records {}", file_->source,
         crc_text(crc), stored->second);
  }
  return out;
}

const char* safetensors_dtype(Dtype dtype) {
  for (const DtypeName& known : kDtypes) {
    if (known.dtype == dtype) return known.name;
  }
  fail("safetensors_dtype: no safetensors name for dtype {}", dtype);
}

void write_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                       Metadata metadata, const char* op) {
  json header = json::object();
  uint64_t offset = 0;
  uint32_t crc = crc32_of(0, nullptr, 0);
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__" || !names.insert(name).second) {
      fail("{}: tensor name '{}' is empty, reserved or repeated", op, name);
    }
    if (!tensor.defined()) fail("{}: tensor '{}' is undefined", op, name);
    const uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * dtype_size(tensor.dtype());
    header[name] = {{"dtype", safetensors_dtype(tensor.dtype())},
                    {"shape", tensor.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    crc = crc32_of(crc, tensor.raw_data(), bytes);
  }
  metadata["crc32"] = crc_text(crc);
  metadata.try_emplace("format", "tapegrad");
  metadata.insert_or_assign("format_version", std::string("1"));
  metadata.insert_or_assign("tapegrad_version", std::string(version()));
  metadata["dtype"] = dtype_summary(tensors);
  metadata["openblas_kernel"] = blas_core_name();
  metadata["threads"] = std::to_string(num_threads());
  header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  unsigned char prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(text.size() >> (8 * i));
  detail::write_atomically(path, op, [&](detail::OutputFile& file) {
    file.write(prefix, 8);
    file.write(text.data(), text.size());
    for (const auto& [name, tensor] : tensors) {
      file.write(tensor.raw_data(),
                 static_cast<uint64_t>(tensor.numel()) * dtype_size(tensor.dtype()));
    }
  });
}

NamedTensors read_safetensors(const std::filesystem::path& path, Metadata* metadata) {
  SafetensorsReader reader(path, "read_safetensors");
  if (metadata) *metadata = reader.metadata();
  return reader.read_all();
}

}  // namespace tg::io
