/*
 * internal.h - the reader's private structures, shared by its files.
 *
 * Data flow (v2): input -> generation (batches of one generation, its string,
 * stack, CPU-sample tables and frequency) -> per-M batch cursors merged by
 * timestamp (reader.c) -> ordering state machine (order.c), which accepts
 * an event only when the scheduler state allows it and queues the
 * resulting events -> public ctrace_event (deliver.c).  v1 traces: v1.c
 * converts, deliver.c publishes.  Every layer records errors in
 * struct rd_error (errors.c).  Dependencies go one way: reader.c ->
 * generation.c / order.c / v1.c -> deliver.c / errors.c.
 *
 * Memory: every array here is reused from one generation to the next; only
 * growth allocates.  Nothing is allocated per event.
 *
 * Per-event cost (the reader's hot path): no hashing in the common case.
 * String and stack ids are looked up in dense arrays (both writers number
 * them 1, 2, ... per generation; sparse ids fall back to the maps), a
 * thread's state by an index its cursor keeps for the generation, a
 * goroutine's through a direct-mapped cache in front of the map (a hint,
 * checked against the slot).  The maps stay the truth: every insertion and
 * removal goes through them.
 */
#ifndef CTRACE_READER_INTERNAL_H
#define CTRACE_READER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ctrace_reader.h"
#include "errors.h"
#include "gotrace.h"
#include "grow.h"
#include "input.h"
#include "u64map.h"

/* Event types past the 1.23 core table: the AllocFree experiment (1.23). */
#define RT_EXP_FIRST 128
#define RT_EXP_LAST 136
/* Pseudo types the reader makes itself. */
#define RT_SYNC 255

/* Argument layout of a v2 event type: number of args after the type byte
 * (timestamp delta included), and whether it is timed.  Indexed by type. */
struct rspec {
    const char *name;
    uint8_t nargs;
    uint8_t timed;
    uint8_t stack_arg;   /* 1-based position in args[] after dt, 0 = none */
    uint8_t stack_arg2;
    uint8_t str_arg;
    uint8_t str_arg2;
    uint8_t start_ev;    /* the Begin event of an End/Active, else 0     */
};
/* The table behind rspec_of (specs.c): RT_NSPECS entries; an entry with a
 * NULL name is a hole of the table (types 50-127). */
#define RT_NSPECS 137
extern const struct rspec rd_specs[RT_NSPECS];
extern const struct rspec rd_spec_hole;
/* The layout of typ; NULL if unknown type.  Inline: looked up per event. */
static inline const struct rspec *rspec_of(unsigned typ)
{
    if (typ >= RT_NSPECS)
        return NULL;
    return rd_specs[typ].name ? &rd_specs[typ] : &rd_spec_hole;
}
const char *rspec_name(unsigned typ, char buf[24]);
const char *const *rspec_exp_argnames(unsigned typ);

/* An event as the ordering machinery sees it.  args[] excludes the
 * timestamp delta: args[0] is the event's first real argument. */
struct rev {
    uint8_t typ;
    int64_t time;
    uint64_t raw;       /* timestamp in ticks as in the file               */
    uint64_t args[5];
    uint64_t extra[2];
    uint64_t m, p, g;   /* scheduling context at the event              */
    uint64_t off;       /* byte offset in the input                      */
};

/* ---- generation ---- */

struct batch {
    uint64_t m;
    uint64_t ts;
    uint64_t data_off;  /* file offset of the data                      */
    uint32_t len;
    uint8_t exp;
    uint8_t first;      /* first data byte (batch kind), 0 if empty      */
    const uint8_t *data;/* set once the generation is fully read        */
};

struct strent { size_t off; uint32_t len; };
struct stkent { size_t pcs_off; uint32_t n; int64_t resolved; };
struct frament { uint64_t pc, func, file, line; };
struct sample { int64_t time; uint64_t raw, m, p, g, stack; uint64_t off; };

/* The cursor over the batches of one M.  p == NULL: no batch entered
 * yet; p == end: the current batch is consumed. */
struct mcursor {
    uint64_t m;
    size_t first, count;   /* range in gen.order[]                   */
    size_t idx;            /* current batch (relative)               */
    const uint8_t *p, *end;/* the rest of the current batch          */
    const uint8_t *base;   /* its first data byte ...                */
    uint64_t base_off;     /* ... and that byte's file offset         */
    uint64_t batch_ts;     /* its base timestamp (ticks)              */
    int64_t last_ts;
    uint64_t last_raw;
    uint32_t ms_hint;      /* index + 1 of the M's state in order.mss  */
    struct rev ev;         /* the cursor's head event                */
};

