/* test_demangle.c - ct_symbol_name (src/demangle): the names a symbol
 * table gives, as the trace shows them: version dropped, C++ and Rust
 * (legacy, v0) demangled, anything else unchanged; truncation at the
 * buffer's size on a UTF-8 boundary; over-long mangled names untouched. */
#include "demangle.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(const char *sym, size_t n, int want_rc, const char *want)
{
    char buf[256];
    int rc = ct_symbol_name(sym, buf, n);
    if (rc != want_rc || strcmp(buf, want) != 0) {
        printf("FAIL: %.60s -> %d \"%s\", expected %d \"%s\"\n", sym, rc, buf, want_rc, want);
        failures++;
    }
}

int main(void)
{
    expect("pthread_cond_wait@@GLIBC_2.3.2", 256, 0, "pthread_cond_wait");
    expect("main", 256, 0, "main");
    expect("_Zbogus", 256, 0, "_Zbogus");
    expect("_ZNSt6thread4joinEv@@GLIBCXX_3.4", 256, 1, "std::thread::join()");
    expect("_ZN6ctdemo9hold_lockEi", 256, 1, "ctdemo::hold_lock(int)");
    expect("_ZN12_GLOBAL__N_11fEv.cold", 256, 1, "(anonymous namespace)::f() [clone .cold]");
    expect("_ZN3std3sys9backtrace28__rust_begin_short_backtrace17h47b879cecb681ec7E", 256, 1,
           "std::sys::backtrace::__rust_begin_short_backtrace");
    expect("_RNvMNtNtNtNtCsjrHSEGnQ3l9_3std3sys4sync5mutex5futexNtB2_5Mutex14lock_contended", 256,
           1, "<std::sys::sync::mutex::futex::Mutex>::lock_contended");
    expect("_ZNSt6thread4joinEv", 8, 1, "std::th");          /* truncated */
    expect("ab\xc3\xa9", 4, 0, "ab");                           /* not half a character */
    static char big[3000]; /* over the demangler's length bound: untouched, cut */
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "_ZN", 3);
    char want[64];
    memcpy(want, big, 63);
    want[63] = '\0';
    expect(big, 64, 0, want);
    if (failures)
        return 1;
    printf("PASS\n");
    return 0;
}
