#!/usr/bin/env bash
# Runs tapegrad's and PyTorch's benchmarks alternately in one run, under the same OpenBLAS
# kernel, and prints a table of ratios (tapegrad / PyTorch; below 1 means tapegrad is faster).
#   bench/compare.sh [--avx512] [--rounds R] [--epochs E] [--steps S] [--batches B]
#                    [--rnn-steps N]
# (W3, the CNN, times B training steps and reports the median step × the 938 steps of an epoch;
# W4, the GRU character model, reports the median of N steps on one core, and again with an LSTM
# in place of the GRU (no target); "physics_informed" is
# examples/physics_informed with its defaults against bench/physics_informed.py, one thread.)
# --avx512 unsets OPENBLAS_CORETYPE (this machine then picks AVX-512 kernels); otherwise the
# environment's setting (Haswell here) is used for both.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 epochs=3 steps=20000 batches=60 rnn_steps=200 env_prefix=()
while [ $# -gt 0 ]; do
  case "$1" in
    --avx512) env_prefix=(env -u OPENBLAS_CORETYPE); shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --rnn-steps) rnn_steps=$2; shift 2 ;;
    *) echo "usage: bench/compare.sh [--avx512] [--rounds R] [--epochs E] [--steps S] [--batches B] [--rnn-steps N]" >&2; exit 2 ;;
  esac
done
ours=./build/bench/bench_train pinn=./build/examples/physics_informed
for program in "$ours" "$pinn"; do
  [ -x "$program" ] || { echo "build first: bash scripts/build.sh (missing $program)" >&2; exit 2; }
done
figure() { grep -oE "$1: [0-9.]+" | awk '{print $NF}'; }
trained_seconds() { grep -oE "trained in [0-9.]+" | awk '{print $NF}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A results
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    results[ours_w1_$threads]+="$(OPENBLAS_NUM_THREADS=$threads "${env_prefix[@]}" "$ours" fmnist --threads "$threads" --epochs "$epochs" | figure 'median seconds per epoch') "
    results[torch_w1_$threads]+="$(OPENBLAS_NUM_THREADS=$threads "${env_prefix[@]}" /usr/bin/python3 bench/torch_bench.py fmnist --threads "$threads" --epochs "$epochs" | figure 'median seconds per epoch') "
    results[ours_w3_$threads]+="$(OPENBLAS_NUM_THREADS=$threads "${env_prefix[@]}" "$ours" cnn --threads "$threads" --batches "$batches" | figure 'median seconds per epoch') "
    results[torch_w3_$threads]+="$(OPENBLAS_NUM_THREADS=$threads "${env_prefix[@]}" /usr/bin/python3 bench/torch_bench.py cnn --threads "$threads" --batches "$batches" | figure 'median seconds per epoch') "
  done
  results[ours_w2]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" "$ours" tiny --steps "$steps" | figure 'microseconds per step') "
  results[torch_w2]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" /usr/bin/python3 bench/torch_bench.py tiny --steps "$steps" | figure 'microseconds per step') "
  results[ours_w4]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" "$ours" charrnn --steps "$rnn_steps" | figure 'median milliseconds per step') "
  results[torch_w4]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" /usr/bin/python3 bench/torch_bench.py charrnn --steps "$rnn_steps" | figure 'median milliseconds per step') "
  results[ours_lstm]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" "$ours" charlstm --steps "$rnn_steps" | figure 'median milliseconds per step') "
  results[torch_lstm]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" /usr/bin/python3 bench/torch_bench.py charlstm --steps "$rnn_steps" | figure 'median milliseconds per step') "
  results[ours_pinn]+="$(OPENBLAS_NUM_THREADS=1 "${env_prefix[@]}" "$pinn" --csv /tmp/tapegrad_compare_pinn.csv | trained_seconds) "
  results[torch_pinn]+="$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "${env_prefix[@]}" /usr/bin/python3 bench/physics_informed.py | trained_seconds) "
done

kernel=$("${env_prefix[@]}" "$ours" tiny --steps 1 | grep -oE "OpenBLAS [A-Za-z0-9]+ kernel")
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'); $(nproc) cores; $kernel; medians of $rounds rounds"
printf '%-28s %12s %12s %8s\n' workload tapegrad PyTorch ratio
row() {
  local a b
  a=$(tr ' ' '\n' <<< "${results[$2]}" | grep . | median)
  b=$(tr ' ' '\n' <<< "${results[$3]}" | grep . | median)
  printf '%-28s %12s %12s %8.3f\n' "$1" "$a" "$b" "$(awk "BEGIN {print $a / $b}")"
}
row "W1 s/epoch, 1 core" ours_w1_1 torch_w1_1
row "W1 s/epoch, 2 cores" ours_w1_2 torch_w1_2
row "W2 us/step" ours_w2 torch_w2
row "W3 s/epoch, 1 core" ours_w3_1 torch_w3_1
row "W3 s/epoch, 2 cores" ours_w3_2 torch_w3_2
row "W4 ms/step, 1 core" ours_w4 torch_w4
row "W4 with LSTM ms/step" ours_lstm torch_lstm
row "physics_informed s, 1 core" ours_pinn torch_pinn
