/*
 * log: the daemon's only way to say something.  Lines go to stderr; when
 * stderr is not a terminal (systemd, a pipe) each line starts with a
 * "<N>" syslog priority prefix, which journald turns into the priority.
 * Repeated messages from the same site are rate-limited by the caller
 * with log_ratelimit.
 */
#ifndef KMW_LOG_H
#define KMW_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "util.h"

void log_init(void);
void log_msg(int prio, const char *fmt, ...) KMW_PRINTF(2, 3);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)

/* Allow at most burst messages per interval_ns for one call site. */
struct log_ratelimit {
    uint64_t interval_ns;
    unsigned burst;
    uint64_t begin;
    unsigned count;
    unsigned suppressed;
};

/* true if the message may be logged now; counts the ones that may not */
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns);

#endif
