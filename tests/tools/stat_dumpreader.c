/*
 * stat_dumpreader.c - a stand-in for the ctrace reader library, for testing
 * `ctrace stat` against Go's own parser alone.
 *
 * It implements the part of include/ctrace_reader.h that cmd_stat.c uses by
 * running Go 1.23's `go tool trace -d=1 FILE` (the toolchain is local) and
 * parsing its text: one "M=.. P=.. G=.. Kind Time=.. fields" line per event,
 * followed by "TransitionStack=" / "Stack=" blocks of frames.  Linked with
 * cmd_stat.c into stat_dumpreader_test, it lets the stat tests tell a bug in
 * stat's accounting from a bug in ctrace's reader: the same checks run with
 * both readers.
 *
 * GOTRACE_GO overrides the go binary (default /usr/lib/go-1.23/bin/go).
 * Only files can be read (no stdin).  Not part of any shipped library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrace_reader.h"

struct fstack {
    struct ctrace_frame *frames;
    size_t n, cap;
    uint64_t id;
    char **owned; /* strings of the frames */
    size_t nowned, capowned;
};

struct ctrace_reader {
    FILE *pipe;
    int version;
    char *line;
    size_t linecap;
    int have_line; /* line holds the next event line already */
    int eof;
    int err;
    char errmsg[512];
    uint64_t nevents, ngens, next_stack;
    struct ctrace_event ev;
    struct fstack stk[2]; /* 0: event stack, 1: transition stack */
    /* Strings of the events of the current generation: kept until its
     * end, as the header's lifetime rule says (stat trusts a string's
     * address within its generation: addrmemo.h). */
    char **strs;
    size_t nstrs, capstrs;
    char errfile[64];
};

const char *ctrace_reader_strerror(int err)
{
    switch (err) {
    case CTRACE_READER_OK: return "ok";
    case CTRACE_READER_EOPEN: return "cannot open";
    case CTRACE_READER_EVERSION: return "not a Go trace or unsupported version";
    case CTRACE_READER_EINVALID: return "invalid trace";
    default: return "error";
    }
}

