/*
 * long_wait.c - a wait that spans many generations: a thread blocks (an
 * annotated wait, "sync: long wait") for 1 s while the trace's generations
 * last 100 ms (CTRACE_PERIOD, set by long_waits.sh), and the main thread
 * waits for it in pthread_join.  Each generation restates the waiting
 * goroutines' state (Waiting->Waiting, no reason); the tools must carry
 * the wait's reason and stack across those restatements.
 *
 *   long_wait OUT.trace
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"

static void *waiter(void *arg)
{
    (void)arg;
    ctrace_thread_name("waiter");
    ctrace_block_reason("sync: long wait");
    /* The raw system call: no interposer turns it into a wait of its own. */
    struct timespec ts = {1, 0};
    syscall(SYS_nanosleep, &ts, NULL);
    ctrace_unblock();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2 || ctrace_start_file(argv[1]) != CTRACE_OK)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, waiter, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    return ctrace_stop() == CTRACE_OK ? 0 : 1;
}
