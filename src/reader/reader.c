/*
 * reader.c - the public reader: opening, the merge of per-thread batch
 * cursors, sync events and the queries.  It drives the layers below it
 * (generation.c reads generations, order.c orders events, v1.c reads v1
 * traces); they and it publish events through deliver.c and report errors
 * into errors.c, which call nothing back up.
 *
 * Merge (same policy as Go 1.23's parser, so the event order is the same):
 * the cursors form a min-heap on the time of their head event; the head of
 * the heap is offered to the ordering state machine first; if it cannot
 * advance yet, the heap is sorted by time and the others are offered in
 * that order; if none can, the trace is invalid.  CPU samples of the
 * generation are interleaved by time.  When a generation is exhausted a
 * sync event is delivered, then the next generation is read.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "fast.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- opening ---- */

/* Reads and checks "go 1.N trace\0\0\0". */
static int read_header(struct ctrace_reader *r)
{
    int64_t avail = in_fill(&r->in, 16);
    if (avail < 0)
        return rd_fail(r, (int)avail, 0, "read error: %s", strerror(r->in.err));
    const uint8_t *p = in_ptr(&r->in, 0);
    size_t n = (size_t)avail;
    size_t i = 0;
    int ver = 0;
    if (n < 5 || memcmp(p, "go 1.", 5) != 0)
        goto bad;
    for (i = 5; i < n && i < 8 && p[i] >= '0' && p[i] <= '9'; i++)
        ver = ver * 10 + (p[i] - '0');
    if (i == 5 || i + 9 > n || memcmp(p + i, " trace\0\0\0", 9) != 0)
        goto bad;
    r->pos = i + 9;
    r->complete_end = r->pos;
    r->version = 100 + ver;
    switch (ver) {
    case 22:
    case 23:
    case 25: /* 1.25: same events, frequency moved into a sync batch */
        return 0;
    case 11:
    case 19:
    case 21:
        r->is_v1 = r->dl.v1 = 1; /* read whole at the first ctrace_reader_next() */
        return 0;
    default:
        return rd_fail(r, CTRACE_READER_EVERSION, 0, "unknown or unsupported trace version go 1.%d", ver);
    }
bad:
    r->version = 0;
    return rd_fail(r, CTRACE_READER_EVERSION, 0, "bad file format: not a Go execution trace?");
}

static int finish_open(struct ctrace_reader *r, ctrace_reader **out)
{
    r->dl.g = &r->g;
    r->dl.o = &r->o;
    r->dl.err = &r->error;
    r->emitted_sync = 1; /* no sync before the first generation */
    int rc = read_header(r);
    *out = r;
    return rc;
}

int ctrace_reader_open_mem(const void *buf, size_t len, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (!buf && len)
        return CTRACE_READER_EINVAL;
    struct ctrace_reader *r = calloc(1, sizeof *r);
    if (!r)
        return CTRACE_READER_ENOMEM;
    in_open_mem(&r->in, buf, len);
    r->reference = !!(flags & CTRACE_READER_REFERENCE);
    return finish_open(r, out);
}

static int open_fd(int fd, int own, unsigned flags, ctrace_reader **out)
{
    struct ctrace_reader *r = calloc(1, sizeof *r);
    if (!r) {
        if (own)
            close(fd);
        return CTRACE_READER_ENOMEM;
    }
    in_open_fd(&r->in, fd, own, flags & CTRACE_READER_NO_MMAP);
    r->reference = !!(flags & CTRACE_READER_REFERENCE);
    return finish_open(r, out);
}

int ctrace_reader_open_fd(int fd, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (fd < 0)
        return CTRACE_READER_EINVAL;
    return open_fd(fd, 0, flags, out);
}

