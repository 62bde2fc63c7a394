/*
 * hooks.h - the runtime's interface to the interposers (src/interpose).
 *
 * Interposers wrap libc/pthread functions and report what the calling thread
 * does through these calls.  Every hook is cheap when tracing is off (one
 * load of ctrace_enabled_flag) and never changes errno.
 *
 * Invariants the interposers rely on:
 *  - A hook never calls an interposed function in a way that re-enters a
 *    hook: the runtime marks its own threads (writer, advancer) as internal
 *    and every hook returns immediately on an internal thread or while the
 *    calling thread is already inside the tracer (ct_in_tracer()).
 *  - ct_block*()/ct_unblock() and ct_syscall_begin()/ct_syscall_end() must
 *    pair on the same thread; an unpaired end is ignored, so a hook that
 *    raced with ctrace_start_trace() is harmless.
 *  - skip counts frames of the interposer itself to leave out of the stack.
 */
#ifndef CTRACE_RUNTIME_HOOKS_H
#define CTRACE_RUNTIME_HOOKS_H

#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "ctrace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* True if the calling thread must not be traced right now: a tracer thread,
 * or a thread already inside the tracer. */
int ct_in_tracer(void);

/* Blocking.  kind as in ctrace_block; reason overrides it if non-NULL.
 * call names the C library function the thread waits in (the wrapper's
 * own name: a literal or __func__, static storage): the stack of the
 * block, and of its end, is topped by a frame of that name (trace.h,
 * CT_CALL_PC), so a wait in pthread_mutex_lock reads as one. */
void ct_block(enum ctrace_block_kind kind, const char *reason, const char *call, int skip);
void ct_unblock(void);

/* Syscalls (file I/O, waits, anything blocking that is not a block);
 * call as for ct_block ("fdatasync", "read"). */
void ct_syscall_begin(const char *call, int skip);
void ct_syscall_end(void);

/* Whether the n bytes at p, which a wrapper reads for the program before
 * the kernel has (a timeout, fd_sets), can be read: untraced, a bad
 * pointer there is the call's EFAULT, never a crash.  The calling
 * thread's live stack (from the caller's frame up) is known to be; other
 * memory is asked of the kernel (ct_libc_readable, about 100 ns). */
int ct_user_readable(const void *p, size_t n);

/* Thread creation, from the pthread_create interposer.
 *   parent, before calling the real pthread_create:
 *       struct ct_spawn *s = ct_spawn_prepare(start_routine, skip);
 *   child, first thing in the trampoline (s may be NULL):
 *       ct_spawn_child(s);
 *   parent, if the real pthread_create failed:
 *       ct_spawn_abort(s);
 * ct_spawn_prepare returns NULL when tracing is off; the child then
 * registers lazily.  ct_spawn_child frees s. */
struct ct_spawn;
struct ct_spawn *ct_spawn_prepare(void *(*start)(void *), int skip);
void ct_spawn_child(struct ct_spawn *s);
void ct_spawn_abort(struct ct_spawn *s);

/* The calling thread is about to exit (pthread_exit, or its start routine
 * returned).  Also called from the TLS destructor. */
void ct_thread_exit(void);

/* The calling thread calls pthread_exit (after ct_thread_exit): if it is
 * the main thread and tracer threads run, a watcher ends the process with
 * exit(0) once no program thread is left, as glibc does (lastthread.c). */
void ct_lastthread_main_exit(void);

/* Process events (proc.c).  ct_before_exec flushes and finishes the trace
 * file so that the new image starts a trace of its own; ct_exec_failed
 * resumes tracing if execve returned.  ct_process_exit finishes the trace
 * (exit, _exit, _Exit; and on the finisher thread for a fatal signal, see
 * crash.c: a signal handler calls ct_crash_fatal_signal instead). */
void ct_before_exec(void);
void ct_exec_failed(void);
void ct_process_exit(void);

/* The trace file's descriptor (fdguard.c; used by writer.c and by the
 * close/dup interposers in fdcache.c).  adopt moves fd to a high number and
 * guards it, returning the number to use; write and close go through the
 * guard (it may have moved the fd since).  ct_fdguard_is(fd): is fd the
 * guarded number in this process (the wrappers then act as if it were
 * not open); ct_fdguard_current(): that number, or -1; vacate: the program
 * wants this number (dup2/dup3 target): move ours away first.  is,
 * current and vacate are async-signal-safe and keep errno. */
int ct_fdguard_adopt(int fd);
ssize_t ct_fdguard_write(int fd, const void *buf, size_t len);
int ct_fdguard_close(int fd);
int ct_fdguard_is(int fd);
int ct_fdguard_current(void);
void ct_fdguard_vacate(int fd);
void ct_fdguard_atfork_child(void); /* proc.c's fork-child handler */

/* Whether pc is in libunwind's code (unwind.c; 0 before it is loaded).
 * libunwind, which the tracer loads to walk stacks, makes a pipe of its
 * own to test addresses (pipe2, then read/write/close on it, reopened
 * when a test fails): the pipe2 interposer (fdcache.c) makes that pipe
 * at high numbers, as the tracer's own files, so that it is never among
 * the numbers a program closes and reuses (a daemon's close(3..N) then
 * pipe() handed libunwind's numbers to the program: libunwind read and
 * closed the program's pipe, and a traced program hung in read). */
int ct_unwind_owns_pc(uintptr_t pc);

/* SIGPROF dispositions (signal.c).  While the CPU profiler's handler is
 * installed, the program's sigaction/signal(SIGPROF) calls are made here:
 * the handler the program sets is the one ctrace forwards the program's
 * own SIGPROFs to (setitimer(ITIMER_PROF), its POSIX timers, kill), and a
 * query reports it; ctrace's handler stays in the kernel.  Otherwise the
 * call goes to libc.  Same return and errno as sigaction; async-signal-
 * safe.  The runtime itself reaches libc's sigaction through src/libc. */
struct sigaction;
int ct_sigprof_action(const struct sigaction *act, struct sigaction *old);

#ifdef __cplusplus
}
#endif

#endif /* CTRACE_RUNTIME_HOOKS_H */
