#!/usr/bin/env bash
# tests/standalone/check_headers.sh CXX INCLUDE_DIR — every public header compiles on its own (first in a file).
# Headers are checked in parallel, one compiler per core; each failure prints its first errors.
set -euo pipefail
cxx=$1
inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check_one() {  # check_one HEADER: 0 when it compiles alone
  local rel=${1#"$inc"/} src
  src=$(mktemp "$tmp/t.XXXXXX.cpp")
  printf '#include <%s>\nint main() {}\n' "$rel" >"$src"
  if ! "$cxx" -std=c++20 -fopenmp -fsyntax-only -I"$inc" "$src" 2>"$src.err"; then
    echo "not self-contained: $rel"
    head -n 5 "$src.err"
    return 1
  fi
}
export -f check_one
export cxx inc tmp
if find "$inc/recsys" -name '*.hpp' | sort | xargs -P "$(nproc)" -I{} bash -c 'check_one "$1"' _ {}; then
  echo "every header compiles on its own"
else
  exit 1
fi
