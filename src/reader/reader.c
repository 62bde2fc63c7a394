/*
 * reader.c - the public reader: opening, the merge of per-thread batch
 * cursors, and turning ordered raw events into public ctrace_events.
 *
 * Merge (same policy as Go 1.23's parser, so the event order is the same):
 * the cursors form a min-heap on the time of their head event; the head of
 * the heap is offered to the ordering state machine first; if it cannot
 * advance yet, the heap is sorted by time and the others are offered in
 * that order; if none can, the trace is invalid.  CPU samples of the
 * generation are interleaved by time.  When a generation is exhausted a
 * sync event is delivered, then the next generation is read.
 *
 * Times: each delivered event's time is forced strictly above the previous
 * one (as Go does), so consumers can rely on monotonic time.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rd_fail(struct ctrace_reader *r, int code, uint64_t off, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    r->err = code;
    r->erroff = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

int rd_fail_cut(struct ctrace_reader *r, int code, uint64_t off, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!r->gen_cut)
        return rd_fail(r, code, off, "%s", msg);
    uint64_t end = r->in.base_off + r->in.len;
    if (r->g.gen == 0)
        return rd_fail(r, CTRACE_READER_ETRUNCATED, end, "%s (the input ends after the header)", msg);
    return rd_fail(r, CTRACE_READER_ETRUNCATED, end, "%s (the input ends inside generation %llu)", msg,
                   (unsigned long long)r->g.gen);
}

/* ---- opening ---- */

/* Reads and checks "go 1.N trace\0\0\0". */
static int read_header(struct ctrace_reader *r)
{
    int64_t avail = in_fill(&r->in, 16);
    if (avail < 0)
        return rd_fail(r, (int)avail, 0, "read error: %s", strerror(r->in.err));
    const uint8_t *p = in_ptr(&r->in, 0);
    size_t n = (size_t)avail;
    size_t i = 0;
    int ver = 0;
    if (n < 5 || memcmp(p, "go 1.", 5) != 0)
        goto bad;
    for (i = 5; i < n && i < 8 && p[i] >= '0' && p[i] <= '9'; i++)
        ver = ver * 10 + (p[i] - '0');
    if (i == 5 || i + 9 > n || memcmp(p + i, " trace\0\0\0", 9) != 0)
        goto bad;
    r->pos = i + 9;
    r->complete_end = r->pos;
    r->version = 100 + ver;
    switch (ver) {
    case 22:
    case 23:
    case 25: /* 1.25: same events, frequency moved into a sync batch */
        return 0;
    case 11:
    case 19:
    case 21:
        r->is_v1 = 1; /* read whole at the first ctrace_reader_next() */
        return 0;
    default:
        return rd_fail(r, CTRACE_READER_EVERSION, 0, "unknown or unsupported trace version go 1.%d", ver);
    }
bad:
    r->version = 0;
    return rd_fail(r, CTRACE_READER_EVERSION, 0, "bad file format: not a Go execution trace?");
}

static int finish_open(struct ctrace_reader *r, ctrace_reader **out)
{
    r->emitted_sync = 1; /* no sync before the first generation */
    int rc = read_header(r);
    *out = r;
    return rc;
}

int ctrace_reader_open_mem(const void *buf, size_t len, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (!buf && len)
        return CTRACE_READER_EINVAL;
    struct ctrace_reader *r = calloc(1, sizeof *r);
    if (!r)
        return CTRACE_READER_ENOMEM;
    in_open_mem(&r->in, buf, len);
    return finish_open(r, out);
}

static int open_fd(int fd, int own, unsigned flags, ctrace_reader **out)
{
    struct ctrace_reader *r = calloc(1, sizeof *r);
    if (!r) {
        if (own)
            close(fd);
        return CTRACE_READER_ENOMEM;
    }
    in_open_fd(&r->in, fd, own, flags & CTRACE_READER_NO_MMAP);
    return finish_open(r, out);
}

int ctrace_reader_open_fd(int fd, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (fd < 0)
        return CTRACE_READER_EINVAL;
    return open_fd(fd, 0, flags, out);
}

