/*
 * server: the Unix socket, its clients and their queues.
 *
 * Socket hygiene after tmux: the path length is checked, an existing path is
 * probed before it is unlinked (a live daemon is never displaced), the socket
 * is created under a umask and then given mode 0660 and its group, every
 * client's credentials are checked with SO_PEERCRED.
 *
 * Each client has a bounded input line and a bounded output queue; sockets
 * are non-blocking, so a slow or stalled client costs memory up to its
 * queue limit and is then disconnected; it never delays sampling.
 */
#ifndef KMW_SERVER_H
#define KMW_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct client;

struct server_config {
    const char *path;       /* socket path (ignored when a socket is inherited) */
    unsigned max_clients;
    gid_t group;            /* socket group; (gid_t)-1 keeps the creator's */
    uid_t daemon_uid;       /* uid the daemon runs as after dropping privileges */
    size_t max_queue;       /* per-client output queue limit */
};

/*
 * Listen: adopt a socket passed by systemd (sd_listen_fds) when there is one,
 * else create cfg->path.  Fills err and returns -errno on failure, e.g.
 * -EADDRINUSE when another daemon answers on the path.
 */
int server_init(const struct server_config *cfg, char *err, size_t errlen);
void server_fini(void);
/* New limits from a reload: they apply to the next connection and the next queued byte. */
void server_set_limits(unsigned max_clients, size_t max_queue);
bool server_inherited(void);
unsigned server_nclients(void);

/* Queue a JSON reply (one line).  Consumes the reference. */
void client_send_json(struct client *c, json_t *obj);
/* Queue a watch event; a watcher that falls max_queue behind is dropped.  Consumes obj. */
void client_send_event(struct client *c, json_t *obj);
/* Queue an {"ok":false,"error":msg} line. */
void client_send_error(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queue raw text (metrics). */
void client_send_text(struct client *c, const char *text, size_t len);
/*
 * The rest of a reply too long to build at once (a long history), after
 * what is queued now: part(c, arg) is called each time the queue has been
 * sent and queues the next part; it returns 1 while more parts follow, 0
 * after the last, or a negative errno when the reply cannot be finished
 * (the client is then disconnected: it sees a reply cut short).  The
 * client's further requests wait until the reply is complete, so a client
 * holds at most one part in memory.  done(arg) is called once, when the
 * reply ends or the client goes away (or at once when the client already
 * has such a reply or is being dropped).
 */
void client_send_parts(struct client *c, int (*part)(struct client *c, void *arg),
                       void (*done)(void *arg), void *arg);
/* Queue a JSON reply carrying fd (SCM_RIGHTS); the fd is dup'ed. */
void client_send_with_fd(struct client *c, json_t *obj, int fd);
/* Subscribe to new-sample events; kinds: bit mask chosen by the caller. */
void client_watch(struct client *c, unsigned kinds);
unsigned client_watch_kinds(const struct client *c);
bool client_is_watching(const struct client *c);

/* Call fn for every watching client (after each sample). */
void server_foreach_watcher(void (*fn)(struct client *c, void *arg), void *arg);

/* The command dispatcher the server calls for each complete request line. */
typedef void (*server_request_fn)(struct client *c, int argc, char **argv);
void server_set_handler(server_request_fn fn);

/* Counters for hello/metrics. */
struct server_stats {
    unsigned long long accepted;
    unsigned long long refused;   /* over the limit or wrong credentials */
    unsigned long long dropped;   /* too far behind, protocol errors */
    unsigned long long requests;
};
void server_get_stats(struct server_stats *st);

#endif