struct fchunk { struct fchunk *next; size_t used; struct ctrace_frame f[4096]; };

struct generation {
    uint64_t gen;
    double freq;           /* ns per tick; 0 = no frequency batch    */
    uint64_t freq_int;     /* freq if an integer in 1..1024, else 0  */
    /* Per event type: the number of varints after the type byte (time
     * delta included) of a known timed type, else 0 (cursor_next_fast). */
    uint8_t nvar[256];
    int has_freq;

    struct batch *batches; size_t nbatches, batches_cap;
    size_t *order;  size_t order_cap;     /* batch indices grouped by M */
    struct mcursor *ms; size_t nms, ms_cap;
    struct u64map mindex;                 /* m -> index in ms           */

    /* id -> index: the maps always; the dense arrays (index + 1, 0 =
     * absent) once the tables are complete, for the ids below *_dense_n
     * (str_all/stk_all: and the maps hold no other, see gen_index). */
    struct u64map str_index;              /* id -> index in strs        */
    uint32_t *str_dense; size_t str_dense_n, str_dense_cap; int str_all;
    uint32_t *stk_dense; size_t stk_dense_n, stk_dense_cap; int stk_all;
    struct strent *strs; size_t nstrs, strs_cap;
    char *arena; size_t arena_len, arena_cap;

    struct u64map stk_index;              /* id -> index in stks        */
    struct stkent *stks; size_t nstks, stks_cap;
    uint64_t *pcs; size_t npcs, pcs_cap;
    struct u64map pc_index;               /* pc -> index in frames       */
    struct frament *frames; size_t nframes, frames_cap;
    struct fchunk *chunks;                /* resolved ctrace_frames      */

    struct sample *samples; size_t nsamples, samples_cap, sample_pos;
};

/* ---- ordering ---- */

struct rng { uint8_t typ; uint64_t desc; };
struct rngset { struct rng *v; size_t n, cap; };

struct region { uint64_t task; size_t off; uint32_t len; };

struct gstate {
    uint64_t id;
    uint8_t status;
    uint64_t seq_gen, seq;
    struct region *regions; size_t nregions, regions_cap;
    char *names; size_t names_len, names_cap;
    struct rngset ranges;
    uint32_t next_free;
    uint8_t live;          /* in use (not on the free list)          */
};

struct pstate {
    uint64_t id;
    uint8_t status;
    uint64_t seq_gen, seq;
    struct rngset ranges;
};

struct mstate { uint64_t id, g, p; };

struct task { uint64_t id, parent; char *name; size_t len, cap; uint32_t next_free; };

enum { GC_UNDETERMINED, GC_NOT_RUNNING, GC_RUNNING };
#define ORDER_GCACHE 1024

/* An assumption about the state carried into a generation, made by the
 * second reader of a split check (split.c) where it read a generation
 * without the state the generations before it left: a lookup that missed
 * (kind, id, absent), or an object it then created (a, b: the
 * status, or an M's goroutine and proc), a scan of the threads for a proc
 * (AS_PSCAN: id = the proc, a = threads found), the first GC event met
 * with the GC state unknown (AS_GC: id = its sequence number), a region
 * end on a goroutine with no region open (AS_RUNDER: id = the goroutine,
 * a = the task, b = offset << 16 | length of its name in as_names: the
 * region may have begun before, in the other half). */
enum as_kind { AS_G, AS_P, AS_M, AS_T, AS_PSCAN, AS_GC, AS_RUNDER, AS_KINDS };
struct assume { uint8_t kind, absent; uint64_t id, a, b; };