int ctrace_reader_open(const char *path, unsigned flags, ctrace_reader **out)
{
    if (!out)
        return CTRACE_READER_EINVAL;
    *out = NULL;
    if (!path)
        return CTRACE_READER_EINVAL;
    if (strcmp(path, "-") == 0)
        return open_fd(STDIN_FILENO, 0, flags, out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CTRACE_READER_EOPEN;
    return open_fd(fd, 1, flags, out);
}

void ctrace_reader_close(ctrace_reader *r)
{
    if (!r)
        return;
    v1_free(r);
    in_close(&r->in);
    gen_free(&r->g);
    order_free(&r->o);
    free(r->heap);
    free(r);
}

/* ---- the frontier heap (same shape and tie-breaks as Go's) ---- */

static int64_t ht(struct ctrace_reader *r, size_t i) { return r->heap[i]->ev.time; }

static void hswap(struct ctrace_reader *r, size_t a, size_t b)
{
    struct mcursor *t = r->heap[a];
    r->heap[a] = r->heap[b];
    r->heap[b] = t;
}

static size_t sift_up(struct ctrace_reader *r, size_t i)
{
    while (i > 0 && ht(r, (i - 1) / 2) > ht(r, i)) {
        hswap(r, (i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    return i;
}

static void sift_down(struct ctrace_reader *r, size_t i)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, rr = 2 * i + 2;
        int64_t mt = i < r->nheap ? ht(r, i) : INT64_MAX;
        if (l < r->nheap && ht(r, l) < mt) {
            m = l;
            mt = ht(r, l);
        }
        if (rr < r->nheap && ht(r, rr) < mt)
            m = rr;
        if (m == i)
            return;
        hswap(r, i, m);
        i = m;
    }
}

static void heap_remove(struct ctrace_reader *r, size_t i)
{
    while (i > 0) {
        hswap(r, (i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    hswap(r, 0, r->nheap - 1);
    r->nheap--;
    sift_down(r, 0);
}

/* Stable insertion sort by time: what Go's sort does on small frontiers. */
static void heap_sort(struct ctrace_reader *r)
{
    for (size_t i = 1; i < r->nheap; i++) {
        struct mcursor *c = r->heap[i];
        size_t j = i;
        while (j > 0 && r->heap[j - 1]->ev.time > c->ev.time) {
            r->heap[j] = r->heap[j - 1];
            j--;
        }
        r->heap[j] = c;
    }
}

/* ---- building public events ---- */

static const enum ctrace_state go_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING,
    CTRACE_STATE_SYSCALL, CTRACE_STATE_WAITING};
static const enum ctrace_state proc_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE,
    CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE};

static struct ctrace_str str_of(struct ctrace_reader *r, uint64_t id)
{
    struct ctrace_str s = {"", 0};
    gen_string(&r->g, id, &s);
    return s;
}

static void transition(struct ctrace_event *e, enum ctrace_resource_kind k, uint64_t id,
                       enum ctrace_state from, enum ctrace_state to)
{
    e->kind = CTRACE_EV_STATE_TRANSITION;
    e->u.transition.resource = k;
    e->u.transition.id = id;
    e->u.transition.from = from;
    e->u.transition.to = to;
    e->u.transition.reason = (struct ctrace_str){"", 0};
    e->u.transition.stack = 0;
}

static void range(struct ctrace_event *e, enum ctrace_event_kind k, const char *name,
                  enum ctrace_resource_kind scope, uint64_t id)
{
    e->kind = k;
    e->u.range.name = (struct ctrace_str){name, strlen(name)};
    e->u.range.scope = scope;
    e->u.range.scope_id = scope == CTRACE_RES_NONE ? CTRACE_NO_ID : id;
    e->u.range.attrs = NULL;
    e->u.range.nattrs = 0;
}

static void metric(struct ctrace_event *e, enum ctrace_metric w, const char *name, uint64_t v)
{
    e->kind = CTRACE_EV_METRIC;
    e->u.metric.which = w;
    e->u.metric.name = (struct ctrace_str){name, strlen(name)};
    e->u.metric.value = v;
}

static void build(struct ctrace_reader *r, const struct rev *v)
{
    struct ctrace_event *e = &r->ev;
    memset(e, 0, sizeof *e);
    e->raw_type = v->typ == RT_SYNC ? 0 : v->typ;
    e->time = v->time;
    e->raw_time = (int64_t)v->raw;
    e->m = v->m;
    e->p = v->p;
    e->g = v->g;
    e->generation = r->g.gen;
    e->offset = v->off;
    e->stack = 0;
    const struct rspec *s = v->typ == RT_SYNC ? NULL : rspec_of(v->typ);
    if (v->typ == GT_EV_CPU_SAMPLE)
        e->stack = v->args[0];
    else if (s && s->stack_arg)
        e->stack = v->args[s->stack_arg - 1];

    const uint64_t *a = v->args;
    switch (v->typ) {
    case RT_SYNC:
        e->kind = CTRACE_EV_SYNC;
        e->u.sync.gen = r->g.gen;
        break;
    case GT_EV_CPU_SAMPLE:
        e->kind = CTRACE_EV_STACK_SAMPLE;
        break;
    case GT_EV_PROCS_CHANGE:
        metric(e, CTRACE_METRIC_GOMAXPROCS, "/sched/gomaxprocs:threads", a[0]);
        break;
    case GT_EV_HEAP_ALLOC:
        metric(e, CTRACE_METRIC_HEAP_ALLOC, "/memory/classes/heap/objects:bytes", a[0]);
        break;
    case GT_EV_HEAP_GOAL:
        metric(e, CTRACE_METRIC_HEAP_GOAL, "/gc/heap/goal:bytes", a[0]);
        break;
    case GT_EV_PROC_START:
        transition(e, CTRACE_RES_PROC, a[0], CTRACE_STATE_IDLE, CTRACE_STATE_RUNNING);
        break;
    case GT_EV_PROC_STOP:
        transition(e, CTRACE_RES_PROC, v->p, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE);
        break;
    case GT_EV_PROC_STEAL:
        transition(e, CTRACE_RES_PROC, a[0],
                   v->extra[0] == GT_PROC_SYSCALL_ABANDONED ? CTRACE_STATE_IDLE : CTRACE_STATE_RUNNING,
                   CTRACE_STATE_IDLE);
        break;
    case GT_EV_PROC_STATUS:
        transition(e, CTRACE_RES_PROC, a[0], (enum ctrace_state)v->extra[0], proc_state_of[a[1] % 5]);
        break;
    case GT_EV_GO_CREATE:
    case GT_EV_GO_CREATE_BLOCKED:
        transition(e, CTRACE_RES_GOROUTINE, a[0], CTRACE_STATE_NOTEXIST,
                   v->typ == GT_EV_GO_CREATE ? CTRACE_STATE_RUNNABLE : CTRACE_STATE_WAITING);
        e->u.transition.stack = a[1];
        break;
    case GT_EV_GO_CREATE_SYSCALL:
        transition(e, CTRACE_RES_GOROUTINE, a[0], CTRACE_STATE_NOTEXIST, CTRACE_STATE_SYSCALL);
        break;
    case GT_EV_GO_START:
        transition(e, CTRACE_RES_GOROUTINE, a[0], CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING);
        break;
    case GT_EV_GO_DESTROY:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_RUNNING, CTRACE_STATE_NOTEXIST);
        e->u.transition.stack = e->stack;
        break;
    case GT_EV_GO_DESTROY_SYSCALL:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_SYSCALL, CTRACE_STATE_NOTEXIST);
        break;
    case GT_EV_GO_STOP:
    case GT_EV_GO_BLOCK:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_RUNNING,
                   v->typ == GT_EV_GO_STOP ? CTRACE_STATE_RUNNABLE : CTRACE_STATE_WAITING);
        e->u.transition.reason = str_of(r, a[0]);
        e->u.transition.stack = e->stack;
        break;
    case GT_EV_GO_UNBLOCK:
    case GT_EV_GO_SWITCH:
    case GT_EV_GO_SWITCH_DESTROY:
        transition(e, CTRACE_RES_GOROUTINE, a[0], CTRACE_STATE_WAITING, CTRACE_STATE_RUNNABLE);
        break;
    case GT_EV_GO_SYSCALL_BEGIN:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_RUNNING, CTRACE_STATE_SYSCALL);
        e->u.transition.stack = e->stack;
        break;
    case GT_EV_GO_SYSCALL_END:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_SYSCALL, CTRACE_STATE_RUNNING);
        break;
    case GT_EV_GO_SYSCALL_END_BLOCKED:
        transition(e, CTRACE_RES_GOROUTINE, v->g, CTRACE_STATE_SYSCALL, CTRACE_STATE_RUNNABLE);
        break;
    case GT_EV_GO_STATUS:
    case GT_EV_GO_STATUS_STACK:
        transition(e, CTRACE_RES_GOROUTINE, a[0], (enum ctrace_state)v->extra[0], go_state_of[a[2] % 5]);
        break;
    case GT_EV_STW_BEGIN:
    case GT_EV_STW_END: {
        struct ctrace_str d = str_of(r, a[0]);
        snprintf(r->scratch, sizeof r->scratch, "stop-the-world (%.*s)", (int)d.len, d.ptr);
        range(e, v->typ == GT_EV_STW_BEGIN ? CTRACE_EV_RANGE_BEGIN : CTRACE_EV_RANGE_END, r->scratch,
              CTRACE_RES_GOROUTINE, v->g);
        break;
    }
    case GT_EV_GC_ACTIVE:
    case GT_EV_GC_BEGIN:
    case GT_EV_GC_END:
        range(e, v->typ == GT_EV_GC_ACTIVE ? CTRACE_EV_RANGE_ACTIVE
                 : v->typ == GT_EV_GC_BEGIN ? CTRACE_EV_RANGE_BEGIN : CTRACE_EV_RANGE_END,
              "GC concurrent mark phase", CTRACE_RES_NONE, 0);
        break;
    case GT_EV_GC_SWEEP_ACTIVE:
    case GT_EV_GC_SWEEP_BEGIN:
    case GT_EV_GC_SWEEP_END:
        /* The scope is the proc of the event, even for Active (as Go has it). */
        range(e, v->typ == GT_EV_GC_SWEEP_ACTIVE ? CTRACE_EV_RANGE_ACTIVE
                 : v->typ == GT_EV_GC_SWEEP_BEGIN ? CTRACE_EV_RANGE_BEGIN : CTRACE_EV_RANGE_END,
              "GC incremental sweep", CTRACE_RES_PROC, v->p);
        if (v->typ == GT_EV_GC_SWEEP_END) {
            r->attrs[0] = (struct ctrace_attr){{"bytes swept", 11}, a[0]};
            r->attrs[1] = (struct ctrace_attr){{"bytes reclaimed", 15}, a[1]};
            e->u.range.attrs = r->attrs;
            e->u.range.nattrs = 2;
        }
        break;
    case GT_EV_GC_MARK_ASSIST_ACTIVE:
    case GT_EV_GC_MARK_ASSIST_BEGIN:
    case GT_EV_GC_MARK_ASSIST_END:
        range(e, v->typ == GT_EV_GC_MARK_ASSIST_ACTIVE ? CTRACE_EV_RANGE_ACTIVE
                 : v->typ == GT_EV_GC_MARK_ASSIST_BEGIN ? CTRACE_EV_RANGE_BEGIN : CTRACE_EV_RANGE_END,
              "GC mark assist", CTRACE_RES_GOROUTINE,
              v->typ == GT_EV_GC_MARK_ASSIST_ACTIVE ? a[0] : v->g);
        break;
    case GT_EV_GO_LABEL:
        e->kind = CTRACE_EV_LABEL;
        e->u.label.label = str_of(r, a[0]);
        break;
    case GT_EV_USER_TASK_BEGIN:
        e->kind = CTRACE_EV_TASK_BEGIN;
        e->u.task.id = a[0];
        e->u.task.parent = a[1];
        e->u.task.name = str_of(r, a[2]);
        break;
    case GT_EV_USER_TASK_END:
        e->kind = CTRACE_EV_TASK_END;
        e->u.task.id = a[0];
        e->u.task.parent = v->extra[0];
        e->u.task.name = (struct ctrace_str){r->o.endname, r->o.endname_len};
        break;
    case GT_EV_USER_REGION_BEGIN:
    case GT_EV_USER_REGION_END:
        e->kind = v->typ == GT_EV_USER_REGION_BEGIN ? CTRACE_EV_REGION_BEGIN : CTRACE_EV_REGION_END;
        e->u.region.task = a[0];
        e->u.region.name = str_of(r, a[1]);
        break;
    case GT_EV_USER_LOG:
        e->kind = CTRACE_EV_LOG;
        e->u.log.task = a[0];
        e->u.log.category = str_of(r, a[1]);
        e->u.log.message = str_of(r, a[2]);
        break;
    default:
        if (s && v->typ >= RT_EXP_FIRST) {
            e->kind = CTRACE_EV_EXPERIMENTAL;
            e->u.experimental.name = (struct ctrace_str){s->name, strlen(s->name)};
            memcpy(r->xargs, a, sizeof r->xargs);
            e->u.experimental.args = r->xargs;
            e->u.experimental.nargs = s->nargs - 1;
            e->u.experimental.arg_names = rspec_exp_argnames(v->typ);
        } else {
            e->kind = CTRACE_EV_BAD;
        }
    }
}

