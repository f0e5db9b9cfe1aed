/*
 * client: the client side of the kmemwatchd protocol (proto.h), shared by
 * kmemctl and kmemtop.  Blocking I/O with a timeout; replies are read line by
 * line from a buffer that keeps what follows the line for the next call.
 */
#ifndef KMW_CLIENT_H
#define KMW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct kmw_conn {
    int fd;
    char *buf;
    size_t len, cap;
    size_t consumed;   /* bytes of the line handed out last, dropped on the next read */
    int passed_fd;     /* a descriptor received with the last reply, or -1 */
    int timeout_ms;    /* of a read: -1 none, 0 never wait (-ETIMEDOUT when no line is there) */
    /*
     * Never waiting: the last receive left the socket empty (it took less
     * than there was room for), so a read that finds no line says so without
     * another receive that would only say "would block".
     */
    bool drained;
};

/*
 * Connect to the daemon at path.  Returns 0 or -errno with err a sentence
 * for people: "PATH: permission denied (not in group kmemwatch)",
 * "PATH: no daemon listening (connection refused)".
 */
int conn_open(struct kmw_conn *c, const char *path, int timeout_ms, char *err, size_t errlen);
void conn_close(struct kmw_conn *c);

/* Send one request line (without the newline). */
int conn_send(struct kmw_conn *c, const char *line);

/*
 * Read the next line into *line (NUL-terminated, owned by the connection,
 * valid until the next call).  0, or -errno (-ECONNRESET when the daemon
 * closed, -ETIMEDOUT).  A descriptor passed with the data lands in
 * c->passed_fd (the caller owns it).
 */
int conn_read_line(struct kmw_conn *c, char **line, size_t *len);

/* Send a request and read one reply line.  */
int conn_call(struct kmw_conn *c, const char *request, char **line, size_t *len);

#endif
