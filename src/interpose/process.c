/*
 * process.c - exec and exit: the trace of this process image is finished
 * before the image goes away.
 *
 *   execve, execv, execvp, execvpe, execl, execlp, execle, fexecve:
 *       ct_before_exec() flushes and closes this image's trace; if exec
 *       returns (it failed), ct_exec_failed() resumes tracing.
 *   exit, _exit, _Exit, syscall(SYS_exit_group): ct_process_exit() finishes
 *       the trace, then the real function runs.  (A raw exit_group system
 *       call, as Go's runtime makes, is not seen: the trace is cut.)
 *   kill, killpg, raise, pthread_kill, tgkill, sigqueue: the same before
 *       a SIGKILL that reaches this process (it cannot be caught).
 *   daemon: glibc's forks and ends the parent with an internal _exit that
 *       no wrapper sees (the parent's trace was left without one complete
 *       generation); so it is done here, in the same steps, the parent
 *       leaving through the _exit wrapper's path.
 *
 * Naming the next image's trace: the new image keeps our pid, so with the
 * output pattern "x.%p.trace" it would reopen (and truncate) the file this
 * image just finished.  The exec wrappers therefore pass the new image an
 * edited CTRACE_OUTPUT: the first "%p" becomes "%p-1" (then "%p-2"...), or
 * ".%p-1" is appended to a pattern without "%p"; and CTRACE_EXEC_PID, our
 * pid.  "%p-K" numbers the images of that pid only: another process that
 * inherits the edited pattern -- a fork child, a vfork child's exec,
 * posix_spawn or system() from the new image -- is at its own pid's first
 * image and drops the "-K" (proc.c).  The edit is made in a copy of the
 * environment on our stack; the caller's environment is untouched.
 * Environments of more than CT_ENV_MAX entries or values longer than
 * CT_VAL_MAX are passed on unedited.
 *
 * A vfork child's exec (a shell runs commands that way: dash's vfork +
 * execve) starts a new process, not a new image of ours: the parent is
 * alive and still writing its file.  With a pattern without "%p" the new
 * image would truncate and write that very file, so it is given the
 * pattern with ".%p" appended: it writes "<pattern>.<its pid>", the name
 * any other process started with the pattern falls back to (proc.c's
 * autostart: the file is locked while a trace writes it).  A pattern with
 * "%p" already names a file of the child's own and is passed on as it is.
 *
 * vfork: we do not interpose vfork.  A vfork child shares our memory
 * (including the tracer's per-thread state of the parent thread) but not
 * our pid, and runs no atfork handler, so ct_in_vfork_child() tells it
 * apart: exec and _exit in a vfork child call the real function and touch
 * nothing else but a copy of the environment on the stack (finishing "our"
 * trace there would finish the parent's).
 * posix_spawn and system() use an internal vfork-like clone and an internal
 * execve that never reach these wrappers; the spawned program is traced
 * through the inherited environment, under its own pid: with a pattern
 * without "%p", to "<pattern>.<pid>" while its parent's trace holds the
 * file (proc.c).
 *
 * An exec that cannot succeed -- no executable file at the path, or none
 * along PATH for execvp (a shell's command search tries every directory) --
 * is passed straight to the real function: finishing the trace and
 * resuming it would split it into a new file at every failed candidate.
 * Should the file appear between the check and the exec, the new image
 * still gets its own output name; only this image's last generation would
 * be lost.
 *
 * glibc's exec* functions call their execve internally (not through the
 * PLT), so each is wrapped on its own; the l-variants build an argv on the
 * stack and share the v-variants' code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "interpose.h"
#include "proc.h"

extern char **environ;

CT_REAL_DECL(int, execve, (const char *, char *const[], char *const[]));
CT_REAL_DECL(int, execvpe, (const char *, char *const[], char *const[]));
CT_REAL_DECL(int, fexecve, (int, char *const[], char *const[]));
CT_REAL_DECL(void, exit, (int));
CT_REAL_DECL(void, _exit, (int));
CT_REAL_DECL(void, _Exit, (int));

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_process_init(void)
{
    CT_REAL(execve);
    CT_REAL(execvpe);
    CT_REAL(fexecve);
    CT_REAL(exit);
    CT_REAL(_exit);
    CT_REAL(_Exit);
}

#define CT_ENV_MAX 1024
#define CT_VAL_MAX 4096
static const char ct_out_var[] = "CTRACE_OUTPUT=";
static const char ct_pid_var[] = "CTRACE_EXEC_PID=";

/* Writes the next image's CTRACE_OUTPUT assignment for value v into buf;
 * in a vfork child (another process), only for a pattern without "%p".
 * Returns 0 if there is none or it does not fit. */
