/*
 * proto: the kmemwatchd control protocol, written down in one place.
 * docs/PROTOCOL.md is the long form of this header.
 *
 * Transport: a Unix stream socket (default PROTO_DEFAULT_SOCKET).
 * A request is one line of text, at most PROTO_MAX_LINE bytes including the
 * newline, words separated by spaces.  Every response is one JSON object on
 * one line, with "ok": true, or "ok": false and "error": "<sentence>".
 * A connection may carry any number of requests; responses come in order.
 *
 * Commands (protocol 1):
 *   hello                       version, protocol number, per-source status
 *   slab | kmalloc | vmalloc | buddy | meminfo
 *                               latest sample, the kmemctl --json shape + "time"
 *   history KIND NAME FIELD [DURATION]
 *                               {"points":[[unix_time, value], ...]} oldest first
 *   growth DURATION [TOP [SIZE]] ranked growers and leak suspects (growth.h)
 *   watch [KIND ...]            one line per new sample until the client
 *                               closes: {"ok":true,"event":"sample","time":..,
 *                               "seq":..,"sources":[..]} plus the latest reply
 *                               of each KIND named
 *   ring                        {"ok":true,"ring":{...}} sent with a read-only
 *                               descriptor of the ring file (SCM_RIGHTS)
 *   metrics                     Prometheus text format 0.0.4, last line "# EOF"
 *                               (the one response that is not JSON)
 *
 * DURATION: seconds ("600") or with a unit ("10m", "1h", "7d").
 *
 * Version policy: PROTO_VERSION changes only when the shape of an existing
 * response changes or a command is removed.  New commands and new keys in
 * responses are added without a bump; clients must ignore keys they do not
 * know.  A client checks "protocol" in the hello reply and refuses a number it
 * does not know.
 *
 * Limits (every one enforced by the daemon; a client that breaks one gets an
 * error line and is disconnected):
 *   PROTO_MAX_LINE       request line length
 *   PROTO_MAX_WORDS      words per request
 *   connections          1024 by default (kmemwatchd --max-clients): the next
 *                        one receives {"ok":false,...} and is closed
 *   watch queue          PROTO_MAX_QUEUE bytes of events per client by default
 *                        (client_queue_size): a watcher that falls that far
 *                        behind is disconnected; request/reply clients are
 *                        held back instead (no more requests are read while
 *                        256 KiB of their replies are unread)
 *   history replies      made 16384 points at a time as the client reads
 *                        them (its next requests wait): a client holds one
 *                        part of the daemon's memory, never a whole week
 */
#ifndef KMW_PROTO_H
#define KMW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_DEFAULT_SOCKET "/run/kmemwatch/kmemwatchd.sock"
#define PROTO_MAX_LINE 4096
#define PROTO_MAX_WORDS 16
#define PROTO_MAX_QUEUE (1u << 20)
#define PROTO_METRICS_END "# EOF"

struct proto_request {
    int argc;
    char *argv[PROTO_MAX_WORDS];
};

/*
 * Split a request line in place (the newline already removed; line[len] must
 * be writable, it becomes the terminator).  Words are
 * separated by one or more spaces or tabs; control characters and bytes
 * outside printable ASCII are refused so that nothing odd reaches a log.
 * Returns 0, -EINVAL (empty line or bad byte: msg says which) or -E2BIG.
 */
int proto_parse(char *line, size_t len, struct proto_request *req, char *msg, size_t msglen);

/*
 * The watch event of a watcher that named no KIND, exactly as kmemwatchd
 * writes it: {"ok":true,"event":"sample","time":T,"seq":N,"sources":[NAME,...]}
 * with nothing else in it (no spaces, keys in this order, names without
 * escapes).  Read without a JSON parser: a watcher that maps the ring takes
 * one a second, and building and freeing its tree cost it more than reading
 * the record the line announces.  true with *time (Unix seconds) and
 * *sources (SRC_BIT of each name src_parse knows; others are ignored);
 * false for any other line, which a client then parses as JSON (keys in
 * another order or added, another event, spaces are all valid there).
 */
bool proto_sample_event(const char *line, double *time, unsigned *sources);

#endif
