/*
 * modmap.c - the map of modules that keep frame pointers (see modmap.h).
 *
 * Invariants:
 *  - Classifications are cached per (path, load address) in a list that
 *    only grows (bounded by the distinct modules the process ever maps) and
 *    is touched under class_lock only; the maps are built from it.  Callers
 *    in the runtime hold ct_ctl_lock as well, which the fork handler takes,
 *    so no build is under way at a fork.
 *  - How a module is classified (ct_modmap_classify): its .eh_frame_hdr
 *    search table, as mapped, lists every FDE's start in address order.  Up
 *    to SAMPLES FDEs spread over the table, of functions at least
 *    MIN_SPAN bytes long (shorter ones are often leaves without a frame
 *    even in frame-pointer builds), are looked up in the module's CFI with
 *    libdw (dwarf_getcfi_elf, dwarf_cfi_addrframe) at the middle of the
 *    function, past any prologue: a function that keeps a frame pointer
 *    computes its CFA from it there (DW_OP_breg6 rbp / breg29 x29), one
 *    built without computes it from the stack pointer.  Code built without
 *    frame pointers uses an rbp-based CFA only in functions that realign
 *    the stack or call alloca, so the split is clear; the module keeps
 *    frame pointers when at least half of the sampled functions do.
 *  - The file is opened O_CLOEXEC and closed before returning.
 */
#define _GNU_SOURCE
#include "modmap.h"

#include "dlcounts.h"
#include "libc.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLES 32
#define MIN_SPAN 32

#if defined(__x86_64__)
#define FP_DWARF_REG 6 /* rbp */
#elif defined(__aarch64__)
#define FP_DWARF_REG 29 /* x29 */
#else
#define FP_DWARF_REG (-1)
#endif

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

/* Reads an .eh_frame_hdr field of encoding enc at *p (only the encodings
 * linkers write: 4- and 8-byte, absolute or relative to the field or to
 * the header).  0 on success. */
static int hdr_read(const unsigned char **p, const unsigned char *end, unsigned enc,
                    const unsigned char *hdr, uintptr_t *out)
{
    const unsigned char *at = *p;
    int64_t v;
    switch (enc & 0x0f) {
    case DW_EH_PE_udata4: {
        uint32_t u;
        if (end - at < 4)
            return -1;
        memcpy(&u, at, 4);
        v = u;
        *p += 4;
        break;
    }
    case DW_EH_PE_sdata4: {
        int32_t i;
        if (end - at < 4)
            return -1;
        memcpy(&i, at, 4);
        v = i;
        *p += 4;
        break;
    }
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8:
        if (end - at < 8)
            return -1;
        memcpy(&v, at, 8);
        *p += 8;
        break;
    default:
        return -1;
    }
    switch (enc & 0x70) {
    case DW_EH_PE_absptr:
        *out = (uintptr_t)v;
        return 0;
    case DW_EH_PE_pcrel:
        *out = (uintptr_t)at + (uintptr_t)v;
        return 0;
    case DW_EH_PE_datarel:
        *out = (uintptr_t)hdr + (uintptr_t)v;
        return 0;
    default:
        return -1;
    }
}

/* 1 if the CFA at addr (the module's own addresses) is computed from the
 * frame-pointer register, 0 if not, -1 if the CFI does not cover addr. */
static int cfa_uses_fp(Dwarf_CFI *cfi, Dwarf_Addr addr)
{
    Dwarf_Frame *frame = NULL;
    if (dwarf_cfi_addrframe(cfi, addr, &frame) != 0)
        return -1;
    Dwarf_Op *ops = NULL;
    size_t nops = 0;
    int r = -1;
    if (dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops >= 1)
        r = ops[0].atom == DW_OP_breg0 + FP_DWARF_REG ||
            (ops[0].atom == DW_OP_bregx && (int)ops[0].number == FP_DWARF_REG);
    free(frame);
    return r;
}

int ct_modmap_classify(const char *path, uintptr_t bias, const void *eh_frame_hdr,
                       size_t eh_frame_hdr_size)
{
    if (!path || path[0] != '/' || !eh_frame_hdr || eh_frame_hdr_size < 12 || FP_DWARF_REG < 0)
        return -1;
    const unsigned char *hdr = eh_frame_hdr, *end = hdr + eh_frame_hdr_size, *p = hdr + 4;
    uintptr_t eh_frame, count;
    if (hdr[0] != 1 || hdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) ||
        hdr_read(&p, end, hdr[1], hdr, &eh_frame) != 0 || hdr_read(&p, end, hdr[2], hdr, &count) != 0)
        return -1;
    /* The table: count pairs of 4-byte offsets from hdr (start, FDE). */
    if (count == 0 || count > (uintptr_t)(end - p) / 8)
        return -1;
    const int32_t *tab = (const int32_t *)(const void *)p;

    int saved_errno = errno;
    int result = -1;
    int fd = ct_libc_open_high(path, O_RDONLY);
    if (fd < 0)
        goto out;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    Dwarf_CFI *cfi = elf ? dwarf_getcfi_elf(elf) : NULL;
    if (cfi) {
        int sampled = 0, with_fp = 0;
        size_t step = count > SAMPLES ? count / SAMPLES : 1;
        for (size_t i = 0; i + 1 < count && sampled < SAMPLES; i += step) {
            int32_t a, b;
            memcpy(&a, &tab[2 * i], 4);
            memcpy(&b, &tab[2 * (i + 1)], 4);
            uintptr_t lo = (uintptr_t)hdr + (uintptr_t)(intptr_t)a;
            uintptr_t hi = (uintptr_t)hdr + (uintptr_t)(intptr_t)b;
            if (hi < lo + MIN_SPAN)
                continue;
            int r = cfa_uses_fp(cfi, lo + (hi - lo) / 2 - bias);
            if (r < 0)
                continue;
            sampled++;
            with_fp += r;
        }
        if (sampled > 0)
            result = with_fp * 2 >= sampled;
        dwarf_cfi_end(cfi);
    }
    if (elf)
        elf_end(elf);
    ct_libc_close(fd);
