#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/embedding.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/ops.hpp>

namespace tg::nn {
namespace {

// PyTorch allows padding_idx in [−num_embeddings, num_embeddings) and stores it non-negative.
int64_t normalized_padding_idx(int64_t padding_idx, int64_t num_embeddings, const char* op) {
  if (padding_idx < -num_embeddings || padding_idx >= num_embeddings) {
    fail("{}: padding_idx {} is out of range for {} embeddings", op, padding_idx, num_embeddings);
  }
  return padding_idx < 0 ? padding_idx + num_embeddings : padding_idx;
}

void check_indices(const Tensor& index, int64_t num_embeddings) {
  if (index.dtype() != Dtype::Int64) {
    fail("embedding: expected Int64 indices, got {} {}", index.dtype(), shape_str(index.shape()));
  }
  const int64_t* in = index.data<int64_t>();
  for (int64_t i = 0; i < index.numel(); ++i) {
    if (in[i] < 0 || in[i] >= num_embeddings) {
      fail("embedding: index {} at position {} is out of range for {} embeddings", in[i], i,
           num_embeddings);
    }
  }
}

}  // namespace

Tensor functional::embedding(const Tensor& index, const Tensor& weight,
                             std::optional<int64_t> padding_idx) {
  if (weight.dim() != 2) {
    fail("embedding: expected a weight [num_embeddings, embedding_dim], got {}",
         shape_str(weight.shape()));
  }
  check_indices(index, weight.size(0));
  Shape shape = index.shape();
  shape.push_back(weight.size(1));
  const Tensor flat = index.reshape({-1});
  Tensor rows = weight.index_select(0, flat);
  if (padding_idx) {
    // The padding row's value is looked up like any other, but it receives no gradient.
    const int64_t padding = normalized_padding_idx(*padding_idx, weight.size(0), "embedding");
    const Tensor is_padding = flat.eq(static_cast<double>(padding)).unsqueeze(1);
    rows = where(is_padding, weight.detach().index_select(0, flat), rows);
  }
  return rows.reshape(shape);
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options) {
  if (num_embeddings < 0 || embedding_dim < 0) {
    fail("Embedding: num_embeddings and embedding_dim must be non-negative, got {} and {}",
         num_embeddings, embedding_dim);
  }
  if (options.padding_idx) {
    padding_idx_ = normalized_padding_idx(*options.padding_idx, num_embeddings, "Embedding");
  }
  Tensor w = empty({num_embeddings, embedding_dim});
  init::normal_(w);
  if (padding_idx_) {
    NoGradGuard no_grad;
    w.select(0, *padding_idx_).zero_();
  }
  weight = w;
  register_parameter("weight", &Embedding::weight);
}

Tensor Embedding::forward(const Tensor& index) {
  try {
    return F::embedding(index, weight, padding_idx_);
  } catch (const Error& error) {
    fail("Embedding({}, {}): {}", weight.size(0), weight.size(1), error.what());
  }
}

}  // namespace tg::nn
