/*
 * v1.c - the v1 trace format (headers "go 1.11 trace" to "go 1.21 trace"),
 * read into the same event model as v2, with the checks and event mapping
 * of Go 1.23's parser for old traces (its oldtrace package and converter),
 * so `ctrace dump --go` prints what `go tool trace -d=1` prints.
 *
 * v1 has no generations: events of all Ps must be merged over the whole
 * trace, so the whole input is read and its events held in one array (as
 * Go does).  Steps: (1) scan every event to find each P's batches and the
 * CPU samples; (2) merge the P batches by timestamp, taking an event only
 * when its goroutine's state and sequence number allow; (3) fix syscall
 * exit times, sort, scale ticks to ns from the first event; (4) validate
 * the scheduler state machine; (5) map each event onto v2 events at
 * delivery time.
 */
#include "internal.h"
#include "strtab.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    V_NONE = 0, V_BATCH = 1, V_FREQUENCY = 2, V_STACK = 3, V_GOMAXPROCS = 4, V_PROC_START = 5,
    V_PROC_STOP = 6, V_GC_START = 7, V_GC_DONE = 8, V_STW_START = 9, V_STW_DONE = 10,
    V_SWEEP_START = 11, V_SWEEP_DONE = 12, V_GO_CREATE = 13, V_GO_START = 14, V_GO_END = 15,
    V_GO_STOP = 16, V_GO_SCHED = 17, V_GO_PREEMPT = 18, V_GO_SLEEP = 19, V_GO_BLOCK = 20,
    V_GO_UNBLOCK = 21, V_GO_BLOCK_SEND = 22, V_GO_BLOCK_RECV = 23, V_GO_BLOCK_SELECT = 24,
    V_GO_BLOCK_SYNC = 25, V_GO_BLOCK_COND = 26, V_GO_BLOCK_NET = 27, V_GO_SYSCALL = 28,
    V_GO_SYSEXIT = 29, V_GO_SYSBLOCK = 30, V_GO_WAITING = 31, V_GO_INSYSCALL = 32,
    V_HEAP_ALLOC = 33, V_HEAP_GOAL = 34, V_TIMER_GOROUTINE = 35, V_FUTILE_WAKEUP = 36,
    V_STRING = 37, V_GO_START_LOCAL = 38, V_GO_UNBLOCK_LOCAL = 39, V_GO_SYSEXIT_LOCAL = 40,
    V_GO_START_LABEL = 41, V_GO_BLOCK_GC = 42, V_MARK_ASSIST_START = 43, V_MARK_ASSIST_DONE = 44,
    V_TASK_CREATE = 45, V_TASK_END = 46, V_REGION = 47, V_LOG = 48, V_CPU_SAMPLE = 49, V_COUNT = 50
};

/* Per type: name, first version having it, has a stack arg, plain args. */
static const struct { const char *name; uint8_t minver, stack, nargs; } vdesc[V_COUNT] = {
    [V_NONE] = {"None", 5, 0, 0}, [V_BATCH] = {"Batch", 5, 0, 2}, [V_FREQUENCY] = {"Frequency", 5, 0, 1},
    [V_STACK] = {"Stack", 5, 0, 2}, [V_GOMAXPROCS] = {"Gomaxprocs", 5, 1, 1},
    [V_PROC_START] = {"ProcStart", 5, 0, 1}, [V_PROC_STOP] = {"ProcStop", 5, 0, 0},
    [V_GC_START] = {"GCStart", 5, 1, 1}, [V_GC_DONE] = {"GCDone", 5, 0, 0},
    [V_STW_START] = {"GCSTWStart", 5, 0, 1}, [V_STW_DONE] = {"GCSTWDone", 5, 0, 0},
    [V_SWEEP_START] = {"GCSweepStart", 5, 1, 0}, [V_SWEEP_DONE] = {"GCSweepDone", 5, 0, 2},
    [V_GO_CREATE] = {"GoCreate", 5, 1, 2}, [V_GO_START] = {"GoStart", 5, 0, 2},
    [V_GO_END] = {"GoEnd", 5, 0, 0}, [V_GO_STOP] = {"GoStop", 5, 1, 0},
    [V_GO_SCHED] = {"GoSched", 5, 1, 0}, [V_GO_PREEMPT] = {"GoPreempt", 5, 1, 0},
    [V_GO_SLEEP] = {"GoSleep", 5, 1, 0}, [V_GO_BLOCK] = {"GoBlock", 5, 1, 0},
    [V_GO_UNBLOCK] = {"GoUnblock", 5, 1, 2}, [V_GO_BLOCK_SEND] = {"GoBlockSend", 5, 1, 0},
    [V_GO_BLOCK_RECV] = {"GoBlockRecv", 5, 1, 0}, [V_GO_BLOCK_SELECT] = {"GoBlockSelect", 5, 1, 0},
    [V_GO_BLOCK_SYNC] = {"GoBlockSync", 5, 1, 0}, [V_GO_BLOCK_COND] = {"GoBlockCond", 5, 1, 0},
    [V_GO_BLOCK_NET] = {"GoBlockNet", 5, 1, 0}, [V_GO_SYSCALL] = {"GoSysCall", 5, 1, 0},
    [V_GO_SYSEXIT] = {"GoSysExit", 5, 0, 3}, [V_GO_SYSBLOCK] = {"GoSysBlock", 5, 0, 0},
    [V_GO_WAITING] = {"GoWaiting", 5, 0, 1}, [V_GO_INSYSCALL] = {"GoInSyscall", 5, 0, 1},
    [V_HEAP_ALLOC] = {"HeapAlloc", 5, 0, 1}, [V_HEAP_GOAL] = {"HeapGoal", 5, 0, 1},
    [V_TIMER_GOROUTINE] = {"TimerGoroutine", 5, 0, 1}, [V_FUTILE_WAKEUP] = {"FutileWakeup", 5, 0, 0},
    [V_STRING] = {"String", 7, 0, 0}, [V_GO_START_LOCAL] = {"GoStartLocal", 7, 0, 1},
    [V_GO_UNBLOCK_LOCAL] = {"GoUnblockLocal", 7, 1, 1}, [V_GO_SYSEXIT_LOCAL] = {"GoSysExitLocal", 7, 0, 2},
    [V_GO_START_LABEL] = {"GoStartLabel", 8, 0, 3}, [V_GO_BLOCK_GC] = {"GoBlockGC", 8, 1, 0},
    [V_MARK_ASSIST_START] = {"GCMarkAssistStart", 9, 1, 0}, [V_MARK_ASSIST_DONE] = {"GCMarkAssistDone", 9, 0, 0},
    [V_TASK_CREATE] = {"UserTaskCreate", 11, 1, 3}, [V_TASK_END] = {"UserTaskEnd", 11, 1, 1},
    [V_REGION] = {"UserRegion", 11, 1, 3}, [V_LOG] = {"UserLog", 11, 1, 2},
    [V_CPU_SAMPLE] = {"CPUSample", 19, 1, 3},
};

/* Fake Ps Go's old parser files some events under. */
#define FAKE_P 1000000
#define TIMER_P (FAKE_P + 1)
#define NETPOLL_P (FAKE_P + 2)
#define SYSCALL_P (FAKE_P + 3)
#define GC_P (FAKE_P + 4)
#define PROFILE_P (FAKE_P + 5)

struct vev {
    int64_t ts;
    uint64_t g;
    uint64_t args[4];
    uint32_t stk;
    int32_t p;
    uint8_t type;
};

struct vbatch { size_t off; size_t nevents; };
struct vproc {
    int32_t pid;
    struct vbatch *b; size_t nb, bcap, bnext;
    struct vev *evs; size_t nev, evcap, evpos;
    int done;
};

struct v1 {
    const uint8_t *data;
    size_t len, off;
    int ver;
    /* tables */
    struct u64map strings;               /* id -> index in strs           */
    struct { size_t off, len; } *strs; size_t nstrs, strs_cap;
    char *arena; size_t alen, acap;
    uint64_t max_str;
    struct strtab inl;                   /* inline (log) strings -> index  */
    struct u64map stacks;                /* id -> (off << 20 | n) in stkpcs */
    uint64_t *stkpcs; size_t nstkpcs, stkpcs_cap;
    struct u64map pcs;                   /* pc -> index in frames          */
    struct { uint64_t pc, fn, file; int64_t line; } *frames; size_t nframes, frames_cap;
    int64_t ticks;
    struct u64map timer_g;
    /* parse state */
    int64_t last_ts;
    uint64_t last_g;
    int32_t last_p;
    struct u64map last_gs;               /* p -> last g                   */
    struct vproc *procs; size_t nprocs, procs_cap;
    struct u64map pindex;                /* pid -> proc index             */
    struct vev *samples; size_t nsamples, samples_cap;
    /* result */
    struct vev *evs; size_t nev, evcap;
    /* conversion */
    size_t pos;
    int pre_init;
    struct u64map created_pre;           /* goroutines created before init */
    uint64_t *created_order; size_t ncreated, created_cap;
    struct u64map seen_procs, proc_ms, tasks;
    struct { uint64_t parent; size_t off, len; } *task_v; size_t ntask, task_cap;
    uint64_t last_stw;
    uint64_t builtin_base, inline_base;
    struct rev extra[3];
    unsigned nextra, extra_pos;
};

static int fail(struct ctrace_reader *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctrace_reader *r, uint64_t off, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rd_fail(r, CTRACE_READER_EINVALID, off, "%s", msg);
}

static int nomem(struct ctrace_reader *r) { return rd_fail(r, CTRACE_READER_ENOMEM, 0, "out of memory"); }

