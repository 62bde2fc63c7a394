/*
 * resync_trace.c - writes a libctrace trace in which the main thread's
 * goroutine shows the state resync libctrace writes after dropped events
 * (docs/FORMAT.md, "Memory cap"): a block whose reason is the resync
 * reason, then the unblock.  Dropping events for real needs a reader that
 * falls behind the memory cap and a thread that changes state while dark,
 * which no test can arrange deterministically; what `ctrace stat` reads
 * is the transition and its reason, and this trace holds exactly that.
 *
 *   resync_trace OUT.trace
 */
#include <stdio.h>

#include "ctrace.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: resync_trace OUT.trace\n");
        return 2;
    }
    if (ctrace_start_file(argv[1]) != 0) {
        fprintf(stderr, "resync_trace: cannot start tracing to %s\n", argv[1]);
        return 1;
    }
    ctrace_block_reason("ctrace: state resync after dropped events");
    ctrace_unblock();
    return ctrace_stop() == 0 ? 0 : 1;
}
