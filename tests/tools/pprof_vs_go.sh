#!/usr/bin/env bash
# pprof_vs_go.sh CTRACE TRACE...
#
# Checks `ctrace pprof` as a user of `go tool pprof` sees it:
#   - sync, net, syscall, sched: on every fixture (v2 and v1), the profile
#     equals Go 1.23's `go tool trace -pprof=KIND`: the same stacks
#     (function, file, line of every frame) with the same count and delay,
#     compared through `go tool pprof -raw` (pprof_raw.awk); the line
#     `go tool pprof -top` prints first ("... of X total") is the same; and
#     the totals equal `ctrace stat --json`'s "pprof" section;
#   - cpu: sample count = stat's cpu_samples, each worth 10 ms (100 Hz, or
#     1/N s with --hz=N), and the samples per innermost function = stat's
#     CPU flat column;
#   - region: per region name, count and time = stat's completed regions
#     and their total_ns;
#   - usage errors exit 2, --help exits 0, a missing file exits 1 and
#     leaves an existing output file alone, an unwritable output exits 1, a
#     cut trace exits 1 with a warning and still writes the profile of what
#     it read, which `go tool pprof` opens.
# Exit 77 (skip) without Go 1.23.
set -uo pipefail

[ $# -ge 2 ] || { echo "usage: pprof_vs_go.sh CTRACE TRACE..." >&2; exit 2; }
ctrace=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 23
go=$GO123
export GOFLAGS= GO111MODULE=off
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0 cpu_seen=0 reg_seen=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

raw() { "$go" tool pprof -raw "$1" 2> /dev/null | awk -v leaf="${2:-0}" -f "$here/pprof_raw.awk" | LC_ALL=C sort; }
topline() { "$go" tool pprof -top -nodecount=1000 "$1" 2> /dev/null | grep '^Showing nodes'; }

# The parser of `pprof -raw` itself: pprof prints a C++ name it simplified
# and the profile's own name after "s=N" in parentheses (a CPU sample in a
# template function made this test fail now and then).
got=$(printf '%s\n' 'Samples:' 'cpu/ns' '  1 10: 1 2' 'Locations' \
        '     1: 0x10 M=1 cas a/b.h:81:0 s=0(cas<x::y>)' \
        '     2: 0x20 M=1 main m.c:3:0 s=0' 'Mappings' \
      | awk -v leaf=1 -f "$here/pprof_raw.awk" | LC_ALL=C sort | tr '\t\n' '|;')
want='1 10|cas<x::y> a/b.h:81;main m.c:3;leaf 1 10|cas<x::y>;total 1 10;'
if [ "$got" = "$want" ]; then ok; else bad "pprof_raw.awk read [$got], want [$want]"; fi

for f in "$@"; do
    b=$(basename "$f")
    if ! "$ctrace" stat --json --top=100000 "$f" > "$tmp/s.json" 2> "$tmp/s.err"; then
        bad "$b: ctrace stat --json failed: $(head -c 200 "$tmp/s.err")"; continue
    fi
    pline=$(grep '^  "pprof": ' "$tmp/s.json")

    for k in sync net syscall sched; do
        if ! "$go" tool trace -pprof=$k "$f" > "$tmp/go.pb" 2> "$tmp/go.err"; then
            bad "$b: go tool trace -pprof=$k failed: $(head -c 200 "$tmp/go.err")"; continue
        fi
        if ! "$ctrace" pprof $k "$f" -o "$tmp/ct.pb.gz" 2> "$tmp/ct.err"; then
            bad "$b: ctrace pprof $k failed: $(head -c 200 "$tmp/ct.err")"; continue
        fi
        raw "$tmp/go.pb" > "$tmp/go.raw"
        raw "$tmp/ct.pb.gz" > "$tmp/ct.raw"
        if [ ! -s "$tmp/ct.raw" ]; then bad "$b: $k: go tool pprof -raw read nothing"; continue; fi
        if diff "$tmp/go.raw" "$tmp/ct.raw" > "$tmp/d"; then ok
        else bad "$b: $k: stacks differ from Go's (< Go, > ctrace):"; head -6 "$tmp/d"; fi
        want=$(topline "$tmp/go.pb") got=$(topline "$tmp/ct.pb.gz")
        if [ -n "$got" ] && [ "$want" = "$got" ]; then ok
        else bad "$b: $k: pprof -top says [$got], for Go's profile [$want]"; fi
        # stat's totals: the same computation.
        tot=$(sed -n 's/^total //p' "$tmp/ct.raw")
        st=$(printf '%s' "$pline" | sed -n "s/.*\"$k\": {\"count\": \([0-9]*\), \"total_ns\": \([0-9-]*\)}.*/\1 \2/p")
        if [ "$tot" = "$st" ]; then ok; else bad "$b: $k: pprof total [$tot], stat [$st]"; fi
    done

    # cpu: against stat's CPU section.
    if "$ctrace" pprof cpu "$f" -o "$tmp/cpu.pb.gz" 2> "$tmp/ct.err"; then ok
    else bad "$b: ctrace pprof cpu failed: $(head -c 200 "$tmp/ct.err")"; continue; fi
    raw "$tmp/cpu.pb.gz" 1 > "$tmp/cpu.raw"
    samples=$(sed -n 's/^  "cpu_samples": \([0-9]*\),$/\1/p' "$tmp/s.json")
    tot=$(sed -n 's/^total //p' "$tmp/cpu.raw")
    if [ "$tot" = "$samples $((samples * 10000000))" ]; then ok
    else bad "$b: cpu total [$tot], stat has $samples samples (x 10ms)"; fi
    if [ "$samples" -gt 0 ]; then
        awk -F'\t' '/^leaf / { split($1, v, " "); print $2 "\t" v[2] }' "$tmp/cpu.raw" | LC_ALL=C sort > "$tmp/cpu.leaf"
        awk '/"cpu_functions"/ { s = 1; next } s && /"func": / {
                 fn = $0; sub(/.*"func": "/, "", fn); sub(/", "flat".*/, "", fn)
                 fl = $0; sub(/.*"flat": /, "", fl); sub(/,.*/, "", fl)
                 if (fl > 0) print fn "\t" fl }' "$tmp/s.json" | LC_ALL=C sort > "$tmp/stat.leaf"
        [ -s "$tmp/cpu.leaf" ] && cpu_seen=$((cpu_seen + 1))
        if [ -s "$tmp/cpu.leaf" ] && diff "$tmp/stat.leaf" "$tmp/cpu.leaf" > "$tmp/d"; then ok
        else bad "$b: cpu flat per function differs from stat's (< stat, > pprof):"; head -6 "$tmp/d"; fi
        "$ctrace" pprof cpu --hz=1000 "$f" -o "$tmp/cpu1k.pb.gz"
        tot=$(raw "$tmp/cpu1k.pb.gz" | sed -n 's/^total //p')
        if [ "$tot" = "$samples $((samples * 1000000))" ]; then ok
        else bad "$b: cpu --hz=1000 total [$tot], want $samples x 1ms"; fi
    fi

    # region: against stat's Regions.
    if "$ctrace" pprof region "$f" -o "$tmp/reg.pb.gz" 2> "$tmp/ct.err"; then ok
    else bad "$b: ctrace pprof region failed: $(head -c 200 "$tmp/ct.err")"; continue; fi
    raw "$tmp/reg.pb.gz" 1 | awk -F'\t' '/^leaf / && $2 ~ /^region: / {
            split($1, v, " "); n = $2; sub(/^region: /, "", n); print n "\t" v[2] "\t" v[3] }' \
        | LC_ALL=C sort > "$tmp/reg.pp"
    awk '/^  "regions": \[/ { s = 1; next } s && /^  [^ ]/ { s = 0 } s && /"name": / {
             n = $0; sub(/.*"name": "/, "", n); sub(/", "begun".*/, "", n)
             c = $0; sub(/.*"completed": /, "", c); sub(/,.*/, "", c)
             t = $0; sub(/.*"total_ns": /, "", t); sub(/[,}].*/, "", t)
             if (c > 0) print n "\t" c "\t" t }' "$tmp/s.json" | LC_ALL=C sort > "$tmp/reg.st"
    [ -s "$tmp/reg.st" ] && reg_seen=$((reg_seen + 1))
    if diff "$tmp/reg.st" "$tmp/reg.pp" > "$tmp/d"; then ok
    else bad "$b: region count/time per name differs from stat's (< stat, > pprof):"; head -6 "$tmp/d"; fi
