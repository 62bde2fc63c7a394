/*
 * annotate.c - the public annotations (tasks, regions, logs, thread names,
 * block/unblock, syscalls) and the interposers' hooks, which are the same
 * operations with a frame count to skip.
 *
 * Every entry point first reads ctrace_enabled_flag (one load when tracing
 * is off), never changes errno, and never writes an event Go's parser would
 * reject: regions are tracked per thread so that an end is written only for
 * a begin that was written, in nesting order.
 *
 * The current task (ctrace_task_current) is a thread-local word of its own,
 * not a field of struct ct_thread: reading or setting it never registers
 * the thread or allocates, tracing on or off.  A task argument of 0 is
 * replaced by it once tracing is known to be on (task_or_current), so the
 * off path stays one load; everything below the entry points sees the
 * resolved task.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "flight.h"
#include "hooks.h"

/* The reasons of the annotation API's kinds: C words, in the interposers'
 * vocabulary ("sync: " + what is waited in), each holding the word go tool
 * trace classifies by (cmd/trace/pprof.go: "sync", "chan" and "select" go
 * to the synchronization profile, "network" to the network one). */
static const char *const block_reasons[] = {
    [CTRACE_BLOCK_SYNC] = "sync: lock",
    [CTRACE_BLOCK_COND] = "sync: condition wait",
    [CTRACE_BLOCK_NET] = "network",
    [CTRACE_BLOCK_SLEEP] = "sleep",
    [CTRACE_BLOCK_SELECT] = "select: poll",
    [CTRACE_BLOCK_CHAN] = "chan: queue receive",
    [CTRACE_BLOCK_OTHER] = "wait",
};

/* Whether go tool trace's profiles (cmd/trace/pprof.go) count a wait of
 * this reason: the synchronization profile (reasons holding "sync", "chan"
 * or "select") or the network one ("network").  Only such a wait needs
 * its end written with a stack (sched.c, settle). */
static int reason_profiled(const char *reason)
{
    return strstr(reason, "sync") || strstr(reason, "chan") || strstr(reason, "select") ||
           !strcmp(reason, "network");
}

/*
 * Task ids, numbered afresh in each trace so that they stay short varints.
 * A handle (what ctrace_task_begin returns) is tag << 40 | n: tag names the
 * trace it was made in (2^22 | the trace's epoch mod 2^22), n counts from 1
 * in that trace.  In the trace, ct_task_trace_id writes n for
 * a handle of the current trace and the whole handle (>= 2^40) for any
 * other, so:
 *   - ids are unique within a trace: two handles of the current trace have
 *     different n; a handle of another trace is >= 2^40 > n, and two such
 *     handles differ;
 *   - a task begun in one trace and ended (or given regions, logs, child
 *     tasks) in a later one cannot alias a task of that later trace.  Only a
 *     handle kept across 2^22 traces (tags wrap) or a trace making 2^40
 *     tasks could collide.
 * Each thread takes a block of n at a time, so that making a task costs no
 * atomic operation in the common case.  Blocks are taken inside the
 * critical section, where the epoch is that of the trace being written:
 * no thread can still be in a critical section of the previous trace, so
 * the shared counter is reset once per trace by the first taker.  A task
 * begun while its event cannot be written (dropped) gets an "orphan" handle
 * of tag TASK_TAG_ORPHAN (bit 22 clear: never a trace's), unique
 * process-wide.
 */
#define TASK_ID_BLOCK 1024
#define TASK_N_BITS 40
#define TASK_N_MASK ((1ull << TASK_N_BITS) - 1)
#define TASK_TAG_TRACE (1ull << 22) /* set in every trace's tag, and only there */
#define TASK_TAG_ORPHAN 1ull
static _Atomic uint64_t task_block_state; /* tag << 40 | next n of that trace */
static _Atomic uint64_t task_orphans;
static __thread uint64_t task_tag, task_next, task_end;

/* A trace's tag: 2^22 of them before they repeat (no division here: this
 * runs for every task argument). */
