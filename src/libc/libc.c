/*
 * libc.c - see libc.h.  Compiled twice: with CT_LIBC_NEXT (libctrace.so,
 * where the interposers export the plain names, so the real ones are
 * found with dlsym(RTLD_NEXT)) and without (libctrace.a, ThreadSanitizer
 * builds: no interposers, the plain names are the real ones).
 */
#define _GNU_SOURCE
#include "libc.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread int resolving __attribute__((tls_model("initial-exec")));

void *ct_libc_dlsym(const char *name, const char *version)
{
#ifdef CT_LIBC_NEXT
    if (resolving)
        return NULL;
    int saved = errno;
    resolving = 1;
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
    resolving = 0;
    errno = saved;
    return p;
#else
    (void)name;
    (void)version;
    (void)resolving;
    return NULL;
#endif
}

#ifdef CT_LIBC_NEXT
/* One pointer per function, resolved by the constructor below (or on first
 * use, for a call that comes before it).  A lookup that fails (only inside
 * dlsym's own bootstrap) falls back to a safe answer per function. */
#define REAL(ret, name, params)                                                         \
    static ret(*real_##name) params;                                                    \
    static ret(*get_##name(void)) params                                                \
    {                                                                                   \
        __typeof__(real_##name) f = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE);    \
        if (__builtin_expect(f == NULL, 0)) {                                           \
            f = (__typeof__(f))ct_libc_dlsym(#name, NULL);                              \
            if (f)                                                                      \
                __atomic_store_n(&real_##name, f, __ATOMIC_RELEASE);                    \
        }                                                                               \
        return f;                                                                       \
    }
#define CALL(name, fallback, ...)                                                       \
    do {                                                                                \
        __typeof__(real_##name) f = get_##name();                                       \
        return f ? f(__VA_ARGS__) : (fallback);                                         \
    } while (0)

REAL(int, pthread_mutex_lock, (pthread_mutex_t *))
REAL(int, pthread_mutex_unlock, (pthread_mutex_t *))
REAL(int, pthread_mutex_trylock, (pthread_mutex_t *))
REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))
REAL(int, pthread_cond_clockwait,
     (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *))
REAL(int, pthread_cond_signal, (pthread_cond_t *))
REAL(int, pthread_cond_broadcast, (pthread_cond_t *))
REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *))

/* Before libctrace's other constructors (the interposers' run at 101 too,
 * the runtime's later). */
__attribute__((constructor(101))) static void libc_resolve(void)
{
    (void)get_pthread_mutex_lock();
    (void)get_pthread_mutex_unlock();
    (void)get_pthread_mutex_trylock();
    (void)get_pthread_cond_wait();
    (void)get_pthread_cond_timedwait();
    (void)get_pthread_cond_clockwait();
    (void)get_pthread_cond_signal();
    (void)get_pthread_cond_broadcast();
    (void)get_sigaction();
}

/* Fallbacks: only reachable while dlsym itself is being resolved on this
 * thread, before any tracer lock exists; EAGAIN/ENOSYS make the caller's
 * failure path run rather than pretending to have locked. */
int ct_libc_mutex_lock(pthread_mutex_t *m) { CALL(pthread_mutex_lock, EAGAIN, m); }
int ct_libc_mutex_unlock(pthread_mutex_t *m) { CALL(pthread_mutex_unlock, EPERM, m); }
int ct_libc_mutex_trylock(pthread_mutex_t *m) { CALL(pthread_mutex_trylock, EBUSY, m); }
int ct_libc_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { CALL(pthread_cond_wait, EINVAL, c, m); }
int ct_libc_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    CALL(pthread_cond_timedwait, EINVAL, c, m, t);
}
int ct_libc_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *t)
{
    CALL(pthread_cond_clockwait, EINVAL, c, m, clock, t);
}
int ct_libc_cond_signal(pthread_cond_t *c) { CALL(pthread_cond_signal, EINVAL, c); }
int ct_libc_cond_broadcast(pthread_cond_t *c) { CALL(pthread_cond_broadcast, EINVAL, c); }
int ct_libc_sigaction(int sig, const struct sigaction *a, struct sigaction *o)
{
    __typeof__(real_sigaction) f = get_sigaction();
    if (f)
        return f(sig, a, o);
    errno = ENOSYS;
    return -1;
}
#else
int ct_libc_mutex_lock(pthread_mutex_t *m) { return pthread_mutex_lock(m); }
int ct_libc_mutex_unlock(pthread_mutex_t *m) { return pthread_mutex_unlock(m); }
int ct_libc_mutex_trylock(pthread_mutex_t *m) { return pthread_mutex_trylock(m); }
int ct_libc_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { return pthread_cond_wait(c, m); }
int ct_libc_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    return pthread_cond_timedwait(c, m, t);
}
int ct_libc_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *t)
{
    return pthread_cond_clockwait(c, m, clock, t);
}
int ct_libc_cond_signal(pthread_cond_t *c) { return pthread_cond_signal(c); }
int ct_libc_cond_broadcast(pthread_cond_t *c) { return pthread_cond_broadcast(c); }
int ct_libc_sigaction(int sig, const struct sigaction *a, struct sigaction *o)
{
    return sigaction(sig, a, o);
}
#endif

