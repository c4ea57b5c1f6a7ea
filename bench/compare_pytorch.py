#!/usr/bin/env python3
"""bench/compare_pytorch.py — recsys against PyTorch and the best BLAS on this machine, measured in one run.

Sections (run all by default, or pick with --section):
  gemm   our SGEMM (fast and reference) at square and model shapes against numpy's OpenBLAS and
         torch.matmul, with each one's fraction of the FMA peak measured by bench/peak_flops_bench.
A section is a function `section_<name>(ctx)` registered in SECTIONS; it prints its own table and may
use the shared context (build dir, peaks, timing settings). The whole-model comparison is added the
same way.

Usage:  python3 bench/compare_pytorch.py --build-dir build/release [--section gemm] [--repetitions 5]
Needs:  the benchmarks built (cmake --build <dir> --target gemm_bench peak_flops_bench), numpy
        (pip: OpenBLAS inside) and torch (pip) in this interpreter; a missing one is left out of the table.
Every number is the median over --repetitions runs. Runs wait (up to --wait-idle seconds) for both cores
to be idle, and the table says how idle they were: other work on the machine skews every column.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The GEMM shapes, as bench/gemm_bench.cpp names them: (trans_a, trans_b, m, n, k, lda or 0 for dense).
GEMM_SHAPES = {
    "square128": (False, False, 128, 128, 128, 0),
    "square256": (False, False, 256, 256, 256, 0),
    "square512": (False, False, 512, 512, 512, 0),
    "square1024": (False, False, 1024, 1024, 1024, 0),
    "square2048": (False, False, 2048, 2048, 2048, 0),
    "lstm_step": (False, False, 32, 512, 128, 0),
    "lstm_step_bt": (False, True, 32, 512, 128, 0),
    "lstm_step_dgrad": (False, True, 32, 128, 512, 0),
    "lstm_step_wgrad": (True, False, 128, 512, 32, 0),
    "lstm_input": (False, False, 1568, 512, 128, 0),
    "lstm_input_wgrad": (True, False, 128, 512, 1568, 0),
    "conv_window": (False, False, 3136, 128, 384, 128),
    "conv_dgrad": (False, True, 3136, 384, 128, 0),
    "conv_wgrad": (True, False, 384, 128, 3136, 128),
}
THREADS = (1, 2)


# ---------------------------------------------------------------- shared helpers


def cpu_idle_fraction(seconds: float = 1.0) -> float:
    """Fraction of all cores' time spent idle over `seconds` (from /proc/stat); 1.0 where unknown."""

    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
        return (idle1 - idle0) / max(1, total1 - total0)
    except OSError:
        return 1.0


def wait_for_idle(ctx: dict, label: str) -> None:
    """Waits until the cores are at least 90% idle (at most ctx['wait_idle'] s); records what it saw."""
    deadline = time.time() + ctx["wait_idle"]
    idle = cpu_idle_fraction()
    while idle < 0.9 and time.time() < deadline:
        idle = cpu_idle_fraction(2.0)
    ctx["idle"][label] = idle
    if idle < 0.9:
        print(f"warning: cores only {idle:.0%} idle before '{label}': other work skews these numbers", file=sys.stderr)


