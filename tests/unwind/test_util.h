/*
 * test_util.h - tiny assertion helpers shared by the tests/unwind programs.
 * Invariant: a failed CHECK prints file:line and the condition, counts the
 * failure and goes on; main returns test_failures != 0.
 */
#ifndef CT_TEST_UTIL_H
#define CT_TEST_UTIL_H

#include <stdio.h>

static int test_failures __attribute__((unused));

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

/* Keeps a call from becoming a tail call (or the frame from being elided). */
#define NO_TAIL(x) __asm__ volatile("" : "+r"(x) :: "memory")

#endif
