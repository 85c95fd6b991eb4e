// conv2d's fused kernels: for each group and each sample (or a few samples side by side when
// the output is small), the columns [C·kH·kW, L] of its input (one per output position, padding
// read as 0) are built in a buffer and multiplied by the weight viewed as [O, C·kH·kW]. The
// backward rebuilds the columns for the weight's gradient (g·colsᵀ), scatters Wᵀ·g back through
// them for the input's (col2im), and sums g for the bias's.

#include "ops/conv_kernels.hpp"

#include <tapegrad/threads.hpp>

#include "kernels/lane_sum.hpp"
#include "ops/gemm.hpp"
#include "ops/kernels.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <vector>

namespace tg::nn::functional::conv_kernels {

ConvGeometry geometry(const Shape& x, const Shape& weight, const ConvOptions& o) {
  ConvGeometry g{};
  g.c = weight[1];
  g.h = x[2];
  g.w = x[3];
  g.kh = weight[2];
  g.kw = weight[3];
  g.sh = o.stride.h;
  g.sw = o.stride.w;
  g.ph = o.padding.h;
  g.pw = o.padding.w;
  g.dh = o.dilation.h;
  g.dw = o.dilation.w;
  g.out_h = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.out_w = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  return g;
}

namespace {

// The output columns [first, last) of a row whose input column ow·stride + offset lies inside
// [0, width); the others read padding.
struct InsideRange {
  int64_t first, last;
};
InsideRange inside_range(int64_t out_w, int64_t stride, int64_t offset, int64_t width) {
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = offset >= width ? 0 : std::min(out_w, (width - 1 - offset) / stride + 1);
  return {std::min(first, last), last};
}

// Visits the columns [K, L] of one [C, H, W] block a row segment at a time, in a buffer whose
// rows are `ld` ≥ L long (the columns of several samples side by side): for each column row
// (c, ki, kj) and output row oh, inside(dst, src, range) where dst is the segment's first entry
// and src the input offset of output column 0 (valid for the columns in range), or
// padding(dst) when the whole segment reads padding.
template <class Inside, class Padding>
void for_each_segment(const ConvGeometry& g, int64_t ld, Inside inside, Padding padding) {
  int64_t row = 0;
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj, ++row) {
        const int64_t offset = kj * g.dw - g.pw;
        const InsideRange range = inside_range(g.out_w, g.sw, offset, g.w);
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
          const int64_t dst = row * ld + oh * g.out_w;
          if (ih < 0 || ih >= g.h) {
            padding(dst);
          } else {
            inside(dst, (c * g.h + ih) * g.w + offset, range);
          }
        }
      }
    }
  }
}

template <class T>
void im2col_block(const T* x, const ConvGeometry& g, T* cols, int64_t ld) {
  const int64_t out_w = g.out_w, stride = g.sw;
  for_each_segment(
      g, ld,
      [&](int64_t dst, int64_t src, InsideRange r) {
        T* d = cols + dst;
        std::fill(d, d + r.first, T(0));
        if (stride == 1) {  // a contiguous run: a vector copy
          std::copy(x + (src + r.first), x + (src + r.last), d + r.first);
        } else {
          for (int64_t ow = r.first; ow < r.last; ++ow) d[ow] = x[src + ow * stride];
        }
        std::fill(d + r.last, d + out_w, T(0));
      },
      [&](int64_t dst) { std::fill(cols + dst, cols + dst + out_w, T(0)); });
}

template <class T>
void col2im_block(const T* cols, const ConvGeometry& g, int64_t ld, T* dx) {
  const int64_t stride = g.sw;
  for_each_segment(
      g, ld,
      [&](int64_t dst, int64_t src, InsideRange r) {
        const T* d = cols + dst;
        if (stride == 1) {  // contiguous: the compiler vectorizes the sum
          // Offsets from the run's start: src alone may lie before the block (padding).
          T* into = dx + (src + r.first);
          const T* from = d + r.first;
          for (int64_t k = 0; k < r.last - r.first; ++k) into[k] += from[k];
        } else {
          for (int64_t ow = r.first; ow < r.last; ++ow) dx[src + ow * stride] += d[ow];
        }
      },
      [](int64_t) {});
}

// One [rows, cols] matrix inside a contiguous tensor, starting `offset` elements in.
Tensor block(const Tensor& t, int64_t rows, int64_t cols, int64_t offset) {
  return share_storage(t, {rows, cols}, offset);
}

// The samples are cut into chunks of kChunkSamples, whatever the thread count, and the chunks
// run in consecutive runs on up to num_threads() threads. Each chunk's share of the weight's
// gradient is summed apart, and the shares are added in chunk order: the bits are the same for
// every thread count.
constexpr int64_t kChunkSamples = 16;

int64_t chunk_count(int64_t samples) { return (samples + kChunkSamples - 1) / kChunkSamples; }

int part_count(int64_t chunks) {
  return static_cast<int>(std::min<int64_t>(num_threads(), chunks));
}

