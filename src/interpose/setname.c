/*
 * setname.c - pthread_setname_np: a thread named the pthread way is shown
 * under that name in the trace (as its goroutine's label), like one named
 * with ctrace_thread_name.  Only a thread naming itself is recorded: the
 * label belongs to the calling goroutine in Go's model.
 */
#include <pthread.h>
#include <string.h>

#include "interpose.h"

CT_REAL_DECL(int, pthread_setname_np, (pthread_t, const char *));

CT_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    CT_REAL(pthread_setname_np);
    if (!ct_real_pthread_setname_np)
        return ENOSYS;
    int r = ct_real_pthread_setname_np(th, name);
    if (r == 0 && name && !ct_in_tracer() && pthread_equal(th, pthread_self())) {
        int e = errno;
        ctrace_thread_name(name);
        errno = e;
    }
    return r;
}
