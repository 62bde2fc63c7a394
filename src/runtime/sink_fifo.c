/*
 * sink_fifo.c - the FIFO sink (sink.h): finished batches wait in a queue
 * until one reader takes them in order, through ct_fifo_read -- the
 * runtime-level read API (ctrace_read_trace*, below) and the writer thread
 * of writer.c.
 *
 * Invariants:
 *  - Output order: the reader returns the file header, then every batch of
 *    generation q_out_gen, and moves to the next generation only once it is
 *    complete (q_done_gen >= q_out_gen).  Buffers of a later generation that
 *    fill up early wait in their own list (q[gen & 3]).  The advancer never
 *    runs more than two generations ahead of the reader (fifo_may_advance);
 *    while the reader lags it postpones advances, and the memory cap bounds
 *    the data.
 *  - The reader holds q_reading (the last buffer returned) until its next
 *    call, as Go's ReadTrace does.  One reader at a time.
 *  - A new trace starts only once the previous one was read to its end
 *    (fifo_begin refuses it): the queue holds one trace.
 *  - The stop waits for a reader only while one is attached (inside
 *    ct_fifo_read, or out of it for less than READER_GRACE_NS since its
 *    last return, and not the stopping thread itself), so it never waits
 *    forever: after the stop nothing is added, and each wait ends with the
 *    reader's next call or the grace.  What is not read stays readable.
 *  - q_lock is innermost: taken after the control and registry locks
 *    (advance.c, trace.c's fork handlers), never before them.
 */
#define _GNU_SOURCE
#include "sink.h"

#include <errno.h>
#include <time.h>

#include "clock.h"
#include "flight.h"
#include "libc.h"
#include "thread.h"
#include "trace.h"

/* ---- output queue ---- */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct {
    struct ct_buf *head, *tail;
} q[4];
static uint64_t q_out_gen;   /* generation the reader is returning        */
static uint64_t q_done_gen;  /* every generation <= this one is queued    */
static int q_active;         /* a trace exists that has not been drained  */
static int q_header_sent;
static int q_finished;       /* the last generation is queued             */
static int q_reader;         /* a reader is inside ctrace_read_trace      */
static int q_drained;        /* the reader has seen the end               */
static struct ct_buf *q_reading;
static int q_owner;          /* only the writer thread may read this trace */
/* The reader as the stop sees it (ct_fifo_wait_reader). */
static int q_attached;       /* a reader has called in during this trace  */
static pthread_t q_last_reader;
static uint64_t q_left_ns;   /* CLOCK_MONOTONIC when it last returned     */
static int q_stop_waiters;   /* stoppers waiting in ct_fifo_wait_reader   */

/* How long the stop waits for a reader between two of its calls (time to
 * write out a chunk).  A reader gone longer is taken as not reading. */
#define READER_GRACE_NS 1000000000ull

/* The sink, one per kind of reader (both share the one queue). */
struct fifo_sink {
    struct ct_sink sink;
    enum ct_fifo_reader who;
};

static const char header[GT_HEADER_LEN] = GT_HEADER_GO122;

static void fifo_put(struct ct_sink *s, struct ct_buf *b)
{
    (void)s;
    ct_libc_mutex_lock(&q_lock);
    int i = (int)(b->gen & 3);
    b->next = NULL;
    if (q[i].tail)
        q[i].tail->next = b;
    else
        q[i].head = b;
    q[i].tail = b;
    if (b->gen == q_out_gen)
        ct_libc_cond_broadcast(&q_cond);
    ct_libc_mutex_unlock(&q_lock);
}

int ct_fifo_unread(void)
{
    ct_libc_mutex_lock(&q_lock);
    int unread = q_active && !q_drained;
    ct_libc_mutex_unlock(&q_lock);
    return unread;
}

/* An empty queue for a trace whose first generation is first_gen, unless
 * the previous trace is still unread. */
