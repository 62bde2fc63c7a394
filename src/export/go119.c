/*
 * go119.c - the go1.19 sink: Go's v1 execution-trace format (header
 * "go 1.19 trace"), which the toolchains from Go 1.19 to Go 1.21 open
 * (`go tool trace`), from the reader's event model (sink.h: event()).
 * Facts of the format: Go 1.19's internal/trace/parser.go and order.go.
 *
 * The v1 format is the runtime's own state machine written per P: batches
 * of events of one P (EvBatch: the P and a base time, then events with
 * time deltas), goroutine events carrying sequence numbers that Go's
 * parser uses to merge the batches, stacks (EvStack) and strings
 * (EvString) by id, and one EvFrequency.  This sink writes the merge's
 * events as they come, so the output is streamed; what it keeps is per
 * live goroutine (its v1 state, sequence number, P, open regions, label),
 * per open task, the stack and string ids of the current generation, and
 * the ids of the goroutines that ended, as intervals (struct ended: a few,
 * ids being handed out in order).
 *
 * Invariants (each one a check of Go 1.19's parser):
 *  - Every goroutine event is emitted in the batch of the P the goroutine
 *    runs on in our v1 model, so "P runs G" holds for it: Ps are ours,
 *    not the trace's (a ctrace thread has no P, and a v2 goroutine may keep
 *    running in a syscall while its P runs another one): a goroutine takes
 *    a P when it starts running (the trace's P if free, else the lowest
 *    free one) and leaves it when it stops.  Events of no goroutine go to a
 *    P that runs none, where Go's parser takes them for goroutine 0.
 *  - A goroutine's v1 state follows the v2 one through v1's own edges
 *    only (step): a v2 transition v1 has no single event for becomes the
 *    v1 sequence with the same end state at the same time.  Every syscall
 *    is written as one that blocks (GoSysCall and GoSysBlock at its
 *    start, GoSysExit and GoStart at its end), the only v1 syscall with a
 *    duration: the time in it stays syscall time, as in the v2 trace.
 *    Sequence numbers count what Go's order.go counts: 1 at GoCreate, +1
 *    at each GoStart, GoUnblock, GoSysExit and GoWaiting/GoInSyscall.
 *  - Times are nanoseconds (EvFrequency 1e9) since the first event, made
 *    strictly increasing (+1 ns where the input has equal times), so that
 *    Go's merge of the batches by time restores exactly our order.  They
 *    end below INT64_MAX: a trace spanning 2^63 ns fails there (MAX_TS).
 *  - Stack and string ids are unique over the file; the tables mapping
 *    the input's ids to them are dropped at each generation (the input's
 *    stack ids are per generation): a stack seen again is written again.
 *    A stack keeps its innermost frames, at most 1000 (Go 1.19's limit)
 *    whose values fit in 2048 bytes (the limit of the v1 parser of Go 1.22
 *    and later, and of ctrace's reader).
 *  - What v1 cannot carry is counted in stats->not_shown, never silent:
 *    proc transitions (v1 Ps are ours), ranges other than GC, its
 *    mark/sweep termination STWs, sweeps and mark assists, metrics other
 *    than heap, heap goal and GOMAXPROCS, region ends that do not end the
 *    innermost open region, a task begun twice, experimental events, the
 *    transitions of a goroutine 0 (v1's id of no goroutine), of the ids
 *    2^64 - 2 and - 1 (Go 1.19's order.go uses them) and of a goroutine
 *    whose id comes back after it ended (v1 cannot create it again) or
 *    after it blocked "forever" (v1's GoStop, which ends it).
 *    A label is carried by the goroutine's later starts (GoStartLabel),
 *    which is all v1 has.  Block reasons outside v1's event types become
 *    a plain GoBlock (docs/EXPORT.md).
 */
#define _GNU_SOURCE /* memmem */
#include "addrmemo.h"
#include "hash.h"
#include "outbuf.h"
#include "pbuf.h" /* varints: v1 uses the same base-128 encoding */
#include "sink.h"
#include "strtab.h"
#include "u64map.h"

#include <stdlib.h>
#include <string.h>

/* v1 event types (Go 1.19 runtime/trace.go numbering). */
enum {
    EV_BATCH = 1, EV_FREQUENCY = 2, EV_STACK = 3, EV_GOMAXPROCS = 4,
    EV_GC_START = 7, EV_GC_DONE = 8, EV_STW_START = 9, EV_STW_DONE = 10,
    EV_SWEEP_START = 11, EV_SWEEP_DONE = 12, EV_GO_CREATE = 13, EV_GO_START = 14,
    EV_GO_END = 15, EV_GO_STOP = 16, EV_GO_SCHED = 17, EV_GO_PREEMPT = 18, EV_GO_SLEEP = 19,
    EV_GO_BLOCK = 20, EV_GO_UNBLOCK = 21, EV_GO_BLOCK_SEND = 22, EV_GO_BLOCK_RECV = 23,
    EV_GO_BLOCK_SELECT = 24, EV_GO_BLOCK_SYNC = 25, EV_GO_BLOCK_COND = 26,
    EV_GO_BLOCK_NET = 27, EV_GO_SYSCALL = 28, EV_GO_SYSEXIT = 29, EV_GO_SYSBLOCK = 30,
    EV_GO_WAITING = 31, EV_GO_INSYSCALL = 32, EV_HEAP_ALLOC = 33, EV_HEAP_GOAL = 34,
    EV_STRING = 37, EV_GO_START_LABEL = 41, EV_GO_BLOCK_GC = 42,
    EV_MARK_ASSIST_START = 43, EV_MARK_ASSIST_DONE = 44, EV_TASK_CREATE = 45,
    EV_TASK_END = 46, EV_REGION = 47, EV_LOG = 48, EV_CPU_SAMPLE = 49
};

