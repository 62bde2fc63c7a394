#!/bin/bash
# bench/run-runtime.sh - the runtime benchmark of issue 2: what libctrace adds
# per traced event, next to Go 1.23's tracer on the equivalent Go loops.
#
# Usage: bash bench/run-runtime.sh            (from anywhere; ~3-4 min)
#   env: REPS (default 5), SCALE (multiplies operation counts, default 0.5),
#        BUILD (default <repo>/build-bench), GO123 (default /usr/lib/go-1.23/bin/go)
#
# What it does, in one run:
#   1. builds bench_events and bench_events_static (Release) and the Go
#      program bench/go/tracerbench with Go 1.23 (local toolchain, temporary
#      GOPATH/GOCACHE, nothing fetched);
#   2. checks the Go events per operation that bench_events assumes
#      (region 2, log 1, block+unblock 5, task 2) by writing traces of n and
#      2n operations and counting the events Go 1.23's own parser reports;
#   3. runs bench_events five times: shared library tracing to a discarding
#      callback (membarrier handshake: the main figures), the same with
#      CTRACE_NO_MEMBARRIER=1 (fallback: a full fence per event), tracing to
#      /dev/null through ctrace_start_file, the static library, and the
#      flight recorder (events kept in its ring, nothing written);
#   4. runs tracerbench (Go 1.23) and prints one table: ctrace's figures,
#      the variants, Go's, and the ratio ctrace/Go per case.
# See bench/runtime/bench_events.c for what is timed and how.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-bench}
go=${GO123:-/usr/lib/go-1.23/bin/go}
reps=${REPS:-5}
scale=${SCALE:-0.5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- 1. build ----
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }
cmake --build "$build" -j2 --target bench_events bench_events_static >>"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }
bench=$build/bench/runtime/bench_events
bench_static=$build/bench/runtime/bench_events_static

export GOTOOLCHAIN=local GOFLAGS=-mod=mod GO111MODULE=off
export GOPATH=$work/gopath GOCACHE=$work/gocache
"$go" build -o "$work/tracerbench" "$root/bench/go/tracerbench/main.go"

# ---- machine ----
echo "== machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'),"\
  "kernel $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?'),"\
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $("$go" version); reps $reps, scale $scale"