struct order {
    struct u64map gmap; struct gstate *gs; size_t ngs, gs_cap; uint32_t gfree;
    uint32_t gcache[ORDER_GCACHE];        /* id % size -> gs index + 1 (a hint) */
    struct u64map pmap; struct pstate *ps; size_t nps, ps_cap;
    struct u64map thmap; struct mstate *mss; size_t nmss, mss_cap;
    struct u64map taskmap; struct task *tasks; size_t ntasks, tasks_cap; uint32_t tfree;
    uint64_t gc_seq;
    int gc_state;
    uint64_t initial_gen;
    /* Speculating (split.c): a generation after this reader's first one,
     * read without the state before it: lookups that miss are recorded in
     * `as` and a status for a goroutine it does not know is taken as it is
     * (and recorded), to be verified against the state the other reader
     * ends with.  as_oom: an assumption could not be recorded. */
    int spec, as_oom;
    struct assume *as; size_t nas, as_cap;
    char *as_names; size_t as_names_len, as_names_cap;
    struct rev q[8];
    unsigned qhead, qlen;
    /* The check-only loop's shortcut (ctrace_reader_check sets it around
     * its common step): an event pushed while nothing is queued and whose
     * references are good is delivered at once by dl_deliver_now -- time
     * fixed, counted, not copied -- and counted in nnow. */
    struct delivery *now;
    unsigned nnow;
    /* Name of the task a queued TaskEnd ended (the task is gone). */
    char endname[GT_MAX_STRING_SIZE + 1];
    size_t endname_len;
};

/* ---- delivery (deliver.c) ---- */

/* What delivering events needs besides the generation and ordering state:
 * the event handed out and its buffers, the time of the last one. */
struct delivery {
    struct ctrace_event ev;  /* the event handed out (first: aligned)    */
    struct ctrace_event *out;/* or where to build it instead (NULL: ev):
                                the read-ahead queue's slot (ahead.c)   */
    /* What it reads and reports into, bound once at open (the reader
     * never moves): the generation tables, the ordering state (a task
     * end's name), the error state. */
    const struct generation *g;
    const struct order *o;
    struct rd_error *err;
    int v1;                  /* events come from v1.c's converter        */
    int quiet;               /* ctrace_reader_check(): validate and count,
                                do not build the public event (d->ev is
                                left stale; nothing reads it then)      */
    char scratch[GT_MAX_STRING_SIZE + 64];
    /* Strings the delivery makes (a stop-the-world range's name, an ended
     * task's name), kept as the generation's own strings are: until the
     * next generation is read (dl_keep_free), as the header promises. */
    struct dl_kept *kept;
    struct ctrace_attr attrs[2];
    uint64_t xargs[5];
    int64_t last_ts;         /* time of the last event delivered         */
    uint64_t last_raw;
    int have_first;
    int64_t first_ts;
    uint64_t nevents;
};

/* Frees the kept strings (see struct delivery): when the next generation
 * is read (the events that used them are all consumed then: the header's
 * lifetime rule), and at close. */
void dl_keep_free(struct delivery *d);

/* Where the public event is built: the read-ahead queue's slot, or d->ev. */
static inline struct ctrace_event *dl_target(struct delivery *d)
{
    return d->out ? d->out : &d->ev;
}

/* Checks (v2) and publishes an ordered raw event as *out; returns 1, or a
 * negative code with the error recorded in err. */
int dl_deliver(struct delivery *d, struct rev *v, const struct ctrace_event **out);

/* The id at 1-based argument position pos of v; 0 (always valid: no
 * stack, the empty string) when pos is 0. */
static inline uint64_t dl_ref_arg(const struct rev *v, uint8_t pos)
{
    return pos ? v->args[pos - 1] : 0;
}

/* Whether id is 0 or in the dense array; written without branches on the
 * event type, which the CPU cannot predict. */
static inline __attribute__((always_inline)) int dl_dense_ok(const uint32_t *dense, size_t n, uint64_t id)
{
    uint32_t x = id < n ? dense[id] : 0;
    return (id == 0) | (x != 0);
}

/* Whether a stack id and a string id (0: none) are known by the dense
 * arrays. */
static inline __attribute__((always_inline)) int dl_ids_ok(const struct generation *g, uint64_t stk, uint64_t str)
{
    return dl_dense_ok(g->stk_dense, g->stk_dense_n, stk) & dl_dense_ok(g->str_dense, g->str_dense_n, str);
}

/* Go's reference checks of a v2 event (spec s), the fast way: 1 when every
 * stack and string id it names is known by the dense arrays (0 says "ask
 * dl_check_refs", which also looks in the maps, not "bad"). */
static inline int dl_refs_ok(const struct generation *g, const struct rspec *s, const struct rev *v)
{
    int ok = dl_ids_ok(g, dl_ref_arg(v, s->stack_arg), dl_ref_arg(v, s->str_arg));
    /* A second stack or string: a few types (a create, a log). */
    if (__builtin_expect(s->stack_arg2 | s->str_arg2, 0))
        ok &= dl_ids_ok(g, dl_ref_arg(v, s->stack_arg2), dl_ref_arg(v, s->str_arg2));
    return ok;
}

