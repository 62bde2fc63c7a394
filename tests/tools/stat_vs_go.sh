#!/usr/bin/env bash
# stat_vs_go.sh [--no-stdin] "STAT COMMAND" TRACE...
#
# Checks `ctrace stat` against Go's own analysis of the same v2 traces:
#   - its --json "pprof" totals (count and ns) equal what Go 1.23's
#     `go tool trace -pprof=sync|net|syscall|sched` profiles hold
#     (summed from `go tool pprof -raw`), exactly;
#   - events, generations, CPU samples, and tasks/regions begun per name
#     equal scripts/gotrace-summary.sh (Go's parser);
#   - the text report exits 0 and fits 80 columns;
#   - reading the trace from stdin ('-') gives the same JSON (unless
#     --no-stdin);
#   - usage errors exit 2, --help exits 0, a cut trace and a missing file
#     exit 1.
# STAT COMMAND is split into words: "build/src/tools/ctrace stat" or
# "build/tests/tools/stat_dumpreader_test".  Exit 77 (skip) without Go 1.23.
set -uo pipefail

stdin=1
[ "${1:-}" = --no-stdin ] && { stdin=0; shift; }
[ $# -ge 2 ] || { echo "usage: stat_vs_go.sh [--no-stdin] \"STAT COMMAND\" TRACE..." >&2; exit 2; }
read -r -a stat <<< "$1"; shift
here=$(cd "$(dirname "$0")" && pwd)
summary=$here/../../scripts/gotrace-summary.sh
. "$here/../go_toolchain.sh"
need_go 23
go=$GO123
export GOFLAGS= GO111MODULE=off
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# jnum FILE KEY: the number after "KEY": on the top level of stat's JSON.
jnum() { sed -n "s/^  \"$2\": \([0-9-]*\),\{0,1\}$/\1/p" "$1"; }
# jname FILE NAME FIELD: FIELD of the tasks/regions entry named NAME in section SECTION
jentry() { # FILE SECTION NAME FIELD
    awk -v sec="\"$2\": " -v name="{\"name\": \"$3\"," -v fld="\"$4\": " '
        index($0, sec) == 3 { in_sec = 1; if ($0 ~ /\[\]/) in_sec = 0; next }
        in_sec && /^  [^ ]/ { in_sec = 0 }
        in_sec && index($0, name) { i = index($0, fld); s = substr($0, i + length(fld)); sub(/[,}].*/, "", s); print s; exit }
    ' "$1"
}

for f in "$@"; do
    b=$(basename "$f")
    "${stat[@]}" --json "$f" > "$tmp/s.json" 2> "$tmp/s.err"
    rc=$?
    if [ $rc -ne 0 ]; then bad "$b: stat --json exit $rc: $(head -c 300 "$tmp/s.err")"; continue; fi
    ok

    # Go's pprof profiles.
    pline=$(grep '^  "pprof": ' "$tmp/s.json")
    for k in sync net syscall sched; do
        if ! "$go" tool trace -pprof=$k "$f" > "$tmp/p.pb" 2> "$tmp/p.err"; then
            bad "$b: go tool trace -pprof=$k failed: $(head -c 200 "$tmp/p.err")"; continue
        fi
        want=$("$go" tool pprof -raw "$tmp/p.pb" 2>/dev/null | awk '
            /^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
            s && /:/ { c += $1; t += $2 + 0 } END { printf "%d %.0f", c, t }')
        got=$(printf '%s' "$pline" | sed -n "s/.*\"$k\": {\"count\": \([0-9]*\), \"total_ns\": \([0-9-]*\)}.*/\1 \2/p")
        if [ "$want" = "$got" ]; then ok; else bad "$b: pprof $k: Go has [$want], stat has [$got]"; fi
    done

    # Go's parser via gotrace-summary.
    if ! "$summary" "$f" > "$tmp/sum.txt" 2> "$tmp/sum.err"; then
        bad "$b: gotrace-summary failed: $(head -c 200 "$tmp/sum.err")"; continue
    fi
    for pair in events:events generations:generations cpu_samples:cpu_samples; do
        gk=${pair%%:*} sk=${pair#*:}
        want=$(awk -F'\t' -v k="$gk" '$1 == k { print $2 }' "$tmp/sum.txt")
        got=$(jnum "$tmp/s.json" "$sk")
        if [ "$want" = "$got" ]; then ok; else bad "$b: $sk: Go has [$want], stat has [$got]"; fi
    done
    while IFS=$'\t' read -r sec name n; do
        case $sec in task_begin) js=tasks ;; region_begin) js=regions ;; *) continue ;; esac
        name=${name#\"}; name=${name%\"}
        got=$(jentry "$tmp/s.json" "$js" "$name" begun)
        if [ "$n" = "$got" ]; then ok; else bad "$b: $js \"$name\" begun: Go has [$n], stat has [$got]"; fi
    done < "$tmp/sum.txt"

    # Text report.
    if "${stat[@]}" "$f" > "$tmp/s.txt" 2> "$tmp/s.err"; then ok; else bad "$b: stat text exit $?"; fi
    wide=$(awk 'length($0) > 80' "$tmp/s.txt" | grep -v -F "$f" | head -3)
    if [ -z "$wide" ]; then ok; else bad "$b: lines over 80 columns: $wide"; fi

    if [ $stdin = 1 ]; then
        "${stat[@]}" --json - < "$f" > "$tmp/in.json" 2> "$tmp/in.err"
        if diff <(grep -v '^  "file": ' "$tmp/s.json") <(grep -v '^  "file": ' "$tmp/in.json") > /dev/null; then ok
        else bad "$b: stdin JSON differs from file JSON: $(head -c 200 "$tmp/in.err")"; fi
    fi
done

# Errors and usage.
f=$1
"${stat[@]}" --help > /dev/null 2>&1; rc=$?
[ $rc -eq 0 ] && ok || bad "--help exit $rc"
"${stat[@]}" --no-such-option "$f" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || bad "bad option exit $rc (want 2)"
"${stat[@]}" > /dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || bad "no file exit $rc (want 2)"
"${stat[@]}" "$tmp/does-not-exist.trace" > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok || bad "missing file exit $rc (want 1)"
size=$(stat -c %s "$f")
head -c $((size * 2 / 3)) "$f" > "$tmp/cut.trace"
"${stat[@]}" "$tmp/cut.trace" > /dev/null 2> "$tmp/cut.err"; rc=$?
[ $rc -eq 1 ] && ok || bad "cut trace exit $rc (want 1): $(head -c 200 "$tmp/cut.err")"

echo "stat_vs_go: $pass passed, $fail failed"
[ $fail -eq 0 ]
