/*
 * resolve.c - finding the real libc functions behind our wrappers, and the
 * process identity the exec/exit wrappers check.
 *
 * Invariants:
 *  - ct_dlsym() is re-entrancy safe per thread: dlsym may call calloc or
 *    pthread functions (a malloc replacement may lock a mutex), which may
 *    land in one of our wrappers whose pointer is not resolved yet; that
 *    nested ct_dlsym() returns NULL instead of recursing forever, and the
 *    wrapper uses its fallback.  The guard is a per-thread flag in
 *    initial-exec TLS (no allocation, no lock, valid in any thread,
 *    including threads created from constructors before main).
 *  - ct_self_pid is the pid of this process image as seen by the wrappers:
 *    set at load and in the fork child (pthread_atfork).  vfork children
 *    share our memory but not our pid and run no atfork handler, which is
 *    how ct_in_vfork_child() recognizes them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"

static __thread int ct_resolving __attribute__((tls_model("initial-exec")));

void *ct_dlsym(const char *name, const char *version)
{
    if (ct_resolving)
        return NULL;
    int saved = errno;
    ct_resolving = 1;
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
    ct_resolving = 0;
    errno = saved;
    return p;
}

pid_t ct_self_pid;

pid_t ct_raw_getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

int ct_in_vfork_child(void)
{
    return ct_raw_getpid() != __atomic_load_n(&ct_self_pid, __ATOMIC_RELAXED);
}

static void ct_atfork_child(void)
{
    __atomic_store_n(&ct_self_pid, ct_raw_getpid(), __ATOMIC_RELAXED);
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_resolve_init(void)
{
    __atomic_store_n(&ct_self_pid, ct_raw_getpid(), __ATOMIC_RELAXED);
    /* pthread_atfork is not interposed; it never calls back into us. */
    pthread_atfork(NULL, NULL, ct_atfork_child);
}
