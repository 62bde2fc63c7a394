/*
 * symbolize.c - PC -> function, file, line (inlined frames expanded) through
 * elfutils libdw/libdwfl (see symbolize.h).
 *
 * Invariants:
 *  - Single-threaded use (the flusher); no locks.  Never called from a
 *    signal handler, so malloc and file I/O are allowed.
 *  - Every string handed out is an interned copy owned by the symbolizer:
 *    libdw's strings die with their module, and a re-report after dlclose
 *    removes modules, so we never hand out libdw memory.
 *  - The cache maps (pc, is_return) to a run of frames in one growing frame
 *    array; it grows with the number of distinct PCs seen, which is bounded
 *    by the program's code.  Entries resolved while the PC was in no known
 *    module are provisional: they are resolved again after the next
 *    re-report of the module list, so a PC in a library dlopen'ed after we
 *    were created is found.
 *  - Re-reporting (re-reading /proc/self/maps through libdwfl) happens on a
 *    module miss when the dynamic loader's load/unload counters moved since
 *    the last report (or at most once per second otherwise), and in
 *    ct_symbolizer_sync (once per stack table) when they moved.  A re-report
 *    that drops a module (dlclose) empties the cache: another module may
 *    now occupy its addresses, and cached answers would name the old one.
 *  - No network: debuginfo is looked for locally (build-id tree, debuglink
 *    next to the file, /usr/lib/debug); libdwfl's standard callback would
 *    consult debuginfod when DEBUGINFOD_URLS is set, i.e. make HTTP requests
 *    from inside the traced program, which we never want.
 *  - Modules without .debug_aranges (clang output) get a sorted index of
 *    their CUs' address ranges, owned by the module's userdata.
 *  - DWARF is read from a module's own file, and for the executable from a
 *    separate debug file too.  A shared library whose DWARF exists only in
 *    a separate debug file (a distribution's -dbg/-dbgsym package) is
 *    resolved by its symbol table alone -- function names, no file:line or
 *    inline frames: decompressing that DWARF costs ~50 ms of CPU for libc
 *    alone, in every traced process, for frames whose sources are not
 *    installed anyway.  CTRACE_SYMBOLIZE=full reads it all the same.
 *  - Names from DWARF are used as they are (DW_AT_name: already the
 *    source's).  Names from symbol tables (stripped libraries, Rust's
 *    standard library, C++ built without -g) lose their version suffix
 *    and are demangled (C++, Rust: demangle.c, no allocation, bounded
 *    stack), then truncated to GT_MAX_STRING_SIZE as every name is.
 *  - Out of memory degrades to "?" frames, never to a crash.
 *  - Descriptors: libdwfl keeps the files of the modules it reads open
 *    (the executable, libc, debug files) for as long as the Dwfl lives, and
 *    its own open() calls do not ask for close-on-exec.  So the files are
 *    opened here, O_CLOEXEC, and handed to libdwfl through the find_elf and
 *    find_debuginfo callbacks (a descriptor libdwfl's fallbacks open is
 *    marked close-on-exec at once); and the Dwfl is closed when a trace
 *    stops (ct_symbolizer_close_files), so nothing stays open between
 *    traces.  The cache of resolved PCs survives the close: it is emptied
 *    on reopening only if the loader's counters moved meanwhile.  Not
 *    covered: split-DWARF .dwo files, which libdw opens by itself (only
 *    for programs built with -gsplit-dwarf).
 */
#define _GNU_SOURCE
#include "symbolize.h"

#include "demangle.h"
#include "dlcounts.h"
#include "env.h"
#include "gotrace.h"
#include "libc.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <gelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_INLINE 64              /* frames kept per PC (inline depth)     */
#define REREPORT_MIN_NS 1000000000 /* misses with unchanged loader counters */

struct centry {
    uintptr_t pc;      /* key (with is_return)                     */
    uint32_t first;    /* index into frames[]                      */
    uint16_t n;        /* frames for this PC                       */
    uint8_t is_return;
    uint8_t used;
    uint8_t nomod;     /* provisional: PC was in no known module   */
    uint32_t gen;      /* report generation when resolved (nomod)  */
};

