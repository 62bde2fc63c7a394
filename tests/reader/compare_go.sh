#!/bin/bash
# compare_go.sh CTRACE TRACEDIR - for every trace in TRACEDIR, `ctrace dump
# --go` must print byte for byte what Go 1.23's `go tool trace -d=1` prints,
# and both must agree on success or failure.
#
#   TIES_OK=1    tolerate one difference: the order of simultaneous events
#                (see canon below); for traces recorded now (fresh_go.sh).
#   PANIC_OK=1   a trace on which Go's parser panics is counted as skipped
#                (ctrace must still reject or accept it without crashing);
#                for damaged traces (mutate_go.sh).  Otherwise Go panicking
#                on a trace is a failure: the trace cannot be compared.
#
# Every trace is compared or counted as skipped, and the last line says how
# many of each; no trace compared at all is a failure.  Exit 77 (skipped)
# without Go 1.23 (tests/go_toolchain.sh).
set -u
ctrace=$1 dir=$2
. "$(dirname "$0")/../go_toolchain.sh"
need_go 23
go=$GO123
export GOFLAGS=-mod=mod
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0 n=0 nties=0 npanic=0

# canon FILE: the dump with the order of simultaneous events made canonical.
# Go's parser picks among threads whose next events have equal timestamps
# by a heap it fills in map-iteration order (random in Go) and then bumps
# later equal timestamps by 1 ns, so on such ties even two runs of Go may
# differ -- but only in which event of a tie gets which of the tie's
# timestamps.  Events (a "M=" line and the lines under it) whose timestamps
# form a chain with steps of at most 1 ns are one group; within a group the
# events are sorted with their Time field taken out, and the group's
# timestamps, in the order printed, are kept on a line of their own.  So
# every timestamp is still compared (an event alone in its group keeps its
# own), and an event may only move inside its group.  (Timestamps are kept
# as the text printed: awk's numbers would print them rounded.)
canon() {
  awk 'function flush() {
         if (nrec == 0) return
         printf "%09d\t0\tTimes=%s\n", grp, times
         for (i = 1; i <= nrec; i++) print sprintf("%09d", grp) "\t1\t" rec[i]
         nrec = 0; times = ""
       }
       /^M=/ { ts = $0; sub(/.* Time=/, "", ts); sub(/ .*/, "", ts); t = ts + 0
               if (!started || t - last > 1) { flush(); grp++ }
               started = 1; last = t; times = times " " ts
               line = $0; sub(/ Time=[0-9]+/, "", line); rec[++nrec] = line; next }
       nrec > 0 { rec[nrec] = rec[nrec] "\001" $0; next }
       { print "000000000\t0\t" $0 }
       END { flush() }' "$1" | LC_ALL=C sort | cut -f3- | tr '\001' '\n'
}
for f in "$dir"/*.trace; do
  [ -e "$f" ] || continue
  "$go" tool trace -d=1 "$f" >"$tmp/go.out" 2>"$tmp/go.err"; grc=$?
  "$ctrace" dump --go "$f" >"$tmp/c.out" 2>"$tmp/c.err"; crc=$?
  if [ $crc -gt 1 ]; then
    echo "FAIL: ctrace dump --go exit $crc for $f: $(head -c 300 "$tmp/c.err")"; fail=1; continue
  fi
  if [ $grc -ne 0 ] && grep -q "^panic" "$tmp/go.err"; then
    if [ "${PANIC_OK:-0}" = 1 ]; then
      npanic=$((npanic + 1))
      echo "skip (Go's parser panics; ctrace exit $crc): $f"
    else
      echo "FAIL: Go's parser panics on $f: $(grep -m1 '^panic' "$tmp/go.err")"; fail=1
    fi
    continue
  fi
  n=$((n + 1))
  same=0
  if cmp -s "$tmp/go.out" "$tmp/c.out"; then
    same=1
  elif [ "${TIES_OK:-0}" = 1 ] && canon "$tmp/go.out" > "$tmp/go.canon" &&
       canon "$tmp/c.out" > "$tmp/c.canon" && cmp -s "$tmp/go.canon" "$tmp/c.canon"; then
    same=2
  fi
  if [ $same = 0 ]; then
    echo "FAIL: output differs for $f"; diff "$tmp/go.out" "$tmp/c.out" | head -20; fail=1
  elif [ $((grc != 0)) -ne $((crc != 0)) ]; then
    echo "FAIL: go exit $grc, ctrace exit $crc for $f"; cat "$tmp/go.err" "$tmp/c.err" | head -5; fail=1
  elif [ $same = 2 ]; then
    nties=$((nties + 1))
    echo "ok: $f ($(grep -c '^M=' "$tmp/c.out") events; equal up to the order of simultaneous events)"
  else
    echo "ok: $f ($(grep -c '^M=' "$tmp/c.out") events)"
  fi
done
echo "compare_go: $n compared ($nties equal up to the order of simultaneous events), $npanic skipped (Go's parser panics)"
[ $n -gt 0 ] || { echo "FAIL: no traces compared"; exit 1; }
exit $fail