static int ct_next_output(const char *v, char *buf, size_t cap, int vfork_child)
{
    const char *p = strstr(v, "%p");
    int n;
    if (vfork_child) {
        if (p)
            return 0;
        n = snprintf(buf, cap, "%s%s.%%p", ct_out_var, v);
    } else if (!p) {
        n = snprintf(buf, cap, "%s%s.%%p-1", ct_out_var, v);
    } else if (p[2] == '-' && p[3] >= '0' && p[3] <= '9') {
        /* The value says which exec of its pid wrote it; a fork child
         * inherits it unchanged, but is at its own pid's first image: the
         * count is this image's (ct_proc_exec_number). */
        char *end;
        unsigned long k = strtoul(p + 3, &end, 10);
        int mine = ct_proc_exec_number();
        if (mine >= 0)
            k = (unsigned long)mine;
        n = snprintf(buf, cap, "%s%.*s%%p-%lu%s", ct_out_var, (int)(p - v), v, k + 1, end);
    } else {
        n = snprintf(buf, cap, "%s%.*s%%p-1%s", ct_out_var, (int)(p - v), v, p + 2);
    }
    return n > 0 && (size_t)n < cap;
}

enum ct_exec_how { CT_EXECVE, CT_EXECVPE, CT_FEXECVE };

static int ct_exec_real(enum ct_exec_how how, const char *path, int fd, char *const argv[],
                        char *const envp[])
{
    switch (how) {
    case CT_EXECVE:
        CT_REAL(execve);
        if (ct_real_execve)
            return ct_real_execve(path, argv, envp);
        return (int)syscall(SYS_execve, path, argv, envp);
    case CT_EXECVPE:
        CT_REAL(execvpe);
        if (ct_real_execvpe)
            return ct_real_execvpe(path, argv, envp);
        break;
    case CT_FEXECVE:
        CT_REAL(fexecve);
        if (ct_real_fexecve)
            return ct_real_fexecve(fd, argv, envp);
        break;
    }
    errno = ENOSYS;
    return -1;
}

/* 1 if exec of path (how) certainly fails: no file we may execute there,
 * or, for a PATH search, in any directory of PATH.  errno is kept. */
static int ct_exec_cannot_succeed(enum ct_exec_how how, const char *path)
{
    if (how == CT_FEXECVE || !path)
        return 0;
    int e = errno, none = 1;
    if (how == CT_EXECVE || strchr(path, '/') || !*path) {
        none = faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0;
    } else {
        const char *dirs = getenv("PATH");
        if (!dirs)
            dirs = "/bin:/usr/bin"; /* glibc's execvp default */
        size_t fl = strlen(path);
        for (const char *d = dirs; none;) {
            const char *colon = strchr(d, ':');
            size_t dl = colon ? (size_t)(colon - d) : strlen(d);
            char cand[PATH_MAX];
            if (dl + 1 + fl < sizeof cand) {
                /* An empty entry is the current directory. */
                memcpy(cand, dl ? d : ".", dl ? dl : 1);
                size_t k = dl ? dl : 1;
                cand[k] = '/';
                memcpy(cand + k + 1, path, fl + 1);
                none = faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) != 0;
            } else {
                none = 0; /* cannot tell: assume it may succeed */
            }
            if (!colon)
                break;
            d = colon + 1;
        }
    }
    errno = e;
    return none;
}

