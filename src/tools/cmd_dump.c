/*
 * cmd_dump.c - `ctrace dump FILE`: print every event of a trace.
 *
 * Two formats:
 *  - the default, ctrace's own line format, one event per line, documented
 *    in docs/DUMP_FORMAT.md (stable: scripts may parse it);
 *  - --go: byte for byte what Go 1.23's `go tool trace -d=1` prints (Go's
 *    Event.String(), stacks on following lines), so the two parsers can be
 *    compared with diff.
 * Output is buffered in large blocks; nothing is allocated per event.
 */
#include "commands.h"
#include "progress.h"

#include "ctrace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: ctrace dump [--go] [--stacks] FILE\n"
    "\n"
    "Prints the events of a Go execution trace in Go's order, one per line, in the\n"
    "format described in docs/DUMP_FORMAT.md.  FILE '-' reads standard input.\n"
    "\n"
    "  --stacks  append the frames of each event's stack to its line\n"
    "  --go      print exactly what Go 1.23's 'go tool trace -d=1' prints\n"
    "  --help    this help\n"
    "\n"
    "Exit codes: 0 whole trace printed, 1 invalid or unreadable trace (the events\n"
    "before the error are printed; the error goes to stderr with its byte offset),\n"
    "2 usage error.\n";

/* Go's strconv.Quote, for the strings a trace holds: printable ASCII and
 * valid UTF-8 kept, the rest escaped. */
static void quote(FILE *f, struct ctrace_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr, *end = p + s.len;
    putc('"', f);
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x80) {
            int n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
            int ok = n && end - p >= n;
            for (int i = 1; ok && i < n; i++)
                ok = (p[i] & 0xc0) == 0x80;
            if (ok) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fprintf(f, "\\x%02x", c);
                p++;
            }
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\a': fputs("\\a", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\v': fputs("\\v", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\x%02x", c);
            else
                putc((int)c, f);
        }
        p++;
    }
    putc('"', f);
}

static void resource(FILE *f, enum ctrace_resource_kind k, uint64_t id)
{
    if (k == CTRACE_RES_NONE)
        fputs("None", f);
    else
        fprintf(f, "%s(%" PRId64 ")", ctrace_resource_kind_name(k), (int64_t)id);
}

static void go_frames(FILE *f, ctrace_reader *r, uint64_t stack, const char *title)
{
    const struct ctrace_frame *fr;
    size_t n = ctrace_reader_stack(r, stack, &fr);
    fprintf(f, "\n%s=\n", title);
    for (size_t i = 0; i < n; i++) {
        /* Raw bytes, as Go prints them: names may hold NULs. */
        putc('\t', f);
        fwrite(fr[i].func.ptr, 1, fr[i].func.len, f);
        fprintf(f, " @ 0x%" PRIx64 "\n\t\t", fr[i].pc);
        fwrite(fr[i].file.ptr, 1, fr[i].file.len, f);
        fprintf(f, ":%" PRIu64 "\n", fr[i].line);
    }
}

