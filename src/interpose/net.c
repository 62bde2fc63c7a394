/*
 * net.c - sockets and readiness waits as blocked-on-network ("network",
 * CTRACE_BLOCK_NET): accept/accept4, connect, recv/recvfrom/recvmsg,
 * send/sendto/sendmsg, read/readv/write/writev on sockets (called from
 * syscall.c), poll/ppoll/select/pselect, epoll_wait/epoll_pwait/epoll_pwait2.
 *
 * A block is reported only when the call really waits.  How we know:
 *  - Data transfer: the call is first made with MSG_DONTWAIT.  If it
 *    completes, that *is* the caller's call (same bytes, same result).  If
 *    it fails with EAGAIN on a blocking socket, the caller would have
 *    waited: we report the block and make the real blocking call.  On a
 *    non-blocking socket (O_NONBLOCK, or MSG_DONTWAIT in flags) EAGAIN is
 *    the caller's answer.
 *  - A blocking send that the try wrote only partly would have gone on
 *    waiting for buffer space: we report the block and send the rest with
 *    the caller's flags; the result is the total, or the partial count if
 *    the rest fails (what a blocking send interrupted mid-way returns).
 *    Ancillary data and the address go with the first part only.
 *  - recv with MSG_WAITALL, accept: a zero-timeout readiness poll decides.
 *  - poll/select/epoll: a zero timeout is never a block; otherwise the call
 *    is first made with a zero timeout (sets copied and restored for
 *    select), and only if nothing is ready is the block reported around
 *    the real call with the caller's timeout and signal mask.
 *  - connect is a block on a blocking socket.
 *  - A readiness wait that has to wait is a network wait when it watches a
 *    socket (or an epoll instance that watches one: fdcache.c), and a
 *    synchronization wait otherwise ("sync: poll", "sync: epoll_wait"...,
 *    CTRACE_BLOCK_SELECT): pipes, eventfds, signalfds, timers are how
 *    threads and processes wake each other (PostgreSQL's latches: its lock
 *    waits were network waits).  poll's array and select's sets are looked
 *    at only after the zero-timeout try, i.e. after the kernel read them;
 *    an epoll instance by what the cache knows of it.
 *  - A readiness wait with no descriptor to wait for is a sleep, reported
 *    as one ("sleep", CTRACE_BLOCK_SLEEP), without the zero-timeout try:
 *    poll/ppoll with nfds 0 (poll(NULL, 0, ms)), select/pselect with nfds
 *    0, no sets, or sets with no bit set (Perl's four-argument select,
 *    sub-second sleeps of older code).  Only memory the call's own
 *    arguments say is there is read: the pollfd array is not scanned (a
 *    bad pointer is the caller's EFAULT, never our fault).
 * Invariants: errno is the real call's; EINTR surfaces exactly as without
 * tracing (the tries never sleep, so they are never interrupted except by
 * signals a pwait/pselect mask unblocks, which the real call would deliver
 * the same way); every real call happens once (tries that complete are the
 * call).  Bootstrap fallbacks are raw syscalls.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "interpose.h"

#define CT_INLINE static inline __attribute__((always_inline))

CT_REAL_DECL(int, accept, (int, struct sockaddr *, socklen_t *));
CT_REAL_DECL(int, accept4, (int, struct sockaddr *, socklen_t *, int));
CT_REAL_DECL(int, connect, (int, const struct sockaddr *, socklen_t));
CT_REAL_DECL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *));
CT_REAL_DECL(ssize_t, recvmsg, (int, struct msghdr *, int));
CT_REAL_DECL(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t));
CT_REAL_DECL(ssize_t, sendmsg, (int, const struct msghdr *, int));
CT_REAL_DECL(int, poll, (struct pollfd *, nfds_t, int));
CT_REAL_DECL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *));
CT_REAL_DECL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *));
CT_REAL_DECL(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *));
CT_REAL_DECL(int, epoll_wait, (int, struct epoll_event *, int, int));
CT_REAL_DECL(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *));
CT_REAL_DECL(int, epoll_pwait2, (int, struct epoll_event *, int, const struct timespec *, const sigset_t *));
CT_REAL_DECL(int, __poll_chk, (struct pollfd *, nfds_t, int, size_t));
CT_REAL_DECL(ssize_t, __recv_chk, (int, void *, size_t, size_t, int));
CT_REAL_DECL(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *));

static void ct_net_resolve(void)
{
    CT_REAL(accept);
    CT_REAL(accept4);
    CT_REAL(connect);
    CT_REAL(recvfrom);
    CT_REAL(recvmsg);
    CT_REAL(sendto);
    CT_REAL(sendmsg);
    CT_REAL(poll);
    CT_REAL(ppoll);
    CT_REAL(select);
    CT_REAL(pselect);
    CT_REAL(epoll_wait);
    CT_REAL(epoll_pwait);
    CT_REAL(epoll_pwait2);
    CT_REAL(__poll_chk);
    CT_REAL(__recv_chk);
    CT_REAL(__recvfrom_chk);
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_net_init(void)
{
    ct_net_resolve();
}

/* Raw-syscall versions for the bootstrap window (a wrapper called from
 * inside dlsym, before its pointer is known). */
