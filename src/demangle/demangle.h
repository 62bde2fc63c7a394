/*
 * demangle.h - the function name a symbol table entry stands for:
 * version suffix dropped, C++ and Rust names demangled (libiberty).
 * Shared by the runtime's symbolizer and `ctrace symbolize`.
 */
#ifndef CT_DEMANGLE_H
#define CT_DEMANGLE_H

#include <stddef.h>

/* Writes into out (size n >= 1, always NUL-terminated, truncated to fit
 * at a UTF-8 character boundary) the name of the function the ELF
 * symbol sym names: "pthread_cond_wait@@GLIBC_2.3.2" -> the part before
 * '@'; a C++ (Itanium ABI) or Rust (legacy or v0) mangled name ->
 * its demangled form, as gdb, perf and eu-stack print it (C++ with its
 * parameter list; Rust legacy without its "::h<hash>"); anything else
 * unchanged.  Returns 1 if the name was demangled, 0 otherwise.
 * Allocates nothing; not async-signal-safe (stack use: demangle.c). */
int ct_symbol_name(const char *sym, char *out, size_t n);

#endif
