/*
 * signal.c - a process killed by a signal whose disposition is the default
 * still leaves a trace Go's parser reads, and still dies of that signal.
 * Managed: every signal whose default action ends the process
 * (CT_FATAL_SIGNALS, proc.h): those sent -- SIGHUP, SIGINT, SIGTERM,
 * SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM (alarm, setitimer),
 * SIGVTALRM, SIGXCPU and SIGXFSZ (resource limits), SIGIO, SIGPWR,
 * SIGSTKFLT -- and the crashes SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
 * (abort, a failed assert), SIGTRAP, SIGSYS.  Not SIGPROF (the CPU
 * profiler's, below) nor the real-time signals.  The flight recorder's
 * snapshot signal (SIGUSR2 unless configured otherwise), while the
 * recorder runs, takes a snapshot instead (ct_flight_take_signal).
 *
 * How: at load, for each of those signals whose disposition is SIG_DFL
 * (not SIG_IGN: nohup, background jobs keep theirs), we install our own
 * handler.  On delivery it runs the runtime's fatal-signal path
 * (ct_crash_fatal_signal, src/runtime/crash.c: async-signal-safe; the
 * trace is finished by a tracer thread, or cut at its last complete
 * generation), restores SIG_DFL and re-raises the signal, so the process
 * dies of the same signal, with the same wait status and core dump.
 *
 * The program must not notice.  sigaction, signal, bsd_signal, sysv_signal
 * and __sysv_signal are interposed for those signals:
 *  - setting SIG_DFL keeps (or reinstalls) our handler, and we remember the
 *    mask and flags the program passed;
 *  - setting SIG_IGN, or a handler of a signal that is not a crash signal,
 *    installs it for real (we step aside).
 *  - setting a handler of SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT
 *    installs ct_wrap_handler in its place, with the program's mask and
 *    flags (SA_SIGINFO added): it calls the program's handler, which runs
 *    as without ctrace, inside a frame of the runtime's chain (crash.c,
 *    "the program's own handler"), so a handler that ends the process --
 *    exit/_exit (process.c), abort(), a raise, or SIG_DFL restored and
 *    the signal coming again -- is reported as the original crash, and a
 *    handler that fixes the fault and returns, or jumps out, costs a
 *    frame push and pop.  SA_RESETHAND: the kernel resets the action on
 *    delivery; the wrapper then puts our stand-in there (ct_reset_hand).
 *    longjmp, _longjmp, siglongjmp and __longjmp_chk are interposed to
 *    drop the thread's frames.
 *  - querying reports SIG_DFL (with the remembered mask and flags) while our
 *    handler stands in for it, and exactly the program's action while our
 *    wrapper stands in for its handler.
 * Not covered: the raw rt_sigaction syscall and /proc/self/status (SigCgt)
 * show our handler (or wrapper); abort() with a program SIGABRT handler that returns
 * resets SIG_DFL inside libc (not through sigaction), so that death is not
 * seen.  exec resets caught signals to SIG_DFL, which is what the program
 * believed anyway; the next image installs its own stand-in.
 *
 * Invariants:
 *  - The bookkeeping is updated with every signal blocked and a spin lock
 *    held, so a handler that calls sigaction cannot deadlock against the
 *    thread it interrupted, and two threads cannot interleave updates.
 *    A fork child frees the lock (ct_interpose_atfork_child, called by the
 *    runtime's one fork-child handler): another thread may have held it.
 *  - A signal that was sent (kill, raise, abort: si_code <= 0) gets SIG_DFL
 *    back and is unblocked before the trace is finished, so a repeated
 *    signal kills at once.  A fault raised by the CPU keeps our handler
 *    until the finish is over (crash.c explains why), then SIG_DFL.
 *  - The handler preserves errno; it does nothing to the trace in a vfork
 *    child (not our trace).
 *  - SIGPROF: while the runtime's CPU profiler has its handler installed,
 *    sigaction and the signal() family for SIGPROF go to ct_sigprof_action:
 *    the program's handler becomes the one the profiler forwards the
 *    program's own SIGPROFs to, and queries report it (docs/RUN.md).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "flight.h"
#include "interpose.h"
#include "proc.h"
#include "spinlock.h"

CT_REAL_DECL(int, sigaction, (int, const struct sigaction *, struct sigaction *));
CT_REAL_DECL(sighandler_t, signal, (int, sighandler_t));
CT_REAL_DECL(sighandler_t, sysv_signal, (int, sighandler_t));

static const int ct_managed[] = {CT_FATAL_SIGNALS};
#define CT_NMANAGED (sizeof ct_managed / sizeof ct_managed[0])

/* Per managed signal: is our handler standing in for the program's
 * SIG_DFL, and what SIG_DFL action did the program last set or have.
 * For a crash signal (ct_wraps): is our wrapper standing in for the
 * program's handler, the action the program set (what queries report),
 * and its handler and flags, which the wrapper reads without the lock
 * (the last handler the program set stays there: a delivery racing with
 * a change calls the one it was delivered for or the next). */
