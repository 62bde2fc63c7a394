/*
 * env.h - the environment as the runtime sees it.
 *
 * Invariants:
 *  - The CTRACE_* variables are read from the environment in one place
 *    (env.c), once, when ct_env() is first called -- at the library's
 *    initialization (proc.c) -- and parsed by src/settings
 *    (ct_env_parse), which reports each malformed one on stderr, once.
 *    Nothing else in the runtime calls getenv for a CTRACE_* variable: a
 *    later setenv by the program never races a reader, and the advancer
 *    never touches the environment.
 *  - The returned values never change afterwards.
 */
#ifndef CTRACE_RUNTIME_ENV_H
#define CTRACE_RUNTIME_ENV_H

#include "settings.h"

/* The parsed CTRACE_* environment (settings.h, struct ct_env). */
const struct ct_env *ct_env(void);

#endif /* CTRACE_RUNTIME_ENV_H */
