/*
 * syscall.c - blocking system calls that are not a block on a sync object
 * or a socket: file and pipe I/O (read, write, pread, pwrite, readv,
 * writev, preadv, pwritev and their 64-bit and fortified variants), fsync,
 * fdatasync, sync, syncfs, flock, and process waits (wait, waitpid, wait3,
 * wait4, waitid).  Each becomes a syscall (GoSyscallBegin/End).
 *
 * read/write/readv/writev serve sockets too: the fd cache (fdcache.c) says
 * which, and sockets go to net.c, which reports a network block only if the
 * call has to wait.  A socket path that finds the fd is not a socket after
 * all (ENOTSOCK: stale cache entry) corrects the cache and takes the file
 * path: the caller only ever sees the real call's result.
 *
 * Invariants: the real function is called once; errno and the return value
 * are its own (hooks preserve errno).  Non-blocking waits (WNOHANG, LOCK_NB)
 * are not syscalls worth an event and go straight through.  Bootstrap
 * fallbacks are raw syscalls.
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interpose.h"

CT_REAL_DECL(ssize_t, read, (int, void *, size_t));
CT_REAL_DECL(ssize_t, write, (int, const void *, size_t));
CT_REAL_DECL(ssize_t, readv, (int, const struct iovec *, int));
CT_REAL_DECL(ssize_t, writev, (int, const struct iovec *, int));
CT_REAL_DECL(ssize_t, pread, (int, void *, size_t, off_t));
CT_REAL_DECL(ssize_t, pwrite, (int, const void *, size_t, off_t));
CT_REAL_DECL(ssize_t, pread64, (int, void *, size_t, off64_t));
CT_REAL_DECL(ssize_t, pwrite64, (int, const void *, size_t, off64_t));
CT_REAL_DECL(ssize_t, preadv, (int, const struct iovec *, int, off_t));
CT_REAL_DECL(ssize_t, pwritev, (int, const struct iovec *, int, off_t));
CT_REAL_DECL(ssize_t, preadv64, (int, const struct iovec *, int, off64_t));
CT_REAL_DECL(ssize_t, pwritev64, (int, const struct iovec *, int, off64_t));
CT_REAL_DECL(ssize_t, __read_chk, (int, void *, size_t, size_t));
CT_REAL_DECL(ssize_t, __pread_chk, (int, void *, size_t, off_t, size_t));
CT_REAL_DECL(ssize_t, __pread64_chk, (int, void *, size_t, off64_t, size_t));
CT_REAL_DECL(int, fsync, (int));
CT_REAL_DECL(int, fdatasync, (int));
CT_REAL_DECL(void, sync, (void));
CT_REAL_DECL(int, syncfs, (int));
CT_REAL_DECL(int, flock, (int, int));
CT_REAL_DECL(pid_t, wait, (int *));
CT_REAL_DECL(pid_t, waitpid, (pid_t, int *, int));
CT_REAL_DECL(pid_t, wait3, (int *, int, struct rusage *));
CT_REAL_DECL(pid_t, wait4, (pid_t, int *, int, struct rusage *));
CT_REAL_DECL(int, waitid, (idtype_t, id_t, siginfo_t *, int));

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_syscall_init(void)
{
    CT_REAL(read); CT_REAL(write); CT_REAL(readv); CT_REAL(writev);
    CT_REAL(pread); CT_REAL(pwrite); CT_REAL(pread64); CT_REAL(pwrite64);
    CT_REAL(preadv); CT_REAL(pwritev); CT_REAL(preadv64); CT_REAL(pwritev64);
    CT_REAL(__read_chk); CT_REAL(__pread_chk); CT_REAL(__pread64_chk);
    CT_REAL(fsync); CT_REAL(fdatasync); CT_REAL(sync); CT_REAL(syncfs); CT_REAL(flock);
    CT_REAL(wait); CT_REAL(waitpid); CT_REAL(wait3); CT_REAL(wait4); CT_REAL(waitid);
}

/* A call wrapped as a syscall event, named after the wrapper (__func__:
 * the exported function it is expanded in, or CALL where a body is shared). */
#define CT_SYSCALL(expr) CT_SYSCALL_NAMED(__func__, expr)
#define CT_SYSCALL_NAMED(call, expr)                                    \
    ({                                                                  \
        ct_syscall_begin((call), CT_SKIP);                              \
        __typeof__(expr) r_ = (expr);                                   \
        ct_syscall_end();                                               \
        r_;                                                             \
    })