def run_benchmark(ctx: dict, exe: str, bench_filter: str) -> dict[str, float]:
    """Runs a Google Benchmark program; returns {benchmark name: median GFLOP/s}."""
    path = Path(ctx["build_dir"]) / "bench" / exe
    if not path.exists():
        sys.exit(f"{path} not found: build it with cmake --build {ctx['build_dir']} --target {exe}")
    cmd = [str(path), f"--benchmark_filter={bench_filter}", f"--benchmark_repetitions={ctx['repetitions']}",
           "--benchmark_report_aggregates_only=true", f"--benchmark_min_time={ctx['min_time']}",
           "--benchmark_format=json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = {}
    for b in json.loads(out)["benchmarks"]:
        wanted = b.get("aggregate_name") == "median" or (ctx["repetitions"] == 1 and b.get("run_type") == "iteration")
        if wanted and "GFLOP/s" in b:
            result[b["run_name"].removesuffix("/real_time")] = b["GFLOP/s"]  # the counter is a rate: GFLOP/s
    return result


def measure_peaks(ctx: dict) -> None:
    """Fills ctx['peak'][threads] with the FMA peak (GFLOP/s) of the widest SIMD level available."""
    if ctx.get("peak"):
        return
    wait_for_idle(ctx, "peak")
    peaks = run_benchmark(ctx, "peak_flops_bench", "peak/")
    ctx["peak"] = {}
    for threads in THREADS:
        for isa in ("avx512", "avx2"):
            value = peaks.get(f"peak/{isa}/threads:{threads}")
            if value:
                ctx["peak"][threads] = value
                ctx["peak_isa"] = isa
                break


# Times `matmul` of numpy and torch in a fresh interpreter, so thread counts and BLAS settings are
# set before the libraries load. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from its
# environment: OpenBLAS then picks its own best kernels for this CPU.
BLAS_SCRIPT = r"""
import json, statistics, sys, time
shapes, threads, reps, min_time = json.loads(sys.argv[1])

def best_time(fn):
    fn()
    n = 1
    while True:  # iterations for one repetition of >= min_time
        t0 = time.perf_counter(); [fn() for _ in range(n)]; dt = time.perf_counter() - t0
        if dt >= min_time: break
        n = max(n * 2, int(n * min_time / max(dt, 1e-9)) + 1)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter(); [fn() for _ in range(n)]; times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)

def operands(np, ta, tb, m, n, k):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    # Transposed operands are transposed views: BLAS reads them in place with a trans flag.
    return (a.T if ta else a), (b.T if tb else b)

out = {"versions": {}}
try:
    import numpy as np
    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
    out["versions"]["numpy"] = f"numpy {np.__version__} ({blas.get('name', '?')} {blas.get('version', '')})"
    for name, (ta, tb, m, n, k) in shapes.items():
        a, b = operands(np, ta, tb, m, n, k)
        c = np.empty((m, n), dtype=np.float32)
        out[f"numpy/{name}"] = 2.0 * m * n * k / best_time(lambda: np.matmul(a, b, out=c)) / 1e9
except ImportError:
    pass
try:
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    out["versions"]["torch"] = f"torch {torch.__version__} (MKL {torch.backends.mkl.is_available()})"
    with torch.inference_mode():
        for name, (ta, tb, m, n, k) in shapes.items():
            a, b = (torch.from_numpy(x) for x in operands(np, ta, tb, m, n, k))
            c = torch.empty((m, n), dtype=torch.float32)
            out[f"torch/{name}"] = 2.0 * m * n * k / best_time(lambda: torch.matmul(a, b, out=c)) / 1e9
except ImportError:
    pass
print(json.dumps(out))
"""


def measure_blas(ctx: dict, threads: int) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    # BLAS cannot read overlapping rows (lda < k): it gets the same product on dense operands.
    shapes = {name: s[:5] for name, s in GEMM_SHAPES.items()}
    arg = json.dumps([shapes, threads, ctx["repetitions"], ctx["min_time"]])
    done = subprocess.run([ctx["python"], "-c", BLAS_SCRIPT, arg], check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def fmt(value: float | None, spec: str = "7.1f") -> str:
    return format(value, spec) if value else "      -"


# ---------------------------------------------------------------- sections


def section_gemm(ctx: dict) -> None:
    measure_peaks(ctx)
    wait_for_idle(ctx, "gemm_bench")
    ours = run_benchmark(ctx, "gemm_bench", "sgemm/(fast|reference)/")
    blas, versions = {}, {}
    for threads in THREADS:
        wait_for_idle(ctx, f"blas threads={threads}")
        result = measure_blas(ctx, threads)
        versions.update(result.pop("versions"))
        blas[threads] = result

    print(f"\n## GEMM (float32), GFLOP/s, median of {ctx['repetitions']}")
    print("peak: FMA peak measured by peak_flops_bench ({}): {}".format(
        ctx.get("peak_isa", "?"), ", ".join(f"{ctx['peak'][t]:.0f} GFLOP/s on {t} thread(s)" for t in ctx["peak"])))
    print("BLAS: " + "; ".join(versions.values()) + "; conv_* rows: BLAS gets dense operands (it cannot read overlapping windows)")
    header = f"{'shape':<17} {'m×n×k':>15} {'thr':>3} {'ours':>7} {'ref':>7} {'numpy':>7} {'torch':>7} {'best':>7} {'ours/best':>9} {'%peak':>6}"
    print(header)
    print("-" * len(header))
    goals = []
    for name, (ta, tb, m, n, k, _) in GEMM_SHAPES.items():
        for threads in THREADS:
            fast = ours.get(f"sgemm/fast/{name}/threads:{threads}")
            ref = ours.get(f"sgemm/reference/{name}/threads:{threads}")
            npy = blas[threads].get(f"numpy/{name}")
            trc = blas[threads].get(f"torch/{name}")
            best = max([x for x in (npy, trc) if x] or [0]) or None
            ratio = fast / best if fast and best else None
            peak = fast / ctx["peak"][threads] if fast and threads in ctx.get("peak", {}) else None
            dims = f"{m}×{n}×{k}" + ("ᵀ" if ta or tb else "")
            print(f"{name:<17} {dims:>15} {threads:>3} {fmt(fast)} {fmt(ref)} {fmt(npy)} {fmt(trc)} {fmt(best)} "
                  f"{fmt(ratio, '9.2f')} {fmt(peak and 100 * peak, '6.0f')}")
            if threads == 2 and name in ("square1024", "square2048"):
                goals.append(f"{name}, 2 threads: {fmt(peak and 100 * peak, '.0f')}% of peak (goal >= 80), "
                             f"{fmt(ratio and 100 * ratio, '.0f')}% of best BLAS (goal >= 90)")
            if threads == 2 and name.startswith("lstm_step"):
                goals.append(f"{name}, 2 threads: {fmt(ratio, '.2f')}× best BLAS (goal >= 1.5)")
    print("\ngoals (issue 7):")
    for line in goals:
        print("  " + line)


SECTIONS = {"gemm": section_gemm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=str(REPO / "build" / "release"), help="CMake build dir with bench/")
    parser.add_argument("--section", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions per measurement (median is shown)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    parser.add_argument("--wait-idle", type=float, default=120, help="seconds to wait for idle cores before each run")
    parser.add_argument("--python", default=sys.executable, help="interpreter with numpy/torch for the BLAS runs")
    args = parser.parse_args()
    ctx = {"build_dir": args.build_dir, "repetitions": args.repetitions, "min_time": args.min_time,
           "wait_idle": args.wait_idle, "python": args.python, "idle": {}}
    print(f"# recsys vs PyTorch/BLAS — {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_model()}, {os.cpu_count()} CPUs")
    print("command: " + " ".join([Path(sys.argv[0]).name] + sys.argv[1:]))
    for name in args.section or list(SECTIONS):
        SECTIONS[name](ctx)
    print("\ncores idle before each run: " + ", ".join(f"{k} {v:.0%}" for k, v in ctx["idle"].items()))


if __name__ == "__main__":
    main()
