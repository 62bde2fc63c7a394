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
 * Names are ids the caller gives them (stat's string ids, pprof's), one
 * per distinct name: the same name always has the same id, so matching
 * compares numbers, and nothing is copied (the reader's strings die with
 * their generation; a region may span several).
 *
 * Memory: per live goroutine that has opened regions, an array of at most
 * REGIONS_MAX_DEPTH entries.  The per-goroutine stack, struct regions_g,
 * lives in the caller's record of the goroutine (gtable.h), zeroed when
 * the record is made: there is no table of goroutines here to search
 * again at each region.
 */
#ifndef CTRACE_ANALYSIS_REGIONS_H
#define CTRACE_ANALYSIS_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#define REGIONS_MAX_DEPTH 64

struct open_region;

/* The open regions of one goroutine (zeroed: none). */
struct regions_g {
    struct open_region *open; /* [0, n) open, innermost last */
    uint32_t n, cap;
};

/* Opens the region named `name` (an id) on the goroutine at `time`;
 * cookie is returned by the matching end (stat: nothing; pprof: a stack
 * handle).  Returns 1 if tracked, 0 if past REGIONS_MAX_DEPTH. */
int regions_begin(struct regions_g *gr, uint32_t name, int64_t time, uint32_t cookie);

/* Closes the goroutine's innermost open region named `name`.  Returns 1
 * and its begin time and cookie if there was one, 0 if the end is
 * unmatched. */
int regions_end(struct regions_g *gr, uint32_t name, int64_t *begin, uint32_t *cookie);

/* The goroutine ended (or the caller is done): forget its open regions
 * and free their array; gr is zeroed. */
void regions_goroutine_end(struct regions_g *gr);

#endif
