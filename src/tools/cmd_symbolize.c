/*
 * cmd_symbolize.c - `ctrace symbolize IN -o OUT`: names the unnamed frames
 * of a libctrace trace from its module records, possibly on another
 * machine than the one that wrote it.
 *
 * Invariants:
 *   - Input: a v2 trace (go 1.22 / 1.23 header) made of event batches.
 *     Every batch is copied byte for byte except stack-table batches,
 *     which are re-encoded with new function/file/line for the frames
 *     named here, and one string-table batch (or more, each under
 *     GT_MAX_BATCH_SIZE) added per generation with the new names, placed
 *     right after that generation's last string batch (so a generation
 *     still ends with its frequency batch).  New string ids follow the
 *     generation's largest.  Event batches are never touched, so the
 *     events, their order and their stack ids are those of IN.
 *   - A frame is unnamed when its function is "" (CTRACE_SYMBOLIZE=off,
 *     or a crash-time snapshot's PC-only frames), "?" or "module+0xOFF"
 *     (the runtime found no symbol).  Frames with a name are kept.  Frames
 *     whose PC has bits 48 and up set are not addresses (inlined callers'
 *     PCs, module records) and are kept.  A PC names the same frame
 *     everywhere in a generation, as parsers require: names are decided per
 *     PC.  PCs are looked up as return addresses (pc - 1), which is what
 *     every frame but a CPU sample's innermost one is.
 *   - Modules: from the generation's module records (gotrace.h,
 *     GT_MODULE_*): path, load address, size, build ID; a generation
 *     without records (a flight recorder's crash generation) uses the
 *     previous generation's.  A module's ELF
 *     is the file at its path if its build ID matches, else
 *     DIR/.build-id/xx/yyyy (and .debug) under each --debug-dir and
 *     /usr/lib/debug, else debuginfod (only when DEBUGINFOD_URLS is set:
 *     libdw's own rule).  Its debug info is found by libdwfl's standard
 *     search (build ID under the same directories, .gnu_debuglink,
 *     MiniDebugInfo, debuginfod under the same rule).  Names come from DWARF
 *     (innermost function at the PC, its file and line), else the symbol
 *     tables (.symtab, .dynsym, .gnu_debugdata).  Inlined callers are not
 *     expanded (one frame per PC, as in IN).
 *   - IN is never written; OUT is written to a temporary file renamed into
 *     place.  Counts of frames named and left unnamed are reported.
 */
#define _GNU_SOURCE
#include "commands.h"

#include "gotrace.h"
#include "varint.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
    "usage: ctrace symbolize [-q] [--debug-dir DIR]... IN -o OUT\n"
    "\n"
    "Names the unnamed frames of a trace libctrace wrote (function \"\" with\n"
    "CTRACE_SYMBOLIZE=off, \"?\" or \"module+0xOFF\" where no symbol was found) from\n"
    "the modules the trace records (path, load address, build ID), and writes the\n"
    "result to OUT.  Modules are found by path (when the build ID matches), then by\n"
    "build ID under each DIR and /usr/lib/debug (DIR/.build-id/xx/yyyy[.debug]);\n"
    "debug info by build ID, .gnu_debuglink and MiniDebugInfo; and through\n"
    "debuginfod when DEBUGINFOD_URLS is set (never otherwise).  Events are\n"
    "copied unchanged.\n"
    "\n"
    "  --debug-dir DIR  also look for binaries and debug files under DIR\n"
    "  -q               print nothing but errors\n"
    "  -o OUT           output file\n";

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        uint8_t *g = realloc(b, cap * 2);
        if (!g) {
            free(b);
            b = NULL;
            break;
        }
        b = g;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* One batch of the input: where its header starts, its data. */
struct batch {
    size_t start;
    uint64_t gen, m, ts;
    const uint8_t *data;
    size_t len;
};

