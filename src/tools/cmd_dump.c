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
 *
 * Names: the line of an event whose goroutine carries a label (Label
 * events: in a libctrace trace the thread's name and id, "NAME (tid N)",
 * since each thread is one goroutine) ends with gname="LABEL", the
 * goroutine's latest label; --g=NAME selects a label NAME or "NAME (tid N)".  Labels
 * are kept per live goroutine (forgotten when it ends): memory follows live
 * labelled goroutines, not events.
 *
 * Filters (--m, --g, --kind, --from/--to) only choose which lines are
 * printed; every line printed is the line the unfiltered dump prints, so a
 * filtered dump is always a subsequence of the whole one.  The label table
 * sees every event, filtered or not.  --go output is Go's and unfiltered.
 */
#include "commands.h"
#include "progress.h"
#include "threads.h"

#include "ctrace_reader.h"
#include "hash.h"
#include "must.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char help[] =
    "usage: ctrace dump [--go] [--stacks] [-j 1|2] [FILTERS] FILE\n"
    "\n"
    "Prints the events of a Go execution trace in Go's order, one per line, in the\n"
    "format described in docs/DUMP_FORMAT.md.  FILE '-' reads standard input.\n"
    "A line ends with gname=\"NAME\" when its goroutine has a label (in a\n"
    "libctrace trace: the thread's name and id, \"NAME (tid N)\", or \"tid N\").\n"
    "\n"
    "  --stacks  append the frames of each event's stack to its line\n"
    "  --go      print exactly what Go 1.23's 'go tool trace -d=1' prints\n"
    "  -j, --threads N  1: read the trace on one thread; 2 (the default with\n"
    "            more than one CPU): read it ahead on a thread of its own\n"
    "  --help    this help\n"
    "\n"
    "Filters (lines of the whole dump that match all of them; each list is\n"
    "comma-separated and matches any of its items):\n"
    "  --m=ID,...       events on thread (M) ID\n"
    "  --g=ID|NAME,...  events on goroutine ID, or whose goroutine's label is NAME\n"
    "                   (a libctrace thread's name), and state transitions of it\n"
    "  --kind=KIND,...  events of a kind as dump prints it: StateTransition,\n"
    "                   RegionBegin, Log, Label, StackSample ... (any case)\n"
    "  --from=TIME      events at or after TIME since the start of the trace\n"
    "  --to=TIME        events at or before TIME; TIME is a number with a unit:\n"
    "                   ns (the default), us, ms or s (1.5ms, 2s, 250us)\n"
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

/* ---- goroutine labels ---- */

struct labels {
    struct u64map by_g; /* goroutine -> index into names */
    struct ctrace_str *names;
    uint32_t n, cap, free_head; /* free slots chained through names[i].len */
};

static void labels_set(struct labels *l, uint64_t g, struct ctrace_str label)
{
    uint32_t v;
    char *copy = an_calloc(label.len + 1, 1);
    memcpy(copy, label.ptr, label.len);
    if (an_map_get(&l->by_g, g, &v)) {
        free((char *)l->names[v].ptr);
    } else if (l->free_head) {
        v = l->free_head - 1;
        l->free_head = (uint32_t)l->names[v].len;
        an_map_put(&l->by_g, g, v);
    } else {
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 16;
            l->names = an_realloc(l->names, l->cap * sizeof *l->names);
        }
        v = l->n++;
        an_map_put(&l->by_g, g, v);
    }
    l->names[v] = (struct ctrace_str){copy, label.len};
}

static const struct ctrace_str *labels_get(const struct labels *l, uint64_t g)
{
    uint32_t v;
    if (g == CTRACE_NO_ID || !an_map_get(&l->by_g, g, &v))
        return NULL;
    return &l->names[v];
}

static void labels_drop(struct labels *l, uint64_t g)
{
    uint32_t v;
    if (!an_map_get(&l->by_g, g, &v))
        return;
    free((char *)l->names[v].ptr);
    l->names[v].ptr = NULL;
    l->names[v].len = l->free_head;
    l->free_head = v + 1;
    u64map_del(&l->by_g, g, NULL);
}

static void labels_free(struct labels *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->names[i].ptr)
            free((char *)l->names[i].ptr);
    free(l->names);
    u64map_free(&l->by_g);
}

