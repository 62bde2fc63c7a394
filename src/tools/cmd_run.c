/*
 * cmd_run.c - `ctrace run`: run a program with libctrace preloaded.
 *
 *   ctrace run [-o PATTERN] [--cpu-hz N] [--period D] [--stacks MODE]
 *              [--mem SIZE] [--flight[=AGE]] [--flight-max SIZE]
 *              [--flight-signal SIG] [--slow NAME=D,...] [-q] [--] PROG [ARGS...]
 *
 * With --flight the program runs the flight recorder instead
 * (CTRACE_FLIGHT, CTRACE_FLIGHT_* and no CTRACE_OUTPUT): nothing is
 * written until a snapshot -- the signal, a slow region, a crash -- writes
 * PREFIX.PID.N.trace, PREFIX being -o's value (default PROG in the current
 * directory).
 *
 * The program is started with LD_PRELOAD=<libctrace.so> (prepended to any
 * existing LD_PRELOAD) and CTRACE_OUTPUT=<absolute pattern>; the library's
 * constructor starts tracing to the pattern with "%p" replaced by the pid,
 * and every process the program forks or execs writes a file of its own
 * (see docs/RUN.md).  Settings travel as CTRACE_CPU_HZ, CTRACE_PERIOD,
 * CTRACE_STACKS, CTRACE_MEM.
 *
 * Invariants (the caller must not be able to tell ctrace is there):
 *  - stdin, stdout and stderr are inherited untouched; ctrace writes only
 *    to stderr, and only after the program ended (the trace paths, unless
 *    -q; one warning line, even with -q, when a trace of the run records
 *    losses: ctrace_reader_skim_losses reads their loss records alone) or
 *    when it cannot start the program.
 *  - The exit status is the program's: its exit code, or death by the same
 *    signal (ctrace restores the default action and re-raises it on itself;
 *    core dumps of ctrace itself are suppressed).
 *  - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM sent
 *    to ctrace by another process are forwarded to the program (SIGUSR2:
 *    a flight snapshot); the same signals from the terminal already
 *    reach the program (same process group) and are not sent twice.
 *    Signals ctrace found ignored stay ignored, in ctrace and the program.
 *  - ctrace's own failures exit with 125 (bad usage, an output directory
 *    the traces cannot be written to, library not found),
 *    126 (program found but not executable), 127 (program not found), as
 *    env(1), nice(1) and timeout(1) do.
 *  - The program is exec'd with a raw execve after our own PATH search, so
 *    the interposers (linked into this tool through libctrace) never edit
 *    the child's CTRACE_OUTPUT on the way.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "ctrace_reader.h"
#include "losses.h"
#include "settings.h"

extern char **environ;

/* Present when the tool is linked with libctrace: lets us find the very
 * library we were linked against. */
extern const char *ctrace_version(void) __attribute__((weak));

#define RUN_EXIT_USAGE 125
#define RUN_EXIT_NOEXEC 126
#define RUN_EXIT_NOTFOUND 127

static void run_usage(FILE *f)
{
    fputs("usage: ctrace run [options] [--] PROG [ARGS...]\n"
          "Runs PROG with the tracer preloaded; writes one trace per process.\n"
          "  -o, --output PATTERN  trace file; %p is replaced by the pid\n"
          "                        (default: PROG.%p.trace in the current directory)\n"
          "      --cpu-hz N        CPU samples per second per thread, 0 = off (default 100)\n"
          "      --period D        generation length, e.g. 1s, 500ms (default 1s)\n"
          "      --stacks MODE     auto | fp | unwind | none (default auto: frame\n"
          "                        pointers where a module keeps them, CFI elsewhere)\n"
          "      --mem SIZE        cap on buffered trace data, e.g. 64M (default 64M)\n"
          "      --flight[=AGE]    flight recorder: keep the last AGE (default 10s) in memory,\n"
          "                        write PREFIX.PID.N.trace on SIGUSR2, a slow region or a crash\n"
          "                        (-o gives PREFIX; default PROG)\n"
          "      --flight-max SIZE memory of the flight recorder (default 32M)\n"
          "      --flight-signal SIG  snapshot signal: USR1, USR2 (default), a number, none\n"
          "      --slow NAME=D,... snapshot when a region or task NAME lasts D or more (req=100ms)\n"
          "  -q, --quiet           do not print the trace file names at the end\n"
          "                        (what the tracer lost, if anything, is still said)\n"
          "Environment: CTRACE_LIB overrides the path of libctrace.so.\n"
          "See docs/RUN.md.\n",
          f);
}

