// The protobuf wire format, as much of it as an ONNX file needs: varints (int32, int64, enums),
// 32-bit floats, and length-delimited fields (strings, bytes, nested messages). Repeated
// scalars are written unpacked, as proto2 (onnx.proto's syntax) does by default.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tg::onnx::detail {

/// Appends fields of one message to a byte string.
class ProtoWriter {
 public:
  /// Wire type 0. A negative int64 is its two's complement, ten bytes, as protobuf encodes it.
  void varint_field(int field, int64_t value);
  /// Wire type 5, little-endian IEEE single.
  void float_field(int field, float value);
  /// Wire type 2: the length, then the bytes.
  void bytes_field(int field, std::string_view bytes);
  /// A nested message (wire type 2).
  void message_field(int field, const ProtoWriter& message) { bytes_field(field, message.out_); }

  const std::string& bytes() const { return out_; }

 private:
  void varint(uint64_t value);
  void tag(int field, int wire_type);
  std::string out_;
};

}  // namespace tg::onnx::detail
