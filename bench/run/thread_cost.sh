#!/usr/bin/env bash
# thread_cost.sh [CTRACE] - microseconds per short thread (create, one
# traced call, join; 32 at a time) and peak RSS: untraced, with libctrace
# preloaded but tracing off, under `ctrace run` without and with CPU
# sampling (the default 100 Hz).  Builds threadbench.c with the system cc
# into a temp dir.  Figures: docs/PERFORMANCE.md, "Short threads".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ctrace=${1:-${CTRACE:-$here/../../build/src/tools/ctrace}}
[ -x "$ctrace" ] || { echo "thread_cost: no ctrace at $ctrace" >&2; exit 2; }
rounds=${ROUNDS:-200}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -o "$tmp/threadbench" "$here/threadbench.c"
lib=$(CTRACE_LIB= "$ctrace" run -q -o "$tmp/probe.%p.trace" -- sh -c 'echo "$LD_PRELOAD"' | cut -d: -f1)
printf '%-28s %s\n' "mode" "result"
printf '%-28s %s\n' "plain" "$("$tmp/threadbench" "$rounds")"
printf '%-28s %s\n' "preloaded, tracing off" "$(LD_PRELOAD=$lib "$tmp/threadbench" "$rounds")"
printf '%-28s %s\n' "ctrace run --cpu-hz 0" "$("$ctrace" run -q --cpu-hz 0 -o "$tmp/t.%p.trace" -- "$tmp/threadbench" "$rounds")"
printf '%-28s %s\n' "ctrace run (100 Hz samples)" "$("$ctrace" run -q -o "$tmp/s.%p.trace" -- "$tmp/threadbench" "$rounds")"