/* Validates the event's table references, fixes its time and publishes it. */
int rd_deliver(struct ctrace_reader *r, struct rev *v, const struct ctrace_event **out)
{
    /* v1 events come from a converter whose references Go does not check. */
    if (!r->is_v1 && v->typ != RT_SYNC && v->typ != GT_EV_CPU_SAMPLE) {
        const struct rspec *s = rspec_of(v->typ);
        char nb[24];
        uint8_t stk[2] = {s->stack_arg, s->stack_arg2}, str[2] = {s->str_arg, s->str_arg2};
        for (int i = 0; i < 2; i++)
            if (stk[i] && !gen_has_stack(&r->g, v->args[stk[i] - 1]))
                return rd_fail_cut(r, CTRACE_READER_EINVALID, v->off, "found invalid stack ID %llu for event %s",
                               (unsigned long long)v->args[stk[i] - 1], rspec_name(v->typ, nb));
        for (int i = 0; i < 2; i++) {
            struct ctrace_str tmp;
            if (str[i] && gen_string(&r->g, v->args[str[i] - 1], &tmp) < 0)
                return rd_fail_cut(r, CTRACE_READER_EINVALID, v->off, "found invalid string ID %llu for event %s",
                               (unsigned long long)v->args[str[i] - 1], rspec_name(v->typ, nb));
        }
    }
    /* Go's int64 arithmetic wraps; unsigned keeps C defined. */
    if (v->time <= r->last_ts)
        v->time = (int64_t)((uint64_t)r->last_ts + 1);
    r->last_ts = v->time;
    if (v->typ == RT_SYNC)
        v->raw = r->last_raw;
    if (r->is_v1)
        v->raw = (uint64_t)v->time; /* v1 keeps only nanoseconds */
    r->last_raw = v->raw;
    build(r, v);
    if (!r->have_first) {
        r->have_first = 1;
        r->first_ts = v->time;
    }
    r->ev.since_start = (int64_t)((uint64_t)v->time - (uint64_t)r->first_ts);
    r->nevents++;
    *out = &r->ev;
    return 1;
}

