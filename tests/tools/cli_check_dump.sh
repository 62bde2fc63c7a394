#!/bin/bash
# cli_check_dump.sh CTRACE TRACEDIR - the `ctrace`, `ctrace check` and
# `ctrace dump` command lines: exit codes, one line per file, stdin, errors
# naming file and offset, dump's line count and format, on the fixtures of
# TRACEDIR (which must be there: none is a failure).  Needs no Go; the
# trace libctrace writes is checked against Go by check_dump_libctrace.sh.
set -u
ctrace=$1 dir=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
t() { # expected-exit description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, want $want"; head -3 "$tmp/out" "$tmp/err"; fail=1
  else
    echo "ok: $what"
  fi
}
has() { # file regex description
  if grep -Eq "$2" "$1"; then echo "ok: $3"; else echo "FAIL: $3"; head -3 "$1"; fail=1; fi
}
good=$(ls "$dir"/*.go123.trace | head -1)
good2=$(ls "$dir"/*.go122.trace | head -1)
old=$(ls "$dir"/*.go119.trace | head -1)
[ -n "$good" ] && [ -n "$good2" ] && [ -n "$old" ] ||
  { echo "FAIL: fixtures (*.go119, *.go122, *.go123.trace) missing in $dir"; exit 1; }
head -c 3000 "$good" >"$tmp/cut.trace"

t 2 "ctrace without command" "$ctrace"
t 0 "ctrace --help" "$ctrace" --help
has "$tmp/out" "check" "top-level help lists check"
t 2 "unknown command" "$ctrace" frobnicate
t 0 "check --help" "$ctrace" check --help
has "$tmp/out" "Exit codes" "check help documents exit codes"
t 0 "dump --help" "$ctrace" dump --help
has "$tmp/out" "Exit codes" "dump help documents exit codes"
t 2 "check without file" "$ctrace" check
t 2 "check bad option" "$ctrace" check --nope "$good"
t 2 "dump without file" "$ctrace" dump

t 0 "check valid" "$ctrace" check "$good" "$good2"
has "$tmp/out" "^$good: ok, go 1\.23, [0-9]+ events, [0-9]+ generations?$" "check line format (1.23)"
has "$tmp/out" "^$good2: ok, go 1\.22, [0-9]+ events, [0-9]+ generations?$" "check line format (1.22)"
[ "$(wc -l <"$tmp/out")" = 2 ] && echo "ok: one line per file" || { echo "FAIL: lines"; fail=1; }
events=$(sed -n 's/.* \([0-9]*\) events.*/\1/p' "$tmp/out" | head -1)

t 0 "check v1 trace" "$ctrace" check "$old"
has "$tmp/out" "^$old: ok, go 1\.19, [0-9]+ events, 1 generation$" "check line format (1.19)"
t 0 "check v1 trace from stdin" sh -c "'$ctrace' check - <'$old'"

t 1 "check truncated" "$ctrace" check "$good" "$tmp/cut.trace"
has "$tmp/out" "^$tmp/cut.trace: truncated at offset 3000: [0-9]+ complete generations? \\(first [0-9]+ bytes, [0-9.]+ s\\), then: " "check names the file, the truncation, its offset and the complete generations"
t 1 "check missing file" "$ctrace" check "$tmp/nope.trace"
t 1 "check not a trace" "$ctrace" check "$0"
has "$tmp/out" "not a Go execution trace" "check says not a trace"
t 0 "check -q valid" "$ctrace" check -q "$good"
[ -s "$tmp/out" ] && { echo "FAIL: -q printed"; fail=1; } || echo "ok: -q is quiet"
t 0 "check stdin" sh -c "'$ctrace' check - <'$good'"
has "$tmp/out" "^<stdin>: ok, go 1\.23, $events events" "stdin gives the same count"

t 0 "dump valid" "$ctrace" dump "$good"
cp "$tmp/out" "$tmp/dump1"
[ "$(wc -l <"$tmp/dump1")" = "$events" ] && echo "ok: dump prints one line per event" || {
  echo "FAIL: dump lines $(wc -l <"$tmp/dump1") != $events"; fail=1; }
has "$tmp/dump1" "^0 [A-Za-z]+ M=" "dump line starts with time and kind"
has "$tmp/dump1" " Sync M=- P=- G=- gen=1$" "dump has the sync line"
t 0 "dump stdin" sh -c "'$ctrace' dump - <'$good'"
cmp -s "$tmp/out" "$tmp/dump1" && echo "ok: dump of stdin = dump of file" || { echo "FAIL: stdin dump differs"; fail=1; }
t 0 "dump --stacks" "$ctrace" dump --stacks "$good"
has "$tmp/out" 'frames=\[".*"@0x[0-9a-f]+ ".*":[0-9]+' "dump --stacks prints frames"
t 1 "dump truncated" "$ctrace" dump "$tmp/cut.trace"
has "$tmp/err" "cut.trace: error at offset 3000: truncated: " "dump error on stderr names file, offset and the truncation"

[ $fail = 0 ] && echo "cli_check_dump: all passed" || echo "cli_check_dump: failed"
exit $fail
