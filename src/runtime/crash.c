/*
 * crash.c - the fatal-signal path: a process that dies of a signal
 * (one sent, as SIGTERM/INT/HUP/PIPE/QUIT/USR1/ALRM ..., with its default
 * action, or a crash: SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
 * SIGSYS; the list is CT_FATAL_SIGNALS, proc.h) leaves a trace
 * that ends at a generation boundary, and still dies of that signal.
 *
 * Who calls it: the shared library's stand-in handlers for SIG_DFL
 * (src/interpose/signal.c, which keeps the program's own handlers exactly
 * as it set them), or in the static library the handlers installed here at
 * initialization for signals whose disposition was SIG_DFL.  Either
 * handler calls ct_crash_fatal_signal, then restores SIG_DFL and re-raises.
 *
 * Order, in the handler (async-signal-safe: atomics, futex, write-free
 * syscalls; no pthread mutex, no malloc, no libdw):
 *   1. The first fatal signal claims the path (fatal_tid, compare-and-
 *      swap).  A later one on another thread waits (bounded) for the first
 *      to finish; one on the finisher thread itself, or a second fault on
 *      the claiming thread, goes straight to step 3.
 *   2. Unless the signalled thread is inside the tracer (it may hold a
 *      tracer lock, or be mid-event so the last generation can never be
 *      flushed), the full finish is handed to the finisher: a tracer thread
 *      started with the trace, blocked in a futex wait.  It runs the normal
 *      exit path (proc.c: ctrace_stop -- locks, joins, malloc and libdw are
 *      fine on that thread) while the handler waits at most FINISH_WAIT_S
 *      -- also when the finisher was started but has not run yet: it
 *      reads the request before its first wait.  Done: the file is
 *      complete; return.
 *   3. Fallback (in the tracer, timed out -- e.g. the dying thread held a
 *      malloc lock -- or no finisher): close the write gate so the writer
 *      starts no new write, wait (bounded) for a write in progress, then
 *      ftruncate the file to the end of its last complete generation, which
 *      the writer records after each generation's last batch.  At most the
 *      generations not yet written are lost, as after SIGKILL, but the file
 *      is one both Go parsers accept -- if it has a complete generation at
 *      all: a cut within the first one leaves the header only.
 *
 * Invariants:
 *  - The handler never blocks without a bound: every wait has a deadline.
 *  - The finisher blocks every signal but the synchronous crash signals, so
 *    a fault while finishing (a corrupt heap) reaches this path on the
 *    finisher and takes the fallback instead of hanging the handler.
 *  - A write to the trace fd happens only between ct_crash_write_begin and
 *    ct_crash_write_end; once the gate is closed no write begins (Dekker:
 *    writer increments, then reads the gate; the handler closes, then reads
 *    the count; both sequentially consistent).
 *  - Fork child: no finisher, gate open, no output (ct_crash_atfork_child).
 *  - The flight recorder's crash snapshot (flight_crash.c) is written
 *    first, by ct_flight_crash, from the same handler.
 *
 * The program's own handler of a crash signal (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT; the shared library only: its sigaction interposer
 * calls the handler through a wrapper, src/interpose/signal.c).  A
 * thread-local chain of frames, one per such handler running on the
 * thread (the frame lives on the wrapper's stack), says "this thread is
 * in the program's handler of signal S, siginfo I, context C".  While a
 * frame is live, a fatal signal reaching the path (abort() in it, a raise
 * with SA_NODEFER) or exit/_exit/_Exit (ct_crash_exit_in_handler, from
 * the interposers) runs the path for S, I and C: the snapshot names the
 * original crash, at its stack, and says what followed ("then SIGABRT",
 * "then _exit(3)").  The wrapper, when the handler returns with SIG_DFL
 * back and the signal coming again, notes S, I and the PC of C ("dying"):
 * the signal that then reaches the path at that PC (a repeated fault, the
 * re-raise delivered on return) is reported as the original.
 *  - A frame is live only while the stack pointer is below it (the handler
 *    and what it calls run deeper, on the same stack), and the longjmp
 *    interposers clear the chain: a frame left by a jump out is never
 *    taken for a live one.  A handler that returns or jumps out leaves
 *    nothing behind but the "dying" note, which only a signal at the same
 *    PC uses.
 *  - Thread-local, initial-exec: read and written from signal handlers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "flight.h"
#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "thread.h"
#include "trace.h"
#include "sigtext.h"
#include "unwind.h"

#define FINISH_WAIT_S 10     /* how long a dying thread waits for the finish */
#define WRITE_WAIT_MS 2000   /* how long it waits for a write in progress    */