static int ct_owned[CT_NMANAGED];
static struct sigaction ct_dfl_act[CT_NMANAGED];
static int ct_wrapped[CT_NMANAGED];
static struct sigaction ct_prog_act[CT_NMANAGED];
typedef void (*ct_handler_fn)(int, siginfo_t *, void *);
static ct_handler_fn ct_prog_fn[CT_NMANAGED];
static int ct_prog_flags[CT_NMANAGED];
static ct_spinlock ct_sig_lock = CT_SPINLOCK_INIT;

static int ct_slot(int sig)
{
    for (unsigned i = 0; i < CT_NMANAGED; i++)
        if (ct_managed[i] == sig)
            return (int)i;
    return -1;
}

static int ct_real_sigaction_call(int sig, const struct sigaction *a, struct sigaction *o)
{
    CT_REAL(sigaction);
    if (CT_LIKELY(ct_real_sigaction != NULL))
        return ct_real_sigaction(sig, a, o);
    errno = ENOSYS; /* only inside dlsym; it never touches signals */
    return -1;
}

static void ct_lock(sigset_t *old)
{
    ct_spin_lock(&ct_sig_lock, old);
}

static void ct_unlock(const sigset_t *old)
{
    ct_spin_unlock(&ct_sig_lock, old);
}

static void ct_set_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    ct_real_sigaction_call(sig, &dfl, NULL);
    int i = ct_slot(sig);
    if (i >= 0)
        __atomic_store_n(&ct_owned[i], 0, __ATOMIC_RELAXED);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &one, NULL, (size_t)(_NSIG / 8));
}

static int ct_is_fault(int sig, const siginfo_t *si)
{
    return (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) &&
           si && si->si_code > 0;
}

static void ct_fatal_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (ct_flight_take_signal(sig)) { /* the recorder's snapshot signal */
        errno = saved;
        return;
    }
    /* Sent signals: default action back first, and the signal let through:
     * should finishing the trace ever take long, the same signal sent again
     * (a second Ctrl-C, systemd's follow-up) kills at once, as without
     * ctrace. */
    int fault = ct_is_fault(sig, si);
    if (!fault)
        ct_set_default(sig);
    ct_crash_fatal_signal(sig, si, uc);
    if (fault)
        ct_set_default(sig);
    /* Re-raise on this thread: it is unblocked and at SIG_DFL, so the
     * default action (termination) happens now. */
    syscall(SYS_tgkill, ct_raw_getpid(), syscall(SYS_gettid), sig);
    /* Still alive: someone installed a handler meanwhile; carry on. */
    errno = saved;
}

static int ct_is_default(const struct sigaction *a)
{
    return a->sa_handler == SIG_DFL; /* SIG_DFL is 0 in either union member */
}

/* The crash signals whose handlers the program sets are wrapped. */
static int ct_wraps(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT;
}

static void ct_our_action(struct sigaction *a)
{
    memset(a, 0, sizeof *a);
    a->sa_sigaction = ct_fatal_handler;
    sigemptyset(&a->sa_mask);
    a->sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
}

/* The kernel reset the action of an SA_RESETHAND handler to SIG_DFL on
 * this delivery: the program's SIG_DFL gets our stand-in, as when it sets
 * SIG_DFL itself, and queries report what the kernel left (the handler
 * SIG_DFL, the flags and mask kept). */
static void ct_reset_hand(int i, int sig)
{
    sigset_t mask;
    struct sigaction cur, ours;
    ct_lock(&mask);
    if (ct_wrapped[i] && ct_real_sigaction_call(sig, NULL, &cur) == 0 && ct_is_default(&cur)) {
        ct_our_action(&ours);
        if (ct_real_sigaction_call(sig, &ours, NULL) == 0) {
            ct_dfl_act[i] = ct_prog_act[i];
            ct_dfl_act[i].sa_handler = SIG_DFL;
            ct_wrapped[i] = 0;
            __atomic_store_n(&ct_owned[i], 1, __ATOMIC_RELAXED);
        }
    }
    ct_unlock(&mask);
}

/* After the program's handler returned: is the process dying of sig?  Its
 * default action is back (the program set SIG_DFL, or SA_RESETHAND), and
 * the signal comes again: a fault repeats at the same instruction, a
 * signal raised meanwhile is pending (blocked while the handler ran). */
