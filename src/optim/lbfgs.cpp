#include <tapegrad/optim/lbfgs.hpp>

#include "optim/strong_wolfe.hpp"

#include <algorithm>
#include <cmath>

namespace tg::optim {

using detail::dot;
using detail::Flat;

void LBFGSOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(max_iter >= 1, kName, "max_iter", static_cast<double>(max_iter),
                       "max_iter >= 1");
  detail::check_option(max_eval >= 0, kName, "max_eval", static_cast<double>(max_eval),
                       "max_eval >= 0, 0 for max_iter*5/4");
  detail::check_option(tolerance_grad >= 0, kName, "tolerance_grad", tolerance_grad,
                       "tolerance_grad >= 0");
  detail::check_option(tolerance_change >= 0, kName, "tolerance_change", tolerance_change,
                       "tolerance_change >= 0");
  detail::check_option(history_size >= 1, kName, "history_size", static_cast<double>(history_size),
                       "history_size >= 1");
  const auto search = static_cast<int>(line_search_fn);
  detail::check_option(search == 0 || search == 1, kName, "line_search_fn", search,
                       "LineSearch::None or LineSearch::StrongWolfe");
}

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions options)
    : params_(std::move(params)), options_(options) {
  if (params_.empty()) fail("LBFGS: got an empty parameter list");
  options_.validate();
  detail::check_parameters(LBFGSOptions::kName, params_, {});
  for (const Tensor& p : params_) {
    if (p.dtype() != params_[0].dtype()) {
      fail("LBFGS: every parameter must have one dtype (torch concatenates them), got {} and {}",
           params_[0].dtype(), p.dtype());
    }
  }
  float32_ = params_[0].dtype() == Dtype::Float32;
}

const LBFGSOptions& LBFGS::options(size_t group) const {
  if (group != 0) fail("LBFGS.options: parameter group {} out of range [0, 1)", group);
  return options_;
}

void LBFGS::set_group_lr(size_t group, double lr) {
  LBFGSOptions changed = options(group);
  changed.lr = lr;
  changed.validate();
  options_ = changed;
}

std::string LBFGS::describe(size_t group) const { return detail::describe_options(options(group)); }

void LBFGS::step() { fail("LBFGS.step: L-BFGS needs a closure that re-evaluates the loss"); }

// _gather_flat_grad: every parameter's gradient, zeros where it has none.
Flat LBFGS::flat_grad() const {
  Flat flat;
  for (const Tensor& p : params_) {
    const Tensor g = p.grad();
    if (!g.defined()) {
      flat.resize(flat.size() + static_cast<size_t>(p.numel()), 0.0);
      continue;
    }
    if (g.shape() != p.shape() || g.dtype() != p.dtype()) {
      fail("LBFGS.step: gradient {} {} does not match parameter {} {}", g.dtype(),
           shape_str(g.shape()), p.dtype(), shape_str(p.shape()));
    }
    const std::vector<double> values = g.to_vector<double>();
    flat.insert(flat.end(), values.begin(), values.end());
  }
  return flat;
}

// _add_grad: p ← p + step·direction, in the parameters' dtype.
void LBFGS::add_to_params(double step_size, const Flat& direction) {
  NoGradGuard no_grad;
  size_t offset = 0;
  const double alpha = round(step_size);
  for (Tensor& p : params_) {
    const auto n = static_cast<size_t>(p.numel());
    if (p.dtype() == Dtype::Float32) {
      float* data = p.data<float>();
      for (size_t i = 0; i < n; ++i)
        data[i] = data[i] + static_cast<float>(alpha) * static_cast<float>(direction[offset + i]);
    } else {
      double* data = p.data<double>();
      for (size_t i = 0; i < n; ++i) data[i] = data[i] + alpha * direction[offset + i];
    }
    offset += n;
  }
}

double LBFGS::evaluate(const std::function<Tensor()>& closure) {
  const Tensor loss = detail::evaluate_closure(closure);
  if (!loss.defined() || loss.numel() != 1) fail("LBFGS.step: the closure must return the loss");
  return loss.item<double>();
}

