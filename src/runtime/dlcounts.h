/*
 * dlcounts.h - the dynamic loader's load and unload counters: how the
 * symbolizer and the module map tell, with one dl_iterate_phdr call, that
 * no module came or went since they last looked.
 *
 * Invariant: the counters (dlpi_adds, dlpi_subs) are global and only grow,
 * so equal counters mean an unchanged module list; ok = 0 when the C
 * library does not provide them (then callers must assume a change).
 */
#ifndef CTRACE_RUNTIME_DLCOUNTS_H
#define CTRACE_RUNTIME_DLCOUNTS_H

#include <link.h>
#include <stddef.h>

struct ct_dl_counts {
    unsigned long long adds, subs;
    int ok;
};

static int ct_dl_counts_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ct_dl_counts *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
        c->ok = 1;
    }
    return 1; /* the counters are global: the first module is enough */
}

static inline struct ct_dl_counts ct_dl_counts_now(void)
{
    struct ct_dl_counts c = {0, 0, 0};
    dl_iterate_phdr(ct_dl_counts_cb, &c);
    return c;
}

#endif /* CTRACE_RUNTIME_DLCOUNTS_H */
