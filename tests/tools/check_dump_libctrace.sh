#!/bin/bash
# check_dump_libctrace.sh CTRACE EXAMPLE_BIN - a trace libctrace writes
# (EXAMPLE_BIN, a libctrace example taking the trace's path as its first
# argument) must pass `ctrace check`, and `ctrace dump --go` must print
# what Go 1.23's parser prints (tests/reader/compare_go.sh).  Exit 77
# (skipped) without Go 1.23.
set -u
ctrace=$1 example=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 23
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib"
t=$tmp/lib/lib.trace
(cd "$tmp" && "$example" "$t" > example.out 2>&1) ||
  { echo "FAIL: $example exited $?: $(tail -n 5 "$tmp/example.out")"; exit 1; }
[ -s "$t" ] || { echo "FAIL: $example wrote no trace"; exit 1; }
"$ctrace" check "$t" || { echo "FAIL: ctrace check rejects the trace libctrace wrote"; exit 1; }
echo "ok: ctrace check accepts the trace libctrace wrote"
"$here/../reader/compare_go.sh" "$ctrace" "$tmp/lib" || { echo "FAIL: ctrace dump --go differs from Go"; exit 1; }
echo "ok: libctrace trace: ctrace = Go's parser"
