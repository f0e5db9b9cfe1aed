/*
 * cmd: the protocol's commands (common/proto.h, docs/PROTOCOL.md).
 *
 * Handlers answer from what the daemon already holds: the latest parsed
 * sample and the ring.  None of them reads /proc, so a flood of requests
 * never changes what or when the daemon samples.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "growth.h"
#include "history.h"
#include "loop.h"
#include "proto.h"
#include "report.h"
#include "ring.h"
#include "server.h"
#include "util.h"

/* Latest-sample commands and the watch kinds share this table. */
static const struct {
    const char *name;
    enum src_id src;
} kinds[] = {
    { "slab", SRC_SLABINFO },
    { "kmalloc", SRC_SLABINFO },
    { "vmalloc", SRC_VMALLOCINFO },
    { "buddy", SRC_BUDDYINFO },
    { "meminfo", SRC_MEMINFO },
};

static int kind_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
        if (strcmp(kinds[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* unix time in seconds with millisecond resolution */
static json_t *unix_time(uint64_t wall_ns)
{
    return json_real(floor((double)wall_ns / 1e6) / 1e3);
}

static json_t *kind_report(int k)
{
    switch (kinds[k].src) {
    case SRC_SLABINFO:
        return k == 0 ? report_slab(&D.sm.slab) : report_kmalloc(&D.sm.kmalloc);
    case SRC_VMALLOCINFO:
        return report_vmalloc(&D.sm.vmalloc);
    case SRC_BUDDYINFO:
        return report_buddy(&D.sm.buddy);
    case SRC_MEMINFO:
        return report_meminfo(&D.sm.meminfo);
    case SRC_N:
        break;
    }
    return NULL;
}

/* {"ok":true, <report>, "time":T} or NULL with err set */
static json_t *latest(int k, char *err, size_t errlen)
{
    enum src_id s = kinds[k].src;
    json_t *o;

    if (!sampler_valid(&D.sm, s)) {
        if (D.sm.src[s].errmsg[0])
            snprintf(err, errlen, "%s: no current sample: %s", src_name(s), D.sm.src[s].errmsg);
        else
            snprintf(err, errlen, "%s: no sample yet", src_name(s));
        return NULL;
    }
    o = kind_report(k);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "time", unix_time(D.sched[s].last_wall_ns));
    return o;
}

/*
 * The latest-sample replies change only when a record is appended: each is
 * serialised once per record and then copied to every client that asks
 * (a kmalloc reply costs ~0.2 ms to build, ~1 us to copy).
 */
static struct {
    uint64_t seq;
    char *text;       /* the reply line, newline included */
    size_t len;
} reply_cache[ARRAY_SIZE(kinds)];

static void cmd_latest(struct client *c, int k)
{
    char err[512];
    json_t *o;
    char *s;

    if (!reply_cache[k].text || reply_cache[k].seq != D.seq) {
        free(reply_cache[k].text);
        reply_cache[k].text = NULL;
        o = latest(k, err, sizeof(err));
        if (!o) {
            client_send_error(c, "%s", err);
            return;
        }
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s || asprintf(&reply_cache[k].text, "%s\n", s) < 0) {
            free(s);
            reply_cache[k].text = NULL;
            client_send_error(c, "out of memory");
            return;
        }
        free(s);
        reply_cache[k].len = strlen(reply_cache[k].text);
        reply_cache[k].seq = D.seq;
    }
    client_send_text(c, reply_cache[k].text, reply_cache[k].len);
}

/* The history reply cache's size, and for hello whether it earns its keep (see cmd_history). */
static size_t hcache_bytes;
static uint64_t hcache_hits, hcache_misses;

static void cmd_hello(struct client *c)
{
    json_t *o = json_object(), *srcs = json_object();
    struct ring_stats rs;

    for (int s = 0; s < SRC_N; s++) {
        const struct sched *sc = &D.sched[s];
        json_t *so = json_object();
        json_object_set_new(so, "interval", json_real((double)sc->interval_ns / 1e9));
        json_object_set_new(so, "last", sc->last_wall_ns ? unix_time(sc->last_wall_ns) : json_null());
        json_object_set_new(so, "samples", json_integer((json_int_t)sc->samples));
        json_object_set_new(so, "late", json_integer((json_int_t)sc->late));
        json_object_set_new(so, "delayed", json_integer((json_int_t)sc->delayed));
        json_object_set_new(so, "errors", json_integer((json_int_t)sc->errors));
        json_object_set_new(so, "error", D.sm.src[s].err ? json_string(D.sm.src[s].errmsg) : json_null());
        json_object_set_new(srcs, src_name((enum src_id)s), so);
    }
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "protocol", json_integer(PROTO_VERSION));
    json_object_set_new(o, "version", json_string(KMW_VERSION));
    json_object_set_new(o, "sources", srcs);
    json_object_set_new(o, "started", unix_time(D.start_wall_ns));
    json_object_set_new(o, "clients", json_integer(server_nclients()));
    json_object_set_new(o, "growth", json_pack("{s:I,s:I,s:I}", "min_window", (json_int_t)D.conf.growth_min_window_s,
                                                "min_size", (json_int_t)D.conf.growth_min_bytes, "suspects",
                                                (json_int_t)D.growth.nsus));
    json_object_set_new(o, "history_cache", json_pack("{s:I,s:I,s:I}", "hits", (json_int_t)hcache_hits,
                                                       "misses", (json_int_t)hcache_misses, "bytes",
                                                       (json_int_t)hcache_bytes));
    if (D.ring) {
        ring_stats(D.ring, &rs);
        json_object_set_new(o, "ring", json_pack("{s:I,s:I,s:I,s:o,s:o}", "records", (json_int_t)rs.full_records,
                                                  "coarse_records", (json_int_t)rs.coarse_records,
                                                  "file_bytes", (json_int_t)rs.file_bytes,
                                                  "oldest", rs.full_oldest_wall_ns ? unix_time(rs.full_oldest_wall_ns) : json_null(),
                                                  "coarse_oldest", rs.coarse_oldest_wall_ns ? unix_time(rs.coarse_oldest_wall_ns) : json_null()));
    } else {
        json_object_set_new(o, "ring", json_null());
    }
    client_send_json(c, o);
}

