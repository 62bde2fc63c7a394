/*
 * export.h - converts Go execution traces (what ctrace writes, and Go's own
 * v2 and v1 traces) into timeline formats that trace viewers open:
 * Perfetto's protobuf trace and Chrome's Trace Event Format (JSON).
 *
 * Streaming: each input is read once through the reader's public API
 * (include/ctrace_reader.h) and written as it is read, so memory is about
 * one generation per input plus the state of what is open (goroutines,
 * tasks, regions), never the whole trace.  Several inputs (the files
 * `ctrace run` writes for a process tree) are merged by time into one
 * timeline, one process per input.  docs/EXPORT.md says what maps to what.
 */
#ifndef CTRACE_EXPORT_H
#define CTRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum export_format {
    EXPORT_PERFETTO,
    EXPORT_CHROME,
    EXPORT_CSV,  /* a directory of tables (csv.c)                   */
    EXPORT_GO119 /* Go's v1 format (go119.c): one input only        */
};

/* What was written, for `ctrace export --stats` and the tests. */
struct export_stats {
    uint64_t events_read;
    uint64_t thread_tracks;     /* goroutines (threads)                   */
    uint64_t state_slices;      /* running / blocked / syscall / runnable */
    uint64_t regions;           /* region slices (incl. unmatched ends)   */
    uint64_t regions_unmatched; /* ends of regions begun before the trace */
    uint64_t tasks;             /* task slices                            */
    uint64_t logs;
    uint64_t flows;             /* unblock -> wake-up                     */
    uint64_t samples;           /* CPU samples                            */
    uint64_t ranges;            /* GC / STW / sweep ... slices            */
    uint64_t counters;          /* metric values                          */
    uint64_t closed_at_end;     /* slices still open at the end, closed   */
    uint64_t not_shown;         /* events with no place in the output
                                   (proc transitions, experimental)      */
};

/* Exports the traces paths[0..n) as one timeline in `format` to out
 * (EXPORT_CSV: into the directory out_dir; out is then unused).  Each
 * input is read with `threads` (ctrace_reader_read_ahead: 1 on the
 * caller's thread, 2 ahead on a thread of its own).
 * Input errors are reported on errf ("PATH: error at offset N: ..."); the
 * events before an error are exported and what is open is closed at the
 * last event, so the output is always complete and valid.
 * Returns 0 on success, 1 if an input is invalid or unreadable (a trace
 * cut short — CTRACE_READER_ETRUNCATED — counts as success with a
 * warning), 2 on an output error or out of memory. */
int export_run(const char *const *paths, size_t n, enum export_format format, unsigned threads, FILE *out,
               const char *out_dir, FILE *errf, struct export_stats *stats);

#endif
