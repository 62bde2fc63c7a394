#!/usr/bin/env bash
# gotrace-validate.sh FILE...
#
# Exits 0 only if BOTH Go 1.22's and Go 1.23's `go tool trace -d=1` accept
# every FILE: exit status 0 and nothing on stderr (that is where both report
# a parse error; stdout then holds the events parsed before the error).
# Prints "ok FILE" or "FAIL FILE goX.Y: <Go's error>" per file and toolchain.
# Exit 1 if any file is rejected, 2 on usage error or missing toolchain.
#
# Note: Go 1.22 only reads traces up to "go 1.22 trace"; a "go 1.23 trace"
# header is rejected by it ("unknown or unsupported trace version go 1.23").
# libctrace writes the Go 1.22 format, which both must accept.
#   GOTRACE_VALIDATE_GOS="/usr/lib/go-1.23/bin/go"  overrides the toolchains;
#   CTRACE_GO_ROOT=DIR  looks for DIR/go-1.22 and DIR/go-1.23 (default /usr/lib).
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: gotrace-validate.sh FILE..." >&2; exit 2; }
case $1 in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
root=${CTRACE_GO_ROOT:-/usr/lib}
gos=${GOTRACE_VALIDATE_GOS:-"$root/go-1.22/bin/go $root/go-1.23/bin/go"}
for go in $gos; do
    [ -x "$go" ] || { echo "gotrace-validate: $go not installed (scripts/install-deps.sh)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOTOOLCHAIN=local GOFLAGS= GO111MODULE=off

status=0
for file in "$@"; do
    ok=1
    if [ ! -r "$file" ]; then
        echo "FAIL $file: cannot read"; status=1; continue
    fi
    for go in $gos; do
        v=$(basename "$(dirname "$(dirname "$go")")"); v=${v#go-}
        "$go" tool trace -d=1 "$file" > /dev/null 2> "$tmp/err"
        rc=$?
        if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
            ok=0; status=1
            printf 'FAIL %s go%s (exit %d): %s\n' "$file" "$v" "$rc" "$(head -c 2000 "$tmp/err" | tr '\n' ' ')"
        fi
    done
    [ $ok = 1 ] && echo "ok $file"
done
exit $status
