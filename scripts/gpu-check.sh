#!/usr/bin/env bash
# scripts/gpu-check.sh — the GPU check in one prepared run: CUDA tests, our kernels vs cuBLAS/cuDNN, the reference model vs PyTorch, one results file.
#
# Here (no GPU needed):   scripts/gpu-check.sh --bundle
#     builds the CUDA tests and benchmarks in build-cuda/ and copies them, stripped, with the few
#     shared libraries they need that a bare GPU machine may lack, into build-cuda/gpu-bundle/.
# On the GPU machine:     OUT=/some/dir scripts/gpu-check.sh
#     uses build-cuda/gpu-bundle/ when it was carried there (or RECSYS_GPU_BUNDLE=dir), else builds
#     build-gpu/ from source with all cores; then runs every step under its own timeout and writes
#     $OUT/gpu-results.md (the summary), env.txt, tests.log, gemm.json, lstm.json, train.json,
#     profile.md with a chart and a Chrome trace per batch and recurrence (profile_b*_*.svg,
#     .trace.json), torch.json and, when it built, build.log. A step that fails is reported and the rest still run.
# Time budget (seconds, worst case): build 300 (only without a bundle), tests 150, GEMM 100,
# LSTM 75, training 60, training profile 30, PyTorch 75, summary 10: under 7 minutes with a bundle.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD

bundle() {
  local build=build-cuda dest=build-cuda/gpu-bundle
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRECSYS_ENABLE_CUDA=ON >/dev/null || return 1
  cmake --build "$build" -j2 --target recsys_cuda_tests cuda_gemm_bench cuda_lstm_bench cuda_train_bench || return 1
  rm -rf "$dest" && mkdir -p "$dest/lib"
  cp "$build/tests/cuda/recsys_cuda_tests" "$build"/bench/cuda/cuda_*_bench "$dest/"
  strip --strip-unneeded "$dest"/recsys_cuda_tests "$dest"/cuda_*_bench
  # Libraries outside the C/C++ runtime and the CUDA stack (which the GPU machine has): Google Benchmark, OpenMP.
  ldd "$dest"/recsys_cuda_tests "$dest"/cuda_*_bench | awk '/=> \// {print $3}' | sort -u |
    grep -E 'libbenchmark|libgomp' | xargs -r -I{} cp -L {} "$dest/lib/"
  du -sh "$dest"
  echo "bundle ready: carry build-cuda/gpu-bundle"
}

if [ "${1:-}" = "--bundle" ]; then
  bundle
  exit $?
fi

OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
status=0
note() { echo "gpu-check: $*" | tee -a "$OUT/env.txt"; }
: >"$OUT/env.txt"

# ---- environment ----
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
  nvcc --version 2>/dev/null | tail -1 | sed 's/^/nvcc: /'
} >>"$OUT/env.txt"

# cuBLAS and cuDNN come from the CUDA toolkit or from the Python wheels next to PyTorch.
libdirs=$(python3 - 2>/dev/null <<'PY'
import glob, os, site
dirs = []
for sp in site.getsitepackages():
    dirs += glob.glob(os.path.join(sp, "nvidia", "*", "lib")) + glob.glob(os.path.join(sp, "nvidia", "cu*", "lib"))
    dirs += glob.glob(os.path.join(sp, "torch", "lib"))
print(":".join(dirs))
PY
)
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${libdirs}:${LD_LIBRARY_PATH:-}"

# ---- binaries: the carried bundle, or a fresh build ----
BIN=${RECSYS_GPU_BUNDLE:-build-cuda/gpu-bundle}
if [ -x "$BIN/recsys_cuda_tests" ] && "$BIN/recsys_cuda_tests" --list-test-cases >/dev/null 2>&1; then
  note "using the carried binaries in $BIN"
  export LD_LIBRARY_PATH="$ROOT/$BIN/lib:$LD_LIBRARY_PATH"
else
  note "no usable bundle in $BIN: building build-gpu/ from source"
  gen=""
  command -v ninja >/dev/null && gen="-G Ninja"
  if timeout 300 bash -c "cmake -S . -B build-gpu $gen -DCMAKE_BUILD_TYPE=Release -DRECSYS_ENABLE_CUDA=ON \
        -DRECSYS_BUILD_EXAMPLES=OFF && cmake --build build-gpu -j\$(nproc) --target recsys_cuda_tests \
        cuda_gemm_bench cuda_lstm_bench cuda_train_bench" >"$OUT/build.log" 2>&1; then
    mkdir -p build-gpu/gpu-bundle
    cp build-gpu/tests/cuda/recsys_cuda_tests build-gpu/bench/cuda/cuda_*_bench build-gpu/gpu-bundle/ 2>/dev/null
    BIN=build-gpu/gpu-bundle
  else
    note "build failed (tail of build.log below); doctest and Google Benchmark must be installed to build here"
    tail -5 "$OUT/build.log" >>"$OUT/env.txt"
    status=1
  fi
fi

run_step() {  # run_step NAME SECONDS COMMAND...: one bounded step, its outcome noted
  local name=$1 secs=$2
  shift 2
  local t0=$SECONDS
  timeout "$secs" "$@"
  local rc=$?
  note "$name: exit $rc after $((SECONDS - t0)) s"
  [ $rc -eq 0 ] || status=1
}

# ---- 1. the CUDA test suite (kernels vs the CPU path) ----
run_step tests 150 bash -c "'$BIN/recsys_cuda_tests' --duration=false >'$OUT/tests.log' 2>&1"
tail -3 "$OUT/tests.log"

# ---- 2. benchmarks: GEMM vs cuBLAS, LSTM vs cuDNN, the reference model's training step ----
bench() {  # bench NAME SECONDS EXTRA_ARGS...
  local name=$1 secs=$2
  shift 2
  run_step "$name benchmark" "$secs" "$BIN/cuda_${name}_bench" --benchmark_out="$OUT/$name.json" \
    --benchmark_out_format=json --benchmark_counters_tabular=true "$@"
}
bench gemm 100
bench lstm 75
bench train 60
# Where a training step's time goes (per scope and kernel, CUDA events around every kernel slot call).
run_step "train profile" 30 bash -c "'$BIN/cuda_train_bench' --profile_dir='$OUT' >'$OUT/profile.md' 2>&1"

# ---- 3. the same training step in PyTorch on this GPU ----
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  run_step "pytorch reference" 75 env PYTHONUNBUFFERED=1 python3 bench/cuda/torch_reference.py "$OUT/torch.json"
else
  note "PyTorch with CUDA is not available here: no PyTorch ratio"
fi

# ---- 4. one results file ----
timeout 10 python3 bench/cuda/summarize.py "$OUT" >"$OUT/gpu-results.md" || note "summary failed"
echo "================ summary ($OUT/gpu-results.md) ================"
cat "$OUT/gpu-results.md"
exit $status
