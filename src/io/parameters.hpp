// Matching a module's parameters against a safetensors file, shared by load and
// load_checkpoint: everything is checked before anything is copied.
#pragma once

#include <tapegrad/io/safetensors.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tg::io::detail {

/// Throws unless the file holds every parameter as PREFIX + name with its shape and dtype.
void check_parameters_present(const SafetensorsReader& reader, const NamedTensors& params,
                              const std::string& prefix, const std::string& source);

/// Throws naming the first tensors of the file that `expected` does not accept.
void check_no_unexpected(const SafetensorsReader& reader,
                         const std::function<bool(const std::string&)>& expected,
                         const std::string& source);

/// Copies each PREFIX + name tensor of `loaded` into the matching parameter, bit for bit.
void copy_into(const NamedTensors& params, const NamedTensors& loaded, const std::string& prefix);

}  // namespace tg::io::detail
