/* nofd_waits.c - readiness waits with no descriptor to wait for, the
 * sleep idioms of poll and select (Perl's four-argument select, older C's
 * sub-second sleeps): each must be traced as a sleep ("sleep"), never as
 * a wait on the network (case nofd_waits of run_case.sh).  Five waits of
 * 20 ms: poll(NULL, 0), ppoll(NULL, 0), select with nfds 0 and no sets,
 * select with an empty set, pselect with nfds 0.  Prints what each
 * returned, so traced and untraced runs compare. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>

int main(void)
{
    struct timespec ts = {0, 20 * 1000000L};
    struct timeval tv = {0, 20000};
    printf("poll %d\n", poll(NULL, 0, 20));
    printf("ppoll %d\n", ppoll(NULL, 0, &ts, NULL));
    printf("select %d\n", select(0, NULL, NULL, NULL, &tv));
    fd_set none;
    FD_ZERO(&none);
    tv = (struct timeval){0, 20000};
    printf("select empty set %d\n", select(1, &none, NULL, NULL, &tv));
    printf("pselect %d\n", pselect(0, NULL, NULL, NULL, &ts, NULL));
    return 0;
}
