/*
 * demangle.c - symbol table names as people read them (see demangle.h),
 * through libiberty's demanglers, the ones gdb, binutils and perf use.
 *
 * Invariants:
 *  - Only the callback forms are called (cplus_demangle_v3_callback,
 *    rust_demangle_callback): they never allocate, so memory stays
 *    bounded and an allocation failure cannot reach libiberty's xmalloc,
 *    which exits the process.  D names (dlang_demangle allocates through
 *    xmalloc) are therefore left mangled.
 *  - The output goes to the caller's buffer; what does not fit is
 *    dropped, cut back to a UTF-8 character boundary (Rust v0 names may
 *    hold non-ASCII identifiers).
 *  - Stack: the C++ demangler keeps its parse tree in arrays on the stack
 *    (about 72 bytes per character of the mangled name) and recurses,
 *    bounded by libiberty's recursion limits (kept: DMGL_NO_RECURSE_LIMIT
 *    is never passed).  Names longer than MAX_MANGLED are not demangled:
 *    measured, the 74,000 C++ symbols of libLLVM-15, libclang-cpp-14 and
 *    libstdc++ (up to 613 characters) use at most 50 KB of stack, and
 *    synthetic nestings about 250 bytes per character, so at most ~260 KB
 *    here, far below a thread's default stack (8 MiB: the tracer's
 *    threads are created with the default attributes).  Longer names
 *    stay mangled, then truncated as every name is (1024 bytes).
 *  - Never called in a signal handler (the symbolizer runs on the
 *    tracer's thread; the tool in its main thread).
 */
#include "demangle.h"

#include <libiberty/demangle.h>
#include <string.h>

#define MAX_MANGLED 1024 /* bytes; see the stack bound above */

struct sink {
    char *p;
    size_t n, len; /* capacity (without the NUL), bytes written */
    int full;
};

static void put(const char *s, size_t len, void *arg)
{
    struct sink *k = arg;
    if (k->full)
        return;
    if (len > k->n - k->len) {
        len = k->n - k->len;
        k->full = 1;
    }
    memcpy(k->p + k->len, s, len);
    k->len += len;
}

/* Cuts a truncated UTF-8 string back to its last complete character. */
static size_t utf8_boundary(const char *s, size_t len)
{
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--; /* continuation bytes of the last character */
    if (i == 0)
        return len;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return len - (i - 1) >= need ? len : i - 1;
}

int ct_symbol_name(const char *sym, char *out, size_t n)
{
    if (n == 0)
        return 0;
    /* A versioned symbol ("pthread_cond_wait@@GLIBC_2.3.2", and C++
     * symbols of libstdc++ "..@@GLIBCXX_3.4"): the function's name is
     * what precedes the version. */
    const char *at = strchr(sym, '@');
    size_t len = at && at > sym ? (size_t)(at - sym) : strlen(sym);
    char mangled[MAX_MANGLED + 1];
    struct sink k = {out, n - 1, 0, 0};
    int ok = 0;
    if (len <= MAX_MANGLED && sym[0] == '_' && (sym[1] == 'Z' || sym[1] == 'R')) {
        memcpy(mangled, sym, len);
        mangled[len] = '\0';
        /* Rust first: its legacy names are valid C++ names too
         * ("_ZN3std2rt10lang_start17h...E"), read as Rust they lose the
         * hash; cplus_demangle does the same. */
        ok = rust_demangle_callback(mangled, 0, put, &k);
        if (!ok) {
            k.len = k.full = 0;
            ok = cplus_demangle_v3_callback(mangled, DMGL_PARAMS | DMGL_ANSI, put, &k);
        }
    }
    if (!ok || k.len == 0) {
        k.len = len < n - 1 ? len : n - 1;
        memcpy(out, sym, k.len);
        k.full = len > k.len;
        ok = 0;
    }
    if (k.full)
        k.len = utf8_boundary(out, k.len);
    out[k.len] = '\0';
    return ok;
}
