/*
 * say.h - the runtime's one-line messages to the program's stderr.
 */
#ifndef CT_SAY_H
#define CT_SAY_H

/* Records what the program's stderr (descriptor 2) is: called once, at
 * load, before any message. */
void ct_say_init(void);

/* One line (fmt has its '\n'), written raw with one write(2): no stdio
 * lock (it may run on a fatal signal's finisher while the dying thread
 * holds stdio's), errno kept.  Written only while descriptor 2 is still
 * the stderr found at load, or one the program set up as a stderr (see
 * say.c): never into a data file the program opened on number 2. */
__attribute__((format(printf, 1, 2))) void ct_say(const char *fmt, ...);

#endif
