/*
 * daemonize.c - daemon(3): the parent returns at once, the daemon works a
 * little (a thread, a sleep), then writes its pid into the file named by
 * argv[1] and exits.
 *
 * glibc's daemon() ends the parent with an internal _exit that no wrapper
 * sees: under ctrace run the parent's trace had no complete generation
 * (tests/interpose, case daemonize).
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    usleep(50000);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    printf("parent %s\n", "leaves");
    fflush(stdout);
    if (daemon(1, 0) != 0) /* stay in this directory; stdio to /dev/null */
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename(tmp, argv[1]); /* whole or absent */
    return 0;
}
