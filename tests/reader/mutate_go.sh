#!/bin/bash
# mutate_go.sh CTRACE TRACEDIR N - differential test against Go 1.23's
# parser: N damaged copies of the v2 fixtures (truncated, bytes flipped,
# ranges deleted or duplicated; fixed seed; v1 and v2) must be accepted or rejected as
# Go does, with the same events printed before any error.  A copy on which
# Go's parser panics cannot be compared: it is counted as skipped (and
# ctrace must not crash on it).  Exit 77 (skipped) without Go 1.23 or
# python3.
set -u
ctrace=$1 dir=$2 count=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 23
command -v python3 >/dev/null || { echo "SKIP: python3 not installed: this test needs it"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$dir" "$tmp" "$count" <<'PY'
import glob, os, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(f for f in glob.glob(os.path.join(src, "*.trace"))
               if open(f, "rb").read(16)[:13] in (b"go 1.19 trace", b"go 1.22 trace", b"go 1.23 trace"))
rnd = random.Random(1234)
for i in range(n):
    f = rnd.choice(files)
    b = bytearray(open(f, "rb").read())
    op = rnd.choice(["cut", "flip", "del", "dup", "cut"])
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
[ "$(ls "$tmp" | wc -l)" = "$count" ] || { echo "FAIL: $count damaged copies wanted, $(ls "$tmp" | wc -l) written"; exit 1; }
PANIC_OK=1 exec "$here/compare_go.sh" "$ctrace" "$tmp"
