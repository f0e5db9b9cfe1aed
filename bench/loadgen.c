/*
 * loadgen: a load generator for kmemwatchd, in C so that the client is not
 * the bottleneck.  One thread, epoll, non-blocking sockets:
 *
 *   --clients N    connections that send REQUEST, wait for the reply, repeat
 *   --watchers N   connections that "watch" and read every event
 *   --stalled N    connections that "watch slab kmalloc vmalloc" and never read
 *   --seconds S    how long
 *   --request R    the request of the query clients (default "kmalloc")
 *   --vary B:N     R holds "%u": the k-th request sent has it replaced by
 *                  B + k mod N (e.g. history windows 3600 .. 3663, requests
 *                  that the daemon's reply caches do not answer)
 *
 * Prints one line of key=value figures: queries, failed (error replies or
 * broken connections), refused (connections turned away), qps, latency
 * p50/p99/max in ms, watch events received, stalled connections dropped.
 * Exit 0 when it ran; judging the figures is the caller's business.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum role { QUERY, WATCH, STALL };

struct conn {
    int fd;
    enum role role;
    bool waiting;       /* QUERY: a request is out */
    bool closed;
    uint64_t sent_ns;
    size_t len;
    char buf[1 << 20]; /* whole replies: a history of an hour is ~90 KB (touched only as used) */
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int dial(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The next request line: req, or with --vary its "%u" replaced by base + (*sent)++ mod n. */
static const char *request_line(const char *req, unsigned long base, unsigned long n,
                                unsigned long *sent)
{
    static char line[512];
    const char *at = strstr(req, "%u");

    if (!n || !at)
        return req;
    snprintf(line, sizeof(line), "%.*s%lu%s", (int)(at - req), req, base + (*sent)++ % n, at + 2);
    return line;
}

static int send_all(int fd, const char *s)
{
    size_t off = 0, len = strlen(s);

    while (off < len) {
        ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "clients", required_argument, NULL, 'c' },
        { "watchers", required_argument, NULL, 'w' }, { "stalled", required_argument, NULL, 'x' },
        { "seconds", required_argument, NULL, 't' }, { "request", required_argument, NULL, 'r' },
        { "vary", required_argument, NULL, 'v' }, { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *request = "kmalloc";
    int nq = 10, nw = 0, ns = 0, secs = 10, c, ep;
    struct conn *conns;
    uint64_t *lat = NULL, nlat = 0, caplat = 0, failed = 0, refused = 0, events = 0, dropped = 0;
    uint64_t start, end;
    char req[256];
    struct rlimit rl;
    unsigned long vary_base = 0, vary_n = 0, sent = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': path = optarg; break;
        case 'c': nq = atoi(optarg); break;
        case 'w': nw = atoi(optarg); break;
        case 'x': ns = atoi(optarg); break;
        case 't': secs = atoi(optarg); break;
        case 'r': request = optarg; break;
        case 'v':
            if (sscanf(optarg, "%lu:%lu", &vary_base, &vary_n) != 2 || vary_n == 0) {
                fprintf(stderr, "loadgen: --vary takes BASE:N\n");
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: loadgen --socket PATH [--clients N] [--watchers N] [--stalled N] "
                            "[--seconds S] [--request R] [--vary B:N]\n");
            return 2;
        }
    }
    if (!path || nq < 0 || nw < 0 || ns < 0 || secs <= 0) {
        fprintf(stderr, "loadgen: --socket is required; counts must be >= 0\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(nq + nw + ns + 64)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    snprintf(req, sizeof(req), "%s\n", request);
    conns = calloc((size_t)(nq + nw + ns), sizeof(*conns));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0)
        return 2;
    for (int i = 0; i < nq + nw + ns; i++) {
        struct conn *k = &conns[i];
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = k };
        char line[512];
        ssize_t n;

        k->role = i < nq ? QUERY : i < nq + nw ? WATCH : STALL;
        k->fd = dial(path);
        if (k->fd < 0) {
            refused++;
            k->closed = true;
            continue;
        }
        /* a connection over the daemon's limit gets an error line and EOF */
        if (k->role != QUERY)
            send_all(k->fd, k->role == WATCH ? "watch\n" : "watch slab kmalloc vmalloc buddy\n");
        if (k->role == WATCH) {
            n = recv(k->fd, line, sizeof(line) - 1, 0);
            if (n <= 0 || !memmem(line, (size_t)n, "\"watching\"", 10)) {
                refused++;
                close(k->fd);
                k->closed = true;
                continue;
            }
        }
        if (k->role == STALL)
            continue; /* never read: the daemon must drop it, not wait for it */
        epoll_ctl(ep, EPOLL_CTL_ADD, k->fd, &ev);
        if (k->role == QUERY) {
            k->sent_ns = util_mono_ns();
            k->waiting = send_all(k->fd, request_line(req, vary_base, vary_n, &sent)) == 0;
        }
    }
    start = util_mono_ns();
    end = start + (uint64_t)secs * 1000000000u;
    while (util_mono_ns() < end) {
        struct epoll_event evs[128];
        int n = epoll_wait(ep, evs, 128, 100);

        for (int i = 0; i < n; i++) {
            struct conn *k = evs[i].data.ptr;
            ssize_t r = recv(k->fd, k->buf + k->len, sizeof(k->buf) - k->len, MSG_DONTWAIT);
            char *nl;

            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                if (k->role == QUERY && k->waiting)
                    failed++;
                epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
                close(k->fd);
                k->closed = true;
                continue;
            }
            k->len += (size_t)r;
            while ((nl = memchr(k->buf, '\n', k->len)) != NULL) {
                size_t ll = (size_t)(nl - k->buf) + 1;
                if (k->role == QUERY) {
                    if (nlat == caplat) {
                        caplat = caplat ? caplat * 2 : 65536;
                        lat = realloc(lat, caplat * sizeof(*lat));
                        if (!lat)
                            return 2;
                    }
                    lat[nlat++] = util_mono_ns() - k->sent_ns;
                    if (memmem(k->buf, ll, "too many connections", 20))
                        refused++;
                    else if (!memmem(k->buf, ll, "\"ok\":true", 9))
                        failed++;
                    k->sent_ns = util_mono_ns();
                    k->waiting = send_all(k->fd, request_line(req, vary_base, vary_n, &sent)) == 0;
                } else {
                    events++;
                }
                memmove(k->buf, k->buf + ll, k->len - ll);
                k->len -= ll;
            }
            if (k->len == sizeof(k->buf))
                k->len = 0; /* a line longer than the buffer: skip it */
        }
    }
    /* stalled connections: did the daemon drop them? (EOF after the queued data) */
    for (int i = nq + nw; i < nq + nw + ns; i++) {
        struct conn *k = &conns[i];
        char tmp[1 << 16];
        ssize_t r;
        if (k->closed)
            continue;
        for (;;) {
            r = recv(k->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
            if (r <= 0)
                break;
        }
        if (r == 0)
            dropped++;
    }
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("queries=%llu failed=%llu refused=%llu qps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "watch_events=%llu stalled_dropped=%llu/%d\n",
           (unsigned long long)nlat, (unsigned long long)failed, (unsigned long long)refused,
           (double)nlat / secs, nlat ? lat[nlat / 2] / 1e6 : 0.0,
           nlat ? lat[nlat * 99 / 100] / 1e6 : 0.0, nlat ? lat[nlat - 1] / 1e6 : 0.0,
           (unsigned long long)events, (unsigned long long)dropped, ns);
    free(lat);
    for (int i = 0; i < nq + nw + ns; i++)
        if (!conns[i].closed)
            close(conns[i].fd);
    free(conns);
    return 0;
}
