/*
 * buf.c - buffer allocation, pooling and the memory cap (see buf.h).
 *
 * The pool and the byte counters are protected by pool_lock; buffers are
 * allocated on slow paths only (a thread's buffer filled up, a new
 * generation began), never per event.  pool_lock is a leaf: nothing is
 * locked while it is held.  Fork (proc.c): the prepare handler takes it,
 * so the child's copy of the pool is consistent; the child re-initializes
 * it, and once the trace's fork-child step has dropped every buffer the
 * child had (ct_buf_reset_in_use) counts none in use.
 */
#include "buf.h"
#include "libc.h"
#include "proc.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES (sizeof(struct ct_buf) + CT_BUF_HDR + CT_BUF_SIZE)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ct_buf *pool;          /* free buffers                      */
static size_t pool_count;
static size_t in_use_bytes;          /* allocated and not in the pool     */
static size_t cap_bytes = 64u << 20;

void ct_buf_set_cap(size_t cap)
{
    ct_libc_mutex_lock(&pool_lock);
    cap_bytes = cap;
    ct_libc_mutex_unlock(&pool_lock);
}

void ct_buf_charge(long delta)
{
    ct_libc_mutex_lock(&pool_lock);
    in_use_bytes += (size_t)delta; /* wraps back for a release */
    ct_libc_mutex_unlock(&pool_lock);
}

size_t ct_buf_in_use(void)
{
    ct_libc_mutex_lock(&pool_lock);
    size_t n = in_use_bytes;
    ct_libc_mutex_unlock(&pool_lock);
    return n;
}

int ct_buf_at_cap(void)
{
    ct_libc_mutex_lock(&pool_lock);
    int r = in_use_bytes + BUF_BYTES > cap_bytes;
    ct_libc_mutex_unlock(&pool_lock);
    return r;
}

/* Thread batches per generation (two in flight: gen & 1).  A generation
 * none of whose threads wrote anything -- every program thread gone while
 * the process lives on (lastthread.c) -- needs a batch of the advancer's
 * (ct_status_placeholder): Go's parser rejects a generation without one. */
static _Atomic uint64_t thread_batches[2];

uint64_t ct_buf_thread_batches(uint64_t gen)
{
    return atomic_load_explicit(&thread_batches[gen & 1], memory_order_relaxed);
}

void ct_buf_thread_batches_reset(uint64_t gen)
{
    atomic_store_explicit(&thread_batches[gen & 1], 0, memory_order_relaxed);
}

struct ct_buf *ct_buf_alloc(uint64_t gen, uint64_t m, uint64_t ts, int force)
{
    if (m != GT_NO_ID)
        atomic_fetch_add_explicit(&thread_batches[gen & 1], 1, memory_order_relaxed);
    struct ct_buf *b = NULL;
    ct_libc_mutex_lock(&pool_lock);
    if (!force && in_use_bytes + BUF_BYTES > cap_bytes) {
        ct_libc_mutex_unlock(&pool_lock);
        return NULL;
    }
    if (pool) {
        b = pool;
        pool = b->next;
        pool_count--;
    }
    in_use_bytes += BUF_BYTES;
    ct_libc_mutex_unlock(&pool_lock);
    if (!b) {
        b = malloc(BUF_BYTES);
        if (!b) {
            ct_libc_mutex_lock(&pool_lock);
            in_use_bytes -= BUF_BYTES;
            ct_libc_mutex_unlock(&pool_lock);
            return NULL;
        }
    }
    b->next = NULL;
    b->gen = gen;
    b->m = m;
    b->base_ts = ts;
    b->last_ts = ts;
    b->start = b->mem + CT_BUF_HDR;
    b->pos = b->start;
    b->end = b->mem + CT_BUF_HDR + CT_BUF_SIZE;
    b->limit = b->end - CT_BUF_RESERVE;
    return b;
}

void ct_buf_finish(struct ct_buf *b)
{
    uint8_t hdr[CT_BUF_HDR], *p = hdr;
    uint8_t *data = b->mem + CT_BUF_HDR;
    *p++ = GT_EV_EVENT_BATCH;
    p = varint_put(p, b->gen);
    p = varint_put(p, b->m);
    p = varint_put(p, b->base_ts);
    p = varint_put(p, (uint64_t)(b->pos - data));
    size_t n = (size_t)(p - hdr);
    b->start = data - n;
    memcpy(b->start, hdr, n);
}

void ct_buf_free(struct ct_buf *b)
{
    if (!b)
        return;
    ct_libc_mutex_lock(&pool_lock);
    in_use_bytes -= BUF_BYTES;
    /* Keep a modest pool; the rest goes back to malloc. */
    if (pool_count < 64) {
        b->next = pool;
        pool = b;
        pool_count++;
        b = NULL;
    }
    ct_libc_mutex_unlock(&pool_lock);
    free(b);
}

void ct_buf_pool_trim(void)
{
    ct_libc_mutex_lock(&pool_lock);
    struct ct_buf *list = pool;
    pool = NULL;
    pool_count = 0;
    ct_libc_mutex_unlock(&pool_lock);
    while (list) {
        struct ct_buf *n = list->next;
        free(list);
        list = n;
    }
}

void ct_buf_atfork_prepare(void)
{
    ct_libc_mutex_lock(&pool_lock);
}

void ct_buf_atfork_parent(void)
{
    ct_libc_mutex_unlock(&pool_lock);
}

void ct_buf_atfork_child(void)
{
    pthread_mutex_init(&pool_lock, NULL);
}

/* Fork child, after the trace state was dropped: buffers of the parent's
 * other threads were abandoned, not freed (proc.c), so none is in use. */
void ct_buf_reset_in_use(void)
{
    ct_libc_mutex_lock(&pool_lock);
    in_use_bytes = 0;
    ct_libc_mutex_unlock(&pool_lock);
}
