#!/bin/bash
# bench/export/vs_check.sh BEFORE_CTRACE AFTER_CTRACE TRACE... - the tools
# that read a whole trace (stat, pprof sched, export to each format) next to
# `ctrace check` (the reader alone) on the same file, for two builds of
# ctrace (e.g. the branch point and the branch), issue 11's measure of "the
# tools' own work".  REPS rounds (default 3); in each round every command
# runs once with each build, interleaved, so the load of a shared machine
# hits both alike.  Prints, per trace and command, the median CPU time
# (user+sys) of each build, after/before, and after / check's median (the
# after build's check); then the same for the wall time and the peak RSS
# (the read-ahead thread of issue 11 trades CPU for wall time).  First rows:
# the reader alone (read, read -j 2: bench/reader/read_all.c).  Outputs go
# to /dev/null, csv's directory under build-bench/ (removed after each run).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
before=$1 after=$2
shift 2
reps=${REPS:-3}
out=$root/build-bench/vs_check
mkdir -p "$out"
rm -f "$out"/*.runs "$out"/*.wall "$out"/*.rss
# "read" and "read -j 2": every event through ctrace_reader_next() and
# nothing else (bench/reader/read_all.c), the bound of the other tools; the
# binary of this tree's build (READ_ALL) runs in both columns.
read_all=${READ_ALL:-$root/build/bench/reader/bench_read_all}
cmds=("check" "stat" "pprof sched" "export perfetto" "export chrome" "export csv" "export go1.19")
[ -x "$read_all" ] && cmds=("read" "read -j 2" "${cmds[@]}")
one() { # BUILD-LABEL CTRACE TRACE CMD: appends the CPU seconds to a .runs file
  local label=$1 ct=$2 t=$3 cmd=$4 key
  key=$(basename "$t")_$(echo "$cmd" | tr ' ' _)_$label
  case $cmd in
    check) set -- "$ct" check "$t" ;;
    read) set -- "$read_all" -j 1 "$t" ;;
    "read -j 2") set -- "$read_all" -j 2 "$t" ;;
    stat) set -- "$ct" stat "$t" ;;
    "pprof sched") set -- "$ct" pprof sched "$t" -o /dev/null ;;
    "export csv") set -- sh -c '"$1" export -f csv -o "$2" "$3"; rc=$?; rm -rf "$2"; exit $rc' _ "$ct" "$out/csv.tmp" "$t" ;;
    export*) set -- "$ct" export -f "${cmd#export }" -o /dev/null "$t" ;;
  esac
  /usr/bin/time -f "%U %S %e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/err.txt" ||
    { echo "failed: $label $cmd $t: $(head -2 "$out/err.txt")" >&2; return 0; }
  awk '{ printf "%.3f\n", $1 + $2 }' "$out/time.txt" >>"$out/$key.runs"
  awk '{ printf "%.3f\n", $3 }' "$out/time.txt" >>"$out/$key.wall"
  awk '{ printf "%d\n", $4 }' "$out/time.txt" >>"$out/$key.rss"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); before: $before; after: $after; $reps rounds"
for t in "$@"; do
  for r in $(seq "$reps"); do
    for c in "${cmds[@]}"; do
      one before "$before" "$t" "$c"
      one after "$after" "$t" "$c"
    done
  done
  b=$(basename "$t")
  echo "trace: $t ($(($(stat -c %s "$t") / 1048576)) MB)"
  for m in runs:CPU wall:wall; do
    ext=${m%%:*}
    chkb=$(median "$out/${b}_check_before.$ext"); chk=$(median "$out/${b}_check_after.$ext")
    printf "%-16s %9s %9s %8s %10s %10s %9s %9s\n" "${m#*:} time" before after ratio "x check b" "x check a" "RSS b" "RSS a"
    for c in "${cmds[@]}"; do
      k=${b}_$(echo "$c" | tr ' ' _)
      mb=$(median "$out/${k}_before.$ext"); ma=$(median "$out/${k}_after.$ext")
      rb=$(median "$out/${k}_before.rss"); ra=$(median "$out/${k}_after.rss")
      awk -v c="$c" -v b="$mb" -v a="$ma" -v kb="$chkb" -v k="$chk" -v rb="$rb" -v ra="$ra" 'BEGIN {
        printf "%-16s %8.2fs %8.2fs %7.2fx %9.2fx %9.2fx %7.1fMB %7.1fMB\n", c, b, a, (a > 0 ? b / a : 0),
          (kb > 0 ? b / kb : 0), (k > 0 ? a / k : 0), rb / 1024, ra / 1024 }'
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
