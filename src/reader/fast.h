/*
 * fast.h - the check-only loop's fast step: the success path of order.c's
 * handlers for the event types that make nearly all of a real trace
 * (GoStart, GoStop, GoBlock, GoUnblock, ProcStart, ProcStop,
 * UserRegionBegin, UserRegionEnd), inline in reader.c's rd_check.
 *
 * Invariants (what keeps the verdicts and counts those of order.c):
 *  - fast_accept() first tests, without changing anything, every condition
 *    under which order.c's handler accepts the event at once and delivers
 *    it at the push: the thread's state found by its cursor's hint; a
 *    goroutine's by the direct-mapped cache alone and a proc's by its map
 *    (a miss is left to order.c, whose lookups record it in a split's
 *    speculating reader); the context the handler requires; the sequence
 *    numbers; the region stack; room in the region arrays (growing may
 *    fail: order.c's); every stack and string id good by the dense arrays.
 *    Any one false: 0, nothing changed, and the caller takes the general
 *    step, which decides exactly as before (not yet, an error, or a bad
 *    reference reported in its turn).
 *  - When all hold it makes the handler's state change, and only it (the
 *    thread's context written back as order_advance does it).
 *  - The caller counts the event only after the thread's next event
 *    decoded: a successor that fails to decode leaves it uncounted, as
 *    rd_next() would have failed before delivering it.
 *  - Given a public event e (ctrace_reader_next's fast step; NULL for the
 *    check-only loop), it fills what deliver.c's build() would from the
 *    event and the context before the change (what order.c pushes), all
 *    but the time, which dl_publish() sets once the next event decoded.
 * Each handler here must change whenever order.c's (and build()'s case)
 * does; reader.unit (test_fast_layout, the check/next comparisons, the
 * reference readings: CTRACE_READER_REFERENCE), the split tests, the
 * comparisons with Go's parser and fuzz_v2 check that they agree.
 */
#ifndef CTRACE_READER_FAST_H
#define CTRACE_READER_FAST_H

#include <string.h>

#include "internal.h"

/* Where the hot types keep their stack and string ids (args[] index, -1
 * none): rd_specs' stack_arg and str_arg less one, written out so that
 * the compiler sees constants (reader.unit checks they agree). */
#define FAST_STOP_STR 0   /* GoStop, GoBlock: reason string, stack */
#define FAST_STOP_STK 1
#define FAST_UNBLOCK_STK 2 /* GoUnblock: goroutine, seq, stack */
#define FAST_REGION_STR 1 /* UserRegionBegin/End: task, name, stack */
#define FAST_REGION_STK 2

/* build()'s common part for an event of the fast step: everything but
 * the time (dl_publish) and the kind's own fields. */
static inline __attribute__((always_inline)) void fast_head(struct ctrace_event *e, const struct generation *g,
                                                            const struct mcursor *c, const struct mstate *ms,
                                                            uint64_t stack)
{
    e->raw_type = c->ev.typ;
    e->raw_time = (int64_t)c->ev.raw;
    e->m = c->m;
    e->p = ms->p;
    e->g = ms->g;
    e->stack = stack;
    e->generation = g->gen;
    e->offset = c->ev.off;
}

/* build()'s transition(), with the transition's own stack. */
static inline __attribute__((always_inline)) void fast_transition(struct ctrace_event *e,
                                                                  enum ctrace_resource_kind k, uint64_t id,
                                                                  enum ctrace_state from, enum ctrace_state to,
                                                                  struct ctrace_str reason, uint64_t stack)
{
    e->kind = CTRACE_EV_STATE_TRANSITION;
    e->u.transition.resource = k;
    e->u.transition.id = id;
    e->u.transition.from = from;
    e->u.transition.to = to;
    e->u.transition.reason = reason;
    e->u.transition.stack = stack;
}

/* build()'s region begin or end. */
static inline __attribute__((always_inline)) void fast_region(struct ctrace_event *e, const struct generation *g,
                                                              const struct mcursor *c, const struct mstate *ms,
                                                              struct ctrace_str name)
{
    fast_head(e, g, c, ms, c->ev.args[FAST_REGION_STK]);
    e->kind = c->ev.typ == GT_EV_USER_REGION_BEGIN ? CTRACE_EV_REGION_BEGIN : CTRACE_EV_REGION_END;
    e->u.region.task = c->ev.args[0];
    e->u.region.name = name;
}

/* The head event of cursor c, accepted and its state change made (1), or
 * left to the general step (0, nothing changed).  When accepted and e is
 * not NULL, e is its public event but for the time (invariants above). */