static long raw_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
#else
    /* libc's, past libctrace's own syscall(); its errno convention turned
     * back into the kernel's. */
    static long (*libc_syscall)(long, ...);
#ifdef CT_LIBC_NEXT
    if (!libc_syscall)
        libc_syscall = (long (*)(long, ...))ct_libc_dlsym("syscall", NULL);
#else
    extern long(syscall)(long, ...); /* libc's: the name is a macro here */
    libc_syscall = (syscall);
#endif
    if (!libc_syscall)
        return -ENOSYS;
    int saved = errno;
    long r = libc_syscall(nr, a, b, c, d, e, f);
    if (r == -1) {
        r = -errno;
        errno = saved;
    }
    return r;
#endif
}

/* Reads six words whatever the caller passed: past the arguments given,
 * the caller's own stack, which AddressSanitizer would report. */
__attribute__((no_sanitize("address")))
void ct_libc_syscall_args(va_list ap, long a[6])
{
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
}

long ct_libc_syscall6(long nr, const long a[6])
{
    long r = raw_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* Reads the 8 bytes at q through the kernel: 0 if that faults. */
static int probe8(uintptr_t q)
{
    return raw_syscall6(SYS_rt_sigprocmask, -1, (long)q, 0, (long)(_NSIG / 8), 0, 0) != -EFAULT;
}

int ct_libc_readable(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    if (n == 0)
        return 1;
    if (a + n < a)
        return 0; /* wraps around */
    if (n < 8) /* the 8 bytes from a, or those ending at a + n: one stays
                * within the pages the range touches (4096 > 8) */
        return probe8(a) || (a >= 8 - n && probe8(a + n - 8));
    /* Every page the range touches, once: from a, page by page, then the
     * last 8 bytes. */
    uintptr_t last = a + n - 8;
    for (uintptr_t q = a; q < last; q = (q | 4095u) + 1)
        if (!probe8(q))
            return 0;
    return probe8(last);
}

ssize_t ct_libc_write(int fd, const void *buf, size_t len)
{
    return syscall(SYS_write, fd, buf, len);
}

ssize_t ct_libc_read(int fd, void *buf, size_t len)
{
    return syscall(SYS_read, fd, buf, len);
}

int ct_libc_close(int fd)
{
#if defined(__SANITIZE_THREAD__)
    return close(fd); /* seen by ThreadSanitizer's descriptor model */
#else
    return (int)syscall(SYS_close, fd);
#endif
}

int ct_libc_flock(int fd, int op)
{
    return (int)syscall(SYS_flock, fd, op);
}

int ct_libc_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    /* ppoll: the one poll system call every architecture has. */
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    return (int)syscall(SYS_ppoll, fds, n, tp, NULL, (size_t)(_NSIG / 8));
}

void ct_libc_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    int e = errno;
    while (syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &ts) != 0 && errno == EINTR) {
    }
    errno = e;
}

pid_t ct_libc_getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

pid_t ct_libc_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

