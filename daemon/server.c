#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "proto.h"

struct client {
    int fd;
    pid_t pid;
    uid_t uid;
    char in[PROTO_MAX_LINE + 1];
    size_t in_len;
    char *out;
    size_t out_len, out_off, out_cap;
    int pass_fd;          /* descriptor to send with the byte at pass_at */
    size_t pass_at;
    unsigned watch;       /* kinds; 0 = not watching */
    bool watching;
    bool closing;         /* flush the queue, then close */
    bool eof;             /* the peer sent everything: answer it, then close */
    bool discard;         /* dropped: nothing more is queued */
    /* a reply in parts (client_send_parts): the next is made when the queue is sent */
    int (*part)(struct client *c, void *arg);
    void (*part_done)(void *arg);
    void *part_arg;
    struct client *prev, *next;
};

static struct {
    int fd;
    bool inherited;
    bool unlink_on_exit;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct server_config cfg;
    struct client *clients;
    unsigned nclients;
    server_request_fn handler;
    struct server_stats st;
    struct log_ratelimit rl;
} S = { .fd = -1 };

/*
 * Above this much queued output a client's next requests wait: the daemon
 * reads no more from it until it has read its replies (back-pressure for
 * pipelined requests; a watch stream cannot wait and has the hard limit).
 */
#define CLIENT_OUT_HIGH (256u << 10)

static void client_close(struct client *c, const char *why);
static void client_update_events(struct client *c);
static void process_input(struct client *c);

static size_t pending(const struct client *c)
{
    return c->out_len - c->out_off;
}

static bool has_request(const struct client *c)
{
    return memchr(c->in, '\n', c->in_len) != NULL;
}

bool server_inherited(void)
{
    return S.inherited;
}

unsigned server_nclients(void)
{
    return S.nclients;
}

void server_set_handler(server_request_fn fn)
{
    S.handler = fn;
}

void server_get_stats(struct server_stats *st)
{
    *st = S.st;
}

static void log_client(const struct client *c, const char *what)
{
    if (log_ratelimit_ok(&S.rl, loop_now_ns()))
        log_notice("client pid %ld uid %ld: %s", (long)c->pid, (long)c->uid, what);
}

/* ---- output ------------------------------------------------------------ */

/*
 * Replies are always queued whole: a client that pipelines requests is held
 * back by CLIENT_OUT_HIGH instead, so it never has more than one large reply
 * (a week of history) on top of that.  Stream data (watch events) cannot be
 * held back: past max_queue the watcher is too far behind and is dropped.
 */
static void queue(struct client *c, const char *data, size_t len, bool stream)
{
    if (c->discard)
        return;
    if (stream && c->out_len - c->out_off + len > S.cfg.max_queue) {
        S.st.dropped++;
        log_client(c, "dropped: too far behind (output queue full)");
        c->closing = c->discard = true;
        c->out_len = c->out_off = 0;
        shutdown(c->fd, SHUT_RDWR);
        client_update_events(c);
        return;
    }
    if (c->out_off && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + len > c->out_cap) {
        size_t live = c->out_len - c->out_off;
        /* compact first: the queue is consumed from the front */
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, live);
            if (c->pass_fd >= 0)
                c->pass_at -= c->out_off;
            c->out_off = 0;
            c->out_len = live;
        }
        if (c->out_len + len > c->out_cap) {
            size_t ncap = c->out_cap ? c->out_cap : 4096;
            char *nb;
            while (ncap < c->out_len + len)
                ncap *= 2;
            nb = realloc(c->out, ncap);
            if (!nb) {
                log_client(c, "dropped: out of memory");
                c->closing = true;
                return;
            }
            c->out = nb;
            c->out_cap = ncap;
        }
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    client_update_events(c);
}

void client_send_text(struct client *c, const char *text, size_t len)
{
    queue(c, text, len, false);
}

static void parts_end(struct client *c)
{
    if (c->part_done)
        c->part_done(c->part_arg);
    c->part = NULL;
    c->part_done = NULL;
    c->part_arg = NULL;
}

void client_send_parts(struct client *c, int (*part)(struct client *c, void *arg),
                       void (*done)(void *arg), void *arg)
{
    if (c->part || c->discard) {
        /* one reply at a time, and none for a client being dropped */
        if (done)
            done(arg);
        return;
    }
    c->part = part;
    c->part_done = done;
    c->part_arg = arg;
    client_update_events(c);
}

