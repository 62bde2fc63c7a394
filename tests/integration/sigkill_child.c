/*
 * sigkill_child.c - traces itself forever (until killed): 3 threads make
 * regions, logs and sleeps.  Prints "tracing" once tracing has started.
 *
 *   sigkill_child OUT.trace      (use CTRACE_PERIOD=100ms for short generations)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

static void *busy(void *arg)
{
    long id = (long)arg;
    for (long i = 0;; i++) {
        ctrace_region_begin(0, "busy");
        ctrace_logf(0, "busy", "thread %ld round %ld", id, i);
        volatile unsigned x = 1;
        for (int k = 0; k < 20000; k++)
            x = x * 1664525u + 1013904223u;
        ctrace_region_end(0, "busy");
        ctrace_block(CTRACE_BLOCK_SLEEP);
        usleep(1000);
        ctrace_unblock();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sigkill_child OUT.trace\n");
        return 2;
    }
    int rc = ctrace_start_file(argv[1]);
    if (rc != CTRACE_OK) {
        fprintf(stderr, "sigkill_child: %s\n", ctrace_strerror(rc));
        return 1;
    }
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, busy, (void *)i);
    printf("tracing\n");
    fflush(stdout);
    for (;;)
        pause();
}