static ssize_t ct_sys_recvfrom(int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *al)
{
    return syscall(SYS_recvfrom, fd, b, n, fl, a, al);
}
static ssize_t ct_sys_sendto(int fd, const void *b, size_t n, int fl, const struct sockaddr *a, socklen_t al)
{
    return syscall(SYS_sendto, fd, b, n, fl, a, al);
}

/* Is fd ready for events right now?  Zero-timeout ppoll (present on every
 * architecture, unlike SYS_poll); errors count as ready so the real call
 * reports them. */
static int ct_ready(int fd, short events)
{
    int saved = errno;
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    struct timespec zero = {0, 0};
    long r = syscall(SYS_ppoll, &p, 1, &zero, NULL, (size_t)(_NSIG / 8));
    errno = saved;
    return r != 0;
}

/* A descriptor a readiness wait on which is a network wait: a socket, or
 * an epoll instance that watches one. */
static inline int ct_fd_net(int fd)
{
    int t = ct_fd_type(fd);
    return t == CT_FD_SOCKET || t == CT_FD_EPOLL_NET;
}

/* An epoll instance we saw created and never saw given a socket is not a
 * network one; any other (inherited, duplicated) is, as every readiness
 * wait was before they were told apart. */
static inline int ct_epoll_net(int ep)
{
    return ct_fd_type(ep) != CT_FD_EPOLL;
}

/* Whether the pollfds (read by the kernel a moment ago: valid) watch a
 * network descriptor. */
static int ct_pollfds_net(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && ct_fd_net(fds[i].fd))
            return 1;
    return 0;
}

/* Reports a readiness wait in call: network, or synchronization with
 * reason sync (a literal "sync: CALL").  Always inlined: skip counts the
 * wrapper's frames. */
CT_INLINE void ct_ready_wait(int net, const char *sync, const char *call, int skip)
{
    if (net)
        ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
    else
        ct_block(CTRACE_BLOCK_SELECT, sync, call, skip);
}

static inline int ct_again(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK;
}

/* ---------------------------------------------------------------- */
/* Receive                                                           */
/* ---------------------------------------------------------------- */

CT_INLINE ssize_t ct_recvfrom_body(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                                   socklen_t *alen, int skip, const char *call)
{
    CT_REAL(recvfrom);
    ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *) = ct_real_recvfrom;
    if (CT_UNLIKELY(!real))
        real = ct_sys_recvfrom;
    if (!CT_ENABLED() || (flags & MSG_DONTWAIT))
        return real(fd, buf, len, flags, addr, alen);
    if (flags & MSG_WAITALL) {
        if (ct_ready(fd, POLLIN))
            return real(fd, buf, len, flags, addr, alen);
    } else {
        int saved = errno;
        ssize_t r = real(fd, buf, len, flags | MSG_DONTWAIT, addr, alen);
        if (r >= 0 || !ct_again(errno) || ct_fd_nonblocking(fd))
            return r;
        errno = saved;
    }
    ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
    ssize_t r = real(fd, buf, len, flags, addr, alen);
    ct_unblock();
    return r;
}

CT_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return ct_recvfrom_body(fd, buf, len, flags, NULL, NULL, CT_SKIP, __func__);
}