// The L-BFGS two-loop recursion: d = −H·g from the kept (y, s) pairs, after adding the newest
// pair when its curvature yᵀs is above 1e-10.
void LBFGS::direction(const Flat& g) {
  State& st = state_;
  Flat y(g.size()), s(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    y[i] = round(g[i] - st.prev_flat_grad[i]);
    s[i] = round(st.d[i] * st.t);
  }
  const double ys = round(dot(y, s));
  if (ys > 1e-10) {
    if (static_cast<int64_t>(st.old_dirs.size()) == options_.history_size) {
      st.old_dirs.erase(st.old_dirs.begin());
      st.old_stps.erase(st.old_stps.begin());
      st.ro.erase(st.ro.begin());
    }
    st.old_dirs.push_back(y);
    st.old_stps.push_back(s);
    st.ro.push_back(round(1. / ys));
    st.H_diag = round(ys / round(dot(y, y)));
  }
  const size_t num_old = st.old_dirs.size();
  std::vector<double> al(num_old);
  Flat q(g.size());
  for (size_t i = 0; i < g.size(); ++i) q[i] = -g[i];
  for (size_t i = num_old; i-- > 0;) {
    al[i] = round(round(dot(st.old_stps[i], q)) * st.ro[i]);
    for (size_t k = 0; k < q.size(); ++k) q[k] = round(q[k] + round(-al[i]) * st.old_dirs[i][k]);
  }
  for (size_t k = 0; k < q.size(); ++k) q[k] = round(q[k] * st.H_diag);
  for (size_t i = 0; i < num_old; ++i) {
    const double be_i = round(round(dot(st.old_dirs[i], q)) * st.ro[i]);
    const double alpha = round(al[i] - be_i);
    for (size_t k = 0; k < q.size(); ++k) q[k] = round(q[k] + alpha * st.old_stps[i][k]);
  }
  st.d = q;
}

// torch/optim/lbfgs.py (1.13), LBFGS.step, with its stopping rules: at most max_iter
// iterations and max_eval evaluations; stop when max|g| ≤ tolerance_grad, when the directional
// derivative gᵀd > −tolerance_change, when max|t·d| ≤ tolerance_change or when the loss changed
// by less than tolerance_change. Returns the loss of the first evaluation.
Tensor LBFGS::step(std::function<Tensor()> closure) {
  if (!closure) step();
  const LBFGSOptions& o = options_;
  const int64_t max_eval = o.max_eval == 0 ? o.max_iter * 5 / 4 : o.max_eval;
  State& st = state_;
  const Tensor orig_loss = detail::evaluate_closure(closure);
  if (!orig_loss.defined() || orig_loss.numel() != 1) {
    fail("LBFGS.step: the closure must return the loss");
  }
  double loss = orig_loss.item<double>();
  int64_t current_evals = 1;
  st.func_evals += 1;
  Flat g = flat_grad();
  const auto max_abs = [](const Flat& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return m;
  };
  if (max_abs(g) <= o.tolerance_grad) return orig_loss;
  for (int64_t n_iter = 1; n_iter <= o.max_iter; ++n_iter) {
    st.n_iter += 1;
    if (st.n_iter == 1) {
      st.d.resize(g.size());
      for (size_t i = 0; i < g.size(); ++i) st.d[i] = -g[i];
      st.old_dirs.clear();
      st.old_stps.clear();
      st.ro.clear();
      st.H_diag = 1;
    } else {
      direction(g);
    }
    st.prev_flat_grad = g;
    st.prev_loss = loss;
    if (st.n_iter == 1) {
      double abs_sum = 0;
      for (double x : g) abs_sum = round(abs_sum + std::abs(x));
      const double reciprocal = round(1. / abs_sum);
      st.t = round((reciprocal < 1. ? reciprocal : 1.) * o.lr);
    } else {
      st.t = o.lr;
    }
    const double gtd = round(dot(g, st.d));
    if (gtd > -o.tolerance_change) break;
    int64_t ls_func_evals = 0;
    bool opt_cond = false;
    if (o.line_search_fn == LineSearch::StrongWolfe) {
      std::vector<Tensor> x_init;
      for (const Tensor& p : params_) x_init.push_back(p.detach().clone());
      const detail::Objective objective = [&](double t) {
        add_to_params(t, st.d);
        const double f = evaluate(closure);
        Flat fg = flat_grad();
        NoGradGuard no_grad;
        for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(x_init[i]);
        return std::pair{f, std::move(fg)};
      };
      detail::LineSearchResult r =
          detail::strong_wolfe(objective, st.t, st.d, loss, g, gtd, o.tolerance_change);
      loss = r.f;
      g = std::move(r.g);
      st.t = r.t;
      ls_func_evals = r.evals;
      add_to_params(st.t, st.d);
      opt_cond = max_abs(g) <= o.tolerance_grad;
    } else {
      add_to_params(st.t, st.d);
      if (n_iter != o.max_iter) {  // torch skips the last re-evaluation
        loss = evaluate(closure);
        g = flat_grad();
        opt_cond = max_abs(g) <= o.tolerance_grad;
        ls_func_evals = 1;
      }
    }
    current_evals += ls_func_evals;
    st.func_evals += ls_func_evals;
    if (n_iter == o.max_iter || current_evals >= max_eval || opt_cond) break;
    double step_max = 0;
    for (double x : st.d) step_max = std::max(step_max, std::abs(round(x * st.t)));
    if (step_max <= o.tolerance_change) break;
    if (std::abs(loss - st.prev_loss) < o.tolerance_change) break;
  }
  return orig_loss;
}