struct ct_symbolizer {
    Dwfl *dwfl;
    int ready; /* dwfl opened (or adopted): done on first use */
    pid_t pid;

    struct centry *tab; /* open addressing, power-of-two capacity */
    size_t cap, used;

    struct ct_frame *frames; /* .pc unused in storage */
    size_t nframes, frames_cap;

    char **strs; /* interned strings, open addressing */
    size_t scap, sused;

    char exe[4096];           /* the executable's path (/proc/self/exe) */
    int separate_dwarf;       /* also read separate debug files of libraries */
    uint32_t gen;             /* bumped by each re-report           */
    uint64_t last_report_ns;
    unsigned long long dl_adds, dl_subs; /* loader counters at last report */
    int closed;               /* dwfl closed, cache kept (close_files)  */
};

static const char QMARK[] = "?";

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* String interning                                                    */
/* ------------------------------------------------------------------ */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int strs_grow(struct ct_symbolizer *s)
{
    size_t ncap = s->scap ? s->scap * 2 : 256;
    char **n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < s->scap; i++) {
        char *str = s->strs[i];
        if (!str)
            continue;
        size_t j = hash_str(str) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = str;
    }
    free(s->strs);
    s->strs = n;
    s->scap = ncap;
    return 0;
}

/* Returns a copy of str owned by s ("?" for NULL or on failure). */
static const char *intern(struct ct_symbolizer *s, const char *str)
{
    if (str == NULL || *str == '\0')
        return QMARK;
    if ((s->sused + 1) * 2 > s->scap && strs_grow(s) != 0)
        return QMARK;
    size_t j = hash_str(str) & (s->scap - 1);
    while (s->strs[j]) {
        if (strcmp(s->strs[j], str) == 0)
            return s->strs[j];
        j = (j + 1) & (s->scap - 1);
    }
    char *copy = strdup(str);
    if (!copy)
        return QMARK;
    s->strs[j] = copy;
    s->sused++;
    return copy;
}

/* ------------------------------------------------------------------ */
/* PC cache                                                            */
/* ------------------------------------------------------------------ */

static size_t hash_pc(uintptr_t pc, int is_return)
{
    uint64_t h = ((uint64_t)pc << 1 | (uint64_t)(is_return != 0)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20);
}

static int tab_grow(struct ct_symbolizer *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    struct centry *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->tab[i].used)
            continue;
        size_t j = hash_pc(s->tab[i].pc, s->tab[i].is_return) & (ncap - 1);
        while (n[j].used)
            j = (j + 1) & (ncap - 1);
        n[j] = s->tab[i];
    }
    free(s->tab);
    s->tab = n;
    s->cap = ncap;
    return 0;
}

/* Finds the entry for (pc, is_return), or the empty slot where it goes. */
/* Forgets every cached answer (the interned strings stay: cheap to keep,
 * and frames handed out earlier may still point at them). */
static void cache_clear(struct ct_symbolizer *s)
{
    if (s->tab)
        memset(s->tab, 0, s->cap * sizeof *s->tab);
    s->used = 0;
    s->nframes = 0;
}

static struct centry *tab_slot(struct ct_symbolizer *s, uintptr_t pc, int is_return)
{
    size_t j = hash_pc(pc, is_return) & (s->cap - 1);
    while (s->tab[j].used && !(s->tab[j].pc == pc && s->tab[j].is_return == is_return))
        j = (j + 1) & (s->cap - 1);
    return &s->tab[j];
}

/* Appends frames to the frame store; returns the index of the first, or
 * -1 when out of memory. */
static long frames_append(struct ct_symbolizer *s, const struct ct_frame *f, int n)
{
    if (s->nframes + (size_t)n > UINT32_MAX)
        return -1;
    if (s->nframes + (size_t)n > s->frames_cap) {
        size_t ncap = s->frames_cap ? s->frames_cap * 2 : 4096;
        while (ncap < s->nframes + (size_t)n)
            ncap *= 2;
        struct ct_frame *nf = realloc(s->frames, ncap * sizeof *nf);
        if (!nf)
            return -1;
        s->frames = nf;
        s->frames_cap = ncap;
    }
    memcpy(s->frames + s->nframes, f, (size_t)n * sizeof *f);
    long first = (long)s->nframes;
    s->nframes += (size_t)n;
    return first;
}

