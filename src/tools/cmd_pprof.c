/*
 * cmd_pprof.c - `ctrace pprof`: a trace as a pprof profile (gzip'd
 * profile.proto) that `go tool pprof` reads.
 *
 *   ctrace pprof KIND FILE|- -o OUT.pb.gz [--hz=N] [-j 1|2]
 *
 * Kinds and what a sample is:
 *   sync, net, syscall, sched - the intervals goroutines spend blocked on
 *       synchronisation, waiting for the network, in system calls, waiting
 *       to run; computed by src/analysis/goprof.c exactly as Go 1.23's
 *       `go tool trace -pprof=KIND` does (same samples, same sample types:
 *       contentions/count, delay/nanoseconds), and the same computation
 *       that gives `ctrace stat --json`'s "pprof" totals.
 *   cpu - the trace's CPU samples (StackSample events): samples/count and
 *       cpu/nanoseconds, each sample worth one period of the sampling rate
 *       (--hz; the trace does not record it: 100 Hz is what Go and
 *       libctrace use by default).
 *   region - completed regions, matched as `ctrace stat` matches them
 *       (src/analysis/regions.c): regions/count and time/nanoseconds, on the
 *       stack of the region's begin under a frame "region: NAME", so
 *       `go tool pprof -top` lists the time in each region name.
 *
 * Invariants: one pass over the reader's events; memory is the reader's
 * (one generation) plus one entry per live goroutine and per distinct stack
 * - never per event.  The output file is written only after the trace has
 * been read (an unreadable trace does not clobber it), under a temporary
 * name renamed into place when complete.  A trace that ends
 * in an error (truncated, invalid) still gives the profile of the events
 * before the error, with a warning and exit status 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addrmemo.h"
#include "commands.h"
#include "ctrace_reader.h"
#include "goprof.h"
#include "gtable.h"
#include "must.h"
#include "profile.h"
#include "progress.h"
#include "regions.h"
#include "satadd.h"
#include "strtab.h"
#include "threads.h"

enum kind { K_CPU, K_SYNC, K_NET, K_SYSCALL, K_SCHED, K_REGION };

static const struct {
    const char *name;
    enum kind kind;
} kinds[] = {{"cpu", K_CPU},         {"sync", K_SYNC},   {"net", K_NET},
             {"syscall", K_SYSCALL}, {"sched", K_SCHED}, {"region", K_REGION}};

static void usage(FILE *f)
{
    fputs("usage: ctrace pprof KIND FILE -o OUT.pb.gz [--hz=N] [-j 1|2]\n"
          "\n"
          "Writes a pprof profile of a Go execution trace (Go's or libctrace's;\n"
          "FILE '-' reads stdin) for `go tool pprof` (-top, -raw, -http ...).\n"
          "KIND is one of:\n"
          "  cpu      CPU samples in the trace (samples, cpu time)\n"
          "  sync     time blocked on channels, select, sync primitives\n"
          "  net      time waiting for the network\n"
          "  syscall  time in system calls\n"
          "  sched    time runnable but not running (scheduler latency)\n"
          "  region   time in regions, by region name and begin stack\n"
          "sync, net, syscall and sched equal `go tool trace -pprof=KIND`; their\n"
          "totals are those of `ctrace stat --json` (\"pprof\").\n"
          "\n"
          "  -o FILE   output file ('-' = stdout); required\n"
          "  --hz=N    CPU sampling rate of the trace (default 100, Go's and\n"
          "            libctrace's default; CTRACE_CPU_HZ): a sample is 1/N s\n"
          "  -j, --threads N  1 (the default): read the trace on one thread; 2: read\n"
          "            it ahead on a thread of its own\n"
          "  -h, --help this text\n"
          "\n"
          "Exit status: 0 ok; 1 the trace is invalid or truncated (the profile\n"
          "of the events before the error is still written) or unreadable, or\n"
          "the output cannot be written; 2 usage error.\n",
          f);
}

/* What pprof keeps of a live goroutine (gtable.h): the state of the
 * computation its kind runs. */
