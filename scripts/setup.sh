#!/usr/bin/env bash
# scripts/setup.sh — installs the build and test tools a fresh Debian machine lacks (apt-get); safe to re-run.
set -euo pipefail

# compiler, build, test and benchmark tools; clang + its runtime for the libFuzzer harnesses; cpp-httplib (found
# through pkg-config) for `recsys serve`, and wrk for its load benchmark (bench/serve_bench.sh); OpenMPI for
# recsys::mpi, `recsys train --distributed` and the 2-process tests (mpirun)
packages=(g++ cmake make doctest-dev libbenchmark-dev clang libclang-rt-14-dev python3 pkg-config libcpp-httplib-dev wrk
  libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