/*
 * history KIND NAME FIELD [DURATION].  The reply is text written here (a
 * JSON tree of a week of points would cost ~100 MiB): only numbers and two
 * fixed words go in, so there is nothing to escape, and the shape is the
 * one json_dumps would give: {"ok":true,"window":W,"tier":"full","points":[[t,v],...]}.
 *
 * It is made in parts of HISTORY_PART_POINTS points (history_next): each
 * part is walked, written and queued in one go, and the next one when the
 * client has read it (client_send_parts), so a week of 1-second points
 * (604800, 15 MB of text) holds sampling up for one part at a time and
 * costs the daemon one part of memory per client.
 */
#define HISTORY_PART_POINTS 16384
/* The longest point: "[" 20 digits "." 3 digits "," 24 characters of %.17g "]" and a comma. */
#define POINT_TEXT_MAX 64

/* The text of the part being written; one for all clients (parts are written one at a time). */
static struct {
    char *p;
    size_t n, cap;
} htext;
static struct history_points htext_pts;

static bool text_room(size_t more)
{
    size_t nc = htext.cap ? htext.cap : 65536;
    char *np;

    if (htext.n + more <= htext.cap)
        return true;
    while (nc < htext.n + more)
        nc *= 2;
    np = realloc(htext.p, nc);
    if (!np)
        return false;
    htext.p = np;
    htext.cap = nc;
    return true;
}

