#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

int conn_open(struct kmw_conn *c, const char *path, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int e;

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->passed_fd = -1;
    c->timeout_ms = timeout_ms;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s: socket path too long", path);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        e = errno;
        snprintf(err, errlen, "socket: %s", strerror(e));
        return -e;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    e = errno;
    switch (e) {
    case EACCES:
    case EPERM:
        snprintf(err, errlen, "%s: permission denied (not in group kmemwatch)", path);
        break;
    case ECONNREFUSED:
        snprintf(err, errlen, "%s: no daemon listening (connection refused)", path);
        break;
    case ENOENT:
        snprintf(err, errlen, "%s: no such socket (is kmemwatchd running?)", path);
        break;
    default:
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        break;
    }
    close(c->fd);
    c->fd = -1;
    return -e;
}

void conn_close(struct kmw_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->passed_fd >= 0)
        close(c->passed_fd);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = c->passed_fd = -1;
}

int conn_send(struct kmw_conn *c, const char *line)
{
    size_t len = strlen(line), off = 0;
    char nl = '\n';

    while (off < len) {
        ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        off += (size_t)n;
    }
    while (send(c->fd, &nl, 1, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

/* Receive more bytes (and maybe a descriptor) into the buffer. */
static int fill(struct kmw_conn *c)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov;
    struct msghdr mh;
    struct pollfd pfd = { c->fd, POLLIN, 0 };
    ssize_t n;
    int r;

    if (c->cap - c->len < 65536) {
        size_t ncap = c->cap ? c->cap * 2 : 131072;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return -ENOMEM;
        c->buf = nb;
        c->cap = ncap;
    }
    /* Timeout 0 (the caller polls): a receive that would wait says so, one call instead of two. */
    if (c->timeout_ms != 0) {
        r = poll(&pfd, 1, c->timeout_ms);
        if (r == 0)
            return -ETIMEDOUT;
        if (r < 0)
            return errno == EINTR ? 0 : -errno;
    }
    iov.iov_base = c->buf + c->len;
    iov.iov_len = c->cap - c->len - 1;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | (c->timeout_ms == 0 ? MSG_DONTWAIT : 0));
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -ETIMEDOUT;
        return errno == EINTR ? 0 : -errno;
    }
    if (n == 0)
        return -ECONNRESET;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
            if (c->passed_fd >= 0)
                close(c->passed_fd);
            c->passed_fd = fd;
        }
    }
    c->len += (size_t)n;
    c->drained = c->timeout_ms == 0 && (size_t)n < iov.iov_len;
    return 0;
}

int conn_read_line(struct kmw_conn *c, char **line, size_t *len)
{
    char *nl;
    int r;

    /* drop the line handed out by the previous call */
    if (c->consumed) {
        memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
        c->len -= c->consumed;
        c->consumed = 0;
    }
    for (;;) {
        nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl)
            break;
        if (c->drained) {
            c->drained = false; /* the caller polls before it reads again */
            return -ETIMEDOUT;
        }
        r = fill(c);
        if (r < 0)
            return r;
    }
    *nl = '\0';
    *len = (size_t)(nl - c->buf);
    *line = c->buf;
    c->consumed = *len + 1;
    return 0;
}

int conn_call(struct kmw_conn *c, const char *request, char **line, size_t *len)
{
    int r = conn_send(c, request);

    return r < 0 ? r : conn_read_line(c, line, len);
}