struct pprof_g {
    struct goprof_g prof;
    struct regions_g regions;
};

struct pprof_run {
    ctrace_reader *r;
    enum kind kind;
    struct prof *prof;
    struct goprof *goprof;
    struct gtable gs; /* struct pprof_g */
    int64_t period_ns;
    /* Region names by id, for matching (regions.h); the memo trusts the
     * reader's addresses for a generation (addrmemo.h). */
    struct strtab region_names;
    struct addrmemo_gen region_memo;
};

static uint32_t region_name(struct pprof_run *pr, const struct ctrace_event *ev)
{
    const char *p = ev->u.region.name.ptr ? ev->u.region.name.ptr : "";
    size_t len = ev->u.region.name.len;
    uint64_t id;
    if (!addrmemo_gen_get(&pr->region_memo, ev->generation, p, len, &id)) {
        int64_t v = strtab_intern(&pr->region_names, p, len);
        if (v < 0)
            an_out_of_memory();
        id = (uint64_t)v;
        addrmemo_gen_put(&pr->region_memo, ev->generation, p, len, id);
    }
    return (uint32_t)id;
}

/* "region: NAME" (NAME cut at 200 bytes and at a NUL), the frame a
 * region's samples sit under; leaf has room for 256 bytes. */
static void region_leaf(char leaf[256], struct ctrace_str name)
{
    static const char prefix[] = "region: ";
    size_t n = strnlen(name.ptr, name.len > 200 ? 200 : name.len);
    memcpy(leaf, prefix, sizeof prefix - 1);
    memcpy(leaf + sizeof prefix - 1, name.ptr, n);
    leaf[sizeof prefix - 1 + n] = 0;
}

static void on_region(struct pprof_run *pr, const struct ctrace_event *ev, int begin)
{
    if (ev->g == CTRACE_NO_ID)
        return;
    const struct ctrace_str *nm = &ev->u.region.name;
    if (begin) {
        /* The region's stack is resolved now: reader stacks die with their
         * generation, and a region may end in a later one. */
        char leaf[256];
        region_leaf(leaf, *nm);
        uint32_t st = prof_stack(pr->prof, pr->r, ev->stack, ev->generation, leaf);
        struct pprof_g *g = gtable_get(&pr->gs, ev->g);
        regions_begin(&g->regions, region_name(pr, ev), ev->time, st);
        return;
    }
    int64_t t0;
    uint32_t st;
    struct pprof_g *g = gtable_find(&pr->gs, ev->g);
    if (g && regions_end(&g->regions, region_name(pr, ev), &t0, &st)) {
        int64_t d = ns_since(t0, ev->time);
        int64_t v[2] = {1, d > 0 ? d : 0};
        prof_add(pr->prof, st, v);
    }
}

/* A goroutine's transition, for the kinds goprof computes. */
static void on_transition(struct pprof_run *pr, const struct ctrace_event *ev)
{
    uint64_t id = ev->u.transition.id;
    int ends = ev->u.transition.to == CTRACE_STATE_NOTEXIST;
    struct pprof_g *g = gtable_find(&pr->gs, id);
    if (!g) {
        if (ends)
            return; /* no state: the end closes nothing */
        g = gtable_add(&pr->gs, id);
    }
    goprof_transition(pr->goprof, &g->prof, ev);
    if (ends)
        gtable_release(&pr->gs, id);
}

