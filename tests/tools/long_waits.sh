#!/usr/bin/env bash
# long_waits.sh CTRACE LONG_WAIT_PROGRAM
#
# A wait that spans ten generations (tests/tools/long_wait.c: 1 s blocked,
# 100 ms generations) is one wait with its reason everywhere a user reads
# it, not one wait of 100 ms and nine of "no reason":
#   - `ctrace stat --json`: the waiter's group has ~1 s of sync time and
#     nothing in "other"; the blocking table charges ~1 s to its reason;
#   - `ctrace export --format chrome` (options after the input, as users
#     type them): one slice "blocked: sync: long wait" of ~1 s, no slice
#     "blocked" without a reason;
#   - `ctrace export --format csv`: one states.csv row with that reason
#     and ~1 s.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: long_waits.sh CTRACE LONG_WAIT_PROGRAM" >&2; exit 2; }
ctrace=$1 prog=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok:   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect_ge MIN WHAT VALUE / expect_le MAX WHAT VALUE
expect_ge() { if [ "${3:-0}" -ge "$1" ]; then ok "$2 = $3 (>= $1)"; else bad "$2 = ${3:-none} (want >= $1)"; fi; }
expect_le() { if [ -n "${3:-}" ] && [ "$3" -le "$1" ]; then ok "$2 = $3 (<= $1)"; else bad "$2 = ${3:-none} (want <= $1)"; fi; }

f=$tmp/w.trace
CTRACE_PERIOD=100ms "$prog" "$f" || { echo "FAIL: long_wait exited $?"; exit 1; }
"$ctrace" check -q "$f" || { echo "FAIL: ctrace check rejects the trace"; exit 1; }
gens=$("$ctrace" stat --json "$f" | sed -n 's/^  "generations": \([0-9]*\),/\1/p')
# Without generations inside the wait there is nothing to test.
expect_ge 5 "generations" "$gens"

min=900000000 # ns: the wait lasts 1 s
"$ctrace" stat --json "$f" > "$tmp/s.json" || bad "stat --json"
# The waiter's group: the one that is not main's (its start function is
# `waiter`, or a sanitizer's thread trampoline under TSan).
grp=$(grep '{"start": ' "$tmp/s.json" | grep -v '{"start": "main"')
[ "$(wc -l <<< "$grp")" = 1 ] || bad "stat: groups other than main's: $grp"
expect_ge $min "stat: the waiter's sync_ns" "$(sed -n 's/.*"sync_ns": \([0-9]*\).*/\1/p' <<< "$grp")"
expect_le 1000000 "stat: the waiter's other_ns" "$(sed -n 's/.*"other_ns": \([0-9]*\).*/\1/p' <<< "$grp")"
blk=$(grep '{"reason": "sync: long wait"' "$tmp/s.json")
expect_ge $min "stat: blocking time charged to \"sync: long wait\"" "$(sed -n 's/.*"total_ns": \([0-9]*\).*/\1/p' <<< "$blk")"
if grep -q '"reason": ""' "$tmp/s.json"; then bad "stat: a blocking entry without a reason"; else ok "stat: every blocking entry has its reason"; fi

"$ctrace" export --format chrome "$f" -o "$tmp/w.json" || bad "export --format chrome IN -o OUT"
# Slices are B/E pairs on the goroutine's state track: the first B of the
# wait and its E (the next E of that name).
dur=$(awk -F'"ts":' '/"ph":"B".*"name":"blocked: sync: long wait"/ && !b { split($2, a, /[,}]/); b = a[1]; next }
                     /"ph":"E".*"name":"blocked: sync: long wait"/ && b && !e { split($2, a, /[,}]/); e = a[1] }
                     END { if (b && e) printf "%.0f", (e - b) * 1000 }' "$tmp/w.json")
expect_ge $min "chrome: the slice \"blocked: sync: long wait\" (ns)" "$dur"
n=$(grep -c '"name":"blocked: sync: long wait","cat"' "$tmp/w.json")
if [ "$n" = 1 ]; then ok "chrome: one slice for the wait"; else bad "chrome: $n slices for the wait (want 1)"; fi
if [ ! -s "$tmp/w.json" ] || grep -q '"name":"blocked"' "$tmp/w.json"; then bad "chrome: a slice \"blocked\" without its reason"; else ok "chrome: no slice without its reason"; fi

"$ctrace" export -f csv "$f" -o "$tmp/csv" || bad "export -f csv IN -o DIR"
row=$(grep -F '"blocked","sync: long wait"' "$tmp/csv/states.csv")
if [ -n "$row" ] && [ "$(wc -l <<< "$row")" = 1 ]; then ok "csv: one states.csv row for the wait"; else bad "csv: rows for the wait: $row"; fi
expect_ge $min "csv: its dur_ns" "$(awk -F, '{ print $NF }' <<< "$row")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