/* ------------------------------------------------------------------ */
/* Module list                                                         */
/* ------------------------------------------------------------------ */


/* (Re)reads the process's modules.  dwfl_report_begin/end keeps the modules
 * that are reported again (with their already loaded DWARF) and drops the
 * ones that were unmapped. */
static int removed_module(Dwfl_Module *mod, void *ud, const char *name, Dwarf_Addr base,
                          void *arg);

static void cache_clear(struct ct_symbolizer *s);

static int report_modules(struct ct_symbolizer *s)
{
    if (!s->dwfl)
        return -1;
    struct ct_dl_counts c = ct_dl_counts_now();
    unsigned removed = 0;
    dwfl_report_begin(s->dwfl);
    /* The maps file opened here, high (libdwfl's own open would take the
     * lowest free number, which the program may be about to close). */
    char maps[64];
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)s->pid);
    FILE *mf = ct_libc_fopen_high(maps);
    int rc = mf ? dwfl_linux_proc_maps_report(s->dwfl, mf) : -1;
    if (mf)
        fclose(mf);
    int rc2 = dwfl_report_end(s->dwfl, removed_module, &removed);
    if (removed)
        cache_clear(s);
    s->gen++;
    s->last_report_ns = mono_ns();
    s->dl_adds = c.adds;
    s->dl_subs = c.subs;
    return rc == 0 && rc2 == 0 ? 0 : -1;
}

/* A PC fell in no module: re-report if the loader says something changed,
 * or if it has been a while (code mapped by other means). */
static void maybe_rereport(struct ct_symbolizer *s)
{
    struct ct_dl_counts c = ct_dl_counts_now();
    int changed = c.ok && (c.adds != s->dl_adds || c.subs != s->dl_subs);
    if (changed || mono_ns() - s->last_report_ns >= REREPORT_MIN_NS)
        report_modules(s);
}

/* ------------------------------------------------------------------ */
/* Debuginfo lookup without debuginfod                                 */
/* ------------------------------------------------------------------ */

/* Accepts fd as the debug file of mod if its build ID matches (or mod has
 * none to compare with). */
static int debug_file_matches(Dwfl_Module *mod, int fd)
{
    const unsigned char *want;
    GElf_Addr vaddr;
    int wlen = dwfl_module_build_id(mod, &want, &vaddr);
    if (wlen <= 0)
        return 1;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf)
        return 0;
    const void *have;
    ssize_t hlen = dwelf_elf_gnu_build_id(elf, &have);
    int ok = hlen == wlen && memcmp(have, want, (size_t)wlen) == 0;
    elf_end(elf);
    return ok;
}

/* Marks a descriptor libdwfl opened itself close-on-exec (its open()
 * calls lack O_CLOEXEC).  Returns fd. */
static int cloexec(int fd)
{
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
    return fd;
}

/* find_elf: a module's file, opened here with O_CLOEXEC when it is a
 * regular file at an absolute path (what /proc/self/maps lists); anything
 * else (deleted files, the vDSO) through libdwfl's own callback. */
static int find_elf_cloexec(Dwfl_Module *mod, void **userdata, const char *modname,
                            Dwarf_Addr base, char **file_name, Elf **elfp)
{
    struct stat st;
    if (modname && modname[0] == '/' && stat(modname, &st) == 0 && S_ISREG(st.st_mode)) {
        int fd = ct_libc_open_high(modname, O_RDONLY);
        if (fd >= 0) {
            *file_name = strdup(modname);
            if (!*file_name) {
                ct_libc_close(fd);
                return -1;
            }
        }
        return fd;
    }
    return cloexec(dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp));
}