namespace {

Tensor vector_tensor(const Flat& v) {
  return from_vector<double>(v, {static_cast<int64_t>(v.size())});
}
Tensor number(double v) { return full({}, v, {.dtype = Dtype::Float64}); }

}  // namespace

// As the other optimizers' (see StateDict), the state under parameter 0, as torch keeps it:
// "state.0.func_evals", "state.0.d", "state.0.old_dirs.K", ….
StateDict LBFGS::state_dict() const {
  StateDict out;
  LBFGSOptions o = options_;
  o.for_each_field([&](const char* name, auto& value) {
    out[fmt::format("group.0.{}", name)] = number(detail::field_value(value));
  });
  std::vector<int64_t> ids(params_.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  out["group.0.params"] = from_vector<int64_t>(ids, {static_cast<int64_t>(ids.size())});
  if (state_.func_evals == 0) return out;
  const State& s = state_;
  out["state.0.func_evals"] = number(static_cast<double>(s.func_evals));
  out["state.0.n_iter"] = number(static_cast<double>(s.n_iter));
  out["state.0.d"] = vector_tensor(s.d);
  out["state.0.prev_flat_grad"] = vector_tensor(s.prev_flat_grad);
  out["state.0.ro"] = vector_tensor(s.ro);
  out["state.0.t"] = number(s.t);
  out["state.0.H_diag"] = number(s.H_diag);
  out["state.0.prev_loss"] = number(s.prev_loss);
  for (size_t k = 0; k < s.old_dirs.size(); ++k) {
    out[fmt::format("state.0.old_dirs.{}", k)] = vector_tensor(s.old_dirs[k]);
    out[fmt::format("state.0.old_stps.{}", k)] = vector_tensor(s.old_stps[k]);
  }
  return out;
}

void LBFGS::load_state_dict(const StateDict& dict) {
  const char* op = "LBFGS.load_state_dict";
  std::set<std::string> known;
  const auto key = [&](std::string name) { return *known.insert(std::move(name)).first; };
  LBFGSOptions o = options_;
  o.for_each_field([&](const char* name, auto& value) {
    detail::read_field(dict, key(fmt::format("group.0.{}", name)), value);
  });
  o.validate();
  key("group.0.params");
  State s;
  if (dict.count("state.0.func_evals") != 0) {
    int64_t numel = 0;
    for (const Tensor& p : params_) numel += p.numel();
    const auto vec = [&](const std::string& name, int64_t size) {
      const auto it = dict.find(key(name));
      if (it == dict.end() || it->second.dtype() != Dtype::Float64 ||
          it->second.shape() != Shape{size}) {
        fail("{}: '{}' is missing or is not Float64 [{}]", op, name, size);
      }
      return it->second.to_vector<double>();
    };
    s.func_evals = detail::read_count(dict, key("state.0.func_evals"));
    s.n_iter = detail::read_count(dict, key("state.0.n_iter"));
    s.t = detail::read_scalar(dict, key("state.0.t"));
    s.H_diag = detail::read_scalar(dict, key("state.0.H_diag"));
    s.prev_loss = detail::read_scalar(dict, key("state.0.prev_loss"));
    const auto ro = dict.find("state.0.ro");
    const int64_t kept = ro == dict.end() ? 0 : ro->second.numel();
    if (kept > o.history_size) fail("{}: {} kept updates exceed history_size", op, kept);
    s.ro = vec("state.0.ro", kept);
    s.d = vec("state.0.d", numel);
    s.prev_flat_grad = vec("state.0.prev_flat_grad", numel);
    for (int64_t k = 0; k < kept; ++k) {
      s.old_dirs.push_back(vec(fmt::format("state.0.old_dirs.{}", k), numel));
      s.old_stps.push_back(vec(fmt::format("state.0.old_stps.{}", k), numel));
    }
  }
  detail::check_known_keys(op, dict, known);
  options_ = o;
  state_ = std::move(s);
}

}  // namespace tg::optim
