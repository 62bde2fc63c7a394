#!/usr/bin/env bash
# Regenerates the Go execution-trace fixtures in testdata/traces/ from the
# programs in testdata/goprogs/, with each installed Go toolchain:
#   <name>.go119.trace  (Go 1.19, the v1 "go 1.19 trace" format)
#   <name>.go122.trace  (Go 1.22, the v2 format)
#   <name>.go123.trace  (Go 1.23, the v2 format)
# and checks each trace with the producing toolchain's own `go tool trace`.
#
#   testdata/regen.sh               all programs, all toolchains
#   testdata/regen.sh net gc        only these programs
#   GOVERSIONS="1.22 1.23" testdata/regen.sh   only these toolchains
#
# Nothing is fetched: programs use the standard library only and are built
# in GOPATH mode (GO111MODULE=off) with a throwaway GOPATH/GOCACHE.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
progs_dir=$here/goprogs
out_dir=$here/traces
versions=${GOVERSIONS:-"1.19 1.22 1.23"}
max_bytes=${MAX_TRACE_BYTES:-204800}

mkdir -p "$out_dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export GOPATH=$tmp/gopath GOCACHE=$tmp/gocache GOTOOLCHAIN=local \
       GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0 GOMAXPROCS=2
unset GOROOT

if [ $# -gt 0 ]; then names=("$@"); else
    names=(); for d in "$progs_dir"/*/; do names+=("$(basename "$d")"); done
fi

fail=0
for v in $versions; do
    go=/usr/lib/go-$v/bin/go
    if [ ! -x "$go" ]; then
        echo "regen: $go not installed (scripts/install-deps.sh)" >&2; exit 1
    fi
    tag=go${v/./}
    case $v in 1.19|1.20|1.21) dflag=-d ;; *) dflag=-d=1 ;; esac
    for n in "${names[@]}"; do
        bin=$tmp/$n.$tag
        trace=$out_dir/$n.$tag.trace
        (cd "$progs_dir/$n" && "$go" build -trimpath -o "$bin" main.go)
        # Retry a few times if the trace comes out larger than the budget
        # (scheduling noise); keep the last one regardless.
        for attempt in 1 2 3; do
            timeout 20 "$bin" "$trace.tmp"
            size=$(stat -c %s "$trace.tmp")
            [ "$size" -le "$max_bytes" ] && break
        done
        # A rejected trace: non-zero exit, message on stderr. Go <= 1.21's
        # tool also logs "Parsing trace..." to stderr on success; ignore it.
        if ! "$go" tool trace "$dflag" "$trace.tmp" > "$tmp/dump.txt" 2> "$tmp/err.txt" \
             || grep -qv 'Parsing trace\.\.\.$' "$tmp/err.txt"; then
            echo "regen: $tag $n: go tool trace rejected the trace:" >&2
            head -5 "$tmp/err.txt" >&2
            fail=1; rm -f "$trace.tmp"; continue
        fi
        mv "$trace.tmp" "$trace"
        printf 'regen: %-28s %7d bytes %6d dump lines\n' "$(basename "$trace")" "$size" "$(wc -l < "$tmp/dump.txt")"
        [ "$size" -le "$max_bytes" ] || echo "regen: warning: $(basename "$trace") is over $max_bytes bytes" >&2
    done
done
exit $fail
