// Every kernel tapegrad compiles per CPU level (src/kernels/cpu_level.hpp) gives the bits of the
// baseline at the level in use. CTest runs these once per level with TAPEGRAD_CPU set
// (cpu_level_baseline, cpu_level_avx2, cpu_level_avx512); a level the CPU lacks is skipped.

#include "cpu_levels.hpp"
#include "helpers.hpp"
#include "optim_table.hpp"

#include "ops/small_gemm.hpp"
#include "ops/vector_math.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

using tg::Tensor;
using tg::testing::at_baseline;
namespace nn = tg::nn;
namespace optim = tg::optim;

namespace {

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return false;
  }
  return true;
}

// Every parameter's values, as bits.
std::vector<std::vector<double>> values(const std::vector<Tensor>& params) {
  std::vector<std::vector<double>> out;
  for (const Tensor& p : params) out.push_back(p.to(tg::Dtype::Float64).to_vector<double>());
  return out;
}

bool same_values(const std::vector<std::vector<double>>& a,
                 const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("TAPEGRAD_CPU names the level in use, never above what the CPU has", "[cpu_level]") {
  const auto in_use = tg::detail::cpu_level_in_use();
  CHECK(in_use <= tg::detail::supported_cpu_level());
  CHECK(tg::cpu_level() == tg::detail::cpu_level_name(in_use));
  if (tg::detail::supported_cpu_level() < tg::detail::CpuLevel::Avx512) {
    CHECK_TG_ERROR(tg::detail::ScopedCpuLevel(tg::detail::CpuLevel::Avx512),
                   "ScopedCpuLevel: this CPU has no avx512");
  }
}

TEST_CASE("exp_array, sigmoid_array and tanh_array match the scalar functions bit for bit",
          "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  std::vector<float> in;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 65537)
    in.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  std::vector<float> exp_out(in.size()), tanh_out(in.size()), sigmoid_out(in.size());
  tg::vmath::sigmoid_array(in.data(), sigmoid_out.data(), static_cast<int64_t>(in.size()));
  tg::vmath::exp_array(in.data(), exp_out.data(), static_cast<int64_t>(in.size()));
  tg::vmath::tanh_array(in.data(), tanh_out.data(), static_cast<int64_t>(in.size()));
  int64_t mismatches = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const float e = tg::vmath::exp(in[i]), t = tg::vmath::tanh(in[i]);
    mismatches += std::bit_cast<uint32_t>(e) != std::bit_cast<uint32_t>(exp_out[i]);
    mismatches += std::bit_cast<uint32_t>(t) != std::bit_cast<uint32_t>(tanh_out[i]);
    mismatches += std::bit_cast<uint32_t>(tg::vmath::sigmoid(in[i])) !=
                  std::bit_cast<uint32_t>(sigmoid_out[i]);
  }
  INFO("level " << tg::cpu_level());
  CHECK(mismatches == 0);
}

TEST_CASE("tanh_backward_array is g·(1 − y²) in float, bit for bit", "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  std::vector<float> gy, y;
  for (int i = 0; i < 1000; ++i) {  // not a multiple of 16: the vector loops' scalar tails run too
    gy.push_back(static_cast<float>(std::sin(0.7 * i)) * 3.0f);
    y.push_back(static_cast<float>(std::cos(1.3 * i)));
  }
  gy.push_back(NAN);
  y.push_back(0.5f);
  std::vector<float> out(gy.size());
  tg::vmath::tanh_backward_array(gy.data(), y.data(), out.data(), static_cast<int64_t>(gy.size()));
  int64_t mismatches = 0;
  for (size_t i = 0; i + 1 < gy.size(); ++i) {
    const float want = gy[i] * (1.0f - y[i] * y[i]);  // unfused: tests build with -ffp-contract=off
    mismatches += std::bit_cast<uint32_t>(out[i]) != std::bit_cast<uint32_t>(want);
  }
  INFO("level " << tg::cpu_level());
  CHECK(mismatches == 0);
  CHECK(std::isnan(out.back()));
}

TEST_CASE("small_sgemm gives the baseline's bits", "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  int compared = 0;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int64_t m : {1, 3, 4, 5, 9, 32}) {
        for (int64_t n : {1, 7, 8, 13, 17, 25, 32, 41}) {
          for (int64_t k : {1, 13, 32}) {
            for (float beta : {0.0f, 0.5f}) {
              std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
              for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(0.37 * i));
              for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(0.53 * i));
              const std::vector<float> start(static_cast<size_t>(m * n), 0.75f);
              const auto product = [&] {
                std::vector<float> c = start;
                tg::detail::small_sgemm(ta, tb, m, n, k, a.data(), ta ? m : k, b.data(), tb ? k : n,
                                        beta, c.data());
                return c;
              };
              const std::vector<float> got = product();
              INFO("level " << tg::cpu_level() << " m " << m << " n " << n << " k " << k << " ta "
                            << ta << " tb " << tb << " beta " << beta);
              REQUIRE(same_bits(got, at_baseline(product)));
              ++compared;
            }
          }
        }
      }
    }
  }
  CHECK(compared == 2 * 2 * 6 * 8 * 3 * 2);
}

