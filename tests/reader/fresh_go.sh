#!/bin/bash
# fresh_go.sh CTRACE - builds tests/reader/goprog (standard library only)
# with Go 1.22 and with Go 1.23, records a multi-generation trace with each
# (goroutines, channels, mutexes, syscalls, GC, tasks/regions/logs and CPU
# samples), and compares ctrace with Go 1.23's parser on both.  Exit 77
# (skipped) without Go 1.22 or 1.23 (tests/go_toolchain.sh).
set -u
ctrace=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 22 23
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export GOFLAGS=-mod=mod GOPATH=$tmp/gopath GOCACHE=$tmp/gocache
mkdir -p "$tmp/prog" "$tmp/traces"
cp "$here/goprog/main.go" "$tmp/prog/main.go"
(cd "$tmp/prog" && printf 'module fresh\n\ngo 1.22\n' >go.mod)
i=0
for go in "$GO122" "$GO123"; do
  i=$((i + 1))
  (cd "$tmp/prog" && "$go" build -o "$tmp/prog$i" .) || { echo "FAIL: build with $go"; exit 1; }
  "$tmp/prog$i" "$tmp/traces/fresh$i.trace" || { echo "FAIL: run"; exit 1; }
done
"$ctrace" check "$tmp"/traces/*.trace || exit 1
# Fresh traces may hold simultaneous events of different threads, which
# Go itself orders at random (compare_go.sh, canon).
TIES_OK=1 exec "$here/compare_go.sh" "$ctrace" "$tmp/traces"
