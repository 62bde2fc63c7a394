/*
 * input.h - the bytes of a trace, from an mmap'ed file, a caller's buffer or
 * a stream (pipe, stdin) read through a growing window.
 *
 * Invariants: the window [base_off, base_off + len) of file offsets is
 * addressable at `base`; for mmap/memory inputs it is the whole input.  For
 * streams, bytes before a released offset are dropped and the window only
 * grows between releases, so pointers into it stay valid until the next
 * in_fill() (which may move it) -- callers keep offsets while filling and
 * take pointers only once a generation is complete.
 */
#ifndef CTRACE_READER_INPUT_H
#define CTRACE_READER_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
    const uint8_t *base; /* byte at file offset base_off                   */
    uint64_t base_off;
    size_t len;          /* bytes available from base                      */
    int64_t size;        /* total size if known, else -1                   */
    int stream;          /* 1: read from fd into buf on demand             */
    int eof;             /* stream hit end of input                        */
    int err;             /* errno of a failed read, 0 if none              */
    int fd;
    int own_fd;
    uint8_t *buf;        /* stream buffer                                  */
    size_t cap;
    void *map;           /* mmap'ed region                                 */
    size_t maplen;
    size_t released;     /* bytes at the map's start given back      */
};

/* in_discard gives pages back by IN_DISCARD_MIN bytes at least: each
 * madvise interrupts every other CPU running a thread of the process to
 * flush its TLB (the split check's second reader, the read-ahead thread,
 * the caller's own threads), which on a VM cost a third of the split
 * check's time when done batch by batch.  A mapped trace then keeps
 * about 10 MB resident a reader. */
#define IN_DISCARD_MIN ((uint64_t)4 << 20)

/* Initialisers; return 0 or a CTRACE_READER_E* code. */
int in_open_mem(struct input *in, const void *buf, size_t len);
int in_open_fd(struct input *in, int fd, int own_fd, int no_mmap);
void in_close(struct input *in);

/* Makes bytes up to file offset `upto` (exclusive) available if the input
 * has them.  Returns the end offset of available data (may be < upto at the
 * end of input), or a negative code on read/allocation error. */
int64_t in_fill(struct input *in, uint64_t upto);

/* Drops the bytes before file offset `off` (streams only). */
void in_release(struct input *in, uint64_t off);

/* Gives back to the kernel the whole pages inside [off, off+len) of a
 * mapped input, which the caller has finished with, if len is
 * IN_DISCARD_MIN or more (no-op otherwise). */
void in_discard(struct input *in, uint64_t off, uint64_t len);

static inline const uint8_t *in_ptr(const struct input *in, uint64_t off)
{
    return in->base + (off - in->base_off);
}

#endif