static int try_debug_path(Dwfl_Module *mod, const char *path, char **out_name)
{
    int fd = ct_libc_open_high(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (!debug_file_matches(mod, fd)) {
        ct_libc_close(fd);
        return -1;
    }
    *out_name = strdup(path);
    return fd;
}

static int find_debuginfo_local(Dwfl_Module *mod, void **userdata, const char *modname,
                                Dwarf_Addr base, const char *file_name,
                                const char *debuglink_file, GElf_Word debuglink_crc,
                                char **debuginfo_file_name)
{
    int saved_errno = errno;
    /* /usr/lib/debug/.build-id/xx/yyyy.debug: how distributions ship it;
     * opened here (O_CLOEXEC), else by libdwfl (then marked). */
    int fd = -1;
    const unsigned char *id;
    GElf_Addr vaddr;
    int idlen = dwfl_module_build_id(mod, &id, &vaddr);
    if (idlen >= 2 && idlen <= 64) {
        char path[64 + 2 * 64 + 16];
        int o = snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%02x/", id[0]);
        for (int i = 1; i < idlen; i++)
            o += snprintf(path + o, sizeof path - (size_t)o, "%02x", id[i]);
        snprintf(path + o, sizeof path - (size_t)o, ".debug");
        fd = try_debug_path(mod, path, debuginfo_file_name);
    }
    if (fd < 0)
        fd = cloexec(dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
                                                  debuglink_file, debuglink_crc,
                                                  debuginfo_file_name));
    if (fd < 0 && debuglink_file && file_name && strchr(debuglink_file, '/') == NULL) {
        char dir[4096], path[4096 + 512];
        snprintf(dir, sizeof dir, "%s", file_name);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            const char *fmts[] = {"%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s"};
            for (size_t i = 0; fd < 0 && i < sizeof fmts / sizeof fmts[0]; i++) {
                int w = snprintf(path, sizeof path, fmts[i], dir, debuglink_file);
                if (w <= 0 || (size_t)w >= sizeof path || strcmp(path, file_name) == 0)
                    continue;
                fd = try_debug_path(mod, path, debuginfo_file_name);
            }
        }
    }
    errno = saved_errno;
    return fd < 0 ? -1 : fd;
}

static char *no_debuginfo_path; /* NULL: libdwfl's default search path */
static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf_cloexec,
    .find_debuginfo = find_debuginfo_local,
    .debuginfo_path = &no_debuginfo_path,
};

/* ------------------------------------------------------------------ */
/* Resolution                                                          */
/* ------------------------------------------------------------------ */

/* Per-module index of CU address ranges, for modules without
 * .debug_aranges (clang does not emit them; libdw 0.188 then cannot map an
 * address to its CU).  Built lazily on the first such miss, hung on the
 * module's userdata, freed when the module goes away. */
struct cu_range {
    Dwarf_Addr lo, hi; /* DWARF addresses (unbiased) */
    Dwarf_Die cu;
};
struct cu_index {
    size_t n;
    struct cu_range r[];
};

static int cmp_range(const void *a, const void *b)
{
    const struct cu_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct cu_index *build_cu_index(Dwfl_Module *mod)
{
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
    size_t n = 0, cap = 0;
    struct cu_index *ix = NULL;
    Dwarf_CU *cu = NULL, *next;
    Dwarf_Die cudie, subdie;
    Dwarf_Half ver;
    uint8_t ut;
    while (dw && dwarf_get_units(dw, cu, &next, &ver, &ut, &cudie, &subdie) == 0) {
        cu = next;
        if (ut != DW_UT_compile && ut != DW_UT_skeleton && ut != DW_UT_partial)
            continue;
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
            if (lo >= hi)
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                struct cu_index *g = realloc(ix, sizeof *ix + ncap * sizeof ix->r[0]);
                if (!g)
                    goto done;
                ix = g;
                cap = ncap;
            }
            ix->r[n++] = (struct cu_range){lo, hi, cudie};
        }
    }
done:
    if (!ix && !(ix = malloc(sizeof *ix)))
        return NULL;
    ix->n = n;
    qsort(ix->r, n, sizeof ix->r[0], cmp_range);
    return ix;
}

/* What we keep per module, on its userdata: whether its own file carries
 * DWARF, and the CU index (built on demand). */
struct mod_info {
    int own_dwarf; /* -1 not looked at yet, else 0 or 1 */
    struct cu_index *ix;
};

