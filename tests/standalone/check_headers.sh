#!/usr/bin/env bash
# tests/standalone/check_headers.sh CXX INCLUDE_DIR — every public header compiles on its own (first in a file).
set -euo pipefail
cxx=$1
inc=$2
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS= read -r h; do
  rel=${h#"$inc"/}
  printf '#include <%s>\nint main() {}\n' "$rel" >"$tmp/t.cpp"
  if ! "$cxx" -std=c++20 -fopenmp -fsyntax-only -I"$inc" "$tmp/t.cpp" 2>"$tmp/err"; then
    echo "not self-contained: $rel"
    head -n 5 "$tmp/err"
    failed=1
  fi
done < <(find "$inc/recsys" -name '*.hpp' | sort)
[ "$failed" -eq 0 ] && echo "every header compiles on its own"
exit "$failed"
