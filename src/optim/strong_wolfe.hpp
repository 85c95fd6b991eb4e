// torch/optim/lbfgs.py (1.13): _cubic_interpolate and _strong_wolfe, line for line, on flat
// double vectors (L-BFGS rounds the values it gets back to the parameters' dtype).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

namespace tg::optim::detail {

using Flat = std::vector<double>;

// Eight running sums, each over every eighth element, added pairwise at the end: the order is
// fixed by the code (the same bits on every CPU), and eight independent additions are in flight
// instead of one chain of dependent ones (4× faster on L-BFGS's two-loop recursion). torch's
// ddot (OpenBLAS) has an order of its own, different again, which the fixtures' tolerance covers.
inline double dot(const Flat& a, const Flat& b) {
  constexpr size_t kLanes = 8;
  double part[kLanes] = {};
  const size_t n = a.size(), whole = n - n % kLanes;
  for (size_t i = 0; i < whole; i += kLanes) {
    for (size_t k = 0; k < kLanes; ++k) part[k] = part[k] + a[i + k] * b[i + k];
  }
  for (size_t i = whole; i < n; ++i) part[i - whole] = part[i - whole] + a[i] * b[i];
  return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
}

// Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds (the
// points themselves by default); the bounds' midpoint when the cubic has no minimum.
inline double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                const double* bounds = nullptr) {
  const double xmin_bound = bounds ? bounds[0] : std::min(x1, x2);
  const double xmax_bound = bounds ? bounds[1] : (x1 <= x2 ? x2 : x1);
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (!(d2_square >= 0)) return (xmin_bound + xmax_bound) / 2.;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, xmin_bound), xmax_bound);
}

struct LineSearchResult {
  double f;
  Flat g;
  double t;
  int64_t evals;
};

// One bracket end: step, value, gradient, directional derivative.
struct Point {
  double t, f;
  Flat g;
  double gtd;
};

using Objective = std::function<std::pair<double, Flat>(double t)>;

// Phase 1: steps out until a bracket [t_prev, t] holds a point satisfying the strong Wolfe
// conditions (or one satisfies them: done).
inline void bracket_phase(const Objective& obj, const Flat& d, const Point& start, double t,
                          double c1, double c2, int max_ls, std::vector<Point>& bracket, bool& done,
                          int& ls_iter, int64_t& evals) {
  auto [f_new, g_new] = obj(t);
  evals = 1;
  double gtd_new = dot(g_new, d);
  Point prev{0, start.f, start.g, start.gtd};
  done = false;
  ls_iter = 0;
  while (ls_iter < max_ls) {
    if (f_new > (start.f + c1 * t * start.gtd) || (ls_iter > 1 && f_new >= prev.f)) {
      bracket = {prev, {t, f_new, g_new, gtd_new}};
      return;
    }
    if (std::abs(gtd_new) <= -c2 * start.gtd) {
      bracket = {{t, f_new, g_new, gtd_new}};
      done = true;
      return;
    }
    if (gtd_new >= 0) {
      bracket = {prev, {t, f_new, g_new, gtd_new}};
      return;
    }
    const double bounds[2] = {t + 0.01 * (t - prev.t), t * 10};
    const double tmp = t;
    t = cubic_interpolate(prev.t, prev.f, prev.gtd, t, f_new, gtd_new, bounds);
    prev = {tmp, f_new, g_new, gtd_new};
    std::tie(f_new, g_new) = obj(t);
    ++evals;
    gtd_new = dot(g_new, d);
    ++ls_iter;
  }
  bracket = {start, {t, f_new, g_new, gtd_new}};  // max_ls reached: [0, t]
  bracket[0].t = 0;
}

// The strong-Wolfe line search along d from (f, g) with initial step t.
inline LineSearchResult strong_wolfe(const Objective& obj, double t, const Flat& d, double f,
                                     const Flat& g, double gtd, double tolerance_change,
                                     double c1 = 1e-4, double c2 = 0.9, int max_ls = 25) {
  double d_norm = 0;
  for (double v : d) d_norm = std::max(d_norm, std::abs(v));
  std::vector<Point> b;
  bool done = false;
  int ls_iter = 0;
  int64_t evals = 0;
  bracket_phase(obj, d, {0, f, g, gtd}, t, c1, c2, max_ls, b, done, ls_iter, evals);
  bool insuf_progress = false;
  size_t low = b.front().f <= b.back().f ? 0 : 1, high = 1 - low;
  // Phase 2 (zoom): shrink the bracket until a point satisfies the conditions.
  while (!done && ls_iter < max_ls) {
    if (std::abs(b[1].t - b[0].t) * d_norm < tolerance_change) break;
    t = cubic_interpolate(b[0].t, b[0].f, b[0].gtd, b[1].t, b[1].f, b[1].gtd);
    const double hi = std::max(b[0].t, b[1].t), lo = std::min(b[0].t, b[1].t);
    const double eps = 0.1 * (hi - lo);
    if (std::min(hi - t, t - lo) < eps) {
      if (insuf_progress || t >= hi || t <= lo) {
        t = std::abs(t - hi) < std::abs(t - lo) ? hi - eps : lo + eps;
        insuf_progress = false;
      } else {
        insuf_progress = true;
      }
    } else {
      insuf_progress = false;
    }
    auto [f_new, g_new] = obj(t);
    ++evals;
    const double gtd_new = dot(g_new, d);
    ++ls_iter;
    if (f_new > (f + c1 * t * gtd) || f_new >= b[low].f) {
      b[high] = {t, f_new, g_new, gtd_new};
      low = b[0].f <= b[1].f ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;
      } else if (gtd_new * (b[high].t - b[low].t) >= 0) {
        b[high] = b[low];
      }
      b[low] = {t, f_new, g_new, gtd_new};
    }
  }
  if (b.size() == 1) low = 0;
  return {b[low].f, b[low].g, b[low].t, evals};
}

}  // namespace tg::optim::detail