void ct_libc_futex_wait(_Atomic uint32_t *w, uint32_t val, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

void ct_libc_futex_wake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

/* ---- the tracer's own descriptors, opened high ---- */

/* Numbers from here up are the tracer's (below a low RLIMIT_NOFILE: its
 * upper quarter). */
#define HIGH_FD_BASE 1000

int ct_libc_high_fd_base(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > HIGH_FD_BASE * 4 / 3)
        return HIGH_FD_BASE;
    return (int)(rl.rlim_cur - rl.rlim_cur / 4);
}

static _Atomic int g_opening; /* ct_libc_open_high calls between open and move */
static _Atomic int g_closing; /* the program's close-like calls in flight   */
static __thread int t_inside; /* this thread is in one of them (a handler)  */

/* Waits (bounded: ~10 ms) while *c is not 0. */
static void wait_zero(_Atomic int *c)
{
    for (int i = 0; i < 10000 && __atomic_load_n(c, __ATOMIC_SEQ_CST); i++)
        if (i >= 64)
            sched_yield();
}

int ct_libc_fd_fence_enter(void)
{
    if (t_inside)
        return 0;
    for (int tries = 0; tries < 8; tries++) {
        __atomic_fetch_add(&g_closing, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&g_opening, __ATOMIC_SEQ_CST))
            return 1;
        __atomic_fetch_sub(&g_closing, 1, __ATOMIC_SEQ_CST);
        wait_zero(&g_opening);
    }
    __atomic_fetch_add(&g_closing, 1, __ATOMIC_SEQ_CST);
    return 1; /* an open that never ends: go on (never block the program) */
}

void ct_libc_fd_fence_leave(int entered)
{
    if (entered)
        __atomic_fetch_sub(&g_closing, 1, __ATOMIC_SEQ_CST);
}

/* The opener's side of the fence (ct_libc_open_high, ct_libc_pipe_high):
 * from enter to leave the program's close-like calls wait. */
static void open_fence_enter(void)
{
    t_inside = 1;
    __atomic_fetch_add(&g_opening, 1, __ATOMIC_SEQ_CST);
    wait_zero(&g_closing);
}

static void open_fence_leave(void)
{
    __atomic_fetch_sub(&g_opening, 1, __ATOMIC_SEQ_CST);
    t_inside = 0;
}

/* Inside the fence: fd, just made, moved to a high number (close-on-exec);
 * fd itself when there is no room up there. */
static int move_high(int fd)
{
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer models descriptors: it must see these calls (its
     * interceptors), or a number reused here looks like a race with the
     * file's last user.  That build has no interposers to avoid. */
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, ct_libc_high_fd_base());
    if (hi >= 0) {
        close(fd);
        fd = hi;
    }
#else
    int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, ct_libc_high_fd_base());
    if (hi >= 0) {
        syscall(SYS_close, fd);
        fd = hi;
    }
#endif
    return fd;
}

int ct_libc_open_high(const char *path, int flags)
{
    int e = errno;
    open_fence_enter();
#if defined(__SANITIZE_THREAD__)
    int fd = openat(AT_FDCWD, path, flags | O_CLOEXEC, 0);
#else
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
#endif
    int oe = errno;
    if (fd >= 0)
        fd = move_high(fd);
    open_fence_leave();
    errno = fd < 0 ? oe : e;
    return fd;
}

int ct_libc_pipe_high(int fds[2], int flags)
{
    int e = errno;
    int p[2];
    open_fence_enter();
#if defined(__SANITIZE_THREAD__)
    int r = pipe2(p, flags | O_CLOEXEC);
#else
    int r = (int)syscall(SYS_pipe2, p, flags | O_CLOEXEC);
#endif
    int oe = errno;
    if (r == 0) {
        fds[0] = move_high(p[0]);
        fds[1] = move_high(p[1]);
    }
    open_fence_leave();
    errno = r < 0 ? oe : e;
    return r;
}

FILE *ct_libc_fopen_high(const char *path)
{
    int fd = ct_libc_open_high(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "re");
    if (!f)
        ct_libc_close(fd);
    return f;
}