/* Go's binary.Uvarint on data[off:]: 0 ok, -1 malformed/short. */
static int uvar(const uint8_t *p, const uint8_t *end, uint64_t *v, size_t *n)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p + i >= end)
            return -1;
        uint8_t b = p[i];
        if (b < 0x80) {
            if (i == 9 && b > 1)
                return -1;
            *v = x | (uint64_t)b << (7 * i);
            *n = i + 1;
            return 0;
        }
        x |= (uint64_t)(b & 0x7f) << (7 * i);
    }
    return -1;
}

static int read_val(struct v1 *v, uint64_t *out)
{
    size_t n;
    if (uvar(v->data + v->off, v->data + v->len, out, &n) < 0)
        return -1;
    v->off += n;
    return 0;
}

/* ---- raw events ---- */

#define SKIP_ARGS 1
#define SKIP_STRINGS 2
#define MAX_RAW_ARGS 2100

struct raw {
    uint8_t typ;
    size_t nargs;
    uint64_t args[MAX_RAW_ARGS];
    int32_t batch_pid;
    size_t batch_off;
    const uint8_t *sarg;
    size_t sarg_len;
};

static const char *malformed = "malformatted base-128 varint";

static int add_string(struct ctrace_reader *r, struct v1 *v, uint64_t id, const uint8_t *s, size_t len)
{
    if (RESERVE(v->arena, v->alen + len + 1, v->acap) < 0 || GROW(v->strs, v->nstrs, v->strs_cap) < 0 ||
        u64map_put(&v->strings, id, v->nstrs) < 0)
        return nomem(r);
    if (len)
        memcpy(v->arena + v->alen, s, len);
    v->arena[v->alen + len] = 0;
    v->strs[v->nstrs].off = v->alen;
    v->strs[v->nstrs].len = len;
    v->nstrs++;
    v->alen += len + 1;
    if (id > v->max_str)
        v->max_str = id;
    return 0;
}

/* Returns 0 (event read), 1 (end of input, clean), or an error code. */
static int read_raw(struct ctrace_reader *r, struct v1 *v, unsigned flags, struct raw *ev)
{
    if (v->off >= v->len)
        return 1;
    size_t start = v->off;
    uint8_t b = v->data[v->off++];
    uint8_t typ = b & 0x3f;
    unsigned narg = (b >> 6) + 1;
    if (typ == V_NONE || typ >= V_COUNT || vdesc[typ].minver > v->ver)
        return fail(r, start, "unknown event type %u", typ);
    ev->nargs = 0;
    ev->sarg = NULL;
    ev->sarg_len = 0;
    uint64_t x;
    if (typ == V_STRING) {
        uint64_t id, ln;
        if (flags & SKIP_STRINGS) {
            if (read_val(v, &id) < 0)
                return fail(r, start, "%s", malformed);
            if (read_val(v, &ln) < 0)
                return fail(r, start, "%s", malformed);
            if (ln > v->len - v->off)
                return fail(r, start, "failed to read trace: EOF");
            v->off += ln;
        } else {
            if (read_val(v, &id) < 0)
                return fail(r, start, "%s", malformed);
            if (id == 0)
                return fail(r, start, "string has invalid id 0");
            uint64_t *have = u64map_get(&v->strings, id);
            if (have && v->strs[*have].len != 0)
                return fail(r, start, "string has duplicate id %llu", (unsigned long long)id);
            if (read_val(v, &ln) < 0)
                return fail(r, start, "%s", malformed);
            if (ln == 0)
                return fail(r, start, "string has invalid length 0");
            if (ln > 1000000)
                return fail(r, start, "string has too large length %llu", (unsigned long long)ln);
            if (v->off >= v->len || ln > v->len - v->off)
                return fail(r, start, "failed to read trace: unexpected EOF");
            int e = add_string(r, v, id, v->data + v->off, (size_t)ln);
            if (e < 0)
                return e;
            v->off += ln;
        }
        ev->typ = V_NONE;
        return 0;
    }
    if (typ == V_BATCH) {
        if (narg != 2)
            return fail(r, start, "EvBatch has wrong number of arguments: got %u, want 2", narg);
        uint64_t pid, ticks;
        if (read_val(v, &pid) < 0 || read_val(v, &ticks) < 0)
            return fail(r, start, "%s", malformed);
        if (pid != UINT64_MAX && pid > INT32_MAX)
            return fail(r, start, "processor ID %llu is larger than maximum", (unsigned long long)pid);
        ev->typ = V_BATCH;
        ev->batch_pid = pid == UINT64_MAX ? -1 : (int32_t)pid;
        ev->batch_off = start;
        ev->args[0] = pid;
        ev->args[1] = ticks;
        ev->nargs = 2;
        return 0;
    }
    ev->typ = typ;
    if (narg <= 3) {
        for (unsigned i = 0; i < narg; i++) {
            if (read_val(v, &x) < 0)
                return fail(r, start, "failed to read event %u argument: %s", typ, malformed);
            if (!(flags & SKIP_ARGS))
                ev->args[ev->nargs++] = x;
        }
        return 0;
    }
    uint64_t ln;
    if (read_val(v, &ln) < 0)
        return fail(r, start, "failed to read event %u argument: %s", typ, malformed);
    if (ln > 2048)
        return fail(r, start, "failed to read event %u argument: length-prefixed argument too big: %llu bytes, limit is 2048",
                    typ, (unsigned long long)ln);
    if (!(flags & SKIP_ARGS) || typ == V_CPU_SAMPLE) {
        if (v->off >= v->len || ln > v->len - v->off)
            return fail(r, start, "failed to read trace: unexpected EOF");
        const uint8_t *p = v->data + v->off, *end = p + ln;
        v->off += ln;
        while (p < end) {
            size_t n;
            if (uvar(p, end, &x, &n) < 0)
                return fail(r, start, "%s", malformed);
            ev->args[ev->nargs++] = x; /* <= 2048 values: one byte each at least */
            p += n;
        }
    } else {
        if (ln > v->len - v->off)
            return fail(r, start, "failed to read trace: EOF");
        v->off += ln;
    }
    if (typ == V_LOG) {
        uint64_t sz;
        if (!(flags & SKIP_ARGS)) {
            if (read_val(v, &sz) < 0)
                return fail(r, start, "%s", malformed);
            if (sz > 1000000)
                return fail(r, start, "string is too large (len=%llu)", (unsigned long long)sz);
            if (sz && (v->off >= v->len || sz > v->len - v->off))
                return fail(r, start, "failed to read trace: unexpected EOF");
            ev->sarg = v->data + v->off;
            ev->sarg_len = sz;
            v->off += sz;
        } else {
            if (read_val(v, &sz) < 0)
                return fail(r, start, "%s", malformed);
            if (sz > v->len - v->off)
                return 1; /* Go's scan takes this for the end of the trace */
            v->off += sz;
        }
    }
    return 0;
}

static unsigned arg_num(const struct raw *raw)
{
    if (raw->typ == V_STACK)
        return (unsigned)raw->nargs;
    unsigned n = vdesc[raw->typ].nargs + vdesc[raw->typ].stack;
    if (raw->typ == V_BATCH || raw->typ == V_FREQUENCY || raw->typ == V_TIMER_GOROUTINE)
        return n;
    return n + 1;
}

