/*
 * test_reader.c - unit tests of the reader on hand-built v2 traces: valid
 * traces, each kind of malformed or invalid input, truncation at every
 * byte, streaming from a pipe, and the API's edge cases.  Traces are built
 * with a tiny writer below so each test states exactly the bytes it feeds.
 */
#define _GNU_SOURCE
#include "ctrace_reader.h"
#include "gotrace.h"
#include "varint.h"
#include "fast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

/* ---- a tiny trace writer ---- */

struct buf { uint8_t b[1 << 16]; size_t n; };

static void put(struct buf *b, uint64_t v) { b->n = (size_t)(varint_put(b->b + b->n, v) - b->b); }
static void byte(struct buf *b, uint8_t v) { b->b[b->n++] = v; }
static void ev(struct buf *b, uint8_t typ, int nargs, const uint64_t *args)
{
    byte(b, typ);
    for (int i = 0; i < nargs; i++)
        put(b, args[i]);
}
#define EV(b, typ, ...)                                                  \
    do {                                                                 \
        const uint64_t a_[] = {__VA_ARGS__};                             \
        ev(b, typ, (int)(sizeof a_ / sizeof a_[0]), a_);                 \
    } while (0)

static void header(struct buf *t, const char *h) { memcpy(t->b + t->n, h, 16); t->n += 16; }

static void batch(struct buf *t, uint64_t gen, uint64_t m, uint64_t ts, const struct buf *data)
{
    byte(t, GT_EV_EVENT_BATCH);
    put(t, gen);
    put(t, m);
    put(t, ts);
    put(t, data->n);
    memcpy(t->b + t->n, data->b, data->n);
    t->n += data->n;
}

static void freq_batch(struct buf *t, uint64_t gen)
{
    struct buf d = {.n = 0};
    EV(&d, GT_EV_FREQUENCY, 1000000000);
    batch(t, gen, 0, 0, &d);
}

static void strings_batch(struct buf *t, uint64_t gen)
{
    struct buf d = {.n = 0};
    byte(&d, GT_EV_STRINGS);
    byte(&d, GT_EV_STRING); put(&d, 1); put(&d, 5); memcpy(d.b + d.n, "sleep", 5); d.n += 5;
    byte(&d, GT_EV_STRING); put(&d, 2); put(&d, 6); memcpy(d.b + d.n, "main.f", 6); d.n += 6;
    byte(&d, GT_EV_STRING); put(&d, 3); put(&d, 6); memcpy(d.b + d.n, "main.c", 6); d.n += 6;
    batch(t, gen, 0, 0, &d);
    struct buf s = {.n = 0};
    byte(&s, GT_EV_STACKS);
    EV(&s, GT_EV_STACK, 1, 1, 0x401000, 2, 3, 42);
    batch(t, gen, 0, 0, &s);
}

/* A generation where one thread runs goroutine 1 on proc 0, blocks it,
 * and thread 2 (another batch) unblocks it; GoStart needs the unblock, so
 * the reader must interleave the two threads by state, not by file order. */