/* For socket paths: did net.c find out the fd is not a socket? */
static inline int ct_not_socket(ssize_t r, int fd, int saved)
{
    if (r < 0 && errno == ENOTSOCK) {
        ct_fd_set(fd, CT_FD_OTHER);
        errno = saved;
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* read / write / readv / writev                                     */
/* ---------------------------------------------------------------- */

static inline __attribute__((always_inline)) ssize_t ct_read_body(int fd, void *buf, size_t n,
                                                                  const char *call)
{
    CT_REAL(read);
    if (CT_UNLIKELY(!ct_real_read))
        return syscall(SYS_read, fd, buf, n);
    if (!CT_ENABLED())
        return ct_real_read(fd, buf, n);
    if (ct_fd_type(fd) == CT_FD_SOCKET) {
        int saved = errno;
        ssize_t r = ct_net_recv(fd, buf, n, 0, CT_SKIP, call);
        if (!ct_not_socket(r, fd, saved))
            return r;
    }
    return CT_SYSCALL_NAMED(call, ct_real_read(fd, buf, n));
}

CT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    return ct_read_body(fd, buf, n, __func__);
}

CT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    CT_REAL(__read_chk);
    if (CT_UNLIKELY(n > buflen) && ct_real___read_chk)
        return ct_real___read_chk(fd, buf, n, buflen); /* reports the overflow */
    return ct_read_body(fd, buf, n, __func__);
}

CT_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    CT_REAL(write);
    if (CT_UNLIKELY(!ct_real_write))
        return syscall(SYS_write, fd, buf, n);
    if (!CT_ENABLED())
        return ct_real_write(fd, buf, n);
    if (ct_fd_type(fd) == CT_FD_SOCKET) {
        int saved = errno;
        ssize_t r = ct_net_send(fd, buf, n, 0, CT_SKIP, __func__);
        if (!ct_not_socket(r, fd, saved))
            return r;
    }
    return CT_SYSCALL(ct_real_write(fd, buf, n));
}

CT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    CT_REAL(readv);
    if (CT_UNLIKELY(!ct_real_readv))
        return syscall(SYS_readv, fd, iov, cnt);
    if (!CT_ENABLED())
        return ct_real_readv(fd, iov, cnt);
    if (ct_fd_type(fd) == CT_FD_SOCKET) {
        int saved = errno;
        ssize_t r = ct_net_readv(fd, iov, cnt, CT_SKIP, __func__);
        if (!ct_not_socket(r, fd, saved))
            return r;
    }
    return CT_SYSCALL(ct_real_readv(fd, iov, cnt));
}

CT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    CT_REAL(writev);
    if (CT_UNLIKELY(!ct_real_writev))
        return syscall(SYS_writev, fd, iov, cnt);
    if (!CT_ENABLED())
        return ct_real_writev(fd, iov, cnt);
    if (ct_fd_type(fd) == CT_FD_SOCKET) {
        int saved = errno;
        ssize_t r = ct_net_writev(fd, iov, cnt, CT_SKIP, __func__);
        if (!ct_not_socket(r, fd, saved))
            return r;
    }
    return CT_SYSCALL(ct_real_writev(fd, iov, cnt));
}

/* ---------------------------------------------------------------- */
/* Positional I/O: files only (sockets cannot seek)                 */
/* ---------------------------------------------------------------- */

#define CT_SIMPLE(ret, name, params, args, fallback)                    \
    CT_EXPORT ret name params                                           \
    {                                                                   \
        CT_REAL(name);                                                  \
        if (CT_UNLIKELY(!ct_real_##name))                               \
            return fallback;                                            \
        if (!CT_ENABLED())                                       \
            return ct_real_##name args;                                 \
        return CT_SYSCALL(ct_real_##name args);                         \
    }

CT_SIMPLE(ssize_t, pread, (int fd, void *b, size_t n, off_t o), (fd, b, n, o),
          syscall(SYS_pread64, fd, b, n, o))
CT_SIMPLE(ssize_t, pwrite, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o),
          syscall(SYS_pwrite64, fd, b, n, o))
CT_SIMPLE(ssize_t, pread64, (int fd, void *b, size_t n, off64_t o), (fd, b, n, o),
          syscall(SYS_pread64, fd, b, n, o))
CT_SIMPLE(ssize_t, pwrite64, (int fd, const void *b, size_t n, off64_t o), (fd, b, n, o),
          syscall(SYS_pwrite64, fd, b, n, o))
CT_SIMPLE(ssize_t, preadv, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o),
          (errno = ENOSYS, -1))
CT_SIMPLE(ssize_t, pwritev, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o),
          (errno = ENOSYS, -1))