/* The reference checks in full: 0, or the error of the first bad id. */
int dl_check_refs(struct delivery *d, const struct rev *v);

/* The spec of an event out of the ordering, for its references: a hole of
 * the table names none, as rd_spec_hole does. */
static inline const struct rspec *dl_spec(uint8_t typ)
{
    return typ < RT_NSPECS ? &rd_specs[typ] : &rd_spec_hole;
}

/* Go's reference checks of a v2 event: 0, or the error of the first bad
 * stack or string id. */
static inline int dl_refs(struct delivery *d, const struct rev *v)
{
    if (__builtin_expect(dl_refs_ok(d->g, dl_spec(v->typ), v), 1))
        return 0;
    return dl_check_refs(d, v);
}

/* Go's time fix: t, or just after the event before when t is not later
 * than it; records it as the last (and maybe the first) time. */
static inline __attribute__((always_inline)) int64_t dl_fix_time(struct delivery *d, int64_t t)
{
    /* Go's int64 arithmetic wraps; unsigned keeps C defined. */
    if (t <= d->last_ts)
        t = (int64_t)((uint64_t)d->last_ts + 1);
    d->last_ts = t;
    if (__builtin_expect(!d->have_first, 0)) {
        d->have_first = 1;
        d->first_ts = t;
    }
    return t;
}

/* What a quiet delivery changes, to undo the ones made ahead of an error
 * (ctrace_reader_check: an event is delivered by dl_deliver_now before the
 * next event of its thread is decoded, which may fail first). */
struct dl_mark { int64_t last_ts, first_ts; uint64_t last_raw, nevents; int have_first; };

static inline void dl_mark(const struct delivery *d, struct dl_mark *m)
{
    *m = (struct dl_mark){d->last_ts, d->first_ts, d->last_raw, d->nevents, d->have_first};
}

static inline void dl_undo(struct delivery *d, const struct dl_mark *m)
{
    d->last_ts = m->last_ts;
    d->first_ts = m->first_ts;
    d->last_raw = m->last_raw;
    d->nevents = m->nevents;
    d->have_first = m->have_first;
}

/* What every delivery records of an event (dl_deliver, dl_publish,
 * dl_count): its time t fixed (returned), its raw time, one more event. */
static inline __attribute__((always_inline)) int64_t dl_account(struct delivery *d, int64_t t,
                                                                uint64_t raw)
{
    t = dl_fix_time(d, t);
    d->last_raw = raw;
    d->nevents++;
    return t;
}

/* dl_deliver()'s ending for a public event the fast step built (fast.h:
 * fast_accept), once its thread's next event decoded: time t fixed, raw
 * time raw, counted. */
static inline __attribute__((always_inline)) void dl_publish(struct delivery *d, struct ctrace_event *e,
                                                             int64_t t, uint64_t raw)
{
    e->time = dl_account(d, t, raw);
    e->since_start = (int64_t)((uint64_t)e->time - (uint64_t)d->first_ts);
}

/* What a quiet delivery records of an event whose ids are good (in the
 * count only: v is left as it is). */
static inline void dl_count(struct delivery *d, const struct rev *v)
{
    dl_account(d, v->time, v->raw);
}

/* A quiet delivery right where the ordering accepts v (o->now): 1 when done
 * (its references are good by the dense arrays), 0 when v must be queued
 * and delivered later by dl_deliver_quiet, which looks further and reports
 * a bad reference in its turn. */
static inline int dl_deliver_now(struct delivery *d, const struct rev *v)
{
    if (__builtin_expect(!dl_refs_ok(d->g, dl_spec(v->typ), v), 0))
        return 0;
    dl_count(d, v);
    return 1;
}

/* dl_deliver() of the check-only loop, for a v2 event out of the ordering
 * (never a sync event or a CPU sample): the same checks, time fix and
 * counts, no public event. */
static inline int dl_deliver_quiet(struct delivery *d, const struct rev *v)
{
    int rc = dl_refs(d, v);
    if (rc < 0)
        return rc;
    dl_count(d, v);
    return 1;
}

/* The goroutine's state if the direct-mapped cache holds it, else NULL
 * (then the map decides: order.c's gs_get).  An entry is a hint, checked
 * against the slot: a freed or reused slot no longer matches. */
