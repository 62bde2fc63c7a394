/*
 * buf.h - trace buffers: one Go "batch" each.
 *
 * A buffer belongs to exactly one owner at a time:
 *   - a thread writing events of one generation into it (between
 *     ct_acquire and ct_release, see event.h), or
 *   - the advancer, which takes a thread's buffer of a finished generation
 *     once the thread can no longer be writing to it, or
 *   - the output sink (sink_fifo.c), after ct_buf_finish, until the reader has
 *     returned its bytes and ct_buf_free recycles it.
 * Ownership passes through the registry lock or the queue lock, never
 * through a race.
 *
 * Layout: [header room][events ... pos][reserve][end).  ct_buf_finish encodes
 * the batch header (EvEventBatch gen m ts size) right-aligned into the header
 * room, so the finished batch is one contiguous byte range [start, pos).
 * Ordinary events may use the buffer up to `limit`; the last CT_BUF_RESERVE
 * bytes are kept for the few events that must never be lost (closing a
 * thread's regions when tracing pauses at the memory cap, thread exit).
 *
 * Memory: every buffer counts against the trace's memory cap; ct_buf_alloc
 * fails (returns NULL) when the cap would be exceeded, unless `force` is set
 * (used only for the bounded per-thread status/exit events).
 */
#ifndef CTRACE_RUNTIME_BUF_H
#define CTRACE_RUNTIME_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "gotrace.h"
#include "varint.h"

#define CT_BUF_SIZE (32u << 10)     /* bytes of event data per batch      */
#define CT_BUF_HDR 48               /* room for the batch header          */
#define CT_BUF_RESERVE 1024         /* bytes only must-keep events use    */
#define CT_EV_MAX 64                /* largest ordinary event encoding    */

struct ct_buf {
    struct ct_buf *next;   /* queue link                                  */
    uint64_t gen;          /* generation of every event inside            */
    uint64_t m;            /* M (thread) id of the batch, GT_NO_ID: none   */
    uint64_t base_ts;      /* batch timestamp (trace units)               */
    uint64_t last_ts;      /* timestamp of the last event (trace units)   */
    uint8_t *start;        /* first byte of the finished batch            */
    uint8_t *pos;          /* next free byte                              */
    uint8_t *limit;        /* ordinary events stop here                   */
    uint8_t *end;          /* must-keep events stop here                  */
    uint8_t mem[];         /* CT_BUF_HDR + CT_BUF_SIZE bytes              */
};

/* Allocates an empty buffer for generation gen and thread m, or NULL at the
 * memory cap (unless force) or on allocation failure. */
struct ct_buf *ct_buf_alloc(uint64_t gen, uint64_t m, uint64_t ts, int force);

/* How many thread batches (m != GT_NO_ID) were allocated for gen, and
 * the reset of the count for a generation about to begin (the advancer,
 * before it publishes gen: nothing can allocate for it yet). */
uint64_t ct_buf_thread_batches(uint64_t gen);
void ct_buf_thread_batches_reset(uint64_t gen);

/* Encodes the batch header; afterwards [b->start, b->pos) is the batch. */
void ct_buf_finish(struct ct_buf *b);

/* Returns a buffer to the free pool. */
void ct_buf_free(struct ct_buf *b);

/* Releases every pooled buffer (trace stopped and drained). */
void ct_buf_pool_trim(void);

/* Fork child (proc.c): no buffer of the parent's counts against the cap. */
void ct_buf_reset_in_use(void);

/* Charges (delta > 0) or releases bytes held outside the pool against
 * the cap: the flight ring's copies of small batches (sink_ring.c). */
void ct_buf_charge(long delta);

/* Sets the memory cap in bytes. */
void ct_buf_set_cap(size_t cap);

/* Bytes of buffers currently allocated (pooled ones excluded). */
size_t ct_buf_in_use(void);

/* True if allocating one more buffer would exceed the cap. */
int ct_buf_at_cap(void);

/* Room left for ordinary / must-keep events. */
static inline size_t ct_buf_room(const struct ct_buf *b)
{
    return b->pos < b->limit ? (size_t)(b->limit - b->pos) : 0;
}
static inline size_t ct_buf_room_reserved(const struct ct_buf *b)
{
    return (size_t)(b->end - b->pos);
}

/* Event encoding helpers: type byte, timestamp delta, varint args. */
static inline void ct_buf_put_byte(struct ct_buf *b, uint8_t v)
{
    *b->pos++ = v;
}
static inline void ct_buf_put(struct ct_buf *b, uint64_t v)
{
    b->pos = varint_put(b->pos, v);
}
/* Writes the type and the delta of ts (trace units) from the last event.
 * A timestamp behind the last one (cross-core counter skew) is clamped:
 * deltas are unsigned and batches must not go back in time. */
static inline void ct_buf_put_ev(struct ct_buf *b, uint8_t type, uint64_t ts)
{
    uint64_t dt = ts > b->last_ts ? ts - b->last_ts : 0;
    b->last_ts += dt;
    *b->pos++ = type;
    b->pos = varint_put(b->pos, dt);
}

#endif /* CTRACE_RUNTIME_BUF_H */
