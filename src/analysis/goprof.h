/*
 * goprof.h - the time goroutines spend blocked on synchronisation, waiting
 * for the network, in system calls and waiting to be scheduled, computed
 * the way Go 1.23's `go tool trace -pprof=sync|net|syscall|sched` computes
 * it.  `ctrace stat` (its totals) and `ctrace pprof` (the profiles) both
 * use this one computation, so they agree by construction.
 *
 * Go's rules (facts of cmd/trace/pprof.go and internal/trace/summary.go):
 *   - Only goroutine state transitions whose event has a stack count.
 *   - An interval opens at a transition into the kind's state (Waiting with
 *     reason "network" for net; Waiting with a reason containing "chan",
 *     "sync" or "select" for sync; Syscall; Runnable for sched) and closes at
 *     the goroutine's next counted transition into another state; a
 *     transition into the same state changes nothing.  Intervals still open
 *     at the end of the trace are dropped.
 *   - Each interval is clipped to the goroutine's life from its first
 *     transition to Running (its summary's StartTime; not clipped if it
 *     never ran); an interval left empty is not counted.
 *   - The sample is the stack of the transition that opened the interval.
 *
 * Memory: what the profiles hold (per distinct stack) and the distinct
 * wait reasons; the per-goroutine state (struct goprof_g) is the
 * caller's, in its record of the goroutine, dropped when the goroutine
 * ends.
 */
#ifndef CTRACE_ANALYSIS_GOPROF_H
#define CTRACE_ANALYSIS_GOPROF_H

#include <stdint.h>

#include "ctrace_reader.h"
#include "profile.h"

enum goprof_kind { GOPROF_SYNC, GOPROF_NET, GOPROF_SYSCALL, GOPROF_SCHED, GOPROF_KINDS };

/* "sync", "net", "syscall", "sched". */
extern const char *const goprof_kind_names[GOPROF_KINDS];

/* Go's test for a synchronisation wait reason ("chan receive", "select",
 * "sync.Mutex.Lock" ...). */
int goprof_reason_is_sync(const char *reason);

struct goprof;

/* The computation's state of one goroutine: the intervals it has open.
 * It lives in the caller's record of the goroutine (gtable.h), zeroed
 * when the record is made; the caller drops the record after the
 * goroutine's transition to NotExist (which closes every interval). */
struct goprof_g {
    int64_t start[GOPROF_KINDS];  /* when kind k's interval opened        */
    uint32_t stack[GOPROF_KINDS]; /* profile stack handle of its opener   */
    int64_t first_run;            /* the first transition to Running      */
    uint8_t active;               /* bit k: kind k's interval is open     */
    uint8_t ran;                  /* first_run is known                   */
};

/* A computation over reader r's events.  profiles NULL: every kind is
 * computed, for its totals (stat).  Otherwise only the kinds k with a
 * profile are: profiles[k] receives their samples (values: count,
 * nanoseconds), and goprof_total has theirs (pprof: one kind, which
 * then costs a transition nothing when it is not that kind's). */
struct goprof *goprof_new(ctrace_reader *r, struct prof *const profiles[GOPROF_KINDS]);
void goprof_free(struct goprof *g);

/* goprof_transition's work for a counted transition (one with a stack). */
void goprof_counted(struct goprof *g, struct goprof_g *t, const struct ctrace_event *ev);

/* Feeds one goroutine state transition (every one of the trace, in the
 * reader's order: ev->kind CTRACE_EV_STATE_TRANSITION, resource
 * CTRACE_RES_GOROUTINE) with the state of the goroutine it moves. */
static inline void goprof_transition(struct goprof *g, struct goprof_g *t,
                                     const struct ctrace_event *ev)
{
    /* StartTime counts every transition to Running, with or without
     * stack; only those with a stack count otherwise (about a third have
     * none: a goroutine put to run, which then costs no call). */
    if (ev->u.transition.to == CTRACE_STATE_RUNNING && !t->ran) {
        t->ran = 1;
        t->first_run = ev->time;
    }
    if (ev->stack != CTRACE_NO_STACK)
        goprof_counted(g, t, ev);
}

/* Intervals counted and their total nanoseconds for kind k. */
void goprof_total(const struct goprof *g, enum goprof_kind k, uint64_t *count, int64_t *ns);

/* Values of Go's profiles: sample types and period type. */
extern const struct prof_value_type goprof_sample_types[2];
extern const struct prof_value_type goprof_period_type;

#endif