static inline __attribute__((always_inline)) struct gstate *order_gcached(struct order *o, uint64_t id)
{
    uint32_t hint = o->gcache[id % ORDER_GCACHE];
    if (hint) {
        struct gstate *s = &o->gs[hint - 1];
        if (s->id == id && s->live)
            return s;
    }
    return NULL;
}

struct ctrace_reader;
/* Tries to advance ev on thread m in generation gen (*ms_hint: index + 1
 * of m's state, 0 if not known yet; filled in).  Returns 1 (accepted,
 * events queued), 0 (not yet), or a negative code with r's error set. */
int order_advance(struct ctrace_reader *r, struct rev *ev, uint64_t m, uint64_t gen, uint32_t *ms_hint);
void order_free(struct order *o);
/* Records an assumption (o->spec): absent (a lookup missed) or (a, b);
 * order_assume_as(...) turns the last one, if it is (kind, id), into
 * (kind, id, a, b), else records that. */
void order_assume(struct order *o, uint8_t kind, uint64_t id, int absent, uint64_t a, uint64_t b);
void order_assume_as(struct order *o, uint8_t kind, uint64_t id, uint64_t a, uint64_t b);
#define ASSUME(o, kind, id, a, b)                                                  \
    do {                                                                           \
        if ((o)->spec)                                                             \
            order_assume((o), (kind), (id), 0, (a), (b));                          \
    } while (0)
#define ASSUME_ABSENT(o, kind, id)                                                 \
    do {                                                                           \
        if ((o)->spec)                                                             \
            order_assume((o), (kind), (id), 1, 0, 0);                              \
    } while (0)
int order_task(const struct order *o, uint64_t id, uint64_t *parent, const char **name, size_t *len);

/* ---- generation reading (generation.c) ---- */
int gen_read(struct ctrace_reader *r);         /* reads the next generation     */
void gen_reset(struct generation *g);
void gen_free(struct generation *g);
void gen_index(struct generation *g);          /* builds the dense id arrays */

/* Index of string id in g->strs, or -1.  Inline: several lookups an event. */
static inline int64_t gen_str_index(const struct generation *g, uint64_t id)
{
    if (id < g->str_dense_n)
        return (int64_t)g->str_dense[id] - 1;
    if (g->str_all)
        return -1;
    const uint64_t *v = u64map_get(&g->str_index, id);
    return v ? (int64_t)*v : -1;
}

/* String id of the generation (id 0 is ""): 0, or -1 if it has none. */
static inline int gen_string(const struct generation *g, uint64_t id, struct ctrace_str *out)
{
    if (id == 0) {
        out->ptr = "";
        out->len = 0;
        return 0;
    }
    int64_t i = gen_str_index(g, id);
    if (i < 0)
        return -1;
    out->ptr = g->arena + g->strs[i].off;
    out->len = g->strs[i].len;
    return 0;
}

static inline int64_t gen_stk_index(const struct generation *g, uint64_t id)
{
    if (id < g->stk_dense_n)
        return (int64_t)g->stk_dense[id] - 1;
    if (g->stk_all)
        return -1;
    const uint64_t *v = u64map_get(&g->stk_index, id);
    return v ? (int64_t)*v : -1;
}

/* Whether stack id (0: none) is in the generation's table. */
static inline int gen_has_stack(const struct generation *g, uint64_t id)
{
    return id == 0 || gen_stk_index(g, id) >= 0;
}
size_t gen_stack(struct generation *g, uint64_t id, const struct ctrace_frame **out);
int cursor_next(struct ctrace_reader *r, struct mcursor *c);  /* 1 ok, 0 done, <0 err */

/* Go converts a float64 to int64 with the x86 semantics: out of range or
 * NaN gives the "integer indefinite" value.  C leaves that undefined. */
static inline int64_t f2i(double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)d;
}

/* Go's Time(float64(t) * freq).  With an integer freq of at most 2^10
 * and t below 2^42, float64(t), the product and the conversion back are
 * all exact: the integer product is the same number, without the float
 * unit's latency. */
static inline __attribute__((always_inline)) int64_t ticks_to_ns(const struct generation *g, uint64_t t)
{
    if (__builtin_expect(g->freq_int != 0 && t < ((uint64_t)1 << 42), 1))
        return (int64_t)(t * g->freq_int);
    return f2i((double)t * g->freq);
}

/* The end of decoding c's next event, its type and arguments in c->ev:
 * its offset, its time (time delta dt after the last), its raw time; the
 * cursor moved on to next. */
