/*
 * spinlock.h - the tracer's one lock that a signal handler may take: a
 * spin lock held with every signal blocked.
 *
 * Invariants:
 *  - Taking it blocks every signal on the calling thread first (a raw
 *    rt_sigprocmask, async-signal-safe), so a handler can never interrupt
 *    its own thread's holder and spin forever; another thread's holder
 *    always makes progress.
 *  - Hold it for a few instructions or one system call only (no lock, no
 *    allocation inside): waiters spin, then yield the CPU.
 *  - A fork child inherits a lock another thread held: ct_spin_reset
 *    clears it in the child, where that holder does not exist.
 */
#ifndef CTRACE_LIBC_SPINLOCK_H
#define CTRACE_LIBC_SPINLOCK_H

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
    int held;
} ct_spinlock;

#define CT_SPINLOCK_INIT {0}

static inline void ct_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Blocks every signal (the previous mask in *old), then takes l. */
static inline void ct_spin_lock(ct_spinlock *l, sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, old, (size_t)(_NSIG / 8));
    for (unsigned spins = 0; __atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE);)
        while (__atomic_load_n(&l->held, __ATOMIC_RELAXED)) {
            /* The holder may have been preempted (2 CPUs, many threads):
             * after a short spin, give it the CPU. */
            if (++spins < 64)
                ct_cpu_relax();
            else
                syscall(SYS_sched_yield);
        }
}

/* Releases l, then restores the signal mask *old. */
static inline void ct_spin_unlock(ct_spinlock *l, const sigset_t *old)
{
    __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, (size_t)(_NSIG / 8));
}

/* Fork child: the holder (if any) was another thread, gone here. */
static inline void ct_spin_reset(ct_spinlock *l)
{
    __atomic_store_n(&l->held, 0, __ATOMIC_RELAXED);
}

#endif /* CTRACE_LIBC_SPINLOCK_H */
