/*
 * symtables.h - the trace side of `ctrace symbolize`: reads a v2 trace's
 * batches, finds per generation the frames that have no name and the module
 * records, asks a namer for names, and writes the trace again with new
 * string and stack tables.  The namer (cmd_symbolize.c: libdwfl, ELF and
 * debug files) is the only part that looks outside the trace, so this part
 * can be fuzzed alone (fuzz/fuzz_symbolize.c).
 *
 * Input is untrusted: every table entry is checked before it is used and a
 * malformed trace is an error with its offset, never a read out of bounds.
 * The only exit is on memory exhaustion (a command-line tool's policy).
 */
#ifndef CTRACE_TOOLS_SYMTABLES_H
#define CTRACE_TOOLS_SYMTABLES_H

#include <stddef.h>
#include <stdint.h>

/* A module record of the trace (docs/FORMAT.md, "Module records"). */
struct sym_module {
    char *path, *build_id; /* build_id: lowercase hex, "" if none */
    uint64_t base, size;
};

/* A PC to name.  The namer sets func and file (malloc'd; func NULL: not
 * named), line, and symbol (func is a symbol, not "module+0xOFF"). */
struct sym_name {
    uint64_t pc;
    char *func, *file;
    uint64_t line;
    int symbol;
};

struct sym_counts {
    unsigned long long named, unnamed, modules_missing;
};

/* Names names[0..n) (sorted by PC, distinct) from the generation's modules
 * mods[0..nmods) (nmods > 0), counting into c. */
typedef void sym_namer_fn(void *arg, const struct sym_module *mods, size_t nmods, struct sym_name *names,
                          size_t n, struct sym_counts *c);

/* A growing output buffer. */
struct sym_buf {
    uint8_t *p;
    size_t n, cap;
};

/* Writes the trace in[0..len) to out with the unnamed frames named by
 * namer(arg, ...).  0, or -1 with the reason (and its offset) in err when
 * the input is not a well-formed go 1.22/1.23 trace; out then holds
 * nothing to use.  Frees nothing of the caller's. */
int sym_rewrite(const uint8_t *in, size_t len, sym_namer_fn *namer, void *arg, struct sym_buf *out,
                struct sym_counts *c, char *err, size_t errlen);

/* Value of a lowercase hex digit, or -1. */
static inline int sym_hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
