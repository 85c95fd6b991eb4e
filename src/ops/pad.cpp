// F::pad: pad = {left, right, top, bottom, …} from the last dim backwards. In the constant mode
// positive amounts join blocks of `value` (cat) and negative ones crop (narrow); the other modes
// gather each padded dim from its source positions (index_select). Either way the gradient is
// made of recorded ops (a slice, or index_select's sum over the positions read twice), so it is
// itself differentiable.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

#include <algorithm>
#include <string>

namespace tg::nn::functional {
namespace {

Tensor pad_dim(const Tensor& x, int64_t dim, int64_t before, int64_t after, double value) {
  Tensor y = x;
  if (before < 0) y = y.narrow(dim, -before, y.size(dim) + before);
  if (after < 0) y = y.narrow(dim, 0, y.size(dim) + after);
  if (before <= 0 && after <= 0) return y;
  std::vector<Tensor> parts;
  Shape block = y.shape();
  if (before > 0) {
    block[static_cast<size_t>(dim)] = before;
    parts.push_back(full(block, value, {.dtype = x.dtype()}));
  }
  parts.push_back(y);
  if (after > 0) {
    block[static_cast<size_t>(dim)] = after;
    parts.push_back(full(block, value, {.dtype = x.dtype()}));
  }
  return cat(parts, dim);
}

enum class Mode { Constant, Reflect, Replicate, Circular };

Mode parse_mode(const std::string& mode) {
  if (mode == "constant") return Mode::Constant;
  if (mode == "reflect") return Mode::Reflect;
  if (mode == "replicate") return Mode::Replicate;
  if (mode == "circular") return Mode::Circular;
  fail("pad: mode must be \"constant\", \"reflect\", \"replicate\" or \"circular\", got \"{}\"",
       mode);
}

void check_amounts(const Tensor& x, int64_t dim, int64_t before, int64_t after, Mode mode,
                   const std::string& name) {
  const int64_t size = x.size(dim);
  if (before < 0 || after < 0) {
    fail("pad: {} padding must not be negative, got ({}, {}) for dim {} of input {}", name, before,
         after, dim, shape_str(x.shape()));
  }
  if (mode == Mode::Reflect && (before >= size || after >= size)) {
    fail("pad: reflect padding ({}, {}) of dim {} must be less than its size {} (input {})", before,
         after, dim, size, shape_str(x.shape()));
  }
  if (mode == Mode::Circular && (before > size || after > size)) {
    fail(
        "pad: circular padding ({}, {}) of dim {} wraps around more than once (its size is {}, "
        "input {})",
        before, after, dim, size, shape_str(x.shape()));
  }
  if (mode == Mode::Replicate && size == 0 && before + after > 0) {
    fail("pad: replicate padding of dim {} needs a nonempty dim (input {})", dim,
         shape_str(x.shape()));
  }
}

// For each position i ∈ [−before, size + after) of the padded dim, the one of x it copies.
Tensor source_positions(int64_t size, int64_t before, int64_t after, Mode mode) {
  std::vector<int64_t> source;
  for (int64_t i = -before; i < size + after; ++i) {
    if (mode == Mode::Reflect) {
      source.push_back(i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i);
    } else if (mode == Mode::Replicate) {
      source.push_back(std::clamp<int64_t>(i, 0, size - 1));
    } else {
      source.push_back((i % size + size) % size);
    }
  }
  const auto n = static_cast<int64_t>(source.size());
  return from_vector<int64_t>(std::move(source), {n});
}

void check_length(const Tensor& x, const std::vector<int64_t>& pad) {
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * x.dim()) {
    fail("pad: padding length must be even and at most 2·{} for input {}, got {}", x.dim(),
         shape_str(x.shape()), pad.size());
  }
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, const std::string& mode,
           double value) {
  const Mode m = parse_mode(mode);
  if (m == Mode::Constant) return functional::pad(x, pad, value);
  check_length(x, pad);
  Tensor y = x;
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    const int64_t dim = x.dim() - 1 - static_cast<int64_t>(i);
    const int64_t before = pad[2 * i], after = pad[2 * i + 1];
    if (before == 0 && after == 0) continue;  // nothing to pad, even in an empty dim
    check_amounts(x, dim, before, after, m, mode);
    y = y.index_select(dim, source_positions(x.size(dim), before, after, m));
  }
  return y;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, double value) {
  check_length(x, pad);
  Tensor y = x;
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    const int64_t dim = x.dim() - 1 - static_cast<int64_t>(i);
    if (x.size(dim) + pad[2 * i] + pad[2 * i + 1] < 0) {
      fail("pad: the padded size of dim {} of input {} would be negative ({} + {} + {})", dim,
           shape_str(x.shape()), x.size(dim), pad[2 * i], pad[2 * i + 1]);
    }
    y = pad_dim(y, dim, pad[2 * i], pad[2 * i + 1], value);
  }
  return y;
}

}  // namespace tg::nn::functional