// f(part, first sample, end sample) for every chunk; the buffers a part uses are made before by
// the calling thread, so each is freed on the thread that made it.
template <class F>
void run_chunks(int64_t samples, int parts, const F& f) {
  const int64_t chunks = chunk_count(samples);
  detail::run_parts(parts, [&](int part) {
    for (int64_t c = chunks * part / parts; c < chunks * (part + 1) / parts; ++c) {
      f(part, c, c * kChunkSamples, std::min(samples, (c + 1) * kChunkSamples));
    }
  });
}

// Within a chunk, the columns of a few consecutive samples are built side by side and share one
// GEMM: enough of them for kMinColumns columns, so that a small output (an L of 1 to a few
// dozen, late in a CNN) makes one wide product instead of many thin ones, which run far below
// the GEMM's speed. A large output keeps one sample per GEMM and writes into y directly. The
// count depends on the geometry alone, so the bits do not depend on the thread count.
constexpr int64_t kMinColumns = 256;

int64_t batch_samples(const ConvGeometry& g) {
  return std::clamp<int64_t>((kMinColumns + g.l() - 1) / g.l(), 1, kChunkSamples);
}

// One buffer [rows, batch_samples · L] per part.
std::vector<Tensor> part_buffers(int parts, int64_t rows, const ConvGeometry& g, Dtype dtype) {
  std::vector<Tensor> buffers;
  for (int p = 0; p < parts; ++p)
    buffers.push_back(make_tensor({rows, batch_samples(g) * g.l()}, dtype));
  return buffers;
}

// The samples [first, first + count) of a chunk, one GEMM's worth, and group gi's views of them.
struct SampleBatch {
  int64_t first, count, group;
  int64_t width(const ConvGeometry& g) const { return count * g.l(); }
};

// Group gi's [K, count · L] columns of the batch's samples, sample j's in columns [j·L, (j+1)·L).
template <class T>
Tensor batch_columns(const Tensor& x, const ConvGeometry& g, const SampleBatch& b, int64_t groups,
                     Tensor& buffer) {
  const int64_t width = b.width(g);
  for (int64_t j = 0; j < b.count; ++j) {
    const T* in = x.data<T>() + ((b.first + j) * groups + b.group) * g.c * g.h * g.w;
    im2col_block(in, g, buffer.data<T>() + j * g.l(), width);
  }
  return block(buffer, g.k(), width, 0);
}

// Group gi's [O/G, count · L] product of the batch added into y [N, O, L] (holding the bias) or
// copied there (no bias).
template <class T>
void scatter_product(const T* product, const ConvGeometry& g, const SampleBatch& b, int64_t out,
                     int64_t per_group, bool onto_bias, T* y) {
  const int64_t l = g.l(), width = b.width(g);
  for (int64_t j = 0; j < b.count; ++j) {
    for (int64_t ch = 0; ch < per_group; ++ch) {
      T* __restrict to = y + ((b.first + j) * out + b.group * per_group + ch) * l;
      const T* __restrict from = product + ch * width + j * l;
      for (int64_t i = 0; i < l; ++i) to[i] = onto_bias ? to[i] + from[i] : from[i];
    }
  }
}

// The gradient of group gi's outputs of the batch, gathered from gy [N, O, L] into a
// [O/G, count · L] block laid out as the product.
template <class T>
void gather_gradient(const T* gy, const ConvGeometry& g, const SampleBatch& b, int64_t out,
                     int64_t per_group, T* wide) {
  const int64_t l = g.l(), width = b.width(g);
  for (int64_t j = 0; j < b.count; ++j) {
    for (int64_t ch = 0; ch < per_group; ++ch) {
      const T* from = gy + ((b.first + j) * out + b.group * per_group + ch) * l;
      std::copy(from, from + l, wide + ch * width + j * l);
    }
  }
}

// Σ gy over its samples and positions, per channel: each run in lane_sum's order, in double.
template <class T>
Tensor channel_sums(const Tensor& gy) {
  const int64_t n = gy.size(0), out = gy.size(1), l = gy.numel() / std::max<int64_t>(n * out, 1);
  std::vector<double> sums(static_cast<size_t>(out), 0.0);
  const T* pg = gy.data<T>();
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t ch = 0; ch < out; ++ch, pg += l)
      sums[static_cast<size_t>(ch)] += detail::lane_sum(pg, l);
  }
  Tensor sum = make_tensor({out}, gy.dtype());
  T* to = sum.data<T>();
  for (int64_t ch = 0; ch < out; ++ch) to[ch] = static_cast<T>(sums[ch]);
  return sum;
}