static inline uint64_t task_tag_of(uint64_t epoch)
{
    return TASK_TAG_TRACE | (epoch & (TASK_TAG_TRACE - 1));
}

static inline uint64_t task_trace_id(uint64_t task)
{
    return task >> TASK_N_BITS == task_tag_of(ct_rt.epoch) ? task & TASK_N_MASK : task;
}

uint64_t ct_task_trace_id(uint64_t task)
{
    return task_trace_id(task);
}

/* Inside a critical section of the trace being written. */
static uint64_t task_id_alloc(void)
{
    uint64_t tag = task_tag_of(ct_rt.epoch);
    if (task_tag != tag || task_next == task_end) {
        uint64_t s = atomic_load_explicit(&task_block_state, memory_order_relaxed), base, next;
        do {
            base = s >> TASK_N_BITS == tag ? s & TASK_N_MASK : 1;
            next = tag << TASK_N_BITS | (base + TASK_ID_BLOCK);
        } while (!atomic_compare_exchange_weak_explicit(&task_block_state, &s, next,
                                                        memory_order_relaxed,
                                                        memory_order_relaxed));
        task_tag = tag;
        task_next = tag << TASK_N_BITS | base;
        task_end = task_next + TASK_ID_BLOCK;
    }
    return task_next++;
}

static uint64_t task_id_orphan(void)
{
    uint64_t n = atomic_fetch_add_explicit(&task_orphans, 1, memory_order_relaxed) + 1;
    return TASK_TAG_ORPHAN << TASK_N_BITS | (n & TASK_N_MASK);
}

/* The calling thread's current task (ctrace.h).  initial-exec: a load at
 * a fixed offset from the thread pointer, no __tls_get_addr, no
 * allocation. */
static __thread ctrace_task current_task __attribute__((tls_model("initial-exec")));

static inline ctrace_task task_or_current(ctrace_task task)
{
    return task ? task : current_task;
}

ctrace_task ctrace_task_current(void)
{
    return current_task;
}

ctrace_task ctrace_task_set_current(ctrace_task task)
{
    ctrace_task prev = current_task;
    current_task = task;
    return prev;
}

static inline struct ct_thread *traced_self(void)
{
    if (!CT_ENABLED())
        return NULL;
    return ct_thread_self();
}

/*
 * A wait (block, syscall) met inside one of t's events (wseq odd) cannot
 * be written.  Two cases, told apart by the kind of wait:
 *  - a lock or condition wait (CTRACE_BLOCK_SYNC, _COND from an
 *    interposer): the tracer's own, a contended tracer lock taken through
 *    the mutex interposer while an event is written (no signal handler may
 *    take a lock: not async-signal-safe).  No wait of the program: ignored;
 *  - anything else (a sleep, I/O, a syscall, ctrace_block): a signal
 *    handler that interrupted an event waits.  Dropped and counted, once,
 *    at the outermost begin.
 * Its end is skipped the same way (still inside the event), so
 * block_depth and syscall_depth stay paired.
 */
static inline int in_event(const struct ct_thread *t)
{
    return atomic_load_explicit(&((struct ct_thread *)t)->wseq, memory_order_relaxed) & 1;
}

static inline void count_dropped(void)
{
    atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
}

/* 1 if the wait or syscall met inside an event was called by libunwind:
 * the hybrid stack walk's own address checks (read/write on its pipe), not
 * a signal handler's -- neither written nor counted.  fp/skip: as for the
 * stack, so the first PC is the caller of the interposed function; the
 * next two are looked at too, for a sanitizer's interceptor may stand
 * between libunwind and our wrapper (a handler's call has the handler
 * there, then the signal trampoline). */
static int own_call(struct ct_thread *t, const void *fp, int skip)
{
    uintptr_t pcs[3];
    int n = ct_unwind_fp_from(&t->bounds, fp, pcs, 3, skip);
    for (int i = 0; i < n; i++)
        if (ct_unwind_owns_pc(pcs[i]))
            return 1;
    return 0;
}

/* namelen LEN_NUL: name is NUL-terminated (a repeated name is then found
 * by its address without a strlen). */
#define LEN_NUL ((size_t)-1)

