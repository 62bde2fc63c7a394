#!/usr/bin/env bash
# Runs test_memcap (its own checks: the memory held while the reader
# stalls), then has Go's parsers (1.22 and 1.23) validate the trace it
# wrote at the memory cap, and `ctrace check` (third argument) report the
# events the trace's loss records say were dropped: as many as the
# library counted.  Skipped (77) without Go (tests/go_toolchain.sh).
set -euo pipefail
bin=$1 src=$2 ctrace=$3
. "$src/tests/go_toolchain.sh"
need_go 22 23
work=${CTRACE_WORK:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
"$bin" memcap.trace | tee memcap.out
bash "$src/scripts/gotrace-validate.sh" memcap.trace
echo "ok:   memcap.trace accepted by Go 1.22 and 1.23"
n=$(sed -n 's/^events_dropped=//p' memcap.out)
out=$("$ctrace" check memcap.trace)
if [[ $out == *"warning: the tracer lost $n events ("* ]]; then
    echo "ok:   ctrace check reports the $n dropped events from the trace's loss records"
else
    echo "FAIL: ctrace check does not report $n dropped events: $out"
    exit 1
fi
