#!/bin/bash
# fuzz_regressions.sh CTRACE SEEDDIR CASE - what fuzz/fuzz_export.c found,
# one CASE per defect, each on its minimized input SEEDDIR/regress-CASE
# (fuzz/seeds/fuzz_export, where they also seed the fuzzer).
# On every case: each export (perfetto, chrome, csv, go1.19), `ctrace stat`
# (text and --json) and `ctrace pprof` of every kind exits 0 or 1 (a crash
# or an abort from a sanitizer does not), the chrome export is valid JSON
# and the go1.19 export (even of an invalid input) is a trace `ctrace
# check` accepts that starts with a batch; then the case's own check of the
# output that was wrong.
# Exit 77 without python3.
set -u
ctrace=$1 seeds=$2 case=$3
. "$(dirname "$0")/export_lib.sh"
need_tool python3
in=$seeds/regress-$case
[ -f "$in" ] || { echo "FAIL: $in missing"; exit 1; }

run() { # description command... - must exit 0 or 1
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -gt 1 ]; then
    echo "FAIL: $1 $2: exit $rc"; tail -5 "$tmp/err"; fail=1; return 1
  fi
  echo "ok: $*: exit $rc"
}
run "$ctrace" export -f perfetto -o "$tmp/out.pb" "$in"
run "$ctrace" export -f chrome -o "$tmp/out.json" "$in" &&
  { python3 -m json.tool "$tmp/out.json" >/dev/null || { echo "FAIL: chrome: not JSON"; fail=1; }; }
run "$ctrace" export -f csv -o "$tmp/csv" "$in"
# The output is complete and valid even when the input is not (exit 1).
"$ctrace" export -f go1.19 -o "$tmp/out.v1" "$in" 2>"$tmp/err"
rc=$?
if [ $rc -gt 1 ]; then
  echo "FAIL: export go1.19: exit $rc: $(tail -3 "$tmp/err")"; fail=1
elif "$ctrace" check "$tmp/out.v1" >"$tmp/err" 2>&1; then
  echo "ok: the go1.19 export (exit $rc) reads back"
else
  echo "FAIL: ctrace check rejects the go1.19 export: $(head -2 "$tmp/err")"; fail=1
fi
# Its first event is a batch: Go 1.22+ (and ctrace's reader) skip a string
# before the first one, so that its frames' names are lost.
first=$(od -An -tu1 -j16 -N1 "$tmp/out.v1" | tr -d ' ')
if [ -n "$first" ] && [ $((first & 63)) != 1 ]; then
  echo "FAIL: the go1.19 export's first event is of type $((first & 63)), not a batch"; fail=1
fi
run "$ctrace" stat "$in"
run "$ctrace" stat --json "$in"
for k in cpu sync net syscall sched region; do
  run "$ctrace" pprof $k "$in" -o "$tmp/$k.pb.gz"
done

no_negative() { # JSON - no number in it is negative (a time or count)
  python3 - "$1" <<'EOF' || fail=1
import json, sys
neg = []
def walk(x, path):
    if isinstance(x, dict):
        for k, v in x.items(): walk(v, path + "." + k)
    elif isinstance(x, list):
        for i, v in enumerate(x): walk(v, "%s[%d]" % (path, i))
    elif isinstance(x, int) and x < 0:
        neg.append(path)
walk(json.load(open(sys.argv[1])), "")
print(("FAIL" if neg else "ok") + ": no negative number in %s: %s" % (sys.argv[1].split("/")[-1], neg[:5]))
sys.exit(1 if neg else 0)
EOF
}

case $case in
sample-before-create-go119)
  # A libctrace trace (examples/threadpool, written under TSan in CI) whose
  # first event of goroutine 5 is a CPU sample, before the transition that
  # creates it (its thread's timer fired first): Go 1.19's parser makes a
  # goroutine of every event's G, so the GoCreate that followed failed
  # ("g 5 already exists").  The sample now goes to no goroutine (G 0),
  # and Go 1.19 reads the export with every sample.
  . "$(dirname "$0")/../go_toolchain.sh"
  need_go 19
  "$ctrace" export -f go1.19 -o "$tmp/early.v1" "$in" 2>/dev/null
  if "$GO119" tool trace -d "$tmp/early.v1" >"$tmp/early.d" 2>&1; then
    n=$(grep -c "CPUSample" "$tmp/early.d")
    want=$("$ctrace" dump "$in" 2>/dev/null | grep -c "StackSample")
    [ "$n" = "$want" ] && echo "ok: Go 1.19 reads the export, with its $n samples" ||
      { echo "FAIL: Go 1.19 reads $n samples, want $want"; fail=1; }
  else
    echo "FAIL: Go 1.19 rejects the go1.19 export: $(tail -1 "$tmp/early.d")"; fail=1
  fi
  ;;
