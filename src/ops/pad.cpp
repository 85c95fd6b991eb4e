// F::pad in torch's constant mode: pad = {left, right, top, bottom, …} from the last dim
// backwards; positive amounts join blocks of `value` (cat), negative ones crop (narrow), so the
// gradient is the inner slice of the incoming one and is itself differentiable.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

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

}  // namespace

Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, double value) {
  if (pad.size() % 2 != 0 || static_cast<int64_t>(pad.size()) > 2 * x.dim()) {
    fail("pad: padding length must be even and at most 2·{} for input {}, got {}", x.dim(),
         shape_str(x.shape()), pad.size());
  }
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
