#!/usr/bin/env bash
# Installs, from Debian's packages, whatever tapegrad needs that this machine lacks.
# Idempotent: when everything is present it changes nothing and needs no network.
set -euo pipefail

packages=(g++ make cmake libopenblas-dev libfmt-dev catch2 zlib1g-dev nlohmann-json3-dev dataset-fashion-mnist python3-numpy)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
echo "setup: installing ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
