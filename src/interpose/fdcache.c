/*
 * fdcache.c - is this fd a socket?  A per-fd byte cache, and the wrappers
 * that keep it honest (socket, socketpair, pipe2, close, dup, dup2, dup3).  The
 * same wrappers, with close_range and closefrom, hide the trace file's
 * descriptor from the program (src/runtime/fdguard.c): close and dup of
 * it fail with EBADF as if it were not open, ranges leave it out, and a
 * dup2/dup3 onto its number first moves it elsewhere.
 *
 * Why a cache: read()/write() are also the hottest file-I/O calls, and the
 * socket case must take a different path (blocked-on-network instead of a
 * syscall event).  An fstat per call would add a syscall to every read and
 * write (~15-30% on small reads); the cache makes it one byte load.
 *
 * The same cache says whether an epoll instance watches a socket
 * (CT_FD_EPOLL_NET) or only pipes, eventfds, signalfds, timers
 * (CT_FD_EPOLL): epoll_create, epoll_create1 and epoll_ctl keep that, so
 * that a wait on it is a network wait or a synchronization wait (net.c).
 *
 * Invariants:
 *  - Entries are CT_FD_UNKNOWN (0), CT_FD_SOCKET, CT_FD_OTHER, CT_FD_EPOLL
 *    or CT_FD_EPOLL_NET, read and written with relaxed atomics (a byte;
 *    races only cost accuracy).  An epoll instance we did not see created
 *    (inherited, duplicated) is CT_FD_OTHER: its waits stay network waits.
 *  - An unknown entry is filled by one fstat on first use.  Every wrapper
 *    through which an fd number changes meaning (close, dup2, dup3, socket,
 *    socketpair, accept*) resets or sets it.  Closes we cannot see (inside
 *    libc, e.g. fclose) may leave a stale entry; the cost is only a
 *    mislabelled event (a socket read shown as a syscall, or a file read
 *    tried as a socket, which falls back to the file path on ENOTSOCK),
 *    never a change in what the program observes.
 *  - fds at or beyond CT_FDCACHE_SIZE are not cached: fstat each time.
 *  - Memory is a fixed 64 KiB array, no allocation.
 *  - The guard check is one load and compare on every close/dup; all these
 *    wrappers stay async-signal-safe.
 *  - close, dup2, dup3, close_range and closefrom run inside the fence of
 *    the tracer's own opens (ct_libc_fd_fence_enter/leave, src/libc): two
 *    atomic adds, and a wait only while the tracer holds a low number for
 *    the instant before moving it high.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interpose.h"

#define CT_FDCACHE_SIZE 65536

static unsigned char ct_fdtype[CT_FDCACHE_SIZE];

int ct_fd_type(int fd)
{
    if (fd < 0)
        return CT_FD_OTHER;
    if (fd < CT_FDCACHE_SIZE) {
        int t = __atomic_load_n(&ct_fdtype[fd], __ATOMIC_RELAXED);
        if (CT_LIKELY(t != CT_FD_UNKNOWN))
            return t;
    }
    int saved = errno;
    struct stat st;
    int t;
    if (fstat(fd, &st) != 0) {
        errno = saved;
        return CT_FD_OTHER; /* bad fd: the real call reports it; don't cache */
    }
    errno = saved;
    t = S_ISSOCK(st.st_mode) ? CT_FD_SOCKET : CT_FD_OTHER;
    if (fd < CT_FDCACHE_SIZE)
        __atomic_store_n(&ct_fdtype[fd], (unsigned char)t, __ATOMIC_RELAXED);
    return t;
}

void ct_fd_set(int fd, int type)
{
    if (fd >= 0 && fd < CT_FDCACHE_SIZE)
        __atomic_store_n(&ct_fdtype[fd], (unsigned char)type, __ATOMIC_RELAXED);
}

void ct_fd_forget(int fd)
{
    ct_fd_set(fd, CT_FD_UNKNOWN);
}

int ct_fd_nonblocking(int fd)
{
    int saved = errno;
    int fl = fcntl(fd, F_GETFL);
    errno = saved;
    return fl >= 0 && (fl & O_NONBLOCK);
}

/* The cache is maintained whether or not tracing is on: tracing can start
 * at any time and must find the entries right. */

