/*
 * ahead.c - reading ahead: ctrace_reader_next() served from a thread that
 * reads, orders and builds the events ahead of the caller, through a
 * bounded queue (ctrace_reader_read_ahead).  The consumer -- the caller's
 * thread -- then pays only for handing events out; a tool that does work
 * of its own per event costs max(reader, its work) instead of the sum.
 *
 * Invariants (what makes the handoff correct):
 *
 *   1. One writer per field.  Once the thread runs, it alone calls the
 *      reading machinery (rd_next) and writes the reader's state; the
 *      consumer touches only its side of struct ahead, the blocks it has
 *      been handed, and -- for ctrace_reader_stack() -- the lazily
 *      resolved frames of the generation (stkent.resolved, fchunk), which
 *      the reading machinery never reads or writes during a generation.
 *      Everything else the consumer answers comes from the copies in the
 *      blocks (struct ra_info), or, once the thread has ended and been
 *      joined, from the reader itself.
 *   2. Blocks move through a block queue (src/base/blockq.h, which states
 *      its ordering): the producer fills a claimed block and publishes
 *      it, the consumer takes it and releases it when it asks for the
 *      event after its last one.  One lock per block on each side, not
 *      per event; a side with nothing to do sleeps until the other has
 *      made half the queue ready for it.
 *   3. Events own what they point to while queued.  An event of the
 *      reader points into the generation's string arena (or static text),
 *      or into per-call buffers of the reader itself (delivery's scratch,
 *      attrs and xargs, the ordering's name of an ended task): whatever
 *      points into struct ctrace_reader is copied into the block's bytes.
 *   4. A generation's tables outlive its events.  The thread reads a
 *      generation only once the consumer has released every block --
 *      the last one ends with the previous generation's sync event, so
 *      the consumer has asked for the event after that sync (the header's
 *      lifetime rule).  Until then the tables (strings, stacks, frames)
 *      the queued events and ctrace_reader_stack() use stay in place.
 *      The cost: at each generation boundary the queue drains, and the
 *      consumer waits while the next generation's batches are read.
 *   5. A block's events share one state of the queries: the thread
 *      starts a new block whenever what the queries report (bytes read,
 *      generations started or delivered whole, ...) changed since the
 *      block's first event, and after each sync event.  ra_info is that
 *      state after the block's events; the end (the code of the last
 *      ctrace_reader_next) travels in the last block with the state after
 *      it.
 *   6. close() with the thread running sets `stop` and wakes it; the
 *      thread checks stop after every event it reads and in every wait,
 *      so the join takes at most the read of one generation.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "blockq.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Queue shape: blocks of 512 events (136 bytes each) and 8 KiB of copied
 * bytes, as many as make the events blockq_bytes(): twice one core's L2
 * cache, which blockq.h explains (measured on big120, read alone at -j 2:
 * 8 blocks = 0.6 MB, 0.92 s; 40 blocks = 2.8 MB, past the 2 MB L2,
 * 0.75 s; 64 or 96 blocks, the same; docs/PERFORMANCE.md). */
#define RA_EVENTS 512
/* How many events ahead the consumer prefetches (ahead_next). */
#define RA_PREFETCH 4
/* Bytes copied for one event at most: a range name made in scratch, the
 * attributes, the experimental args, with alignment. */
#define RA_EVENT_BYTES (GT_MAX_STRING_SIZE + 64 + 1 + 2 * sizeof(struct ctrace_attr) + 5 * 8 + 64)
#define RA_BYTES (4 * RA_EVENT_BYTES + (4 << 10))

/* What the public queries answer: the reader's fields after an event. */
struct ra_info {
    uint64_t pos;            /* ctrace_reader_bytes_read              */
    uint64_t ngens;          /* ctrace_reader_generation_count        */
    uint64_t complete_gens;  /* ctrace_reader_complete ...            */
    uint64_t complete_end;
    int64_t complete_span;
    uint64_t freq;           /* ctrace_reader_frequency               */
    int have_gen;            /* ctrace_reader_stack has a generation  */
    struct ctrace_losses losses;
};

struct ra_block {
    _Alignas(128) size_t n;  /* events in ev[] (each block's header on
                                lines of its own: see RA_LINE)          */
    int end;                 /* the reading ended after them, with rc   */
    int rc;
    struct ra_info info;     /* the state after each of them            */
    size_t used;             /* bytes of bytes[] in use                 */
    struct ctrace_event *ev;
    unsigned char *bytes;
};

/* An active task as the consumer's events show it (ctrace_reader_task). */
struct ra_task { uint64_t parent; size_t len; char name[]; };

/* The fields each thread writes often are kept on cache lines of their
 * own (RA_LINE apart): a line one thread writes at every event and the
 * other reads would travel between the cores at every event. */
