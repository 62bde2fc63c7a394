/*
 * csv_strings.c - writes a trace (to argv[1]) whose names and messages
 * hold what CSV must quote and what is not UTF-8: a thread name and a
 * region name with a comma and quotes, a log category with a quote, a log
 * message with a line break, a comma, a NUL-free invalid byte (0xff) and a
 * valid multi-byte character.  export_csv.sh reads the CSV export of it
 * back through DuckDB (check_csv.mjs --strings), which must give the same
 * strings, the invalid byte as U+FFFD.
 */
#include <stdio.h>

#include "ctrace.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: csv_strings OUT.trace\n");
        return 2;
    }
    int err = ctrace_start_file(argv[1]);
    if (err) {
        fprintf(stderr, "csv_strings: %s\n", ctrace_strerror(err));
        return 1;
    }
    ctrace_thread_name("main, \"the\" thread");
    ctrace_region_begin(0, "a,\"b\"");
    ctrace_log(0, "c\"at", "line 1\nline 2, \xff and \xc3\xa9");
    ctrace_region_end(0, "a,\"b\"");
    err = ctrace_stop();
    if (err) {
        fprintf(stderr, "csv_strings: %s\n", ctrace_strerror(err));
        return 1;
    }
    return 0;
}