static void gen1(struct buf *t, uint64_t gen, int first)
{
    freq_batch(t, gen);
    strings_batch(t, gen);
    struct buf a = {.n = 0}, b = {.n = 0};
    EV(&a, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
    EV(&a, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
    EV(&a, GT_EV_GO_BLOCK, 1, 1, 1);          /* reason "sleep", stack 1 */
    EV(&a, GT_EV_GO_START, 10, 1, 2);         /* needs the unblock (seq 1) */
    EV(&a, GT_EV_GO_STOP, 1, 1, 0);
    EV(&a, GT_EV_PROC_STOP, 1);
    EV(&b, GT_EV_PROC_STATUS, 1, 1, GT_PROC_RUNNING);
    EV(&b, GT_EV_GO_UNBLOCK, 3, 1, 1, 0);
    EV(&b, GT_EV_PROC_STOP, 1);
    (void)first;
    batch(t, gen, 1, 100, &a);
    batch(t, gen, 2, 100, &b);
}

/* Reads everything; returns the final code and stores the kinds seen. */
static int read_all(ctrace_reader *r, int *kinds, int max, int *n)
{
    const struct ctrace_event *e;
    int rc;
    *n = 0;
    int64_t last = INT64_MIN;
    while ((rc = ctrace_reader_next(r, &e)) == 1) {
        CHECK(e->time > last);
        last = e->time;
        if (*n < max)
            kinds[*n] = e->kind;
        (*n)++;
    }
    return rc;
}

static int str_same(struct ctrace_str a, struct ctrace_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Whether two events are the same in every field the fast step writes
 * (fast.h: the head, transitions, regions) and the kind. */
static int same_event(const struct ctrace_event *a, const struct ctrace_event *b)
{
    if (a->kind != b->kind || a->raw_type != b->raw_type || a->time != b->time ||
        a->since_start != b->since_start || a->raw_time != b->raw_time || a->m != b->m || a->p != b->p ||
        a->g != b->g || a->stack != b->stack || a->generation != b->generation || a->offset != b->offset)
        return 0;
    switch (a->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        return a->u.transition.resource == b->u.transition.resource && a->u.transition.id == b->u.transition.id &&
               a->u.transition.from == b->u.transition.from && a->u.transition.to == b->u.transition.to &&
               str_same(a->u.transition.reason, b->u.transition.reason) &&
               a->u.transition.stack == b->u.transition.stack;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        return a->u.region.task == b->u.region.task && str_same(a->u.region.name, b->u.region.name);
    default:
        return 1;
    }
}

/* ctrace_reader_next() on t, with its fast step, must give what the
 * reference reading (CTRACE_READER_REFERENCE) gives: every event, then
 * the same end (code, message, offset, count). */
static void same_as_reference(const struct buf *t, const char *what)
{
    ctrace_reader *ref = NULL, *r = NULL;
    int rr = ctrace_reader_open_mem(t->b, t->n, CTRACE_READER_REFERENCE, &ref);
    int rc = ctrace_reader_open_mem(t->b, t->n, 0, &r);
    CHECK(rr == rc);
    const struct ctrace_event *a, *b;
    uint64_t n = 0;
    int more = rr == 0 && rc == 0;
    while (more) {
        rr = ctrace_reader_next(ref, &a);
        rc = ctrace_reader_next(r, &b);
        if (rr != rc || (rr == 1 && !same_event(a, b))) {
            fprintf(stderr, "FAIL: %s: event %llu differs from the reference's (%d, %d)\n", what,
                    (unsigned long long)n, rr, rc);
            failures++;
            break;
        }
        more = rr == 1;
        n++;
    }
    uint64_t o1 = 1, o2 = 2;
    const char *m1 = ctrace_reader_error(ref, &o1), *m2 = ctrace_reader_error(r, &o2);
    CHECK((!m1 && !m2) || (m1 && m2 && !strcmp(m1, m2) && o1 == o2));
    CHECK(ctrace_reader_event_count(r) == ctrace_reader_event_count(ref));
    ctrace_reader_close(ref);
    ctrace_reader_close(r);
}

/* ctrace_reader_check() on t, in slices of `slice` events, must end as
 * ctrace_reader_next() did: code rc, the same message, offset, counts and
 * complete generations. */
static void same_as_check(const struct buf *t, int rc, ctrace_reader *ref, uint64_t slice)
{
    ctrace_reader *r;
    int crc = ctrace_reader_open_mem(t->b, t->n, 0, &r);
    while (crc >= 0 && r && (crc = ctrace_reader_check(r, slice)) == 1)
        ;
    if (crc != rc)
        fprintf(stderr, "check: got %d (%s), next: %d (%s)\n", crc, ctrace_reader_error(r, NULL) ? ctrace_reader_error(r, NULL) : "-", rc, ctrace_reader_error(ref, NULL) ? ctrace_reader_error(ref, NULL) : "-");
    CHECK(crc == rc);
    uint64_t o1 = 1, o2 = 2, e1 = 1, e2 = 2;
    int64_t s1 = 1, s2 = 2;
    const char *m1 = ctrace_reader_error(ref, &o1), *m2 = ctrace_reader_error(r, &o2);
    CHECK((!m1 && !m2) || (m1 && m2 && !strcmp(m1, m2) && o1 == o2));
    CHECK(ctrace_reader_event_count(r) == ctrace_reader_event_count(ref));
    CHECK(ctrace_reader_generation_count(r) == ctrace_reader_generation_count(ref));
    CHECK(ctrace_reader_complete(r, &e1, &s1) == ctrace_reader_complete(ref, &e2, &s2));
    CHECK(e1 == e2 && s1 == s2);
    ctrace_reader_close(r);

    /* The split check (two threads, any size): the same ending, too. */
    crc = ctrace_reader_open_mem(t->b, t->n, 0, &r);
    if (crc == 0)
        CHECK(ctrace_reader_check_threads(r, 2, 0) == 0);
    while (crc >= 0 && r && (crc = ctrace_reader_check(r, slice)) == 1)
        ;
    CHECK(crc == rc);
    m2 = ctrace_reader_error(r, &o2);
    CHECK((!m1 && !m2) || (m1 && m2 && !strcmp(m1, m2) && o1 == o2));
    CHECK(ctrace_reader_event_count(r) == ctrace_reader_event_count(ref));
    CHECK(ctrace_reader_generation_count(r) == ctrace_reader_generation_count(ref));
    ctrace_reader_close(r);
}

static void test_valid(void)
{
    struct buf t = {.n = 0};
    header(&t, GT_HEADER_GO123);
    gen1(&t, 1, 1);
    ctrace_reader *r;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_version(r) == 123);
    const struct ctrace_event *e;
    /* Expected order: by time, but GoStart (t=111) only after GoUnblock. */
    struct { enum ctrace_event_kind kind; uint64_t id; enum ctrace_state from, to; } want[] = {
        {CTRACE_EV_STATE_TRANSITION, 0, CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING},
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING}, /* P1 */
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING}, /* G1 */
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_RUNNING, CTRACE_STATE_WAITING},
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_WAITING, CTRACE_STATE_RUNNABLE},
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE},
        /* GoStart is earliest-timed only now, after the unblock. */
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING},
        {CTRACE_EV_STATE_TRANSITION, 1, CTRACE_STATE_RUNNING, CTRACE_STATE_RUNNABLE},
        {CTRACE_EV_STATE_TRANSITION, 0, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE},
        {CTRACE_EV_SYNC, 0, 0, 0},
    };
    size_t i = 0;
    int rc;
    while ((rc = ctrace_reader_next(r, &e)) == 1) {
        if (i < sizeof want / sizeof want[0]) {
            CHECK(e->kind == want[i].kind);
            if (e->kind == CTRACE_EV_STATE_TRANSITION) {
                CHECK(e->u.transition.id == want[i].id);
                CHECK(e->u.transition.from == want[i].from);
                CHECK(e->u.transition.to == want[i].to);
            }
        }
        if (i == 3) { /* the block: reason and stack resolved */
            CHECK(e->u.transition.reason.len == 5 && !strcmp(e->u.transition.reason.ptr, "sleep"));
            CHECK(e->stack == 1 && e->g == 1 && e->p == 0 && e->m == 1);
            const struct ctrace_frame *f;
            CHECK(ctrace_reader_stack(r, e->stack, &f) == 1);
            CHECK(f && f[0].pc == 0x401000 && !strcmp(f[0].func.ptr, "main.f") &&
                  !strcmp(f[0].file.ptr, "main.c") && f[0].line == 42);
            /* Ties in time are pushed 1 ns apart, as Go does. */
            CHECK(e->time == 104 && e->raw_time == 103 && e->since_start == 3);
        }
        i++;
    }
    CHECK(rc == 0);
    CHECK(i == sizeof want / sizeof want[0]);
    CHECK(ctrace_reader_event_count(r) == i);
    CHECK(ctrace_reader_generation_count(r) == 1);
    CHECK(ctrace_reader_frequency(r) == 1000000000);
    CHECK(ctrace_reader_next(r, &e) == 0); /* stays at the end */
    CHECK(ctrace_reader_error(r, NULL) == NULL);
    same_as_check(&t, 0, r, 1);
    same_as_check(&t, 0, r, 3);
    same_as_check(&t, 0, r, 1000);
    ctrace_reader_close(r);

    /* ctrace_reader_check(r, max) reads max events exactly, whatever its
     * loop delivers in one step, and mixes with ctrace_reader_next(). */
    for (uint64_t first = 1; first < i; first++) {
        CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
        CHECK(ctrace_reader_check(r, first) == 1);
        CHECK(ctrace_reader_event_count(r) == first);
        CHECK(ctrace_reader_next(r, &e) == 1);
        CHECK(e->kind == want[first].kind);
        CHECK(ctrace_reader_event_count(r) == first + 1);
        uint64_t left = i - first - 1;
        if (left)
            CHECK(ctrace_reader_check(r, left) == 1);
        CHECK(ctrace_reader_event_count(r) == i);
        CHECK(ctrace_reader_check(r, 5) == 0);
        ctrace_reader_close(r);
    }
}