/* Output of the writer-level trace (writer.c). */
static _Atomic int out_fd = -1;
static _Atomic int out_guarded;             /* fd is fdguard's: ask it       */
static _Atomic long long complete_end = -1; /* offset after the last complete generation */
static _Atomic int traced;                  /* a writer-level trace is on    */

/* The write gate. */
static _Atomic int gate_closed;
static _Atomic int writers;

/* The finisher. */
static _Atomic int fin_started;
static _Atomic int fin_quit;     /* ct_crash_end_finisher asks it to end */
static pthread_t fin_thread;     /* joinable: ct_crash_end_finisher     */
static _Atomic pid_t fin_tid;
static _Atomic uint32_t fin_req;
static _Atomic uint32_t fin_done;
static _Atomic pid_t fatal_tid;

static pid_t gettid_raw(void)
{
    return (pid_t)syscall(SYS_gettid);
}


static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    return (long long)(ct_mono_ns() / 1000000u);
}

/* ---- writer side ---- */

int ct_crash_write_begin(void)
{
    atomic_fetch_add(&writers, 1);
    if (atomic_load(&gate_closed)) {
        atomic_fetch_sub(&writers, 1);
        return 0;
    }
    return 1;
}

void ct_crash_write_end(void)
{
    atomic_fetch_sub(&writers, 1);
}

void ct_crash_set_output(int fd, int guarded, long long start)
{
    atomic_store(&complete_end, -1);
    atomic_store(&out_guarded, guarded);
    atomic_store(&out_fd, fd);
    atomic_store(&complete_end, fd >= 0 ? start : -1);
    if (fd < 0)
        atomic_store(&traced, 0);
}

void ct_crash_note_complete(long long end)
{
    atomic_store(&complete_end, end);
}

/* ---- the fallback: cut the file at its last complete generation ---- */

static void cut_file(void)
{
    atomic_store(&gate_closed, 1);
    for (int i = 0; i < WRITE_WAIT_MS && atomic_load(&writers) > 0; i++)
        sleep_ms(1);
    int fd = atomic_load(&out_guarded) ? ct_fdguard_current() : atomic_load(&out_fd);
    long long end = atomic_load(&complete_end);
    if (fd < 0 || end < 0)
        return;
    int e = errno;
    syscall(SYS_ftruncate, fd, (off_t)end);
    errno = e;
}

/* ---- the finisher ---- */

static void *finisher_main(void *arg)
{
    (void)arg;
    sigset_t faults;
    sigemptyset(&faults);
    int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
        sigaddset(&faults, sync_sigs[i]);
    pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
    atomic_store(&fin_tid, gettid_raw());
    /* Woken by a fatal signal; once a second, the main thread's end
     * without pthread_exit is looked for (lastthread.c) -- not under a
     * seccomp filter that may confine this thread: a system call fewer. */
    while (!atomic_load(&fin_req)) {
        if (atomic_load(&fin_quit)) {
            atomic_store(&fin_tid, 0);
            return NULL; /* ct_crash_end_finisher joins it */
        }
        ct_libc_futex_wait(&fin_req, 0, ct_proc_sandboxed() == 2 ? -1 : 1000);
        if (!atomic_load(&fin_req) && !atomic_load(&fin_quit))
            ct_lastthread_poll();
    }
    ct_process_exit();
    atomic_store(&fin_done, 1);
    ct_libc_futex_wake(&fin_done);
    for (;;)
        pause(); /* the process is about to die */
    return NULL;
}

void ct_crash_trace_started(void)
{
    atomic_store(&traced, 1);
    if (atomic_exchange(&fin_started, 1))
        return;
    int e = errno;
    if (ct_start_internal_thread(&fin_thread, finisher_main, NULL) != 0)
        atomic_store(&fin_started, 0);
    errno = e;
}

/* The finisher ends (when no fatal signal has asked for it) and is
 * joined: the next trace starts another. */