#define MAX_STRING 1000000 /* Go's parser rejects longer strings */
#define MAX_FRAMES 1000    /* ... and longer stacks */
/* The v1 parser of Go 1.22 and later (through which their `go tool trace`
 * reads v1) and ctrace's reader also reject an event whose values take
 * more than 2048 bytes: only a stack can, and is cut to fit. */
#define MAX_VALUES_LEN 2048
/* v1 times are int64 nanoseconds, strictly increasing (+1 ns where equal):
 * past this, a trace (one spanning 2^63 ns: its times wrap, satadd.h) is
 * not written, which leaves room for those +1s. */
#define MAX_TS (INT64_MAX - ((int64_t)1 << 20))

/* A goroutine's state in the v1 model. */
enum vstate {
    V_DEAD,     /* not yet created (or ended)                           */
    V_RUNNABLE,
    V_RUNNING,  /* on its P                                            */
    V_SYSCALL,  /* in a syscall, without P (GoSysBlock, GoInSyscall)   */
    V_WAITING
};

struct region {
    struct region *below;
    uint64_t task;
    uint64_t name_id; /* its end names it with the same string id */
    size_t len;
    char name[];
};

struct gv {
    uint64_t id;
    enum vstate st;
    uint64_t seq;
    int64_t p; /* while V_RUNNING */
    int assist_open;
    struct region *regions;
    char *label;
    size_t label_len;
};

/* Goroutine ids as disjoint, non-adjacent intervals [lo, hi] sorted by lo:
 * ids end in dense runs in the traces Go and libctrace write (ids are
 * handed out in order), so a few intervals hold them all. */
struct ended {
    uint64_t (*iv)[2];
    size_t n, cap;
};

struct gsink {
    struct export_sink base;
    FILE *errf;
    struct export_stats *st;
    struct outbuf ob;
    int failed;
    int64_t last_ts;    /* of the last event written (strictly increasing) */
    int64_t batch_p;    /* P of the open batch, -1 none */
    int64_t batch_last; /* time of its last event */
    /* Ps: running[p] is the goroutine on P p, 0 none; sweep_open[p]. */
    uint64_t *running;
    unsigned char *sweep_open;
    size_t nps;
    struct u64map gs;    /* goroutine id -> struct gv */
    struct ended ended;  /* ids of the goroutines written and ended */
    struct u64memo gs_memo; /* in front of gs */
    struct u64map tasks; /* open task ids -> 1 */
    struct u64map sweeps;/* the trace's P of an open sweep -> our P + 1 */
    struct u64map stacks;/* the input's stack id -> our id (this generation) */
    struct u64memo stacks_memo; /* in front of stacks */
    /* By the address of a string of the generation (addrmemo.h): its
     * string id (region names), its v1 block type (wait reasons). */
    struct addrmemo str_ids, block_types;
    struct strtab strs;  /* strings of this generation */
    uint64_t str_base;   /* our id of strs' id 0, minus 1 */
    uint64_t next_stack;
    uint64_t gc_seq;
    int gc_open, stw_open;
    int preamble;        /* still describing the goroutines of the start */
    uint64_t nprocs;     /* the trace's Ps seen: 1 + the highest id */
    uint64_t tmp[8];                      /* an event's values            */
    uint64_t frames[2 + 4 * MAX_FRAMES];  /* a stack's (stack_id, which
                                             events' values call)         */
};

/* ---- encoding ---------------------------------------------------------- */

/* A varint, encoded in place in the output buffer (not copied into it:
 * a memcpy call per 1-3 bytes cost more than the encoding). */
static inline void uv(struct gsink *S, uint64_t v)
{
    struct outbuf *o = &S->ob;
    if (o->len + 10 > sizeof o->buf)
        outbuf_flush(o);
    o->len += pbuf_varint_put((uint8_t *)o->buf + o->len, v);
}

/* An event of type typ with values v[0..n): up to 3 inline (the count in
 * the type byte's top bits), more after their length in bytes (written
 * as pbuf.h writes a nested message's: a byte kept for it, filled after).
 * Encoded at a cursor with one room check: the largest event, a stack of
 * 2 + 4 * MAX_FRAMES values, takes ~40 KB, less than the buffer. */
static inline __attribute__((always_inline)) void put_event(struct gsink *S, unsigned typ,
                                                            const uint64_t *v, size_t n)
{
    struct outbuf *o = &S->ob;
    size_t room = 1 + PB_TAG_MAX + 1 + PB_CLOSE_ROOM + 10 * n;
    if (o->len + room > sizeof o->buf)
        outbuf_flush(o);
    uint8_t *p = (uint8_t *)o->buf + o->len;
    if (n && n < 4) {
        *p++ = (uint8_t)(typ | (unsigned)(n - 1) << 6);
        for (size_t i = 0; i < n; i++)
            p = pb_varint(p, v[i]);
    } else {
        *p++ = (uint8_t)(typ | 3u << 6);
        uint8_t *body = ++p;
        for (size_t i = 0; i < n; i++)
            p = pb_varint(p, v[i]);
        p = pb_close(body, p);
    }
    o->len = (size_t)(p - (uint8_t *)o->buf);
}

/* put_event, not inline: for the events written seldom. */
static void raw_event(struct gsink *S, unsigned typ, const uint64_t *v, size_t n)
{
    put_event(S, typ, v, n);
}

