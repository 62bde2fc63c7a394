/*
 * test_clock.c - trace time must be real time.  The counter's rate is no
 * longer calibrated at start-up but measured when the first generation is
 * finished (clock.c); this checks the result: a region around a sleep of
 * S ms must last, in the trace as Go's parser scales it (the reader does
 * the same), at least S ms and at most the CLOCK_MONOTONIC time measured
 * around the region, within 2 %.
 *
 *   test_clock TRACE SLEEP_MS [MIN_GENERATIONS]
 *
 * Run with a short sleep (the rate is then measured over a few ms, at
 * ctrace_stop) and with a long sleep and a short CTRACE_PERIOD (measured at
 * the first generation's end, used by every later generation).  The second
 * run only tests what it is meant to if the region does span generations:
 * MIN_GENERATIONS (default 1) is the least number of generations (Sync
 * events, as the reader sees them) the trace must hold.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrace.h"
#include "ctrace_reader.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int is_clock_region(const struct ctrace_event *ev)
{
    return ev->u.region.name.len == 5 && memcmp(ev->u.region.name.ptr, "clock", 5) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: test_clock TRACE SLEEP_MS [MIN_GENERATIONS]\n");
        return 2;
    }
    const char *path = argv[1];
    long ms = atol(argv[2]);
    uint64_t min_gens = argc == 4 ? strtoull(argv[3], NULL, 10) : 1;
    if (ctrace_start_file(path) != CTRACE_OK) {
        fprintf(stderr, "FAIL: cannot start tracing to %s\n", path);
        return 1;
    }
    int64_t t0 = mono_ns();
    ctrace_region_begin(0, "clock");
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&d, &d) != 0) {
    }
    ctrace_region_end(0, "clock");
    int64_t t1 = mono_ns();
    if (ctrace_stop() != CTRACE_OK) {
        fprintf(stderr, "FAIL: ctrace_stop\n");
        return 1;
    }

    ctrace_reader *r;
    if (ctrace_reader_open(path, 0, &r) != 0) {
        fprintf(stderr, "FAIL: cannot read %s\n", path);
        return 1;
    }
    const struct ctrace_event *ev;
    int64_t begin = -1, end = -1;
    uint64_t gens = 0;
    int rc;
    while ((rc = ctrace_reader_next(r, &ev)) == 1) {
        if (ev->kind == CTRACE_EV_REGION_BEGIN && is_clock_region(ev))
            begin = ev->time;
        else if (ev->kind == CTRACE_EV_REGION_END && is_clock_region(ev))
            end = ev->time;
        else if (ev->kind == CTRACE_EV_SYNC)
            gens++;
    }
    if (rc != 0) {
        fprintf(stderr, "FAIL: reader: %s\n", ctrace_reader_error(r, NULL));
        ctrace_reader_close(r);
        return 1;
    }
    ctrace_reader_close(r);
    if (begin < 0 || end < 0) {
        fprintf(stderr, "FAIL: region 'clock' not found in the trace\n");
        return 1;
    }
    double traced = (double)(end - begin), slept = (double)ms * 1e6, outer = (double)(t1 - t0);
    printf("slept %ld ms; trace: %.3f ms; measured around the region: %.3f ms; %llu generation(s)\n",
           ms, traced / 1e6, outer / 1e6, (unsigned long long)gens);
    if (gens < min_gens) {
        fprintf(stderr, "FAIL: %llu generation(s) in the trace, want at least %llu\n",
                (unsigned long long)gens, (unsigned long long)min_gens);
        return 1;
    }
    if (traced < slept * 0.98 || traced > outer * 1.02 + 20000) {
        fprintf(stderr, "FAIL: trace time is off: %.3f ms for a %ld ms sleep (%.3f ms measured)\n",
                traced / 1e6, ms, outer / 1e6);
        return 1;
    }
    printf("ok\n");
    return 0;
}
