/*
 * goprof.c - Go's `-pprof=sync|net|syscall|sched` computation (see
 * goprof.h for the rules it follows and its memory bound).
 *
 * Invariant: a goroutine's tracker exists from its first counted transition
 * (or its first run) until its transition to NotExist, which closes every
 * interval it had open (NotExist is another state) before releasing it.
 */
#include "goprof.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "must.h"
#include "satadd.h"
#include "strtab.h"

/* Distinct wait reasons remembered; past that, reasons are classified
 * afresh each time (memory stays bounded whatever the trace holds). */
#define MAX_REASONS 4096

enum { REASON_OTHER = 1, REASON_SYNC = 2, REASON_NET = 4 };

const char *const goprof_kind_names[GOPROF_KINDS] = {"sync", "net", "syscall", "sched"};

/* As Go's BuildProfile labels them. */
const struct prof_value_type goprof_sample_types[2] = {{"contentions", "count"},
                                                       {"delay", "nanoseconds"}};
const struct prof_value_type goprof_period_type = {"trace", "count"};

struct gtrack {
    uint64_t id;
    int64_t start[GOPROF_KINDS];
    uint32_t stack[GOPROF_KINDS]; /* profile stack handle of the opener */
    uint8_t active[GOPROF_KINDS];
    uint8_t ran;
    int64_t first_run;
    uint32_t free_next;
};

struct goprof {
    ctrace_reader *r;
    struct prof *profiles[GOPROF_KINDS];
    struct gtrack *gs;
    uint32_t ngs, cap_gs, free_head; /* free list: index + 1 */
    struct u64map by_id;
    struct u64memo by_id_memo; /* in front of by_id */
    /* Wait reasons seen, and their class (REASON_*), by id in `reasons`:
     * a reason is classified once, not at every wait. */
    struct strtab reasons;
    struct strtab_memo reasons_memo;
    uint8_t *reason_class;
    uint64_t count[GOPROF_KINDS];
    int64_t total[GOPROF_KINDS];
};

int goprof_reason_is_sync(const char *r)
{
    return strstr(r, "chan") || strstr(r, "sync") || strstr(r, "select");
}

struct goprof *goprof_new(ctrace_reader *r, struct prof *const profiles[GOPROF_KINDS])
{
    struct goprof *g = an_calloc(1, sizeof *g);
    g->r = r;
    for (int k = 0; k < GOPROF_KINDS; k++)
        g->profiles[k] = profiles ? profiles[k] : NULL;
    return g;
}

void goprof_free(struct goprof *g)
{
    if (!g)
        return;
    free(g->gs);
    u64map_free(&g->by_id);
    strtab_free(&g->reasons);
    free(g->reason_class);
    free(g);
}

void goprof_total(const struct goprof *g, enum goprof_kind k, uint64_t *count, int64_t *ns)
{
    *count = g->count[k];
    *ns = g->total[k];
}

/* The goroutine's tracker, or NULL. */
static struct gtrack *track_find(struct goprof *g, uint64_t id)
{
    uint64_t v;
    return u64memo_get(&g->by_id_memo, &g->by_id, id, &v) ? &g->gs[v] : NULL;
}

static struct gtrack *track_get(struct goprof *g, uint64_t id)
{
    struct gtrack *t = track_find(g, id);
    if (t)
        return t;
    uint32_t v;
    if (g->free_head) {
        v = g->free_head - 1;
        g->free_head = g->gs[v].free_next;
    } else {
        if (g->ngs == g->cap_gs) {
            g->cap_gs = g->cap_gs ? g->cap_gs * 2 : 64;
            g->gs = an_realloc(g->gs, g->cap_gs * sizeof *g->gs);
        }
        v = g->ngs++;
    }
    memset(&g->gs[v], 0, sizeof g->gs[v]);
    g->gs[v].id = id;
    an_map_put(&g->by_id, id, v);
    return &g->gs[v];
}

static void track_release(struct goprof *g, struct gtrack *t)
{
    uint32_t v = (uint32_t)(t - g->gs);
    u64map_del(&g->by_id, t->id, NULL);
    u64memo_forget(&g->by_id_memo, t->id);
    t->free_next = g->free_head;
    g->free_head = v + 1;
}

