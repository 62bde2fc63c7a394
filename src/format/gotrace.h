/*
 * gotrace.h - the tables of Go's execution-trace formats, shared by the
 * writer (src/runtime) and the reader (src/reader).
 *
 * Source of truth: the parsers of Go 1.22 and 1.23
 * (internal/trace/v2/event/go122 and internal/trace/event/go122).  Only facts
 * of the format are recorded here: event numbers, argument counts, status
 * values and size limits.
 *
 * Layout of a v2 ("go 1.22 trace") file:
 *   header: "go 1.22 trace\0\0\0" (16 bytes)
 *   batches: EvEventBatch gen m ts size <size bytes of events>
 * A generation is every batch carrying the same gen; generations are
 * consecutive (gen N+1 follows N).  Each generation holds exactly one
 * frequency batch, optional string/stack/CPU-sample batches, and per-M event
 * batches.  Inside an M batch every timed event starts with the timestamp
 * delta from the previous event of the batch (the batch header holds the base).
 * All integers are unsigned LEB128 varints.
 */
#ifndef CTRACE_FORMAT_GOTRACE_H
#define CTRACE_FORMAT_GOTRACE_H

#include <stdint.h>

/* The 16-byte file header of each format version. */
#define GT_HEADER_LEN 16
#define GT_HEADER_GO122 "go 1.22 trace\0\0\0"
#define GT_HEADER_GO123 "go 1.23 trace\0\0\0"

/* v2 event types (Go 1.22; 1.23 appends the ones marked). */
enum gt_ev {
    GT_EV_NONE = 0,
    GT_EV_EVENT_BATCH = 1,  /* gen, m, base ts, size                     */
    GT_EV_STACKS = 2,       /* starts a stack-table batch                 */
    GT_EV_STACK = 3,        /* id, nframes, {pc, func str, file str, line}*/
    GT_EV_STRINGS = 4,      /* starts a string-table batch                */
    GT_EV_STRING = 5,       /* id, len, bytes                             */
    GT_EV_CPU_SAMPLES = 6,  /* starts a CPU-sample batch                  */
    GT_EV_CPU_SAMPLE = 7,   /* ts, m, p, g, stack                         */
    GT_EV_FREQUENCY = 8,    /* timestamp units per second                 */
    GT_EV_PROCS_CHANGE = 9, /* dt, procs, stack                           */
    GT_EV_PROC_START = 10,  /* dt, p, pseq                                */
    GT_EV_PROC_STOP = 11,   /* dt                                         */
    GT_EV_PROC_STEAL = 12,  /* dt, p, pseq, m                             */
    GT_EV_PROC_STATUS = 13, /* dt, p, status                              */
    GT_EV_GO_CREATE = 14,   /* dt, new g, new stack, stack                */
    GT_EV_GO_CREATE_SYSCALL = 15, /* dt, new g                            */
    GT_EV_GO_START = 16,    /* dt, g, gseq                                */
    GT_EV_GO_DESTROY = 17,  /* dt                                         */
    GT_EV_GO_DESTROY_SYSCALL = 18, /* dt                                  */
    GT_EV_GO_STOP = 19,     /* dt, reason str, stack                      */
    GT_EV_GO_BLOCK = 20,    /* dt, reason str, stack                      */
    GT_EV_GO_UNBLOCK = 21,  /* dt, g, gseq, stack                         */
    GT_EV_GO_SYSCALL_BEGIN = 22, /* dt, pseq, stack                       */
    GT_EV_GO_SYSCALL_END = 23,   /* dt                                    */
    GT_EV_GO_SYSCALL_END_BLOCKED = 24, /* dt                              */
    GT_EV_GO_STATUS = 25,   /* dt, g, m, status                           */
    GT_EV_STW_BEGIN = 26,   /* dt, kind str                               */
    GT_EV_STW_END = 27,     /* dt                                         */
    GT_EV_GC_ACTIVE = 28,   /* dt, seq                                    */
    GT_EV_GC_BEGIN = 29,    /* dt, seq, stack                             */
    GT_EV_GC_END = 30,      /* dt, seq                                    */
    GT_EV_GC_SWEEP_ACTIVE = 31, /* dt, p                                  */
    GT_EV_GC_SWEEP_BEGIN = 32,  /* dt, stack                              */
    GT_EV_GC_SWEEP_END = 33,    /* dt, swept, reclaimed                   */
    GT_EV_GC_MARK_ASSIST_ACTIVE = 34, /* dt, g                            */
    GT_EV_GC_MARK_ASSIST_BEGIN = 35,  /* dt, stack                        */
    GT_EV_GC_MARK_ASSIST_END = 36,    /* dt                               */
    GT_EV_HEAP_ALLOC = 37,  /* dt, bytes                                  */
    GT_EV_HEAP_GOAL = 38,   /* dt, bytes                                  */
    GT_EV_GO_LABEL = 39,    /* dt, label str                              */
    GT_EV_USER_TASK_BEGIN = 40,   /* dt, task, parent task, name str, stack */
    GT_EV_USER_TASK_END = 41,     /* dt, task, stack                      */
    GT_EV_USER_REGION_BEGIN = 42, /* dt, task, name str, stack            */
    GT_EV_USER_REGION_END = 43,   /* dt, task, name str, stack            */
    GT_EV_USER_LOG = 44,    /* dt, task, key str, value str, stack        */
    /* Go 1.23 additions. */
    GT_EV_GO_SWITCH = 45,         /* dt, g, gseq                          */
    GT_EV_GO_SWITCH_DESTROY = 46, /* dt, g, gseq                          */
    GT_EV_GO_CREATE_BLOCKED = 47, /* dt, new g, new stack, stack          */
    GT_EV_GO_STATUS_STACK = 48,   /* dt, g, m, status, stack              */
    GT_EV_EXPERIMENTAL_BATCH = 49,/* exp, gen, m, ts, size, data          */
    /* Go 1.25 (read only; ctrace writes the 1.22 format): the frequency and
     * a clock snapshot move into a sync batch per generation. */
    GT_EV_SYNC = 50,              /* starts a sync batch                  */
    GT_EV_CLOCK_SNAPSHOT = 51,    /* ts, mono ns, wall sec, wall ns       */
    GT_EV_END_OF_GENERATION = 52, /* reserved                             */
    GT_EV_COUNT_GO122 = 45,
    GT_EV_COUNT_GO123 = 50
};