// The larger products gemm_into sends to small_sgemm (small_sgemm_pays): AVX-512's 64-column
// tiles, and inner sizes summed in several runs.
TEST_CASE("small_sgemm gives the baseline's bits on larger products", "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  int compared = 0;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (auto [m, n, k] : {std::array<int64_t, 3>{64, 384, 128},
                             {64, 128, 384},
                             {7, 200, 600},
                             {258, 104, 33},
                             {9, 40, 300}}) {
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
          for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(0.37 * i));
          for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(0.53 * i));
          const auto product = [&] {
            std::vector<float> c(static_cast<size_t>(m * n), 0.75f);
            tg::detail::small_sgemm(ta, tb, m, n, k, a.data(), ta ? m : k, b.data(), tb ? k : n,
                                    beta, c.data());
            return c;
          };
          const std::vector<float> got = product();
          INFO("level " << tg::cpu_level() << " m " << m << " n " << n << " k " << k << " ta " << ta
                        << " tb " << tb << " beta " << beta);
          REQUIRE(same_bits(got, at_baseline(product)));
          ++compared;
        }
      }
    }
  }
  CHECK(compared == 2 * 2 * 5 * 2);
}

TEST_CASE("column sums (bias gradients) give the baseline's bits", "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  tg::manual_seed(3);
  for (int64_t columns : {1, 15, 16, 33, 256}) {
    const Tensor x = tg::randn({67, columns});
    const auto sums = [&] { return tg::sum_to(x, {columns}).to_vector<float>(); };
    INFO("level " << tg::cpu_level() << ", " << columns << " columns");
    CHECK(same_bits(sums(), at_baseline(sums)));
  }
}

TEST_CASE("lane sums (sum, conv2d's bias gradient, the norms) give the baseline's bits",
          "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  tg::manual_seed(4);
  // Lengths that are not multiples of the 16 lanes, so every tail runs.
  const Tensor x = tg::randn({1003});
  Tensor image = tg::randn({3, 2, 7, 9}).set_requires_grad();
  Tensor bias = tg::randn({4}).set_requires_grad();
  const Tensor weight = tg::randn({4, 2, 3, 3});
  Tensor rows = tg::randn({5, 37}).set_requires_grad();
  Tensor gamma = tg::randn({37}).set_requires_grad();
  const auto run = [&] {
    std::vector<std::vector<double>> out{tg::sum(x).to(tg::Dtype::Float64).to_vector<double>()};
    const Tensor conv = tg::nn::F::conv2d(image, weight, bias, {.padding = 1});
    for (const Tensor& g : tg::grad((conv * conv).sum(), {bias})) {
      out.push_back(g.to(tg::Dtype::Float64).to_vector<double>());
    }
    const Tensor normed = tg::nn::F::layer_norm(rows * 5.0 + 3.0, {37}, gamma);
    out.push_back(normed.to(tg::Dtype::Float64).to_vector<double>());
    for (const Tensor& g : tg::grad((normed * normed * normed).sum(), {rows, gamma})) {
      out.push_back(g.to(tg::Dtype::Float64).to_vector<double>());
    }
    const Tensor batch = tg::nn::F::batch_norm(image, {}, {}, bias.narrow(0, 0, 2), {}, true);
    out.push_back(batch.to(tg::Dtype::Float64).to_vector<double>());
    for (const Tensor& g : tg::grad((batch * batch * batch).sum(), {image, bias})) {
      out.push_back(g.to(tg::Dtype::Float64).to_vector<double>());
    }
    return out;
  };
  INFO("level " << tg::cpu_level());
  CHECK(same_values(run(), at_baseline(run)));
}

TEST_CASE("every optimizer's update gives the baseline's bits, Float32 and Float64",
          "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  // Every optimizer of the table, in both of its configurations, plus RMSProp's Keras flavour.
  std::vector<std::pair<std::string, tg::testing::MakeOptimizer>> optimizers = {
      {"RMSProp Keras flavour", [](auto p) {
         return std::make_unique<optim::RMSProp>(p, optim::RMSPropOptions::keras(0.01));
       }}};
  for (const auto& row : tg::testing::every_optimizer()) {
    optimizers.emplace_back(row.name + " configured", row.configured);
    optimizers.emplace_back(row.name + " defaults", row.defaults);
  }
  for (const tg::Dtype dtype : {tg::Dtype::Float32, tg::Dtype::Float64}) {
    for (const auto& [name, make] : optimizers) {
      const auto train = [&, make = make] {
        tg::manual_seed(8);
        // 1003 elements: not a multiple of any vector width, so every loop's tail runs.
        Tensor p = tg::randn({1003}, {.dtype = dtype, .requires_grad = true});
        const Tensor w = tg::randn({1003}, {.dtype = dtype});
        const auto optimizer = make({p});
        for (int step = 0; step < 5; ++step) {
          optimizer->step([&] {
            optimizer->zero_grad();
            Tensor loss = tg::sum(p * p * w);
            loss.backward();
            return loss;
          });
        }
        return values({p});
      };
      INFO("level " << tg::cpu_level() << ", " << name << ", " << tg::dtype_name(dtype));
      CHECK(same_values(train(), at_baseline(train)));
    }
  }
}

TEST_CASE("training an MLP gives the baseline's parameter bits", "[cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  // 8-64-64-3 with tanh and relu: the first layer's products go to small_sgemm, the second's to
  // OpenBLAS; tanh, exp (in the cross-entropy), column sums and RMSProp to the level's kernels.
  const auto train = [] {
    tg::manual_seed(5);
    nn::Sequential model{nn::Linear(8, 64), nn::Tanh(), nn::Linear(64, 64), nn::ReLU(),
                         nn::Linear(64, 3)};
    optim::RMSProp optimizer(model.parameters(), {.lr = 0.01, .momentum = 0.5, .centered = true});
    const Tensor x = tg::randn({64, 8});
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < 64; ++i) labels.push_back(i * 7 % 3);
    const Tensor y = tg::from_vector(labels, {64});
    for (int step = 0; step < 20; ++step) {
      optimizer.zero_grad();
      nn::cross_entropy(model(x), y).backward();
      optimizer.step();
    }
    return values(model.parameters());
  };
  INFO("level " << tg::cpu_level());
  CHECK(same_values(train(), at_baseline(train)));
}
