/*
 * proc.c - the library inside a process: initialization, the start from
 * the environment (ctrace run), and the process's life -- fork, exec,
 * exit.  The one owner of process life: one cached pid, one fork handler,
 * one exit path (here); one fatal-signal path (crash.c).
 *
 * Initialization: the constructor (priority 110, after the interposers
 * resolved their real functions) runs ct_lifecycle_init once; so does the
 * first ctrace_configure/start of a statically linked program, whose
 * archive member with this file is linked in only through that reference
 * (ct_lifecycle_init is called from trace.c and config.c).  It registers:
 *  - the fork handlers (pthread_atfork, once, for every module);
 *  - the exit handler (atexit): exit() and a return from main finish the
 *    trace in both libraries (the shared library's exit/_exit/_Exit
 *    interposers call ct_process_exit first, which makes this a no-op);
 *  - in the static library, which has no interposers, the fatal-signal
 *    handlers (crash.c).
 *
 * The cached pid (ct_proc_pid): set at load/init and by the fork-child
 * handler, before any other step of it.  A vfork child shares our memory
 * and runs no handler, so its raw getpid() differs: ct_proc_in_vfork_child
 * is how the exec/exit wrappers, fdguard and the fatal-signal path leave
 * the parent's trace alone there.
 *
 * Fork, in order:
 *   prepare (parent): ct_trace_atfork_prepare takes ctl_lock,
 *       ct_registry_lock, q_lock; then pid_lock (thread.c) and pool_lock
 *       (buf.c), which are leaves taken under the registry/queue locks.
 *       With them held no other thread is inside advance(), the registry,
 *       the queue, the P-id bitmap or the buffer pool: the child gets a
 *       consistent copy of each.
 *   parent: the same locks released, in the reverse order.
 *   child (one thread, the forker's copy):
 *     1. the cached pid;
 *     2. pool_lock and pid_lock re-initialized (their data is consistent);
 *     3. module state whose lock another thread may have held at the fork
 *        (never taken in prepare: the writer holds w_lock while it joins
 *        the writer thread, fdguard's g_lock around a write, which may
 *        block): re-initialized, and the state it protects reset to "none":
 *        fdguard (closes the inherited trace descriptor), cpuprof (timer
 *        table, spin lock), writer, symprep, crash (no finisher thread
 *        here), lastthread (no tracer thread, no watcher here), then the interposers' (signal bookkeeping) if linked in;
 *     4. ct_trace_atfork_child: tracing off, the other threads' records
 *        dropped, queued data freed (never written: the parent's file);
 *     5. with CTRACE_OUTPUT containing %p, a trace of the child's own.
 *   The child never takes a lock another thread could have held at the
 *   fork: a lock is either held by the forker itself (prepare) or
 *   re-initialized before its first use.  The other threads' buffers are
 *   dropped without being freed: a thread between queueing a full buffer
 *   and clearing its slot has it in both places (the double free of
 *   issue 8), and their pages are copy-on-write: freeing would copy them.
 *
 * Exit: finish() runs once (exiting flag): the calling thread's exit is
 * recorded, then ctrace_stop writes every queued byte and closes the file.
 * Reached from atexit (exit, return from main), the library destructor,
 * the exit/_exit/_Exit interposers, and the finisher thread of a fatal
 * signal (crash.c).  Never in a vfork child, nor in a fork child that did
 * not start a trace of its own.
 *
 * exec: ct_before_exec finishes the file; ct_exec_failed goes on in a new
 * one (interposers only).
 *
 * Invariants:
 *  - The constructor never fails the program: any problem disables
 *    tracing and is reported once on stderr.
 *  - A forked child never writes into its parent's trace.
 *  - errno is preserved by every entry here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "env.h"
#include "flight.h"
#include "hooks.h"
#include "proc.h"
#include "say.h"
#include "libc.h"
#include "symbolize.h"
#include "thread.h"
#include "trace.h"

static char autostart_pattern[4096]; /* CTRACE_OUTPUT, or empty          */
static char autostart_path[4096];    /* the file it named, once started  */
static _Atomic int exiting;
static int autostarted;              /* this process traces to the pattern */
static _Atomic pid_t cached_pid;

/* The interposers' fork-child step, if they are linked in (shared library). */
void ct_interpose_atfork_child(void) __attribute__((weak));
/* Defined by the interposers: they install the fatal-signal stand-ins. */
extern const int ct_interposers_present __attribute__((weak));

pid_t ct_proc_raw_getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

