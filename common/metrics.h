/*
 * metrics: Prometheus text exposition format 0.0.4 of one sample.
 *
 * One function renders everything, for the daemon's `metrics` command, its
 * HTTP /metrics endpoint, and `kmemctl metrics` (direct, from one sample), so
 * the three can never differ.  Every family has HELP and TYPE; counters end
 * in _total; label values are escaped as the format requires.
 *
 * Cardinality is bounded: caches can be filtered with include/exclude
 * regexes, vmalloc callers are limited to the top N by bytes with the rest
 * summed as caller="other".  Duplicate cache names are distinct ("foo#2").
 */
#ifndef KMW_METRICS_H
#define KMW_METRICS_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "growth.h"
#include "sampler.h"

struct metrics_opts {
    const regex_t *cache_include;   /* NULL: all */
    const regex_t *cache_exclude;   /* NULL: none */
    unsigned vmalloc_top;           /* 0: unlimited */
};

/* Per-source counters of the daemon (or of a single direct read). */
struct metrics_source_stats {
    uint64_t samples;
    uint64_t errors;
    uint64_t late;                  /* more than 100 ms after the deadline, the daemon's doing */
    uint64_t delayed;               /* ... the system's (not woken or run in time, steal) */
    double read_seconds;            /* last read + parse */
    bool up;                        /* last read succeeded */
};

/*
 * Growth over the daemon's configured window (growth.h).  Only the `top`
 * fastest-growing byte series are exported, and the suspects: the label sets
 * stay bounded however many caches and callers the machine has.
 */
struct metrics_growth {
    uint64_t window_s;
    const struct growth_series *series; /* a report's, largest per_hour first */
    size_t n;
    unsigned top;
    const struct growth_series *suspects; /* the leak suspects as the daemon tracks them */
    size_t nsuspects;
};

struct metrics_extra {
    struct metrics_source_stats src[SRC_N];
    double uptime_seconds;          /* < 0: not a daemon, omitted */
    uint64_t clients;
    uint64_t ring_bytes;            /* 0: omitted */
    const struct metrics_growth *growth; /* NULL: omitted (no history) */
};

/* Write the exposition to f.  Returns 0 or -EIO. */
int metrics_write(FILE *f, const struct sampler *sm, const struct metrics_opts *o,
                  const struct metrics_extra *x);

/* Write s as a label value with \\, \" and \n escaped. */
void metrics_label_value(FILE *f, const char *s);

#endif
