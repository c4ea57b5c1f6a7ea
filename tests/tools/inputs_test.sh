#!/usr/bin/env bash
# tests/tools/inputs_test.sh RECSYS WORKDIR CASE [ZLIB] [SANITIZED] — process tests of the inputs a Unix user expects (issue 18):
#   stdin     --users - and --users /dev/stdin (redirected file and pipe) train the same run as the file itself
#   fifo      --users FIFO, written by another process
#   gzip      a gzip-compressed interactions file (and gzip on stdin): read as the file itself when ZLIB is ON,
#             else refused with "this looks like a gzip file; gunzip it first"
#   unreadable a file without read permission is named as such (skipped, 77, as root: root reads it anyway)
#   signal    SIGINT and SIGTERM during training: "interrupted at epoch E, step S", exit 130 / 143, the previous
#             run in --out untouched (recommend prints its list), no staging folder or lock left
#   oom       out of memory under a small address-space limit: one line naming the stage
set -u
recsys=$1
work=$2
case_name=$3
zlib=${4:-OFF}
sanitized=${5:-OFF}
fail() {
  echo "FAIL: $*"
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
cd "$work" || fail "cd $work"
export OMP_NUM_THREADS=2

"$recsys" generate --out data --users 30 --items 60 --ratings 600 >/dev/null || fail "generate"
users=data/user_data.csv
items=data/item_data.csv
pop=(train --model popularity --eval leave-last-out --quiet)
# The list a run gives users 1-3: what every way of reading the same data must reproduce.
list() { "$recsys" recommend "$1" --user 1,2,3 -n 5 2>&1 | tail -n +2; }  # without "reloaded from RUN"

"$recsys" "${pop[@]}" --users $users --items $items --out runs/file >/dev/null || fail "train from the file"
expected=$(list runs/file)

same_run() {  # same_run RUN WHAT: RUN recommends exactly what runs/file does
  local got
  got=$(list "$1")
  [ "$got" = "$expected" ] || fail "$2: recommend differs from the file's run:"$'\n'"$got"$'\n'"vs"$'\n'"$expected"
}

case $case_name in
stdin)
  "$recsys" "${pop[@]}" --users - --items $items --out runs/dash <$users >/dev/null || fail "--users - <file"
  same_run runs/dash "--users -"
  cat $users | "$recsys" "${pop[@]}" --users /dev/stdin --items $items --out runs/devstdin >/dev/null ||
    fail "cat | --users /dev/stdin"
  same_run runs/devstdin "--users /dev/stdin from a pipe"
  out=$(cat $users | "$recsys" clean --users - --items $items 2>&1) || fail "clean --users -: $out"
  grep -q "interactions" <<<"$out" || fail "clean --users - printed no report: $out"
  # config.json records standard input as "-", not as a path in the working folder.
  grep -q '"users": "-"' runs/dash/config.json || fail "config.json does not record --users -"
  out=$("$recsys" clean --users - --items - </dev/null 2>&1)
  [ $? -eq 2 ] || fail "--users - --items - should be a usage mistake: $out"
  grep -q "cannot both be read from standard input" <<<"$out" || fail "both on stdin: $out"
  ;;
fifo)
  mkfifo pipe || fail "mkfifo"
  cat $users >pipe &
  writer=$!
  "$recsys" "${pop[@]}" --users pipe --items $items --out runs/fifo >/dev/null || fail "--users FIFO"
  wait $writer
  same_run runs/fifo "--users FIFO"
  ;;
gzip)
  gzip -c $users >ratings.csv.gz || fail "gzip"
  if [ "$zlib" = ON ]; then
    "$recsys" "${pop[@]}" --users ratings.csv.gz --items $items --out runs/gz >/dev/null || fail "--users FILE.gz"
    same_run runs/gz "--users FILE.gz"
    "$recsys" "${pop[@]}" --users - --items $items --out runs/gzstdin <ratings.csv.gz >/dev/null || fail "gzip on stdin"
    same_run runs/gzstdin "gzip on standard input"
    head -c 200 ratings.csv.gz >cut.csv.gz
    out=$("$recsys" clean --users cut.csv.gz --items $items 2>&1)
    [ $? -eq 1 ] || fail "a cut gzip file should fail: $out"
    grep -q "cut short" <<<"$out" || fail "a cut gzip file: $out"
  else
    out=$("$recsys" clean --users ratings.csv.gz --items $items 2>&1)
    [ $? -eq 1 ] || fail "gzip without zlib should fail: $out"
    grep -q "this looks like a gzip file" <<<"$out" || fail "gzip without zlib: $out"
  fi
  ;;
unreadable)
  [ "$(id -u)" != 0 ] || { echo "running as root, which reads any file: skipped"; exit 77; }
  cp $users locked.csv && chmod 000 locked.csv
  out=$("$recsys" clean --users locked.csv --items $items 2>&1)
  [ $? -eq 1 ] || fail "an unreadable file should fail: $out"
  grep -q "cannot read 'locked.csv': permission denied" <<<"$out" || fail "unreadable: $out"
  ;;
signal)
  # A slow model: the sequence ranker for many epochs; the signal comes once training has begun.
  for sig in INT TERM; do
    want=$([ $sig = INT ] && echo 130 || echo 143)
    cp -r runs/file runs/prev
    RECSYS_PROGRESS_SECONDS=0.2 "$recsys" train --model sequence --users $users --items $items --epochs 1000 \
      --eval none --out runs/prev >train.out 2>train.err &
    pid=$!
    for _ in $(seq 600); do  # the first plain progress line on stderr (not a terminal): training is running
      grep -q "ETA" train.err 2>/dev/null && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    grep -q "ETA" train.err || fail "SIG$sig: no progress line within 60 s: $(cat train.err)"
    kill -$sig $pid
    wait $pid
    rc=$?
    [ $rc -eq "$want" ] || fail "SIG$sig: exit $rc, expected $want; stderr: $(cat train.err)"
    grep -Eq "recsys train: interrupted at epoch [0-9]+, step [0-9]+ \(SIG$sig\)" train.err ||
      fail "SIG$sig: no 'interrupted at epoch E, step S': $(cat train.err)"
    same_run runs/prev "the previous run after SIG$sig"
    "$recsys" evaluate runs/prev >/dev/null 2>&1 || fail "SIG$sig: the previous run no longer evaluates"
    left=$(ls -A runs | grep -v -x -e file -e prev)
    [ -z "$left" ] || fail "SIG$sig: left behind in runs/: $left"
    rm -rf runs/prev
  done
  ;;
oom)
  if [ "$sanitized" = ON ]; then
    echo "skipped: a sanitized build cannot start under ulimit -v (AddressSanitizer's shadow memory)"
    exit 77
  fi
  # 2 GB of address space; mf with 100000 factors on 60 items asks for more in one piece.
  "$recsys" generate --out big --users 2000 --items 3000 --ratings 4000 >/dev/null || fail "generate big"
  out=$(ulimit -v 2000000 && "$recsys" train --model mf --data big --factors 100000 --epochs 1 --eval none \
    --out runs/oom --quiet 2>&1)
  rc=$?
  [ $rc -eq 1 ] || fail "out of memory: exit $rc: $out"
  grep -Eq "^recsys train: out of memory while training mf" <<<"$out" || fail "out of memory: $out"
  [ "$(grep -c . <<<"$out")" -ge 1 ] && [ "$(grep -c "recsys train:" <<<"$out")" -eq 1 ] || fail "not one line: $out"
  ;;
*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "ok: $case_name"
