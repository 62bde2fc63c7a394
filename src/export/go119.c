#include "sink.h"
struct export_sink *export_go119_sink(FILE *out, FILE *errf, struct export_stats *stats)
{
    (void)out; (void)stats;
    fprintf(errf, "ctrace export: go1.19: not yet\n");
    return NULL;
}