/* ---------------------------------------------------------------- */
/* Option values                                                     */
/* ---------------------------------------------------------------- */

/* ---------------------------------------------------------------- */
/* Finding libctrace.so                                              */
/* ---------------------------------------------------------------- */

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A path a trace can have been written to: a regular file, or a FIFO or
 * device the library writes as it is (docs/RUN.md, "The trace file"). */
static int is_written(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* A trace still being written: its writer holds an exclusive flock on a
 * regular file while it writes (src/runtime/writer.c) -- a process of the
 * run still running, such as one left in the background.  0 when it
 * cannot tell (no flock on that file system). */
static int is_being_written(const char *p)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the shared lock, if taken */
    return busy;
}

/* Writes the absolute path of libctrace.so to out.  Order: CTRACE_LIB, the
 * library this tool is linked with, then relative to the executable:
 * same directory, ../runtime (build tree: src/tools -> src/runtime),
 * ../lib, ../lib64, ../lib/<multiarch> (installs). */
static int find_library(char *out, size_t cap)
{
    const char *env = getenv("CTRACE_LIB");
    if (env && *env) {
        if (!is_file(env)) {
            fprintf(stderr, "ctrace run: CTRACE_LIB=%s: no such file\n", env);
            return -1;
        }
        if (!realpath(env, out))
            snprintf(out, cap, "%s", env);
        return 0;
    }
    if (ctrace_version) {
        Dl_info info;
        if (dladdr((void *)ctrace_version, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
            realpath(info.dli_fname, out))
            return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = 0;
        static const char *const rel[] = {
            "libctrace.so", "../runtime/libctrace.so", "../src/runtime/libctrace.so",
            "../lib/libctrace.so", "../lib64/libctrace.so",
#if defined(__x86_64__)
            "../lib/x86_64-linux-gnu/libctrace.so",
#elif defined(__aarch64__)
            "../lib/aarch64-linux-gnu/libctrace.so",
#endif
        };
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char cand[PATH_MAX + 64];
            snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
            if (is_file(cand) && realpath(cand, out))
                return 0;
        }
    }
    fprintf(stderr, "ctrace run: cannot find libctrace.so next to %s; set CTRACE_LIB\n",
            n > 0 ? exe : "the ctrace executable");
    return -1;
}

/* ---------------------------------------------------------------- */
/* The output pattern                                                */
/* ---------------------------------------------------------------- */

/* Checks, before the program runs, that the trace files (or, in flight
 * mode, the snapshots) can be created where abs (the absolute pattern;
 * shown is what the user gave) puts them: its directory exists and is
 * writable, and a trace file's name is not that of a directory.  Without
 * this the program ran untraced and each of its processes printed its own
 * "cannot trace" line on the program's stderr.  A directory part holding
 * "%p" is per process: it is not checked.  0 if fine; else says why. */