static struct vproc *proc_of(struct ctrace_reader *r, struct v1 *v, int32_t pid)
{
    uint64_t *i = u64map_get(&v->pindex, (uint64_t)(int64_t)pid);
    if (i)
        return &v->procs[*i];
    if (GROW(v->procs, v->nprocs, v->procs_cap) < 0 ||
        u64map_put(&v->pindex, (uint64_t)(int64_t)pid, v->nprocs) < 0) {
        nomem(r);
        return NULL;
    }
    struct vproc *p = &v->procs[v->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    return p;
}

/* Pass 1: where each P's batches are, and the CPU samples. */
static int collect(struct ctrace_reader *r, struct v1 *v, struct raw *raw)
{
    int32_t cur = 0;
    int have_cur = 0;
    for (;;) {
        size_t start = v->off;
        int rc = read_raw(r, v, SKIP_ARGS | SKIP_STRINGS, raw);
        if (rc == 1)
            break;
        if (rc < 0)
            return rc;
        if (raw->typ == V_NONE)
            continue;
        if (raw->typ == V_BATCH) {
            struct vproc *p = proc_of(r, v, raw->batch_pid);
            if (!p || GROW(p->b, p->nb, p->bcap) < 0)
                return nomem(r);
            p->b[p->nb++] = (struct vbatch){raw->batch_off, 0};
            cur = raw->batch_pid;
            have_cur = 1;
        }
        uint64_t *pi = have_cur ? u64map_get(&v->pindex, (uint64_t)(int64_t)cur) : NULL;
        if (!pi || v->procs[*pi].nb == 0)
            return fail(r, start, "read event %u with current P of %d, but P has no batches yet", raw->typ, cur);
        struct vproc *p = &v->procs[*pi];
        p->b[p->nb - 1].nevents++;
        if (raw->typ == V_CPU_SAMPLE) {
            if (raw->nargs != 5)
                return fail(r, start, "CPU sample has wrong number of arguments: want 5, got %zu", raw->nargs);
            if (GROW(v->samples, v->nsamples, v->samples_cap) < 0)
                return nomem(r);
            struct vev *e = &v->samples[v->nsamples++];
            memset(e, 0, sizeof *e);
            e->type = V_CPU_SAMPLE;
            e->stk = (uint32_t)raw->args[4];
            e->ts = (int64_t)raw->args[1];
            e->p = (int32_t)raw->args[2];
            e->g = raw->args[3];
            e->args[1] = raw->args[2];
            e->args[2] = raw->args[3];
        }
    }
    return 0;
}

/* ---- pass 2: batches to events, merged in a consistent order ---- */

static int parse_event(struct ctrace_reader *r, struct v1 *v, const struct raw *raw, struct vev *ev, size_t at)
{
    unsigned narg = arg_num(raw);
    if (raw->nargs != narg)
        return fail(r, at, "%s has wrong number of arguments: want %u, got %zu", vdesc[raw->typ].name, narg,
                    raw->nargs);
    ev->type = V_NONE;
    switch (raw->typ) {
    case V_BATCH: {
        if (u64map_put(&v->last_gs, (uint64_t)(int64_t)v->last_p, v->last_g) < 0)
            return nomem(r);
        v->last_p = raw->args[0] == UINT64_MAX ? -1 : (int32_t)raw->args[0];
        uint64_t *lg = u64map_get(&v->last_gs, (uint64_t)(int64_t)v->last_p);
        v->last_g = lg ? *lg : 0;
        v->last_ts = (int64_t)raw->args[1];
        return 0;
    }
    case V_FREQUENCY:
        v->ticks = (int64_t)raw->args[0];
        if (v->ticks <= 0)
            return fail(r, at, "time stamps out of order");
        return 0;
    case V_TIMER_GOROUTINE:
        return u64map_put(&v->timer_g, raw->args[0], 1) < 0 ? nomem(r) : 0;
    case V_STACK: {
        if (raw->nargs < 2)
            return fail(r, at, "EvStack has wrong number of arguments");
        uint64_t size = raw->args[1];
        if (size > 1000)
            return fail(r, at, "EvStack has bad number of frames: %llu", (unsigned long long)size);
        if (raw->nargs != 2 + 4 * size)
            return fail(r, at, "EvStack has wrong number of arguments: want %llu, got %zu",
                        (unsigned long long)(2 + 4 * size), raw->nargs);
        uint32_t id = (uint32_t)raw->args[0];
        if (id != 0 && size > 0) {
            size_t off = v->nstkpcs;
            for (uint64_t i = 0; i < size; i++) {
                uint64_t pc = raw->args[2 + i * 4];
                if (GROW(v->stkpcs, v->nstkpcs, v->stkpcs_cap) < 0)
                    return nomem(r);
                v->stkpcs[v->nstkpcs++] = pc;
                if (!u64map_get(&v->pcs, pc)) {
                    if (GROW(v->frames, v->nframes, v->frames_cap) < 0 || u64map_put(&v->pcs, pc, v->nframes) < 0)
                        return nomem(r);
                    v->frames[v->nframes].pc = pc;
                    v->frames[v->nframes].fn = raw->args[3 + i * 4];
                    v->frames[v->nframes].file = raw->args[4 + i * 4];
                    v->frames[v->nframes].line = (int64_t)raw->args[5 + i * 4];
                    v->nframes++;
                }
            }
            if (u64map_put(&v->stacks, id, (uint64_t)off << 16 | size) < 0)
                return nomem(r);
        }
        return 0;
    }
    case V_CPU_SAMPLE:
        return 0;
    }
    memset(ev, 0, sizeof *ev);
    ev->type = raw->typ;
    ev->p = v->last_p;
    ev->g = v->last_g;
    ev->ts = (int64_t)((uint64_t)v->last_ts + raw->args[0]);
    v->last_ts = ev->ts;
    for (unsigned i = 1; i < narg; i++) {
        if (i == narg - 1 && vdesc[raw->typ].stack)
            ev->stk = (uint32_t)raw->args[i];
        else
            ev->args[i - 1] = raw->args[i];
    }
    switch (raw->typ) {
    case V_GO_START: case V_GO_START_LOCAL: case V_GO_START_LABEL:
        v->last_g = ev->args[0];
        ev->g = v->last_g;
        break;
    case V_GO_END: case V_GO_STOP: case V_GO_SCHED: case V_GO_PREEMPT: case V_GO_SLEEP:
    case V_GO_BLOCK: case V_GO_BLOCK_SEND: case V_GO_BLOCK_RECV: case V_GO_BLOCK_SELECT:
    case V_GO_BLOCK_SYNC: case V_GO_BLOCK_COND: case V_GO_BLOCK_NET: case V_GO_SYSBLOCK:
    case V_GO_BLOCK_GC:
        v->last_g = 0;
        break;
    case V_GO_SYSEXIT: case V_GO_WAITING: case V_GO_INSYSCALL:
        ev->g = ev->args[0];
        break;
    case V_LOG: {
        /* The message is an inline string: number them by first sight. */
        int64_t idx = strtab_intern(&v->inl, (const char *)raw->sarg, raw->sarg_len);
        if (idx < 0)
            return nomem(r);
        ev->args[3] = (uint64_t)idx;
        break;
    }
    }
    ev->type = raw->typ;
    return 1;
}

/* Loads the next batch of proc p into p->evs.  1 loaded, 0 none left. */
static int load_batch(struct ctrace_reader *r, struct v1 *v, struct vproc *p, struct raw *raw)
{
    if (p->bnext >= p->nb)
        return 0;
    v->off = p->b[p->bnext++].off;
    p->nev = p->evpos = 0;
    int got_header = 0;
    for (;;) {
        size_t at = v->off;
        int rc = read_raw(r, v, 0, raw);
        if (rc == 1)
            break;
        if (rc < 0)
            return rc;
        if (raw->typ == V_NONE || raw->typ == V_CPU_SAMPLE)
            continue;
        if (raw->typ == V_BATCH) {
            if (got_header)
                break;
            got_header = 1;
        }
        if (GROW(p->evs, p->nev, p->evcap) < 0)
            return nomem(r);
        rc = parse_event(r, v, raw, &p->evs[p->nev], at);
        if (rc < 0)
            return rc;
        if (rc == 1)
            p->nev++;
    }
    return 1;
}

/* Goroutine state machine of the merge. */
#define G_DEAD 0
#define G_RUNNABLE 1
#define G_RUNNING 2
#define G_WAITING 3
#define UNORDERED UINT64_MAX
#define GARBAGE (UINT64_MAX - 1)
#define NOSEQ UINT64_MAX
#define SEQINC (UINT64_MAX - 1)

struct gst { uint64_t seq; int status; };

static void transition_of(const struct vev *ev, uint64_t *g, struct gst *init, struct gst *next)
{
    *g = UNORDERED;
    switch (ev->type) {
    case V_GO_CREATE:
        *g = ev->args[0]; *init = (struct gst){0, G_DEAD}; *next = (struct gst){1, G_RUNNABLE}; break;
    case V_GO_WAITING: case V_GO_INSYSCALL:
        *g = ev->g; *init = (struct gst){1, G_RUNNABLE}; *next = (struct gst){2, G_WAITING}; break;
    case V_GO_START: case V_GO_START_LABEL:
        *g = ev->g; *init = (struct gst){ev->args[1], G_RUNNABLE};
        *next = (struct gst){ev->args[1] + 1, G_RUNNING}; break;
    case V_GO_START_LOCAL:
        *g = ev->g; *init = (struct gst){NOSEQ, G_RUNNABLE}; *next = (struct gst){SEQINC, G_RUNNING}; break;
    case V_GO_BLOCK: case V_GO_BLOCK_SEND: case V_GO_BLOCK_RECV: case V_GO_BLOCK_SELECT:
    case V_GO_BLOCK_SYNC: case V_GO_BLOCK_COND: case V_GO_BLOCK_NET: case V_GO_SLEEP:
    case V_GO_SYSBLOCK: case V_GO_BLOCK_GC:
        *g = ev->g; *init = (struct gst){NOSEQ, G_RUNNING}; *next = (struct gst){NOSEQ, G_WAITING}; break;
    case V_GO_SCHED: case V_GO_PREEMPT:
        *g = ev->g; *init = (struct gst){NOSEQ, G_RUNNING}; *next = (struct gst){NOSEQ, G_RUNNABLE}; break;
    case V_GO_UNBLOCK: case V_GO_SYSEXIT:
        *g = ev->args[0]; *init = (struct gst){ev->args[1], G_WAITING};
        *next = (struct gst){ev->args[1] + 1, G_RUNNABLE}; break;
    case V_GO_UNBLOCK_LOCAL: case V_GO_SYSEXIT_LOCAL:
        *g = ev->args[0]; *init = (struct gst){NOSEQ, G_WAITING}; *next = (struct gst){SEQINC, G_RUNNABLE}; break;
    case V_GC_START:
        *g = GARBAGE; *init = (struct gst){ev->args[0], G_DEAD}; *next = (struct gst){ev->args[0] + 1, G_DEAD}; break;
    }
}

/* Goroutine states of the merge: map g -> index in a growing array. */
struct gstates { struct u64map idx; struct gst *v; size_t n, cap; };

static struct gst gs_lookup(struct gstates *gs, uint64_t g)
{
    uint64_t *i = u64map_get(&gs->idx, g);
    return i ? gs->v[*i] : (struct gst){0, G_DEAD};
}

static int gs_store(struct gstates *gs, uint64_t g, struct gst s)
{
    uint64_t *i = u64map_get(&gs->idx, g);
    if (i) {
        gs->v[*i] = s;
        return 0;
    }
    if (GROW(gs->v, gs->n, gs->cap) < 0 || u64map_put(&gs->idx, g, gs->n) < 0)
        return -1;
    gs->v[gs->n++] = s;
    return 0;
}

static int ready(uint64_t g, struct gst cur, struct gst init)
{
    return g == UNORDERED || ((init.seq == NOSEQ || init.seq == cur.seq) && init.status == cur.status);
}

/* The frontier: a binary heap on time, as Go's. */
struct fr { struct vev ev; struct vproc *proc; };

static void fr_up(struct fr *h, size_t j)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!(h[j].ev.ts < h[i].ev.ts))
            break;
        struct fr t = h[i]; h[i] = h[j]; h[j] = t;
        j = i;
    }
}

