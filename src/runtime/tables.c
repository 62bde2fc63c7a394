/*
 * tables.c - the advancer writes a finished generation's tables: the stack
 * table (symbolized here), the string table and the CPU-sample batches.
 * Their entries were collected by the dedup maps (dedup.c, through
 * intern.c) and the per-thread sample rings (cpuprof.c).
 *
 * Invariants (tables.h): only the advancer runs this, for a generation no
 * thread writes into any more.  Stacks are written before strings because
 * symbolizing a stack inserts its function and file names.
 *
 * Module records (docs/FORMAT.md, "Module records"): with stacks on, each
 * generation's stack table also holds one stack per loaded module, which
 * no event references: id GT_MODULE_STACK_BASE + i, one frame whose PC is
 * GT_MODULE_PC_BASE + i (above every user address and every inline PC),
 * function "ctrace:module base=0x.. size=0x.. build-id=HEX", file the
 * module's path.  That is what `ctrace symbolize` needs to name PCs later,
 * on another machine; every generation carries its own (a generation is
 * self-contained, and modules come and go).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cpuprof.h"
#include "event.h"
#include "symbolize.h"
#include "tables.h"
#include "thread.h"
#include "trace.h"

static struct ct_buf *tw_room(struct ct_table_writer *w, size_t need)
{
    if (w->b && ct_buf_room_reserved(w->b) >= need)
        return w->b;
    if (w->b) {
        ct_buf_finish(w->b);
        ct_queue_buf(w->b);
    }
    w->b = ct_buf_alloc(w->gen, GT_NO_ID, 0, 1);
    if (w->b)
        ct_buf_put_byte(w->b, w->first);
    return w->b;
}

void ct_table_writer_flush(struct ct_table_writer *w)
{
    if (w->b) {
        ct_buf_finish(w->b);
        ct_queue_buf(w->b);
        w->b = NULL;
    }
}

uint64_t ct_table_string(uint64_t gen, const char *s)
{
    size_t len = strlen(s);
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    return ct_dedup_put(&ct_rt.strings[gen & 1], s, (uint32_t)len, ct_hash_bytes(s, len), NULL);
}

/* A string of the generation's stack table (a frame's function or file,
 * a module record), written at its end: these may use the slots kept back
 * from the traced threads (dedup.h), so that a string table the program
 * filled with its own strings does not leave the stacks unnamed. */
static uint64_t table_string_reserved(uint64_t gen, const char *s)
{
    size_t len = strlen(s);
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    return ct_dedup_put_reserved(&ct_rt.strings[gen & 1], s, (uint32_t)len, ct_hash_bytes(s, len));
}

/* The addresses of this object (libctrace.so, or the executable libctrace.a
 * is linked into): from its own ELF header and program headers, which
 * the loader maps (no loader lock, no call). */
extern const char __ehdr_start[] __attribute__((visibility("hidden"))); /* the ELF header:
                                    an array of unknown size, as the program headers follow it */
static void self_range(uintptr_t *lo, uintptr_t *hi)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)(const void *)__ehdr_start;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    uintptr_t base = 0, end = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
            base = (uintptr_t)eh - ph[i].p_vaddr; /* load bias */
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && base + ph[i].p_vaddr + ph[i].p_memsz > end)
            end = base + ph[i].p_vaddr + ph[i].p_memsz;
    *lo = (uintptr_t)eh;
    *hi = end;
}

/* Whether pc is a frame the runtime named (trace.h, CT_CALL_PC): a tag
 * bit over the address of a name inside libctrace itself.  A walked
 * return address is never trusted to be one: garbage from a broken frame
 * chain (or a vsyscall-page PC) may carry the same bits, so the address
 * must lie in this object before it is read as a name. */
static int synthetic_pc(uintptr_t pc)
{
    static uintptr_t lo, hi; /* the advancer's alone */
    if (!(pc & CT_SYNTH_PC_TAGS) || (pc >> 63))
        return 0;
    if (!hi)
        self_range(&lo, &hi);
    uintptr_t addr = pc & ~(uintptr_t)CT_SYNTH_PC_TAGS;
    return addr >= lo && addr < hi;
}

struct stack_emit {
    struct ct_table_writer w;
    struct ct_symbolizer *symbolizer;
    uint8_t tmp[GT_MAX_FRAMES_PER_STACK * 4 * VARINT_MAX_LEN + 32];
};

