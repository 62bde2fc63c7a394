/*
 * symbolize.h - PC to function, file and line (with inlined frames), through
 * elfutils libdw.  Used when a generation's stack table is written: never on
 * the hot path, never from a signal handler.
 *
 * Invariants:
 *  - One symbolizer is used by one thread at a time (the flusher).
 *  - Results are cached by PC for the life of the symbolizer; returned
 *    strings live as long as the symbolizer.
 *  - A PC in a module loaded after the symbolizer was created (dlopen) is
 *    found by re-reading the process's module list on a miss (rate-limited).
 *  - Creating a symbolizer is cheap: libdw is opened (or a prepared state
 *    adopted) on the first ct_symbolize(), so a trace without stacks never
 *    reads a module or its debug info.
 *  - Unknown PCs still yield one frame: function "?" (or the ELF symbol, or
 *    "module+0xoff"), file "?", line 0, so the trace stays well-formed.
 */
#ifndef CTRACE_RUNTIME_SYMBOLIZE_H
#define CTRACE_RUNTIME_SYMBOLIZE_H

#include <stdint.h>

struct ct_frame {
    uintptr_t pc;      /* the PC as captured                              */
    const char *func;  /* function name, never NULL                       */
    const char *file;  /* source file (absolute when known), never NULL   */
    unsigned line;     /* 0 when unknown                                  */
};

struct ct_symbolizer;

/* Creates a symbolizer for the current process.  NULL on failure (callers
 * then emit PCs with "?" names). */
struct ct_symbolizer *ct_symbolizer_new(void);

/* Resolves pc.  is_return: pc is a return address (look up pc-1).  Writes
 * up to max frames, innermost (most inlined) first, all with .pc = pc, and
 * returns their number (>= 1 when max >= 1). */
int ct_symbolize(struct ct_symbolizer *s, uintptr_t pc, int is_return,
                 struct ct_frame *out, int max);

/* Brings the module list up to date if the dynamic loader loaded or
 * unloaded anything since the last look (one dl_iterate_phdr call when
 * nothing changed).  Call before resolving a batch of PCs captured since:
 * a module dlclose'd and another loaded at its addresses would otherwise be
 * named after the old one.  NULL is harmless. */
void ct_symbolizer_sync(struct ct_symbolizer *s);
/* Builds a symbolizer and loads, now, the debug info of the modules that
 * nearly every stack goes through (libc, the executable); meant for a
 * background tracer thread, so that the first generation (or the end of a
 * short process) does not wait for it. */
struct ct_symbolizer *ct_symbolizer_prepare(void);

/* When set, the first ct_symbolize() of a symbolizer calls it to take over
 * a prepared state (it may wait for the preparation to finish; NULL: none,
 * open afresh).  A prepared state of another pid is ignored. */
extern struct ct_symbolizer *(*ct_symbolizer_adopt_hook)(void);

/* Reads CTRACE_SYMBOLIZE (once, at the library's initialization). */
void ct_symbolizer_read_env(void);

/* Closes every file the symbolizer holds open (libdw's module list), keeping
 * its cache of resolved PCs; the next ct_symbolize() opens them again.  Called
 * when a trace stops, so that no descriptor of ctrace's stays open between
 * traces (NULL is harmless). */
void ct_symbolizer_close_files(struct ct_symbolizer *s);

/* Frees it (NULL is harmless). */
void ct_symbolizer_free(struct ct_symbolizer *s);

#endif /* CTRACE_RUNTIME_SYMBOLIZE_H */
