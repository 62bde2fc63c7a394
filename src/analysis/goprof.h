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
 * Memory: per live goroutine, plus what the profiles hold (per distinct
 * stack); a goroutine's state is released when it ends.
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

/* A computation over reader r's events.  profiles[k], if not NULL, receives
 * kind k's samples (values: count, nanoseconds); totals are kept for every
 * kind either way.  profiles may be NULL. */
struct goprof *goprof_new(ctrace_reader *r, struct prof *const profiles[GOPROF_KINDS]);
void goprof_free(struct goprof *g);

/* Feeds one event (every event of the trace, in the reader's order). */
void goprof_event(struct goprof *g, const struct ctrace_event *ev);

/* Intervals counted and their total nanoseconds for kind k. */
void goprof_total(const struct goprof *g, enum goprof_kind k, uint64_t *count, int64_t *ns);

/* Values of Go's profiles: sample types and period type. */
extern const struct prof_value_type goprof_sample_types[2];
extern const struct prof_value_type goprof_period_type;

#endif
