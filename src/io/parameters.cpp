#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/tensor.hpp>

#include "io/parameters.hpp"

#include <map>

namespace tg::io::detail {

void check_parameters_present(const SafetensorsReader& reader, const NamedTensors& params,
                              const std::string& prefix, const std::string& source) {
  for (const auto& [name, param] : params) {
    const TensorInfo* info = reader.find(prefix + name);
    if (!info) fail("{}: the file has no tensor '{}'", source, prefix + name);
    if (info->shape != param.shape() || info->dtype != param.dtype()) {
      fail("{}: tensor '{}' is {} {} in the file but {} {} in the module", source, prefix + name,
           info->dtype, shape_str(info->shape), param.dtype(), shape_str(param.shape()));
    }
  }
}

void check_no_unexpected(const SafetensorsReader& reader,
                         const std::function<bool(const std::string&)>& expected,
                         const std::string& source) {
  std::vector<std::string> unexpected;
  for (const TensorInfo& info : reader.tensors()) {
    if (!expected(info.name)) unexpected.push_back("'" + info.name + "'");
  }
  if (unexpected.empty()) return;
  if (unexpected.size() > 5) unexpected.resize(5), unexpected.push_back("…");
  fail("{}: the file holds tensors the module does not have: {}", source,
       fmt::join(unexpected, ", "));
}

void copy_into(const NamedTensors& params, const NamedTensors& loaded, const std::string& prefix) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& [name, tensor] : loaded) by_name[name] = &tensor;
  NoGradGuard no_grad;
  for (const auto& [name, param] : params) {
    // copy_ writes into the storage every handle shares and bumps its version, so a backward
    // through a graph built with the old values refuses to run instead of mixing the two.
    Tensor target = param;
    target.copy_(*by_name.at(prefix + name));
  }
}

}  // namespace tg::io::detail