static void on_event(struct pprof_run *pr, const struct ctrace_event *ev)
{
    switch (pr->kind) {
    case K_CPU:
        if (ev->kind == CTRACE_EV_STACK_SAMPLE) {
            int64_t v[2] = {1, pr->period_ns};
            prof_add(pr->prof, prof_stack(pr->prof, pr->r, ev->stack, ev->generation, NULL), v);
        }
        break;
    case K_REGION:
        if (ev->kind == CTRACE_EV_REGION_BEGIN || ev->kind == CTRACE_EV_REGION_END) {
            on_region(pr, ev, ev->kind == CTRACE_EV_REGION_BEGIN);
        } else if (ev->kind == CTRACE_EV_STATE_TRANSITION &&
                   ev->u.transition.resource == CTRACE_RES_GOROUTINE &&
                   ev->u.transition.to == CTRACE_STATE_NOTEXIST) {
            struct pprof_g *g = gtable_find(&pr->gs, ev->u.transition.id);
            if (g) {
                regions_goroutine_end(&g->regions);
                gtable_release(&pr->gs, ev->u.transition.id);
            }
        }
        break;
    default:
        if (ev->kind == CTRACE_EV_STATE_TRANSITION &&
            ev->u.transition.resource == CTRACE_RES_GOROUTINE)
            on_transition(pr, ev);
        break;
    }
}

int cmd_pprof(int argc, char **argv)
{
    const char *kind_name = NULL, *path = NULL, *out = NULL;
    unsigned long hz = 100;
    /* One thread by default, as stat (cmd_stat.c). */
    unsigned threads = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ctrace pprof: %s needs a file name\n", a);
                return 2;
            }
            out = argv[++i];
        } else if (strncmp(a, "-o", 2) == 0 && a[2]) {
            out = a + 2;
        } else if (strncmp(a, "--output=", 9) == 0) {
            out = a + 9;
        } else if (strncmp(a, "--hz=", 5) == 0 || (strcmp(a, "--hz") == 0 && i + 1 < argc)) {
            const char *v = a[4] == '=' ? a + 5 : argv[++i];
            char *end;
            errno = 0;
            hz = strtoul(v, &end, 10);
            if (errno || *end || end == v || hz == 0 || hz > 1000000000ul) {
                fprintf(stderr, "ctrace pprof: bad --hz value '%s'\n", v);
                return 2;
            }
        } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--threads") == 0) && i + 1 < argc) {
            if (tool_parse_threads("pprof", argv[++i], &threads) < 0)
                return 2;
        } else if (strcmp(a, "--") == 0 && i + 1 < argc) {
            for (i++; i < argc; i++) {
                if (!kind_name)
                    kind_name = argv[i];
                else if (!path)
                    path = argv[i];
                else {
                    fprintf(stderr, "ctrace pprof: one trace file at a time\n");
                    return 2;
                }
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ctrace pprof: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!kind_name) {
            kind_name = a;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "ctrace pprof: one trace file at a time\n");
            return 2;
        }
    }
    if (!kind_name || !path || !out) {
        if (kind_name && path && !out)
            fprintf(stderr, "ctrace pprof: no output file (-o OUT.pb.gz)\n");
        usage(stderr);
        return 2;
    }
    return pprof_report(kind_name, path, out, hz, threads, stderr);
}

