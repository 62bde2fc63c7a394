/*
 * proc.h - process life (proc.c, crash.c, symprep.c): the one cached pid,
 * the one fork handler, the one exit path and the one fatal-signal path.
 * The order of each and the invariants are in proc.c's header comment.
 */
#ifndef CTRACE_RUNTIME_PROC_H
#define CTRACE_RUNTIME_PROC_H

#include <signal.h>
#include <sys/types.h>

/* The pid of this process image: set at load (or first use) and by the
 * fork-child handler, never by a vfork child (which runs no handler). */
pid_t ct_proc_pid(void);
/* getpid(2) without libc's cache. */
pid_t ct_proc_raw_getpid(void);
/* The number of execs this pid went through before this image, as the
 * exec wrappers numbered its trace ("%p-K" in CTRACE_OUTPUT; a fork child
 * starts again at 0); -1 when tracing was not started from CTRACE_OUTPUT. */
int ct_proc_exec_number(void);
/* Called first by every public start (ctrace_start, _fd, _file,
 * ctrace_start_trace, ctrace_flight_start).  Once the process entered a
 * sandbox: CTRACE_ESYS with errno EPERM, before any system call.  Else 0
 * (errno kept), and if the trace or recorder the environment started
 * (CTRACE_OUTPUT, CTRACE_FLIGHT: ctrace run) runs, it ends here, whole,
 * with a line on stderr, so that the program's own start succeeds as it
 * would without ctrace run (not for the environment's own starts). */
int ct_proc_before_start(void);
/* The program is about to enter a seccomp sandbox (prctl PR_SET_SECCOMP,
 * the seccomp system call; `how` names the call): under it the tracer's own
 * system calls would kill the thread or the process, so any trace or
 * flight recorder ends here, whole (a line on stderr says so), and no
 * trace starts again in this process, its fork children or its exec'd
 * images.  Once; not in a vfork child. */
void ct_proc_enter_sandbox(const char *how, int every_thread);
/* Before a set*id or setgroups call (fn, its name) that glibc runs on
 * every thread: when the tracer's threads' capabilities differ from the
 * caller's (tracer_threads.c), the trace and recorder end, with one stderr line,
 * and every tracer thread is joined, so the call meets none. */
void ct_proc_before_setxid(const char *fn);
/* Before a call the kernel refuses (EINVAL) to a multithreaded process --
 * unshare(CLONE_NEWUSER), setns into a user namespace (call: how it is
 * named on stderr): with tracer threads alive, the same end as above. */
void ct_proc_before_single_threaded(const char *call);
/* 0 before the process entered a sandbox (ct_proc_enter_sandbox); then 1
 * for one that confines only the thread that entered it (strict mode),
 * 2 for one that may confine every thread, the tracer's too (a filter). */
int ct_proc_sandboxed(void);
/* ctrace_configure while the environment's trace runs: keeps cfg for the
 * program's own trace (applied when ct_proc_before_start ends the
 * environment's) and returns 1; 0 when no such trace runs. */
struct ctrace_config;
int ct_proc_defer_config(const struct ctrace_config *cfg);
/* True in a vfork child: our memory, another pid. */
int ct_proc_in_vfork_child(void);

/* Background symbolizer preparation (symprep.c). */
void ct_symprep_start(void);
void ct_symprep_atfork_child(void);

/* The signals whose default action ends the process, for which a stand-in
 * handler finishes the trace first (src/interpose/signal.c in the shared
 * library, crash.c's handlers in the static one): those another process
 * or the kernel sends (CT_SENT_SIGNALS: blocked while the process exits,
 * proc.c), then the crashes.  Not SIGKILL/SIGSTOP (cannot be caught),
 * SIGPROF (the CPU profiler's), nor the real-time signals. */
#ifdef SIGSTKFLT
#define CT_SIGSTKFLT_ SIGSTKFLT,
#else
#define CT_SIGSTKFLT_
#endif
#define CT_SENT_SIGNALS                                                                            \
    SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGXCPU,      \
        SIGXFSZ, SIGIO, SIGPWR, CT_SIGSTKFLT_
#define CT_FATAL_SIGNALS                                                                           \
    CT_SENT_SIGNALS SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS

/* The fatal-signal path (crash.c).  See crash.c's header comment. */
/* From a signal handler; si and uc are the handler's (may be NULL). */
void ct_crash_fatal_signal(int sig, const siginfo_t *si, const void *uc);
void ct_crash_install_handlers(void);        /* static library: no interposers */
/* The program's own handler of a fatal signal (crash.c, "The program's
 * own handler"): the interposed sigaction's wrapper (src/interpose/
 * signal.c) brackets each call of it with enter and leave, f on its own
 * stack.  leave's dying: the handler returned with the signal's default
 * action restored and the signal coming again (a fault repeats, or it is
 * pending).  jumped: a longjmp (out of the handler).  exit_in_handler:
 * exit, _exit or _Exit (how) with status, called by the interposers; 1 if
 * it was inside such a handler and the crash was handled (then the caller
 * only exits). */
struct ct_fatal_frame {
    int sig;
    const siginfo_t *si;
    const void *uc;
    struct ct_fatal_frame *prev;
};
void ct_crash_handler_enter(struct ct_fatal_frame *f, int sig, const siginfo_t *si, const void *uc);
void ct_crash_handler_leave(struct ct_fatal_frame *f, int dying);
void ct_crash_handler_jumped(void);
int ct_crash_exit_in_handler(const char *how, int status);
void ct_crash_trace_started(void);           /* a writer-level trace began  */
void ct_crash_atfork_child(void);
/* Writer side (writer.c): the gate every write passes, and the end of the
 * last complete generation in the file (-1: cannot be truncated). */
int ct_crash_write_begin(void);              /* 0: writing is closed        */
void ct_crash_write_end(void);
void ct_crash_set_output(int fd, int guarded, long long complete_end);
void ct_crash_note_complete(long long complete_end);

/* The process ends with its last program thread (lastthread.c): the
 * tracer threads are counted while they run (tracer_threads.c), the fork
 * child forgets any watcher. */
void ct_lastthread_internal_created(void);
void ct_lastthread_atfork_child(void);
/* The finisher's periodic check: the main thread ended without
 * pthread_exit (a raw exit, or killed on its own)?  Then the process ends
 * with its last program thread (lastthread.c). */
void ct_lastthread_poll(void);

/* Fork hooks of other modules, called in order by proc.c's handlers. */
void ct_buf_atfork_prepare(void);
void ct_buf_atfork_parent(void);
void ct_buf_atfork_child(void);
void ct_pid_atfork_prepare(void);
void ct_pid_atfork_parent(void);
void ct_pid_atfork_child(void);
void ct_cpuprof_atfork_child(void);

#endif /* CTRACE_RUNTIME_PROC_H */
