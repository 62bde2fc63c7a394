/*
 * losses_prog.c - a program for `ctrace run` whose trace loses a thread,
 * by fault injection, when LOSSES_DROP_MAIN is set.
 *
 * The library asks ct_test_fail_alloc("pid") (a weak symbol this program
 * exports: ENABLE_EXPORTS) before it first grows its P id table; saying
 * "fail" there until main() runs makes the main thread, which the library
 * registers when the preloaded library starts the trace, one it cannot
 * give a P id: it is left out of the trace and counted (threads_dropped).
 * A worker started from main() is traced normally.
 *
 * The program writes one line to stderr and exits 3, so the test can check
 * that `ctrace run` leaves both untouched besides its own warning.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctrace.h>

static volatile int in_main;

int ct_test_fail_alloc(const char *site);
int ct_test_fail_alloc(const char *site)
{
    return !in_main && getenv("LOSSES_DROP_MAIN") != NULL && strcmp(site, "pid") == 0;
}

static void *worker(void *arg)
{
    (void)arg;
    ctrace_region_begin(0, "kept-worker");
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 1000000ul; i++)
        x += i;
    ctrace_region_end(0, "kept-worker");
    return NULL;
}

int main(void)
{
    in_main = 1;
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    fprintf(stderr, "losses_prog: the program's own line\n");
    return 3;
}
