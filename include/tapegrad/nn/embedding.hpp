#pragma once

// Embedding: a lookup table of learned vectors, indexed by Int64 tokens (torch.nn.Embedding).

#include <tapegrad/nn/module.hpp>

#include <optional>

namespace tg::nn {

/// Options of Embedding; defaults are PyTorch's.
struct EmbeddingOptions {
  /// A row that is not trained: initialized to zeros, its gradient always zero (e.g. the
  /// padding token). Negative values count from the end, as in PyTorch.
  std::optional<int64_t> padding_idx = std::nullopt;
};

/// weight [num_embeddings, embedding_dim], initialized from N(0, 1); forward(index) returns
/// weight's rows, shape index.shape() + [embedding_dim].
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, EmbeddingOptions options = {});
  Tensor forward(const Tensor& index) override;

  Tensor weight;

 private:
  std::optional<int64_t> padding_idx_;  // normalized to [0, num_embeddings)
};

}  // namespace tg::nn
