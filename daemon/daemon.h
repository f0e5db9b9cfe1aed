/*
 * The daemon's shared state: one instance, owned by kmemwatchd.c, read by the
 * command handlers (cmd.c).  Single-threaded, so no locking.
 */
#ifndef KMW_DAEMON_H
#define KMW_DAEMON_H

#include <stdbool.h>
#include <regex.h>
#include <stdint.h>

#include "conf.h"
#include "growth.h"
#include "metrics.h"
#include "sampler.h"

struct client;
struct ring;
struct ring_reader;

struct sched {
    enum src_id src;
    uint64_t interval_ns;
    uint64_t deadline;        /* absolute CLOCK_MONOTONIC */
    uint64_t samples;
    /*
     * Samples taken more than 100 ms (LATE_NS) after the deadline, by whose
     * doing (tick() in kmemwatchd.c, loop_delay_split in loop.h).  late: the
     * daemon spent over 100 ms of the delay on a CPU with other work (it was
     * busy).  delayed: the others, over 100 ms only with the time it was not
     * woken, kept from a CPU, or had the CPU stolen or was blocked (a busy
     * host, steal, a stop).
     */
    uint64_t late;
    uint64_t delayed;
    uint64_t errors;
    uint64_t last_wall_ns;    /* wall time of the last successful sample */
    int last_err;
};

/*
 * Leak suspects.  The daemon judges the configured window (growth_min_window)
 * every GROWTH_EVAL_NS, and the hour and the day when they are longer, less
 * often (a leak of a few MiB a day never shows in ten minutes).  A series is
 * a suspect when the latest evaluation of any of these windows says so; it
 * becomes one (logged) at once and stops being one (logged) after
 * GROWTH_CLEAR_EVALS ticks in a row without, so a series on the edge of the
 * rule does not flap in the log.
 */
#define GROWTH_EVAL_NS (10ull * 1000000000u)
#define GROWTH_CLEAR_EVALS 3
#define GROWTH_METRICS_TOP 20
#define GROWTH_NWIN 3

struct growth_track {
    struct growth_report rep[GROWTH_NWIN]; /* [0]: the configured window; then 1 h, 1 d */
    uint64_t window[GROWTH_NWIN];          /* seconds; 0 = not evaluated */
    uint64_t due[GROWTH_NWIN];             /* next evaluation, monotonic ns */
    long timer;
    struct growth_series *sus;  /* current suspects (hysteresis applied) */
    uint64_t *sus_window;       /* the window each was flagged over */
    unsigned *misses;           /* ticks in a row without sus[i] */
    size_t nsus, cap;
};

struct daemon {
    struct conf conf;
    const char *conf_path;
    bool conf_path_given;
    struct sampler sm;
    struct sched sched[SRC_N];
    long timer;               /* the sampling timer id */
    struct ring *ring;
    char ring_path[600];
    int ring_ro_fd;           /* read-only descriptor handed to clients */
    struct ring_reader *reader;
    uint64_t start_mono_ns;
    uint64_t start_wall_ns;
    uint64_t seq;             /* sample records appended */
    uint64_t last_wall_ns;
    unsigned last_mask;       /* sources in the newest record */
    bool ready;
    regex_t cache_include, cache_exclude;
    bool have_include, have_exclude;
    struct growth_track growth;
    bool http;                /* serving /metrics over HTTP */
};

extern struct daemon D;

/* cmd.c */
void cmd_handle(struct client *c, int argc, char **argv);
void cmd_fini(void);
/* Tell watchers about the record just appended. */
void cmd_notify_watchers(void);
/* metrics text of the latest sample into a malloc'd buffer */
char *cmd_metrics_text(size_t *len);

#endif
