/*
 * goprof.c - Go's `-pprof=sync|net|syscall|sched` computation (see
 * goprof.h for the rules it follows and its memory bound).
 *
 * Invariant: a goroutine's state (struct goprof_g, in the caller's record)
 * is zero until its first counted transition or its first run, and its
 * transition to NotExist closes every interval it had open (NotExist is
 * another state), so the caller's dropping the record then loses nothing.
 *
 * The kinds are bits (1 << k) so that a transition finds the intervals it
 * opens and closes with two masks instead of asking each kind in turn:
 * most transitions open one interval or close one, or neither.
 */
#include "goprof.h"

#include <stdlib.h>
#include <string.h>

#include "addrmemo.h"
#include "must.h"
#include "satadd.h"
#include "strtab.h"

/* Distinct wait reasons remembered; past that, reasons are classified
 * afresh each time (memory stays bounded whatever the trace holds). */
#define MAX_REASONS 4096

#define KIND_BIT(k) (1u << (k))

const char *const goprof_kind_names[GOPROF_KINDS] = {"sync", "net", "syscall", "sched"};

/* As Go's BuildProfile labels them. */
const struct prof_value_type goprof_sample_types[2] = {{"contentions", "count"},
                                                       {"delay", "nanoseconds"}};
const struct prof_value_type goprof_period_type = {"trace", "count"};

struct goprof {
    ctrace_reader *r;
    struct prof *profiles[GOPROF_KINDS];
    unsigned kinds; /* KIND_BIT(k) of the kinds computed (goprof_new) */
    /* Wait reasons seen, and the kinds a wait for each opens (its class),
     * by id in `reasons`: a reason is classified once, not at every wait.
     * The memo, by the reason's address in its generation (addrmemo.h),
     * holds the class itself: a repeated reason costs no string work. */
    struct strtab reasons;
    struct addrmemo_gen reasons_memo;
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
    for (int k = 0; k < GOPROF_KINDS; k++) {
        g->profiles[k] = profiles ? profiles[k] : NULL;
        if (!profiles || profiles[k])
            g->kinds |= KIND_BIT(k);
    }
    return g;
}

void goprof_free(struct goprof *g)
{
    if (!g)
        return;
    strtab_free(&g->reasons);
    free(g->reason_class);
    free(g);
}

void goprof_total(const struct goprof *g, enum goprof_kind k, uint64_t *count, int64_t *ns)
{
    *count = g->count[k];
    *ns = g->total[k];
}

/* The kinds a wait with this reason opens: sync and/or net. */
static unsigned classify(const char *reason)
{
    return (goprof_reason_is_sync(reason) ? KIND_BIT(GOPROF_SYNC) : 0) |
           (strcmp(reason, "network") == 0 ? KIND_BIT(GOPROF_NET) : 0);
}

/* The class of a wait reason (the kinds a wait for it opens) that the
 * memo does not know. */
static unsigned reason_lookup(struct goprof *g, const char *p, size_t len, uint64_t gen)
{
    int64_t id = strtab_find(&g->reasons, p, len);
    if (id < 0) {
        if (g->reasons.n >= MAX_REASONS)
            return classify(p);
        id = strtab_intern(&g->reasons, p, len);
        if (id < 0)
            an_out_of_memory();
        g->reason_class = an_realloc(g->reason_class, g->reasons.cap);
        g->reason_class[id] = (uint8_t)classify(p);
    }
    addrmemo_gen_put(&g->reasons_memo, gen, p, len, g->reason_class[id]);
    return g->reason_class[id];
}

/* The kinds whose state `to` is: a transition into it continues their
 * open intervals and closes the others. */
static unsigned kinds_of_state(enum ctrace_state to)
{
    switch (to) {
    case CTRACE_STATE_WAITING: return KIND_BIT(GOPROF_SYNC) | KIND_BIT(GOPROF_NET);
    case CTRACE_STATE_SYSCALL: return KIND_BIT(GOPROF_SYSCALL);
    case CTRACE_STATE_RUNNABLE: return KIND_BIT(GOPROF_SCHED);
    default: return 0;
    }
}


static void open_interval(struct goprof *g, struct goprof_g *t, int k,
                          const struct ctrace_event *ev)
{
    t->active |= KIND_BIT(k);
    t->start[k] = ev->time;
    t->stack[k] =
        g->profiles[k] ? prof_stack(g->profiles[k], g->r, ev->stack, ev->generation, NULL) : 0;
}

static void close_interval(struct goprof *g, struct goprof_g *t, int k, int64_t now)
{
    t->active &= ~KIND_BIT(k);
    int64_t start = t->start[k];
    if (t->ran && t->first_run > start)
        start = t->first_run;
    int64_t d = ns_since(start, now);
    if (d <= 0)
        return;
    g->count[k]++;
    g->total[k] = sat_add(g->total[k], d);
    if (g->profiles[k]) {
        int64_t vals[2] = {1, d};
        prof_add(g->profiles[k], t->stack[k], vals);
    }
}

/* Closes the intervals of the kinds in close, opens those in open.  The
 * kinds are independent (their own fields, their own profile), so
 * closing all before opening any is Go's kind-by-kind order in effect.
 * Not inlined, and called last (a jump): goprof_counted, which mostly
 * finds nothing to do in a one-kind computation (pprof), then saves no
 * registers. */
static __attribute__((noinline)) void change(struct goprof *g, struct goprof_g *t,
                                             const struct ctrace_event *ev, unsigned open,
                                             unsigned close)
{
    for (; close; close &= close - 1)
        close_interval(g, t, __builtin_ctz(close), ev->time);
    for (; open; open &= open - 1)
        open_interval(g, t, __builtin_ctz(open), ev);
}

/* goprof_counted for a wait whose reason the memo does not know. */
static __attribute__((noinline)) void change_new_reason(struct goprof *g, struct goprof_g *t,
                                                        const struct ctrace_event *ev,
                                                        unsigned open, unsigned close)
{
    struct ctrace_str r = ev->u.transition.reason;
    open &= reason_lookup(g, r.ptr ? r.ptr : "", r.len, ev->generation);
    change(g, t, ev, open, close);
}

void goprof_counted(struct goprof *g, struct goprof_g *t, const struct ctrace_event *ev)
{
    /* An open interval goes on through a transition into its own state
     * and closes at any other; a closed one opens if the transition opens
     * its kind (a wait: as its reason says).  Only the kinds computed ever
     * open. */
    enum ctrace_state to = ev->u.transition.to;
    unsigned state = kinds_of_state(to) & g->kinds;
    unsigned close = t->active & ~state;
    unsigned open = state & ~t->active;
    if (open && to == CTRACE_STATE_WAITING) {
        struct ctrace_str r = ev->u.transition.reason;
        uint64_t class;
        if (!addrmemo_gen_get(&g->reasons_memo, ev->generation, r.ptr ? r.ptr : "", r.len, &class)) {
            change_new_reason(g, t, ev, open, close);
            return;
        }
        open &= (unsigned)class;
    }
    if (open | close)
        change(g, t, ev, open, close);
}
