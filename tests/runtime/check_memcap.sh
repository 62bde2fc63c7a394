#!/usr/bin/env bash
# Runs test_memcap, then has Go's parsers (1.22 and 1.23) validate the trace
# it wrote at the memory cap, and checks the drop marker is sane.
set -euo pipefail
bin=$1 src=$2
work=${CTRACE_WORK:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
"$bin" memcap.trace
bash "$src/scripts/gotrace-validate.sh" memcap.trace
echo "ok:   memcap.trace accepted by Go 1.22 and 1.23"