static int pop(struct ctrace_reader *r, const struct ctrace_event **out)
{
    struct order *o = &r->o;
    r->cur = o->q[o->qhead];
    o->qhead = (o->qhead + 1) % 8;
    o->qlen--;
    return rd_deliver(r, &r->cur, out);
}

/* Offers frontier entry i to the ordering; 1 if it advanced. */
static int try_advance(struct ctrace_reader *r, size_t i)
{
    struct mcursor *c = r->heap[i];
    int ok = order_advance(r, &c->ev, c->m, r->g.gen);
    if (ok <= 0)
        return ok;
    int more = cursor_next(r, c);
    if (more < 0)
        return more;
    if (more) {
        if (sift_up(r, i) == i)
            sift_down(r, i);
    } else {
        heap_remove(r, i);
    }
    return 1;
}

static int load_generation(struct ctrace_reader *r)
{
    int rc = gen_read(r);
    if (rc < 0)
        return rc;
    r->have_gen = 1;
    r->ngens++;
    if (r->g.nms > r->heap_cap) {
        struct mcursor **h = realloc(r->heap, r->g.nms * sizeof *h);
        if (!h)
            return rd_fail(r, CTRACE_READER_ENOMEM, r->pos, "out of memory");
        r->heap = h;
        r->heap_cap = r->g.nms;
    }
    r->nheap = 0;
    for (size_t i = 0; i < r->g.nms; i++) {
        struct mcursor *c = &r->g.ms[i];
        int more = cursor_next(r, c);
        if (more < 0)
            return more;
        if (!more)
            continue;
        r->heap[r->nheap++] = c;
        sift_up(r, r->nheap - 1);
    }
    r->emitted_sync = 0;
    return 0;
}

