# export_lib.sh - shared by the export tests: tools needed (protoc, python3: exit 77
# when missing, a failure under CI), and one export checked against the dump.
# Sourced; sets `fail` and `tmp`.  The scratch directory goes at exit unless
# a check failed or CTRACE_KEEP_WORK=1 (its path is printed then).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail=0
tmp=$(mktemp -d)
trap 'if [ "$fail" != 0 ] || [ "${CTRACE_KEEP_WORK:-0}" = 1 ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi' EXIT

need_tool() { # program...
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 && continue
    if [ -n "${CI:-}" ]; then echo "FAIL: $p is missing (CI)"; exit 1; fi
    echo "SKIP: $p is missing (scripts/install-deps.sh installs it)"; exit 77
  done
}

# written_trace SCRIPT NAME - writes the trace $tmp/NAME (sets t to it) with
# the python script SCRIPT of this directory and checks that the reader
# reads it whole ($ctrace check); exits 1 if not.
written_trace() {
  t=$tmp/$2
  python3 "$here/$1" "$t" || { echo "FAIL: $1"; exit 1; }
  "$ctrace" check "$t" >/dev/null || { echo "FAIL: ctrace check rejects $t"; exit 1; }
}

# first N - the first N lines of stdin, then how many more there were.
first() {
  awk -v n="$1" 'NR <= n { print "    " $0 } END { if (NR > n) print "    ... " NR - n " more" }'
}

# export_diag FORMAT DECODED DUMP... - after a failed content check, what
# it takes to see why without the trace: per dump, its Label events, the
# goroutines' ends and the events that name a goroutine after its end (a
# CPU sample libctrace took between a thread's GoDestroy and the end of
# its timer); then the thread names of the export (pid, tid, name; the
# goroutines' tracks, not their synthetic state and runtime tracks).
export_diag() {
  local fmt=$1 decoded=$2; shift 2
  local d
  for d in "$@"; do
    echo "  $(basename "$d"): Label events"
    grep ' Label ' "$d" | first 20
    echo "  $(basename "$d"): goroutine ends"
    grep -E 'goroutine=[0-9]+ [A-Za-z]+->NotExist' "$d" | first 20
    echo "  $(basename "$d"): events naming a goroutine after its end"
    awk 'match($0, /goroutine=[0-9]+ [A-Za-z]+->NotExist/) {
           split(substr($0, RSTART + 10), a, " "); gone[a[1]] = 1; next }
         match($0, / G=[0-9]+/) && (substr($0, RSTART + 3, RLENGTH - 3) in gone)' "$d" | first 20
  done
  echo "  the $fmt export's thread names (pid tid name)"
  if [ "$fmt" = perfetto ]; then
    awk '/^ *thread \{/ { t = 1; pid = tid = name = ""; next }
         t && /^ *pid:/ { pid = $2 } t && /^ *tid:/ { tid = $2 }
         t && /^ *thread_name:/ { sub(/^ *thread_name: /, ""); name = $0 }
         t && /^ *\}/ { t = 0; if (tid < 4503599627370496) print pid, tid, name }' "$decoded"
  else
    grep -o '"pid":[0-9]*,"tid":[0-9]*,"name":"thread_name","args":{"name":"[^"]*"' "$decoded" |
      sed -E 's/"pid":([0-9]*),"tid":([0-9]*),.*"args":\{"name":(.*)/\1 \2 \3/' |
      awk '$2 < 4503599627370496'
  fi | first 40
}

# export_check FORMAT OUT_BASENAME TRACE... - exports TRACEs, decodes, and
# checks the content against `ctrace dump` of each TRACE.  The export must
# exit $EXPORT_RC (default 0).
export_check() {
  local fmt=$1 out=$tmp/$2; shift 2
  local dumps=()
  mkdir -p "$tmp/dumps"
  for t in "$@"; do # named as the trace: check_export.py finds its process by name
    "$ctrace" dump "$t" >"$tmp/dumps/$(basename "$t")" 2>/dev/null
    dumps+=("$tmp/dumps/$(basename "$t")")
  done
  "$ctrace" export --format "$fmt" -o "$out" "$@" 2>"$tmp/err"
  local rc=$?
  if [ $rc != "${EXPORT_RC:-0}" ]; then
    echo "FAIL: export $fmt $*: exit $rc, want ${EXPORT_RC:-0}: $(head -3 "$tmp/err")"; fail=1; return
  fi
  local decoded=$out
  if [ "$fmt" = perfetto ]; then
    decoded=$out.txt
    if ! protoc --decode=perfetto.protos.Trace -I "$here" "$here/perfetto_min.proto" \
         <"$out" >"$decoded" 2>"$tmp/err"; then
      echo "FAIL: protoc cannot decode the $fmt export of $*: $(head -3 "$tmp/err")"; fail=1; return
    fi
    echo "ok: protoc decodes the perfetto export of $*"
  else
    if ! python3 -m json.tool "$out" >/dev/null 2>"$tmp/err"; then
      echo "FAIL: the chrome export of $* is not valid JSON: $(head -3 "$tmp/err")"; fail=1; return
    fi
    echo "ok: the chrome export of $* is valid JSON"
  fi
  python3 "$here/check_export.py" "$fmt" "$decoded" "${dumps[@]}" >"$tmp/check" 2>&1 ||
    { grep -v '^ok' "$tmp/check"; export_diag "$fmt" "$decoded" "${dumps[@]}"
      echo "FAIL: content of the $fmt export of $*"; fail=1; return; }
  echo "ok: content of the $fmt export of $* ($(grep -c '^ok' "$tmp/check") checks)"
}
