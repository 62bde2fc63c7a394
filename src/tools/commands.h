/*
 * commands.h - the subcommands of the `ctrace` tool.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit code.
 */
#ifndef CTRACE_TOOLS_COMMANDS_H
#define CTRACE_TOOLS_COMMANDS_H

#include <stdio.h>

int cmd_check(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_pprof(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);

/* The work of `ctrace stat` and `ctrace pprof` once their options are
 * parsed, callable in-process (fuzz/fuzz_export.c runs them on every
 * input): the report goes to out (pprof: the file named out, '-' stdout),
 * messages to errf; the return is the command's exit status.  threads:
 * the reader's (ctrace_reader_read_ahead: 1 none, 2 read ahead). */
int stat_report(const char *path, int json, unsigned top, unsigned threads, FILE *out, FILE *errf);
int pprof_report(const char *kind, const char *path, const char *out, unsigned long hz,
                 unsigned threads, FILE *errf);

#endif