/* v in decimal at p; the end */
static char *put_dec(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/*
 * Append the points to htext: [t,v] with t in unix seconds with millisecond
 * resolution (as unix_time() gives elsewhere) and v an integer, or for a
 * fraction "%.17g"; comma-separated, with a comma first unless first.
 * false when out of memory.
 */
static bool points_text(const struct history_points *pts, bool first)
{
    char *p;

    if (!text_room(pts->n * POINT_TEXT_MAX))
        return false;
    p = htext.p + htext.n;
    for (size_t i = 0; i < pts->n; i++) {
        uint64_t ms = pts->v[i].wall_ns / 1000000u;
        double v = pts->v[i].value;

        if (i || !first)
            *p++ = ',';
        *p++ = '[';
        p = put_dec(p, ms / 1000);
        *p++ = '.';
        *p++ = (char)('0' + ms % 1000 / 100);
        *p++ = (char)('0' + ms % 100 / 10);
        *p++ = (char)('0' + ms % 10);
        *p++ = ',';
        /* the integers are sums of u64 as doubles: exact below 2^64, printed as "%.0f" would */
        if (!pts->is_fraction && v < 0x1p64)
            p = put_dec(p, (uint64_t)v);
        else
            p += snprintf(p, 32, pts->is_fraction ? "%.17g" : "%.0f", v); /* <= 24 characters */
        *p++ = ']';
    }
    htext.n = (size_t)(p - htext.p);
    return true;
}

static bool text_add(const char *s, size_t len)
{
    if (!text_room(len))
        return false;
    memcpy(htext.p + htext.n, s, len);
    htext.n += len;
    return true;
}

/*
 * Recent history replies, for dashboards that ask the same question every
 * second: a reply made in one part is kept with the request and the record
 * it was made at (D.seq), and given again while no record was appended and
 * the window, which moves with the clock, still holds the same points
 * (reuse_before, see history.h), from the same tier.  At most
 * HISTORY_CACHE_SLOTS replies and HISTORY_CACHE_BYTES of text; replies of
 * older records are dropped when a new one is kept.
 */
#define HISTORY_CACHE_SLOTS 8
#define HISTORY_CACHE_BYTES (4u << 20)

static struct hist_cached {
    char *key;            /* "KIND NAME FIELD WINDOW" */
    char *text;
    size_t len;
    uint64_t seq, now_ns, reuse_before, age;
    enum ring_tier tier;
} hcache[HISTORY_CACHE_SLOTS];
static uint64_t hcache_age;

static void hcache_drop(struct hist_cached *e)
{
    hcache_bytes -= e->len;
    free(e->key);
    free(e->text);
    memset(e, 0, sizeof(*e));
}

static const struct hist_cached *hcache_find(const char *key, uint64_t window, uint64_t now)
{
    uint64_t win = window * 1000000000u, from = now > win ? now - win : 0;

    for (size_t i = 0; i < HISTORY_CACHE_SLOTS; i++) {
        const struct hist_cached *e = &hcache[i];
        if (e->key && e->seq == D.seq && now >= e->now_ns && from < e->reuse_before &&
            strcmp(e->key, key) == 0 && e->tier == history_pick_tier(D.reader, window, now))
            return e;
    }
    return NULL;
}

/* Keep the reply in htext (all of it) for key; when out of memory it is not kept. */
static void hcache_put(const char *key, const struct history_points *pts, uint64_t now)
{
    struct hist_cached *slot = NULL;

    if (!pts->reuse_before || !pts->n || htext.n > HISTORY_CACHE_BYTES)
        return;
    /* replies of older records can never match again, nor can an older reply to this request */
    for (size_t i = 0; i < HISTORY_CACHE_SLOTS; i++)
        if (hcache[i].key && (hcache[i].seq != D.seq || strcmp(hcache[i].key, key) == 0))
            hcache_drop(&hcache[i]);
    for (;;) {
        struct hist_cached *oldest = NULL;
        for (size_t i = 0; i < HISTORY_CACHE_SLOTS; i++) {
            if (!hcache[i].key)
                slot = slot ? slot : &hcache[i];
            else if (!oldest || hcache[i].age < oldest->age)
                oldest = &hcache[i];
        }
        if (slot && hcache_bytes + htext.n <= HISTORY_CACHE_BYTES)
            break;
        hcache_drop(oldest);
    }
    slot->key = strdup(key);
    slot->text = malloc(htext.n);
    if (!slot->key || !slot->text) {
        free(slot->key);
        free(slot->text);
        memset(slot, 0, sizeof(*slot));
        return;
    }
    memcpy(slot->text, htext.p, htext.n);
    slot->len = htext.n;
    hcache_bytes += htext.n;
    slot->seq = D.seq;
    slot->now_ns = now;
    slot->reuse_before = pts->reuse_before;
    slot->tier = pts->tier;
    slot->age = ++hcache_age;
}

/* The parts after the first: client_send_parts */
static int history_part(struct client *c, void *arg)
{
    struct history_cursor *hc = arg;
    char err[256];
    int r;

    if (!D.reader)
        return -ENOENT;
    r = history_next(hc, D.reader, HISTORY_PART_POINTS, &htext_pts, err, sizeof(err));
    if (r < 0)
        return r;
    htext.n = 0;
    if (!points_text(&htext_pts, false) || (r == 0 && !text_add("]}\n", 3)))
        return -ENOMEM;
    client_send_text(c, htext.p, htext.n);
    return r;
}

static void history_part_done(void *arg)
{
    history_close(arg);
}

static void cmd_history(struct client *c, int argc, char **argv)
{
    uint64_t window = 600, now = loop_wall_ns();
    const struct hist_cached *hit;
    struct history_cursor *hc;
    char err[256], key[PROTO_MAX_LINE + 32], head[128];
    int r, n;

    if (argc < 4 || argc > 5) {
        client_send_error(c, "usage: history KIND NAME FIELD [DURATION]");
        return;
    }
    if (argc == 5 && (parse_duration(argv[4], &window) < 0 || window == 0 || window > 400ull * 86400)) {
        client_send_error(c, "history: '%s' is not a duration (seconds, or with s, m, h, d, w; at most 400d)",
                          argv[4]);
        return;
    }
    if (!D.reader) {
        client_send_error(c, "history: no ring (see the daemon's log)");
        return;
    }
    snprintf(key, sizeof(key), "%s %s %s %llu", argv[1], argv[2], argv[3], (unsigned long long)window);
    hit = hcache_find(key, window, now);
    if (hit) {
        hcache_hits++;
        client_send_text(c, hit->text, hit->len);
        return;
    }
    hcache_misses++;
    r = history_open(&hc, D.reader, argv[1], argv[2], argv[3], window, now, err, sizeof(err));
    if (r == 0)
        r = history_next(hc, D.reader, HISTORY_PART_POINTS, &htext_pts, err, sizeof(err));
    if (r < 0) {
        client_send_error(c, "history: %s", err);
        history_close(hc);
        return;
    }
    htext.n = 0;
    n = snprintf(head, sizeof(head), "{\"ok\":true,\"window\":%llu,\"tier\":\"%s\",\"points\":[",
                 (unsigned long long)window, htext_pts.tier == RING_FULL ? "full" : "coarse");
    if (!text_add(head, (size_t)n) || !points_text(&htext_pts, true) || (r == 0 && !text_add("]}\n", 3))) {
        client_send_error(c, "history: out of memory");
        history_close(hc);
        return;
    }
    client_send_text(c, htext.p, htext.n);
    if (r > 0) {
        client_send_parts(c, history_part, history_part_done, hc);
        return;
    }
    history_close(hc);
    hcache_put(key, &htext_pts, now);
}

void cmd_fini(void)
{
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        free(reply_cache[k].text);
        reply_cache[k].text = NULL;
    }
    for (size_t i = 0; i < HISTORY_CACHE_SLOTS; i++)
        hcache_drop(&hcache[i]);
    free(htext.p);
    memset(&htext, 0, sizeof(htext));
    history_points_free(&htext_pts);
}

