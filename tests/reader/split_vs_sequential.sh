#!/bin/bash
# split_vs_sequential.sh CTRACE [EXAMPLES_DIR] - the split check (two
# threads, src/reader/split.c) must end exactly as the sequential reading
# on every trace: the same line from `ctrace check` (verdict, error message
# and offset, counts), whether the second half was verified or not.
#
# Traces of three generations or more: tests/reader/goprog built with Go
# 1.22 and 1.23, run 3.2 s (a region and a goroutine blocked across every
# generation, GC, tasks, regions, logs, CPU samples), and libctrace's examples with 5 ms generations
# (EXAMPLES_DIR, if given).  On each: the split, when taken (generations
# too uneven are read on one thread), must be verified (`check -v`; and on
# one trace at least), and the line equal to `check -j 1`'s; then N_MUT mutations
# of each (default 120: bytes flipped, cut, deleted, duplicated, mostly in
# the second half, where the speculation is) must also give equal lines.
# Skipped (77) without Go 1.22/1.23 or python3.
set -u
ctrace=$1 examples=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 22 23
command -v python3 >/dev/null || { echo "SKIP: python3 not installed: this test needs it"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export GOFLAGS=-mod=mod GOPATH=$tmp/gopath GOCACHE=$tmp/gocache
mkdir -p "$tmp/prog" "$tmp/base" "$tmp/mut"
cp "$here/goprog/main.go" "$tmp/prog/main.go"
(cd "$tmp/prog" && printf 'module split\n\ngo 1.22\n' >go.mod)
for v in 22 23; do
  go=GO1$v
  (cd "$tmp/prog" && "${!go}" build -o "$tmp/prog$v" .) || { echo "FAIL: build with ${!go}"; exit 1; }
  "$tmp/prog$v" "$tmp/base/go1$v.trace" 3200 || { echo "FAIL: run the Go 1.$v program"; exit 1; }
done
if [ -n "$examples" ]; then
  for ex in cpuburn threadpool custom_block; do
    [ -x "$examples/$ex" ] || continue
    CTRACE_PERIOD=5ms "$examples/$ex" "$tmp/base/$ex.trace" >/dev/null 2>&1 ||
      { echo "FAIL: example $ex exited $?"; exit 1; }
  done
fi

fail=0 n=0 verified=0 fellback=0
# same FILE: the two readings print the same line.
same() {
  local f=$1 a b
  a=$("$ctrace" check -j 1 "$f" 2>&1 | head -n 1)
  b=$("$ctrace" check -j 2 --split-min 0 "$f" 2>&1 | head -n 1)
  n=$((n + 1))
  if [ "$a" != "$b" ]; then
    echo "FAIL: $(basename "$f"): one thread:  $a"
    echo "      $(basename "$f"): two threads: $b"
    fail=1
    cp "$f" "${KEEP_DIR:-/nonexistent}/" 2>/dev/null
  fi
  how=$("$ctrace" check -v -j 2 --split-min 0 "$f" 2>&1 | sed -n 2p)
  case $how in
    *"the second half verified") verified=$((verified + 1)) ;;
    *"could not be verified") fellback=$((fellback + 1)) ;;
  esac
}

libctrace_split=0 base_verified=0
for f in "$tmp"/base/*.trace; do
  b=$(basename "$f")
  gens=$("$ctrace" check "$f" | sed -n 's/.* \([0-9]*\) generations*$/\1/p')
  if [ "${gens:-0}" -lt 3 ]; then
    case $b in
      go1*) echo "FAIL: $b: ${gens:-no} generations, the test needs 3 or more: $("$ctrace" check "$f")"; fail=1 ;;
      # An example may end within 3 generations where its threads are
      # slow (a sanitizer): left out.
      *) echo "note: $b: ${gens:-no} generations, left out: $("$ctrace" check "$f")" ;;
    esac
    rm -f "$f"
    continue
  fi
  case $b in go1*) ;; *) libctrace_split=$((libctrace_split + 1)) ;; esac
  how=$("$ctrace" check -v -j 2 --split-min 0 "$f" | sed -n 2p)
  case $how in
    *"the second half verified") echo "ok: $b: $how"; base_verified=$((base_verified + 1)) ;;
    # Generations too uneven for two halves to gain (one holds most bytes).
    *"read on 1 thread") echo "note: $b: not split: $how" ;;
    *) echo "FAIL: $b: a valid trace, split and not verified: $how"; fail=1 ;;
  esac
  same "$f"
done
base_n=$n

python3 - "$tmp/base" "$tmp/mut" "${N_MUT:-120}" <<'PY'
import glob, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(2718)
for f in sorted(glob.glob(os.path.join(src, "*.trace"))):
    data = open(f, "rb").read()
    for i in range(n):
        b = bytearray(data)
        op = rnd.choice(["flip", "flip", "flip", "cut", "del", "dup", "flip2"])
        # mostly in the second half, where the speculation is
        lo = len(b) // 3 if rnd.random() < 0.8 else 16
        p = rnd.randrange(lo, len(b))
        if op == "flip":
            b[p] ^= 1 << rnd.randrange(8)
        elif op == "flip2":
            b[p] = rnd.randrange(256)
            q = rnd.randrange(lo, len(b)); b[q] = rnd.randrange(256)
        elif op == "cut":
            b = b[:p]
        elif op == "del":
            del b[p:p + rnd.randrange(1, 32)]
        else:
            q = min(len(b), p + rnd.randrange(1, 128))
            b[q:q] = b[p:q]
        open(os.path.join(out, "%s.m%03d_%s" % (os.path.basename(f), i, op)), "wb").write(bytes(b))
PY
for f in "$tmp"/mut/*; do
  same "$f"
done
echo "$n traces ($base_n unmutated): one thread and two the same on $((fail ? 0 : n)); second half verified on $verified, not verified on $fellback"
[ $base_verified -ge 1 ] || { echo "FAIL: the split was verified on no unmutated trace"; fail=1; }
[ $verified -gt $base_verified ] || { echo "FAIL: the split was verified on no mutated trace"; fail=1; }
if [ -n "$examples" ] && [ $libctrace_split = 0 ]; then
  echo "FAIL: no libctrace trace of 3 generations or more"; fail=1
fi
exit $fail
