#!/usr/bin/env bash
# lock_cost.sh [CTRACE] - ns per uncontended mutex lock/unlock pair and per
# 1-byte read(), untraced, with libctrace preloaded but tracing off, and
# under `ctrace run` (stacks on, CPU sampling off to keep signals out of
# the loop).  Builds lockbench.c with the system cc into a temp dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ctrace=${1:-${CTRACE:-$here/../../build/src/tools/ctrace}}
[ -x "$ctrace" ] || { echo "lock_cost: no ctrace at $ctrace" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -o "$tmp/lockbench" "$here/lockbench.c"
lib=$(CTRACE_LIB= "$ctrace" run -q -o "$tmp/probe.%p.trace" -- sh -c 'echo "$LD_PRELOAD"' | cut -d: -f1)
printf '%-26s %s\n' "mode" "result"
printf '%-26s %s\n' "plain" "$("$tmp/lockbench" | tr '\n' ' ')"
printf '%-26s %s\n' "preloaded, tracing off" "$(LD_PRELOAD=$lib "$tmp/lockbench" | tr '\n' ' ')"
printf '%-26s %s\n' "ctrace run (--cpu-hz 0)" "$("$ctrace" run -q --cpu-hz 0 -o "$tmp/t.%p.trace" -- "$tmp/lockbench" | tr '\n' ' ')"