void ct_crash_end_finisher(void)
{
    if (!atomic_load(&fin_started) || atomic_load(&fin_req))
        return;
    atomic_store(&fin_quit, 1);
    ct_libc_futex_wake(&fin_req);
    ct_join_internal_thread(fin_thread);
    atomic_store(&fin_quit, 0);
    atomic_store(&fin_started, 0);
}

void ct_crash_atfork_child(void)
{
    atomic_store(&out_fd, -1);
    atomic_store(&out_guarded, 0);
    atomic_store(&complete_end, -1);
    atomic_store(&traced, 0);
    atomic_store(&gate_closed, 0);
    atomic_store(&writers, 0);
    atomic_store(&fin_started, 0);
    atomic_store(&fin_quit, 0);
    atomic_store(&fin_tid, 0);
    atomic_store(&fin_req, 0);
    atomic_store(&fin_done, 0);
    atomic_store(&fatal_tid, 0);
}

/* Waits for the finisher, at most FINISH_WAIT_S.  1 if it finished. */
static int wait_finished(void)
{
    long long deadline = now_ms() + FINISH_WAIT_S * 1000LL;
    while (!atomic_load(&fin_done)) {
        if (now_ms() >= deadline)
            return 0;
        ct_libc_futex_wait(&fin_done, 0, 100);
    }
    return 1;
}

/* ---- the program's own handler of a fatal signal ---- */

/* The innermost program handler of a fatal signal this thread is in (a
 * chain of frames on the stack), and the last one that returned dying. */
static __thread struct ct_fatal_frame *handler_top __attribute__((tls_model("initial-exec")));
static __thread struct {
    int sig, code;
    pid_t pid;
    void *addr;
    uintptr_t pc;
} dying __attribute__((tls_model("initial-exec")));

/* The interrupted PC of a signal context (0: none). */
static uintptr_t context_pc(const void *uc)
{
    uintptr_t pc = 0;
    if (uc && ct_unwind_from_ucontext_checked((const ucontext_t *)uc, &pc, 1) != 1)
        pc = 0;
    return pc;
}

/* The frame of the program's handler this thread is in, if any.  A frame
 * is live only while the stack pointer is below it (the handler, and all
 * it calls, run deeper on the same stack): this also drops a frame left
 * by a way out of the handler that jumped() did not see. */
static struct ct_fatal_frame *current_frame(void)
{
    struct ct_fatal_frame *f = handler_top;
    char here;
    if (f && (uintptr_t)&here < (uintptr_t)f)
        return f;
    return NULL;
}

void ct_crash_handler_enter(struct ct_fatal_frame *f, int sig, const siginfo_t *si, const void *uc)
{
    f->sig = sig;
    f->si = si;
    f->uc = uc;
    struct ct_fatal_frame *top = handler_top;
    f->prev = top && (uintptr_t)top > (uintptr_t)f ? top : NULL; /* deeper: stale */
    atomic_signal_fence(memory_order_seq_cst);
    handler_top = f;
    atomic_signal_fence(memory_order_seq_cst);
}

void ct_crash_handler_leave(struct ct_fatal_frame *f, int is_dying)
{
    if (is_dying) {
        dying.sig = f->sig;
        dying.code = f->si ? f->si->si_code : 0;
        dying.pid = f->si ? f->si->si_pid : 0;
        dying.addr = f->si ? f->si->si_addr : NULL;
        dying.pc = context_pc(f->uc);
    }
    atomic_signal_fence(memory_order_seq_cst);
    handler_top = f->prev;
    atomic_signal_fence(memory_order_seq_cst);
}

void ct_crash_handler_jumped(void)
{
    handler_top = NULL;
}

static void fatal_path(int sig, const siginfo_t *si, const void *uc, const char *then);

int ct_crash_exit_in_handler(const char *how, int status)
{
    struct ct_fatal_frame *f = current_frame();
    if (!f)
        return 0;
    char then[32];
    struct ct_text t = {then, then + sizeof then - 1};
    ct_text_str(&t, how); /* "_exit(3)": the status the parent sees */
    ct_text_str(&t, "(");
    ct_text_num(&t, (unsigned)status & 0xff, 10);
    ct_text_str(&t, ")");
    *t.p = 0;
    fatal_path(f->sig, f->si, f->uc, then);
    return 1;
}