int ctrace_reader_next(ctrace_reader *r, const struct ctrace_event **ev)
{
    if (!r || !ev)
        return CTRACE_READER_EINVAL;
    *ev = NULL;
    if (r->err)
        return r->err;
    if (r->done)
        return 0;
    if (r->is_v1)
        return v1_next(r, ev);
    if (r->o.qlen)
        return pop(r, ev);
    struct generation *g = &r->g;
    if (r->nheap == 0 && g->sample_pos == g->nsamples) {
        if (!r->emitted_sync) {
            r->emitted_sync = 1;
            r->complete_gens++;
            r->complete_end = r->gen_end;
            r->cur = (struct rev){0};
            r->cur.typ = RT_SYNC;
            r->cur.time = r->last_ts;
            r->cur.m = r->cur.p = r->cur.g = CTRACE_NO_ID;
            return rd_deliver(r, &r->cur, ev);
        }
        if (r->spill_err)
            return rd_fail(r, r->spill_err, r->spill_erroff, "%s", r->spill_msg);
        if (r->have_gen && !r->spill) {
            r->done = 1;
            return 0;
        }
        int rc = load_generation(r);
        if (rc < 0)
            return rc;
    }
    if (g->sample_pos < g->nsamples &&
        (r->nheap == 0 || g->samples[g->sample_pos].time < r->heap[0]->ev.time)) {
        const struct sample *s = &g->samples[g->sample_pos++];
        r->cur = (struct rev){0};
        r->cur.typ = GT_EV_CPU_SAMPLE;
        r->cur.time = s->time;
        r->cur.raw = s->raw;
        r->cur.m = s->m;
        r->cur.p = s->p;
        r->cur.g = s->g;
        r->cur.args[0] = s->stack;
        r->cur.off = s->off;
        return rd_deliver(r, &r->cur, ev);
    }
    if (r->nheap == 0)
        return rd_fail_cut(r, CTRACE_READER_EINVALID, r->pos, "broken trace: generation %llu has no events",
                       (unsigned long long)g->gen);
    int ok = try_advance(r, 0);
    if (ok < 0)
        return ok;
    if (!ok) {
        heap_sort(r);
        for (size_t i = 1; i < r->nheap && !ok; i++) {
            ok = try_advance(r, i);
            if (ok < 0)
                return ok;
        }
        if (!ok) {
            char nb[24];
            struct mcursor *c = r->heap[0];
            return rd_fail_cut(r, CTRACE_READER_EINVALID, c->ev.off,
                           "broken trace: no thread can advance (generation %llu, earliest pending "
                           "event %s on thread %lld)",
                           (unsigned long long)g->gen, rspec_name(c->ev.typ, nb), (long long)c->m);
        }
    }
    return pop(r, ev);
}