/* ------------------------------------------------------------------ */
/* Growing arrays and an id -> index map                               */
/* ------------------------------------------------------------------ */

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *g = realloc(p, n * elem);
    if (!g) {
        fprintf(stderr, "ctrace symbolize: out of memory\n");
        exit(1);
    }
    *cap = n;
    return g;
}

/* ------------------------------------------------------------------ */
/* Modules and names                                                   */
/* ------------------------------------------------------------------ */

struct module {
    char *path, *build_id;
    uint64_t base, size;
};

struct name {
    uint64_t pc;
    char *func, *file; /* NULL func: in no module found */
    uint64_t line;
    int symbol;        /* func is a symbol, not "module+0xOFF" */
};

struct symbolizer {
    char *debug_path; /* libdwfl's debuginfo_path: ":.debug:DIRS...:/usr/lib/debug" */
    char **dirs;      /* --debug-dir, then /usr/lib/debug */
    size_t ndirs;
    Dwfl_Callbacks cb;
    int quiet;
    /* The last generation's module records: for a generation that has
     * none (the crash snapshot's last one, encoded in a signal handler). */
    struct module *last_mods;
    size_t nlast_mods;
};

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 1 if the ELF file fd has the build ID given in hex (or hex is empty). */
static int build_id_matches(int fd, const char *hex)
{
    if (!hex[0])
        return 1;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf)
        return 0;
    const void *id;
    ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
    int ok = n > 0 && strlen(hex) == (size_t)n * 2;
    for (ssize_t i = 0; ok && i < n; i++)
        ok = hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]) == ((const unsigned char *)id)[i];
    elf_end(elf);
    return ok;
}

/* Opens the file at path if its build ID is hex; -1 otherwise. */
static int open_matching(const char *path, const char *hex)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && !build_id_matches(fd, hex)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* debuginfod, when DEBUGINFOD_URLS is set: libdebuginfod, loaded here
 * (libdw loads it the same way for its own lookups). */
#include <dlfcn.h>
static int debuginfod_executable(const char *hex, char **path)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    if (!urls || !*urls || !hex[0])
        return -1;
    void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -1;
    void *(*begin)(void) = (void *(*)(void))dlsym(h, "debuginfod_begin");
    int (*find)(void *, const unsigned char *, int, char **) =
        (int (*)(void *, const unsigned char *, int, char **))dlsym(h, "debuginfod_find_executable");
    void (*end)(void *) = (void (*)(void *))dlsym(h, "debuginfod_end");
    int fd = -1;
    if (begin && find && end) {
        void *c = begin();
        if (c) {
            /* A build ID given as hex text: length 0 says so. */
            fd = find(c, (const unsigned char *)hex, 0, path);
            end(c);
        }
    }
    return fd < 0 ? -1 : fd;
}

/* The module's ELF file: its path, else by build ID under the debug
 * directories (the binary, then its debug file), else debuginfod. */
static int find_module_elf(const struct symbolizer *sy, const struct module *m, char **used)
{
    int fd = open_matching(m->path, m->build_id);
    if (fd >= 0) {
        *used = strdup(m->path);
        return fd;
    }
    if (strlen(m->build_id) >= 4) {
        for (size_t i = 0; i < sy->ndirs; i++) {
            static const char *const suffix[] = {"", ".debug"};
            for (int k = 0; k < 2; k++) {
                char p[8192];
                snprintf(p, sizeof p, "%s/.build-id/%.2s/%s%s", sy->dirs[i], m->build_id,
                         m->build_id + 2, suffix[k]);
                if ((fd = open_matching(p, m->build_id)) >= 0) {
                    *used = strdup(p);
                    return fd;
                }
            }
        }
    }
    char *p = NULL;
    if ((fd = debuginfod_executable(m->build_id, &p)) >= 0) {
        *used = p;
        return fd;
    }
    free(p);
    return -1;
}

