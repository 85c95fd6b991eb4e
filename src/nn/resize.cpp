// Padding layers, pixel shuffles and nearest-neighbour upsampling (torch.nn, 1.13), all from
// recorded ops (F::pad, reshape/permute, index_select), so their gradients, and gradients of
// gradients, come from the tape.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/resize.hpp>
#include <tapegrad/ops.hpp>

#include <cmath>

namespace tg::nn {
namespace {

// "2 or 3" dims for a 1-d layer (unbatched or batched), "3 or 4" for a 2-d one.
void check_rank(const Tensor& x, int64_t dims, const char* layer) {
  if (x.dim() != dims + 1 && x.dim() != dims + 2) {
    fail("{}: expected a {}-d or {}-d input, got {}", layer, dims + 1, dims + 2,
         shape_str(x.shape()));
  }
}

void check_factor(int64_t factor, const char* layer) {
  if (factor <= 0) fail("{}: the factor must be positive, got {}", layer, factor);
}

// ATen's nearest_idx: the input index output index i reads.
int64_t nearest_source(int64_t i, int64_t in, int64_t out, std::optional<double> scale_factor) {
  if (out == in) return i;
  if (out == 2 * in) return i >> 1;
  const float scale = scale_factor ? static_cast<float>(1.0 / *scale_factor)
                                   : static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
}

// x's last three dims split into `split`, permuted by `order` (indices into split), then merged
// into `merged`; the leading dims stay.
Tensor rearrange_last_three(const Tensor& x, std::initializer_list<int64_t> split,
                            std::initializer_list<int64_t> order,
                            std::initializer_list<int64_t> merged) {
  const Shape lead(x.shape().begin(), x.shape().end() - 3);
  const auto with = [&lead](std::initializer_list<int64_t> tail) {
    Shape shape = lead;
    shape.insert(shape.end(), tail);
    return shape;
  };
  const auto d = static_cast<int64_t>(lead.size());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < d; ++i) dims.push_back(i);
  for (int64_t i : order) dims.push_back(d + i);
  return x.reshape(with(split)).permute(dims).reshape(with(merged));
}

}  // namespace

Pad::Pad(const char* name, int64_t dims, std::vector<int64_t> padding, std::string mode,
         double value)
    : name_(name),
      dims_(dims),
      padding_(std::move(padding)),
      mode_(std::move(mode)),
      value_(value) {
  if (static_cast<int64_t>(padding_.size()) != 2 * dims) {
    fail("{}: padding must be one int or {} ints ({}), got {}", name, 2 * dims,
         dims == 1 ? "left, right" : "left, right, top, bottom", padding_.size());
  }
}

Tensor Pad::forward(const Tensor& x) {
  check_rank(x, dims_, name_);
  try {
    return F::pad(x, padding_, mode_, value_);
  } catch (const Error& error) {
    fail("{}: {}", name_, error.what());
  }
}

Tensor functional::pixel_shuffle(const Tensor& x, int64_t r) {
  check_factor(r, "pixel_shuffle");
  if (x.dim() < 3 || x.size(-3) % (r * r) != 0) {
    fail("pixel_shuffle: expected an input [*, C·{}, H, W] (channels divisible by {}), got {}",
         r * r, r * r, shape_str(x.shape()));
  }
  const int64_t c = x.size(-3) / (r * r), h = x.size(-2), w = x.size(-1);
  // [*, C, r, r, H, W] → [*, C, H, r, W, r] → [*, C, H·r, W·r]
  return rearrange_last_three(x, {c, r, r, h, w}, {0, 3, 1, 4, 2}, {c, h * r, w * r});
}

Tensor functional::pixel_unshuffle(const Tensor& x, int64_t r) {
  check_factor(r, "pixel_unshuffle");
  if (x.dim() < 3 || x.size(-2) % r != 0 || x.size(-1) % r != 0) {
    fail("pixel_unshuffle: expected an input [*, C, H·{}, W·{}], got {}", r, r,
         shape_str(x.shape()));
  }
  const int64_t c = x.size(-3), h = x.size(-2) / r, w = x.size(-1) / r;
  // [*, C, H, r, W, r] → [*, C, r, r, H, W] → [*, C·r², H, W]
  return rearrange_last_three(x, {c, h, r, w, r}, {0, 2, 4, 1, 3}, {c * r * r, h, w});
}

Tensor functional::interpolate(const Tensor& x, const std::vector<int64_t>& size,
                               const std::vector<double>& scale_factor, const std::string& mode) {
  if (mode != "nearest") {
    fail("interpolate: only mode \"nearest\" is offered, got \"{}\"", mode);
  }
  if (x.dim() < 3 || x.dim() > 5) {
    fail("interpolate: expected an input [N, C, L], [N, C, H, W] or [N, C, D, H, W], got {}",
         shape_str(x.shape()));
  }
  const int64_t spatial = x.dim() - 2;
  if (size.empty() == scale_factor.empty()) {
    fail("interpolate: give either size or scale_factor, exactly one");
  }
  const std::vector<int64_t>& per_dim_size = size;
  const auto count = static_cast<int64_t>(size.empty() ? scale_factor.size() : size.size());
  if (count != spatial && count != 1) {
    fail("interpolate: expected 1 or {} sizes or factors for input {}, got {}", spatial,
         shape_str(x.shape()), count);
  }
  Tensor y = x;
  for (int64_t d = 0; d < spatial; ++d) {
    const int64_t dim = 2 + d, in = x.size(dim);
    const auto at = static_cast<size_t>(count == 1 ? 0 : d);
    std::optional<double> factor;
    int64_t out = 0;
    if (!per_dim_size.empty()) {
      out = per_dim_size[at];
    } else {
      factor = scale_factor[at];
      if (!(*factor > 0)) fail("interpolate: scale_factor must be positive, got {}", *factor);
      out = static_cast<int64_t>(std::floor(static_cast<double>(in) * *factor));
    }
    if (out <= 0) {
      fail("interpolate: the output size of dim {} must be positive, got {} for input {}", dim, out,
           shape_str(x.shape()));
    }
    std::vector<int64_t> source(static_cast<size_t>(out));
    for (int64_t i = 0; i < out; ++i)
      source[static_cast<size_t>(i)] = nearest_source(i, in, out, factor);
    y = y.index_select(dim, from_vector(std::move(source), {out}));
  }
  return y;
}

PixelShuffle::PixelShuffle(int64_t factor) : upscale_factor(factor) {
  check_factor(factor, "PixelShuffle");
}

Tensor PixelShuffle::forward(const Tensor& x) { return F::pixel_shuffle(x, upscale_factor); }

PixelUnshuffle::PixelUnshuffle(int64_t factor) : downscale_factor(factor) {
  check_factor(factor, "PixelUnshuffle");
}

Tensor PixelUnshuffle::forward(const Tensor& x) { return F::pixel_unshuffle(x, downscale_factor); }

Upsample::Upsample(UpsampleOptions o) : options(std::move(o)) {
  if (options.size.empty() == options.scale_factor.empty()) {
    fail("Upsample: give either size or scale_factor, exactly one");
  }
  if (options.mode != "nearest") {
    fail("Upsample: only mode \"nearest\" is offered, got \"{}\"", options.mode);
  }
}

Tensor Upsample::forward(const Tensor& x) {
  try {
    return F::interpolate(x, options.size, options.scale_factor, options.mode);
  } catch (const Error& error) {
    fail("Upsample: {}", error.what());
  }
}

}  // namespace tg::nn