static int check_output(const char *shown, const char *abs, int flight)
{
    const char *what = flight ? "snapshot prefix" : "trace file";
    if (!shown[0] || abs[strlen(abs) - 1] == '/') {
        fprintf(stderr, "ctrace run: -o '%s': expected a %s name, e.g. %s\n", shown, what,
                flight ? "/var/tmp/svc" : "out.%p.trace");
        return -1;
    }
    const char *slash = strrchr(abs, '/');
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%.*s", slash == abs ? 1 : (int)(slash - abs), abs);
    if (strstr(dir, "%p"))
        return 0;
    struct stat st;
    const char *why = stat(dir, &st) != 0  ? strerror(errno)
                      : !S_ISDIR(st.st_mode) ? strerror(ENOTDIR)
                      : access(dir, W_OK | X_OK) != 0 ? strerror(errno)
                                                     : NULL;
    if (why) {
        fprintf(stderr, "ctrace run: -o %s: cannot create files in %s: %s\n", shown, dir, why);
        return -1;
    }
    if (!flight && !strstr(abs, "%p") && stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ctrace run: -o %s: is a directory; give a file name, e.g. %s/%s\n", shown,
                shown, "out.%p.trace");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Environment for the program                                       */
/* ---------------------------------------------------------------- */

/* LD_PRELOAD = lib [+ existing entries other than lib]. */
static int set_preload(const char *lib)
{
    if (strpbrk(lib, " :")) {
        fprintf(stderr, "ctrace run: the path of libctrace.so (%s) contains a space or colon, "
                        "which LD_PRELOAD cannot express\n", lib);
        return -1;
    }
    const char *old = getenv("LD_PRELOAD");
    size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(cap);
    if (!v)
        return -1;
    strcpy(v, lib);
    if (old) {
        char *copy = strdup(old), *save = NULL;
        for (char *tok = copy ? strtok_r(copy, " :", &save) : NULL; tok; tok = strtok_r(NULL, " :", &save)) {
            if (strcmp(tok, lib) == 0)
                continue;
            strcat(v, ":");
            strcat(v, tok);
        }
        free(copy);
    }
    int r = setenv("LD_PRELOAD", v, 1);
    free(v);
    return r;
}

/* ---------------------------------------------------------------- */
/* Starting the program                                              */
/* ---------------------------------------------------------------- */

/* execve(path); a file the kernel cannot execute (ENOEXEC: a script
 * without "#!") is run with /bin/sh, as execvp does -- with or without a
 * slash in the name, as a shell or env(1) runs it.  Returns (errno set)
 * only if it could not exec. */
static void exec_file(const char *path, char **argv)
{
    syscall(SYS_execve, path, argv, environ);
    if (errno != ENOEXEC)
        return;
    int argc = 0;
    while (argv[argc])
        argc++;
    char **sh = calloc((size_t)argc + 2, sizeof *sh);
    if (sh) {
        sh[0] = "/bin/sh";
        sh[1] = (char *)path;
        for (int i = 1; i <= argc; i++)
            sh[i + 1] = argv[i];
        syscall(SYS_execve, "/bin/sh", sh, environ);
        free(sh);
    }
    errno = ENOEXEC;
}

/* exec_file(path) or, without a slash, each PATH entry in turn (as
 * execvp).  Raw syscalls: see the header comment. */
static int exec_program(const char *file, char **argv)
{
    if (strchr(file, '/')) {
        exec_file(file, argv);
    } else {
        const char *path = getenv("PATH");
        if (!path)
            path = "/usr/local/bin:/usr/bin:/bin";
        int saw_eacces = 0;
        const char *p = path;
        for (;;) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            char cand[PATH_MAX];
            if (len == 0)
                snprintf(cand, sizeof cand, "%s", file);
            else
                snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, file);
            exec_file(cand, argv);
            if (errno == EACCES)
                saw_eacces = 1;
            else if (errno != ENOENT && errno != ENOTDIR)
                return -1;
            if (!colon)
                break;
            p = colon + 1;
        }
        errno = saw_eacces ? EACCES : ENOENT;
    }
    return -1;
}

/* The file exec_program would run: file itself if it has a slash, else the
 * first executable regular file of that name along PATH.  0 if found. */
static int resolve_program(const char *file, char *out, size_t outlen)
{
    if (strchr(file, '/')) {
        snprintf(out, outlen, "%s", file);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(out, outlen, "%.*s%s%s", (int)dl, p, dl ? "/" : "", file);
        if (is_file(out) && access(out, X_OK) == 0)
            return 0;
        if (!colon)
            return -1;
        p = colon + 1;
    }
}

/* Says so when the dynamic loader will not preload libctrace into the
 * program: a static executable has no loader, and a set-user-ID or
 * set-group-ID program that changes identity runs in secure mode, where
 * LD_PRELOAD is ignored.  The program runs anyway, untraced (what it starts
 * may be traced). */
