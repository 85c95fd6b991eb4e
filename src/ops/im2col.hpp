#pragma once

// im2col as a differentiable gather: the columns of a padded [N, C, H, W] input, one per output
// position, each holding the C·kH·kW entries its window sees. Built from index_select so that
// its backward (a scatter-add, col2im) is an ordinary recorded op and double backward works.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/tensor.hpp>

#include <vector>

namespace tg::detail {

/// The sizes of a 2-d sliding window over an already padded input.
struct Window {
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t out_h(int64_t h) const { return (h - dh * (kh - 1) - 1) / sh + 1; }
  int64_t out_w(int64_t w) const { return (w - dw * (kw - 1) - 1) / sw + 1; }
};

/// Flat positions in the [H·W] plane: entry (ki·kW + kj)·L + oh·W_out + ow.
inline Tensor window_index(int64_t h, int64_t w, const Window& g) {
  const int64_t oh = g.out_h(h), ow = g.out_w(w);
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(g.kh * g.kw * oh * ow));
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      for (int64_t i = 0; i < oh; ++i) {
        for (int64_t j = 0; j < ow; ++j) {
          index.push_back((i * g.sh + ki * g.dh) * w + j * g.sw + kj * g.dw);
        }
      }
    }
  }
  const auto count = static_cast<int64_t>(index.size());
  return from_vector(std::move(index), {count});
}

/// [N, C, H, W] → [N, C, kH·kW, H_out·W_out].
inline Tensor im2col(const Tensor& x, const Window& g) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const Tensor cols = x.reshape({n, c, h * w}).index_select(2, window_index(h, w, g));
  return cols.reshape({n, c, g.kh * g.kw, g.out_h(h) * g.out_w(w)});
}

}  // namespace tg::detail