#define RA_LINE 128

struct ahead {
    /* Set before the thread starts, then only read. */
    struct ctrace_reader *r;
    pthread_t th;
    size_t nblocks, block_events, block_bytes;
    struct ra_block *blocks;
    int v1;                  /* a v1 trace (no task mirror)               */

    _Alignas(RA_LINE) struct blockq q;

    /* The producer's: the block it fills (NULL: none claimed). */
    _Alignas(RA_LINE) struct ra_block *fill;

    /* The consumer's (and q.taken: blocks taken, the last is cur). */
    _Alignas(RA_LINE) struct ra_block *cur;
    size_t next;             /* index in cur of the next event to hand    */
    struct ra_info info0;    /* the state before the first event          */
    uint64_t nevents;        /* events handed out before the thread began */
    struct u64map tasks;     /* id -> struct ra_task * (v2 traces)        */
    _Alignas(RA_LINE) char end[];
};

/* ---- the state the queries report ---- */

static uint64_t freq_of(const struct ctrace_reader *r)
{
    if (!r->have_gen || r->g.freq <= 0)
        return 0;
    return (uint64_t)(1e9 / r->g.freq + 0.5);
}

static void info_take(struct ra_info *i, const struct ctrace_reader *r)
{
    i->pos = r->pos;
    i->ngens = r->ngens;
    i->complete_gens = r->complete_gens;
    i->complete_end = r->complete_end;
    i->complete_span = r->complete_span;
    i->freq = freq_of(r);
    i->have_gen = r->have_gen;
    i->losses = r->losses;
}

/* Whether the state moved since i was taken: only reading a generation
 * (bytes, generations, losses, frequency) and a sync event (generations
 * whole) move it, so three fields tell. */
static int info_moved(const struct ra_info *i, const struct ctrace_reader *r)
{
    return i->pos != r->pos || i->ngens != r->ngens || i->complete_gens != r->complete_gens;
}

/* ---- the producer ---- */

/* Whether p points into the reader itself: its per-call buffers, which the
 * next event overwrites. */
static int in_reader(const struct ctrace_reader *r, const void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)r;
    return a >= lo && a < lo + sizeof *r;
}

static void *take_bytes(struct ra_block *b, size_t n)
{
    size_t at = (b->used + 7) & ~(size_t)7;
    b->used = at + n;
    return b->bytes + at;
}

static void own_str(struct ctrace_reader *r, struct ra_block *b, struct ctrace_str *s)
{
    if (!in_reader(r, s->ptr))
        return;
    char *p = take_bytes(b, s->len + 1);
    memcpy(p, s->ptr, s->len);
    p[s->len] = 0;
    s->ptr = p;
}

/* Makes the block's next event, built in place (or copied there), own
 * whatever it points to in the reader. */
static void own_event(struct ctrace_reader *r, struct ra_block *b, struct ctrace_event *e)
{
    switch (e->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        own_str(r, b, &e->u.transition.reason);
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        own_str(r, b, &e->u.range.name);
        if (e->u.range.nattrs && in_reader(r, e->u.range.attrs)) {
            struct ctrace_attr *a = take_bytes(b, e->u.range.nattrs * sizeof *a);
            memcpy(a, e->u.range.attrs, e->u.range.nattrs * sizeof *a);
            for (size_t i = 0; i < e->u.range.nattrs; i++)
                own_str(r, b, &a[i].name);
            e->u.range.attrs = a;
        }
        break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        own_str(r, b, &e->u.task.name);
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        own_str(r, b, &e->u.region.name);
        break;
    case CTRACE_EV_LOG:
        own_str(r, b, &e->u.log.category);
        own_str(r, b, &e->u.log.message);
        break;
    case CTRACE_EV_LABEL:
        own_str(r, b, &e->u.label.label);
        break;
    case CTRACE_EV_METRIC:
        own_str(r, b, &e->u.metric.name);
        break;
    case CTRACE_EV_EXPERIMENTAL:
        own_str(r, b, &e->u.experimental.name);
        if (e->u.experimental.nargs && in_reader(r, e->u.experimental.args)) {
            uint64_t *a = take_bytes(b, e->u.experimental.nargs * sizeof *a);
            memcpy(a, e->u.experimental.args, e->u.experimental.nargs * sizeof *a);
            e->u.experimental.args = a;
        }
        break;
    default:
        break;
    }
}

/* Hands the block being filled to the consumer; `last`: the end, after
 * which nothing more comes. */
static void publish(struct ahead *a, int last)
{
    blockq_publish(&a->q, last);
    a->fill = NULL;
}

/* Claims the next free block (waiting, when the queue is full, until half
 * of it is free); NULL when told to stop. */
