#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "loop.h"

/* A scrape is small and quick: a few concurrent ones are plenty, idle ones go. */
#define HTTP_MAX_CONNECTIONS 32
#define HTTP_TIMEOUT_S 10

static struct {
    struct MHD_Daemon *d;
    int epfd;
    long timer;
    struct log_ratelimit rl;
} H = { .epfd = -1, .rl = { 60ull * 1000000000u, 5, 0, 0, 0 } };

static void http_rearm(void);

static void http_run(void)
{
    MHD_run(H.d);
    http_rearm();
}

static void on_timer(void *arg)
{
    (void)arg;
    H.timer = 0;
    http_run();
}

static void on_ready(int fd, unsigned events, void *arg)
{
    (void)fd;
    (void)events;
    (void)arg;
    http_run();
}

/*
 * libmicrohttpd keeps connection timeouts, and connections it already knows
 * to be ready (its epoll is edge-triggered inside), for the next MHD_run;
 * MHD_get_timeout says when that must happen (0: at once).
 */
static void http_rearm(void)
{
    MHD_UNSIGNED_LONG_LONG ms;

    if (H.timer > 0) {
        loop_del_timer(H.timer);
        H.timer = 0;
    }
    if (MHD_get_timeout(H.d, &ms) == MHD_YES) {
        long id = loop_add_timer(loop_now_ns() + (uint64_t)ms * 1000000u, on_timer, NULL);
        H.timer = id > 0 ? id : 0;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (log_ratelimit_ok(&H.rl, loop_now_ns()))
        log_warn("http: %s", line);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                             size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
    enum MHD_Result r;

    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static char not_found[] = "not found: kmemwatchd serves /metrics only\n";
    static char not_allowed[] = "method not allowed: GET /metrics\n";
    static char no_memory[] = "out of memory\n";
    const char *plain = "text/plain; charset=utf-8";
    size_t len;
    char *text;

    (void)cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, plain, not_allowed, sizeof(not_allowed) - 1,
                     MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/metrics") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, plain, not_found, sizeof(not_found) - 1,
                     MHD_RESPMEM_PERSISTENT);
    text = cmd_metrics_text(&len);
    if (!text)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, plain, no_memory, sizeof(no_memory) - 1,
                     MHD_RESPMEM_PERSISTENT);
    return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
                 MHD_RESPMEM_MUST_FREE);
}

/* "host:port", "[v6]:port" -> a listening socket; -errno with err set. */
static int listen_on(const char *addr_port, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(addr_port, ':'), *port;
    struct addrinfo hints, *ai = NULL;
    size_t hl;
    int fd, r, one = 1;

    if (!colon || colon == addr_port || !colon[1]) {
        snprintf(err, errlen, "metrics: '%s' is not ADDR:PORT", addr_port);
        return -EINVAL;
    }
    port = colon + 1;
    hl = (size_t)(colon - addr_port);
    if (addr_port[0] == '[' && colon[-1] == ']') {
        addr_port++;
        hl -= 2;
    }
    if (hl >= sizeof(host)) {
        snprintf(err, errlen, "metrics: '%s': address too long", addr_port);
        return -EINVAL;
    }
    memcpy(host, addr_port, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* numeric only: no name service lookups from a daemon that may start before the network */
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (r != 0) {
        snprintf(err, errlen, "metrics: '%s': %s (expected a numeric ADDR:PORT)", addr_port, gai_strerror(r));
        return -EINVAL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "metrics: %s: socket: %s", addr_port, strerror(errno));
        freeaddrinfo(ai);
        return r;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        r = -errno;
        snprintf(err, errlen, "metrics: %s: %s", addr_port, strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return r;
    }
    freeaddrinfo(ai);
    return fd;
}

int http_init(const char *addr_port, char *err, size_t errlen)
{
    const union MHD_DaemonInfo *info;
    int fd = listen_on(addr_port, err, errlen), r;

    if (fd < 0)
        return fd;
    /* the logger first: messages about the later options go through it too */
    H.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
                           MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
                           (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!H.d) {
        close(fd);
        snprintf(err, errlen, "metrics: %s: libmicrohttpd could not start", addr_port);
        return -EIO;
    }
    info = MHD_get_daemon_info(H.d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || info->epoll_fd < 0) {
        snprintf(err, errlen, "metrics: %s: libmicrohttpd has no epoll descriptor", addr_port);
        http_fini();
        return -EIO;
    }
    H.epfd = info->epoll_fd;
    r = loop_add_fd(H.epfd, LOOP_READ, on_ready, NULL);
    if (r < 0) {
        snprintf(err, errlen, "metrics: %s: %s", addr_port, strerror(-r));
        H.epfd = -1;
        http_fini();
        return r;
    }
    http_rearm();
    return 0;
}

void http_fini(void)
{
    if (H.timer > 0)
        loop_del_timer(H.timer);
    H.timer = 0;
    if (H.epfd >= 0)
        loop_del_fd(H.epfd);
    H.epfd = -1;
    if (H.d)
        MHD_stop_daemon(H.d); /* closes the listening socket too */
    H.d = NULL;
}
