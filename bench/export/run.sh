#!/bin/bash
# bench/export/run.sh [SIZE_MB] [CTRACE] - `ctrace export` throughput and
# memory next to `ctrace check` (the reader alone) on the same input: the
# largest fixture (testdata/traces) and a generated Go 1.23 trace of SIZE_MB
# (default 100; bench/reader's generator, cached under build-bench/).  The
# output goes to /dev/null (the exporter writes it all the same), so disk
# speed is not measured; except csv's, a directory of tables, written under
# build-bench/ (into the page cache) and removed after each run.  Prints CPU time (user+sys: fair on a shared
# machine), MB/s of input by CPU time, and peak RSS.
set -eu
size=${1:-100}
root=$(cd "$(dirname "$0")/../.." && pwd)
ctrace=${2:-$root/build/src/tools/ctrace}
go=${GO123:-/usr/lib/go-1.23/bin/go}
out=$root/build-bench/reader
mkdir -p "$out"
big=$out/big${size}.go123.trace
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
if [ ! -s "$big" ]; then
  (cd "$root/bench/reader/genbig" && [ -f go.mod ] || printf 'module genbig\n\ngo 1.22\n' >go.mod)
  (cd "$root/bench/reader/genbig" && "$go" build -o "$out/genbig" .)
  "$out/genbig" "$big" "$size"
fi
fixture=$(ls -S "$root"/testdata/traces/*.trace | head -1)
run() { # trace name command...
  local trace=$1 name=$2; shift 2
  local bytes reps=1
  bytes=$(stat -c %s "$trace")
  [ "$bytes" -lt 10000000 ] && reps=50 # small inputs: repeat for a measurable time
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" \
    sh -c 'n=$1; shift; for i in $(seq "$n"); do "$@" >/dev/null || exit 1; done' _ "$reps" "$@" \
    2>"$out/err.txt" || { echo "$name: failed: $(head -3 "$out/err.txt")"; return; }
  read -r secs us ss kb <"$out/time.txt"
  awk -v n="$name" -v s="$secs" -v c="$us $ss" -v kb="$kb" -v b="$bytes" -v r="$reps" 'BEGIN {
    split(c, a, " "); cpu = (a[1] + a[2]) / r; if (cpu == 0) cpu = 0.001;
    printf "%-40s %8.3f s cpu %8.1f MB/s %8.1f MB peak RSS\n", n, cpu, b / 1048576 / cpu, kb / 1024 }'
}
for t in "$fixture" "$big"; do
  echo "trace: $t, $(($(stat -c %s "$t") / 1024)) KB, $("$ctrace" check "$t" | sed 's/.*: //')"
  run "$t" "ctrace check" "$ctrace" check "$t"
  run "$t" "ctrace export -f perfetto -o /dev/null" "$ctrace" export -f perfetto -o /dev/null "$t"
  run "$t" "ctrace export -f chrome -o /dev/null" "$ctrace" export -f chrome -o /dev/null "$t"
  run "$t" "ctrace export -f go1.19 -o /dev/null" "$ctrace" export -f go1.19 -o /dev/null "$t"
  run "$t" "ctrace export -f csv -o DIR" sh -c '"$1" export -f csv -o "$2" "$3" && rm -rf "$2"' _ "$ctrace" "$out/csv.tmp" "$t"
done