static int expect_error(const struct buf *t, int code, const char *what)
{
    ctrace_reader *r;
    int rc = ctrace_reader_open_mem(t->b, t->n, CTRACE_READER_REFERENCE, &r);
    int kinds[64], n = 0;
    if (rc == 0)
        rc = read_all(r, kinds, 64, &n);
    same_as_reference(t, what);
    uint64_t off = ~0ull;
    const char *msg = ctrace_reader_error(r, &off);
    if (rc != code)
        fprintf(stderr, "%s: got %d (%s), want %d\n", what, rc, msg ? msg : "-", code);
    CHECK(rc == code);
    CHECK(msg != NULL && off <= t->n);
    same_as_check(t, rc, r, 1);
    same_as_check(t, rc, r, 1000);
    /* The error is sticky. */
    const struct ctrace_event *e;
    CHECK(ctrace_reader_next(r, &e) == rc);
    ctrace_reader_close(r);
    return n;
}

static void test_invalid(void)
{
    struct buf t = {.n = 0};
    memcpy(t.b, "not a trace at all", 18);
    t.n = 18;
    expect_error(&t, CTRACE_READER_EVERSION, "bad header");

    t.n = 0;
    header(&t, "go 1.99 trace\0\0\0");
    expect_error(&t, CTRACE_READER_EVERSION, "unknown version");

    t.n = 0;
    header(&t, GT_HEADER_GO122);
    /* A header alone: a trace cut before its first generation. */
    expect_error(&t, CTRACE_READER_ETRUNCATED, "header only: no frequency");

    /* No frequency batch, and the input ends: cut before the generation's
     * last batches. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        batch(&t, 1, 1, 1, &d);
    }
    expect_error(&t, CTRACE_READER_ETRUNCATED, "no frequency");
    /* ... but a generation followed by the next one is malformed without. */
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        batch(&t, 2, 1, 1, &d);
    }
    expect_error(&t, CTRACE_READER_EFORMAT, "no frequency, next generation follows");

    /* Generations must be consecutive. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    gen1(&t, 1, 1);
    freq_batch(&t, 3);
    expect_error(&t, CTRACE_READER_EFORMAT, "generation gap");

    /* An unknown event type. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    freq_batch(&t, 1);
    {
        struct buf d = {.n = 0};
        byte(&d, 200);
        put(&d, 1);
        batch(&t, 1, 1, 1, &d);
    }
    expect_error(&t, CTRACE_READER_EFORMAT, "unknown type");

    /* An unknown type right after events the ordering accepted: the
     * check-only loop counts each as it is accepted, before the thread's
     * next event is decoded, and must not count the last one, which
     * ctrace_reader_next() never delivers (it fails decoding first). */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    freq_batch(&t, 1);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&d, GT_EV_GO_STATUS, 1, 5, GT_NO_ID, GT_GO_RUNNABLE);
        EV(&d, GT_EV_GO_START, 1, 5, 1);
        byte(&d, 200);
        put(&d, 1);
        batch(&t, 1, 1, 1, &d);
    }
    CHECK(expect_error(&t, CTRACE_READER_EFORMAT, "unknown type after accepted events") == 2);

    /* A goroutine started twice can never be ordered.  The generation ends
     * with its frequency, as libctrace writes it: finished, not cut. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&d, GT_EV_GO_STATUS, 1, 5, GT_NO_ID, GT_GO_RUNNABLE);
        EV(&d, GT_EV_GO_START, 1, 5, 1);
        EV(&d, GT_EV_GO_STOP, 1, 0, 0);
        EV(&d, GT_EV_GO_START, 1, 5, 1); /* seq 1 again */
        batch(&t, 1, 1, 1, &d);
    }
    freq_batch(&t, 1);
    int n = expect_error(&t, CTRACE_READER_EINVALID, "stuck ordering");
    CHECK(n == 4);

    /* Bad context: a goroutine event on a thread without goroutine. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    freq_batch(&t, 1);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&d, GT_EV_GO_BLOCK, 1, 0, 0);
        batch(&t, 1, 1, 1, &d);
    }
    expect_error(&t, CTRACE_READER_EINVALID, "no goroutine");

    /* Unknown string ID in an event, in a finished generation. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&d, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
        EV(&d, GT_EV_GO_BLOCK, 1, 77, 0);
        batch(&t, 1, 1, 1, &d);
    }
    freq_batch(&t, 1);
    expect_error(&t, CTRACE_READER_EINVALID, "bad string id");
    /* The same generation ending with an event batch (the frequency first,
     * as Go writes it) lost its tables at the end of the input: a cut. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    freq_batch(&t, 1);
    {
        struct buf d = {.n = 0};
        EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&d, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
        EV(&d, GT_EV_GO_BLOCK, 1, 77, 0);
        batch(&t, 1, 1, 1, &d);
    }
    expect_error(&t, CTRACE_READER_ETRUNCATED, "bad string id, tables cut off");

    /* Oversized batch. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    byte(&t, GT_EV_EVENT_BATCH);
    put(&t, 1); put(&t, 1); put(&t, 1); put(&t, 1u << 20);
    expect_error(&t, CTRACE_READER_EFORMAT, "huge batch");

    /* Duplicate string IDs. */
    t.n = 0;
    header(&t, GT_HEADER_GO122);
    freq_batch(&t, 1);
    strings_batch(&t, 1);
    strings_batch(&t, 1);
    expect_error(&t, CTRACE_READER_EFORMAT, "duplicate strings");
}

/* Go 1.25 moves the frequency into a sync batch with a clock snapshot. */
static void test_go125(void)
{
    struct buf t = {.n = 0};
    header(&t, "go 1.25 trace\0\0\0");
    struct buf d = {.n = 0};
    byte(&d, 50); /* EvSync */
    EV(&d, GT_EV_FREQUENCY, 1000000000);
    EV(&d, 51, 90, 123456, 1700000000, 5); /* EvClockSnapshot */
    batch(&t, 1, 0, 0, &d);
    strings_batch(&t, 1);
    struct buf a = {.n = 0};
    EV(&a, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
    EV(&a, GT_EV_PROC_STOP, 1);
    batch(&t, 1, 1, 100, &a);
    ctrace_reader *r;
    int kinds[8], n;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_version(r) == 125);
    CHECK(read_all(r, kinds, 8, &n) == 0);
    CHECK(n == 3 && kinds[0] == CTRACE_EV_STATE_TRANSITION && kinds[2] == CTRACE_EV_SYNC);
    ctrace_reader_close(r);
    /* The same sync batch means nothing to a 1.23 trace: no frequency. */
    memcpy(t.b, GT_HEADER_GO123, 16);
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(read_all(r, kinds, 8, &n) < 0);
    ctrace_reader_close(r);
}

