/*
 * cpuburn.c - CPU-bound work on 2 threads for about half a second, so that
 * the trace holds CPU profile samples (ctrace samples each thread's CPU time,
 * 100 Hz by default; CTRACE_CPU_HZ changes it).  Each thread burns until it
 * has used SECONDS of CPU time (not wall time: on a busy machine it simply
 * takes longer), so a trace holds about 2 x SECONDS x 100 samples.  The hot
 * functions are mix() and hash_block(): they should top the samples' stacks.
 *
 *   cpuburn [OUT.trace] [SECONDS]   (default: $CTRACE_OUT, else cpuburn.trace; 0.5 s)
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrace.h"

#define NTHREADS 2

static double seconds = 0.5;

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

__attribute__((noinline)) static uint64_t hash_block(uint64_t seed)
{
    uint64_t h = seed;
    for (int i = 0; i < 4096; i++)
        h = mix(h + (uint64_t)i);
    return h;
}

static void *burn(void *arg)
{
    uint64_t *result = arg;
    ctrace_thread_name("burner");
    ctrace_region_begin(0, "burn");
    uint64_t h = (uint64_t)(uintptr_t)arg;
    long rounds = 0;
    double cpu_end = clock_seconds(CLOCK_THREAD_CPUTIME_ID) + seconds;
    double wall_end = clock_seconds(CLOCK_MONOTONIC) + 20 * seconds; /* give up on a machine this busy */
    while (clock_seconds(CLOCK_THREAD_CPUTIME_ID) < cpu_end &&
           clock_seconds(CLOCK_MONOTONIC) < wall_end) {
        for (int i = 0; i < 16; i++)
            h = hash_block(h);
        rounds++;
    }
    ctrace_region_end(0, "burn");
    ctrace_logf(0, "burn", "%ld rounds", rounds);
    *result = h;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "cpuburn.trace";
    if (argc > 2)
        seconds = atof(argv[2]);

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "cpuburn: cannot trace to %s: %s (%s)\n", out, ctrace_strerror(err),
                strerror(errno));
        return 1;
    }

    pthread_t t[NTHREADS];
    uint64_t results[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, burn, &results[i]);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "cpuburn: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    ctrace_stats st;
    ctrace_get_stats(&st);
    printf("cpuburn: %d threads burned %.2f s of CPU each (checksum %llx), %llu CPU samples, trace in %s\n",
           NTHREADS, seconds, (unsigned long long)(results[0] ^ results[1]),
           (unsigned long long)st.samples, out);
    return 0;
}
