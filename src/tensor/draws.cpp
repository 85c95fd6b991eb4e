// Random draws: randn, rand, randint, randperm, bernoulli, multinomial, rand_like, randn_like and
// the in-place uniform_ and normal_, each from a tg::Generator (the default one unless given).
// They follow PyTorch's distributions, argument checks and dtypes, not its random streams: the
// generator is ours (xoshiro256**, include/tapegrad/random.hpp), so the same seed gives the same
// values on every platform, and a Generator(seed) the same values as manual_seed(seed).

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>
#include <tapegrad/tensor.hpp>

#include "ops/inplace.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace tg {
namespace {

// The largest finite value of a floating dtype.
double largest_finite(Dtype dtype) {
  return dtype == Dtype::Float32 ? std::numeric_limits<float>::max()
                                 : std::numeric_limits<double>::max();
}

void require_random_dtype(Dtype dtype, const char* op) {
  if (!is_floating(dtype)) fail("{}: expected a floating dtype, got {}", op, dtype);
}

// A new floating tensor whose elements, in row-major order, are convert<T>(draw) for draws
// taken `draws(buffer, n)` a block at a time: one lock of the generator per block, not per
// element (a lock per element was most of randn's time).
template <class Draws, class Convert>
Tensor draw_floating(Shape shape, const TensorOptions& options, Draws draws, Convert convert) {
  Tensor t = make_tensor(std::move(shape), options.dtype);
  const auto fill = [&]<class T>() {
    T* out = t.data<T>();
    constexpr int64_t kBlock = 4096;
    double block[kBlock];
    for (int64_t start = 0; start < t.numel(); start += kBlock) {
      const int64_t n = std::min(kBlock, t.numel() - start);
      draws(block, n);
      for (int64_t i = 0; i < n; ++i) out[start + i] = convert.template operator()<T>(block[i]);
    }
  };
  if (options.dtype == Dtype::Float32) {
    fill.template operator()<float>();
  } else {
    fill.template operator()<double>();
  }
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

// lo + (hi − lo)·u in T. Rounding (to double, then to Float32) can land on hi itself; the largest
// T below hi keeps the interval half-open, as uniform_ and rand promise.
template <class T>
T uniform_value(double u, double lo, double hi) {
  const T value = static_cast<T>(lo + (hi - lo) * u);
  if (value < static_cast<T>(hi) || !(lo < hi)) return value;
  return std::max(static_cast<T>(lo), std::nextafter(static_cast<T>(hi), static_cast<T>(lo)));
}

Tensor normal_tensor(Shape shape, const TensorOptions& options, Generator& generator,
                     const char* op) {
  require_random_dtype(options.dtype, op);
  return draw_floating(
      std::move(shape), options, [&](double* out, int64_t n) { generator.normal(out, n); },
      []<class T>(double v) { return static_cast<T>(v); });
}

Tensor uniform_tensor(Shape shape, const TensorOptions& options, Generator& generator,
                      const char* op) {
  require_random_dtype(options.dtype, op);
  return draw_floating(
      std::move(shape), options, [&](double* out, int64_t n) { generator.uniform(out, n); },
      []<class T>(double u) { return uniform_value<T>(u, 0, 1); });
}

// The integers a dtype holds exactly, as torch's check_from_to_in_range
// (aten/src/ATen/native/DistributionTemplates.h): ±2²⁴ for Float32, ±2⁵³ for Float64, 0 and 1
// for Bool. (torch 1.13 only warns for the floating dtypes, saying it "will become an error".)
void require_randint_range(int64_t low, int64_t high, Dtype dtype) {
  if (low >= high) fail("randint: expected low < high, got low = {} and high = {}", low, high);
  if (dtype == Dtype::Int64) return;
  const int64_t largest = dtype == Dtype::Float32   ? int64_t{1} << 24
                          : dtype == Dtype::Float64 ? int64_t{1} << 53
                                                    : 1;
  const int64_t smallest = dtype == Dtype::Bool ? 0 : -largest;
  if (low < smallest || high - 1 > largest) {
    fail("randint: [{}, {}) is out of bounds for {}, which holds the integers {} to {} exactly",
         low, high, dtype, smallest, largest);
  }
}

// torch.bernoulli's check: every probability in [0, 1] (NaN is not).
template <class T>
void require_probabilities(const Tensor& p) {
  const T* prob = p.data<T>();
  for (int64_t i = 0; i < p.numel(); ++i) {
    if (!(prob[i] >= 0 && prob[i] <= 1)) {
      fail("bernoulli: expected every p in [0, 1], got {} at flat index {} of shape {}", prob[i], i,
           shape_str(p.shape()));
    }
  }
}

}  // namespace

Tensor randn(Shape shape, TensorOptions options) {
  return randn(std::move(shape), options, default_generator());
}

Tensor rand(Shape shape, TensorOptions options) {
  return rand(std::move(shape), options, default_generator());
}

Tensor randn(Shape shape, TensorOptions options, Generator& generator) {
  return normal_tensor(std::move(shape), options, generator, "randn");
}

Tensor rand(Shape shape, TensorOptions options, Generator& generator) {
  return uniform_tensor(std::move(shape), options, generator, "rand");
}

Tensor rand_like(const Tensor& x) { return rand_like(x, default_generator()); }

Tensor rand_like(const Tensor& x, Generator& generator) {
  return uniform_tensor(x.shape(), {.dtype = x.dtype()}, generator, "rand_like");
}

Tensor randn_like(const Tensor& x) { return randn_like(x, default_generator()); }

Tensor randn_like(const Tensor& x, Generator& generator) {
  return normal_tensor(x.shape(), {.dtype = x.dtype()}, generator, "randn_like");
}

namespace {

Tensor randint_from(int64_t low, int64_t high, Shape shape, const TensorOptions& options,
                    Generator& generator) {
  require_randint_range(low, high, options.dtype);
  if (options.requires_grad && !is_floating(options.dtype)) {
    fail("randint: only Float32 and Float64 tensors can require grad, got {}", options.dtype);
  }
  // high − low can exceed INT64_MAX; in uint64 it cannot, and the sum wraps back into range.
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  Tensor t = make_tensor(std::move(shape), options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    T* out = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const auto value = static_cast<int64_t>(static_cast<uint64_t>(low) + generator.below(span));
      out[i] = static_cast<T>(value);
    }
  });
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

}  // namespace

