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
  }
  return "unknown";
}

std::size_t dtype_size(Dtype dtype) { return dtype == Dtype::Float32 ? 4 : 8; }

bool is_floating(Dtype dtype) { return dtype == Dtype::Float32 || dtype == Dtype::Float64; }

}  // namespace tg