CT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen)
{
    return ct_recvfrom_body(fd, buf, len, flags, addr, alen, CT_SKIP, __func__);
}

CT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (CT_UNLIKELY(len > buflen) && ct_real___recv_chk)
        return ct_real___recv_chk(fd, buf, len, buflen, flags); /* reports the overflow */
    return ct_recvfrom_body(fd, buf, len, flags, NULL, NULL, CT_SKIP, __func__);
}

CT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                 struct sockaddr *addr, socklen_t *alen)
{
    if (CT_UNLIKELY(len > buflen) && ct_real___recvfrom_chk)
        return ct_real___recvfrom_chk(fd, buf, len, buflen, flags, addr, alen);
    return ct_recvfrom_body(fd, buf, len, flags, addr, alen, CT_SKIP, __func__);
}

ssize_t ct_net_recv(int fd, void *buf, size_t len, int flags, int skip, const char *call)
{
    return ct_recvfrom_body(fd, buf, len, flags, NULL, NULL, skip + 1, call);
}

CT_INLINE ssize_t ct_recvmsg_body(int fd, struct msghdr *msg, int flags, int skip, const char *call)
{
    if (CT_UNLIKELY(!ct_real_recvmsg))
        return syscall(SYS_recvmsg, fd, msg, flags);
    if (!CT_ENABLED() || (flags & MSG_DONTWAIT))
        return ct_real_recvmsg(fd, msg, flags);
    if (flags & MSG_WAITALL) {
        if (ct_ready(fd, POLLIN))
            return ct_real_recvmsg(fd, msg, flags);
    } else {
        int saved = errno;
        ssize_t r = ct_real_recvmsg(fd, msg, flags | MSG_DONTWAIT);
        if (r >= 0 || !ct_again(errno) || ct_fd_nonblocking(fd))
            return r;
        errno = saved;
    }
    ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
    ssize_t r = ct_real_recvmsg(fd, msg, flags);
    ct_unblock();
    return r;
}

CT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    CT_REAL(recvmsg);
    return ct_recvmsg_body(fd, msg, flags, CT_SKIP, __func__);
}

ssize_t ct_net_readv(int fd, const struct iovec *iov, int cnt, int skip, const char *call)
{
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)(cnt < 0 ? 0 : cnt);
    if (cnt < 0) {
        errno = EINVAL;
        return -1;
    }
    return ct_recvmsg_body(fd, &m, 0, skip + 1, call);
}

/* ---------------------------------------------------------------- */
/* Send                                                              */
/* ---------------------------------------------------------------- */

CT_INLINE ssize_t ct_sendto_body(int fd, const void *buf, size_t len, int flags,
                                 const struct sockaddr *addr, socklen_t alen, int skip, const char *call)
{
    CT_REAL(sendto);
    ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t) = ct_real_sendto;
    if (CT_UNLIKELY(!real))
        real = ct_sys_sendto;
    if (!CT_ENABLED() || (flags & MSG_DONTWAIT))
        return real(fd, buf, len, flags, addr, alen);
    int saved = errno;
    ssize_t r = real(fd, buf, len, flags | MSG_DONTWAIT, addr, alen);
    if (r >= 0 && (size_t)r == len)
        return r;
    if (r < 0 && !ct_again(errno))
        return r;
    if (ct_fd_nonblocking(fd))
        return r; /* partial or EAGAIN: the caller's own answer */
    errno = saved;
    ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
    ssize_t done = r > 0 ? r : 0;
    ssize_t r2 = done ? real(fd, (const char *)buf + done, len - (size_t)done, flags, NULL, 0)
                      : real(fd, buf, len, flags, addr, alen);
    ct_unblock();
    if (r2 < 0) {
        if (done) {
            errno = saved;
            return done;
        }
        return r2;
    }
    return done + r2;
}

CT_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    return ct_sendto_body(fd, buf, len, flags, NULL, 0, CT_SKIP, __func__);
}

CT_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                         socklen_t alen)
{
    return ct_sendto_body(fd, buf, len, flags, addr, alen, CT_SKIP, __func__);
}

