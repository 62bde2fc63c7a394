/*
 * errors.c - error strings and the version.
 */
#include "ctrace.h"

const char *ctrace_strerror(int err)
{
    switch (err) {
    case CTRACE_OK: return "success";
    case CTRACE_EINVAL: return "invalid argument";
    case CTRACE_EBUSY: return "tracing already enabled, another reader is active, or the last trace is not read yet";
    case CTRACE_ENOTRACING: return "tracing is not enabled";
    case CTRACE_ENOMEM: return "out of memory";
    case CTRACE_EWRITE: return "the trace writer failed";
    case CTRACE_EOPEN: return "cannot open the trace output";
    case CTRACE_ESYS: return "a system call failed";
    case CTRACE_ECHILD: return "called in a forked child of the tracing process";
    default: return "unknown error";
    }
}

const char *ctrace_version(void)
{
    return CTRACE_VERSION_STRING;
}
