/*
 * split.c - checking a large mapped trace on two threads (the split
 * check): ctrace_reader_check() after ctrace_reader_check_threads().
 *
 * Generations are almost independent: a generation restates the status of
 * every goroutine, proc and thread it uses, which is what lets Go's parser
 * start a trace at any generation (the flight recorder's snapshots).  They
 * are not quite independent for validation: the state one generation ends
 * with is the one the next is checked against (a status must match the
 * carried one, a goroutine created must not exist yet, a region end must
 * match a region begun earlier...).  So the split is speculative, and
 * verified:
 *
 *   - The input (mapped, v2) is cut at a generation boundary chosen so that
 *     both halves cost about the same: reader A (the caller's) reads
 *     generations 1..j, reader B (a second reader on the same mapping, on a
 *     thread of its own) reads j..n, taking generation j as its first (as
 *     Go reads a trace that starts there).  Generation j is read by both.
 *   - B copies its ordering state when it has read generation j (B1), then
 *     goes on in speculative mode (order.c, o->spec): every lookup that
 *     misses and every object it creates on a miss is recorded (struct
 *     assume), as is a scan of the threads for a proc and the first GC
 *     event met with the GC state unknown.
 *   - When A has read generation j (its state A' is the one the sequential
 *     reading has there), B is joined and the speculation verified:
 *       1. every object of B1 is in A' with exactly the same state (status,
 *          sequence, regions, ranges, context; tasks with parent and name),
 *          and the GC state is the same or unknown to B;
 *       2. the objects of A' that B1 lacks (hidden: say a goroutine blocked
 *          through generation j) were never seen by B, or the first time B
 *          met one it assumed exactly what A' holds (a restated status with
 *          no regions or ranges; a thread's empty context);
 *       3. no scan of B's could have found a hidden thread, or two;
 *       4. B's first GC event follows A''s GC sequence.
 *     Then each event of B's generations after j met the same state the
 *     sequential reading would have (by induction over the events: each
 *     lookup finds the same object, or none, in both), so B's verdict and
 *     counts are the sequential ones.
 *   - Anything else -- B failed (an invalid trace, a cut one, a generation
 *     that needs the state before it, no memory), the verification failed,
 *     the caller mixed in ctrace_reader_next() past generation j -- and A
 *     simply goes on reading sequentially from generation j+1: errors and
 *     counts are always the sequential reading's own, only slower.
 *
 * Threads: B touches only its own reader and the shared read-only mapping
 * (in_release on its own part; pages the other half gives back are faulted
 * in again).  A and B meet only at the join.  `stop` asks B to give up
 * (A failed, the reader is closed).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "varint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- snapshots of the ordering state ---- */

/* One object: kind, id, a few fields for the hidden-object checks, and its
 * whole state serialised in the snapshot's arena. */
struct srec {
    uint8_t kind;
    uint64_t id;
    uint64_t f0, f1; /* G: status, ranges; P: status, ranges; M: g, p */
    size_t off, len;
};

struct osnap {
    struct srec *v; size_t n, cap;
    uint8_t *arena; size_t alen, acap;
    uint64_t gc_seq;
    int gc_state;
    int oom;
};

static void snap_free(struct osnap *s)
{
    free(s->v);
    free(s->arena);
    memset(s, 0, sizeof *s);
}

static void put(struct osnap *s, const void *p, size_t n)
{
    if (s->oom)
        return;
    if (RESERVE(s->arena, s->alen + n, s->acap) < 0) {
        s->oom = 1;
        return;
    }
    if (n)
        memcpy(s->arena + s->alen, p, n);
    s->alen += n;
}

static void put64(struct osnap *s, uint64_t v) { put(s, &v, sizeof v); }

static int rng_cmp(const void *a, const void *b)
{
    const struct rng *x = a, *y = b;
    if (x->typ != y->typ)
        return x->typ < y->typ ? -1 : 1;
    return x->desc < y->desc ? -1 : x->desc > y->desc;
}

/* A range set, in a canonical order (the two readers built it by
 * different histories). */
static void put_ranges(struct osnap *s, const struct rngset *rs)
{
    put64(s, rs->n);
    if (!rs->n)
        return;
    struct rng *t = malloc(rs->n * sizeof *t);
    if (!t) {
        s->oom = 1;
        return;
    }
    memcpy(t, rs->v, rs->n * sizeof *t);
    qsort(t, rs->n, sizeof *t, rng_cmp);
    for (size_t i = 0; i < rs->n; i++) {
        put64(s, t[i].typ);
        put64(s, t[i].desc);
    }
    free(t);
}

