#!/usr/bin/env python3
"""bench/compare_pytorch.py — recsys against PyTorch and the best BLAS on this machine, measured in one run.

Sections (run all by default, or pick with --section):
  gemm   our SGEMM (fast and reference) at square and model shapes against numpy's OpenBLAS and
         torch.matmul, with each one's fraction of the FMA peak measured by bench/peak_flops_bench.
  model  the reference CNN-LSTM (bench/model_bench.cpp): training step and inference at batch 32 and
         256 on 1 and 2 threads, against the same model, data and loop in PyTorch — each PyTorch both
         stock and tuned, every ratio taken against the faster — with peak resident memory.
A section is a function `section_<name>(ctx)` registered in SECTIONS; it prints its own table and may
use the shared context (build dir, peaks, timing settings).

Usage:  python3 bench/compare_pytorch.py --build-dir build/release [--section gemm] [--repetitions 5]
Needs:  the benchmarks built (cmake --build <dir> --target gemm_bench peak_flops_bench model_bench), numpy
        (pip: OpenBLAS inside) and torch (pip) in this interpreter; a missing one is left out of the table.
        --torch-python adds more PyTorch installs to the model section (default: Debian's /usr/bin/python3
        if it has torch).
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


# ---------------------------------------------------------------- the reference model

MODEL_CONFIGS = [(mode, batch) for mode in ("train", "infer") for batch in (32, 256)]

# The network, data and loop of bench/model_bench.cpp in PyTorch, written as its users write it
# (Conv1d wants (B, C, T), hence the two transposes). Runs in a fresh interpreter whose environment
# the caller sets (threads, BLAS, malloc) and prints one JSON line with model_bench --run's keys.
TORCH_MODEL_SCRIPT = r"""
import json, resource, sys, time
cfg = json.loads(sys.argv[1])
import torch
torch.set_num_threads(cfg["threads"])
torch.manual_seed(1)
VOCAB, DIM, SEQ, B = 1000, 128, 100, cfg["batch"]

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, DIM)
        self.conv = torch.nn.Conv1d(DIM, DIM, 3)
        self.pool = torch.nn.MaxPool1d(2)
        self.lstm = torch.nn.LSTM(DIM, DIM, batch_first=True)
        self.dense = torch.nn.Linear(DIM, 1)

    def forward(self, ids):
        x = self.embedding(ids).transpose(1, 2)
        x = self.pool(torch.relu(self.conv(x))).transpose(1, 2)
        _, (h, _) = self.lstm(x)
        return torch.sigmoid(self.dense(h[0]))

def fused_adam_works():
    try:
        p = torch.zeros(4, requires_grad=True)
        p.grad = torch.ones(4)
        torch.optim.Adam([p], fused=True).step()
        return True
    except (TypeError, RuntimeError, ValueError):
        return False

ids = torch.tensor([i * 2654435761 % 2**32 % VOCAB for i in range(B * SEQ)], dtype=torch.int64).view(B, SEQ)
labels = torch.tensor([float(b % 2) for b in range(B)]).view(B, 1)
model = Net()
fused = cfg["fused_adam"] and fused_adam_works()
opt = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if fused else {}))

def train_step():
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.binary_cross_entropy(model(ids), labels)
    loss.backward()
    opt.step()
    return loss.item()

def infer():
    with torch.inference_mode():
        return model(ids)[0, 0].item()

train = cfg["mode"] == "train"
if not train:
    model.eval()
step = train_step if train else infer
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
for _ in range(cfg["warmup"]):
    last = step()
times, deadline = [], time.perf_counter() + cfg["max_seconds"]
for _ in range(cfg["steps"]):
    t0 = time.perf_counter()
    last = step()
    t1 = time.perf_counter()
    times.append(t1 - t0)
    if t1 > deadline and len(times) >= 3:
        break