static struct mod_info *mod_info_of(Dwfl_Module *mod)
{
    void **ud;
    if (!dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
        return NULL;
    if (*ud == NULL) {
        struct mod_info *mi = calloc(1, sizeof *mi);
        if (mi)
            mi->own_dwarf = -1;
        *ud = mi;
    }
    return *ud;
}

/* 1 if the module's own ELF file has a DWARF .debug_info section. */
static int elf_has_dwarf(Dwfl_Module *mod)
{
    Dwarf_Addr bias;
    Elf *e = dwfl_module_getelf(mod, &bias);
    size_t shstrndx;
    if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
        return 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn)) != NULL;) {
        GElf_Shdr sh;
        const char *name;
        if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
            (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
            return 1;
    }
    return 0;
}

/* Whether to read mod's DWARF (see the invariants at the top). */
static int wants_dwarf(struct ct_symbolizer *s, Dwfl_Module *mod)
{
    if (s->separate_dwarf)
        return 1;
    const char *name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (name && s->exe[0] && !strcmp(name, s->exe))
        return 1;
    struct mod_info *mi = mod_info_of(mod);
    if (!mi)
        return 1;
    if (mi->own_dwarf < 0)
        mi->own_dwarf = elf_has_dwarf(mod);
    return mi->own_dwarf;
}

/* The CU containing addr when dwfl_module_addrdie() cannot tell. */
static Dwarf_Die *cu_fallback(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias,
                              Dwarf_Die *out)
{
    struct mod_info *mi = mod_info_of(mod);
    if (!mi)
        return NULL;
    if (mi->ix == NULL)
        mi->ix = build_cu_index(mod);
    struct cu_index *ix = mi->ix;
    if (!ix || ix->n == 0 || !dwfl_module_getdwarf(mod, bias))
        return NULL;
    Dwarf_Addr a = addr - *bias;
    size_t lo = 0, hi = ix->n; /* first range with r.lo > a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->r[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Ranges rarely overlap; look back a little for one that contains a. */
    for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++)
        if (a >= ix->r[i - 1].lo && a < ix->r[i - 1].hi) {
            *out = ix->r[i - 1].cu;
            return out;
        }
    return NULL;
}

static int free_module_ud(Dwfl_Module *mod, void **ud, const char *name, Dwarf_Addr base,
                          void *arg)
{
    struct mod_info *mi = *ud;
    if (mi)
        free(mi->ix);
    free(mi);
    *ud = NULL;
    return DWARF_CB_OK;
}

/* dwfl_report_end's callback for a module that is gone (dlclose'd).
 * libdwfl passes the module's userdata slot (void **), as to the
 * dwfl_getmodules callbacks, although the prototype says void *: freeing
 * the slot itself freed a pointer into libdwfl's module (heap corruption,
 * an abort with glibc's malloc).  arg counts the modules dropped. */
static int removed_module(Dwfl_Module *mod, void *udp, const char *name, Dwarf_Addr base,
                          void *arg)
{
    (*(unsigned *)arg)++;
    return free_module_ud(mod, udp, name, base, NULL);
}

