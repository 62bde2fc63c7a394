#!/bin/bash
# compare_go.sh CTRACE TRACEDIR - for every trace in TRACEDIR that ctrace
# supports, `ctrace dump --go` must print byte for byte what Go 1.23's
# `go tool trace -d=1` prints, and both must agree on success or failure.
set -u
ctrace=$1 dir=$2
go=${GO123:-/usr/lib/go-1.23/bin/go}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# canon FILE: the dump with the order of simultaneous events made canonical.
# Go's parser picks among threads whose next events have equal timestamps
# by a heap it fills in map-iteration order (random in Go) and then bumps
# later equal timestamps by 1 ns, so on such ties even two runs of Go may
# differ.  Events (a "M=" line and the lines under it) whose timestamps form
# a chain with steps of at most 1 ns are one group; the Time field is
# dropped and each group's events sorted.  Any other difference remains.
canon() {
  awk 'function flush() { if (rec != "") print sprintf("%09d", grp) "\t" rec; rec = "" }
       /^M=/ { flush(); t = $0; sub(/.* Time=/, "", t); sub(/ .*/, "", t); t += 0
               if (!started || t - last > 1) grp++; started = 1; last = t
               line = $0; sub(/ Time=[0-9]+/, "", line); rec = line; next }
       { rec = rec "\001" $0 }
       END { flush() }' "$1" | LC_ALL=C sort | cut -f2- | tr '\001' '\n'
}
for f in "$dir"/*.trace; do
  [ -e "$f" ] || continue
  if "$ctrace" check "$f" | grep -q "not supported yet"; then
    echo "skip (format not supported yet): $f"; continue
  fi
  "$go" tool trace -d=1 "$f" >"$tmp/go.out" 2>"$tmp/go.err"; grc=$?
  "$ctrace" dump --go "$f" >"$tmp/c.out" 2>"$tmp/c.err"; crc=$?
  n=$((n + 1))
  if [ $grc -ne 0 ] && grep -q "^panic" "$tmp/go.err"; then
    echo "skip (Go's parser panics): $f"; continue
  fi
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
    echo "ok: $f ($(grep -c '^M=' "$tmp/c.out") events; equal up to the order of simultaneous events)"
  else
    echo "ok: $f ($(grep -c '^M=' "$tmp/c.out") events)"
  fi
done
[ $n -gt 0 ] || { echo "no traces compared"; exit 1; }
exit $fail
