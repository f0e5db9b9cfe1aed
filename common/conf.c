#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const char *const key_names[CONF_NKEYS] = {
    [CONF_SOCKET] = "socket",
    [CONF_STATE_DIR] = "state_dir",
    [CONF_PROC_ROOT] = "proc_root",
    [CONF_USER] = "user",
    [CONF_METRICS] = "metrics",
    [CONF_INTERVAL] = "interval",
    [CONF_SLABINFO_INTERVAL] = "slabinfo_interval",
    [CONF_VMALLOCINFO_INTERVAL] = "vmallocinfo_interval",
    [CONF_BUDDYINFO_INTERVAL] = "buddyinfo_interval",
    [CONF_MEMINFO_INTERVAL] = "meminfo_interval",
    [CONF_MAX_CLIENTS] = "max_clients",
    [CONF_CLIENT_QUEUE_SIZE] = "client_queue_size",
    [CONF_RING_FULL_SIZE] = "ring_full_size",
    [CONF_RING_COARSE_SIZE] = "ring_coarse_size",
    [CONF_METRICS_CACHE_INCLUDE] = "metrics_cache_include",
    [CONF_METRICS_CACHE_EXCLUDE] = "metrics_cache_exclude",
    [CONF_METRICS_VMALLOC_TOP] = "metrics_vmalloc_top",
    [CONF_GROWTH_MIN_WINDOW] = "growth_min_window",
    [CONF_GROWTH_MIN_SIZE] = "growth_min_size",
};

const char *conf_key_name(enum conf_key k)
{
    return (unsigned)k < CONF_NKEYS ? key_names[k] : "?";
}

void conf_defaults(struct conf *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->socket, sizeof(c->socket), "%s", PROTO_DEFAULT_SOCKET);
    snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/kmemwatch");
    snprintf(c->proc_root, sizeof(c->proc_root), "/proc");
    snprintf(c->user, sizeof(c->user), "kmemwatch");
    for (int s = 0; s < SRC_N; s++)
        c->interval_ms[s] = 1000;
    /*
     * vmallocinfo is the expensive file: the kernel takes vmap_area_lock and
     * resolves a symbol per area (about 0.5 ms here for ~1000 areas, against
     * 0.2 ms for slabinfo), and vmalloc usage moves slowly.  5 s keeps the
     * daemon's cost down without losing the shape of a leak.
     */
    c->interval_ms[SRC_VMALLOCINFO] = 5000;
    c->max_clients = 1024;
    c->client_queue_bytes = PROTO_MAX_QUEUE;
    c->ring_full_bytes = 64ull << 20;
    c->ring_coarse_bytes = 16ull << 20;
    c->metrics_vmalloc_top = 50;
    c->growth_min_window_s = 600;
    c->growth_min_bytes = 1ull << 20;
}

static int set_str(char *dst, size_t n, const char *v, char *msg, size_t msglen)
{
    if (strlen(v) >= n) {
        snprintf(msg, msglen, "value longer than %zu bytes", n - 1);
        return -EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_interval(uint64_t *ms, const char *v, char *msg, size_t msglen)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0.1 && d <= 86400)) {
        snprintf(msg, msglen, "'%s' is not an interval in seconds (0.1 to 86400)", v);
        return -EINVAL;
    }
    *ms = (uint64_t)(d * 1000 + 0.5);
    return 0;
}

static int set_u64(uint64_t *dst, const char *v, uint64_t lo, uint64_t hi, bool size, bool dur,
                   char *msg, size_t msglen)
{
    uint64_t x;
    int r = size ? parse_size(v, &x) : dur ? parse_duration(v, &x) : -EINVAL;

    if (!size && !dur) {
        char *end;
        errno = 0;
        x = strtoull(v, &end, 10);
        r = (errno || end == v || *end || *v == '-') ? -EINVAL : 0;
    }
    if (r < 0 || x < lo || x > hi) {
        snprintf(msg, msglen, "'%s' is not a %s from %llu to %llu", v,
                 size ? "size" : dur ? "duration" : "number", (unsigned long long)lo,
                 (unsigned long long)hi);
        return -EINVAL;
    }
    *dst = x;
    return 0;
}

