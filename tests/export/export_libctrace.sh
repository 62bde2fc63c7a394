#!/bin/bash
# export_libctrace.sh CTRACE EXAMPLE... - traces libctrace writes (each
# EXAMPLE takes the trace's path as its first argument), named as
# `ctrace run` names a process tree's files (prog.PID.trace): each exported
# alone and all merged into one timeline, in both formats; the content is
# checked against `ctrace dump` (check_export.py: threads named after the
# C threads' names, regions, tasks, logs, CPU samples), and the processes
# carry the pids of the file names (an exec's later image, PROG.PID-1.trace,
# gets a pid of its own).  Exit 77 without protoc or python3.
set -u
ctrace=$1; shift
. "$(dirname "$0")/export_lib.sh"
need_tool protoc
need_tool python3
traces=() pid=4242
for ex in "$@"; do
  pid=$((pid + 1))
  t=$tmp/$(basename "$ex").$pid.trace
  (cd "$tmp" && CTRACE_CPU_HZ=1000 "$ex" "$t" >"$tmp/example.out" 2>&1) ||
    { echo "FAIL: $ex exited $?: $(tail -n 5 "$tmp/example.out")"; exit 1; }
  "$ctrace" check "$t" >/dev/null || { echo "FAIL: ctrace check rejects $t"; exit 1; }
  traces+=("$t")
  export_check perfetto "$(basename "$ex").pb" "$t"
  export_check chrome "$(basename "$ex").json" "$t"
done
# An exec's second image has the same pid (PROG.PID-1.trace): listed first,
# it must still leave the pid to PROG.PID.trace, and get one of its own.
first=${traces[0]}
image=${first%.trace}-1.trace
cp "$first" "$image"
export_check perfetto tree.pb "$image" "${traces[@]}"
export_check chrome tree.json "$image" "${traces[@]}"
grep -q "\"pid\":4243,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"$(basename "$first")\"}" "$tmp/tree.json" &&
  echo "ok: PROG.PID.trace keeps its pid before PROG.PID-1.trace" ||
  { echo "FAIL: $(basename "$first") does not have pid 4243"; fail=1; }
for p in $(seq 4243 $pid); do
  grep -q "pid: $p\$" "$tmp/tree.pb.txt" && grep -q "\"pid\":$p," "$tmp/tree.json" &&
    echo "ok: process $p is named after its file's pid" ||
    { echo "FAIL: no process with pid $p in the merged exports"; fail=1; }
done
[ $fail = 0 ] && echo "export_libctrace: all passed" || echo "export_libctrace: failed"
exit $fail
