#!/usr/bin/env bash
# Installs missing dependencies, then configures and builds tapegrad in ./build (Release).
# Extra arguments are passed to the build, e.g. `--target fit_line`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)" "$@"
