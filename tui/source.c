#include "source.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "reports.h"
#include "util.h"

/* The session's history in direct mode: hours at one sample a second on an idle machine. */
#define DIRECT_RING_FULL_BYTES (8ull << 20)
#define DIRECT_RING_COARSE_BYTES (1ull << 20)
/* vmallocinfo costs more to read than the rest together: every this many samples (kmemwatchd: 5 s). */
#define DIRECT_VMALLOC_EVERY 5u

/* Every reader a source holds gets a new number: a new reader may reuse a freed one's address. */
static uint64_t history_gen;

static void source_reset(struct data_source *s, enum source_kind kind, const char *where)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    snprintf(s->where, sizeof(s->where), "%s", where);
    s->conn.fd = -1;
    s->conn.passed_fd = -1;
}

/* --- direct ---------------------------------------------------------------- */

static bool usable_dir(const char *d)
{
    struct stat st;

    return d && *d && stat(d, &st) == 0 && S_ISDIR(st.st_mode) && access(d, W_OK | X_OK) == 0;
}

/*
 * The private ring is a memfd; where there is none, a file in tmpfs when
 * there is one (no disk I/O), unlinked as soon as it is open.  Either way it
 * disappears with the process whatever way it ends.
 */
static void direct_open_ring(struct data_source *s)
{
    const struct ring_config cfg = { DIRECT_RING_FULL_BYTES, DIRECT_RING_COARSE_BYTES, 0 };
    const char *dirs[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
    char path[4096], note[512], err[200];
    /* A memfd first: pages are only used as history fills them. */
    int r = ring_open_memory(&s->ring, &cfg);

    for (size_t i = 0; r < 0 && i < ARRAY_SIZE(dirs); i++) {
        if (!usable_dir(dirs[i]))
            continue;
        snprintf(path, sizeof(path), "%s/kmemtop-%ld-%lx.kmw", dirs[i], (long)getpid(),
                 (unsigned long)util_wall_ns());
        r = ring_open(&s->ring, path, &cfg, note, sizeof(note));
        unlink(path);
    }
    if (r < 0) {
        snprintf(s->ring_err, sizeof(s->ring_err), "no history: cannot create a ring: %s",
                 strerror(-r));
        s->ring = NULL;
        return;
    }
    r = ring_reader_open(&s->rd, ring_fd(s->ring), err, sizeof(err));
    s->rd_gen = ++history_gen;
    if (r < 0) {
        snprintf(s->ring_err, sizeof(s->ring_err), "no history: %s", err);
        ring_close(s->ring);
        s->ring = NULL;
        s->rd = NULL;
        s->rd_gen = ++history_gen;
    }
}

void source_open_direct(struct data_source *s, const char *proc_root, unsigned interval_ms,
                        uint64_t page_size)
{
    source_reset(s, SOURCE_DIRECT, proc_root);
    s->interval_ms = interval_ms;
    sampler_init(&s->sm, proc_root, SRC_ALL, page_size);
    s->sm_open = true;
    s->next_sample_ns = util_mono_ns();
    direct_open_ring(s);
}

static void direct_sample(struct data_source *s, uint64_t now)
{
    unsigned mask = SRC_ALL, err = 0;
    uint64_t iv = (uint64_t)s->interval_ms * 1000000u;

    if (s->samples % DIRECT_VMALLOC_EVERY)
        mask &= ~SRC_BIT(SRC_VMALLOCINFO);
    for (int i = 0; i < SRC_N; i++)
        if ((mask & SRC_BIT(i)) && sampler_read(&s->sm, (enum src_id)i) < 0)
            err |= SRC_BIT(i);
    s->samples++;
    s->live_wall_ns = util_wall_ns();
    s->live_mask = mask & ~err;
    if (s->ring && ring_append(s->ring, &s->sm, mask, err, s->live_wall_ns, now) < 0) {
        /* The view still works from the live sample; only history stops. */
        snprintf(s->ring_err, sizeof(s->ring_err), "history full or out of memory");
    }
    /* Deadlines are absolute: a late wake-up skips ahead instead of bursting. */
    s->next_sample_ns += iv;
    if (s->next_sample_ns <= now)
        s->next_sample_ns = now + iv;
}

void source_set_interval(struct data_source *s, unsigned ms)
{
    uint64_t now = util_mono_ns();

    if (s->kind != SOURCE_DIRECT)
        return;
    /* One new interval after the last sample, not after now. */
    if (s->next_sample_ns >= (uint64_t)s->interval_ms * 1000000u)
        s->next_sample_ns -= (uint64_t)s->interval_ms * 1000000u;
    s->interval_ms = ms;
    s->next_sample_ns += (uint64_t)ms * 1000000u;
    if (s->next_sample_ns < now)
        s->next_sample_ns = now;
}

/* --- replay ---------------------------------------------------------------- */

int source_open_replay(struct data_source *s, const char *path, char *err, size_t n)
{
    char why[512];
    int r;

    source_reset(s, SOURCE_REPLAY, path);
    r = ring_reader_open_path(&s->rd, path, why, sizeof(why));
    s->rd_gen = ++history_gen;
    if (r < 0) {
        /* ring_reader_open_path names the file only when open() failed. */
        if (strncmp(why, path, strlen(path)) == 0)
            snprintf(err, n, "%s", why);
        else
            snprintf(err, n, "%s: %s", path, why);
        return r;
    }
    return 0;
}

/* --- daemon ---------------------------------------------------------------- */

void source_open_daemon(struct data_source *s, const char *path, uint64_t page_size)
{
    source_reset(s, SOURCE_DAEMON, path);
    s->page_size = page_size;
    s->dstate = DS_DOWN;
    s->retry_ns = util_mono_ns();
    snprintf(s->down_reason, sizeof(s->down_reason), "connecting");
}

bool source_daemon_listening(const char *path)
{
    struct kmw_conn c;
    char err[256];
    bool ok = conn_open(&c, path, 500, err, sizeof(err)) == 0;

    conn_close(&c);
    return ok;
}

static void daemon_down(struct data_source *s, uint64_t now, const char *fmt, ...) KMW_PRINTF(3, 4);
static void daemon_down(struct data_source *s, uint64_t now, const char *fmt, ...)
{
    va_list ap;

    conn_close(&s->conn);
    s->dstate = DS_DOWN;
    s->stale_events = 0;
    s->retry_ns = now + (uint64_t)SOURCE_RETRY_MS * 1000000u;
    va_start(ap, fmt);
    vsnprintf(s->down_reason, sizeof(s->down_reason), fmt, ap);
    va_end(ap);
}

static unsigned daemon_connect(struct data_source *s, uint64_t now)
{
    char err[256];
    int r;

    s->attempts++;
    r = conn_open(&s->conn, s->where, 1000, err, sizeof(err));
    if (r < 0) {
        /* conn_open's sentence names the socket, which the status line already shows. */
        const char *why = strncmp(err, s->where, strlen(s->where)) == 0 && err[strlen(s->where)] == ':'
                              ? err + strlen(s->where) + 2
                              : err;
        /* Short: the status line also has the sort, window and time to show. */
        daemon_down(s, now, "%.*s", (int)strcspn(why, "("), why);
        while (strlen(s->down_reason) && s->down_reason[strlen(s->down_reason) - 1] == ' ')
            s->down_reason[strlen(s->down_reason) - 1] = '\0';
        return SOURCE_EV_STATUS;
    }
    /* From here on replies are read only when poll says so: never wait for a line. */
    s->conn.timeout_ms = 0;
    /* Pipelined: replies come in order (docs/PROTOCOL.md). */
    if (conn_send(&s->conn, "hello") < 0 || conn_send(&s->conn, "ring") < 0) {
        daemon_down(s, now, "cannot send: %s", strerror(errno));
        return SOURCE_EV_STATUS;
    }
    s->dstate = DS_HELLO;
    return SOURCE_EV_STATUS;
}

/* The error sentence of a reply, or a description of what is wrong with it. */
static const char *reply_error(json_t *j)
{
    json_t *e = json_object_get(j, "error");

    if (!j)
        return "unreadable reply";
    return json_is_string(e) ? json_string_value(e) : "unexpected reply";
}

/*
 * The daemon writes to a new ring when it moves its history (from memory to
 * the state directory once there is room): the mapped one then stops
 * growing while samples are still announced.  Three announced samples that
 * the ring does not have mean it is the wrong ring.
 */
static bool stale_ring(struct data_source *s, double time)
{
    uint64_t oldest, newest, t;

    if (!(time >= 0))
        return false;
    t = (uint64_t)(time * 1e9);
    ring_reader_span(s->rd, RING_FULL, &oldest, &newest);
    s->stale_events = newest + 1500000000ull < t ? s->stale_events + 1 : 0;
    return s->stale_events >= 3;
}

/* A sample announced (time: Unix seconds, -1 unknown) while the ring is read. */
static unsigned ring_sample(struct data_source *s, double time, unsigned sources, uint64_t now)
{
    s->event_sources = sources;
    if (s->rd && stale_ring(s, time)) {
        /* Only a new connection can ask for the ring again (a watching one takes no requests). */
        daemon_down(s, now, "the daemon replaced its ring");
        s->retry_ns = now;
        return SOURCE_EV_STATUS;
    }
    return SOURCE_EV_DATA;
}

static unsigned daemon_line(struct data_source *s, const char *line, uint64_t now)
{
    json_t *j;
    bool ok;
    unsigned ev = 0, sources;
    double time;

    /* one a second: without a JSON tree when it has the daemon's own shape */
    if (s->dstate == DS_UP && !s->no_ring && proto_sample_event(line, &time, &sources))
        return ring_sample(s, time, sources, now);
    j = json_loads(line, 0, NULL);
    ok = j && json_is_true(json_object_get(j, "ok"));

    switch (s->dstate) {
    case DS_HELLO: {
        json_t *p = json_object_get(j, "protocol");
        if (!ok) {
            daemon_down(s, now, "hello: %s", reply_error(j));
            ev = SOURCE_EV_STATUS;
        } else if (!json_is_integer(p) || json_integer_value(p) != PROTO_VERSION) {
            daemon_down(s, now, "protocol %lld not supported (kmemtop speaks %d)",
                        json_is_integer(p) ? (long long)json_integer_value(p) : -1LL,
                        PROTO_VERSION);
            ev = SOURCE_EV_STATUS;
        } else {
            s->dstate = DS_RING;
        }
        break;
    }
    case DS_RING: {
        struct ring_reader *rd = NULL;
        char err[256];
        int fd = s->conn.passed_fd;

        s->conn.passed_fd = -1;
        if (!ok && j && fd < 0) {
            /*
             * A daemon without history (its state directory is unusable):
             * watch with the reports attached and show those.
             */
            if (!s->sm_open) {
                ring_sampler_init(&s->sm);
                s->sm.page_size = s->page_size;
                s->sm_open = true;
            }
            s->no_ring = true;
            /* A ring from an earlier connection is not this daemon's history any more. */
            if (s->rd) {
                ring_reader_close(s->rd);
                s->rd = NULL;
                s->rd_gen = ++history_gen;
                ev = SOURCE_EV_HISTORY;
            }
            if (conn_send(&s->conn, "watch slab vmalloc buddy meminfo") < 0) {
                daemon_down(s, now, "cannot send: %s", strerror(errno));
                ev = SOURCE_EV_STATUS;
                break;
            }
            s->dstate = DS_WATCH;
            break;
        }
        if (!ok || fd < 0) {
            if (fd >= 0)
                close(fd);
            daemon_down(s, now, "ring: %s", ok ? "no descriptor came with the reply"
                                               : reply_error(j));
            ev = SOURCE_EV_STATUS;
            break;
        }
        if (ring_reader_open(&rd, fd, err, sizeof(err)) < 0) {
            close(fd);
            daemon_down(s, now, "ring: %s", err);
            ev = SOURCE_EV_STATUS;
            break;
        }
        close(fd); /* the reader keeps its own duplicate */
        ring_reader_close(s->rd);
        s->rd = rd;
        s->rd_gen = ++history_gen;
        s->no_ring = false;
        ev = SOURCE_EV_HISTORY;
        if (conn_send(&s->conn, "watch") < 0) {
            daemon_down(s, now, "cannot send: %s", strerror(errno));
            ev |= SOURCE_EV_STATUS;
            break;
        }
        s->dstate = DS_WATCH;
        break;
    }
    case DS_WATCH:
        if (!ok) {
            daemon_down(s, now, "watch: %s", reply_error(j));
        } else {
            s->dstate = DS_UP;
            s->ever_up = true;
            s->down_reason[0] = '\0';
        }
        ev = SOURCE_EV_STATUS;
        break;
    case DS_UP: {
        json_t *srcs = json_object_get(j, "sources"), *v, *t = json_object_get(j, "time");
        const char *event = json_string_value(json_object_get(j, "event"));
        size_t i;
        int r;

        if (!ok || !event || strcmp(event, "sample") != 0)
            break; /* events we do not know are ignored, like unknown keys */
        sources = 0;
        json_array_foreach(srcs, i, v) {
            int src = json_is_string(v) ? src_parse(json_string_value(v)) : -1;
            if (src >= 0)
                sources |= SRC_BIT(src);
        }
        time = json_is_number(t) ? json_number_value(t) : -1;
        if (!s->no_ring) {
            ev = ring_sample(s, time, sources, now);
            break;
        }
        /* no ring: the reports came with the event */
        s->event_sources = sources;
        r = reports_to_sampler(j, &s->sm);
        if (r < 0) {
            daemon_down(s, now, "out of memory");
            ev = SOURCE_EV_STATUS;
            break;
        }
        s->live_mask = (unsigned)r;
        s->live_wall_ns = time >= 0 ? (uint64_t)(time * 1e9) : 0;
        s->samples++;
        ev = SOURCE_EV_DATA;
        break;
    }
    case DS_DOWN:
        break;
    }
    json_decref(j);
    return ev;
}

static unsigned daemon_read(struct data_source *s, uint64_t now)
{
    unsigned ev = 0;

    /* Every complete line that is there; a partial one stays buffered for the next poll. */
    while (s->dstate != DS_DOWN) {
        char *line;
        size_t len;
        int r = conn_read_line(&s->conn, &line, &len);

        if (r == -ETIMEDOUT)
            break;
        if (r < 0) {
            daemon_down(s, now, "%s", r == -ECONNRESET ? "connection lost" : strerror(-r));
            ev |= SOURCE_EV_STATUS;
            break;
        }
        ev |= daemon_line(s, line, now);
    }
    return ev;
}

/* --- the interface --------------------------------------------------------- */

void source_close(struct data_source *s)
{
    conn_close(&s->conn);
    ring_reader_close(s->rd);
    s->rd = NULL;
    s->rd_gen = ++history_gen;
    if (s->ring)
        ring_close(s->ring);
    s->ring = NULL;
    if (s->sm_open)
        sampler_fini(&s->sm);
    s->sm_open = false;
}

int source_fd(const struct data_source *s)
{
    return s->kind == SOURCE_DAEMON && s->dstate != DS_DOWN ? s->conn.fd : -1;
}

uint64_t source_deadline(const struct data_source *s)
{
    switch (s->kind) {
    case SOURCE_DIRECT:
        return s->next_sample_ns;
    case SOURCE_DAEMON:
        return s->dstate == DS_DOWN ? s->retry_ns : 0;
    case SOURCE_REPLAY:
        break;
    }
    return 0;
}

unsigned source_service(struct data_source *s, uint64_t now, bool readable)
{
    switch (s->kind) {
    case SOURCE_DIRECT:
        if (now < s->next_sample_ns)
            return 0;
        direct_sample(s, now);
        return SOURCE_EV_DATA;
    case SOURCE_DAEMON:
        if (s->dstate == DS_DOWN)
            return now >= s->retry_ns ? daemon_connect(s, now) : 0;
        return readable ? daemon_read(s, now) : 0;
    case SOURCE_REPLAY:
        break;
    }
    return 0;
}

const struct sampler *source_live(const struct data_source *s)
{
    bool live = s->kind == SOURCE_DIRECT || (s->kind == SOURCE_DAEMON && s->no_ring);

    return live && s->samples ? &s->sm : NULL;
}

bool source_up(const struct data_source *s)
{
    return s->kind != SOURCE_DAEMON || s->dstate == DS_UP;
}

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');

    return b && b[1] ? b + 1 : p;
}

void source_status(const struct data_source *s, char *buf, size_t n)
{
    switch (s->kind) {
    case SOURCE_DIRECT:
        if (strcmp(s->where, "/proc") == 0 || strcmp(s->where, "/proc/") == 0)
            snprintf(buf, n, "direct /proc%s", s->no_daemon ? " (no daemon)" : "");
        else
            snprintf(buf, n, "direct %s", s->where);
        return;
    case SOURCE_DAEMON:
        if (s->dstate == DS_UP)
            snprintf(buf, n, "daemon %s%s", s->where, s->no_ring ? " (it keeps no history)" : "");
        else if (s->dstate != DS_DOWN || !s->attempts)
            snprintf(buf, n, "daemon %s: connecting", s->where);
        else
            snprintf(buf, n, "daemon %s: reconnecting (%s)", s->where, s->down_reason);
        return;
    case SOURCE_REPLAY:
        /* The name only: frames stay the same wherever the file lies (golden tests). */
        snprintf(buf, n, "replay %s", base_name(s->where));
        return;
    }
}