/* Goroutine status values of GoStatus. */
enum gt_go_status {
    GT_GO_BAD = 0,
    GT_GO_RUNNABLE = 1,
    GT_GO_RUNNING = 2,
    GT_GO_SYSCALL = 3,
    GT_GO_WAITING = 4
};

/* Proc status values of ProcStatus. */
enum gt_proc_status {
    GT_PROC_BAD = 0,
    GT_PROC_RUNNING = 1,
    GT_PROC_IDLE = 2,
    GT_PROC_SYSCALL = 3,
    GT_PROC_SYSCALL_ABANDONED = 4
};

/* libctrace's module records (docs/FORMAT.md, "Module records"): one
 * stack per loaded module in each generation's stack table, referenced by
 * no event: id GT_MODULE_STACK_BASE + i, one frame whose PC is
 * GT_MODULE_PC_BASE + i, function GT_MODULE_FUNC_PREFIX "base=0x..
 * size=0x.. build-id=HEX", file the module's path, line 0. */
#define GT_MODULE_STACK_BASE 0x4000000000000000ull
#define GT_MODULE_PC_BASE 0x8000000000000000ull
#define GT_MODULE_FUNC_PREFIX "ctrace:module "

/* The reasons of libctrace's zero-length waits (docs/FORMAT.md, "Go's
 * profiles"): a GoBlock, GoUnblock, GoStart at one instant, written so that
 * Go's profiles end a wait exactly where it ended (the first three), and
 * to name the main thread's goroutine "main" (the last).  Nothing waits
 * there: ctrace stat leaves them out of its blocking table. */
#define GT_ZERO_WAIT_END_OF_WAIT "ctrace: end of wait"
#define GT_ZERO_WAIT_END_OF_SYSCALL "ctrace: end of syscall"
#define GT_ZERO_WAIT_THREAD_START "ctrace: thread start"
#define GT_ZERO_WAIT_MAIN_THREAD "ctrace: main thread"

/* Limits the parsers enforce. */
#define GT_MAX_BATCH_SIZE (64u << 10)   /* bytes of batch data            */
#define GT_MAX_FRAMES_PER_STACK 128
#define GT_MAX_STRING_SIZE (1u << 10)   /* bytes                          */

/* Sentinel IDs ("no thread/proc/goroutine") are all-ones in the Go parser
 * (int64 -1), which is how they are encoded as varints. */
#define GT_NO_ID UINT64_MAX
/* Task 0 is the background task. */
#define GT_BACKGROUND_TASK 0

/* Spec of one v2 event: how many varint arguments follow the type byte
 * (including the timestamp delta for timed events) and whether it is timed. */
struct gt_ev_spec {
    const char *name;
    uint8_t nargs;   /* fixed varint args after the type byte            */
    uint8_t timed;   /* first arg is a timestamp delta                   */
    uint8_t stack_arg;  /* 1-based index of a stack-ID arg, 0 if none    */
    uint8_t string_arg; /* 1-based index of a string-ID arg, 0 if none   */
    uint8_t string_arg2;/* a second string-ID arg, 0 if none             */
};

/* Table indexed by enum gt_ev, GT_EV_COUNT_GO123 entries. */
extern const struct gt_ev_spec gt_ev_specs[GT_EV_COUNT_GO123];

#endif /* CTRACE_FORMAT_GOTRACE_H */
