/*
 * conf: kmemwatchd.conf, "key = value" lines (documented in
 * kmemwatchd.conf(5)).  '#' starts a comment, blank lines are ignored, keys
 * are case-sensitive, values run to the end of the line (trailing blanks
 * dropped; no quoting).  An unknown key or a bad value is an error naming the
 * line: a typo must not silently fall back to a default.
 *
 * conf_parse is a pure function over a buffer; the daemon reads the file.
 */
#ifndef KMW_CONF_H
#define KMW_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "sampler.h"
#include "util.h"

#define CONF_DEFAULT_PATH "/etc/kmemwatch/kmemwatchd.conf"
#define CONF_STR_MAX 512

struct conf {
    char socket[CONF_STR_MAX];
    char state_dir[CONF_STR_MAX];
    char proc_root[CONF_STR_MAX];
    char user[64];
    char metrics[128];              /* ADDR:PORT, "" = off */
    uint64_t interval_ms[SRC_N];    /* per source */
    uint64_t max_clients;
    uint64_t client_queue_bytes;    /* per-client output limit ("too far behind") */
    uint64_t ring_full_bytes;
    uint64_t ring_coarse_bytes;
    char metrics_cache_include[256];
    char metrics_cache_exclude[256];
    uint64_t metrics_vmalloc_top;
    uint64_t growth_min_window_s;   /* leak suspect rule: minimum window */
    uint64_t growth_min_bytes;      /* ... and minimum growth */
    uint64_t set;                   /* bit per key (enum conf_key) that was given */
};

enum conf_key {
    CONF_SOCKET,
    CONF_STATE_DIR,
    CONF_PROC_ROOT,
    CONF_USER,
    CONF_METRICS,
    CONF_INTERVAL,
    CONF_SLABINFO_INTERVAL,
    CONF_VMALLOCINFO_INTERVAL,
    CONF_BUDDYINFO_INTERVAL,
    CONF_MEMINFO_INTERVAL,
    CONF_MAX_CLIENTS,
    CONF_CLIENT_QUEUE_SIZE,
    CONF_RING_FULL_SIZE,
    CONF_RING_COARSE_SIZE,
    CONF_METRICS_CACHE_INCLUDE,
    CONF_METRICS_CACHE_EXCLUDE,
    CONF_METRICS_VMALLOC_TOP,
    CONF_GROWTH_MIN_WINDOW,
    CONF_GROWTH_MIN_SIZE,
    CONF_NKEYS
};

/* The defaults (documented in kmemwatchd.conf(5)). */
void conf_defaults(struct conf *c);

/*
 * Parse buf into c (on top of what c holds).  Returns 0 or -EINVAL with err
 * naming the line.  On error c may be partly updated: parse into a copy.
 */
int conf_parse(const char *buf, size_t len, struct conf *c, struct perr *err);

/* Apply one "key = value" setting (also used for command-line options). */
int conf_set(struct conf *c, const char *key, const char *value, char *msg, size_t msglen);

/* The key names, in enum order, for documentation and tests. */
const char *conf_key_name(enum conf_key k);

#endif
