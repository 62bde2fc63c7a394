#!/usr/bin/env bash
# overhead.sh - what `ctrace run` costs a real program, next to other tools.
#
#   bench/run/overhead.sh [--runs N] [--ctrace PATH] [--modes "plain ctrace ..."]
#
# Workloads: wall time of `true` (fixed cost per process), `pigz -p 2` and
# `zstd -T2` on a BENCH_MB (default 100) MB text file
# (output to /dev/null), and requests/s of `redis-server --io-threads 2`
# (127.0.0.1, free port) driven by redis-benchmark (SET+GET, the tracer on
# the server).  Modes, interleaved run by run so that drift spreads evenly:
#   plain   untraced
#   ctrace  ctrace run (defaults: fp stacks, 100 Hz CPU samples)
#   ctrace-flight  ctrace run --flight (the flight recorder: the same
#           tracing, kept in memory; no snapshot is taken)
#   ctrace-alt  the same with CTRACE_ALT_LIB as libctrace.so (only when
#           CTRACE_ALT_LIB is set: compares two builds in one run)
#   strace  strace -f -o /dev/null
#   perf    perf record -g -o /dev/null          (if perf works here)
#   lttng   LTTng-UST pthread + libc wrappers preloaded, active session with
#           lttng_ust_pthread:* and lttng_ust_libc:* enabled (if installed;
#           lttng-sessiond --daemonize --no-kernel)
# Prints a table: median of N runs (default 5), overhead of the medians vs
# plain, and 'paired': the median over runs of (mode / plain of the same
# run), the better estimate on a loaded machine; for true/pigz/zstd also the
# CPU time (user+sys of the whole command tree, bash 'times': every thread,
# the tracer's included; not LTTng's session and consumer daemons), which
# other tenants of a shared machine disturb far less than wall time.
# BENCH_RAW=1 prints runs.
# REDIS_N=requests per redis run (default 20000).
# Tools: scripts/install-deps-run.sh --bench.  Not a test; loopback only.
set -uo pipefail

runs=5
redis_n=${REDIS_N:-20000}
here=$(cd "$(dirname "$0")" && pwd)
ctrace=${CTRACE:-$here/../../build/src/tools/ctrace}
modes="plain ctrace strace perf lttng"
[ -n "${CTRACE_ALT_LIB:-}" ] && modes="plain ctrace ctrace-alt strace perf lttng"
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --ctrace) ctrace=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
[ -x "$ctrace" ] || { echo "overhead: no ctrace at $ctrace (make, or --ctrace PATH)" >&2; exit 2; }
work=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'lttng destroy ctrace-bench >/dev/null 2>&1; rm -rf "$work"' EXIT
cd "$work" || exit 1

# Which modes can run here.
avail=""
for m in $modes; do
    case $m in
    plain|ctrace|ctrace-flight) avail+=" $m" ;;
    ctrace-alt) [ -f "${CTRACE_ALT_LIB:-}" ] && avail+=" $m" ;;
    strace) command -v strace >/dev/null && avail+=" $m" ;;
    perf) perf record -g -o /dev/null -- true >/dev/null 2>&1 && avail+=" $m" ;;
    lttng)
        libdir=$(dirname "$(ldconfig -p | awk '/liblttng-ust-pthread-wrapper.so/ {print $NF; exit}')")
        if command -v lttng >/dev/null && [ -f "$libdir/liblttng-ust-libc-wrapper.so.1" ]; then
            pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1
            LTTNG_PRELOAD="$libdir/liblttng-ust-pthread-wrapper.so.1:$libdir/liblttng-ust-libc-wrapper.so.1"
            avail+=" $m"
        fi ;;
    esac
done
echo "modes: $avail; runs: $runs; $(nproc) CPUs; $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

lttng_on() {
    lttng create ctrace-bench --output="$work/lttng" >/dev/null 2>&1
    lttng enable-event -u 'lttng_ust_pthread:*' >/dev/null 2>&1
    lttng enable-event -u 'lttng_ust_libc:*' >/dev/null 2>&1
    lttng start >/dev/null 2>&1
}
lttng_off() { lttng stop >/dev/null 2>&1; lttng destroy ctrace-bench >/dev/null 2>&1; rm -rf "$work/lttng"; }

# wrap MODE CMD...: run CMD under MODE (in the foreground).
wrap() {
    local m=$1; shift
    case $m in
    plain) "$@" ;;
    ctrace) "$ctrace" run -q -o "$work/t.%p.trace" -- "$@" ;;
    ctrace-alt) CTRACE_LIB=$CTRACE_ALT_LIB "$ctrace" run -q -o "$work/t.%p.trace" -- "$@" ;;
    ctrace-flight) "$ctrace" run -q --flight -o "$work/t" -- "$@" ;;
    strace) strace -f -o /dev/null "$@" ;;
    perf) perf record -q -g -o /dev/null -- "$@" 2>/dev/null ;;
    lttng) LD_PRELOAD=$LTTNG_PRELOAD "$@" ;;
    esac
}