static int parse_module(const char *desc, const char *path, struct module *m)
{
    unsigned long long base, size;
    char id[129] = "";
    if (strncmp(desc, GT_MODULE_FUNC_PREFIX, strlen(GT_MODULE_FUNC_PREFIX)) != 0 ||
        sscanf(desc + strlen(GT_MODULE_FUNC_PREFIX), "base=0x%llx size=0x%llx build-id=%128[0-9a-f]",
               &base, &size, id) < 2)
        return -1;
    m->base = base;
    m->size = size;
    m->path = strdup(path);
    m->build_id = strdup(id);
    return m->path && m->build_id ? 0 : -1;
}

/* Name of a subprogram or inlined instance (follows abstract origins). */
static const char *die_name(Dwarf_Die *d)
{
    const char *n = dwarf_diename(d);
    if (!n) {
        Dwarf_Attribute a;
        n = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_linkage_name, &a));
    }
    return n;
}

/* Names addr (a PC - 1) in dwfl: the innermost function from DWARF, else
 * the symbol table; file and line from the line table. */
static void name_pc(Dwfl *dwfl, Dwarf_Addr addr, struct name *out)
{
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
    if (!mod)
        return;
    const char *func = NULL, *file = NULL;
    int line = 0;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
    if (cu) {
        Dwarf_Die *scopes = NULL;
        int n = dwarf_getscopes(cu, addr - bias, &scopes);
        for (int i = 0; i < n && !func; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
                func = die_name(&scopes[i]);
        }
        free(scopes);
    }
    Dwfl_Line *l = dwfl_module_getsrc(mod, addr);
    if (l)
        file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
    char buf[1024];
    if (!func) {
        func = dwfl_module_addrname(mod, addr);
        const char *at = func ? strchr(func, '@') : NULL;
        if (at && at > func) { /* "pthread_cond_wait@@GLIBC_2.3.2" */
            snprintf(buf, sizeof buf, "%.*s", (int)(at - func), func);
            func = buf;
        }
    }
    if (!func) {
        /* No symbol: "module+0xOFF", as the runtime writes it (still
         * counted as unnamed). */
        Dwarf_Addr start = 0;
        const char *mname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        const char *base = mname ? strrchr(mname, '/') : NULL;
        snprintf(buf, sizeof buf, "%s+0x%llx", base ? base + 1 : mname ? mname : "?",
                 (unsigned long long)(addr - start));
        out->func = strdup(buf);
        out->file = strdup("?");
        out->line = 0;
        out->symbol = 0;
        return;
    }
    out->symbol = 1;
    out->func = strdup(func);
    out->file = strdup(file ? file : "?");
    out->line = line > 0 ? (uint64_t)line : 0;
}

/* 1 if a frame's function name says it was not named. */
static int unnamed(const char *s, size_t len)
{
    if (len == 0 || (len == 1 && s[0] == '?'))
        return 1;
    /* "module+0xOFF": no space, ends in "+0x" and hex digits */
    if (memchr(s, ' ', len))
        return 0;
    size_t i = len;
    while (i > 0 && hexval(s[i - 1]) >= 0)
        i--;
    return i >= 3 && i < len && s[i - 1] == 'x' && s[i - 2] == '0' && s[i - 3] == '+';
}

/* ------------------------------------------------------------------ */
/* One generation                                                      */
/* ------------------------------------------------------------------ */

struct str {
    uint64_t id;
    const uint8_t *p;
    size_t len;
};

struct gen_state {
    struct str *strs;
    size_t nstrs, strs_cap;
    uint64_t max_id;
    struct module *mods;
    size_t nmods, mods_cap;
    struct name *names; /* PCs to name, sorted by pc after collection */
    size_t nnames, names_cap;
};

