/*
 * sink_ring.c - the ring sink (sink.h) of the flight recorder: recent
 * whole generations in memory, oldest dropped first, never written unless
 * a snapshot asks (flight.c, flight_crash.c).
 *
 * Invariants:
 *  - The ring is a list of generations in increasing order, oldest first:
 *    the sealed ones (generation_complete came), then the ones in
 *    progress (at most the current one and the one the advancer is
 *    finishing).  Sealed generations are consecutive: only the oldest is
 *    ever dropped, so head..sealed_tail is always a valid run for a
 *    snapshot.
 *  - A batch in the ring is immutable.  A sealed generation's batch list
 *    and its next link never change: new generations are linked after
 *    sealed_tail, and sealed_tail is published (release) only once its
 *    generation is whole.  So a reader that loads head and sealed_tail
 *    reads consistent data without a lock -- as long as nothing is freed
 *    under it.
 *  - Freeing: a generation is dropped by the eviction only (or by
 *    drop_all), under r_lock, never while a snapshot pins the ring, and
 *    never once a fatal signal froze it.  The freeze is a Dekker pair with
 *    the eviction: the evictor increments `evicting`, then reads `frozen`;
 *    the handler sets `frozen`, then waits for `evicting` to be 0 -- and
 *    the evictor unlinks the generation (a store of head) before it
 *    decrements, and frees it after.  So a handler that read head after
 *    its wait never sees a generation being freed, and the window it waits
 *    for holds no blocking call.
 *  - Memory: kept batches are whole trace buffers (they count against the
 *    buffer cap, buf.c); a batch less than half full is copied into a
 *    block of its own size and its buffer freed at once, so idle threads'
 *    small status batches do not pin 32 KiB each (the copies are charged
 *    to the same cap).  In flight mode the cap is MaxBytes (flight.c), so
 *    the ring plus the threads' current buffers never exceed it, apart
 *    from the bounded forced allocations of buf.h.  The eviction keeps the
 *    sealed generations under 3/4 of MaxBytes (and drops those MinAge
 *    does not need, counted back from the newest one's start), and a
 *    generation in progress past 1/8 of it asks for an early end, so the
 *    generation being written normally has room below the cap.
 *  - r_lock is innermost (sink.h): nothing takes a tracer lock under it
 *    but the buffer pool's (a leaf).
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "flight.h"
#include "libc.h"
#include "sink.h"
#include "trace.h"

/* Memory of one whole trace buffer (buf.c allocates this much). */
#define WHOLE_BUF_BYTES (sizeof(struct ct_buf) + CT_BUF_HDR + CT_BUF_SIZE)

static pthread_mutex_t r_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ct_ring_gen *_Atomic head;        /* oldest                  */
static struct ct_ring_gen *_Atomic sealed_tail; /* newest sealed, or NULL  */
static size_t held_bytes;                        /* every generation        */
static size_t sealed_bytes;
static int pins;
static _Atomic uint64_t last_freq;
static _Atomic uint64_t gens_dropped;
static _Atomic size_t held_bytes_pub;

static uint64_t last_seal_ns;                    /* the begin, or the last seal */
static uint64_t min_age_ns = 10000000000ull;
static size_t max_bytes = 32u << 20;

/* The crash freeze (see the header comment). */
static _Atomic int frozen;
static _Atomic int evicting;

void ct_ring_configure(uint64_t min_age, size_t max)
{
    ct_libc_mutex_lock(&r_lock);
    min_age_ns = min_age;
    max_bytes = max;
    ct_libc_mutex_unlock(&r_lock);
}

/* ---- batches ---- */

/* A copied batch is marked by end == NULL (a whole buffer's end is set). */
static size_t batch_bytes(const struct ct_buf *b)
{
    if (b->end)
        return WHOLE_BUF_BYTES;
    return sizeof(struct ct_buf) + (size_t)(b->pos - b->start);
}

static void batch_free(struct ct_buf *b)
{
    if (b->end) {
        ct_buf_free(b);
        return;
    }
    ct_buf_charge(-(long)batch_bytes(b));
    free(b);
}