/* ---- filters ---- */

#define MAX_FILTER_ITEMS 64

struct filter {
    uint64_t m[MAX_FILTER_ITEMS];
    size_t nm;
    uint64_t g[MAX_FILTER_ITEMS];
    size_t ng;
    const char *gname[MAX_FILTER_ITEMS];
    size_t ngname;
    int kind[CTRACE_EV_KIND_COUNT];
    int have_kind;
    int64_t from, to; /* since_start, inclusive */
};

static int in_list(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Whether label s is name, or libctrace's label of a thread named name:
 * "NAME (tid N)" (docs/FORMAT.md, labels). */
static int name_is(const struct ctrace_str *s, const char *name)
{
    size_t n = strlen(name);
    if (!s || s->len < n || memcmp(s->ptr, name, n) != 0)
        return 0;
    if (s->len == n)
        return 1;
    static const char tid[] = " (tid ";
    size_t i = n + sizeof tid - 1;
    if (s->len <= i + 1 || memcmp(s->ptr + n, tid, sizeof tid - 1) != 0 || s->ptr[s->len - 1] != ')')
        return 0;
    for (; i < s->len - 1; i++)
        if (s->ptr[i] < '0' || s->ptr[i] > '9')
            return 0;
    return 1;
}

static int matches(const struct filter *fl, const struct labels *l, const struct ctrace_event *e)
{
    if (e->since_start < fl->from || e->since_start > fl->to)
        return 0;
    if (fl->have_kind && !((unsigned)e->kind < CTRACE_EV_KIND_COUNT && fl->kind[e->kind]))
        return 0;
    if (fl->nm && !in_list(fl->m, fl->nm, e->m))
        return 0;
    if (fl->ng || fl->ngname) {
        uint64_t subject = e->kind == CTRACE_EV_STATE_TRANSITION &&
                                   e->u.transition.resource == CTRACE_RES_GOROUTINE
                               ? e->u.transition.id
                               : CTRACE_NO_ID;
        int hit = in_list(fl->g, fl->ng, e->g) ||
                  (subject != CTRACE_NO_ID && in_list(fl->g, fl->ng, subject));
        for (size_t i = 0; !hit && i < fl->ngname; i++)
            hit = name_is(labels_get(l, e->g), fl->gname[i]) ||
                  (subject != CTRACE_NO_ID && name_is(labels_get(l, subject), fl->gname[i]));
        if (!hit)
            return 0;
    }
    return 1;
}

/* "1.5ms" -> 1500000; units ns (default), us, ms, s.  -1 if malformed. */
static int64_t parse_time(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) /* also rejects NaN */
        return -1;
    double mul;
    if (!*end || !strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "us") || !strcmp(end, "\xc2\xb5s"))
        mul = 1e3;
    else if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "s"))
        mul = 1e9;
    else
        return -1;
    v *= mul;
    if (v > 9.2e18)
        return -1;
    return (int64_t)(v + 0.5);
}

/* Splits a comma-separated list in place; calls add for each item; returns
 * 0, or -1 (with a message) if an item is rejected or there are too many. */