/* Go's Event.String() followed by a newline. */
static void print_go(FILE *f, ctrace_reader *r, const struct ctrace_event *e)
{
    fprintf(f, "M=%" PRId64 " P=%" PRId64 " G=%" PRId64 " %s Time=%" PRId64, (int64_t)e->m, (int64_t)e->p,
            (int64_t)e->g, ctrace_event_kind_name(e->kind), e->time);
    switch (e->kind) {
    case CTRACE_EV_METRIC:
        fputs(" Name=", f);
        quote(f, e->u.metric.name);
        fprintf(f, " Value=Uint64(%" PRIu64 ")", e->u.metric.value);
        break;
    case CTRACE_EV_LABEL:
        fputs(" Label=", f);
        quote(f, e->u.label.label);
        fprintf(f, " Resource=Goroutine(%" PRId64 ")", (int64_t)e->g);
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        fputs(" Name=", f);
        quote(f, e->u.range.name);
        fputs(" Scope=", f);
        resource(f, e->u.range.scope, e->u.range.scope_id);
        if (e->kind == CTRACE_EV_RANGE_END) {
            fputs(" Attributes=[", f);
            for (size_t i = 0; i < e->u.range.nattrs; i++) {
                if (i)
                    putc(' ', f);
                quote(f, e->u.range.attrs[i].name);
                fprintf(f, "=Uint64(%" PRIu64 ")", e->u.range.attrs[i].value);
            }
            putc(']', f);
        }
        break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        fprintf(f, " ID=%" PRIu64 " Parent=%" PRIu64 " Type=", e->u.task.id, e->u.task.parent);
        quote(f, e->u.task.name);
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        fprintf(f, " Task=%" PRIu64 " Type=", e->u.region.task);
        quote(f, e->u.region.name);
        break;
    case CTRACE_EV_LOG:
        fprintf(f, " Task=%" PRIu64 " Category=", e->u.log.task);
        quote(f, e->u.log.category);
        fputs(" Message=", f);
        quote(f, e->u.log.message);
        break;
    case CTRACE_EV_STATE_TRANSITION:
        fputs(" Resource=", f);
        resource(f, e->u.transition.resource, e->u.transition.id);
        fputs(" Reason=", f);
        quote(f, e->u.transition.reason);
        fprintf(f, " %s=%" PRId64 " %s->%s", e->u.transition.resource == CTRACE_RES_PROC ? "ProcID" : "GoID",
                (int64_t)e->u.transition.id, ctrace_state_name(e->u.transition.from),
                ctrace_state_name(e->u.transition.to));
        if (e->u.transition.stack)
            go_frames(f, r, e->u.transition.stack, "TransitionStack");
        break;
    case CTRACE_EV_EXPERIMENTAL:
        fprintf(f, " Name=%s ArgNames=[", e->u.experimental.name.ptr);
        for (size_t i = 0; i < e->u.experimental.nargs && e->u.experimental.arg_names; i++)
            fprintf(f, "%s%s", i ? " " : "", e->u.experimental.arg_names[i]);
        fputs("] Args=[", f);
        for (size_t i = 0; i < e->u.experimental.nargs; i++)
            fprintf(f, "%s%" PRIu64, i ? " " : "", e->u.experimental.args[i]);
        putc(']', f);
        break;
    default:
        break;
    }
    if (e->stack)
        go_frames(f, r, e->stack, "Stack");
    putc('\n', f);
}

/* ctrace's line format (docs/DUMP_FORMAT.md). */
static void id(FILE *f, const char *k, uint64_t v)
{
    if (v == CTRACE_NO_ID)
        fprintf(f, " %s=-", k);
    else
        fprintf(f, " %s=%" PRIu64, k, v);
}

