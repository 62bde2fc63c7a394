/*
 * names.c - names of error codes, event kinds, states and resources.  The
 * kind/state/resource names are Go's (trace.EventKind etc. String()), so
 * ctrace's output can be compared with Go's tools word for word.
 */
#include "ctrace_reader.h"

const char *ctrace_reader_strerror(int err)
{
    switch (err) {
    case CTRACE_READER_OK: return "success";
    case CTRACE_READER_EINVAL: return "invalid argument";
    case CTRACE_READER_ENOMEM: return "out of memory";
    case CTRACE_READER_EOPEN: return "cannot open the input";
    case CTRACE_READER_EIO: return "read error";
    case CTRACE_READER_EVERSION: return "not a Go trace or unsupported version";
    case CTRACE_READER_EFORMAT: return "malformed trace";
    case CTRACE_READER_EINVALID: return "invalid trace";
    case CTRACE_READER_ETRUNCATED: return "truncated trace";
    case CTRACE_READER_ELIMIT: return "trace exceeds a reader limit";
    }
    return "unknown error";
}

const char *ctrace_event_kind_name(enum ctrace_event_kind k)
{
    static const char *const n[] = {
        "Bad", "Sync", "Metric", "Label", "StackSample", "RangeBegin", "RangeActive",
        "RangeEnd", "TaskBegin", "TaskEnd", "RegionBegin", "RegionEnd", "Log",
        "StateTransition", "Experimental"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "Bad";
}

const char *ctrace_state_name(enum ctrace_state s)
{
    static const char *const n[] = {"Bad", "Undetermined", "NotExist", "Runnable",
                                    "Running", "Waiting", "Syscall", "Idle"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "Bad";
}

const char *ctrace_resource_kind_name(enum ctrace_resource_kind k)
{
    static const char *const n[] = {"None", "Goroutine", "Proc", "Thread"};
    return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "Bad";
}
