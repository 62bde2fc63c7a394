#!/bin/bash
# export_stw_names.sh CTRACE - two stop-the-world ranges of one generation
# whose names have the same length (stw_names.py): every export names each
# range after its own reason, read on one thread and ahead.  The exports
# find what they made of a name by its address for the generation
# (src/export/sink.h); the reader made these names in one buffer, so that
# both ranges came out named after the first.  Exit 77 without protoc or
# python3.
set -u
ctrace=$1
. "$(dirname "$0")/export_lib.sh"
need_tool protoc python3
written_trace stw_names.py stw.trace
want='stop-the-world (GOMAXPROCS)
stop-the-world (stop trace)'
for j in 1 2; do
  for fmt in perfetto chrome csv; do
    out=$tmp/out.$fmt.$j
    if ! "$ctrace" export --format $fmt -j $j -o "$out" "$t" 2>"$tmp/err"; then
      echo "FAIL: $fmt -j $j: $(head -3 "$tmp/err")"; fail=1; continue
    fi
    case $fmt in
      perfetto) # the interned event names (one sequence), then each begin's
        protoc --decode=perfetto.protos.Trace -I "$here" "$here/perfetto_min.proto" \
          <"$out" >"$out.txt" 2>"$tmp/err" || { echo "FAIL: protoc: $(head -3 "$tmp/err")"; fail=1; continue; }
        got=$(awk 'NR == FNR { if (/event_names \{/) n = 1
                               else if (n && /iid:/) iid = $2
                               else if (n && /name:/) { sub(/^ *name: /, ""); name[iid] = $0; n = 0 }
                               next }
                   /type: TYPE_SLICE_BEGIN/ { b = 1 } b && /name_iid:/ { print name[$2]; b = 0 }' \
              "$out.txt" "$out.txt" | tr -d '"' | grep stop-the-world) ;;
      chrome) got=$(grep -o '"ph":"B"[^}]*"name":"stop-the-world ([^"]*)"' "$out" |
              sed 's/.*"name":"//; s/"$//') ;;
      csv) got=$(tail -n +2 "$out/ranges.csv" | cut -d, -f3 | tr -d '"') ;;
    esac
    [ "$got" = "$want" ] && echo "ok: $fmt -j $j: each range named after its reason" ||
      { echo "FAIL: $fmt -j $j: $(echo $got)"; fail=1; }
  done
done
[ $fail = 0 ] && echo "export_stw_names: all passed" || echo "export_stw_names: failed"
exit $fail