static inline uint64_t string_id(struct ct_thread *t, uint64_t gen, const char *s, size_t len)
{
    if (!s)
        return ct_string_id(t, gen, "");
    return len == LEN_NUL ? ct_string_id(t, gen, s) : ct_string_id_len(t, gen, s, len);
}

static uint64_t task_begin(struct ct_thread *t, ctrace_task parent, const char *name,
                           size_t namelen, const void *fp)
{
    uint64_t id;
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_EV_MAX, 0)) {
        id = task_id_alloc();
        uint64_t nm = string_id(t, e.gen, name, namelen);
        uint64_t stk = ct_capture_stack(t, e.gen, fp, 0);
        ct_ev4(&e, GT_EV_USER_TASK_BEGIN, id & TASK_N_MASK,
               task_trace_id(task_or_current(parent)), nm, stk);
        ct_release(t);
    } else {
        id = task_id_orphan();
    }
    if (__atomic_load_n(&ct_flight_slow_armed, __ATOMIC_RELAXED) && name)
        ct_flight_task_begun(id, name); /* the flight recorder's trigger */
    return id;
}

ctrace_task ctrace_task_begin(ctrace_task parent, const char *name)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    return t ? task_begin(t, parent, name, LEN_NUL, fp) : 0;
}

ctrace_task ctrace_task_begin_n(ctrace_task parent, const char *name, size_t name_len)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    return t ? task_begin(t, parent, name, name_len, fp) : 0;
}

static void write_task_end(ctrace_task task, const void *fp)
{
    struct ct_thread *t = traced_self();
    if (!t || !task)
        return;
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_EV_MAX, 0)) {
        uint64_t stk = ct_capture_stack(t, e.gen, fp, 0);
        ct_ev2(&e, GT_EV_USER_TASK_END, task_trace_id(task), stk);
        ct_release(t);
    }
    if (__atomic_load_n(&ct_flight_slow_armed, __ATOMIC_RELAXED))
        ct_flight_task_ended(task);
}

void ctrace_task_end(ctrace_task task)
{
    write_task_end(task, __builtin_frame_address(0));
}

/*
 * Regions.  Each thread keeps a stack of its open regions (thread.h), with
 * a copy of each name, so a region may be named from a buffer that is
 * reused or gone before its end.  A handle (ctrace_region_start) is
 * (thread id mod 2^24) << 40 | serial, serial counting regions begun on the
 * thread from 1 (wrapping past 2^40, skipping 0); serial 0 names a region
 * too deep to be tracked.  A handle is never 0, so 0 can mean "tracing was
 * off".  Ending by handle on another thread finds nothing (the thread id
 * differs) and is ignored, as a stray end by name is.
 */
#define REGION_SERIAL_BITS 40
#define REGION_SERIAL_MASK ((1ull << REGION_SERIAL_BITS) - 1)

static inline uint64_t region_handle(const struct ct_thread *t, uint64_t serial)
{
    return (t->m & 0xffffff) << REGION_SERIAL_BITS | serial;
}

/* namelen: LEN_NUL for a NUL-terminated name; else the name ends at
 * namelen or at a NUL byte before it, whichever comes first (the copy must
 * hold no NUL: region_matches relies on it). */
