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
 * The count the program must not see has to match the kernel's at the
 * instant the kernel's is read, and a thread's life in the kernel is not
 * its start routine: it exists from the clone, inside pthread_create,
 * until the kernel releases it, a little after its start routine returned
 * (after the exit path and the futex wake that ends pthread_join).  A
 * program reading its count while the tracer started and stopped traces
 * read one or two threads too many, or one too few, about once in 200
 * reads (tests/runtime/test_thread_count.c).  So a slot goes through states:
 * STARTING (taken by the creator, the clone may or may not have
 * happened), RUNNING (the thread set its id: it exists), ENDED (its start
 * routine returned: it exists until the kernel says otherwise, tgkill
 * with signal 0 failing with ESRCH -- checked when counted, when a slot
 * is taken and after a join, the slot then freed), FREE.
 * ct_tracer_census counts them for procfs.c, never while a slot is
 * STARTING (it waits, bounded); procfs.c reads the kernel's count between
 * two censuses and reads again when they differ (`seq` moves at every
 * change of state).
 *
 * Invariants:
 *  - Every tracer thread has a slot in `live` from just before its
 *    creation (thread.c, ct_start_internal_thread: glibc's broadcast
 *    reaches a thread still being created too) until the kernel released
 *    it, with the securebits it inherits (it never changes them: no
 *    code of the tracer calls prctl or capset on its own thread).  Its
 *    capabilities are read when needed (capget takes a thread id), or,
 *    before it runs, are those its creator had.
 *  - A slot's tid is set before its state becomes RUNNING and kept
 *    through ENDED; only FREE slots are taken (compare-and-swap).
 *  - A fork child has none of the parent's tracer threads: the table is
 *    emptied there (ct_tracer_threads_atfork_child).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc.h"
#include "proc.h"
#include "trace.h"

#define LIVE_MAX 16

enum { SLOT_FREE, SLOT_STARTING, SLOT_RUNNING, SLOT_ENDED };

/* caps and secbits: while STARTING, its creator's at the start (what it
 * inherits). */
static struct {
    _Atomic int state;
    _Atomic pid_t tid; /* RUNNING, ENDED */
    int secbits;
    struct __user_cap_data_struct caps[2];
} live[LIVE_MAX];

static _Atomic unsigned seq; /* moves at every change of a slot's state */
static atomic_int ever;       /* a tracer thread was made in this process */

static void set_state(int i, int state)
{
    atomic_store(&live[i].state, state);
    atomic_fetch_add(&seq, 1);
}

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
    ct_tracer_threads_reap(0);
    for (int i = 0; i < LIVE_MAX; i++) {
        int free_slot = SLOT_FREE;
        if (atomic_compare_exchange_strong(&live[i].state, &free_slot, SLOT_STARTING)) {
            atomic_store(&ever, 1);
            atomic_fetch_add(&seq, 1);
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
    if (slot < 0)
        return;
    atomic_store(&live[slot].tid, (pid_t)raw(SYS_gettid, 0, 0, 0));
    set_state(slot, SLOT_RUNNING);
}

void ct_tracer_thread_leave(int slot)
{
    if (slot >= 0)
        set_state(slot, SLOT_ENDED);
}

void ct_tracer_slot_free(int slot)
{
    if (slot >= 0)
        set_state(slot, SLOT_FREE);
}

/* Whether slot i's thread, ENDED, still exists; frees the slot when it
 * does not.  errno is kept. */
static int ended_alive(int i)
{
    int e = errno;
    pid_t tid = atomic_load(&live[i].tid);
    /* In a seccomp sandbox a tgkill may kill the process: taken as gone
     * (one thread counted too many at worst, for microseconds). */
    int gone = ct_proc_sandboxed() || (raw(SYS_tgkill, (long)ct_proc_pid(), tid, 0) != 0 && errno == ESRCH);
    errno = e;
    if (gone) {
        int ended = SLOT_ENDED;
        if (atomic_compare_exchange_strong(&live[i].state, &ended, SLOT_FREE))
            atomic_fetch_add(&seq, 1);
    }
    return !gone;
}

/* An ENDED slot must not outlive its thread by long: once the kernel
 * gave its id to a thread of the program (ids wrap), the slot would count
 * that one.  So slots are freed when counted, when a slot is taken, and
 * after a tracer thread is joined (waiting, bounded, for the kernel). */
void ct_tracer_threads_reap(int wait)
{
    for (int k = 0; k <= wait; k++) {
        int alive = 0;
        for (int i = 0; i < LIVE_MAX; i++)
            if (atomic_load(&live[i].state) == SLOT_ENDED)
                alive += ended_alive(i);
        if (!alive)
            return;
        if (k < wait)
            sched_yield();
    }
}

int ct_tracer_creds_differ(void)
{
    struct __user_cap_data_struct mine[2], theirs[2];
    int have_mine = -1, sb = 0;
    for (int i = 0; i < LIVE_MAX; i++) {
        int state = atomic_load(&live[i].state);
        if (state == SLOT_FREE || state == SLOT_ENDED)
            continue; /* an ENDED one runs no code of its own any more */
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
        if (state == SLOT_RUNNING ? caps_of(atomic_load(&live[i].tid), theirs) == 0 &&
                                        memcmp(mine, theirs, sizeof mine) != 0
                                  : memcmp(mine, live[i].caps, sizeof mine) != 0)
            return 1;
    }
    return 0;
}

int ct_tracer_thread_count(void)
{
    int n = 0;
    for (int i = 0; i < LIVE_MAX; i++) {
        int state = atomic_load(&live[i].state);
        n += state == SLOT_STARTING || state == SLOT_RUNNING || (state == SLOT_ENDED && ended_alive(i));
    }
    return n;
}

int ct_tracer_threads_running(void)
{
    int n = 0;
    for (int i = 0; i < LIVE_MAX; i++)
        n += atomic_load(&live[i].state) == SLOT_RUNNING;
    return n;
}

static int any_starting(void)
{
    for (int i = 0; i < LIVE_MAX; i++)
        if (atomic_load(&live[i].state) == SLOT_STARTING)
            return 1;
    return 0;
}

void ct_tracer_census(struct ct_tracer_census *c)
{
    int e = errno;
    /* A census holds no STARTING slot: whether its clone happened is not
     * known, and one that becomes RUNNING between two censuses need not
     * move `seq` in time for the second to see it.  Such a thread is
     * cloned within microseconds, unless its creator was preempted: wait
     * for it (100 yields, then 0.1 ms sleeps: ~50 ms in all) before
     * counting it as existing. */
    int waits = 0, tries = 0;
    while (tries < 16) {
        if (waits < 600 && any_starting()) {
            if (waits++ < 100)
                sched_yield();
            else
                ct_libc_sleep_ns(100000);
            continue;
        }
        tries++;
        c->seq = atomic_load(&seq);
        c->threads = ct_tracer_thread_count();
        if (atomic_load(&seq) == c->seq && (waits >= 600 || !any_starting()))
            break; /* the count of one state of the table */
    }
    c->ever = atomic_load(&ever);
    errno = e;
}

int ct_tracer_census_same(const struct ct_tracer_census *a, const struct ct_tracer_census *b)
{
    return a->seq == b->seq && a->threads == b->threads;
}

void ct_tracer_threads_atfork_child(void)
{
    for (int i = 0; i < LIVE_MAX; i++)
        atomic_store(&live[i].state, SLOT_FREE);
    atomic_store(&ever, 0);
    atomic_fetch_add(&seq, 1);
}