out:
    errno = saved_errno;
    return result;
}

/* ------------------------------------------------------------------ */
/* The cache of classified modules                                     */
/* ------------------------------------------------------------------ */

struct known {
    struct known *next;
    uintptr_t bias;
    int fp;
    char path[];
};

static pthread_mutex_t class_lock = PTHREAD_MUTEX_INITIALIZER;
static struct known *known_list;
static unsigned long long built_adds, built_subs; /* loader counters of the last map */
static int built_any;

/* The module's classification; *name: its path, kept for the process's
 * life ("" when out of memory). */
static int known_fp(const char *path, uintptr_t bias, const void *hdr, size_t hdr_size,
                    const char **name)
{
    *name = "";
    for (struct known *k = known_list; k; k = k->next)
        if (k->bias == bias && !strcmp(k->path, path)) {
            *name = k->path;
            return k->fp;
        }
    int c = ct_modmap_classify(path, bias, hdr, hdr_size);
    int fp = c != 0; /* unknown: frame pointers (modmap.h) */
    size_t len = strlen(path);
    struct known *k = malloc(sizeof *k + len + 1);
    if (k) {
        k->bias = bias;
        k->fp = fp;
        memcpy(k->path, path, len + 1);
        k->next = known_list;
        known_list = k;
        *name = k->path;
    }
    return fp;
}

struct build_ctx {
    struct ct_modmap *m;
    size_t cap;
    char exe[4096];
    int failed;
};

static int build_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct build_ctx *c = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    const void *hdr = NULL;
    size_t hdr_size = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t s = info->dlpi_addr + ph->p_vaddr;
            if (s < lo)
                lo = s;
            if (s + ph->p_memsz > hi)
                hi = s + ph->p_memsz;
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            hdr = (const void *)(info->dlpi_addr + ph->p_vaddr);
            hdr_size = ph->p_memsz;
        }
    }
    if (lo >= hi)
        return 0;
    /* The executable comes first, with an empty name. */
    const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
                       : c->m->n == 0 && c->exe[0]       ? c->exe
                                                          : "";
    if (c->m->n == c->cap) {
        size_t ncap = c->cap * 2;
        struct ct_modmap *g = realloc(c->m, sizeof *g + ncap * sizeof g->r[0]);
        if (!g) {
            c->failed = 1;
            return 1;
        }
        c->m = g;
        c->cap = ncap;
    }
    const char *name;
    int fp = known_fp(path, info->dlpi_addr, hdr, hdr_size, &name);
    c->m->r[c->m->n++] = (struct ct_modrange){lo, hi, fp, info->dlpi_addr, name};
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const struct ct_modrange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct ct_modmap *build_locked(struct build_ctx *c)
{
    c->cap = 32;
    c->m = malloc(sizeof *c->m + c->cap * sizeof c->m->r[0]);
    if (!c->m)
        return NULL;
    c->m->n = 0;
    ssize_t n = readlink("/proc/self/exe", c->exe, sizeof c->exe - 1);
    c->exe[n > 0 ? n : 0] = '\0';
    dl_iterate_phdr(build_cb, c);
    if (c->failed) {
        free(c->m);
        return NULL;
    }
    qsort(c->m->r, c->m->n, sizeof c->m->r[0], cmp_range);
    return c->m;
}

struct ct_modmap *ct_modmap_build(void)
{
    int saved_errno = errno;
    struct build_ctx *c = calloc(1, sizeof *c);
    struct ct_modmap *m = NULL;
    if (c) {
        ct_libc_mutex_lock(&class_lock);
        m = build_locked(c);
        ct_libc_mutex_unlock(&class_lock);
        free(c);
    }
    errno = saved_errno;
    return m;
}

struct ct_modmap *ct_modmap_refresh(void)
{
    int saved_errno = errno;
    struct ct_dl_counts now = ct_dl_counts_now();
    struct ct_modmap *old = NULL;
    ct_libc_mutex_lock(&class_lock);
    if (!built_any || !now.ok || now.adds != built_adds || now.subs != built_subs) {
        struct build_ctx *c = calloc(1, sizeof *c);
        struct ct_modmap *m = c ? build_locked(c) : NULL;
        if (m) {
            m->adds = now.adds;
            m->subs = now.subs;
            m->counted = now.ok;
            built_any = 1;
            /* Counted before the build: a change during it is seen next time. */
            built_adds = now.adds;
            built_subs = now.subs;
            old = atomic_exchange_explicit(&ct_modmap_current, m, memory_order_acq_rel);
        }
        free(c);
    }
    ct_libc_mutex_unlock(&class_lock);
    errno = saved_errno;
    return old;
}

void ct_modmap_free(struct ct_modmap *m)
{
    free(m);
}
