/*
 * count_events.c - the reader API in a few lines: counts the events of a Go
 * execution trace (one written by ctrace, or by a Go program) by kind.
 *
 *   count_events FILE
 *
 * Build against an installed ctrace:
 *   cc count_events.c $(pkg-config --cflags --libs ctrace_reader)
 */
#include <stdio.h>

#include "ctrace_reader.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: count_events FILE\n");
        return 2;
    }
    ctrace_reader *r;
    int rc = ctrace_reader_open(argv[1], 0, &r);
    if (rc != 0) {
        uint64_t off = 0;
        const char *msg = r ? ctrace_reader_error(r, &off) : ctrace_reader_strerror(rc);
        fprintf(stderr, "count_events: %s: %s\n", argv[1], msg);
        ctrace_reader_close(r);
        return 1;
    }
    unsigned long long n[64] = {0}, total = 0;
    const struct ctrace_event *ev;
    while ((rc = ctrace_reader_next(r, &ev)) == 1) {
        n[(unsigned)ev->kind % 64]++;
        total++;
    }
    if (rc < 0) {
        uint64_t off = 0;
        const char *msg = ctrace_reader_error(r, &off);
        fprintf(stderr, "count_events: %s: %s (byte %llu)\n", argv[1], msg,
                (unsigned long long)off);
        ctrace_reader_close(r);
        return 1;
    }
    for (unsigned k = 0; k < 64; k++)
        if (n[k])
            printf("%-16s %llu\n", ctrace_event_kind_name((enum ctrace_event_kind)k), n[k]);
    printf("%-16s %llu\n", "total", total);
    ctrace_reader_close(r);
    return 0;
}
