/*
 * libc.h - the C library as the tracer sees it: the real entry points,
 * never the interposers' wrappers.
 *
 * Why a layer: inside libctrace.so a call to a plain libc name
 * (pthread_mutex_lock, pthread_cond_wait, write, sigaction...) binds to the
 * library's own exported wrapper of that name (src/interpose), which would
 * trace the tracer's own waits and, worse, make an event wait on a lock the
 * event's writer already holds.  Everything below the interposers and the
 * runtime goes through this header instead, so correctness no longer rests
 * on "internal" flags set around each call.
 *
 * Invariants:
 *  - Every function here is the C library's (or the kernel's) own, whatever
 *    library interposes the plain name: in libctrace.so the pthread and
 *    signal functions are resolved once with dlsym(RTLD_NEXT) (the next
 *    definition after libctrace, i.e. libc's); in libctrace.a and in builds
 *    without interposers (ThreadSanitizer) they are the plain names, which
 *    then are libc's (or the sanitizer's, which must see them).
 *  - File and sleep calls are raw system calls: never interposed, async-
 *    signal-safe, and errno behaves as with the libc wrapper.
 *  - Resolution happens in a constructor that runs before any other of
 *    libctrace's; a call that comes earlier (another library's constructor)
 *    resolves on the spot.  While a thread is inside dlsym (which may call
 *    back into a wrapper, e.g. through calloc or a lock), a nested
 *    resolution returns NULL instead of recursing (ct_libc_dlsym).
 *  - Thread creation and join are not here: sanitizer runtimes must see
 *    every thread start, so tracer threads are created through the plain
 *    names by ct_start_internal_thread, the one place that marks the call
 *    as the tracer's own (src/runtime/writer.c).
 *  - Nothing here changes errno except as the wrapped call documents.
 */
#ifndef CTRACE_LIBC_H
#define CTRACE_LIBC_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* The real function for name (of version, if non-NULL): the next
 * definition after libctrace.so.  NULL when absent, or when the calling
 * thread is already inside this function (dlsym bootstrap recursion). */
void *ct_libc_dlsym(const char *name, const char *version);

/* pthread locks and condition variables (libc's, never traced). */
int ct_libc_mutex_lock(pthread_mutex_t *m);
int ct_libc_mutex_unlock(pthread_mutex_t *m);
int ct_libc_mutex_trylock(pthread_mutex_t *m);
int ct_libc_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int ct_libc_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime);
int ct_libc_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime);
int ct_libc_cond_signal(pthread_cond_t *c);
int ct_libc_cond_broadcast(pthread_cond_t *c);

/* libc's sigaction (sets up the restorer the kernel needs): the signal
 * interposers' own view of dispositions is bypassed.  Async-signal-safe. */
int ct_libc_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* The kernel's system call nr with the six words a[], as libc's
 * syscall(): the result, or -1 with errno.  Made with the architecture's
 * system-call instruction (x86-64, aarch64; elsewhere libc's syscall
 * found past libctrace), so it is async-signal-safe and never reaches an
 * interposer.  Inside libctrace every syscall(...) is this one (the macro
 * below): libctrace.so exports a syscall() of its own (the futex waits of
 * src/interpose/futex.c), which the plain name would bind to. */
long ct_libc_syscall6(long nr, const long a[6]);

/* 1 if the n bytes at p can be read, 0 if reading them would fault.  For what a wrapper
 * reads on the program's behalf before the kernel had a look at it -- a
 * timeout, fd_sets -- where the program, untraced, gets EFAULT, not a
 * crash.  A probe through the kernel per page (rt_sigprocmask with an
 * invalid `how` copies 8 bytes in, then fails with EINVAL and changes
 * nothing): about 100 ns each.  errno is kept.  Async-signal-safe. */
int ct_libc_readable(const void *p, size_t n);
/* syscall(nr, args...): the arguments given, zeros for the rest (never
 * reads past what the call passes). */
#define CT_SYSCALL_6(nr, a, b, c, d, e, f, ...)                                     \
    ct_libc_syscall6((long)(nr), (const long[6]){(long)(a), (long)(b), (long)(c), \
                                                 (long)(d), (long)(e), (long)(f)})
#define syscall(...) CT_SYSCALL_6(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
/* The six words of a variadic syscall()-like call, whatever the call
 * passes, as libc's syscall() takes six registers (the interposer of
 * syscall(): the kernel ignores the words a call does not take). */
#include <stdarg.h>
void ct_libc_syscall_args(va_list ap, long a[6]);

/* Raw system calls: async-signal-safe, never interposed. */
ssize_t ct_libc_write(int fd, const void *buf, size_t len);
ssize_t ct_libc_read(int fd, void *buf, size_t len);
int ct_libc_close(int fd);

/* The tracer's own files: opened close-on-exec and moved at once to a high
 * number (from ct_libc_high_fd_base()), away from the numbers the program
 * picks or closes by mistake (a double close, closefrom); -1 or NULL with
 * errno on failure, errno kept otherwise.  ct_libc_fopen_high: read-only,
 * as a FILE.  The moment the low number exists is fenced against the
 * program's close-like calls: the interposers of close, dup2, dup3,
 * close_range and closefrom bracket their call with fd_fence_enter/leave
 * (enter returns what leave takes).  A Dekker pair of counters: an open
 * waits for close-like calls in flight, they wait for opens in flight;
 * both waits bounded (~10 ms), neither taken by a thread inside the other
 * (a signal handler).  Async-signal-safe (fopen_high aside). */
int ct_libc_high_fd_base(void);
int ct_libc_open_high(const char *path, int flags);
FILE *ct_libc_fopen_high(const char *path);
/* pipe2(fds, flags | O_CLOEXEC) at high numbers, in the same fence: for
 * the pipe libunwind makes to test addresses (its pipe2 through the
 * interposer while the tracer walks a stack: src/interpose/fdcache.c).
 * 0, or -1 with errno. */
int ct_libc_pipe_high(int fds[2], int flags);
int ct_libc_fd_fence_enter(void);
void ct_libc_fd_fence_leave(int entered);
int ct_libc_flock(int fd, int op);
int ct_libc_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
/* Sleeps ns nanoseconds on CLOCK_MONOTONIC (restarted after signals). */
void ct_libc_sleep_ns(uint64_t ns);
pid_t ct_libc_getpid(void);
pid_t ct_libc_gettid(void);
/* Private futex on a 32-bit word: wait while *w == val, at most ms
 * milliseconds (ms < 0: no limit); wake every waiter. */
void ct_libc_futex_wait(_Atomic uint32_t *w, uint32_t val, long ms);
void ct_libc_futex_wake(_Atomic uint32_t *w);

#endif /* CTRACE_LIBC_H */
