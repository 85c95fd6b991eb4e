#pragma once

// A tiny command-line parser shared by the examples: --name value pairs, --help, and a
// one-line message with exit status 2 for anything it does not understand.

#include <fmt/core.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace examples {

class Flags {
 public:
  /// `usage` is printed by --help; `defaults` lists every accepted flag with its default.
  Flags(int argc, char** argv, std::string usage, std::map<std::string, std::string> defaults)
      : values_(std::move(defaults)) {
    for (int i = 1; i < argc; ++i) {
      const std::string name = argv[i];
      if (name == "--help" || name == "-h") {
        fmt::print("{}\n\noptions (default):\n", usage);
        for (const auto& [flag, value] : values_) fmt::print("  --{:<12} {}\n", flag, value);
        std::exit(0);
      }
      if (name.rfind("--", 0) != 0 || values_.count(name.substr(2)) == 0) {
        die(fmt::format("unknown option '{}' (see --help)", name));
      }
      if (i + 1 >= argc) die(fmt::format("option '{}' needs a value", name));
      values_[name.substr(2)] = argv[++i];
    }
  }

  std::string text(const std::string& name) const { return values_.at(name); }

  double number(const std::string& name, double min, double max) const {
    const std::string& value = values_.at(name);
    double parsed = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size() ||
        !(parsed >= min && parsed <= max)) {
      die(fmt::format("--{} must be a number in [{}, {}], got '{}'", name, min, max, value));
    }
    return parsed;
  }

  int64_t integer(const std::string& name, int64_t min, int64_t max) const {
    const std::string& value = values_.at(name);
    int64_t parsed = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size() || parsed < min ||
        parsed > max) {
      die(fmt::format("--{} must be an integer in [{}, {}], got '{}'", name, min, max, value));
    }
    return parsed;
  }

  [[noreturn]] static void die(const std::string& message) {
    fmt::print(stderr, "error: {}\n", message);
    std::exit(2);
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace examples