static const char ct_flight_var[] = "CTRACE_FLIGHT=";

/* After the program entered a seccomp sandbox (proc.c,
 * ct_proc_enter_sandbox): the sandbox goes on in the new image, which
 * must not trace, so it gets neither of the variables that start a trace
 * there -- CTRACE_OUTPUT (a trace) and CTRACE_FLIGHT (a flight recorder,
 * under `ctrace run --flight`): a recorder's thread and files could be
 * what the sandbox kills the process for.  envp has n entries. */
static int ct_exec_sandboxed(enum ct_exec_how how, const char *path, int fd, char *const argv[],
                             char *const envp[], size_t n)
{
    char *newenv[n + 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], ct_out_var, sizeof ct_out_var - 1) != 0 &&
            strncmp(envp[i], ct_flight_var, sizeof ct_flight_var - 1) != 0)
            newenv[k++] = envp[i];
    newenv[k] = NULL;
    return ct_exec_real(how, path, fd, argv, k < n ? newenv : envp);
}

static int ct_exec(enum ct_exec_how how, const char *path, int fd, char *const argv[],
                   char *const envp[])
{
    int vfork_child = ct_in_vfork_child();

    /* Find CTRACE_OUTPUT and CTRACE_EXEC_PID, and count the environment. */
    size_t n = 0, at = (size_t)-1, pid_at = (size_t)-1;
    if (envp) {
        for (; envp[n]; n++) {
            if (at == (size_t)-1 && strncmp(envp[n], ct_out_var, sizeof ct_out_var - 1) == 0)
                at = n;
            else if (pid_at == (size_t)-1 &&
                     strncmp(envp[n], ct_pid_var, sizeof ct_pid_var - 1) == 0)
                pid_at = n;
        }
    }
    if (ct_proc_sandboxed() && !vfork_child && n <= CT_ENV_MAX)
        return ct_exec_sandboxed(how, path, fd, argv, envp, n);
    int edit = at != (size_t)-1 && n <= CT_ENV_MAX;
    char *newenv[edit ? n + 2 : 1];
    char val[edit ? CT_VAL_MAX : 1];
    char pidval[sizeof ct_pid_var + 24];
    if (edit && ct_next_output(envp[at] + sizeof ct_out_var - 1, val, sizeof val, vfork_child)) {
        memcpy(newenv, envp, n * sizeof *newenv);
        newenv[at] = val;
        if (!vfork_child) {
            /* The pid whose next image "%p-K" numbers (see above). */
            snprintf(pidval, sizeof pidval, "%s%d", ct_pid_var, (int)ct_proc_pid());
            newenv[pid_at != (size_t)-1 ? pid_at : n++] = pidval;
        }
        newenv[n] = NULL;
        envp = newenv;
    }
    if (vfork_child)
        return ct_exec_real(how, path, fd, argv, envp);

    int traced = CT_ENABLED() && !ct_exec_cannot_succeed(how, path);
    if (traced)
        ct_before_exec();
    int r = ct_exec_real(how, path, fd, argv, envp);
    if (traced) {
        int saved = errno;
        ct_exec_failed();
        errno = saved;
    }
    return r;
}

CT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return ct_exec(CT_EXECVE, path, -1, argv, envp);
}

CT_EXPORT int execv(const char *path, char *const argv[])
{
    return ct_exec(CT_EXECVE, path, -1, argv, environ);
}

CT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return ct_exec(CT_EXECVPE, file, -1, argv, envp);
}

CT_EXPORT int execvp(const char *file, char *const argv[])
{
    return ct_exec(CT_EXECVPE, file, -1, argv, environ);
}

CT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    return ct_exec(CT_FEXECVE, NULL, fd, argv, envp);
}

/* execl, execlp, execle: count the variadic list, then collect it into an
 * argv of exactly that size on the stack (as glibc does). */
