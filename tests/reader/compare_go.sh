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
  if ! cmp -s "$tmp/go.out" "$tmp/c.out"; then
    echo "FAIL: output differs for $f"; diff "$tmp/go.out" "$tmp/c.out" | head -20; fail=1
  elif [ $((grc != 0)) -ne $((crc != 0)) ]; then
    echo "FAIL: go exit $grc, ctrace exit $crc for $f"; cat "$tmp/go.err" "$tmp/c.err" | head -5; fail=1
  else
    echo "ok: $f ($(grep -c '^M=' "$tmp/c.out") events)"
  fi
done
[ $n -gt 0 ] || { echo "no traces compared"; exit 1; }
exit $fail