/* A batch less than half full moves to a block of its own size. */
static struct ct_buf *compact(struct ct_buf *b)
{
    size_t len = (size_t)(b->pos - b->start);
    if (len >= CT_BUF_SIZE / 2)
        return b;
    struct ct_buf *c = malloc(sizeof(struct ct_buf) + len);
    if (!c)
        return b; /* keep the whole buffer */
    *c = *b;
    c->next = NULL;
    c->start = c->mem;
    memcpy(c->mem, b->start, len);
    c->pos = c->mem + len;
    c->limit = c->end = NULL;
    ct_buf_charge((long)(sizeof(struct ct_buf) + len));
    ct_buf_free(b);
    return c;
}

/* ---- generations (r_lock held) ---- */

/* The node of generation gen, created in order if new (NULL: no memory). */
static struct ct_ring_gen *gen_node(uint64_t gen)
{
    struct ct_ring_gen *prev = atomic_load(&sealed_tail);
    struct ct_ring_gen *n = prev ? prev->next : atomic_load(&head);
    while (n && n->gen < gen) {
        prev = n;
        n = n->next;
    }
    if (n && n->gen == gen)
        return n;
    struct ct_ring_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->gen = gen;
    g->next = n;
    if (prev)
        prev->next = g;
    else
        atomic_store(&head, g);
    return g;
}

static void gen_free(struct ct_ring_gen *g)
{
    for (struct ct_buf *b = g->head, *n; b; b = n) {
        n = b->next;
        batch_free(b);
    }
    free(g);
}

/* Drops the oldest sealed generation; 0 if it may not (frozen). */
static int evict_oldest(void)
{
    atomic_fetch_add(&evicting, 1);
    if (atomic_load(&frozen)) {
        atomic_fetch_sub(&evicting, 1);
        return 0;
    }
    struct ct_ring_gen *g = atomic_load(&head);
    atomic_store(&head, g->next);
    atomic_fetch_sub(&evicting, 1);
    held_bytes -= g->bytes;
    sealed_bytes -= g->bytes;
    atomic_fetch_add(&gens_dropped, 1);
    gen_free(g);
    return 1;
}

/* Drops sealed generations, oldest first, while they exceed 3/4 of the
 * budget or are not needed for MinAge; the newest sealed one stays.
 * "Needed" is counted back from the start of the newest sealed generation,
 * not from now: a snapshot's trigger may lie anywhere inside that
 * generation (the snapshot's own seal ends it after the trigger), and the
 * history before the trigger must still span MinAge. */
static void evict(void)
{
    struct ct_ring_gen *newest = atomic_load(&sealed_tail);
    uint64_t now = newest ? newest->start_ns : 0;
    while (!pins) {
        struct ct_ring_gen *g = atomic_load(&head);
        if (!g || g == atomic_load(&sealed_tail) || !g->sealed)
            break;
        int too_big = sealed_bytes > max_bytes / 4 * 3;
        /* The generations after g cover [g->end_ns, now] at least. */
        int not_needed = g->end_ns + min_age_ns <= now;
        if (!too_big && !not_needed)
            break;
        if (!evict_oldest())
            break;
    }
    atomic_store(&held_bytes_pub, held_bytes);
}

/* ---- the sink ---- */

static void ring_put(struct ct_sink *s, struct ct_buf *b)
{
    (void)s;
    b = compact(b);
    b->next = NULL;
    size_t n = batch_bytes(b);
    int ask = 0;
    ct_libc_mutex_lock(&r_lock);
    struct ct_ring_gen *g = gen_node(b->gen);
    if (!g) {
        ct_libc_mutex_unlock(&r_lock);
        batch_free(b); /* no memory: the generation will not be valid */
        atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return;
    }
    if (g->tail)
        g->tail->next = b;
    else
        g->head = b;
    g->tail = b;
    g->bytes += n;
    held_bytes += n;
    if (!g->asked_advance && g->bytes > max_bytes / 8) {
        g->asked_advance = 1;
        ask = 1;
    }
    ct_libc_mutex_unlock(&r_lock);
    if (ask)
        ct_request_advance(); /* end this generation early */
}

static void ring_generation_complete(struct ct_sink *s, uint64_t gen)
{
    (void)s;
    ct_libc_mutex_lock(&r_lock);
    struct ct_ring_gen *g = gen_node(gen);
    if (g) {
        g->sealed = 1;
        g->start_ns = last_seal_ns;
        g->end_ns = last_seal_ns = ct_mono_ns();
        sealed_bytes += g->bytes;
        atomic_store(&last_freq, ct_clock_units_per_sec());
        atomic_store_explicit(&sealed_tail, g, memory_order_release);
        evict();
    }
    ct_libc_mutex_unlock(&r_lock);
}

