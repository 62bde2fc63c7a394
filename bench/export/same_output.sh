#!/bin/bash
# bench/export/same_output.sh BEFORE_CTRACE AFTER_CTRACE [TRACE...] - does a
# change to the exporters keep their output byte for byte?  For every
# format (perfetto, chrome, csv, go1.19), every input and -j 1 and -j 2,
# runs both builds of `ctrace export --stats` and compares the output's
# sha256 (csv: each table's), the exit status and standard error.  Inputs:
# testdata/traces/*, fuzz/seeds/fuzz_export/* (broken and odd traces), a
# few merges of several inputs, then the TRACEs given (e.g. the large
# traces of bench/reader).  Prints one line per difference and a summary;
# exits 1 on any difference.  A speed-up of the exporters is only landed
# with this at 0 differences (docs/PERFORMANCE.md, "The exports' own work").
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
before=$1 after=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sum_of() { # FORMAT OUT - sha256 of the output (csv: of each table, by name)
  if [ "$1" = csv ]; then
    (cd "$2" 2>/dev/null && sha256sum -- *.csv 2>/dev/null)
  elif [ -f "$2" ]; then sha256sum <"$2"
  else echo "no output"
  fi
}
one() { # CTRACE FORMAT J LABEL INPUT... - prints status, stderr and sum
  local ct=$1 f=$2 j=$3 label=$4 o
  shift 4
  o=$tmp/$label.out
  rm -rf "$o"
  "$ct" export -f "$f" -j "$j" --stats -o "$o" "$@" 2>"$tmp/$label.err" >/dev/null
  echo "exit $?"
  cat "$tmp/$label.err"
  sum_of "$f" "$o"
}

n=0 diffs=0
compare() { # DESCRIPTION INPUT...
  local desc=$1 f j
  shift
  for f in perfetto chrome csv go1.19; do
    # go1.19 takes one input only (both builds must say so alike).
    for j in 1 2; do
      one "$before" "$f" "$j" a "$@" >"$tmp/a.txt"
      one "$after" "$f" "$j" b "$@" >"$tmp/b.txt"
      n=$((n + 1))
      if ! cmp -s "$tmp/a.txt" "$tmp/b.txt"; then
        diffs=$((diffs + 1))
        echo "DIFFERS: $f -j $j $desc"
        diff "$tmp/a.txt" "$tmp/b.txt" | head -6
      fi
    done
  done
}

for t in "$root"/testdata/traces/* "$root"/fuzz/seeds/fuzz_export/*; do
  compare "$(basename "$t")" "$t"
done
td=$root/testdata/traces
compare "merge: goroutines 1.22+1.23" "$td/goroutines.go122.trace" "$td/goroutines.go123.trace"
compare "merge: v1+v2" "$td/cond.go119.trace" "$td/mutex.go123.trace" "$td/net.go122.trace"
compare "merge: the same trace twice" "$td/annotations.go123.trace" "$td/annotations.go123.trace"
for t in "$@"; do
  compare "$(basename "$t")" "$t"
done
echo "same_output: $n runs compared, $diffs differ"
[ "$diffs" = 0 ]