/*
 * growth DURATION [TOP [SIZE]]: the series growing fastest over the window,
 * judged by the leak-suspect rule with SIZE (default growth_min_size).  The
 * window is judged as given: the configured minimum window applies to the
 * daemon's own evaluation, not to a window a person asks about.
 */
static void cmd_growth(struct client *c, int argc, char **argv)
{
    uint64_t window, top = 20, size = D.conf.growth_min_bytes;
    struct growth_rule rule;
    struct growth_report rep;
    char err[256], *end;
    json_t *o;
    int r;

    if (argc < 2 || argc > 4) {
        client_send_error(c, "usage: growth DURATION [TOP [SIZE]]");
        return;
    }
    if (parse_duration(argv[1], &window) < 0 || window == 0 || window > 400ull * 86400) {
        client_send_error(c, "growth: '%s' is not a duration (seconds, or with s, m, h, d, w; at most 400d)",
                          argv[1]);
        return;
    }
    if (argc >= 3) {
        errno = 0;
        top = strtoull(argv[2], &end, 10);
        if (errno || *end || end == argv[2] || argv[2][0] == '-' || top > 1000000) {
            client_send_error(c, "growth: '%s' is not a number of series (0 for all)", argv[2]);
            return;
        }
    }
    if (argc == 4 && parse_size(argv[3], &size) < 0) {
        client_send_error(c, "growth: '%s' is not a size (bytes, or with K, M, G)", argv[3]);
        return;
    }
    if (!D.reader) {
        client_send_error(c, "growth: no ring (see the daemon's log)");
        return;
    }
    rule = (struct growth_rule){ 0, size, 0 };
    memset(&rep, 0, sizeof(rep));
    r = growth_eval(D.reader, window, loop_wall_ns(), &rule, &rep, err, sizeof(err));
    if (r < 0) {
        client_send_error(c, "growth: %s", err);
        return;
    }
    o = growth_report_json(&rep, size, (size_t)top, false);
    growth_report_free(&rep);
    if (!o) {
        client_send_error(c, "growth: out of memory");
        return;
    }
    client_send_json(c, o);
}

