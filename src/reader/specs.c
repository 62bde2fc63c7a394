/*
 * specs.c - argument layout of every v2 event type, as the reader needs it:
 * argument counts, which arguments are stack or string IDs, which Begin
 * event an End/Active event closes.  Facts of the format (Go 1.22/1.23),
 * including the AllocFree experiment's types 128-136 that Go 1.23 accepts.
 */
#include "internal.h"

#include <stdio.h>

#define T 1
const struct rspec rd_specs[RT_NSPECS] = {
    [GT_EV_NONE] = {"None", 0, 0, 0, 0, 0, 0, 0},
    [GT_EV_EVENT_BATCH] = {"EventBatch", 4, 0, 0, 0, 0, 0, 0},
    [GT_EV_STACKS] = {"Stacks", 0, 0, 0, 0, 0, 0, 0},
    [GT_EV_STACK] = {"Stack", 2, 0, 0, 0, 0, 0, 0},
    [GT_EV_STRINGS] = {"Strings", 0, 0, 0, 0, 0, 0, 0},
    [GT_EV_STRING] = {"String", 1, 0, 0, 0, 0, 0, 0},
    [GT_EV_CPU_SAMPLES] = {"CPUSamples", 0, 0, 0, 0, 0, 0, 0},
    [GT_EV_CPU_SAMPLE] = {"CPUSample", 5, 0, 0, 0, 0, 0, 0},
    [GT_EV_FREQUENCY] = {"Frequency", 1, 0, 0, 0, 0, 0, 0},
    [GT_EV_PROCS_CHANGE] = {"ProcsChange", 3, T, 2, 0, 0, 0, 0},
    [GT_EV_PROC_START] = {"ProcStart", 3, T, 0, 0, 0, 0, 0},
    [GT_EV_PROC_STOP] = {"ProcStop", 1, T, 0, 0, 0, 0, 0},
    [GT_EV_PROC_STEAL] = {"ProcSteal", 4, T, 0, 0, 0, 0, 0},
    [GT_EV_PROC_STATUS] = {"ProcStatus", 3, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_CREATE] = {"GoCreate", 4, T, 3, 2, 0, 0, 0},
    [GT_EV_GO_CREATE_SYSCALL] = {"GoCreateSyscall", 2, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_START] = {"GoStart", 3, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_DESTROY] = {"GoDestroy", 1, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_DESTROY_SYSCALL] = {"GoDestroySyscall", 1, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_STOP] = {"GoStop", 3, T, 2, 0, 1, 0, 0},
    [GT_EV_GO_BLOCK] = {"GoBlock", 3, T, 2, 0, 1, 0, 0},
    [GT_EV_GO_UNBLOCK] = {"GoUnblock", 4, T, 3, 0, 0, 0, 0},
    [GT_EV_GO_SYSCALL_BEGIN] = {"GoSyscallBegin", 3, T, 2, 0, 0, 0, 0},
    [GT_EV_GO_SYSCALL_END] = {"GoSyscallEnd", 1, T, 0, 0, 0, 0, GT_EV_GO_SYSCALL_BEGIN},
    [GT_EV_GO_SYSCALL_END_BLOCKED] = {"GoSyscallEndBlocked", 1, T, 0, 0, 0, 0, GT_EV_GO_SYSCALL_BEGIN},
    [GT_EV_GO_STATUS] = {"GoStatus", 4, T, 0, 0, 0, 0, 0},
    [GT_EV_STW_BEGIN] = {"STWBegin", 3, T, 2, 0, 1, 0, 0},
    [GT_EV_STW_END] = {"STWEnd", 1, T, 0, 0, 0, 0, GT_EV_STW_BEGIN},
    [GT_EV_GC_ACTIVE] = {"GCActive", 2, T, 0, 0, 0, 0, GT_EV_GC_BEGIN},
    [GT_EV_GC_BEGIN] = {"GCBegin", 3, T, 2, 0, 0, 0, 0},
    [GT_EV_GC_END] = {"GCEnd", 2, T, 0, 0, 0, 0, GT_EV_GC_BEGIN},
    [GT_EV_GC_SWEEP_ACTIVE] = {"GCSweepActive", 2, T, 0, 0, 0, 0, GT_EV_GC_SWEEP_BEGIN},
    [GT_EV_GC_SWEEP_BEGIN] = {"GCSweepBegin", 2, T, 1, 0, 0, 0, 0},
    [GT_EV_GC_SWEEP_END] = {"GCSweepEnd", 3, T, 0, 0, 0, 0, GT_EV_GC_SWEEP_BEGIN},
    [GT_EV_GC_MARK_ASSIST_ACTIVE] = {"GCMarkAssistActive", 2, T, 0, 0, 0, 0, GT_EV_GC_MARK_ASSIST_BEGIN},
    [GT_EV_GC_MARK_ASSIST_BEGIN] = {"GCMarkAssistBegin", 2, T, 1, 0, 0, 0, 0},
    [GT_EV_GC_MARK_ASSIST_END] = {"GCMarkAssistEnd", 1, T, 0, 0, 0, 0, GT_EV_GC_MARK_ASSIST_BEGIN},
    [GT_EV_HEAP_ALLOC] = {"HeapAlloc", 2, T, 0, 0, 0, 0, 0},
    [GT_EV_HEAP_GOAL] = {"HeapGoal", 2, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_LABEL] = {"GoLabel", 2, T, 0, 0, 1, 0, 0},
    [GT_EV_USER_TASK_BEGIN] = {"UserTaskBegin", 5, T, 4, 0, 3, 0, 0},
    [GT_EV_USER_TASK_END] = {"UserTaskEnd", 3, T, 2, 0, 0, 0, 0},
    [GT_EV_USER_REGION_BEGIN] = {"UserRegionBegin", 4, T, 3, 0, 2, 0, 0},
    [GT_EV_USER_REGION_END] = {"UserRegionEnd", 4, T, 3, 0, 2, 0, GT_EV_USER_REGION_BEGIN},
    [GT_EV_USER_LOG] = {"UserLog", 5, T, 4, 0, 2, 3, 0},
    [GT_EV_GO_SWITCH] = {"GoSwitch", 3, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_SWITCH_DESTROY] = {"GoSwitchDestroy", 3, T, 0, 0, 0, 0, 0},
    [GT_EV_GO_CREATE_BLOCKED] = {"GoCreateBlocked", 4, T, 3, 2, 0, 0, 0},
    [GT_EV_GO_STATUS_STACK] = {"GoStatusStack", 5, T, 4, 0, 0, 0, 0},
    [GT_EV_EXPERIMENTAL_BATCH] = {"ExperimentalBatch", 4, 0, 0, 0, 0, 0, 0},
    [128] = {"Span", 4, T, 0, 0, 0, 0, 0},
    [129] = {"SpanAlloc", 4, T, 0, 0, 0, 0, 0},
    [130] = {"SpanFree", 2, T, 0, 0, 0, 0, 0},
    [131] = {"HeapObject", 3, T, 0, 0, 0, 0, 0},
    [132] = {"HeapObjectAlloc", 3, T, 0, 0, 0, 0, 0},
    [133] = {"HeapObjectFree", 2, T, 0, 0, 0, 0, 0},
    [134] = {"GoroutineStack", 3, T, 0, 0, 0, 0, 0},
    [135] = {"GoroutineStackAlloc", 3, T, 0, 0, 0, 0, 0},
    [136] = {"GoroutineStackFree", 2, T, 0, 0, 0, 0, 0},
};

/* Types 50-127 are holes of the table: known to exist (so "no timestamp"
 * rather than "invalid type", as Go reports them) but without arguments.
 * rspec_of (internal.h) gives this entry for them. */
const struct rspec rd_spec_hole = {"", 0, 0, 0, 0, 0, 0, 0};

const char *rspec_name(unsigned typ, char buf[24])
{
    const struct rspec *s = rspec_of(typ);
    if (s)
        return s->name;
    snprintf(buf, 24, "Invalid(%u)", typ);
    return buf;
}

/* Argument names of the experimental events (after the timestamp). */
const char *const *rspec_exp_argnames(unsigned typ)
{
    static const char *const span[] = {"id", "npages_value", "kindclass"};
    static const char *const id[] = {"id"};
    static const char *const obj[] = {"id", "type"};
    static const char *const stk[] = {"id", "order"};
    switch (typ) {
    case 128: case 129: return span;
    case 130: case 133: case 136: return id;
    case 131: case 132: return obj;
    case 134: case 135: return stk;
    }
    return NULL;
}
