/*
 * cfirules.c - computing the cached call-frame rules (see cfirules.h).
 *
 * Invariants:
 *  - Runs in the advancer only (ct_ctl_lock held), or at a trace's start:
 *    one inserter, so a slot is claimed by a plain store of its rule and
 *    a release store of its key.
 *  - A requested PC is looked up in its module's own .eh_frame/.debug_frame
 *    through libdw (dwarf_getcfi_elf, dwarf_cfi_addrframe at pc - 1: a
 *    return address belongs to the call before it).  A module's file is
 *    opened O_CLOEXEC when a rule of it is first needed and kept open (at
 *    most MAX_OPEN) until the trace stops (ct_cfirules_close_files), as
 *    the symbolizer keeps its files: no descriptor of ours stays open
 *    between traces, and none comes and goes at every generation.
 */
#define _GNU_SOURCE
#include "cfirules.h"

#include "modmap.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libc.h"

#if defined(__x86_64__)
#define REG_SP 7
#define REG_FP 6
#elif defined(__aarch64__)
#define REG_SP 31
#define REG_FP 29
#else
#define REG_SP (-1)
#define REG_FP (-1)
#endif

_Atomic uint64_t ct_cfirules_full;

/* Offset N of a register rule "saved at CFA + N" as libdw describes it
 * (DW_OP_call_frame_cfa, then DW_OP_plus_uconst N unless N is 0).  0 on
 * success. */
static int cfa_offset_rule(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
    if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
        *off = 0;
        return 0;
    }
    if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
        *off = (int64_t)ops[1].number;
        return 0;
    }
    return -1;
}

/* The rule at elf_addr (the module's own address of pc - 1). */
static struct ct_cfi_rule rule_at(Dwarf_CFI *cfi, Dwarf_Addr elf_addr)
{
    struct ct_cfi_rule r = {0, 0, 0, CT_CFI_COMPLEX, 0};
    Dwarf_Frame *frame = NULL;
    if (REG_SP < 0 || !cfi || dwarf_cfi_addrframe(cfi, elf_addr, &frame) != 0)
        return r;
    bool signalp = false;
    int ra_reg = dwarf_frame_info(frame, NULL, NULL, &signalp);
    Dwarf_Op *ops, mem[3];
    size_t nops;
    int64_t off;
    if (signalp || ra_reg < 0)
        goto out;
    /* The return address: undefined ends the stack, else saved at CFA+N. */
    if (dwarf_frame_register(frame, ra_reg, mem, &ops, &nops) != 0)
        goto out;
    if (nops == 0 && ops == mem) {
        r.kind = CT_CFI_OUTERMOST;
        goto out;
    }
    if (cfa_offset_rule(ops, nops, &off) != 0 || off < INT16_MIN + 1 || off > INT16_MAX)
        goto out;
    r.ra_off = (int16_t)off;
    /* The CFA: sp or fp plus an offset. */
    if (dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
        goto out;
    if (ops[0].atom == DW_OP_breg0 + REG_SP || ops[0].atom == DW_OP_breg0 + REG_FP)
        r.cfa_is_fp = ops[0].atom == DW_OP_breg0 + REG_FP;
    else if (ops[0].atom == DW_OP_bregx && (ops[0].number == REG_SP || ops[0].number == REG_FP))
        r.cfa_is_fp = ops[0].number == REG_FP;
    else
        goto out;
    int64_t cfa_off = ops[0].atom == DW_OP_bregx ? (int64_t)ops[0].number2 : (int64_t)ops[0].number;
    if (cfa_off <= 0 || cfa_off > INT32_MAX)
        goto out;
    r.cfa_off = (int32_t)cfa_off;
    /* The caller's frame pointer: unchanged, or saved at CFA+N. */
    if (dwarf_frame_register(frame, REG_FP, mem, &ops, &nops) != 0)
        goto out;
    if (nops == 0 && ops == NULL)
        r.fp_off = CT_CFI_FP_SAME;
    else if (cfa_offset_rule(ops, nops, &off) == 0 && off > INT16_MIN && off <= INT16_MAX)
        r.fp_off = (int16_t)off;
    else
        goto out;
    r.kind = CT_CFI_SIMPLE;
out:
    free(frame);
    return r;
}

static void insert(uint64_t pc, struct ct_cfi_rule r)
{
    uint64_t h = ct_cfi_hash(pc);
    for (unsigned i = 0; i < CT_CFI_PROBE; i++) {
        struct ct_cfi_slot *s = &ct_cfi_table[(h + i) & (CT_CFI_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
        if (k == pc)
            return;
        if (k == 0) {
            s->rule = r;
            atomic_store_explicit(&s->key, pc, memory_order_release);
            return;
        }
    }
    atomic_fetch_add_explicit(&ct_cfirules_full, 1, memory_order_relaxed);
}

/* The CFI of one module for the pass: opened on first need. */
struct open_mod {
    const char *path;
    int fd;
    Elf *elf;
    Dwarf_CFI *cfi;
};

#define MAX_OPEN 16
static struct open_mod om[MAX_OPEN]; /* advancer only */
static int nom;

void ct_cfirules_fill(void)
{
    const struct ct_modmap *m = atomic_load_explicit(&ct_modmap_current, memory_order_acquire);
    if (!m)
        return;
    int saved_errno = errno;
    for (unsigned i = 0; i < CT_CFI_REQUESTS; i++) {
        uint64_t pc = atomic_exchange_explicit(&ct_cfi_requests[i], 0, memory_order_relaxed);
        if (pc == 0)
            continue;
        const struct ct_modrange *r = ct_modmap_find(m, (uintptr_t)pc);
        if (!r || r->fp || !r->path[0])
            continue; /* the walk never asks for these */
        struct open_mod *o = NULL;
        for (int k = 0; k < nom && !o; k++)
            if (om[k].path == r->path)
                o = &om[k];
        if (!o) {
            if (nom == MAX_OPEN)
                continue; /* asked again after the stop */
            o = &om[nom++];
            o->path = r->path;
            o->fd = ct_libc_open_high(r->path, O_RDONLY);
            elf_version(EV_CURRENT);
            o->elf = o->fd >= 0 ? elf_begin(o->fd, ELF_C_READ_MMAP, NULL) : NULL;
            o->cfi = o->elf ? dwarf_getcfi_elf(o->elf) : NULL;
        }
        insert(pc, rule_at(o->cfi, (Dwarf_Addr)(pc - 1 - r->bias)));
    }
    errno = saved_errno;
}

void ct_cfirules_close_files(void)
{
    int saved_errno = errno;
    for (int k = 0; k < nom; k++) {
        if (om[k].cfi)
            dwarf_cfi_end(om[k].cfi);
        if (om[k].elf)
            elf_end(om[k].elf);
        if (om[k].fd >= 0)
            ct_libc_close(om[k].fd);
    }
    nom = 0;
    errno = saved_errno;
}

void ct_cfirules_clear(void)
{
    for (unsigned i = 0; i < CT_CFI_SLOTS; i++)
        atomic_store_explicit(&ct_cfi_table[i].key, 0, memory_order_relaxed);
    for (unsigned i = 0; i < CT_CFI_REQUESTS; i++)
        atomic_store_explicit(&ct_cfi_requests[i], 0, memory_order_relaxed);
}
