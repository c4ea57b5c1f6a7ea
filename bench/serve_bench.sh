#!/usr/bin/env bash
# bench/serve_bench.sh [BUILD_DIR] — load test of `recsys serve` against the same mf model served from Python
# (FastAPI + uvicorn + numpy, bench/serve_python.py), with wrk from Debian on loopback, bounded in time: each
# point runs SECONDS (default 10) and the two servers alternate, ROUNDS times (default 2), so that a noisy shared
# machine slows both alike. Points: a target rate of about 1000 requests/s (4 connections pausing 4 ms between
# requests; wrk 4 has no fixed-rate mode) and saturation (4 connections, no pause). Top-10 of mf trained on
# ml-latest-small (9,742 items). Prints one "BENCH" line per point and a summary table.
#   env: DATA (ml-latest-small folder), SECONDS, ROUNDS, THREADS (ours, default 4), WORKERS (uvicorn, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
recsys=$build/tools/recsys
data=${DATA:-../shared/data/movielens-ml-latest-small}
seconds=${SECONDS_PER_POINT:-${SECONDS:-10}}
rounds=${ROUNDS:-2}
threads=${THREADS:-4}
workers=${WORKERS:-1}
work=build/serve-bench
venv=build/serve-bench-venv
mkdir -p "$work"
command -v wrk >/dev/null || { echo "serve_bench: wrk is missing (scripts/setup.sh installs it)"; exit 1; }
[ -x "$recsys" ] || { echo "serve_bench: no $recsys (cmake --build $build --target recsys_cli)"; exit 1; }
if [ ! -x "$venv/bin/uvicorn" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q fastapi uvicorn numpy
fi
run=$work/ml_mf
[ -f "$run/model.safetensors" ] || "$recsys" train --model mf --data "$data" --eval leave-last-out --out "$run" --quiet

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_up() {  # wait_up PORT: until POST /v1/recommend answers
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$1/v1/recommend" -H 'Content-Type: application/json' \
      -d '{"user": "1", "n": 10}' && return 0
    sleep 0.1
  done
  echo "serve_bench: nothing answers on port $1"; exit 1
}

"$recsys" serve "$run" --port 18080 --threads "$threads" --max-n 100 >"$work/ours.log" 2>&1 &
pids+=($!)
RUN=$run "$venv/bin/uvicorn" --app-dir bench serve_python:app --host 127.0.0.1 --port 18090 --workers "$workers" \
  --log-level warning >"$work/python.log" 2>&1 &
pids+=($!)
wait_up 18080
wait_up 18090

point() {  # point NAME PORT DELAY_MS
  local line
  line=$(BENCH_DELAY_MS=$3 wrk -t1 -c4 -d"${seconds}s" --timeout 2s -s bench/serve_bench.lua "http://127.0.0.1:$2" |
         grep '^BENCH ')
  echo "$1 delay=${3}ms ${line}"
}

echo "serve_bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "  ours: recsys serve --threads $threads; python: uvicorn --workers $workers; wrk -t1 -c4, ${seconds} s a point"
results=$work/results.txt
: >"$results"
for r in $(seq 1 "$rounds"); do
  order="ours:18080 python:18090"
  [ $((r % 2)) -eq 0 ] && order="python:18090 ours:18080"  # alternate who goes first
  for target in $order; do
    point "${target%%:*}" "${target##*:}" 4 | tee -a "$results"
    point "${target%%:*}" "${target##*:}" 0 | tee -a "$results"
  done
done
python3 - "$results" <<'PY'
import json, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, delay, _, blob = line.split(" ", 3)
    rows[(name, delay)].append(json.loads(blob))
print(f"{'server':8} {'load':16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'failed':>7}")
for (name, delay), rs in sorted(rows.items()):
    load = "~1000 req/s" if delay == "delay=4ms" else "saturation"
    med = lambda k: sorted(r[k] for r in rs)[len(rs) // 2]
    failed = sum(r["errors"] + r["non2xx"] for r in rs)
    print(f"{name:8} {load:16} {med('rps'):8.0f} {med('p50_ms'):8.3f} {med('p99_ms'):8.3f} {med('p999_ms'):9.3f} {failed:7d}")
sat = {n: sorted(r["rps"] for r in rows[(n, "delay=0ms")])[len(rows[(n, "delay=0ms")]) // 2] for n in ("ours", "python")}
print(f"saturated throughput ratio ours / python: {sat['ours'] / sat['python']:.1f}x (median of {len(rows[('ours', 'delay=0ms')])} rounds)")
PY