const char *ctrace_event_kind_name(enum ctrace_event_kind k)
{
    static const char *const names[] = {"Bad", "Sync", "Metric", "Label", "StackSample",
                                        "RangeBegin", "RangeActive", "RangeEnd", "TaskBegin",
                                        "TaskEnd", "RegionBegin", "RegionEnd", "Log",
                                        "StateTransition", "Experimental"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "Bad";
}

const char *ctrace_state_name(enum ctrace_state s)
{
    static const char *const names[] = {"Bad", "Undetermined", "NotExist", "Runnable",
                                        "Running", "Waiting", "Syscall", "Idle"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "Bad";
}

const char *ctrace_resource_kind_name(enum ctrace_resource_kind k)
{
    static const char *const names[] = {"None", "Goroutine", "Proc", "Thread"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "Bad";
}

int ctrace_reader_open(const char *path, unsigned flags, ctrace_reader **out)
{
    (void)flags;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CTRACE_READER_EOPEN;
    char hdr[17] = {0};
    size_t n = fread(hdr, 1, 16, f);
    fclose(f);
    int minor;
    if (n < 16 || sscanf(hdr, "go 1.%d trace", &minor) != 1)
        return CTRACE_READER_EVERSION;
    ctrace_reader *r = calloc(1, sizeof *r);
    r->version = 100 + minor;
    const char *go = getenv("GOTRACE_GO");
    if (!go || !*go)
        go = "/usr/lib/go-1.23/bin/go";
    snprintf(r->errfile, sizeof r->errfile, "/tmp/stat_dumpreader.%d.err", (int)getpid());
    char *cmd;
    if (asprintf(&cmd, "GOTOOLCHAIN=local '%s' tool trace -d=1 '%s' 2>%s", go, path, r->errfile) < 0)
        abort();
    r->pipe = popen(cmd, "r");
    free(cmd);
    if (!r->pipe) {
        free(r);
        return CTRACE_READER_EOPEN;
    }
    *out = r;
    return 0;
}

void ctrace_reader_close(ctrace_reader *r)
{
    if (!r)
        return;
    if (r->pipe)
        pclose(r->pipe);
    unlink(r->errfile);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < r->stk[k].nowned; i++)
            free(r->stk[k].owned[i]);
        free(r->stk[k].owned);
        free(r->stk[k].frames);
    }
    free(r->line);
    for (size_t i = 0; i < r->nstrs; i++)
        free(r->strs[i]);
    free(r->strs);
    free(r);
}

int ctrace_reader_version(const ctrace_reader *r) { return r->version; }

/* The stand-in reads on the caller's thread whatever is asked. */
int ctrace_reader_read_ahead(ctrace_reader *r, unsigned threads) { return r && threads ? 0 : -100; }

/* Go's dump does not show unreferenced strings, where libctrace's loss
 * records are: none seen (the fixtures are Go's traces, which have none). */
void ctrace_reader_losses(const ctrace_reader *r, struct ctrace_losses *out)
{
    (void)r;
    memset(out, 0, sizeof *out);
}

const char *ctrace_reader_error(const ctrace_reader *r, uint64_t *offset)
{
    if (offset)
        *offset = 0;
    return r->err ? r->errmsg : NULL;
}

size_t ctrace_reader_stack(ctrace_reader *r, uint64_t stack, const struct ctrace_frame **frames)
{
    for (int k = 0; k < 2; k++) {
        if (stack != CTRACE_NO_STACK && r->stk[k].id == stack && r->stk[k].n) {
            *frames = r->stk[k].frames;
            return r->stk[k].n;
        }
    }
    *frames = NULL;
    return 0;
}

static int read_line(ctrace_reader *r)
{
    ssize_t n = getline(&r->line, &r->linecap, r->pipe);
    if (n < 0)
        return 0;
    if (n > 0 && r->line[n - 1] == '\n')
        r->line[n - 1] = '\0';
    return 1;
}

/* Value of a Go-quoted field name="..." in line (basic unescaping). */
static char *qfield(const char *line, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(line, key);
    if (!p)
        return strdup("");
    p += strlen(key);
    char *out = malloc(strlen(p) + 1), *o = out;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n': *o++ = '\n'; break;
            case 't': *o++ = '\t'; break;
            default: *o++ = *p; break;
            }
            p++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static uint64_t nfield(const char *line, const char *name, uint64_t dflt)
{
    char key[64];
    snprintf(key, sizeof key, " %s=", name);
    const char *p = strstr(line, key);
    if (!p)
        return dflt;
    p += strlen(key);
    if (*p == '-')
        return CTRACE_NO_ID;
    return strtoull(p, NULL, 10);
}

static enum ctrace_state parse_state(const char *s, size_t n)
{
    static const struct { const char *name; enum ctrace_state st; } t[] = {
        {"Undetermined", CTRACE_STATE_UNDETERMINED}, {"NotExist", CTRACE_STATE_NOTEXIST},
        {"Runnable", CTRACE_STATE_RUNNABLE},         {"Running", CTRACE_STATE_RUNNING},
        {"Waiting", CTRACE_STATE_WAITING},           {"Syscall", CTRACE_STATE_SYSCALL},
        {"Idle", CTRACE_STATE_IDLE}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
            return t[i].st;
    return CTRACE_STATE_BAD;
}

static void stack_reset(struct fstack *s)
{
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    s->nowned = 0;
    s->n = 0;
    s->id = CTRACE_NO_STACK;
}

static char *own(struct fstack *s, const char *p, size_t n)
{
    if (s->nowned == s->capowned) {
        s->capowned = s->capowned ? s->capowned * 2 : 16;
        s->owned = realloc(s->owned, s->capowned * sizeof *s->owned);
    }
    char *c = strndup(p, n);
    s->owned[s->nowned++] = c;
    return c;
}

/* Reads the frames after a "Stack=" line until a blank line. */
static void read_frames(ctrace_reader *r, struct fstack *s)
{
    stack_reset(s);
    while (read_line(r)) {
        const char *l = r->line;
        if (l[0] == '\0')
            break;
        if (l[0] == '\t' && l[1] != '\t') {
            const char *at = strstr(l, " @ 0x");
            if (!at)
                continue;
            if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 16;
                s->frames = realloc(s->frames, s->cap * sizeof *s->frames);
            }
            struct ctrace_frame *f = &s->frames[s->n++];
            memset(f, 0, sizeof *f);
            f->func.ptr = own(s, l + 1, (size_t)(at - l - 1));
            f->func.len = (size_t)(at - l - 1);
            f->pc = strtoull(at + 5, NULL, 16);
            f->file.ptr = "";
        } else if (l[0] == '\t' && l[1] == '\t' && s->n) {
            const char *colon = strrchr(l, ':');
            struct ctrace_frame *f = &s->frames[s->n - 1];
            size_t n = colon ? (size_t)(colon - l - 2) : strlen(l + 2);
            f->file.ptr = own(s, l + 2, n);
            f->file.len = n;
            f->line = colon ? strtoull(colon + 1, NULL, 10) : 0;
        }
    }
    if (s->n)
        s->id = ++r->next_stack;
}

/* An event's string v (malloc'ed), kept until the generation ends. */
static struct ctrace_str mkstr(ctrace_reader *r, char *v)
{
    if (r->nstrs == r->capstrs) {
        r->capstrs = r->capstrs ? r->capstrs * 2 : 64;
        r->strs = realloc(r->strs, r->capstrs * sizeof *r->strs);
        if (!r->strs)
            abort();
    }
    r->strs[r->nstrs++] = v;
    return (struct ctrace_str){v, strlen(v)};
}

static int fail(ctrace_reader *r)
{
    FILE *f = fopen(r->errfile, "r");
    size_t n = f ? fread(r->errmsg, 1, sizeof r->errmsg - 1, f) : 0;
    if (f)
        fclose(f);
    r->errmsg[n] = '\0';
    if (n && r->errmsg[n - 1] == '\n')
        r->errmsg[n - 1] = '\0';
    r->err = CTRACE_READER_EINVALID;
    return r->err;
}

int ctrace_reader_next(ctrace_reader *r, const struct ctrace_event **out)
{
    if (r->err)
        return r->err;
    if (r->eof)
        return 0;
    if (!r->have_line) {
        do {
            if (!read_line(r)) {
                r->eof = 1;
                int st = pclose(r->pipe);
                r->pipe = NULL;
                if (st != 0)
                    return fail(r);
                return 0;
            }
        } while (strncmp(r->line, "M=", 2) != 0);
    }
    r->have_line = 0;
    char *line = strdup(r->line);

    struct ctrace_event *ev = &r->ev;
    memset(ev, 0, sizeof *ev);
    {
        long long m, p, g;
        char kind[64];
        long long t;
        if (sscanf(line, "M=%lld P=%lld G=%lld %63s Time=%lld", &m, &p, &g, kind, &t) != 5) {
            free(line);
            snprintf(r->errmsg, sizeof r->errmsg, "unparsable dump line");
            return r->err = CTRACE_READER_EFORMAT;
        }
        ev->m = m < 0 ? CTRACE_NO_ID : (uint64_t)m;
        ev->p = p < 0 ? CTRACE_NO_ID : (uint64_t)p;
        ev->g = g < 0 ? CTRACE_NO_ID : (uint64_t)g;
        ev->time = t;
        static const char *const names[] = {"Bad", "Sync", "Metric", "Label", "StackSample",
                                            "RangeBegin", "RangeActive", "RangeEnd", "TaskBegin",
                                            "TaskEnd", "RegionBegin", "RegionEnd", "Log",
                                            "StateTransition", "Experimental"};
        ev->kind = CTRACE_EV_BAD;
        for (int k = 0; k < CTRACE_EV_KIND_COUNT; k++)
            if (strcmp(kind, names[k]) == 0)
                ev->kind = (enum ctrace_event_kind)k;
    }
    if (ev->kind == CTRACE_EV_SYNC) {
        r->ngens++;
        /* A new generation: the strings of the last one are done with. */
        for (size_t i = 0; i < r->nstrs; i++)
            free(r->strs[i]);
        r->nstrs = 0;
    }
    ev->generation = r->ngens ? r->ngens : 1;

    /* Stacks follow until the next event line. */
    stack_reset(&r->stk[0]);
    stack_reset(&r->stk[1]);
    while (read_line(r)) {
        if (strncmp(r->line, "M=", 2) == 0) {
            r->have_line = 1;
            break;
        }
        if (strcmp(r->line, "Stack=") == 0)
            read_frames(r, &r->stk[0]);
        else if (strcmp(r->line, "TransitionStack=") == 0)
            read_frames(r, &r->stk[1]);
    }
    ev->stack = r->stk[0].id;

    switch (ev->kind) {
    case CTRACE_EV_STATE_TRANSITION: {
        ev->u.transition.resource =
            strstr(line, " Resource=Goroutine(") ? CTRACE_RES_GOROUTINE : CTRACE_RES_PROC;
        ev->u.transition.id = ev->u.transition.resource == CTRACE_RES_GOROUTINE
                                  ? nfield(line, "GoID", 0)
                                  : nfield(line, "ProcID", 0);
        ev->u.transition.reason = mkstr(r, qfield(line, "Reason"));
        const char *arrow = strstr(line, "->");
        const char *sp = arrow;
        while (sp > line && sp[-1] != ' ')
            sp--;
        ev->u.transition.from = parse_state(sp, (size_t)(arrow - sp));
        ev->u.transition.to = parse_state(arrow + 2, strlen(arrow + 2));
        ev->u.transition.stack = r->stk[1].id;
        break;
    }
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        ev->u.task.id = nfield(line, "ID", 0);
        ev->u.task.parent = nfield(line, "Parent", CTRACE_NO_ID);
        ev->u.task.name = mkstr(r, qfield(line, "Type"));
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        ev->u.region.task = nfield(line, "Task", 0);
        ev->u.region.name = mkstr(r, qfield(line, "Type"));
        break;
    case CTRACE_EV_LOG:
        ev->u.log.task = nfield(line, "Task", 0);
        ev->u.log.category = mkstr(r, qfield(line, "Category"));
        ev->u.log.message = mkstr(r, qfield(line, "Message"));
        break;
    case CTRACE_EV_LABEL:
        ev->u.label.label = mkstr(r, qfield(line, "Label"));
        break;
    case CTRACE_EV_METRIC:
        ev->u.metric.name = mkstr(r, qfield(line, "Name"));
        {
            const char *v = strstr(line, "Value=Uint64(");
            ev->u.metric.value = v ? strtoull(v + 13, NULL, 10) : 0;
        }
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        ev->u.range.name = mkstr(r, qfield(line, "Name"));
        break;
    case CTRACE_EV_SYNC:
        ev->u.sync.gen = r->ngens;
        break;
    default:
        break;
    }
    free(line);
    r->nevents++;
    *out = ev;
    return 1;
}