ssize_t ct_net_send(int fd, const void *buf, size_t len, int flags, int skip, const char *call)
{
    return ct_sendto_body(fd, buf, len, flags, NULL, 0, skip + 1, call);
}

/* Bytes described by an iovec array (saturating). */
static size_t ct_iov_total(const struct iovec *iov, size_t cnt)
{
    size_t t = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (iov[i].iov_len > (size_t)-1 - t)
            return (size_t)-1;
        t += iov[i].iov_len;
    }
    return t;
}

/* iovec entries a partial sendmsg can re-slice on the stack (1 KiB). */
#define CT_IOV_STACK 64

CT_INLINE ssize_t ct_sendmsg_body(int fd, const struct msghdr *msg, int flags, int skip, const char *call)
{
    if (CT_UNLIKELY(!ct_real_sendmsg))
        return syscall(SYS_sendmsg, fd, msg, flags);
    if (!CT_ENABLED() || (flags & MSG_DONTWAIT))
        return ct_real_sendmsg(fd, msg, flags);
    if (msg->msg_iovlen > CT_IOV_STACK) {
        /* Too many pieces to re-slice on the stack: decide by readiness. */
        if (ct_ready(fd, POLLOUT) || ct_fd_nonblocking(fd))
            return ct_real_sendmsg(fd, msg, flags);
        ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
        ssize_t r = ct_real_sendmsg(fd, msg, flags);
        ct_unblock();
        return r;
    }
    int saved = errno;
    ssize_t r = ct_real_sendmsg(fd, msg, flags | MSG_DONTWAIT);
    size_t total = ct_iov_total(msg->msg_iov, msg->msg_iovlen);
    if (r >= 0 && (size_t)r == total)
        return r;
    if (r < 0 && !ct_again(errno))
        return r;
    if (ct_fd_nonblocking(fd))
        return r;
    errno = saved;
    ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
    ssize_t r2;
    if (r <= 0) {
        r2 = ct_real_sendmsg(fd, msg, flags);
        ct_unblock();
        return r2;
    }
    /* Partial: send what is left, without ancillary data or address. */
    struct iovec rest[msg->msg_iovlen];
    size_t n = 0, skipb = (size_t)r;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        struct iovec v = msg->msg_iov[i];
        if (skipb >= v.iov_len) {
            skipb -= v.iov_len;
            continue;
        }
        v.iov_base = (char *)v.iov_base + skipb;
        v.iov_len -= skipb;
        skipb = 0;
        rest[n++] = v;
    }
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = rest;
    m.msg_iovlen = n;
    r2 = ct_real_sendmsg(fd, &m, flags);
    ct_unblock();
    if (r2 < 0) {
        errno = saved;
        return r;
    }
    return r + r2;
}

CT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    CT_REAL(sendmsg);
    return ct_sendmsg_body(fd, msg, flags, CT_SKIP, __func__);
}

ssize_t ct_net_writev(int fd, const struct iovec *iov, int cnt, int skip, const char *call)
{
    if (cnt < 0) {
        errno = EINVAL;
        return -1;
    }
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)iov;
    m.msg_iovlen = (size_t)cnt;
    return ct_sendmsg_body(fd, &m, 0, skip + 1, call);
}

/* ---------------------------------------------------------------- */
/* accept, connect                                                   */
/* ---------------------------------------------------------------- */

CT_INLINE int ct_accept_body(int fd, struct sockaddr *addr, socklen_t *alen, int flags, int skip, const char *call)
{
    int r;
    CT_REAL(accept4);
    if (CT_UNLIKELY(!ct_real_accept4)) {
        r = (int)syscall(SYS_accept4, fd, addr, alen, flags);
    } else if (!CT_ENABLED() || ct_ready(fd, POLLIN) || ct_fd_nonblocking(fd)) {
        r = ct_real_accept4(fd, addr, alen, flags);
    } else {
        ct_block(CTRACE_BLOCK_NET, NULL, call, skip);
        r = ct_real_accept4(fd, addr, alen, flags);
        ct_unblock();
    }
    if (r >= 0)
        ct_fd_set(r, CT_FD_SOCKET);
    return r;
}

CT_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
    return ct_accept_body(fd, addr, alen, 0, CT_SKIP, __func__);
}

