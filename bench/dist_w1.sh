#!/usr/bin/env bash
# W1's epoch time on 1 and on 2 ranks of one thread (bench_dist w1 under mpirun), alternated
# ROUNDS times so that a load which comes and goes hits both alike; prints every figure and the
# medians. Then the cost of moving W1's gradients (bench_dist exchange). docs/distributed.md.
#   bench/dist_w1.sh [ROUNDS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} epochs=${2:-2}
program=./build/bench/bench_dist
[ -x "$program" ] || { echo "build first: bash scripts/build.sh --target bench_dist" >&2; exit 2; }
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader,tcp
        --mca btl_tcp_if_include lo)
figure() { grep -oE 'median seconds per epoch: [0-9.]+' | awk '{print $NF}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A times
for round in $(seq "$rounds"); do
  for ranks in 1 2; do
    t=$("${mpirun[@]}" -np "$ranks" "$program" w1 --epochs "$epochs" | figure)
    echo "round $round, $ranks rank(s): $t s/epoch"
    times[$ranks]+="$t "
  done
done
for ranks in 1 2; do
  echo "W1, $ranks rank(s) x 1 thread: median $(tr ' ' '\n' <<< "${times[$ranks]}" | grep . | median) s/epoch"
done
uptime
"${mpirun[@]}" -np 2 "$program" exchange --reps 50