/* Two generations, cut at every byte: never a crash; a cut inside the
 * second generation still yields the whole first one. */
static void test_truncation(void)
{
    struct buf t = {.n = 0};
    header(&t, GT_HEADER_GO123);
    gen1(&t, 1, 1);
    size_t gen2_start = t.n;
    /* Generation 2: the same threads go on (no new goroutines).  Its
     * tables come last, as the writers put them. */
    {
        struct buf a = {.n = 0};
        EV(&a, GT_EV_PROC_STATUS, 1, 0, GT_PROC_IDLE);
        EV(&a, GT_EV_PROC_STATUS, 1, 1, GT_PROC_IDLE);
        EV(&a, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNABLE);
        EV(&a, GT_EV_PROC_START, 1, 0, 1);
        EV(&a, GT_EV_GO_START, 1, 1, 1);
        EV(&a, GT_EV_GO_DESTROY, 1);
        EV(&a, GT_EV_PROC_STOP, 1);
        batch(&t, 2, 1, 1000, &a);
    }
    strings_batch(&t, 2);
    freq_batch(&t, 2);
    ctrace_reader *r;
    int kinds[64], n, rc;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    rc = read_all(r, kinds, 64, &n);
    CHECK(rc == 0);
    CHECK(n == 10 + 8);
    CHECK(ctrace_reader_generation_count(r) == 2);
    ctrace_reader_close(r);

    for (size_t cut = 0; cut < t.n; cut++) {
        rc = ctrace_reader_open_mem(t.b, cut, 0, &r);
        if (rc == 0)
            rc = read_all(r, kinds, 64, &n);
        else
            n = 0;
        /* A cut exactly between generations leaves a valid trace. */
        CHECK(rc < 0 || cut == gen2_start);
        /* Any other cut is reported as one, at the end of the input, and
         * the readable prefix is generation 1 once the cut is past it. */
        if (cut > gen2_start) {
            uint64_t off = 0, end = 0;
            int64_t span = -1;
            CHECK(rc == CTRACE_READER_ETRUNCATED);
            CHECK(ctrace_reader_error(r, &off) != NULL && off == cut);
            CHECK(ctrace_reader_complete(r, &end, &span) == 1 && end == gen2_start && span > 0);
        } else if (cut >= 16 && cut < gen2_start) {
            /* Inside generation 1 (tables first: cuts after them are
             * taken for invalid, not truncated), nothing is whole. */
            uint64_t end = 0;
            int64_t span = -1;
            CHECK(ctrace_reader_complete(r, &end, &span) == 0 && end == 16 && span == 0);
        }
        if (cut > gen2_start + 3 && rc < 0) {
            /* All of generation 1 (9 events + sync) came first. */
            if (n < 10)
                fprintf(stderr, "cut %zu: only %d events\n", cut, n);
            CHECK(n >= 10);
        }
        ctrace_reader_close(r);
    }
}

/* The same trace through a pipe gives the same events. */
static void test_pipe(void)
{
    struct buf t = {.n = 0};
    header(&t, GT_HEADER_GO122);
    for (int g = 1; g <= 1; g++)
        gen1(&t, (uint64_t)g, 1);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* Dribble the bytes to exercise partial reads. */
        for (size_t i = 0; i < t.n; i += 7) {
            size_t k = t.n - i < 7 ? t.n - i : 7;
            if (write(fds[1], t.b + i, k) != (ssize_t)k)
                _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    ctrace_reader *r, *m;
    CHECK(ctrace_reader_open_fd(fds[0], 0, &r) == 0);
    CHECK(ctrace_reader_size(r) == -1);
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &m) == 0);
    const struct ctrace_event *a, *b;
    int ra, rb, n = 0;
    do {
        ra = ctrace_reader_next(r, &a);
        rb = ctrace_reader_next(m, &b);
        CHECK(ra == rb);
        if (ra == 1 && rb == 1) {
            CHECK(a->kind == b->kind && a->time == b->time && a->g == b->g && a->offset == b->offset);
            n++;
        }
    } while (ra == 1 && rb == 1);
    CHECK(n == 10);
    ctrace_reader_close(r);
    ctrace_reader_close(m);
    close(fds[0]);
    waitpid(pid, NULL, 0);
}

/* ---- lookups behind the reader's fast paths ---- */

/* A generation with one thread's events first and the tables after them
 * (as Go writes: the string table last, so a bad event is not taken for a
 * cut trace).  Strings: `far` and `near` at the ids given; one stack. */
static void tables_after(struct buf *t, const struct buf *events, uint64_t far, uint64_t stk)
{
    batch(t, 1, 1, 100, events);
    freq_batch(t, 1);
    struct buf s = {.n = 0};
    byte(&s, GT_EV_STACKS);
    EV(&s, GT_EV_STACK, stk, 1, 0x401000, far, far, 7);
    batch(t, 1, 0, 0, &s);
    struct buf d = {.n = 0};
    byte(&d, GT_EV_STRINGS);
    byte(&d, GT_EV_STRING); put(&d, far); put(&d, 3); memcpy(d.b + d.n, "far", 3); d.n += 3;
    byte(&d, GT_EV_STRING); put(&d, 1); put(&d, 4); memcpy(d.b + d.n, "near", 4); d.n += 4;
    batch(t, 1, 0, 0, &d);
}

/* String and stack ids need not be small or dense: ids far apart are found
 * (the reader's dense id arrays cover the small ones, its maps the others,
 * as libctrace's module records), ids next to them that the tables lack
 * are still rejected, as Go does, and so is a small id the tables lack. */