pid_t ct_proc_pid(void)
{
    pid_t p = atomic_load_explicit(&cached_pid, memory_order_relaxed);
    if (__builtin_expect(p == 0, 0)) {
        p = ct_proc_raw_getpid(); /* first use: before any fork */
        atomic_store_explicit(&cached_pid, p, memory_order_relaxed);
    }
    return p;
}

/* Set, once, before the program enters a seccomp sandbox (1: strict mode,
 * this thread only; 2: a filter, maybe every thread): no trace starts
 * after that (ct_proc_before_start, the fork child, the exec wrappers'
 * environment). */
static _Atomic int sandboxed;

int ct_proc_in_vfork_child(void)
{
    /* In a sandbox nothing traces, so no trace of a parent is at stake,
     * and getpid may be a system call the sandbox kills for. */
    if (atomic_load(&sandboxed))
        return 0;
    int e = errno;
    int r = ct_proc_raw_getpid() != ct_proc_pid();
    errno = e;
    return r;
}

/* Starts the trace of this process to the pattern.  A pattern without
 * "%p" names one file for every process that inherits it; an exec'd image
 * is given an edited pattern by the exec wrappers, but a program started
 * by system() or posix_spawn (which never reach them), or any unrelated
 * process given the same CTRACE_OUTPUT, is not.  While another live trace
 * writes that file it is locked (writer.c: EBUSY), and this process writes
 * "<pattern>.<pid>" instead. */
static void autostart(void)
{
    const char *pattern = autostart_pattern;
    char own[sizeof autostart_pattern + 4];
    int r = ctrace_start_file(pattern);
    if (r == CTRACE_EOPEN && errno == EBUSY && !strstr(pattern, "%p") &&
        (size_t)snprintf(own, sizeof own, "%s.%%p", pattern) < sizeof own) {
        pattern = own;
        r = ctrace_start_file(pattern);
    }
    if (r != CTRACE_OK) {
        ct_say("ctrace: cannot trace to %s: %s%s%s\n", pattern,
               ctrace_strerror(r), r == CTRACE_EOPEN ? ": " : "",
               r == CTRACE_EOPEN ? strerror(errno) : "");
        return;
    }
    autostarted = 1;
    int e = errno;
    if (ct_expand_path(pattern, autostart_path, sizeof autostart_path) != 0)
        autostart_path[0] = 0;
    ct_symprep_start();
    errno = e;
}

/* "%p-K" in a pattern: this pid's image after K execs (the exec wrappers'
 * edit, src/interpose/process.c).  Returns where "-K" starts (NULL if
 * there is none) and K. */
static char *exec_suffix(char *pat, long *k)
{
    char *p = strstr(pat, "%p");
    if (!p || p[2] != '-' || p[3] < '0' || p[3] > '9')
        return NULL;
    char *end;
    *k = strtol(p + 3, &end, 10);
    (void)end;
    return p + 2;
}

/* This pid is at its first image: "%p-K" becomes "%p". */
static void drop_exec_suffix(void)
{
    long k;
    char *suffix = exec_suffix(autostart_pattern, &k);
    if (suffix) {
        size_t digits = strspn(suffix + 1, "0123456789");
        memmove(suffix, suffix + 1 + digits, strlen(suffix + 1 + digits) + 1);
    }
}

int ct_proc_exec_number(void)
{
    long k = 0;
    if (!autostart_pattern[0])
        return -1;
    return exec_suffix(autostart_pattern, &k) ? (int)k : 0;
}

/* Stops the trace, whichever started it, and returns ctrace_stop's code.
 * One started from CTRACE_OUTPUT (from_env) whose writing failed (a full
 * disk, a file size limit: the writer stopped tracing there, the program
 * went on) says so: the file is cut where the failure happened, and
 * nothing else would tell. */
static int stop_trace(int from_env)
{
    int r = ctrace_stop();
    if (r == CTRACE_EWRITE && from_env && autostart_path[0])
        ct_say("ctrace: writing the trace %s failed (%s): it ends where the failure happened "
               "(ctrace check says where)\n",
               autostart_path, strerror(errno));
    return r;
}

/* Set while this file starts the environment's trace or recorder, whose
 * starts must not yield to themselves (init and the fork child: one thread). */
static int starting_auto;

/* The configuration the program gave while the environment's trace ran:
 * the one of its own next trace (config.c), applied when that one ends. */
static ctrace_config deferred_cfg;
static int has_deferred_cfg;

int ct_proc_defer_config(const ctrace_config *cfg)
{
    if (!__atomic_load_n(&autostarted, __ATOMIC_ACQUIRE) && !ct_flight_is_auto())
        return 0;
    deferred_cfg = *cfg;
    __atomic_store_n(&has_deferred_cfg, 1, __ATOMIC_RELEASE);
    return 1;
}