static struct ra_block *claim(struct ahead *a)
{
    long i = blockq_claim(&a->q);
    if (i < 0)
        return NULL;
    struct ra_block *b = &a->blocks[i];
    b->n = 0;
    b->used = 0;
    b->end = 0;
    b->rc = 0;
    a->fill = b;
    return b;
}

/* Before reading a generation past the first (rd_next): hands on the
 * block being filled and waits until the consumer is done with every
 * event queued (invariant 4).  0, or CTRACE_READER_EINVAL when told to
 * stop (nothing recorded: the reader is being closed). */
int ahead_before_generation(struct ctrace_reader *r)
{
    struct ahead *a = r->ahead;
    if (a->fill && a->fill->n) {
        publish(a, 0);
        r->dl.out = NULL; /* the slot is past the block handed on */
    }
    return blockq_wait_released(&a->q, 0, 0) < 0 ? CTRACE_READER_EINVAL : 0;
}

/* The thread: reads events, building each in the next slot of the block
 * it fills (no copy in the common case), until the end or `stop`. */
static void *producer(void *arg)
{
    struct ahead *a = arg;
    struct ctrace_reader *r = a->r;
    for (;;) {
        struct ra_block *b = a->fill;
        if (b && (b->n == a->block_events || b->used + RA_EVENT_BYTES > a->block_bytes)) {
            publish(a, 0);
            b = NULL;
        }
        if (!b && !(b = claim(a)))
            break;
        struct ctrace_event *slot = &b->ev[b->n];
        const struct ctrace_event *ev;
        r->dl.out = slot;
        int rc = rd_next(r, &ev);
        r->dl.out = NULL;
        if (blockq_stopped(&a->q))
            break;
        /* The block was handed on before a generation (or the event was
         * built elsewhere): the event goes to a block of its own. */
        if (a->fill != b && !(b = claim(a)))
            break;
        if (rc == 1 && ev != &b->ev[b->n]) {
            b->ev[b->n] = *ev;
            ev = &b->ev[b->n];
        }
        /* What the queries report moved (invariant 5): the event starts a
         * new block. */
        if (b->n && info_moved(&b->info, r)) {
            struct ctrace_event e = rc == 1 ? *ev : (struct ctrace_event){0};
            publish(a, 0);
            if (!(b = claim(a)))
                break;
            b->ev[0] = e;
        }
        if (!b->n)
            info_take(&b->info, r);
        if (rc != 1) {
            b->end = 1;
            b->rc = rc;
            publish(a, 1);
            break;
        }
        own_event(r, b, &b->ev[b->n]);
        b->n++;
        if (b->ev[b->n - 1].kind == CTRACE_EV_SYNC)
            publish(a, 0);
    }
    return NULL;
}

/* ---- the consumer ---- */

static void free_ahead(struct ahead *a)
{
    for (size_t i = 0; i < a->nblocks; i++) {
        free(a->blocks[i].ev);
        free(a->blocks[i].bytes);
    }
    free(a->blocks);
    uint64_t key;
    void *t;
    for (size_t i = 0; u64map_next_ptr(&a->tasks, &i, &key, &t);)
        free(t);
    u64map_free(&a->tasks);
    blockq_destroy(&a->q);
    free(a);
}

/* Internal (tests): the queue's shape for the next ahead_start of r. */
void rd_ahead_shape(struct ctrace_reader *r, size_t nblocks, size_t block_events)
{
    r->ahead_nblocks = nblocks;
    r->ahead_block_events = block_events;
}

/* Blocks of block_events for a queue of blockq_bytes() (above). */
static size_t queue_blocks(size_t block_events)
{
    size_t n = blockq_bytes() / (block_events * sizeof(struct ctrace_event));
    return n >= 2 ? n : 2;
}

int ahead_start(struct ctrace_reader *r)
{
    struct ahead *a = aligned_alloc(RA_LINE, sizeof *a);
    if (!a)
        return -1;
    memset(a, 0, sizeof *a);
    a->r = r;
    a->v1 = r->is_v1;
    a->block_events = r->ahead_block_events >= 1 ? r->ahead_block_events : RA_EVENTS;
    a->nblocks = r->ahead_nblocks >= 2 ? r->ahead_nblocks : queue_blocks(a->block_events);
    a->block_bytes = RA_BYTES;
    blockq_init(&a->q, a->nblocks);
    a->blocks = aligned_alloc(RA_LINE, a->nblocks * sizeof *a->blocks);
    if (a->blocks)
        memset(a->blocks, 0, a->nblocks * sizeof *a->blocks);
    int ok = a->blocks != NULL;
    for (size_t i = 0; ok && i < a->nblocks; i++) {
        a->blocks[i].ev = malloc(a->block_events * sizeof *a->blocks[i].ev);
        a->blocks[i].bytes = malloc(a->block_bytes);
        ok = a->blocks[i].ev && a->blocks[i].bytes;
    }
    if (!ok) {
        if (!a->blocks)
            a->nblocks = 0;
        free_ahead(a);
        return -1;
    }
    /* A check begun on two threads is given up (as when the caller reads
     * past its cut): from here the thread reads. */
    split_abort(r);
    info_take(&a->info0, r);
    a->nevents = r->dl.nevents;
    r->ahead = a;
    if (blockq_thread(&a->th, producer, a) != 0) {
        r->ahead = NULL;
        free_ahead(a);
        return -1;
    }
    return 0;
}

