#!/bin/bash
# bench/reader/run.sh [SIZE_MB] [CTRACE] - reader throughput and memory,
# ctrace next to Go 1.23's streaming parser, in the same run.
#
# Inputs (generated once, cached under build-bench/reader/, never committed):
#  - a Go 1.23 trace of SIZE_MB (default 120) written by bench/reader/genbig;
#  - a ctrace trace of ~100 MB (20 M events, fp16 stacks) written by
#    bench_events --trace (libctrace's own writer), if the build has it.
# Peers: bench/reader/goreader (Go 1.23's internal/trace Reader reading
# every event, no analysis; built with `go build -overlay`, see its header).
#
# `check` is the default (two threads on a file of 32 MiB or more: the
# split check, docs/ARCHITECTURE.md), `check_j1` the one-thread reading.
# REPS runs (default 5) of each, interleaved (ctrace, Go, ctrace...) so that
# the load of a shared machine hits both alike; medians of wall time and of
# CPU time (user+sys), MB/s and events/s by each, peak RSS (max over runs),
# and the ratio to Go's median measured in this run.  TOOL_REPS runs
# (default 3) of `stat`, `pprof` and `export` on the Go trace, to compare
# their rate with `check`'s (TOOL_REPS=0 skips them): stat and pprof on
# one thread and reading ahead (-j 2), every export format (their output
# to /dev/null, csv's to a directory under build-bench).  BASE_CTRACE=PATH
# also times that build's `check`, `check -j 1`, `stat` and `export -f
# perfetto` in the same rounds (before/after).
set -eu
size=${1:-120}
root=$(cd "$(dirname "$0")/../.." && pwd)
ctrace=${2:-$root/build/src/tools/ctrace}
reps=${REPS:-5}
tool_reps=${TOOL_REPS:-3}
go=${GO123:-/usr/lib/go-1.23/bin/go}
out=$root/build-bench/reader
mkdir -p "$out"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOCACHE=${GOCACHE:-$out/gocache}

gotrace=$out/big${size}.go123.trace
if [ ! -s "$gotrace" ]; then
  (cd "$root/bench/reader/genbig" && [ -f go.mod ] || printf 'module genbig\n\ngo 1.22\n' >go.mod)
  (cd "$root/bench/reader/genbig" && "$go" build -o "$out/genbig" .)
  "$out/genbig" "$gotrace" "$size"
fi
goroot=$("$go" env GOROOT)
if [ ! -x "$out/goreader" ] || [ "$root/bench/reader/goreader/main.go" -nt "$out/goreader" ]; then
  printf '{"Replace":{"%s/src/ctracegoreader/main.go":"%s"}}\n' \
    "$(readlink -f "$goroot")" "$root/bench/reader/goreader/main.go" >"$out/overlay.json"
  (cd "$(readlink -f "$goroot")/src" && GOFLAGS= "$go" build -overlay "$out/overlay.json" \
    -o "$out/goreader" ./ctracegoreader)
fi
cttrace=$out/ctrace-block.trace
bench_events=$(dirname "$ctrace")/../../bench/runtime/bench_events
if [ ! -s "$cttrace" ] && [ -x "$bench_events" ]; then
  "$bench_events" --trace "$cttrace" --case block --ops 4000000 --stacks fp16 >/dev/null
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ctrace: $ctrace; go: $("$go" version)"

