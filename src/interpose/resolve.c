/*
 * resolve.c - what the wrappers ask of the rest of the library: the real
 * functions (src/libc's ct_libc_dlsym, through CT_REAL in interpose.h) and
 * the process identity the exec/exit wrappers check.
 *
 * Invariants:
 *  - The process identity the exec/exit wrappers check (is this a vfork
 *    child?) is the runtime's one cached pid (proc.c): ct_in_vfork_child
 *    and ct_raw_getpid only forward to it.
 *  - ct_interposers_present tells the runtime that the interposers are
 *    linked in (the shared library): they stand in for the fatal signals'
 *    default actions (signal.c), so the runtime installs no handler itself.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"
#include "proc.h"

const int ct_interposers_present = 1;

pid_t ct_raw_getpid(void)
{
    return ct_proc_raw_getpid();
}

int ct_in_vfork_child(void)
{
    return ct_proc_in_vfork_child();
}