CT_SIMPLE(ssize_t, preadv64, (int fd, const struct iovec *v, int c, off64_t o), (fd, v, c, o),
          (errno = ENOSYS, -1))
CT_SIMPLE(ssize_t, pwritev64, (int fd, const struct iovec *v, int c, off64_t o), (fd, v, c, o),
          (errno = ENOSYS, -1))
CT_SIMPLE(int, fsync, (int fd), (fd), (int)syscall(SYS_fsync, fd))
CT_SIMPLE(int, fdatasync, (int fd), (fd), (int)syscall(SYS_fdatasync, fd))
CT_SIMPLE(int, syncfs, (int fd), (fd), (int)syscall(SYS_syncfs, fd))
CT_SIMPLE(pid_t, wait, (int *st), (st), (pid_t)syscall(SYS_wait4, -1, st, 0, NULL))
CT_SIMPLE(int, waitid, (idtype_t t, id_t id, siginfo_t *si, int o), (t, id, si, o),
          (int)syscall(SYS_waitid, t, id, si, o, NULL))

CT_EXPORT ssize_t __pread_chk(int fd, void *b, size_t n, off_t o, size_t buflen)
{
    CT_REAL(__pread_chk);
    CT_REAL(pread);
    if ((CT_UNLIKELY(n > buflen) || !ct_real_pread) && ct_real___pread_chk)
        return ct_real___pread_chk(fd, b, n, o, buflen);
    if (!CT_ENABLED())
        return ct_real_pread(fd, b, n, o);
    return CT_SYSCALL(ct_real_pread(fd, b, n, o));
}

CT_EXPORT ssize_t __pread64_chk(int fd, void *b, size_t n, off64_t o, size_t buflen)
{
    CT_REAL(__pread64_chk);
    CT_REAL(pread64);
    if ((CT_UNLIKELY(n > buflen) || !ct_real_pread64) && ct_real___pread64_chk)
        return ct_real___pread64_chk(fd, b, n, o, buflen);
    if (!CT_ENABLED())
        return ct_real_pread64(fd, b, n, o);
    return CT_SYSCALL(ct_real_pread64(fd, b, n, o));
}

CT_EXPORT void sync(void)
{
    CT_REAL(sync);
    if (CT_UNLIKELY(!ct_real_sync)) {
        syscall(SYS_sync);
        return;
    }
    if (!CT_ENABLED()) {
        ct_real_sync();
        return;
    }
    ct_syscall_begin(__func__, CT_SKIP);
    ct_real_sync();
    ct_syscall_end();
}

/* ---------------------------------------------------------------- */
/* Calls that block only without a "don't wait" flag                 */
/* ---------------------------------------------------------------- */

CT_EXPORT int flock(int fd, int op)
{
    CT_REAL(flock);
    if (CT_UNLIKELY(!ct_real_flock))
        return (int)syscall(SYS_flock, fd, op);
    if (!CT_ENABLED() || (op & LOCK_NB) || (op & LOCK_UN))
        return ct_real_flock(fd, op);
    return CT_SYSCALL(ct_real_flock(fd, op));
}

CT_EXPORT pid_t waitpid(pid_t pid, int *st, int opt)
{
    CT_REAL(waitpid);
    if (CT_UNLIKELY(!ct_real_waitpid))
        return (pid_t)syscall(SYS_wait4, pid, st, opt, NULL);
    if (!CT_ENABLED() || (opt & WNOHANG))
        return ct_real_waitpid(pid, st, opt);
    return CT_SYSCALL(ct_real_waitpid(pid, st, opt));
}

CT_EXPORT pid_t wait3(int *st, int opt, struct rusage *ru)
{
    CT_REAL(wait3);
    if (CT_UNLIKELY(!ct_real_wait3))
        return (pid_t)syscall(SYS_wait4, -1, st, opt, ru);
    if (!CT_ENABLED() || (opt & WNOHANG))
        return ct_real_wait3(st, opt, ru);
    return CT_SYSCALL(ct_real_wait3(st, opt, ru));
}

CT_EXPORT pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
    CT_REAL(wait4);
    if (CT_UNLIKELY(!ct_real_wait4))
        return (pid_t)syscall(SYS_wait4, pid, st, opt, ru);
    if (!CT_ENABLED() || (opt & WNOHANG))
        return ct_real_wait4(pid, st, opt, ru);
    return CT_SYSCALL(ct_real_wait4(pid, st, opt, ru));
}
