#!/bin/bash
# v1_vs_go119.sh CTRACE TRACEDIR N - v1 traces against Go 1.19's own parser
# (`go tool trace -d` of Go 1.19 exits 0 only if it parses the trace): the
# go1.19 fixtures and N damaged copies of them (fixed seed) must be accepted
# or rejected by `ctrace check` exactly as Go 1.19 does.  Skipped (77)
# without Go 1.19.
set -u
ctrace=$1 dir=$2 count=${3:-100}
go=${GO119:-/usr/lib/go-1.19/bin/go}
[ -x "$go" ] || { echo "skip: no Go 1.19"; exit 77; }
export GOTOOLCHAIN=local
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp "$dir"/*.go119.trace "$tmp/" 2>/dev/null || { echo "skip: no go119 fixtures"; exit 77; }
python3 - "$dir" "$tmp" "$count" <<'PY'
import glob, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(glob.glob(os.path.join(src, "*.go119.trace")))
rnd = random.Random(4321)
for i in range(n):
    f = rnd.choice(files)
    b = bytearray(open(f, "rb").read())
    op = rnd.choice(["cut", "flip", "del", "dup", "flip"])
    p = rnd.randrange(16, len(b))
    if op == "cut":
        b = b[:p]
    elif op == "flip":
        b[p] ^= 1 << rnd.randrange(8)
    elif op == "del":
        del b[p:p + rnd.randrange(1, 64)]
    else:
        q = min(len(b), p + rnd.randrange(1, 256))
        b[q:q] = b[p:q]
    open(os.path.join(out, "m%03d_%s_%s" % (i, op, os.path.basename(f))), "wb").write(bytes(b))
PY
fail=0 n=0 acc=0
for f in "$tmp"/*.trace; do
  "$go" tool trace -d "$f" >/dev/null 2>"$tmp/go.err"; grc=$?
  grep -q "^panic" "$tmp/go.err" && { echo "skip (Go 1.19 panics): $f"; continue; }
  "$ctrace" check -q "$f"; crc=$?
  n=$((n + 1))
  if [ $((grc != 0)) -ne $((crc != 0)) ]; then
    echo "FAIL: Go 1.19 exit $grc, ctrace exit $crc: $(basename "$f"): $(tail -1 "$tmp/go.err")"
    fail=1
  else
    [ $grc -eq 0 ] && acc=$((acc + 1))
  fi
done
echo "$n traces compared with Go 1.19 ($acc accepted by both)"
exit $fail
