/*
 * unwind.c - stack capture: bounds-checked frame-pointer walks (hot path and
 * signal handler) and DWARF-CFI unwinding through libunwind (see unwind.h).
 *
 * Invariants:
 *  - The frame-pointer walkers dereference only addresses fp and fp + 8 with
 *    lo <= fp <= hi - 16, fp 8-aligned, and fp strictly greater than the
 *    previous frame pointer (or than the interrupted stack pointer for the
 *    first frame of a ucontext walk).  Every such address lies between a
 *    live stack pointer of this thread and the top of its stack, i.e. in
 *    memory the kernel has mapped for the stack, so a walk over garbage
 *    frame pointers returns garbage PCs but can never fault.  Because each
 *    step strictly increases fp inside a finite range, walks always end.
 *  - A thread running on a stack other than [lo, hi) (sigaltstack, a
 *    makecontext coroutine, a fiber) walks nothing: we cannot vouch for
 *    memory we do not know the bounds of.  The ucontext walk still records
 *    the interrupted PC, which needs no memory access.
 *  - ct_unwind_fp() and ct_unwind_from_ucontext() take no locks, allocate
 *    nothing, make no system calls and leave errno alone, so both are
 *    async-signal-safe.  ct_stack_bounds_init() is not (it may read /proc).
 *  - ct_unwind_from_ucontext_checked(), for threads of unknown bounds,
 *    reads each frame record with the process_vm_readv system call (a bad
 *    address fails instead of faulting); async-signal-safe, but it may set
 *    errno: its caller, the SIGPROF handler, restores errno.
 *  - ct_unwind_libunwind() is never called from a signal handler (libunwind
 *    may allocate and lock on its first use in a thread).  libunwind is
 *    loaded on first use with dlopen(RTLD_LOCAL), not linked: libunwind.so
 *    also exports the _Unwind_* C++ exception ABI, and as a dependency of
 *    libctrace it could interpose libgcc_s's implementation in the traced
 *    program.  Loaded locally, its symbols stay private to us; if it is not
 *    installed, the unwind mode captures no stacks and nothing else changes.
 *  - The walkers are compiled without ASan instrumentation: reading another
 *    frame's saved registers is legitimate, but a garbage frame pointer
 *    landing in a redzone would otherwise be reported as a bug.
 *
 * Frame layout relied upon (x86-64 and AArch64 alike, with frame pointers):
 * the frame pointer register (rbp / x29) points at a two-word frame record
 * { saved caller frame pointer, return address }.
 */
#define _GNU_SOURCE
#include "libc.h"
#include "unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <dlfcn.h>
#include <link.h>

#include "cfirules.h"
#include "dlcounts.h"
#include "modmap.h"

#include <stdatomic.h>

struct ct_modmap *_Atomic ct_modmap_current;
struct ct_cfi_slot ct_cfi_table[CT_CFI_SLOTS];
_Atomic uint64_t ct_cfi_requests[CT_CFI_REQUESTS];

/* libunwind's cursor API (types only: the library is dlopen'ed, below).
 * Without its header the hybrid walk degrades to frame pointers. */
#if defined(__has_include)
#if __has_include(<libunwind.h>)
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define CT_HAVE_LIBUNWIND_H 1
#endif
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT_NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#if !defined(CT_NO_ASAN) && defined(__SANITIZE_ADDRESS__)
#define CT_NO_ASAN __attribute__((no_sanitize_address))
#endif
#ifndef CT_NO_ASAN
#define CT_NO_ASAN
#endif

/* Frame records are at least 8-aligned on both targets (16 on AArch64 and,
 * with the standard ABI, on x86-64; 8 keeps code built with a smaller
 * -mpreferred-stack-boundary walkable). */
#define FP_ALIGN_MASK ((uintptr_t)7)

/* glibc exports the initial stack pointer of the process; weak so that other
 * libcs simply skip that fallback. */
extern void *__libc_stack_end __attribute__((weak));

/* AArch64 pointer authentication signs return addresses saved in frame
 * records (-mbranch-protection=pac-ret); strip the signature.  XPACLRI is in
 * the hint space, a no-op on CPUs without PAC. */
static inline uintptr_t strip_pc(uintptr_t pc)
{
#if defined(__aarch64__)
    register uintptr_t x30 __asm__("x30") = pc;
    __asm__("hint #7" /* xpaclri */ : "+r"(x30));
    return x30;
#else
    return pc;
#endif
}

