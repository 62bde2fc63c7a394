/*
 * tracer_threads.c - the table of the tracer's threads: what the program
 * must not see of them (its thread count, procfs.c), and their credentials
 * against the program's.
 *
 * Linux keeps credentials per thread.  glibc makes set*id and setgroups
 * process-wide by running the same system call on every thread (its
 * SIGSETXID broadcast, which no thread can block) and aborts the process
 * when the threads' results differ ("failed to set credentials
 * consistently").  The tracer's threads get that broadcast too.  Their
 * uids and gids always follow the program's (glibc sees to that), but
 * their capabilities and securebits follow only what is inherited at
 * their start: a program that changes those on its one thread -- e.g.
 * setpriv: prctl(PR_SET_KEEPCAPS), setresuid, capset to raise its
 * effective set again, then setresgid -- succeeds on that thread and
 * fails on the tracer's, and glibc aborts it.  Without the tracer the
 * program was single-threaded and fine.
 *
 * So the set*id interposers (src/interpose/creds.c) ask first
 * (ct_proc_before_setxid, proc.c) whether any tracer thread's
 * capabilities or securebits differ from the calling thread's; if so the
 * trace ends there and every tracer thread is joined before the call, so
 * the broadcast only meets the program's threads.  Nothing else can make
 * the tracer's threads take the caller's capabilities: capset and prctl
 * act on the calling thread alone.  Giving them more than the program
 * has is no answer either: a thread keeping root's capabilities in a
 * process that dropped them would be a way back to root.
 *
 * The table also says how many tracer threads there are: started or
 * starting (a call the kernel refuses to a multithreaded process --
 * unshare(CLONE_NEWUSER), src/interpose/namespace.c -- needs none; procfs.c
 * takes them off the program's view of itself), and running their start
 * routine (lastthread.c: never more than exist, so the program threads
 * it derives are never too few).
 *
 * Invariants:
 *  - Every tracer thread has a slot in `live` from just before its
 *    creation (thread.c, ct_start_internal_thread: glibc's broadcast
 *    reaches a thread still being created too) to the end of its start
 *    routine, with the securebits it inherits (it never changes them: no
 *    code of the tracer calls prctl or capset on its own thread).  Its
 *    capabilities are read when needed (capget takes a thread id), or,
 *    before it runs, are those its creator had.
 *  - A fork child has none of the parent's tracer threads: the table is
 *    emptied there (ct_tracer_threads_atfork_child).
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc.h"
#include "trace.h"

#define LIVE_MAX 16

/* tid: 0 free, -1 started but not running yet (then caps and secbits are
 * its creator's at the start: what it inherits), else its thread id. */
static struct {
    _Atomic pid_t tid;
    int secbits;
    struct __user_cap_data_struct caps[2];
} live[LIVE_MAX];

static long raw(long nr, long a, long b, long c)
{
    return ct_libc_syscall6(nr, (long[6]){a, b, c, 0, 0, 0});
}

static int own_secbits(void)
{
    return (int)raw(SYS_prctl, PR_GET_SECUREBITS, 0, 0);
}

/* The capability sets of thread tid (0: the caller) into data; 0 or -1. */
static int caps_of(pid_t tid, struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, tid};
    memset(data, 0, 2 * sizeof *data);
    return raw(SYS_capget, (long)&h, (long)data, 0) == 0 ? 0 : -1;
}

int ct_tracer_slot_new(void)
{
    for (int i = 0; i < LIVE_MAX; i++) {
        pid_t free_slot = 0;
        if (atomic_compare_exchange_strong(&live[i].tid, &free_slot, -1)) {
            live[i].secbits = own_secbits();
            caps_of(0, live[i].caps);
            return i;
        }
    }
    return -1; /* more tracer threads than slots: there are six kinds, one
                  of each at a time (advancer, writer, finisher, flight,
                  symbolizer preparation, last-thread watcher) */
}

void ct_tracer_thread_enter(int slot)
{
    if (slot >= 0)
        atomic_store(&live[slot].tid, (pid_t)raw(SYS_gettid, 0, 0, 0));
}

void ct_tracer_slot_free(int slot)
{
    if (slot >= 0)
        atomic_store(&live[slot].tid, 0);
}

int ct_tracer_creds_differ(void)
{
    struct __user_cap_data_struct mine[2], theirs[2];
    int have_mine = -1, sb = 0;
    for (int i = 0; i < LIVE_MAX; i++) {
        pid_t tid = atomic_load(&live[i].tid);
        if (tid == 0)
            continue;
        if (have_mine < 0) {
            have_mine = caps_of(0, mine) == 0;
            sb = own_secbits();
        }
        if (!have_mine)
            return 0; /* nothing to compare with */
        if (live[i].secbits != sb)
            return 1;
        /* Running: its own sets now (one ending meanwhile, ESRCH, no
         * longer matters); starting: its creator's. */
        if (tid > 0 ? caps_of(tid, theirs) == 0 && memcmp(mine, theirs, sizeof mine) != 0
                    : memcmp(mine, live[i].caps, sizeof mine) != 0)
            return 1;
    }
    return 0;
}

int ct_tracer_thread_count(void)
{
    int n = 0;
    for (int i = 0; i < LIVE_MAX; i++)
        n += atomic_load(&live[i].tid) != 0;
    return n;
}

int ct_tracer_threads_running(void)
{
    int n = 0;
    for (int i = 0; i < LIVE_MAX; i++)
        n += atomic_load(&live[i].tid) > 0;
    return n;
}

void ct_tracer_threads_atfork_child(void)
{
    for (int i = 0; i < LIVE_MAX; i++)
        atomic_store(&live[i].tid, 0);
}