static void fr_down(struct fr *h, size_t i, size_t n)
{
    for (;;) {
        size_t j1 = 2 * i + 1;
        if (j1 >= n)
            break;
        size_t j = j1;
        if (j1 + 1 < n && h[j1 + 1].ev.ts < h[j1].ev.ts)
            j = j1 + 1;
        if (!(h[j].ev.ts < h[i].ev.ts))
            break;
        struct fr t = h[i]; h[i] = h[j]; h[j] = t;
        i = j;
    }
}

static int ts_cmp(const void *a, const void *b)
{
    const struct vev *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Stable sort by time (merge sort). */
static void sort_stable(struct vev *v, struct vev *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_stable(v, tmp, h);
    sort_stable(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = v[j].ts < v[i].ts ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static int merge(struct ctrace_reader *r, struct v1 *v, struct raw *raw)
{
    /* CPU samples form one more "proc", already complete. */
    if (v->nsamples)
        qsort(v->samples, v->nsamples, sizeof *v->samples, ts_cmp);
    size_t nreal = v->nprocs;
    struct vproc *prof = proc_of(r, v, PROFILE_P);
    if (!prof)
        return nomem(r);
    prof->evs = v->samples;
    prof->nev = v->nsamples;
    prof->evcap = v->samples_cap;
    v->samples = NULL;
    v->nsamples = v->samples_cap = 0;
    (void)nreal;

    size_t n = v->nprocs;
    struct vproc **avail = malloc(n * sizeof *avail);
    struct fr *front = malloc((n + 1) * sizeof *front);
    struct gstates gs = {0};
    if (!avail || !front) {
        free(avail);
        free(front);
        return nomem(r);
    }
    size_t navail = n, nfront = 0;
    for (size_t i = 0; i < n; i++)
        avail[i] = &v->procs[i];
    int rc = 0;
    for (;;) {
        for (size_t i = 0; i < navail; i++) {
            struct vproc *p = avail[i];
            int gone = 0;
            while (p->evpos == p->nev) {
                int lr = p->pid == PROFILE_P ? 0 : load_batch(r, v, p, raw);
                if (lr < 0) {
                    rc = lr;
                    goto out;
                }
                if (lr == 0) {
                    p->done = 1;
                    avail[i] = avail[navail - 1];
                    navail--;
                    gone = 1;
                    break;
                }
            }
            if (gone) {
                i--;
                continue;
            }
            struct vev *ev = &p->evs[p->evpos];
            uint64_t g;
            struct gst init, next;
            transition_of(ev, &g, &init, &next);
            if (!ready(g, gs_lookup(&gs, g), init))
                continue;
            p->evpos++;
            avail[i] = avail[navail - 1];
            navail--;
            front[nfront] = (struct fr){*ev, p};
            fr_up(front, nfront++);
            i--;
        }
        if (nfront == 0) {
            for (size_t i = 0; i < n; i++)
                if (!v->procs[i].done && !(v->procs[i].pid == PROFILE_P && v->procs[i].evpos == v->procs[i].nev)) {
                    rc = fail(r, v->off, "no consistent ordering of events possible");
                    goto out;
                }
            break;
        }
        struct fr f = front[0];
        front[0] = front[nfront - 1];
        nfront--;
        fr_down(front, 0, nfront);
        uint64_t g;
        struct gst init, next;
        transition_of(&f.ev, &g, &init, &next);
        if (f.ev.type == V_GO_START_LOCAL)
            f.ev.type = V_GO_START;
        else if (f.ev.type == V_GO_UNBLOCK_LOCAL)
            f.ev.type = V_GO_UNBLOCK;
        else if (f.ev.type == V_GO_SYSEXIT_LOCAL)
            f.ev.type = V_GO_SYSEXIT;
        if (GROW(v->evs, v->nev, v->evcap) < 0) {
            rc = nomem(r);
            goto out;
        }
        v->evs[v->nev++] = f.ev;
        if (g != UNORDERED) {
            struct gst cur = gs_lookup(&gs, g);
            if (!ready(g, cur, init)) {
                rc = fail(r, v->off, "encountered impossible goroutine state transition");
                goto out;
            }
            if (next.seq == NOSEQ)
                next.seq = cur.seq;
            else if (next.seq == SEQINC)
                next.seq = cur.seq + 1;
            if (gs_store(&gs, g, next) < 0) {
                rc = nomem(r);
                goto out;
            }
        }
        avail[navail++] = f.proc;
    }
out:
    free(avail);
    free(front);
    u64map_free(&gs.idx);
    free(gs.v);
    return rc;
}

/* ---- pass 3: times; pass 4: state validation ---- */

static int fix_times(struct ctrace_reader *r, struct v1 *v)
{
    for (size_t i = 1; i < v->nev; i++)
        if (v->evs[i].ts < v->evs[i - 1].ts)
            return fail(r, 0, "time stamps out of order");
    struct u64map last_block = {0};
    int rc = 0;
    for (size_t i = 0; i < v->nev && !rc; i++) {
        struct vev *ev = &v->evs[i];
        if (ev->type == V_GO_SYSBLOCK || ev->type == V_GO_INSYSCALL) {
            if (u64map_put(&last_block, ev->g, (uint64_t)ev->ts) < 0)
                rc = nomem(r);
        } else if (ev->type == V_GO_SYSEXIT) {
            int64_t ts = (int64_t)ev->args[2];
            if (ts == 0)
                continue;
            uint64_t *b = u64map_get(&last_block, ev->g);
            if (!b || *b == 0)
                rc = fail(r, 0, "stray syscall exit");
            else if (ts < (int64_t)*b)
                rc = fail(r, 0, "time stamps out of order");
            else
                ev->ts = ts;
        }
    }
    u64map_free(&last_block);
    if (rc)
        return rc;
    struct vev *tmp = malloc((v->nev ? v->nev : 1) * sizeof *tmp);
    if (!tmp)
        return nomem(r);
    sort_stable(v->evs, tmp, v->nev);
    free(tmp);
    if (v->ticks == 0)
        return fail(r, 0, "no EvFrequency event");
    if (v->nev) {
        int64_t min = v->evs[0].ts;
        double freq = 1e9 / (double)v->ticks;
        for (size_t i = 0; i < v->nev; i++) {
            struct vev *ev = &v->evs[i];
            double d = (double)(int64_t)((uint64_t)ev->ts - (uint64_t)min) * freq;
            ev->ts = (d >= -9223372036854775808.0 && d < 9223372036854775808.0) ? (int64_t)d : INT64_MIN;
            if (ev->type == V_GO_UNBLOCK && u64map_get(&v->timer_g, ev->g))
                ev->p = TIMER_P;
            if (ev->type == V_GO_SYSEXIT)
                ev->p = SYSCALL_P;
        }
    }
    return 0;
}

/* The scheduler checks of Go's old parser, over the ordered events: one
 * small function per event kind (vc_*), dispatched by vc_handler_of(),
 * sharing the state below.  Events of the kinds a running goroutine does
 * (creating, blocking, ending...) are first checked by vc_check_running(),
 * which hands its goroutine and proc to the handler.  The checks and their
 * order are those of the old parser, so the same traces fail, first at
 * the same event. */
struct pd { int running; uint64_t g; int sweeping; };
struct gd { int state; int has_ev; uint8_t ev_type; int has_create; uint64_t create_stack; int assist; };
/* Per goroutine, the regions open: (task, name id) pairs. */
struct rstk { uint64_t *v; size_t n, cap; };

struct vcheck {
    struct ctrace_reader *r;
    const struct v1 *v;
    struct u64map gmap, pmap, tasks, regions;
    struct gd *gv; size_t ngv, gvcap;
    struct pd *pv; size_t npv, pvcap;
    struct rstk *rs; size_t nrs, rscap;
    int gc, stw;
};

/* The state of goroutine id / proc id, created zeroed when first met.
 * NULL when out of memory.  Growing may move the pool: a pointer got
 * before another call is stale. */
static struct gd *vc_g(struct vcheck *c, uint64_t id)
{
    uint64_t *x = u64map_get(&c->gmap, id);
    if (!x) {
        if (GROW(c->gv, c->ngv, c->gvcap) < 0 || u64map_put(&c->gmap, id, c->ngv) < 0)
            return NULL;
        memset(&c->gv[c->ngv], 0, sizeof c->gv[c->ngv]);
        x = u64map_get(&c->gmap, id);
        c->ngv++;
    }
    return &c->gv[*x];
}

static struct pd *vc_p(struct vcheck *c, int32_t id)
{
    uint64_t key = (uint64_t)(int64_t)id;
    uint64_t *x = u64map_get(&c->pmap, key);
    if (!x) {
        if (GROW(c->pv, c->npv, c->pvcap) < 0 || u64map_put(&c->pmap, key, c->npv) < 0)
            return NULL;
        memset(&c->pv[c->npv], 0, sizeof c->pv[c->npv]);
        x = u64map_get(&c->pmap, key);
        c->npv++;
    }
    return &c->pv[*x];
}

/* Events a running goroutine does: it must be running on the event's P
 * (and not be g 0, except to create).  Sets *g and *p for the handler. */
static int vc_check_running(struct vcheck *c, const struct vev *ev, struct gd **g, struct pd **p)
{
    const char *name = vdesc[ev->type].name;
    if (!(*p = vc_p(c, ev->p)) || !(*g = vc_g(c, ev->g)))
        return nomem(c->r);
    if ((*g)->state != G_RUNNING)
        return fail(c->r, 0, "g %llu is not running while %s (time %lld)", (unsigned long long)ev->g, name,
                    (long long)ev->ts);
    if ((*p)->g != ev->g)
        return fail(c->r, 0, "p %d is not running g %llu while %s (time %lld)", ev->p, (unsigned long long)ev->g,
                    name, (long long)ev->ts);
    if (ev->type != V_GO_CREATE && ev->g == 0)
        return fail(c->r, 0, "g 0 did %s (time %lld)", name, (long long)ev->ts);
    return 0;
}

static int vc_runs_goroutine(uint8_t type)
{
    switch (type) {
    case V_GO_CREATE: case V_GO_END: case V_GO_STOP: case V_GO_SCHED: case V_GO_PREEMPT:
    case V_GO_SYSCALL: case V_GO_SYSBLOCK: case V_GO_SLEEP: case V_GO_BLOCK: case V_GO_BLOCK_SEND:
    case V_GO_BLOCK_RECV: case V_GO_BLOCK_SELECT: case V_GO_BLOCK_SYNC: case V_GO_BLOCK_COND:
    case V_GO_BLOCK_NET: case V_GO_BLOCK_GC:
        return 1;
    }
    return 0;
}

/* g and p: from vc_check_running for the kinds it checks, else NULL. */
typedef int (*vc_handler)(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p);

static int vc_proc_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g;
    if (!(p = vc_p(c, ev->p)))
        return nomem(c->r);
    if (p->running)
        return fail(c->r, 0, "p %d is running before start (time %lld)", ev->p, (long long)ev->ts);
    p->running = 1;
    return 0;
}

static int vc_proc_stop(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g;
    if (!(p = vc_p(c, ev->p)))
        return nomem(c->r);
    if (!p->running)
        return fail(c->r, 0, "p %d is not running before stop (time %lld)", ev->p, (long long)ev->ts);
    if (p->g != 0)
        return fail(c->r, 0, "p %d is running a goroutine %llu during stop (time %lld)", ev->p,
                    (unsigned long long)p->g, (long long)ev->ts);
    p->running = 0;
    return 0;
}

static int vc_gc_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (c->gc)
        return fail(c->r, 0, "previous GC is not ended before a new one (time %lld)", (long long)ev->ts);
    c->gc = 1;
    ev->p = GC_P;
    return 0;
}

static int vc_gc_done(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (!c->gc)
        return fail(c->r, 0, "bogus GC end (time %lld)", (long long)ev->ts);
    c->gc = 0;
    return 0;
}

static int vc_stw_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (c->stw)
        return fail(c->r, 0, "previous STW is not ended before a new one (time %lld)", (long long)ev->ts);
    c->stw = 1;
    return 0;
}

