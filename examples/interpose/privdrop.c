/*
 * privdrop.c - a root program dropping its privileges the way setpriv(1)
 * does, keeping a capability across the uid change:
 *
 *   prctl(PR_SET_KEEPCAPS, 1)       keep the permitted set past setresuid
 *   setresuid(nobody)               (the effective set is cleared)
 *   capset: CAP_SETGID effective    raised again, on this thread only
 *   setresgid(nogroup), setgroups   allowed by CAP_SETGID
 *
 * Single-threaded, as such programs are when they do it: glibc runs
 * setresgid on every thread and aborts the process ("failed to set
 * credentials consistently") if it fails on one -- a thread without
 * CAP_SETGID, like a tracer's, untouched by the capset.  Prints the ids it
 * ends with; "not root" (exit 0) when not started as root.
 *
 *   privdrop [UID GID]      (default 65534 65534)
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    uid_t uid = argc > 2 ? (uid_t)atoi(argv[1]) : 65534;
    gid_t gid = argc > 2 ? (gid_t)atoi(argv[2]) : 65534;
    if (geteuid() != 0) {
        printf("not root\n");
        return 0;
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
        perror("prctl");
        return 1;
    }
    if (setresuid(uid, uid, uid) != 0) {
        perror("setresuid");
        return 1;
    }
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) {
        perror("capget");
        return 1;
    }
    d[0].effective |= 1u << CAP_SETGID;
    if (syscall(SYS_capset, &h, d) != 0) {
        perror("capset");
        return 1;
    }
    if (setresgid(gid, gid, gid) != 0 || setgroups(0, NULL) != 0) {
        perror("setresgid");
        return 1;
    }
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("dropped to uid %u/%u/%u gid %u/%u/%u, %d supplementary groups\n", r, e, s, gr, ge, gs,
           getgroups(0, NULL));
    return 0;
}
