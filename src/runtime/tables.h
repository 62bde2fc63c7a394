/*
 * tables.h - writing a finished generation's tables (stack table, string
 * table, CPU-sample batches) as batches of that generation.
 *
 * Invariants:
 *  - Only the advancer writes tables, and only for a generation no thread
 *    can still write into (after the handshake, advance.c), so the dedup
 *    maps being walked are frozen except for inserts the table writers
 *    make themselves (names of symbolized frames).  The one exception is
 *    CPU samples: the advancer also drains the sample rings into the
 *    current generation's sample batches between generation ends (so no
 *    ring fills up); their stacks go into that generation's stack table,
 *    which takes concurrent inserts.
 *  - A table writer fills one batch at a time and hands it to the output
 *    when the next entry would not fit; every batch begins with the
 *    table's event type (EvStacks, EvStrings, EvCPUSamples).
 */
#ifndef CTRACE_RUNTIME_TABLES_H
#define CTRACE_RUNTIME_TABLES_H

#include <stdint.h>

#include "buf.h"

struct ct_thread;
struct ct_symbolizer;

/* A batch being filled with one table of one generation. */
struct ct_table_writer {
    uint64_t gen;
    uint8_t first;  /* EvStacks / EvStrings / EvCPUSamples */
    struct ct_buf *b;
};

/* Hands the batch being filled (if any) to the output. */
void ct_table_writer_flush(struct ct_table_writer *w);

/* Inserts a string into generation gen's table from the advancer (no
 * per-thread cache) and returns its id. */
uint64_t ct_table_string(uint64_t gen, const char *s);

/* Drains t's CPU samples into generation sw->gen's sample batches. */
void ct_table_drain_samples(struct ct_thread *t, struct ct_table_writer *sw);

/* Writes one CPU sample of thread (m, p, g) into generation sw->gen's
 * sample batches.  Returns 0, or -1 when no batch memory could be had
 * (nothing written, nothing counted: the caller decides). */
struct ct_sample;
int ct_table_put_sample(struct ct_table_writer *sw, const struct ct_sample *s, uint64_t m,
                        uint64_t p, uint64_t g);

/* Writes generation gen's stack table, symbolizing each PC with sym (NULL:
 * frames named "?"); its function and file names join the string table,
 * so this comes before ct_table_write_strings. */
void ct_table_write_stacks(uint64_t gen, struct ct_symbolizer *sym);

/* Writes generation gen's string table. */
void ct_table_write_strings(uint64_t gen);

/* Writes s as a string of generation gen in a strings batch of its own,
 * under an id the generation's table has not given out (and never will:
 * call after ct_table_write_strings, before the table is reset).  The
 * string is not in the table; nothing refers to it by id: readers find it
 * by its content (the loss record, losses.c).  Returns 0, or -1 when no
 * buffer could be had (nothing was written). */
int ct_table_write_lone_string(uint64_t gen, const char *s);

#endif /* CTRACE_RUNTIME_TABLES_H */