static uint64_t region_begin(struct ct_thread *t, ctrace_task task, const char *name,
                             size_t namelen, const void *fp)
{
    int depth = t->rdepth++;
    if (depth >= CT_REGION_DEPTH) {
        /* Too deep to track: neither it nor its end is written. */
        atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return region_handle(t, 0);
    }
    struct ct_region *r = &t->regions[depth];
    uint64_t serial = (t->region_serial + 1) & REGION_SERIAL_MASK;
    t->region_serial = serial = serial ? serial : 1;
    r->serial = serial;
    r->task = task;
    r->written = 0;
    r->name_gen = 0;
    /* Timed only when a slow-region threshold exists (flight.c). */
    r->begin_ns = __atomic_load_n(&ct_flight_slow_armed, __ATOMIC_RELAXED) ? ct_mono_ns() : 0;
    /* The name, after the names of the regions below this one: copied
     * and measured in one pass (names are short; no calls).  name[len] is
     * read only after name[len - 1] was not the terminator, and only
     * below namelen. */
    uint32_t off = depth ? t->regions[depth - 1].off + t->regions[depth - 1].len : 0;
    char *copy = t->rnames + off;
    uint32_t room = CT_REGION_NAMES - off, len = 0;
    while (len < room && len < namelen && name[len]) {
        copy[len] = name[len];
        len++;
    }
    r->off = off;
    r->named = len == namelen || name[len] == 0;
    r->len = r->named ? len : 0;
    if (!r->named) {
        /* No room for its name, so its end could not be written: tracked
         * (for nesting and its handle) but not written; counted. */
        atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return region_handle(t, serial);
    }
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_EV_MAX, 0)) {
        /* The copy's address is the same for every region at this depth:
         * the per-thread string cache hits on it (intern.c). */
        uint64_t nm = ct_string_id_len(t, e.gen, copy, len);
        uint64_t stk = ct_capture_stack(t, e.gen, fp, 0);
        ct_ev3(&e, GT_EV_USER_REGION_BEGIN, task_trace_id(task), nm, stk);
        r->name_gen = e.gen;
        r->name_id = nm;
        r->written = 1;
        ct_release(t);
    }
    return region_handle(t, serial);
}

/* Whether r is an open region named name (content, not address: the
 * caller's buffer may hold another name now) in task.  The compare stops
 * at the first difference, so it never reads past the caller's terminator
 * (the copy holds no NUL), and name[len] is read only when the len bytes
 * before it matched. */
static inline int region_matches(const struct ct_thread *t, const struct ct_region *r,
                                 ctrace_task task, const char *name)
{
    if (r->task != task || !r->named)
        return 0;
    const char *copy = t->rnames + r->off;
    uint32_t i = 0, n = r->len;
    while (i < n && name[i] == copy[i])
        i++;
    return i == n && name[n] == 0;
}

/* The name's id in gen: the one found at the begin if still the same
 * generation, else looked up again from the copy. */
uint64_t ct_region_name_id(struct ct_thread *t, struct ct_region *r, uint64_t gen)
{
    if (r->name_gen != gen) {
        r->name_id = ct_string_id_len(t, gen, t->rnames + r->off, r->len);
        r->name_gen = gen;
    }
    return r->name_id;
}

static void write_region_end(struct ct_thread *t, struct ct_region *r, const void *fp)
{
    struct ct_ev e;
    if (!r->written)
        return;
    /* If the acquire fails because the thread goes dark (memory cap), the
     * slow path closes every written region itself, this one included. */
    if (ct_acquire(t, &e, CT_EV_MAX, 0)) {
        uint64_t nm = ct_region_name_id(t, r, e.gen);
        uint64_t stk = ct_capture_stack(t, e.gen, fp, 0);
        ct_ev3(&e, GT_EV_USER_REGION_END, task_trace_id(r->task), nm, stk);
        ct_release(t);
    }
    r->written = 0;
}

/* Ends region i and the ones nested in it (written ends stay properly
 * nested whatever the caller did). */
static void region_close_from(struct ct_thread *t, int i, const void *fp)
{
    for (int j = t->rdepth - 1; j >= i; j--)
        if (j < CT_REGION_DEPTH) {
            struct ct_region *r = &t->regions[j];
            write_region_end(t, r, fp);
            if (r->begin_ns && r->named) /* the flight recorder's trigger */
                ct_flight_region_ended(t->rnames + r->off, r->len, ct_mono_ns() - r->begin_ns);
        }
    t->rdepth = i;
}

static void region_end(struct ct_thread *t, ctrace_task task, const char *name, const void *fp)
{
    if (t->rdepth == 0)
        return; /* an end without a begin: nothing to balance */
    if (t->rdepth > CT_REGION_DEPTH) {
        t->rdepth--; /* closes an untracked, unwritten region */
        return;
    }
    /* Find the region this ends; ending an outer one closes the inner ones. */
    int i = t->rdepth - 1;
    while (i >= 0 && !region_matches(t, &t->regions[i], task, name))
        i--;
    if (i >= 0)
        region_close_from(t, i, fp);
    /* else: no such open region: ignore the stray end */
}