huge-goroutine-ids)
  # Goroutines 1, 0x2aaaaaaaaaaaaaab (3 x id overflows int64) and
  # 0xfffffffffffffff0: their tracks are shown in the order of their ids,
  # each goroutine's state track right after its thread track (the sort
  # index was id * 3 in int64: undefined, negative).
  python3 - "$tmp/out.json" <<'EOF' || fail=1
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e.get("name") == "thread_name"}
order = sorted(((e["args"]["sort_index"], names[(e["pid"], e["tid"])])
                for e in ev if e.get("name") == "thread_sort_index"), key=lambda x: x[0])
got = [n for _, n in order]
want = ["G1", "G1 state", "G3074457345618258603", "G3074457345618258603 state",
        "G18446744073709551600", "G18446744073709551600 state"]
ok = [n for n in got if n.startswith("G1 ")] == ["G1 state"] and got[:2] == want[:2] and \
     all(i >= 0 for i, _ in order) and \
     got.index("G3074457345618258603") < got.index("G3074457345618258603 state") and \
     got.index("G18446744073709551600") < got.index("G18446744073709551600 state") and \
     sorted(got) == sorted(want)
print(("ok" if ok else "FAIL") + ": thread order by goroutine id: %s" % order)
sys.exit(0 if ok else 1)
EOF
  ;;
deep-stack-go119)
  # A Go 1.22 trace with a stack of 128 frames of 10-byte PCs and 9-byte
  # lines: its go1.19 export wrote an EvStack of 2691 bytes of values, which
  # Go 1.19 reads but Go 1.22+ and ctrace do not (limit 2048): the stack is
  # cut to the 97 innermost frames that fit (the read-back above checks it).
  "$ctrace" export -f go1.19 -o "$tmp/deep.v1" "$in" 2>/dev/null
  n=$("$ctrace" dump --stacks "$tmp/deep.v1" 2>/dev/null |
      awk -F'frames=\\[' 'NF > 1 { n = split($2, a, "; "); if (n > m) m = n } END { print m + 0 }')
  if [ "$n" = 97 ]; then echo "ok: the deepest stack keeps 97 frames"
  else echo "FAIL: the deepest stack of the go1.19 export has $n frames, want 97"; fail=1; fi
  ;;
goroutine-zero-go119)
  # A Go 1.23 trace (cut short) whose only event creates goroutine 0 in a
  # syscall: its go1.19 export created a goroutine 0, v1's id of no
  # goroutine, which Go 1.19 and ctrace reject ("g 0 already exists");
  # the transition is not shown and the export reads back (checked above).
  "$ctrace" export -f go1.19 --stats -o "$tmp/g0.v1" "$in" 2>"$tmp/err"
  rc=$?
  if [ $rc = 0 ] && grep -q "1 events not shown" "$tmp/err"; then
    echo "ok: goroutine 0's transition is counted as not shown"
  else echo "FAIL: go1.19 export of goroutine 0: exit $rc: $(tail -1 "$tmp/err")"; fail=1; fi
  ;;
long-concurrent-times)
  # A v1 trace of 6e18 ns (one tick a second) in which two goroutines run,
  # two sleep and one is in a syscall to its end: their times added up per
  # start function and per blocking reason overflowed int64 (undefined;
  # negative totals); they stop at INT64_MAX.
  "$ctrace" stat --json "$in" >"$tmp/long.json" 2>/dev/null
  python3 - "$tmp/long.json" <<'EOF' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
big = 9223372036854775807
ok = d["totals"]["exec_ns"] == big and d["totals"]["other_ns"] == big and \
     d["groups"][0]["exec_ns"] == big and \
     [b["total_ns"] for b in d["blocking"] if b["reason"] == "sleep"] == [big]
print(("ok" if ok else "FAIL") + ": totals saturate at INT64_MAX: %s %s" %
      (d["totals"], [b["total_ns"] for b in d["blocking"]]))
sys.exit(0 if ok else 1)
EOF
  no_negative "$tmp/long.json"
  ;;
stack-before-batch-go119)
  # A Go 1.23 trace broken after its first goroutine statuses, each with a
  # stack: the go1.19 export wrote the first stack before any EvBatch, which
  # Go 1.19 reads but Go 1.22+ and ctrace reject ("P has no batches yet");
  # the generic read-back above is the check.
  ;;
times-wrap)
  # goroutines.go122 with one thread's batches moved to 2^63 - 4096 ns: the
  # reader's times wrap past INT64_MAX (as Go's do) to INT64_MIN, and the
  # exports' `time - first time` overflowed (undefined; in the CSV tables
  # slices that end before they start).  Times are now taken across the
  # wrap and stop at INT64_MAX; go1.19, whose times cannot reach it, stops
  # there with exit 1.
  "$ctrace" export -f csv -o "$tmp/wrap" "$in" 2>/dev/null
  python3 - "$tmp/wrap" <<'EOF' || fail=1
