/*
 * custom_block.c - a hand-rolled single-producer/single-consumer queue: a
 * ring buffer behind a spin lock, with a futex to sleep on when it is empty.
 * Neither the spin lock nor the futex is a pthread primitive, so the program
 * tells ctrace itself when a thread blocks:
 *   - consumer waiting for an item: ctrace_block(CTRACE_BLOCK_CHAN)
 *     ("chan: queue receive");
 *   - producer waiting for room:    ctrace_block_reason("sync: ring full");
 *   - spin lock held too long:      ctrace_block(CTRACE_BLOCK_SYNC).
 *
 *   custom_block [OUT.trace]    (default: $CTRACE_OUT, else custom_block.trace)
 */
#define _GNU_SOURCE /* syscall */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"

#define RING 16
#define NITEMS 2000
#define BURST 64

/* --- spin lock ---------------------------------------------------------- */

static atomic_flag ring_lock = ATOMIC_FLAG_INIT;

static void spin_lock(void)
{
    for (int spins = 0; atomic_flag_test_and_set_explicit(&ring_lock, memory_order_acquire); spins++) {
        if (spins == 100) {
            /* Spun long enough: from now on we are waiting, say so. */
            ctrace_block(CTRACE_BLOCK_SYNC);
            while (atomic_flag_test_and_set_explicit(&ring_lock, memory_order_acquire))
                sched_yield();
            ctrace_unblock();
            return;
        }
    }
}

static void spin_unlock(void)
{
    atomic_flag_clear_explicit(&ring_lock, memory_order_release);
}

/* --- futex -------------------------------------------------------------- */

static void futex_wait(atomic_int *addr, int expected)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* --- the queue ---------------------------------------------------------- */

static int ring[RING];
static int ring_head, ring_count;
static atomic_int items_seq; /* bumped on every push: the consumer's futex word */
static atomic_int space_seq; /* bumped on every pop: the producer's futex word */

static void push(int v)
{
    for (;;) {
        int seq = atomic_load(&space_seq);
        spin_lock();
        if (ring_count < RING) {
            ring[(ring_head + ring_count) % RING] = v;
            ring_count++;
            spin_unlock();
            atomic_fetch_add(&items_seq, 1);
            futex_wake(&items_seq);
            return;
        }
        spin_unlock();
        ctrace_block_reason("sync: ring full");
        futex_wait(&space_seq, seq);
        ctrace_unblock();
    }
}

static int pop(void)
{
    for (;;) {
        int seq = atomic_load(&items_seq);
        spin_lock();
        if (ring_count > 0) {
            int v = ring[ring_head];
            ring_head = (ring_head + 1) % RING;
            ring_count--;
            spin_unlock();
            atomic_fetch_add(&space_seq, 1);
            futex_wake(&space_seq);
            return v;
        }
        spin_unlock();
        ctrace_block(CTRACE_BLOCK_CHAN);
        futex_wait(&items_seq, seq);
        ctrace_unblock();
    }
}

static void *consumer(void *arg)
{
    long *sum = arg;
    ctrace_thread_name("consumer");
    for (int i = 0; i < NITEMS; i++) {
        int v = pop();
        if (v < 0)
            break;
        *sum += v;
    }
    ctrace_logf(0, "queue", "consumer done, sum %ld", *sum);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "custom_block.trace";

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "custom_block: cannot trace to %s: %s (%s)\n", out,
                ctrace_strerror(err), strerror(errno));
        return 1;
    }
    ctrace_thread_name("producer");

    long sum = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, consumer, &sum) != 0) {
        fprintf(stderr, "custom_block: pthread_create failed\n");
        return 1;
    }
    for (int i = 0; i < NITEMS; i++) {
        if (i % BURST == 0) {
            /* Between bursts the producer is busy elsewhere: the consumer
             * drains the ring and waits on the futex. */
            ctrace_region_begin(0, "prepare burst");
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
            ctrace_region_end(0, "prepare burst");
        }
        push(i);
    }
    pthread_join(t, NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "custom_block: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    long want = (long)NITEMS * (NITEMS - 1) / 2;
    printf("custom_block: %d items, sum %ld (want %ld), trace in %s\n", NITEMS, sum, want, out);
    return sum == want ? 0 : 1;
}
