/*
 * lossrec.h - the loss record: how libctrace says in the trace what it
 * lost (docs/FORMAT.md, "Losses").
 *
 * A generation in which something was lost carries one extra string in a
 * strings batch of its own, under an id nothing refers to (Go's parsers
 * keep unreferenced strings and show nothing for them):
 *
 *     ctrace.losses events=N samples=N stacks=N strings=N threads=N
 *
 * Each N is a decimal count of what was lost since the previous record of
 * the trace (the first: since the trace started), so a trace's records add
 * up to its totals.  Keys may be added; a reader skips keys it does not
 * know.  The writer is src/runtime/losses.c, the reader
 * src/reader/losses.c.
 */
#ifndef CTRACE_FORMAT_LOSSREC_H
#define CTRACE_FORMAT_LOSSREC_H

#define GT_LOSS_PREFIX "ctrace.losses "
#define GT_LOSS_PREFIX_LEN (sizeof GT_LOSS_PREFIX - 1)

#endif /* CTRACE_FORMAT_LOSSREC_H */