import csv, glob, sys
bad = []
for t in sorted(glob.glob(sys.argv[1] + "/*.csv")):
    for r in csv.DictReader(open(t, newline="")):
        if r.get("start_ns") and r.get("end_ns"):
            s, e = int(r["start_ns"]), int(r["end_ns"])
            d = int(r["dur_ns"]) if "dur_ns" in r else e - s
            if s < 0 or e < s or d != e - s:
                bad.append((t.split("/")[-1], s, e, d))
print(("FAIL" if bad else "ok") + ": csv slices end after they start: %d bad %s" % (len(bad), bad[:3]))
sys.exit(1 if bad else 0)
EOF
  "$ctrace" export -f go1.19 -o "$tmp/wrap.v1" "$in" 2>"$tmp/err"
  rc=$?
  if [ $rc = 1 ] && grep -q "spans 2^63 ns" "$tmp/err"; then echo "ok: go1.19 stops at 2^63 ns (exit 1)"
  else echo "FAIL: go1.19 of a trace spanning 2^63 ns: exit $rc: $(tail -1 "$tmp/err")"; fail=1; fi
  ;;
times-near-int64-max)
  # sleep.go122 with one thread's batches at 2^63 - 4096 ns (no wrap): a
  # goroutine's times, added over its states to sort the start functions,
  # overflowed (undefined); the sums saturate, and no time is negative.
  "$ctrace" stat --json "$in" >"$tmp/near.json" 2>/dev/null
  no_negative "$tmp/near.json"
  ;;
goroutine-id-reused-go119)
  # goroutines.go123 with goroutine 52 renamed 21, created after 21 ended
  # (Go's v2 parser allows it): the go1.19 export created goroutine 21
  # again, which Go 1.19's ordering can never do ("no consistent ordering
  # of events possible"); its transitions are not shown (checked above:
  # the export reads back).
  "$ctrace" export -f go1.19 -o "$tmp/reuse.v1" "$in" 2>/dev/null
  rc=$?
  [ $rc = 0 ] && echo "ok: go1.19 export of a reused goroutine id: exit 0" ||
    { echo "FAIL: go1.19 export of a reused goroutine id: exit $rc"; fail=1; }
  ;;
csv-null-text)
  # A trace whose slices' names are all empty: csv's slice end took an
  # offset (0) into its track's text buffer, still NULL: undefined, which
  # clang's UBSan reports (make fuzz replays this seed: it aborts on the
  # old code) but gcc's does not.  Here: the tables are written whole.
  "$ctrace" export -f csv -o "$tmp/null" "$in" 2>/dev/null
  rc=$?
  n=$(cat "$tmp"/null/*.csv 2>/dev/null | wc -l)
  if [ $rc -le 1 ] && [ "$n" -gt 0 ]; then echo "ok: csv export of empty names: exit $rc, $n lines"
  else echo "FAIL: csv export of empty names: exit $rc, $n lines"; fail=1; fi
  ;;
forever-woken-go119)
  # A broken trace whose goroutine 11 blocks "forever" and is woken later,
  # before the error: its go1.19 export wrote GoStop, then GoUnblock and
  # the goroutine's later life, which Go 1.19's ordering can never place
  # (GoStop ends a goroutine for it: "no consistent ordering of events
  # possible").  The goroutine's life after GoStop is not shown (the
  # read-back above is the check; Go 1.19's own parser too when installed).
  "$ctrace" export -f go1.19 --stats -o "$tmp/forever.v1" "$in" 2>"$tmp/err"
  grep -q " events not shown" "$tmp/err" && echo "ok: the woken goroutine's events are counted as not shown" ||
    { echo "FAIL: no events counted as not shown: $(tail -1 "$tmp/err")"; fail=1; }
  . "$(dirname "$0")/../go_toolchain.sh"
  if [ -x "$GO119" ]; then
    if "$GO119" tool trace -d "$tmp/forever.v1" >/dev/null 2>"$tmp/err"; then
      echo "ok: Go 1.19 parses the go1.19 export"
    else echo "FAIL: Go 1.19 rejects the go1.19 export: $(tail -1 "$tmp/err")"; fail=1; fi
  elif [ -n "${CI:-}" ]; then
    echo "FAIL: Go 1.19 not installed at $GO119 (scripts/install-deps.sh), and CI is set"; fail=1
  else
    echo "note: Go 1.19 not installed at $GO119: checked by ctrace's reader only"
  fi
  ;;
goroutine-id-max-go119)
  # cpuprof.go122 with goroutine 1 renamed 2^64 - 2, the id Go 1.19's
  # order.go gives the GC's sequence: the go1.19 export wrote goroutine
  # events under it, which Go 1.19 cannot order ("no consistent ordering of
  # events possible"); they are not shown (the read-back above is the
  # check).  With goroutine 1 gone, the export's first events create
  # goroutines with stacks: their strings came before the first batch
  # (the first-event check above).
  ;;
*) echo "FAIL: unknown case $case"; fail=1 ;;
esac
exit $fail
