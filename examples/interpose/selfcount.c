/*
 * selfcount.c - a program that reads its own thread count, as Python 3.12+
 * does at every os.fork() to warn about forking a multithreaded process:
 * from /proc/self/stat (fopen, field 20), /proc/self/status (open,
 * "Threads:") and /proc/PID/stat (openat), and as Chromium's zygote does
 * (it CHECKs that it is single-threaded): the link count of
 * /proc/self/task, 2 + threads (fstatat on a /proc descriptor, stat),
 * alone and with 3 threads of its own, then forks (the child: 1).
 *
 * Expected: the same output traced and untraced -- the tracer's threads
 * are not the program's (under ctrace run they showed in all three).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long stat_threads(FILE *f)
{
    char line[1024];
    size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
    if (f)
        fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p ? atol(p + 1) : -1;
}

static long status_threads(int fd)
{
    char buf[4096];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strstr(buf, "\nThreads:");
    return p ? atol(p + 9) : -1;
}

/* Threads by the task directory's links ("." "..": 2 more). */
static long task_threads(void)
{
    struct stat a, b;
    int proc = open("/proc", O_RDONLY | O_DIRECTORY);
    int r = proc >= 0 ? fstatat(proc, "self/task/", &a, 0) : -1;
    if (proc >= 0)
        close(proc);
    if (r != 0 || stat("/proc/self/task", &b) != 0 || a.st_nlink != b.st_nlink)
        return -1;
    return (long)a.st_nlink - 2;
}

static void report(const char *who)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)getpid());
    printf("%s: stat %ld, status %ld, by pid %ld, task links %ld\n", who,
           stat_threads(fopen("/proc/self/stat", "r")), status_threads(open("/proc/self/status", O_RDONLY)),
           stat_threads(fdopen(openat(AT_FDCWD, path, O_RDONLY), "r")), task_threads());
    fflush(stdout);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;
static pid_t worker_tid[3];

static void *worker(void *arg)
{
    worker_tid[(long)arg] = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&mu);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

int main(void)
{
    report("alone");
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    report("with 3 threads");
    pid_t pid = fork();
    if (pid == 0) {
        report("fork child");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    /* pthread_join returns when the kernel clears the thread's id, a
     * moment before it releases the thread and stops counting it: until
     * then the count is 2 or more, traced or not (1 in 300 runs on a busy
     * machine).  Wait (at most 5 s) until no worker is left to signal. */
    for (int i = 0; i < 3; i++)
        for (int ms = 0; ms < 5000 && syscall(SYS_tgkill, getpid(), worker_tid[i], 0) == 0; ms++)
            usleep(1000);
    report("joined");
    return 0;
}