static void warn_if_untraceable(const char *prog)
{
    char path[PATH_MAX];
    struct stat st;
    if (resolve_program(prog, path, sizeof path) != 0 || stat(path, &st) != 0)
        return; /* exec will report it */
    if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
        ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
        fprintf(stderr, "ctrace run: warning: %s is set-user-ID or set-group-ID: the loader "
                        "ignores LD_PRELOAD for it, so it is not traced\n", path);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    unsigned char eh[64];
    ssize_t n = pread(fd, eh, sizeof eh, 0);
    int is_static = 0;
    if (n >= 52 && !memcmp(eh, "\177ELF", 4) && (eh[4] == 1 || eh[4] == 2) && eh[5] == 1) {
        /* Little-endian ELF, 32 or 64 bit: look for a PT_INTERP header. */
        int b64 = eh[4] == 2;
        uint64_t phoff;
        uint16_t phentsize, phnum, type;
        if (b64) {
            memcpy(&phoff, eh + 32, 8);
            memcpy(&phentsize, eh + 54, 2);
            memcpy(&phnum, eh + 56, 2);
        } else {
            uint32_t o;
            memcpy(&o, eh + 28, 4);
            phoff = o;
            memcpy(&phentsize, eh + 42, 2);
            memcpy(&phnum, eh + 44, 2);
        }
        memcpy(&type, eh + 16, 2);
        int interp = 0, read_all = phentsize >= 4 && phnum > 0;
        for (unsigned i = 0; read_all && i < phnum && !interp; i++) {
            uint32_t pt;
            if (pread(fd, &pt, 4, (off_t)(phoff + (uint64_t)i * phentsize)) != 4)
                read_all = 0;
            else if (pt == 3 /* PT_INTERP */)
                interp = 1;
        }
        /* ET_EXEC without an interpreter is static; a static-pie (ET_DYN
         * without one) too. */
        is_static = read_all && !interp && (type == 2 || type == 3);
    }
    close(fd);
    if (is_static)
        fprintf(stderr, "ctrace run: warning: %s is statically linked: there is no dynamic "
                        "loader to preload libctrace, so it is not traced (link it with "
                        "libctrace.a and call ctrace_start_file instead)\n", path);
}

static const int fwd_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
#define NFWD (sizeof fwd_sigs / sizeof fwd_sigs[0])
static struct sigaction orig_act[NFWD];
static volatile pid_t child_pid;

static void forward_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* SI_KERNEL: from the terminal; the program, in our process group,
     * got it already.  Anything sent to us alone is passed on. */
    if (si && si->si_code == SI_KERNEL)
        return;
    int e = errno;
    if (child_pid > 0)
        kill(child_pid, sig);
    errno = e;
}

/* ---------------------------------------------------------------- */
/* Reporting the trace files                                         */
/* ---------------------------------------------------------------- */

/* What the traces of the run lost, by their own loss records; and the
 * traces that end early (empty, or cut inside a generation): their
 * process was killed before it could finish them. */
struct run_losses {
    struct ctrace_losses sum;
    unsigned traces, lossy;
    unsigned others_cut; /* other processes' traces cut short */
    int main_cut;        /* the program's own trace is          */
    char cut_path[PATH_MAX * 2]; /* the first other one cut     */
};

/* Adds the losses trace path records (read for them alone: fast), and
 * whether it ends early. */
static void add_losses(struct run_losses *rl, const char *path, int is_main)
{
    if (!is_file(path))
        return; /* a FIFO or device: nothing to read back */
    ctrace_reader *r = NULL;
    int rc = ctrace_reader_open(path, 0, &r);
    if (rc == 0)
        rc = ctrace_reader_skim_losses(r); /* a cut trace: what precedes the cut */
    struct ctrace_losses l;
    ctrace_reader_losses(r, &l);
    ctrace_reader_close(r);
    rl->traces++;
    if (losses_any(&l)) {
        rl->lossy++;
        losses_add(&rl->sum, &l);
    }
    if (rc < 0 && is_main)
        rl->main_cut = 1;
    else if (rc < 0 && !rl->others_cut++)
        snprintf(rl->cut_path, sizeof rl->cut_path, "%s", path);
}

/* One line when a trace of the run lost something, one when traces of
 * other processes end early, one when the program's own does (unless it
 * was killed by SIGKILL: main_killed, said apart). */
static void report_losses(const struct run_losses *rl, int main_killed)
{
    if (rl->lossy) {
        char what[256];
        losses_describe(&rl->sum, what, sizeof what);
        if (rl->traces == 1)
            fprintf(stderr, "ctrace: warning: the trace lost %s (see ctrace stat)\n", what);
        else
            fprintf(stderr, "ctrace: warning: %u of %u traces lost %s in all (see ctrace check)\n",
                    rl->lossy, rl->traces, what);
    }
    if (rl->main_cut && !main_killed)
        fprintf(stderr, "ctrace: warning: the trace is incomplete: the program ended without an "
                        "exit the tracer sees (a raw exit_group system call, as Go programs make) "
                        "before it was finished; ctrace check says where it ends, ctrace repair "
                        "keeps its complete generations\n");
    if (rl->others_cut == 1)
        fprintf(stderr, "ctrace: warning: the trace of another process of the run is incomplete "
                        "(%s): the process was killed before it could finish it (SIGKILL?); "
                        "ctrace check says where it ends\n",
                rl->cut_path);
    else if (rl->others_cut > 1)
        fprintf(stderr, "ctrace: warning: %u traces of other processes of the run are incomplete "
                        "(%s and %u more): the processes were killed before they could finish "
                        "them (SIGKILL?); ctrace check says where each ends\n",
                rl->others_cut, rl->cut_path, rl->others_cut - 1);
}