now() { date +%s.%N; }
# Input: BENCH_MB of compressible text (default 100: a few seconds of
# pigz, so the per-process fixed cost -- loading the tracer, symbolizing
# stacks at the end -- is amortized as in real use; the 'true' row shows
# that fixed cost on its own).
mb=${BENCH_MB:-100}
# Text with some entropy (compresses ~3:1, like logs), deterministic.
seq 1 $((mb * 150000)) |
    awk 'BEGIN {srand(7)} {printf "%d %d %s %x\n", $1, int(rand() * 1000000),
                          ($1 % 3 ? "lorem ipsum" : "dolor sit amet"), int(rand() * 65536)}' |
    head -c $((mb * 1000000)) > data20

declare -A res cpu
# children_cpu FILE: CPU seconds (user + sys) of the shell's waited-for
# children so far, from 'times' saved in FILE (run in this shell: a pipe or
# $(...) would ask a subshell).
children_cpu() { awk 'NR == 2 {gsub(/s/, ""); split($1, u, "m"); split($2, s, "m");
                              printf "%.4f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$1"; }
time_cmd() { # time_cmd MODE CMD... -> "wall-seconds cpu-seconds"
    local m=$1; shift
    [ "$m" = lttng ] && lttng_on
    local t0 t1 c0 c1; t0=$(now); times > "$work/times0"; wrap "$m" "$@" > /dev/null
    times > "$work/times1"; t1=$(now)
    c0=$(children_cpu "$work/times0"); c1=$(children_cpu "$work/times1")
    [ "$m" = lttng ] && lttng_off
    rm -f "$work"/t.*.trace
    awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" 'BEGIN {printf "%.4f %.4f\n", b - a, d - c}'
}
# record WORKLOAD MODE "wall cpu"
record() { set -- "$1" "$2" $3; res[$1,$2]+=" $3"; cpu[$1,$2]+=" $4"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_rps() { # redis_rps MODE -> mean of SET and GET requests/s
    local m=$1 port; port=$(free_port)
    [ "$m" = lttng ] && lttng_on
    wrap "$m" redis-server --bind 127.0.0.1 --port "$port" --io-threads 2 --io-threads-do-reads yes \
        --save "" --appendonly no --daemonize no --logfile "$work/redis.log" >/dev/null 2>&1 &
    local spid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-benchmark -p "$port" -n "$redis_n" -c 50 -t set,get -q 2>/dev/null | tr '\r' '\n' |
        awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") s += $(i-1); n++}
             END {printf "%.0f\n", n ? s / n : 0}'
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    wait $spid 2>/dev/null
    [ "$m" = lttng ] && lttng_off
    rm -f "$work"/t.*.trace
}

# Modes in a rotated order each run, so that none always runs first.
read -r -a modes_arr <<< "$avail"
nm=${#modes_arr[@]}
for r in $(seq "$runs"); do
    for k in $(seq 0 $((nm - 1))); do
        m=${modes_arr[$(( (k + r) % nm ))]}
        record true "$m" "$(time_cmd "$m" true)"
        command -v pigz >/dev/null && record pigz "$m" "$(time_cmd "$m" pigz -p 2 -c data20)"
        command -v zstd >/dev/null && record zstd "$m" "$(time_cmd "$m" zstd -q -T2 -3 -c data20)"
        command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null &&
            res[redis,$m]+=" $(redis_rps "$m")"
    done
    echo "run $r/$runs done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# paired BASE_LIST MODE_LIST: median over runs of mode/base of the same run
# (robust to load that drifts during the benchmark on a shared machine).
paired() {
    paste <(echo "$1" | tr ' ' '\n' | grep -v '^$') <(echo "$2" | tr ' ' '\n' | grep -v '^$') |
        awk '$1 > 0 {print $2 / $1}' | median
}
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-8s %-10s %14s %10s %10s %12s %10s\n' workload mode median overhead paired cpu-median cpu-paired
for w in true pigz zstd redis; do
    [ -n "${res[$w,plain]:-}" ] || continue
    base=$(echo "${res[$w,plain]}" | median)
    for m in $avail; do
        v=$(echo "${res[$w,$m]}" | median)
        pr=$(paired "${res[$w,plain]}" "${res[$w,$m]}")
        if [ $w = redis ]; then
            ov=$(awk -v b="$base" -v v="$v" 'BEGIN {print (b - v) * 100 / b}')   # throughput lost
            pv=$(awk -v r="$pr" 'BEGIN {print (1 - r) * 100}')
            printf '%-8s %-10s %10.0f r/s %9.1f%% %9.1f%%\n' $w $m "$v" "$ov" "$pv"
        else
            ov=$(awk -v b="$base" -v v="$v" 'BEGIN {print (v - b) * 100 / b}')   # time added
            pv=$(awk -v r="$pr" 'BEGIN {print (r - 1) * 100}')
            cv=$(echo "${cpu[$w,$m]}" | median)
            cp=$(paired "${cpu[$w,plain]}" "${cpu[$w,$m]}")
            cpv=$(awk -v r="$cp" 'BEGIN {print (r - 1) * 100}')
            printf '%-8s %-10s %12.3f s %9.1f%% %9.1f%% %10.3f s %9.1f%%\n' $w $m "$v" "$ov" "$pv" "$cv" "$cpv"
        fi
    done
done
[ "${BENCH_RAW:-0}" = 1 ] && for k in "${!res[@]}"; do echo "raw $k:${res[$k]}"; done
[ "${BENCH_RAW:-0}" = 1 ] && for k in "${!cpu[@]}"; do echo "raw cpu $k:${cpu[$k]}"; done
exit 0
