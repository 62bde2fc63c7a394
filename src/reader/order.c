/*
 * order.c - the v2 ordering state machine.
 *
 * Each thread's events are already in order; across threads, events are
 * tied together by the scheduler state they require (a goroutine must be
 * runnable to start, a proc idle to be started, sequence numbers must
 * follow...).  order_advance() checks whether the head event of a thread
 * can happen now: it returns 0 when it cannot *yet* (another thread must
 * advance first), 1 when it happened (state updated and the resulting
 * events queued), or an error when the event can never be valid.  The
 * rules are those of Go 1.23's parser, so the same traces are accepted and
 * rejected; the code is ctrace's own.
 *
 * States live in pools indexed through u64maps; a destroyed goroutine's
 * slot and buffers are recycled, so steady state allocates nothing.  A
 * direct-mapped cache (id -> slot) sits in front of the goroutine map; an
 * entry is only a hint, valid when the slot is live and holds that id, so
 * it needs no invalidation when goroutines end or slots are reused.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's GoStatus / ProcStatus codes -> public states. */
static const enum ctrace_state go_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING,
    CTRACE_STATE_SYSCALL, CTRACE_STATE_WAITING};
static const enum ctrace_state proc_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE,
    CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE};

static const char *gstatus_name(uint64_t s)
{
    static const char *n[] = {"Bad", "Runnable", "Running", "Syscall", "Waiting"};
    return s < 5 ? n[s] : "Bad";
}

static int nomem(struct ctrace_reader *r)
{
    return rd_fail(r, CTRACE_READER_ENOMEM, r->cur_off, "out of memory");
}

/* ---- state lookups ---- */

static struct gstate *gs_get_slow(struct order *o, uint64_t id, uint32_t *hint);

/* A goroutine's state, or NULL: the map, behind a direct-mapped cache of
 * recent ids (most events name a goroutine met a moment before); the
 * cache inline (order_gcached), the map out of line. */
static inline __attribute__((always_inline)) struct gstate *gs_get(struct order *o, uint64_t id)
{
    struct gstate *s = order_gcached(o, id);
    return s ? s : gs_get_slow(o, id, &o->gcache[id % ORDER_GCACHE]);
}

static struct gstate *gs_get_slow(struct order *o, uint64_t id, uint32_t *hint)
{
    uint64_t *v = u64map_get(&o->gmap, id);
    if (!v) {
        ASSUME_ABSENT(o, AS_G, id);
        return NULL;
    }
    *hint = (uint32_t)*v + 1;
    return &o->gs[*v];
}

static struct gstate *gs_new(struct ctrace_reader *r, uint64_t id, uint8_t status, uint64_t gen)
{
    struct order *o = &r->o;
    uint32_t idx;
    if (o->gfree) {
        idx = o->gfree - 1;
        o->gfree = o->gs[idx].next_free;
    } else {
        if (GROW(o->gs, o->ngs, o->gs_cap) < 0)
            return NULL;
        idx = (uint32_t)o->ngs++;
        memset(&o->gs[idx], 0, sizeof o->gs[idx]);
    }
    if (u64map_put(&o->gmap, id, idx) < 0)
        return NULL;
    struct gstate *g = &o->gs[idx];
    g->id = id;
    g->status = status;
    g->seq_gen = gen;
    g->seq = 0;
    g->nregions = 0;
    g->names_len = 0;
    g->ranges.n = 0;
    g->next_free = 0;
    g->live = 1;
    return g;
}

static void gs_del(struct order *o, uint64_t id)
{
    uint64_t *v = u64map_get(&o->gmap, id);
    if (!v)
        return;
    uint32_t idx = (uint32_t)*v;
    u64map_del(&o->gmap, id, NULL);
    o->gs[idx].live = 0;
    o->gs[idx].next_free = o->gfree;
    o->gfree = idx + 1;
}

static struct pstate *ps_get(struct order *o, uint64_t id)
{
    uint64_t *v = u64map_get(&o->pmap, id);
    if (!v)
        ASSUME_ABSENT(o, AS_P, id);
    return v ? &o->ps[*v] : NULL;
}

static struct mstate *ms_get(struct order *o, uint64_t id)
{
    uint64_t *v = u64map_get(&o->thmap, id);
    if (!v)
        ASSUME_ABSENT(o, AS_M, id);
    return v ? &o->mss[*v] : NULL;
}

static struct mstate *ms_new(struct order *o, uint64_t id, uint64_t g, uint64_t p)
{
    if (GROW(o->mss, o->nmss, o->mss_cap) < 0)
        return NULL;
    size_t idx = o->nmss++;
    if (u64map_put(&o->thmap, id, idx) < 0) {
        o->nmss--;
        return NULL;
    }
    o->mss[idx] = (struct mstate){id, g, p};
    return &o->mss[idx];
}

/* ---- queue ---- */

/* The queue's slots are written field by field: a whole-struct copy of
 * this size compiles to a string move (rep movs), whose start-up cost was
 * a tenth of the time of an event. */
static struct rev *push_slot(struct order *o, uint64_t m, uint64_t p, uint64_t g)
{
    struct rev *q = &o->q[(o->qhead + o->qlen++) % 8];
    q->m = m;
    q->p = p;
    q->g = g;
    return q;
}

