/*
 * cmd_export.c - `ctrace export --format perfetto|chrome|csv|go1.19 IN... -o OUT`:
 * converts traces for timeline viewers, SQL engines and older Go
 * toolchains (src/export, docs/EXPORT.md).
 * The command only parses options and opens the output; the streaming
 * conversion is export_run().
 */
#include "commands.h"

#include "export.h"
#include "threads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
    "usage: ctrace export --format perfetto|chrome|csv|go1.19 [-o OUT] [--stats] [-j 1|2] FILE...\n"
    "\n"
    "Converts Go execution traces (ctrace's, and Go's own: 1.22/1.23 and the\n"
    "older v1 format) to a timeline that trace viewers open, to tables, or to\n"
    "Go's older trace format, streaming: memory stays about one generation per\n"
    "input.  Several FILEs (the files 'ctrace run' writes for a process tree)\n"
    "merge into one timeline, one process per file (csv: a trace column).\n"
    "FILE '-' reads standard input.  See docs/EXPORT.md for what maps to what.\n"
    "\n"
    "  -f, --format FMT  perfetto: Perfetto's protobuf trace (ui.perfetto.dev)\n"
    "                    chrome:   Trace Event Format JSON (chrome://tracing)\n"
    "                    csv:      tables in the directory OUT (threads, states,\n"
    "                              regions, tasks, logs, samples, stacks, ranges,\n"
    "                              metrics .csv) for DuckDB, SQLite, pandas\n"
    "                    go1.19:   Go's v1 trace format, for 'go tool trace' of\n"
    "                              Go 1.19 to 1.21 (one FILE only)\n"
    "  -o, --output OUT  write to OUT (default: standard output; csv: required,\n"
    "                    a directory, created if missing)\n"
    "  --stats           print what was written on standard error\n"
    "  -j, --threads N   1: do everything on the command's thread; 2 (the\n"
    "                    default with more than one CPU): chrome and csv write\n"
    "                    the output on a second thread, perfetto and go1.19\n"
    "                    read each trace ahead on one (the same output)\n"
    "  --help            this help\n"
    "\n"
    "Exit codes: 0 exported (a trace cut short is exported up to its last\n"
    "complete generation, with a warning), 1 some input invalid or unreadable\n"
    "(what could be read is exported), 2 usage or output error.\n";

static void print_stats(const struct export_stats *s)
{
    fprintf(stderr,
            "ctrace export: %" PRIu64 " events read; %" PRIu64 " threads, %" PRIu64
            " state slices, %" PRIu64 " regions (%" PRIu64 " begun before the trace), %" PRIu64
            " tasks, %" PRIu64 " logs, %" PRIu64 " flows, %" PRIu64 " CPU samples, %" PRIu64
            " runtime ranges, %" PRIu64 " counter values; %" PRIu64
            " slices closed at the end; %" PRIu64 " events not shown\n",
            s->events_read, s->thread_tracks, s->state_slices, s->regions, s->regions_unmatched,
            s->tasks, s->logs, s->flows, s->samples, s->ranges, s->counters, s->closed_at_end,
            s->not_shown);
}

int cmd_export(int argc, char **argv)
{
    const char *format = NULL, *output = NULL;
    /* Options and inputs in any order (`ctrace export -f chrome IN -o OUT`):
     * the inputs are compacted to argv[1..argc), "--" ends the options. */
    int stats = 0, first = 1, n = 1;
    unsigned threads = tool_read_threads();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            argv[n++] = argv[i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((!strcmp(a, "--format") || !strcmp(a, "-f")) && i + 1 < argc) {
            format = argv[++i];
        } else if (!strncmp(a, "--format=", 9)) {
            format = a + 9;
        } else if ((!strcmp(a, "--output") || !strcmp(a, "-o")) && i + 1 < argc) {
            output = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            output = a + 9;
        } else if (!strcmp(a, "--stats")) {
            stats = 1;
        } else if ((!strcmp(a, "-j") || !strcmp(a, "--threads")) && i + 1 < argc) {
            if (tool_parse_threads("export", argv[++i], &threads) < 0)
                return 2;
        } else if (!strcmp(a, "--")) {
            while (++i < argc)
                argv[n++] = argv[i];
        } else {
            fprintf(stderr, "ctrace export: unknown option '%s'\n%s", a, help);
            return 2;
        }
    }
    argc = n;
    enum export_format fmt;
    if (!format) {
        fprintf(stderr, "ctrace export: --format is required\n%s", help);
        return 2;
    } else if (!strcmp(format, "perfetto")) {
        fmt = EXPORT_PERFETTO;
    } else if (!strcmp(format, "chrome")) {
        fmt = EXPORT_CHROME;
    } else if (!strcmp(format, "csv")) {
        fmt = EXPORT_CSV;
    } else if (!strcmp(format, "go1.19")) {
        fmt = EXPORT_GO119;
    } else {
        fprintf(stderr, "ctrace export: unknown format '%s' (perfetto, chrome, csv, go1.19)\n",
                format);
        return 2;
    }
    if (first >= argc) {
        fputs(help, stderr);
        return 2;
    }
    if (fmt == EXPORT_CSV && (!output || !strcmp(output, "-"))) {
        fputs("ctrace export: csv writes a directory of tables: -o DIR is required\n", stderr);
        return 2;
    }
    if (fmt == EXPORT_GO119 && argc - first > 1) {
        fputs("ctrace export: go1.19 converts one trace (a Go trace is one process)\n", stderr);
        return 2;
    }
    if (fmt == EXPORT_CSV) {
        struct export_stats st;
        int rc = export_run((const char *const *)argv + first, (size_t)(argc - first), fmt, threads, NULL,
                            output, stderr, &st);
        if (stats)
            print_stats(&st);
        return rc;
    }
    FILE *out = stdout;
    int regular = 0; /* only a regular file is removed after a failure */
    if (output && strcmp(output, "-")) {
        out = fopen(output, "wb");
        if (!out) {
            fprintf(stderr, "ctrace export: cannot create %s: %s\n", output, strerror(errno));
            return 2;
        }
        struct stat sb;
        regular = fstat(fileno(out), &sb) == 0 && S_ISREG(sb.st_mode);
    }
    /* The sinks gather their output in blocks of their own (outbuf.h,
     * perfetto.c) and write each with one fwrite: stdio's buffer would
     * only copy every byte once more. */
    setvbuf(out, NULL, _IONBF, 0);
    struct export_stats st;
    int rc = export_run((const char *const *)argv + first, (size_t)(argc - first), fmt, threads, out,
                        NULL, stderr, &st);
    if (out != stdout && fclose(out) != 0 && rc < 2) {
        fprintf(stderr, "ctrace export: cannot write %s: %s\n", output, strerror(errno));
        rc = 2;
    }
    if (rc == 2 && regular)
        unlink(output); /* a partial output is no use; never a device (-o /dev/full) */
    if (stats)
        print_stats(&st);
    return rc;
}
