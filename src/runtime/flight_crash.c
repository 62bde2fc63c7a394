/*
 * flight_crash.c - the flight recorder's crash snapshot: when the process
 * dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT (with the default
 * action: crash.c's handlers call ct_flight_crash first), the fatal
 * signal's handler writes PREFIX.PID.N.trace itself, then the signal's
 * default action runs as without ctrace (crash.c re-raises it).
 *
 * What the file holds:
 *   1. the file header;
 *   2. the ring's sealed generations, as encoded (sink_ring.c);
 *   3. a last, small generation written here, the crash generation: a
 *      log event, category "ctrace.crash", naming the signal, the faulting
 *      address and the thread, whose stack is the crashing thread's
 *      interrupted stack; its stack table, string table and frequency.
 *      The stack's frames carry their PCs and the function and file "?"
 *      (line 0): no symbolization here; `ctrace symbolize` names them
 *      afterwards from the trace's module map.  The first frame is the
 *      interrupted PC itself, the others return addresses.
 *
 * The crash log is always written.  Its goroutine:
 *   - the crashing thread's own, when the trace's state of it can be
 *     trusted (crash_thread_known): the batch is on its M and opens with
 *     its P's and G's statuses (running).  Go's parsers carry goroutine
 *     and P states across generations, so those statuses must be the ones
 *     the last generation ends with: that generation was ended after the
 *     crash, and the thread is known and running as the trace shows it.
 *   - otherwise the report goroutine (report_goroutine): a G, P and M of
 *     its own that no real one can have, introduced as a new thread is,
 *     labelled and named "ctrace crash report: NAME (tid N)".  That is the
 *     case when the crashing thread is inside the tracer (a lock may be
 *     held, or an event half written, and the generation could never
 *     end), unknown to the trace (a thread that never called in, without
 *     interposers), not running as the trace shows it, or when the
 *     generation in progress did not end in time.
 * The crash generation follows the last sealed generation (or, with none
 * sealed yet, is the snapshot's only generation).
 *
 * Before 2, unless the crashing thread is inside the tracer, the handler
 * asks the flight thread to end the generation in progress and waits for
 * it at most SEAL_WAIT_MS: so the crashing thread's last events are in a
 * sealed generation.  The flight thread takes the usual locks; the handler
 * takes none.
 *
 * The crash named is the original one: when the program's own handler of
 * a fatal signal ends the process (crash.c, "The program's own handler"),
 * the signal, siginfo and context are that signal's, and the log says
 * what the handler did ("then _exit(3)", "then SIGABRT").
 *
 * Invariants (async-signal-safe): no lock, no allocation, no stdio, no
 * symbolization; system calls only (futex, openat, write, close); every
 * wait is bounded; the encoding buffers are static (the handler may run on
 * a small alternate stack: a stack overflow).  One crash snapshot per
 * process (the first fatal signal claims it); errno is preserved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "buf.h"
#include "sigtext.h"
#include "clock.h"
#include "flight.h"
#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "thread.h"
#include "trace.h"
#include "unwind.h"

/* How long the handler waits for the generation in progress to end: the
 * advance symbolizes the generation's stacks (tens of ms; seconds under a
 * sanitizer with threads writing without pause).  crash.c's finisher is
 * given 10 s for the whole file. */
#define SEAL_WAIT_MS 5000 /* the crash log says "5 s" */
#define CRASH_FRAMES 64

static _Atomic int claimed;

/* The crash generation's encoding (static: no stack, no allocation). */
static uint8_t body[4 * 1024 + (CRASH_FRAMES + 1) * 4 * VARINT_MAX_LEN];
static uint8_t out[sizeof body + 64];
static uintptr_t pcs[CRASH_FRAMES];
static char msg[640];
static char label[CT_NAME_MAX + 48];

/* ---- output ---- */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = ct_libc_write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes one batch: header (gen, m, ts, size) then body[0..len). */
static int write_batch(int fd, uint64_t gen, uint64_t m, uint64_t ts, const uint8_t *b, size_t len)
{
    uint8_t *p = out;
    *p++ = GT_EV_EVENT_BATCH;
    p = varint_put(p, gen);
    p = varint_put(p, m);
    p = varint_put(p, ts);
    p = varint_put(p, len);
    memcpy(p, b, len);
    return write_all(fd, out, (size_t)(p - out) + len);
}

