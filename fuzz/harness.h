/*
 * harness.h - the body of every reader fuzz target (fuzz_v1.c, fuzz_v2.c).
 *
 * Reads the input fully twice -- from memory and streamed through a file
 * descriptor (no mmap) -- touching every string and stack frame each event
 * refers to, and checks that both paths agree; then a third time with the
 * check-only loop (ctrace_reader_check), which must end the same way:
 * same code, event count, error offset and readable prefix; and a fourth
 * with the split check (ctrace_reader_check_threads: the second half on a
 * thread of its own, verified), which must end as well with the same code,
 * message, offset and counts.  Any crash, hang, leak or
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

static int fuzz_one(const uint8_t *data, size_t size)
{
    ctrace_reader *a = NULL, *b = NULL;
    int ra = ctrace_reader_open_mem(data, size, 0, &a);

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
            if (rb != 1 || ea->kind != eb->kind || ea->time != eb->time || ea->offset != eb->offset)
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
    ctrace_reader_close(a);
    ctrace_reader_close(b);
    if (fd >= 0)
        close(fd);
    return 0;
}
