/*
 * mutex.c - pthread mutexes: only a contended acquisition is a block.
 *
 * Invariants:
 *  - Untraced path: one load of CT_ENABLED(), then the real call.
 *  - Traced path: a mutex whose lock word reads 0 is taken with the real
 *    lock at once (see CT_MUTEX_LOOKS_FREE).  Otherwise
 *    pthread_mutex_trylock first.  Success, or any result other
 *    than EBUSY (EOWNERDEAD acquires a robust mutex, EINVAL...), is returned
 *    as is: it is exactly what the blocking call would have returned
 *    without blocking.  EBUSY means contention (or an error-checking mutex
 *    we already own, where the real lock then reports EDEADLK): the wait is
 *    reported as a block "sync: pthread_mutex_lock" (or the timed
 *    variant's name) around the real blocking call.
 *  - Timed variants with an invalid timeout go straight to the real call,
 *    so the caller gets the real function's EINVAL even when the mutex was
 *    free.
 *  - Bootstrap: if dlsym itself ends up locking a mutex before we know the
 *    real pthread_mutex_lock, glibc's __pthread_mutex_lock alias is used.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "interpose.h"

CT_REAL_DECL(int, pthread_mutex_lock, (pthread_mutex_t *));
CT_REAL_DECL(int, pthread_mutex_trylock, (pthread_mutex_t *));
CT_REAL_DECL(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *));
CT_REAL_DECL(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t, const struct timespec *));

#if defined(__GLIBC__) && defined(__x86_64__)
extern int ct_libc_mutex_lock(pthread_mutex_t *) __asm__("__pthread_mutex_lock");
__asm__(".symver __pthread_mutex_lock,__pthread_mutex_lock@GLIBC_2.2.5");
#define CT_HAVE_LIBC_MUTEX_LOCK 1
#elif defined(__GLIBC__) && defined(__aarch64__)
extern int ct_libc_mutex_lock(pthread_mutex_t *) __asm__("__pthread_mutex_lock");
__asm__(".symver __pthread_mutex_lock,__pthread_mutex_lock@GLIBC_2.17");
#define CT_HAVE_LIBC_MUTEX_LOCK 1
#endif

/* glibc: a mutex whose lock word is 0 is free (every type: normal,
 * recursive, error-checking, PI, robust).  Peeking at it lets the traced
 * uncontended path call the real lock directly (the same cost as
 * untraced) instead of trylock + lock bookkeeping.  If another thread takes
 * the mutex between the peek and the lock, that one wait goes unreported:
 * a loss of detail, never of correctness. */
#if defined(__GLIBC__)
#define CT_MUTEX_LOOKS_FREE(m) (__atomic_load_n(&(m)->__data.__lock, __ATOMIC_RELAXED) == 0)
#else
#define CT_MUTEX_LOOKS_FREE(m) 0
#endif

static inline int ct_valid_timeout(const struct timespec *ts)
{
    return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

static inline int ct_valid_clock(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC;
}

CT_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    /* The hot path: tracing off, pointer known.  Two loads and a call. */
    int (*real)(pthread_mutex_t *) =
        __atomic_load_n(&ct_real_pthread_mutex_lock, __ATOMIC_RELAXED);
    if (CT_LIKELY(real != NULL && !CT_ENABLED()))
        return real(m);

    CT_REAL(pthread_mutex_lock);
    if (CT_UNLIKELY(!ct_real_pthread_mutex_lock)) {
#ifdef CT_HAVE_LIBC_MUTEX_LOCK
        return ct_libc_mutex_lock(m);
#else
        return EAGAIN;
#endif
    }
    if (!CT_ENABLED() || CT_MUTEX_LOOKS_FREE(m))
        return ct_real_pthread_mutex_lock(m);
    CT_REAL(pthread_mutex_trylock);
    if (CT_LIKELY(ct_real_pthread_mutex_trylock != NULL)) {
        int r = ct_real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
    }
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "pthread_mutex_lock");
    int r = ct_real_pthread_mutex_lock(m);
    ct_unblock();
    return r;
}

CT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts)
{
    CT_REAL(pthread_mutex_timedlock);
    if (CT_UNLIKELY(!ct_real_pthread_mutex_timedlock))
        return EINVAL;
    if (!CT_ENABLED() || !ct_valid_timeout(ts))
        return ct_real_pthread_mutex_timedlock(m, ts);
    CT_REAL(pthread_mutex_trylock);
    if (CT_LIKELY(ct_real_pthread_mutex_trylock != NULL)) {
        int r = ct_real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
    }
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "pthread_mutex_timedlock");
    int r = ct_real_pthread_mutex_timedlock(m, ts);
    ct_unblock();
    return r;
}

CT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *ts)
{
    CT_REAL(pthread_mutex_clocklock);
    if (CT_UNLIKELY(!ct_real_pthread_mutex_clocklock))
        return EINVAL;
    if (!CT_ENABLED() || !ct_valid_timeout(ts) || !ct_valid_clock(c))
        return ct_real_pthread_mutex_clocklock(m, c, ts);
    CT_REAL(pthread_mutex_trylock);
    if (CT_LIKELY(ct_real_pthread_mutex_trylock != NULL)) {
        int r = ct_real_pthread_mutex_trylock(m);
        if (r != EBUSY)
            return r;
    }
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "pthread_mutex_clocklock");
    int r = ct_real_pthread_mutex_clocklock(m, c, ts);
    ct_unblock();
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_mutex_init(void)
{
    CT_REAL(pthread_mutex_lock);
    CT_REAL(pthread_mutex_trylock);
    CT_REAL(pthread_mutex_timedlock);
    CT_REAL(pthread_mutex_clocklock);
}
