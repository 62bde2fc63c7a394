# export_lib.sh - shared by the export tests: tools needed (protoc, python3: exit 77
# when missing, a failure under CI), and one export checked against the dump.
# Sourced; sets `fail` and `tmp`.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

need_tool() { # program
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ -n "${CI:-}" ]; then echo "FAIL: $1 is missing (CI)"; exit 1; fi
  echo "SKIP: $1 is missing (scripts/install-deps.sh installs it)"; exit 77
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
    { grep -v '^ok' "$tmp/check"; echo "FAIL: content of the $fmt export of $*"; fail=1; return; }
  echo "ok: content of the $fmt export of $* ($(grep -c '^ok' "$tmp/check") checks)"
}