/* ---- queries ---- */

size_t ctrace_reader_stack(ctrace_reader *r, uint64_t stack, const struct ctrace_frame **frames)
{
    const struct ctrace_frame *dummy;
    if (!frames)
        frames = &dummy;
    *frames = NULL;
    if (!r || !r->have_gen)
        return 0;
    return gen_stack(&r->g, stack, frames);
}

int ctrace_reader_task(ctrace_reader *r, uint64_t id, uint64_t *parent, struct ctrace_str *name)
{
    uint64_t p;
    const char *n;
    size_t len;
    if (!r || !order_task(&r->o, id, &p, &n, &len))
        return 0;
    if (parent)
        *parent = p;
    if (name)
        *name = (struct ctrace_str){n, len};
    return 1;
}

int ctrace_reader_version(const ctrace_reader *r) { return r ? r->version : 0; }

const char *ctrace_reader_error(const ctrace_reader *r, uint64_t *offset)
{
    if (!r || !r->err)
        return NULL;
    if (offset)
        *offset = r->erroff;
    return r->errmsg;
}

uint64_t ctrace_reader_complete(const ctrace_reader *r, uint64_t *end_offset)
{
    uint64_t n = r && !r->is_v1 ? r->complete_gens : 0;
    if (end_offset)
        *end_offset = r && !r->is_v1 ? r->complete_end : 0;
    return n;
}

uint64_t ctrace_reader_bytes_read(const ctrace_reader *r) { return r ? r->pos : 0; }
int64_t ctrace_reader_size(const ctrace_reader *r) { return r ? r->in.size : -1; }
uint64_t ctrace_reader_event_count(const ctrace_reader *r) { return r ? r->nevents : 0; }
uint64_t ctrace_reader_generation_count(const ctrace_reader *r) { return r ? r->ngens : 0; }

uint64_t ctrace_reader_frequency(const ctrace_reader *r)
{
    if (!r || !r->have_gen || r->g.freq <= 0)
        return 0;
    return (uint64_t)(1e9 / r->g.freq + 0.5);
}
