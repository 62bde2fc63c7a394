/*
 * regions.h - matching region ends to region begins, per goroutine, for
 * `ctrace stat` (latencies by name) and `ctrace pprof region` (time by name
 * and stack): one computation, so the two agree.
 *
 * Rules (as stat has always counted them):
 *   - A goroutine's open regions form a stack.  An end closes the innermost
 *     open region of the same name on that goroutine; regions opened inside
 *     it close with it, uncounted (a region cannot outlive its parent).  An
 *     end with no open region of its name is unmatched.
 *   - At most REGIONS_MAX_DEPTH regions are open per goroutine; a deeper
 *     begin is not tracked (its end will be unmatched).
 *   - When a goroutine ends (regions_goroutine_end), its open regions are
 *     forgotten: they never complete.
 *
 * Memory: per live goroutine that has opened regions (until
 * regions_goroutine_end), at most REGIONS_MAX_DEPTH entries each (the name
 * is copied: the reader's strings die with their generation, a region may
 * span several; the copies' buffers are reused by the next regions).
 */
#ifndef CTRACE_ANALYSIS_REGIONS_H
#define CTRACE_ANALYSIS_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define REGIONS_MAX_DEPTH 64

struct regions;

struct regions *regions_new(void);
void regions_free(struct regions *rt);

/* Opens region `name` on goroutine g at `time`; cookie is returned by the
 * matching end (stat: nothing; pprof: a stack handle).  Returns 1 if
 * tracked, 0 if past REGIONS_MAX_DEPTH. */
int regions_begin(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t time,
                  uint32_t cookie);

/* Closes the innermost open region `name` of g.  Returns 1 and its begin
 * time and cookie if there was one, 0 if the end is unmatched. */
int regions_end(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t *begin,
                uint32_t *cookie);

/* Goroutine g ended: forget its open regions. */
void regions_goroutine_end(struct regions *rt, uint64_t g);

#endif