template <class T>
Tensor fused_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                     const ConvGeometry& g, int64_t groups) {
  const int64_t n = x.size(0), out = weight.size(0), per_group = out / groups, l = g.l();
  const int64_t batch = batch_samples(g);
  Tensor y = make_tensor({n, out, g.out_h, g.out_w}, x.dtype());
  const int parts = part_count(chunk_count(n));
  std::vector<Tensor> cols = part_buffers(parts, g.k(), g, x.dtype());
  std::vector<Tensor> products = part_buffers(batch > 1 ? parts : 0, per_group, g, x.dtype());
  run_chunks(n, parts, [&](int part, int64_t, int64_t first, int64_t end) {
    for (int64_t s = first; s < end; s += batch) {
      const int64_t count = std::min(batch, end - s);
      // The bias first, then the products add onto it: no pass that zeroes y.
      if (bias.defined()) {
        T* py = y.data<T>() + s * out * l;
        const T* pb = bias.data<T>();
        for (int64_t row = 0; row < count * out; ++row, py += l)
          std::fill(py, py + l, pb[row % out]);
      }
      for (int64_t gi = 0; gi < groups; ++gi) {
        const SampleBatch b{s, count, gi};
        const Tensor columns = batch_columns<T>(x, g, b, groups, cols[part]);
        const Tensor w_block = block(weight, per_group, g.k(), gi * per_group * g.k());
        if (count == 1) {
          Tensor y_block = block(y, per_group, l, (s * out + gi * per_group) * l);
          gemm_into(w_block, false, columns, false, y_block, bias.defined() ? 1.0 : 0.0);
        } else {
          Tensor product = block(products[part], per_group, b.width(g), 0);
          gemm_into(w_block, false, columns, false, product, 0.0);
          scatter_product(product.data<T>(), g, b, out, per_group, bias.defined(), y.data<T>());
        }
      }
    }
  });
  return y;
}

// The first-order gradients of the fused convolution: {dx, dweight, dbias}, each only if asked.
template <class T>
Grads fused_backward(const Tensor& gy, const Shape& x_shape, const Tensor& x, const Tensor& weight,
                     bool need_x, bool need_w, bool need_b, const ConvGeometry& g, int64_t groups) {
  const int64_t n = x_shape[0], out = weight.size(0), per_group = out / groups, l = g.l();
  const int64_t batch = batch_samples(g);
  const int64_t chunks = chunk_count(n);
  const int parts = part_count(chunks);
  Grads grads(3);
  if (need_x) grads[0] = zeros(x_shape, {.dtype = gy.dtype()});
  std::vector<Tensor> dw_shares;  // one per chunk
  for (int64_t c = 0; need_w && c < chunks; ++c) {
    dw_shares.push_back(zeros(weight.shape(), {.dtype = gy.dtype()}));
  }
  std::vector<Tensor> cols = part_buffers(parts, g.k(), g, gy.dtype());
  std::vector<Tensor> gathered = part_buffers(batch > 1 ? parts : 0, per_group, g, gy.dtype());
  run_chunks(n, parts, [&](int part, int64_t chunk, int64_t first, int64_t end) {
    for (int64_t s = first; s < end; s += batch) {
      const int64_t count = std::min(batch, end - s);
      for (int64_t gi = 0; gi < groups; ++gi) {
        const SampleBatch b{s, count, gi};
        Tensor gy_block = block(gy, per_group, l, (s * out + gi * per_group) * l);
        if (count > 1) {
          gy_block = block(gathered[part], per_group, b.width(g), 0);
          gather_gradient(gy.data<T>(), g, b, out, per_group, gy_block.data<T>());
        }
        if (need_w) {
          const Tensor columns = batch_columns<T>(x, g, b, groups, cols[part]);
          Tensor dw_block = block(dw_shares[chunk], per_group, g.k(), gi * per_group * g.k());
          gemm_into(gy_block, false, columns, true, dw_block, 1.0);
        }
        if (need_x) {
          Tensor columns = block(cols[part], g.k(), b.width(g), 0);
          gemm_into(block(weight, per_group, g.k(), gi * per_group * g.k()), true, gy_block, false,
                    columns, 0.0);
          for (int64_t j = 0; j < count; ++j) {
            T* dx = grads[0].data<T>() + ((s + j) * groups + gi) * g.c * g.h * g.w;
            col2im_block(columns.data<T>() + j * l, g, b.width(g), dx);
          }
        }
      }
    }
  });
  if (need_w) {
    T* sum = dw_shares[0].data<T>();
    for (int64_t c = 1; c < chunks; ++c) {
      const T* share = dw_shares[c].data<T>();
      for (int64_t i = 0; i < weight.numel(); ++i) sum[i] = sum[i] + share[i];
    }
    grads[1] = dw_shares[0];
  }
  if (need_b) grads[2] = bias_gradient(gy);
  return grads;
}

}  // namespace

Tensor forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvGeometry& g,
               int64_t groups) {
  return visit_floating(x, "conv2d",
                        [&]<class T>() { return fused_forward<T>(x, weight, bias, g, groups); });
}

Tensor bias_gradient(const Tensor& gy) {
  return visit_floating(gy, "conv_bias_gradient", [&]<class T>() { return channel_sums<T>(gy); });
}

Grads backward(const Tensor& gy, const Shape& x_shape, const Tensor& x, const Tensor& weight,
               bool need_x, bool need_w, bool need_b, const ConvGeometry& g, int64_t groups) {
  return visit_floating(gy, "conv2d_backward", [&]<class T>() {
    return fused_backward<T>(gy, x_shape, x, weight, need_x, need_w, need_b, g, groups);
  });
}

}  // namespace tg::nn::functional::conv_kernels