static inline __attribute__((always_inline)) void cursor_stamp(const struct generation *g, struct mcursor *c,
                                                               uint64_t off, uint64_t dt, const uint8_t *next)
{
    struct rev *ev = &c->ev;
    /* Go adds in int64 with wrap-around; do it unsigned to stay defined. */
    ev->time = (int64_t)((uint64_t)ticks_to_ns(g, dt) + (uint64_t)c->last_ts);
    ev->off = off;
    c->last_ts = ev->time;
    ev->raw = c->last_raw += dt;
    c->p = next;
}

/* A varint of at most 9 bytes at *pp, with no bound check (the caller
 * made sure 9 bytes are there): 1 and *out, or 0 and nothing changed when
 * it is longer (cursor_next then decides: a 10-byte varint or an error). */
static inline __attribute__((always_inline)) int varint9(const uint8_t **pp, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = p[0];
    if (v < 0x80) {
        *out = v;
        *pp = p + 1;
        return 1;
    }
    v &= 0x7f;
    for (unsigned i = 1; i < 9; i++) {
        uint64_t b = p[i];
        v |= (b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *out = v;
            *pp = p + i + 1;
            return 1;
        }
    }
    return 0;
}

/* cursor_next() for the common case, inline: an event of a known timed
 * type, every varint at most 9 bytes, 64 bytes or more left in the batch
 * (an event is at most 1 + 6 x 9 bytes then), a base time set.  1 when it
 * decoded c's next event exactly as cursor_next() would; 0, with c as it
 * was, to leave the event to cursor_next() (a new batch, the batch's end,
 * an error to report, a rare shape). */
static inline __attribute__((always_inline)) int cursor_next_fast(const struct generation *g, struct mcursor *c)
{
    const uint8_t *p = c->p;
    if (c->end - p < 64 || c->last_ts == 0)
        return 0;
    uint8_t typ = *p;
    unsigned n = g->nvar[typ];
    if (!n)
        return 0;
    const uint8_t *q = p + 1;
    uint64_t dt, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0;
    /* Unrolled: the arguments of one type, with no loop to run. */
    if (!varint9(&q, &dt) || (n > 1 && !varint9(&q, &a0)) || (n > 2 && !varint9(&q, &a1)) ||
        (n > 3 && !varint9(&q, &a2)) || (n > 4 && !varint9(&q, &a3)) || (n > 5 && !varint9(&q, &a4)))
        return 0;
    struct rev *ev = &c->ev;
    ev->typ = typ;
    ev->args[0] = a0;
    ev->args[1] = a1;
    ev->args[2] = a2;
    ev->args[3] = a3;
    ev->args[4] = a4;
    ev->extra[0] = ev->extra[1] = 0;
    cursor_stamp(g, c, c->base_off + (uint64_t)(p - c->base), dt, q);
    return 1;
}

/* ---- reader ---- */

struct ctrace_reader {
    struct input in;
    int version;             /* 122 ... */
    uint64_t pos;            /* offset of the next batch to read        */
    struct rd_error error;   /* the first error (errors.h)              */

    struct generation g;
    int have_gen;
    int spill;               /* a batch of the next generation is waiting */
    uint64_t spill_off;      /* its offset                              */
    int emitted_sync;
    int done;
    uint64_t gen_start;      /* offset of the generation's first batch   */
    uint64_t gen_end;        /* offset just past its last batch          */
    int gen_at_eof;          /* no batch of a next generation follows it  */
    uint64_t complete_gens;  /* generations delivered whole (sync sent)   */
    uint64_t complete_end;   /* offset where the last of them ends        */
    int64_t complete_span;   /* ns from the first event to its sync       */
    uint64_t consumed;       /* batch bytes consumed since the last unmap */
    uint64_t scan_from;      /* start of the batch scanned before         */

    struct order o;
    struct mcursor **heap; size_t nheap, heap_cap;

    uint64_t ngens;

    struct v1_state *v1;     /* v1 traces: the whole-trace state (v1.c)   */
    int is_v1;

    struct ctrace_losses losses; /* loss records read so far (losses.c)  */

    /* The split check (split.c): threads allowed, smallest input split,
     * tried once, the second reader while it runs, and whether the whole
     * trace was checked that way. */
    unsigned split_threads;
    uint64_t split_min;
    int split_tried;
    int split_outcome;       /* CTRACE_SPLIT_* of ctrace_reader_check_split() */
    uint64_t split_gen;      /* the second reader's first generation      */
    struct split *split;