static void region_stop(struct ct_thread *t, ctrace_region h, const void *fp)
{
    if (t->rdepth == 0 || h >> REGION_SERIAL_BITS != (t->m & 0xffffff))
        return; /* nothing open, or a handle of another thread */
    uint64_t serial = h & REGION_SERIAL_MASK;
    if (serial == 0) {
        if (t->rdepth > CT_REGION_DEPTH)
            t->rdepth--; /* an untracked region, the innermost */
        return;
    }
    int i = (t->rdepth < CT_REGION_DEPTH ? t->rdepth : CT_REGION_DEPTH) - 1;
    while (i >= 0 && t->regions[i].serial != serial)
        i--;
    if (i >= 0)
        region_close_from(t, i, fp);
}

void ctrace_region_begin(ctrace_task task, const char *name)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (t && name)
        region_begin(t, task_or_current(task), name, LEN_NUL, fp);
}

void ctrace_region_end(ctrace_task task, const char *name)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = ct_tls_self;
    if (t && name && t->rdepth)
        region_end(t, task_or_current(task), name, fp);
}

ctrace_region ctrace_region_start(ctrace_task task, const char *name)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (t && name)
        return region_begin(t, task_or_current(task), name, LEN_NUL, fp);
    return 0;
}

ctrace_region ctrace_region_start_n(ctrace_task task, const char *name, size_t name_len)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (t && (name || name_len == 0))
        return region_begin(t, task_or_current(task), name ? name : "", name_len, fp);
    return 0;
}

void ctrace_region_stop(ctrace_region region)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = ct_tls_self;
    if (t && region && t->rdepth)
        region_stop(t, region, fp);
}

void ctrace_region_scope_end(const ctrace_region *region)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = ct_tls_self;
    if (region && *region && t && t->rdepth)
        region_stop(t, *region, fp);
}

/* task: resolved already (the caller's, or the current one). */
static void log_event(struct ct_thread *t, ctrace_task task, const char *cat, size_t catlen,
                      const char *msg, size_t msglen, const void *fp)
{
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_EV_MAX, 0)) {
        uint64_t k = string_id(t, e.gen, cat, catlen);
        uint64_t v = string_id(t, e.gen, msg, msglen);
        uint64_t stk = ct_capture_stack(t, e.gen, fp, 0);
        ct_ev4(&e, GT_EV_USER_LOG, task_trace_id(task), k, v, stk);
        ct_release(t);
    }
}

void ctrace_log(ctrace_task task, const char *category, const char *message)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (t)
        log_event(t, task_or_current(task), category, LEN_NUL, message, LEN_NUL, fp);
}

void ctrace_log_n(ctrace_task task, const char *category, size_t category_len,
                  const char *message, size_t message_len)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (t)
        log_event(t, task_or_current(task), category, category ? category_len : LEN_NUL,
                  message, message ? message_len : LEN_NUL, fp);
}

void ctrace_logf(ctrace_task task, const char *category, const char *fmt, ...)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (!t || !fmt)
        return;
    int e = errno;
    char msg[GT_MAX_STRING_SIZE + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errno = e;
    if (n < 0)
        return;
    if ((size_t)n > GT_MAX_STRING_SIZE)
        n = GT_MAX_STRING_SIZE;
    log_event(t, task_or_current(task), category, LEN_NUL, msg, (size_t)n, fp);
}


void ctrace_thread_name(const char *name)
{
    if (!name)
        return;
    struct ct_thread *t = ct_tls_self;
    if (!t && !(t = ct_thread_self()))
        return;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->label_epoch = 0;
    struct ct_ev e;
    /* The slow path writes the label (see sched.c); make sure it runs. */
    if (CT_ENABLED() && ct_acquire(t, &e, CT_EV_MAX, 0)) {
        if (t->label_epoch != ct_rt.epoch) {
            ct_ev1(&e, GT_EV_GO_LABEL, ct_label_id(t, e.gen));
            t->label_epoch = ct_rt.epoch;
        }
        ct_release(t);
    }
}

