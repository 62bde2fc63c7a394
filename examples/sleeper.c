/*
 * sleeper.c - threads that mostly sleep: a "ticker" loop per thread that
 * wakes up, does a little bookkeeping and sleeps again, with nanosleep and
 * usleep.  Each sleep is recorded as a "sleep" block; each wake-up is a
 * "tick" region.  3 threads x 10 sleeps = 30 sleeps in all.
 *
 *   sleeper [OUT.trace]         (default: $CTRACE_OUT, else sleeper.trace)
 */
#define _DEFAULT_SOURCE /* usleep */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"

#define NTHREADS 3
#define NTICKS 5 /* each tick sleeps twice: nanosleep, then usleep */

static void sleep_ns(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    ctrace_block(CTRACE_BLOCK_SLEEP);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    ctrace_unblock();
}

static void sleep_us(useconds_t us)
{
    ctrace_block(CTRACE_BLOCK_SLEEP);
    usleep(us);
    ctrace_unblock();
}

static void *ticker(void *arg)
{
    int id = (int)(long)arg;
    char name[16];
    snprintf(name, sizeof name, "ticker-%d", id);
    ctrace_thread_name(name);

    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < NTICKS; i++) {
        sleep_ns(10 * 1000 * 1000); /* 10 ms */
        ctrace_region_begin(0, "tick");
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        ctrace_logf(0, "tick", "%s tick %d at %ld ms", name, i, ms);
        ctrace_region_end(0, "tick");
        sleep_us(5000); /* 5 ms */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "sleeper.trace";

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "sleeper: cannot trace to %s: %s (%s)\n", out, ctrace_strerror(err),
                strerror(errno));
        return 1;
    }

    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, ticker, (void *)(i + 1));
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "sleeper: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    printf("sleeper: %d threads slept %d times each, trace in %s\n", NTHREADS, 2 * NTICKS, out);
    return 0;
}
