#!/usr/bin/env bash
# tests/tools/distributed_test.sh RECSYS MPIRUN WORKDIR — `recsys train --distributed` under mpirun -np 2 against
# the same train on one process: the same history (to the 1e-4 that history.csv's 6 digits and float sums allow),
# one run folder written by rank 0, and the usage errors (mpirun without --distributed; a model that is not data-parallel).
set -euo pipefail
recsys=$1
mpirun=$2
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export OMP_NUM_THREADS=1
mpi=("$mpirun" --allow-run-as-root --oversubscribe -np 2)

"$recsys" generate --out data --users 40 --items 60 --ratings 1200 >/dev/null
train=(train --model review --users data/user_data.csv --items data/item_data.csv --epochs 2 --batch-size 32
       --vocab-size 300 --max-length 24 --embedding-dim 16 --filters 16 --lstm-units 16 --threads 1 --quiet)
"$recsys" "${train[@]}" --out one >one.log
"${mpi[@]}" "$recsys" "${train[@]}" --distributed --out two >two.log
grep -q "distributed: 2 processes (mpi)" two.log || { echo "FAIL: no 'distributed: 2 processes' line"; cat two.log; exit 1; }
[ "$(grep -c '^wrote two/' two.log)" = 1 ] || { echo "FAIL: the run should be reported once (rank 0)"; cat two.log; exit 1; }
[ -f two/manifest.json ] && [ -f two/model.safetensors ] || { echo "FAIL: run folder two/ is incomplete"; ls -la two; exit 1; }
grep -q '"processes": 2' two/config.json || { echo "FAIL: config.json does not say 2 processes"; exit 1; }
# The histories agree: 2 epochs of loss and accuracy.
paste -d, one/history.csv two/history.csv | awk -F, 'NR == 1 { n = NF / 2; next }
  { for (i = 2; i <= n; ++i) { a = $i; b = $(i + n); d = a - b; if (d < 0) d = -d; s = (a < 0 ? -a : a); if (s < 1) s = 1;
      if (d > 1e-4 * s) { printf "FAIL: history row %d column %d: %s (1 process) vs %s (2)\n", NR - 1, i, a, b; bad = 1 } } }
  END { exit bad }'
echo "1 process vs 2: $(tail -n 1 one/history.csv) | $(tail -n 1 two/history.csv)"

# mpirun without --distributed: every rank refuses (exit 2) instead of racing for one run folder.
set +e
"${mpi[@]}" "$recsys" "${train[@]}" --out three >three.log 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "add --distributed" three.log || { echo "FAIL: mpirun without --distributed (rc $rc)"; cat three.log; exit 1; }
[ ! -e three ] || { echo "FAIL: three/ was written"; exit 1; }
set +e
"$recsys" train --model mf --users data/user_data.csv --items data/item_data.csv --distributed --out four >four.log 2>&1
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "mf trains in one process" four.log || { echo "FAIL: --distributed mf (rc $rc)"; cat four.log; exit 1; }
echo "distributed train: ok"
