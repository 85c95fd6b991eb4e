#!/usr/bin/env bash
# Builds and runs the main example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --target fit_line
./build/examples/fit_line "$@"