static void print_line(FILE *f, ctrace_reader *r, const struct ctrace_event *e, int stacks)
{
    fprintf(f, "%" PRId64 " %s", e->since_start, ctrace_event_kind_name(e->kind));
    id(f, "M", e->m);
    id(f, "P", e->p);
    id(f, "G", e->g);
    switch (e->kind) {
    case CTRACE_EV_SYNC:
        fprintf(f, " gen=%" PRIu64, e->u.sync.gen);
        break;
    case CTRACE_EV_METRIC:
        fputs(" name=", f);
        quote(f, e->u.metric.name);
        fprintf(f, " value=%" PRIu64, e->u.metric.value);
        break;
    case CTRACE_EV_LABEL:
        fputs(" label=", f);
        quote(f, e->u.label.label);
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        fputs(" name=", f);
        quote(f, e->u.range.name);
        fprintf(f, " scope=%s", ctrace_resource_kind_name(e->u.range.scope));
        if (e->u.range.scope != CTRACE_RES_NONE)
            fprintf(f, "(%" PRId64 ")", (int64_t)e->u.range.scope_id);
        for (size_t i = 0; i < e->u.range.nattrs; i++) {
            fputs(" attr:", f);
            quote(f, e->u.range.attrs[i].name);
            fprintf(f, "=%" PRIu64, e->u.range.attrs[i].value);
        }
        break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        fprintf(f, " task=%" PRIu64, e->u.task.id);
        id(f, "parent", e->u.task.parent);
        fputs(" name=", f);
        quote(f, e->u.task.name);
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        fprintf(f, " task=%" PRIu64 " name=", e->u.region.task);
        quote(f, e->u.region.name);
        break;
    case CTRACE_EV_LOG:
        fprintf(f, " task=%" PRIu64 " category=", e->u.log.task);
        quote(f, e->u.log.category);
        fputs(" message=", f);
        quote(f, e->u.log.message);
        break;
    case CTRACE_EV_STATE_TRANSITION:
        fprintf(f, " %s=%" PRId64 " %s->%s", e->u.transition.resource == CTRACE_RES_PROC ? "proc" : "goroutine",
                (int64_t)e->u.transition.id, ctrace_state_name(e->u.transition.from),
                ctrace_state_name(e->u.transition.to));
        if (e->u.transition.reason.len) {
            fputs(" reason=", f);
            quote(f, e->u.transition.reason);
        }
        if (e->u.transition.stack)
            fprintf(f, " tstack=%" PRIu64, e->u.transition.stack);
        break;
    case CTRACE_EV_EXPERIMENTAL:
        fprintf(f, " name=%s args=", e->u.experimental.name.ptr);
        for (size_t i = 0; i < e->u.experimental.nargs; i++)
            fprintf(f, "%s%" PRIu64, i ? "," : "", e->u.experimental.args[i]);
        break;
    default:
        break;
    }
    if (e->stack)
        fprintf(f, " stack=%" PRIu64, e->stack);
    if (stacks && e->stack) {
        const struct ctrace_frame *fr;
        size_t n = ctrace_reader_stack(r, e->stack, &fr);
        fputs(" frames=[", f);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs("; ", f);
            quote(f, fr[i].func);
            fprintf(f, "@0x%" PRIx64 " ", fr[i].pc);
            quote(f, fr[i].file);
            fprintf(f, ":%" PRIu64, fr[i].line);
        }
        putc(']', f);
    }
    putc('\n', f);
}

int cmd_dump(int argc, char **argv)
{
    int go = 0, stacks = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--go")) {
            go = 1;
        } else if (!strcmp(argv[i], "--stacks")) {
            stacks = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ctrace dump: unknown option '%s'\n%s", argv[i], help);
            return 2;
        } else if (path) {
            fprintf(stderr, "ctrace dump: one FILE only\n%s", help);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fputs(help, stderr);
        return 2;
    }
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    ctrace_reader *r = NULL;
    int rc = ctrace_reader_open(path, 0, &r);
    if (rc == CTRACE_READER_EOPEN) {
        fprintf(stderr, "ctrace dump: %s: cannot open: %s\n", name, strerror(errno));
        return 1;
    }
    struct progress pg;
    progress_init(&pg, name);
    const struct ctrace_event *e;
    unsigned long long n = 0;
    if (rc == 0) {
        while ((rc = ctrace_reader_next(r, &e)) == 1) {
            if (go)
                print_go(stdout, r, e);
            else
                print_line(stdout, r, e, stacks);
            progress_tick(&pg, r, ++n);
        }
    }
    progress_done(&pg);
    fflush(stdout);
    if (rc < 0) {
        uint64_t off = 0;
        const char *msg = ctrace_reader_error(r, &off);
        fprintf(stderr, "ctrace dump: %s: error at offset %llu: %s%s\n", name, (unsigned long long)off,
                rc == CTRACE_READER_ETRUNCATED ? "truncated: " : "", msg ? msg : ctrace_reader_strerror(rc));
    }
    ctrace_reader_close(r);
    return rc < 0 ? 1 : 0;
}