static int cmp_str(const void *a, const void *b)
{
    const struct str *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_name(const void *a, const void *b)
{
    const struct name *x = a, *y = b;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static const struct str *find_str(const struct gen_state *g, uint64_t id)
{
    struct str key = {id, NULL, 0};
    return g->nstrs ? bsearch(&key, g->strs, g->nstrs, sizeof *g->strs, cmp_str) : NULL;
}

static struct name *find_name(struct gen_state *g, uint64_t pc)
{
    struct name key = {pc, NULL, NULL, 0, 0};
    return g->nnames ? bsearch(&key, g->names, g->nnames, sizeof *g->names, cmp_name) : NULL;
}

/* Reads one varint of a table batch, or fails the command. */
static uint64_t rv(const uint8_t **p, const uint8_t *end)
{
    uint64_t v;
    if (varint_get(p, end, &v) != 0) {
        fprintf(stderr, "ctrace symbolize: malformed table batch\n");
        exit(1);
    }
    return v;
}

static void collect_strings(struct gen_state *g, const struct batch *b)
{
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        if (*p++ != GT_EV_STRING) {
            fprintf(stderr, "ctrace symbolize: malformed string batch\n");
            exit(1);
        }
        uint64_t id = rv(&p, end), len = rv(&p, end);
        if (len > (uint64_t)(end - p)) {
            fprintf(stderr, "ctrace symbolize: malformed string batch\n");
            exit(1);
        }
        g->strs = grow(g->strs, &g->strs_cap, g->nstrs + 1, sizeof *g->strs);
        g->strs[g->nstrs++] = (struct str){id, p, (size_t)len};
        if (id > g->max_id)
            g->max_id = id;
        p += len;
    }
}

/* Calls fn(arg, frame fields, where the frame's fields start/end) for
 * every frame of a stack batch. */
static void each_frame(const struct batch *b,
                       void (*fn)(void *arg, uint64_t stack, const uint64_t f[4]), void *arg)
{
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        if (*p++ != GT_EV_STACK) {
            fprintf(stderr, "ctrace symbolize: malformed stack batch\n");
            exit(1);
        }
        uint64_t id = rv(&p, end), n = rv(&p, end);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t f[4];
            for (int k = 0; k < 4; k++)
                f[k] = rv(&p, end);
            fn(arg, id, f);
        }
    }
}

static void collect_frame(void *arg, uint64_t stack, const uint64_t f[4])
{
    struct gen_state *g = arg;
    const struct str *fs = find_str(g, f[1]), *file = find_str(g, f[2]);
    if (stack >= GT_MODULE_STACK_BASE && f[0] >= GT_MODULE_PC_BASE && fs && file) {
        char desc[512], path[4096];
        snprintf(desc, sizeof desc, "%.*s", (int)fs->len, (const char *)fs->p);
        snprintf(path, sizeof path, "%.*s", (int)file->len, (const char *)file->p);
        g->mods = grow(g->mods, &g->mods_cap, g->nmods + 1, sizeof *g->mods);
        if (parse_module(desc, path, &g->mods[g->nmods]) == 0)
            g->nmods++;
        return;
    }
    if (f[0] >> 48)
        return; /* an inlined caller's PC: not an address */
    if (fs ? !unnamed((const char *)fs->p, fs->len) : f[1] != 0)
        return;
    g->names = grow(g->names, &g->names_cap, g->nnames + 1, sizeof *g->names);
    g->names[g->nnames++] = (struct name){f[0], NULL, NULL, 0, 0};
}

/* Output: a growing byte buffer and table batches under the size limit. */
struct out {
    uint8_t *p;
    size_t n, cap;
};

