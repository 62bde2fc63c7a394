/*
 * futex.c - futex waits made through libc's syscall() as blocks ("sync:
 * futex").  Rust's standard library (Mutex, RwLock, Condvar, channels,
 * thread::park), libstdc++'s atomic waits and semaphores, LLVM's OpenMP
 * runtime and abseil wait with syscall(SYS_futex, ...) rather than through
 * pthread: without this their contended locks would not be seen at all.
 * glibc's own waits (pthread_mutex_lock, sem_wait...) make the system call
 * inline and never come here, so nothing is counted twice.
 *
 * Invariants:
 *  - Every call to syscall() reaches the kernel exactly as libc's would:
 *    the same six words (libc's reads six whatever the call takes), the
 *    result or -1 with errno.  Only the futex waits below are traced; the
 *    rest goes straight to the kernel (ct_libc_syscall6), async-signal-safe.
 *    The six words are read whatever the call passed, as libc's syscall()
 *    takes six registers: the interposers are never instrumented.
 *  - A wait is a block only when it would really wait: FUTEX_WAIT and
 *    FUTEX_WAIT_BITSET first compare the word with the expected value in
 *    the kernel (FUTEX_CMP_REQUEUE of nothing to nothing: no waiter is
 *    woken or moved; EAGAIN when they differ, EFAULT for a bad address,
 *    so the tracer never reads the program's memory itself: not the word,
 *    not the timeout).  If they differ the wait is made untraced (it
 *    returns at once).  FUTEX_LOCK_PI(2) and
 *    FUTEX_WAIT_REQUEUE_PI are only called on contention: always a block.
 *  - The word can change between the compare and the wait: the wait then
 *    returns at once, and the trace shows a block of a few microseconds.
 *  - errno is the wait's own (hooks preserve errno).
 *  - syscall(SYS_exit_group, status) is an exit: the trace is finished
 *    first, as by _exit (process.c).
 *  - syscall(SYS_unshare / SYS_setns) into a user namespace ends the
 *    tracer's threads first (namespace.c).
 *  - syscall(SYS_seccomp, ...) installing a sandbox ends the trace before
 *    it is made (sandbox.c).
 *  - Inside libctrace, syscall(...) is ct_libc_syscall6() (libc.h), so the
 *    tracer's own system calls never come here.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "interpose.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* Whether the futex word at uaddr holds val: 1 yes, 0 no, -1 the kernel
 * cannot tell (bad address or operation): then the wait goes untraced and
 * reports the error itself. */
static int futex_holds(long uaddr, long op, long val)
{
    int saved = errno;
    long cmp = FUTEX_CMP_REQUEUE | (op & FUTEX_PRIVATE_FLAG);
    long r = ct_libc_syscall6(SYS_futex, (const long[6]){uaddr, cmp, 0, 0, uaddr, val});
    int e = errno;
    errno = saved;
    if (r >= 0)
        return 1;
    return e == EAGAIN ? 0 : -1;
}

/* Whether the futex call would wait: 1 traced, 0 not. */
static int futex_waits(long uaddr, long op, long val)
{
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
        return futex_holds(uaddr, op, val) == 1;
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI:
        return 1;
    default:
        return 0;
    }
}

/* The other calls syscall() may make that the tracer must see first. */
static void before_other_call(long nr, const long a[6])
{
    switch (nr) {
#ifdef SYS_seccomp
    case SYS_seccomp: /* a sandbox ends the trace first (sandbox.c) */
        ct_sandbox_seccomp_call((unsigned long)a[0]);
        break;
#endif
    case SYS_unshare:
    case SYS_setns: /* namespace.c */
        ct_namespace_call(nr, a);
        break;
    case SYS_exit_group: /* an exit: the trace is finished first (process.c) */
        ct_exit_group_call((int)a[0]);
        break;
    }
}

/* The parentheses keep libc.h's syscall() macro off the definition. */
CT_EXPORT long(syscall)(long nr, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, nr);
    ct_libc_syscall_args(ap, a);
    va_end(ap);
    if (nr != SYS_futex) {
        before_other_call(nr, a);
        return ct_libc_syscall6(nr, a);
    }
    if (!CT_ENABLED() || !futex_waits(a[0], a[1], a[2]))
        return ct_libc_syscall6(nr, a);
    CT_SYNC_WAIT(CTRACE_BLOCK_SYNC, "futex");
    long r = ct_libc_syscall6(nr, a);
    ct_unblock();
    return r;
}