CT_REAL_DECL(int, close, (int));
CT_REAL_DECL(int, dup, (int));
CT_REAL_DECL(int, dup2, (int, int));
CT_REAL_DECL(int, dup3, (int, int, int));
CT_REAL_DECL(int, socket, (int, int, int));
CT_REAL_DECL(int, socketpair, (int, int, int, int[2]));
CT_REAL_DECL(int, epoll_create, (int));
CT_REAL_DECL(int, epoll_create1, (int));
CT_REAL_DECL(int, epoll_ctl, (int, int, int, struct epoll_event *));
CT_REAL_DECL(int, pipe2, (int[2], int));

static int ct_ebadf(void)
{
    errno = EBADF;
    return -1;
}

CT_EXPORT int close(int fd)
{
    CT_REAL(close);
    if (CT_UNLIKELY(ct_fdguard_is(fd)))
        return ct_ebadf(); /* the trace's: not the program's to close */
    ct_fd_forget(fd); /* before: the number may be reused at once */
    int fence = ct_libc_fd_fence_enter();
    int r = CT_UNLIKELY(!ct_real_close) ? (int)syscall(SYS_close, fd) : ct_real_close(fd);
    ct_libc_fd_fence_leave(fence); /* an atomic add: errno stays the call's */
    return r;
}

CT_EXPORT int dup(int fd)
{
    CT_REAL(dup);
    if (CT_UNLIKELY(ct_fdguard_is(fd)))
        return ct_ebadf();
    int r = ct_real_dup ? ct_real_dup(fd) : (int)syscall(SYS_dup, fd);
    if (r >= 0)
        ct_fd_forget(r);
    return r;
}

CT_EXPORT int dup2(int fd, int fd2)
{
    CT_REAL(dup2);
    if (CT_UNLIKELY(ct_fdguard_is(fd)))
        return ct_ebadf();
    ct_fdguard_vacate(fd2);
    ct_fd_forget(fd2);
    int fence = ct_libc_fd_fence_enter();
    int r;
    if (CT_UNLIKELY(!ct_real_dup2))
        r = (fd == fd2) ? fd : (int)syscall(SYS_dup3, fd, fd2, 0);
    else
        r = ct_real_dup2(fd, fd2);
    ct_libc_fd_fence_leave(fence); /* an atomic add: errno stays the call's */
    return r;
}

CT_EXPORT int dup3(int fd, int fd2, int flags)
{
    CT_REAL(dup3);
    if (CT_UNLIKELY(ct_fdguard_is(fd)))
        return ct_ebadf();
    ct_fdguard_vacate(fd2);
    ct_fd_forget(fd2);
    int fence = ct_libc_fd_fence_enter();
    int r = CT_UNLIKELY(!ct_real_dup3) ? (int)syscall(SYS_dup3, fd, fd2, flags)
                                       : ct_real_dup3(fd, fd2, flags);
    ct_libc_fd_fence_leave(fence); /* an atomic add: errno stays the call's */
    return r;
}

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* close_range over [lo, hi] without the trace's descriptor.  Split around
 * it; the first error is the call's. */
static int ct_close_range_fenced(unsigned lo, unsigned hi, int flags);

static int ct_close_range_around(unsigned lo, unsigned hi, int flags)
{
    int fence = ct_libc_fd_fence_enter();
    int r = ct_close_range_fenced(lo, hi, flags);
    ct_libc_fd_fence_leave(fence); /* an atomic add: errno stays the call's */
    return r;
}

static int ct_close_range_fenced(unsigned lo, unsigned hi, int flags)
{
    int g = ct_fdguard_current();
    if (CT_LIKELY(g < 0 || (unsigned)g < lo || (unsigned)g > hi))
        return (int)syscall(SYS_close_range, lo, hi, flags);
    int r = 0, e = 0;
    if ((unsigned)g > lo && (r = (int)syscall(SYS_close_range, lo, (unsigned)g - 1, flags)) != 0)
        e = errno;
    if ((unsigned)g < hi && (int)syscall(SYS_close_range, (unsigned)g + 1, hi, flags) != 0 && !e) {
        e = errno;
        r = -1;
    }
    if (r != 0)
        errno = e;
    return r;
}

static void ct_fd_forget_range(unsigned lo, unsigned hi)
{
    for (unsigned fd = lo; fd <= hi && fd < CT_FDCACHE_SIZE; fd++)
        ct_fd_forget((int)fd);
}

