#!/bin/bash
# export_cli.sh CTRACE TRACEDIR - the `ctrace export` command line: usage
# errors (exit 2), unreadable inputs (exit 1, the output still valid),
# standard input and output, an output that cannot be written (exit 2, no
# partial file left), and a trace cut short: what precedes the cut is
# exported, and what was open there is closed (check_export.py's balance
# checks), with a warning on stderr and exit 0.  Exit 77 without protoc or python3.
set -u
ctrace=$1 dir=$2
. "$(dirname "$0")/export_lib.sh"
need_tool protoc
need_tool python3
good=$dir/annotations.go123.trace gens=$dir/generations.go123.trace
[ -f "$good" ] && [ -f "$gens" ] || { echo "FAIL: fixtures missing in $dir"; exit 1; }
t() { # expected-exit description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; head -3 "$tmp/out" "$tmp/err"; fail=1
  else
    echo "ok: $what"
  fi
}
has() { # file regex description
  if grep -Eq "$2" "$1"; then echo "ok: $3"; else echo "FAIL: $3"; head -3 "$1"; fail=1; fi
}

t 0 "export --help" "$ctrace" export --help
has "$tmp/out" "Exit codes" "help documents exit codes"
"$ctrace" --help | grep -q "^  export " && echo "ok: ctrace --help lists export" ||
  { echo "FAIL: ctrace --help does not list export"; fail=1; }
t 2 "export without arguments" "$ctrace" export
t 2 "export without --format" "$ctrace" export "$good"
t 2 "export with an unknown format" "$ctrace" export -f svg "$good"
t 2 "export without input" "$ctrace" export -f chrome
t 2 "export with an unknown option" "$ctrace" export -f chrome --nope "$good"

t 1 "export of a missing file" "$ctrace" export -f chrome -o "$tmp/missing.json" "$tmp/nope.trace"
has "$tmp/err" "nope.trace: cannot open" "the missing file is named"
python3 -m json.tool "$tmp/missing.json" >/dev/null && echo "ok: output still valid JSON" ||
  { echo "FAIL: output of a failed export is not JSON"; fail=1; }
t 1 "export of a file that is not a trace" "$ctrace" export -f perfetto -o "$tmp/bad.pb" "$0"
has "$tmp/err" "error at offset" "the error names the offset"

t 0 "export from stdin to stdout" sh -c "'$ctrace' export --format=chrome - <'$good'"
python3 -m json.tool "$tmp/out" >/dev/null && echo "ok: stdout export is valid JSON" ||
  { echo "FAIL: stdout export is not JSON"; fail=1; }
"$ctrace" export -f chrome -o "$tmp/file.json" "$good"
[ "$(grep -c '"ph"' "$tmp/out")" = "$(grep -c '"ph"' "$tmp/file.json")" ] &&
  echo "ok: stdin export = file export" || { echo "FAIL: stdin export differs"; fail=1; }
has "$tmp/out" '"process_name","args":\{"name":"<stdin>"' "stdin is named <stdin>"

if [ -c /dev/full ] && [ -w /dev/full ]; then
  t 2 "export to a full device" "$ctrace" export -f perfetto -o /dev/full "$good"
  has "$tmp/err" "cannot write" "the output error is reported"
  # Only a regular file is removed after a failed write, never a device.
  [ -c /dev/full ] && echo "ok: /dev/full is left alone" ||
    { echo "FAIL: the failed export removed /dev/full (restore: mknod -m 666 /dev/full c 1 7)"; fail=1; }
fi
mkdir -p "$tmp/ro"
t 2 "export to an impossible path" "$ctrace" export -f perfetto -o "$tmp/ro/no/x.pb" "$good"

# Cut short inside its second generation: the first is exported, the
# regions and states open at the cut are closed (the reader says where).
size=$(stat -c %s "$gens")
head -c $((size * 3 / 4)) "$gens" >"$tmp/cut.trace"
# The reader reports such a cut as truncated (CTRACE_READER_ETRUNCATED):
# exported with a warning and exit 0 (docs/EXPORT.md).
t 0 "export of a cut trace" "$ctrace" export --stats -f chrome -o "$tmp/cut.json" "$tmp/cut.trace"
has "$tmp/err" "cut.trace: warning: trace cut short at offset [0-9]+" "the cut is reported with its offset"
has "$tmp/err" " [1-9][0-9]* slices closed at the end" "slices open at the cut are closed"
export_check perfetto cut.pb "$tmp/cut.trace"
export_check chrome cut2.json "$tmp/cut.trace"