/* ---- task attributes, scopes and correlation ids ---- */

ctrace_task ctrace_task_begin_kv(ctrace_task parent, const char *name,
                                 const ctrace_kv *kv, size_t n)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    if (!t)
        return 0;
    ctrace_task task = task_begin(t, parent, name, LEN_NUL, fp);
    /* Logs in the new task: right after its begin, so the task page lists
     * them first.  They are ordinary events: each may be dropped (and
     * counted) on its own at the memory cap. */
    for (size_t i = 0; kv && i < n; i++)
        if (kv[i].key)
            log_event(t, task, kv[i].key, LEN_NUL, kv[i].value, LEN_NUL, fp);
    return task;
}

ctrace_task_scope ctrace_task_scope_begin(const char *name)
{
    const void *fp = __builtin_frame_address(0);
    struct ct_thread *t = traced_self();
    ctrace_task_scope s = {0, current_task, 1};
    /* Tracing off: no task, and the current task is left as it is (as
     * ctrace::TaskScope does); the end restores the same value. */
    if (t && (s.task = task_begin(t, 0, name, LEN_NUL, fp)))
        current_task = s.task;
    return s;
}

ctrace_task_scope ctrace_task_scope_adopt(ctrace_task task)
{
    ctrace_task_scope s = {task, current_task, 0};
    current_task = task;
    return s;
}

void ctrace_task_scope_end(ctrace_task_scope *scope)
{
    if (!scope)
        return;
    current_task = scope->prev;
    if (scope->owned)
        write_task_end(scope->task, __builtin_frame_address(0));
}

uint64_t ctrace_task_id(ctrace_task task)
{
    return task_trace_id(task);
}

uint64_t ctrace_goroutine_id(void)
{
    struct ct_thread *t = ct_tls_self;
    if (!t && !(t = ct_thread_self()))
        return 0;
    return t->internal ? 0 : t->g;
}

/* ---- blocking and syscalls (public API and interposer hooks) ---- */

static void block_at(enum ctrace_block_kind kind, const char *reason, const char *call,
                     const void *fp, int skip, int lock_hook)
{
    struct ct_thread *t = traced_self();
    if (!t || ct_tls_internal)
        return;
    if (in_event(t)) {
        if (!lock_hook && t->block_depth == 0 && !own_call(t, fp, skip))
            count_dropped(); /* a signal handler's wait (see in_event) */
        return;
    }
    /* A block inside a block (an annotated lock whose implementation is
     * itself interposed) is the same wait: only the outermost counts. */
    if (t->block_depth++ > 0)
        return;
    t->wait_call = call;
    if (!reason)
        reason = (unsigned)kind < sizeof block_reasons / sizeof *block_reasons
                     ? block_reasons[kind] : "wait";
    /* Sleeps never count; the other built-in kinds always do (their
     * reasons, and the interposers', hold "sync", "chan", "select" or are
     * "network"); a caller's own reason is looked at. */
    t->wait_profiled = kind == CTRACE_BLOCK_SLEEP ? 0
                       : kind == CTRACE_BLOCK_OTHER || (unsigned)kind >= sizeof block_reasons /
                                                                        sizeof *block_reasons
                           ? reason_profiled(reason)
                           : 1;
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_STATUS_MAX, 0)) {
        uint64_t r = ct_string_id(t, e.gen, reason);
        uint64_t stk = ct_capture_stack_call(t, e.gen, fp, skip, call);
        ct_write_transition(t, e.b, e.gen, e.ts, CT_BLOCKED, r, stk);
        ct_set_state(t, CT_BLOCKED); /* inside the critical section: the
                                        advancer never sees vis != state */
        ct_release(t);
    } else {
        ct_set_state(t, CT_BLOCKED);
    }
}

/* Back to running after a block or a syscall.  The slow path of
 * ct_acquire writes the transition (at its own clock read) and sets the
 * state in its critical section; no event of our own follows, so it is
 * called directly: ct_acquire would read the clock a second time for an
 * event that is never written. */
