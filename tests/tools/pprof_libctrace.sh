#!/usr/bin/env bash
# pprof_libctrace.sh CTRACE EXAMPLE...
#
# `ctrace pprof` on traces libctrace writes: runs each example program
# (examples/: custom_block's ring-buffer waits, annotations' regions and
# tasks, cpuburn's CPU samples) to a trace, then checks it as pprof_vs_go.sh checks the
# fixtures (profiles equal to Go 1.23's `go tool trace -pprof=`, totals and
# cpu/region equal to `ctrace stat`).  Exit 77 (skip) without Go 1.23.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: pprof_libctrace.sh CTRACE EXAMPLE..." >&2; exit 2; }
ctrace=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 23
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
traces=()
for ex in "$@"; do
    t=$tmp/$(basename "$ex").trace
    "$ex" "$t" > /dev/null || { echo "FAIL: $ex exited $?"; exit 1; }
    traces+=("$t")
done
bash "$here/pprof_vs_go.sh" "$ctrace" "${traces[@]}"
