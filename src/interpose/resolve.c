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
 *  - The process identity the exec/exit wrappers check (is this a vfork
 *    child?) is the runtime's one cached pid (proc.c): ct_in_vfork_child
 *    and ct_raw_getpid only forward to it.
 *  - ct_interposers_present tells the runtime that the interposers are
 *    linked in (the shared library): they stand in for the fatal signals'
 *    default actions (signal.c), so the runtime installs no handler itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"
#include "proc.h"

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

const int ct_interposers_present = 1;

pid_t ct_raw_getpid(void)
{
    return ct_proc_raw_getpid();
}

int ct_in_vfork_child(void)
{
    return ct_proc_in_vfork_child();
}