/* Ends the trace the environment started (CTRACE_OUTPUT), if it runs:
 * 1 if it did. */
static int stop_env_trace(void)
{
    return __atomic_exchange_n(&autostarted, 0, __ATOMIC_ACQ_REL) && stop_trace(1) != CTRACE_ENOTRACING;
}

/* Ends any trace -- the environment's, else the program's own -- and any
 * recorder: 1 if one ended.  errno kept. */
static int stop_every_trace(void)
{
    int e = errno;
    int ended = stop_env_trace() || ctrace_stop() != CTRACE_ENOTRACING;
    ended |= ctrace_flight_stop() == CTRACE_OK;
    errno = e;
    return ended;
}

int ct_proc_before_start(void)
{
    if (atomic_load(&sandboxed)) {
        errno = EPERM;
        return CTRACE_ESYS;
    }
    if (starting_auto)
        return 0;
    int e = errno;
    int yielded = 0;
    if (stop_env_trace()) {
        yielded = 1;
        ct_say("ctrace: the program starts a trace of its own: the trace started from the "
               "environment (%s) ends here\n",
               autostart_path[0] ? autostart_path : autostart_pattern);
    } else if (ct_flight_stop_auto()) {
        yielded = 1;
        ct_say("ctrace: the program starts a trace of its own: the flight recorder started from "
               "the environment stops here (no snapshot after this)\n");
    }
    if (yielded && __atomic_exchange_n(&has_deferred_cfg, 0, __ATOMIC_ACQ_REL))
        (void)ctrace_configure(&deferred_cfg); /* tracing is off now */
    errno = e;
    return 0;
}

void ct_proc_enter_sandbox(const char *how, int every_thread)
{
    if (atomic_load(&sandboxed) || ct_proc_in_vfork_child())
        return;
    int was = 0;
    if (!atomic_compare_exchange_strong(&sandboxed, &was, every_thread ? 2 : 1))
        return;
    if (stop_every_trace())
        ct_say("ctrace: the program enters a seccomp sandbox (%s), where the tracer cannot make its "
               "system calls: the trace ends here\n", how);
}

/* Ends every trace and recorder, then the tracer threads that outlive
 * them, joined: after this no tracer thread is left.  1 if a trace or
 * recorder ended.  errno kept. */
static int end_tracer_threads(void)
{
    int ended = stop_every_trace();
    int e = errno;
    ct_crash_end_finisher();
    ct_symprep_end();
    errno = e;
    return ended;
}

void ct_proc_before_setxid(const char *fn)
{
    if (!ct_proc_in_vfork_child() && ct_tracer_creds_differ() && end_tracer_threads())
        ct_say("ctrace: the program calls %s after changing its own thread's capabilities "
               "(capset, prctl), which the tracer's threads do not share: glibc would abort it "
               "there, so the trace ends here\n", fn);
}

void ct_proc_before_single_threaded(const char *call)
{
    if (!ct_proc_in_vfork_child() && ct_tracer_thread_count() > 0 && end_tracer_threads())
        ct_say("ctrace: the program calls %s, which the kernel allows only a single-threaded "
               "process: the tracer's threads end here, and the trace with them\n", call);
}

int ct_proc_sandboxed(void)
{
    return atomic_load(&sandboxed);
}

static void atfork_prepare(void)
{
    ct_trace_atfork_prepare();
    ct_pid_atfork_prepare();
    ct_buf_atfork_prepare();
}

static void atfork_parent(void)
{
    ct_buf_atfork_parent();
    ct_pid_atfork_parent();
    ct_trace_atfork_parent();
}

static void atfork_child(void)
{
    int e = errno;
    atomic_store_explicit(&cached_pid, ct_proc_raw_getpid(), memory_order_relaxed);
    ct_buf_atfork_child();
    ct_pid_atfork_child();
    ct_fdguard_atfork_child();
    ct_cpuprof_atfork_child();
    ct_writer_forget();
    ct_symprep_atfork_child();
    ct_crash_atfork_child();
    ct_tracer_threads_atfork_child();
    ct_lastthread_atfork_child();
    if (ct_interpose_atfork_child)
        ct_interpose_atfork_child();
    int flight_again = ct_flight_atfork_child();
    ct_trace_atfork_child();
    atomic_store(&exiting, 0);
    autostarted = 0;
    /* A new pid: its first image, whatever number of execs this one had
     * ("x.%p-2.trace" names the fork child's file "x.CHILD.trace"). */
    drop_exec_suffix();
    starting_auto = 1;
    if (!atomic_load(&sandboxed)) { /* a sandbox is inherited: no trace */
        if (autostart_pattern[0] && strstr(autostart_pattern, "%p"))
            autostart();
        if (flight_again)
            ct_flight_autostart();
    }
    starting_auto = 0;
    errno = e;
}

