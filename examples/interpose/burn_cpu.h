/*
 * burn_cpu.h - CPU-bound busy work for the examples whose traces must show
 * CPU samples.  Header-only: the examples link nothing but libc.
 */
#ifndef CTRACE_EXAMPLES_BURN_CPU_H
#define CTRACE_EXAMPLES_BURN_CPU_H

#include <time.h>

/* Burns ms milliseconds of the calling thread's CPU time. */
static inline void burn_cpu_ms(long ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    volatile unsigned long x = 1;
    do {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005UL + 1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L < ms);
}

#endif