/* ------------------------------------------------------------------ */
/* Stack bounds                                                        */
/* ------------------------------------------------------------------ */

/* The [stack] line of /proc/self/maps: the main thread's stack mapping.
 * Read with plain read(2) into a fixed buffer so nothing is allocated. */
static int bounds_from_maps(struct ct_stack_bounds *b)
{
    int fd = ct_libc_open_high("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    char buf[4096];
    size_t have = 0;
    int found = -1;
    for (;;) {
        ssize_t r = ct_libc_read(fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        /* Process complete lines; keep a partial last line for next read. */
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            if (strstr(line, "[stack]")) {
                unsigned long lo, hi;
                if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < hi) {
                    b->lo = lo;
                    b->hi = hi;
                    found = 0;
                }
            }
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have == sizeof buf - 1) /* absurdly long line: drop it */
            have = 0;
        if (found == 0)
            break;
    }
    ct_libc_close(fd);
    return found;
}

/* Last resort for the main thread: the top is just above the initial stack
 * pointer (argv and environ lie above it, within the same mapping); the
 * depth is the stack rlimit.  Only frames above our own are ever read, and
 * those are mapped, so an overestimated depth is harmless. */
static int bounds_from_rlimit(struct ct_stack_bounds *b)
{
    if (&__libc_stack_end == NULL || __libc_stack_end == NULL)
        return -1;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (page == 0 || page == (uintptr_t)-1)
        page = 4096;
    uintptr_t hi = ((uintptr_t)__libc_stack_end + page - 1) & ~(page - 1);
    struct rlimit rl;
    uintptr_t size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < hi)
        size = (uintptr_t)rl.rlim_cur;
    if (size > hi)
        size = hi;
    b->lo = hi - size;
    b->hi = hi;
    return 0;
}

int ct_stack_bounds_init(struct ct_stack_bounds *b)
{
    int saved_errno = errno;
    int rc = -1;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    b->lo = b->hi = 0;

    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr = NULL;
        size_t size = 0;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr && size) {
            b->lo = (uintptr_t)addr;
            b->hi = (uintptr_t)addr + size;
            rc = 0;
        }
        pthread_attr_destroy(&attr);
    }
    int is_main = getpid() == (pid_t)syscall(SYS_gettid);
    if (rc != 0 && is_main)
        rc = bounds_from_maps(b);
    if (rc != 0 && is_main)
        rc = bounds_from_rlimit(b);
    /* Sanity: we must be running on the stack we describe, otherwise the
     * "frames above us are mapped" argument does not hold. */
    if (rc == 0 && !(b->lo <= here && here < b->hi && b->hi - b->lo >= 64))
        rc = -1;
    if (rc != 0)
        b->lo = b->hi = 0;
    errno = saved_errno;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Frame-pointer walks                                                 */
/* ------------------------------------------------------------------ */

/*
 * skip counting: with skip = 0, pcs[0] is the return address of
 * ct_unwind_fp() itself, i.e. a PC inside the function that called it;
 * pcs[1] is a PC in that function's caller, and so on.  skip = n drops the
 * first n of those.  An interposer two calls deep (wrapper -> helper ->
 * ct_unwind_fp) passes skip = 2 to start the stack at the wrapper's caller.
 * noinline keeps that count exact: inlined into a caller, our frame and our
 * caller's would merge and the first PC would be one level further out.
 *
 * Speed: one frame costs two loads and three compares; the lower bound is
 * checked only once because the chain must increase strictly.
 */
__attribute__((noinline)) CT_NO_ASAN int ct_unwind_fp(const struct ct_stack_bounds *b,
                                                      uintptr_t *pcs, int max, int skip)
{
    return ct_unwind_fp_from(b, __builtin_frame_address(0), pcs, max, skip);
}

/*
 * The same walk from a given frame record (a caller's
 * __builtin_frame_address(0)): pcs[0] is that frame's return address, i.e. a
 * PC in its caller, whatever the compiler inlined in between.  The frame
 * must be at or above the current one, inside the bounds.
 */
