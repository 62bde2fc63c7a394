/*
 * commands.h - the subcommands of the `ctrace` tool.  Each takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit code.
 */
#ifndef CTRACE_TOOLS_COMMANDS_H
#define CTRACE_TOOLS_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_pprof(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);

#endif
