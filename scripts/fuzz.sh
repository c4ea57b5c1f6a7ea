#!/usr/bin/env bash
# scripts/fuzz.sh BUILD_DIR SECONDS — runs every libFuzzer harness in BUILD_DIR/fuzz for SECONDS each,
# seeded from fuzz/corpus/<name>/; a crash stops the run with the reproducer's path.
set -euo pipefail
build=${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
cd "$(dirname "$0")/.."
shopt -s nullglob
for exe in "$build"/fuzz/*_fuzz; do
  name=$(basename "$exe")
  work="$build/fuzz-work/$name"
  mkdir -p "$work/corpus" "$work/artifacts"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  "$exe" -max_total_time="$seconds" -print_final_stats=0 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "${seeds[@]}" 2>"$work/log" || { tail -n 40 "$work/log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E "^(#[0-9]+\s+DONE|Done)" "$work/log" | tail -n 1 || true
done