static uint8_t *put_string(uint8_t *p, uint64_t id, const char *s, size_t len)
{
    *p++ = GT_EV_STRING;
    p = varint_put(p, id);
    p = varint_put(p, len);
    memcpy(p, s, len);
    return p + len;
}

/* One event: its type, then dt and its arguments (EV's list). */
static uint8_t *put_event(uint8_t *b, uint8_t type, const uint64_t *args, size_t n)
{
    *b++ = type;
    for (size_t i = 0; i < n; i++)
        b = varint_put(b, args[i]);
    return b;
}
#define EV(b, type, ...)                                                           \
    put_event(b, type, (const uint64_t[]){__VA_ARGS__},                            \
              sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

/* String ids of the crash generation. */
enum { STR_KEY = 1, STR_MSG = 2, STR_UNKNOWN = 3, STR_LABEL = 4, STR_REASON = 5 };
/* Stack ids: the crashing stack, and the report goroutine's name. */
enum { STK_CRASH = 1, STK_NAME = 2 };

/* The report goroutine's M: CRASH_M_BASE + tid.  Linux thread ids are
 * below 2^22 (PID_MAX_LIMIT), and every other M of a ctrace trace is a
 * thread id, so this M is never a real one; it reads as the tid. */
#define CRASH_M_BASE 1000000000ull
/* Its one-frame name stack: a PC with bit 61 set (trace.h's name PCs) is
 * no address, so `ctrace symbolize` keeps the frame's name. */
#define CRASH_NAME_PC ((1ull << 61) | 1u)

/* Can the crash log go on the crashing thread's own goroutine?  Go's
 * parsers carry each goroutine's and P's state across generations: the
 * statuses written then (running) must be the ones the last generation
 * ends with, and the goroutine must be known.  That holds when that
 * generation was ended just now (after the crash: sealed) and the thread
 * is one this trace knows, running as the trace shows it. */
static struct ct_thread *crash_thread_known(int sealed)
{
    struct ct_thread *t = ct_tls_self;
    if (!sealed || !t || t->internal || t->p == CT_PID_NONE ||
        t->epoch != atomic_load_explicit(&ct_rt.epoch, memory_order_relaxed) ||
        t->vis_state != CT_RUNNING || ct_state(t) != CT_RUNNING)
        return NULL;
    return t;
}

/* The crashing thread's name: its record's, else the kernel's (prctl is a
 * system call: async-signal-safe). */
static size_t thread_name(const struct ct_thread *t, char *name, size_t cap)
{
    if (t && t->name[0]) {
        size_t k = strnlen(t->name, sizeof t->name);
        k = k < cap ? k : cap;
        memcpy(name, t->name, k);
        return k;
    }
    char comm[17] = {0};
    if (syscall(SYS_prctl, PR_GET_NAME, comm, 0, 0, 0) != 0)
        return 0;
    size_t k = strnlen(comm, 16);
    k = k < cap ? k : cap;
    memcpy(name, comm, k);
    return k;
}

/* The event batch of the report goroutine: a goroutine of its own, on its
 * own M and P, for when the crashing thread's cannot carry the log (not
 * sealed: its states at the end of the last generation are unknown; not
 * known to the trace).  Fresh ids: the G from the G-id counter, the P
 * above every P id ever allocated, the M above every thread id.  It is
 * introduced as ctrace introduces a new thread (sched.c, ct_write_intro:
 * created in a syscall, takes its idle P, runs), labelled, and named by a
 * zero-length wait whose stack is one frame named after the label (go
 * tool trace names a goroutine by the root frame of its first stack). */
static uint8_t *report_goroutine(uint8_t *b, uint64_t g, uint64_t p)
{
    b = EV(b, GT_EV_GO_CREATE_SYSCALL, 0, g);
    b = EV(b, GT_EV_PROC_STATUS, 0, p, GT_PROC_IDLE);
    b = EV(b, GT_EV_PROC_START, 0, p, 1);
    b = EV(b, GT_EV_GO_SYSCALL_END_BLOCKED, 0);
    b = EV(b, GT_EV_GO_START, 0, g, 1);
    b = EV(b, GT_EV_GO_LABEL, 0, STR_LABEL);
    b = EV(b, GT_EV_GO_BLOCK, 0, STR_REASON, STK_NAME);
    b = EV(b, GT_EV_GO_UNBLOCK, 0, g, 2, 0);
    return EV(b, GT_EV_GO_START, 0, g, 3);
}

/* The crash generation gen: the log on the crashing thread's goroutine
 * (t: statuses, then the log) or on the report goroutine (t NULL), then
 * the stack, string and frequency batches. */
static int write_crash_generation(int fd, uint64_t gen, struct ct_thread *t, int sig,
                                  const siginfo_t *si, const void *uc, const char *then,
                                  const char *missing)
{
    struct ct_thread *self = ct_tls_self;
    uint64_t tid = (uint64_t)syscall(SYS_gettid);
    char name[CT_NAME_MAX];
    size_t name_len = thread_name(self && !self->internal ? self : NULL, name, sizeof name);

    int n = 0;
    if (uc) {
        if (self && self->bounds.hi)
            n = ct_unwind_from_ucontext(&self->bounds, (const ucontext_t *)uc, pcs, CRASH_FRAMES);
        else
            n = ct_unwind_from_ucontext_checked((const ucontext_t *)uc, pcs, CRASH_FRAMES);
    }

    struct ct_text tx = {msg, msg + sizeof msg};
    ct_text_signal(&tx, sig);
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL) {
        ct_text_str(&tx, ": fault address 0x");
        ct_text_num(&tx, si ? (uint64_t)(uintptr_t)si->si_addr : 0, 16);
    } else if (si && si->si_code <= 0 && si->si_pid == ct_proc_raw_getpid()) {
        ct_text_str(&tx, ": raised by the process (abort, a failed assert)");
    } else if (si && si->si_code <= 0) {
        ct_text_str(&tx, ": sent by pid ");
        ct_text_num(&tx, (uint64_t)si->si_pid, 10);
    }
    if (n > 0) {
        ct_text_str(&tx, ", pc 0x");
        ct_text_num(&tx, pcs[0], 16);
    }
    ct_text_str(&tx, ", thread ");
    ct_text_num(&tx, tid, 10);
    if (name_len) {
        ct_text_str(&tx, " (");
        ct_text_bytes(&tx, name, name_len);
        ct_text_str(&tx, ")");
    }
    if (then) {
        ct_text_str(&tx, "; then ");
        ct_text_str(&tx, then);
    }
    if (missing) {
        ct_text_str(&tx, "; ");
        ct_text_str(&tx, missing);
    }
    size_t msg_len = (size_t)(tx.p - msg);

    /* The report goroutine's label, also its name frame's function. */
    struct ct_text lx = {label, label + sizeof label};
    ct_text_str(&lx, "ctrace crash report: ");
    ct_text_bytes(&lx, name, name_len);
    ct_text_str(&lx, name_len ? " (tid " : "tid ");
    ct_text_num(&lx, tid, 10);
    if (name_len)
        ct_text_str(&lx, ")");
    size_t label_len = (size_t)(lx.p - label);

    uint64_t m, ts = ct_now() >> ct_clock.shift;
    uint8_t *b = body;
    if (t) {
        m = t->m;
        b = EV(b, GT_EV_PROC_STATUS, 0, t->p, GT_PROC_RUNNING);
        b = EV(b, GT_EV_GO_STATUS, 0, t->g, m, GT_GO_RUNNING);
    } else {
        m = CRASH_M_BASE + tid;
        b = report_goroutine(b, ct_gid_alloc(), ct_pid_limit());
    }
    /* dt 1, no task. */
    b = EV(b, GT_EV_USER_LOG, 1, 0, STR_KEY, STR_MSG, n > 0 ? STK_CRASH : 0);
    if (write_batch(fd, gen, m, ts, body, (size_t)(b - body)))
        return -1;

    b = body;
    *b++ = GT_EV_STACKS;
    if (n > 0) {
        *b++ = GT_EV_STACK;
        b = varint_put(b, STK_CRASH);
        b = varint_put(b, (uint64_t)n);
        for (int i = 0; i < n; i++) {
            b = varint_put(b, pcs[i]);
            b = varint_put(b, STR_UNKNOWN);
            b = varint_put(b, STR_UNKNOWN);
            b = varint_put(b, 0);
        }
    }
    if (!t) {
        *b++ = GT_EV_STACK;
        b = varint_put(b, STK_NAME);
        b = varint_put(b, 1);
        b = varint_put(b, CRASH_NAME_PC);
        b = varint_put(b, STR_LABEL);
        b = varint_put(b, STR_UNKNOWN);
        b = varint_put(b, 0);
    }
    if (b - body > 1 && write_batch(fd, gen, GT_NO_ID, 0, body, (size_t)(b - body)))
        return -1;

    b = body;
    *b++ = GT_EV_STRINGS;
    b = put_string(b, STR_KEY, "ctrace.crash", 12);
    b = put_string(b, STR_MSG, msg, msg_len);
    b = put_string(b, STR_UNKNOWN, "?", 1);
    if (!t) {
        b = put_string(b, STR_LABEL, label, label_len);
        b = put_string(b, STR_REASON, "ctrace: crash report", 20);
    }
    if (write_batch(fd, gen, GT_NO_ID, 0, body, (size_t)(b - body)))
        return -1;

    uint64_t freq = ct_ring_freq();
    if (!freq)
        freq = ct_clock_units_per_sec();
    b = body;
    *b++ = GT_EV_FREQUENCY;
    b = varint_put(b, freq);
    return write_batch(fd, gen, GT_NO_ID, 0, body, (size_t)(b - body));
}