/* Other processes' trace files named one by one, at most. */
#define OTHERS_SHOWN 12

/* qsort comparator of strings holding numbers: "99-2" < "100" < "100-10". */
static int cmp_version(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Files in the output directory before the program started: one still as
 * it was then (same inode, same modification time) is not the run's.
 * Comparing modification times with the start's second named the traces
 * of a run that ended within the same second as this one's own. */
struct prior_file {
    dev_t dev;
    ino_t ino;
    struct timespec mtim;
};
static struct prior_file *priors;
static size_t npriors;

static void note_prior_files(const char *abs)
{
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s", abs);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = 0;
    DIR *d = opendir(dir[0] ? dir : "/");
    if (!d)
        return;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (npriors == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct prior_file *np = realloc(priors, nc * sizeof *np);
            if (!np)
                break; /* then more files are listed, never fewer */
            priors = np;
            cap = nc;
        }
        priors[npriors++] = (struct prior_file){st.st_dev, st.st_ino, st.st_mtim};
    }
    closedir(d);
}

static int is_prior_file(const struct stat *st)
{
    for (size_t i = 0; i < npriors; i++)
        if (priors[i].dev == st->st_dev && priors[i].ino == st->st_ino &&
            priors[i].mtim.tv_sec == st->st_mtim.tv_sec &&
            priors[i].mtim.tv_nsec == st->st_mtim.tv_nsec)
            return 1;
    return 0;
}

/* Prints the files the run produced (unless quiet): the pattern expanded
 * with the program's pid first, then any other file matching the pattern
 * (children, exec'd images: "%p" then digits and '-') written since the
 * start (new or changed: note_prior_files); adds what each of them lost
 * to *rl. */
static void report_traces(const char *shown, const char *abs, pid_t pid, int quiet,
                          struct run_losses *rl)
{
    const char *pp = strstr(abs, "%p");
    if (!pp) {
        add_losses(rl, abs, 1);
        if (quiet)
            return;
        struct stat st;
        if (stat(abs, &st) == 0 && S_ISFIFO(st.st_mode)) /* losses not readable here */
            fprintf(stderr, "ctrace: trace written to %s (a FIFO: ctrace check on what was "
                            "read from it reports any loss)\n", shown);
        else if (is_written(abs))
            fprintf(stderr, "ctrace: trace written to %s\n", shown);
        else
            fprintf(stderr, "ctrace: no trace was written to %s\n", shown);
        return;
    }
    char main_path[PATH_MAX];
    snprintf(main_path, sizeof main_path, "%.*s%d%s", (int)(pp - abs), abs, (int)pid, pp + 2);
    const char *spp = strstr(shown, "%p");
    int found = 0;
    if (is_written(main_path)) {
        add_losses(rl, main_path, 1);
        if (!quiet)
            fprintf(stderr, "ctrace: trace written to %.*s%d%s\n", (int)(spp - shown), shown,
                    (int)pid, spp + 2);
        found = 1;
    }

