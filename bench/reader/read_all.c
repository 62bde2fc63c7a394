/*
 * read_all.c - the reader alone, as the tools use it: every event of a
 * trace through ctrace_reader_next(), nothing done with it.  This is the
 * bound of `ctrace stat`, `pprof` and `export` (issue 11: "limited by the
 * reader, not by their own work"): bench/export/vs_check.sh times it next
 * to them.  `ctrace check` is not that bound: it reads without building
 * the public events, on two threads for a large file.
 *
 *   read_all [-j 1|2] TRACE    prints "EVENTS events", exits 0; 1 on a
 *                              reading error (its message on stderr)
 *
 * -j 2 reads ahead on a thread of its own (ctrace_reader_read_ahead), as
 * the exports do by default: the events then cross between the cores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace_reader.h"

int main(int argc, char **argv)
{
    unsigned threads = 1;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "-j") == 0) {
        threads = (unsigned)atoi(argv[2]);
        i = 3;
    }
    if (i != argc - 1 || (threads != 1 && threads != 2)) {
        fprintf(stderr, "usage: read_all [-j 1|2] TRACE\n");
        return 2;
    }
    ctrace_reader *r;
    int rc = ctrace_reader_open(argv[i], 0, &r);
    if (rc < 0 && !r) {
        fprintf(stderr, "read_all: %s: %s\n", argv[i], ctrace_reader_strerror(rc));
        return 1;
    }
    if (rc == 0 && threads > 1)
        ctrace_reader_read_ahead(r, threads);
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