static inline __attribute__((always_inline)) void push(struct order *o, const struct rev *ev, uint64_t m, uint64_t p, uint64_t g)
{
    /* Nothing queued before it: the check-only loop delivers it here. */
    if (o->now && !o->qlen && dl_deliver_now(o->now, ev)) {
        o->nnow++;
        return;
    }
    struct rev *q = push_slot(o, m, p, g);
    q->typ = ev->typ;
    q->time = ev->time;
    q->raw = ev->raw;
    q->args[0] = ev->args[0];
    q->args[1] = ev->args[1];
    q->args[2] = ev->args[2];
    q->args[3] = ev->args[3];
    q->args[4] = ev->args[4];
    q->extra[0] = ev->extra[0];
    q->extra[1] = ev->extra[1];
    q->off = ev->off;
}

static void push_made(struct order *o, const struct rev *from, uint8_t typ,
                      uint64_t m, uint64_t p, uint64_t g, uint64_t a0, uint64_t a1)
{
    struct rev *q = push_slot(o, m, p, g);
    q->typ = typ;
    q->time = from->time;
    q->raw = 0;
    q->args[0] = a0;
    q->args[1] = a1;
    q->args[2] = q->args[3] = q->args[4] = 0;
    q->extra[0] = q->extra[1] = 0;
    q->off = from->off;
}

/* ---- helpers ---- */

struct ctx { uint64_t m, p, g; };

/* Field by field, never as one block: the fields were just stored one by
 * one, and a wide load of narrow stores stalls the CPU (store forwarding
 * fails; a third of the ordering's time on a whole-struct copy). */
static inline void ctx_copy(struct ctx *to, const struct ctx *from)
{
    to->m = from->m;
    to->p = from->p;
    to->g = from->g;
}
enum req { MUST_NOT = 0, MUST = 1, MAY = 2 };

static int ctx_fail(struct ctrace_reader *r, const struct ctx *c, int th, int pr, int go)
{
    const char *msg = NULL;
    if (th == MUST && c->m == CTRACE_NO_ID)
        msg = "expected a thread but didn't have one";
    else if (th == MUST_NOT && c->m != CTRACE_NO_ID)
        msg = "expected no thread but had one";
    else if (pr == MUST && c->p == CTRACE_NO_ID)
        msg = "expected a proc but didn't have one";
    else if (pr == MUST_NOT && c->p != CTRACE_NO_ID)
        msg = "expected no proc but had one";
    else if (go == MUST && c->g == CTRACE_NO_ID)
        msg = "expected a goroutine but didn't have one";
    else if (go == MUST_NOT && c->g != CTRACE_NO_ID)
        msg = "expected no goroutine but had one";
    if (!msg)
        return 0;
    char nb[24];
    return rd_fail(r, CTRACE_READER_EINVALID, r->cur_off, "%s: %s", rspec_name(r->cur_typ, nb), msg);
}

/* Go's checks of the context an event needs (thread, proc, goroutine: each
 * MUST, MUST_NOT or MAY): 0, or the error of the first one broken.  The
 * test inline (the requirements are constants at every call), the
 * message out of line. */
static inline __attribute__((always_inline)) int check_ctx(struct ctrace_reader *r, const struct ctx *c, int th,
                                                           int pr, int go)
{
    int broken = (th == MUST && c->m == CTRACE_NO_ID) | (th == MUST_NOT && c->m != CTRACE_NO_ID) |
                 (pr == MUST && c->p == CTRACE_NO_ID) | (pr == MUST_NOT && c->p != CTRACE_NO_ID) |
                 (go == MUST && c->g == CTRACE_NO_ID) | (go == MUST_NOT && c->g != CTRACE_NO_ID);
    if (__builtin_expect(!broken, 1))
        return 0;
    return ctx_fail(r, c, th, pr, go);
}
#define USER_GO(r, c) check_ctx(r, c, MUST, MUST, MUST)

static int bad(struct ctrace_reader *r, const char *fmt, uint64_t a, uint64_t b)
{
    char nb[24];
    char msg[256];
    snprintf(msg, sizeof msg, fmt, (long long)a, (long long)b);
    return rd_fail(r, CTRACE_READER_EINVALID, r->cur_off, "%s: %s", rspec_name(r->cur_typ, nb), msg);
}

static int seq_follows(uint64_t gen, uint64_t seq, uint64_t sgen, uint64_t sseq)
{
    return gen == sgen && seq == sseq + 1;
}

static uint8_t range_key(uint8_t typ)
{
    const struct rspec *s = rspec_of(typ);
    return s && s->start_ev ? s->start_ev : typ;
}

static int has_range(const struct rngset *s, uint8_t typ, uint64_t desc)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].typ == typ && s->v[i].desc == desc)
            return 1;
    return 0;
}

static int range_begin(struct ctrace_reader *r, struct rngset *s, uint8_t typ, uint64_t desc)
{
    uint8_t k = range_key(typ);
    if (has_range(s, k, desc))
        return bad(r, "range already in flight when starting it", 0, 0);
    if (GROW(s->v, s->n, s->cap) < 0)
        return nomem(r);
    s->v[s->n++] = (struct rng){k, desc};
    return 0;
}