/* Stops the thread (if it still runs), joins it and frees the queue; the
 * reader is then the thread's to read alone again. */
void ahead_stop(struct ctrace_reader *r)
{
    struct ahead *a = r->ahead;
    if (!a)
        return;
    blockq_stop(&a->q);
    pthread_join(a->th, NULL);
    r->ahead = NULL;
    free_ahead(a);
}

/* The consumer's mirror of the active tasks: what the ordering's task
 * table holds after the events handed out (a task begins and ends in the
 * very call of ctrace_reader_next() that delivers its event). */
static void mirror_task(struct ahead *a, const struct ctrace_event *e)
{
    if (e->kind == CTRACE_EV_TASK_END) {
        free(u64map_take_ptr(&a->tasks, e->u.task.id));
    } else if (e->kind == CTRACE_EV_TASK_BEGIN) {
        struct ra_task *t = malloc(sizeof *t + e->u.task.name.len + 1);
        if (!t)
            return;
        t->parent = e->u.task.parent;
        t->len = e->u.task.name.len;
        memcpy(t->name, e->u.task.name.ptr, t->len);
        t->name[t->len] = 0;
        free(u64map_take_ptr(&a->tasks, e->u.task.id));
        if (u64map_put_ptr(&a->tasks, e->u.task.id, t) < 0)
            free(t);
    }
}

int ahead_next(struct ctrace_reader *r, const struct ctrace_event **ev)
{
    struct ahead *a = r->ahead;
    struct ra_block *b = a->cur;
    if (b && a->next == b->n && b->end) {
        int rc = b->rc;
        ahead_stop(r); /* the thread has returned: the join is immediate */
        return rc;
    }
    if (!b || a->next == b->n) {
        b = a->cur = &a->blocks[blockq_take(&a->q, b != NULL)];
        a->next = 0;
        if (b->n == 0)
            return ahead_next(r, ev); /* only the end */
    }
    /* The event a few ahead, asked of the cache now: its lines were
     * written by the other core, and a consumer with work of its own per
     * event (an export) otherwise waits for them when it comes to it
     * (big120, -j 2: chrome 1.24 -> 1.13 s, csv 1.58 -> 1.51 s; reading
     * alone, perfetto and go1.19 the same). */
    if (a->next + RA_PREFETCH < b->n) {
        const char *pf = (const char *)&b->ev[a->next + RA_PREFETCH];
        for (size_t off = 0; off < sizeof *b->ev; off += 64)
            __builtin_prefetch(pf + off, 0);
    }
    const struct ctrace_event *e = &b->ev[a->next++];
    a->nevents++;
    if (!a->v1 && (e->kind == CTRACE_EV_TASK_BEGIN || e->kind == CTRACE_EV_TASK_END))
        mirror_task(a, e);
    *ev = e;
    return 1;
}

/* ---- the queries, at the consumer's point ---- */

static const struct ra_info *ahead_info(const struct ahead *a) { return a->cur ? &a->cur->info : &a->info0; }

uint64_t ahead_bytes_read(const struct ahead *a) { return ahead_info(a)->pos; }
uint64_t ahead_event_count(const struct ahead *a) { return a->nevents; }
uint64_t ahead_generation_count(const struct ahead *a) { return ahead_info(a)->ngens; }
uint64_t ahead_frequency(const struct ahead *a) { return ahead_info(a)->freq; }
int ahead_have_gen(const struct ahead *a) { return ahead_info(a)->have_gen; }
void ahead_losses(const struct ahead *a, struct ctrace_losses *out) { *out = ahead_info(a)->losses; }

uint64_t ahead_complete(const struct ahead *a, uint64_t *end_offset, int64_t *span_ns)
{
    const struct ra_info *i = ahead_info(a);
    *end_offset = i->complete_end;
    *span_ns = i->complete_span;
    return i->complete_gens;
}

int ahead_task(const struct ahead *a, uint64_t id, uint64_t *parent, const char **name, size_t *len)
{
    const struct ra_task *t = u64map_get_ptr(&a->tasks, id);
    if (!t)
        return 0;
    *parent = t->parent;
    *name = t->name;
    *len = t->len;
    return 1;
}
