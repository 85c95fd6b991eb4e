// Printing in PyTorch's style: a common format for all elements, rows aligned, "..." elision.

#include <tapegrad/format.hpp>

#include "tensor/tensor_impl.hpp"

#include <algorithm>
#include <cmath>

namespace tg {
namespace {

constexpr int64_t kSummarizeAbove = 1000;  // torch's print threshold
constexpr int64_t kEdgeItems = 3;

// How every element is written, chosen once from all of them as PyTorch does.
struct ElementFormat {
  enum class Style { Boolean, Integer, IntegerFloat, Fixed, Scientific } style = Style::Fixed;
  size_t width = 0;

  std::string render(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (style) {
      case Style::Boolean:
        return v != 0 ? "True" : "False";
      case Style::Integer:
        return fmt::format("{}", static_cast<int64_t>(v));
      case Style::IntegerFloat:
        return fmt::format("{:.0f}.", v);
      case Style::Fixed:
        return fmt::format("{:.4f}", v);
      case Style::Scientific:
        return fmt::format("{:.4e}", v);
    }
    return {};
  }
};

ElementFormat choose_format(const std::vector<double>& values, Dtype dtype) {
  ElementFormat format;
  if (dtype == Dtype::Bool) {
    format.style = ElementFormat::Style::Boolean;
  } else if (dtype == Dtype::Int64) {
    format.style = ElementFormat::Style::Integer;
  } else {
    double largest = 0, smallest = INFINITY;
    bool all_integers = true;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      all_integers &= v == std::trunc(v);
      if (v != 0) {
        largest = std::max(largest, std::abs(v));
        smallest = std::min(smallest, std::abs(v));
      }
    }
    // torch/_tensor_str.py: scientific when the range exceeds 1000× or the values are extreme.
    const bool extreme =
        largest > 0 && (largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4);
    if (all_integers && largest < 1e8) {
      format.style = ElementFormat::Style::IntegerFloat;
    } else {
      format.style = extreme ? ElementFormat::Style::Scientific : ElementFormat::Style::Fixed;
    }
  }
  for (double v : values) format.width = std::max(format.width, format.render(v).size());
  return format;
}

// Indices shown along a dimension of `extent`: all, or the first and last kEdgeItems.
std::vector<int64_t> shown_indices(int64_t extent, bool summarize) {
  std::vector<int64_t> shown;
  for (int64_t i = 0; i < extent; ++i) {
    if (!summarize || extent <= 2 * kEdgeItems || i < kEdgeItems || i >= extent - kEdgeItems) {
      shown.push_back(i);
    }
  }
  return shown;
}

void render(std::string& out, const std::vector<double>& values, const Shape& shape, size_t dim,
            int64_t offset, const ElementFormat& format, bool summarize, size_t indent) {
  if (dim == shape.size()) {
    const std::string text = format.render(values[offset]);
    out.append(format.width - text.size(), ' ');
    out += text;
    return;
  }
  const int64_t stride = shape_numel(Shape(shape.begin() + dim + 1, shape.end()));
  const std::vector<int64_t> shown = shown_indices(shape[dim], summarize);
  const bool innermost = dim + 1 == shape.size();
  // Rows end with one newline per remaining dimension and align under the opening bracket.
  const std::string separator =
      innermost ? ", " : fmt::format(",{:\n<{}}{:<{}}", "", shape.size() - dim - 1, "", indent + 1);
  out += '[';
  for (size_t k = 0; k < shown.size(); ++k) {
    if (k > 0) {
      out += separator;
      if (shown[k] != shown[k - 1] + 1) out += fmt::format("...{}", separator);
    }
    render(out, values, shape, dim + 1, offset + shown[k] * stride, format, summarize, indent + 1);
  }
  out += ']';
}

}  // namespace

std::string to_string(const Tensor& tensor) {
  if (!tensor.defined()) return "tensor(undefined)";
  const std::vector<double> values = tensor.to_vector<double>();
  const bool summarize = tensor.numel() > kSummarizeAbove;
  const ElementFormat format = choose_format(values, tensor.dtype());
  std::string out = "tensor(";
  render(out, values, tensor.shape(), 0, 0, format, summarize, 7);
  out += fmt::format(", shape={}, dtype={}", shape_str(tensor.shape()), tensor.dtype());
  if (tensor.grad_fn()) {
    out += fmt::format(", grad_fn=<{}>", tensor.grad_fn()->name());
  } else if (tensor.requires_grad()) {
    out += ", requires_grad=True";
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& tensor) {
  return out << to_string(tensor);
}

}  // namespace tg
