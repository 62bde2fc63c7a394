#!/usr/bin/env bash
# check_samples.sh lib|run HZ BIN CTRACE: two threads burn 2 s of CPU at HZ
# samples per CPU-second, traced with libctrace linked (lib) or under
# `ctrace run --cpu-hz HZ` (run); the trace must hold at least 90 % of the
# sampling signals the kernel delivered (test_samples.c explains how they
# are counted).
set -euo pipefail
mode=$1 hz=$2 bin=$3 ctrace=$4
work=${CTRACE_WORK:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
case $mode in
lib)
    "$bin" lib "$hz" lib.trace counts
    trace=lib.trace ;;
run)
    "$ctrace" run -q --cpu-hz "$hz" --period 60s -o 'run.%p.trace' -- "$bin" run counts
    trace=$(ls run.*.trace)
    [ "$(echo "$trace" | wc -l)" = 1 ] || { echo "FAIL: expected one trace, got: $trace"; exit 1; } ;;
*)
    echo "usage: $0 lib|run HZ BIN CTRACE" >&2; exit 2 ;;
esac
"$bin" check "$trace" counts
