// tg::save / tg::load: a module's parameters as a safetensors file.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/io/safetensors.hpp>

#include "io/parameters.hpp"

#include <set>
#include <string>

namespace tg {

void save(const nn::Module& module, const std::filesystem::path& path) {
  io::write_safetensors(path, module.state_dict(), {}, "save");
}

void load(nn::Module& module, const std::filesystem::path& path) {
  const io::SafetensorsReader reader(path, "load");
  const std::string source = fmt::format("load '{}'", path.string());
  const auto params = module.state_dict();
  io::detail::check_parameters_present(reader, params, "", source);
  std::set<std::string> names;
  for (const auto& [name, param] : params) names.insert(name);
  io::detail::check_no_unexpected(
      reader, [&](const std::string& name) { return names.count(name) != 0; }, source);
  io::detail::copy_into(params, reader.read_all(), "");
}

}  // namespace tg
