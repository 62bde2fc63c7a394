/*
 * fuzz_symbolize.c - libFuzzer target for the trace side of `ctrace
 * symbolize` (src/tools/symtables.c) on arbitrary bytes, with a namer that
 * names every even PC (and leaves odd ones unnamed) instead of reading ELF
 * files: no crash, leak or undefined behaviour; and a trace the reader
 * accepts stays one it accepts, with as many events, once its frames are
 * named (only the string and stack tables change).  Seeds: libctrace traces
 * written with CTRACE_SYMBOLIZE=off (fuzz/seeds/fuzz_symbolize), whose
 * frames are unnamed and which carry module records.
 */
#include "ctrace_reader.h"
#include "symtables.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void namer(void *arg, const struct sym_module *mods, size_t nmods, struct sym_name *names, size_t n,
                  struct sym_counts *c)
{
    (void)arg;
    for (size_t i = 0; i < nmods; i++) /* the records must be readable */
        if (strlen(mods[i].path) + strlen(mods[i].build_id) > (size_t)1 << 20)
            abort();
    for (size_t i = 0; i < n; i++) {
        if (i && names[i - 1].pc >= names[i].pc) /* sorted and distinct, as promised */
            abort();
        if (names[i].pc & 1) {
            c->unnamed++;
            continue;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "fn_%llx", (unsigned long long)names[i].pc);
        names[i].func = strdup(buf);
        names[i].file = strdup("fuzz.c");
        names[i].line = names[i].pc & 0xffff;
        names[i].symbol = 1;
        c->named++;
    }
}

/* The reader's verdict on a trace: 1 valid (and *events), 0 not. */
static int valid(const uint8_t *p, size_t n, uint64_t *events)
{
    ctrace_reader *r = NULL;
    int ok = 0;
    if (ctrace_reader_open_mem(p, n, 0, &r) == 0 && ctrace_reader_check(r, UINT64_MAX) == 0) {
        *events = ctrace_reader_event_count(r);
        ok = 1;
    }
    ctrace_reader_close(r);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sym_buf out = {0};
    struct sym_counts c = {0};
    char err[256];
    if (sym_rewrite(data, size, namer, NULL, &out, &c, err, sizeof err) == 0) {
        uint64_t before = 0, after = 0;
        if (valid(data, size, &before) && (!valid(out.p, out.n, &after) || after != before))
            abort();
    } else if (!err[0]) {
        abort(); /* an error says why */
    }
    free(out.p);
    return 0;
}
