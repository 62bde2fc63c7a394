/*
 * gotrace.c - the v2 event table (see gotrace.h).  Argument counts include
 * the timestamp delta of timed events; stack_arg/string_arg are 1-based
 * argument positions (the delta is argument 1).
 */
#include "gotrace.h"

#define TIMED(n, na, st, s1, s2) {n, na, 1, st, s1, s2}
#define UNTIMED(n, na) {n, na, 0, 0, 0, 0}

const struct gt_ev_spec gt_ev_specs[GT_EV_COUNT_GO123] = {
    [GT_EV_NONE] = UNTIMED("None", 0),
    [GT_EV_EVENT_BATCH] = UNTIMED("EventBatch", 4),
    [GT_EV_STACKS] = UNTIMED("Stacks", 0),
    [GT_EV_STACK] = UNTIMED("Stack", 2),     /* + frames */
    [GT_EV_STRINGS] = UNTIMED("Strings", 0),
    [GT_EV_STRING] = UNTIMED("String", 1),   /* + len + bytes */
    [GT_EV_CPU_SAMPLES] = UNTIMED("CPUSamples", 0),
    [GT_EV_CPU_SAMPLE] = UNTIMED("CPUSample", 5),
    [GT_EV_FREQUENCY] = UNTIMED("Frequency", 1),
    [GT_EV_PROCS_CHANGE] = TIMED("ProcsChange", 3, 3, 0, 0),
    [GT_EV_PROC_START] = TIMED("ProcStart", 3, 0, 0, 0),
    [GT_EV_PROC_STOP] = TIMED("ProcStop", 1, 0, 0, 0),
    [GT_EV_PROC_STEAL] = TIMED("ProcSteal", 4, 0, 0, 0),
    [GT_EV_PROC_STATUS] = TIMED("ProcStatus", 3, 0, 0, 0),
    [GT_EV_GO_CREATE] = TIMED("GoCreate", 4, 4, 0, 0), /* new stack is arg 3 */
    [GT_EV_GO_CREATE_SYSCALL] = TIMED("GoCreateSyscall", 2, 0, 0, 0),
    [GT_EV_GO_START] = TIMED("GoStart", 3, 0, 0, 0),
    [GT_EV_GO_DESTROY] = TIMED("GoDestroy", 1, 0, 0, 0),
    [GT_EV_GO_DESTROY_SYSCALL] = TIMED("GoDestroySyscall", 1, 0, 0, 0),
    [GT_EV_GO_STOP] = TIMED("GoStop", 3, 3, 2, 0),
    [GT_EV_GO_BLOCK] = TIMED("GoBlock", 3, 3, 2, 0),
    [GT_EV_GO_UNBLOCK] = TIMED("GoUnblock", 4, 4, 0, 0),
    [GT_EV_GO_SYSCALL_BEGIN] = TIMED("GoSyscallBegin", 3, 3, 0, 0),
    [GT_EV_GO_SYSCALL_END] = TIMED("GoSyscallEnd", 1, 0, 0, 0),
    [GT_EV_GO_SYSCALL_END_BLOCKED] = TIMED("GoSyscallEndBlocked", 1, 0, 0, 0),
    [GT_EV_GO_STATUS] = TIMED("GoStatus", 4, 0, 0, 0),
    [GT_EV_STW_BEGIN] = TIMED("STWBegin", 3, 3, 2, 0),
    [GT_EV_STW_END] = TIMED("STWEnd", 1, 0, 0, 0),
    [GT_EV_GC_ACTIVE] = TIMED("GCActive", 2, 0, 0, 0),
    [GT_EV_GC_BEGIN] = TIMED("GCBegin", 3, 3, 0, 0),
    [GT_EV_GC_END] = TIMED("GCEnd", 2, 0, 0, 0),
    [GT_EV_GC_SWEEP_ACTIVE] = TIMED("GCSweepActive", 2, 0, 0, 0),
    [GT_EV_GC_SWEEP_BEGIN] = TIMED("GCSweepBegin", 2, 2, 0, 0),
    [GT_EV_GC_SWEEP_END] = TIMED("GCSweepEnd", 3, 0, 0, 0),
    [GT_EV_GC_MARK_ASSIST_ACTIVE] = TIMED("GCMarkAssistActive", 2, 0, 0, 0),
    [GT_EV_GC_MARK_ASSIST_BEGIN] = TIMED("GCMarkAssistBegin", 2, 2, 0, 0),
    [GT_EV_GC_MARK_ASSIST_END] = TIMED("GCMarkAssistEnd", 1, 0, 0, 0),
    [GT_EV_HEAP_ALLOC] = TIMED("HeapAlloc", 2, 0, 0, 0),
    [GT_EV_HEAP_GOAL] = TIMED("HeapGoal", 2, 0, 0, 0),
    [GT_EV_GO_LABEL] = TIMED("GoLabel", 2, 0, 2, 0),
    [GT_EV_USER_TASK_BEGIN] = TIMED("UserTaskBegin", 5, 5, 4, 0),
    [GT_EV_USER_TASK_END] = TIMED("UserTaskEnd", 3, 3, 0, 0),
    [GT_EV_USER_REGION_BEGIN] = TIMED("UserRegionBegin", 4, 4, 3, 0),
    [GT_EV_USER_REGION_END] = TIMED("UserRegionEnd", 4, 4, 3, 0),
    [GT_EV_USER_LOG] = TIMED("UserLog", 5, 5, 3, 4),
    [GT_EV_GO_SWITCH] = TIMED("GoSwitch", 3, 0, 0, 0),
    [GT_EV_GO_SWITCH_DESTROY] = TIMED("GoSwitchDestroy", 3, 0, 0, 0),
    [GT_EV_GO_CREATE_BLOCKED] = TIMED("GoCreateBlocked", 4, 4, 0, 0),
    [GT_EV_GO_STATUS_STACK] = TIMED("GoStatusStack", 5, 5, 0, 0),
    [GT_EV_EXPERIMENTAL_BATCH] = UNTIMED("ExperimentalBatch", 0),
};
