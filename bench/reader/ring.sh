#!/bin/bash
# bench/reader/ring.sh [TRACE] - the read-ahead handoff against the size of
# its ring: every event of TRACE through ctrace_reader_next() with the
# reading on a thread of its own (bench_read_all -j 2 --ring N), for rings
# of 8 to 128 blocks of 512 events (69.6 KB each), then the default (twice
# one core's L2 cache), and -j 1 for reference.  REPS rounds (default 5),
# interleaved; prints the median wall time and peak RSS of each.  The ring's default
# comes from this (src/reader/ahead.c, docs/PERFORMANCE.md, session 16):
# a ring that fits in the consumer's cache makes the producer wait at
# every cache line it rewrites.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${READ_ALL:-$root/build/bench/reader/bench_read_all}
trace=${1:-$root/build-bench/reader/big120.go123.trace}
reps=${REPS:-5}
[ -x "$bin" ] || { echo "ring.sh: $bin not built (ninja -C build bench_read_all)" >&2; exit 1; }
[ -f "$trace" ] || { echo "ring.sh: $trace not found (bench/reader/run.sh makes it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rows="1 8 16 32 48 64 96 128 default"
for r in $(seq "$reps"); do
  for n in $rows; do
    case $n in
      1) set -- -j 1 ;;
      default) set -- -j 2 ;;
      *) set -- -j 2 --ring "$n" ;;
    esac
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$bin" "$@" "$trace" >/dev/null
    cat "$tmp/t" >>"$tmp/$n"
  done
done
l2=$(getconf LEVEL2_CACHE_SIZE 2>/dev/null || echo unknown)
echo "machine: $(nproc) cores, L2 $l2 bytes, load $(cut -d' ' -f1-3 /proc/loadavg); $reps rounds; $trace"
printf "%-32s %7s %10s\n" reading "wall" "peak RSS"
for n in $rows; do
  case $n in
    1) label="-j 1 (no thread)" ;;
    default) label="-j 2, default ring" ;;
    *) label="-j 2, $n blocks ($((n * 512 * 136 / 1024)) KB)" ;;
  esac
  w=$(cut -d' ' -f1 "$tmp/$n" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  m=$(cut -d' ' -f2 "$tmp/$n" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  awk -v l="$label" -v w="$w" -v m="$m" 'BEGIN { printf "%-32s %6ss %8.1fMB\n", l, w, m / 1024 }'
done
