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
    uint64_t late;            /* taken more than 100 ms after the deadline */
    uint64_t errors;
    uint64_t last_wall_ns;    /* wall time of the last successful sample */
    int last_err;
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