# one NAME TRACE command... : one run, appends "wall cpu kb" to $out/NAME.runs
one() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/err.txt" ||
    { echo "$name failed: $(head -3 "$out/err.txt")" >&2; return 1; }
  awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$out/time.txt" >>"$out/$name.runs"
}
# report NAME BYTES EVENTS [BASE]: medians of NAME's runs (and ratio to BASE's)
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {
  local name=$1 bytes=$2 events=$3 base=${4:-}
  local wall cpu kb bwall=0 bcpu=0
  wall=$(cut -d' ' -f1 "$out/$name.runs" | median)
  cpu=$(cut -d' ' -f2 "$out/$name.runs" | median)
  kb=$(cut -d' ' -f3 "$out/$name.runs" | sort -n | tail -1)
  if [ -n "$base" ]; then
    bwall=$(cut -d' ' -f1 "$out/$base.runs" | median)
    bcpu=$(cut -d' ' -f2 "$out/$base.runs" | median)
  fi
  awk -v n="$name" -v w="$wall" -v c="$cpu" -v kb="$kb" -v b="$bytes" -v e="$events" \
      -v bw="$bwall" -v bc="$bcpu" -v r="$(wc -l <"$out/$name.runs")" 'BEGIN {
    if (w == 0) w = 0.001; if (c == 0) c = 0.001;
    printf "%-34s %2d runs %7.2f s wall %7.2f s cpu %8.1f MB/s wall %8.1f MB/s cpu %6.1f M ev/s cpu %7.1f MB RSS",
      n, r, w, c, b / 1048576 / w, b / 1048576 / c, e / c / 1e6, kb / 1024
    if (bw > 0) printf "  x%.1f wall x%.1f cpu vs Go", bw / w, bc / c
    printf "\n" }'
}

bench() { # TRACE LABEL
  local trace=$1 label=$2 bytes events
  bytes=$(stat -c %s "$trace")
  events=$("$ctrace" check "$trace" | sed -n 's/.* \([0-9]*\) events.*/\1/p')
  echo
  echo "== $label: $trace, $((bytes >> 20)) MB, $events events"
  rm -f "$out"/*.runs
  for _ in $(seq "$reps"); do
    one check "$ctrace" check "$trace"
    one check_j1 "$ctrace" check -j 1 "$trace"
    one go "$out/goreader" "$trace"
    one check_stdin sh -c "cat '$trace' | '$ctrace' check -"
    [ -z "${BASE_CTRACE:-}" ] || one check_base "$BASE_CTRACE" check "$trace"
    [ -z "${BASE_CTRACE:-}" ] || one check_base_j1 "$BASE_CTRACE" check -j 1 "$trace"
  done
  report go "$bytes" "$events"
  report check "$bytes" "$events" go
  report check_j1 "$bytes" "$events" go
  echo "   (check: $("$ctrace" check -v "$trace" | sed -n '2s/^[^:]*: //p'))"
  report check_stdin "$bytes" "$events" go
  [ -z "${BASE_CTRACE:-}" ] || report check_base "$bytes" "$events" go
  [ -z "${BASE_CTRACE:-}" ] || report check_base_j1 "$bytes" "$events" go
  [ "$tool_reps" -gt 0 ] && [ "$label" = "Go 1.23 trace" ] || return 0
  local csvdir=$out/csv.out tools="stat stat_j2 pprof_sched pprof_sched_j2 export_perfetto export_chrome export_csv export_go119"
  for _ in $(seq "$tool_reps"); do
    one stat "$ctrace" stat "$trace"
    one stat_j2 "$ctrace" stat -j 2 "$trace"
    one pprof_sched "$ctrace" pprof sched "$trace" -o /dev/null
    one pprof_sched_j2 "$ctrace" pprof sched -j 2 "$trace" -o /dev/null
    one export_perfetto "$ctrace" export -f perfetto -o /dev/null "$trace"
    one export_chrome "$ctrace" export -f chrome -o /dev/null "$trace"
    one export_csv "$ctrace" export -f csv -o "$csvdir" "$trace"
    one export_go119 "$ctrace" export -f go1.19 -o /dev/null "$trace"
    rm -rf "$csvdir"
    [ -z "${BASE_CTRACE:-}" ] || one stat_base "$BASE_CTRACE" stat "$trace"
    [ -z "${BASE_CTRACE:-}" ] || one export_perfetto_base "$BASE_CTRACE" export -f perfetto -o /dev/null "$trace"
  done
  [ -z "${BASE_CTRACE:-}" ] || tools="$tools stat_base export_perfetto_base"
  for t in $tools; do report "$t" "$bytes" "$events" go; done
}

bench "$gotrace" "Go 1.23 trace"
[ -s "$cttrace" ] && bench "$cttrace" "ctrace trace"