/* File name of entry idx of the line table of the CU containing die. */
static const char *cu_file(Dwarf_Die *die, Dwarf_Word idx)
{
    Dwarf_Die cu_mem;
    Dwarf_Die *cu = dwarf_diecu(die, &cu_mem, NULL, NULL);
    Dwarf_Files *files;
    size_t nfiles;
    if (!cu || dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
        return NULL;
    return dwarf_filesrc(files, idx, NULL, NULL);
}

static int attr_udata(Dwarf_Die *die, int name, Dwarf_Word *out)
{
    Dwarf_Attribute a;
    return dwarf_attr(die, name, &a) && dwarf_formudata(&a, out) == 0 ? 0 : -1;
}

/* Name of a subprogram or inlined_subroutine: dwarf_diename follows
 * DW_AT_abstract_origin and DW_AT_specification. */
static const char *die_func_name(Dwarf_Die *die)
{
    const char *n = dwarf_diename(die);
    if (!n) {
        Dwarf_Attribute a;
        n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    }
    return n;
}

/* Fills out[] with frames for addr (already adjusted for return addresses),
 * innermost first.  Returns the count (>= 1), sets *nomod if addr is in no
 * module. */
static int resolve(struct ct_symbolizer *s, Dwarf_Addr addr, struct ct_frame *out, int *nomod)
{
    *nomod = 0;
    out[0].func = QMARK;
    out[0].file = QMARK;
    out[0].line = 0;
    Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, addr) : NULL;
    Dwarf_Addr mstart = 0, mend = 0;
    /* dwfl_addrmodule can answer with a neighbouring module for addresses
     * in gaps between (or beyond) modules; trust only the module's range. */
    if (mod && (!dwfl_module_info(mod, NULL, &mstart, &mend, NULL, NULL, NULL, NULL) ||
                addr < mstart || addr >= mend))
        mod = NULL;
    if (!mod) {
        *nomod = 1;
        return 1;
    }

    Dwarf_Addr bias = 0;
    Dwarf_Die cu_mem;
    int dwarf = wants_dwarf(s, mod);
    Dwarf_Die *cudie = dwarf ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
    if (!cudie && dwarf)
        cudie = cu_fallback(mod, addr, &bias, &cu_mem);

    /* Innermost position: the line table row for addr. */
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *l = dwarf ? dwfl_module_getsrc(mod, addr) : NULL;
    if (l) {
        file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
    } else if (cudie) {
        Dwarf_Line *dl = dwarf_getsrc_die(cudie, addr - bias);
        if (dl) {
            file = dwarf_linesrc(dl, NULL, NULL);
            dwarf_lineno(dl, &line);
        }
    }

    int n = 0;
    if (cudie) {
        /* dwarf_getscopes() finds the innermost scope at the PC, but above
         * an inlined instance it continues with the scopes of the abstract
         * definition; the concrete chain of callers comes from
         * dwarf_getscopes_die() on that innermost DIE (as eu-addr2line -i
         * does). */
        Dwarf_Die *scopes = NULL;
        int ns = dwarf_getscopes(cudie, addr - bias, &scopes);
        if (ns > 0) {
            Dwarf_Die inner = scopes[0];
            free(scopes);
            scopes = NULL;
            ns = dwarf_getscopes_die(&inner, &scopes);
        }
        for (int i = 0; i < ns && n < MAX_INLINE; i++) {
            Dwarf_Die *d = &scopes[i];
            int tag = dwarf_tag(d);
            if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
                continue; /* lexical blocks and the CU itself */
            const char *fn = die_func_name(d);
            const char *ff = file;
            int fl = line;
            if (!ff && tag == DW_TAG_subprogram) {
                /* No line row: the function's declaration is the best hint. */
                ff = dwarf_decl_file(d);
                dwarf_decl_line(d, &fl);
            }
            out[n].func = intern(s, fn);
            out[n].file = intern(s, ff);
            out[n].line = fl > 0 ? (unsigned)fl : 0;
            n++;
            if (tag == DW_TAG_subprogram)
                break; /* the out-of-line function: outermost frame */
            /* The caller's position is the call site of this inline copy. */
            Dwarf_Word cf = 0, cl = 0;
            file = attr_udata(d, DW_AT_call_file, &cf) == 0 ? cu_file(d, cf) : NULL;
            line = attr_udata(d, DW_AT_call_line, &cl) == 0 ? (int)cl : 0;
        }
        free(scopes);
    }
    if (n > 0)
        return n;

    /* No DWARF scope: the ELF symbol table (its name without version,
     * demangled: demangle.h), then module+offset. */
    const char *sym = dwfl_module_addrname(mod, addr);
    if (sym) {
        char buf[GT_MAX_STRING_SIZE + 1]; /* what the string table keeps */
        ct_symbol_name(sym, buf, sizeof buf);
        out[0].func = intern(s, buf);
    } else {
        const char *mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        const char *base = mname ? strrchr(mname, '/') : NULL;
        base = base ? base + 1 : mname ? mname : "?";
        char buf[512];
        snprintf(buf, sizeof buf, "%s+0x%llx", base, (unsigned long long)(addr - mstart));
        out[0].func = intern(s, buf);
    }
    out[0].file = intern(s, file);
    out[0].line = line > 0 ? (unsigned)line : 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

struct ct_symbolizer *(*ct_symbolizer_adopt_hook)(void);

struct ct_symbolizer *ct_symbolizer_new(void)
{
    int saved_errno = errno;
    struct ct_symbolizer *s = calloc(1, sizeof *s);
    if (s) {
        s->pid = getpid();
        if (tab_grow(s) != 0) {
            free(s);
            s = NULL;
        }
    }
    errno = saved_errno;
    return s;
}

/* CTRACE_SYMBOLIZE=full, taken at initialization (ct_symbolizer_read_env)
 * from the environment parsed once (env.h). */
static int symbolize_full;

void ct_symbolizer_read_env(void)
{
    symbolize_full = ct_env()->symbolize_full;
}

static void open_dwfl(struct ct_symbolizer *s)
{
    s->ready = 1;
    ssize_t n = readlink("/proc/self/exe", s->exe, sizeof s->exe - 1);
    s->exe[n > 0 ? n : 0] = '\0';
    s->separate_dwarf = symbolize_full == 1;
    elf_version(EV_CURRENT);
    if (s->closed) {
        /* Reopened after ct_symbolizer_close_files: cached answers hold
         * only if no module came or went meanwhile. */
        struct ct_dl_counts c = ct_dl_counts_now();
        if (!c.ok || c.adds != s->dl_adds || c.subs != s->dl_subs)
            cache_clear(s);
        s->closed = 0;
    }
    s->dwfl = dwfl_begin(&dwfl_callbacks);
    /* A partial module list still resolves what it can; misses re-report. */
    report_modules(s);
}

/* First use: take over the prepared state (libdw's module list and
 * already loaded DWARF) if there is one for this process, else open. */
static void make_ready(struct ct_symbolizer *s)
{
    struct ct_symbolizer *p = ct_symbolizer_adopt_hook ? ct_symbolizer_adopt_hook() : NULL;
    if (p && p->pid == s->pid && p->dwfl && s->sused == 0) {
        s->ready = 1;
        s->dwfl = p->dwfl;
        s->gen = p->gen;
        s->last_report_ns = p->last_report_ns;
        s->dl_adds = p->dl_adds;
        s->dl_subs = p->dl_subs;
        free(s->strs); /* empty */
        s->strs = p->strs;
        s->scap = p->scap;
        s->sused = p->sused;
        p->dwfl = NULL;
        p->strs = NULL;
        p->scap = p->sused = 0;
        ct_symbolizer_free(p);
        return;
    }
    /* (Another process's state, from before a fork: left alone.) */
    open_dwfl(s);
}

/* The main executable's first executable segment (for warming). */
static int main_exec_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
            *(uintptr_t *)arg = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            break;
        }
    return 1; /* the first entry is the executable */
}