/* glibc calls its close_range internally from closefrom: both wrapped. */
CT_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        ct_fd_forget_range(lo, hi);
    return ct_close_range_around(lo, hi, flags);
}

CT_EXPORT void closefrom(int lo)
{
    if (lo < 0)
        lo = 0;
    ct_fd_forget_range((unsigned)lo, UINT_MAX);
    int e = errno;
    if (ct_close_range_around((unsigned)lo, UINT_MAX, 0) != 0 && errno == ENOSYS) {
        /* Kernel before 5.9: every number up to the limit, ours left out. */
        long max = sysconf(_SC_OPEN_MAX);
        int g = ct_fdguard_current();
        for (long fd = lo; fd < (max > 0 ? max : 1024); fd++)
            if (fd != g)
                syscall(SYS_close, (int)fd);
    }
    errno = e;
}

CT_EXPORT int socket(int domain, int type, int proto)
{
    CT_REAL(socket);
    int r = ct_real_socket ? ct_real_socket(domain, type, proto)
                           : (int)syscall(SYS_socket, domain, type, proto);
    if (r >= 0)
        ct_fd_set(r, CT_FD_SOCKET);
    return r;
}

CT_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
    CT_REAL(socketpair);
    int r = ct_real_socketpair ? ct_real_socketpair(domain, type, proto, sv)
                               : (int)syscall(SYS_socketpair, domain, type, proto, sv);
    if (r == 0) {
        ct_fd_set(sv[0], CT_FD_SOCKET);
        ct_fd_set(sv[1], CT_FD_SOCKET);
    }
    return r;
}

/* pipe2: the program's pipes are not sockets (a number's old entry goes);
 * libunwind's own (its address tests, while the tracer walks a stack) are
 * made at high numbers, away from the program's (hooks.h). */
CT_EXPORT int pipe2(int fds[2], int flags)
{
    if (CT_UNLIKELY(ct_unwind_owns_pc((uintptr_t)__builtin_return_address(0))))
        return ct_libc_pipe_high(fds, flags);
    CT_REAL(pipe2);
    int r = ct_real_pipe2 ? ct_real_pipe2(fds, flags) : (int)syscall(SYS_pipe2, fds, flags);
    if (r == 0) {
        ct_fd_set(fds[0], CT_FD_OTHER);
        ct_fd_set(fds[1], CT_FD_OTHER);
    }
    return r;
}

CT_EXPORT int epoll_create(int size)
{
    CT_REAL(epoll_create);
    int r = ct_real_epoll_create ? ct_real_epoll_create(size)
                                 : (size <= 0 ? (errno = EINVAL, -1) : (int)syscall(SYS_epoll_create1, 0));
    if (r >= 0)
        ct_fd_set(r, CT_FD_EPOLL);
    return r;
}

CT_EXPORT int epoll_create1(int flags)
{
    CT_REAL(epoll_create1);
    int r = ct_real_epoll_create1 ? ct_real_epoll_create1(flags) : (int)syscall(SYS_epoll_create1, flags);
    if (r >= 0)
        ct_fd_set(r, CT_FD_EPOLL);
    return r;
}

/* Adding a socket, or an instance that watches one, makes the instance a
 * network one for good (removals are not tracked: a wait on it may have
 * been on the socket's behalf a moment before). */
CT_EXPORT int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    CT_REAL(epoll_ctl);
    int r = ct_real_epoll_ctl ? ct_real_epoll_ctl(ep, op, fd, ev)
                              : (int)syscall(SYS_epoll_ctl, ep, op, fd, ev);
    if (r == 0 && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && ep >= 0 && ep < CT_FDCACHE_SIZE &&
        __atomic_load_n(&ct_fdtype[ep], __ATOMIC_RELAXED) == CT_FD_EPOLL) {
        int saved = errno;
        int t = ct_fd_type(fd);
        if (t == CT_FD_SOCKET || t == CT_FD_EPOLL_NET)
            ct_fd_set(ep, CT_FD_EPOLL_NET);
        errno = saved;
    }
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_fdcache_init(void)
{
    CT_REAL(close);
    CT_REAL(dup);
    CT_REAL(dup2);
    CT_REAL(dup3);
    CT_REAL(socket);
    CT_REAL(socketpair);
    CT_REAL(epoll_create);
    CT_REAL(epoll_create1);
    CT_REAL(epoll_ctl);
    CT_REAL(pipe2);
}
