/*
 * blockq.c - the block queue between a producer and a consumer thread
 * (blockq.h states its invariants).
 */
#define _GNU_SOURCE
#include "blockq.h"

#include <signal.h>
#include <unistd.h>

#define BLOCKQ_BYTES_MIN (1u << 20)
#define BLOCKQ_BYTES_DEFAULT (4u << 20)
#define BLOCKQ_BYTES_MAX (16u << 20)

size_t blockq_bytes(void)
{
    size_t bytes = BLOCKQ_BYTES_DEFAULT;
#ifdef _SC_LEVEL2_CACHE_SIZE
    long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (l2 > 0 && (unsigned long)l2 < BLOCKQ_BYTES_MAX)
        bytes = 2 * (size_t)l2;
#endif
    if (bytes < BLOCKQ_BYTES_MIN)
        bytes = BLOCKQ_BYTES_MIN;
    if (bytes > BLOCKQ_BYTES_MAX)
        bytes = BLOCKQ_BYTES_MAX;
    return bytes;
}

int blockq_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void blockq_init(struct blockq *q, size_t nblocks)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake_producer, NULL);
    pthread_cond_init(&q->wake_consumer, NULL);
    q->nblocks = nblocks;
    q->published = q->released = q->taken = 0;
    q->producer_waits = q->consumer_waits = 0;
    q->producer_wants = 0;
    atomic_store_explicit(&q->stop, 0, memory_order_relaxed);
}

void blockq_destroy(struct blockq *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->wake_producer);
    pthread_cond_destroy(&q->wake_consumer);
}

void blockq_publish(struct blockq *q, int last)
{
    pthread_mutex_lock(&q->mu);
    q->published++;
    if (q->consumer_waits && (last || q->published - q->taken >= (q->nblocks + 1) / 2))
        pthread_cond_signal(&q->wake_consumer);
    pthread_mutex_unlock(&q->mu);
}

int blockq_wait_released(struct blockq *q, uint64_t most, uint64_t want)
{
    int stop;
    pthread_mutex_lock(&q->mu);
    if (q->published - q->released > most) {
        while (!(stop = blockq_stopped(q)) && q->published - q->released > want) {
            /* Never both asleep: what is published is the consumer's. */
            if (q->consumer_waits && q->published > q->taken)
                pthread_cond_signal(&q->wake_consumer);
            q->producer_waits = 1;
            q->producer_wants = want;
            pthread_cond_wait(&q->wake_producer, &q->mu);
            q->producer_waits = 0;
        }
    }
    stop = blockq_stopped(q);
    pthread_mutex_unlock(&q->mu);
    return stop ? -1 : 0;
}

long blockq_claim(struct blockq *q)
{
    if (blockq_wait_released(q, q->nblocks - 1, q->nblocks / 2) < 0)
        return -1;
    return (long)(q->published % q->nblocks);
}

/* Under mu: one block released; the producer woken if it waits for as
 * few in flight as are now. */
static void release_locked(struct blockq *q)
{
    q->released++;
    if (q->producer_waits && q->published - q->released <= q->producer_wants)
        pthread_cond_signal(&q->wake_producer);
}

size_t blockq_take(struct blockq *q, int release)
{
    pthread_mutex_lock(&q->mu);
    if (release)
        release_locked(q);
    while (q->published == q->taken) {
        q->consumer_waits = 1;
        pthread_cond_wait(&q->wake_consumer, &q->mu);
        q->consumer_waits = 0;
    }
    size_t i = (size_t)(q->taken++ % q->nblocks);
    pthread_mutex_unlock(&q->mu);
    return i;
}

void blockq_release(struct blockq *q)
{
    pthread_mutex_lock(&q->mu);
    release_locked(q);
    pthread_mutex_unlock(&q->mu);
}

void blockq_stop(struct blockq *q)
{
    pthread_mutex_lock(&q->mu);
    atomic_store_explicit(&q->stop, 1, memory_order_relaxed);
    pthread_cond_signal(&q->wake_producer);
    pthread_mutex_unlock(&q->mu);
}
