#pragma once

#include <tapegrad/nn/module.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace tg::nn {

/// Modules applied in order; children are named "0", "1", … as in PyTorch.
class Sequential : public Module {
 public:
  Sequential() = default;
  /// Sequential{Linear(784, 256), ReLU(), Linear(256, 10)}
  template <class... M>
  requires(sizeof...(M) > 0 && (std::is_base_of_v<Module, std::decay_t<M>> &&
                                ...)) explicit Sequential(M&&... modules) {
    (push_back(std::forward<M>(modules)), ...);
  }

  /// Appends a module (copied or moved into shared ownership).
  template <class M>
  requires std::is_base_of_v<Module, std::decay_t<M>>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  /// Appends a shared module.
  void push_back(std::shared_ptr<Module> module);

  Tensor forward(const Tensor& x) override;
  /// Number of modules.
  size_t size() const;
  /// The i-th module.
  std::shared_ptr<Module> operator[](size_t index) const;
};

}  // namespace tg::nn
