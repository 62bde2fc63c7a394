/*
 * errors.h - the reader's error state: the first error met, with the byte
 * offset it concerns and its message; a read error kept back until the
 * generation before it has been delivered; and what makes an error a
 * truncation.  The layers of the reader (generation.c, order.c, v1.c,
 * deliver.c, reader.c) report into it; it calls nothing of theirs.
 *
 * Invariants: the first error wins and stays (later ones return its code
 * unchanged), so ctrace_reader_next() keeps failing the same way; a
 * deferred error is only raised by err_raise_deferred().
 */
#ifndef CTRACE_READER_ERRORS_H
#define CTRACE_READER_ERRORS_H

#include <stdint.h>

struct rd_error {
    int code;                 /* sticky CTRACE_READER_E* code, 0 = none  */
    uint64_t off;             /* byte offset it concerns                 */
    char msg[512];

    /* A batch that could not be read after a generation's good ones:
     * Go's parser reports it only once that generation is delivered. */
    int deferred;             /* its code, 0 = none                      */
    uint64_t deferred_off;
    char deferred_msg[512];

    /* Set by generation.c for the generation being delivered: whether it
     * was cut short (the input ends with it, and not after the table a
     * writer ends a generation with), its number, and where input ends. */
    int cut;
    uint64_t cut_gen;         /* 0: the input ends after the header      */
    uint64_t input_end;
};

/* Records an error (unless one is recorded already); returns the code
 * recorded. */
int err_fail(struct rd_error *e, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For an error a cut can cause (a missing frequency, stack, string, batch
 * or event): in a generation cut short it is recorded as
 * CTRACE_READER_ETRUNCATED at the offset where the input ends, naming the
 * generation; otherwise like err_fail. */
int err_fail_cut(struct rd_error *e, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Keeps a read error back (see `deferred`), and raises it: returns its
 * code as err_fail would, or 0 if there is none. */
void err_defer(struct rd_error *e, int code, uint64_t off, const char *msg);
int err_raise_deferred(struct rd_error *e);

#endif