static int vc_stw_done(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (!c->stw)
        return fail(c->r, 0, "bogus STW end (time %lld)", (long long)ev->ts);
    c->stw = 0;
    return 0;
}

static int vc_sweep_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g;
    if (!(p = vc_p(c, ev->p)))
        return nomem(c->r);
    if (p->sweeping)
        return fail(c->r, 0, "previous sweeping is not ended before a new one (time %lld)", (long long)ev->ts);
    p->sweeping = 1;
    return 0;
}

static int vc_sweep_done(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g;
    if (!(p = vc_p(c, ev->p)))
        return nomem(c->r);
    if (!p->sweeping)
        return fail(c->r, 0, "bogus sweeping end (time %lld)", (long long)ev->ts);
    p->sweeping = 0;
    return 0;
}

static int vc_assist_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)p;
    if (!(g = vc_g(c, ev->g)))
        return nomem(c->r);
    if (g->assist)
        return fail(c->r, 0, "previous mark assist is not ended before a new one (time %lld)", (long long)ev->ts);
    g->assist = 1;
    return 0;
}

static int vc_assist_done(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)p;
    if (!(g = vc_g(c, ev->g)))
        return nomem(c->r);
    g->assist = 0;
    return 0;
}

/* GoWaiting / GoInSyscall: a goroutine found blocked when tracing began. */
static int vc_go_waiting(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)p;
    if (!(g = vc_g(c, ev->g)))
        return nomem(c->r);
    if (g->state != G_RUNNABLE)
        return fail(c->r, 0, "g %llu is not runnable before %s (time %lld)", (unsigned long long)ev->g,
                    ev->type == V_GO_WAITING ? "EvGoWaiting" : "EvGoInSyscall", (long long)ev->ts);
    g->state = G_WAITING;
    g->has_ev = 1;
    g->ev_type = ev->type;
    return 0;
}

static int vc_go_create(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (u64map_get(&c->gmap, ev->args[0]))
        return fail(c->r, 0, "g %llu already exists (time %lld)", (unsigned long long)ev->args[0], (long long)ev->ts);
    struct gd *ng = vc_g(c, ev->args[0]);
    if (!ng)
        return nomem(c->r);
    *ng = (struct gd){G_RUNNABLE, 1, V_GO_CREATE, 1, ev->args[1], 0};
    return 0;
}

/* GoStart / GoStartLabel; the start takes the creation's stack. */
static int vc_go_start(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    if (!(p = vc_p(c, ev->p)) || !(g = vc_g(c, ev->g)))
        return nomem(c->r);
    if (g->state != G_RUNNABLE)
        return fail(c->r, 0, "g %llu is not runnable before start (time %lld)", (unsigned long long)ev->g,
                    (long long)ev->ts);
    if (p->g != 0)
        return fail(c->r, 0, "p %d is already running g %llu while start g %llu (time %lld)", ev->p,
                    (unsigned long long)p->g, (unsigned long long)ev->g, (long long)ev->ts);
    g->state = G_RUNNING;
    p->g = ev->g;
    if (g->has_create) {
        ev->stk = (uint32_t)g->create_stack;
        g->has_create = 0;
    }
    g->has_ev = 0;
    return 0;
}

/* GoEnd / GoStop: the goroutine is gone (its open regions with it). */
static int vc_go_end(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    g->state = G_DEAD;
    p->g = 0;
    if (ev->type == V_GO_END) {
        uint64_t *x = u64map_get(&c->regions, ev->g);
        if (x)
            c->rs[*x].n = 0;
    }
    return 0;
}

/* GoSched / GoPreempt. */
static int vc_go_yield(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)c;
    g->state = G_RUNNABLE;
    p->g = 0;
    g->has_ev = 1;
    g->ev_type = ev->type;
    return 0;
}

static int vc_go_unblock(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    if (!(p = vc_p(c, ev->p)) || !(g = vc_g(c, ev->g)))
        return nomem(c->r);
    if (g->state != G_RUNNING)
        return fail(c->r, 0, "g %llu is not running while unpark (time %lld)", (unsigned long long)ev->g,
                    (long long)ev->ts);
    if (ev->p != TIMER_P && p->g != ev->g)
        return fail(c->r, 0, "p %d is not running g %llu while unpark (time %lld)", ev->p,
                    (unsigned long long)ev->g, (long long)ev->ts);
    struct gd *woken = vc_g(c, ev->args[0]); /* may move the pool: g is stale now */
    if (!woken)
        return nomem(c->r);
    if (woken->state != G_WAITING)
        return fail(c->r, 0, "g %llu is not waiting before unpark (time %lld)", (unsigned long long)ev->args[0],
                    (long long)ev->ts);
    if (woken->has_ev && woken->ev_type == V_GO_BLOCK_NET)
        ev->p = NETPOLL_P;
    woken->state = G_RUNNABLE;
    woken->has_ev = 1;
    woken->ev_type = ev->type;
    return 0;
}

static int vc_go_syscall(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)c, (void)p;
    g->has_ev = 1;
    g->ev_type = ev->type;
    return 0;
}

static int vc_go_sysblock(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)c, (void)ev;
    g->state = G_WAITING;
    p->g = 0;
    return 0;
}

static int vc_go_sysexit(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)p;
    if (!(g = vc_g(c, ev->g)))
        return nomem(c->r);
    if (g->state != G_WAITING)
        return fail(c->r, 0, "g %llu is not waiting during syscall exit (time %lld)", (unsigned long long)ev->g,
                    (long long)ev->ts);
    g->state = G_RUNNABLE;
    g->has_ev = 1;
    g->ev_type = ev->type;
    return 0;
}

/* GoSleep, GoBlock and its variants (send, recv, select, sync, cond,
 * net, GC). */
static int vc_go_block(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)c;
    g->state = G_WAITING;
    g->has_ev = 1;
    g->ev_type = ev->type;
    p->g = 0;
    return 0;
}

static int vc_task_create(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    if (u64map_get(&c->tasks, ev->args[0]))
        return fail(c->r, 0, "task id conflicts (id:%llu)", (unsigned long long)ev->args[0]);
    if (u64map_put(&c->tasks, ev->args[0], 1) < 0)
        return nomem(c->r);
    return 0;
}

static int vc_task_end(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    u64map_del(&c->tasks, ev->args[0], NULL);
    return 0;
}

/* String id's text, "" when the trace never defines it (as Go's parser
 * reads it). */
static const char *vc_str(const struct v1 *v, uint64_t id, size_t *len)
{
    const uint64_t *x = u64map_get(&v->strings, id);
    if (!x) {
        *len = 0;
        return "";
    }
    *len = v->strs[*x].len;
    return v->arena + v->strs[*x].off;
}

/* Do string ids a and b name the same text?  Go compares region names by
 * text: a writer may define one text under two ids. */
static int vc_same_string(const struct v1 *v, uint64_t a, uint64_t b)
{
    if (a == b)
        return 1;
    size_t la, lb;
    const char *sa = vc_str(v, a, &la), *sb = vc_str(v, b, &lb);
    return la == lb && memcmp(sa, sb, la) == 0;
}

/* A region begins (mode 0) or ends (mode 1) on its goroutine's stack of
 * open regions; an end must match the innermost open one (same task, same
 * name), if any. */