/* Finishes the trace at process exit.  A second caller (another thread
 * exiting, the finisher of a fatal signal) waits until the first is done:
 * returning earlier would let the process end in the middle of the file.
 *
 * The signals another process sends to end this one (CT_SENT_SIGNALS,
 * proc.h: HUP, INT, TERM, PIPE, QUIT, USR1, ALRM ...) are blocked on the finishing thread meanwhile, and delivered
 * when it is done: finishing takes longer than an exit without ctrace
 * (the last generation is written and symbolized), and a SIGTERM landing
 * in it -- a pool's parent terminating workers that are already exiting,
 * as Python's multiprocessing does -- took the fatal-signal path, which
 * from inside the tracer can only cut the file back to its last complete
 * generation: the header alone, for a short-lived worker. */
static void finish(void)
{
    if (ct_proc_in_vfork_child())
        return;
    ct_flight_before_exit(); /* a snapshot asked for just before */
    if (!ct_writer_active())
        return;
    int e = errno;
    if (atomic_exchange(&exiting, 1)) {
        while (atomic_load(&exiting) == 1) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        errno = e;
        return;
    }
    static const int sent_sigs[] = {CT_SENT_SIGNALS};
    sigset_t sent, old;
    sigemptyset(&sent);
    for (unsigned i = 0; i < sizeof sent_sigs / sizeof sent_sigs[0]; i++)
        sigaddset(&sent, sent_sigs[i]);
    int masked = pthread_sigmask(SIG_BLOCK, &sent, &old) == 0;
    /* The calling thread ends with the process: record it.  A thread
     * adopted at trace start that never called an interposer since (a
     * program that only computes, then exits) has no record bound to it
     * yet: binding takes that record over, so its end is written at the
     * exit instead of the thread being left running past the trace's last
     * event.  On a tracer thread (the finisher of a fatal signal) this
     * binds nothing. */
    if (CT_ENABLED())
        (void)ct_thread_self();
    ct_thread_exit();
    stop_trace(autostarted);
    atomic_store(&exiting, 2);
    if (masked)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
}

static void init_once(void)
{
    int e = errno;
    ct_say_init();
    (void)ct_proc_pid();
    ct_clock_init();
    if (!ct_rt.configured)
        ctrace_config_init(&ct_rt.cfg);
    ct_symbolizer_read_env();
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    atexit(finish);
    if (!&ct_interposers_present)
        ct_crash_install_handlers();
    errno = e;
}

void ct_lifecycle_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

__attribute__((constructor(110))) static void ctrace_init(void)
{
    int e = errno;
    ct_lifecycle_init();
    const char *out = ct_env()->output; /* CTRACE_OUTPUT (env.h) */
    if (out && *out) {
        snprintf(autostart_pattern, sizeof autostart_pattern, "%s", out);
        /* "%p-K" was written for the images of CTRACE_EXEC_PID; another
         * process (started by posix_spawn, system, a vfork child's exec)
         * is at its own first image. */
        const char *exec_pid = getenv("CTRACE_EXEC_PID");
        if (exec_pid && atol(exec_pid) != (long)ct_proc_pid())
            drop_exec_suffix();
        starting_auto = 1;
        autostart();
    }
    starting_auto = 1;
    ct_flight_autostart(); /* CTRACE_FLIGHT (ctrace run --flight) */
    starting_auto = 0;
    errno = e;
}

/* dlclose of the shared library, or an exit path that skipped atexit. */
__attribute__((destructor)) static void ctrace_fini(void)
{
    finish();
}

void ct_before_exec(void)
{
    /* A vfork child shares our memory: it must not touch the trace. */
    if (ct_proc_in_vfork_child() || !ct_writer_active())
        return;
    int e = errno;
    stop_trace(autostarted);
    errno = e;
}

void ct_exec_failed(void)
{
    if (ct_proc_in_vfork_child() || !autostarted || ct_writer_active())
        return;
    int e = errno;
    /* The trace file was finished; go on in a new one so the old is kept. */
    char pat[4200];
    static int n;
    snprintf(pat, sizeof pat, "%s.%d", autostart_pattern, ++n);
    starting_auto = 1;
    int r = ctrace_start_file(pat);
    starting_auto = 0;
    (void)r;
    errno = e;
}

void ct_process_exit(void)
{
    finish();
}