done

# The fixtures hold CPU samples (cpuprof) and regions (annotations): the
# comparisons above must have compared something.
[ $cpu_seen -gt 0 ] && ok || bad "no trace with CPU samples was compared"
[ $reg_seen -gt 0 ] && ok || bad "no trace with completed regions was compared"

# Command line.
f=$1
"$ctrace" pprof --help > "$tmp/help" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'usage: ctrace pprof KIND FILE' "$tmp/help" && ok || bad "--help exit $rc"
"$ctrace" pprof bogus "$f" -o "$tmp/x.pb.gz" > /dev/null 2> "$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "unknown profile kind 'bogus'" "$tmp/e" && ok || bad "unknown kind exit $rc: $(cat "$tmp/e")"
"$ctrace" pprof sync "$f" > /dev/null 2> "$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "no output file" "$tmp/e" && ok || bad "no -o exit $rc (want 2)"
"$ctrace" pprof sync "$tmp/does-not-exist.trace" -o "$tmp/x.pb.gz" > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && [ ! -e "$tmp/x.pb.gz" ] && ok || bad "missing file exit $rc (want 1, no output)"
"$ctrace" pprof sync "$f" -o "$tmp/no/such/dir/x.pb.gz" > /dev/null 2> "$tmp/e"; rc=$?
[ $rc -eq 1 ] && grep -q "x.pb.gz: No such file or directory" "$tmp/e" && ok || bad "unwritable output exit $rc (want 1): $(cat "$tmp/e")"
echo old > "$tmp/keep.pb.gz"
"$ctrace" pprof sync "$tmp/does-not-exist.trace" -o "$tmp/keep.pb.gz" > /dev/null 2>&1
[ "$(cat "$tmp/keep.pb.gz")" = old ] && ok || bad "an unreadable trace clobbered the output file"
size=$(stat -c %s "$f")
head -c $((size * 2 / 3)) "$f" > "$tmp/cut.trace"
"$ctrace" pprof sched "$tmp/cut.trace" -o "$tmp/cut.pb.gz" > /dev/null 2> "$tmp/e"; rc=$?
if [ $rc -eq 1 ] && grep -q "the profile covers the events before it" "$tmp/e" &&
   "$go" tool pprof -top "$tmp/cut.pb.gz" > /dev/null 2>&1; then ok
else bad "cut trace: exit $rc (want 1), warning [$(head -c 200 "$tmp/e")], profile readable?"; fi
"$ctrace" pprof sync - -o - < "$f" > "$tmp/stdin.pb.gz" 2> "$tmp/e"
"$ctrace" pprof sync "$f" -o "$tmp/file.pb.gz"
if [ "$(raw "$tmp/stdin.pb.gz")" = "$(raw "$tmp/file.pb.gz")" ]; then ok
else bad "stdin to stdout gives another profile: $(head -c 200 "$tmp/e")"; fi

echo "pprof_vs_go: $pass passed, $fail failed"
[ $fail -eq 0 ]
