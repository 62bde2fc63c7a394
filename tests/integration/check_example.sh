#!/usr/bin/env bash
# check_example.sh NAME BINARY: runs examples/NAME.c under tracing and checks
# that Go 1.22 and 1.23 accept its trace and that the trace holds what the
# program did (counts from Go 1.23's `go tool trace -d=1`).
name=$1 bin=$2
. "$(dirname "$0")/lib.sh"

t=$name.trace
echo "== $bin $t"
rc=0
"$bin" "$t" > run.out 2> run.err || rc=$?
if [ $rc -ne 0 ]; then
    cat run.out run.err
    die "$name exited with status $rc"
fi
cat run.out
[ -s run.err ] && { echo "--- stderr:"; cat run.err; }
ok "$name ran"
validate "$t"
dump "$t" || fail "go 1.23 tool trace -d=1 $t: $(tail -n 2 "$t.d1.err" | tr '\n' ' ')"
s=$t.sum
show "$s"

case $name in
threadpool)
    # main + 4 workers; the workers are created with pthread_create.
    expect_key "$s" ge 5 goroutines
    expect_created "$s" ge 4
    expect_key "$s" ge 4 goexit
    expect_key "$s" eq 400 task job
    expect_key "$s" eq 400 taskend job
    expect_key "$s" eq 400 region compute
    expect_key "$s" eq 400 regionend compute
    expect_key "$s" eq 400 region publish
    expect_key "$s" eq 400 regionend publish
    expect_key "$s" eq 400 regiontask publish job
    expect_key "$s" eq 4 regiongs compute
    expect_key "$s" eq 4 log pool
    expect ge 1 "blocks whose reason holds \"sync\"" "$(count_match "$s" block 'sync')"
    expect ge 1 "blocks with traced_lock on their stack" "$(awk -F'\t' '$1=="blockfn" && $3=="traced_lock" {s+=$4} END{print s+0}' "$s")"
    blocks_balanced "$s"
    check "worker names in the trace" grep -q 'worker-3' "$t.d1"
    # Stacks: the caller of each API call is on the stack, the tracer is not on top.
    for k in TaskBegin TaskEnd RegionBegin RegionEnd; do stack_has "$s" $k worker; done
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    pprof_has "$t" sync traced_lock
    ;;
condqueue)
    expect_key "$s" ge 5 goroutines
    expect_created "$s" ge 4
    expect_key "$s" eq 400 region consume
    expect_key "$s" eq 400 regionend consume
    expect_key "$s" eq 2 regiongs consume
    expect_key "$s" eq 2 log consumer
    expect ge 1 "condition-variable blocks (CTRACE_BLOCK_COND: \"sync: condition wait\", a sync block)" "$(count_match "$s" block '^sync: condition wait$')"
    expect ge 1 "cond blocks with traced_wait on their stack" "$(awk -F'\t' '$1=="blockfn" && $2 == "sync: condition wait" && $3=="traced_wait" {s+=$4} END{print s+0}' "$s")"
    blocks_balanced "$s"
    stack_has "$s" RegionBegin consumer
    stack_has "$s" RegionEnd consumer
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    pprof_has "$t" sync traced_wait
    ;;
sleeper)
    expect_key "$s" ge 4 goroutines
    expect_created "$s" ge 3
    expect eq 30 "sleep blocks (reason holds \"sleep\")" "$(count_match "$s" block 'sleep')"
    expect eq 15 "sleeps from sleep_ns" "$(awk -F'\t' '$1=="blockfn" && $2 ~ /sleep/ && $3=="sleep_ns" {s+=$4} END{print s+0}' "$s")"
    expect eq 15 "sleeps from sleep_us" "$(awk -F'\t' '$1=="blockfn" && $2 ~ /sleep/ && $3=="sleep_us" {s+=$4} END{print s+0}' "$s")"
    expect_key "$s" eq 15 region tick
    expect_key "$s" eq 15 regionend tick
    expect_key "$s" eq 3 regiongs tick
    expect_key "$s" eq 15 log tick
    blocks_balanced "$s"
    stack_has "$s" Log ticker
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    ;;
annotations)
    expect_key "$s" eq 3 task request
    expect_key "$s" eq 3 taskend request
    expect_key "$s" eq 3 task db-query
    expect_key "$s" eq 3 taskend db-query
    expect_key "$s" eq 3 taskchild db-query request
    expect_key "$s" eq 0 taskchild request db-query
    expect_key "$s" eq 3 region handle
    expect_key "$s" eq 3 regionend handle
    expect_key "$s" eq 3 region parse
    expect_key "$s" eq 3 regionend parse
    expect_key "$s" eq 3 region respond
    expect_key "$s" eq 3 regionend respond
    expect_key "$s" eq 3 region query
    expect_key "$s" eq 3 regionend query
    expect_key "$s" eq 3 regiontask handle request
    expect_key "$s" eq 3 regiontask query db-query
    expect_key "$s" eq 1 region flush
    expect_key "$s" eq 1 regionend flush
    expect_key "$s" eq 6 log http
    expect_key "$s" eq 3 log db
    expect_key "$s" eq 1 log flusher
    # 3 db-worker threads + the flusher, each created by main.
    expect_created "$s" ge 4
    expect_key "$s" ge 5 goroutines
    stack_has "$s" TaskBegin handle_request
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    check "log message text kept" grep -q 'Message="GET /items/2"' "$t.d1"
    check "formatted log kept" grep -q 'Message="SELECT \* FROM items WHERE request = 1"' "$t.d1"
    check "thread name main-loop in the trace" grep -q 'main-loop' "$t.d1"
    check "thread name db-worker in the trace" grep -q 'db-worker' "$t.d1"
    check "pthread_setname_np name bg-flusher in the trace" grep -q 'bg-flusher' "$t.d1"
    # nesting: on main's goroutine, parse and respond lie inside handle.
    check "regions nest: handle > parse, respond" awk '
        / RegionBegin / && / Type="handle"/ { g = $3; inh[g] = 1 }
        / RegionEnd / && / Type="handle"/   { inh[$3] = 0 }
        / RegionBegin / && (/ Type="parse"/ || / Type="respond"/) { n++; if (inh[$3]) good++ }
        END { exit !(n == 6 && good == 6) }' "$t.d1"
    ;;
