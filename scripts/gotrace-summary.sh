#!/usr/bin/env bash
# gotrace-summary.sh [--v2-model] FILE
#
# Prints a stable, sorted summary of a Go execution trace as Go's own
# parser sees it, one fact per line, tab-separated "section<TAB>key<TAB>n"
# (or "section<TAB>n"). Names are double-quoted. See testdata/README.md.
#
#   v2 traces (header "go 1.22 trace" and later): `go tool trace -d=1` of
#     Go 1.23 (GOTRACE_GO=/usr/lib/go-1.22/bin/go to use another toolchain).
#   Toolchains are looked for in CTRACE_GO_ROOT (default /usr/lib).
#   v1 traces (header "go 1.5" .. "go 1.21 trace"): `go tool trace -d` of
#     Go 1.19 for versions up to 1.19, of Go 1.22 for 1.20/1.21.
#   --v2-model: read every version with Go 1.23's `go tool trace -d=1`, which
#     converts v1 traces into the v2 event model (as ctrace's reader does).
#
# Exits 1 (with Go's error on stderr) if Go's parser rejects the trace,
# 2 on usage errors or a missing toolchain.
set -uo pipefail

usage() { echo "usage: gotrace-summary.sh [--v2-model] FILE" >&2; exit 2; }
v2model=0
[ "${1:-}" = --v2-model ] && { v2model=1; shift; }
[ $# -eq 1 ] || usage
case $1 in -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
file=$1
[ -r "$file" ] || { echo "gotrace-summary: cannot read $file" >&2; exit 2; }

# Header: "go 1.NN trace" padded with NULs to 16 bytes.
header=$(head -c 16 "$file" | tr -d '\0')
minor=$(printf '%s' "$header" | sed -nE 's/^go 1\.([0-9]+) trace$/\1/p')
if [ -z "$minor" ]; then
    echo "gotrace-summary: $file: not a Go execution trace (header \"$header\")" >&2
    exit 1
fi

root=${CTRACE_GO_ROOT:-/usr/lib}
if [ "$minor" -ge 22 ] || [ $v2model = 1 ]; then
    format=v2
    go=${GOTRACE_GO:-$root/go-1.23/bin/go}
    dflag=-d=1
else
    format=v1
    if [ "$minor" -le 19 ]; then go=${GOTRACE_GO_V1:-$root/go-1.19/bin/go}
    else go=${GOTRACE_GO_V1:-$root/go-1.22/bin/go}; fi
    dflag=-d
fi
[ -x "$go" ] || { echo "gotrace-summary: $go not installed (scripts/install-deps.sh)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=off
"$go" tool trace "$dflag" "$file" > "$tmp/out" 2> "$tmp/err"
rc=$?
# Go's trace tool reports a parse error on stderr and exits 1. Go <= 1.21's
# tool (and 1.22's for old traces) also logs "Parsing trace..." to stderr.
grep -v 'Parsing trace\.\.\.$' "$tmp/err" > "$tmp/err2"
if [ $rc -ne 0 ] || [ -s "$tmp/err2" ]; then
    echo "gotrace-summary: $file: Go $("$go" env GOVERSION) rejected the trace:" >&2
    cat "$tmp/err2" >&2
    [ $rc -ne 0 ] || rc=1
    exit 1
fi

{
printf 'header\t"%s"\n' "$header"
printf 'format\t%s\n' "$format"
if [ $format = v2 ]; then
    # Event lines start with "M=<thread> P=<proc> G=<goroutine> <Kind> Time=<ns>";
    # stack frames and blank lines between events are skipped.
    LC_ALL=C awk '
    function q(s) { return "\"" s "\"" }
    # value of a quoted field name="..." (dump quotes with Go %q; names here
    # carry no escaped quotes in practice)
    function qf(name,   i, s, j) {
        i = index($0, " " name "=\"")
        if (i == 0) return ""
        s = substr($0, i + length(name) + 3)
        j = index(s, "\" ")
        if (j == 0) { j = length(s); if (substr(s, j, 1) == "\"") j--; else j++ ; return substr(s, 1, j) }
        return substr(s, 1, j - 1)
    }
    function nf(name,   i, s) {
        i = index($0, " " name "=")
        if (i == 0) return ""
        s = substr($0, i + length(name) + 2)
        sub(/[ ].*$/, "", s)
        return s
    }
    /^M=/ {
        events++
        m = substr($1, 3); p = substr($2, 3); g = substr($3, 3); kind = $4
        if (m != "-1") threads[m] = 1
        if (p != "-1") procs[p] = 1
        if (g != "-1") gors[g] = 1
        t = substr($5, 6) + 0
        if (events == 1 || t < tmin) tmin = t
        if (events == 1 || t > tmax) tmax = t
        kinds[kind]++
        if (kind == "StateTransition") {
            res = nf("Resource"); sub(/\(.*$/, "", res)
            tr = $NF
            trans[res " " tr]++
            reason = qf("Reason")
            if (res == "Goroutine") {
                id = nf("GoID"); gors[id] = 1
                if (tr == "Running->Waiting") block[q(reason)]++
                else if (reason != "") reasons[tr " " q(reason)]++
                if (tr ~ /^NotExist->/) created++
            } else if (res == "Proc") {
                procs[nf("ProcID")] = 1
            }
        } else if (kind == "TaskBegin") taskb[q(qf("Type"))]++
        else if (kind == "TaskEnd") taske[q(qf("Type"))]++
        else if (kind == "RegionBegin") regb[q(qf("Type"))]++
        else if (kind == "RegionEnd") rege[q(qf("Type"))]++
        else if (kind == "Log") logs[q(qf("Category"))]++
        else if (kind == "RangeBegin") ranges[q(qf("Name"))]++
        else if (kind == "Metric") metrics[q(qf("Name"))]++
        else if (kind == "Label") labels[q(qf("Label"))]++
        else if (kind == "StackSample") samples++
        else if (kind == "Sync") gens++
    }
    END {
        printf "events\t%d\n", events
        printf "duration_ns\t%d\n", tmax - tmin
        for (k in kinds) printf "kind\t%s\t%d\n", k, kinds[k]
        for (k in trans) printf "transition\t%s\t%d\n", k, trans[k]
        for (k in block) printf "block\t%s\t%d\n", k, block[k]
        for (k in reasons) printf "reason\t%s\t%d\n", k, reasons[k]
        n = 0; for (k in gors) n++; printf "goroutines\t%d\n", n
        n = 0; for (k in procs) n++; printf "procs\t%d\n", n
        n = 0; for (k in threads) n++; printf "threads\t%d\n", n
        printf "goroutines_created\t%d\n", created
        for (k in taskb) printf "task_begin\t%s\t%d\n", k, taskb[k]
        for (k in taske) printf "task_end\t%s\t%d\n", k, taske[k]
        for (k in regb) printf "region_begin\t%s\t%d\n", k, regb[k]
        for (k in rege) printf "region_end\t%s\t%d\n", k, rege[k]
        for (k in logs) printf "log\t%s\t%d\n", k, logs[k]
        for (k in ranges) printf "range\t%s\t%d\n", k, ranges[k]
        for (k in metrics) printf "metric\t%s\t%d\n", k, metrics[k]
        for (k in labels) printf "label\t%s\t%d\n", k, labels[k]
        printf "cpu_samples\t%d\n", samples
        printf "generations\t%d\n", gens
    }' "$tmp/out"
else
    # v1 lines: "<ts> <Kind> p=<P> g=<G> off=<offset> [args...]"; some
    # args repeat a key (GoCreate ... g=<new>), user names run to the end.
    LC_ALL=C awk '
    function q(s) { return "\"" s "\"" }
    function rest(key,   i) {
        i = index($0, " " key "=")
        return i ? substr($0, i + length(key) + 2) : ""
    }
    /^[0-9]+ [A-Za-z]+ / {
        events++
        kind = $2; kinds[kind]++
        t = $1 + 0
        if (events == 1 || t < tmin) tmin = t
        if (events == 1 || t > tmax) tmax = t
        for (i = 3; i <= NF; i++) {
            if ($i ~ /^g=[0-9]+$/) { g = substr($i, 3); if (g != "0") gors[g] = 1 }
            else if ($i ~ /^p=[0-9]+$/) { p = substr($i, 3) + 0; if (p < 1000000) procs[p] = 1 }
            else if ($i ~ /^thread=[0-9]+$/) threads[substr($i, 8)] = 1
        }
        if (kind ~ /^GoBlock/ || kind == "GoSleep" || kind == "GoWaiting" || kind == "GoInSyscall") block[kind]++
        if (kind == "GoCreate") created++
        if (kind == "UserTaskCreate") taskb[q(rest("name"))]++
        else if (kind == "UserRegion") {
            name = q(rest("name"))
            if ($0 ~ / mode=0 /) regb[name]++; else rege[name]++
        } else if (kind == "UserLog") {
            c = rest("category"); sub(/ message=.*$/, "", c); logs[q(c)]++
        } else if (kind == "CPUSample") samples++
        else if (kind == "GoStartLabel") labels[q(rest("label"))]++
    }
    END {
        printf "events\t%d\n", events
        printf "duration_ns\t%d\n", tmax - tmin
        for (k in kinds) printf "kind\t%s\t%d\n", k, kinds[k]
        for (k in block) printf "block\t%s\t%d\n", k, block[k]
        n = 0; for (k in gors) n++; printf "goroutines\t%d\n", n
        n = 0; for (k in procs) n++; printf "procs\t%d\n", n
        n = 0; for (k in threads) n++; printf "threads\t%d\n", n
        printf "goroutines_created\t%d\n", created
        for (k in taskb) printf "task_begin\t%s\t%d\n", k, taskb[k]
        for (k in regb) printf "region_begin\t%s\t%d\n", k, regb[k]
        for (k in rege) printf "region_end\t%s\t%d\n", k, rege[k]
        for (k in logs) printf "log\t%s\t%d\n", k, logs[k]
        for (k in labels) printf "label\t%s\t%d\n", k, labels[k]
        printf "cpu_samples\t%d\n", samples
    }' "$tmp/out"
fi
} | LC_ALL=C sort