static int vc_region(struct vcheck *c, struct vev *ev, struct gd *g, struct pd *p)
{
    (void)g, (void)p;
    uint64_t mode = ev->args[1];
    uint64_t *x = u64map_get(&c->regions, ev->g);
    if (!x) {
        if (GROW(c->rs, c->nrs, c->rscap) < 0 || u64map_put(&c->regions, ev->g, c->nrs) < 0)
            return nomem(c->r);
        memset(&c->rs[c->nrs], 0, sizeof c->rs[c->nrs]);
        x = u64map_get(&c->regions, ev->g);
        c->nrs++;
    }
    struct rstk *s = &c->rs[*x];
    if (mode == 0) {
        if (s->n + 2 > s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 16;
            uint64_t *nv = realloc(s->v, nc * sizeof *nv);
            if (!nv)
                return nomem(c->r);
            s->v = nv;
            s->cap = nc;
        }
        s->v[s->n++] = ev->args[0];
        s->v[s->n++] = ev->args[2];
    } else if (mode == 1) {
        if (s->n > 0) {
            if (s->v[s->n - 2] != ev->args[0] || !vc_same_string(c->v, s->v[s->n - 1], ev->args[2]))
                return fail(c->r, 0,
                            "misuse of region in goroutine %llu: span end does not match the inner-most "
                            "active span start",
                            (unsigned long long)ev->g);
            s->n -= 2;
        }
    } else {
        return fail(c->r, 0, "invalid user region mode: %llu", (unsigned long long)mode);
    }
    return 0;
}

static vc_handler vc_handler_of(uint8_t type)
{
    switch (type) {
    case V_PROC_START: return vc_proc_start;
    case V_PROC_STOP: return vc_proc_stop;
    case V_GC_START: return vc_gc_start;
    case V_GC_DONE: return vc_gc_done;
    case V_STW_START: return vc_stw_start;
    case V_STW_DONE: return vc_stw_done;
    case V_SWEEP_START: return vc_sweep_start;
    case V_SWEEP_DONE: return vc_sweep_done;
    case V_MARK_ASSIST_START: return vc_assist_start;
    case V_MARK_ASSIST_DONE: return vc_assist_done;
    case V_GO_WAITING: case V_GO_INSYSCALL: return vc_go_waiting;
    case V_GO_CREATE: return vc_go_create;
    case V_GO_START: case V_GO_START_LABEL: return vc_go_start;
    case V_GO_END: case V_GO_STOP: return vc_go_end;
    case V_GO_SCHED: case V_GO_PREEMPT: return vc_go_yield;
    case V_GO_UNBLOCK: return vc_go_unblock;
    case V_GO_SYSCALL: return vc_go_syscall;
    case V_GO_SYSBLOCK: return vc_go_sysblock;
    case V_GO_SYSEXIT: return vc_go_sysexit;
    case V_GO_SLEEP: case V_GO_BLOCK: case V_GO_BLOCK_SEND: case V_GO_BLOCK_RECV:
    case V_GO_BLOCK_SELECT: case V_GO_BLOCK_SYNC: case V_GO_BLOCK_COND: case V_GO_BLOCK_NET:
    case V_GO_BLOCK_GC: return vc_go_block;
    case V_TASK_CREATE: return vc_task_create;
    case V_TASK_END: return vc_task_end;
    case V_REGION: return vc_region;
    }
    return NULL; /* nothing to check */
}

static void vc_free(struct vcheck *c)
{
    free(c->gv);
    free(c->pv);
    for (size_t i = 0; i < c->nrs; i++)
        free(c->rs[i].v);
    free(c->rs);
    u64map_free(&c->gmap);
    u64map_free(&c->pmap);
    u64map_free(&c->tasks);
    u64map_free(&c->regions);
}

static int validate(struct ctrace_reader *r, struct v1 *v)
{
    struct vcheck c = {.r = r, .v = v};
    int rc = 0;
    struct gd *g0 = vc_g(&c, 0);
    if (!g0)
        rc = nomem(r);
    else
        g0->state = G_RUNNING;
    for (size_t i = 0; i < v->nev && rc == 0; i++) {
        struct vev *ev = &v->evs[i];
        struct gd *g = NULL;
        struct pd *p = NULL;
        if (vc_runs_goroutine(ev->type) && (rc = vc_check_running(&c, ev, &g, &p)) < 0)
            break;
        vc_handler h = vc_handler_of(ev->type);
        if (h && (rc = h(&c, ev, g, p)) < 0)
            break;
        /* A stack the trace never defines (or defines empty) is no stack. */
        if (ev->stk != 0) {
            uint64_t *s = u64map_get(&v->stacks, ev->stk);
            if (!s || (*s & 0xffff) == 0)
                ev->stk = 0;
        }
    }
    vc_free(&c);
    return rc;
}

/* ---- pass 5: v1 events as v2 events ---- */

/* Built-in strings Go's converter adds (reasons, STW kinds). */
enum { S_FOREVER, S_PREEMPTED, S_GOSCHED, S_SLEEP, S_CHAN_SEND, S_CHAN_RECV, S_NETWORK, S_SYNC,
       S_SYNC_COND, S_SELECT, S_EMPTY, S_MARK_ASSIST_WAIT, S_STW_UNKNOWN, S_LAST = S_STW_UNKNOWN + 17 };
static const char *const builtin[S_LAST] = {
    "forever", "preempted", "runtime.Gosched", "sleep", "chan send", "chan receive", "network",
    "sync", "sync.(*Cond).Wait", "select", "", "GC mark assist wait for work", "",
    "GC mark termination", "GC sweep termination", "write heap dump", "goroutine profile",
    "goroutine profile cleanup", "all goroutine stack trace", "read mem stats", "AllThreadsSyscall",
    "GOMAXPROCS", "start trace", "stop trace", "CountPagesInUse (test)", "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)", "PageCachePagesLeaked (test)", "ResetDebugLog (test)"};

static uint64_t bid(const struct v1 *v, int c) { return v->builtin_base + 1 + (uint64_t)c; }

static uint64_t stw_reason(const struct v1 *v, uint64_t kind)
{
    if (v->ver < 21)
        return kind == 0 || kind == 1 ? kind + 1 : 0;
    if (v->ver == 21)
        return kind < 17 ? kind : 0;
    return 0;
}

/* Copies the v1 tables into the generation tables the event builder uses. */
static int install_tables(struct ctrace_reader *r, struct v1 *v)
{
    struct generation *g = &r->g;
    gen_reset(g);
    g->gen = 1;
    g->has_freq = 1;
    g->freq = 1;
    /* strings: the trace's, then inline log messages, then built-ins */
    struct ctrace_str tmp;
    (void)tmp;
    size_t total = v->alen + 64 * S_LAST;
    for (size_t i = 0; i < v->inl.n; i++)
        total += v->inl.len[i] + 1;
    g->arena = realloc(g->arena, total + 1);
    if (!g->arena)
        return nomem(r);
    g->arena_cap = total + 1;
    g->arena_len = 0;
#define ADD(id, s, n)                                                                 \
    do {                                                                              \
        if (GROW(g->strs, g->nstrs, g->strs_cap) < 0 || u64map_put(&g->str_index, (id), g->nstrs) < 0) \
            return nomem(r);                                                          \
        memcpy(g->arena + g->arena_len, (s), (n));                                    \
        g->arena[g->arena_len + (n)] = 0;                                             \
        g->strs[g->nstrs++] = (struct strent){g->arena_len, (uint32_t)(n)};           \
        g->arena_len += (n) + 1;                                                      \
    } while (0)
    uint64_t max = v->max_str;
    uint64_t key, val;
    for (size_t i = 0; u64map_next(&v->strings, &i, &key, &val);)
        ADD(key, v->arena + v->strs[val].off, v->strs[val].len);
    v->inline_base = max + 1;
    for (size_t i = 0; i < v->inl.n; i++)
        ADD(max + 1 + i, v->inl.s[i], v->inl.len[i]);
    max += v->inl.n;
    v->builtin_base = max;
    for (int c = 0; c < S_LAST; c++)
        ADD(max + 1 + (uint64_t)c, builtin[c], strlen(builtin[c]));
#undef ADD
    /* stacks and frames */
    for (size_t i = 0; u64map_next(&v->stacks, &i, &key, &val);) {
        size_t off = (size_t)(val >> 16), n = (size_t)(val & 0xffff);
        if (GROW(g->stks, g->nstks, g->stks_cap) < 0 || u64map_put(&g->stk_index, key, g->nstks) < 0)
            return nomem(r);
        g->stks[g->nstks++] = (struct stkent){g->npcs, (uint32_t)n, 0};
        for (size_t k = 0; k < n; k++) {
            if (GROW(g->pcs, g->npcs, g->pcs_cap) < 0)
                return nomem(r);
            g->pcs[g->npcs++] = v->stkpcs[off + k];
        }
    }
    for (size_t i = 0; i < v->nframes; i++) {
        if (GROW(g->frames, g->nframes, g->frames_cap) < 0 || u64map_put(&g->pc_index, v->frames[i].pc, g->nframes) < 0)
            return nomem(r);
        g->frames[g->nframes++] = (struct frament){v->frames[i].pc, v->frames[i].fn, v->frames[i].file,
                                                   (uint64_t)v->frames[i].line};
    }
    return 0;
}

struct xq { struct rev *v; size_t n, cap, pos; };

struct v1_state {
    struct v1 v;
    struct xq q;
    struct raw raw;
};

static int push_x(struct ctrace_reader *r, struct xq *q, const struct rev *e)
{
    if (q->pos == q->n)
        q->pos = q->n = 0;
    if (GROW(q->v, q->n, q->cap) < 0)
        return nomem(r);
    q->v[q->n++] = *e;
    return 0;
}

static uint64_t proc_m(struct v1 *v, int32_t p, int *found)
{
    uint64_t *m = u64map_get(&v->proc_ms, (uint64_t)(int64_t)p);
    *found = m != NULL;
    return m ? *m : 0;
}

