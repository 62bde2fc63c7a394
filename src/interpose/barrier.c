/*
 * barrier.c - pthread_barrier_wait as a "sync" block.
 *
 * Invariants: a barrier has no try operation, so every traced wait is
 * reported; the last thread to arrive shows a block of (near) zero length.
 * The return value (0 or PTHREAD_BARRIER_SERIAL_THREAD) passes through.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "interpose.h"

CT_REAL_DECL(int, pthread_barrier_wait, (pthread_barrier_t *));

CT_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    CT_REAL(pthread_barrier_wait);
    if (CT_UNLIKELY(!ct_real_pthread_barrier_wait))
        return EINVAL;
    if (!CT_ENABLED())
        return ct_real_pthread_barrier_wait(b);
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "pthread_barrier_wait");
    int r = ct_real_pthread_barrier_wait(b);
    ct_unblock();
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_barrier_init(void)
{
    CT_REAL(pthread_barrier_wait);
}
