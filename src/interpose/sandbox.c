/*
 * sandbox.c - a program entering a seccomp sandbox: prctl(PR_SET_SECCOMP)
 * here, the seccomp system call through syscall() in futex.c (libseccomp
 * and most sandboxes make it one way or the other).
 *
 * Under a sandbox the tracer's own system calls (its clock and timers,
 * futexes, writes of the trace, thread registration) are whatever the
 * program's filter allows, and strict mode allows only read, write and
 * exit: one of them would kill the thread or the whole process, or leave
 * a tracer lock held by a killed thread (the process then hangs).  So the
 * trace ends, whole, just before the sandbox goes in, and nothing traces
 * afterwards (src/runtime/proc.c, ct_proc_enter_sandbox).
 *
 * Invariants: the real call is made exactly as the program made it, after
 * the trace ended; its result and errno are its own.  Only the two calls
 * that install a sandbox (strict or filter mode) end the trace: queries
 * (PR_GET_SECCOMP, SECCOMP_GET_ACTION_AVAIL...) go straight through.  A
 * call that then fails still leaves the trace ended (we cannot know in
 * advance that it will fail).
 */
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "interpose.h"
#include "proc.h"

CT_REAL_DECL(int, prctl, (int, ...));

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_sandbox_init(void)
{
    CT_REAL(prctl);
}

void ct_sandbox_seccomp_call(unsigned long op)
{
    if (op == SECCOMP_SET_MODE_STRICT)
        ct_proc_enter_sandbox("seccomp SECCOMP_SET_MODE_STRICT", 0);
    else if (op == SECCOMP_SET_MODE_FILTER)
        ct_proc_enter_sandbox("seccomp SECCOMP_SET_MODE_FILTER", 1);
}

CT_EXPORT int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
    unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    if (option == PR_SET_SECCOMP && a2 == SECCOMP_MODE_STRICT)
        ct_proc_enter_sandbox("prctl PR_SET_SECCOMP SECCOMP_MODE_STRICT", 0);
    else if (option == PR_SET_SECCOMP && a2 == SECCOMP_MODE_FILTER)
        ct_proc_enter_sandbox("prctl PR_SET_SECCOMP SECCOMP_MODE_FILTER", 1);
    CT_REAL(prctl);
    if (CT_LIKELY(ct_real_prctl != NULL))
        return ct_real_prctl(option, a2, a3, a4, a5);
    return (int)ct_libc_syscall6(SYS_prctl, (long[6]){option, (long)a2, (long)a3, (long)a4, (long)a5, 0});
}
