/*
 * rwlock.c - pthread read-write locks: only a contended acquisition is a
 * block ("sync.RWMutex.RLock" / "sync.RWMutex.Lock").
 *
 * Invariants: as mutex.c.  The try variant runs first; any result but
 * EBUSY is final (it is what the blocking call returns without waiting:
 * success, EAGAIN at the reader limit, EINVAL...).  EBUSY leads to a
 * reported block around the real blocking call, which also produces the
 * real EDEADLK for a thread that already holds the lock.  Invalid timeouts
 * and clocks skip the try so that the real function reports them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "interpose.h"

CT_REAL_DECL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *));
CT_REAL_DECL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *));
CT_REAL_DECL(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t *));
CT_REAL_DECL(int, pthread_rwlock_trywrlock, (pthread_rwlock_t *));
CT_REAL_DECL(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t *, const struct timespec *));
CT_REAL_DECL(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t *, const struct timespec *));
CT_REAL_DECL(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t *, clockid_t, const struct timespec *));
CT_REAL_DECL(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t *, clockid_t, const struct timespec *));

static inline int ct_valid_timeout(const struct timespec *ts)
{
    return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

static inline int ct_valid_clock(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC;
}


/* One body for the eight entry points.  TRY is the try function pointer,
 * CALL the real blocking call expression. */
#define CT_RW_BODY(REAL, TRY, REASON, VALID, CALL)                      \
    do {                                                                \
        CT_REAL(REAL);                                                  \
        if (CT_UNLIKELY(!ct_real_##REAL))                               \
            return EINVAL;                                              \
        if (!CT_ENABLED() || !(VALID))                           \
            return CALL;                                                \
        CT_REAL(TRY);                                                   \
        if (CT_LIKELY(ct_real_##TRY != NULL)) {                         \
            int r_ = ct_real_##TRY(l);                                  \
            if (r_ != EBUSY)                                            \
                return r_;                                              \
        }                                                               \
        CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, REASON);                        \
        int r_ = CALL;                                                  \
        ct_unblock();                                                   \
        return r_;                                                      \
    } while (0)

CT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    CT_RW_BODY(pthread_rwlock_rdlock, pthread_rwlock_tryrdlock, "pthread_rwlock_rdlock", 1,
               ct_real_pthread_rwlock_rdlock(l));
}

CT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    CT_RW_BODY(pthread_rwlock_wrlock, pthread_rwlock_trywrlock, "pthread_rwlock_wrlock", 1,
               ct_real_pthread_rwlock_wrlock(l));
}

CT_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *ts)
{
    CT_RW_BODY(pthread_rwlock_timedrdlock, pthread_rwlock_tryrdlock, "pthread_rwlock_timedrdlock",
               ct_valid_timeout(ts), ct_real_pthread_rwlock_timedrdlock(l, ts));
}

CT_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *ts)
{
    CT_RW_BODY(pthread_rwlock_timedwrlock, pthread_rwlock_trywrlock, "pthread_rwlock_timedwrlock",
               ct_valid_timeout(ts), ct_real_pthread_rwlock_timedwrlock(l, ts));
}

CT_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *ts)
{
    CT_RW_BODY(pthread_rwlock_clockrdlock, pthread_rwlock_tryrdlock, "pthread_rwlock_clockrdlock",
               ct_valid_timeout(ts) && ct_valid_clock(c),
               ct_real_pthread_rwlock_clockrdlock(l, c, ts));
}

CT_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *ts)
{
    CT_RW_BODY(pthread_rwlock_clockwrlock, pthread_rwlock_trywrlock, "pthread_rwlock_clockwrlock",
               ct_valid_timeout(ts) && ct_valid_clock(c),
               ct_real_pthread_rwlock_clockwrlock(l, c, ts));
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_rwlock_init(void)
{
    CT_REAL(pthread_rwlock_rdlock);
    CT_REAL(pthread_rwlock_wrlock);
    CT_REAL(pthread_rwlock_tryrdlock);
    CT_REAL(pthread_rwlock_trywrlock);
    CT_REAL(pthread_rwlock_timedrdlock);
    CT_REAL(pthread_rwlock_timedwrlock);
    CT_REAL(pthread_rwlock_clockrdlock);
    CT_REAL(pthread_rwlock_clockwrlock);
}
