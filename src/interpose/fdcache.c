/*
 * fdcache.c - is this fd a socket?  A per-fd byte cache, and the wrappers
 * that keep it honest (socket, socketpair, close, dup, dup2, dup3).
 *
 * Why a cache: read()/write() are also the hottest file-I/O calls, and the
 * socket case must take a different path (blocked-on-network instead of a
 * syscall event).  An fstat per call would add a syscall to every read and
 * write (~15-30% on small reads); the cache makes it one byte load.
 *
 * Invariants:
 *  - Entries are CT_FD_UNKNOWN (0), CT_FD_SOCKET or CT_FD_OTHER, read and
 *    written with relaxed atomics (a byte; races only cost accuracy).
 *  - An unknown entry is filled by one fstat on first use.  Every wrapper
 *    through which an fd number changes meaning (close, dup2, dup3, socket,
 *    socketpair, accept*) resets or sets it.  Closes we cannot see (inside
 *    libc, e.g. fclose) may leave a stale entry; the cost is only a
 *    mislabelled event (a socket read shown as a syscall, or a file read
 *    tried as a socket, which falls back to the file path on ENOTSOCK),
 *    never a change in what the program observes.
 *  - fds at or beyond CT_FDCACHE_SIZE are not cached: fstat each time.
 *  - Memory is a fixed 64 KiB array, no allocation.
 */
#define _GNU_SOURCE
#include <fcntl.h>
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

CT_EXPORT int close(int fd)
{
    CT_REAL(close);
    ct_fd_forget(fd); /* before: the number may be reused at once */
    if (CT_UNLIKELY(!ct_real_close))
        return (int)syscall(SYS_close, fd);
    return ct_real_close(fd);
}

CT_EXPORT int dup(int fd)
{
    CT_REAL(dup);
    int r = ct_real_dup ? ct_real_dup(fd) : (int)syscall(SYS_dup, fd);
    if (r >= 0)
        ct_fd_forget(r);
    return r;
}

CT_EXPORT int dup2(int fd, int fd2)
{
    CT_REAL(dup2);
    ct_fd_forget(fd2);
    int r;
    if (CT_UNLIKELY(!ct_real_dup2))
        r = (fd == fd2) ? fd : (int)syscall(SYS_dup3, fd, fd2, 0);
    else
        r = ct_real_dup2(fd, fd2);
    return r;
}

CT_EXPORT int dup3(int fd, int fd2, int flags)
{
    CT_REAL(dup3);
    ct_fd_forget(fd2);
    if (CT_UNLIKELY(!ct_real_dup3))
        return (int)syscall(SYS_dup3, fd, fd2, flags);
    return ct_real_dup3(fd, fd2, flags);
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

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_fdcache_init(void)
{
    CT_REAL(close);
    CT_REAL(dup);
    CT_REAL(dup2);
    CT_REAL(dup3);
    CT_REAL(socket);
    CT_REAL(socketpair);
}
