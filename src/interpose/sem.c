/*
 * sem.c - POSIX semaphores: sem_wait, sem_timedwait, sem_clockwait.  Only a
 * wait that cannot take the semaphore at once is a block ("sync: sem_wait").
 *
 * Invariants:
 *  - sem_trywait first.  Success is final.  EAGAIN means the count is zero:
 *    report the block and make the real call (errno restored first).  Any
 *    other failure (EINVAL) is returned as the real call would.
 *  - glibc's timed variants check the timeout before anything else, even
 *    when the semaphore is available; an invalid timeout or clock therefore
 *    skips the try and goes to the real call, which returns EINVAL.
 *  - EINTR from the real wait passes through (we never retry).
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <time.h>

#include "interpose.h"

CT_REAL_DECL(int, sem_wait, (sem_t *));
CT_REAL_DECL(int, sem_trywait, (sem_t *));
CT_REAL_DECL(int, sem_timedwait, (sem_t *, const struct timespec *));
CT_REAL_DECL(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *));

/* 1: acquired; 0: would block (errno restored); -1: error, errno set. */
static inline int ct_sem_try(sem_t *s)
{
    CT_REAL(sem_trywait);
    if (CT_UNLIKELY(!ct_real_sem_trywait))
        return 0;
    int saved = errno;
    if (ct_real_sem_trywait(s) == 0)
        return 1;
    if (errno == EAGAIN) {
        errno = saved;
        return 0;
    }
    return -1;
}

static inline int ct_valid_timeout(const struct timespec *ts)
{
    return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

CT_EXPORT int sem_wait(sem_t *s)
{
    CT_REAL(sem_wait);
    if (CT_UNLIKELY(!ct_real_sem_wait)) {
        errno = EINVAL;
        return -1;
    }
    if (!CT_ENABLED())
        return ct_real_sem_wait(s);
    int t = ct_sem_try(s);
    if (t != 0)
        return t > 0 ? 0 : -1;
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "sem_wait");
    int r = ct_real_sem_wait(s);
    ct_unblock();
    return r;
}

CT_EXPORT int sem_timedwait(sem_t *s, const struct timespec *ts)
{
    CT_REAL(sem_timedwait);
    if (CT_UNLIKELY(!ct_real_sem_timedwait)) {
        errno = EINVAL;
        return -1;
    }
    if (!CT_ENABLED() || !ct_valid_timeout(ts))
        return ct_real_sem_timedwait(s, ts);
    int t = ct_sem_try(s);
    if (t != 0)
        return t > 0 ? 0 : -1;
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "sem_timedwait");
    int r = ct_real_sem_timedwait(s, ts);
    ct_unblock();
    return r;
}

CT_EXPORT int sem_clockwait(sem_t *s, clockid_t c, const struct timespec *ts)
{
    CT_REAL(sem_clockwait);
    if (CT_UNLIKELY(!ct_real_sem_clockwait)) {
        errno = EINVAL;
        return -1;
    }
    if (!CT_ENABLED() || !ct_valid_timeout(ts) ||
        (c != CLOCK_REALTIME && c != CLOCK_MONOTONIC))
        return ct_real_sem_clockwait(s, c, ts);
    int t = ct_sem_try(s);
    if (t != 0)
        return t > 0 ? 0 : -1;
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "sem_clockwait");
    int r = ct_real_sem_clockwait(s, c, ts);
    ct_unblock();
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_sem_init(void)
{
    CT_REAL(sem_wait);
    CT_REAL(sem_trywait);
    CT_REAL(sem_timedwait);
    CT_REAL(sem_clockwait);
}
