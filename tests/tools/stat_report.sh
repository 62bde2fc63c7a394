#!/usr/bin/env bash
# stat_report.sh CTRACE FIXTURE_DIR [RESYNC_TRACE_PROGRAM]
#
# Checks the parts of `ctrace stat`'s report a user reads, on the fixtures
# (no Go needed):
#   - "System calls": per innermost function, the count equals the number
#     of transitions into Syscall whose stack starts with that function in
#     `ctrace dump --stacks`; the times add up to the syscall column's total
#     (--json, exact); the text section lists them;
#   - names too long for their column are cut in the middle: what is shown
#     is exactly the column's width, starts like the full name and ends like
#     it (the start function column, 20 wide);
#   - a cut trace says so in the report itself: a WARNING line on stdout
#     (wrapped at 80 columns) and a "warnings" entry in --json; a whole
#     trace has none;
#   - a libctrace trace holding a state resync after dropped events
#     (resync_trace.c writes one) warns that events were lost.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: stat_report.sh CTRACE FIXTURE_DIR [RESYNC_TRACE_PROGRAM]" >&2; exit 2; }
ctrace=$1 dir=$2 resync=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

shortened=0
for f in "$dir"/*.trace; do
    b=$(basename "$f")
    "$ctrace" stat --json --top=100000 "$f" > "$tmp/s.json" || { bad "$b: stat --json"; continue; }
    "$ctrace" stat --top=100000 "$f" > "$tmp/s.txt" || { bad "$b: stat"; continue; }
    "$ctrace" dump --stacks "$f" > "$tmp/d.txt" || { bad "$b: dump"; continue; }

    # Syscalls per innermost function, from the dump.
    awk '/ StateTransition .* goroutine=[0-9]+ [A-Za-z]+->Syscall/ {
             fn = "(unknown)"
             if (match($0, /frames=\["[^"]*"/)) { fn = substr($0, RSTART + 9, RLENGTH - 10) }
             n[fn]++ }
         END { for (k in n) print k "\t" n[k] }' "$tmp/d.txt" | LC_ALL=C sort > "$tmp/want"
    awk '/^  "syscalls": \[/ { s = 1; next } s && /^  [^ ]/ { s = 0 } s && /"func": / {
             fn = $0; sub(/.*"func": "/, "", fn); sub(/", "count".*/, "", fn)
             c = $0; sub(/.*"count": /, "", c); sub(/,.*/, "", c)
             print fn "\t" c }' "$tmp/s.json" | LC_ALL=C sort > "$tmp/got"
    if diff "$tmp/want" "$tmp/got" > "$tmp/diff"; then ok
    else bad "$b: syscalls per function (< dump, > stat):"; head -5 "$tmp/diff"; fi
    sum=$(awk '/^  "syscalls": \[/ { s = 1; next } s && /^  [^ ]/ { s = 0 }
               s && /"total_ns": / { t = $0; sub(/.*"total_ns": /, "", t); sub(/,.*/, "", t); x += t }
               END { printf "%.0f", x }' "$tmp/s.json")
    col=$(sed -n 's/.*"syscall_ns": \([0-9]*\).*/\1/p' "$tmp/s.json" | tail -1)
    if [ "$sum" = "$col" ]; then ok; else bad "$b: syscall times add up to $sum, the syscall column to $col"; fi
    if [ -s "$tmp/want" ]; then
        top=$(sort -t$'\t' -k2,2nr "$tmp/want" | head -1 | cut -f1)
        if sed -n '/^System calls/,/^$/p' "$tmp/s.txt" | grep -q -- " $top\$\| ${top:0:20}"; then ok
        else bad "$b: the System calls section does not list $top"; fi
    fi

    # Shortened start functions: 20 columns, head and tail of a real name.
    grep -o '"start": "[^"]*"' "$tmp/s.json" | sed 's/"start": "//; s/"$//' > "$tmp/names"
    while IFS= read -r shown; do
        shortened=$((shortened + 1))
        head=${shown%%...*} tail=${shown#*...}
        if [ ${#shown} -ne 20 ]; then bad "$b: shortened name [$shown] is not 20 columns"; continue; fi
        if [ -z "$head" ] || [ -z "$tail" ]; then bad "$b: [$shown] is not cut in the middle"; continue; fi
        if awk -v h="$head" -v t="$tail" 'index($0, h) == 1 && substr($0, length($0) - length(t) + 1) == t && length($0) > 20 { f = 1 } END { exit !f }' "$tmp/names"
        then ok; else bad "$b: [$shown] is not the start and end of a start function"; fi
    done < <(sed -n '/^Goroutines by start function/,/^(total)/p' "$tmp/s.txt" | cut -c1-20 | grep -F '...' | sed 's/ *$//')

    if grep -q '^WARNING' "$tmp/s.txt" || grep -q '"warnings": \["' "$tmp/s.json"; then
        bad "$b: a whole trace has warnings"; else ok; fi
done
[ $shortened -gt 0 ] && ok || bad "no fixture has a start function too long for its column"

# A cut trace: the report warns.
f=$dir/net.go123.trace
size=$(stat -c %s "$f")
head -c $((size - 100)) "$f" > "$tmp/cut.trace"
"$ctrace" stat "$tmp/cut.trace" > "$tmp/cut.txt" 2> /dev/null; rc=$?
if [ $rc -eq 1 ] && sed -n 2p "$tmp/cut.txt" | grep -q '^WARNING: the trace is cut short or damaged' &&
   [ -z "$(awk 'length($0) > 80' "$tmp/cut.txt" | grep -v -F "$tmp")" ]; then ok
else bad "cut trace: exit $rc, report: $(head -4 "$tmp/cut.txt")"; fi
"$ctrace" stat --json "$tmp/cut.trace" > "$tmp/cut.json" 2> /dev/null
grep -q '^  "warnings": \["the trace is cut short or damaged' "$tmp/cut.json" && ok ||
    bad "cut trace: no warning in --json: $(grep warnings "$tmp/cut.json")"

if [ -n "$resync" ]; then
    if "$resync" "$tmp/resync.trace"; then
        "$ctrace" stat "$tmp/resync.trace" > "$tmp/r.txt" 2> "$tmp/r.err"; rc=$?
        if [ $rc -eq 0 ] && grep -q '^WARNING: 1 goroutine state was resynchronised after dropped events' "$tmp/r.txt"; then ok
        else bad "resync trace: exit $rc, report: $(head -4 "$tmp/r.txt")"; fi
        "$ctrace" stat --json "$tmp/resync.trace" > "$tmp/r.json"
        grep -q '^  "resyncs_after_drops": 1,$' "$tmp/r.json" && ok || bad "resync trace: resyncs_after_drops is not 1"
    else
        bad "$resync failed"
    fi
fi

echo "stat_report: $pass passed, $fail failed"
[ $fail -eq 0 ]
