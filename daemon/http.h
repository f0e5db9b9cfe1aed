/*
 * http: the Prometheus endpoint, GET /metrics on ADDR:PORT (libmicrohttpd).
 *
 * There is still one thread: libmicrohttpd runs in its external-epoll mode,
 * its epoll descriptor sits in the daemon's loop (loop.h) and a loop timer
 * follows MHD_get_timeout, so a scrape is served between two samples like a
 * socket request and never runs beside one.  The body is cmd_metrics_text(),
 * the same text as the socket's `metrics` command.  Any other path is 404,
 * any method but GET and HEAD 405.
 */
#ifndef KMW_HTTP_H
#define KMW_HTTP_H

#include <stddef.h>

/*
 * Listen on addr_port ("127.0.0.1:9101", "[::1]:9101", "0.0.0.0:9101") and
 * register with the loop.  Call before dropping privileges (ports below
 * 1024).  0, or -errno with a sentence in err ("127.0.0.1:80: address
 * already in use").
 */
int http_init(const char *addr_port, char *err, size_t errlen);
void http_fini(void);

#endif
