/*
 * env.c - the one place the runtime reads CTRACE_* variables (see env.h).
 */
#include "env.h"
#include "say.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void warn_env(const char *name, const char *val)
{
    /* Once per variable per process (the environment is parsed once); the
     * program's stderr is shared, so keep it to one line. */
    ct_say("ctrace: ignoring malformed %s=%s\n", name, val);
}

static struct ct_env env;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

/* The one place the runtime reads CTRACE_* variables. */
static void env_load(void)
{
    int e = errno;
    const char *values[CT_ENV_COUNT];
    for (int i = 0; i < CT_ENV_COUNT; i++)
        values[i] = getenv(ct_env_names[i]);
    ct_env_parse(values, &env, warn_env);
    errno = e;
}

const struct ct_env *ct_env(void)
{
    pthread_once(&env_once, env_load);
    return &env;
}