/* Grows the P tables to hold p. */
static int have_p(struct gsink *S, size_t p)
{
    if (p < S->nps)
        return 0;
    size_t n = S->nps ? S->nps : 8;
    while (n <= p)
        n *= 2;
    uint64_t *r = realloc(S->running, n * sizeof *r);
    if (r)
        S->running = r;
    unsigned char *w = realloc(S->sweep_open, n);
    if (w)
        S->sweep_open = w;
    if (!r || !w) {
        S->failed = 1;
        return -1;
    }
    memset(r + S->nps, 0, (n - S->nps) * sizeof *r);
    memset(w + S->nps, 0, n - S->nps);
    S->nps = n;
    return 0;
}

/* Opens a batch of P p at now. */
static void new_batch(struct gsink *S, int64_t p, int64_t now)
{
    uint64_t b[2] = {(uint64_t)p, (uint64_t)now};
    raw_event(S, EV_BATCH, b, 2);
    S->batch_p = p;
    S->batch_last = now;
}

/* A timed event at now on P p: the batch is switched if needed, the time
 * written as a delta.  v[0] is left for the time delta. */
static void timed(struct gsink *S, int64_t p, unsigned typ, uint64_t *v, size_t n, int64_t now)
{
    if (now <= S->last_ts)
        now = S->last_ts + 1;
    S->last_ts = now;
    if (p != S->batch_p)
        new_batch(S, p, now);
    v[0] = (uint64_t)(now - S->batch_last);
    S->batch_last = now;
    put_event(S, typ, v, n);
}

/* ---- strings and stacks ------------------------------------------------ */

/* Strings and stacks are written inside a batch: the parsers of Go 1.22 on
 * (and ctrace's reader) skip a string before the first one and reject a
 * stack there.  Any P's batch will do; the next timed event continues it or
 * opens its own. */
static void in_batch(struct gsink *S)
{
    if (S->batch_p < 0) {
        uint64_t b[2] = {0, (uint64_t)S->last_ts};
        raw_event(S, EV_BATCH, b, 2);
        S->batch_p = 0;
        S->batch_last = S->last_ts;
    }
}

static uint64_t string_id(struct gsink *S, const char *p, size_t len)
{
    if (!len)
        return 0; /* Go's parser reads id 0 as "" */
    if (len > MAX_STRING)
        len = MAX_STRING;
    int64_t known = strtab_find(&S->strs, p, len);
    if (known >= 0)
        return S->str_base + (uint64_t)known + 1;
    int64_t id = strtab_intern(&S->strs, p, len);
    if (id < 0) {
        S->failed = 1;
        return 0;
    }
    uint64_t our = S->str_base + (uint64_t)id + 1;
    in_batch(S);
    outbuf_c(&S->ob, EV_STRING);
    uv(S, our);
    uv(S, len);
    outbuf_bytes(&S->ob, p, len);
    return our;
}

/* string_id of a string of the generation (a reader's, not a copy of
 * ours: its address holds it until the sync event), found by address. */
static uint64_t gen_string_id(struct gsink *S, const char *p, size_t len)
{
    uint64_t id;
    if (!addrmemo_get(&S->str_ids, p, len, &id)) {
        id = string_id(S, p, len);
        if (p && id)
            addrmemo_put(&S->str_ids, p, len, id);
    }
    return id;
}

/* Our id of the input's stack `stack` (written the first time it is seen
 * in the generation), 0 for none. */
static uint64_t new_stack(struct gsink *S, ctrace_reader *r, uint64_t stack);

static inline uint64_t stack_id(struct gsink *S, ctrace_reader *r, uint64_t stack)
{
    uint64_t known;
    if (stack == CTRACE_NO_STACK)
        return 0;
    if (u64memo_get(&S->stacks_memo, &S->stacks, stack, &known))
        return known;
    return new_stack(S, r, stack);
}

/* stack_id of a stack not yet written in the generation. */
static uint64_t new_stack(struct gsink *S, ctrace_reader *r, uint64_t stack)
{
    const struct ctrace_frame *fr;
    size_t n = ctrace_reader_stack(r, stack, &fr);
    if (!n)
        return 0;
    if (n > MAX_FRAMES)
        n = MAX_FRAMES; /* innermost kept */
    uint64_t id = ++S->next_stack;
    if (u64map_put(&S->stacks, stack, id) < 0) {
        S->failed = 1;
        return 0;
    }
    /* the strings first, each its own event, then the stack: the innermost
     * frames whose values fit in MAX_VALUES_LEN (n <= MAX_FRAMES takes 2
     * bytes at most; a frame 40) */
    uint64_t *v = S->frames;
    v[0] = id;
    size_t len = pbuf_varint_size(id) + 2, kept = 0;
    for (; kept < n; kept++) {
        uint64_t *f = v + 2 + 4 * kept;
        f[0] = fr[kept].pc;
        f[1] = string_id(S, fr[kept].func.ptr, fr[kept].func.len);
        f[2] = string_id(S, fr[kept].file.ptr, fr[kept].file.len);
        f[3] = fr[kept].line;
        size_t flen = pbuf_varint_size(f[0]) + pbuf_varint_size(f[1]) +
                      pbuf_varint_size(f[2]) + pbuf_varint_size(f[3]);
        if (len + flen > MAX_VALUES_LEN)
            break;
        len += flen;
    }
    v[1] = kept;
    in_batch(S);
    raw_event(S, EV_STACK, v, 2 + 4 * kept);
    return id;
}

/* ---- goroutines and Ps ------------------------------------------------- */

/* The index of the first interval starting above id. */
static size_t ended_after(const struct ended *e, uint64_t id)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->iv[mid][0] > id)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int ended_has(const struct ended *e, uint64_t id)
{
    size_t i = ended_after(e, id);
    return i > 0 && id <= e->iv[i - 1][1];
}

