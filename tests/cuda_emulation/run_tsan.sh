#!/usr/bin/env bash
# tests/cuda_emulation/run_tsan.sh CXX ROOT WORKDIR — the emulated CUDA kernels under ThreadSanitizer: a
# missing block or grid barrier is a data race here even when the results happen to come out right.
# Exits 77 (ctest: skipped) when the compiler cannot build ThreadSanitizer programs.
set -euo pipefail
cxx=$1 root=$2 work=$3
mkdir -p "$work"
cd "$work"
printf 'int main() { return 0; }\n' >probe.cpp
if ! "$cxx" -fsanitize=thread probe.cpp -o probe 2>probe.err || ! ./probe; then
  echo "SKIPPED: $cxx cannot build ThreadSanitizer programs here: $(head -n 1 probe.err)"
  exit 77
fi
"$cxx" -std=c++20 -O1 -g -fsanitize=thread -I"$root/tests/cuda_emulation/shim" -I"$root/kernels" -I"$root/include" \
  -I"$root/tests" "$root/tests/cuda_emulation/lstm_persistent_test.cpp" "$root/tests/doctest_main.cpp" \
  -o emulation_tsan -lpthread
TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./emulation_tsan