static int ct_dies_after_return(int i, int sig, const siginfo_t *si)
{
    if (!__atomic_load_n(&ct_owned[i], __ATOMIC_RELAXED))
        return 0;
    if (ct_is_fault(sig, si))
        return 1;
    sigset_t pending;
    sigemptyset(&pending);
    if (syscall(SYS_rt_sigpending, &pending, (size_t)(_NSIG / 8)) != 0)
        return 0;
    return sigismember(&pending, sig) == 1;
}

/* The program's handler of a crash signal, as installed: the runtime
 * knows, while it runs, that this thread is in the program's handler of
 * that fatal signal (crash.c), so a death from inside it (exit, _exit,
 * abort, a raise) or right after it is reported as that crash.  The call
 * passes (sig, siginfo, context) whatever the program's SA_SIGINFO: a
 * one-argument handler ignores the rest, as the kernel's own call does. */
static void ct_wrap_handler(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    int i = ct_slot(sig);
    ct_handler_fn fn = __atomic_load_n(&ct_prog_fn[i], __ATOMIC_RELAXED);
    if (__atomic_load_n(&ct_prog_flags[i], __ATOMIC_RELAXED) & SA_RESETHAND)
        ct_reset_hand(i, sig);
    struct ct_fatal_frame f;
    ct_crash_handler_enter(&f, sig, si, uc);
    errno = saved;
    if ((uintptr_t)fn > (uintptr_t)SIG_IGN)
        fn(sig, si, uc);
    saved = errno;
    ct_crash_handler_leave(&f, ct_dies_after_return(i, sig, si));
    errno = saved;
}

/* Fork child (the runtime's one fork-child handler): the lock may have
 * been held by a thread that does not exist here. */
void ct_interpose_atfork_child(void)
{
    ct_spin_reset(&ct_sig_lock);
}

/* Installs the wrapper for the program's handler act of a crash signal. */
static int ct_install_wrapper(int i, int sig, const struct sigaction *act, struct sigaction *prev)
{
    ct_handler_fn fn0 = ct_prog_fn[i];
    int flags0 = ct_prog_flags[i];
    struct sigaction w = *act;
    w.sa_sigaction = ct_wrap_handler;
    w.sa_flags |= SA_SIGINFO;
    /* Published before the wrapper can run for them. */
    __atomic_store_n(&ct_prog_fn[i], (ct_handler_fn)act->sa_sigaction, __ATOMIC_RELAXED);
    __atomic_store_n(&ct_prog_flags[i], act->sa_flags, __ATOMIC_RELAXED);
    int r = ct_real_sigaction_call(sig, &w, prev);
    if (r != 0) {
        __atomic_store_n(&ct_prog_fn[i], fn0, __ATOMIC_RELAXED);
        __atomic_store_n(&ct_prog_flags[i], flags0, __ATOMIC_RELAXED);
    }
    return r;
}

/* sigaction for a managed signal (slot i). */
static int ct_managed_sigaction(int i, int sig, const struct sigaction *act, struct sigaction *old)
{
    sigset_t mask;
    struct sigaction prev, ours;
    int r = 0;
    ct_lock(&mask);
    int was_owned = ct_owned[i], was_wrapped = ct_wrapped[i];
    struct sigaction was_dfl = ct_dfl_act[i], was_prog = ct_prog_act[i];
    if (act) {
        if (ct_is_default(act)) {
            if (!was_owned) {
                ct_our_action(&ours);
                r = ct_real_sigaction_call(sig, &ours, &prev);
            }
            if (r == 0) {
                __atomic_store_n(&ct_owned[i], 1, __ATOMIC_RELAXED);
                ct_wrapped[i] = 0;
                ct_dfl_act[i] = *act;
            }
        } else if (ct_wraps(sig) && act->sa_handler != SIG_IGN) {
            r = ct_install_wrapper(i, sig, act, &prev);
            if (r == 0) {
                __atomic_store_n(&ct_owned[i], 0, __ATOMIC_RELAXED);
                ct_wrapped[i] = 1;
                ct_prog_act[i] = *act;
            }
        } else {
            r = ct_real_sigaction_call(sig, act, &prev);
            if (r == 0) {
                __atomic_store_n(&ct_owned[i], 0, __ATOMIC_RELAXED);
                ct_wrapped[i] = 0;
            }
        }
    } else if (!was_owned && !was_wrapped) {
        r = ct_real_sigaction_call(sig, NULL, &prev);
    }
    int e = errno;
    ct_unlock(&mask);
    if (r == 0 && old)
        *old = was_owned ? was_dfl : was_wrapped ? was_prog : prev;
    errno = e;
    return r;
}

