/*
 * condqueue.c - producers and consumers around a bounded queue guarded by a
 * mutex and two condition variables.
 *
 * 2 producers put 200 items each; 2 consumers take them.  Waiting on a
 * condition variable (queue empty or full) is recorded as a
 * "sync: condition wait" block (CTRACE_BLOCK_COND); each item is handled in a "consume" region.
 *
 *   condqueue [OUT.trace]       (default: $CTRACE_OUT, else condqueue.trace)
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrace.h"

#define NPRODUCERS 2
#define NCONSUMERS 2
#define ITEMS_PER_PRODUCER 200
#define QUEUE_SIZE 8

static int queue[QUEUE_SIZE];
static int head, count;
static int producers_left = NPRODUCERS;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;

/* pthread_cond_wait, recorded as a condition-variable wait. */
static void traced_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
    ctrace_block(CTRACE_BLOCK_COND);
    pthread_cond_wait(cv, m);
    ctrace_unblock();
}

static void put(int v)
{
    pthread_mutex_lock(&lock);
    while (count == QUEUE_SIZE)
        traced_wait(&not_full, &lock);
    queue[(head + count) % QUEUE_SIZE] = v;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
}

/* Returns 0 once the queue is empty and every producer has finished. */
static int get(int *v)
{
    pthread_mutex_lock(&lock);
    while (count == 0 && producers_left > 0)
        traced_wait(&not_empty, &lock);
    if (count == 0) {
        pthread_mutex_unlock(&lock);
        return 0;
    }
    *v = queue[head];
    head = (head + 1) % QUEUE_SIZE;
    count--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    return 1;
}

static void *producer(void *arg)
{
    int base = (int)(long)arg * 1000;
    ctrace_thread_name("producer");
    for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
        if (i % 50 == 0) {
            /* Now and then the producer is slow: consumers find the queue empty. */
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        put(base + i);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static long consumed[NCONSUMERS];

static void *consumer(void *arg)
{
    int me = (int)(long)arg;
    ctrace_thread_name("consumer");
    int v;
    while (get(&v)) {
        ctrace_region_begin(0, "consume");
        volatile unsigned x = (unsigned)v;
        for (int i = 0; i < 2000; i++)
            x = x * 1103515245u + 12345u;
        consumed[me]++;
        ctrace_region_end(0, "consume");
    }
    ctrace_logf(0, "consumer", "consumer %d took %ld items", me, consumed[me]);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "condqueue.trace";

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "condqueue: cannot trace to %s: %s (%s)\n", out,
                ctrace_strerror(err), strerror(errno));
        return 1;
    }

    pthread_t c[NCONSUMERS], p[NPRODUCERS];
    for (long i = 0; i < NCONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, (void *)i);
    for (long i = 0; i < NPRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < NPRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < NCONSUMERS; i++)
        pthread_join(c[i], NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "condqueue: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    long total = 0;
    for (int i = 0; i < NCONSUMERS; i++)
        total += consumed[i];
    printf("condqueue: %ld items consumed, trace in %s\n", total, out);
    return total == NPRODUCERS * ITEMS_PER_PRODUCER ? 0 : 1;
}