static void write_stack(void *arg, const struct ct_dedup_node *n)
{
    struct stack_emit *se = arg;
    const uintptr_t *pcs = (const uintptr_t *)n->data;
    int npcs = (int)(n->len / sizeof(uintptr_t));
    /* Frame count is known only after inline expansion: encode the frames
     * to tmp first. */
    uint8_t *p = se->tmp;
    int nframes = 0;
    for (int i = 0; i < npcs && nframes < GT_MAX_FRAMES_PER_STACK; i++) {
        struct ct_frame fr[8];
        /* pcs[0] of a CPU sample or a start routine is an exact address:
         * such stacks have an odd hash (ct_stack_id_exact). */
        int is_return = !(i == 0 && (n->hash & 1));
        int k = 0;
        if (synthetic_pc(pcs[i])) {
            /* A frame named by the runtime (trace.h, CT_CALL_PC and
             * CT_NAME_PC): the C library call the thread waits in, the
             * main thread's root.  Not symbolized. */
            fr[0].pc = pcs[i];
            fr[0].func = (const char *)(pcs[i] & ~(uintptr_t)CT_SYNTH_PC_TAGS);
            fr[0].file = pcs[i] & CT_CALL_PC_TAG ? "libc" : "?";
            fr[0].line = 0;
            k = 1;
        } else if (se->symbolizer) {
            k = ct_symbolize(se->symbolizer, pcs[i], is_return, fr, 8);
        }
        if (k <= 0) {
            fr[0].pc = pcs[i];
            fr[0].func = "?";
            fr[0].file = "?";
            fr[0].line = 0;
            k = 1;
        }
        /* The interposer's thread trampoline sits between start_thread and
         * the program's start routine: the trace shows the program's own
         * frames, as Go's stacks do not show the scheduler's. */
        if (i > 0 && !strcmp(fr[k - 1].func, "ct_thread_trampoline"))
            continue;
        for (int j = 0; j < k && nframes < GT_MAX_FRAMES_PER_STACK; j++) {
            /* Go 1.23 keys frames by PC: give each inlined caller a PC of
             * its own, outside any user address (bits 48+). */
            uint64_t pc = (uint64_t)pcs[i] + ((uint64_t)j << 48);
            p = varint_put(p, pc);
            p = varint_put(p, table_string_reserved(se->w.gen, fr[j].func));
            p = varint_put(p, table_string_reserved(se->w.gen, fr[j].file));
            p = varint_put(p, fr[j].line);
            nframes++;
        }
    }
    size_t body = (size_t)(p - se->tmp);
    struct ct_buf *b = tw_room(&se->w, body + 1 + 2 * VARINT_MAX_LEN);
    if (!b)
        return;
    ct_buf_put_byte(b, GT_EV_STACK);
    ct_buf_put(b, n->id);
    ct_buf_put(b, (uint64_t)nframes);
    memcpy(b->pos, se->tmp, body);
    b->pos += body;
}

static void put_string(struct ct_table_writer *w, uint64_t id, const void *data, size_t len)
{
    struct ct_buf *b = tw_room(w, len + 1 + 2 * VARINT_MAX_LEN);
    if (!b)
        return;
    ct_buf_put_byte(b, GT_EV_STRING);
    ct_buf_put(b, id);
    ct_buf_put(b, len);
    memcpy(b->pos, data, len);
    b->pos += len;
}

static void write_string(void *arg, const struct ct_dedup_node *n)
{
    put_string(arg, n->id, n->data, n->len);
}

int ct_table_write_lone_string(uint64_t gen, const char *s)
{
    size_t len = strlen(s);
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    struct ct_table_writer w = {gen, GT_EV_STRINGS, NULL};
    put_string(&w, atomic_fetch_add(&ct_rt.strings[gen & 1].next_id, 1), s, len);
    if (!w.b)
        return -1;
    ct_table_writer_flush(&w);
    return 0;
}

void ct_table_drain_samples(struct ct_thread *t, struct ct_table_writer *sw)
{
    if (!t->prof)
        return;
    uint64_t lost = ct_cpuprof_take_dropped(t->prof);
    if (lost)
        atomic_fetch_add_explicit(&ct_rt.samples_dropped, lost, memory_order_relaxed);
    struct ct_sample s;
    while (ct_cpuprof_pop(t->prof, &s)) {
        if (ct_table_put_sample(sw, &s, t->m, t->p, t->g) != 0) {
            /* No memory for a batch: this sample is lost (counted); the
             * rest wait in the ring for the next drain. */
            atomic_fetch_add_explicit(&ct_rt.samples_dropped, 1, memory_order_relaxed);
            return;
        }
    }
}