static int fifo_begin(struct ct_sink *s, uint64_t first_gen)
{
    ct_libc_mutex_lock(&q_lock);
    if (q_active && !q_drained) {
        ct_libc_mutex_unlock(&q_lock);
        return CTRACE_EBUSY;
    }
    for (int i = 0; i < 4; i++)
        q[i].head = q[i].tail = NULL;
    q_out_gen = first_gen;
    q_done_gen = 0;
    q_header_sent = 0;
    q_finished = 0;
    q_drained = 0;
    q_active = 1;
    q_attached = 0;
    /* Set with the queue, before any data: no other reader can take the
     * header between the start and the writer thread's first read. */
    q_owner = ((struct fifo_sink *)s)->who == CT_FIFO_WRITER_ONLY;
    ct_libc_mutex_unlock(&q_lock);
    return CTRACE_OK;
}

static int fifo_may_advance(struct ct_sink *s, uint64_t gen)
{
    (void)s;
    int lag;
    ct_libc_mutex_lock(&q_lock);
    lag = gen >= q_out_gen + 2; /* reader too far behind: wait */
    ct_libc_mutex_unlock(&q_lock);
    return !lag;
}

static void fifo_generation_complete(struct ct_sink *s, uint64_t gen)
{
    (void)s;
    ct_libc_mutex_lock(&q_lock);
    q_done_gen = gen;
    ct_libc_cond_broadcast(&q_cond);
    ct_libc_mutex_unlock(&q_lock);
}

static void fifo_end(struct ct_sink *s)
{
    (void)s;
    ct_libc_mutex_lock(&q_lock);
    q_finished = 1;
    ct_libc_cond_broadcast(&q_cond);
    ct_libc_mutex_unlock(&q_lock);
}

void ct_fifo_wait_reader(void)
{
    ct_libc_mutex_lock(&q_lock);
    q_stop_waiters++;
    while (!q_drained && q_attached && !pthread_equal(q_last_reader, pthread_self())) {
        if (q_reader) {
            /* Inside: it returns data or the end, and broadcasts. */
            ct_libc_cond_wait(&q_cond, &q_lock);
            continue;
        }
        uint64_t deadline = q_left_ns + READER_GRACE_NS;
        if (ct_mono_ns() >= deadline)
            break; /* gone: the rest stays readable */
        struct timespec dl = {(time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u)};
        ct_libc_cond_clockwait(&q_cond, &q_lock, CLOCK_MONOTONIC, &dl);
    }
    q_stop_waiters--;
    ct_libc_mutex_unlock(&q_lock);
}

/* Frees every queued buffer (q_lock held, or a fork child's only thread). */
static void drop_queued(void)
{
    for (int i = 0; i < 4; i++) {
        struct ct_buf *b = q[i].head;
        while (b) {
            struct ct_buf *n = b->next;
            ct_buf_free(b);
            b = n;
        }
        q[i].head = q[i].tail = NULL;
    }
}

/* Abandons a trace without waiting for a reader (a writer that could not
 * start): drops every queued byte. */
static void fifo_discard(struct ct_sink *s)
{
    (void)s;
    ct_libc_mutex_lock(&q_lock);
    drop_queued();
    q_drained = 1;
    q_owner = 0;
    ct_libc_cond_broadcast(&q_cond);
    ct_libc_mutex_unlock(&q_lock);
}

/* The reader's waits on q_lock/q_cond must not be traced: an event written
 * while holding q_lock may have to wait for the advancer's status claim,
 * and the claim queues its batch under q_lock (a deadlock the stress test
 * found).  ctrace_read_trace_chunk runs this as tracer-internal code. */
