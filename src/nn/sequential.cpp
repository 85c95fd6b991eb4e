#include <tapegrad/error.hpp>
#include <tapegrad/nn/sequential.hpp>

namespace tg::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, module] : named_children()) y = module->forward(y);
  return y;
}

size_t Sequential::size() const { return named_children().size(); }

std::shared_ptr<Module> Sequential::operator[](size_t index) const {
  if (index >= size()) fail("Sequential: index {} out of range for {} modules", index, size());
  return named_children()[index].second;
}

}  // namespace tg::nn