static void out_put(struct out *o, const void *p, size_t n)
{
    o->p = grow(o->p, &o->cap, o->n + n, 1);
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void out_varint(struct out *o, uint64_t v)
{
    uint8_t tmp[VARINT_MAX_LEN];
    out_put(o, tmp, (size_t)(varint_put(tmp, v) - tmp));
}

/* Writes a table batch (kind byte + body) of generation gen. */
static void out_batch(struct out *o, const struct batch *like, uint8_t kind, const uint8_t *body,
                      size_t len)
{
    uint8_t k = GT_EV_EVENT_BATCH;
    out_put(o, &k, 1);
    out_varint(o, like->gen);
    out_varint(o, like->m);
    out_varint(o, like->ts);
    out_varint(o, len + 1);
    out_put(o, &kind, 1);
    out_put(o, body, len);
}

/* Splits entries into batches no larger than GT_MAX_BATCH_SIZE. */
struct table_out {
    struct out *o;
    const struct batch *like;
    uint8_t kind;
    struct out body;
};

static void table_entry(struct table_out *t, const uint8_t *e, size_t len)
{
    if (t->body.n + len + 1 > GT_MAX_BATCH_SIZE && t->body.n) {
        out_batch(t->o, t->like, t->kind, t->body.p, t->body.n);
        t->body.n = 0;
    }
    out_put(&t->body, e, len);
}

static void table_flush(struct table_out *t)
{
    if (t->body.n)
        out_batch(t->o, t->like, t->kind, t->body.p, t->body.n);
    free(t->body.p);
    t->body = (struct out){0};
}

struct counts {
    unsigned long long named, unnamed, modules_missing;
};

/* The frames of a stack batch, with new names where found. */
static void rewrite_stacks(struct gen_state *g, const struct batch *b, struct out *o,
                           const uint64_t *func_id, const uint64_t *file_id)
{
    struct table_out t = {o, b, GT_EV_STACKS, {0}};
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    struct out e = {0};
    while (p < end) {
        p++; /* GT_EV_STACK, checked while collecting */
        uint64_t id = rv(&p, end), n = rv(&p, end);
        e.n = 0;
        uint8_t k = GT_EV_STACK;
        out_put(&e, &k, 1);
        out_varint(&e, id);
        out_varint(&e, n);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t f[4];
            for (int j = 0; j < 4; j++)
                f[j] = rv(&p, end);
            struct name *nm = (f[0] >> 48) ? NULL : find_name(g, f[0]);
            if (nm && nm->func) {
                size_t ix = (size_t)(nm - g->names);
                f[1] = func_id[ix];
                f[2] = file_id[ix];
                f[3] = nm->line;
            }
            for (int j = 0; j < 4; j++)
                out_varint(&e, f[j]);
        }
        table_entry(&t, e.p, e.n);
    }
    free(e.p);
    table_flush(&t);
}

static void free_modules(struct module *mods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(mods[i].path);
        free(mods[i].build_id);
    }
    free(mods);
}

/* Names g->names through the generation's modules. */
static void name_all(struct symbolizer *sy, struct gen_state *g, struct counts *c)
{
    Dwfl *dwfl = dwfl_begin(&sy->cb);
    if (!dwfl)
        return;
    dwfl_report_begin(dwfl);
    for (size_t i = 0; i < g->nmods; i++) {
        char *used = NULL;
        int fd = find_module_elf(sy, &g->mods[i], &used);
        if (fd < 0) {
            c->modules_missing++;
            if (!sy->quiet)
                fprintf(stderr, "ctrace symbolize: not found: %s (build ID %s)\n", g->mods[i].path,
                        g->mods[i].build_id[0] ? g->mods[i].build_id : "none");
            continue;
        }
        /* libdwfl owns fd from here. */
        if (!dwfl_report_elf(dwfl, g->mods[i].path, used, fd, g->mods[i].base, true))
            close(fd);
        free(used);
    }
    dwfl_report_end(dwfl, NULL, NULL);
    for (size_t i = 0; i < g->nnames; i++) {
        name_pc(dwfl, g->names[i].pc - 1, &g->names[i]);
        if (g->names[i].symbol)
            c->named++;
        else
            c->unnamed++;
    }
    dwfl_end(dwfl);
}