/* Converting one v1 event: one small function per event kind (cv_*),
 * dispatched by cv_handler_of().  A handler fills c->t (the v2 type) and
 * c->a (its arguments) and returns CV_FINISH for convert() to complete
 * the event the common way (stack, thread, goroutine, proc); or it makes
 * the event itself (CV_MADE), makes none (CV_SKIP), or fails (< 0).
 * Events it adds besides go to the extra queue (push_x), delivered first. */
enum { CV_SKIP = 0, CV_FINISH = 1, CV_MADE = 2 };

struct cv {
    struct vev *ev;      /* the v1 event                                */
    size_t idx;          /* its index in v->evs                          */
    struct rev *out;     /* the v2 event made                            */
    uint8_t t;           /* its type                                     */
    uint64_t a[5];       /* its arguments (start: the v1 event's)        */
};

typedef int (*cv_handler)(struct ctrace_reader *r, struct v1_state *st, struct cv *c);

/* Kinds that map one to one, with a block/stop reason or none (-1). */
static const struct { uint8_t t; int8_t reason; } cv_plain_map[V_COUNT] = {
    [V_GC_START] = {GT_EV_GC_BEGIN, -1}, [V_GC_DONE] = {GT_EV_GC_END, -1},
    [V_SWEEP_START] = {GT_EV_GC_SWEEP_BEGIN, -1}, [V_SWEEP_DONE] = {GT_EV_GC_SWEEP_END, -1},
    [V_GO_END] = {GT_EV_GO_DESTROY, -1}, [V_GO_UNBLOCK] = {GT_EV_GO_UNBLOCK, -1},
    [V_GO_SYSEXIT] = {GT_EV_GO_SYSCALL_END_BLOCKED, -1},
    [V_HEAP_ALLOC] = {GT_EV_HEAP_ALLOC, -1}, [V_HEAP_GOAL] = {GT_EV_HEAP_GOAL, -1},
    [V_MARK_ASSIST_START] = {GT_EV_GC_MARK_ASSIST_BEGIN, -1},
    [V_MARK_ASSIST_DONE] = {GT_EV_GC_MARK_ASSIST_END, -1},
    [V_GO_STOP] = {GT_EV_GO_BLOCK, S_FOREVER}, [V_GO_SCHED] = {GT_EV_GO_STOP, S_GOSCHED},
    [V_GO_PREEMPT] = {GT_EV_GO_STOP, S_PREEMPTED}, [V_GO_SLEEP] = {GT_EV_GO_BLOCK, S_SLEEP},
    [V_GO_BLOCK] = {GT_EV_GO_BLOCK, S_EMPTY}, [V_GO_BLOCK_SEND] = {GT_EV_GO_BLOCK, S_CHAN_SEND},
    [V_GO_BLOCK_RECV] = {GT_EV_GO_BLOCK, S_CHAN_RECV}, [V_GO_BLOCK_SELECT] = {GT_EV_GO_BLOCK, S_SELECT},
    [V_GO_BLOCK_SYNC] = {GT_EV_GO_BLOCK, S_SYNC}, [V_GO_BLOCK_COND] = {GT_EV_GO_BLOCK, S_SYNC_COND},
    [V_GO_BLOCK_NET] = {GT_EV_GO_BLOCK, S_NETWORK}, [V_GO_BLOCK_GC] = {GT_EV_GO_BLOCK, S_MARK_ASSIST_WAIT},
};

static int cv_plain(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r;
    c->t = cv_plain_map[c->ev->type].t;
    int reason = cv_plain_map[c->ev->type].reason;
    if (reason >= 0) {
        c->a[0] = bid(&st->v, reason);
        c->a[1] = c->ev->stk;
    }
    return CV_FINISH;
}

/* The first Gomaxprocs ends the trace's preamble: the goroutines created
 * before it that are still alive become runnable (GoStatus events). */
static int cv_gomaxprocs(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    c->t = GT_EV_PROCS_CHANGE;
    if (!v->pre_init)
        return CV_FINISH;
    v->pre_init = 0;
    for (size_t i = 0; i < v->ncreated; i++) {
        uint64_t *alive = u64map_get(&v->created_pre, v->created_order[i]);
        if (!alive || !*alive)
            continue;
        struct rev s = {0};
        s.typ = GT_EV_GO_STATUS;
        s.time = c->ev->ts;
        s.m = s.p = s.g = CTRACE_NO_ID;
        s.args[0] = v->created_order[i];
        s.args[1] = CTRACE_NO_ID;
        s.args[2] = GT_GO_RUNNABLE;
        s.extra[0] = CTRACE_STATE_UNDETERMINED;
        if (push_x(r, &st->q, &s) < 0)
            return CTRACE_READER_ENOMEM;
    }
    v->ncreated = 0;
    return CV_SKIP;
}

/* ProcStart / ProcStop: a proc's first event gives its status instead. */
static int cv_proc(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    const struct vev *ev = c->ev;
    uint64_t pid = (uint64_t)(int64_t)ev->p;
    int start = ev->type == V_PROC_START;
    if (start && u64map_put(&v->proc_ms, pid, ev->args[0]) < 0)
        return nomem(r);
    c->a[0] = pid;
    c->a[2] = c->a[3] = 0;
    if (u64map_get(&v->seen_procs, pid)) {
        c->t = start ? GT_EV_PROC_START : GT_EV_PROC_STOP;
        c->a[1] = 0;
    } else {
        if (u64map_put(&v->seen_procs, pid, 1) < 0)
            return nomem(r);
        c->t = GT_EV_PROC_STATUS;
        c->a[1] = start ? GT_PROC_RUNNING : GT_PROC_IDLE;
        c->out->extra[0] = CTRACE_STATE_UNDETERMINED;
    }
    return CV_FINISH;
}

/* STW start/done: the reason is named by a built-in string. */
static int cv_stw(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r;
    struct v1 *v = &st->v;
    if (c->ev->type == V_STW_START) {
        v->last_stw = bid(v, (int)(S_STW_UNKNOWN + stw_reason(v, c->ev->args[0])));
        c->t = GT_EV_STW_BEGIN;
    } else {
        c->t = GT_EV_STW_END;
    }
    c->a[0] = v->last_stw;
    c->a[1] = c->a[2] = c->a[3] = 0;
    return CV_FINISH;
}

/* Creations before the preamble ends are remembered, not delivered. */
static int cv_go_create(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    uint64_t id = c->ev->args[0];
    c->t = GT_EV_GO_CREATE;
    if (!v->pre_init)
        return CV_FINISH;
    if (!u64map_get(&v->created_pre, id)) {
        if (GROW(v->created_order, v->ncreated, v->created_cap) < 0)
            return nomem(r);
        v->created_order[v->ncreated++] = id;
    }
    if (u64map_put(&v->created_pre, id, 1) < 0)
        return nomem(r);
    return CV_SKIP;
}

/* In the preamble a start tells the goroutine was already running. */
static int cv_go_start(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r;
    struct v1 *v = &st->v;
    uint64_t id = c->ev->args[0];
    if (!v->pre_init) {
        c->t = GT_EV_GO_START;
        return CV_FINISH;
    }
    c->t = GT_EV_GO_STATUS;
    c->a[0] = id;
    c->a[1] = CTRACE_NO_ID;
    c->a[2] = GT_GO_RUNNING;
    c->a[3] = 0;
    c->out->extra[0] = CTRACE_STATE_UNDETERMINED;
    if (u64map_get(&v->created_pre, id))
        u64map_put(&v->created_pre, id, 0);
    return CV_FINISH;
}

/* GoStartLabel: a label event (queued first), then the start. */
static int cv_go_start_label(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    const struct vev *ev = c->ev;
    int found;
    struct rev lab = {0};
    lab.typ = GT_EV_GO_LABEL;
    lab.time = ev->ts;
    lab.g = ev->g;
    lab.p = (uint64_t)(int64_t)ev->p;
    lab.m = proc_m(v, ev->p, &found);
    lab.args[0] = ev->args[2];
    if (push_x(r, &st->q, &lab) < 0)
        return CTRACE_READER_ENOMEM;
    c->out->typ = GT_EV_GO_START;
    c->out->g = ev->g;
    c->out->p = (uint64_t)(int64_t)ev->p;
    c->out->m = proc_m(v, ev->p, &found);
    memcpy(c->out->args, c->a, sizeof c->a);
    return CV_MADE;
}

/* A syscall that did not block (the goroutine's next event is not
 * GoSysBlock) becomes a begin and an end 1 ns later. */
static int cv_go_syscall(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    const struct vev *ev = c->ev;
    int blocked = 0, found;
    for (size_t k = c->idx + 1; k < v->nev; k++)
        if (v->evs[k].g == ev->g) {
            blocked = v->evs[k].type == V_GO_SYSBLOCK;
            break;
        }
    c->a[0] = 0;
    c->a[1] = ev->stk;
    c->a[2] = c->a[3] = 0;
    if (blocked) {
        c->t = GT_EV_GO_SYSCALL_BEGIN;
        return CV_FINISH;
    }
    struct rev *out = c->out;
    out->typ = GT_EV_GO_SYSCALL_BEGIN;
    out->g = ev->g;
    out->p = (uint64_t)(int64_t)ev->p;
    out->m = proc_m(v, ev->p, &found);
    memcpy(out->args, c->a, sizeof c->a);
    struct rev end = {0};
    end.typ = GT_EV_GO_SYSCALL_END;
    end.time = (int64_t)((uint64_t)ev->ts + 1);
    end.g = out->g;
    end.p = out->p;
    end.m = out->m;
    if (push_x(r, &st->q, &end) < 0)
        return CTRACE_READER_ENOMEM;
    return CV_MADE;
}

