/*
 * pthread.c - thread life: pthread_create, pthread_join, pthread_exit.
 *
 * Invariants:
 *  - With tracing off (ct_spawn_prepare returns NULL) pthread_create calls
 *    the real function with the caller's own start routine and argument:
 *    no allocation, no trampoline, nothing observable.
 *  - With tracing on, the new thread starts in ct_thread_trampoline, which
 *    reports itself (ct_spawn_child, which frees the spawn record) before
 *    running the user's routine and reports its end after; pthread_exit and
 *    cancellation are covered by the pthread_exit wrapper and the runtime's
 *    TLS destructor.  The main thread's pthread_exit starts the runtime's
 *    last-thread watcher, so that the tracer's threads do not keep the
 *    process alive after the program's last thread.  The trampoline record is freed by the child before it
 *    calls the user's routine, or by the parent if creation failed: never
 *    leaked, never freed twice.
 *  - pthread_join tries pthread_tryjoin_np first: joining a thread that has
 *    already finished is not a block.  Only a real wait is reported, as a
 *    "sync" block, so go tool trace counts it with synchronization.
 *  - errno is preserved; return values are the real functions' own.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"

CT_REAL_DECL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *));
CT_REAL_DECL(int, pthread_join, (pthread_t, void **));
CT_REAL_DECL(int, pthread_tryjoin_np, (pthread_t, void **));
CT_REAL_DECL(void, pthread_exit, (void *));

struct ct_tramp {
    void *(*start)(void *);
    void *arg;
    struct ct_spawn *spawn;
};

static void *ct_thread_trampoline(void *p)
{
    struct ct_tramp t = *(struct ct_tramp *)p;
    free(p);
    ct_spawn_child(t.spawn);
    void *ret = t.start(t.arg);
    ct_thread_exit();
    return ret;
}

CT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg)
{
    CT_REAL(pthread_create);
    if (CT_UNLIKELY(!ct_real_pthread_create))
        return EAGAIN; /* only reachable from inside dlsym: it never creates threads */
    if (!CT_ENABLED())
        return ct_real_pthread_create(th, attr, start, arg);

    int saved = errno;
    struct ct_spawn *s = ct_spawn_prepare(start, CT_SKIP);
    if (!s) {
        errno = saved;
        return ct_real_pthread_create(th, attr, start, arg);
    }
    struct ct_tramp *t = malloc(sizeof *t);
    if (!t) {
        ct_spawn_abort(s);
        errno = saved;
        return ct_real_pthread_create(th, attr, start, arg);
    }
    t->start = start;
    t->arg = arg;
    t->spawn = s;
    errno = saved;
    int r = ct_real_pthread_create(th, attr, ct_thread_trampoline, t);
    if (r != 0) {
        saved = errno;
        free(t);
        ct_spawn_abort(s);
        errno = saved;
    }
    return r;
}

CT_EXPORT int pthread_join(pthread_t th, void **ret)
{
    CT_REAL(pthread_join);
    if (CT_UNLIKELY(!ct_real_pthread_join))
        return EINVAL;
    if (!CT_ENABLED())
        return ct_real_pthread_join(th, ret);

    CT_REAL(pthread_tryjoin_np);
    if (ct_real_pthread_tryjoin_np) {
        int r = ct_real_pthread_tryjoin_np(th, ret);
        if (r != EBUSY)
            return r; /* joined, or the same error join would give */
    }
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "pthread_join");
    int r = ct_real_pthread_join(th, ret);
    ct_unblock();
    return r;
}

CT_EXPORT void pthread_exit(void *ret)
{
    CT_REAL(pthread_exit);
    if (CT_ENABLED())
        ct_thread_exit();
    /* The main thread: the tracer's threads must not keep the process
     * alive once the program's are gone (lastthread.c). */
    ct_lastthread_main_exit();
    if (CT_LIKELY(ct_real_pthread_exit != NULL))
        ct_real_pthread_exit(ret);
    /* Unreachable unless libc lacks pthread_exit; never return. */
    for (;;)
        syscall(SYS_exit, 0);
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_pthread_init(void)
{
    CT_REAL(pthread_create);
    CT_REAL(pthread_join);
    CT_REAL(pthread_tryjoin_np);
    CT_REAL(pthread_exit);
}