/* The queue was sent: the next part of the reply in parts, or the end of it. */
static void next_part(struct client *c)
{
    int r = c->part(c, c->part_arg);

    if (r > 0)
        return;
    parts_end(c);
    if (r < 0) {
        /* the client has the start of a reply that cannot be finished: it sees it cut short */
        log_client(c, "dropped: a reply could not be finished");
        S.st.dropped++;
        c->closing = c->discard = true;
        c->out_len = c->out_off = 0;
    }
}

static void send_json(struct client *c, json_t *obj, bool stream)
{
    char *s;

    if (!obj) {
        client_send_error(c, "out of memory");
        return;
    }
    s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!s) {
        client_send_error(c, "out of memory");
        return;
    }
    queue(c, s, strlen(s), stream);
    queue(c, "\n", 1, stream);
    free(s);
}

void client_send_json(struct client *c, json_t *obj)
{
    send_json(c, obj, false);
}

void client_send_event(struct client *c, json_t *obj)
{
    send_json(c, obj, true);
}

void client_send_error(struct client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *o;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
    if (!o) {
        static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";
        queue(c, oom, sizeof(oom) - 1, false);
        return;
    }
    client_send_json(c, o);
}

void client_send_with_fd(struct client *c, json_t *obj, int fd)
{
    if (c->pass_fd >= 0) {
        json_decref(obj);
        client_send_error(c, "a descriptor is already on its way to this client");
        return;
    }
    c->pass_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (c->pass_fd < 0) {
        json_decref(obj);
        client_send_error(c, "cannot pass the descriptor: %s", strerror(errno));
        return;
    }
    c->pass_at = c->out_len;
    client_send_json(c, obj);
}

void client_watch(struct client *c, unsigned kinds)
{
    c->watching = true;
    c->watch = kinds;
}

unsigned client_watch_kinds(const struct client *c)
{
    return c->watch;
}

bool client_is_watching(const struct client *c)
{
    return c->watching && !c->closing;
}

void server_foreach_watcher(void (*fn)(struct client *c, void *arg), void *arg)
{
    for (struct client *c = S.clients, *n; c; c = n) {
        n = c->next;
        if (client_is_watching(c))
            fn(c, arg);
    }
}

