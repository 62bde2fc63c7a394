/*
 * cmd_check.c - `ctrace check FILE...`: read every event of each trace with
 * full validation and print one line per file, and a warning line after it
 * when the trace records losses of its writer (ctrace_reader_losses).
 */
#include "commands.h"
#include "losses.h"
#include "progress.h"
#include "settings.h"

#include "ctrace_reader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: ctrace check [-q|-v] [-j N] [--split-min SIZE] FILE...\n"
    "\n"
    "Validates Go execution traces the way Go's own parser does: every event is\n"
    "read, ordered and checked.  Formats: v2 (go 1.22, 1.23, 1.25) and v1 (go 1.11,\n"
    "1.19, 1.21 headers).  One line per file:\n"
    "  FILE: ok, go 1.22, N events, G generation(s)\n"
    "  FILE: truncated at offset X: G complete generation(s) (first B bytes, S s), then: message\n"
    "  FILE: error at offset X: message\n"
    "A second line follows when the trace's writer recorded losses (libctrace's loss\n"
    "records: events dropped at its memory cap, CPU samples, threads it could not\n"
    "trace, stacks its table had no room for); it does not change the verdict:\n"
    "  FILE: warning: the tracer lost 12 events, 3 CPU samples (in G generations)\n"
    "A trace cut short (its writer killed, a full disk) is reported as truncated at\n"
    "the offset where it ends, with the generations it holds whole and the time\n"
    "they span; 'ctrace repair' writes them out as a trace of their own.\n"
    "FILE '-' reads standard input.\n"
    "\n"
    "  -q      print nothing, only set the exit code\n"
    "  -v      also say how the trace was read (one thread, or two halves)\n"
    "  -j, --threads N   threads for a large trace file (1 or 2; default 2: a\n"
    "          trace of 32 MiB or more is cut at a generation and its halves\n"
    "          read at once, the second verified against the first; the\n"
    "          verdict is always the one-thread reading's)\n"
    "  --split-min SIZE  the smallest trace cut so (default 32M; tests use 0)\n"
    "  --help  this help\n"
    "\n"
    "Exit codes: 0 all traces valid, 1 some trace invalid or unreadable, 2 usage error.\n";

/* "s" after a count other than 1: "1 generation", "3 generations". */
static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static int check_one(const char *path, int quiet, int verbose, unsigned threads, uint64_t split_min)
{
    ctrace_reader *r = NULL;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    int rc = ctrace_reader_open(path, 0, &r);
    if (rc == 0)
        ctrace_reader_check_threads(r, threads, split_min);
    if (rc == CTRACE_READER_EOPEN) {
        if (!quiet)
            printf("%s: error: cannot open: %s\n", name, strerror(errno));
        return 1;
    }
    struct progress pg;
    progress_init(&pg, name);
    unsigned long long n = 0;
    /* Check-only reading, in slices of 65536 events (progress_tick's
     * period): the verdict and counts are ctrace_reader_next()'s. */
    if (rc == 0) {
        while ((rc = ctrace_reader_check(r, 0x10000)) == 1)
            progress_tick(&pg, r, n += 0x10000);
    }
    progress_done(&pg);
    int bad = 0;
    if (!quiet) {
        if (rc == 0) {
            int v = ctrace_reader_version(r);
            uint64_t ng = ctrace_reader_generation_count(r);
            printf("%s: ok, go %d.%d, %llu events, %llu generation%s\n", name, v / 100, v % 100,
                   (unsigned long long)ctrace_reader_event_count(r), (unsigned long long)ng, plural(ng));
            uint64_t sg;
            int how = ctrace_reader_check_split(r, &sg);
            if (verbose && how == CTRACE_SPLIT_VERIFIED)
                printf("%s: read on 2 threads: generations 1-%llu and %llu-%llu, the second half verified\n",
                       name, (unsigned long long)sg, (unsigned long long)sg,
                       (unsigned long long)ctrace_reader_generation_count(r));
            else if (verbose && how == CTRACE_SPLIT_FELL_BACK)
                printf("%s: read on 1 thread after generation %llu: the second half (from generation %llu) "
                       "could not be verified\n", name, (unsigned long long)sg, (unsigned long long)sg);
            else if (verbose)
                printf("%s: read on 1 thread\n", name);
        } else {
            uint64_t off = 0, end = 0;
            const char *msg = ctrace_reader_error(r, &off);
            int64_t span = 0;
            uint64_t whole = ctrace_reader_complete(r, &end, &span);
            if (!msg)
                msg = ctrace_reader_strerror(rc);
            if (rc == CTRACE_READER_ETRUNCATED)
                printf("%s: truncated at offset %llu: %llu complete generation%s (first %llu bytes, %.6f s), "
                       "then: %s\n",
                       name, (unsigned long long)off, (unsigned long long)whole, plural(whole),
                       (unsigned long long)end,
                       (double)span / 1e9, msg);
            else if (whole)
                printf("%s: error at offset %llu: %s (after %llu complete generation%s: first %llu bytes, "
                       "%.6f s)\n",
                       name, (unsigned long long)off, msg, (unsigned long long)whole, plural(whole),
                       (unsigned long long)end,
                       (double)span / 1e9);
            else
                printf("%s: error at offset %llu: %s\n", name, (unsigned long long)off, msg);
        }
    }
    struct ctrace_losses lost;
    ctrace_reader_losses(r, &lost);
    if (!quiet && losses_any(&lost)) {
        char what[256];
        losses_describe(&lost, what, sizeof what);
        printf("%s: warning: the tracer lost %s (in %llu generation%s)\n", name, what,
               (unsigned long long)lost.records, plural(lost.records));
    }
    bad = rc != 0;
    ctrace_reader_close(r);
    return bad;
}

int cmd_check(int argc, char **argv)
{
    /* Options and files in any order; "--" ends the options. */
    int quiet = 0, verbose = 0, first = 1, n = 1;
    unsigned threads = 2;
    uint64_t split_min = 32u << 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            argv[n++] = argv[i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (!strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "-v")) {
            verbose = 1;
        } else if ((!strcmp(a, "-j") || !strcmp(a, "--threads")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "1") && strcmp(v, "2")) {
                fprintf(stderr, "ctrace check: --threads takes 1 or 2, not '%s'\n", v);
                return 2;
            }
            threads = (unsigned)(*v - '0');
        } else if (!strcmp(a, "--split-min") && i + 1 < argc) {
            if (ct_parse_size(argv[++i], &split_min) != 0) {
                fprintf(stderr, "ctrace check: --split-min takes a size (bytes, or 32M...), not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                argv[n++] = argv[i];
        } else {
            fprintf(stderr, "ctrace check: unknown option '%s'\n%s", a, help);
            return 2;
        }
    }
    argc = n;
    if (first >= argc) {
        fputs(help, stderr);
        return 2;
    }
    int bad = 0;
    for (int i = first; i < argc; i++) {
        bad |= check_one(argv[i], quiet, verbose, threads, split_min);
        fflush(stdout);
    }
    return bad ? 1 : 0;
}
