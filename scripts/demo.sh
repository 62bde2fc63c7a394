#!/usr/bin/env bash
# demo.sh [BUILD_DIR]: traces one of the bundled examples (a thread pool with
# lock contention, tasks and regions) into demo.trace, shows what the trace
# holds and how to open it.  Run by `make demo` after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
go123=/usr/lib/go-1.23/bin/go
export GOTOOLCHAIN=local
ex=$build/examples/threadpool
out=demo.trace

if [ ! -x "$ex" ]; then
    echo "demo: $ex is not built (is the ctrace library there yet?)" >&2
    exit 1
fi

echo "== Tracing examples/threadpool.c (4 workers, 400 jobs) into $out"
"$ex" "$out"
echo
ls -l "$out"
echo

if [ -x "$build/src/tools/ctrace" ]; then
    echo "== ctrace stat $out"
    "$build/src/tools/ctrace" stat "$out"
else
    echo "== What the trace holds (from go tool trace -d=1)"
    "$go123" tool trace -d=1 "$out" > "$build/demo.d1"
    awk -f tests/integration/summarize.awk "$build/demo.d1" | sort | awk -F'\t' '
        $1 == "events"     { printf "  %-28s %s\n", "events", $2 }
        $1 == "goroutines" { printf "  %-28s %s\n", "threads (goroutines)", $2 }
        $1 == "gocreate"   { printf "  %-28s %s\n", "threads created", $2 }
        $1 == "block"      { printf "  %-28s %s\n", "blocked on \"" $2 "\"", $3 }
        $1 == "task"       { printf "  %-28s %s\n", "tasks \"" $2 "\"", $3 }
        $1 == "region"     { printf "  %-28s %s\n", "regions \"" $2 "\"", $3 }
        $1 == "log"        { printf "  %-28s %s\n", "logs \"" $2 "\"", $3 }
        $1 == "samples"    { printf "  %-28s %s\n", "CPU samples", $2 }'
fi

cat <<MSG

== Open it in Go's trace viewer (it prints a URL; -http=:8080 to choose the port):

    $go123 tool trace $out

   "View trace" shows each thread as a goroutine on its own P; "Goroutine
   analysis", "Synchronization blocking profile", "User-defined tasks" and
   "User-defined regions" show the blocking, tasks and regions above.
MSG
