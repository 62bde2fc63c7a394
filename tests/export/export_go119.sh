#!/bin/bash
# export_go119.sh CTRACE TRACEDIR [EXAMPLE...] - `ctrace export --format
# go1.19` (Go's v1 trace format): the export of every fixture of TRACEDIR
# (v1 and v2 traces) and of a fresh trace of each libctrace EXAMPLE (which
# takes the trace's path as its first argument) is accepted by Go 1.19's
# own parser (`go tool trace -d`, and its sync profile, `-pprof=sync`) and
# by Go 1.23's conversion of v1 (`go tool trace -d=1`), and
# read back by ctrace (`ctrace check`, `ctrace stat`) it has the input's
# goroutines, regions, tasks, logs and CPU samples (check_go119.py).
# A trace cut short exports to a valid v1 trace (exit 0 and a warning).
# Exit 77 without Go 1.19, Go 1.23 or python3 (a failure under CI).
set -u
ctrace=$1 dir=$2; shift 2
. "$(dirname "$0")/../go_toolchain.sh"
need_go 19 23
. "$(dirname "$0")/export_lib.sh"
need_tool python3
go119_check() { # trace
  local t=$1 name out
  name=$(basename "$t" .trace)
  out=$tmp/$name.v1.trace
  if ! "$ctrace" export --format go1.19 -o "$out" "$t" 2>"$tmp/err"; then
    echo "FAIL: export go1.19 $t: $(head -3 "$tmp/err")"; fail=1; return
  fi
  if ! "$GO119" tool trace -d "$out" >"$tmp/go.out" 2>&1; then
    echo "FAIL: Go 1.19 rejects the go1.19 export of $name: $(tail -2 "$tmp/go.out")"; fail=1; return
  fi
  if ! "$GO123" tool trace -d=1 "$out" >"$tmp/go.out" 2>&1; then
    echo "FAIL: Go 1.23 rejects the go1.19 export of $name: $(tail -2 "$tmp/go.out")"; fail=1; return
  fi
  if ! "$GO119" tool trace -pprof=sync "$out" >"$tmp/sync.pb" 2>"$tmp/go.err" || [ ! -s "$tmp/sync.pb" ]; then
    echo "FAIL: Go 1.19's -pprof=sync of the export of $name: $(tail -2 "$tmp/go.err")"; fail=1; return
  fi
  "$ctrace" check "$out" >/dev/null 2>"$tmp/err" ||
    { echo "FAIL: ctrace check rejects the export of $name: $(head -2 "$tmp/err")"; fail=1; return; }
  "$ctrace" stat --json --top=100000 "$t" >"$tmp/in.json" 2>/dev/null
  "$ctrace" stat --json --top=100000 "$out" >"$tmp/out.json" 2>/dev/null
  if python3 "$here/check_go119.py" "$tmp/in.json" "$tmp/out.json" >"$tmp/cmp" 2>&1; then
    echo "ok: $name: Go 1.19 reads its export; $(cat "$tmp/cmp" | sed 's/^ok: //')"
  else
    sed "s|^|$name: |" "$tmp/cmp"; fail=1
  fi
}
for t in "$dir"/*.trace; do go119_check "$t"; done
for ex in "$@"; do
  t=$tmp/$(basename "$ex").trace
  (cd "$tmp" && CTRACE_CPU_HZ=1000 "$ex" "$t" >"$tmp/example.out" 2>&1) ||
    { echo "FAIL: $ex exited $?: $(tail -n 5 "$tmp/example.out")"; fail=1; continue; }
  go119_check "$t"
done

# Cut short: the complete generations are exported, exit 0 with a warning,
# and Go 1.19 reads the result.
gens=$dir/generations.go123.trace
size=$(stat -c %s "$gens")
head -c $((size * 2 / 3)) "$gens" >"$tmp/cut.trace"
"$ctrace" export --format go1.19 -o "$tmp/cut.v1" "$tmp/cut.trace" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q "warning: trace cut short" "$tmp/err" &&
   "$GO119" tool trace -d "$tmp/cut.v1" >/dev/null 2>&1; then
  echo "ok: a trace cut short exports to a v1 trace Go 1.19 reads (exit 0, warning)"
else
  echo "FAIL: cut trace: exit $rc, $(head -2 "$tmp/err")"; fail=1
fi
[ $fail = 0 ] && echo "export_go119: all passed" || echo "export_go119: failed"
exit $fail
