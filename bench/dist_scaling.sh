#!/usr/bin/env bash
# bench/dist_scaling.sh [ROUNDS=3] [SAMPLES=8192] — data-parallel scaling of the reference network's training on
# this machine: 1 process × 1 thread against 2 processes × 1 thread (and, for scale, 1 process × 2 threads), at a
# fixed global batch (256 and 512: 256 and 128 / 256 rows per process), interleaved round by round; prints each
# run, the medians and the ratios. Compiles bench/dist_train_bench.cpp with mpicxx (Release flags) into build/dist-bench/.
set -euo pipefail
rounds=${1:-3}
samples=${2:-8192}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build/dist-bench
mkdir -p "$out"
bin=$out/dist_train_bench
if [ ! -x "$bin" ] || [ "$root/bench/dist_train_bench.cpp" -nt "$bin" ]; then
  echo "compiling $bin"
  mpicxx -std=c++20 -O3 -DNDEBUG -fopenmp -I"$root/include" -I"$root/mpi" "$root/bench/dist_train_bench.cpp" -o "$bin"
fi
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
run() {  # run NP THREADS BATCH: prints samples/s
  OMP_NUM_THREADS=$2 OMP_WAIT_POLICY=passive "${mpi[@]}" -np "$1" "$bin" "$3" "$samples" | tee -a "$out/runs.txt" |
    awk '{ print $NF }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$out/runs.txt"
echo "$(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for batch in 256 512; do
  : >"$out/a" ; : >"$out/b" ; : >"$out/c"
  for ((r = 1; r <= rounds; ++r)); do
    a=$(run 1 1 "$batch"); b=$(run 2 1 "$batch"); c=$(run 1 2 "$batch")
    echo "global batch $batch, round $r: 1 proc x 1 thread $a, 2 procs x 1 thread $b, 1 proc x 2 threads $c samples/s"
    echo "$a" >>"$out/a"; echo "$b" >>"$out/b"; echo "$c" >>"$out/c"
  done
  ma=$(median <"$out/a"); mb=$(median <"$out/b"); mc=$(median <"$out/c")
  awk -v n="$batch" -v a="$ma" -v b="$mb" -v c="$mc" 'BEGIN {
    printf "global batch %d, medians: 1x1 %.0f, 2x1 %.0f, 1x2 %.0f samples/s; 2 processes / 1 = %.2fx; 2 processes / 2 threads = %.2fx\n",
      n, a, b, c, b / a, b / c }'
done
