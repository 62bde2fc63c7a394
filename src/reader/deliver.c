/*
 * deliver.c - turning ordered raw events into the public ctrace_event the
 * caller gets: the table references checked (v2), the time forced strictly
 * above the previous event's (as Go does, so consumers can rely on
 * monotonic time), the kind-specific fields built from the event type.
 *
 * Invariants: one event is handed out at a time, from d->ev (or d->out:
 * the read-ahead queue's next slot, ahead.c) and the buffers beside it
 * (attrs, xargs), valid until the next call; strings point into the
 * generation's arena, static text or the kept strings (the names made
 * here), all of which live until the next generation is read.  Reads the
 * generation and ordering state, writes only the delivery state and the
 * error state.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const enum ctrace_state go_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNABLE, CTRACE_STATE_RUNNING,
    CTRACE_STATE_SYSCALL, CTRACE_STATE_WAITING};
static const enum ctrace_state proc_state_of[] = {
    CTRACE_STATE_UNDETERMINED, CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE,
    CTRACE_STATE_RUNNING, CTRACE_STATE_IDLE};

static inline struct ctrace_str str_of(const struct generation *g, uint64_t id)
{
    struct ctrace_str s = {"", 0};
    gen_string(g, id, &s);
    return s;
}

/* A block of kept strings; blocks are chained, never moved. */
struct dl_kept {
    struct dl_kept *next;
    size_t used, cap;
    char data[];
};

/* s (len bytes) copied among the kept strings, NUL-terminated; NULL when
 * out of memory. */
static const char *keep(struct delivery *d, const char *s, size_t len)
{
    struct dl_kept *k = d->kept;
    if (!k || k->cap - k->used < len + 1) {
        size_t cap = len + 1 > 4096 ? len + 1 : 4096;
        struct dl_kept *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->next = k;
        n->used = 0;
        n->cap = cap;
        d->kept = k = n;
    }
    char *p = k->data + k->used;
    memcpy(p, s, len);
    p[len] = 0;
    k->used += len + 1;
    return p;
}

/* The kept copy of s, or (out of memory) s itself, valid until the next
 * event only: the reading goes on, with the shorter lifetime. */
static struct ctrace_str kept_str(struct delivery *d, const char *s, size_t len)
{
    const char *p = keep(d, s, len);
    return (struct ctrace_str){p ? p : s, len};
}

void dl_keep_free(struct delivery *d)
{
    while (d->kept) {
        struct dl_kept *n = d->kept->next;
        free(d->kept);
        d->kept = n;
    }
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

static void build(struct ctrace_event *e, struct delivery *d, const struct generation *g, const struct order *o,
                  const struct rev *v)
{
    /* Every field is set below; the union is cleared by itself (a memset of
     * the whole event compiles to a slow string store). */
    e->kind = CTRACE_EV_BAD;
    memset(&e->u, 0, sizeof e->u);
    e->raw_type = v->typ == RT_SYNC ? 0 : v->typ;
    e->time = v->time;
    e->raw_time = (int64_t)v->raw;
    e->m = v->m;
    e->p = v->p;
    e->g = v->g;
    e->generation = g->gen;
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
        e->u.sync.gen = g->gen;
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
        e->u.transition.reason = str_of(g, a[0]);
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
        struct ctrace_str why = str_of(g, a[0]);
        int n = snprintf(d->scratch, sizeof d->scratch, "stop-the-world (%.*s)", (int)why.len, why.ptr);
        range(e, v->typ == GT_EV_STW_BEGIN ? CTRACE_EV_RANGE_BEGIN : CTRACE_EV_RANGE_END, "",
              CTRACE_RES_GOROUTINE, v->g);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof d->scratch ? (size_t)n : sizeof d->scratch - 1;
        e->u.range.name = kept_str(d, d->scratch, len);
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
            d->attrs[0] = (struct ctrace_attr){{"bytes swept", 11}, a[0]};
            d->attrs[1] = (struct ctrace_attr){{"bytes reclaimed", 15}, a[1]};
            e->u.range.attrs = d->attrs;
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
        e->u.label.label = str_of(g, a[0]);
        break;
    case GT_EV_USER_TASK_BEGIN:
        e->kind = CTRACE_EV_TASK_BEGIN;
        e->u.task.id = a[0];
        e->u.task.parent = a[1];
        e->u.task.name = str_of(g, a[2]);
        break;
    case GT_EV_USER_TASK_END:
        e->kind = CTRACE_EV_TASK_END;
        e->u.task.id = a[0];
        e->u.task.parent = v->extra[0];
        e->u.task.name = kept_str(d, o->endname, o->endname_len);
        break;
    case GT_EV_USER_REGION_BEGIN:
    case GT_EV_USER_REGION_END:
        e->kind = v->typ == GT_EV_USER_REGION_BEGIN ? CTRACE_EV_REGION_BEGIN : CTRACE_EV_REGION_END;
        e->u.region.task = a[0];
        e->u.region.name = str_of(g, a[1]);
        break;
    case GT_EV_USER_LOG:
        e->kind = CTRACE_EV_LOG;
        e->u.log.task = a[0];
        e->u.log.category = str_of(g, a[1]);
        e->u.log.message = str_of(g, a[2]);
        break;
    default:
        if (s && v->typ >= RT_EXP_FIRST) {
            e->kind = CTRACE_EV_EXPERIMENTAL;
            e->u.experimental.name = (struct ctrace_str){s->name, strlen(s->name)};
            memcpy(d->xargs, a, sizeof d->xargs);
            e->u.experimental.args = d->xargs;
            e->u.experimental.nargs = s->nargs - 1;
            e->u.experimental.arg_names = rspec_exp_argnames(v->typ);
        } else {
            e->kind = CTRACE_EV_BAD;
        }
    }
}