static void begin_rec(struct osnap *s, uint8_t kind, uint64_t id, uint64_t f0, uint64_t f1)
{
    if (s->oom || GROW(s->v, s->n, s->cap) < 0) {
        s->oom = 1;
        return;
    }
    s->v[s->n++] = (struct srec){kind, id, f0, f1, s->alen, 0};
}

static void end_rec(struct osnap *s)
{
    if (!s->oom)
        s->v[s->n - 1].len = s->alen - s->v[s->n - 1].off;
}

static int srec_cmp(const void *a, const void *b)
{
    const struct srec *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Every live object of o, sorted by (kind, id). */
static void snap_take(const struct order *o, struct osnap *s)
{
    uint64_t key, val;
    for (size_t i = 0; u64map_next(&o->gmap, &i, &key, &val);) {
        const struct gstate *g = &o->gs[val];
        begin_rec(s, AS_G, key, g->status, g->ranges.n);
        put64(s, g->status);
        put64(s, g->seq_gen);
        put64(s, g->seq);
        put64(s, g->nregions);
        for (size_t k = 0; k < g->nregions; k++) {
            put64(s, g->regions[k].task);
            put64(s, g->regions[k].len);
            put(s, g->names + g->regions[k].off, g->regions[k].len);
        }
        put_ranges(s, &g->ranges);
        end_rec(s);
    }
    for (size_t i = 0; u64map_next(&o->pmap, &i, &key, &val);) {
        const struct pstate *p = &o->ps[val];
        begin_rec(s, AS_P, key, p->status, p->ranges.n);
        put64(s, p->status);
        put64(s, p->seq_gen);
        put64(s, p->seq);
        put_ranges(s, &p->ranges);
        end_rec(s);
    }
    for (size_t i = 0; u64map_next(&o->thmap, &i, &key, &val);) {
        const struct mstate *m = &o->mss[val];
        begin_rec(s, AS_M, key, m->g, m->p);
        put64(s, m->g);
        put64(s, m->p);
        end_rec(s);
    }
    for (size_t i = 0; u64map_next(&o->taskmap, &i, &key, &val);) {
        const struct task *t = &o->tasks[val];
        begin_rec(s, AS_T, key, 0, 0);
        put64(s, t->parent);
        put64(s, t->len);
        put(s, t->name, t->len);
        end_rec(s);
    }
    s->gc_seq = o->gc_seq;
    s->gc_state = o->gc_state;
    if (!s->oom)
        qsort(s->v, s->n, sizeof *s->v, srec_cmp);
}

static const struct srec *snap_find(const struct srec *v, size_t n, uint8_t kind, uint64_t id)
{
    struct srec key = {.kind = kind, .id = id};
    return bsearch(&key, v, n, sizeof *v, srec_cmp);
}

/* ---- the verification ---- */

/* A goroutine's record (snap_take's layout): status, seq_gen, seq, then
 * its regions, bottom first (task, name length, name), then its ranges. */
struct gview {
    const uint8_t *head;  /* status, seq_gen, seq: 24 bytes */
    uint64_t nreg;
    const uint8_t *regs;  /* the regions' bytes */
    const uint8_t *rest;  /* the ranges' bytes, to the record's end */
    size_t rest_len;
};

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Bytes of regions [from, to) of g's region list starting at p. */
static const uint8_t *region_at(const uint8_t *p, uint64_t k)
{
    while (k--)
        p += 16 + get64(p + 8);
    return p;
}

static void gview_of(const struct osnap *s, const struct srec *r, struct gview *v)
{
    const uint8_t *p = s->arena + r->off, *end = p + r->len;
    v->head = p;
    v->nreg = get64(p + 24);
    v->regs = p + 32;
    v->rest = region_at(v->regs, v->nreg);
    v->rest_len = (size_t)(end - v->rest);
}

/* The same goroutine in A' and B1: the same status and sequence, the same
 * ranges, and B1's regions the top of A''s; *carried = how many of A''s
 * regions (the bottom ones) B did not see begin. */
static int same_goroutine(const struct osnap *a, const struct srec *ra, const struct osnap *b,
                          const struct srec *rb, uint64_t *carried)
{
    struct gview va, vb;
    gview_of(a, ra, &va);
    gview_of(b, rb, &vb);
    if (memcmp(va.head, vb.head, 24) || va.nreg < vb.nreg || va.rest_len != vb.rest_len ||
        memcmp(va.rest, vb.rest, va.rest_len))
        return 0;
    *carried = va.nreg - vb.nreg;
    const uint8_t *top = region_at(va.regs, *carried);
    return (size_t)(va.rest - top) == (size_t)(vb.rest - vb.regs) && memcmp(top, vb.regs, (size_t)(vb.rest - vb.regs)) == 0;
}

/* Regions begun before B's half that B may see end: per goroutine, A''s
 * record and how many of its bottom regions are still open. */
struct carry { const struct srec *rec; uint64_t left; };

/* Is B's speculation (B1, its assumptions) true of A' (see the header)? */
static int verify(const struct osnap *a, const struct osnap *b1, const struct order *bo)
{
    if (a->oom || b1->oom || bo->as_oom)
        return 0;
    /* 1. B1 within A', equal; the rest of A' is hidden. */
    struct srec *hidden = malloc((a->n ? a->n : 1) * sizeof *hidden);
    struct carry *carry = malloc((a->n ? a->n : 1) * sizeof *carry);
    struct u64map carried = {0}; /* goroutine -> index in carry */
    size_t ncarry = 0;
    if (!hidden || !carry) {
        free(hidden);
        free(carry);
        return 0;
    }
    size_t nh = 0, i = 0, k = 0;
    int ok = 1;
    while (ok && (i < a->n || k < b1->n)) {
        int c = i == a->n ? 1 : k == b1->n ? -1 : srec_cmp(&a->v[i], &b1->v[k]);
        if (c < 0) {
            hidden[nh++] = a->v[i++];
        } else if (c > 0) {
            ok = 0; /* B knows an object the sequential reading does not */
        } else if (a->v[i].kind == AS_G) {
            uint64_t n = 0;
            ok = same_goroutine(a, &a->v[i], b1, &b1->v[k], &n);
            if (ok && n) {
                carry[ncarry] = (struct carry){&a->v[i], n};
                ok = u64map_put(&carried, a->v[i].id, ncarry++) == 0;
            }
            i++;
            k++;
        } else {
            ok = a->v[i].len == b1->v[k].len &&
                 memcmp(a->arena + a->v[i].off, b1->arena + b1->v[k].off, a->v[i].len) == 0;
            i++;
            k++;
        }
    }
    if (ok && b1->gc_state != GC_UNDETERMINED)
        ok = b1->gc_state == a->gc_state && b1->gc_seq == a->gc_seq;

    /* 2.-4. The assumptions, each (kind, id) at its first occurrence: after
     * it the object is the same in both readings. */
    struct u64map seen[AS_KINDS];
    memset(seen, 0, sizeof seen);
    for (size_t x = 0; ok && x < bo->nas; x++) {
        const struct assume *as = &bo->as[x];
        if (as->kind == AS_PSCAN) {
            if (as->a > 1) {
                ok = 0; /* which of two threads is found depends on pool order */
                break;
            }
            for (size_t h = 0; h < nh && ok; h++)
                if (hidden[h].kind == AS_M && hidden[h].f1 == as->id)
                    ok = 0;
            continue;
        }
        if (as->kind == AS_RUNDER) {
            /* The sequential reading ends the innermost region begun in
             * the other half, if any: it must be this one. */
            const uint64_t *ci = u64map_get(&carried, as->id);
            if (!ci || carry[*ci].left == 0)
                continue; /* none open there either */
            struct carry *c = &carry[*ci];
            struct gview v;
            gview_of(a, c->rec, &v);
            const uint8_t *top = region_at(v.regs, --c->left);
            size_t len = (size_t)(as->b & 0xffff), off = (size_t)(as->b >> 16);
            ok = get64(top) == as->a && get64(top + 8) == len &&
                 (len == 0 || memcmp(top + 16, bo->as_names + off, len) == 0);
            continue;
        }
        if (as->kind == AS_GC) {
            /* B's first GC event with the state unknown to it: GCBegin. */
            if (a->gc_state == GC_RUNNING || (a->gc_state == GC_NOT_RUNNING && as->id != a->gc_seq + 1))
                ok = 0;
            continue;
        }
        if (u64map_get(&seen[as->kind], as->id)) {
            /* Met before: the object is the same in both readings since,
             * and a miss is a miss in both -- but a goroutine restated
             * after it was gone is an error of the sequential reading. */
            if (as->kind == AS_G && !as->absent)
                ok = 0;
            continue;
        }
        if (u64map_put(&seen[as->kind], as->id, 1) < 0) {
            ok = 0;
            break;
        }
        const struct srec *h = snap_find(hidden, nh, as->kind, as->id);
        if (as->absent) {
            ok = h == NULL; /* missed by B, found by the sequential reading */
            continue;
        }
        switch (as->kind) {
        case AS_G: /* a restated status: only of a hidden goroutine, as it
                    * is, no ranges; its regions begun in the other half */
            ok = h && h->f0 == as->a && h->f1 == 0;
            if (ok) {
                struct gview v;
                gview_of(a, h, &v);
                if (v.nreg) {
                    carry[ncarry] = (struct carry){h, v.nreg};
                    ok = u64map_put(&carried, as->id, ncarry++) == 0;
                }
            }
            break;
        case AS_P: /* a proc's status: new to both, or hidden and the same */
            ok = !h || (h->f0 == as->a && h->f1 == 0);
            break;
        case AS_M: /* a thread's context: new to both, or hidden and the same */
            ok = !h || (h->f0 == as->a && h->f1 == as->b);
            break;
        default:
            ok = 0;
        }
    }
    for (int kk = 0; kk < AS_KINDS; kk++)
        u64map_free(&seen[kk]);
    u64map_free(&carried);
    free(carry);
    free(hidden);
    return ok;
}

/* ---- the second reader ---- */

struct split {
    pthread_t th;
    struct ctrace_reader *b;
    uint64_t a_gens;          /* A's part: generations 1..a_gens        */
    _Atomic int stop;
    int rc;                   /* B's result                             */
    struct osnap b1;          /* B's state after its first generation   */
    int have_b1;
    uint64_t b1_events;
    struct ctrace_losses b1_losses;
};

static void *b_main(void *arg)
{
    struct split *s = arg;
    struct ctrace_reader *b = s->b;
    uint64_t n, until = 1;
    int rc;
    b->dl.quiet = 1;
    /* Its first generation; there the snapshot B1, and speculation from
     * then on.  Every 64 Ki events: does A want it to stop? */
    while ((rc = rd_check(b, 0x10000, &n, until)) >= 1) {
        if (rc == 2) {
            snap_take(&b->o, &s->b1);
            s->have_b1 = 1;
            s->b1_events = b->dl.nevents;
            s->b1_losses = b->losses;
            b->o.spec = 1;
            until = UINT64_MAX;
        }
        if (atomic_load_explicit(&s->stop, memory_order_relaxed)) {
            rc = CTRACE_READER_EINVAL;
            break;
        }
    }
    s->rc = rc;
    return NULL;
}

/* Generation starts of the input after the header, by batch headers
 * alone; 0 and nothing found when anything looks wrong (the sequential
 * reading reports it).  starts[i] = offset of generation i+1's first batch,
 * starts[n] = the end. */
static size_t scan_generations(struct ctrace_reader *r, uint64_t **out)
{
    struct input *in = &r->in;
    uint64_t off = r->pos, end = in->base_off + in->len, gen = 0, given = r->pos;
    uint64_t *st = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    while (off < end) {
        const uint8_t *p = in_ptr(in, off), *e = in_ptr(in, end);
        uint8_t typ = *p++;
        if (typ == GT_EV_EXPERIMENTAL_BATCH) {
            if (p >= e)
                goto bad;
            p++;
        } else if (typ != GT_EV_EVENT_BATCH) {
            goto bad;
        }
        uint64_t a[4];
        for (int k = 0; k < 4; k++)
            if (varint_get(&p, e, &a[k]))
                goto bad;
        uint64_t data = off + (uint64_t)(p - in_ptr(in, off));
        if (a[0] == 0 || a[3] > GT_MAX_BATCH_SIZE || a[3] > end - data)
            goto bad;
        if (a[0] != gen) {
            if (gen && a[0] != gen + 1)
                goto bad;
            if (GROW(st, n, cap) < 0)
                goto bad;
            st[n++] = off;
            gen = a[0];
        }
        off = data + a[3];
        /* A page around every header is faulted in: given back every few
         * MB, so that the scan never holds more (each reader faults in
         * what it reads). */
        if (off - given > (4u << 20)) {
            in_discard(in, given, off - given);
            given = off;
        }
    }
    in_discard(in, given, off - given);
    if (n < 3 || GROW(st, n, cap) < 0)
        goto bad;
    st[n] = end;
    *out = st;
    return n;
bad:
    free(st);
    return 0;
}

static void split_free(struct ctrace_reader *r)
{
    struct split *s = r->split;
    if (!s)
        return;
    if (s->b) {
        s->b->in.map = NULL; /* the mapping is A's */
        ctrace_reader_close(s->b);
    }
    snap_free(&s->b1);
    free(s);
    r->split = NULL;
}

/* Stops and forgets the second reader (A goes on alone, or is done). */
void split_abort(struct ctrace_reader *r)
{
    struct split *s = r->split;
    if (!s)
        return;
    r->split_outcome = CTRACE_SPLIT_FELL_BACK;
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    split_free(r);
}

void split_start(struct ctrace_reader *r)
{
    r->split_tried = 1;
    const struct input *in = &r->in;
    if (r->split_threads < 2 || r->is_v1 || r->version < 122 || in->stream || r->have_gen ||
        r->error.code || (uint64_t)in->size < r->split_min || in->size < 1)
        return;
    uint64_t *st;
    size_t n = scan_generations(r, &st);
    if (!n)
        return;
    /* B's first generation j (1-based, 2..n-1): A reads st[0]..st[j],
     * B st[j-1]..st[n]; the longer of the two as short as it can be. */
    size_t best = 0;
    uint64_t best_cost = UINT64_MAX;
    for (size_t j = 2; j + 1 <= n; j++) {
        uint64_t ca = st[j] - st[0], cb = st[n] - st[j - 1];
        uint64_t c = ca > cb ? ca : cb;
        if (c < best_cost) {
            best_cost = c;
            best = j;
        }
    }
    uint64_t b_off = best ? st[best - 1] : 0, total = st[n] - st[0];
    free(st);
    /* Worth a thread only if the longer half saves a tenth at least. */
    if (!best || best_cost > total / 10 * 9)
        return;

    struct split *s = calloc(1, sizeof *s);
    struct ctrace_reader *b = calloc(1, sizeof *b);
    if (!s || !b) {
        free(s);
        free(b);
        return;
    }
    /* B: the same mapping from b_off; what opening does, but the header. */
    b->in = r->in;
    b->in.own_fd = 0;
    b->in.fd = -1;
    b->in.buf = NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (b->in.map)
        b->in.released = (size_t)((uintptr_t)(in->base + b_off) - (uintptr_t)in->map) & ~(page - 1);
    b->version = r->version;
    b->reference = r->reference;
    b->pos = b->complete_end = b_off;
    b->dl.g = &b->g;
    b->dl.o = &b->o;
    b->dl.err = &b->error;
    b->emitted_sync = 1;
    s->b = b;
    s->a_gens = best;
    r->split = s;
    r->split_gen = best;
    if (pthread_create(&s->th, NULL, b_main, s) != 0) {
        split_free(r);
        return;
    }
}

/* A has read its part (generations 1..a_gens, nothing after): joins B and
 * verifies it.  1: verified, r is done with the whole trace's counts;
 * 0: not verified, A goes on reading. */
int split_finish(struct ctrace_reader *r)
{
    struct split *s = r->split;
    pthread_join(s->th, NULL);
    struct ctrace_reader *b = s->b;
    struct osnap a = {0};
    int ok = s->rc == 0 && s->have_b1 && b->ngens >= 2 && !r->error.code && !r->error.deferred;
    if (ok) {
        snap_take(&r->o, &a);
        ok = verify(&a, &s->b1, &b->o);
        snap_free(&a);
    }
    if (ok) {
        r->dl.nevents += b->dl.nevents - s->b1_events;
        r->ngens += b->ngens - 1;
        r->complete_gens += b->complete_gens - 1;
        r->complete_end = b->complete_end;
        r->pos = b->pos;
        struct ctrace_losses *l = &r->losses;
        const struct ctrace_losses *bl = &b->losses, *b1 = &s->b1_losses;
        l->records += bl->records - b1->records;
        l->events += bl->events - b1->events;
        l->samples += bl->samples - b1->samples;
        l->stacks += bl->stacks - b1->stacks;
        l->threads += bl->threads - b1->threads;
        l->strings += bl->strings - b1->strings;
        r->done = 1;
    }
    r->split_outcome = ok ? CTRACE_SPLIT_VERIFIED : CTRACE_SPLIT_FELL_BACK;
    split_free(r);
    return ok;
}

uint64_t split_a_gens(const struct ctrace_reader *r) { return r->split->a_gens; }

int ctrace_reader_check_split(const ctrace_reader *r, uint64_t *gen)
{
    if (gen)
        *gen = r && r->split_outcome ? r->split_gen : 0;
    return r ? r->split_outcome : CTRACE_SPLIT_NONE;
}

int ctrace_reader_check_threads(ctrace_reader *r, unsigned threads, uint64_t min_bytes)
{
    if (!r || threads < 1 || r->ahead || r->have_gen || r->split_tried)
        return CTRACE_READER_EINVAL;
    r->split_threads = threads > 2 ? 2 : threads;
    r->split_min = min_bytes;
    return 0;
}