struct ct_symbolizer *ct_symbolizer_prepare(void)
{
    int saved_errno = errno;
    struct ct_symbolizer *s = ct_symbolizer_new();
    if (s && symbolize_full != 2) {
        open_dwfl(s);
        /* Nearly every stack ends in libc (__libc_start_call_main,
         * start_thread) and passes through the executable: load their
         * debug info now (for a distribution's libc, decompressing it is
         * ~50 ms). */
        uintptr_t pcs[2] = {(uintptr_t)&qsort, 0};
        dl_iterate_phdr(main_exec_cb, &pcs[1]);
        for (int i = 0; i < 2; i++) {
            struct ct_frame tmp[MAX_INLINE];
            int nomod;
            if (pcs[i])
                resolve(s, pcs[i], tmp, &nomod);
        }
    }
    errno = saved_errno;
    return s;
}

int ct_symbolize(struct ct_symbolizer *s, uintptr_t pc, int is_return, struct ct_frame *out,
                 int max)
{
    if (max <= 0)
        return 0;
    int saved_errno = errno;
    is_return = is_return != 0;
    struct ct_frame tmp[MAX_INLINE];
    const struct ct_frame *src = tmp;
    int n;

    if (symbolize_full == 2) {
        /* CTRACE_SYMBOLIZE=off: an unnamed frame (empty function name),
         * for `ctrace symbolize` to name from the trace's module records. */
        tmp[0].func = "";
        tmp[0].file = "";
        tmp[0].line = 0;
        n = 1;
        goto copy;
    }
    if (s == NULL) {
        tmp[0].func = QMARK;
        tmp[0].file = QMARK;
        tmp[0].line = 0;
        n = 1;
        goto copy;
    }
    if (!s->ready)
        make_ready(s);
    if ((s->used + 1) * 4 > s->cap * 3 && tab_grow(s) != 0) {
        /* Cannot cache: resolve without it. */
        int nomod;
        n = resolve(s, is_return && pc > 0 ? pc - 1 : pc, tmp, &nomod);
        goto copy;
    }
    struct centry *e = tab_slot(s, pc, is_return);
    if (e->used && e->nomod) {
        /* Provisional miss: retry once the module list may have changed. */
        if (e->gen == s->gen)
            maybe_rereport(s);
        if (e->gen == s->gen) {
            src = &s->frames[e->first];
            n = e->n;
            goto copy;
        }
    } else if (e->used) {
        src = &s->frames[e->first];
        n = e->n;
        goto copy;
    }

    Dwarf_Addr addr = is_return && pc > 0 ? pc - 1 : pc;
    int nomod;
    n = resolve(s, addr, tmp, &nomod);
    if (nomod && !e->used) {
        /* First miss: maybe the PC is in a library dlopen'ed since. */
        uint32_t g = s->gen;
        maybe_rereport(s);
        if (s->gen != g)
            n = resolve(s, addr, tmp, &nomod);
    }
    if (e->used && (size_t)n <= e->n) {
        memcpy(&s->frames[e->first], tmp, (size_t)n * sizeof tmp[0]); /* reuse */
    } else {
        long first = frames_append(s, tmp, n);
        if (first < 0)
            goto copy; /* uncached answer, still correct */
        e->first = (uint32_t)first;
    }
    if (!e->used)
        s->used++;
    e->used = 1;
    e->pc = pc;
    e->is_return = (uint8_t)is_return;
    e->n = (uint16_t)n;
    e->nomod = (uint8_t)nomod;
    e->gen = s->gen;
    src = &s->frames[e->first];

copy:
    if (n > max)
        n = max; /* keep the innermost frames */
    for (int i = 0; i < n; i++) {
        out[i].pc = pc;
        out[i].func = src[i].func;
        out[i].file = src[i].file;
        out[i].line = src[i].line;
    }
    errno = saved_errno;
    return n;
}

