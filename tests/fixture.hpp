#pragma once

// Reads the text fixtures written by tests/fixtures/*.py: "case NAME", then lines
// "option NAME VALUE" and "tensor LABEL RANK DIMS... VALUES..." lines, then "end". Every tensor is
// read as Float64.

#include <tapegrad/tapegrad.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tg::testing {

struct FixtureCase {
  std::string name;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> options;  // from "option NAME VALUE" lines
  double option(const std::string& key, double fallback) const {
    auto it = options.find(key);
    if (it == options.end()) return fallback;
    std::istringstream text(it->second);
    text.imbue(std::locale::classic());
    double value = 0;
    text >> value;
    return value;
  }
  const Tensor& at(const std::string& label) const {
    auto it = tensors.find(label);
    if (it == tensors.end()) fail("fixture: case '{}' has no tensor '{}'", name, label);
    return it->second;
  }
};

inline Tensor parse_fixture_tensor(std::istringstream& line) {
  int64_t rank = 0;
  line >> rank;
  Shape shape(static_cast<size_t>(rank));
  for (int64_t& extent : shape) line >> extent;
  std::vector<double> values(static_cast<size_t>(shape_numel(shape)));
  for (double& value : values) line >> value;
  if (!line) fail("fixture: malformed tensor line");
  return from_vector<double>(values, shape);
}

inline std::vector<FixtureCase> read_fixture(const std::string& file_name) {
  const std::string path = std::string(TAPEGRAD_FIXTURES) + "/" + file_name;
  std::ifstream file(path);
  if (!file) fail("fixture: cannot open {}", path);
  file.imbue(std::locale::classic());
  std::vector<FixtureCase> cases;
  std::string text;
  while (std::getline(file, text)) {
    std::istringstream line(text);
    line.imbue(std::locale::classic());
    std::string keyword;
    line >> keyword;
    if (keyword == "case") {
      cases.emplace_back();
      line >> cases.back().name;
    } else if (keyword == "option") {
      std::string key, value;
      line >> key >> value;
      cases.back().options[key] = value;
    } else if (keyword == "tensor") {
      std::string label;
      line >> label;
      cases.back().tensors[label] = parse_fixture_tensor(line);
    }
  }
  return cases;
}

}  // namespace tg::testing
