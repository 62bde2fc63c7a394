/*
 * sandbox.c - a program that enters a seccomp sandbox while a thread of
 * its works, as sandboxed services and parsers do.
 *
 *   sandbox strict   the main thread enters strict mode (prctl): it may
 *                    then only read, write and exit; it writes 100 bytes
 *                    and leaves through the exit system call, the worker
 *                    ends after it (the process's status is main's, 0)
 *   sandbox filter   a filter for every thread (seccomp, TSYNC) that
 *                    kills the process at any system call outside a
 *                    short list (no getpid, no open, no timers); the main
 *                    thread writes 100 bytes, joins the worker, sleeps
 *                    1.5 s and exits
 *   sandbox exec     a filter for every thread that kills the process
 *                    at any new thread (clone, clone3) -- a "no threads"
 *                    sandbox; the main thread joins the worker, then
 *                    execs this program again ("sandbox child": writes a
 *                    line, exits 0), the filter still on
 *
 * Expected: the same output and status traced and untraced.  Under ctrace
 * run the trace ends, whole, where the sandbox goes in (one stderr line);
 * without that the tracer's own system calls killed the main thread in
 * strict mode, and the process (SIGSYS) in filter mode; and the exec'd
 * image of exec mode, under `ctrace run --flight`, started a recorder
 * (its thread: SIGSYS).
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
        usleep(200);
    }
    return arg;
}

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int enter_filter(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_futex), ALLOW(SYS_exit), ALLOW(SYS_exit_group),
        ALLOW(SYS_nanosleep), ALLOW(SYS_clock_nanosleep), ALLOW(SYS_madvise), ALLOW(SYS_munmap),
        ALLOW(SYS_mmap), ALLOW(SYS_brk), ALLOW(SYS_rt_sigprocmask), ALLOW(SYS_rt_sigreturn),
        ALLOW(SYS_sched_yield),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

/* Kills the process at any clone or clone3 (every thread, TSYNC). */
static int enter_no_threads(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#ifdef SYS_clone3
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "strict";
    if (strcmp(mode, "child") == 0) {
        printf("the exec'd image ran in the sandbox\n");
        return 0;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    usleep(20000);
    fflush(stdout);
    if (strcmp(mode, "strict") == 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) {
            perror("prctl");
            return 1;
        }
        for (int i = 0; i < 99; i++)
            (void)!write(1, "s", 1);
        (void)!write(1, "\n", 1);
        syscall(SYS_exit, 0); /* strict mode has no exit_group */
    }
    if (strcmp(mode, "exec") == 0) {
        if (enter_no_threads() != 0) {
            perror("seccomp");
            return 1;
        }
        pthread_join(t, NULL);
        printf("exec\n");
        fflush(stdout);
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        perror("exec");
        return 1;
    }
    if (enter_filter() != 0) {
        perror("seccomp");
        return 1;
    }
    for (int i = 0; i < 99; i++) {
        pthread_mutex_lock(&mu);
        (void)!write(1, "f", 1);
        pthread_mutex_unlock(&mu);
    }
    (void)!write(1, "\n", 1);
    pthread_join(t, NULL);
    /* Long enough for the tracer's threads to wake under the filter
     * (the finisher's once-a-second check must not open /proc there). */
    usleep(1500000);
    _exit(0);
}