/* Adds id (not in the set); 0, or -1 out of memory. */
static int ended_add(struct ended *e, uint64_t id)
{
    size_t i = ended_after(e, id);
    int join_prev = i > 0 && e->iv[i - 1][1] + 1 == id;
    int join_next = i < e->n && id + 1 == e->iv[i][0];
    if (join_prev && join_next) {
        e->iv[i - 1][1] = e->iv[i][1];
        memmove(e->iv + i, e->iv + i + 1, (e->n - i - 1) * sizeof *e->iv);
        e->n--;
    } else if (join_prev) {
        e->iv[i - 1][1] = id;
    } else if (join_next) {
        e->iv[i][0] = id;
    } else {
        if (e->n == e->cap) {
            size_t cap = e->cap ? 2 * e->cap : 16;
            void *p = realloc(e->iv, cap * sizeof *e->iv);
            if (!p)
                return -1;
            e->iv = p;
            e->cap = cap;
        }
        memmove(e->iv + i + 1, e->iv + i, (e->n - i) * sizeof *e->iv);
        e->iv[i][0] = e->iv[i][1] = id;
        e->n++;
    }
    return 0;
}

/* The goroutine's state, or NULL if never seen. */
static inline struct gv *find_g(struct gsink *S, uint64_t id)
{
    uint64_t v;
    return u64memo_get(&S->gs_memo, &S->gs, id, &v) ? (struct gv *)(uintptr_t)v : NULL;
}

/* Takes the goroutine's state out of the table (NULL if absent). */
static struct gv *take_g(struct gsink *S, uint64_t id)
{
    u64memo_forget(&S->gs_memo, id);
    return u64map_take_ptr(&S->gs, id);
}

static struct gv *get_g(struct gsink *S, uint64_t id)
{
    struct gv *g = find_g(S, id);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g || u64map_put_ptr(&S->gs, id, g) < 0) {
        free(g);
        S->failed = 1;
        return NULL;
    }
    g->id = id;
    g->p = -1;
    return g;
}

static void free_g(struct gv *g)
{
    while (g->regions) {
        struct region *below = g->regions->below;
        free(g->regions);
        g->regions = below;
    }
    free(g->label);
    free(g);
}

static int on_p(const struct gv *g)
{
    return g && g->st == V_RUNNING;
}

/* A P that runs no goroutine (for events of none): the open batch's if it
 * is one, else the lowest. */
static int64_t idle_p(struct gsink *S)
{
    if (S->batch_p >= 0 && (size_t)S->batch_p < S->nps && !S->running[S->batch_p])
        return S->batch_p;
    size_t p = 0;
    while (p < S->nps && S->running[p])
        p++;
    if (have_p(S, p) < 0)
        return 0;
    return (int64_t)p;
}

/* The P an event of goroutine id (CTRACE_NO_ID: none) goes on: its own if
 * it is on one, else an idle one (the event is then goroutine 0's). */
static int64_t actor_p(struct gsink *S, uint64_t id)
{
    struct gv *g = id != CTRACE_NO_ID ? find_g(S, id) : NULL;
    return on_p(g) ? g->p : idle_p(S);
}