# ---- 2. events per operation, counted by Go 1.23's parser ----
count_events() { # op ops -> number of events go tool trace -d=1 lists
  "$bench" --trace "$work/$1-$2.trace" --case "$1" --ops "$2"
  "$go" tool trace -d=1 "$work/$1-$2.trace" 2>"$work/d1.err" | grep -c '^M=' || { cat "$work/d1.err" >&2; return 1; }
}
printf '== Go events per operation (go1.23 tool trace -d=1, (events(2n) - events(n)) / n):'
for op in region:2 log:1 block:5 task:2; do
  name=${op%%:*} want=${op##*:}
  e1=$(count_events "$name" 2000) e2=$(count_events "$name" 4000)
  got=$(awk -v a="$e1" -v b="$e2" 'BEGIN { printf "%g", (b - a) / 2000 }')
  printf ' %s %s' "$name" "$got"
  if [ "$got" != "$want" ]; then
    echo; echo "run-runtime.sh: $name writes $got events per operation, bench_events assumes $want" >&2
    exit 1
  fi
done
echo

# ---- 3. ctrace ----
run() { # label file command...
  local label=$1 file=$2; shift 2
  echo "== $label"
  "$@" --reps "$reps" --scale "$scale" | tee "$work/$file" | grep -v '^ctrace \|^tsc \|^mono \|^clock '
}
run "ctrace, shared library, discarding callback (membarrier)" main.txt "$bench"
run "ctrace, CTRACE_NO_MEMBARRIER=1 (fence per event)" fence.txt env CTRACE_NO_MEMBARRIER=1 "$bench"
run "ctrace, ctrace_start_file(\"/dev/null\")" devnull.txt "$bench" --sink /dev/null
run "ctrace, static library, discarding callback" static.txt "$bench_static"
run "ctrace, flight recorder (ring in memory, MaxBytes 32 MiB)" flight.txt "$bench" --sink flight

# ---- 4. Go 1.23 ----
echo "== Go 1.23 tracerbench (wall time, best of $reps; stacks always on)"
"$work/tracerbench" -reps "$reps" -scale "$scale" | tee "$work/go.txt" | grep '^#'

# ---- the table ----
echo
echo "== Summary: ns added per Go event (CPU time, median of $reps; min in brackets)"
awk -v reps="$reps" '
  FNR == 1 { f = FILENAME; sub(/.*\//, "", f); sub(/\.txt$/, "", f) }
  $1 == "ctrace" {
    k = $2 " " $3 " " $4
    if (f == "main") { keys[++nk] = k; med[k] = $5; mn[k] = $6; net[k] = $7; call[k] = $8; netcall[k] = $9; bpe[k] = $10; drop[k] = $11 }
    else v[f, k] = $5
    if ($11 > 0) dropped = 1
  }
  $1 == "tsc" && f == "main" { tsc = $2 }
  $1 == "mono" && f == "main" { mono = $2 }
  $1 == "clock" && f == "main" { clk = $2 }
  $1 == "go123" { split($2, a, "_p"); gons[a[1] " " a[2]] = $3; gob[a[1] " " a[2]] = $4 }
  END {
    printf "timestamp read: rdtsc %.2f ns, clock_gettime(CLOCK_MONOTONIC) %.2f ns; ctrace reads %s; net = total - one read per API call\n", tsc, mono, clk
    printf "%-6s %3s %5s | %14s %7s %8s %9s %6s %6s | %7s %8s %7s %7s | %7s %5s %7s\n",
      "case", "thr", "stack", "ns/ev [min]", "net/ev", "ns/call", "net/call", "B/ev", "target",
      "fence", "devnull", "static", "flight", "go1.23", "goB", "ctr/go"
    for (i = 1; i <= nk; i++) {
      k = keys[i]; split(k, p, " ")
      g = (p[1] " " p[2]) in gons ? gons[p[1] " " p[2]] : ""
      ok = net[k] <= (p[3] == "none" ? 10 : 60) ? "ok" : "MISS"
      ok = ok (sprintf("%.2f", bpe[k]) + 0 <= 5 ? "" : ",B")
      printf "%-6s %3s %5s | %6.1f [%5.1f] %7.1f %8.1f %9.1f %6.2f %6s | %7.1f %8.1f %7.1f %7.1f | %7s %5s %7s\n",
        p[1], p[2], p[3], med[k], mn[k], net[k], call[k], netcall[k], bpe[k], ok,
        v["fence", k], v["devnull", k], v["static", k], v["flight", k],
        g == "" ? "-" : g, g == "" ? "-" : gob[p[1] " " p[2]],
        g == "" || g <= 0 ? "-" : sprintf("%.2f", med[k] / g)
      sumb += bpe[k]; nb++
      if (p[3] == "none") { sb0 += bpe[k]; nb0++ } else { sb1 += bpe[k]; nb1++ }
    }
    printf "bytes/event, mean over cases: all %.2f, stacks off %.2f, 16-frame stacks %.2f (target <= 5)\n",
      sumb / nb, sb0 / nb0, sb1 / nb1
    print "target: net/ev <= 10 ns without stack, <= 60 ns with stack; \",B\": over 5 bytes/event"
    print "fence/devnull/static/flight: ns/ev (median) with CTRACE_NO_MEMBARRIER=1, to /dev/null by ctrace_start_file, static library, flight recorder ring"
    print "go1.23: Go 1.23 tracer, ns/ev by wall time (best of runs) and B/ev; its region/log events always carry a stack;"
    print "        block = channel ping-pong (real park/ready), not an annotation: compare with care"
    if (dropped) print "WARNING: some runs dropped events (memory cap): their figures are not valid"
  }' "$work/main.txt" "$work/fence.txt" "$work/devnull.txt" "$work/static.txt" "$work/flight.txt" "$work/go.txt"