static void test_sparse_ids(void)
{
    const uint64_t far = 1ull << 40, stk = 1ull << 33;
    for (int bad = 0; bad < 4; bad++) {
        struct buf e = {.n = 0}, t = {.n = 0};
        header(&t, GT_HEADER_GO123);
        EV(&e, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&e, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
        EV(&e, GT_EV_GO_BLOCK, 1, bad == 1 ? far + 1 : bad == 3 ? 2 : far, bad == 2 ? stk + 1 : stk);
        tables_after(&t, &e, far, stk);
        if (bad) {
            expect_error(&t, CTRACE_READER_EINVALID, bad == 2 ? "sparse: bad stack" : "sparse: bad string");
            continue;
        }
        ctrace_reader *r;
        CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
        const struct ctrace_event *ev;
        int n = 0, rc;
        while ((rc = ctrace_reader_next(r, &ev)) == 1) {
            if (++n != 3)
                continue;
            CHECK(ev->kind == CTRACE_EV_STATE_TRANSITION && ev->stack == stk);
            CHECK(ev->u.transition.reason.len == 3 && !strcmp(ev->u.transition.reason.ptr, "far"));
            const struct ctrace_frame *f;
            CHECK(ctrace_reader_stack(r, stk, &f) == 1 && f && !strcmp(f[0].func.ptr, "far") && f[0].line == 7);
            CHECK(ctrace_reader_stack(r, stk + 1, &f) == 0);
        }
        CHECK(rc == 0 && n == 4); /* three events and the sync */
        ctrace_reader_close(r);
    }
}

/* A goroutine id may come back after its goroutine is destroyed, and two
 * ids may share a slot of the reader's goroutine cache (ids 1 and 1025):
 * neither may be taken for the other.  Goroutine 1 is destroyed, then
 * created again (valid); or goroutine 1025 is created and goroutine 1,
 * gone, is started (invalid: 1025 is runnable, 1 does not exist). */
static void test_goroutine_ids(void)
{
    for (int reuse = 0; reuse < 2; reuse++) {
        struct buf e = {.n = 0}, t = {.n = 0};
        header(&t, GT_HEADER_GO123);
        EV(&e, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
        EV(&e, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
        EV(&e, GT_EV_GO_DESTROY, 1);
        EV(&e, GT_EV_GO_CREATE, 1, reuse ? 1025 : 1, 0, 0);
        EV(&e, GT_EV_GO_START, 1, 1, 1);
        tables_after(&t, &e, 2, 1);
        if (reuse) {
            expect_error(&t, CTRACE_READER_EINVALID, "start of a destroyed goroutine");
            continue;
        }
        ctrace_reader *r;
        CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
        int kinds[16], n = 0;
        CHECK(read_all(r, kinds, 16, &n) == 0 && n == 6);
        ctrace_reader_close(r);
    }
}

static void test_api(void)
{
    ctrace_reader_close(NULL);
    ctrace_reader *r = (ctrace_reader *)1;
    CHECK(ctrace_reader_open(NULL, 0, &r) == CTRACE_READER_EINVAL && r == NULL);
    CHECK(ctrace_reader_open("/nonexistent/trace", 0, &r) == CTRACE_READER_EOPEN && r == NULL);
    CHECK(ctrace_reader_open_fd(-1, 0, &r) == CTRACE_READER_EINVAL);
    CHECK(ctrace_reader_next(NULL, NULL) == CTRACE_READER_EINVAL);
    CHECK(strcmp(ctrace_reader_strerror(CTRACE_READER_EINVALID), "invalid trace") == 0);
    CHECK(strcmp(ctrace_reader_strerror(12345), "unknown error") == 0);
    CHECK(strcmp(ctrace_event_kind_name(CTRACE_EV_STATE_TRANSITION), "StateTransition") == 0);
    CHECK(strcmp(ctrace_state_name(CTRACE_STATE_WAITING), "Waiting") == 0);
    CHECK(strcmp(ctrace_event_kind_name((enum ctrace_event_kind)99), "Bad") == 0);
    CHECK(ctrace_reader_version(NULL) == 0);
    CHECK(ctrace_reader_error(NULL, NULL) == NULL);
    CHECK(ctrace_reader_stack(NULL, 1, NULL) == 0);
}

/* libctrace's loss records (src/format/lossrec.h): lone strings (one per
 * generation in libctrace's traces; two in one here), summed by ctrace_reader_losses after reading the events or
 * skimming; unknown keys and malformed fields are skipped. */
static void lone_string(struct buf *t, uint64_t gen, uint64_t id, const char *str)
{
    struct buf d = {.n = 0};
    byte(&d, GT_EV_STRINGS);
    byte(&d, GT_EV_STRING);
    put(&d, id);
    put(&d, strlen(str));
    memcpy(d.b + d.n, str, strlen(str));
    d.n += strlen(str);
    batch(t, gen, 0, 0, &d);
}

static void test_losses(void)
{
    struct buf t = {.n = 0};
    header(&t, GT_HEADER_GO122);
    gen1(&t, 1, 1);
    lone_string(&t, 1, 100, "ctrace.losses events=3 samples=2 stacks=1 threads=1 later=9");
    lone_string(&t, 1, 101, "ctrace.lossesX events=50"); /* not a record */
    size_t cut = t.n + 5;                                /* inside the next batch */
    lone_string(&t, 1, 102, "ctrace.losses events=4 word samples=x1 threads=");
    struct ctrace_losses l;

    ctrace_reader *r;
    int kinds[64], n;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    ctrace_reader_losses(r, &l);
    CHECK(l.records == 0 && l.events == 0);
    CHECK(read_all(r, kinds, 64, &n) == 0);
    ctrace_reader_losses(r, &l);
    CHECK(l.events == 7 && l.samples == 2 && l.stacks == 1 && l.threads == 1 && l.records == 2);
    CHECK(ctrace_reader_skim_losses(r) == CTRACE_READER_EINVAL); /* not a fresh handle */
    ctrace_reader_close(r);

    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_skim_losses(r) == 0);
    ctrace_reader_losses(r, &l);
    CHECK(l.events == 7 && l.samples == 2 && l.stacks == 1 && l.threads == 1 && l.records == 2);
    ctrace_reader_close(r);

    /* Cut inside the last record: what precedes the cut counts. */
    CHECK(ctrace_reader_open_mem(t.b, cut, 0, &r) == 0);
    CHECK(ctrace_reader_skim_losses(r) == CTRACE_READER_ETRUNCATED);
    ctrace_reader_losses(r, &l);
    CHECK(l.events == 3 && l.records == 1);
    ctrace_reader_close(r);

    /* Cut between batches, after a generation's first batches and before
     * its frequency event (a process killed while writing its second
     * generation): truncated, not a whole trace.  ctrace run warned of no
     * such trace before. */
    struct buf ev2 = {.n = 0};
    EV(&ev2, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
    batch(&t, 2, 1, 1, &ev2);
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_skim_losses(r) == CTRACE_READER_ETRUNCATED);
    CHECK(strstr(ctrace_reader_error(r, NULL), "generation 2") != NULL);
    ctrace_reader_losses(r, &l);
    CHECK(l.events == 7 && l.records == 2);
    ctrace_reader_close(r);
    freq_batch(&t, 2); /* now whole again */
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_skim_losses(r) == 0);
    ctrace_reader_close(r);

    /* No record, no loss; NULL handle: zeros. */
    struct buf u = {.n = 0};
    header(&u, GT_HEADER_GO123);
    gen1(&u, 1, 1);
    CHECK(ctrace_reader_open_mem(u.b, u.n, 0, &r) == 0);
    CHECK(ctrace_reader_skim_losses(r) == 0);
    ctrace_reader_losses(r, &l);
    CHECK(l.records == 0 && l.events == 0 && l.samples == 0 && l.threads == 0);
    ctrace_reader_close(r);
    ctrace_reader_losses(NULL, &l);
    CHECK(l.records == 0);
    CHECK(ctrace_reader_skim_losses(NULL) == CTRACE_READER_EINVAL);
}

/* ---- the split check (src/reader/split.c) ---- */

/* Events of thread 2 in generations 1 and 4 (split_gen), if not NULL. */
static const struct buf *split_m2[2];

/* Generation gen of a 4-generation trace: thread 1 runs goroutine 1 on
 * proc 0; `extra` (may be NULL) follows on thread 1. */
static void split_gen(struct buf *t, uint64_t gen, const struct buf *extra)
{
    const struct buf *m2 = gen == 1 ? split_m2[0] : gen == 4 ? split_m2[1] : NULL;
    if (m2)
        batch(t, gen, 2, 100 * gen, m2);
    freq_batch(t, gen);
    strings_batch(t, gen);
    struct buf a = {.n = 0};
    EV(&a, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
    EV(&a, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
    if (extra) {
        memcpy(a.b + a.n, extra->b, extra->n);
        a.n += extra->n;
    }
    batch(t, gen, 1, 100 * gen, &a);
}

/* Checks t with one thread and with two; both must end with code want
 * (and the same message, offset and counts: same_as_check); the split
 * must have been taken, and verified or not as `verified` says. */
static void split_case(const char *what, const struct buf *g1, const struct buf *g4, int want,
                       int verified)
{
    struct buf t = {.n = 0};
    header(&t, GT_HEADER_GO123);
    for (uint64_t gen = 1; gen <= 4; gen++)
        split_gen(&t, gen, gen == 1 ? g1 : gen == 4 ? g4 : NULL);
    ctrace_reader *ref;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &ref) == 0);
    int kinds[64], n = 0;
    int rc = read_all(ref, kinds, 64, &n);
    if (rc != want)
        fprintf(stderr, "%s: got %d (%s), want %d\n", what, rc,
                ctrace_reader_error(ref, NULL) ? ctrace_reader_error(ref, NULL) : "-", want);
    CHECK(rc == want);
    same_as_check(&t, rc, ref, 1000);
    ctrace_reader *r;
    CHECK(ctrace_reader_open_mem(t.b, t.n, 0, &r) == 0);
    CHECK(ctrace_reader_check_threads(r, 2, 0) == 0);
    CHECK(ctrace_reader_check_threads(r, 0, 0) == CTRACE_READER_EINVAL);
    while (ctrace_reader_check(r, 1000) == 1)
        ;
    uint64_t sg = 0;
    int how = ctrace_reader_check_split(r, &sg);
    if (how != (verified ? CTRACE_SPLIT_VERIFIED : CTRACE_SPLIT_FELL_BACK))
        fprintf(stderr, "%s: split outcome %d, want %s\n", what, how, verified ? "verified" : "fell back");
    CHECK(how == (verified ? CTRACE_SPLIT_VERIFIED : CTRACE_SPLIT_FELL_BACK));
    CHECK(sg == 2 || sg == 3); /* 4 generations: 1-2 and 2-4, or 1-3 and 3-4 */
    ctrace_reader_close(r);
    ctrace_reader_close(ref);
}

/* ctrace_reader_check(r, max) reads max events exactly even where one
 * step of the ordering accepts several (a GoSwitch: the switch, the
 * block it makes, the start it makes), for every max. */
static void check_max(const struct buf *t);

static void test_check_max(void)
{
    struct buf g1 = {.n = 0}, g4 = {.n = 0}, t = {.n = 0};
    EV(&g1, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    EV(&g4, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    EV(&g4, GT_EV_GO_SWITCH, 1, 2, 1);
    EV(&g4, GT_EV_GO_SWITCH, 1, 1, 1);
    EV(&g4, GT_EV_GO_SWITCH_DESTROY, 1, 2, 2);
    header(&t, GT_HEADER_GO123);
    for (uint64_t gen = 1; gen <= 4; gen++)
        split_gen(&t, gen, gen == 1 ? &g1 : gen == 4 ? &g4 : NULL);
    check_max(&t);

    /* A goroutine ending in a syscall with its proc: the proc's steal,
     * then the end, accepted at once. */
    struct buf d = {.n = 0};
    t.n = 0;
    header(&t, GT_HEADER_GO123);
    freq_batch(&t, 1);
    strings_batch(&t, 1);
    EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_SYSCALL);
    EV(&d, GT_EV_GO_STATUS, 1, 1, 1, GT_GO_SYSCALL);
    EV(&d, GT_EV_GO_DESTROY_SYSCALL, 1);
    EV(&d, GT_EV_PROC_STATUS, 1, 1, GT_PROC_IDLE);
    batch(&t, 1, 1, 100, &d);
    check_max(&t);
}

static void check_max(const struct buf *t)
{
    ctrace_reader *r;
    CHECK(ctrace_reader_open_mem(t->b, t->n, 0, &r) == 0);
    int kinds[64], n = 0;
    int rc = read_all(r, kinds, 64, &n);
    if (rc != 0)
        fprintf(stderr, "check max: %s\n", ctrace_reader_error(r, NULL));
    CHECK(rc == 0 && n > 3);
    ctrace_reader_close(r);
    for (int max = 1; max <= n; max++) {
        CHECK(ctrace_reader_open_mem(t->b, t->n, 0, &r) == 0);
        uint64_t want = 0;
        while ((rc = ctrace_reader_check(r, (uint64_t)max)) == 1) {
            want += (uint64_t)max;
            if (ctrace_reader_event_count(r) != want)
                fprintf(stderr, "check max %d: %llu events read, want %llu\n", max,
                        (unsigned long long)ctrace_reader_event_count(r), (unsigned long long)want);
            CHECK(ctrace_reader_event_count(r) == want);
        }
        CHECK(rc == 0 && ctrace_reader_event_count(r) == (uint64_t)n);
        ctrace_reader_close(r);
    }
}

/* What the generations before the second half left, which the second
 * reader does not see (it begins at generation 2, which leaves goroutine
 * 2, proc 5 and region "main.f" alone), must be verified: a consistent
 * use of them is verified, an inconsistent one falls back to the
 * sequential reading and its error. */
static void test_split(void)
{
    struct buf g1 = {.n = 0}, g4 = {.n = 0};
    split_case("nothing carried", NULL, NULL, 0, 1);

    /* Goroutine 2, waiting since generation 1: restated as waiting. */
    EV(&g1, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    EV(&g4, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    split_case("a goroutine restated as it was", &g1, &g4, 0, 1);
    g4.n = 0;
    EV(&g4, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_RUNNABLE);
    split_case("a goroutine restated otherwise", &g1, &g4, CTRACE_READER_EINVALID, 0);
    g4.n = 0;
    EV(&g4, GT_EV_GO_CREATE, 1, 2, 0, 0);
    split_case("a goroutine created again", &g1, &g4, CTRACE_READER_EINVALID, 0);
    g4.n = 0;
    EV(&g4, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    EV(&g4, GT_EV_GO_SWITCH, 1, 2, 1);            /* goroutine 2 runs */
    EV(&g4, GT_EV_GO_DESTROY, 1);                  /* and ends */
    split_case("a goroutine restated, run and ended", &g1, &g4, 0, 1);
    EV(&g4, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING); /* restated again */
    split_case("a goroutine restated after its end", &g1, &g4, CTRACE_READER_EINVALID, 0);

    g4.n = 0;
    EV(&g4, GT_EV_GO_UNBLOCK, 1, 2, 1, 0);
    split_case("a goroutine unblocked", &g1, &g4, CTRACE_READER_ETRUNCATED, 0);

    /* Proc 5, idle since generation 1. */
    g1.n = g4.n = 0;
    EV(&g1, GT_EV_PROC_STATUS, 1, 5, GT_PROC_IDLE);
    EV(&g4, GT_EV_PROC_STATUS, 1, 5, GT_PROC_IDLE);
    split_case("a proc restated as it was", &g1, &g4, 0, 1);
    g4.n = 0;
    EV(&g4, GT_EV_PROC_STATUS, 1, 5, GT_PROC_SYSCALL);
    split_case("a proc restated otherwise", &g1, &g4, CTRACE_READER_EINVALID, 0);

    /* Region "main.f" (string 2) begun in generation 1 by goroutine 1. */
    g1.n = g4.n = 0;
    EV(&g1, GT_EV_USER_REGION_BEGIN, 1, 0, 2, 0);
    EV(&g4, GT_EV_USER_REGION_END, 1, 0, 2, 0);
    split_case("a region ended as begun", &g1, &g4, 0, 1);
    g4.n = 0;
    EV(&g4, GT_EV_USER_REGION_END, 1, 0, 3, 0);
    split_case("a region ended under another name", &g1, &g4, CTRACE_READER_EINVALID, 0);
    g4.n = 0;
    EV(&g4, GT_EV_USER_REGION_END, 1, 7, 2, 0);
    split_case("a region ended with another task", &g1, &g4, CTRACE_READER_EINVALID, 0);
    g4.n = 0;
    EV(&g4, GT_EV_USER_REGION_END, 1, 0, 2, 0);
    EV(&g4, GT_EV_USER_REGION_END, 1, 0, 3, 0); /* none open: fine */
    split_case("a region ended, then one never begun", &g1, &g4, 0, 1);

    /* Thread 2, with no proc or goroutine, in generations 1 and 4 only:
     * its context in the other half is the empty one the second assumes. */
    struct buf m2 = {.n = 0};
    EV(&m2, GT_EV_PROC_STATUS, 1, 3, GT_PROC_IDLE);
    split_m2[0] = split_m2[1] = &m2;
    split_case("a thread back with its empty context", NULL, NULL, 0, 1);
    split_m2[0] = split_m2[1] = NULL;

    /* Task 9 begun in generation 1: begun again. */
    g1.n = g4.n = 0;
    EV(&g1, GT_EV_USER_TASK_BEGIN, 1, 9, 0, 2, 0);
    EV(&g4, GT_EV_USER_TASK_BEGIN, 1, 9, 0, 2, 0);
    split_case("a task begun again", &g1, &g4, CTRACE_READER_EINVALID, 0);
    g4.n = 0;
    EV(&g4, GT_EV_USER_TASK_END, 1, 9, 0);
    split_case("a task ended", &g1, &g4, 0, 1);
}

/* The fast step (fast.h) against the general one: one thread, proc 0
 * running goroutine 1, goroutine 2 waiting, a run of regions long enough
 * for the inline decoder (cursor_next_fast), the hot types in a valid
 * order, then `tail`: ctrace_reader_check() must end exactly as
 * ctrace_reader_next() does (code, message, offset, counts), whether the
 * tail is valid or breaks one of the fast step's conditions. */
enum fast_tail { FT_VALID, FT_REGION_MISMATCH, FT_BAD_STACK, FT_BAD_STRING, FT_START_WAITING,
                 FT_UNBLOCK_SEQ, FT_PROC_START_HELD, FT_STOP_NO_G, FT_LONG_VARINT, FT_UNKNOWN_TYPE,
                 FT_NEW_NAME, FT_REGION_PREFIX, FT_PROC_START_OTHER, FT_TAILS };

static void fast_trace(struct buf *t, enum fast_tail tail)
{
    t->n = 0;
    header(t, GT_HEADER_GO122);
    strings_batch(t, 1); /* strings 1-3, stack 1 */
    struct buf st = {.n = 0};
    byte(&st, GT_EV_STRINGS); /* string 4: a prefix of string 2 */
    byte(&st, GT_EV_STRING); put(&st, 4); put(&st, 5); memcpy(st.b + st.n, "main.", 5); st.n += 5;
    batch(t, 1, 0, 0, &st);
    struct buf d = {.n = 0};
    EV(&d, GT_EV_PROC_STATUS, 1, 0, GT_PROC_RUNNING);
    EV(&d, GT_EV_PROC_STATUS, 1, 1, GT_PROC_IDLE);
    EV(&d, GT_EV_GO_STATUS, 1, 1, GT_NO_ID, GT_GO_RUNNING);
    EV(&d, GT_EV_GO_STATUS, 1, 2, GT_NO_ID, GT_GO_WAITING);
    for (int k = 0; k < 40; k++) {
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 1, 1);
        EV(&d, GT_EV_USER_REGION_END, 1, 7, 1, 1);
    }
    EV(&d, GT_EV_GO_UNBLOCK, 1, 2, 1, 1); /* 2 runnable */
    EV(&d, GT_EV_GO_BLOCK, 1, 1, 1);      /* 1 waiting, reason "sleep" */
    EV(&d, GT_EV_GO_START, 1, 2, 2);      /* 2 running */
    EV(&d, GT_EV_GO_STOP, 1, 1, 0);       /* 2 runnable */
    EV(&d, GT_EV_PROC_STOP, 1);
    EV(&d, GT_EV_PROC_START, 1, 0, 1);
    EV(&d, GT_EV_GO_START, 1, 2, 3);      /* 2 running */
    for (int k = 0; k < 10; k++) {
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 2, 1);
        EV(&d, GT_EV_USER_REGION_END, 1, 7, 2, 1);
    }
    switch (tail) {
    case FT_REGION_MISMATCH:
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 2, 1);
        EV(&d, GT_EV_USER_REGION_END, 1, 7, 3, 1); /* another name */
        break;
    case FT_BAD_STACK: EV(&d, GT_EV_GO_BLOCK, 1, 1, 9); break;
    case FT_BAD_STRING: EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 9, 1); break;
    case FT_START_WAITING: EV(&d, GT_EV_GO_STOP, 1, 1, 1); EV(&d, GT_EV_GO_START, 1, 1, 1); break;
    case FT_UNBLOCK_SEQ: EV(&d, GT_EV_GO_UNBLOCK, 1, 1, 5, 1); break;
    case FT_PROC_START_HELD: EV(&d, GT_EV_PROC_START, 1, 0, 2); break;
    case FT_STOP_NO_G: EV(&d, GT_EV_GO_STOP, 1, 1, 1); EV(&d, GT_EV_GO_BLOCK, 1, 1, 1); break;
    case FT_LONG_VARINT: /* a task id of 10 bytes: the general decoder's */
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, UINT64_MAX - 1, 1, 1);
        EV(&d, GT_EV_USER_REGION_END, 1, UINT64_MAX - 1, 1, 1);
        break;
    case FT_UNKNOWN_TYPE:
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 1, 1);
        byte(&d, 200);
        put(&d, 1);
        break;
    case FT_REGION_PREFIX:
        EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 2, 1);
        EV(&d, GT_EV_USER_REGION_END, 1, 7, 4, 1); /* "main." ends "main.f" */
        break;
    case FT_PROC_START_OTHER: EV(&d, GT_EV_PROC_START, 1, 1, 1); break; /* holding proc 0 */
    case FT_NEW_NAME: /* deeper than the region arrays were: they grow */
        for (int k = 0; k < 40; k++)
            EV(&d, GT_EV_USER_REGION_BEGIN, 1, 7, 1 + k % 3, 1);
        for (int k = 39; k >= 0; k--)
            EV(&d, GT_EV_USER_REGION_END, 1, 7, 1 + k % 3, 1);
        break;
    default:
        break;
    }
    EV(&d, GT_EV_PROC_STOP, 1);
    batch(t, 1, 1, 100, &d);
    freq_batch(t, 1); /* last, as the writers put it: the trace is whole */
}

