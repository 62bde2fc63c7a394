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

CT_REAL_DECL(int, setuid, (uid_t));
CT_REAL_DECL(int, setgid, (gid_t));
CT_REAL_DECL(int, seteuid, (uid_t));
CT_REAL_DECL(int, setegid, (gid_t));
CT_REAL_DECL(int, setreuid, (uid_t, uid_t));
CT_REAL_DECL(int, setregid, (gid_t, gid_t));
CT_REAL_DECL(int, setresuid, (uid_t, uid_t, uid_t));
CT_REAL_DECL(int, setresgid, (gid_t, gid_t, gid_t));
CT_REAL_DECL(int, setgroups, (size_t, const gid_t *));
CT_REAL_DECL(int, initgroups, (const char *, gid_t));

/* Before the real call; in a vfork child (the parent's tracer state) the
 * runtime does nothing. */
#define CT_BEFORE(name)                  \
    do {                                 \
        ct_proc_before_setxid(#name);    \
        CT_REAL(name);                   \
        if (!ct_real_##name) {           \
            errno = ENOSYS;              \
            return -1;                   \
        }                                \
    } while (0)

CT_EXPORT int setuid(uid_t u)
{
    CT_BEFORE(setuid);
    return ct_real_setuid(u);
}

CT_EXPORT int setgid(gid_t g)
{
    CT_BEFORE(setgid);
    return ct_real_setgid(g);
}

CT_EXPORT int seteuid(uid_t u)
{
    CT_BEFORE(seteuid);
    return ct_real_seteuid(u);
}

CT_EXPORT int setegid(gid_t g)
{
    CT_BEFORE(setegid);
    return ct_real_setegid(g);
}

CT_EXPORT int setreuid(uid_t r, uid_t e)
{
    CT_BEFORE(setreuid);
    return ct_real_setreuid(r, e);
}

CT_EXPORT int setregid(gid_t r, gid_t e)
{
    CT_BEFORE(setregid);
    return ct_real_setregid(r, e);
}

CT_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
    CT_BEFORE(setresuid);
    return ct_real_setresuid(r, e, s);
}

CT_EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
    CT_BEFORE(setresgid);
    return ct_real_setresgid(r, e, s);
}

CT_EXPORT int setgroups(size_t n, const gid_t *list)
{
    CT_BEFORE(setgroups);
    return ct_real_setgroups(n, list);
}

CT_EXPORT int initgroups(const char *user, gid_t g)
{
    CT_BEFORE(initgroups);
    return ct_real_initgroups(user, g);
}
