/*
 * notify: everything kmemwatchd tells systemd goes through notify_send(), the
 * one place that calls sd_notify (redis's approach).  Without NOTIFY_SOCKET
 * it does nothing.
 */
#ifndef KMW_NOTIFY_H
#define KMW_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

void notify_send(const char *fmt, ...) KMW_PRINTF(1, 2);
/* Watchdog interval requested by systemd (WATCHDOG_USEC), 0 if none. */
uint64_t notify_watchdog_usec(void);

#endif
