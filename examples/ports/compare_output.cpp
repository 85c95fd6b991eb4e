// compare_output EXPECTED ACTUAL RTOL ATOL: exit status 0 when the two texts have the same lines,
// and each line the same words, with every number in ACTUAL within ATOL + RTOL·|expected| of
// the number at its place in EXPECTED; otherwise the first differences on stderr and status 1
// (2 for a bad argument or an unreadable file). Prints the largest difference found, so a test
// log shows how close the figures are, not only that they pass.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace {

struct Line {
  std::string words;            // the line with each number replaced by '#'
  std::vector<double> numbers;  // its numbers, in order
};

// Numbers as Python and fmt print them: 12, -0.5, 1.25e-09, 3.0e+16 (a word such as P3 or x^2
// yields its digits too, which then must match exactly like any other number).
const std::regex& number_pattern() {
  static const std::regex pattern(R"([-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)");
  return pattern;
}

Line split(const std::string& text) {
  Line line;
  std::string::size_type last = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), number_pattern()), end; it != end; ++it) {
    line.words += text.substr(last, it->position() - last) + "#";
    line.numbers.push_back(std::strtod(it->str().c_str(), nullptr));
    last = it->position() + it->length();
  }
  line.words += text.substr(last);
  return line;
}

std::vector<std::string> read_lines(const char* path) {
  std::ifstream in(path);
  if (!in) {
    fmt::print(stderr, "compare_output: cannot open '{}'\n", path);
    std::exit(2);
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double parse_tolerance(const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (*end != '\0' || !(value >= 0)) {
    fmt::print(stderr, "compare_output: a tolerance must be a number >= 0, got '{}'\n", text);
    std::exit(2);
  }
  return value;
}

struct Comparison {
  double rtol, atol;
  int failures = 0;
  // The largest |actual − expected| / |expected| among the numbers whose allowance rtol sets,
  // and the largest |actual − expected| among those below atol / rtol, which atol covers.
  double worst_relative = 0, worst_absolute = 0;
  size_t worst_relative_line = 0, worst_absolute_line = 0;

  void report(size_t line_number, const std::string& problem) {
    if (++failures <= 10) fmt::print(stderr, "line {}: {}\n", line_number, problem);
  }
  void numbers(size_t line_number, double expected, double actual) {
    const double difference = std::fabs(actual - expected);
    const double relative = difference / std::fabs(expected);
    if (rtol * std::fabs(expected) >= atol && expected != 0) {
      if (relative > worst_relative) worst_relative = relative, worst_relative_line = line_number;
    } else if (difference > worst_absolute) {
      worst_absolute = difference, worst_absolute_line = line_number;
    }
    if (!(difference <= atol + rtol * std::fabs(expected))) {
      report(line_number, fmt::format("expected {:.17g}, got {:.17g} (difference {:.3g})", expected,
                                      actual, difference));
    }
  }
  void lines(size_t line_number, const std::string& expected_text, const std::string& actual_text) {
    const Line expected = split(expected_text), actual = split(actual_text);
    if (expected.words != actual.words || expected.numbers.size() != actual.numbers.size()) {
      report(line_number, fmt::format("expected '{}', got '{}'", expected_text, actual_text));
      return;
    }
    for (size_t i = 0; i < expected.numbers.size(); ++i)
      numbers(line_number, expected.numbers[i], actual.numbers[i]);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: compare_output EXPECTED ACTUAL RTOL ATOL\n");
    return 2;
  }
  const std::vector<std::string> expected = read_lines(argv[1]), actual = read_lines(argv[2]);
  Comparison comparison{.rtol = parse_tolerance(argv[3]), .atol = parse_tolerance(argv[4])};
  for (size_t i = 0; i < std::min(expected.size(), actual.size()); ++i)
    comparison.lines(i + 1, expected[i], actual[i]);
  if (expected.size() != actual.size()) {
    comparison.report(std::min(expected.size(), actual.size()) + 1,
                      fmt::format("expected {} lines, got {}", expected.size(), actual.size()));
  }
  fmt::print("largest relative difference {:.3g} (line {}), rtol {:g}\n", comparison.worst_relative,
             comparison.worst_relative_line, comparison.rtol);
  if (comparison.worst_absolute_line > 0) {
    fmt::print(
        "largest absolute difference of numbers below atol/rtol {:.3g} (line {}), atol {:g}\n",
        comparison.worst_absolute, comparison.worst_absolute_line, comparison.atol);
  }
  if (comparison.failures > 0) {
    fmt::print(stderr, "{} differences between {} and {}\n", comparison.failures, argv[1], argv[2]);
    return 1;
  }
}
