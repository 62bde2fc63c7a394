/*
 * interpose.h - shared plumbing of the LD_PRELOAD interposers.
 *
 * Every wrapper in src/interpose/ follows the same shape:
 *
 *     ret name(args) {
 *         CT_REAL(name);                       // resolve the libc function
 *         if (!ct_real_name) return FALLBACK;  // only inside dlsym bootstrap
 *         if (!CT_ENABLED()) return ct_real_name(args);         // fast path
 *         ... hook calls around ct_real_name(args) ...
 *     }
 *
 * Invariants:
 *  - A wrapper never calls an interposed function by its plain name: from
 *    inside libctrace.so the plain name binds to our own wrapper.  It calls
 *    the ct_real_* pointer, or a raw syscall.
 *  - The real pointers are resolved eagerly by each file's constructor
 *    (priority CT_CTOR_PRIO, before the runtime's constructor starts
 *    tracing), lazily otherwise (code that runs before our constructors:
 *    other libraries' constructors).  ct_libc_dlsym() never recurses: while a
 *    thread is inside dlsym, a nested call returns NULL and
 *    the wrapper takes its fallback (a raw syscall, a __pthread_* alias, or
 *    an error return for calls that dlsym cannot possibly make).
 *  - Nothing here changes errno on the untraced path; traced paths save and
 *    restore errno around anything that could clobber it.
 *  - Resolution happens outside signal handlers in practice (the
 *    constructors resolve everything), so wrappers stay async-signal-safe
 *    where the wrapped function is.
 */
#ifndef CTRACE_INTERPOSE_H
#define CTRACE_INTERPOSE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctrace.h"
#include "hooks.h"
#include "libc.h"

#define CT_HIDDEN __attribute__((visibility("hidden")))
#define CT_EXPORT __attribute__((visibility("default")))
#define CT_LIKELY(x) __builtin_expect(!!(x), 1)
#define CT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Is tracing on?  One relaxed atomic load: a plain load on x86-64 and
 * aarch64, and a documented atomic access for ThreadSanitizer (the runtime
 * writes the flag while wrappers read it on every thread). */
#define CT_ENABLED() (__atomic_load_n(&ctrace_enabled_flag, __ATOMIC_RELAXED) != 0)

/* Our constructors run before the runtime's (which may start tracing and
 * create its writer thread through our pthread_create wrapper). */
#define CT_CTOR_PRIO 101

/* Frames of a wrapper to drop from captured stacks: the wrapper itself.
 * Helpers that call a hook on behalf of a wrapper pass skip + 1. */
#define CT_SKIP 1

/* A wait on a synchronisation object in the C library call NAME (a string
 * literal: the wrapper's own name).  Its reason is "sync: NAME", which go
 * tool trace counts in its synchronization profile (any reason holding
 * "sync"), and its stack is topped by a frame named NAME (hooks.h). */
#define CT_SYNC_WAIT(kind, NAME) ct_block((kind), "sync: " NAME, NAME, CT_SKIP)

/* Declares the real-function pointer of a wrapper and resolves it. */
#define CT_REAL_DECL(ret, name, params) static ret(*ct_real_##name) params
#define CT_REAL_V(name, version)                                                   \
    do {                                                                           \
        if (CT_UNLIKELY(__atomic_load_n(&ct_real_##name, __ATOMIC_RELAXED) == NULL)) \
            __atomic_store_n(&ct_real_##name,                                      \
                             (__typeof__(ct_real_##name))ct_libc_dlsym(#name, version), \
                             __ATOMIC_RELAXED);                                    \
    } while (0)
#define CT_REAL(name) CT_REAL_V(name, NULL)

/* The runtime's cached pid (proc.c) differs from getpid(2) in a vfork
 * child, which runs no atfork handler: exec and _exit wrappers use that to
 * leave the parent's tracer state alone. */
CT_HIDDEN pid_t ct_raw_getpid(void);
CT_HIDDEN int ct_in_vfork_child(void);

/* fd type cache (fdcache.c).  An epoll instance made through our
 * epoll_create wrappers is CT_FD_EPOLL until a socket (or an instance that
 * has one) is added to it, then CT_FD_EPOLL_NET for its life. */
enum { CT_FD_UNKNOWN = 0, CT_FD_SOCKET = 1, CT_FD_OTHER = 2, CT_FD_EPOLL = 3, CT_FD_EPOLL_NET = 4 };
CT_HIDDEN int ct_fd_type(int fd);
CT_HIDDEN void ct_fd_set(int fd, int type);
CT_HIDDEN void ct_fd_forget(int fd);

/* Socket I/O for read/write/readv/writev on sockets (net.c). */
struct iovec;
/* call: the wrapper's name (hooks.h, ct_block). */
CT_HIDDEN ssize_t ct_net_recv(int fd, void *buf, size_t len, int flags, int skip, const char *call);
CT_HIDDEN ssize_t ct_net_send(int fd, const void *buf, size_t len, int flags, int skip,
                              const char *call);
CT_HIDDEN ssize_t ct_net_readv(int fd, const struct iovec *iov, int cnt, int skip, const char *call);
CT_HIDDEN ssize_t ct_net_writev(int fd, const struct iovec *iov, int cnt, int skip,
                                const char *call);

/* Is the fd in non-blocking mode (O_NONBLOCK)?  One fcntl; only called on
 * the would-block path. */
CT_HIDDEN int ct_fd_nonblocking(int fd);

/* syscall(SYS_seccomp, op, ...) is about to be made (sandbox.c). */
CT_HIDDEN void ct_sandbox_seccomp_call(unsigned long op);

/* syscall(SYS_exit_group, status) is about to be made (process.c). */
CT_HIDDEN void ct_exit_group_call(int status);

/* syscall(SYS_unshare or SYS_setns, ...) is about to be made (namespace.c). */
CT_HIDDEN void ct_namespace_call(long nr, const long a[6]);

#endif /* CTRACE_INTERPOSE_H */