static int range_active(struct ctrace_reader *r, struct rngset *s, uint8_t typ, int initial)
{
    uint8_t k = range_key(typ);
    if (initial) {
        if (has_range(s, k, 0))
            return bad(r, "active range already found in the first generation", 0, 0);
        if (GROW(s->v, s->n, s->cap) < 0)
            return nomem(r);
        s->v[s->n++] = (struct rng){k, 0};
    } else if (!has_range(s, k, 0)) {
        return bad(r, "resource is missing an active range", 0, 0);
    }
    return 0;
}

static int range_end(struct ctrace_reader *r, struct rngset *s, uint8_t typ, uint64_t *desc)
{
    uint8_t st = range_key(typ);
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].typ == st) {
            *desc = s->v[i].desc;
            s->v[i] = s->v[s->n - 1];
            s->n--;
            return 0;
        }
    }
    return bad(r, "tried to end a range that is not in flight", 0, 0);
}

/* ---- handlers: each returns 1 (advanced; *nc = new context), 0, <0 ---- */

static int adv_proc_status(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t pid = ev->args[0], status = ev->args[1];
    if (status >= 5)
        return bad(r, "invalid status for proc %lld: %lld", pid, status);
    enum ctrace_state old = proc_state_of[status];
    struct pstate *s = ps_get(o, pid);
    if (s) {
        if (status == GT_PROC_SYSCALL_ABANDONED && s->status == GT_PROC_SYSCALL) {
            old = CTRACE_STATE_RUNNING;
            ev->args[1] = GT_PROC_SYSCALL;
        } else if (status == GT_PROC_SYSCALL_ABANDONED && s->status == GT_PROC_SYSCALL_ABANDONED) {
            old = CTRACE_STATE_IDLE;
            ev->args[1] = GT_PROC_SYSCALL_ABANDONED;
        } else if (s->status != status) {
            return bad(r, "inconsistent status for proc %lld: old %lld", pid, s->status);
        }
        s->seq_gen = gen;
        s->seq = 0;
    } else {
        if (GROW(o->ps, o->nps, o->ps_cap) < 0)
            return nomem(r);
        size_t idx = o->nps++;
        memset(&o->ps[idx], 0, sizeof o->ps[idx]);
        o->ps[idx].id = pid;
        o->ps[idx].status = (uint8_t)status;
        o->ps[idx].seq_gen = gen;
        if (u64map_put(&o->pmap, pid, idx) < 0)
            return nomem(r);
        if (o->spec)
            order_assume_as(o, AS_P, pid, status, 0);
        old = gen == o->initial_gen ? CTRACE_STATE_UNDETERMINED : CTRACE_STATE_NOTEXIST;
    }
    ev->extra[0] = old;
    ctx_copy(nc, c);
    if (status == GT_PROC_RUNNING || status == GT_PROC_SYSCALL)
        nc->p = pid;
    if (status == GT_PROC_SYSCALL_ABANDONED && old == CTRACE_STATE_RUNNING) {
        /* The event is emitted on behalf of the thread that still holds the
         * proc in its syscall. */
        int found = 0;
        for (size_t i = 0; i < o->nmss; i++) {
            if (o->mss[i].p == pid) {
                c->m = o->mss[i].id;
                c->p = pid;
                c->g = o->mss[i].g;
                found++;
            }
        }
        ASSUME(o, AS_PSCAN, pid, (uint64_t)found, 0);
        if (!found)
            return bad(r, "failed to find sched context for proc %lld that's about to be stolen", pid, 0);
    }
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_proc_start(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct pstate *s = ps_get(&r->o, ev->args[0]);
    if (!s || s->status != GT_PROC_IDLE || !seq_follows(gen, ev->args[1], s->seq_gen, s->seq) ||
        c->p != CTRACE_NO_ID)
        return 0;
    int e = check_ctx(r, c, MUST, MUST_NOT, MAY);
    if (e < 0)
        return e;
    s->status = GT_PROC_RUNNING;
    s->seq_gen = gen;
    s->seq = ev->args[1];
    ctx_copy(nc, c);
    nc->p = ev->args[0];
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_proc_stop(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct pstate *s = ps_get(&r->o, c->p);
    if (!s)
        return bad(r, "event for proc (%lld) that doesn't exist", c->p, 0);
    if (s->status != GT_PROC_RUNNING && s->status != GT_PROC_SYSCALL)
        return bad(r, "event for proc that's not Running or Syscall", 0, 0);
    int e = check_ctx(r, c, MUST, MUST, MAY);
    if (e < 0)
        return e;
    s->status = GT_PROC_IDLE;
    ctx_copy(nc, c);
    nc->p = CTRACE_NO_ID;
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_proc_steal(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t pid = ev->args[0];
    struct pstate *s = ps_get(o, pid);
    if (!s || (s->status != GT_PROC_SYSCALL && s->status != GT_PROC_SYSCALL_ABANDONED) ||
        !seq_follows(gen, ev->args[1], s->seq_gen, s->seq))
        return 0;
    int e = check_ctx(r, c, MUST, MAY, MAY);
    if (e < 0)
        return e;
    uint8_t old = s->status;
    ev->extra[0] = old;
    s->status = GT_PROC_IDLE;
    s->seq_gen = gen;
    s->seq = ev->args[1];
    ctx_copy(nc, c);
    if (old == GT_PROC_SYSCALL_ABANDONED) {
        push(o, ev, c->m, c->p, c->g);
        return 1;
    }
    uint64_t mid = ev->args[2];
    if (mid == c->m) {
        if (c->p != pid)
            return bad(r, "tried to self-steal proc %lld, but got proc %lld instead", pid, c->p);
        nc->p = CTRACE_NO_ID;
        push(o, ev, c->m, c->p, c->g);
        return 1;
    }
    struct mstate *ms = ms_get(o, mid);
    if (!ms)
        return bad(r, "stole proc from non-existent thread %lld", mid, 0);
    if (ms->p != pid)
        return bad(r, "tried to steal proc %lld from thread, but got proc %lld instead", pid, ms->p);
    ms->p = CTRACE_NO_ID;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_status(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t gid = ev->args[0], mid = ev->args[1], status = ev->args[2];
    if (status >= 5)
        return bad(r, "invalid status for goroutine %lld: %lld", gid, status);
    enum ctrace_state old = go_state_of[status];
    struct gstate *s = gs_get(o, gid);
    if (s) {
        if (s->status != status) {
            char msg[160];
            snprintf(msg, sizeof msg, "inconsistent status for goroutine %lld: old %s vs. new %s",
                     (long long)gid, gstatus_name(s->status), gstatus_name(status));
            return rd_fail(r, CTRACE_READER_EINVALID, r->cur_off, "%s", msg);
        }
        s->seq_gen = gen;
        s->seq = 0;
    } else if (gen == o->initial_gen || o->spec) {
        /* Speculating: a goroutine the generations before may know. */
        if (!gs_new(r, gid, (uint8_t)status, gen))
            return nomem(r);
        if (o->spec)
            order_assume_as(o, AS_G, gid, status, 0);
        old = CTRACE_STATE_UNDETERMINED;
    } else {
        return bad(r, "found goroutine status for new goroutine %lld after the first generation (status %lld)", gid, status);
    }
    ev->extra[0] = old;
    ctx_copy(nc, c);
    if (status == GT_GO_RUNNING) {
        nc->g = gid;
    } else if (status == GT_GO_SYSCALL) {
        if (mid == CTRACE_NO_ID)
            return bad(r, "found goroutine %lld in syscall without a thread", gid, 0);
        if (mid == c->m) {
            if (gen != o->initial_gen && c->g != gid)
                return bad(r, "inconsistent thread for syscalling goroutine %lld: thread has goroutine %lld", gid, c->g);
            nc->g = gid;
        } else {
            struct mstate *ms = ms_get(o, mid);
            if (ms) {
                if (ms->g != gid)
                    return bad(r, "inconsistent thread for syscalling goroutine %lld: thread has goroutine %lld", gid, ms->g);
                c->g = ms->g;
            } else if (!ms_new(o, mid, gid, CTRACE_NO_ID)) {
                return nomem(r);
            } else if (o->spec) {
                order_assume_as(o, AS_M, mid, gid, CTRACE_NO_ID);
            }
            c->m = mid;
        }
    }
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_create(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = check_ctx(r, c, MUST, MUST, MAY);
    if (e < 0)
        return e;
    struct gstate *cur = gs_get(o, c->g);
    if (cur && cur->status != GT_GO_RUNNING)
        return bad(r, "event for goroutine that's not Running", 0, 0);
    uint64_t newg = ev->args[0];
    if (gs_get(o, newg))
        return bad(r, "tried to create goroutine (%lld) that already exists", newg, 0);
    uint8_t st = ev->typ == GT_EV_GO_CREATE_BLOCKED ? GT_GO_WAITING : GT_GO_RUNNABLE;
    if (!gs_new(r, newg, st, gen))
        return nomem(r);
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_stop_exec(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (s->status != GT_GO_RUNNING)
        return bad(r, "event for goroutine that's not Running", 0, 0);
    ctx_copy(nc, c);
    nc->g = CTRACE_NO_ID;
    if (ev->typ == GT_EV_GO_DESTROY)
        gs_del(o, c->g);
    else if (ev->typ == GT_EV_GO_STOP)
        s->status = GT_GO_RUNNABLE;
    else
        s->status = GT_GO_WAITING;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_start(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct gstate *s = gs_get(&r->o, ev->args[0]);
    if (!s || s->status != GT_GO_RUNNABLE || !seq_follows(gen, ev->args[1], s->seq_gen, s->seq))
        return 0;
    int e = check_ctx(r, c, MUST, MUST, MUST_NOT);
    if (e < 0)
        return e;
    s->status = GT_GO_RUNNING;
    s->seq_gen = gen;
    s->seq = ev->args[1];
    ctx_copy(nc, c);
    nc->g = ev->args[0];
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_unblock(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct gstate *s = gs_get(&r->o, ev->args[0]);
    if (!s || s->status != GT_GO_WAITING || !seq_follows(gen, ev->args[1], s->seq_gen, s->seq))
        return 0;
    s->status = GT_GO_RUNNABLE;
    s->seq_gen = gen;
    s->seq = ev->args[1];
    ctx_copy(nc, c);
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_switch(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    struct gstate *cur = gs_get(o, c->g);
    if (!cur)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (cur->status != GT_GO_RUNNING)
        return bad(r, "event for goroutine that's not Running", 0, 0);
    uint64_t next = ev->args[0];
    struct gstate *ns = gs_get(o, next);
    if (!ns || ns->status != GT_GO_WAITING || !seq_follows(gen, ev->args[1], ns->seq_gen, ns->seq))
        return 0;
    push(o, ev, c->m, c->p, c->g);
    if (ev->typ == GT_EV_GO_SWITCH) {
        cur->status = GT_GO_WAITING;
        push_made(o, ev, GT_EV_GO_BLOCK, c->m, c->p, c->g, 0, 0);
    } else {
        gs_del(o, c->g);
        push_made(o, ev, GT_EV_GO_DESTROY, c->m, c->p, c->g, 0, 0);
    }
    ns = gs_get(o, next);
    ns->status = GT_GO_RUNNING;
    ns->seq_gen = gen;
    ns->seq = ev->args[1];
    ctx_copy(nc, c);
    nc->g = next;
    push_made(o, ev, GT_EV_GO_START, c->m, c->p, CTRACE_NO_ID, next, ev->args[1]);
    return 1;
}

static int adv_syscall_begin(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (s->status != GT_GO_RUNNING)
        return bad(r, "event for goroutine that's not Running", 0, 0);
    s->status = GT_GO_SYSCALL;
    struct pstate *p = ps_get(o, c->p);
    if (!p)
        return bad(r, "uninitialized proc %lld found", c->p, 0);
    p->status = GT_PROC_SYSCALL;
    if (!seq_follows(gen, ev->args[0], p->seq_gen, p->seq))
        return bad(r, "can't make proc sequence: %lld -> %lld", p->seq, ev->args[0]);
    p->seq_gen = gen;
    p->seq = ev->args[0];
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_syscall_end(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (s->status != GT_GO_SYSCALL)
        return bad(r, "event for goroutine that's not in a syscall", 0, 0);
    s->status = GT_GO_RUNNING;
    struct pstate *p = ps_get(o, c->p);
    if (!p)
        return bad(r, "uninitialized proc %lld found", c->p, 0);
    if (p->status != GT_PROC_SYSCALL)
        return bad(r, "expected proc %lld in state Syscall", c->p, 0);
    p->status = GT_PROC_RUNNING;
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_syscall_end_blocked(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    if (c->p != CTRACE_NO_ID) {
        struct pstate *p = ps_get(o, c->p);
        if (!p)
            return bad(r, "uninitialized proc %lld found", c->p, 0);
        if (p->status == GT_PROC_SYSCALL)
            return 0; /* the proc must be stolen first */
    }
    int e = check_ctx(r, c, MUST, MAY, MUST);
    if (e < 0)
        return e;
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (s->status != GT_GO_SYSCALL)
        return bad(r, "event for goroutine that's not in a syscall", 0, 0);
    ctx_copy(nc, c);
    nc->g = CTRACE_NO_ID;
    s->status = GT_GO_RUNNABLE;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_create_syscall(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = check_ctx(r, c, MUST, MAY, MUST_NOT);
    if (e < 0)
        return e;
    uint64_t newg = ev->args[0];
    if (gs_get(o, newg))
        return bad(r, "tried to create goroutine (%lld) in syscall that already exists", newg, 0);
    if (!gs_new(r, newg, GT_GO_SYSCALL, gen))
        return nomem(r);
    ctx_copy(nc, c);
    nc->g = newg;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_destroy_syscall(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = check_ctx(r, c, MUST, MAY, MUST);
    if (e < 0)
        return e;
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "event for goroutine (%lld) that doesn't exist", c->g, 0);
    if (s->status != GT_GO_SYSCALL)
        return bad(r, "event for goroutine that's not in a syscall", 0, 0);
    gs_del(o, c->g);
    ctx_copy(nc, c);
    nc->g = CTRACE_NO_ID;
    if (c->p != CTRACE_NO_ID) {
        struct pstate *p = ps_get(o, c->p);
        if (!p)
            return bad(r, "found invalid proc %lld", c->p, 0);
        if (p->status != GT_PROC_SYSCALL)
            return bad(r, "proc %lld in unexpected state", c->p, 0);
        p->status = GT_PROC_SYSCALL_ABANDONED;
        nc->p = CTRACE_NO_ID;
        /* The proc leaves with the dying goroutine: report it as stolen. */
        struct rev st = {0};
        st.typ = GT_EV_PROC_STEAL;
        st.time = ev->time;
        st.off = ev->off;
        st.args[0] = c->p;
        st.extra[0] = GT_PROC_SYSCALL;
        push(o, &st, c->m, c->p, c->g);
    }
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_task_begin(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t id = ev->args[0];
    if (u64map_get(&o->taskmap, id))
        return bad(r, "task ID conflict: %lld", id, 0);
    ASSUME_ABSENT(o, AS_T, id);
    if (ev->args[1] == CTRACE_BACKGROUND_TASK)
        ev->args[1] = CTRACE_NO_ID;
    struct ctrace_str name;
    if (gen_string(&r->g, ev->args[2], &name) < 0)
        return bad(r, "invalid string ID %lld", ev->args[2], 0);
    uint32_t idx;
    if (o->tfree) {
        idx = o->tfree - 1;
        o->tfree = o->tasks[idx].next_free;
    } else {
        if (GROW(o->tasks, o->ntasks, o->tasks_cap) < 0)
            return nomem(r);
        idx = (uint32_t)o->ntasks++;
        memset(&o->tasks[idx], 0, sizeof o->tasks[idx]);
    }
    struct task *t = &o->tasks[idx];
    if (t->cap < name.len + 1) {
        char *p = realloc(t->name, name.len + 1);
        if (!p)
            return nomem(r);
        t->name = p;
        t->cap = name.len + 1;
    }
    memcpy(t->name, name.ptr, name.len + 1);
    t->len = name.len;
    t->id = id;
    t->parent = ev->args[1];
    t->next_free = 0;
    if (u64map_put(&o->taskmap, id, idx) < 0)
        return nomem(r);
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_task_end(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t *v = u64map_get(&o->taskmap, ev->args[0]);
    if (v) {
        uint32_t idx = (uint32_t)*v;
        struct task *t = &o->tasks[idx];
        ev->extra[0] = t->parent;
        memcpy(o->endname, t->name, t->len + 1);
        o->endname_len = t->len;
        u64map_del(&o->taskmap, ev->args[0], NULL);
        t->next_free = o->tfree;
        o->tfree = idx + 1;
    } else {
        ev->extra[0] = CTRACE_NO_ID;
        o->endname[0] = 0;
        o->endname_len = 0;
    }
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_region(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    struct ctrace_str name;
    if (gen_string(&r->g, ev->args[1], &name) < 0)
        return bad(r, "invalid string ID %lld", ev->args[1], 0);
    struct gstate *s = gs_get(o, c->g);
    if (!s)
        return bad(r, "region event without known state for current goroutine %lld", c->g, 0);
    if (ev->typ == GT_EV_USER_REGION_BEGIN) {
        if (GROW(s->regions, s->nregions, s->regions_cap) < 0)
            return nomem(r);
        if (RESERVE(s->names, s->names_len + name.len, s->names_cap) < 0)
            return nomem(r);
        if (name.len) /* names may still be NULL for empty names */
            memcpy(s->names + s->names_len, name.ptr, name.len);
        s->regions[s->nregions++] = (struct region){ev->args[0], s->names_len, (uint32_t)name.len};
        s->names_len += name.len;
    } else if (!s->nregions) {
        if (o->spec) { /* begun in the other half, maybe: recorded */
            size_t at = o->as_names_len;
            if (RESERVE(o->as_names, o->as_names_len + name.len, o->as_names_cap) < 0)
                o->as_oom = 1;
            if (!o->as_oom) {
                if (name.len)
                    memcpy(o->as_names + at, name.ptr, name.len);
                o->as_names_len += name.len;
                order_assume(o, AS_RUNDER, c->g, 0, ev->args[0], (uint64_t)at << 16 | name.len);
            }
        }
    } else {
        struct region *top = &s->regions[s->nregions - 1];
        if (top->task != ev->args[0] || top->len != name.len ||
            (name.len && memcmp(s->names + top->off, name.ptr, name.len) != 0))
            return bad(r, "misuse of region in goroutine %lld: region end does not match the inner-most active region", c->g, 0);
        s->names_len = top->off;
        s->nregions--;
    }
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_gc_active(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t seq = ev->args[0];
    ctx_copy(nc, c);
    if (gen == o->initial_gen) {
        if (o->gc_state != GC_UNDETERMINED)
            return bad(r, "GCActive in the first generation isn't first GC event", 0, 0);
        o->gc_seq = seq;
        o->gc_state = GC_RUNNING;
        push(o, ev, c->m, c->p, c->g);
        return 1;
    }
    if (seq != o->gc_seq + 1)
        return 0;
    if (o->gc_state != GC_RUNNING)
        return bad(r, "encountered GCActive while GC was not in progress", 0, 0);
    o->gc_seq = seq;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_gc_begin(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t seq = ev->args[0];
    ctx_copy(nc, c);
    if (o->gc_state == GC_UNDETERMINED) {
        ASSUME(o, AS_GC, seq, 0, 0);
        o->gc_seq = seq;
        o->gc_state = GC_RUNNING;
        push(o, ev, c->m, c->p, c->g);
        return 1;
    }
    if (seq != o->gc_seq + 1)
        return 0;
    if (o->gc_state == GC_RUNNING)
        return bad(r, "encountered GCBegin while GC was already in progress", 0, 0);
    o->gc_seq = seq;
    o->gc_state = GC_RUNNING;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_gc_end(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    uint64_t seq = ev->args[0];
    if (seq != o->gc_seq + 1)
        return 0;
    if (o->gc_state == GC_NOT_RUNNING)
        return bad(r, "encountered GCEnd when GC was not in progress", 0, 0);
    if (o->gc_state == GC_UNDETERMINED)
        return bad(r, "encountered GCEnd when GC was in an undetermined state", 0, 0);
    o->gc_seq = seq;
    o->gc_state = GC_NOT_RUNNING;
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_annotation(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    int e = USER_GO(r, c);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_need_mp(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    int e = check_ctx(r, c, MUST, MUST, MAY);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_sweep(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e;
    if (ev->typ == GT_EV_GC_SWEEP_ACTIVE) {
        struct pstate *p = ps_get(o, ev->args[0]);
        if (!p)
            return bad(r, "encountered GCSweepActive for unknown proc %lld", ev->args[0], 0);
        if ((e = range_active(r, &p->ranges, ev->typ, gen == o->initial_gen)) < 0)
            return e;
    } else {
        if ((e = check_ctx(r, c, MUST, MUST, MAY)) < 0)
            return e;
        /* Go's parser would crash on a proc it never saw; reject instead. */
        struct pstate *p = ps_get(o, c->p);
        if (!p)
            return bad(r, "sweep event for unknown proc %lld", c->p, 0);
        uint64_t desc;
        if (ev->typ == GT_EV_GC_SWEEP_BEGIN)
            e = range_begin(r, &p->ranges, ev->typ, 0);
        else
            e = range_end(r, &p->ranges, ev->typ, &desc);
        if (e < 0)
            return e;
    }
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_go_range(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    struct order *o = &r->o;
    int e;
    if (ev->typ == GT_EV_GC_MARK_ASSIST_ACTIVE) {
        struct gstate *s = gs_get(o, ev->args[0]);
        if (!s)
            return bad(r, "uninitialized goroutine %lld found", ev->args[0], 0);
        if ((e = range_active(r, &s->ranges, ev->typ, gen == o->initial_gen)) < 0)
            return e;
    } else {
        if ((e = USER_GO(r, c)) < 0)
            return e;
        struct gstate *s = gs_get(o, c->g);
        if (!s)
            return bad(r, "range event without known state for current goroutine %lld", c->g, 0);
        if (ev->typ == GT_EV_STW_BEGIN || ev->typ == GT_EV_GC_MARK_ASSIST_BEGIN) {
            uint64_t desc = ev->typ == GT_EV_STW_BEGIN ? ev->args[0] : 0;
            e = range_begin(r, &s->ranges, ev->typ, desc);
        } else {
            uint64_t desc = 0;
            e = range_end(r, &s->ranges, ev->typ, &desc);
            if (ev->typ == GT_EV_STW_END)
                ev->args[0] = desc;
        }
        if (e < 0)
            return e;
    }
    ctx_copy(nc, c);
    push(o, ev, c->m, c->p, c->g);
    return 1;
}

static int adv_allocfree(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    int e = check_ctx(r, c, MUST, MAY, MAY);
    if (e < 0)
        return e;
    ctx_copy(nc, c);
    push(&r->o, ev, c->m, c->p, c->g);
    return 1;
}

/* Runs the handler of ev's type: 1 (advanced; *nc = new context), 0 (not
 * yet), <0 (error); 2 when the type has no handler.  One switch that
 * calls directly: a single type-dependent jump per event. */
static int dispatch(struct ctrace_reader *r, struct rev *ev, uint64_t gen, struct ctx *c, struct ctx *nc)
{
    switch (ev->typ) {
    case GT_EV_PROCS_CHANGE: return adv_annotation(r, ev, gen, c, nc);
    case GT_EV_PROC_START: return adv_proc_start(r, ev, gen, c, nc);
    case GT_EV_PROC_STOP: return adv_proc_stop(r, ev, gen, c, nc);
    case GT_EV_PROC_STEAL: return adv_proc_steal(r, ev, gen, c, nc);
    case GT_EV_PROC_STATUS: return adv_proc_status(r, ev, gen, c, nc);
    case GT_EV_GO_CREATE: case GT_EV_GO_CREATE_BLOCKED: return adv_go_create(r, ev, gen, c, nc);
    case GT_EV_GO_CREATE_SYSCALL: return adv_create_syscall(r, ev, gen, c, nc);
    case GT_EV_GO_START: return adv_go_start(r, ev, gen, c, nc);
    case GT_EV_GO_DESTROY: case GT_EV_GO_STOP: case GT_EV_GO_BLOCK: return adv_go_stop_exec(r, ev, gen, c, nc);
    case GT_EV_GO_DESTROY_SYSCALL: return adv_destroy_syscall(r, ev, gen, c, nc);
    case GT_EV_GO_UNBLOCK: return adv_go_unblock(r, ev, gen, c, nc);
    case GT_EV_GO_SYSCALL_BEGIN: return adv_syscall_begin(r, ev, gen, c, nc);
    case GT_EV_GO_SYSCALL_END: return adv_syscall_end(r, ev, gen, c, nc);
    case GT_EV_GO_SYSCALL_END_BLOCKED: return adv_syscall_end_blocked(r, ev, gen, c, nc);
    case GT_EV_GO_STATUS: case GT_EV_GO_STATUS_STACK: return adv_go_status(r, ev, gen, c, nc);
    case GT_EV_STW_BEGIN: case GT_EV_STW_END: return adv_go_range(r, ev, gen, c, nc);
    case GT_EV_GC_ACTIVE: return adv_gc_active(r, ev, gen, c, nc);
    case GT_EV_GC_BEGIN: return adv_gc_begin(r, ev, gen, c, nc);
    case GT_EV_GC_END: return adv_gc_end(r, ev, gen, c, nc);
    case GT_EV_GC_SWEEP_ACTIVE: case GT_EV_GC_SWEEP_BEGIN: case GT_EV_GC_SWEEP_END: return adv_sweep(r, ev, gen, c, nc);
    case GT_EV_GC_MARK_ASSIST_ACTIVE: case GT_EV_GC_MARK_ASSIST_BEGIN:
    case GT_EV_GC_MARK_ASSIST_END: return adv_go_range(r, ev, gen, c, nc);
    case GT_EV_HEAP_ALLOC: case GT_EV_HEAP_GOAL: return adv_need_mp(r, ev, gen, c, nc);
    case GT_EV_GO_LABEL: case GT_EV_USER_LOG: return adv_annotation(r, ev, gen, c, nc);
    case GT_EV_USER_TASK_BEGIN: return adv_task_begin(r, ev, gen, c, nc);
    case GT_EV_USER_TASK_END: return adv_task_end(r, ev, gen, c, nc);
    case GT_EV_USER_REGION_BEGIN: case GT_EV_USER_REGION_END: return adv_region(r, ev, gen, c, nc);
    case GT_EV_GO_SWITCH: case GT_EV_GO_SWITCH_DESTROY: return adv_go_switch(r, ev, gen, c, nc);
    }
    if (ev->typ >= RT_EXP_FIRST && ev->typ <= RT_EXP_LAST)
        return adv_allocfree(r, ev, gen, c, nc);
    return 2;
}

int order_advance(struct ctrace_reader *r, struct rev *ev, uint64_t m, uint64_t gen, uint32_t *ms_hint)
{
    struct order *o = &r->o;
    if (o->initial_gen == 0)
        o->initial_gen = gen;
    r->cur_typ = ev->typ;
    r->cur_off = ev->off;
    struct ctx c = {m, CTRACE_NO_ID, CTRACE_NO_ID}, nc;
    /* Thread states are never removed, so an index into the pool, found
     * once per generation and thread, stays good. */
    size_t msi = 0;
    if (m != CTRACE_NO_ID) {
        if (*ms_hint) {
            msi = *ms_hint - 1;
        } else {
            const uint64_t *v = u64map_get(&o->thmap, m);
            if (v) {
                msi = (size_t)*v;
            } else {
                if (!ms_new(o, m, CTRACE_NO_ID, CTRACE_NO_ID))
                    return nomem(r);
                ASSUME(o, AS_M, m, CTRACE_NO_ID, CTRACE_NO_ID);
                msi = o->nmss - 1;
            }
            if (msi < UINT32_MAX)
                *ms_hint = (uint32_t)msi + 1;
        }
        c.p = o->mss[msi].p;
        c.g = o->mss[msi].g;
    }
    ctx_copy(&nc, &c);
    int ok = dispatch(r, ev, gen, &c, &nc);
    if (ok == 2) {
        char nb[24];
        return rd_fail(r, CTRACE_READER_EINVALID, ev->off, "bad event type found while ordering: %s",
                       rspec_name(ev->typ, nb));
    }
    if (ok == 1 && m != CTRACE_NO_ID) {
        o->mss[msi].p = nc.p; /* by index: the pool may have moved */
        o->mss[msi].g = nc.g;
    }
    return ok;
}

int order_task(const struct order *o, uint64_t id, uint64_t *parent, const char **name, size_t *len)
{
    uint64_t *v = u64map_get(&o->taskmap, id);
    if (!v)
        return 0;
    const struct task *t = &o->tasks[*v];
    *parent = t->parent;
    *name = t->name;
    *len = t->len;
    return 1;
}

void order_assume(struct order *o, uint8_t kind, uint64_t id, int absent, uint64_t a, uint64_t b)
{
    if (GROW(o->as, o->nas, o->as_cap) < 0) {
        o->as_oom = 1;
        return;
    }
    o->as[o->nas++] = (struct assume){kind, (uint8_t)absent, id, a, b};
}

void order_assume_as(struct order *o, uint8_t kind, uint64_t id, uint64_t a, uint64_t b)
{
    struct assume *l = o->nas ? &o->as[o->nas - 1] : NULL;
    if (l && l->kind == kind && l->id == id) {
        l->absent = 0;
        l->a = a;
        l->b = b;
    } else {
        order_assume(o, kind, id, 0, a, b);
    }
}

void order_free(struct order *o)
{
    for (size_t i = 0; i < o->ngs; i++) {
        free(o->gs[i].regions);
        free(o->gs[i].names);
        free(o->gs[i].ranges.v);
    }
    for (size_t i = 0; i < o->nps; i++)
        free(o->ps[i].ranges.v);
    for (size_t i = 0; i < o->ntasks; i++)
        free(o->tasks[i].name);
    free(o->gs);
    free(o->ps);
    free(o->mss);
    free(o->tasks);
    free(o->as);
    free(o->as_names);
    u64map_free(&o->gmap);
    u64map_free(&o->pmap);
    u64map_free(&o->thmap);
    u64map_free(&o->taskmap);
    memset(o, 0, sizeof *o);
}
