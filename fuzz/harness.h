/*
 * harness.h - the body of every reader fuzz target (fuzz_v1.c, fuzz_v2.c).
 *
 * Reads the input fully twice -- from memory with the reference code
 * (CTRACE_READER_REFERENCE: no fast step), and streamed through a file
 * descriptor (no mmap) with the fast step -- touching every string and
 * stack frame each event refers to, and checks that both readings agree
 * on every event, field by field; then a third time with the
 * check-only loop (ctrace_reader_check), which must end the same way:
 * same code, event count, error offset and readable prefix; and a fourth
 * with the split check (ctrace_reader_check_threads: the second half on a
 * thread of its own, verified), which must end as well with the same code,
 * message, offset and counts; and a fifth reading ahead
 * (ctrace_reader_read_ahead), in step with the reference one: every event, the
 * strings and frames it refers to, the counts after it, and the end must
 * be the same.  Any crash, hang, leak or
 * out-of-bounds access is a bug; so is a disagreement (abort).
 */
#define _GNU_SOURCE
#include "ctrace_reader.h"

#include <stddef.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile size_t sink;

static void touch(struct ctrace_str s)
{
    if (s.ptr) {
        sink += strlen(s.ptr);
        if (s.len)
            sink += (unsigned char)s.ptr[s.len - 1];
    }
}

static void touch_stack(ctrace_reader *r, uint64_t id)
{
    const struct ctrace_frame *f;
    size_t n = ctrace_reader_stack(r, id, &f);
    for (size_t i = 0; i < n; i++) {
        touch(f[i].func);
        touch(f[i].file);
        sink += f[i].line;
    }
}

static void touch_event(ctrace_reader *r, const struct ctrace_event *e)
{
    touch_stack(r, e->stack);
    switch (e->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        touch(e->u.transition.reason);
        touch_stack(r, e->u.transition.stack);
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        touch(e->u.range.name);
        for (size_t i = 0; i < e->u.range.nattrs; i++)
            touch(e->u.range.attrs[i].name);
        break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        touch(e->u.task.name);
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        touch(e->u.region.name);
        break;
    case CTRACE_EV_LOG:
        touch(e->u.log.category);
        touch(e->u.log.message);
        break;
    case CTRACE_EV_LABEL:
        touch(e->u.label.label);
        break;
    case CTRACE_EV_METRIC:
        touch(e->u.metric.name);
        break;
    case CTRACE_EV_EXPERIMENTAL:
        touch(e->u.experimental.name);
        for (size_t i = 0; i < e->u.experimental.nargs; i++)
            sink += e->u.experimental.args[i];
        break;
    default:
        break;
    }
}

