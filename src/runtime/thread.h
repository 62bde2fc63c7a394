/*
 * thread.h - per-thread tracer state and the thread registry.
 *
 * Model (docs/FORMAT.md): each traced OS thread is an M (id = kernel tid)
 * that owns one P for its life and runs one goroutine G.  A blocked thread
 * gives its P up (GoBlock, ProcStop) and takes it back when it runs again
 * (ProcStart, GoUnblock, GoStart), so go tool trace's proc view shows CPU use.
 *
 * Invariants:
 *  - Fields marked (owner) are written only by the thread itself, inside a
 *    critical section (wseq odd), or by the advancer while it holds the
 *    thread's status claim (status_gen has CT_STATUS_BUSY set), during which
 *    the thread cannot enter a critical section of the new generation.
 *  - wseq is written only by the owner: odd inside ct_acquire..ct_release.
 *    The advancer, after publishing a new generation, waits until every
 *    thread's wseq is even or has moved on, so no thread still writes into a
 *    buffer of the old generation (see advance.c, ct_advance).
 *  - The registry list is protected by ct_registry_lock.  A thread unlinks
 *    itself at exit; it never holds the lock inside a critical section.
 *  - vis_state is the state of G and P as the trace shows it; state is the
 *    true state.  They differ only after events were dropped (memory cap);
 *    the next status emission writes transitions that reconcile them.
 */
#ifndef CTRACE_RUNTIME_THREAD_H
#define CTRACE_RUNTIME_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "cpuprof.h"
#include "dedup.h"
#include "unwind.h"

enum ct_tstate {
    CT_RUNNING = 0,  /* G running on the thread's P                        */
    CT_BLOCKED = 1,  /* G waiting, P idle                                   */
    CT_SYSCALL = 2,  /* G and P in a syscall                                */
    CT_RUNNABLE = 3, /* G created, thread not yet started; P not yet used   */
    CT_EXITED = 4    /* G destroyed, P stopped                              */
};

#define CT_STATUS_BUSY (1ull << 63)
#define CT_REGION_DEPTH 64
#define CT_CACHE_SLOTS 64
#define CT_NAME_MAX 64

/* Bytes per thread for the names of its open regions (a copy, see
 * ct_region); a region whose name does not fit is tracked unnamed. */
#define CT_REGION_NAMES 2048

/* An open region.  Its name is a copy in the thread's rnames (never the
 * caller's pointer: a name built in a local buffer may be gone, or
 * overwritten, by the time the region ends).  Names are stacked like the
 * regions: region i's name starts where region i-1's ends, so closing
 * regions frees their names with them. */
struct ct_region {
    uint64_t task;
    uint64_t serial;  /* low bits of its handle (ctrace_region_start)       */
    uint64_t name_gen;/* generation whose string table has name_id          */
    uint64_t name_id; /* the name's string id in name_gen                   */
    uint32_t off;     /* name: rnames[off .. off + len), no NUL inside      */
    uint32_t len;
    uint64_t begin_ns;/* CLOCK_MONOTONIC at the begin, 0: untimed (flight.c) */
    uint8_t named;    /* the name is stored (it fit in rnames)              */
    uint8_t written;  /* its begin is in the trace and not yet closed       */
};

struct ct_thread;
/* The string id in gen of r's name (annotate.c), inside a critical section
 * of gen on r's thread. */
uint64_t ct_region_name_id(struct ct_thread *t, struct ct_region *r, uint64_t gen);

struct ct_cache_ent {
    uint64_t gen;
    uint64_t hash;
    struct ct_dedup_node *node;
};

struct ct_thread {
    _Atomic uint64_t wseq;          /* (owner) odd inside a critical section  */
    struct ct_buf *buf[2];          /* (owner) buffer of gen g at [g & 1]      */
    _Atomic uint64_t status_gen;    /* gen whose statuses are written | BUSY   */