int ct_fifo_read(enum ct_fifo_reader as, const void **chunk, size_t *len)
{
    *chunk = NULL;
    *len = 0;
    ct_libc_mutex_lock(&q_lock);
    if (q_reader || (q_owner && as != CT_FIFO_WRITER_ONLY)) {
        ct_libc_mutex_unlock(&q_lock);
        return CTRACE_EBUSY;
    }
    if (!q_active) {
        ct_libc_mutex_unlock(&q_lock);
        return CTRACE_ENOTRACING;
    }
    q_reader = 1;
    q_attached = 1;
    q_last_reader = pthread_self();
    if (q_reading) {
        struct ct_buf *b = q_reading;
        q_reading = NULL;
        ct_libc_mutex_unlock(&q_lock);
        ct_buf_free(b);
        ct_libc_mutex_lock(&q_lock);
    }
    int r;
    for (;;) {
        if (q_drained) {
            /* The end was returned already: no trace any more. */
            q_active = 0;
            r = CTRACE_ENOTRACING;
            break;
        }
        if (!q_header_sent) {
            q_header_sent = 1;
            *chunk = header;
            *len = GT_HEADER_LEN;
            r = 1;
            break;
        }
        int i = (int)(q_out_gen & 3);
        struct ct_buf *b = q[i].head;
        /* Only buffers of the generation being returned; a later one that
         * shares the slot waits (cannot happen while the advancer stays at
         * most two generations ahead, kept as a guard). */
        if (b && b->gen == q_out_gen) {
            q[i].head = b->next;
            if (!q[i].head)
                q[i].tail = NULL;
            q_reading = b;
            *chunk = b->start;
            *len = (size_t)(b->pos - b->start);
            r = 1;
            break;
        }
        if (q_done_gen >= q_out_gen) {
            q_out_gen++;
            continue;
        }
        if (q_finished) {
            q_drained = 1;
            q_owner = 0; /* read to its end: others get ENOTRACING now */
            ct_libc_cond_broadcast(&q_cond);
            r = 0;
            break;
        }
        ct_libc_cond_wait(&q_cond, &q_lock);
    }
    q_reader = 0;
    q_left_ns = ct_mono_ns();
    if (q_stop_waiters)
        ct_libc_cond_broadcast(&q_cond); /* the stop times our absence */
    ct_libc_mutex_unlock(&q_lock);
    return r;
}

int ctrace_read_trace_chunk(const void **chunk, size_t *len)
{
    int e = errno;
    int r = ct_fifo_read(CT_FIFO_ANY_READER, chunk, len);
    errno = e;
    return r;
}

const void *ctrace_read_trace(size_t *len)
{
    const void *chunk;
    size_t n;
    int r = ctrace_read_trace_chunk(&chunk, &n);
    if (len)
        *len = r == 1 ? n : 0;
    if (r < 0)
        errno = r == CTRACE_EBUSY ? EBUSY : EINVAL;
    return r == 1 ? chunk : NULL;
}

/* ---- the sink ---- */

static const struct ct_sink_ops fifo_ops = {
    .begin = fifo_begin,
    .put = fifo_put,
    .generation_complete = fifo_generation_complete,
    .end = fifo_end,
    .may_advance = fifo_may_advance,
    .discard = fifo_discard,
};

static struct fifo_sink fifo_any = {{&fifo_ops}, CT_FIFO_ANY_READER};
static struct fifo_sink fifo_writer = {{&fifo_ops}, CT_FIFO_WRITER_ONLY};

struct ct_sink *ct_fifo_sink(enum ct_fifo_reader who)
{
    return who == CT_FIFO_WRITER_ONLY ? &fifo_writer.sink : &fifo_any.sink;
}

/* ---- fork (called by trace.c's handlers, after the control and registry
 * locks) ---- */

void ct_output_atfork_prepare(void)
{
    ct_libc_mutex_lock(&q_lock);
    ct_ring_atfork_prepare();
}

void ct_output_atfork_parent(void)
{
    ct_ring_atfork_parent();
    ct_libc_mutex_unlock(&q_lock);
}

/* The queued data belongs to the parent's trace: dropped, never written. */
void ct_output_atfork_child(void)
{
    pthread_mutex_init(&q_lock, NULL);
    pthread_cond_init(&q_cond, NULL);
    drop_queued();
    if (q_reading)
        ct_buf_free(q_reading);
    q_reading = NULL;
    q_active = 0;
    q_reader = 0;
    q_owner = 0;
    q_attached = 0;
    q_stop_waiters = 0;
    q_drained = 1;
    ct_ring_atfork_child();
}