CT_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
    return ct_accept_body(fd, addr, alen, flags, CT_SKIP, __func__);
}

CT_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    CT_REAL(connect);
    if (CT_UNLIKELY(!ct_real_connect))
        return (int)syscall(SYS_connect, fd, addr, alen);
    if (!CT_ENABLED() || ct_fd_nonblocking(fd))
        return ct_real_connect(fd, addr, alen);
    ct_block(CTRACE_BLOCK_NET, NULL, __func__, CT_SKIP);
    int r = ct_real_connect(fd, addr, alen);
    ct_unblock();
    return r;
}

/* ---------------------------------------------------------------- */
/* poll, select, epoll                                               */
/* ---------------------------------------------------------------- */

CT_INLINE int ct_poll_body(struct pollfd *fds, nfds_t n, int timeout, int skip, const char *call)
{
    if (CT_UNLIKELY(!ct_real_poll)) {
        struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
        return (int)syscall(SYS_ppoll, fds, n, timeout < 0 ? NULL : &ts, NULL, (size_t)(_NSIG / 8));
    }
    if (!CT_ENABLED() || timeout == 0)
        return ct_real_poll(fds, n, timeout);
    int r;
    if (n == 0) {
        ct_block(CTRACE_BLOCK_SLEEP, NULL, call, skip);
        r = ct_real_poll(fds, n, timeout);
        ct_unblock();
        return r;
    }
    int saved = errno;
    r = ct_real_poll(fds, n, 0);
    if (r != 0)
        return r;
    errno = saved;
    ct_ready_wait(ct_pollfds_net(fds, n), "sync: poll", call, skip);
    r = ct_real_poll(fds, n, timeout);
    ct_unblock();
    return r;
}

CT_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    CT_REAL(poll);
    return ct_poll_body(fds, n, timeout, CT_SKIP, __func__);
}

CT_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    CT_REAL(__poll_chk);
    CT_REAL(poll);
    if (CT_UNLIKELY(fdslen / sizeof(*fds) < n) && ct_real___poll_chk)
        return ct_real___poll_chk(fds, n, timeout, fdslen);
    return ct_poll_body(fds, n, timeout, CT_SKIP, __func__);
}

/* A zero timeout: the call only polls.  (glibc's ppoll, pselect and
 * select read the timeout themselves before the kernel: a bad pointer
 * there faults untraced too.) */
static inline int ct_ts_zero(const struct timespec *ts)
{
    return ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
}

CT_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
    CT_REAL(ppoll);
    if (CT_UNLIKELY(!ct_real_ppoll))
        return (int)syscall(SYS_ppoll, fds, n, tmo, mask, (size_t)(_NSIG / 8));
    if (!CT_ENABLED() || ct_ts_zero(tmo))
        return ct_real_ppoll(fds, n, tmo, mask);
    int r;
    if (n == 0) {
        ct_block(CTRACE_BLOCK_SLEEP, NULL, __func__, CT_SKIP);
        r = ct_real_ppoll(fds, n, tmo, mask);
        ct_unblock();
        return r;
    }
    int saved = errno;
    struct timespec zero = {0, 0};
    r = ct_real_ppoll(fds, n, &zero, mask);
    if (r != 0)
        return r;
    errno = saved;
    ct_ready_wait(ct_pollfds_net(fds, n), "sync: ppoll", __func__, CT_SKIP);
    r = ct_real_ppoll(fds, n, tmo, mask);
    ct_unblock();
    return r;
}

/* select and pselect overwrite their sets even when nothing is ready, so
 * the try works on the caller's sets and restores them from copies.  For
 * nfds > FD_SETSIZE the try is skipped (keeps the copies small on the
 * caller's stack) and the block is reported around the real call. */
#define CT_SELECT_MAX_BYTES (FD_SETSIZE / 8)

struct ct_fdsets {
    size_t bytes;
    unsigned char r[CT_SELECT_MAX_BYTES], w[CT_SELECT_MAX_BYTES], e[CT_SELECT_MAX_BYTES];
};

/* 1: saved.  0: nfds too large to copy (or negative: the call's EINVAL).
 * -1: a set cannot be read (the call's EFAULT). */
