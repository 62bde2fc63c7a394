#!/bin/bash
# v1_vs_go119.sh CTRACE TRACEDIR N - v1 traces against Go 1.19's own parser
# (`go tool trace -d` of Go 1.19 exits 0 only if it parses the trace): the
# go1.19 fixtures and N damaged copies of them (fixed seed) must be accepted
# or rejected by `ctrace check` exactly as Go 1.19 does.  A copy on which
# Go 1.19 panics cannot be compared: it is counted as skipped (and ctrace
# must not crash on it).  Skipped (77) without Go 1.19 or python3.
set -u
ctrace=$1 dir=$2 count=${3:-100}
. "$(dirname "$0")/../go_toolchain.sh"
need_go 19
go=$GO119
command -v python3 >/dev/null || { echo "SKIP: python3 not installed: this test needs it"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The fixtures are part of the tree: none is a failure, not a skip.
cp "$dir"/*.go119.trace "$tmp/" 2>/dev/null || { echo "FAIL: no *.go119.trace fixtures in $dir"; exit 1; }
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
# One region name under two string ids: every region end of the
# annotations fixture names its region by a second id defined with the same
# text.  Go 1.19 compares region names by text, so it accepts the trace.
python3 - "$dir/annotations.go119.trace" "$tmp/samename_annotations.go119.trace" <<'PY' ||
import sys
src, out = sys.argv[1], sys.argv[2]
b = open(src, "rb").read()
def rv(o):
    v = s = 0
    while True:
        c = b[o]; o += 1
        v |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return v, o
def wv(v):
    r = bytearray()
    while True:
        c = v & 0x7f; v >>= 7
        if v:
            r.append(c | 0x80)
        else:
            r.append(c); return bytes(r)
EV_STRING, EV_REGION, EV_LOG = 37, 47, 48
o, events, strings = 16, [], {}
while o < len(b):
    o0, typ, narg = o, b[o] & 0x3f, (b[o] >> 6) + 1
    o += 1
    if typ == EV_STRING:
        i, o = rv(o); n, o = rv(o)
        strings[i] = b[o:o + n]; o += n
        events.append((b[o0:o], None)); continue
    args = []
    if narg < 4:
        for _ in range(narg):
            v, o = rv(o); args.append(v)
    else:
        n, o = rv(o); end = o + n
        while o < end:
            v, o = rv(o); args.append(v)
    if typ == EV_LOG:
        n, o = rv(o); o += n
    events.append((b[o0:o], (typ, args)))
fresh, top, outb, ends = {}, max(strings) + 1, bytearray(b[:16]), 0
for raw, ev in events:
    if ev and ev[0] == EV_REGION and ev[1][2] == 1:  # args: ts, task, mode, name, stack
        name = ev[1][3]
        if name not in fresh:
            fresh[name] = top; top += 1
            outb += bytes([EV_STRING]) + wv(fresh[name]) + wv(len(strings[name])) + strings[name]
        a = list(ev[1]); a[3] = fresh[name]
        body = b"".join(wv(x) for x in a)
        outb += bytes([EV_REGION | (3 << 6)]) + wv(len(body)) + body
        ends += 1
    else:
        outb += raw
open(out, "wb").write(bytes(outb))
sys.exit(0 if ends else 1)
PY
  { echo "FAIL: no region end rewritten in annotations.go119.trace"; exit 1; }
fail=0 n=0 acc=0 npanic=0
for f in "$tmp"/*.trace; do
  "$go" tool trace -d "$f" >/dev/null 2>"$tmp/go.err"; grc=$?
  "$ctrace" check -q "$f"; crc=$?
  if [ $crc -gt 1 ]; then
    echo "FAIL: ctrace check exit $crc: $(basename "$f")"; fail=1; continue
  fi
  if grep -q "^panic" "$tmp/go.err"; then
    npanic=$((npanic + 1)); echo "skip (Go 1.19 panics; ctrace exit $crc): $f"; continue
  fi
  n=$((n + 1))
  case $f in */samename_*)
    [ $grc -eq 0 ] || { echo "FAIL: Go 1.19 rejects $(basename "$f"): $(tail -1 "$tmp/go.err")"; fail=1; } ;;
  esac
  if [ $((grc != 0)) -ne $((crc != 0)) ]; then
    echo "FAIL: Go 1.19 exit $grc, ctrace exit $crc: $(basename "$f"): $(tail -1 "$tmp/go.err")"
    fail=1
  else
    [ $grc -eq 0 ] && acc=$((acc + 1))
  fi
done
echo "$n traces compared with Go 1.19 ($acc accepted by both), $npanic skipped (Go 1.19 panics)"
[ $n -gt 0 ] || { echo "FAIL: no traces compared"; exit 1; }
exit $fail
