#include <tapegrad/dtype.hpp>

namespace tg {

std::string_view dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return "Float32";
    case Dtype::Float64:
      return "Float64";
    case Dtype::Int64:
      return "Int64";
    case Dtype::Bool:
      return "Bool";
  }
  return "unknown";
}

std::size_t dtype_size(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return 4;
    case Dtype::Bool:
      return 1;
    default:
      return 8;
  }
}

bool is_floating(Dtype dtype) { return dtype == Dtype::Float32 || dtype == Dtype::Float64; }

}  // namespace tg
