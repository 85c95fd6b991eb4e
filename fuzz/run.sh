#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses (clang, ASan + UBSan) in ./build-fuzz.
#   fuzz/run.sh replay               runs every harness once over its committed corpus and
#                                    regression inputs (what CI does; a few seconds)
#   fuzz/run.sh run SECONDS [NAME…]  fuzzes each harness (idx csv safetensors checkpoint) for
#                                    SECONDS; new inputs go to build-fuzz/corpus/NAME, crashes
#                                    to build-fuzz/artifacts/NAME (add them to fuzz/regressions)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: fuzz/run.sh replay | run SECONDS [NAME...]}
names=(idx csv safetensors checkpoint)

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTAPEGRAD_FUZZ=ON -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF \
  -DTAPEGRAD_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" >/dev/null

# -malloc_limit_mb: an allocation sized by an unchecked header value fails loudly.
limits=(-malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=10)
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
case "$mode" in
  replay)
    for name in "${names[@]}"; do
      echo "fuzz_${name}: replaying fuzz/corpus/${name} and fuzz/regressions/${name}"
      inputs=(fuzz/corpus/"$name"/* fuzz/regressions/"$name"/*)
      existing=()
      for input in "${inputs[@]}"; do [ -f "$input" ] && existing+=("$input"); done
      if ! output=$(./build-fuzz/fuzz/fuzz_"$name" "${limits[@]}" "${existing[@]}" 2>&1); then
        echo "$output"
        exit 1
      fi
      echo "  $(grep -c '^Executed' <<<"$output") inputs ran clean"
    done
    ;;
  run)
    seconds=${2:?usage: fuzz/run.sh run SECONDS [NAME...]}
    shift 2
    [ $# -gt 0 ] && names=("$@")
    crashed=()
    for name in "${names[@]}"; do
      mkdir -p build-fuzz/corpus/"$name" build-fuzz/artifacts/"$name"
      ./build-fuzz/fuzz/fuzz_"$name" "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix=build-fuzz/artifacts/"$name"/ build-fuzz/corpus/"$name" fuzz/corpus/"$name" ||
        crashed+=("$name")
    done
    if [ ${#crashed[@]} -gt 0 ]; then
      echo "crashed: ${crashed[*]} (inputs in build-fuzz/artifacts/)" >&2
      exit 1
    fi
    ;;
  *) echo "unknown mode '$mode'" >&2; exit 2 ;;
esac
