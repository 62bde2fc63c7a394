/*
 * static/exit.c - _exit and _Exit for a program linked with libctrace.a
 * (only the static library has this file; the shared one has the
 * interposers of src/interpose/process.c).
 *
 * exit() and a return from main finish the trace through the atexit
 * handler proc.c registers; _exit and _Exit skip atexit handlers.  A
 * program that calls them has an undefined reference to _exit/_Exit when
 * the linker reaches libctrace.a, which therefore links this member and
 * binds the program's calls here (the definition in the executable comes
 * before libc's).  libc's own internal calls do not come here, as with the
 * interposers.
 *
 * Invariants: the trace is finished exactly as by the interposers (not in
 * a vfork child, not on a thread inside the tracer), then the process ends
 * with exit_group(2), which is all glibc's _exit does.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "proc.h"
#include "trace.h"

static void exit_hook(void)
{
    if (CT_ENABLED() && !ct_proc_in_vfork_child() && !ct_in_tracer())
        ct_process_exit();
}

__attribute__((visibility("default"))) void _exit(int status)
{
    exit_hook();
    for (;;)
        syscall(SYS_exit_group, status);
}

__attribute__((visibility("default"))) void _Exit(int status)
{
    exit_hook();
    for (;;)
        syscall(SYS_exit_group, status);
}
