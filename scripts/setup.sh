#!/usr/bin/env bash
# Installs, from Debian's packages, whatever tapegrad needs that this machine lacks.
# `setup.sh` installs what building and the examples need (Open MPI: tg::dist and mpirun;
# wamerican: the word list char_language_model trains on); `setup.sh --tests` adds what the full test run needs (clang
# and its sanitizer runtime for the fuzz harnesses, numpy for the interoperability test, onnx
# and OpenCV for the ONNX export checks, a German locale for the CSV test).
# Idempotent: when everything is present it changes nothing and needs no network.
set -euo pipefail

packages=(g++ make cmake libopenblas-dev libfmt-dev catch2 zlib1g-dev nlohmann-json3-dev
          libopenmpi-dev openmpi-bin dataset-fashion-mnist wamerican)
if [ "${1:-}" = "--tests" ]; then
  packages+=(clang libclang-rt-14-dev python3-numpy locales python3-onnx python3-opencv)
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--tests" ] && ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  echo "setup: generating the de_DE.UTF-8 locale"
  "${as_root[@]}" localedef -i de_DE -f UTF-8 de_DE.UTF-8
fi
