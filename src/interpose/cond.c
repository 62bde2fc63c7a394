/*
 * cond.c - condition variables: every wait is a block ("sync:
 * pthread_cond_wait", or the timed variant's name).
 *
 * Invariants:
 *  - A condition wait always blocks by definition (there is no try), so the
 *    traced path is block / real wait / unblock.  The mutex re-acquisition
 *    inside the real wait is part of the same block.
 *  - glibc has two pthread_cond_* ABIs on x86-64 and i386: GLIBC_2.2.5 (the
 *    LinuxThreads-compatible layout) and GLIBC_2.3.2 (NPTL, the default
 *    every program built since 2003 links to).  dlsym(RTLD_NEXT) has been
 *    known to return the old one, which corrupts a new-layout condvar: if
 *    it does, we ask for GLIBC_2.3.2 explicitly with dlvsym.  We do not
 *    use dlvsym first: it would skip an interposer between us and libc
 *    (a sanitizer runtime, another tracer), which defines the symbol
 *    unversioned.  Our own unversioned
 *    definition also captures references to the old version: binaries
 *    linked against GLIBC_2.2.5 condvars (pre-2003) are not supported.
 *    On other architectures there is one version and plain dlsym is right.
 *  - Return values (0, ETIMEDOUT, EINVAL...) and errno pass through.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "interpose.h"

#if defined(__x86_64__) || defined(__i386__)
#define CT_COND_VERSION "GLIBC_2.3.2"
#endif

CT_REAL_DECL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *));
CT_REAL_DECL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *));
CT_REAL_DECL(int, pthread_cond_clockwait, (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *));

/* The next definition in the lookup chain (another interposer such as a
 * sanitizer runtime, else libc), unless that is glibc's old-ABI symbol, in
 * which case libc's current one.  dlvsym alone would skip interposers
 * loaded after us (TSan's cond interceptors, for one). */
static void *ct_cond_sym(const char *name)
{
    void *p = ct_libc_dlsym(name, NULL);
#ifdef CT_COND_VERSION
    if (p && p == ct_libc_dlsym(name, "GLIBC_2.2.5")) {
        void *cur = ct_libc_dlsym(name, CT_COND_VERSION);
        if (cur)
            p = cur;
    }
#endif
    return p;
}

static void ct_cond_resolve(void)
{
    if (!__atomic_load_n(&ct_real_pthread_cond_wait, __ATOMIC_RELAXED))
        __atomic_store_n(&ct_real_pthread_cond_wait,
                         (__typeof__(ct_real_pthread_cond_wait))ct_cond_sym("pthread_cond_wait"),
                         __ATOMIC_RELAXED);
    if (!__atomic_load_n(&ct_real_pthread_cond_timedwait, __ATOMIC_RELAXED))
        __atomic_store_n(&ct_real_pthread_cond_timedwait,
                         (__typeof__(ct_real_pthread_cond_timedwait))ct_cond_sym("pthread_cond_timedwait"),
                         __ATOMIC_RELAXED);
    CT_REAL(pthread_cond_clockwait);
}

CT_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (CT_UNLIKELY(!__atomic_load_n(&ct_real_pthread_cond_wait, __ATOMIC_RELAXED)))
        ct_cond_resolve();
    if (CT_UNLIKELY(!ct_real_pthread_cond_wait))
        return EINVAL;
    if (!CT_ENABLED())
        return ct_real_pthread_cond_wait(c, m);
    CT_SYNC_WAIT(CTRACE_BLOCK_COND, "pthread_cond_wait");
    int r = ct_real_pthread_cond_wait(c, m);
    ct_unblock();
    return r;
}

CT_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts)
{
    if (CT_UNLIKELY(!__atomic_load_n(&ct_real_pthread_cond_timedwait, __ATOMIC_RELAXED)))
        ct_cond_resolve();
    if (CT_UNLIKELY(!ct_real_pthread_cond_timedwait))
        return EINVAL;
    if (!CT_ENABLED())
        return ct_real_pthread_cond_timedwait(c, m, ts);
    CT_SYNC_WAIT(CTRACE_BLOCK_COND, "pthread_cond_timedwait");
    int r = ct_real_pthread_cond_timedwait(c, m, ts);
    ct_unblock();
    return r;
}

CT_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                     const struct timespec *ts)
{
    if (CT_UNLIKELY(!__atomic_load_n(&ct_real_pthread_cond_clockwait, __ATOMIC_RELAXED)))
        ct_cond_resolve();
    if (CT_UNLIKELY(!ct_real_pthread_cond_clockwait))
        return EINVAL;
    if (!CT_ENABLED())
        return ct_real_pthread_cond_clockwait(c, m, clk, ts);
    CT_SYNC_WAIT(CTRACE_BLOCK_COND, "pthread_cond_clockwait");
    int r = ct_real_pthread_cond_clockwait(c, m, clk, ts);
    ct_unblock();
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_cond_init(void)
{
    ct_cond_resolve();
}
