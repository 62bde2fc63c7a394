/*
 * namespace.c - unshare and setns, the calls the kernel refuses (EINVAL)
 * to a multithreaded process when they enter a new user namespace
 * (unshare(CLONE_NEWUSER), setns into a user namespace: `unshare -r`,
 * rootless containers) or unshare what threads share (CLONE_VM,
 * CLONE_SIGHAND, CLONE_THREAD).  The tracer's threads made every traced
 * process multithreaded, so `unshare -r CMD` failed under ctrace run
 * ("unshare failed: Invalid argument").  Before such a call the trace
 * ends and the tracer's threads are joined (src/runtime/proc.c,
 * ct_proc_before_single_threaded); a program of one thread then succeeds
 * as without ctrace, and what it execs is traced again as usual.
 *
 * Invariants: the real call is made exactly as the program made it, its
 * result and errno are its own; other namespaces (mount, network, pid...)
 * go straight through.  syscall(SYS_unshare / SYS_setns) is handled the
 * same way (futex.c's syscall wrapper calls ct_namespace_call).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"
#include "proc.h"

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703 /* linux/nsfs.h: _IO(0xb7, 0x3) */
#endif

#define CT_ONE_THREAD_FLAGS (CLONE_NEWUSER | CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)

CT_REAL_DECL(int, unshare, (int));
CT_REAL_DECL(int, setns, (int, int));

static void before_unshare(long flags)
{
    if (flags & CLONE_NEWUSER)
        ct_proc_before_single_threaded("unshare(CLONE_NEWUSER)");
    else if (flags & CT_ONE_THREAD_FLAGS)
        ct_proc_before_single_threaded("unshare(CLONE_VM, CLONE_SIGHAND or CLONE_THREAD)");
}

/* nstype 0 takes the type of fd's namespace (a pidfd with flags names
 * them in nstype itself). */
static void before_setns(int fd, long nstype)
{
    int e = errno;
    long type = nstype ? nstype : ioctl(fd, NS_GET_NSTYPE);
    errno = e;
    if (type > 0 && (type & CLONE_NEWUSER))
        ct_proc_before_single_threaded("setns into a user namespace");
}

void ct_namespace_call(long nr, const long a[6])
{
#ifdef SYS_unshare
    if (nr == SYS_unshare)
        before_unshare(a[0]);
#endif
#ifdef SYS_setns
    if (nr == SYS_setns)
        before_setns((int)a[0], a[1]);
#endif
}

CT_EXPORT int unshare(int flags)
{
    before_unshare(flags);
    CT_REAL(unshare);
    if (CT_LIKELY(ct_real_unshare != NULL))
        return ct_real_unshare(flags);
    return (int)syscall(SYS_unshare, flags);
}

CT_EXPORT int setns(int fd, int nstype)
{
    before_setns(fd, nstype);
    CT_REAL(setns);
    if (CT_LIKELY(ct_real_setns != NULL))
        return ct_real_setns(fd, nstype);
    return (int)syscall(SYS_setns, fd, nstype);
}
