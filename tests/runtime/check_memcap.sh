#!/usr/bin/env bash
# Runs test_memcap (its own checks: the memory held while the reader
# stalls), then has Go's parsers (1.22 and 1.23) validate the trace it
# wrote at the memory cap.  Skipped (77) without Go (tests/go_toolchain.sh).
set -euo pipefail
bin=$1 src=$2
. "$src/tests/go_toolchain.sh"
need_go 22 23
work=${CTRACE_WORK:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
"$bin" memcap.trace
bash "$src/scripts/gotrace-validate.sh" memcap.trace
echo "ok:   memcap.trace accepted by Go 1.22 and 1.23"