CT_NO_ASAN int ct_unwind_fp_from(const struct ct_stack_bounds *b, const void *frame,
                                 uintptr_t *pcs, int max, int skip)
{
    if (b == NULL || max <= 0 || b->hi < b->lo + 16)
        return 0;
    const uintptr_t lo = b->lo, top = b->hi - 16;
    uintptr_t fp = (uintptr_t)frame;
    if (fp < (uintptr_t)__builtin_frame_address(0) || fp < lo || fp > top || (fp & FP_ALIGN_MASK))
        return 0; /* not on the thread's stack (sigaltstack, coroutine) */
    int n = 0;
    for (;;) {
        const uintptr_t *rec = (const uintptr_t *)fp;
        uintptr_t next = rec[0], pc = rec[1];
        if (pc == 0)
            break;
        if (skip > 0) {
            skip--;
        } else {
            pcs[n++] = strip_pc(pc);
            if (n >= max)
                break;
        }
        if (next <= fp || next > top || (next & FP_ALIGN_MASK))
            break;
        fp = next;
    }
    return n;
}

/*
 * The interrupted code may be anywhere: in a leaf or a function built
 * without frame pointers (then rbp/x29 holds its caller's frame, or any
 * value at all), or in a prologue/epilogue where the frame record is not set
 * up yet (then the immediate caller is missing from the stack -- frame
 * pointers cannot tell).  pcs[0] is always the interrupted PC.  The first
 * frame pointer must lie at or above the interrupted stack pointer: a live
 * frame record is never below it, so this rejects most garbage values of
 * rbp/x29 early, and it is what makes every read land in mapped stack.  If
 * the interrupted stack pointer is outside [lo, hi), the thread was running
 * on another stack (a coroutine, or a handler on a sigaltstack) and only the
 * PC is recorded.  (This handler running on a sigaltstack is fine: uc
 * describes the interrupted code, not us.)  The PC is recorded even with
 * zeroed bounds: it needs no memory access.
 */
/* The interrupted pc, frame pointer and stack pointer.  0 on an
 * architecture we do not walk. */
static int ucontext_regs(const ucontext_t *uc, uintptr_t *pc, uintptr_t *fp, uintptr_t *sp)
{
#if defined(__x86_64__)
    *pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    *fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
    *sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    return 1;
#elif defined(__aarch64__)
    *pc = (uintptr_t)uc->uc_mcontext.pc;
    *fp = (uintptr_t)uc->uc_mcontext.regs[29];
    *sp = (uintptr_t)uc->uc_mcontext.sp;
    return 1;
#else
    (void)uc, (void)pc, (void)fp, (void)sp;
    return 0; /* unsupported architecture: no stacks, but no harm */
#endif
}

CT_NO_ASAN int ct_unwind_from_ucontext(const struct ct_stack_bounds *b, const ucontext_t *uc,
                                       uintptr_t *pcs, int max)
{
    uintptr_t pc, fp, sp;
    if (uc == NULL || max <= 0 || !ucontext_regs(uc, &pc, &fp, &sp))
        return 0;
    int n = 0;
    pcs[n++] = pc;
    if (b == NULL || b->hi < b->lo + 16 || sp < b->lo || sp >= b->hi)
        return n;
    const uintptr_t top = b->hi - 16;
    if (fp < sp || fp > top || (fp & FP_ALIGN_MASK))
        return n;
    while (n < max) {
        const uintptr_t *rec = (const uintptr_t *)fp;
        uintptr_t next = rec[0], ret = rec[1];
        if (ret == 0)
            break;
        pcs[n++] = strip_pc(ret);
        if (next <= fp || next > top || (next & FP_ALIGN_MASK))
            break;
        fp = next;
    }
    return n;
}

/*
 * A thread whose stack bounds are unknown (timers armed from outside): each
 * frame record is read with process_vm_readv, which fails with EFAULT on
 * unmapped memory instead of faulting, so any value of the frame pointer
 * is safe to follow.  Frames must go up the stack, stay within 64 MiB of
 * the stack pointer and be aligned; a failed read ends the walk.
 */