static uint64_t block_type_of(struct ctrace_str reason)
{
    static const struct {
        const char *reason;
        unsigned type;
    } map[] = {
        {"forever", EV_GO_STOP}, {"sleep", EV_GO_SLEEP}, {"chan send", EV_GO_BLOCK_SEND},
        {"chan receive", EV_GO_BLOCK_RECV}, {"select", EV_GO_BLOCK_SELECT},
        {"sync", EV_GO_BLOCK_SYNC}, {"sync.(*Cond).Wait", EV_GO_BLOCK_COND},
        {"network", EV_GO_BLOCK_NET}, {"GC mark assist wait for work", EV_GO_BLOCK_GC},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (reason.len == strlen(map[i].reason) && !memcmp(reason.ptr, map[i].reason, reason.len))
            return map[i].type;
    /* libctrace's "sync: pthread_join", "chan: queue receive", "select:
     * poll" ...: v1's kind by the word `go tool trace -pprof=sync`
     * classifies by (a condition wait keeps its own kind) */
    if (reason.len >= 4 && !memcmp(reason.ptr, "sync", 4)) {
        if (memmem(reason.ptr, reason.len, "cond", 4))
            return EV_GO_BLOCK_COND;
        return EV_GO_BLOCK_SYNC;
    }
    if (reason.len >= 4 && !memcmp(reason.ptr, "chan", 4))
        return EV_GO_BLOCK_RECV;
    if (reason.len >= 6 && !memcmp(reason.ptr, "select", 6))
        return EV_GO_BLOCK_SELECT;
    return EV_GO_BLOCK;
}

/* block_type_of a reason of the generation, found once per reason. */
static uint64_t block_type(struct gsink *S, struct ctrace_str reason)
{
    uint64_t type;
    if (!addrmemo_get(&S->block_types, reason.ptr, reason.len, &type)) {
        type = block_type_of(reason);
        if (reason.ptr)
            addrmemo_put(&S->block_types, reason.ptr, reason.len, type);
    }
    return type;
}

/* One v1 step of g towards the state `to`, at now, for the v2 event ev. */
static void step(struct gsink *S, ctrace_reader *r, struct gv *g, enum vstate to,
                 const struct ctrace_event *ev, int64_t now)
{
    uint64_t *v = S->tmp;
    uint64_t stk = stack_id(S, r, ev->stack);
    int own = ev->g == g->id; /* the goroutine's own event: its stack */
    switch (g->st) {
    case V_DEAD: {
        /* created by the event's goroutine if it is on a P, else by 0 */
        int64_t p = ev->g != g->id ? actor_p(S, ev->g) : idle_p(S);
        v[1] = g->id;
        v[2] = stack_id(S, r, ev->u.transition.stack);
        v[3] = stk;
        timed(S, p, EV_GO_CREATE, v, 4, now);
        g->st = V_RUNNABLE;
        g->seq = 1;
        S->st->thread_tracks++;
        return;
    }
    case V_RUNNABLE:
        if (g->seq == 1 && (to == V_WAITING || to == V_SYSCALL)) {
            /* blocked or in a syscall when first seen */
            v[1] = g->id;
            timed(S, idle_p(S), to == V_WAITING ? EV_GO_WAITING : EV_GO_INSYSCALL, v, 2, now);
            g->st = to;
            g->seq++;
            return;
        }
        {
            int64_t p = ev->p != CTRACE_NO_ID && ev->p < 4096 ? (int64_t)ev->p : -1;
            if (p < 0 || have_p(S, (size_t)p) < 0 || S->running[p])
                p = idle_p(S);
            if (S->failed)
                return;
            v[1] = g->id;
            v[2] = g->seq;
            if (g->label) {
                v[3] = string_id(S, g->label, g->label_len);
                timed(S, p, EV_GO_START_LABEL, v, 4, now);
            } else {
                timed(S, p, EV_GO_START, v, 3, now);
            }
            S->running[p] = g->id ? g->id : CTRACE_NO_ID;
            g->p = p;
            g->st = V_RUNNING;
            g->seq++;
        }
        return;
    case V_RUNNING: {
        unsigned type;
        enum vstate next;
        switch (to) {
        case V_RUNNABLE: {
            struct ctrace_str rs = ev->u.transition.reason;
            type = rs.len == 9 && !memcmp(rs.ptr, "preempted", 9) ? EV_GO_PREEMPT : EV_GO_SCHED;
            next = V_RUNNABLE;
            break;
        }
        case V_WAITING:
            type = (unsigned)block_type(S, ev->u.transition.reason);
            next = V_WAITING;
            break;
        case V_SYSCALL:
            /* A syscall v1 times is one that blocks: GoSysCall, then
             * GoSysBlock; its return is GoSysExit (and GoStart), so the
             * time in it is syscall time, as in the v2 trace. */
            v[1] = own ? stk : 0;
            timed(S, g->p, EV_GO_SYSCALL, v, 2, now);
            timed(S, g->p, EV_GO_SYSBLOCK, v, 1, now);
            S->running[g->p] = 0;
            g->p = -1;
            g->st = V_SYSCALL;
            return;
        default: /* V_DEAD */
            timed(S, g->p, EV_GO_END, v, 1, now);
            S->running[g->p] = 0;
            g->p = -1;
            g->st = V_DEAD;
            return;
        }
        v[1] = own ? stk : 0;
        timed(S, g->p, type, v, 2, now);
        S->running[g->p] = 0;
        g->p = -1;
        /* GoStop (blocked "forever") ends the goroutine for Go's v1
         * parser: its order.go leaves the goroutine running (a later
         * GoUnblock of it is never ready: "no consistent ordering of
         * events possible") and its checks take it for dead.  So it is
         * dead here too; a v2 trace that wakes it gets the rest of its
         * life counted as not shown (on_goroutine). */
        g->st = type == EV_GO_STOP ? V_DEAD : next;
        return;
    }
    case V_SYSCALL:
        v[1] = g->id;
        v[2] = g->seq;
        v[3] = 0; /* no separate exit time: the event's */
        timed(S, idle_p(S), EV_GO_SYSEXIT, v, 4, now);
        g->st = V_RUNNABLE;
        g->seq++;
        return;
    case V_WAITING: {
        int64_t p = actor_p(S, ev->g != g->id ? ev->g : CTRACE_NO_ID);
        v[1] = g->id;
        v[2] = g->seq;
        v[3] = own ? 0 : stk;
        timed(S, p, EV_GO_UNBLOCK, v, 4, now);
        g->st = V_RUNNABLE;
        g->seq++;
        return;
    }
    }
}

static void on_goroutine(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev,
                         int64_t now)
{
    enum vstate to;
    switch (ev->u.transition.to) {
    case CTRACE_STATE_RUNNABLE: to = V_RUNNABLE; break;
    case CTRACE_STATE_RUNNING: to = V_RUNNING; break;
    case CTRACE_STATE_SYSCALL: to = V_SYSCALL; break;
    case CTRACE_STATE_WAITING: to = V_WAITING; break;
    case CTRACE_STATE_NOTEXIST: to = V_DEAD; break;
    default: S->st->not_shown++; return;
    }
    uint64_t id = ev->u.transition.id;
    struct gv *g = id == 0 || id >= UINT64_MAX - 1 ? NULL : find_g(S, id);
    if (!g && (id == 0 || id >= UINT64_MAX - 1 || ended_has(&S->ended, id))) {
        /* v1's goroutine 0 is no goroutine, which Go's parser has from the
         * start ("g 0 already exists" at its GoCreate); the two largest ids
         * are its order.go's for "unordered" and the GC's sequence; and a
         * v1 goroutine cannot be created again once it ended (order.go
         * waits for it to be dead with sequence number 0).  Such a v2
         * goroutine has no v1 form ("no consistent ordering of events
         * possible"); its own events go out as no goroutine's (find_g:
         * none). */
        S->st->not_shown++;
        return;
    }
    if (!g && !(g = get_g(S, id)))
        return;
    if (to == V_DEAD && g->st == V_DEAD) {
        free_g(take_g(S, id)); /* never seen alive */
        return;
    }
    /* At most 4 steps (dead, runnable, running, the target): the bound
     * guards against a loop, which the state machine does not have. */
    for (int i = 0; i < 6 && !S->failed && g->st != to; i++) {
        step(S, r, g, to, ev, now);
        if (g->st == V_DEAD) /* GoEnd, or GoStop (step) */
            break;
    }
    S->st->state_slices++;
    if (g->st == V_DEAD) {
        free_g(take_g(S, id)); /* v1 drops its open regions too */
        if (ended_add(&S->ended, id) < 0)
            S->failed = 1;
    }
}

/* ---- user annotations -------------------------------------------------- */

/* The P and stack of a goroutine's own event. */
static int64_t user_p(struct gsink *S, const struct ctrace_event *ev)
{
    return actor_p(S, ev->g);
}

static void on_region(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev,
                      int64_t now)
{
    struct gv *g = ev->g != CTRACE_NO_ID ? find_g(S, ev->g) : NULL;
    struct ctrace_str nm = ev->u.region.name;
    if (nm.len > MAX_STRING)
        nm.len = MAX_STRING;
    int begin = ev->kind == CTRACE_EV_REGION_BEGIN;
    uint64_t name_id = 0;
    if (!on_p(g)) {
        S->st->not_shown++; /* v1 has no region of a goroutine off its P */
        return;
    }
    if (begin) {
        struct region *rg = malloc(sizeof *rg + nm.len);
        if (!rg) {
            S->failed = 1;
            return;
        }
        rg->below = g->regions;
        rg->task = ev->u.region.task;
        rg->len = nm.len;
        memcpy(rg->name, nm.ptr, nm.len);
        g->regions = rg;
        S->st->regions++;
    } else if (g->regions) {
        struct region *top = g->regions;
        if (top->task != ev->u.region.task || top->len != nm.len || memcmp(top->name, nm.ptr, nm.len)) {
            S->st->not_shown++; /* v1 only ends the innermost region */
            return;
        }
        /* Go compares the names, ctrace's reader the string ids: the
         * begin's id, written in an earlier generation maybe, suits both. */
        name_id = top->name_id;
        g->regions = top->below;
        free(top);
    } else {
        S->st->regions++;
        S->st->regions_unmatched++;
    }
    uint64_t *v = S->tmp;
    v[1] = ev->u.region.task;
    v[2] = begin ? 0 : 1;
    v[3] = name_id ? name_id : gen_string_id(S, nm.ptr, nm.len);
    if (begin)
        g->regions->name_id = v[3];
    v[4] = stack_id(S, r, ev->stack);
    timed(S, g->p, EV_REGION, v, 5, now);
}

static void on_task(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev, int64_t now)
{
    uint64_t *v = S->tmp;
    uint64_t id = ev->u.task.id;
    int64_t p = user_p(S, ev);
    if (ev->kind == CTRACE_EV_TASK_BEGIN) {
        if (u64map_get(&S->tasks, id)) {
            S->st->not_shown++; /* v1: "task id conflicts" */
            return;
        }
        if (u64map_put(&S->tasks, id, 1) < 0) {
            S->failed = 1;
            return;
        }
        v[1] = id;
        v[2] = ev->u.task.parent == CTRACE_NO_ID ? 0 : ev->u.task.parent;
        v[3] = string_id(S, ev->u.task.name.ptr, ev->u.task.name.len);
        v[4] = stack_id(S, r, ev->stack);
        timed(S, p, EV_TASK_CREATE, v, 5, now);
        S->st->tasks++;
        return;
    }
    if (!u64map_del(&S->tasks, id, NULL))
        S->st->tasks++; /* begun before the trace */
    v[1] = id;
    v[2] = stack_id(S, r, ev->stack);
    timed(S, p, EV_TASK_END, v, 3, now);
}

static void on_log(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev, int64_t now)
{
    uint64_t *v = S->tmp;
    struct ctrace_str msg = ev->u.log.message;
    if (msg.len > MAX_STRING)
        msg.len = MAX_STRING;
    int64_t p = user_p(S, ev);
    v[1] = ev->u.log.task;
    v[2] = string_id(S, ev->u.log.category.ptr, ev->u.log.category.len);
    v[3] = stack_id(S, r, ev->stack);
    timed(S, p, EV_LOG, v, 4, now);
    uv(S, msg.len); /* the message follows the event */
    outbuf_bytes(&S->ob, msg.ptr, msg.len);
    S->st->logs++;
}

static void on_sample(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev,
                      int64_t now)
{
    uint64_t *v = S->tmp;
    struct gv *g = ev->g != CTRACE_NO_ID ? find_g(S, ev->g) : NULL;
    v[4] = stack_id(S, r, ev->stack);
    int64_t at = now <= S->last_ts ? S->last_ts + 1 : now;
    v[1] = (uint64_t)at; /* the sample's own time, in ticks */
    v[2] = on_p(g) ? (uint64_t)g->p : (uint64_t)-1;
    /* A sample of a goroutine the output has not created yet (libctrace:
     * a thread's CPU timer fired before its first event) goes to no
     * goroutine: Go 1.19's parser makes a goroutine of every event's G,
     * so the GoCreate that follows failed ("g N already exists").  After
     * its end, a sample keeps its goroutine (ended_has). */
    int created = g ? g->st != V_DEAD : ended_has(&S->ended, ev->g);
    v[3] = ev->g != CTRACE_NO_ID && created ? ev->g : 0;
    /* In a batch of its own, as the runtime writes samples (P 0): Go 1.19
     * adds a sample's time delta to its batch's time, Go 1.23 (and ctrace's
     * reader) do not; with a batch of its own and a delta of 0, all agree. */
    S->batch_p = -1;
    timed(S, 0, EV_CPU_SAMPLE, v, 5, at);
    S->batch_p = -1; /* the next event opens a batch again */
    S->st->samples++;
}

/* ---- runtime ranges and metrics ---------------------------------------- */

static int is(struct ctrace_str s, const char *lit)
{
    return s.len == strlen(lit) && !memcmp(s.ptr, lit, s.len);
}

static void on_range(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev,
                     int64_t now)
{
    uint64_t *v = S->tmp;
    struct ctrace_str nm = ev->u.range.name;
    int begin = ev->kind != CTRACE_EV_RANGE_END;
    if (is(nm, "GC concurrent mark phase")) {
        if (begin == S->gc_open) /* an Active of an open GC, or an unmatched end */
            return;
        if (begin) {
            v[1] = S->gc_seq++;
            v[2] = stack_id(S, r, ev->stack);
            timed(S, idle_p(S), EV_GC_START, v, 3, now);
        } else {
            timed(S, idle_p(S), EV_GC_DONE, v, 1, now);
        }
        S->gc_open = begin;
        S->st->ranges += begin;
        return;
    }
    if (is(nm, "stop-the-world (GC mark termination)") || is(nm, "stop-the-world (GC sweep termination)")) {
        if (begin == S->stw_open)
            return;
        if (begin) {
            v[1] = is(nm, "stop-the-world (GC mark termination)") ? 0 : 1;
            timed(S, idle_p(S), EV_STW_START, v, 2, now);
        } else {
            timed(S, idle_p(S), EV_STW_DONE, v, 1, now);
        }
        S->stw_open = begin;
        S->st->ranges += begin;
        return;
    }
    if (is(nm, "GC incremental sweep") && ev->u.range.scope == CTRACE_RES_PROC) {
        uint64_t key = ev->u.range.scope_id;
        uint64_t *ours = u64map_get(&S->sweeps, key);
        if (begin && !ours) {
            int64_t p = actor_p(S, ev->g);
            if (S->sweep_open[p]) /* that P sweeps for another: one that does not */
                for (p = 0; (size_t)p < S->nps && S->sweep_open[p]; p++)
                    ;
            if (have_p(S, (size_t)p) < 0 || u64map_put(&S->sweeps, key, (uint64_t)p + 1) < 0)
                return;
            v[1] = stack_id(S, r, ev->stack);
            timed(S, p, EV_SWEEP_START, v, 2, now);
            S->sweep_open[p] = 1;
            S->st->ranges++;
        } else if (!begin && ours) {
            int64_t p = (int64_t)*ours - 1;
            v[1] = v[2] = 0;
            for (size_t i = 0; i < ev->u.range.nattrs; i++) {
                if (is(ev->u.range.attrs[i].name, "bytes swept"))
                    v[1] = ev->u.range.attrs[i].value;
                else if (is(ev->u.range.attrs[i].name, "bytes reclaimed"))
                    v[2] = ev->u.range.attrs[i].value;
            }
            timed(S, p, EV_SWEEP_DONE, v, 3, now);
            S->sweep_open[p] = 0;
            u64map_del(&S->sweeps, key, NULL);
        }
        return;
    }
    if (is(nm, "GC mark assist") && ev->u.range.scope == CTRACE_RES_GOROUTINE) {
        struct gv *g = find_g(S, ev->u.range.scope_id);
        if (!on_p(g) || begin == g->assist_open) {
            if (begin && !on_p(g))
                S->st->not_shown++;
            return;
        }
        v[1] = stack_id(S, r, ev->stack);
        timed(S, g->p, begin ? EV_MARK_ASSIST_START : EV_MARK_ASSIST_DONE, v, begin ? 2 : 1, now);
        g->assist_open = begin;
        S->st->ranges += begin;
        return;
    }
    if (begin)
        S->st->not_shown++; /* v1 has no such range */
}

static void on_metric(struct gsink *S, ctrace_reader *r, const struct ctrace_event *ev,
                      int64_t now)
{
    uint64_t *v = S->tmp;
    v[1] = ev->u.metric.value;
    switch (ev->u.metric.which) {
    case CTRACE_METRIC_GOMAXPROCS:
        v[2] = stack_id(S, r, ev->stack);
        timed(S, idle_p(S), EV_GOMAXPROCS, v, 3, now);
        break;
    case CTRACE_METRIC_HEAP_ALLOC: timed(S, idle_p(S), EV_HEAP_ALLOC, v, 2, now); break;
    case CTRACE_METRIC_HEAP_GOAL: timed(S, idle_p(S), EV_HEAP_GOAL, v, 2, now); break;
    default: S->st->not_shown++; return;
    }
    S->st->counters++;
}

static void on_label(struct gsink *S, const struct ctrace_event *ev)
{
    struct gv *g = ev->g != CTRACE_NO_ID ? get_g(S, ev->g) : NULL;
    if (!g)
        return;
    struct ctrace_str l = ev->u.label.label;
    if (l.len > MAX_STRING)
        l.len = MAX_STRING;
    char *copy = malloc(l.len + 1);
    if (!copy) {
        S->failed = 1;
        return;
    }
    memcpy(copy, l.ptr, l.len);
    free(g->label);
    g->label = copy;
    g->label_len = l.len;
}

/* ---- the sink ---------------------------------------------------------- */

/* Whether ev still belongs to v1's preamble, where the runtime describes
 * the goroutines that exist when tracing starts: goroutines and Ps seen
 * for the first time. */
static int in_preamble(const struct ctrace_event *ev)
{
    if (ev->kind == CTRACE_EV_LABEL)
        return 1;
    return ev->kind == CTRACE_EV_STATE_TRANSITION &&
           (ev->u.transition.resource != CTRACE_RES_GOROUTINE ||
            ev->u.transition.from == CTRACE_STATE_UNDETERMINED);
}

/* Ends the preamble: readers of v1 (Go 1.23's conversion, ctrace's reader)
 * take the first EvGomaxprocs for its end, and the GoCreates before it for
 * goroutines that existed before the trace.  The input's own GOMAXPROCS
 * metric if it comes now, else the number of Ps seen. */
static void end_preamble(struct gsink *S, const struct ctrace_event *ev, int64_t now)
{
    S->preamble = 0;
    if (ev->kind == CTRACE_EV_METRIC && ev->u.metric.which == CTRACE_METRIC_GOMAXPROCS)
        return; /* on_metric writes it */
    uint64_t *v = S->tmp;
    v[1] = S->nprocs ? S->nprocs : 1;
    v[2] = 0;
    timed(S, idle_p(S), EV_GOMAXPROCS, v, 3, now);
}

static int g_event(struct export_sink *s, unsigned seq, ctrace_reader *r,
                   const struct ctrace_event *ev, int64_t ts)
{
    struct gsink *S = (struct gsink *)s;
    if (seq != 0) { /* one Go trace is one process: ids of two would clash */
        fprintf(S->errf, "ctrace export: go1.19 converts one trace; the others are not written\n");
        return 1;
    }
    if (ts >= MAX_TS || S->last_ts >= MAX_TS) {
        fprintf(S->errf, "ctrace export: go1.19: the trace spans 2^63 ns, more than Go's v1 "
                         "format holds; the events before are written\n");
        return 1;
    }
    if (ev->kind == CTRACE_EV_STATE_TRANSITION && ev->u.transition.resource == CTRACE_RES_PROC &&
        ev->u.transition.id < 4096 && ev->u.transition.id >= S->nprocs)
        S->nprocs = ev->u.transition.id + 1;
    if (S->preamble && !in_preamble(ev))
        end_preamble(S, ev, ts);
    switch (ev->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        if (ev->u.transition.resource == CTRACE_RES_GOROUTINE)
            on_goroutine(S, r, ev, ts);
        else
            S->st->not_shown++; /* our Ps are not the trace's */
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END: on_region(S, r, ev, ts); break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END: on_task(S, r, ev, ts); break;
    case CTRACE_EV_LOG: on_log(S, r, ev, ts); break;
    case CTRACE_EV_STACK_SAMPLE: on_sample(S, r, ev, ts); break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END: on_range(S, r, ev, ts); break;
    case CTRACE_EV_METRIC: on_metric(S, r, ev, ts); break;
    case CTRACE_EV_LABEL: on_label(S, ev); break;
    case CTRACE_EV_SYNC:
        /* the input's stack ids start afresh; so do our tables */
        u64map_clear(&S->stacks);
        memset(&S->stacks_memo, 0, sizeof S->stacks_memo);
        addrmemo_clear(&S->str_ids);
        addrmemo_clear(&S->block_types);
        S->str_base += S->strs.n;
        strtab_free(&S->strs);
        memset(&S->strs, 0, sizeof S->strs);
        break;
    default: S->st->not_shown++; break;
    }
    return S->failed || S->ob.failed ? -1 : 0;
}

static int g_finish(struct export_sink *s)
{
    struct gsink *S = (struct gsink *)s;
    /* Last, as Go's runtime writes it (in a batch: parsers want one open). */
    if (S->batch_p < 0) {
        uint64_t b[2] = {0, 0};
        raw_event(S, EV_BATCH, b, 2);
    }
    uint64_t freq = 1000000000; /* ticks are nanoseconds */
    raw_event(S, EV_FREQUENCY, &freq, 1);
    outbuf_flush(&S->ob);
    return S->failed || S->ob.failed || fflush(S->ob.f) != 0 || ferror(S->ob.f) ? -1 : 0;
}

static void g_destroy(struct export_sink *s)
{
    struct gsink *S = (struct gsink *)s;
    uint64_t k;
    void *v;
    for (size_t i = 0; u64map_next_ptr(&S->gs, &i, &k, &v);)
        free_g(v);
    u64map_free(&S->gs);
    free(S->ended.iv);
    u64map_free(&S->tasks);
    u64map_free(&S->sweeps);
    u64map_free(&S->stacks);
    strtab_free(&S->strs);
    free(S->running);
    free(S->sweep_open);
    free(S);
}

/* Never called: event() takes every event (sink.h). */
static int g_track(struct export_sink *s, const struct export_track *t)
{
    (void)s;
    (void)t;
    return 0;
}

struct export_sink *export_go119_sink(FILE *out, FILE *errf, struct export_stats *stats)
{
    struct gsink *S = calloc(1, sizeof *S);
    if (!S)
        return NULL;
    S->errf = errf;
    S->st = stats;
    S->ob.f = out;
    S->batch_p = -1;
    S->preamble = 1;
    S->base = (struct export_sink){.track = g_track, .generation = NULL, .finish = g_finish,
                                   .destroy = g_destroy, .event = g_event};
    static const char header[16] = "go 1.19 trace\0\0";
    outbuf_bytes(&S->ob, header, 16);
    if (have_p(S, 0) < 0) {
        g_destroy(&S->base);
        return NULL;
    }
    return &S->base;
}
