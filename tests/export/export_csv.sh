#!/bin/bash
# export_csv.sh CTRACE TRACEDIR [--strings PROG] [EXAMPLE...] - `ctrace export --format csv`
# read by DuckDB (through @duckdb/node-api, tests/export/duckdb): every
# fixture of TRACEDIR and a trace of each libctrace EXAMPLE (which takes
# the trace's path as its first argument) are exported, loaded with
# read_csv_auto as a user would, and the queries' totals (time per state,
# blocked per reason, regions, tasks, logs, CPU samples and their stacks,
# threads) must equal `ctrace stat --json` of the same trace; all exports
# are also queried at once with a glob (docs/EXPORT.md's query).  PROG
# (csv_strings.c) writes a trace whose strings CSV must quote and whose
# bytes are not all UTF-8: DuckDB must read them back as written.  Exit 77
# when node or the node modules are missing (scripts/install-deps.sh
# installs them), a failure under CI, as for a missing Go toolchain.
set -u
ctrace=$1 dir=$2; shift 2
strings=
if [ "${1:-}" = --strings ]; then strings=$2; shift 2; fi
. "$(dirname "$0")/export_lib.sh"
need_tool node
duck=$here/duckdb
if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $duck/node_modules is missing (scripts/install-deps.sh), and CI is set"; exit 1
  fi
  echo "SKIP: $duck/node_modules is missing (scripts/install-deps.sh installs it): this test needs it"
  exit 77
fi
pairs=()
add() { # trace
  local name out
  name=$(basename "$1" .trace)
  out=$tmp/csv/$name
  mkdir -p "$tmp/csv" "$tmp/stat"
  if ! "$ctrace" export --format csv -o "$out" "$1" 2>"$tmp/err"; then
    echo "FAIL: export csv $1: $(head -3 "$tmp/err")"; fail=1; return
  fi
  for f in threads states regions tasks logs samples stacks ranges metrics; do
    [ -s "$out/$f.csv" ] || { echo "FAIL: $out/$f.csv missing"; fail=1; }
  done
  "$ctrace" stat --json --top=100000 "$1" >"$tmp/stat/$name.json" 2>/dev/null ||
    { echo "FAIL: ctrace stat $1"; fail=1; return; }
  pairs+=("$out" "$tmp/stat/$name.json")
}
for t in "$dir"/*.trace; do add "$t"; done
for ex in "$@"; do
  t=$tmp/$(basename "$ex").trace
  (cd "$tmp" && CTRACE_CPU_HZ=1000 "$ex" "$t" >"$tmp/example.out" 2>&1) ||
    { echo "FAIL: $ex exited $?: $(tail -n 5 "$tmp/example.out")"; fail=1; continue; }
  add "$t"
done
(cd "$duck" && node check_csv.mjs "${pairs[@]}") || fail=1
# Several traces in one export (a process tree): one set of tables, each
# row naming its trace.
a=$dir/annotations.go123.trace b=$dir/mutex.go122.trace
if "$ctrace" export --format csv -o "$tmp/two" "$a" "$b" 2>"$tmp/err" &&
   [ "$(tail -n +2 "$tmp/two/states.csv" | cut -d, -f1 | sort -u | tr '\n' ' ')" = \
     '"annotations.go123.trace" "mutex.go122.trace" ' ]; then
  echo "ok: two traces in one export: the trace column tells their rows apart"
else
  echo "FAIL: two traces in one csv export: $(head -3 "$tmp/err")"; fail=1
fi
if [ -n "$strings" ]; then
  "$strings" "$tmp/strings.trace" >"$tmp/example.out" 2>&1 &&
    "$ctrace" export --format csv -o "$tmp/strings" "$tmp/strings.trace" 2>"$tmp/err" &&
    (cd "$duck" && node check_csv.mjs --strings "$tmp/strings") ||
    { echo "FAIL: the strings of $strings through csv and DuckDB: $(head -3 "$tmp/err")"; fail=1; }
fi

[ $fail = 0 ] && echo "export_csv: all passed" || echo "export_csv: failed"
exit $fail