static void cmd_watch(struct client *c, int argc, char **argv)
{
    unsigned mask = 0;

    for (int i = 1; i < argc; i++) {
        int k = kind_find(argv[i]);
        if (k < 0) {
            client_send_error(c, "watch: unknown kind '%s' (slab, kmalloc, vmalloc, buddy, meminfo)", argv[i]);
            return;
        }
        mask |= 1u << k;
    }
    client_send_json(c, json_pack("{s:b,s:s}", "ok", 1, "event", "watching"));
    client_watch(c, mask);
}

static void cmd_ring(struct client *c)
{
    struct ring_stats rs;

    if (!D.ring || D.ring_ro_fd < 0) {
        client_send_error(c, "ring: no ring (see the daemon's log)");
        return;
    }
    ring_stats(D.ring, &rs);
    client_send_with_fd(c, json_pack("{s:b,s:{s:s,s:I,s:i}}", "ok", 1, "ring", "path", D.ring_path, "size",
                                     (json_int_t)rs.file_bytes, "format", RING_FORMAT_VERSION),
                        D.ring_ro_fd);
}

char *cmd_metrics_text(size_t *len)
{
    struct metrics_extra x;
    struct metrics_growth mg;
    struct metrics_opts mo = {
        .cache_include = D.have_include ? &D.cache_include : NULL,
        .cache_exclude = D.have_exclude ? &D.cache_exclude : NULL,
        .vmalloc_top = (unsigned)D.conf.metrics_vmalloc_top,
    };
    char *buf = NULL;
    FILE *f;

    memset(&x, 0, sizeof(x));
    for (int s = 0; s < SRC_N; s++) {
        x.src[s].samples = D.sched[s].samples;
        x.src[s].errors = D.sched[s].errors;
        x.src[s].late = D.sched[s].late;
        x.src[s].delayed = D.sched[s].delayed;
        x.src[s].read_seconds = (double)D.sm.src[s].read_ns / 1e9;
        x.src[s].up = sampler_valid(&D.sm, (enum src_id)s);
    }
    x.uptime_seconds = (double)(loop_now_ns() - D.start_mono_ns) / 1e9;
    x.clients = server_nclients();
    if (D.ring) {
        struct ring_stats rs;
        ring_stats(D.ring, &rs);
        x.ring_bytes = rs.file_bytes;
    }
    if (D.reader) {
        const struct growth_report *g0 = &D.growth.rep[0]; /* the configured window */
        mg = (struct metrics_growth){ g0->n ? g0->window_s : D.conf.growth_min_window_s, g0->v, g0->n,
                                      GROWTH_METRICS_TOP, D.growth.sus, D.growth.nsus };
        x.growth = &mg;
    }
    f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    if (metrics_write(f, &D.sm, &mo, &x) < 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void cmd_metrics(struct client *c)
{
    size_t len;
    char *text = cmd_metrics_text(&len);

    if (!text) {
        client_send_error(c, "metrics: out of memory");
        return;
    }
    client_send_text(c, text, len);
    client_send_text(c, PROTO_METRICS_END "\n", sizeof(PROTO_METRICS_END));
    free(text);
}

static const char *const command_names[] = {
    "hello", "slab", "kmalloc", "vmalloc", "buddy", "meminfo", "history", "growth", "watch", "ring", "metrics",
};

void cmd_handle(struct client *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    int k = kind_find(cmd);

    if (k >= 0) {
        if (argc > 1) {
            client_send_error(c, "%s takes no arguments", cmd);
            return;
        }
        cmd_latest(c, k);
    } else if (strcmp(cmd, "hello") == 0) {
        cmd_hello(c);
    } else if (strcmp(cmd, "history") == 0) {
        cmd_history(c, argc, argv);
    } else if (strcmp(cmd, "growth") == 0) {
        cmd_growth(c, argc, argv);
    } else if (strcmp(cmd, "watch") == 0) {
        cmd_watch(c, argc, argv);
    } else if (strcmp(cmd, "ring") == 0) {
        cmd_ring(c);
    } else if (strcmp(cmd, "metrics") == 0) {
        cmd_metrics(c);
    } else {
        char list[256] = "";
        for (size_t i = 0; i < ARRAY_SIZE(command_names); i++) {
            strcat(list, i ? ", " : "");
            strcat(list, command_names[i]);
        }
        client_send_error(c, "unknown command '%.64s' (commands: %s)", cmd, list);
    }
}

/*
 * One event line per record, with the reports each watcher named.  Reports
 * are built once per record, on first use, and shared by reference between
 * the watchers' lines.
 */
struct notify_ctx {
    json_t *event;
    json_t *rep[ARRAY_SIZE(kinds)];
    bool tried[ARRAY_SIZE(kinds)];
};

static void notify_one(struct client *c, void *arg)
{
    struct notify_ctx *nc = arg;
    json_t *o = json_copy(nc->event);
    unsigned mask = client_watch_kinds(c);
    char err[512];

    for (size_t k = 0; o && k < ARRAY_SIZE(kinds); k++) {
        if (!(mask & (1u << k)) || !(D.last_mask & SRC_BIT(kinds[k].src)))
            continue;
        if (!nc->tried[k]) {
            nc->tried[k] = true;
            nc->rep[k] = latest((int)k, err, sizeof(err));
            if (nc->rep[k])
                json_object_del(nc->rep[k], "ok");
        }
        if (nc->rep[k])
            json_object_set(o, kinds[k].name, nc->rep[k]);
    }
    client_send_event(c, o);
}

void cmd_notify_watchers(void)
{
    struct notify_ctx nc;
    json_t *srcs = json_array();

    memset(&nc, 0, sizeof(nc));
    for (int s = 0; s < SRC_N; s++)
        if (D.last_mask & SRC_BIT(s))
            json_array_append_new(srcs, json_string(src_name((enum src_id)s)));
    nc.event = json_pack("{s:b,s:s,s:o,s:I,s:o}", "ok", 1, "event", "sample", "time", unix_time(D.last_wall_ns),
                         "seq", (json_int_t)D.seq, "sources", srcs);
    if (!nc.event)
        return;
    server_foreach_watcher(notify_one, &nc);
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
        json_decref(nc.rep[k]);
    json_decref(nc.event);
}
