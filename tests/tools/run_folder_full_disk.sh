#!/usr/bin/env bash
# tests/tools/run_folder_full_disk.sh RECSYS WORKDIR — `recsys train --out` on a full disk: a small tmpfs holds a
# previous run, and a retrain runs out of space at a different file for each tmpfs size. Each failed train
# must exit 1 naming the file ("No space left on device"), leave the previous run verifying and recommending
# exactly as before, and leave no temporaries. Mounting needs root or an unprivileged user namespace
# (unshare -rm); where neither is allowed the test is skipped (exit 77).
set -u
recsys=$1
work=$2
fail() {
  echo "FAIL: $*"
  exit 1
}

if [ "${RECSYS_IN_MOUNT_NS:-}" != 1 ]; then
  rm -rf "$work"
  mkdir -p "$work/mnt"
  probe() { mount -t tmpfs -o size=64k tmpfs "$work/mnt" && umount "$work/mnt"; }
  if [ "$(id -u)" = 0 ] && probe 2>/dev/null; then
    RECSYS_IN_MOUNT_NS=1 exec bash "$0" "$recsys" "$work"
  fi
  if command -v unshare >/dev/null && unshare -rm bash -c "mount -t tmpfs -o size=64k tmpfs '$work/mnt' && umount '$work/mnt'" 2>/dev/null; then
    RECSYS_IN_MOUNT_NS=1 exec unshare -rm bash "$0" "$recsys" "$work"
  fi
  echo "SKIP: cannot mount a tmpfs here (needs root or unprivileged user namespaces: unshare -rm)"
  exit 77
fi

cd "$work" || fail "cd $work"
export OMP_NUM_THREADS=2
"$recsys" generate --out data --users 40 --items 80 --ratings 1200 >/dev/null || fail "generate"
old_train=(train --model popularity --data data --eval leave-last-out --quiet --out mnt/runs/r)
new_train=(train --model mf --data data --eval leave-last-out --epochs 2 --quiet --out mnt/runs/r)
recommend=(recommend mnt/runs/r --user 1,2,3 -n 5)

# The two runs' sizes, on an ample tmpfs.
mount -t tmpfs -o size=4m tmpfs mnt || fail "mount"
"$recsys" "${new_train[@]}" >/dev/null || fail "new train"
"$recsys" "${recommend[@]}" >new.out || fail "new recommend"
new_kib=$(du -sk mnt/runs/r | cut -f1)
"$recsys" "${old_train[@]}" >/dev/null || fail "old train"
"$recsys" "${recommend[@]}" >old.out || fail "old recommend"
old_kib=$(du -sk mnt/runs/r | cut -f1)
umount mnt
echo "previous run $old_kib KiB, new run $new_kib KiB"

full=0
for ((extra = 4; extra <= new_kib + 16; extra += 4)); do
  size=$((old_kib + 8 + extra))
  mount -t tmpfs -o size=${size}k tmpfs mnt || fail "mount ${size}k"
  if ! "$recsys" "${old_train[@]}" >/dev/null 2>old.err; then
    umount mnt
    continue  # too small even for the previous run
  fi
  "$recsys" "${new_train[@]}" >/dev/null 2>new.err
  rc=$?
  if [ $rc -eq 0 ]; then
    "$recsys" "${recommend[@]}" >got.out 2>got.err && cmp -s got.out new.out || fail "${size}k: the new run differs: $(cat got.err)"
  else
    full=$((full + 1))
    [ $rc -eq 1 ] || fail "${size}k: expected exit 1, got $rc: $(cat new.err)"
    grep -q "No space left on device" new.err || fail "${size}k: no 'No space left on device' in: $(cat new.err)"
    grep -Eq "'[^']*(\.csv|\.json|\.safetensors|\.svg|\.tmp\.[0-9]+)[^']*'" new.err || fail "${size}k: no file named in: $(cat new.err)"
    echo "tmpfs ${size}k: $(cat new.err)"
    "$recsys" "${recommend[@]}" >got.out 2>got.err && cmp -s got.out old.out || fail "${size}k: the previous run is broken: $(cat got.err)"
  fi
  left=$(ls -A mnt/runs | tr '\n' ' ')
  [ "$left" = "r " ] || fail "${size}k: left behind in runs/: $left"
  umount mnt
done
[ $full -ge 3 ] || fail "only $full tmpfs sizes made the train fail"
echo "full disk: 0 broken folders out of $full failed trains"
echo "PASS"