/* PREFIX.PID.N.trace into path. */
static void snapshot_path(char *path, size_t size)
{
    struct ct_text tx = {path, path + size - 1};
    ct_text_str(&tx, ct_flight_prefix());
    ct_text_str(&tx, ".");
    ct_text_num(&tx, (uint64_t)ct_proc_raw_getpid(), 10);
    ct_text_str(&tx, ".");
    ct_text_num(&tx, ct_flight_next_number(), 10);
    ct_text_str(&tx, ".trace");
    *tx.p = 0;
}

void ct_flight_crash(int sig, const siginfo_t *si, const void *uc, const char *then)
{
    static char path[4200];
    if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL && sig != SIGABRT)
        return;
    if (!ct_flight_running() || ct_proc_in_vfork_child())
        return;
    int zero = 0;
    if (!atomic_compare_exchange_strong(&claimed, &zero, 1))
        return; /* a second crash, or one while writing: the first writes */
    int e = errno;
    int me = (int)syscall(SYS_gettid), sealed = 0;
    /* What the snapshot lacks when the generation in progress is not in
     * it: said in the crash log, so nobody looks for events in vain. */
    const char *missing = NULL;
    /* The crashing thread's last events: end their generation first,
     * with eviction stopped -- while the seal waits (for the control lock
     * the advancer may hold), the other threads can fill many more
     * generations, and the one holding those events must not be the
     * oldest dropped to make room for them. */
    ct_ring_freeze();
    if (ct_in_tracer())
        missing = "crashed inside the tracer: the generation in progress is not in the snapshot";
    else if (me == ct_flight_thread_tid())
        missing = "crashed in the recorder's thread: the generation in progress is not in the snapshot";
    else if (!(sealed = ct_flight_seal_now(SEAL_WAIT_MS)))
        missing = "the generation in progress did not end within 5 s: it is not in the snapshot";
    struct ct_ring_view v;
    ct_ring_crash_view(&v);
    snapshot_path(path, sizeof path);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        errno = e;
        return;
    }
    static const char header[GT_HEADER_LEN] = GT_HEADER_GO122;
    int bad = write_all(fd, header, GT_HEADER_LEN);
    uint64_t gen = atomic_load(&ct_gen);
    if (!gen)
        gen = 1; /* nothing sealed yet: the crash generation is the trace */
    for (struct ct_ring_gen *g = v.first; g && !bad; g = g == v.last ? NULL : g->next) {
        for (struct ct_buf *b = g->head; b && !bad; b = b->next)
            bad = write_all(fd, b->start, (size_t)(b->pos - b->start));
        gen = g->gen + 1;
    }
    if (!bad)
        write_crash_generation(fd, gen, crash_thread_known(sealed), sig, si, uc, then,
                               missing);
    ct_libc_close(fd);
    errno = e;
}