static inline __attribute__((always_inline)) int fast_accept(struct ctrace_reader *r, struct mcursor *c,
                                                             struct ctrace_event *e)
{
    static const struct ctrace_str none = {"", 0};
    struct order *o = &r->o;
    const struct generation *g = &r->g;
    const struct rev *ev = &c->ev;
    if (!c->ms_hint || !o->initial_gen)
        return 0;
    struct mstate *ms = &o->mss[c->ms_hint - 1];
    uint64_t gen = g->gen;
    struct gstate *s;
    switch (ev->typ) {
    case GT_EV_GO_START: /* adv_go_start; no references */
        s = order_gcached(o, ev->args[0]);
        if (!s || s->status != GT_GO_RUNNABLE || s->seq_gen != gen || ev->args[1] != s->seq + 1 ||
            ms->p == CTRACE_NO_ID || ms->g != CTRACE_NO_ID)
            return 0;
        if (e) {
            fast_head(e, g, c, ms, 0);
            fast_transition(e, CTRACE_RES_GOROUTINE, ev->args[0], CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING,
                            none, 0);
        }
        s->status = GT_GO_RUNNING;
        s->seq = ev->args[1];
        ms->g = ev->args[0];
        return 1;
    case GT_EV_GO_STOP:
    case GT_EV_GO_BLOCK: /* adv_go_stop_exec */
        if (ms->p == CTRACE_NO_ID || ms->g == CTRACE_NO_ID)
            return 0;
        s = order_gcached(o, ms->g);
        if (!s || s->status != GT_GO_RUNNING ||
            !dl_ids_ok(g, ev->args[FAST_STOP_STK], ev->args[FAST_STOP_STR]))
            return 0;
        if (e) {
            struct ctrace_str why;
            gen_string(g, ev->args[FAST_STOP_STR], &why); /* good: dl_ids_ok */
            fast_head(e, g, c, ms, ev->args[FAST_STOP_STK]);
            fast_transition(e, CTRACE_RES_GOROUTINE, ms->g, CTRACE_STATE_RUNNING,
                            ev->typ == GT_EV_GO_STOP ? CTRACE_STATE_RUNNABLE : CTRACE_STATE_WAITING, why,
                            ev->args[FAST_STOP_STK]);
        }
        s->status = ev->typ == GT_EV_GO_STOP ? GT_GO_RUNNABLE : GT_GO_WAITING;
        ms->g = CTRACE_NO_ID;
        return 1;
    case GT_EV_GO_UNBLOCK: /* adv_go_unblock; no context required */
        s = order_gcached(o, ev->args[0]);
        if (!s || s->status != GT_GO_WAITING || s->seq_gen != gen || ev->args[1] != s->seq + 1 ||
            !dl_ids_ok(g, ev->args[FAST_UNBLOCK_STK], 0))
            return 0;
        if (e) {
            fast_head(e, g, c, ms, ev->args[FAST_UNBLOCK_STK]);
            fast_transition(e, CTRACE_RES_GOROUTINE, ev->args[0], CTRACE_STATE_WAITING, CTRACE_STATE_RUNNABLE,
                            none, 0);
        }
        s->status = GT_GO_RUNNABLE;
        s->seq = ev->args[1];
        return 1;
    case GT_EV_PROC_START: { /* adv_proc_start; no references */
        if (ms->p != CTRACE_NO_ID)
            return 0;
        const uint64_t *v = u64map_get(&o->pmap, ev->args[0]); /* a miss: order.c records it */
        if (!v)
            return 0;
        struct pstate *p = &o->ps[*v];
        if (p->status != GT_PROC_IDLE || p->seq_gen != gen || ev->args[1] != p->seq + 1)
            return 0;
        if (e) {
            fast_head(e, g, c, ms, 0);
            fast_transition(e, CTRACE_RES_PROC, ev->args[0], CTRACE_STATE_IDLE, CTRACE_STATE_RUNNING, none, 0);
        }
        p->status = GT_PROC_RUNNING;
        p->seq = ev->args[1];
        ms->p = ev->args[0];
        return 1;
    }
    case GT_EV_PROC_STOP: { /* adv_proc_stop; no references */
        if (ms->p == CTRACE_NO_ID)
            return 0;
        const uint64_t *v = u64map_get(&o->pmap, ms->p);
        if (!v)
            return 0;
        struct pstate *p = &o->ps[*v];
        if (p->status != GT_PROC_RUNNING && p->status != GT_PROC_SYSCALL)
            return 0;
        if (e) {
            fast_head(e, g, c, ms, 0);
            fast_transition(e, CTRACE_RES_PROC, ms->p, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE, none, 0);
        }
        p->status = GT_PROC_IDLE;
        ms->p = CTRACE_NO_ID;
        return 1;
    }
    case GT_EV_USER_REGION_BEGIN:
    case GT_EV_USER_REGION_END: { /* adv_region */
        if (ms->p == CTRACE_NO_ID || ms->g == CTRACE_NO_ID)
            return 0;
        struct ctrace_str name;
        if (!dl_ids_ok(g, ev->args[FAST_REGION_STK], ev->args[FAST_REGION_STR]) ||
            gen_string(g, ev->args[FAST_REGION_STR], &name) < 0)
            return 0;
        s = order_gcached(o, ms->g);
        if (!s)
            return 0;
        if (ev->typ == GT_EV_USER_REGION_BEGIN) {
            if (s->nregions == s->regions_cap || s->names_cap - s->names_len < name.len)
                return 0;
            if (e)
                fast_region(e, g, c, ms, name);
            if (name.len)
                memcpy(s->names + s->names_len, name.ptr, name.len);
            s->regions[s->nregions++] = (struct region){ev->args[0], s->names_len, (uint32_t)name.len};
            s->names_len += name.len;
            return 1;
        }
        if (!s->nregions)
            return 0;
        const struct region *top = &s->regions[s->nregions - 1];
        if (top->task != ev->args[0] || top->len != name.len ||
            (name.len && memcmp(s->names + top->off, name.ptr, name.len) != 0))
            return 0;
        if (e)
            fast_region(e, g, c, ms, name);
        s->names_len = top->off;
        s->nregions--;
        return 1;
    }
    default:
        return 0;
    }
}

#endif
