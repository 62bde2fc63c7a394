/*
 * creds.c - the calls glibc runs on every thread (set*id, setgroups,
 * initgroups): before them, ct_proc_before_setxid (src/runtime/proc.c)
 * ends the trace and the tracer's threads when their capabilities differ
 * from the caller's, since glibc would abort the process when the call
 * succeeds on the caller and fails on a tracer thread (src/runtime/tracer_threads.c
 * says how that happens: setpriv does it).
 *
 * Invariants: the real function is called exactly as the program called
 * it, its result and errno are its own; when the capabilities agree
 * (nearly always) the wrapper costs a capget per tracer thread and
 * changes nothing.  initgroups is wrapped too: glibc's calls setgroups
 * internally, past this wrapper.  The raw system calls (syscall(SYS_setuid
 * ...)) are per thread, never broadcast: nothing to do for them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sys/types.h>
#include <unistd.h>

#include "interpose.h"
#include "proc.h"

/* A wrapper: ct_proc_before_setxid, then the real function (in a vfork
 * child the runtime does nothing). */
#define CT_SETXID_WRAPPER(name, params, args)      \
    CT_REAL_DECL(int, name, params);               \
    CT_EXPORT int name params                      \
    {                                              \
        ct_proc_before_setxid(#name);              \
        CT_REAL(name);                             \
        if (!ct_real_##name) {                     \
            errno = ENOSYS;                        \
            return -1;                             \
        }                                          \
        return ct_real_##name args;                \
    }

CT_SETXID_WRAPPER(setuid, (uid_t u), (u))
CT_SETXID_WRAPPER(setgid, (gid_t g), (g))
CT_SETXID_WRAPPER(seteuid, (uid_t u), (u))
CT_SETXID_WRAPPER(setegid, (gid_t g), (g))
CT_SETXID_WRAPPER(setreuid, (uid_t r, uid_t e), (r, e))
CT_SETXID_WRAPPER(setregid, (gid_t r, gid_t e), (r, e))
CT_SETXID_WRAPPER(setresuid, (uid_t r, uid_t e, uid_t s), (r, e, s))
CT_SETXID_WRAPPER(setresgid, (gid_t r, gid_t e, gid_t s), (r, e, s))
CT_SETXID_WRAPPER(setgroups, (size_t n, const gid_t *list), (n, list))
CT_SETXID_WRAPPER(initgroups, (const char *user, gid_t g), (user, g))