static void test_fast_step(void)
{
    static struct buf t;
    static const struct { enum fast_tail tail; int code; const char *what; } cases[] = {
        {FT_VALID, 0, "fast: valid"},
        {FT_REGION_MISMATCH, CTRACE_READER_EINVALID, "fast: region end of another name"},
        {FT_BAD_STACK, CTRACE_READER_EINVALID, "fast: block with an unknown stack"},
        {FT_BAD_STRING, CTRACE_READER_EINVALID, "fast: region with an unknown name"},
        {FT_START_WAITING, CTRACE_READER_EINVALID, "fast: start of a waiting goroutine"},
        {FT_UNBLOCK_SEQ, CTRACE_READER_EINVALID, "fast: unblock out of sequence"},
        {FT_PROC_START_HELD, CTRACE_READER_EINVALID, "fast: proc start with a proc held"},
        {FT_STOP_NO_G, CTRACE_READER_EINVALID, "fast: block with no goroutine"},
        {FT_LONG_VARINT, 0, "fast: a 10-byte varint"},
        {FT_UNKNOWN_TYPE, CTRACE_READER_EFORMAT, "fast: unknown type after hot events"},
        {FT_NEW_NAME, 0, "fast: region arrays grow"},
        {FT_REGION_PREFIX, CTRACE_READER_EINVALID, "fast: region end named by a prefix"},
        {FT_PROC_START_OTHER, CTRACE_READER_EINVALID, "fast: proc start while holding another"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fast_trace(&t, cases[i].tail);
        if (cases[i].code) {
            expect_error(&t, cases[i].code, cases[i].what);
            continue;
        }
        ctrace_reader *r;
        int kinds[1], n = 0;
        CHECK(ctrace_reader_open_mem(t.b, t.n, CTRACE_READER_REFERENCE, &r) == 0);
        int rc = read_all(r, kinds, 0, &n);
        same_as_reference(&t, cases[i].what);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", cases[i].what, ctrace_reader_error(r, NULL));
        CHECK(rc == 0 && n > 100);
        same_as_check(&t, 0, r, 1);
        same_as_check(&t, 0, r, 3);
        same_as_check(&t, 0, r, 1000);
        ctrace_reader_close(r);
    }
}

/* fast.h writes out where the hot types keep their stack and string ids;
 * they must be the spec table's (a change there must reach fast.h). */
static void test_fast_layout(void)
{
    static const struct { uint8_t typ; int stk, str; } want[] = {
        {GT_EV_GO_STOP, FAST_STOP_STK, FAST_STOP_STR},
        {GT_EV_GO_BLOCK, FAST_STOP_STK, FAST_STOP_STR},
        {GT_EV_GO_UNBLOCK, FAST_UNBLOCK_STK, -1},
        {GT_EV_GO_START, -1, -1},
        {GT_EV_PROC_START, -1, -1},
        {GT_EV_PROC_STOP, -1, -1},
        {GT_EV_USER_REGION_BEGIN, FAST_REGION_STK, FAST_REGION_STR},
        {GT_EV_USER_REGION_END, FAST_REGION_STK, FAST_REGION_STR},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct rspec *s = &rd_specs[want[i].typ];
        if (s->stack_arg - 1 != want[i].stk || s->str_arg - 1 != want[i].str || s->stack_arg2 ||
            s->str_arg2)
        {
            fprintf(stderr, "FAIL: fast.h: layout of %s: stack at %d, string at %d; the spec table says %d, %d\n",
                    s->name, want[i].stk, want[i].str, s->stack_arg - 1, s->str_arg - 1);
            failures++;
        }
    }
}

int main(void)
{
    test_fast_layout();
    test_fast_step();
    test_losses();
    test_api();
    test_valid();
    test_invalid();
    test_truncation();
    test_pipe();
    test_go125();
    test_sparse_ids();
    test_goroutine_ids();
    test_split();
    test_check_max();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_reader: all passed\n");
    return 0;
}