void ct_symbolizer_sync(struct ct_symbolizer *s)
{
    if (!s || !s->dwfl)
        return;
    int saved_errno = errno;
    struct ct_dl_counts c = ct_dl_counts_now();
    if (c.ok && (c.adds != s->dl_adds || c.subs != s->dl_subs))
        report_modules(s);
    errno = saved_errno;
}

void ct_symbolizer_close_files(struct ct_symbolizer *s)
{
    if (!s)
        return;
    int saved_errno = errno;
    /* A state prepared for us and not taken over yet holds files too
     * (waits for a preparation under way).  Another process's state, from
     * before a fork, is left alone, as make_ready does. */
    if (!s->ready && ct_symbolizer_adopt_hook) {
        struct ct_symbolizer *p = ct_symbolizer_adopt_hook();
        if (p && p->pid == s->pid)
            ct_symbolizer_free(p);
    }
    if (s->dwfl) {
        dwfl_getmodules(s->dwfl, free_module_ud, NULL, 0);
        dwfl_end(s->dwfl);
        s->dwfl = NULL;
        s->closed = 1;
    }
    s->ready = 0;
    errno = saved_errno;
}

void ct_symbolizer_free(struct ct_symbolizer *s)
{
    if (!s)
        return;
    if (s->dwfl) {
        dwfl_getmodules(s->dwfl, free_module_ud, NULL, 0);
        dwfl_end(s->dwfl);
    }
    for (size_t i = 0; i < s->scap; i++)
        free(s->strs[i]);
    free(s->strs);
    free(s->tab);
    free(s->frames);
    free(s);
}