cpuburn)
    expect_key "$s" ge 3 goroutines
    expect_created "$s" ge 2
    expect_key "$s" eq 2 region burn
    expect_key "$s" eq 2 regionend burn
    # 2 threads x 0.5 s of CPU x 100 Hz = about 100 samples
    expect_key "$s" ge 40 samples
    n=$(count "$s" samples)
    hot=$(awk -F'\t' '$1=="samplefn" && ($2=="mix" || $2=="hash_block") {s+=$3} END{print s+0}' "$s")
    expect ge $((n / 2)) "samples in mix/hash_block (of $n)" "$hot"
    expect ge 1 "samples with burn on their stack" "$(count "$s" samplefn burn)"
    ;;
custom_block)
    expect_key "$s" ge 2 goroutines
    expect_created "$s" ge 1
    expect ge 1 "channel-receive blocks (consumer on empty ring)" "$(count_match "$s" block 'chan: queue receive')"
    expect ge 1 "blocks in pop" "$(awk -F'\t' '$1=="blockfn" && $3=="pop" {s+=$4} END{print s+0}' "$s")"
    expect eq 0 "blocks with reasons other than chan: queue receive, sync, sleep (nanosleep is interposed), and the zero-length ends of waits (FORMAT.md)" "$(awk -F'\t' '$1=="block" && $2 !~ /^chan: queue receive$|sync|sleep|^ctrace: (end of |main thread$|thread start$)/ {s+=$3} END{print s+0}' "$s")"
    c=$(count "$s" block 'sync: ring full')
    echo "info: producer found the ring full $c times"
    expect_key "$s" eq 32 region 'prepare burst'
    expect_key "$s" eq 32 regionend 'prepare burst'
    expect_key "$s" eq 1 log queue
    blocks_balanced "$s"
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    pprof_has "$t" sync pop
    ;;
cpp_workers)
    # examples/cpp_workers.cpp: 8 requests x 4 workers through ctrace.hpp.
    expect_key "$s" ge 5 goroutines
    expect_created "$s" ge 4
    expect_key "$s" eq 8 task request
    expect_key "$s" eq 8 taskend request
    expect_key "$s" eq 8 logtask request-id request
    check "request-id values kept" grep -q 'Category="request-id" Message="req-7"' "$t.d1"
    expect_key "$s" eq 8 regiontask dispatch request
    expect_key "$s" eq 32 region job
    expect_key "$s" eq 32 regionend job
    expect_key "$s" eq 32 regiontask job request
    expect_key "$s" eq 32 regiontask step request
    expect_key "$s" eq 32 regionend step
    expect_key "$s" eq 4 regiongs job
    expect_key "$s" eq 32 logtask job request
    expect_key "$s" eq 8 logtask done request
    expect_key "$s" eq 4 log ids
    # Per thread: each of the 4 worker goroutines ran 8 jobs (8 "job"
    # regions, 8 "step" regions inside them, 8 "job" logs), and its "ids"
    # log names its own goroutine id.
    check "each worker goroutine: 8 job regions, 8 step regions, 8 job logs" awk '
        / RegionBegin / && / Type="job"/ { job[$3]++ }
        / RegionBegin / && / Type="step"/ { step[$3]++ }
        / Log / && / Category="job"/ { lg[$3]++ }
        END { n = 0; for (g in job) { n++; if (job[g] != 8 || step[g] != 8 || lg[g] != 8) exit 1 }
              exit n != 4 }' "$t.d1"
    check "ids logs give the goroutine id the trace shows" awk '
        / Log / && / Category="ids"/ { g = $3; sub(/^G=/, "", g); if ($0 ~ ("is goroutine " g "\"$")) n++ }
        END { exit n != 4 }' "$t.d1"
    check "worker names in the trace" grep -q 'worker-3' "$t.d1"
    # Stacks go through the inlined wrappers to the caller.
    expect eq 64 "job and step regions with work on their stack" "$(count "$s" stackfn RegionBegin work)"
    expect eq 8 "dispatch regions with handle_request on their stack" "$(count "$s" stackfn RegionBegin handle_request)"
    stack_has "$s" TaskBegin handle_request
    no_tracer_frames "$s"
    no_tracer_frames_anywhere "$s"
    blocks_balanced "$s"
    ;;
*)
    die "no checks for example $name"
    ;;
esac
finish
