/*
 * waitsets.c - readiness waits on sockets and on other descriptors
 * (tests/interpose, case waitsets).  Each wait is woken by a thread that
 * sleeps 100 ms and then writes: poll, select and epoll_wait on a pipe or
 * an eventfd (how threads and processes wake each other: synchronization
 * waits, "sync: poll" ...), then the same on one end of a socketpair
 * (network waits).  Prints what each wait returned.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void *wake_later(void *arg)
{
    int fd = *(int *)arg;
    struct timespec d = {0, 100 * 1000000L};
    nanosleep(&d, NULL);
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0)
        perror("write");
    return NULL;
}

/* Runs wait(rfd) while a thread writes to wfd 100 ms later; drains rfd. */
static void woken(const char *what, int rfd, int wfd, int (*wait)(int))
{
    pthread_t t;
    pthread_create(&t, NULL, wake_later, &wfd);
    int r = wait(rfd);
    pthread_join(t, NULL);
    uint64_t v;
    if (read(rfd, &v, sizeof v) < 0)
        perror("read");
    printf("%s: %d ready\n", what, r);
}

static int by_poll(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, -1);
}

static int by_select(int fd)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    return select(fd + 1, &r, NULL, NULL, NULL);
}

static int by_epoll(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int r = epoll_wait(ep, &out, 1, -1);
    close(ep);
    return r;
}

int main(void)
{
    int p[2], sv[2];
    if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("pipe/socketpair");
        return 1;
    }
    int efd = eventfd(0, 0);
    woken("poll on a pipe", p[0], p[1], by_poll);
    woken("select on a pipe", p[0], p[1], by_select);
    woken("epoll_wait on an eventfd", efd, efd, by_epoll);
    woken("poll on a socket", sv[0], sv[1], by_poll);
    woken("select on a socket", sv[0], sv[1], by_select);
    woken("epoll_wait on a socket", sv[0], sv[1], by_epoll);
    return 0;
}