static int ct_fdsets_save(struct ct_fdsets *s, int nfds, fd_set *r, fd_set *w, fd_set *e)
{
    if (nfds < 0 || (size_t)(nfds + 7) / 8 > CT_SELECT_MAX_BYTES)
        return 0;
    s->bytes = (size_t)(nfds + 7) / 8;
    if ((r && !ct_user_readable(r, s->bytes)) || (w && !ct_user_readable(w, s->bytes)) ||
        (e && !ct_user_readable(e, s->bytes)))
        return -1;
    if (r) memcpy(s->r, r, s->bytes);
    if (w) memcpy(s->w, w, s->bytes);
    if (e) memcpy(s->e, e, s->bytes);
    return 1;
}

static void ct_fdsets_restore(const struct ct_fdsets *s, fd_set *r, fd_set *w, fd_set *e)
{
    if (r) memcpy(r, s->r, s->bytes);
    if (w) memcpy(w, s->w, s->bytes);
    if (e) memcpy(e, s->e, s->bytes);
}

/* 1 if the saved sets (of the sets passed: r, w, e) name no descriptor:
 * the select is a sleep. */
static int ct_fdsets_empty(const struct ct_fdsets *s, const fd_set *r, const fd_set *w,
                           const fd_set *e)
{
    unsigned char any = 0;
    for (size_t i = 0; i < s->bytes; i++)
        any |= (r ? s->r[i] : 0) | (w ? s->w[i] : 0) | (e ? s->e[i] : 0);
    return !any;
}

/* Whether the saved sets name a network descriptor (byte i, bit k: fd
 * 8i + k, as glibc lays out fd_set on a little-endian machine). */
static int ct_fdsets_net(const struct ct_fdsets *s, const fd_set *r, const fd_set *w, const fd_set *e)
{
    for (size_t i = 0; i < s->bytes; i++) {
        unsigned b = (r ? s->r[i] : 0u) | (w ? s->w[i] : 0u) | (e ? s->e[i] : 0u);
        for (int k = 0; b; k++, b >>= 1)
            if ((b & 1u) && ct_fd_net((int)(i * 8) + k))
                return 1;
    }
    return 0;
}

/* The zero-timeout try of select/pselect over the caller's sets (mask:
 * pselect's, or NULL) and what a wait on them is.  1: the try is the
 * call's answer (*rr).  0: it would wait; the sets are as the caller gave
 * them, *kind and *reason say the block (a sleep without descriptors, a
 * network wait on a socket or when the sets are too large to copy, else
 * a synchronization wait, reason sync). */
static int ct_select_try(int nfds, fd_set *r, fd_set *w, fd_set *e, const sigset_t *mask,
                         const char *sync, enum ctrace_block_kind *kind, const char **reason, int *rr)
{
    struct ct_fdsets saved_sets;
    *kind = CTRACE_BLOCK_NET;
    *reason = NULL;
    int saved_ok = ct_fdsets_save(&saved_sets, nfds, r, w, e);
    if (saved_ok == 0)
        return 0; /* nfds too large to copy (or negative: the call's EINVAL) */
    if (saved_ok > 0 && ct_fdsets_empty(&saved_sets, r, w, e)) {
        *kind = CTRACE_BLOCK_SLEEP;
        return 0;
    }
    int saved = errno;
    struct timespec zero = {0, 0};
    struct { const sigset_t *ss; size_t len; } data = {mask, (size_t)(_NSIG / 8)};
    /* An unreadable set: this try is the call's EFAULT. */
    *rr = (int)syscall(SYS_pselect6, nfds, r, w, e, &zero, mask ? &data : NULL);
    if (*rr != 0 || saved_ok < 0)
        return 1;
    ct_fdsets_restore(&saved_sets, r, w, e);
    errno = saved;
    if (!ct_fdsets_net(&saved_sets, r, w, e)) {
        *kind = CTRACE_BLOCK_SELECT;
        *reason = sync;
    }
    return 0;
}