static void resume(struct ct_thread *t)
{
    struct ct_buf *b = NULL;
    if (CT_ENABLED() && ct_enter(t)) {
        uint64_t gen = atomic_load_explicit(&ct_gen, memory_order_acquire);
        b = ct_acquire_slow(t, gen, CT_STATUS_MAX, 0);
        ct_release(t);
    }
    if (!b)
        ct_set_state(t, CT_RUNNING);
}

static void unblock_at(const void *fp, int skip)
{
    struct ct_thread *t = ct_tls_self;
    if (!t || in_event(t) || t->block_depth == 0 || --t->block_depth > 0)
        return;
    if (ct_state(t) != CT_BLOCKED && t->vis_state != CT_BLOCKED)
        return;
    t->wake_frame = fp;
    t->wake_skip = skip;
    resume(t);
    t->wake_frame = NULL;
}

static void syscall_begin_at(const char *call, const void *fp, int skip)
{
    struct ct_thread *t = traced_self();
    if (!t || ct_tls_internal)
        return;
    if (in_event(t)) {
        if (t->syscall_depth == 0 && t->block_depth == 0 && !own_call(t, fp, skip))
            count_dropped(); /* a signal handler's syscall (see in_event) */
        return;
    }
    if (t->syscall_depth++ > 0 || t->block_depth > 0)
        return; /* nested inside a syscall or a block: the same wait */
    t->wait_call = call;
    struct ct_ev e;
    if (ct_acquire(t, &e, CT_STATUS_MAX, 0)) {
        uint64_t stk = ct_capture_stack_call(t, e.gen, fp, skip, call);
        /* Kept for the end of the syscall (sched.c, settle). */
        t->sys_stack = stk;
        t->sys_stack_gen = e.gen;
        ct_write_transition(t, e.b, e.gen, e.ts, CT_SYSCALL, 0, stk);
        ct_set_state(t, CT_SYSCALL);
        ct_release(t);
    } else {
        ct_set_state(t, CT_SYSCALL);
    }
}

static void syscall_end_at(const void *fp, int skip)
{
    struct ct_thread *t = ct_tls_self;
    if (!t || in_event(t) || t->syscall_depth == 0 || --t->syscall_depth > 0)
        return;
    if (ct_state(t) != CT_SYSCALL && t->vis_state != CT_SYSCALL)
        return;
    t->wake_frame = fp;
    t->wake_skip = skip;
    resume(t);
    t->wake_frame = NULL;
}

void ct_syscall_end(void)
{
    /* Called by a wrapper that has just returned from the call. */
    syscall_end_at(__builtin_frame_address(0), 1);
}

/* Hooks: the interposer's wrapper called us; skip counts its frames. */
void ct_block(enum ctrace_block_kind kind, const char *reason, const char *call, int skip)
{
    block_at(kind, reason, call, __builtin_frame_address(0), skip,
             kind == CTRACE_BLOCK_SYNC || kind == CTRACE_BLOCK_COND);
}

void ct_syscall_begin(const char *call, int skip)
{
    syscall_begin_at(call, __builtin_frame_address(0), skip);
}

void ctrace_block(enum ctrace_block_kind kind)
{
    block_at(kind, NULL, NULL, __builtin_frame_address(0), 0, 0);
}

void ctrace_block_reason(const char *reason)
{
    block_at(CTRACE_BLOCK_OTHER, reason ? reason : "wait", NULL, __builtin_frame_address(0), 0, 0);
}

void ct_unblock(void)
{
    /* Called by a wrapper that has just returned from the blocking call. */
    unblock_at(__builtin_frame_address(0), 1);
}

void ctrace_unblock(void)
{
    unblock_at(__builtin_frame_address(0), 0);
}

void ctrace_syscall_begin(void)
{
    syscall_begin_at(NULL, __builtin_frame_address(0), 0);
}

void ctrace_syscall_end(void)
{
    syscall_end_at(__builtin_frame_address(0), 0);
}