void ct_crash_fatal_signal(int sig, const siginfo_t *si, const void *uc)
{
    /* The crash is the original one when this signal comes from the
     * program's own handler of a fatal signal (abort() or a raise in it),
     * or after it returned dying: the same signal again, at the same PC
     * (a repeated fault, or the re-raise delivered on its return). */
    char then[64];
    struct ct_fatal_frame *f = current_frame();
    if (f) {
        struct ct_text t = {then, then + sizeof then - 1};
        ct_text_signal(&t, sig);
        *t.p = 0;
        fatal_path(f->sig, f->si, f->uc, then);
        return;
    }
    if (dying.sig == sig && dying.pc && context_pc(uc) == dying.pc) {
        siginfo_t orig;
        memset(&orig, 0, sizeof orig);
        orig.si_signo = sig;
        orig.si_code = dying.code;
        if (dying.code > 0) /* si_addr and si_pid share a union */
            orig.si_addr = dying.addr;
        else
            orig.si_pid = dying.pid;
        dying.sig = 0;
        fatal_path(sig, &orig, uc, "the program's handler restored SIG_DFL");
        return;
    }
    fatal_path(sig, si, uc, NULL);
}

static void fatal_path(int sig, const siginfo_t *si, const void *uc, const char *then)
{
    int e = errno;
    /* The flight recorder writes its crash snapshot first (flight_crash.c):
     * its trace has no file to finish. */
    ct_flight_crash(sig, si, uc, then);
    if (!atomic_load(&traced) || ct_proc_in_vfork_child()) {
        errno = e;
        return;
    }
    pid_t me = gettid_raw();
    pid_t owner = 0;
    if (!atomic_compare_exchange_strong(&fatal_tid, &owner, me)) {
        /* Another fatal signal is being handled.  On the finisher (it
         * faulted while finishing) or on the same thread (a fault in this
         * path), the full finish cannot complete: cut.  Elsewhere, wait
         * for the first one's outcome. */
        if (me == atomic_load(&fin_tid) || owner == me || !wait_finished())
            cut_file();
        errno = e;
        return;
    }
    /* A finisher started but not yet run (a crash right after the trace
     * began, on a loaded machine) sees the request when it runs: waiting
     * for it is right; cutting left the header alone.  Its tid is 0 until
     * then, and this thread is not it. */
    pid_t fin = atomic_load(&fin_tid);
    if (atomic_load(&fin_started) && fin != me && !ct_in_tracer()) {
        atomic_store(&fin_req, 1);
        ct_libc_futex_wake(&fin_req);
        if (wait_finished()) {
            errno = e;
            return;
        }
    }
    cut_file();
    errno = e;
}

/* ---- handlers of the static library (no interposers) ---- */

static const int fatal_sigs[] = {CT_FATAL_SIGNALS};

static int is_fault(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
}

static void set_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    ct_libc_sigaction(sig, &dfl, NULL);
}

static void unblock(int sig)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

static void crash_handler(int sig, siginfo_t *si, void *uc)
{
    int e = errno;
    if (ct_flight_take_signal(sig)) { /* the recorder's snapshot signal */
        errno = e;
        return;
    }
    /* A fault raised by the CPU keeps our handler while the trace is
     * finished (a fault on the finisher then reaches us, see above); a
     * signal sent (kill, raise, abort) gets its default action back first,
     * so sending it again kills at once. */
    int fault = is_fault(sig) && si && si->si_code > 0;
    if (!fault) {
        set_default(sig);
        unblock(sig);
    }
    ct_crash_fatal_signal(sig, si, uc);
    if (fault) {
        set_default(sig);
        unblock(sig);
    }
    syscall(SYS_tgkill, ct_proc_raw_getpid(), gettid_raw(), sig);
    errno = e; /* still alive: a handler was installed meanwhile */
}

void ct_crash_install_handlers(void)
{
    for (unsigned i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++) {
        struct sigaction cur, sa;
        if (ct_libc_sigaction(fatal_sigs[i], NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != SIG_DFL)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = crash_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        ct_libc_sigaction(fatal_sigs[i], &sa, NULL);
    }
}