static unsigned classify(const char *reason)
{
    return (goprof_reason_is_sync(reason) ? REASON_SYNC : 0) |
           (strcmp(reason, "network") == 0 ? REASON_NET : 0) | REASON_OTHER;
}

/* REASON_* bits of a wait reason (REASON_OTHER always set: classified). */
static unsigned reason_class(struct goprof *g, struct ctrace_str r)
{
    const char *p = r.ptr ? r.ptr : "";
    int64_t id = strtab_memo_get(&g->reasons, &g->reasons_memo, p, r.len);
    if (id < 0) {
        id = strtab_find(&g->reasons, p, r.len);
        if (id < 0) {
            if (g->reasons.n >= MAX_REASONS)
                return classify(p);
            id = strtab_intern(&g->reasons, p, r.len);
            if (id < 0)
                an_out_of_memory();
            g->reason_class = an_realloc(g->reason_class, g->reasons.cap);
            g->reason_class[id] = (uint8_t)classify(p);
        }
        strtab_memo_put(&g->reasons_memo, p, (uint32_t)id);
    }
    return g->reason_class[id];
}

/* Does a transition into state `to` with a reason of class `rc` open an
 * interval of k? */
static int opens(enum goprof_kind k, enum ctrace_state to, unsigned rc)
{
    switch (k) {
    case GOPROF_SYNC: return to == CTRACE_STATE_WAITING && (rc & REASON_SYNC);
    case GOPROF_NET: return to == CTRACE_STATE_WAITING && (rc & REASON_NET);
    case GOPROF_SYSCALL: return to == CTRACE_STATE_SYSCALL;
    default: return to == CTRACE_STATE_RUNNABLE;
    }
}

static enum ctrace_state kind_state(enum goprof_kind k)
{
    return k == GOPROF_SYSCALL ? CTRACE_STATE_SYSCALL
         : k == GOPROF_SCHED   ? CTRACE_STATE_RUNNABLE
                               : CTRACE_STATE_WAITING;
}

void goprof_event(struct goprof *g, const struct ctrace_event *ev)
{
    if (ev->kind != CTRACE_EV_STATE_TRANSITION ||
        ev->u.transition.resource != CTRACE_RES_GOROUTINE)
        return;
    uint64_t id = ev->u.transition.id;
    enum ctrace_state to = ev->u.transition.to;
    struct gtrack *t = track_find(g, id);

    /* StartTime counts every transition to Running, with or without stack. */
    if (to == CTRACE_STATE_RUNNING && (!t || !t->ran)) {
        if (!t)
            t = track_get(g, id);
        t->ran = 1;
        t->first_run = ev->time;
    }

    if (ev->stack != CTRACE_NO_STACK) {
        unsigned rc = to == CTRACE_STATE_WAITING ? reason_class(g, ev->u.transition.reason) : 0;
        for (int k = 0; k < GOPROF_KINDS; k++) {
            if (!t || !t->active[k]) {
                if (!opens((enum goprof_kind)k, to, rc))
                    continue;
                if (!t)
                    t = track_get(g, id);
                t->active[k] = 1;
                t->start[k] = ev->time;
                t->stack[k] = g->profiles[k] ? prof_stack(g->profiles[k], g->r, ev->stack,
                                                          ev->generation, NULL)
                                             : 0;
                continue;
            }
            if (to == kind_state((enum goprof_kind)k))
                continue; /* same state: the interval goes on */
            t->active[k] = 0;
            int64_t start = t->start[k];
            if (t->ran && t->first_run > start)
                start = t->first_run;
            int64_t d = ns_since(start, ev->time);
            if (d <= 0)
                continue;
            g->count[k]++;
            g->total[k] = sat_add(g->total[k], d);
            if (g->profiles[k]) {
                int64_t vals[2] = {1, d};
                prof_add(g->profiles[k], t->stack[k], vals);
            }
        }
    }
    if (t && to == CTRACE_STATE_NOTEXIST)
        track_release(g, t);
}
