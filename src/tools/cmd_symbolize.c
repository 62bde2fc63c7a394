/*
 * cmd_symbolize.c - `ctrace symbolize IN -o OUT`: names the unnamed frames
 * of a libctrace trace from its module records, possibly on another
 * machine than the one that wrote it.
 *
 * Invariants:
 *   - The trace side (which frames are unnamed, the module records, the
 *     new string and stack tables, events copied unchanged) is
 *     symtables.c's; this file names PCs and runs the command.
 *   - PCs are looked up as return addresses (pc - 1), which is what
 *     every frame but a CPU sample's innermost one is.
 *   - A module's ELF (from the generation's module records: path, load
 *     address, size, build ID)
 *     is the file at its path if its build ID matches, else
 *     DIR/.build-id/xx/yyyy (and .debug) under each --debug-dir and
 *     /usr/lib/debug, else debuginfod (only when DEBUGINFOD_URLS is set:
 *     libdw's own rule).  Its debug info is found by libdwfl's standard
 *     search (build ID under the same directories, .gnu_debuglink,
 *     MiniDebugInfo, debuginfod under the same rule).  Names come from DWARF
 *     (innermost function at the PC, its file and line), else the symbol
 *     tables (.symtab, .dynsym, .gnu_debugdata), demangled as the runtime
 *     demangles them (src/demangle).  Inlined callers are not
 *     expanded (one frame per PC, as in IN).
 *   - IN is never written; OUT is written to a temporary file renamed into
 *     place.  Counts of frames named and left unnamed are reported.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "demangle.h"
#include "symtables.h"

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

/* ------------------------------------------------------------------ */
/* Modules and names                                                   */
/* ------------------------------------------------------------------ */

struct symbolizer {
    char *debug_path; /* libdwfl's debuginfo_path: ":.debug:DIRS...:/usr/lib/debug" */
    char **dirs;      /* --debug-dir, then /usr/lib/debug */
    size_t ndirs;
    Dwfl_Callbacks cb;
    int quiet;
};

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
        ok = sym_hexval(hex[2 * i]) * 16 + sym_hexval(hex[2 * i + 1]) == ((const unsigned char *)id)[i];
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
static int find_module_elf(const struct symbolizer *sy, const struct sym_module *m, char **used)
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
static void name_pc(Dwfl *dwfl, Dwarf_Addr addr, struct sym_name *out)
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
    char buf[GT_MAX_STRING_SIZE + 1];
    if (!func) {
        /* The symbol table: without version, demangled, as the runtime
         * names it (demangle.h). */
        func = dwfl_module_addrname(mod, addr);
        if (func) {
            ct_symbol_name(func, buf, sizeof buf);
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

/* The namer of sym_rewrite(): names[0..n) through the generation's
 * modules, with libdwfl. */
static void name_all(void *arg, const struct sym_module *mods, size_t nmods, struct sym_name *names, size_t n,
                     struct sym_counts *c)
{
    struct symbolizer *sy = arg;
    Dwfl *dwfl = dwfl_begin(&sy->cb);
    if (!dwfl) {
        c->unnamed += n;
        return;
    }
    dwfl_report_begin(dwfl);
    for (size_t i = 0; i < nmods; i++) {
        char *used = NULL;
        int fd = find_module_elf(sy, &mods[i], &used);
        if (fd < 0) {
            c->modules_missing++;
            if (!sy->quiet)
                fprintf(stderr, "ctrace symbolize: not found: %s (build ID %s)\n", mods[i].path,
                        mods[i].build_id[0] ? mods[i].build_id : "none");
            continue;
        }
        /* libdwfl owns fd from here. */
        if (!dwfl_report_elf(dwfl, mods[i].path, used, fd, mods[i].base, true))
            close(fd);
        free(used);
    }
    dwfl_report_end(dwfl, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        name_pc(dwfl, names[i].pc - 1, &names[i]);
        if (names[i].symbol)
            c->named++;
        else
            c->unnamed++;
    }
    dwfl_end(dwfl);
}

static int write_output(const char *out, const struct sym_buf *o)
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
    struct sym_buf o = {0};
    struct sym_counts c = {0};
    char err[256];
    if (sym_rewrite(in, len, name_all, &sy, &o, &c, err, sizeof err) != 0) {
        fprintf(stderr, "ctrace symbolize: %s: %s\n", in_path, err);
        return 1;
    }
    if (write_output(out_path, &o) != 0) {
        fprintf(stderr, "ctrace symbolize: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    if (!quiet)
        printf("%s: %llu frames named, %llu left unnamed%s%llu module(s) not found\n", out_path,
               c.named, c.unnamed, ", ", c.modules_missing);
    free(o.p);
    free(in);
    free(sy.debug_path);
    free(sy.dirs);
    return 0;
}