/* Frees every generation (r_lock held); leaves them if frozen. */
static void drop_all_locked(void)
{
    atomic_fetch_add(&evicting, 1);
    if (atomic_load(&frozen)) {
        atomic_fetch_sub(&evicting, 1);
        return;
    }
    struct ct_ring_gen *g = atomic_load(&head);
    atomic_store(&sealed_tail, NULL);
    atomic_store(&head, NULL);
    atomic_fetch_sub(&evicting, 1);
    while (g) {
        struct ct_ring_gen *n = g->next;
        gen_free(g);
        g = n;
    }
    held_bytes = sealed_bytes = 0;
    atomic_store(&held_bytes_pub, 0);
}

void ct_ring_drop_all(void)
{
    ct_libc_mutex_lock(&r_lock);
    drop_all_locked();
    ct_libc_mutex_unlock(&r_lock);
}

static int ring_begin(struct ct_sink *s, uint64_t first_gen)
{
    (void)s;
    (void)first_gen;
    ct_libc_mutex_lock(&r_lock);
    drop_all_locked();
    atomic_store(&gens_dropped, 0);
    atomic_store(&last_freq, 0);
    last_seal_ns = ct_mono_ns();
    ct_libc_mutex_unlock(&r_lock);
    return CTRACE_OK;
}

static void ring_end(struct ct_sink *s)
{
    (void)s; /* the sealed generations stay until the recorder stops */
}

static int ring_may_advance(struct ct_sink *s, uint64_t gen)
{
    (void)s;
    (void)gen;
    return 1; /* nobody reads behind: never lags */
}

static void ring_discard(struct ct_sink *s)
{
    (void)s;
    ct_ring_drop_all();
}

static const struct ct_sink_ops ring_ops = {
    .begin = ring_begin,
    .put = ring_put,
    .generation_complete = ring_generation_complete,
    .end = ring_end,
    .may_advance = ring_may_advance,
    .discard = ring_discard,
};

static struct ct_sink ring_sink = {&ring_ops};

struct ct_sink *ct_ring_sink(void)
{
    return &ring_sink;
}

/* ---- readers ---- */

static void view_now(struct ct_ring_view *v)
{
    v->last = atomic_load_explicit(&sealed_tail, memory_order_acquire);
    v->first = v->last ? atomic_load(&head) : NULL;
}

void ct_ring_pin(struct ct_ring_view *v)
{
    ct_libc_mutex_lock(&r_lock);
    pins++;
    view_now(v);
    ct_libc_mutex_unlock(&r_lock);
}

void ct_ring_unpin(void)
{
    ct_libc_mutex_lock(&r_lock);
    if (--pins == 0)
        evict(); /* what the snapshot held back */
    ct_libc_mutex_unlock(&r_lock);
}

void ct_ring_freeze(void)
{
    atomic_store(&frozen, 1);
}

void ct_ring_crash_view(struct ct_ring_view *v)
{
    ct_ring_freeze();
    /* The window an evictor is in holds no blocking call: a second is
     * plenty; past it (the evictor was preempted for good) read anyway,
     * the generation it unlinks is already out of the list. */
    uint64_t deadline = ct_mono_ns() + 1000000000ull;
    while (atomic_load(&evicting) > 0 && ct_mono_ns() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    view_now(v);
}

uint64_t ct_ring_freq(void)
{
    return atomic_load(&last_freq);
}

void ct_ring_stats(uint64_t *dropped, uint64_t *held)
{
    *dropped = atomic_load(&gens_dropped);
    *held = atomic_load(&held_bytes_pub);
}

/* ---- fork ---- */

void ct_ring_atfork_prepare(void)
{
    ct_libc_mutex_lock(&r_lock);
}

void ct_ring_atfork_parent(void)
{
    ct_libc_mutex_unlock(&r_lock);
}

/* The ring belongs to the parent's recorder: dropped (the prepare handler
 * held r_lock, so the list is consistent; the buffers are the parent's
 * copy-on-write pages, abandoned as the FIFO's are not: they are ours). */
void ct_ring_atfork_child(void)
{
    pthread_mutex_init(&r_lock, NULL);
    pins = 0;
    atomic_store(&frozen, 0);
    atomic_store(&evicting, 0);
    drop_all_locked();
}