int ct_unwind_from_ucontext_checked(const ucontext_t *uc, uintptr_t *pcs, int max)
{
    uintptr_t pc, fp, sp;
    if (uc == NULL || max <= 0 || !ucontext_regs(uc, &pc, &fp, &sp))
        return 0;
    int n = 0;
    pcs[n++] = pc;
    pid_t pid = (pid_t)syscall(SYS_getpid);
    const uintptr_t span = (uintptr_t)64 << 20; /* no stack is larger */
    while (n < max && fp >= sp && fp - sp < span && !(fp & FP_ALIGN_MASK)) {
        uintptr_t rec[2];
        struct iovec local = {rec, sizeof rec}, remote = {(void *)fp, sizeof rec};
        if (syscall(SYS_process_vm_readv, pid, &local, 1UL, &remote, 1UL, 0UL) != (long)sizeof rec)
            break;
        if (rec[1] == 0)
            break;
        pcs[n++] = strip_pc(rec[1]);
        if (rec[0] <= fp)
            break;
        fp = rec[0];
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* libunwind                                                           */
/* ------------------------------------------------------------------ */

/* Upper bound on frames gathered before skipping (stack array, no malloc). */
#define LIBUNWIND_MAX 256

typedef int (*unw_backtrace_fn)(void **buffer, int size);
static unw_backtrace_fn unw_backtrace_p;
static pthread_once_t unw_once = PTHREAD_ONCE_INIT;

/* The cursor API, for continuing a frame-pointer walk with CFI (hybrid
 * walk).  libunwind's public names are macros for per-architecture symbols
 * (unw_step is _ULx86_64_step with UNW_LOCAL_ONLY): the same macros give
 * the names to look up. */
#ifdef CT_HAVE_LIBUNWIND_H
#define CT_STR2(x) #x
#define CT_STR(x) CT_STR2(x)
typedef int (*unw_init_local_fn)(unw_cursor_t *, unw_context_t *);
typedef int (*unw_step_fn)(unw_cursor_t *);
typedef int (*unw_get_reg_fn)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
static unw_init_local_fn unw_init_local_p;
static unw_step_fn unw_step_p;
static unw_get_reg_fn unw_get_reg_p;
#endif

/* libunwind's code: [unw_text_lo, unw_text_hi), set once at load. */
static uintptr_t unw_text_lo, unw_text_hi;

static int unw_text_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t at = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && at >= lo && at < lo + ph->p_memsz) {
            unw_text_hi = lo + ph->p_memsz;
            __atomic_store_n(&unw_text_lo, lo, __ATOMIC_RELEASE);
            return 1;
        }
    }
    return 0;
}

int ct_unwind_owns_pc(uintptr_t pc)
{
    uintptr_t lo = __atomic_load_n(&unw_text_lo, __ATOMIC_ACQUIRE);
    return lo != 0 && pc >= lo && pc < unw_text_hi;
}

/* LeakSanitizer (part of every AddressSanitizer runtime): libunwind's
 * thread-local variables live in dynamic TLS once it is dlopen'ed, and the
 * sanitizer runtime of GCC 12 records a bogus range for such a block under
 * glibc 2.36 (its __tls_get_addr interceptor); the leak check at exit then
 * faults in its own tracer thread and the program exits with status 1
 * instead of its own.  So a process that carries LSan never loads
 * libunwind: the hybrid walk does without it (as under ThreadSanitizer)
 * and CTRACE_STACKS=unwind captures no stacks (docs/RUN.md). */
static int leaks_off_in(const char *opts)
{
    /* Sanitizer options: name=value separated by ':', ',' or blanks; the
     * last setting wins. */
    int off = -1;
    for (const char *p = opts; p && (p = strstr(p, "detect_leaks=")) != NULL; p++) {
        if (p != opts && !strchr(":, \t", p[-1]))
            continue;
        const char *v = p + strlen("detect_leaks=");
        off = (v[0] == '0' || v[0] == 'f' || v[0] == 'n');
    }
    return off;
}

static int leak_sanitizer_present(void)
{
    if (dlsym(RTLD_DEFAULT, "__lsan_do_leak_check") == NULL)
        return 0;
    int off = leaks_off_in(getenv("LSAN_OPTIONS"));
    if (off < 0)
        off = leaks_off_in(getenv("ASAN_OPTIONS"));
    return off != 1; /* on by default */
}