/* Every sigaction of the program, by signal. */
static int ct_sigaction_any(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (CT_UNLIKELY(sig == SIGPROF) && ct_real_sigaction != NULL)
        return ct_sigprof_action(act, old);
    int i = ct_slot(sig);
    if (CT_LIKELY(i < 0))
        return ct_real_sigaction_call(sig, act, old);
    return ct_managed_sigaction(i, sig, act, old);
}

CT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return ct_sigaction_any(sig, act, old);
}

CT_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return sigaction(sig, act, old);
}

/* signal() family for a managed signal or SIGPROF: glibc's own
 * definitions, expressed through our sigaction. */
static sighandler_t ct_emulated_signal(int sig, sighandler_t h, int flags, int mask_self)
{
    struct sigaction a, o;
    if (h == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    memset(&a, 0, sizeof a);
    a.sa_handler = h;
    sigemptyset(&a.sa_mask);
    if (mask_self)
        sigaddset(&a.sa_mask, sig);
    a.sa_flags = flags;
    if (ct_sigaction_any(sig, &a, &o) != 0)
        return SIG_ERR;
    return o.sa_handler;
}

CT_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
    if (CT_LIKELY(ct_slot(sig) < 0 && sig != SIGPROF)) {
        CT_REAL(signal);
        if (CT_UNLIKELY(!ct_real_signal)) {
            errno = ENOSYS;
            return SIG_ERR;
        }
        return ct_real_signal(sig, h);
    }
    return ct_emulated_signal(sig, h, SA_RESTART, 1); /* BSD semantics, as glibc */
}

CT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
    return signal(sig, h);
}

CT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
    if (CT_LIKELY(ct_slot(sig) < 0 && sig != SIGPROF)) {
        CT_REAL(sysv_signal);
        if (CT_UNLIKELY(!ct_real_sysv_signal)) {
            errno = ENOSYS;
            return SIG_ERR;
        }
        return ct_real_sysv_signal(sig, h);
    }
    return ct_emulated_signal(sig, h, SA_RESETHAND | SA_NODEFER, 0);
}

CT_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
    return sysv_signal(sig, h);
}

/* longjmp and its kin leave a handler without returning from it: the
 * runtime forgets this thread's handler frames (a jump out of the program's
 * crash handler, the way a SIGSEGV-using program resumes).  A jump that
 * stays inside the handler forgets them too: a death after it is then not
 * reported as that crash. */
CT_REAL_DECL(void, longjmp, (struct __jmp_buf_tag *, int));
CT_REAL_DECL(void, _longjmp, (struct __jmp_buf_tag *, int));
CT_REAL_DECL(void, siglongjmp, (struct __jmp_buf_tag *, int));
CT_REAL_DECL(void, __longjmp_chk, (struct __jmp_buf_tag *, int));

#define CT_JUMP(name, env, val)                                                    \
    do {                                                                           \
        CT_REAL(name);                                                             \
        ct_crash_handler_jumped();                                                 \
        if (CT_LIKELY(ct_real_##name != NULL))                                     \
            ct_real_##name(env, val);                                              \
        abort(); /* only inside dlsym's bootstrap, which never jumps */            \
    } while (0)

CT_EXPORT void longjmp(struct __jmp_buf_tag env[1], int val)
{
    CT_JUMP(longjmp, env, val);
}

CT_EXPORT void _longjmp(struct __jmp_buf_tag env[1], int val)
{
    CT_JUMP(_longjmp, env, val);
}

CT_EXPORT void siglongjmp(struct __jmp_buf_tag env[1], int val)
{
    CT_JUMP(siglongjmp, env, val);
}

void __longjmp_chk(struct __jmp_buf_tag env[1], int val) __attribute__((noreturn));
CT_EXPORT void __longjmp_chk(struct __jmp_buf_tag env[1], int val)
{
    CT_JUMP(__longjmp_chk, env, val);
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_signal_init(void)
{
    CT_REAL(sigaction);
    CT_REAL(signal);
    CT_REAL(sysv_signal);
    CT_REAL(longjmp);
    CT_REAL(_longjmp);
    CT_REAL(siglongjmp);
    CT_REAL(__longjmp_chk);
    for (unsigned i = 0; i < CT_NMANAGED; i++) {
        struct sigaction cur;
        sigset_t mask;
        ct_lock(&mask);
        if (ct_real_sigaction_call(ct_managed[i], NULL, &cur) == 0 && ct_is_default(&cur) &&
            !ct_owned[i]) {
            struct sigaction ours;
            ct_our_action(&ours);
            if (ct_real_sigaction_call(ct_managed[i], &ours, NULL) == 0) {
                ct_owned[i] = 1;
                ct_dfl_act[i] = cur;
            }
        }
        ct_unlock(&mask);
    }
}