static int each_item(char *list, const char *opt, int (*add)(struct filter *, char *),
                     struct filter *fl)
{
    for (char *save = NULL, *it = strtok_r(list, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        if (add(fl, it) < 0) {
            fprintf(stderr, "ctrace dump: bad %s item '%s'\n", opt, it);
            return -1;
        }
    }
    return 0;
}

static int parse_id(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static int add_m(struct filter *fl, char *it)
{
    if (fl->nm == MAX_FILTER_ITEMS || parse_id(it, &fl->m[fl->nm]) < 0)
        return -1;
    fl->nm++;
    return 0;
}

static int add_g(struct filter *fl, char *it)
{
    if (parse_id(it, &fl->g[fl->ng]) == 0)
        return fl->ng < MAX_FILTER_ITEMS - 1 ? (fl->ng++, 0) : -1;
    if (fl->ngname == MAX_FILTER_ITEMS || !*it)
        return -1;
    fl->gname[fl->ngname++] = it;
    return 0;
}

static int add_kind(struct filter *fl, char *it)
{
    for (int k = 1; k < CTRACE_EV_KIND_COUNT; k++) {
        if (!strcasecmp(it, ctrace_event_kind_name((enum ctrace_event_kind)k))) {
            fl->kind[k] = 1;
            fl->have_kind = 1;
            return 0;
        }
    }
    return -1;
}

/* ctrace's line format (docs/DUMP_FORMAT.md). */
static void id(FILE *f, const char *k, uint64_t v)
{
    if (v == CTRACE_NO_ID)
        fprintf(f, " %s=-", k);
    else
        fprintf(f, " %s=%" PRIu64, k, v);
}

static void print_line(FILE *f, ctrace_reader *r, const struct ctrace_event *e, int stacks,
                       const struct ctrace_str *gname)
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
    if (gname) {
        fputs(" gname=", f);
        quote(f, *gname);
    }
    putc('\n', f);
}

int cmd_dump(int argc, char **argv)
{
    int go = 0, stacks = 0, filtered = 0;
    unsigned threads = tool_read_threads();
    const char *path = NULL;
    struct filter fl;
    memset(&fl, 0, sizeof fl);
    fl.to = INT64_MAX;
    for (int i = 1; i < argc; i++) {
        /* --opt=VALUE or --opt VALUE */
        static const char *const valued[] = {"--m", "--g", "--kind", "--from", "--to"};
        const char *opt = NULL;
        char *val = NULL;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) {
            size_t l = strlen(valued[k]);
            if (!strncmp(argv[i], valued[k], l) && (argv[i][l] == '=' || !argv[i][l])) {
                opt = valued[k];
                if (argv[i][l] == '=')
                    val = argv[i] + l + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                break;
            }
        }
        if (opt) {
            if (!val || !*val) {
                fprintf(stderr, "ctrace dump: %s needs a value\n%s", opt, help);
                return 2;
            }
            filtered = 1;
            int bad = 0;
            if (!strcmp(opt, "--m"))
                bad = each_item(val, opt, add_m, &fl);
            else if (!strcmp(opt, "--g"))
                bad = each_item(val, opt, add_g, &fl);
            else if (!strcmp(opt, "--kind"))
                bad = each_item(val, opt, add_kind, &fl);
            else {
                int64_t t = parse_time(val);
                if (t < 0) {
                    fprintf(stderr, "ctrace dump: bad %s time '%s' (a number with ns, us, ms or s)\n",
                            opt, val);
                    return 2;
                }
                if (!strcmp(opt, "--from"))
                    fl.from = t;
                else
                    fl.to = t;
            }
            if (bad)
                return 2;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--go")) {
            go = 1;
        } else if (!strcmp(argv[i], "--stacks")) {
            stacks = 1;
        } else if ((!strcmp(argv[i], "-j") || !strcmp(argv[i], "--threads")) && i + 1 < argc) {
            if (tool_parse_threads("dump", argv[++i], &threads) < 0)
                return 2;
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
    if (go && filtered) {
        fprintf(stderr, "ctrace dump: --go prints Go's whole dump: no filters with it\n");
        return 2;
    }
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    ctrace_reader *r = NULL;
    int rc = ctrace_reader_open(path, 0, &r);
    if (rc == 0)
        ctrace_reader_read_ahead(r, threads);
    if (rc == CTRACE_READER_EOPEN) {
        fprintf(stderr, "ctrace dump: %s: cannot open: %s\n", name, strerror(errno));
        return 1;
    }
    struct progress pg;
    progress_init(&pg, name);
    const struct ctrace_event *e;
    unsigned long long n = 0;
    struct labels labels;
    memset(&labels, 0, sizeof labels);
    if (rc == 0) {
        while ((rc = ctrace_reader_next(r, &e)) == 1) {
            if (e->kind == CTRACE_EV_LABEL && e->g != CTRACE_NO_ID)
                labels_set(&labels, e->g, e->u.label.label);
            if (go)
                print_go(stdout, r, e);
            else if (!filtered || matches(&fl, &labels, e))
                print_line(stdout, r, e, stacks, labels_get(&labels, e->g));
            if (e->kind == CTRACE_EV_STATE_TRANSITION &&
                e->u.transition.resource == CTRACE_RES_GOROUTINE &&
                e->u.transition.to == CTRACE_STATE_NOTEXIST)
                labels_drop(&labels, e->u.transition.id);
            progress_tick(&pg, r, ++n);
        }
    }
    labels_free(&labels);
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