static void unw_load(void)
{
    int saved_errno = errno;
    if (leak_sanitizer_present()) {
        errno = saved_errno;
        return;
    }
    static const char *const names[] = {"libunwind.so.8", "libunwind.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !unw_backtrace_p; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
            continue;
        /* h is kept open for the life of the process. */
        unw_backtrace_p = (unw_backtrace_fn)dlsym(h, "unw_backtrace");
        if (unw_backtrace_p)
            dl_iterate_phdr(unw_text_cb, (void *)(uintptr_t)unw_backtrace_p);
#ifdef CT_HAVE_LIBUNWIND_H
        unw_init_local_fn init = (unw_init_local_fn)dlsym(h, CT_STR(unw_init_local));
        unw_step_fn step = (unw_step_fn)dlsym(h, CT_STR(unw_step));
        unw_get_reg_fn get = (unw_get_reg_fn)dlsym(h, CT_STR(unw_get_reg));
        /* (The caching policy stays libunwind's default, global: its
         * per-thread caches register a thread-exit destructor that locks a
         * mutex, which crashed under ThreadSanitizer; the cursor walk is
         * only a fallback of the fallback, cfi_splice.) */
        if (init && step && get) {
            unw_get_reg_p = get;
            unw_step_p = step;
            __atomic_store_n(&unw_init_local_p, init, __ATOMIC_RELEASE);
        }
#endif
    }
    errno = saved_errno;
}

/* ThreadSanitizer: libunwind's unw_backtrace keeps a per-thread cache whose
 * thread-exit destructor locks a mutex after TSan has torn the thread's
 * state down (every traced thread that had walked crashed at its exit).
 * So in a TSan build the hybrid walk does without libunwind: a frame
 * without a cached rule ends its stack until the advancer computes the
 * rule (the next generation).  CTRACE_STACKS=unwind still loads it. */
#if defined(__SANITIZE_THREAD__)
#define CT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_TSAN 1
#endif
#endif

void ct_unwind_load(void)
{
#ifndef CT_TSAN
    pthread_once(&unw_once, unw_load);
#endif
}


/*
 * Same skip convention as ct_unwind_fp: skip = 0 starts at the PC in our
 * caller.  unw_backtrace() reports its own internal frames first (how many
 * depends on the libunwind build), so we locate our caller's frame by our
 * own return address rather than by a fixed count.  The first call loads
 * libunwind (call it once at configuration time to keep that off a traced
 * thread's event path).
 */
__attribute__((noinline)) int ct_unwind_libunwind(uintptr_t *pcs, int max, int skip)
{
    if (max <= 0 || skip < 0)
        return 0;
    int saved_errno = errno;
    pthread_once(&unw_once, unw_load);
    if (!unw_backtrace_p) {
        errno = saved_errno;
        return 0;
    }
    void *buf[LIBUNWIND_MAX];
    int want = max + skip + 4;
    if (want > LIBUNWIND_MAX || want < 0)
        want = LIBUNWIND_MAX;
    int got = unw_backtrace_p(buf, want);
    void *ret = __builtin_return_address(0);
    int start = -1;
    for (int i = 0; i < got && i < 8; i++)
        if (buf[i] == ret) {
            start = i;
            break;
        }
    if (start < 0)
        start = got > 1 ? 1 : got; /* unexpected: assume [0] is ourselves */
    start += skip;
    int n = 0;
    for (int i = start; i < got && n < max; i++) {
        if (buf[i] == NULL)
            break;
        pcs[n++] = (uintptr_t)buf[i];
    }
    errno = saved_errno;
    return n;
}

/* ------------------------------------------------------------------ */
/* Hybrid walk: frame pointers where modules keep them, CFI elsewhere  */
/* ------------------------------------------------------------------ */

#ifdef CT_HAVE_LIBUNWIND_H
/*
 * Continues a walk with libunwind from a frame known by its PC (a return
 * address into a function without a frame record), stack pointer and
 * frame-pointer register, as the frame-pointer walk found them: the
 * caller's stack pointer is the callee's frame record + 16, its rbp/x29 is
 * the record's saved value.  The other registers are unknown (zero): CFI of
 * ordinary code computes the CFA from the stack or frame pointer only.
 * Appends the callers of pc (not pc itself) to pcs[n..max); returns the new
 * count.  Each unwound stack pointer must lie inside [lo, hi) and increase
 * strictly, so the walk ends, and it stops at max frames.
 */
CT_NO_ASAN static int cfi_continue(const struct ct_stack_bounds *b, uintptr_t pc, uintptr_t sp,
                                   uintptr_t bp, uintptr_t *pcs, int n, int max, int *skip)
{
    unw_init_local_fn init = __atomic_load_n(&unw_init_local_p, __ATOMIC_ACQUIRE);
    if (!init)
        return n;
    unw_context_t uc;
    memset(&uc, 0, sizeof uc);
#if defined(__x86_64__)
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)pc;
    uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
    uc.uc_mcontext.gregs[REG_RBP] = (greg_t)bp;