    /* Other processes: same directory, same prefix and suffix. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(pp - abs), abs);
    char *slash = strrchr(dir, '/');
    const char *prefix;
    if (slash) {
        *slash = 0;
        prefix = abs + (slash - dir) + 1;
    } else {
        snprintf(dir, sizeof dir, ".");
        prefix = abs;
    }
    size_t plen = (size_t)(pp - prefix);
    const char *suffix = pp + 2;
    if (strchr(suffix, '/'))
        return;
    size_t slen = strlen(suffix);
    DIR *d = opendir(dir[0] ? dir : "/");
    if (!d)
        return;
    /* The middles (PID, PID-N) of the other files, sorted as numbers:
     * the parent first, then its execs and children in pid order. */
    char **mids = NULL;
    size_t nmids = 0, cap = 0, nbusy = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t nl = strlen(n);
        if (nl <= plen + slen || strncmp(n, prefix, plen) || strcmp(n + nl - slen, suffix))
            continue;
        const char *mid = n + plen;
        size_t ml = nl - plen - slen;
        int ok = mid[0] >= '0' && mid[0] <= '9';
        for (size_t i = 0; ok && i < ml; i++)
            ok = (mid[i] >= '0' && mid[i] <= '9') || mid[i] == '-' || mid[i] == '.';
        char full[PATH_MAX * 2];
        snprintf(full, sizeof full, "%s/%s", dir, n);
        struct stat st;
        if (!ok || strcmp(full, main_path) == 0 || stat(full, &st) != 0 || is_prior_file(&st))
            continue;
        /* Still written by a process that outlived the program: named
         * as such, and not skimmed (its end is not there yet). */
        int busy = is_being_written(full);
        if (!busy)
            add_losses(rl, full, 0);
        if (nmids == cap) {
            cap = cap ? cap * 2 : 16;
            char **nm = realloc(mids, cap * sizeof *nm);
            if (!nm)
                break;
            mids = nm;
        }
        /* The middle, and "*" after its NUL for a busy file. */
        if (!(mids[nmids] = malloc(ml + 2)))
            break;
        memcpy(mids[nmids], mid, ml);
        mids[nmids][ml] = 0;
        mids[nmids][ml + 1] = busy ? '*' : 0;
        nbusy += busy != 0;
        nmids++;
    }
    closedir(d);
    size_t others = nmids;
    if (!quiet && nmids) {
        qsort(mids, nmids, sizeof *mids, cmp_version);
        /* A shell script or a build runs hundreds of processes: past
         * OTHERS_SHOWN names, the first ones and how to list the rest. */
        size_t shown_n = nmids > OTHERS_SHOWN ? OTHERS_SHOWN - 2 : nmids;
        fprintf(stderr, "ctrace: %zu trace%s of other processes of the run (forked or exec'd):\n",
                nmids, nmids == 1 ? "" : "s");
        for (size_t i = 0; i < shown_n; i++)
            fprintf(stderr, "ctrace:   %.*s%s%s%s\n", (int)(spp - shown), shown, mids[i], spp + 2,
                    mids[i][strlen(mids[i]) + 1] ? " (still being written)" : "");
        if (shown_n < nmids)
            fprintf(stderr, "ctrace:   ... and %zu more, through %.*s%s%s (ls %.*s*%s)\n",
                    nmids - shown_n, (int)(spp - shown), shown, mids[nmids - 1], spp + 2,
                    (int)(spp - shown), shown, spp + 2);
    }
    if (nbusy && !quiet)
        fprintf(stderr, "ctrace: %zu trace%s still being written by %s of the run that "
                        "outlived it (in the background): complete when %s\n",
                nbusy, nbusy == 1 ? " is" : "s are", nbusy == 1 ? "a process" : "processes",
                nbusy == 1 ? "it ends" : "they end");
    for (size_t i = 0; i < nmids; i++)
        free(mids[i]);
    free(mids);
    if (!found && !others && !quiet)
        fprintf(stderr, "ctrace: no trace was written (pattern %s)\n", shown);
}

/* Flight mode: prints the snapshots PREFIX.PID.N.trace written since the
 * start (any process of the run). */
static void report_snapshots(const char *abs)
{
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s", abs);
    char *slash = strrchr(dir, '/');
    const char *base = abs + (slash - dir) + 1;
    *slash = 0;
    size_t bl = strlen(base);
    DIR *d = opendir(dir[0] ? dir : "/");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t nl = strlen(nm);
        char full[PATH_MAX * 3];
        struct stat st;
        if (nl <= bl + 7 || strncmp(nm, base, bl) || nm[bl] != '.' || strcmp(nm + nl - 6, ".trace"))
            continue;
        snprintf(full, sizeof full, "%s/%s", dir, nm);
        if (stat(full, &st) != 0 || is_prior_file(&st))
            continue;
        fprintf(stderr, "ctrace: flight snapshot %s\n", full);
        n++;
    }
    if (d)
        closedir(d);
    if (!n)
        fprintf(stderr, "ctrace: no flight snapshot was taken (prefix %s)\n", abs);
}

/* ---------------------------------------------------------------- */
/* The command                                                       */
/* ---------------------------------------------------------------- */

