#!/bin/bash
# export_late_sample.sh CTRACE - CPU samples that name goroutines after
# their end (late_sample.py; libctrace writes them when a thread's timer
# fires between its GoDestroy and the timer's end): each goes on its
# goroutine's thread track, which keeps the goroutine's label (it became
# "G<id>": the sample made the goroutine anew, without its label), in
# Perfetto and Chrome (check_export.py), and in CSV the goroutine keeps one
# row, with its label, last seen at its late sample.  Exit 77 without
# protoc or python3.
set -u
ctrace=$1
. "$(dirname "$0")/export_lib.sh"
need_tool protoc python3
written_trace late_sample.py late.trace
export_check perfetto late.pb "$t"
export_check chrome late.json "$t"
if "$ctrace" export --format csv -o "$tmp/csv" "$t" 2>"$tmp/err"; then
  want='"late.trace",1,"worker",5,199
"late.trace",2,"late",4,4099
"late.trace",3,"G3",3,4100'
  got=$(tail -n +2 "$tmp/csv/threads.csv" | sort)
  [ "$got" = "$want" ] &&
    echo "ok: csv: a row per goroutine, with its label, last seen at its late sample" ||
    { echo "FAIL: csv threads.csv:"; echo "$got" | sed 's/^/    /'; echo "  want:"; echo "$want" | sed 's/^/    /'; fail=1; }
else
  echo "FAIL: csv export of $t: $(head -3 "$tmp/err")"; fail=1
fi
[ $fail = 0 ] && echo "export_late_sample: all passed" || echo "export_late_sample: failed"
exit $fail
