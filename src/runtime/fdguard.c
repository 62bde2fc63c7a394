/*
 * fdguard.c - the trace file's descriptor, kept out of the program's way.
 *
 * A program may close every descriptor (daemons: close(3..N), close_range,
 * closefrom) or dup2 something over a number it does not know is in use
 * (dup2(devnull, fd) for each fd in /proc/self/fd).  Either would lose or
 * corrupt the trace.  So the file ctrace opens is
 *  - moved to a high number (ct_libc_high_fd_base: from 1000, or the
 *    upper quarter of a lower RLIMIT_NOFILE), away from the numbers
 *    programs pick for themselves;
 *  - invisible to close, dup, dup2, dup3, close_range and closefrom (the
 *    interposers in src/interpose/fdcache.c ask ct_fdguard_is()): they act as if
 *    the number were not open -- close and dup report EBADF, ranges skip it;
 *  - moved again when the program makes it the target of dup2/dup3
 *    (ct_fdguard_vacate), so the program gets the number it asked for.
 * The tracer's other descriptors (/proc files, ELF files) are opened high
 * too (ct_libc_open_high, src/libc), fenced against the same wrappers, and
 * so is the pipe libunwind makes for its address checks (its pipe2 comes
 * through the interposer: ct_libc_pipe_high).  That pipe is not hidden
 * like the trace's: a program that closes it makes libunwind close its
 * old numbers and make another pipe (high again), harmless unless the
 * program has meanwhile been given those numbers (it holds ~1000 fds).
 * Not covered: raw syscalls, fcntl(F_DUPFD) on our number, and a program
 * that fills every free descriptor number: then there is nowhere to move,
 * the program's dup2 still wins and the trace ends with a write error.
 *
 * Invariants:
 *  - At most one guarded fd per process (the writer-level file); g_id is the
 *    number the writer was handed (its identity), g_cur the number now.
 *  - g_cur changes only under g_lock (a spin lock, taken with every signal
 *    blocked, so a handler on the same thread cannot deadlock on it); the
 *    writer holds it around each write, so a write never lands on a number
 *    the program has just been given.
 *  - ct_fdguard_is() is one relaxed load (and, on a match, a getpid): the
 *    close and dup wrappers stay async-signal-safe.
 *  - Fork: the child inherits the number but not the writer.  The runtime's
 *    fork-child handler (proc.c) calls ct_fdguard_atfork_child before the
 *    child may start a trace of its own: it closes the inherited copy,
 *    forgets it, and frees g_lock (another thread may have held it at the
 *    fork: it is never taken in the prepare handler, since a write under
 *    it may block).  A vfork child shares our memory but not our
 *    descriptor table and runs no atfork handler: there ct_fdguard_is()
 *    says "not ours" (ct_proc_in_vfork_child) and changes nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "spinlock.h"

static _Atomic int g_cur = -1; /* guarded number now, -1: none            */
static int g_id = -1;          /* number the writer knows it by           */
static ct_spinlock g_lock = CT_SPINLOCK_INIT;

static void g_lock_take(sigset_t *old)
{
    ct_spin_lock(&g_lock, old);
}

static void g_lock_give(const sigset_t *old)
{
    ct_spin_unlock(&g_lock, old);
}

/* In a fork child: the parent's guarded number is a stale copy.  Lock
 * free (the child has one thread; the parent's holder does not exist). */
void ct_fdguard_atfork_child(void)
{
    int cur = __atomic_load_n(&g_cur, __ATOMIC_RELAXED);
    if (cur >= 0)
        syscall(SYS_close, cur);
    __atomic_store_n(&g_cur, -1, __ATOMIC_RELAXED);
    g_id = -1;
    ct_spin_reset(&g_lock);
}

/* A new number for cur at or above the base (any free one otherwise). */
static int move_high(int cur)
{
    int e = errno;
    int fd = fcntl(cur, F_DUPFD_CLOEXEC, ct_libc_high_fd_base());
    if (fd < 0)
        fd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
    errno = e;
    return fd;
}

int ct_fdguard_adopt(int fd)
{
    if (fd < 0)
        return fd;
    int e = errno;
    sigset_t m;
    g_lock_take(&m);
    int hi = move_high(fd);
    if (hi >= 0) {
        syscall(SYS_close, fd);
        fd = hi;
    }
    g_id = fd;
    __atomic_store_n(&g_cur, fd, __ATOMIC_RELEASE);
    g_lock_give(&m);
    errno = e;
    return fd;
}

ssize_t ct_fdguard_write(int fd, const void *buf, size_t len)
{
    if (fd != g_id)
        return ct_libc_write(fd, buf, len);
    sigset_t m;
    g_lock_take(&m);
    int cur = __atomic_load_n(&g_cur, __ATOMIC_RELAXED);
    ssize_t n;
    if (cur < 0) {
        errno = EBADF;
        n = -1;
    } else {
        n = ct_libc_write(cur, buf, len);
    }
    int e = errno;
    g_lock_give(&m);
    errno = e;
    return n;
}

int ct_fdguard_close(int fd)
{
    if (fd != g_id || fd < 0)
        return (int)syscall(SYS_close, fd);
    sigset_t m;
    g_lock_take(&m);
    int cur = __atomic_load_n(&g_cur, __ATOMIC_RELAXED);
    __atomic_store_n(&g_cur, -1, __ATOMIC_RELEASE);
    g_id = -1;
    int r = cur >= 0 ? (int)syscall(SYS_close, cur) : 0;
    int e = errno;
    g_lock_give(&m);
    errno = e;
    return r;
}

int ct_fdguard_is(int fd)
{
    if (__builtin_expect(fd != __atomic_load_n(&g_cur, __ATOMIC_RELAXED) || fd < 0, 1))
        return 0;
    return !ct_proc_in_vfork_child(); /* keeps errno */
}

int ct_fdguard_current(void)
{
    int cur = __atomic_load_n(&g_cur, __ATOMIC_ACQUIRE);
    if (cur >= 0 && ct_proc_in_vfork_child())
        return -1;
    return cur;
}

void ct_fdguard_vacate(int fd)
{
    if (!ct_fdguard_is(fd))
        return;
    int e = errno;
    sigset_t m;
    g_lock_take(&m);
    int cur = __atomic_load_n(&g_cur, __ATOMIC_RELAXED);
    if (cur == fd) {
        int to = move_high(cur);
        if (to >= 0 && to != cur)
            __atomic_store_n(&g_cur, to, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&g_cur, -1, __ATOMIC_RELEASE); /* nowhere to go */
        syscall(SYS_close, cur);
    }
    g_lock_give(&m);
    errno = e;
}