static int str_eq(struct ctrace_str a, struct ctrace_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int stacks_eq(ctrace_reader *p, ctrace_reader *q, uint64_t id)
{
    const struct ctrace_frame *fp, *fq;
    size_t n = ctrace_reader_stack(p, id, &fp);
    if (ctrace_reader_stack(q, id, &fq) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (fp[i].pc != fq[i].pc || fp[i].line != fq[i].line || !str_eq(fp[i].func, fq[i].func) ||
            !str_eq(fp[i].file, fq[i].file))
            return 0;
    return 1;
}

/* Whether two events are the same: every field, and what it points to. */
static int events_eq(ctrace_reader *p, const struct ctrace_event *a, ctrace_reader *q,
                     const struct ctrace_event *b)
{
    if (a->kind != b->kind || a->raw_type != b->raw_type || a->time != b->time ||
        a->since_start != b->since_start || a->raw_time != b->raw_time || a->m != b->m || a->p != b->p ||
        a->g != b->g || a->stack != b->stack || a->generation != b->generation || a->offset != b->offset ||
        !stacks_eq(p, q, a->stack))
        return 0;
    switch (a->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        return a->u.transition.resource == b->u.transition.resource && a->u.transition.id == b->u.transition.id &&
               a->u.transition.from == b->u.transition.from && a->u.transition.to == b->u.transition.to &&
               str_eq(a->u.transition.reason, b->u.transition.reason) &&
               a->u.transition.stack == b->u.transition.stack && stacks_eq(p, q, a->u.transition.stack);
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        if (!str_eq(a->u.range.name, b->u.range.name) || a->u.range.scope != b->u.range.scope ||
            a->u.range.scope_id != b->u.range.scope_id || a->u.range.nattrs != b->u.range.nattrs)
            return 0;
        for (size_t i = 0; i < a->u.range.nattrs; i++)
            if (!str_eq(a->u.range.attrs[i].name, b->u.range.attrs[i].name) ||
                a->u.range.attrs[i].value != b->u.range.attrs[i].value)
                return 0;
        return 1;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        return a->u.task.id == b->u.task.id && a->u.task.parent == b->u.task.parent &&
               str_eq(a->u.task.name, b->u.task.name);
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        return a->u.region.task == b->u.region.task && str_eq(a->u.region.name, b->u.region.name);
    case CTRACE_EV_LOG:
        return a->u.log.task == b->u.log.task && str_eq(a->u.log.category, b->u.log.category) &&
               str_eq(a->u.log.message, b->u.log.message);
    case CTRACE_EV_LABEL:
        return str_eq(a->u.label.label, b->u.label.label);
    case CTRACE_EV_METRIC:
        return a->u.metric.which == b->u.metric.which && a->u.metric.value == b->u.metric.value &&
               str_eq(a->u.metric.name, b->u.metric.name);
    case CTRACE_EV_SYNC:
        return a->u.sync.gen == b->u.sync.gen;
    case CTRACE_EV_EXPERIMENTAL:
        return str_eq(a->u.experimental.name, b->u.experimental.name) &&
               a->u.experimental.nargs == b->u.experimental.nargs &&
               memcmp(a->u.experimental.args, b->u.experimental.args,
                      a->u.experimental.nargs * sizeof *a->u.experimental.args) == 0;
    default:
        return 1;
    }
}

/* What the queries answer, the same with and without the read-ahead. */
static int queries_eq(ctrace_reader *p, ctrace_reader *q)
{
    uint64_t ep = 0, eq = 0;
    int64_t sp = 0, sq = 0;
    struct ctrace_losses lp, lq;
    ctrace_reader_losses(p, &lp);
    ctrace_reader_losses(q, &lq);
    return ctrace_reader_event_count(p) == ctrace_reader_event_count(q) &&
           ctrace_reader_generation_count(p) == ctrace_reader_generation_count(q) &&
           ctrace_reader_bytes_read(p) == ctrace_reader_bytes_read(q) &&
           ctrace_reader_frequency(p) == ctrace_reader_frequency(q) &&
           ctrace_reader_complete(p, &ep, &sp) == ctrace_reader_complete(q, &eq, &sq) && ep == eq && sp == sq &&
           memcmp(&lp, &lq, sizeof lp) == 0 && !ctrace_reader_error(p, NULL) == !ctrace_reader_error(q, NULL);
}

/* The fifth reading: ahead (q) in step with the reference (p); stops
 * after `stop` events when not 0 (the close then stops a running thread). */
static void ahead_vs_reference(const uint8_t *data, size_t size, uint64_t stop)
{
    ctrace_reader *p = NULL, *q = NULL;
    int rp = ctrace_reader_open_mem(data, size, CTRACE_READER_REFERENCE, &p);
    int rq = ctrace_reader_open_mem(data, size, 0, &q);
    if (rq == 0 && ctrace_reader_read_ahead(q, 2) != 0)
        abort();
    const struct ctrace_event *ep, *eq;
    int more = rp == 0;
    if (!more && rp != rq)
        abort();
    for (uint64_t n = 0; more && (!stop || n < stop); n++) {
        rp = ctrace_reader_next(p, &ep);
        rq = ctrace_reader_next(q, &eq);
        if (rp != rq || (rp == 1 && !events_eq(p, ep, q, eq)) || !queries_eq(p, q))
            abort();
        more = rp == 1;
    }
    uint64_t op = 0, oq = 0;
    const char *mp = ctrace_reader_error(p, &op), *mq = ctrace_reader_error(q, &oq);
    if (!mp != !mq || (mp && (op != oq || strcmp(mp, mq))))
        abort();
    ctrace_reader_close(p);
    ctrace_reader_close(q);
}

static int fuzz_one(const uint8_t *data, size_t size)
{
    ctrace_reader *a = NULL, *b = NULL;
    int ra = ctrace_reader_open_mem(data, size, CTRACE_READER_REFERENCE, &a);

    int fd = memfd_create("fuzz", 0);
    if (fd >= 0 && (size == 0 || write(fd, data, size) == (ssize_t)size))
        lseek(fd, 0, SEEK_SET);
    int rb = fd >= 0 ? ctrace_reader_open_fd(fd, CTRACE_READER_NO_MMAP, &b) : ra;
    if (fd >= 0 && ra != rb)
        abort();

    const struct ctrace_event *ea, *eb;
    for (;;) {
        ra = ra == 0 ? ctrace_reader_next(a, &ea) : ra;
        if (b)
            rb = rb == 0 || rb == 1 ? ctrace_reader_next(b, &eb) : rb;
        if (ra != 1)
            break;
        touch_event(a, ea);
        if (b) {
            if (rb != 1 || !events_eq(a, ea, b, eb))
                abort();
        }
        ra = 0;
    }
    if (b && ra != rb)
        abort();
    uint64_t off;
    const char *msg = ctrace_reader_error(a, &off);
    if (msg) {
        sink += strlen(msg);
        if (off > size)
            abort();
    }
    /* The readable prefix lies inside the input, and is the same whether
     * the input was mapped or streamed. */
    uint64_t end_a = 0, end_b = 0;
    uint64_t whole_a = ctrace_reader_complete(a, &end_a, NULL);
    if (end_a > size)
        abort();
    if (b && (ctrace_reader_complete(b, &end_b, NULL) != whole_a || end_b != end_a))
        abort();
    ctrace_reader *c = NULL;
    int rc = ctrace_reader_open_mem(data, size, 0, &c);
    while (rc >= 0 && c && (rc = ctrace_reader_check(c, 7)) == 1)
        ;
    uint64_t off_c = 0, end_c = 0;
    const char *msg_c = ctrace_reader_error(c, &off_c);
    if (rc != ra || (!msg != !msg_c) || (msg && off_c != off) ||
        ctrace_reader_event_count(c) != ctrace_reader_event_count(a) ||
        ctrace_reader_complete(c, &end_c, NULL) != whole_a || end_c != end_a)
        abort();
    ctrace_reader_close(c);
    /* The split check (two threads, split.c): the same ending again. */
    c = NULL;
    rc = ctrace_reader_open_mem(data, size, 0, &c);
    if (rc == 0 && ctrace_reader_check_threads(c, 2, 0) != 0)
        abort();
    while (rc >= 0 && c && (rc = ctrace_reader_check(c, 1000)) == 1)
        ;
    msg_c = ctrace_reader_error(c, &off_c);
    if (rc != ra || (!msg != !msg_c) || (msg && (off_c != off || strcmp(msg, msg_c))) ||
        ctrace_reader_event_count(c) != ctrace_reader_event_count(a) ||
        ctrace_reader_generation_count(c) != ctrace_reader_generation_count(a))
        abort();
    ctrace_reader_close(c);
    /* Skimming for loss records (ctrace run's reading of every trace of a
     * run): never calls a trace the full read accepts truncated. */
    c = NULL;
    rc = ctrace_reader_open_mem(data, size, 0, &c);
    if (rc == 0) {
        int rs = ctrace_reader_skim_losses(c);
        if (ra == 0 && !msg && rs != 0)
            abort();
    }
    ctrace_reader_close(c);
    ahead_vs_reference(data, size, 0);
    ahead_vs_reference(data, size, 1 + size % 97);
    ctrace_reader_close(a);
    ctrace_reader_close(b);
    if (fd >= 0)
        close(fd);
    return 0;
}
