/*
 * blockq.h - a bounded queue of blocks between two threads: one producer
 * fills blocks and publishes them in order, one consumer takes them in the
 * same order and releases each when it is done with it.  What a block
 * holds is the user's (an array indexed by blockq_claim/blockq_take).
 * The reader's read-ahead (src/reader/ahead.c: events) and the exporter's
 * relay (src/export/relay.c: sink calls) hand their work over through it.
 *
 * Invariants (what makes the handoff correct):
 *  - Blocks move by three counters under one mutex: the producer fills
 *    block `published % nblocks` while published - released < nblocks;
 *    the consumer reads block `taken % nblocks` while taken < published,
 *    and releases it (released++) when done.  The mutex orders every byte
 *    of a block written before its publication before the consumer's
 *    reads, and those reads before the producer's reuse of the block: one
 *    lock per block on each side, never per item.
 *  - A side that finds nothing to do sleeps on its condition variable
 *    until the other has made half the queue ready for it (or the last
 *    block is published, or the producer waits for the queue to drain):
 *    the threads meet every half queue, not at every block.  Never both
 *    asleep: a producer about to sleep wakes a consumer that has work.
 *  - `stop` (blockq_stop) is set under the mutex and wakes the producer;
 *    the producer's waits return -1 once it is set, so its owner can join
 *    it at once.  The consumer is never woken by stop: it is the thread
 *    that is not stopped (the owner) or it is woken by the last block.
 *  - `published` is written by the producer only (it may read it without
 *    the lock), `taken` by the consumer only.
 */
#ifndef CTRACE_BASE_BLOCKQ_H
#define CTRACE_BASE_BLOCKQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct blockq {
    pthread_mutex_t mu;
    pthread_cond_t wake_producer, wake_consumer;
    size_t nblocks;
    /* Under mu.  producer_wants: the most blocks in flight the producer
     * waits for (0: drained), valid while producer_waits. */
    uint64_t published, released, taken;
    int producer_waits, consumer_waits;
    uint64_t producer_wants;
    _Atomic int stop; /* set under mu; the producer may read it alone */
};

/* How many bytes a queue between two cores holds: twice one core's L2
 * cache (4 MiB when it is not known; 1 to 16 MiB in any case).  Why that
 * size: each line is written by one core and read by the other; when the
 * producer comes back to a line still in the consumer's cache, its write
 * waits for that core to give it up, at every line.  A queue larger than
 * the cache has left it by then (docs/PERFORMANCE.md, "Session 16"). */
size_t blockq_bytes(void);

/* Starts the thread of the queue's other side, fn(arg), with every signal
 * blocked in it (signals are for the program's own threads); 0, or the
 * error of pthread_create. */
int blockq_thread(pthread_t *th, void *(*fn)(void *), void *arg);

/* A queue of nblocks (>= 2) blocks, none in flight. */
void blockq_init(struct blockq *q, size_t nblocks);
void blockq_destroy(struct blockq *q);

/* Producer: the index of the next block to fill, once the queue has room
 * (when full, waits until half of it is free); -1 when stopped. */
long blockq_claim(struct blockq *q);

/* Producer: hands the block being filled to the consumer; `last`: the
 * final one (the consumer is woken for it whatever the queue holds). */
void blockq_publish(struct blockq *q, int last);

/* Producer: when more than `most` blocks are in flight (published, not
 * released), waits until no more than `want` are (0: the consumer has
 * released every block).  0, or -1 when stopped. */
int blockq_wait_released(struct blockq *q, uint64_t most, uint64_t want);

/* Consumer: releases the block it took last (if `release`) and takes the
 * next published one, waiting for it; its index. */
size_t blockq_take(struct blockq *q, int release);

/* Consumer: releases the block it took last, takes nothing. */
void blockq_release(struct blockq *q);

/* Owner: tells the producer to stop (its waits return -1 from now on). */
void blockq_stop(struct blockq *q);

/* Whether blockq_stop was called (the producer's check between items). */
static inline int blockq_stopped(struct blockq *q)
{
    return atomic_load_explicit(&q->stop, memory_order_relaxed);
}

#endif