#elif defined(__aarch64__)
    uc.uc_mcontext.pc = pc;
    uc.uc_mcontext.sp = sp;
    uc.uc_mcontext.regs[29] = bp;
#else
    (void)pc, (void)sp, (void)bp, (void)b, (void)pcs, (void)max, (void)skip;
    return n;
#endif
    int saved_errno = errno; /* libunwind's address checks may set it */
    unw_cursor_t cur;
    if (init(&cur, &uc) < 0) {
        errno = saved_errno;
        return n;
    }
    uintptr_t last_sp = sp;
    while (n < max && unw_step_p(&cur) > 0) {
        unw_word_t ip = 0, nsp = 0;
        if (unw_get_reg_p(&cur, UNW_REG_IP, &ip) < 0 || ip == 0 ||
            unw_get_reg_p(&cur, UNW_REG_SP, &nsp) < 0)
            break;
        if (nsp <= last_sp || nsp < b->lo || nsp >= b->hi)
            break; /* off the stack, or not going up: garbage */
        last_sp = nsp;
        if (*skip > 0)
            (*skip)--;
        else
            pcs[n++] = strip_pc(ip);
    }
    errno = saved_errno;
    return n;
}
#endif

/*
 * The CFI part of a hybrid walk.  libunwind's cursor API (cfi_continue)
 * starts at any frame, but each unw_step costs microseconds (it looks the
 * module up with dl_iterate_phdr, signals blocked, every time: 2-3 us per
 * frame measured, bench/unwind); unw_backtrace has a per-thread cache of
 * frame shapes and costs ~35 ns per frame.  So the whole stack is taken
 * with unw_backtrace, and the part beyond pc -- the first return address
 * in a module without frame pointers -- is appended to what the
 * frame-pointer walk found.  If pc is not in its answer (it lost its way
 * earlier), the cursor walk from pc's frame is the fallback.
 */
CT_NO_ASAN static int cfi_splice(const struct ct_stack_bounds *b, uintptr_t pc, uintptr_t sp,
                                 uintptr_t bp, uintptr_t *pcs, int n, int max, int *skip)
{
    if (!unw_backtrace_p)
        return n;
    int saved_errno = errno;
    void *all[LIBUNWIND_MAX];
    int got = unw_backtrace_p(all, LIBUNWIND_MAX);
    errno = saved_errno;
    for (int i = 0; i < got; i++) {
        if ((uintptr_t)all[i] != pc && (uintptr_t)all[i] != pc - 1)
            continue;
        for (i++; i < got && n < max && all[i]; i++) {
            if (*skip > 0)
                (*skip)--;
            else
                pcs[n++] = strip_pc((uintptr_t)all[i]);
        }
        return n;
    }
#ifdef CT_HAVE_LIBUNWIND_H
    return cfi_continue(b, pc, sp, bp, pcs, n, max, skip);
#else
    (void)b, (void)sp, (void)bp;
    return n;
#endif
}

/*
 * Frame pointers while the return address is in a module that keeps them
 * (modmap.h), cached CFI rules (cfirules.h) for the others, libunwind for
 * a frame whose rule is not cached yet or not simple.
 *
 * The walk's state is the frame being left: pc (a return address into the
 * function being stepped over), its stack pointer sp (just above the
 * return address it was called with) and frame pointer bp.  A function
 * with a frame record has it at bp: { caller's bp, return address }, and
 * its caller's sp is bp + 16.  A function without one is stepped by its
 * rule: CFA = sp or bp + cfa_off, return address at CFA + ra_off, the
 * caller's bp at CFA + fp_off or unchanged, the caller's sp = CFA.  Every
 * read is of an 8-aligned address inside [our own frame, top of stack), so
 * it cannot fault, and sp rises strictly at each step, so the walk ends.
 */
static inline int stack_word_ok(uintptr_t a, uintptr_t lo, uintptr_t hi)
{
    return a >= lo && a <= hi - 8 && !(a & FP_ALIGN_MASK);
}

/* 1 if a module came or went since m was built (modmap.h): a PC in no
 * range of m may then be in a module loaded since.  One dl_iterate_phdr
 * (the loader's lock, as libunwind takes): asked at most once per walk,
 * and only for a PC in no module. */
