#!/usr/bin/env bash
# Builds and runs the main example: Fashion-MNIST classification (about 15 s on one core).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --target classify_fashion_mnist
./build/examples/classify_fashion_mnist "$@"