    uint64_t m, g, p;               /* ids in the trace                        */
    uint64_t epoch;                 /* trace in which the G is known           */
    uint64_t created_gen;           /* gen of the GoCreate of G (spawned)      */
    _Atomic int state;              /* (owner) true enum ct_tstate; relaxed:   */
                                    /* read by the advancer under its claim    */
    int vis_state;                  /* (owner) enum ct_tstate the trace shows  */
    int block_depth;                /* (owner) nested block annotations        */
    const void *wake_frame;         /* (owner) ct_unblock's entry frame        */
    int wake_skip;
    const char *wait_call;          /* (owner) C call of the wait (hooks.h)    */
    int wait_profiled;              /* (owner) Go's profiles count the block   */
    uint64_t sys_stack, sys_stack_gen; /* (owner) stack id of the syscall
                                       begin, and its generation           */
    uintptr_t start_pc;             /* start routine of a created thread       */
    int syscall_depth;              /* (owner) nested syscall annotations      */
    uint64_t seq_gen, gseq, pseq;   /* (owner) per-generation sequence numbers */
    uint64_t dark_gen;              /* (owner) gen in which events are dropped */
    uint64_t dropped;               /* (owner) events dropped                  */
    _Atomic int bound;              /* TLS points here (thread registered itself);
                                       read by the advancer: atomic */
    int internal;                   /* never traced: a tracer thread, or one
                                       dropped for want of a P id (CT_PID_NONE) */
    int p_reusable;                 /* ProcStop written: P id may be reused    */
    uint64_t label_epoch;           /* (owner) trace that has the name label   */
    uint64_t prof_epoch;            /* (owner) trace whose CPU timer is armed  */
    char name[CT_NAME_MAX];

    int rdepth;                     /* (owner) open regions                    */
    uint64_t region_serial;         /* (owner) serial of the last region begun */
    struct ct_region regions[CT_REGION_DEPTH];
    char rnames[CT_REGION_NAMES];   /* (owner) names of the open regions       */
    struct ct_cache_ent scache[CT_CACHE_SLOTS]; /* (owner) string ids     */
    struct ct_cache_ent kcache[CT_CACHE_SLOTS]; /* (owner) stack ids      */
    struct ct_cache_ent pcache[CT_CACHE_SLOTS]; /* (owner) string ids by
                                                   the caller's pointer     */

    struct ct_stack_bounds bounds;
    /* CPU sampling state, or NULL: set by the thread, read by the advancer
     * (an atomic pointer, so the advancer sees it fully initialized) */
    struct ct_cpuprof_thread *_Atomic prof;

    struct ct_thread *next, *prev;  /* registry links                          */
};

static inline int ct_state(const struct ct_thread *t)
{
    return atomic_load_explicit(&((struct ct_thread *)t)->state, memory_order_relaxed);
}
static inline void ct_set_state(struct ct_thread *t, int s)
{
    atomic_store_explicit(&t->state, s, memory_order_relaxed);
}

/* The calling thread's state, or NULL before it registered.  initial-exec
 * TLS: one instruction to read. */
extern __thread struct ct_thread *ct_tls_self __attribute__((tls_model("initial-exec")));
/* Non-zero on tracer-owned threads and inside the tracer's own calls. */
extern __thread int ct_tls_internal __attribute__((tls_model("initial-exec")));

extern pthread_mutex_t ct_registry_lock;
extern struct ct_thread *ct_registry; /* list head, under ct_registry_lock */

/* Returns the calling thread's state, registering it if needed (NULL on an
 * internal thread or allocation failure).  Registration while tracing emits
 * the events that introduce the thread (see thread.c). */
struct ct_thread *ct_thread_self_slow(void);

static inline struct ct_thread *ct_thread_self(void)
{
    struct ct_thread *t = ct_tls_self;
    if (__builtin_expect(t != NULL, 1))
        return t;
    return ct_thread_self_slow();
}

/* Allocates a thread record for tid (not yet bound to a TLS) and links it;
 * used for threads found in /proc at trace start. */
struct ct_thread *ct_thread_adopt(uint64_t tid, int state);

/* Allocates / frees P ids (lowest free first).  ct_pid_alloc returns
 * CT_PID_NONE when out of memory; the thread is then not traced
 * (thread.c, thread_new).  Freeing CT_PID_NONE does nothing. */
#define CT_PID_NONE UINT64_MAX
uint64_t ct_pid_alloc(void);
void ct_pid_free(uint64_t p);
/* P ids in use now (the GOMAXPROCS metric, metrics.c). */
uint64_t ct_pid_count(void);
/* A bound on every P id ever allocated (all are below it); async-signal-
 * safe.  The crash report's own P (flight_crash.c) takes this id. */
uint64_t ct_pid_limit(void);

/* Next G id (never reused, never 0). */
uint64_t ct_gid_alloc(void);

/* Marks the calling thread as a tracer thread. */
void ct_thread_mark_internal(void);

/* Kernel thread id of the caller. */
uint64_t ct_gettid(void);

#endif /* CTRACE_RUNTIME_THREAD_H */
