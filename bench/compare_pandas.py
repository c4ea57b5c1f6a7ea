#!/usr/bin/env python3
"""bench/compare_pandas.py — recsys's CSV reader against pandas.read_csv on the same file, in the same run.

Runs bench/csv_bench (Google Benchmark, JSON output) and times pandas.read_csv on the same file right
after, then prints MB/s for each and the ratio recsys / pandas. Both are timed in CPU time of the one
thread that parses (Google Benchmark's default; time.process_time for pandas, whose C parser is
single-threaded), so load from other processes on the machine skews neither side. Wall-clock
numbers are printed too.

Usage:  python3 bench/compare_pandas.py --build-dir build/release [--file PATH] [--repetitions 5]
Needs:  csv_bench built (cmake --build <dir> --target csv_bench) and pandas in this interpreter.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO.parent / "shared" / "data" / "movielens-ml-latest-small" / "ratings.csv"

# Which csv_bench case corresponds to which pandas call.
PANDAS_CASES = {
    "BM_read_csv_inferred": ("pandas.read_csv(path)", lambda pd, path: pd.read_csv(path)),
    "BM_read_csv_typed": (
        "pandas.read_csv(path, dtype=...)",
        lambda pd, path: pd.read_csv(
            path, dtype={"userId": "int64", "movieId": "int64", "rating": "float64", "timestamp": "int64"}
        ),
    ),
    "BM_read_csv_chunked": (
        "pandas.read_csv(path, chunksize=8192)",
        lambda pd, path: sum(len(c) for c in pd.read_csv(path, chunksize=8192)),
    ),
}


def run_recsys(build_dir: Path, path: Path, repetitions: int) -> dict[str, dict[str, float]]:
    exe = build_dir / "bench" / "csv_bench"
    if not exe.exists():
        sys.exit(f"{exe} not found: build it with cmake --build {build_dir} --target csv_bench")
    env = dict(os.environ, RECSYS_CSV_BENCH_FILE=str(path))
    out = subprocess.run(
        [str(exe), "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
         "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    result = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
        result[name] = {"cpu_s": b["cpu_time"] * scale, "wall_s": b["real_time"] * scale}
    return result


def time_pandas(fn, pd, path: Path, repetitions: int) -> dict[str, float]:
    fn(pd, path)  # warm the file cache and pandas' imports
    cpu, wall = [], []
    for _ in range(repetitions):
        c0, w0 = time.process_time(), time.perf_counter()
        fn(pd, path)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s": statistics.median(cpu), "wall_s": statistics.median(wall)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", type=Path, default=REPO / "build" / "release")
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file} not found (the shared data sets live in ../shared/data)")
    import pandas as pd

    mb = args.file.stat().st_size / 1e6
    ours = run_recsys(args.build_dir.resolve(), args.file, args.repetitions)
    print(f"file: {args.file} ({mb:.2f} MB); pandas {pd.__version__}; median of {args.repetitions} runs; MB = 1e6 bytes")
    print(f"{'case':<22} {'recsys MB/s':>12} {'pandas MB/s':>12} {'ratio':>7}   {'(wall: recsys':>14} {'pandas)':>8}  pandas call")
    if "BM_csv_tokenize" in ours:
        t = ours["BM_csv_tokenize"]
        print(f"{'BM_csv_tokenize':<22} {mb / t['cpu_s']:>12.1f} {'-':>12} {'-':>7}   {mb / t['wall_s']:>14.1f} {'-':>8}  "
              "(no pandas equivalent: fields only)")
    for case, (label, fn) in PANDAS_CASES.items():
        if case not in ours:
            continue
        theirs = time_pandas(fn, pd, args.file, args.repetitions)
        r, p = ours[case], theirs
        print(f"{case:<22} {mb / r['cpu_s']:>12.1f} {mb / p['cpu_s']:>12.1f} {p['cpu_s'] / r['cpu_s']:>6.2f}x"
              f"   {mb / r['wall_s']:>14.1f} {mb / p['wall_s']:>8.1f}  {label}")


if __name__ == "__main__":
    main()
