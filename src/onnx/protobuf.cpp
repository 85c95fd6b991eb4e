#include "onnx/protobuf.hpp"

#include <bit>
#include <cstring>

namespace tg::onnx::detail {

// Seven bits per byte, least significant first; the high bit says another byte follows.
void ProtoWriter::varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void ProtoWriter::tag(int field, int wire_type) {
  varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

void ProtoWriter::varint_field(int field, int64_t value) {
  tag(field, 0);
  varint(static_cast<uint64_t>(value));
}

void ProtoWriter::float_field(int field, float value) {
  static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");
  tag(field, 5);
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out_.append(bytes, 4);
}

void ProtoWriter::bytes_field(int field, std::string_view bytes) {
  tag(field, 2);
  varint(bytes.size());
  out_.append(bytes);
}

}  // namespace tg::onnx::detail