static int cv_skip(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r, (void)st, (void)c;
    return CV_SKIP;
}

/* GoWaiting / GoInSyscall: the status of a goroutine found blocked. */
static int cv_go_waiting(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r;
    struct v1 *v = &st->v;
    uint64_t id = c->ev->args[0];
    c->t = GT_EV_GO_STATUS;
    c->a[0] = id;
    c->a[1] = CTRACE_NO_ID;
    c->a[2] = c->ev->type == V_GO_WAITING ? GT_GO_WAITING : GT_GO_SYSCALL;
    c->a[3] = 0;
    c->out->extra[0] = CTRACE_STATE_UNDETERMINED;
    if (u64map_get(&v->created_pre, id))
        u64map_put(&v->created_pre, id, 0);
    return CV_FINISH;
}

/* Task names are kept (as offsets into the generation's arena, which
 * lives as long as the single v1 "generation") for the task's end. */
static int cv_task_create(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    const struct vev *ev = c->ev;
    c->t = GT_EV_USER_TASK_BEGIN;
    uint64_t parent = ev->args[1] ? ev->args[1] : CTRACE_NO_ID;
    c->a[0] = ev->args[0];
    c->a[1] = parent;
    c->a[2] = ev->args[2];
    c->a[3] = ev->stk;
    struct ctrace_str name = {"", 0};
    gen_string(&r->g, ev->args[2], &name);
    uint64_t *ti = u64map_get(&v->tasks, ev->args[0]);
    size_t k;
    if (ti) {
        k = (size_t)*ti;
    } else {
        if (GROW(v->task_v, v->ntask, v->task_cap) < 0 || u64map_put(&v->tasks, ev->args[0], v->ntask) < 0)
            return nomem(r);
        k = v->ntask++;
    }
    v->task_v[k].parent = ev->args[1];
    v->task_v[k].off = (size_t)(name.ptr - r->g.arena);
    v->task_v[k].len = name.len;
    if (!name.len)
        v->task_v[k].off = SIZE_MAX;
    return CV_FINISH;
}

static int cv_task_end(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    struct v1 *v = &st->v;
    const struct vev *ev = c->ev;
    c->t = GT_EV_USER_TASK_END;
    uint64_t *ti = u64map_get(&v->tasks, ev->args[0]);
    if (ti) {
        size_t k = (size_t)*ti;
        c->out->extra[0] = v->task_v[k].parent;
        size_t n = v->task_v[k].len;
        if (v->task_v[k].off != SIZE_MAX)
            memcpy(r->o.endname, r->g.arena + v->task_v[k].off, n);
        r->o.endname[n] = 0;
        r->o.endname_len = n;
        u64map_del(&v->tasks, ev->args[0], NULL);
    } else {
        c->out->extra[0] = CTRACE_NO_ID;
        r->o.endname[0] = 0;
        r->o.endname_len = 0;
    }
    return CV_FINISH;
}

static int cv_region(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r, (void)st;
    const struct vev *ev = c->ev;
    c->t = ev->args[1] == 0 ? GT_EV_USER_REGION_BEGIN : GT_EV_USER_REGION_END;
    c->a[0] = ev->args[0];
    c->a[1] = ev->args[2];
    c->a[2] = ev->stk;
    c->a[3] = 0;
    return CV_FINISH;
}

/* The message is an inline string, installed after the trace's own. */
static int cv_log(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r;
    const struct vev *ev = c->ev;
    c->t = GT_EV_USER_LOG;
    c->a[0] = ev->args[0];
    c->a[1] = ev->args[1];
    c->a[2] = st->v.inline_base + ev->args[3];
    c->a[3] = ev->stk;
    return CV_FINISH;
}

static int cv_cpu_sample(struct ctrace_reader *r, struct v1_state *st, struct cv *c)
{
    (void)r, (void)st;
    const struct vev *ev = c->ev;
    c->t = GT_EV_CPU_SAMPLE;
    c->a[0] = ev->stk;
    c->a[1] = CTRACE_NO_ID;
    c->a[2] = (uint64_t)(int64_t)ev->p;
    c->a[3] = ev->g;
    return CV_FINISH;
}

static cv_handler cv_handler_of(uint8_t type)
{
    switch (type) {
    case V_GOMAXPROCS: return cv_gomaxprocs;
    case V_PROC_START: case V_PROC_STOP: return cv_proc;
    case V_STW_START: case V_STW_DONE: return cv_stw;
    case V_GO_CREATE: return cv_go_create;
    case V_GO_START: return cv_go_start;
    case V_GO_START_LABEL: return cv_go_start_label;
    case V_GO_SYSCALL: return cv_go_syscall;
    case V_GO_SYSBLOCK: return cv_skip; /* folded into GoSysCall */
    case V_GO_WAITING: case V_GO_INSYSCALL: return cv_go_waiting;
    case V_TASK_CREATE: return cv_task_create;
    case V_TASK_END: return cv_task_end;
    case V_REGION: return cv_region;
    case V_LOG: return cv_log;
    case V_CPU_SAMPLE: return cv_cpu_sample;
    }
    if (type < V_COUNT && cv_plain_map[type].t)
        return cv_plain;
    return NULL;
}

/* Converts one v1 event.  Returns 1 with *out set, 0 to skip, <0 error. */
static int convert(struct ctrace_reader *r, struct v1_state *st, size_t idx, struct rev *out)
{
    struct v1 *v = &st->v;
    struct vev *ev = &v->evs[idx];
    struct cv c = {ev, idx, out, 0, {ev->args[0], ev->args[1], ev->args[2], ev->args[3], 0}};
    memset(out, 0, sizeof *out);
    out->time = ev->ts;
    cv_handler h = cv_handler_of(ev->type);
    if (!h)
        return fail(r, 0, "unexpected event type %s", vdesc[ev->type].name);
    int rc = h(r, st, &c);
    if (rc != CV_FINISH)
        return rc == CV_MADE ? 1 : rc;
    /* The common completion: the stack argument, then where it happened. */
    if (vdesc[ev->type].stack) {
        const struct rspec *s = rspec_of(c.t);
        if (s && s->stack_arg)
            c.a[s->stack_arg - 1] = ev->stk;
    }
    out->typ = c.t;
    memcpy(out->args, c.a, sizeof c.a);
    out->m = CTRACE_NO_ID;
    int found;
    if (ev->p != -1 && ev->type != V_CPU_SAMPLE) {
        uint64_t m = proc_m(v, ev->p, &found);
        if (found)
            out->m = m;
    }
    if (ev->type == V_PROC_STOP)
        u64map_del(&v->proc_ms, (uint64_t)(int64_t)ev->p, NULL);
    out->g = ev->g == 0 ? CTRACE_NO_ID : ev->g;
    out->p = (uint64_t)(int64_t)ev->p;
    return 1;
}

/* ---- entry points ---- */

static int load(struct ctrace_reader *r, struct v1_state *st)
{
    struct v1 *v = &st->v;
    /* v1 has no generations: the whole input is needed. */
    int64_t have = in_fill(&r->in, r->pos);
    while (have >= 0 && r->in.stream && !r->in.eof)
        have = in_fill(&r->in, (uint64_t)have + (1u << 20));
    if (have < 0)
        return rd_fail(r, CTRACE_READER_EIO, r->pos, "read error");
    v->data = in_ptr(&r->in, 0);
    v->len = (size_t)have;
    v->off = (size_t)r->pos;
    v->ver = r->version - 100;
    v->last_p = 0;
    int rc = collect(r, v, &st->raw);
    if (rc < 0)
        return rc;
    rc = merge(r, v, &st->raw);
    if (rc < 0)
        return rc;
    rc = fix_times(r, v);
    if (rc < 0)
        return rc;
    rc = validate(r, v);
    if (rc < 0)
        return rc;
    rc = install_tables(r, v);
    if (rc < 0)
        return rc;
    v->pre_init = 1;
    r->pos = v->len;
    r->have_gen = 1;
    r->ngens = 1;
    r->dl.last_ts = -1;
    return 0;
}

int v1_next(struct ctrace_reader *r, const struct ctrace_event **out)
{
    struct v1_state *st = r->v1;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return nomem(r);
        r->v1 = st;
        int rc = load(r, st);
        if (rc < 0)
            return rc;
    }
    struct v1 *v = &st->v;
    for (;;) {
        if (st->q.pos < st->q.n) {
            r->cur = st->q.v[st->q.pos++];
            return rd_deliver(r, &r->cur, out);
        }
        if (v->pos >= v->nev) {
            r->done = 1;
            return 0;
        }
        size_t idx = v->pos++;
        int rc = convert(r, st, idx, &r->cur);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return rd_deliver(r, &r->cur, out);
    }
}

void v1_free(struct ctrace_reader *r)
{
    struct v1_state *st = r->v1;
    if (!st)
        return;
    struct v1 *v = &st->v;
    u64map_free(&v->strings);
    free(v->strs);
    free(v->arena);
    strtab_free(&v->inl);
    u64map_free(&v->stacks);
    free(v->stkpcs);
    u64map_free(&v->pcs);
    free(v->frames);
    u64map_free(&v->timer_g);
    u64map_free(&v->last_gs);
    for (size_t i = 0; i < v->nprocs; i++) {
        free(v->procs[i].b);
        free(v->procs[i].evs);
    }
    free(v->procs);
    u64map_free(&v->pindex);
    free(v->samples);
    free(v->evs);
    u64map_free(&v->created_pre);
    free(v->created_order);
    u64map_free(&v->seen_procs);
    u64map_free(&v->proc_ms);
    u64map_free(&v->tasks);
    free(v->task_v);
    free(st->q.v);
    free(st);
    r->v1 = NULL;
}
