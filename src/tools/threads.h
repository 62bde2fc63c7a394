/*
 * threads.h - how many threads the tools read a trace with: the -j/--threads
 * option of stat, pprof, export and dump.  2 lets the reader read ahead on
 * a thread of its own (ctrace_reader_read_ahead) while the command works
 * on the events; 1 reads on the command's thread.  export and dump default
 * to tool_read_threads(); stat and pprof to 1 (their work per event is
 * about the handoff's cost: stat gains 7% of wall time for 1.5x the CPU,
 * pprof loses; docs/PERFORMANCE.md, "Reading ahead", "Session 16").
 */
#ifndef CTRACE_TOOLS_THREADS_H
#define CTRACE_TOOLS_THREADS_H

/* The default: 2 when this process may run on more than one CPU (its
 * affinity mask), else 1 -- a second thread on one CPU only adds handoffs. */
unsigned tool_read_threads(void);

/* Parses the value of -j/--threads: 1 or 2 into *out and 0; else prints
 * "ctrace CMD: ..." on stderr and returns -1. */
int tool_parse_threads(const char *cmd, const char *v, unsigned *out);

#endif