    /* Reading ahead (ahead.c): threads allowed (ctrace_reader_read_ahead),
     * whether the thread was started once, the queue while it runs, and a
     * queue shape for tests (0: the default). */
    unsigned ahead_threads;
    int ahead_tried;
    size_t ahead_nblocks, ahead_block_events;
    /* Read by the caller's thread at every event while the thread writes
     * the fields around: a cache line of its own (ahead.c). */
    char ahead_pad0[128];
    struct ahead *ahead;
    char ahead_pad1[128];

    int reference;           /* CTRACE_READER_REFERENCE: no fast step    */
    struct delivery dl;      /* the event handed out (deliver.c)         */
    struct rev cur;          /* a raw event being delivered (sync, sample, v1) */
    uint8_t cur_typ;         /* type and offset of the event being ordered */
    uint64_t cur_off;        /* (order.c's error messages)                */
};

/* Loss records (losses.c): adds the record s (len bytes), if it is one,
 * to *acc. */
void loss_note(struct ctrace_losses *acc, const uint8_t *s, size_t len);
/* Skims the rest of the input for loss records (generation.c). */
int gen_skim_losses(struct ctrace_reader *r);

/* The split check (split.c): split_start() on the first check of a
 * reader allowed two threads (may start none); split_finish() when A has
 * read its part (1: the trace is checked, r done; 0: read on);
 * split_abort() stops the second reader. */
struct split;
void split_start(struct ctrace_reader *r);
int split_finish(struct ctrace_reader *r);
void split_abort(struct ctrace_reader *r);
uint64_t split_a_gens(const struct ctrace_reader *r);

/* The reading itself, on the caller's thread or the read-ahead thread:
 * ctrace_reader_next() without the read-ahead (reader.c). */
int rd_next(struct ctrace_reader *r, const struct ctrace_event **ev);
/* The check-only loop (reader.c), with r->dl.quiet set by the caller: up
 * to max events (*n read); 1 after max, 2 right after the sync event that
 * completes generation `until` (UINT64_MAX: never), 0 at the end, <0. */
int rd_check(struct ctrace_reader *r, uint64_t max, uint64_t *n, uint64_t until);

/* Reading ahead (ahead.c).  ahead_start() starts the thread (0, or -1:
 * none, read on the caller's thread); ahead_next() is ctrace_reader_next()
 * while it runs (r->ahead), ending it with the reading; ahead_stop() stops
 * and joins it; ahead_before_generation() is called by the thread before
 * it reads a generation past the first (0, or a code: stop).  The ahead_*
 * queries answer at the consumer's point of the reading. */
struct ahead;
int ahead_start(struct ctrace_reader *r);
int ahead_next(struct ctrace_reader *r, const struct ctrace_event **ev);
void ahead_stop(struct ctrace_reader *r);
int ahead_before_generation(struct ctrace_reader *r);
uint64_t ahead_bytes_read(const struct ahead *a);
uint64_t ahead_event_count(const struct ahead *a);
uint64_t ahead_generation_count(const struct ahead *a);
uint64_t ahead_frequency(const struct ahead *a);
int ahead_have_gen(const struct ahead *a);
void ahead_losses(const struct ahead *a, struct ctrace_losses *out);
uint64_t ahead_complete(const struct ahead *a, uint64_t *end_offset, int64_t *span_ns);
int ahead_task(const struct ahead *a, uint64_t id, uint64_t *parent, const char **name, size_t *len);
/* Tests: the queue's shape (blocks, events a block) of the next start. */
void rd_ahead_shape(struct ctrace_reader *r, size_t nblocks, size_t block_events);

/* v1 traces (v1.c). */
struct v1_state;
int v1_next(struct ctrace_reader *r, const struct ctrace_event **ev);
void v1_free(struct ctrace_reader *r);
/* The layers report errors into r->error (errors.h) and publish events
 * through r->dl (deliver.c): */
#define rd_fail(r, ...) err_fail(&(r)->error, __VA_ARGS__)
#define rd_fail_cut(r, ...) err_fail_cut(&(r)->error, __VA_ARGS__)
static inline int rd_deliver(struct ctrace_reader *r, struct rev *v, const struct ctrace_event **out)
{
    return dl_deliver(&r->dl, v, out);
}

#endif