/* Send what the queue holds; false if the client is gone. */
static bool flush(struct client *c)
{
    while (c->out_off < c->out_len) {
        size_t len = c->out_len - c->out_off;
        ssize_t n;

        if (c->pass_fd >= 0 && c->pass_at == c->out_off) {
            char cbuf[CMSG_SPACE(sizeof(int))];
            struct iovec iov = { c->out + c->out_off, len };
            struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                                 .msg_controllen = sizeof(cbuf) };
            struct cmsghdr *cm;

            memset(cbuf, 0, sizeof(cbuf));
            cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
            n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                close(c->pass_fd);
                c->pass_fd = -1;
            }
        } else {
            if (c->pass_fd >= 0 && c->pass_at > c->out_off)
                len = c->pass_at - c->out_off; /* stop where the descriptor goes */
            n = send(c->fd, c->out + c->out_off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            client_close(c, NULL);
            return false;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        /* give back what one large reply made the queue grow to */
        if (c->out_cap > CLIENT_OUT_HIGH) {
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
        if (c->part && !c->closing)
            next_part(c);
        else if (!c->closing)
            process_input(c); /* requests held back by the batch or a full queue */
        if (c->out_off == c->out_len &&
            (c->closing || (c->eof && !has_request(c) && !c->part))) {
            client_close(c, NULL);
            return false;
        }
    }
    client_update_events(c);
    return true;
}

static void client_update_events(struct client *c)
{
    unsigned ev = 0;

    if (!c->closing && !c->eof && !c->part && pending(c) < CLIENT_OUT_HIGH)
        ev |= LOOP_READ;
    /* with nothing queued, a closing client wakes once more to be closed; one
     * with requests left over from its batch wakes to have them answered, one
     * in the middle of a reply in parts for the next part */
    if (pending(c) || c->closing || c->eof || has_request(c) || c->part)
        ev |= LOOP_WRITE;
    loop_mod_fd(c->fd, ev);
}

/* ---- input ------------------------------------------------------------- */

static void handle_line(struct client *c, char *line, size_t len)
{
    struct proto_request req;
    char msg[128];

    S.st.requests++;
    if (proto_parse(line, len, &req, msg, sizeof(msg)) < 0) {
        client_send_error(c, "%s", msg);
        return;
    }
    if (c->watching) {
        client_send_error(c, "this connection is watching; open another for requests");
        return;
    }
    S.handler(c, req.argc, req.argv);
}

/*
 * Requests answered per wake-up of one client: a client pipelining
 * thousands of requests yields to the sampling timer and to the others, and
 * is woken again (its socket is writable) for the rest.
 */
#define CLIENT_BATCH 256

/* Answer the complete requests in the input buffer while the output queue has room. */
static void process_input(struct client *c)
{
    size_t off = 0;
    unsigned n = 0;
    char *nl;

    while (!c->closing && !c->part && pending(c) < CLIENT_OUT_HIGH && n++ < CLIENT_BATCH &&
           (nl = memchr(c->in + off, '\n', c->in_len - off)) != NULL) {
        size_t len = (size_t)(nl - (c->in + off));
        handle_line(c, c->in + off, len);
        off += len + 1;
    }
    if (off) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_client(int fd, unsigned events, void *arg)
{
    struct client *c = arg;
    (void)fd;

    if ((events & LOOP_WRITE) && !flush(c))
        return;
    while ((events & LOOP_READ) && !c->closing && !c->eof && !c->part && pending(c) < CLIENT_OUT_HIGH &&
           c->in_len < PROTO_MAX_LINE) {
        ssize_t n = recv(c->fd, c->in + c->in_len, PROTO_MAX_LINE - c->in_len, MSG_DONTWAIT);

        if (n == 0) {
            c->eof = true; /* answer what it asked, then close */
            break;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            client_close(c, NULL);
            return;
        }
        c->in_len += (size_t)n;
        process_input(c);
        /*
         * Requests left over from the batch wait for the next round (flush arms a wake-up
         * for them): reading on would answer a fast pipelining client for as long as it
         * keeps sending, while the sampling timer and the other clients wait.
         */
        if (has_request(c))
            break;
        if (c->in_len == PROTO_MAX_LINE) {
            client_send_error(c, "request longer than %d bytes", PROTO_MAX_LINE);
            log_client(c, "dropped: request line too long");
            S.st.dropped++;
            c->closing = true;
            c->in_len = 0;
        }
    }
    /* sends what is queued, closes a finished client, re-arms the events */
    flush(c);
}

static void client_close(struct client *c, const char *why)
{
    if (why)
        log_client(c, why);
    loop_del_fd(c->fd);
    close(c->fd);
    if (c->pass_fd >= 0)
        close(c->pass_fd);
    parts_end(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        S.clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    S.nclients--;
    free(c->out);
    free(c);
}

/*
 * May this peer query?  Root, our own uid, and members of the socket's group
 * (primary or supplementary, the latter from SO_PEERGROUPS, so no /proc
 * lookup that ProtectProc= would hide).  The socket's mode already keeps
 * others out; this is the second lock and the place where a refusal is logged.
 */
static bool peer_allowed(int fd, const struct ucred *cr)
{
    gid_t groups[256];
    socklen_t len = sizeof(groups);

    if (cr->uid == 0 || cr->uid == S.cfg.daemon_uid || S.cfg.group == (gid_t)-1 ||
        cr->gid == S.cfg.group)
        return true;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false;
    for (size_t i = 0; i < len / sizeof(gid_t); i++)
        if (groups[i] == S.cfg.group)
            return true;
    return false;
}

static void refuse(int fd, const char *msg)
{
    json_t *o = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    /* best effort: the socket is new, its buffer is empty */
    if (s) {
        struct iovec iov[2] = { { s, strlen(s) }, { (void *)(uintptr_t)"\n", 1 } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
        if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            (void)0;
    }
    free(s);
    json_decref(o);
    close(fd);
}

static void on_listen(int lfd, unsigned events, void *arg)
{
    (void)events;
    (void)arg;
    for (;;) {
        struct ucred cr;
        socklen_t crlen = sizeof(cr);
        struct client *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
                log_ratelimit_ok(&S.rl, loop_now_ns()))
                log_warn("accept: %s", strerror(errno));
            return;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
            close(fd);
            continue;
        }
        if (!peer_allowed(fd, &cr)) {
            S.st.refused++;
            if (log_ratelimit_ok(&S.rl, loop_now_ns()))
                log_notice("client pid %ld uid %ld: refused (not root and not in the socket's group)",
                           (long)cr.pid, (long)cr.uid);
            refuse(fd, "permission denied");
            continue;
        }
        if (S.nclients >= S.cfg.max_clients) {
            S.st.refused++;
            if (log_ratelimit_ok(&S.rl, loop_now_ns()))
                log_notice("client pid %ld uid %ld: refused (%u connections already)", (long)cr.pid,
                           (long)cr.uid, S.nclients);
            refuse(fd, "too many connections");
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
            refuse(fd, "out of memory");
            continue;
        }
        c->fd = fd;
        c->pid = cr.pid;
        c->uid = cr.uid;
        c->pass_fd = -1;
        if (loop_add_fd(fd, LOOP_READ, on_client, c) < 0) {
            free(c);
            refuse(fd, "out of resources");
            continue;
        }
        c->next = S.clients;
        if (S.clients)
            S.clients->prev = c;
        S.clients = c;
        S.nclients++;
        S.st.accepted++;
    }
}

/* ---- listening socket -------------------------------------------------- */

static int adopt_inherited(char *err, size_t errlen)
{
    int n = sd_listen_fds(1);

    if (n <= 0)
        return 0;
    if (n > 1) {
        snprintf(err, errlen, "systemd passed %d sockets, expected one", n);
        return -EINVAL;
    }
    if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
        snprintf(err, errlen, "the inherited socket is not a listening Unix stream socket");
        return -EINVAL;
    }
    S.fd = SD_LISTEN_FDS_START;
    S.inherited = true;
    fcntl(S.fd, F_SETFD, FD_CLOEXEC);
    fcntl(S.fd, F_SETFL, fcntl(S.fd, F_GETFL) | O_NONBLOCK);
    return 1;
}

/* Is something answering on path?  1 yes, 0 stale or absent, -errno odd. */
static int probe(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r;

    if (fd < 0)
        return -errno;
    r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    r = r == 0 ? 1 : (errno == ECONNREFUSED || errno == ENOENT) ? 0 : -errno;
    close(fd);
    return r;
}

int server_init(const struct server_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat stt;
    mode_t old;
    int r;

    S.cfg = *cfg;
    S.rl.interval_ns = 10ull * 1000000000u;
    S.rl.burst = 20;
    r = adopt_inherited(err, errlen);
    if (r < 0)
        return r;
    if (r == 0) {
        if (strlen(cfg->path) >= sizeof(sa.sun_path)) {
            snprintf(err, errlen, "%s: socket path longer than %zu bytes", cfg->path,
                     sizeof(sa.sun_path) - 1);
            return -ENAMETOOLONG;
        }
        memcpy(sa.sun_path, cfg->path, strlen(cfg->path) + 1);
        if (lstat(cfg->path, &stt) == 0) {
            if (!S_ISSOCK(stt.st_mode)) {
                snprintf(err, errlen, "%s: exists and is not a socket; not touching it", cfg->path);
                return -EEXIST;
            }
            r = probe(&sa);
            if (r > 0) {
                snprintf(err, errlen, "%s: another kmemwatchd is running on this socket", cfg->path);
                return -EADDRINUSE;
            }
            if (r < 0) {
                snprintf(err, errlen, "%s: cannot probe the existing socket: %s", cfg->path,
                         strerror(-r));
                return r;
            }
            log_notice("%s: replacing a stale socket", cfg->path);
            unlink(cfg->path);
        }
        S.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (S.fd < 0)
            goto fail;
        /* never a moment where the socket is open to everyone */
        old = umask(0177);
        r = bind(S.fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0)
            goto fail;
        S.unlink_on_exit = true;
        memcpy(S.path, cfg->path, strlen(cfg->path) + 1);
        if (cfg->group != (gid_t)-1 && chown(cfg->path, 0, cfg->group) < 0 && geteuid() == 0)
            goto fail;
        if (chmod(cfg->path, cfg->group != (gid_t)-1 ? 0660 : 0600) < 0)
            goto fail;
        /* the backlog covers the connection limit: a burst of clients is not refused by the kernel */
        if (listen(S.fd, (int)(cfg->max_clients + 64)) < 0)
            goto fail;
    }
    return loop_add_fd(S.fd, LOOP_READ, on_listen, NULL);
fail:
    r = -errno;
    snprintf(err, errlen, "%s: %s", cfg->path, strerror(errno));
    if (S.fd >= 0)
        close(S.fd);
    S.fd = -1;
    return r;
}

void server_set_limits(unsigned max_clients, size_t max_queue)
{
    S.cfg.max_clients = max_clients;
    S.cfg.max_queue = max_queue;
}

void server_fini(void)
{
    while (S.clients)
        client_close(S.clients, NULL);
    if (S.fd >= 0) {
        loop_del_fd(S.fd);
        close(S.fd);
    }
    /* an inherited socket belongs to systemd: leave its path alone */
    if (S.unlink_on_exit)
        unlink(S.path);
    S.fd = -1;
}