CT_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    CT_REAL(select);
    if (CT_UNLIKELY(!ct_real_select)) {
        struct timespec ts, *tp = NULL;
        if (tv) {
            ts.tv_sec = tv->tv_sec;
            ts.tv_nsec = tv->tv_usec * 1000L;
            tp = &ts;
        }
        return (int)syscall(SYS_pselect6, nfds, r, w, e, tp, NULL);
    }
    if (!CT_ENABLED() || (tv && tv->tv_sec == 0 && tv->tv_usec == 0))
        return ct_real_select(nfds, r, w, e, tv);
    enum ctrace_block_kind kind;
    const char *reason;
    int rr;
    if (ct_select_try(nfds, r, w, e, NULL, "sync: select", &kind, &reason, &rr))
        return rr;
    ct_block(kind, reason, __func__, CT_SKIP);
    rr = ct_real_select(nfds, r, w, e, tv);
    ct_unblock();
    return rr;
}

CT_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                      const sigset_t *mask)
{
    CT_REAL(pselect);
    if (CT_UNLIKELY(!ct_real_pselect)) {
        struct { const sigset_t *ss; size_t len; } data = {mask, (size_t)(_NSIG / 8)};
        struct timespec t, *tp = NULL;
        if (ts) { t = *ts; tp = &t; }
        return (int)syscall(SYS_pselect6, nfds, r, w, e, tp, &data);
    }
    if (!CT_ENABLED() || ct_ts_zero(ts))
        return ct_real_pselect(nfds, r, w, e, ts, mask);
    enum ctrace_block_kind kind;
    const char *reason;
    int rr;
    if (ct_select_try(nfds, r, w, e, mask, "sync: pselect", &kind, &reason, &rr))
        return rr;
    ct_block(kind, reason, __func__, CT_SKIP);
    rr = ct_real_pselect(nfds, r, w, e, ts, mask);
    ct_unblock();
    return rr;
}

CT_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
    CT_REAL(epoll_wait);
    if (CT_UNLIKELY(!ct_real_epoll_wait))
        return (int)syscall(SYS_epoll_pwait, ep, ev, max, timeout, NULL, (size_t)(_NSIG / 8));
    if (!CT_ENABLED() || timeout == 0)
        return ct_real_epoll_wait(ep, ev, max, timeout);
    int saved = errno;
    int r = ct_real_epoll_wait(ep, ev, max, 0);
    if (r != 0)
        return r;
    errno = saved;
    ct_ready_wait(ct_epoll_net(ep), "sync: epoll_wait", __func__, CT_SKIP);
    r = ct_real_epoll_wait(ep, ev, max, timeout);
    ct_unblock();
    return r;
}

CT_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    CT_REAL(epoll_pwait);
    if (CT_UNLIKELY(!ct_real_epoll_pwait))
        return (int)syscall(SYS_epoll_pwait, ep, ev, max, timeout, mask, (size_t)(_NSIG / 8));
    if (!CT_ENABLED() || timeout == 0)
        return ct_real_epoll_pwait(ep, ev, max, timeout, mask);
    int saved = errno;
    int r = ct_real_epoll_pwait(ep, ev, max, 0, mask);
    if (r != 0)
        return r;
    errno = saved;
    ct_ready_wait(ct_epoll_net(ep), "sync: epoll_pwait", __func__, CT_SKIP);
    r = ct_real_epoll_pwait(ep, ev, max, timeout, mask);
    ct_unblock();
    return r;
}

CT_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *tmo,
                           const sigset_t *mask)
{
    CT_REAL(epoll_pwait2);
    if (CT_UNLIKELY(!ct_real_epoll_pwait2)) {
        errno = ENOSYS;
        return -1;
    }
    /* glibc passes the timeout to the kernel unread: a bad one is EFAULT. */
    if (!CT_ENABLED() || (tmo && !ct_user_readable(tmo, sizeof *tmo)) || ct_ts_zero(tmo))
        return ct_real_epoll_pwait2(ep, ev, max, tmo, mask);
    int saved = errno;
    struct timespec zero = {0, 0};
    int r = ct_real_epoll_pwait2(ep, ev, max, &zero, mask);
    if (r != 0)
        return r;
    errno = saved;
    ct_ready_wait(ct_epoll_net(ep), "sync: epoll_pwait2", __func__, CT_SKIP);
    r = ct_real_epoll_pwait2(ep, ev, max, tmo, mask);
    ct_unblock();
    return r;
}
