/*
 * test_strings_full.c - a string the tracer could not keep is a loss it
 * reports, never a silent empty string.
 *
 * Each generation's string table has a fixed capacity; crossing half of it
 * asks for an early generation.  When generations cannot end fast enough
 * (here: a runtime-level trace nobody reads, so the advancer may run at
 * most two generations ahead and then waits), further new strings are
 * written as id 0 -- shown empty.  Before the fix those were counted
 * nowhere: a log's message simply came out "" (found under ThreadSanitizer,
 * where 4 threads logging unique messages outran the advancer and the
 * flight recorder's crash marker came out empty).
 *
 * The test logs N unique messages with nobody reading, then reads the
 * whole trace and checks: some strings were dropped
 * (ctrace_stats.strings_dropped > 0), the trace's loss records say exactly
 * as many (ctrace_reader_losses().strings), and that many logs of ours
 * have an empty message -- every other log has its own message.
 *
 *   test_strings_full [N]      (default 150000)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace.h"
#include "ctrace_reader.h"

#define CHECK(c, ...)                                                       \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "FAIL: %s: ", #c);                              \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            return 1;                                                       \
        }                                                                   \
    } while (0)

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 150000;
    CHECK(ctrace_start_trace() == CTRACE_OK, "start");
    for (long i = 0; i < n; i++)
        ctrace_logf(0, "full", "unique message %ld", i);
    CHECK(ctrace_stop_trace() == CTRACE_OK, "stop");
    ctrace_stats st;
    ctrace_get_stats(&st);

    /* The whole trace, read after the stop (the data stays readable). */
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    const void *chunk;
    size_t clen;
    int rc;
    while ((rc = ctrace_read_trace_chunk(&chunk, &clen)) == 1) {
        while (len + clen > cap)
            buf = realloc(buf, cap *= 2);
        CHECK(buf != NULL, "memory");
        memcpy(buf + len, chunk, clen);
        len += clen;
    }
    CHECK(rc == 0, "read: %s", ctrace_strerror(rc));

    ctrace_reader *r;
    CHECK(ctrace_reader_open_mem(buf, len, 0, &r) == 0, "open");
    const struct ctrace_event *ev;
    uint64_t ours = 0, empty = 0, foreign = 0;
    while ((rc = ctrace_reader_next(r, &ev)) == 1) {
        if (ev->kind != CTRACE_EV_LOG)
            continue;
        if (ev->u.log.message.len == 0) {
            empty++;
            continue;
        }
        if (ev->u.log.message.len > 15 && !memcmp(ev->u.log.message.ptr, "unique message ", 15))
            ours++;
        else
            foreign++;
    }
    CHECK(rc == 0, "reader: %s", ctrace_reader_error(r, NULL));
    struct ctrace_losses lost;
    ctrace_reader_losses(r, &lost);
    ctrace_reader_close(r);
    free(buf);

    printf("logs %ld: with their message %" PRIu64 ", empty %" PRIu64 "; strings_dropped %" PRIu64
           ", loss records: strings=%" PRIu64 " (%" PRIu64 " records)\n",
           n, ours, empty, st.strings_dropped, lost.strings, lost.records);
    CHECK(st.strings_dropped > 0, "the table never filled: the test tests nothing");
    CHECK(lost.strings == st.strings_dropped, "the trace says %" PRIu64 ", the library %" PRIu64,
          lost.strings, st.strings_dropped);
    CHECK(empty >= st.strings_dropped / 2 && empty <= st.strings_dropped,
          "%" PRIu64 " empty messages for %" PRIu64 " strings dropped", empty, st.strings_dropped);
    CHECK(ours + empty == (uint64_t)n && foreign == 0, "%" PRIu64 " + %" PRIu64 " logs of %ld",
          ours, empty, n);
    printf("ok\n");
    return 0;
}