/* Handles the generation made of batches [first, last). */
static void do_generation(struct symbolizer *sy, const uint8_t *in, const struct batch *bs,
                          size_t first, size_t last, struct out *o, struct counts *c)
{
    struct gen_state g = {0};
    size_t last_strings = last;
    for (size_t i = first; i < last; i++)
        if (bs[i].len && bs[i].data[0] == GT_EV_STRINGS) {
            collect_strings(&g, &bs[i]);
            last_strings = i;
        }
    /* (qsort's array may not be NULL, even for no elements.) */
    if (g.nstrs > 1)
        qsort(g.strs, g.nstrs, sizeof *g.strs, cmp_str);
    for (size_t i = first; i < last; i++)
        if (bs[i].len && bs[i].data[0] == GT_EV_STACKS)
            each_frame(&bs[i], collect_frame, &g);
    if (g.nnames > 1)
        qsort(g.names, g.nnames, sizeof *g.names, cmp_name);
    size_t w = 0; /* unique PCs */
    for (size_t i = 0; i < g.nnames; i++)
        if (w == 0 || g.names[w - 1].pc != g.names[i].pc)
            g.names[w++] = g.names[i];
    g.nnames = w;
    int borrowed = 0;
    if (!g.nmods && sy->nlast_mods) {
        g.mods = sy->last_mods;
        g.nmods = sy->nlast_mods;
        borrowed = 1;
    }
    if (g.nnames && g.nmods)
        name_all(sy, &g, c);
    else
        c->unnamed += g.nnames;

    if (last_strings == last) /* no string table to add names to: keep all */
        for (size_t i = 0; i < g.nnames; i++) {
            free(g.names[i].func);
            g.names[i].func = NULL;
        }
    /* New strings: one per distinct name. */
    uint64_t *func_id = calloc(g.nnames + 1, sizeof *func_id);
    uint64_t *file_id = calloc(g.nnames + 1, sizeof *file_id);
    struct out news = {0};
    uint64_t next = g.max_id + 1;
    struct table_out strt = {o, last_strings < last ? &bs[last_strings] : NULL, GT_EV_STRINGS, {0}};
    for (size_t i = 0; i < g.nnames; i++) {
        if (!g.names[i].func)
            continue;
        const char *s[2] = {g.names[i].func, g.names[i].file};
        uint64_t *ids[2] = {&func_id[i], &file_id[i]};
        for (int k = 0; k < 2; k++) {
            size_t len = strlen(s[k]);
            if (len > GT_MAX_STRING_SIZE)
                len = GT_MAX_STRING_SIZE;
            *ids[k] = next;
            news.n = 0;
            uint8_t kind = GT_EV_STRING;
            out_put(&news, &kind, 1);
            out_varint(&news, next++);
            out_varint(&news, len);
            out_put(&news, s[k], len);
            if (strt.like)
                table_entry(&strt, news.p, news.n);
        }
    }
    free(news.p);

    for (size_t i = first; i < last; i++) {
        if (bs[i].len && bs[i].data[0] == GT_EV_STACKS)
            rewrite_stacks(&g, &bs[i], o, func_id, file_id);
        else
            out_put(o, in + bs[i].start, (size_t)(bs[i].data + bs[i].len - (in + bs[i].start)));
        if (i == last_strings)
            table_flush(&strt);
    }
    free(strt.body.p);
    free(func_id);
    free(file_id);
    for (size_t i = 0; i < g.nnames; i++) {
        free(g.names[i].func);
        free(g.names[i].file);
    }
    if (!borrowed && g.nmods) { /* the newest records: kept for the next generation */
        free_modules(sy->last_mods, sy->nlast_mods);
        sy->last_mods = g.mods;
        sy->nlast_mods = g.nmods;
    } else if (!borrowed) {
        free(g.mods);
    }
    free(g.names);
    free(g.strs);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static int parse_batches(const uint8_t *in, size_t len, struct batch **out, size_t *nout)
{
    struct batch *bs = NULL;
    size_t n = 0, cap = 0;
    const uint8_t *p = in + GT_HEADER_LEN, *end = in + len;
    while (p < end) {
        size_t start = (size_t)(p - in);
        if (*p++ != GT_EV_EVENT_BATCH) {
            fprintf(stderr, "ctrace symbolize: unexpected byte at offset %zu (not a batch)\n", start);
            free(bs);
            return -1;
        }
        uint64_t gen, m, ts, blen;
        if (varint_get(&p, end, &gen) || varint_get(&p, end, &m) || varint_get(&p, end, &ts) ||
            varint_get(&p, end, &blen) || blen > (uint64_t)(end - p)) {
            fprintf(stderr, "ctrace symbolize: batch at offset %zu is cut short\n", start);
            free(bs);
            return -1;
        }
        bs = grow(bs, &cap, n + 1, sizeof *bs);
        bs[n++] = (struct batch){start, gen, m, ts, p, (size_t)blen};
        p += blen;
    }
    *out = bs;
    *nout = n;
    return 0;
}

static int write_output(const char *out, const struct out *o)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < o->n) {
        ssize_t w = write(fd, o->p + done, o->n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        done += (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || close(fd) != 0 || rename(tmp, out) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int cmd_symbolize(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    int quiet = 0;
    struct symbolizer sy = {0};
    sy.dirs = calloc((size_t)argc + 1, sizeof *sy.dirs);
    if (!sy.dirs)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "-q")) {
            quiet = sy.quiet = 1;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out_path = argv[++i];
        } else if (!strcmp(argv[i], "--debug-dir") && i + 1 < argc) {
            sy.dirs[sy.ndirs++] = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ctrace symbolize: unknown option %s\n%s", argv[i], help);
            return 2;
        } else if (!in_path) {
            in_path = argv[i];
        } else {
            fprintf(stderr, "ctrace symbolize: one input only\n%s", help);
            return 2;
        }
    }
    if (!in_path || !out_path) {
        fputs(help, stderr);
        return 2;
    }
    sy.dirs[sy.ndirs++] = "/usr/lib/debug";
    size_t plen = 16;
    for (size_t i = 0; i < sy.ndirs; i++)
        plen += strlen(sy.dirs[i]) + 1;
    sy.debug_path = malloc(plen);
    if (!sy.debug_path)
        return 1;
    strcpy(sy.debug_path, ":.debug");
    for (size_t i = 0; i < sy.ndirs; i++) {
        strcat(sy.debug_path, ":");
        strcat(sy.debug_path, sy.dirs[i]);
    }
    sy.cb = (Dwfl_Callbacks){.find_elf = dwfl_build_id_find_elf,
                             .find_debuginfo = dwfl_standard_find_debuginfo,
                             .debuginfo_path = &sy.debug_path};
    elf_version(EV_CURRENT);

    struct stat si, so;
    if (stat(in_path, &si) == 0 && stat(out_path, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino) {
        fprintf(stderr, "ctrace symbolize: OUT is IN; write to another file\n");
        return 2;
    }
    uint8_t *in;
    size_t len;
    if (read_file(in_path, &in, &len) != 0) {
        fprintf(stderr, "ctrace symbolize: %s: %s\n", in_path, strerror(errno));
        return 1;
    }
    if (len < GT_HEADER_LEN || (memcmp(in, GT_HEADER_GO122, GT_HEADER_LEN) != 0 &&
                                memcmp(in, GT_HEADER_GO123, GT_HEADER_LEN) != 0)) {
        fprintf(stderr, "ctrace symbolize: %s: not a go 1.22/1.23 trace\n", in_path);
        return 1;
    }
    struct batch *bs;
    size_t nb;
    if (parse_batches(in, len, &bs, &nb) != 0)
        return 1;
    struct out o = {0};
    out_put(&o, in, GT_HEADER_LEN);
    struct counts c = {0};
    for (size_t i = 0; i < nb;) {
        size_t j = i;
        while (j < nb && bs[j].gen == bs[i].gen)
            j++;
        do_generation(&sy, in, bs, i, j, &o, &c);
        i = j;
    }
    free_modules(sy.last_mods, sy.nlast_mods);
    if (write_output(out_path, &o) != 0) {
        fprintf(stderr, "ctrace symbolize: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    if (!quiet)
        printf("%s: %llu frames named, %llu left unnamed%s%llu module(s) not found\n", out_path,
               c.named, c.unnamed, ", ", c.modules_missing);
    free(o.p);
    free(bs);
    free(in);
    free(sy.debug_path);
    free(sy.dirs);
    return 0;
}