Tensor randint(int64_t low, int64_t high, Shape shape, TensorOptions options) {
  return randint_from(low, high, std::move(shape), options, default_generator());
}

Tensor randint(int64_t low, int64_t high, Shape shape, Generator& generator) {
  return randint_from(low, high, std::move(shape), {.dtype = Dtype::Int64}, generator);
}

Tensor randperm(int64_t n) { return randperm(n, default_generator()); }

Tensor randperm(int64_t n, Generator& generator) {
  if (n < 0) fail("randperm: n must be non-negative, got {}", n);
  return from_vector<int64_t>(generator.permutation(n), {n});
}

Tensor bernoulli(const Tensor& p) { return bernoulli(p, default_generator()); }

Tensor bernoulli(const Tensor& p, Generator& generator) {
  Tensor y = visit_floating(p, "bernoulli", [&]<class T>() {
    require_probabilities<T>(p);
    Tensor out = make_tensor(p.shape(), p.dtype());
    const T* prob = p.data<T>();
    T* value = out.data<T>();
    // u < p with u uniform in [0, 1): never for p = 0, always for p = 1.
    for (int64_t i = 0; i < p.numel(); ++i) value[i] = generator.uniform() < prob[i] ? 1 : 0;
    return out;
  });
  // PyTorch records bernoulli with a zero gradient for p (derivatives.yaml, 1.13: `self:
  // zeros_like(grad)`), so the result requires grad when p does.
  return record("bernoulli", y, {p}, [](const Tensor& gy) -> Grads { return {zeros_like(gy)}; });
}

namespace {

// torch.multinomial's checks on the arguments (aten/src/ATen/native/Distributions.cpp, 1.13).
void check_multinomial_arguments(const Tensor& probs, int64_t n, bool replacement) {
  require_floating(probs, "multinomial");
  if (probs.dim() != 1 && probs.dim() != 2) {
    fail("multinomial: probs must be 1-D or 2-D, got shape {}", shape_str(probs.shape()));
  }
  const int64_t categories = probs.size(-1);
  if (categories > int64_t{1} << 24) {
    fail("multinomial: the number of categories cannot exceed 2^24, got {}", categories);
  }
  if (n <= 0) fail("multinomial: cannot sample n <= 0 samples, got n = {}", n);
  if (!replacement && n > categories) {
    fail(
        "multinomial: cannot sample n > probs.size(-1) samples without replacement, got n = {} "
        "for {} categories",
        n, categories);
  }
}

// Each row's weights divided by the row's largest (so the sums cannot overflow), after checking
// that every entry is finite and nonnegative, every row has a positive sum, and (without
// replacement) at least n categories of nonzero probability. torch 1.13 would silently draw
// zero-probability categories in that last case; an error names the row instead.
template <class T>
std::vector<double> multinomial_weights(const Tensor& probs, int64_t n, bool replacement) {
  const int64_t categories = probs.size(-1);
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  const T* prob = probs.data<T>();
  std::vector<double> weights(prob, prob + rows * categories);
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = weights.begin() + r * categories;
    double largest = 0;
    int64_t nonzero = 0;
    for (auto w = row; w != row + categories; ++w) {
      if (!(*w >= 0 && *w <= std::numeric_limits<double>::max())) {
        fail("multinomial: probabilities must be finite and nonnegative, got {} in row {}", *w, r);
      }
      largest = std::max(largest, *w);
      nonzero += *w > 0;
    }
    if (largest == 0) {
      fail("multinomial: invalid distribution: the probabilities of row {} sum to 0", r);
    }
    if (!replacement && n > nonzero) {
      fail(
          "multinomial: cannot sample {} categories without replacement from row {}, which has "
          "only {} of nonzero probability",
          n, r, nonzero);
    }
    for (auto w = row; w != row + categories; ++w) *w /= largest;
  }
  return weights;
}