static int modmap_outdated(const struct ct_modmap *m)
{
    struct ct_dl_counts now = ct_dl_counts_now();
    return m->counted && now.ok && (now.adds != m->adds || now.subs != m->subs);
}

__attribute__((noinline)) CT_NO_ASAN int ct_unwind_hybrid(const struct ct_stack_bounds *b,
                                                          const void *frame, uintptr_t *pcs,
                                                          int max, int skip)
{
    if (b == NULL || max <= 0 || b->hi < b->lo + 16)
        return 0;
    const struct ct_modmap *map = atomic_load_explicit(&ct_modmap_current, memory_order_acquire);
    const uintptr_t lo = (uintptr_t)__builtin_frame_address(0), hi = b->hi;
    uintptr_t fp = (uintptr_t)frame;
    if (fp < lo || fp < b->lo || fp > hi - 16 || (fp & FP_ALIGN_MASK))
        return 0; /* not on the thread's stack (sigaltstack, coroutine) */
    const uintptr_t *rec = (const uintptr_t *)fp;
    uintptr_t pc = strip_pc(rec[1]), sp = fp + 16, bp = rec[0];
    struct ct_modmap_hint hint = {0, 0};
    /* The module of the last PC, in registers: a stack's frames mostly lie
     * in one module after another, so most steps need no map lookup (the
     * lookup's loads and branches per frame doubled the walk's cost). */
    uintptr_t cur_lo = 0, cur_hi = 0; /* empty: [0, 0) */
    int cur_fp = 1;
    int outdated = -1; /* modmap_outdated(map), once asked */
    int n = 0;
    while (pc != 0) {
        if (skip > 0)
            skip--;
        else if ((pcs[n++] = pc), n >= max)
            break;
        uintptr_t npc, nsp, nbp;
        if (pc - cur_lo >= cur_hi - cur_lo) { /* outside the cached module */
            cur_fp = ct_modmap_is_fp(map, pc, &hint);
            const struct ct_modrange *mr = map && map->n ? &map->r[hint.a] : NULL;
            if (mr && pc >= mr->lo && pc < mr->hi) {
                cur_lo = mr->lo;
                cur_hi = mr->hi;
            } else { /* no module: no caching */
                cur_lo = 0;
                cur_hi = 0;
                /* Loaded since the map was built (modmap.h): CFI. */
                if (map && outdated < 0)
                    outdated = modmap_outdated(map);
                if (outdated > 0)
                    cur_fp = 0;
            }
        }
        if (cur_fp) {
            if (bp < sp || !stack_word_ok(bp, lo, hi - 8))
                break;
            rec = (const uintptr_t *)bp;
            npc = strip_pc(rec[1]);
            nsp = bp + 16;
            nbp = rec[0];
        } else {
            struct ct_cfi_rule r = ct_cfi_lookup(pc);
            if (r.kind == CT_CFI_OUTERMOST)
                break;
            if (r.kind != CT_CFI_SIMPLE) {
                int k = n;
                n = cfi_splice(b, pc, sp, bp, pcs, n, max, &skip);
                /* Ask for the rules of the rest of the stack too, so that
                 * one generation's end computes them all. */
                for (; r.kind == CT_CFI_NONE && k < n; k++)
                    if (!ct_modmap_is_fp(map, pcs[k], &hint))
                        ct_cfi_lookup(pcs[k]);
                break;
            }
            uintptr_t cfa = (r.cfa_is_fp ? bp : sp) + (uintptr_t)(intptr_t)r.cfa_off;
            uintptr_t ra = cfa + (uintptr_t)(intptr_t)r.ra_off;
            if (cfa <= sp || cfa > hi || !stack_word_ok(ra, lo, hi))
                break;
            npc = strip_pc(*(const uintptr_t *)ra);
            nbp = bp;
            if (r.fp_off != CT_CFI_FP_SAME) {
                uintptr_t at = cfa + (uintptr_t)(intptr_t)r.fp_off;
                if (!stack_word_ok(at, lo, hi))
                    break;
                nbp = *(const uintptr_t *)at;
            }
            nsp = cfa;
        }
        if (nsp <= sp)
            break;
        pc = npc;
        sp = nsp;
        bp = nbp;
    }
    return n;
}