int conf_set(struct conf *c, const char *key, const char *v, char *msg, size_t msglen)
{
    int k, r = -EINVAL;

    for (k = 0; k < CONF_NKEYS; k++)
        if (strcmp(key, key_names[k]) == 0)
            break;
    if (k == CONF_NKEYS) {
        snprintf(msg, msglen, "unknown key '%s'", key);
        return -EINVAL;
    }
    switch ((enum conf_key)k) {
    case CONF_SOCKET:
        r = set_str(c->socket, sizeof(c->socket), v, msg, msglen);
        break;
    case CONF_STATE_DIR:
        r = set_str(c->state_dir, sizeof(c->state_dir), v, msg, msglen);
        break;
    case CONF_PROC_ROOT:
        r = set_str(c->proc_root, sizeof(c->proc_root), v, msg, msglen);
        break;
    case CONF_USER:
        r = set_str(c->user, sizeof(c->user), v, msg, msglen);
        break;
    case CONF_METRICS:
        r = set_str(c->metrics, sizeof(c->metrics), v, msg, msglen);
        if (r == 0 && v[0] && !strrchr(v, ':')) {
            snprintf(msg, msglen, "'%s' is not ADDR:PORT", v);
            r = -EINVAL;
        }
        break;
    case CONF_INTERVAL: {
        uint64_t ms;
        r = set_interval(&ms, v, msg, msglen);
        for (int s = 0; r == 0 && s < SRC_N; s++)
            c->interval_ms[s] = ms;
        break;
    }
    case CONF_SLABINFO_INTERVAL:
        r = set_interval(&c->interval_ms[SRC_SLABINFO], v, msg, msglen);
        break;
    case CONF_VMALLOCINFO_INTERVAL:
        r = set_interval(&c->interval_ms[SRC_VMALLOCINFO], v, msg, msglen);
        break;
    case CONF_BUDDYINFO_INTERVAL:
        r = set_interval(&c->interval_ms[SRC_BUDDYINFO], v, msg, msglen);
        break;
    case CONF_MEMINFO_INTERVAL:
        r = set_interval(&c->interval_ms[SRC_MEMINFO], v, msg, msglen);
        break;
    case CONF_MAX_CLIENTS:
        r = set_u64(&c->max_clients, v, 1, 65536, false, false, msg, msglen);
        break;
    case CONF_CLIENT_QUEUE_SIZE:
        r = set_u64(&c->client_queue_bytes, v, 64 << 10, 1ull << 30, true, false, msg, msglen);
        break;
    case CONF_RING_FULL_SIZE:
        r = set_u64(&c->ring_full_bytes, v, 64 << 10, 64ull << 30, true, false, msg, msglen);
        break;
    case CONF_RING_COARSE_SIZE:
        r = set_u64(&c->ring_coarse_bytes, v, 64 << 10, 64ull << 30, true, false, msg, msglen);
        break;
    case CONF_METRICS_CACHE_INCLUDE:
        r = set_str(c->metrics_cache_include, sizeof(c->metrics_cache_include), v, msg, msglen);
        break;
    case CONF_METRICS_CACHE_EXCLUDE:
        r = set_str(c->metrics_cache_exclude, sizeof(c->metrics_cache_exclude), v, msg, msglen);
        break;
    case CONF_METRICS_VMALLOC_TOP:
        r = set_u64(&c->metrics_vmalloc_top, v, 0, 100000, false, false, msg, msglen);
        break;
    case CONF_GROWTH_MIN_WINDOW:
        r = set_u64(&c->growth_min_window_s, v, 1, 30ull * 86400, false, true, msg, msglen);
        break;
    case CONF_GROWTH_MIN_SIZE:
        r = set_u64(&c->growth_min_bytes, v, 0, 1ull << 50, true, false, msg, msglen);
        break;
    case CONF_NKEYS:
        break;
    }
    if (r == 0) {
        c->set |= 1ull << k;
    } else {
        /* name the key: "interval: '0' is not an interval ..." */
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s: %s", key, msg);
        snprintf(msg, msglen, "%s", tmp);
    }
    return r;
}

int conf_parse(const char *buf, size_t len, struct conf *c, struct perr *err)
{
    struct line_iter it;
    const char *ls, *le;
    int r;

    line_iter_init(&it, buf, len);
    it.last_line_may_lack_newline = true;
    while ((r = line_iter_next(&it, &ls, &le, err)) > 0) {
        char key[64], val[CONF_STR_MAX], msg[128];
        const char *p = skip_blanks(ls, le), *k_end, *eq, *v, *v_end;

        if (p == le || *p == '#')
            continue;
        eq = memchr(p, '=', (size_t)(le - p));
        if (!eq)
            return perr_set(err, it.lineno, "expected 'key = value'");
        k_end = eq;
        while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        v = skip_blanks(eq + 1, le);
        v_end = le;
        while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t' || v_end[-1] == '\r'))
            v_end--;
        if (k_end == p)
            return perr_set(err, it.lineno, "missing key before '='");
        if (copy_token(key, sizeof(key), p, k_end) < 0)
            return perr_set(err, it.lineno, "key too long");
        if (copy_token(val, sizeof(val), v, v_end) < 0)
            return perr_set(err, it.lineno, "value too long");
        for (const char *q = val; *q; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t')
                return perr_set(err, it.lineno, "control character in value");
        if (conf_set(c, key, val, msg, sizeof(msg)) < 0)
            return perr_set(err, it.lineno, "%s", msg);
    }
    return r;
}
