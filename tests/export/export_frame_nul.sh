#!/bin/bash
# export_frame_nul.sh CTRACE - a CPU sample's frame whose function and file
# names hold NUL bytes (frame_nul.py): chrome's "stack" arg has the whole
# names, each NUL escaped (it had the names cut at their first NUL and
# then bytes of uninitialized memory); the export is valid JSON.  Exit 77
# without python3.
set -u
ctrace=$1
. "$(dirname "$0")/export_lib.sh"
need_tool python3
written_trace frame_nul.py nul.trace
if "$ctrace" export --format chrome -o "$tmp/nul.json" "$t" 2>"$tmp/err"; then
  got=$(python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
print("\n".join(json.dumps(s) for e in doc["traceEvents"] for s in e.get("args", {}).get("stack", [])))
' "$tmp/nul.json")
  want='"main.f\u0000g a\u0000b.go:42"'
  [ "$got" = "$want" ] && echo "ok: chrome: the frame's names whole, their NULs escaped" ||
    { echo "FAIL: chrome stack: $got (want $want)"; fail=1; }
else
  echo "FAIL: chrome export of $t: $(head -3 "$tmp/err")"; fail=1
fi
[ $fail = 0 ] && echo "export_frame_nul: all passed" || echo "export_frame_nul: failed"
exit $fail