// Inverse-CDF sampling: the first category whose cumulative weight exceeds u·total. A zero weight
// repeats its predecessor's cumulative sum, so it is never the first to exceed anything.
void sample_with_replacement(const double* weights, int64_t categories, int64_t n,
                             Generator& generator, int64_t* out) {
  std::vector<double> cumulative(weights, weights + categories);
  std::partial_sum(cumulative.begin(), cumulative.end(), cumulative.begin());
  const double total = cumulative.back();
  // Rounding of u·total can reach total: the last category of nonzero weight then.
  const int64_t last =
      std::find_if(cumulative.begin(), cumulative.end(), [&](double c) { return c == total; }) -
      cumulative.begin();
  for (int64_t i = 0; i < n; ++i) {
    const double x = generator.uniform() * total;
    const int64_t k =
        std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin();
    out[i] = std::min(k, last);
  }
}

// Efraimidis–Spirakis: key_k = w_k / E_k with E_k ~ Exp(1); the n largest keys, in decreasing
// order, are distributed as n successive draws without replacement (torch 1.13 takes the topk
// of p / q with q exponential as well). Zero weights are never candidates.
void sample_without_replacement(const double* weights, int64_t categories, int64_t n,
                                Generator& generator, int64_t* out) {
  std::vector<std::pair<double, int64_t>> keys;  // (−key, category): ascending = wanted order
  for (int64_t k = 0; k < categories; ++k) {
    if (weights[k] == 0) continue;
    const double exponential = -std::log1p(-generator.uniform());  // finite: u < 1
    const double key =
        exponential > 0 ? weights[k] / exponential : std::numeric_limits<double>::infinity();
    keys.emplace_back(-key, k);
  }
  std::partial_sort(keys.begin(), keys.begin() + n, keys.end());
  for (int64_t i = 0; i < n; ++i) out[i] = keys[i].second;
}

}  // namespace

Tensor multinomial(const Tensor& probs, int64_t n, bool replacement) {
  return multinomial(probs, n, replacement, default_generator());
}

Tensor multinomial(const Tensor& probs, int64_t n, bool replacement, Generator& generator) {
  check_multinomial_arguments(probs, n, replacement);
  const std::vector<double> weights = visit_floating(probs, "multinomial", [&]<class T>() {
    return multinomial_weights<T>(probs, n, replacement);
  });
  const int64_t categories = probs.size(-1);
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  Tensor out = make_tensor(probs.dim() == 2 ? Shape{rows, n} : Shape{n}, Dtype::Int64);
  int64_t* sample = out.data<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = weights.data() + r * categories;
    if (replacement) {
      sample_with_replacement(row, categories, n, generator, sample + r * n);
    } else {
      sample_without_replacement(row, categories, n, generator, sample + r * n);
    }
  }
  return out;
}

Tensor& Tensor::uniform_(double lo, double hi, Generator* generator) {
  detail::check_in_place(*this, "uniform_");
  require_floating(*this, "uniform_");
  // torch's check_uniform_bounds: bounds the dtype holds, lo ≤ hi, and (for the double
  // arithmetic here) a finite hi − lo.
  const double largest = largest_finite(dtype());
  if (!(std::abs(lo) <= largest && std::abs(hi) <= largest)) {
    fail("uniform_: expected finite bounds that {} holds, got lo = {} and hi = {}", dtype(), lo,
         hi);
  }
  if (lo > hi) fail("uniform_: expected lo <= hi, got lo = {} and hi = {}", lo, hi);
  if (!std::isfinite(hi - lo)) fail("uniform_: hi - lo overflows: lo = {} and hi = {}", lo, hi);
  Generator& source = generator ? *generator : default_generator();
  const Tensor values = draw_floating(
      shape(), {.dtype = dtype()}, [&](double* out, int64_t n) { source.uniform(out, n); },
      [&]<class T>(double u) { return uniform_value<T>(u, lo, hi); });
  return detail::assign_in_place(*this, values, "uniform_");
}

Tensor& Tensor::normal_(double mean, double std, Generator* generator) {
  detail::check_in_place(*this, "normal_");
  require_floating(*this, "normal_");
  if (!(std >= 0)) fail("normal_: expected std >= 0, got std = {}", std);
  const double largest = largest_finite(dtype());
  if (!(std::abs(mean) <= largest && std <= largest)) {
    fail("normal_: expected a finite mean and std that {} holds, got mean = {} and std = {}",
         dtype(), mean, std);
  }
  Generator& source = generator ? *generator : default_generator();
  const Tensor values = draw_floating(
      shape(), {.dtype = dtype()}, [&](double* out, int64_t n) { source.normal(out, n); },
      [&]<class T>(double v) { return static_cast<T>(mean + std * v); });
  return detail::assign_in_place(*this, values, "normal_");
}

}  // namespace tg