int cmd_run(int argc, char **argv)
{
    const char *output = NULL, *cpu_hz = NULL, *period = NULL, *stacks = NULL, *mem = NULL;
    const char *flight = NULL, *flight_max = NULL, *flight_sig = NULL, *slow = NULL;
    int quiet = 0, i = 1;

    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define OPT_VALUE(longname)                                                         \
        (strncmp(a, longname "=", sizeof longname) == 0 ? (val = a + sizeof longname) \
         : (strcmp(a, longname) == 0 && i + 1 < argc) ? (val = argv[++i])           \
                                                       : NULL)
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == 0)
            break;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            run_usage(stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            output = argv[++i];
        } else if (strncmp(a, "-o", 2) == 0 && a[2]) {
            output = a + 2;
        } else if (OPT_VALUE("--output")) {
            output = val;
        } else if (OPT_VALUE("--cpu-hz")) {
            cpu_hz = val;
        } else if (OPT_VALUE("--period")) {
            period = val;
        } else if (OPT_VALUE("--stacks")) {
            stacks = val;
        } else if (OPT_VALUE("--mem")) {
            mem = val;
        } else if (strcmp(a, "--flight") == 0) {
            flight = "1";
        } else if (strncmp(a, "--flight=", 9) == 0) {
            flight = a + 9;
        } else if (OPT_VALUE("--flight-max")) {
            flight_max = val;
        } else if (OPT_VALUE("--flight-signal")) {
            flight_sig = val;
        } else if (OPT_VALUE("--slow")) {
            slow = val;
        } else {
            fprintf(stderr, "ctrace run: unknown option or missing value: %s\n", a);
            run_usage(stderr);
            return RUN_EXIT_USAGE;
        }
