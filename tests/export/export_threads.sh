#!/bin/bash
# export_threads.sh CTRACE TRACEDIR - the same export on one thread and on
# two: every fixture, and all the go123 fixtures merged, exported as
# chrome, csv and perfetto with -j 1 and -j 2 give the same bytes (with two
# threads chrome and csv write on a relay thread, src/export/relay.c;
# perfetto reads ahead).  And an output error met on the relay's thread is
# reported as on one thread: exit 2, "cannot write ...: No space left on
# device"; a pipe closed by its reader ends the export by SIGPIPE (141).
set -u
ctrace=$1 dir=$2
. "$(dirname "$0")/export_lib.sh"
ls "$dir"/*.trace >/dev/null 2>&1 || { echo "FAIL: no fixtures in $dir"; exit 1; }
n=0
same() { # format label inputs...
  local fmt=$1 label=$2; shift 2
  local o1=$tmp/one.$fmt o2=$tmp/two.$fmt
  rm -rf "$o1" "$o2"
  "$ctrace" export -f "$fmt" -j 1 -o "$o1" "$@" 2>"$tmp/err1"; local rc1=$?
  "$ctrace" export -f "$fmt" -j 2 -o "$o2" "$@" 2>"$tmp/err2"; local rc2=$?
  if [ "$rc1" != "$rc2" ]; then
    echo "FAIL: $fmt $label: exit $rc1 with -j 1, $rc2 with -j 2"; head -3 "$tmp/err1" "$tmp/err2"; fail=1
  elif ! diff -r "$o1" "$o2" >/dev/null; then
    echo "FAIL: $fmt $label: -j 1 and -j 2 differ"; diff -r "$o1" "$o2" | head -5; fail=1
  elif [ ! -s "$o1" ] && [ ! -d "$o1" ]; then
    echo "FAIL: $fmt $label: empty output"; fail=1
  else
    n=$((n + 1))
  fi
}
for t in "$dir"/*.trace; do
  for fmt in chrome csv perfetto; do
    same $fmt "$(basename "$t")" "$t"
  done
done
echo "ok: $n single-trace exports the same on one and two threads"
for fmt in chrome csv perfetto; do
  same $fmt "go123 fixtures merged" "$dir"/*.go123.trace && echo "ok: $fmt of the go123 fixtures merged, the same"
done

good=$dir/generations.go123.trace
# A reader that goes away (| head): SIGPIPE ends the export on two threads
# as on one (the relay thread writes; it takes SIGPIPE, not EPIPE).  The
# go123 fixtures merged make 3.5 MB of JSON, far more than a pipe holds.
# (Where SIGPIPE is ignored by whoever started the test, both see EPIPE
# and exit 2: then the two must only agree.)
for j in 1 2; do
  "$ctrace" export -f chrome -j $j -o - "$dir"/*.go123.trace 2>"$tmp/err.$j" | head -c 10 >/dev/null
  st[$j]=${PIPESTATUS[0]}
done
if [ "${st[1]}" = "${st[2]}" ] && { [ "${st[2]}" = 141 ] || [ "${st[2]}" = 2 ]; } &&
   cmp -s "$tmp/err.1" "$tmp/err.2"; then
  echo "ok: chrome | head: exit ${st[2]} on one thread and on two, the same said"
else
  echo "FAIL: chrome | head: exit ${st[1]} with -j 1, ${st[2]} with -j 2"; head -3 "$tmp/err.1" "$tmp/err.2"; fail=1
fi
if [ -c /dev/full ] && [ -w /dev/full ]; then
  for fmt in chrome perfetto; do
    "$ctrace" export -f $fmt -j 2 -o /dev/full "$good" >/dev/null 2>"$tmp/err"; rc=$?
    if [ $rc = 2 ] && grep -q "cannot write the output: No space left on device" "$tmp/err"; then
      echo "ok: $fmt -j 2 to a full device: exit 2, the error named"
    else
      echo "FAIL: $fmt -j 2 to a full device: exit $rc"; head -3 "$tmp/err"; fail=1
    fi
  done
fi
exit $fail
