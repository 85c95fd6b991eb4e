#!/usr/bin/env bash
# Builds everything and runs the whole test suite with CTest; then runs it again built with
# AddressSanitizer + UBSan (leak detection on), and replays the fuzz corpora. About 35
# minutes on 2 cores; pass --quick to run only the first, regular pass (its ctest about 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
bash scripts/build.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)"
[ "${1:-}" = "--quick" ] && exit 0

echo "== the test suite under AddressSanitizer + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE=ON \
  -DTAPEGRAD_BUILD_BENCHMARKS=OFF
cmake --build build-asan --parallel "$(nproc)"
# The consumer tests rebuild tapegrad unsanitized and the Fashion-MNIST runs only repeat
# library code the unit tests cover, slowly: both are left to the regular pass. The [mpi] cases
# (tests/test_dist_mpi.cpp) run their ranks with ASAN_OPTIONS=detect_leaks=0 themselves: Open
# MPI keeps about 120 kB per rank in its dlopen'ed components until exit, which LeakSanitizer
# reports; every other check stays on.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)" -E "consumer|fashion"

echo "== the fuzz corpora and regression inputs"
bash fuzz/run.sh replay