int ct_table_put_sample(struct ct_table_writer *sw, const struct ct_sample *s, uint64_t m,
                        uint64_t p, uint64_t g)
{
    uint64_t stack = 0;
    if (ct_rt.stack_mode != CTRACE_STACKS_NONE)
        stack = ct_stack_id_exact(sw->gen, s->pcs, (int)s->nframes);
    struct ct_buf *b = tw_room(sw, 1 + 5 * VARINT_MAX_LEN);
    if (!b)
        return -1;
    ct_buf_put_byte(b, GT_EV_CPU_SAMPLE);
    ct_buf_put(b, s->ts >> ct_clock.shift);
    ct_buf_put(b, m);
    ct_buf_put(b, p);
    ct_buf_put(b, g);
    ct_buf_put(b, stack);
    atomic_fetch_add_explicit(&ct_rt.samples, 1, memory_order_relaxed);
    return 0;
}

struct module_emit {
    struct stack_emit *se;
    uint64_t index;
    char exe[4096];
};

/* The GNU build ID of a loaded module, from its PT_NOTE segments (mapped
 * memory), as lowercase hex into hex[] (empty when it has none). */
static void module_build_id(const struct dl_phdr_info *info, char *hex, size_t cap)
{
    hex[0] = '\0';
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
            size_t name_sz = (nh->n_namesz + 3) & ~(size_t)3, desc_sz = (nh->n_descsz + 3) & ~(size_t)3;
            const unsigned char *name = p + sizeof *nh, *desc = name + name_sz;
            if ((size_t)(end - name) < name_sz || (size_t)(end - desc) < desc_sz)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
                nh->n_descsz * 2 + 1 <= cap) {
                for (size_t k = 0; k < nh->n_descsz; k++)
                    snprintf(hex + 2 * k, 3, "%02x", desc[k]);
                return;
            }
            p = desc + desc_sz;
        }
    }
}

static int write_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct module_emit *me = arg;
    const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
                       : me->index == 0                     ? me->exe
                                                           : "";
    uint64_t end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > end)
            end = ph->p_vaddr + ph->p_memsz;
    }
    uint64_t index = me->index++;
    if (path[0] != '/' || end == 0)
        return 0; /* the vDSO: nothing to find on another machine */
    char id[2 * 64 + 1], desc[256];
    module_build_id(info, id, sizeof id);
    snprintf(desc, sizeof desc, GT_MODULE_FUNC_PREFIX "base=0x%llx size=0x%llx build-id=%s",
             (unsigned long long)info->dlpi_addr, (unsigned long long)end, id);
    uint8_t *p = me->se->tmp;
    p = varint_put(p, GT_MODULE_PC_BASE + index);
    p = varint_put(p, table_string_reserved(me->se->w.gen, desc));
    p = varint_put(p, table_string_reserved(me->se->w.gen, path));
    p = varint_put(p, 0);
    size_t body = (size_t)(p - me->se->tmp);
    struct ct_buf *b = tw_room(&me->se->w, body + 1 + 2 * VARINT_MAX_LEN);
    if (!b)
        return 1;
    ct_buf_put_byte(b, GT_EV_STACK);
    ct_buf_put(b, GT_MODULE_STACK_BASE + index);
    ct_buf_put(b, 1);
    memcpy(b->pos, me->se->tmp, body);
    b->pos += body;
    return 0;
}

void ct_table_write_stacks(uint64_t gen, struct ct_symbolizer *sym)
{
    struct stack_emit *se = malloc(sizeof *se);
    if (se) {
        se->w = (struct ct_table_writer){gen, GT_EV_STACKS, NULL};
        se->symbolizer = sym;
        if (ct_rt.stack_mode != CTRACE_STACKS_NONE) {
            struct module_emit *me = malloc(sizeof *me);
            if (me) {
                me->se = se;
                me->index = 0;
                ssize_t n = readlink("/proc/self/exe", me->exe, sizeof me->exe - 1);
                me->exe[n > 0 ? n : 0] = '\0';
                dl_iterate_phdr(write_module, me);
                free(me);
            }
        }
        ct_dedup_each(&ct_rt.stacks[gen & 1], write_stack, se);
        ct_table_writer_flush(&se->w);
        free(se);
    }
}

void ct_table_write_strings(uint64_t gen)
{
    struct ct_table_writer strw = {gen, GT_EV_STRINGS, NULL};
    ct_dedup_each(&ct_rt.strings[gen & 1], write_string, &strw);
    ct_table_writer_flush(&strw);
}
