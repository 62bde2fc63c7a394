/*
 * read_all.c - the reader alone, as the tools use it: every event of a
 * trace through ctrace_reader_next(), nothing done with it.  This is the
 * bound of `ctrace stat`, `pprof` and `export` (issue 11: "limited by the
 * reader, not by their own work"): bench/export/vs_check.sh times it next
 * to them.  `ctrace check` is not that bound: it reads without building
 * the public events, on two threads for a large file.
 *
 *   read_all [-j 1|2] [--ring BLOCKS] TRACE
 *                              prints "EVENTS events", exits 0; 1 on a
 *                              reading error (its message on stderr)
 *
 * -j 2 reads ahead on a thread of its own (ctrace_reader_read_ahead), as
 * the exports do by default: the events then cross between the cores.
 * --ring sets the read-ahead ring's size in blocks of 512 events (the
 * reader's internal hook the tests use; default: twice the L2 cache):
 * bench/reader/ring.sh times the handoff against it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace_reader.h"

/* Internal (src/reader/ahead.c): the read-ahead ring's shape. */
void rd_ahead_shape(ctrace_reader *r, size_t nblocks, size_t block_events);

int main(int argc, char **argv)
{
    unsigned threads = 1;
    long ring = 0;
    int i = 1;
    for (; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-j") == 0)
            threads = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ring") == 0)
            ring = atol(argv[i + 1]);
        else
            break;
    }
    if (i != argc - 1 || (threads != 1 && threads != 2) || ring < 0 || ring == 1) {
        fprintf(stderr, "usage: read_all [-j 1|2] [--ring BLOCKS (2 or more)] TRACE\n");
        return 2;
    }
    ctrace_reader *r;
    int rc = ctrace_reader_open(argv[i], 0, &r);
    if (rc < 0 && !r) {
        fprintf(stderr, "read_all: %s: %s\n", argv[i], ctrace_reader_strerror(rc));
        return 1;
    }
    if (rc == 0 && threads > 1) {
        if (ring)
            rd_ahead_shape(r, (size_t)ring, 512);
        ctrace_reader_read_ahead(r, threads);
    }
    unsigned long long n = 0;
    const struct ctrace_event *ev;
    while (rc >= 0 && (rc = ctrace_reader_next(r, &ev)) == 1)
        n++;
    if (rc < 0)
        fprintf(stderr, "read_all: %s: %s\n", argv[i], ctrace_reader_error(r, NULL));
    printf("%llu events\n", n);
    ctrace_reader_close(r);
    return rc < 0;
}
