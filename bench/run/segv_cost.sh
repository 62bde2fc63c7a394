#!/usr/bin/env bash
# segv_cost.sh [CTRACE] - CPU ns per intentional SIGSEGV (segvbench.c: a
# guard page fixed by the program's handler), plain and under `ctrace run
# --flight=10s` (the program's handler behind ctrace's sigaction wrapper,
# crash.c/signal.c).  Runs interleaved, REPS (default 11) each, prints
# every run and the medians.  Builds segvbench.c with the system cc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ctrace=${1:-${CTRACE:-$here/../../build/src/tools/ctrace}}
[ -x "$ctrace" ] || { echo "segv_cost: no ctrace at $ctrace" >&2; exit 2; }
reps=${REPS:-11}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/segvbench" "$here/segvbench.c"
plain=() flight=()
for _ in $(seq 1 "$reps"); do
    plain+=("$("$tmp/segvbench" | awk '{ print $2 }')")
    flight+=("$("$ctrace" run -q --flight=10s -o "$tmp/snap" -- "$tmp/segvbench" | awk '{ print $2 }')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "plain:            ${plain[*]}"
echo "ctrace --flight:  ${flight[*]}"
mp=$(median "${plain[@]}") mf=$(median "${flight[@]}")
echo "median ns/fault: plain $mp, ctrace run --flight $mf, ratio $(awk -v a="$mf" -v b="$mp" 'BEGIN { printf "%.3f", a / b }')"
ls "$tmp"/snap.* > /dev/null 2>&1 && echo "segv_cost: unexpected snapshot" >&2 && exit 1
exit 0