int pprof_report(const char *kind_name, const char *path, const char *out, unsigned long hz,
                 unsigned threads, FILE *errf)
{
    struct pprof_run pr;
    memset(&pr, 0, sizeof pr);
    size_t k;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (strcmp(kinds[k].name, kind_name) == 0)
            break;
    if (k == sizeof kinds / sizeof *kinds) {
        fprintf(errf, "ctrace pprof: unknown profile kind '%s' (cpu, sync, net, syscall, "
                        "sched, region)\n", kind_name);
        return 2;
    }
    pr.kind = kinds[k].kind;
    gtable_init(&pr.gs, sizeof(struct pprof_g));
    pr.period_ns = (int64_t)(1000000000ul / hz);

    int rc = ctrace_reader_open(path, 0, &pr.r);
    if (rc == 0)
        ctrace_reader_read_ahead(pr.r, threads);
    if (rc < 0) {
        int err = errno;
        const char *msg = pr.r ? ctrace_reader_error(pr.r, NULL) : NULL;
        fprintf(errf, "ctrace pprof: %s: %s%s%s\n", path, ctrace_reader_strerror(rc),
                msg ? ": " : "", msg ? msg : "");
        if (rc == CTRACE_READER_EOPEN && err)
            fprintf(errf, "ctrace pprof: %s: %s\n", path, strerror(err));
        ctrace_reader_close(pr.r);
        return 1;
    }

    switch (pr.kind) {
    case K_CPU: {
        static const struct prof_value_type t[2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
        pr.prof = prof_new(2, t, (struct prof_value_type){"cpu", "nanoseconds"}, pr.period_ns);
        break;
    }
    case K_REGION: {
        static const struct prof_value_type t[2] = {{"regions", "count"}, {"time", "nanoseconds"}};
        pr.prof = prof_new(2, t, (struct prof_value_type){"trace", "count"}, 1);
        break;
    }
    default: {
        struct prof *profiles[GOPROF_KINDS] = {0};
        enum goprof_kind gk = pr.kind == K_SYNC      ? GOPROF_SYNC
                            : pr.kind == K_NET       ? GOPROF_NET
                            : pr.kind == K_SYSCALL   ? GOPROF_SYSCALL
                                                     : GOPROF_SCHED;
        pr.prof = prof_new(2, goprof_sample_types, goprof_period_type, 1);
        profiles[gk] = pr.prof;
        pr.goprof = goprof_new(pr.r, profiles);
        break;
    }
    }

    struct progress pg;
    progress_init(&pg, path);
    const struct ctrace_event *ev;
    unsigned long long n = 0;
    while ((rc = ctrace_reader_next(pr.r, &ev)) == 1) {
        on_event(&pr, ev);
        progress_tick(&pg, pr.r, ++n);
    }
    progress_done(&pg);

    int status = 0;
    if (rc < 0) {
        uint64_t off = 0;
        const char *msg = ctrace_reader_error(pr.r, &off);
        fprintf(errf,
                "ctrace pprof: %s: %s at byte %" PRIu64 "%s%s (the profile covers the events "
                "before it)\n",
                path, ctrace_reader_strerror(rc), off, msg ? ": " : "", msg ? msg : "");
        status = 1;
    }

    /* A regular (or new) output file is written under a temporary name
     * and renamed: a failed write never leaves half a profile under OUT.
     * Anything else (a pipe, /dev/stdout) is written in place. */
    char tmp[4096] = "";
    struct stat st;
    if (strcmp(out, "-") != 0 && (stat(out, &st) != 0 || S_ISREG(st.st_mode)) &&
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", out, (long)getpid()) >= sizeof tmp)
        tmp[0] = '\0';
    const char *dest = tmp[0] ? tmp : out;
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(dest, "wb");
    if (!f) {
        fprintf(errf, "ctrace pprof: %s: %s\n", out, strerror(errno));
        status = 1;
    } else {
        char err[128];
        int wr = prof_write_gzip(pr.prof, f, err, sizeof err);
        if (f != stdout && fclose(f) != 0 && wr == 0)
            wr = -1, snprintf(err, sizeof err, "%s", strerror(errno));
        if (wr == 0 && tmp[0] && rename(tmp, out) != 0)
            wr = -1, snprintf(err, sizeof err, "%s", strerror(errno));
        if (wr < 0) {
            fprintf(errf, "ctrace pprof: %s: %s\n", out, err);
            if (tmp[0])
                unlink(tmp);
            status = 1;
        }
    }

    goprof_free(pr.goprof);
    struct pprof_g *g;
    for (uint32_t i = 0; (g = gtable_next(&pr.gs, &i));)
        regions_goroutine_end(&g->regions);
    gtable_free(&pr.gs);
    strtab_free(&pr.region_names);
    prof_free(pr.prof);
    ctrace_reader_close(pr.r);
    return status;
}