print(json.dumps({"samples_per_s": len(times) * B / sum(times), "median_step_s": sorted(times)[len(times) // 2],
                  "steps": len(times), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_before_steps_mib": rss_before, "last": last, "fused_adam": fused,
                  "version": torch.__version__}))
"""

# glibc (2.36, 64-bit) ignores an mmap threshold above 32 MiB; every buffer of this model is smaller.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 34),
                "MALLOC_TOP_PAD_": str(256 << 20)}
# Debian's torch links libblas.so.3 (the reference BLAS unless an alternative is installed); its
# tuned runs load OpenBLAS's OpenMP build from here instead, so BLAS and ATen share libgomp's pool.
OPENBLAS_OPENMP_DIRS = ("/usr/lib/x86_64-linux-gnu/openblas-openmp",
                        "{build}/openblas/root/usr/lib/x86_64-linux-gnu/openblas-openmp")


def torch_variants(ctx: dict) -> list[dict]:
    """Each PyTorch install found, stock and tuned: [{name, python, env (changes), fused_adam}]."""
    variants = []
    for python in ctx["torch_pythons"]:
        probe = subprocess.run([python, "-c", "import torch; print(torch.__version__); print(torch.__config__.show())"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"note: {python} has no torch; left out", file=sys.stderr)
            continue
        version = probe.stdout.split("\n", 1)[0].strip()
        tuned = dict(TUNED_MALLOC)
        if "BLAS_INFO=mkl" not in probe.stdout:  # a torch on the system BLAS: give it OpenMP OpenBLAS
            found = [d.format(build=Path(ctx["build_dir"]).resolve()) for d in OPENBLAS_OPENMP_DIRS]
            found = [d for d in found if Path(d, "libblas.so.3").exists()]
            if found:
                tuned["LD_LIBRARY_PATH"] = found[0]
                tuned["OPENBLAS_CORETYPE"] = None  # OpenBLAS then detects the CPU (AVX-512 kernels)
                tuned["OPENBLAS_L2_SIZE"] = None
            else:
                print(f"note: no OpenMP OpenBLAS for torch {version}: its tuned runs keep the system BLAS "
                      "(apt-get download libopenblas0-openmp; dpkg-deb -x it into <build-dir>/openblas/root)", file=sys.stderr)
        variants.append({"name": f"torch {version} stock", "python": python, "env": {}, "fused_adam": False})
        variants.append({"name": f"torch {version} tuned", "python": python, "env": tuned, "fused_adam": True})
    return variants


def run_json(cmd: list[str], env_changes: dict) -> dict:
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_model(ctx: dict, who: dict, mode: str, batch: int, threads: int) -> dict:
    steps, warmup = ctx["model_steps"], 5
    if who["name"] == "ours":
        exe = Path(ctx["build_dir"]) / "bench" / "model_bench"
        if not exe.exists():
            sys.exit(f"{exe} not found: build it with cmake --build {ctx['build_dir']} --target model_bench")
        cmd = [str(exe), f"--run={mode}", f"--batch={batch}", f"--threads={threads}", f"--steps={steps}", f"--warmup={warmup}"]
        return run_json(cmd, {})
    cfg = {"mode": mode, "batch": batch, "threads": threads, "steps": steps, "warmup": warmup,
           "max_seconds": ctx["model_max_seconds"], "fused_adam": who["fused_adam"]}
    env = dict(who["env"])
    if env:  # tuned: one OpenMP pool of exactly `threads` threads
        env.update({var: str(threads) for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    return run_json([who["python"], "-c", TORCH_MODEL_SCRIPT, json.dumps(cfg)], env)


def section_model(ctx: dict) -> None:
    peers = torch_variants(ctx)
    everyone = [{"name": "ours"}] + peers
    results: dict = {}  # (name, mode, batch, threads) -> [run results]
    configs = [(m, b) for m, b in MODEL_CONFIGS if m in ctx["modes"]]
    for mode, batch in configs:
        for threads in THREADS:
            wait_for_idle(ctx, f"model {mode} B={batch} threads={threads}")
            for rep in range(ctx["repetitions"]):
                # Interleaved, and the order rotates each repetition so no one always runs first.
                shift = rep % len(everyone)
                for who in everyone[shift:] + everyone[:shift]:
                    r = measure_model(ctx, who, mode, batch, threads)
                    results.setdefault((who["name"], mode, batch, threads), []).append(r)

    def median(name, mode, batch, threads, key):
        runs = results.get((name, mode, batch, threads))
        return statistics.median(r[key] for r in runs) if runs else None

    print(f"\n## Reference CNN-LSTM end to end, samples/s, median of {ctx['repetitions']} interleaved runs")
    print("model: ids (B, 100) → Embedding(1000, 128) → Conv1D(128, 3, relu) → MaxPool1D(2) → LSTM(128) → "
          "Dense(1, sigmoid); train = zero_grad + forward + BCE + backward + Adam step")
    print(f"each run: a fresh process, 5 warm-up steps, then {ctx['model_steps']} timed steps "
          f"(PyTorch runs stop after {ctx['model_max_seconds']:.0f} s); peak RSS is the process's ru_maxrss over the run")
    print("tuned PyTorch: " + ", ".join(f"{k}={v}" for k, v in TUNED_MALLOC.items()) +
          ", OMP/MKL/OPENBLAS_NUM_THREADS = threads, fused Adam where the version has it; "
          "a torch on the system BLAS gets OpenMP OpenBLAS")
    fused = {p["name"]: any(r.get("fused_adam") for k, runs in results.items() if k[0] == p["name"] for r in runs) for p in peers}
    for p in peers:
        if p["env"]:
            print(f"  {p['name']}: {' '.join(f'{k}={v}' if v is not None else f'{k} unset' for k, v in p['env'].items() if k not in TUNED_MALLOC)} "
                  f"fused Adam {'yes' if fused[p['name']] else 'no'}")
    names = [p["name"] for p in peers]
    short = [n.replace("torch ", "").replace("+cpu", "") for n in names]
    header = (f"{'step':<6} {'B':>4} {'thr':>3} {'ours':>7} " + " ".join(f"{s:>18}" for s in short) +
              f" {'ours/best':>9} {'RSS ours':>11} {'RSS best':>11}")
    print(header)
    print("-" * len(header))
    goals, ratios = [], {}
    for mode, batch in configs:
        for threads in THREADS:
            ours = median("ours", mode, batch, threads, "samples_per_s")
            theirs = {n: median(n, mode, batch, threads, "samples_per_s") for n in names}
            best = max((n for n in names if theirs[n]), key=lambda n: theirs[n], default=None)
            ratio = ours / theirs[best] if ours and best else None
            ratios[(mode, batch, threads)] = ratio
            def rss(name):  # peak RSS, and in brackets how much of it the run added to the loaded program
                if not name or (name, mode, batch, threads) not in results:
                    return "-"
                peak = median(name, mode, batch, threads, "peak_rss_mib")
                return f"{peak:.0f} ({peak - median(name, mode, batch, threads, 'rss_before_steps_mib'):.0f})"
            print(f"{mode:<6} {batch:>4} {threads:>3} {fmt(ours, '7.0f')} " +
                  " ".join(f"{fmt(theirs[n], '18.0f')}" for n in names) +
                  f" {fmt(ratio, '9.2f')} {rss('ours'):>11} {rss(best):>11}")
            allocs = [r["steady_system_allocations"] for r in results.get(("ours", mode, batch, threads), [])]
            if any(allocs):
                goals.append(f"{mode} B={batch} threads={threads}: {max(allocs)} system allocations after warm-up (goal 0)")
    print("best: the fastest PyTorch run (stock or tuned, any install); RSS: peak resident MiB of the process, in "
          "brackets what the steps added to it after the model and data were built")

    print("\ngoals (issue 7):")
    for batch in (32, 256):
        for threads, goal in ((2, 2.0), (1, 1.5)):
            print(f"  train B={batch}, {threads} thread(s): {fmt(ratios.get(('train', batch, threads)), '.2f')}× best PyTorch (goal >= {goal})")
    for batch in (32, 256):
        for threads in THREADS:
            print(f"  infer B={batch}, {threads} thread(s): {fmt(ratios.get(('infer', batch, threads)), '.2f')}× best PyTorch (goal >= 2)")
    one, two = median("ours", "train", 256, 1, "samples_per_s"), median("ours", "train", 256, 2, "samples_per_s")
    print(f"  scaling, train B=256: 2 threads {fmt(two and one and two / one, '.2f')}× 1 thread (goal >= 1.8)")
    print("  steady-state system allocations (allocator stats after warm-up): " + ("; ".join(goals) or "0 in every run (goal 0)"))


SECTIONS = {"gemm": section_gemm, "model": section_model}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=str(REPO / "build" / "release"), help="CMake build dir with bench/")
    parser.add_argument("--section", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions per measurement (median is shown)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    parser.add_argument("--wait-idle", type=float, default=120, help="seconds to wait for idle cores before each run")
    parser.add_argument("--python", default=sys.executable, help="interpreter with numpy/torch for the BLAS runs")
    parser.add_argument("--torch-python", action="append",
                        help="interpreters whose torch the model section runs (default: --python and /usr/bin/python3)")
    parser.add_argument("--mode", action="append", choices=("train", "infer"),
                        help="model section: only these steps (default: both)")
    parser.add_argument("--model-steps", type=int, default=50, help="timed steps per model run")
    parser.add_argument("--model-max-seconds", type=float, default=30, help="a PyTorch model run stops timing after this")
    args = parser.parse_args()
    ctx = {"build_dir": args.build_dir, "repetitions": args.repetitions, "min_time": args.min_time,
           "wait_idle": args.wait_idle, "python": args.python, "idle": {},
           "torch_pythons": args.torch_python or list(dict.fromkeys([args.python, "/usr/bin/python3"])),
           "model_steps": args.model_steps, "modes": args.mode or ["train", "infer"], "model_max_seconds": args.model_max_seconds}
    print(f"# recsys vs PyTorch/BLAS — {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_model()}, {os.cpu_count()} CPUs")
    print("command: " + " ".join([Path(sys.argv[0]).name] + sys.argv[1:]))
    for name in args.section or list(SECTIONS):
        SECTIONS[name](ctx)
    print("\ncores idle before each run: " + ", ".join(f"{k} {v:.0%}" for k, v in ctx["idle"].items()))


if __name__ == "__main__":
    main()