#undef OPT_VALUE
    }
    if (i >= argc) {
        fprintf(stderr, "ctrace run: no program given\n");
        run_usage(stderr);
        return RUN_EXIT_USAGE;
    }
    char **prog_argv = argv + i;
    const char *prog = prog_argv[0];

    /* The values are checked by the parser the runtime uses (settings.h),
     * so a value accepted here means the same thing there. */
    unsigned hz_v;
    uint64_t u64_v;
    if (cpu_hz && ct_parse_cpu_hz(cpu_hz, &hz_v)) {
        fprintf(stderr, "ctrace run: --cpu-hz: expected 0 (off) to %u samples per second: %s\n",
                CT_SETTING_CPU_HZ_MAX, cpu_hz);
        return RUN_EXIT_USAGE;
    }
    if (period && ct_parse_period(period, &u64_v)) {
        fprintf(stderr, "ctrace run: --period: expected a duration from 1ms to 60m with its unit "
                        "(ns, us, ms, s, m), e.g. 500ms: %s\n", period);
        return RUN_EXIT_USAGE;
    }
    if (stacks && strcmp(stacks, "none") && strcmp(stacks, "fp") && strcmp(stacks, "unwind") &&
        strcmp(stacks, "auto")) {
        fprintf(stderr, "ctrace run: --stacks: expected auto, fp, unwind or none: %s\n", stacks);
        return RUN_EXIT_USAGE;
    }
    if (mem && ct_parse_mem(mem, &u64_v)) {
        fprintf(stderr, "ctrace run: --mem: expected a size of at least 1M (K, M, G: powers of 1024), "
                        "e.g. 64M: %s\n", mem);
        return RUN_EXIT_USAGE;
    }

    int sig_v;
    if (flight && ct_parse_flight(flight, &u64_v)) {
        fprintf(stderr, "ctrace run: --flight: expected a duration of at least 1ms with its unit, "
                        "e.g. 30s: %s\n", flight);
        return RUN_EXIT_USAGE;
    }
    if (flight_max && (ct_parse_size(flight_max, &u64_v) || u64_v < CT_SETTING_FLIGHT_MAX_MIN)) {
        fprintf(stderr, "ctrace run: --flight-max: expected a size of at least 1M: %s\n", flight_max);
        return RUN_EXIT_USAGE;
    }
    if (flight_sig && ct_parse_signal(flight_sig, &sig_v)) {
        fprintf(stderr, "ctrace run: --flight-signal: expected a signal number or name "
                        "(USR1, USR2...) or none: %s\n", flight_sig);
        return RUN_EXIT_USAGE;
    }
    if (slow && ct_parse_slow_list(slow, NULL, NULL)) {
        fprintf(stderr, "ctrace run: --slow: expected NAME=DURATION[,NAME=DURATION...]: %s\n", slow);
        return RUN_EXIT_USAGE;
    }
    if (!flight && (flight_max || flight_sig || slow)) {
        fprintf(stderr, "ctrace run: --flight-max, --flight-signal and --slow need --flight\n");
        return RUN_EXIT_USAGE;
    }

    /* Output pattern: as shown to the user, and absolute for the program
     * (which may change directory).  In flight mode: the snapshot prefix. */
    char shown[PATH_MAX], abs[PATH_MAX * 2];
    if (output) {
        snprintf(shown, sizeof shown, "%s", output);
    } else {
        const char *base = strrchr(prog, '/');
        if (flight)
            snprintf(shown, sizeof shown, "%s", base ? base + 1 : prog);
        else
            snprintf(shown, sizeof shown, "%s.%%p.trace", base ? base + 1 : prog);
    }
    if (shown[0] == '/') {
        snprintf(abs, sizeof abs, "%s", shown);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            perror("ctrace run: getcwd");
            return RUN_EXIT_USAGE;
        }
        snprintf(abs, sizeof abs, "%s/%s", cwd, shown);
    }

    if (check_output(shown, abs, flight != NULL) != 0)
        return RUN_EXIT_USAGE;

    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) != 0)
        return RUN_EXIT_USAGE;
    if (flight && (unsetenv("CTRACE_OUTPUT") || setenv("CTRACE_FLIGHT", flight, 1) ||
                   setenv("CTRACE_FLIGHT_PREFIX", abs, 1) ||
                   (flight_max && setenv("CTRACE_FLIGHT_MAX", flight_max, 1)) ||
                   (flight_sig && setenv("CTRACE_FLIGHT_SIGNAL", flight_sig, 1)) ||
                   (slow && setenv("CTRACE_FLIGHT_SLOW", slow, 1)))) {
        perror("ctrace run: setting the environment");
        return RUN_EXIT_USAGE;
    }
    if (set_preload(lib) != 0 || (!flight && setenv("CTRACE_OUTPUT", abs, 1) != 0) ||
        (cpu_hz && setenv("CTRACE_CPU_HZ", cpu_hz, 1)) || (period && setenv("CTRACE_PERIOD", period, 1)) ||
        (stacks && setenv("CTRACE_STACKS", stacks, 1)) || (mem && setenv("CTRACE_MEM", mem, 1))) {
        perror("ctrace run: setting the environment");
        return RUN_EXIT_USAGE;
    }

    /* Forwarding handlers, installed before fork so no signal is lost; the
     * child puts the original dispositions back before exec. */
    for (size_t k = 0; k < NFWD; k++) {
        sigaction(fwd_sigs[k], NULL, &orig_act[k]);
        if (orig_act[k].sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(fwd_sigs[k], &sa, NULL);
    }

    warn_if_untraceable(prog);

    /* The child reports an exec failure through a close-on-exec pipe. */
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        perror("ctrace run: pipe");
        return RUN_EXIT_USAGE;
    }
    fflush(NULL);
    note_prior_files(abs);
    pid_t pid = fork();
    if (pid < 0) {
        perror("ctrace run: fork");
        return RUN_EXIT_USAGE;
    }
    if (pid == 0) {
        for (size_t k = 0; k < NFWD; k++)
            sigaction(fwd_sigs[k], &orig_act[k], NULL);
        close(errpipe[0]);
        exec_program(prog, prog_argv);
        int e = errno;
        (void)!write(errpipe[1], &e, sizeof e);
        _exit(e == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC);
    }
    child_pid = pid;
    close(errpipe[1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(errpipe[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(errpipe[0]);

    int status;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        perror("ctrace run: waitpid");
        return RUN_EXIT_USAGE;
    }
    if (got == (ssize_t)sizeof exec_errno) {
        fprintf(stderr, "ctrace run: %s: %s\n", prog, strerror(exec_errno));
        return exec_errno == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC;
    }

    struct run_losses rl;
    memset(&rl, 0, sizeof rl);
    if (flight) {
        if (!quiet)
            report_snapshots(abs);
    } else {
        report_traces(shown, abs, pid, quiet, &rl);
        /* SIGKILL cannot be caught: the program's trace was not finished
         * (also said with -q: its last generation is lost), unless the
         * program sent it to itself through an interposer (process.c). */
        int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        report_losses(&rl, killed); /* even with -q: nothing is lost without a word */
        if (killed)
            fprintf(stderr, "ctrace: warning: %s was killed by SIGKILL: unless it sent the signal "
                            "to itself (kill, raise: its trace is then finished first), its trace "
                            "ends at its last complete generation (ctrace check says where; "
                            "ctrace repair writes those generations as a whole trace)\n",
                    prog);
    }
    fflush(stderr);

    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        /* Die the same way.  No core file of ctrace itself. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        sigprocmask(SIG_UNBLOCK, &one, NULL);
        raise(sig);
        return 128 + sig; /* a signal whose default is not to terminate */
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : RUN_EXIT_USAGE;
}
