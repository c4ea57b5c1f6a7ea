#!/usr/bin/env bash
# tests/tools/run_folder_faults.sh RECSYS WORKDIR — crash tests of `recsys train --out`: the run folder is one unit.
#
#  1. SIGKILL at every file-system step of writing a run folder (RECSYS_FAULT_AFTER_WRITES=N for every N of
#     a run): retraining over a previous run with RENAME_EXCHANGE, the same with the two-rename fallback
#     (from its first rename on: the steps before are the exchange scenario's), and a first run. After each kill, `recsys recommend` must succeed and print exactly
#     the previous run's list or exactly the new run's (a first run: the new list or "no run folder"); then
#     the next train must succeed and leave nothing behind but the run folder (stale temporaries and the
#     dead writer's lock file cleaned up).
#  2. A file-size limit (ulimit -f, SIGXFSZ ignored): the write fails with EFBIG naming the file, exit 1,
#     the previous run untouched, no temporaries left.
#  3. Two writers: a train stopped while holding the lock makes a second one fail naming its pid; once it
#     is killed, its lock and staging folder are taken over and cleaned by the next train.
#  4. Stale leftovers of dead pids (and a folder whose swap stopped half-way) are cleaned up or recovered.
# Small data and fast models; the work goes to /dev/shm when there is one (fsync there costs nothing).
set -u
recsys=$1
work=$2
fail() {
  echo "FAIL: $*"
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  scratch=$(mktemp -d /dev/shm/recsys_faults.XXXXXX) || fail "mktemp"
  trap 'rm -rf "$scratch"' EXIT
else
  scratch=$work
fi
cd "$scratch" || fail "cd $scratch"
export OMP_NUM_THREADS=2

"$recsys" generate --out data --users 40 --items 80 --ratings 1200 >/dev/null || fail "generate"
old_train=(train --model popularity --data data --eval leave-last-out --quiet --out runs/r)
new_train=(train --model mf --data data --eval leave-last-out --epochs 2 --quiet --out runs/r)
recommend=(recommend runs/r --user 1,2,3 -n 5)

# Reference outputs: the previous run's list and the new run's.
"$recsys" "${new_train[@]}" >/dev/null || fail "reference new train"
"$recsys" "${recommend[@]}" >new.out || fail "reference new recommend"
RECSYS_FAULT_LOG=1 "$recsys" "${old_train[@]}" >/dev/null 2>old.log || fail "reference old train"
"$recsys" "${recommend[@]}" >old.out || fail "reference old recommend"
cmp -s old.out new.out && fail "the two runs recommend alike: the test could not tell them apart"
RECSYS_FAULT_LOG=1 "$recsys" "${new_train[@]}" >/dev/null 2>steps.log || fail "counting steps"
steps=$(grep -c '^fault point' steps.log)
[ "$steps" -ge 20 ] || fail "only $steps fault points in a run"
echo "a retrain over a previous run takes $steps file-system steps:"
sed 's/^/  /' steps.log

only_the_run() {  # nothing in runs/ but the run folder itself
  local left
  left=$(ls -A runs | grep -v '^r$' | tr '\n' ' ')
  [ -z "$left" ] || fail "$1: left behind in runs/: $left"
}

kills=0
broken=0
total_old=0
total_new=0
total_gone=0
# The fallback's steps up to its first rename are those of the exchange scenario (same code, same
# states), so its kills start there.
RECSYS_NO_RENAME_EXCHANGE=1 RECSYS_FAULT_LOG=1 "$recsys" "${new_train[@]}" >/dev/null 2>fallback.log || fail "fallback steps"
first_rename=$(grep -n '^fault point [0-9]*: rename' fallback.log | head -1 | cut -d: -f1)
[ -n "$first_rename" ] || fail "the fallback run has no rename step"
for scenario in exchange fallback first; do
  n_old=0 n_new=0 n_gone=0 n_recovered=0 start=1
  if [ "$scenario" = fallback ]; then export RECSYS_NO_RENAME_EXCHANGE=1 start=$first_rename; else unset RECSYS_NO_RENAME_EXCHANGE; fi
  if [ "$scenario" = first ]; then rm -rf runs; else "$recsys" "${old_train[@]}" >/dev/null || fail "old train"; fi
  for ((n = start; ; n++)); do
    # dash reports the death ("Killed") into kill.err rather than onto the test's output
    RECSYS_FAULT_AFTER_WRITES=$n sh -c '"$0" "$@"; exit $?' "$recsys" "${new_train[@]}" >/dev/null 2>kill.err
    rc=$?
    if [ $rc -eq 0 ]; then  # past the last step: the train completed
      break
    fi
    [ $rc -eq 137 ] || fail "$scenario kill at step $n: expected death by SIGKILL (137), got $rc: $(cat kill.err)"
    kills=$((kills + 1))
    "$recsys" "${recommend[@]}" >got.out 2>got.err
    rc=$?
    if [ $rc -eq 0 ] && cmp -s got.out old.out && [ "$scenario" != first ]; then
      n_old=$((n_old + 1))
    elif [ $rc -eq 0 ] && cmp -s got.out new.out; then
      n_new=$((n_new + 1))
    elif [ "$scenario" = first ] && [ $rc -eq 1 ] && grep -q "no run folder 'runs/r'" got.err; then
      n_gone=$((n_gone + 1))
    else
      broken=$((broken + 1))
      echo "BROKEN: $scenario, killed after step $n ($(grep -o 'after step.*' kill.err)): recommend rc $rc"
      cat got.err
      ls -la runs runs/r 2>&1 | head -30
    fi
    grep -q '^note:' got.err && n_recovered=$((n_recovered + 1))
    # The next train recovers and cleans up after the dead one (and makes the previous run of the next kill).
    if [ "$scenario" = first ]; then next=("${new_train[@]}") want=new.out; else next=("${old_train[@]}") want=old.out; fi
    "$recsys" "${next[@]}" >/dev/null 2>next.err || fail "$scenario $n: the train after the kill failed: $(cat next.err)"
    only_the_run "$scenario $n: after the train that followed the kill"
    if [ "$scenario" = first ]; then  # (elsewhere the next kill's check reads this run)
      "$recsys" "${recommend[@]}" >got.out 2>/dev/null && cmp -s got.out $want || fail "$scenario $n: the next train's run differs"
      rm -rf runs
    fi
  done
  echo "$scenario: kill points $start to $((n - 1)): previous run read $n_old times, new run $n_new, no run yet $n_gone" \
       "(read from a recovered sibling $n_recovered times)"
  [ $((n - start)) -ge 10 ] || fail "$scenario: only $((n - start)) kill points"
  [ "$scenario" != fallback ] || [ $n_recovered -ge 1 ] || fail "fallback: no kill fell between the two renames"
  [ $n_new -ge 1 ] || fail "$scenario: no kill left the new run"
  [ "$scenario" != exchange ] || [ $n_old -ge 1 ] || fail "exchange: no kill left the previous run"
  total_old=$((total_old + n_old)) total_new=$((total_new + n_new)) total_gone=$((total_gone + n_gone))
done
unset RECSYS_NO_RENAME_EXCHANGE
echo "SIGKILL: $broken broken or mixed folders out of $kills kills ($total_old read the previous run, $total_new the new one, $total_gone no run yet)"
[ $broken -eq 0 ] || fail "$broken broken folders"
[ $kills -ge 50 ] || fail "only $kills kills"

# ---- 2. a file-size limit: EFBIG on the write, named; the previous run untouched ----
"$recsys" "${old_train[@]}" >/dev/null || fail "old train"
limited=0
for kib in 1 2 4 8 16 32 64 128 256; do
  (ulimit -f $kib && exec "$recsys" "${new_train[@]}") >/dev/null 2>limit.err
  rc=$?
  if [ $rc -eq 0 ]; then
    "$recsys" "${recommend[@]}" >got.out 2>/dev/null && cmp -s got.out new.out || fail "ulimit -f $kib: the new run differs"
    "$recsys" "${old_train[@]}" >/dev/null || fail "old train"
    continue
  fi
  limited=$((limited + 1))
  [ $rc -eq 1 ] || fail "ulimit -f $kib: expected exit 1 with a message, got $rc: $(cat limit.err)"
  grep -q "File too large" limit.err || fail "ulimit -f $kib: no 'File too large' in: $(cat limit.err)"
  grep -Eq "'[^']*\.(csv|json|safetensors|svg)[^']*'" limit.err || fail "ulimit -f $kib: no file named in: $(cat limit.err)"
  echo "ulimit -f $kib: $(cat limit.err)"
  "$recsys" "${recommend[@]}" >got.out 2>got.err && cmp -s got.out old.out || fail "ulimit -f $kib: the previous run is broken: $(cat got.err)"
  only_the_run "ulimit -f $kib"
done
[ $limited -ge 3 ] || fail "only $limited file-size limits made the train fail"
echo "file-size limit: 0 broken folders out of $limited failed trains"

# ---- 3. two writers ----
RECSYS_FAULT_STOP_AFTER_WRITES=2 "$recsys" "${new_train[@]}" >/dev/null 2>stopped.err &
holder=$!
for ((i = 0; i < 200; i++)); do
  [ "$(awk '{print $3}' /proc/$holder/stat 2>/dev/null)" = T ] && break
  sleep 0.05
done
[ "$(awk '{print $3}' /proc/$holder/stat 2>/dev/null)" = T ] || fail "the first train did not stop at its fault point"
"$recsys" "${old_train[@]}" >/dev/null 2>second.err
rc=$?
[ $rc -eq 1 ] || fail "a second train into a locked run folder: expected exit 1, got $rc"
grep -q "another recsys train (pid $holder) is writing 'runs/r'" second.err || fail "lock message: $(cat second.err)"
echo "second writer: $(cat second.err)"
"$recsys" "${recommend[@]}" >got.out 2>/dev/null && cmp -s got.out old.out || fail "a reader during a write sees no previous run"
kill -KILL $holder
wait $holder 2>/dev/null
[ "$(cat runs/.r.lock)" = "$holder" ] || fail "the killed writer's lock file should still name it"
ls -d runs/.r.tmp.$holder >/dev/null 2>&1 || fail "the killed writer's staging folder should still be there"
"$recsys" "${old_train[@]}" >/dev/null 2>after.err || fail "a train after a killed lock holder: $(cat after.err)"
only_the_run "after a stale lock"

# ---- 4. leftovers of dead pids; a swap stopped half-way ----
mkdir -p runs/.r.tmp.999999/validation runs/.r.old.999998 runs/.rx.tmp.5 runs/.r.tmp.abc
echo junk >runs/.r.tmp.999999/validation/interactions.csv
echo 999999 >runs/.r.lock
"$recsys" "${old_train[@]}" >/dev/null 2>after.err || fail "a train among stale temporaries: $(cat after.err)"
left=$(ls -A runs | tr '\n' ' ')
[ "$left" = ".r.tmp.abc .rx.tmp.5 r " ] || fail "stale cleanup: expected only other names and r to stay, got: $left"
rm -rf runs/.rx.tmp.5 runs/.r.tmp.abc
mv runs/r runs/.r.old.4242  # as if a train died between its two renames
"$recsys" "${recommend[@]}" >got.out 2>got.err || fail "reading a run whose swap stopped half-way: $(cat got.err)"
cmp -s got.out old.out || fail "the recovered run differs"
grep -q "note: 'runs/r' is missing, and 'runs/.r.old.4242' is a complete run" got.err || fail "recovery note: $(cat got.err)"
"$recsys" "${new_train[@]}" >/dev/null 2>after.err || fail "a train after a half swap: $(cat after.err)"
grep -q "restoring 'runs/r' from 'runs/.r.old.4242'" after.err || fail "restore note: $(cat after.err)"
only_the_run "after a half swap"

# ---- 5. an unwritable parent (not testable as root, who may write anywhere) ----
if [ "$(id -u)" != 0 ]; then
  mkdir -p ro && chmod 555 ro
  "$recsys" train --model popularity --data data --out ro/run >/dev/null 2>ro.err
  rc=$?
  chmod 755 ro
  [ $rc -eq 2 ] && grep -q "is not writable" ro.err || fail "unwritable --out: rc $rc: $(cat ro.err)"
else
  echo "unwritable --out: skipped (running as root)"
fi
echo "PASS"