# csv (a directory of tables) and go1.19 (one input): their usage errors,
# a bad input (exit 1, the output still complete), an unwritable output.
"$ctrace" export --help | grep -q "csv:" && echo "ok: help documents csv" ||
  { echo "FAIL: help does not document csv"; fail=1; }
"$ctrace" export --help | grep -q "go1.19:" && echo "ok: help documents go1.19" ||
  { echo "FAIL: help does not document go1.19"; fail=1; }
t 2 "csv without -o" "$ctrace" export -f csv "$good"
has "$tmp/err" "o DIR is required" "csv says it needs a directory"
t 2 "csv to standard output" "$ctrace" export -f csv -o - "$good"
t 2 "go1.19 of two files" "$ctrace" export -f go1.19 -o "$tmp/two.v1" "$good" "$gens"
has "$tmp/err" "go1.19 converts one trace" "go1.19 says it takes one trace"
: >"$tmp/afile"
t 2 "csv into a path that is a file" "$ctrace" export -f csv -o "$tmp/afile" "$good"
has "$tmp/err" "cannot create the directory" "csv names the directory it cannot create"
t 1 "csv of a file that is not a trace" "$ctrace" export -f csv -o "$tmp/badcsv" "$0"
has "$tmp/err" "error at offset" "csv: the error names the offset"
[ "$(head -1 "$tmp/badcsv/states.csv")" = "trace,thread,state,reason,stack_id,start_ns,end_ns,dur_ns" ] &&
  echo "ok: csv tables of a bad input still have their header" ||
  { echo "FAIL: csv tables of a bad input lack their header"; fail=1; }
t 0 "csv into an existing directory" "$ctrace" export -f csv -o "$tmp/badcsv" "$good"
t 1 "go1.19 of a file that is not a trace" "$ctrace" export -f go1.19 -o "$tmp/bad.v1" "$0"
has "$tmp/err" "error at offset" "go1.19: the error names the offset"
t 0 "go1.19 to stdout" sh -c "'$ctrace' export -f go1.19 '$good'"
[ "$(head -c 13 "$tmp/out")" = "go 1.19 trace" ] && echo "ok: go1.19 output has the v1 header" ||
  { echo "FAIL: go1.19 output lacks the v1 header"; fail=1; }
if [ -c /dev/full ] && [ -w /dev/full ]; then
  t 2 "go1.19 to a full device" "$ctrace" export -f go1.19 -o /dev/full "$good"
fi

# A file named PROG.PID.trace gives its process that pid; a "pid" beyond
# 0x7fffffff does not, even one that wraps around int64 (2^64 + 1 read as
# 1 once), and the process gets a number above pid_max, 2^30 + index.
cp "$good" "$tmp/prog.18446744073709551617.trace"
t 0 "a file named with a 20-digit pid" "$ctrace" export -f chrome -o "$tmp/bigpid.json" \
  "$tmp/prog.18446744073709551617.trace"
grep -q '"pid":1073741824,"tid":0,"name":"process_name"' "$tmp/bigpid.json" &&
  echo "ok: a pid beyond 0x7fffffff in a file name is not the process's" ||
  { echo "FAIL: the process of prog.18446744073709551617.trace: $(grep -o '"pid":[0-9]*,"tid":0,"name":"process_name"' "$tmp/bigpid.json")"; fail=1; }

# Goroutine ids of 10^9 and more (big_goroutine_ids.py): in Chrome JSON no
# goroutine's thread shares its tid with another track (the state tracks'
# synthetic tids started at 10^9 and met goroutine 1000000000's).
python3 "$(dirname "$0")/big_goroutine_ids.py" "$tmp/bigids.trace"
t 0 "export of a trace with goroutine 1000000000" "$ctrace" export -f chrome -o "$tmp/bigids.json" "$tmp/bigids.trace"
if python3 - "$tmp/bigids.json" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
evs = d["traceEvents"] if isinstance(d, dict) else d
names = collections.defaultdict(set)
for e in evs:
    if e.get("ph") == "M" and e.get("name") == "thread_name":
        names[(e["pid"], e["tid"])].add(e["args"]["name"])
shared = {k: v for k, v in names.items() if len(v) > 1}
want = {"G1", "G1 state", "G1000000000", "G1000000000 state"}
got = set().union(*names.values()) if names else set()
if shared or not want <= got:
    print("tracks sharing a tid:", shared, "names:", sorted(got))
    sys.exit(1)
PY
then echo "ok: goroutine 1000000000's thread has a tid of its own"; else echo "FAIL: Chrome tracks share a tid"; fail=1; fi

[ $fail = 0 ] && echo "export_cli: all passed" || echo "export_cli: failed"
exit $fail
