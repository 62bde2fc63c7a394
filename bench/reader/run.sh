#!/bin/bash
# bench/reader/run.sh [SIZE_MB] [CTRACE] - reader throughput and memory:
# generates a Go 1.23 trace of SIZE_MB (default 200) once (cached under
# build-bench/), then times `ctrace check` (mmap and stdin streaming) and
# `ctrace dump` next to Go 1.23's `go tool trace -d=1 FILE >/dev/null`,
# printing events/s, MB/s and peak RSS of each.
set -eu
size=${1:-200}
root=$(cd "$(dirname "$0")/../.." && pwd)
ctrace=${2:-$root/build-reader/src/tools/ctrace}
go=${GO123:-/usr/lib/go-1.23/bin/go}
out=$root/build-bench/reader
mkdir -p "$out"
trace=$out/big${size}.go123.trace
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
if [ ! -s "$trace" ]; then
  (cd "$root/bench/reader/genbig" && [ -f go.mod ] || printf 'module genbig\n\ngo 1.22\n' >go.mod)
  (cd "$root/bench/reader/genbig" && "$go" build -o "$out/genbig" .)
  "$out/genbig" "$trace" "$size"
fi
bytes=$(stat -c %s "$trace")
events=$("$ctrace" check "$trace" | sed -n 's/.* \([0-9]*\) events.*/\1/p')
echo "trace: $trace, $((bytes >> 20)) MB, $events events"
# Wall time, CPU time (user+sys: fair on a shared machine), rates by CPU
# time, and peak RSS.
run() { # name command...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/err.txt" || true
  read -r secs us ss kb <"$out/time.txt"
  awk -v n="$name" -v s="$secs" -v c="$us $ss" -v kb="$kb" -v b="$bytes" -v e="$events" 'BEGIN {
    split(c, a, " "); cpu = a[1] + a[2]; if (cpu == 0) cpu = 0.001;
    printf "%-26s %8.2f s wall %8.2f s cpu %12.0f events/s %8.1f MB/s %8.1f MB peak RSS\n",
      n, s, cpu, e / cpu, b / 1048576 / cpu, kb / 1024 }'
}
run "ctrace check (mmap)" "$ctrace" check "$trace"
run "ctrace check (stdin pipe)" sh -c "cat '$trace' | '$ctrace' check -"
run "ctrace dump" "$ctrace" dump "$trace"
run "go 1.23 tool trace -d=1" "$go" tool trace -d=1 "$trace"