int ctrace_reader_open(const char *path, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (!path)
        return CTRACE_READER_EINVAL;
    if (strcmp(path, "-") == 0)
        return open_fd(STDIN_FILENO, 0, flags, out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CTRACE_READER_EOPEN;
    return open_fd(fd, 1, flags, out);
}

void ctrace_reader_close(ctrace_reader *r)
{
    if (!r)
        return;
    ahead_stop(r);
    split_abort(r);
    v1_free(r);
    in_close(&r->in);
    gen_free(&r->g);
    order_free(&r->o);
    dl_keep_free(&r->dl);
    free(r->heap);
    free(r);
}

/* ---- the frontier heap (same shape and tie-breaks as Go's) ---- */

static int64_t ht(struct ctrace_reader *r, size_t i) { return r->heap[i]->ev.time; }

static void hswap(struct ctrace_reader *r, size_t a, size_t b)
{
    struct mcursor *t = r->heap[a];
    r->heap[a] = r->heap[b];
    r->heap[b] = t;
}

static size_t sift_up(struct ctrace_reader *r, size_t i)
{
    while (i > 0 && ht(r, (i - 1) / 2) > ht(r, i)) {
        hswap(r, (i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    return i;
}

static void sift_down(struct ctrace_reader *r, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, rr = 2 * i + 2;
        int64_t mt = i < r->nheap ? ht(r, i) : INT64_MAX;
        if (l < r->nheap && ht(r, l) < mt) {
            m = l;
            mt = ht(r, l);
        }
        if (rr < r->nheap && ht(r, rr) < mt)
            m = rr;
        if (m == i)
            return;
        hswap(r, i, m);
        i = m;
    }
}

static void heap_remove(struct ctrace_reader *r, size_t i)
{
    while (i > 0) {
        hswap(r, (i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    hswap(r, 0, r->nheap - 1);
    r->nheap--;
    sift_down(r, 0);
}

/* Stable insertion sort by time: what Go's sort does on small frontiers. */
static void heap_sort(struct ctrace_reader *r)
{
    for (size_t i = 1; i < r->nheap; i++) {
        struct mcursor *c = r->heap[i];
        size_t j = i;
        while (j > 0 && r->heap[j - 1]->ev.time > c->ev.time) {
            r->heap[j] = r->heap[j - 1];
            j--;
        }
        r->heap[j] = c;
    }
}

/* The ordering queue's head, taken off.  Delivered in place: the slot is
 * reused only by a push, which comes after the queue is empty. */
static struct rev *dequeue(struct order *o)
{
    struct rev *v = &o->q[o->qhead];
    o->qhead = (o->qhead + 1) % 8;
    o->qlen--;
    return v;
}

static int pop(struct ctrace_reader *r, const struct ctrace_event **out)
{
    return rd_deliver(r, dequeue(&r->o), out);
}

/* Whether a CPU sample of the generation is due before time t (delivered
 * first: rd_next()). */
static inline int sample_before(const struct generation *g, int64_t t)
{
    return g->sample_pos < g->nsamples && g->samples[g->sample_pos].time < t;
}

/* The earliest thread has a next event (more) or none: the heap fixed.
 * It stays on top while no child is earlier (most of the time: threads
 * run in bursts). */
static inline __attribute__((always_inline)) void top_moved(struct ctrace_reader *r, int more)
{
    if (!more) {
        heap_remove(r, 0);
        return;
    }
    int64_t t = r->heap[0]->ev.time;
    if ((r->nheap > 1 && ht(r, 1) < t) || (r->nheap > 2 && ht(r, 2) < t))
        sift_down(r, 0);
}

/* Offers frontier entry i to the ordering; 1 if it advanced. */
static int try_advance(struct ctrace_reader *r, size_t i)
{
    struct mcursor *c = r->heap[i];
    int ok = order_advance(r, &c->ev, c->m, r->g.gen, &c->ms_hint);
    if (ok <= 0)
        return ok;
    /* cursor_next() itself, not cursor_next_fast(): the reading of
     * ctrace_reader_next() stays the plain one, which the fuzzer and the
     * unit tests compare the check-only loop's fast paths with. */
    int more = cursor_next(r, c);
    if (more < 0)
        return more;
    if (i == 0)
        top_moved(r, more);
    else if (!more)
        heap_remove(r, i);
    else if (sift_up(r, i) == i)
        sift_down(r, i);
    return 1;
}

static int load_generation(struct ctrace_reader *r)
{
    dl_keep_free(&r->dl);
    int rc = gen_read(r);
    if (rc < 0)
        return rc;
    r->have_gen = 1;
    r->ngens++;
    if (r->g.nms > r->heap_cap) {
        struct mcursor **h = realloc(r->heap, r->g.nms * sizeof *h);
        if (!h)
            return rd_fail(r, CTRACE_READER_ENOMEM, r->pos, "out of memory");
        r->heap = h;
        r->heap_cap = r->g.nms;
    }
    r->nheap = 0;
    for (size_t i = 0; i < r->g.nms; i++) {
        struct mcursor *c = &r->g.ms[i];
        int more = cursor_next(r, c);
        if (more < 0)
            return more;
        if (!more)
            continue;
        r->heap[r->nheap++] = c;
        sift_up(r, r->nheap - 1);
    }
    r->emitted_sync = 0;
    return 0;
}

/* The frontier's earliest thread could not advance: offers the others in
 * order of time (as Go does); 1, or the error that none can. */
static int advance_other(struct ctrace_reader *r)
{
    int ok = 0;
    heap_sort(r);
    for (size_t i = 1; i < r->nheap && !ok; i++) {
        ok = try_advance(r, i);
        if (ok < 0)
            return ok;
    }
    if (!ok) {
        char nb[24];
        struct mcursor *c = r->heap[0];
        return rd_fail_cut(r, CTRACE_READER_EINVALID, c->ev.off,
                           "broken trace: no thread can advance (generation %llu, earliest pending "
                           "event %s on thread %lld)",
                           (unsigned long long)r->g.gen, rspec_name(c->ev.typ, nb), (long long)c->m);
    }
    return 1;
}

/* rd_next()'s fast step: the frontier's earliest thread's event, when
 * fast_accept() takes it, delivered without the ordering queue -- built
 * in place from the cursor's event with the thread's context before the
 * change (what order.c's handlers push), published once the thread's
 * next event decoded (fast.h's invariants).  1 and *ev, 0 when the
 * general step must decide (nothing changed), or the error of the
 * successor's decoding. */
static inline __attribute__((always_inline)) int next_fast(struct ctrace_reader *r,
                                                           const struct ctrace_event **ev)
{
    struct mcursor *c = r->heap[0];
    struct delivery *d = &r->dl;
    struct ctrace_event *e = dl_target(d);
    if (!fast_accept(r, c, d->quiet ? NULL : e))
        return 0;
    int64_t t = c->ev.time;
    uint64_t raw = c->ev.raw;
    int more = cursor_next_fast(&r->g, c) ? 1 : cursor_next(r, c);
    if (more < 0)
        return more;
    dl_publish(d, e, t, raw);
    top_moved(r, more);
    *ev = e;
    return 1;
}

int ctrace_reader_next(ctrace_reader *r, const struct ctrace_event **ev)
{
    if (!r || !ev)
        return CTRACE_READER_EINVAL;
    *ev = NULL;
    if (r->ahead)
        return ahead_next(r, ev);
    /* The thread starts at the first read that can give an event (once:
     * if it cannot start, the reading goes on here). */
    if (r->ahead_threads > 1 && !r->ahead_tried && !r->error.code && !r->done) {
        r->ahead_tried = 1;
        if (ahead_start(r) == 0)
            return ahead_next(r, ev);
    }
    return rd_next(r, ev);
}

int rd_next(struct ctrace_reader *r, const struct ctrace_event **ev)
{
    *ev = NULL;
    if (r->error.code)
        return r->error.code;
    if (r->done)
        return 0;
    if (r->is_v1)
        return v1_next(r, ev);
    if (r->o.qlen)
        return pop(r, ev);
    struct generation *g = &r->g;
    if (r->nheap == 0 && g->sample_pos == g->nsamples) {
        if (!r->emitted_sync) {
            r->emitted_sync = 1;
            r->complete_gens++;
            r->complete_end = r->gen_end;
            r->cur = (struct rev){0};
            r->cur.typ = RT_SYNC;
            r->cur.time = r->dl.last_ts;
            r->cur.m = r->cur.p = r->cur.g = CTRACE_NO_ID;
            int rc = rd_deliver(r, &r->cur, ev);
            r->complete_span = (*ev)->since_start;
            return rc;
        }
        if (r->error.deferred)
            return err_raise_deferred(&r->error);
        if (r->have_gen && !r->spill) {
            r->done = 1;
            return 0;
        }
        /* Read ahead: the generation's tables are about to be reused;
         * the caller must be done with the events that use them. */
        if (r->ahead && r->have_gen) {
            int rc = ahead_before_generation(r);
            if (rc < 0)
                return rc;
        }
        int rc = load_generation(r);
        if (rc < 0)
            return rc;
    }
    if (r->nheap ? sample_before(g, r->heap[0]->ev.time) : g->sample_pos < g->nsamples) {
        const struct sample *s = &g->samples[g->sample_pos++];
        r->cur = (struct rev){0};
        r->cur.typ = GT_EV_CPU_SAMPLE;
        r->cur.time = s->time;
        r->cur.raw = s->raw;
        r->cur.m = s->m;
        r->cur.p = s->p;
        r->cur.g = s->g;
        r->cur.args[0] = s->stack;
        r->cur.off = s->off;
        return rd_deliver(r, &r->cur, ev);
    }
    if (r->nheap == 0)
        return rd_fail_cut(r, CTRACE_READER_EINVALID, r->pos, "broken trace: generation %llu has no events",
                       (unsigned long long)g->gen);
    if (!r->reference) {
        int rc = next_fast(r, ev);
        if (rc)
            return rc;
    }
    int ok = try_advance(r, 0);
    if (ok < 0)
        return ok;
    if (!ok && (ok = advance_other(r)) < 0)
        return ok;
    return pop(r, ev);
}

/* The check-only loop: what ctrace_reader_next() does, with delivery told
 * not to build the public events (the caller sets r->dl.quiet).  Its
 * common step -- the frontier's earliest thread advances, the events it
 * accepts are checked and counted as they are pushed (o->now,
 * dl_deliver_now) or, behind one that must wait, from the queue
 * (dl_deliver_quiet) -- runs here without a call per event; every other
 * step (a generation's end or start, a CPU sample due, a frontier whose
 * earliest thread cannot advance, v1, an error) is rd_next()'s own.  The
 * order, the checks, the counts and the error are the same code's.
 * Reads up to max events (*n: how many); returns 1 after max, 2 after the
 * sync event that completes generation `until`, 0 at the end, or <0. */
int rd_check(struct ctrace_reader *r, uint64_t max, uint64_t *n, uint64_t until)
{
    struct order *o = &r->o;
    const struct generation *g = &r->g;
    const struct ctrace_event *ev;
    uint64_t i = 0;
    int rc = 1;
    while (i < max) {
        if (o->qlen) {
            /* pop(), delivered quietly */
            if ((rc = dl_deliver_quiet(&r->dl, dequeue(o))) != 1)
                break;
            i++;
            continue;
        }
        if (!r->error.code && !r->done && !r->is_v1 && !r->reference && r->nheap &&
            !sample_before(g, r->heap[0]->ev.time)) {
            /* The hot types' success path (fast.h), event after event
             * while it applies: each counted once its thread's next event
             * decoded.  Nothing it does can set an error, end the reading
             * or queue an event, so between two steps only the frontier
             * and the CPU samples due need a look again. */
            struct mcursor *c = r->heap[0];
            if (fast_accept(r, c, NULL)) {
                int more;
                do {
                    int64_t t = c->ev.time;
                    uint64_t raw = c->ev.raw;
                    more = cursor_next_fast(g, c) ? 1 : cursor_next(r, c);
                    if (more < 0)
                        break;
                    dl_fix_time(&r->dl, t);
                    r->dl.last_raw = raw;
                    r->dl.nevents++;
                    top_moved(r, more);
                    i++;
                    if (i == max || !r->nheap)
                        break;
                    c = r->heap[0];
                } while (!sample_before(g, c->ev.time) && fast_accept(r, c, NULL));
                if (more < 0) {
                    rc = more;
                    break;
                }
                continue;
            }
            /* rd_next()'s last step, up to its pop(); the events it
             * accepts are delivered as they are pushed while max leaves
             * room for all of them (a step accepts 3 at most, 2 of them
             * at the push) -- undone if the thread's next event then
             * fails to decode, since rd_next() would have failed before
             * delivering them. */
            struct dl_mark mark;
            dl_mark(&r->dl, &mark);
            o->now = max - i > 3 ? &r->dl : NULL;
            o->nnow = 0;
            rc = try_advance(r, 0);
            if (rc == 0)
                rc = advance_other(r);
            o->now = NULL;
            if (rc < 0) {
                if (o->nnow)
                    dl_undo(&r->dl, &mark);
                break;
            }
            i += o->nnow;
            rc = 1;
            continue;
        }
        if ((rc = rd_next(r, &ev)) != 1)
            break;
        i++;
        /* Only rd_next() delivers a sync event (complete_gens++). */
        if (r->complete_gens == until) {
            rc = 2;
            break;
        }
    }
    *n = i;
    return rc;
}

int ctrace_reader_check(ctrace_reader *r, uint64_t max)
{
    if (!r)
        return CTRACE_READER_EINVAL;
    const struct ctrace_event *ev;
    int rc = 1;
    if (r->ahead) {
        /* The thread reads: take its events (they are built anyway). */
        for (uint64_t i = 0; i < max && (rc = ahead_next(r, &ev)) == 1; i++)
            ;
        return rc;
    }
    if (r->split_threads > 1 && !r->split_tried)
        split_start(r);
    /* Split: A verifies the second reader's part right after the sync
     * event of its own last generation, which ends the check, or reads on
     * alone.  That sync read by ctrace_reader_next() instead: A then reads
     * past it, on its own. */
    if (r->split && r->complete_gens == split_a_gens(r))
        split_abort(r);
    r->dl.quiet = 1;
    uint64_t done = 0;
    while (done < max) {
        uint64_t n;
        rc = rd_check(r, max - done, &n, r->split ? split_a_gens(r) : UINT64_MAX);
        done += n;
        if (rc != 2)
            break;
        rc = 1;
        if (r->ngens != split_a_gens(r)) {
            split_abort(r);
        } else if (split_finish(r)) {
            rc = 0;
            break;
        }
    }
    if (rc != 1)
        split_abort(r);
    r->dl.quiet = 0;
    return rc;
}

/* ---- queries ---- */

size_t ctrace_reader_stack(ctrace_reader *r, uint64_t stack, const struct ctrace_frame **frames)
{
    const struct ctrace_frame *dummy;
    if (!frames)
        frames = &dummy;
    *frames = NULL;
    if (!r || !(r->ahead ? ahead_have_gen(r->ahead) : r->have_gen))
        return 0;
    return gen_stack(&r->g, stack, frames);
}

int ctrace_reader_task(ctrace_reader *r, uint64_t id, uint64_t *parent, struct ctrace_str *name)
{
    uint64_t p;
    const char *n;
    size_t len;
    if (!r || !(r->ahead ? ahead_task(r->ahead, id, &p, &n, &len) : order_task(&r->o, id, &p, &n, &len)))
        return 0;
    if (parent)
        *parent = p;
    if (name)
        *name = (struct ctrace_str){n, len};
    return 1;
}

int ctrace_reader_version(const ctrace_reader *r) { return r ? r->version : 0; }

int ctrace_reader_read_ahead(ctrace_reader *r, unsigned threads)
{
    /* ahead_tried first: with the thread running, the rest is its own. */
    if (!r || threads < 1 || r->ahead_tried || r->have_gen || r->dl.nevents || r->v1)
        return CTRACE_READER_EINVAL;
    r->ahead_threads = threads;
    return 0;
}

const char *ctrace_reader_error(const ctrace_reader *r, uint64_t *offset)
{
    /* While the thread runs the consumer has met no error: the thread
     * stops at the first one, which travels at the end of the queue. */
    if (!r || r->ahead || !r->error.code)
        return NULL;
    if (offset)
        *offset = r->error.off;
    return r->error.msg;
}

uint64_t ctrace_reader_complete(const ctrace_reader *r, uint64_t *end_offset, int64_t *span_ns)
{
    int v2 = r && !r->is_v1;
    if (v2 && r->ahead) {
        uint64_t end;
        int64_t span;
        uint64_t n = ahead_complete(r->ahead, &end, &span);
        if (end_offset)
            *end_offset = end;
        if (span_ns)
            *span_ns = span;
        return n;
    }
    if (end_offset)
        *end_offset = v2 ? r->complete_end : 0;
    if (span_ns)
        *span_ns = v2 ? r->complete_span : 0;
    return v2 ? r->complete_gens : 0;
}

/* With the read-ahead thread running, the counts are the consumer's
 * (ahead.c): what they were after the last event it was handed. */
uint64_t ctrace_reader_bytes_read(const ctrace_reader *r)
{
    return !r ? 0 : r->ahead ? ahead_bytes_read(r->ahead) : r->pos;
}

int64_t ctrace_reader_size(const ctrace_reader *r) { return r ? r->in.size : -1; }

uint64_t ctrace_reader_event_count(const ctrace_reader *r)
{
    return !r ? 0 : r->ahead ? ahead_event_count(r->ahead) : r->dl.nevents;
}

uint64_t ctrace_reader_generation_count(const ctrace_reader *r)
{
    return !r ? 0 : r->ahead ? ahead_generation_count(r->ahead) : r->ngens;
}

uint64_t ctrace_reader_frequency(const ctrace_reader *r)
{
    if (r && r->ahead)
        return ahead_frequency(r->ahead);
    if (!r || !r->have_gen || r->g.freq <= 0)
        return 0;
    return (uint64_t)(1e9 / r->g.freq + 0.5);
}
