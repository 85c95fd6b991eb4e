#pragma once

// A classifier's confusion matrix: counts of (true class, predicted class), printed as a table
// and drawn as a PNG by gnuplot when it is installed.

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace examples {

/// counts[t][p]: how many samples of true class t were predicted as p.
using ConfusionMatrix = std::vector<std::vector<int64_t>>;

inline ConfusionMatrix confusion_matrix(const std::vector<int64_t>& predicted,
                                        const std::vector<int64_t>& labels, size_t classes) {
  ConfusionMatrix counts(classes, std::vector<int64_t>(classes, 0));
  for (size_t i = 0; i < labels.size(); ++i) ++counts[labels[i]][predicted[i]];
  return counts;
}

/// Rows are true classes, columns predicted ones, headed by the names' first four letters.
inline void print_confusion_matrix(const ConfusionMatrix& counts,
                                   const std::vector<std::string>& names) {
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted class)\n{:<12}", "");
  for (const std::string& name : names) fmt::print(" {:>5.4}", name);
  fmt::print("\n");
  for (size_t t = 0; t < counts.size(); ++t) {
    fmt::print("{:<12}", names[t]);
    for (int64_t n : counts[t]) fmt::print(" {:>5}", n);
    fmt::print("\n");
  }
}

namespace detail {

// gnuplot's single-quoted strings escape ' as ''.
inline std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

// The script that draws `counts` coloured by each row's share, the counts written in the cells.
inline std::string confusion_script(const ConfusionMatrix& counts,
                                    const std::vector<std::string>& names, const std::string& png,
                                    const std::string& title) {
  std::string tics;
  for (size_t c = 0; c < names.size(); ++c) {
    tics += fmt::format("{}{} {}", c == 0 ? "" : ", ", gnuplot_quote(names[c]), c);
  }
  std::string shares = "$shares << EOD\n", cells = "$counts << EOD\n";
  for (const std::vector<int64_t>& row : counts) {
    int64_t total = 0;
    for (int64_t n : row) total += n;
    for (int64_t n : row) {
      shares += fmt::format("{} ", total > 0 ? static_cast<double>(n) / total : 0.0);
      cells += fmt::format("{} ", n);
    }
    shares += "\n";
    cells += "\n";
  }
  const auto last = static_cast<double>(names.size()) - 0.5;
  return fmt::format(
      "set terminal png size 900,800\nset output {}\nset title {}\n"
      "set xlabel 'predicted class'\nset ylabel 'true class'\n"
      "set xtics ({}) rotate by 45 right\nset ytics ({})\n"
      "set xrange [-0.5:{}]\nset yrange [{}:-0.5]\n"
      "set palette defined (0 'white', 1 '#2171b5')\nset cbrange [0:1]\n"
      "set cblabel 'share of the true class'\n{}EOD\n{}EOD\n"
      "plot $shares matrix with image notitle, "
      "$counts matrix using 1:2:(sprintf('%d', $3)) with labels notitle\n",
      gnuplot_quote(png), gnuplot_quote(title), tics, tics, last, last, shares, cells);
}

}  // namespace detail

/// Writes the matrix as a PNG at `png` with gnuplot if it is on PATH; says what happened.
inline void plot_confusion_matrix(const ConfusionMatrix& counts,
                                  const std::vector<std::string>& names, const std::string& png,
                                  const std::string& title) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    fmt::print("gnuplot not found (Debian: apt-get install gnuplot-nox): no {}\n", png);
    return;
  }
  std::FILE* gnuplot = popen("gnuplot", "w");
  if (gnuplot == nullptr) {
    fmt::print("cannot start gnuplot: no {}\n", png);
    return;
  }
  const std::string script = detail::confusion_script(counts, names, png, title);
  std::fwrite(script.data(), 1, script.size(), gnuplot);
  if (pclose(gnuplot) != 0) {
    fmt::print("gnuplot failed: no {}\n", png);
  } else {
    fmt::print("wrote {}\n", png);
  }
}

}  // namespace examples
