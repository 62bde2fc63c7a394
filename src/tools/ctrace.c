/*
 * ctrace.c - the `ctrace` command: dispatches to a subcommand from a table.
 * Subcommands written elsewhere (stat, run) are listed only when the build
 * found their source (CTRACE_HAVE_CMD_*), so the tool always links.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

struct subcommand {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct subcommand commands[] = {
    {"check", cmd_check, "validate Go execution traces"},
    {"dump", cmd_dump, "print the events of a trace, one per line"},
    {"repair", cmd_repair, "write the readable part of a truncated trace"},
    {"pprof", cmd_pprof, "write a pprof profile (cpu, sync, syscall, sched, net, region)"},
    {"export", cmd_export, "convert traces for Perfetto, chrome://tracing, SQL (csv), Go 1.19"},
    {"symbolize", cmd_symbolize, "name a trace's unnamed frames from its module records"},
#ifdef CTRACE_HAVE_CMD_STAT
    {"stat", cmd_stat, "summarise where goroutines spend their time"},
#endif
#ifdef CTRACE_HAVE_CMD_RUN
    {"run", cmd_run, "run a program under the tracer"},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ctrace <command> [arguments]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'ctrace <command> --help' for a command's options.\n"
               "Exit codes: 0 success, 1 failure (e.g. invalid trace), 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ctrace: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