/* Go's reference checks of a v2 event, the slow way (dl_refs_ok said no:
 * a bad id, or one beyond the dense arrays): 0, or the error of the first
 * bad stack or string id (stacks first, in argument order). */
int dl_check_refs(struct delivery *d, const struct rev *v)
{
    const struct generation *g = d->g;
    const struct rspec *s = rspec_of(v->typ);
    char nb[24];
    uint8_t stk[2] = {s->stack_arg, s->stack_arg2}, str[2] = {s->str_arg, s->str_arg2};
    for (int i = 0; i < 2; i++)
        if (stk[i] && !gen_has_stack(g, v->args[stk[i] - 1]))
            return err_fail_cut(d->err, CTRACE_READER_EINVALID, v->off, "found invalid stack ID %llu for event %s",
                                (unsigned long long)v->args[stk[i] - 1], rspec_name(v->typ, nb));
    for (int i = 0; i < 2; i++) {
        struct ctrace_str tmp;
        if (str[i] && gen_string(g, v->args[str[i] - 1], &tmp) < 0)
            return err_fail_cut(d->err, CTRACE_READER_EINVALID, v->off, "found invalid string ID %llu for event %s",
                                (unsigned long long)v->args[str[i] - 1], rspec_name(v->typ, nb));
    }
    return 0;
}

/* Validates the event's table references, fixes its time and publishes it. */
int dl_deliver(struct delivery *d, struct rev *v, const struct ctrace_event **out)
{
    /* v1 events come from a converter whose references Go does not check. */
    if (!d->v1 && v->typ != RT_SYNC && v->typ != GT_EV_CPU_SAMPLE) {
        int rc = dl_refs(d, v);
        if (rc < 0)
            return rc;
    }
    /* A sync event has no time of its own: it keeps the last raw time. */
    if (v->typ == RT_SYNC)
        v->raw = d->last_raw;
    v->time = dl_account(d, v->time, v->raw);
    if (d->v1) /* v1 keeps only nanoseconds: the raw time is the fixed one */
        v->raw = d->last_raw = (uint64_t)v->time;
    struct ctrace_event *e = dl_target(d);
    if (!d->quiet)
        build(e, d, d->g, d->o, v);
    /* Set even when quiet: the reader reads it back after a sync event. */
    e->since_start = (int64_t)((uint64_t)v->time - (uint64_t)d->first_ts);
    *out = e;
    return 1;
}