static size_t ct_count_args(const char *first, va_list ap)
{
    size_t n = 1;
    const char *a0 = first;
    __asm__("" : "+r"(a0)); /* declared nonnull, but callers differ */
    if (!a0)
        return 0;
    va_list c;
    va_copy(c, ap);
    while (va_arg(c, char *) != NULL)
        n++;
    va_end(c);
    return n;
}

static void ct_collect_args(char **argv, size_t argc, const char *first, va_list ap)
{
    if (argc > 0)
        argv[0] = (char *)first;
    for (size_t i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    if (argc > 0)
        (void)va_arg(ap, char *); /* the terminating NULL */
    argv[argc] = NULL;
}

CT_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t argc = ct_count_args(arg, ap);
    char *argv[argc + 1];
    ct_collect_args(argv, argc, arg, ap);
    va_end(ap);
    return ct_exec(CT_EXECVE, path, -1, argv, environ);
}

CT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t argc = ct_count_args(arg, ap);
    char *argv[argc + 1];
    ct_collect_args(argv, argc, arg, ap);
    va_end(ap);
    return ct_exec(CT_EXECVPE, file, -1, argv, environ);
}

CT_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t argc = ct_count_args(arg, ap);
    char *argv[argc + 1];
    ct_collect_args(argv, argc, arg, ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return ct_exec(CT_EXECVE, path, -1, argv, envp);
}

/* ---------------------------------------------------------------- */
/* exit                                                              */
/* ---------------------------------------------------------------- */

static void ct_exit_hook(const char *how, int status)
{
    if (ct_in_vfork_child())
        return; /* the parent's trace */
    /* Inside the program's handler of a crash signal (a handler that
     * reports and exits): the process dies of that crash, and the fatal-
     * signal path (crash.c) finishes the trace as for the signal -- on the
     * finisher thread, bounded: this thread may hold any lock. */
    if (ct_crash_exit_in_handler(how, status))
        return;
    /* Not on a thread that is inside the tracer (an _exit from a signal
     * handler that interrupted the tracer would wait for itself). */
    if (CT_ENABLED() && !ct_in_tracer())
        ct_process_exit();
}

void ct_exit_group_call(int status)
{
    ct_exit_hook("exit_group", status);
}

