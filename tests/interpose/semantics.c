/*
 * semantics.c - the interposers must not change what a call does.  Each
 * check exercises one edge (errno, EAGAIN, EINTR, partial transfers,
 * timeouts, error codes of try-first paths, stale fd cache) and prints
 * "name: ok" or "name: FAILED (...)".  run_case.sh runs it untraced and
 * traced and requires the same output and exit code 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int early_join(void);

static int failures;
#define CHECK(name, cond, ...)                                                   \
    do {                                                                         \
        if (cond) {                                                              \
            printf("%s: ok\n", name);                                            \
        } else {                                                                 \
            printf("%s: FAILED (", name);                                        \
            printf(__VA_ARGS__);                                                 \
            printf(")\n");                                                       \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- helpers run on threads ---- */

struct delayed { int fd; int ms; const char *data; size_t len; };
static void *delayed_send(void *p)
{
    struct delayed *d = p;
    msleep(d->ms);
    (void)!write(d->fd, d->data, d->len);
    return NULL;
}

struct drain { int fd; size_t total; };
static void *slow_drain(void *p)
{
    struct drain *d = p;
    static char buf[65536];
    for (;;) {
        ssize_t r = read(d->fd, buf, sizeof buf);
        if (r <= 0)
            break;
        d->total += (size_t)r;
        if (d->total < 1000000)
            usleep(200);
    }
    return NULL;
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static void *hold_mutex(void *p)
{
    pthread_mutex_lock(&held);
    msleep(30);
    pthread_mutex_unlock(&held);
    return p;
}

static pthread_barrier_t bar;
static int serial_count;
static void *barrier_thread(void *p)
{
    if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
        __atomic_fetch_add(&serial_count, 1, __ATOMIC_RELAXED);
    return p;
}

static void on_alarm(int s) { (void)s; }

int main(void)
{
    int sv[2], r;
    char buf[256];

    CHECK("early constructor thread", early_join() == 42, "value");

    /* Sockets: non-blocking EAGAIN, delayed data, MSG_WAITALL. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    errno = 0;
    r = (int)recv(sv[0], buf, sizeof buf, 0);
    CHECK("recv nonblocking EAGAIN", r == -1 && errno == EAGAIN, "r=%d errno=%d", r, errno);
    r = (int)read(sv[0], buf, sizeof buf);
    CHECK("read nonblocking socket EAGAIN", r == -1 && errno == EAGAIN, "r=%d errno=%d", r, errno);
    fcntl(sv[0], F_SETFL, 0);

    pthread_t th;
    struct delayed d = {sv[1], 30, "hello", 5};
    pthread_create(&th, NULL, delayed_send, &d);
    errno = 777;
    r = (int)recv(sv[0], buf, sizeof buf, 0);
    CHECK("blocking recv waits for data", r == 5 && memcmp(buf, "hello", 5) == 0 && errno == 777,
          "r=%d errno=%d", r, errno);
    pthread_join(th, NULL);

    (void)!write(sv[1], "abcd", 4);
    struct delayed d2 = {sv[1], 20, "efgh", 4};
    pthread_create(&th, NULL, delayed_send, &d2);
    r = (int)recv(sv[0], buf, 8, MSG_WAITALL);
    CHECK("recv MSG_WAITALL gets all", r == 8 && memcmp(buf, "abcdefgh", 8) == 0, "r=%d", r);
    pthread_join(th, NULL);

    /* Large blocking transfers complete in full (partial try + block). */
    size_t big = 4u << 20;
    char *mem = malloc(big);
    memset(mem, 'x', big);
    struct drain dr = {sv[0], 0};
    pthread_create(&th, NULL, slow_drain, &dr);
    ssize_t w1 = send(sv[1], mem, big, 0);
    ssize_t w2 = write(sv[1], mem, big);
    struct iovec iov[3] = {{mem, big / 2}, {mem, big / 4}, {mem, big / 4}};
    ssize_t w3 = writev(sv[1], iov, 3);
    shutdown(sv[1], SHUT_WR);
    pthread_join(th, NULL);
    CHECK("blocking send/write/writev of 4 MiB complete", w1 == (ssize_t)big && w2 == (ssize_t)big &&
          w3 == (ssize_t)big && dr.total == 3 * big, "w=%zd,%zd,%zd total=%zu", w1, w2, w3, dr.total);
    free(mem);
    close(sv[0]);
    close(sv[1]);

    /* EINTR: a blocking recv interrupted by a handled signal. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    r = (int)recv(sv[0], buf, sizeof buf, 0);
    CHECK("blocking recv EINTR", r == -1 && errno == EINTR, "r=%d errno=%d", r, errno);

    /* poll / select / epoll. */
    struct pollfd pfd = {sv[0], POLLIN, 0};
    CHECK("poll timeout 0", poll(&pfd, 1, 0) == 0, "ready?");
    CHECK("poll timeout 30ms", poll(&pfd, 1, 30) == 0 && pfd.revents == 0, "ready?");
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(sv[0], &rs);
    struct timeval tv = {0, 30000};
    r = select(sv[0] + 1, &rs, NULL, NULL, &tv);
    CHECK("select timeout clears sets", r == 0 && !FD_ISSET(sv[0], &rs), "r=%d", r);
    (void)!write(sv[1], "z", 1);
    FD_ZERO(&rs);
    FD_SET(sv[0], &rs);
    FD_SET(sv[1], &rs);
    tv.tv_sec = 1;
    tv.tv_usec = 0;
    r = select((sv[0] > sv[1] ? sv[0] : sv[1]) + 1, &rs, NULL, NULL, &tv);
    CHECK("select ready keeps the ready bit only", r == 1 && FD_ISSET(sv[0], &rs) && !FD_ISSET(sv[1], &rs),
          "r=%d", r);
    (void)!read(sv[0], buf, 1);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[0]}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    CHECK("epoll_wait timeout", epoll_wait(ep, out, 4, 20) == 0, "ready?");
    (void)!write(sv[1], "y", 1);
    CHECK("epoll_wait ready", epoll_wait(ep, out, 4, 1000) == 1 && out[0].data.fd == sv[0], "not ready");
    close(ep);
    close(sv[0]);
    close(sv[1]);

    /* TCP on loopback: accept and a non-blocking connect. */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 4);
    getsockname(ls, (struct sockaddr *)&a, &al);
    int cs = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    r = connect(cs, (struct sockaddr *)&a, sizeof a);
    CHECK("nonblocking connect", r == 0 || (r == -1 && errno == EINPROGRESS), "r=%d errno=%d", r, errno);
    int as = accept(ls, NULL, NULL);
    CHECK("accept", as >= 0, "errno=%d", errno);
    close(as);
    close(cs);
    close(ls);

    /* Stale fd cache: a socket closed inside libc (fclose), its number
     * reused by a file: reads must still read the file. */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    (void)!read(s, buf, 0); /* cache: socket */
    FILE *f = fdopen(s, "r");
    fclose(f);
    FILE *tmp = tmpfile();
    fputs("file data", tmp);
    fflush(tmp);
    int fd = dup(fileno(tmp)); /* may or may not reuse s */
    int fd2 = open("/proc/self/exe", O_RDONLY);
    lseek(fd, 0, SEEK_SET);
    r = (int)pread(fd, buf, 9, 0);
    CHECK("pread of a file", r == 9 && memcmp(buf, "file data", 9) == 0, "r=%d", r);
    errno = 555;
    r = (int)read(fd2, buf, 4);
    CHECK("read of a file after fd reuse, errno kept", r == 4 && memcmp(buf, "\177ELF", 4) == 0 && errno == 555,
          "r=%d errno=%d", r, errno);
    close(fd);
    close(fd2);
    fclose(tmp);
    r = (int)read(-1, buf, 1);
    CHECK("read EBADF", r == -1 && errno == EBADF, "r=%d errno=%d", r, errno);

    /* Locks. */
    pthread_mutexattr_t ma;
    pthread_mutex_t m;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &ma);
    pthread_mutex_lock(&m);
    CHECK("errorcheck relock EDEADLK", pthread_mutex_lock(&m) == EDEADLK, "-");
    pthread_mutex_unlock(&m);
    pthread_mutex_destroy(&m);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &ma);
    CHECK("recursive lock twice", pthread_mutex_lock(&m) == 0 && pthread_mutex_lock(&m) == 0, "-");
    pthread_mutex_unlock(&m);
    pthread_mutex_unlock(&m);
    pthread_create(&th, NULL, hold_mutex, NULL);
    msleep(5);
    CHECK("contended lock", pthread_mutex_lock(&held) == 0, "-");
    pthread_mutex_unlock(&held);
    pthread_join(th, NULL);
    struct timespec past = {1, 0};
    pthread_mutex_lock(&held);
    pthread_create(&th, NULL, hold_mutex, NULL);
    msleep(5);
    pthread_mutex_unlock(&held);
    pthread_join(th, NULL);
    CHECK("timedlock free mutex, past deadline", pthread_mutex_timedlock(&held, &past) == 0, "-");
    pthread_mutex_unlock(&held);

    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    pthread_rwlock_wrlock(&rw);
    CHECK("rwlock relock EDEADLK", pthread_rwlock_wrlock(&rw) == EDEADLK, "-");
    pthread_rwlock_unlock(&rw);

    sem_t sem;
    sem_init(&sem, 0, 1);
    struct timespec bad = {0, 2000000000L};
    errno = 0;
    r = sem_timedwait(&sem, &bad);
    CHECK("sem_timedwait invalid timeout EINVAL", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
    CHECK("sem count unchanged", sem_trywait(&sem) == 0, "-");
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 20000000;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    errno = 0;
    r = sem_timedwait(&sem, &dl);
    CHECK("sem_timedwait ETIMEDOUT", r == -1 && errno == ETIMEDOUT, "r=%d errno=%d", r, errno);
    sem_destroy(&sem);

    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&held);
    CHECK("cond timedwait past deadline ETIMEDOUT", pthread_cond_timedwait(&cv, &held, &past) == ETIMEDOUT, "-");
    pthread_mutex_unlock(&held);

    pthread_barrier_init(&bar, NULL, 3);
    pthread_t bt[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&bt[i], NULL, barrier_thread, NULL);
    barrier_thread(NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(bt[i], NULL);
    CHECK("barrier: one serial thread", serial_count == 1, "%d", serial_count);

    pthread_create(&th, NULL, hold_mutex, (void *)0x1234);
    msleep(60);
    void *ret = NULL;
    CHECK("join of a finished thread", pthread_join(th, &ret) == 0 && ret == (void *)0x1234, "-");

    /* Sleeps: return conventions. */
    errno = 999;
    r = clock_nanosleep(12345, 0, &past, NULL);
    CHECK("clock_nanosleep bad clock returns EINVAL, errno kept", r == EINVAL && errno == 999, "r=%d errno=%d",
          r, errno);
    struct timespec badns = {0, -1};
    r = nanosleep(&badns, NULL);
    CHECK("nanosleep invalid EINVAL", r == -1 && errno == EINVAL, "r=%d errno=%d", r, errno);
    CHECK("sleep(0)", sleep(0) == 0, "-");

    /* Waits. */
    pid_t c = fork();
    if (c == 0) {
        msleep(50);
        _exit(9);
    }
    int st;
    CHECK("waitpid WNOHANG on a running child", waitpid(c, &st, WNOHANG) == 0, "-");
    CHECK("waitpid", waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 9, "-");

    /* Bad pointers are the call's EFAULT, not a crash: the wrappers read
     * fd_sets and epoll_pwait2's timeout before the kernel does (glibc
     * itself reads select's, pselect's and ppoll's timeouts: a bad one
     * faults untraced).  An unmapped address
     * and a PROT_NONE page (mapped, unreadable). */
    {
        int pv[2];
        (void)!pipe(pv);
        void *wild = (void *)16;
        char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *bads[2] = {wild, none};
        for (int k = 0; k < 2; k++) {
            const char *what = k ? "PROT_NONE" : "unmapped";
            char name[96];
            struct timeval tv = {0, 200000};
            struct timespec ts = {0, 200000000};
            errno = 0;
            r = select(pv[0] + 1, (fd_set *)bads[k], NULL, NULL, &tv);
            snprintf(name, sizeof name, "select, %s read set: EFAULT", what);
            CHECK(name, r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
            errno = 0;
            r = pselect(pv[0] + 1, NULL, (fd_set *)bads[k], NULL, &ts, NULL);
            snprintf(name, sizeof name, "pselect, %s write set: EFAULT", what);
            CHECK(name, r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
            errno = 0;
            r = poll((struct pollfd *)bads[k], 1, 200);
            snprintf(name, sizeof name, "poll, %s fds: EFAULT", what);
            CHECK(name, r == -1 && errno == EFAULT, "r=%d errno=%d", r, errno);
            int ep = epoll_create1(0);
            struct epoll_event ev;
            errno = 0;
            r = epoll_pwait2(ep, &ev, 1, (const struct timespec *)bads[k], NULL);
            snprintf(name, sizeof name, "epoll_pwait2, %s timeout: EFAULT or ENOSYS", what);
            CHECK(name, r == -1 && (errno == EFAULT || errno == ENOSYS), "r=%d errno=%d", r, errno);
            close(ep);
        }
        munmap(none, 4096);
        close(pv[0]);
        close(pv[1]);
    }

    printf("%d failures\n", failures);
    return failures != 0;
}
