#!/usr/bin/env bash
# stat_libctrace.sh ANNOTATIONS_EXAMPLE CTRACE_TOOL
#
# `ctrace stat` on a trace libctrace writes: runs examples/annotations (3
# requests: tasks "request" and "db-query", regions "handle", "parse",
# "respond", "query"), checks Go accepts the trace, runs stat_vs_go.sh on it
# (stat's numbers against Go's pprof profiles and parser), and checks the
# names and counts stat reports.  Exit 77 (skip) without Go 1.22/1.23.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: stat_libctrace.sh ANNOTATIONS_EXAMPLE CTRACE_TOOL" >&2; exit 2; }
ex=$1 ctrace=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 22 23
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=$tmp/annotations.trace

"$ex" "$t" > /dev/null || { echo "FAIL: $ex exited $?"; exit 1; }
"$here/../../scripts/gotrace-validate.sh" "$t" || { echo "FAIL: Go rejects the trace"; exit 1; }
"$here/stat_vs_go.sh" "$ctrace stat" "$t" || exit 1

"$ctrace" stat --json "$t" > "$tmp/s.json" || { echo "FAIL: stat --json exit $?"; exit 1; }
fail=0
for want in 'tasks request begun 3' 'tasks db-query begun 3' 'tasks request completed 3' \
             'regions handle completed 3' 'regions query completed 3' 'regions parse completed 3' \
             'regions respond completed 3'; do
    set -- $want
    got=$(awk -v sec="\"$1\": " -v name="{\"name\": \"$2\"," -v fld="\"$3\": " '
        index($0, sec) == 3 { in_sec = 1; next }
        in_sec && /^  [^ ]/ { in_sec = 0 }
        in_sec && index($0, name) { i = index($0, fld); s = substr($0, i + length(fld)); sub(/[,}].*/, "", s); print s; exit }
    ' "$tmp/s.json")
    if [ "$got" = "$4" ]; then :; else echo "FAIL: $1 $2 $3: want $4, got [$got]"; fail=1; fi
done
# The main thread is named by its own function, not libc's entry point.
grep -q '"start": "main"' "$tmp/s.json" || { echo "FAIL: no goroutine group \"main\""; fail=1; }
# A thread's group is its start routine, which the pthread_create interposer
# records.  Under a sanitizer it cannot: TSan builds have no interposers, and
# ASan's own pthread_create runs first and hands ours its trampoline.
if [ -n "${CTRACE_SANITIZE:-}" ]; then
    echo "skip: goroutine group \"db_worker\" (start routines are not seen under the $CTRACE_SANITIZE sanitizer)"
else
    grep -q '"start": "db_worker"' "$tmp/s.json" || { echo "FAIL: no goroutine group \"db_worker\""; fail=1; }
fi
# libctrace's zero-length waits (src/format/gotrace.h: the end of a wait,
# a thread's start, the main thread's name) are in the trace, but nothing
# waited there: they are not rows of the blocking table (before the fix a
# program without real waits had only those rows).
"$ctrace" dump "$t" > "$tmp/dump" || { echo "FAIL: ctrace dump exit $?"; fail=1; }
grep -qE 'reason="ctrace: (end of wait|thread start|main thread)"' "$tmp/dump" ||
    { echo "FAIL: the trace has no zero-length wait to check stat against"; fail=1; }
"$ctrace" stat --json --top=100000 "$t" > "$tmp/all.json" || { echo "FAIL: stat --json --top exit $?"; fail=1; }
if grep -qE '"reason": "ctrace: (end of wait|end of syscall|thread start|main thread)"' "$tmp/all.json"; then
    echo "FAIL: a zero-length wait is a row of the blocking table"; fail=1
fi
[ $fail = 0 ] && echo "stat_libctrace: 10 passed, 0 failed" || echo "stat_libctrace: failed"
exit $fail