CT_EXPORT void exit(int status)
{
    CT_REAL(exit);
    ct_exit_hook("exit", status);
    if (CT_LIKELY(ct_real_exit != NULL))
        ct_real_exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

CT_EXPORT void _exit(int status)
{
    CT_REAL(_exit);
    ct_exit_hook("_exit", status);
    if (CT_LIKELY(ct_real__exit != NULL))
        ct_real__exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

CT_EXPORT void _Exit(int status)
{
    CT_REAL(_Exit);
    ct_exit_hook("_Exit", status);
    if (CT_LIKELY(ct_real__Exit != NULL))
        ct_real__Exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

/* ---------------------------------------------------------------- */
/* SIGKILL to this process                                           */
/* ---------------------------------------------------------------- */

/* SIGKILL cannot be caught, so a program that sends it to itself --
 * timeout(1) dying of its child's SIGKILL, a supervisor ending its own
 * group -- left a trace cut at its last complete generation.  Sent
 * through these functions it is an exit like _exit: the trace is
 * finished first (in a handler of a crash signal, by the fatal-signal
 * path, as for _exit there).  A raw kill system call is not seen. */
static void ct_selfkill_hook(int sig, int to_self)
{
    if (sig == SIGKILL && to_self)
        ct_exit_hook("SIGKILL", SIGKILL);
}

/* Whether kill(pid, ...) reaches this process: itself, its process
 * group (0 or -pgrp); kill(-1, ...) spares the caller. */
static int ct_kill_reaches_self(pid_t pid)
{
    if (pid > 0)
        return pid == ct_raw_getpid();
    if (pid == 0)
        return 1;
    return pid < -1 && -pid == getpgrp();
}

CT_REAL_DECL(int, kill, (pid_t, int));
CT_REAL_DECL(int, killpg, (pid_t, int));
CT_REAL_DECL(int, raise, (int));
CT_REAL_DECL(int, pthread_kill, (pthread_t, int));
CT_REAL_DECL(int, tgkill, (pid_t, pid_t, int));
CT_REAL_DECL(int, sigqueue, (pid_t, int, const union sigval));

CT_EXPORT int kill(pid_t pid, int sig)
{
    ct_selfkill_hook(sig, sig == SIGKILL && ct_kill_reaches_self(pid));
    CT_REAL(kill);
    if (CT_LIKELY(ct_real_kill != NULL))
        return ct_real_kill(pid, sig);
    return (int)syscall(SYS_kill, pid, sig);
}

CT_EXPORT int killpg(pid_t pgrp, int sig)
{
    ct_selfkill_hook(sig, sig == SIGKILL && (pgrp == 0 || pgrp == getpgrp()));
    CT_REAL(killpg);
    if (CT_LIKELY(ct_real_killpg != NULL))
        return ct_real_killpg(pgrp, sig);
    return (int)syscall(SYS_kill, -pgrp, sig);
}

CT_EXPORT int raise(int sig)
{
    ct_selfkill_hook(sig, 1);
    CT_REAL(raise);
    if (CT_LIKELY(ct_real_raise != NULL))
        return ct_real_raise(sig);
    return (int)syscall(SYS_tgkill, ct_raw_getpid(), (pid_t)syscall(SYS_gettid), sig);
}

/* SIGKILL to any thread ends the whole process. */
CT_EXPORT int pthread_kill(pthread_t th, int sig)
{
    ct_selfkill_hook(sig, 1);
    CT_REAL(pthread_kill);
    if (CT_LIKELY(ct_real_pthread_kill != NULL))
        return ct_real_pthread_kill(th, sig);
    return ENOSYS;
}

CT_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
    ct_selfkill_hook(sig, sig == SIGKILL && tgid == ct_raw_getpid());
    CT_REAL(tgkill);
    if (CT_LIKELY(ct_real_tgkill != NULL))
        return ct_real_tgkill(tgid, tid, sig);
    return (int)syscall(SYS_tgkill, tgid, tid, sig);
}

CT_EXPORT int sigqueue(pid_t pid, int sig, const union sigval val)
{
    ct_selfkill_hook(sig, sig == SIGKILL && pid == ct_raw_getpid());
    CT_REAL(sigqueue);
    if (CT_LIKELY(ct_real_sigqueue != NULL))
        return ct_real_sigqueue(pid, sig, val);
    errno = ENOSYS;
    return -1;
}

/* ---------------------------------------------------------------- */
/* daemon                                                            */
/* ---------------------------------------------------------------- */

/* glibc's daemon(3), step for step (misc/daemon.c): fork, the parent
 * _exits with 0, the child becomes a session leader, moves to "/" unless
 * nochdir, and puts /dev/null (checked to be the null device) on 0, 1 and
 * 2 unless noclose.  Only the parent's exit differs: through ct_exit_hook,
 * so its trace is finished.  The child's trace is started by the fork
 * handler (proc.c) as for any fork. */
CT_EXPORT int daemon(int nochdir, int noclose)
{
    CT_REAL(_exit);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        ct_exit_hook("_exit", 0);
        if (CT_LIKELY(ct_real__exit != NULL))
            ct_real__exit(0);
        for (;;)
            syscall(SYS_exit_group, 0);
    }
    if (setsid() == -1)
        return -1;
    if (!nochdir)
        (void)chdir("/");
    if (!noclose) {
        struct stat st;
        int fd = open("/dev/null", O_RDWR);
        if (fd == -1)
            return -1;
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
            close(fd);
            errno = ENODEV;
            return -1;
        }
        (void)dup2(fd, STDIN_FILENO);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        if (fd > 2)
            close(fd);
    }
    return 0;
}
