#include "history.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"
#include "series.h"

enum hkind { HK_SLAB, HK_KMALLOC, HK_VMALLOC, HK_BUDDY, HK_MEMINFO };

static const char *const hkind_names[] = { "slab", "kmalloc", "vmalloc", "buddy", "meminfo" };
static const enum src_id hkind_src[] = { SRC_SLABINFO, SRC_SLABINFO, SRC_VMALLOCINFO,
                                         SRC_BUDDYINFO, SRC_MEMINFO };

/* Derived fields beyond the stored ones. */
enum { F_BYTES_TOTAL = 1000, F_BYTES_ACTIVE, F_FREE_PAGES, F_ORDER, F_UNUSABLE };

struct hq {
    enum hkind kind;
    unsigned field;  /* stored field index, or one of the F_* above */
    unsigned order;  /* F_ORDER, F_UNUSABLE */
    char key[SERIES_KEY_MAX];
    size_t keylen;
    bool total;      /* kmalloc "total-N", vmalloc "total" */
    enum kmalloc_variant variant;
    uint64_t size;
    /* entities of the current state that make up the series, recomputed when it changes */
    uint64_t gen;
    bool have_gen;
    unsigned *slots;
    size_t nslots, cap;
    bool found;
    int err;
};

/*
 * A query being answered: the parsed series and window, and where the walk
 * of the next part starts.  A part's walk starts from the keyframe at or
 * before the wall time of the last record the previous part delivered and
 * skips the records up to it (after_seq).
 */
struct history_cursor {
    struct hq q;
    enum ring_tier tier;
    bool is_fraction;
    char name[SERIES_KEY_MAX]; /* as asked, for the messages */
    uint64_t window_s;
    uint64_t from, to;       /* the window; from moves to the resume point */
    uint64_t after_seq;      /* records up to this one were delivered by earlier parts */
    bool started;            /* a part was taken */
    /* the part being taken */
    struct history_points *out;
    size_t max;
    uint64_t last_seq, last_wall; /* the last record delivered */
    uint64_t min_wall;       /* the earliest wall time delivered */
    bool full, cut;          /* stopped: max points, or a record after the window */
    bool went_on;            /* a later part found the record right after after_seq */
};

void history_points_free(struct history_points *hp)
{
    free(hp->v);
    hp->v = NULL;
    hp->n = hp->cap = 0;
}

static int fail(char *err, size_t n, int code, const char *fmt, ...) KMW_PRINTF(4, 5);

static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
    va_list ap;

    if (err && n) {
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* "order3" -> 3 into *o; false unless prefix is followed by 0..BUDDY_MAX_ORDERS-1. */
static bool parse_order(const char *field, const char *prefix, unsigned *o)
{
    size_t pl = strlen(prefix);
    char *end;
    unsigned long v;

    if (strncmp(field, prefix, pl) != 0 || field[pl] < '0' || field[pl] > '9')
        return false;
    v = strtoul(field + pl, &end, 10);
    if (*end || v >= BUDDY_MAX_ORDERS)
        return false;
    *o = (unsigned)v;
    return true;
}

static int parse_query(struct hq *q, const char *kind, const char *name, const char *field,
                       char *err, size_t n)
{
    size_t k;

    for (k = 0; k < ARRAY_SIZE(hkind_names); k++)
        if (strcmp(kind, hkind_names[k]) == 0)
            break;
    if (k == ARRAY_SIZE(hkind_names))
        return fail(err, n, -EINVAL, "unknown kind '%s' (slab, kmalloc, vmalloc, buddy, meminfo)",
                    kind);
    q->kind = (enum hkind)k;
    switch (q->kind) {
    case HK_SLAB: {
        char buf[32];
        q->keylen = strlen(name);
        if (q->keylen == 0 || q->keylen >= SLAB_NAME_MAX)
            return fail(err, n, -EINVAL, "slab: '%s' is not a cache name", name);
        memcpy(q->key, name, q->keylen);
        for (unsigned f = 0; f < SF_SLAB_N; f++)
            if (strcmp(field, series_field_name(SK_SLAB, f, buf, sizeof(buf))) == 0) {
                q->field = f;
                return 0;
            }
        if (strcmp(field, "bytes_total") == 0 || strcmp(field, "bytes_active") == 0) {
            q->field = field[6] == 't' ? F_BYTES_TOTAL : F_BYTES_ACTIVE;
            return 0;
        }
        return fail(err, n, -EINVAL,
                    "unknown slab field '%s' (active_objs, num_objs, objsize, objperslab, "
                    "pagesperslab, limit, batchcount, sharedfactor, active_slabs, num_slabs, "
                    "sharedavail, bytes_total, bytes_active)",
                    field);
    }
    case HK_KMALLOC: {
        const char *dash = strchr(name, '-');
        char vbuf[16], cname[64];
        int v;

        if (!dash || (size_t)(dash - name) >= sizeof(vbuf) ||
            snprintf(cname, sizeof(cname), "kmalloc-%s", dash + 1) >= (int)sizeof(cname) ||
            !kmalloc_classify(cname, &q->size, NULL))
            return fail(err, n, -EINVAL,
                        "kmalloc: '%s' is not VARIANT-SIZE (e.g. cg-1024, normal-8, total-1k)",
                        name);
        memcpy(vbuf, name, (size_t)(dash - name));
        vbuf[dash - name] = '\0';
        q->total = strcmp(vbuf, "total") == 0;
        v = kmalloc_variant_parse(vbuf);
        if (!q->total && v < 0)
            return fail(err, n, -EINVAL,
                        "kmalloc: unknown variant '%s' (normal, cg, rcl, dma, rnd, total)", vbuf);
        q->variant = v < 0 ? KMALLOC_NORMAL : (enum kmalloc_variant)v;
        if (strcmp(field, "active_objs") == 0)
            q->field = SF_SLAB_ACTIVE_OBJS;
        else if (strcmp(field, "num_objs") == 0)
            q->field = SF_SLAB_NUM_OBJS;
        else if (strcmp(field, "bytes_total") == 0)
            q->field = F_BYTES_TOTAL;
        else if (strcmp(field, "bytes_active") == 0)
            q->field = F_BYTES_ACTIVE;
        else
            return fail(err, n, -EINVAL,
                        "unknown kmalloc field '%s' (active_objs, num_objs, bytes_total, "
                        "bytes_active)",
                        field);
        return 0;
    }
    case HK_VMALLOC:
        q->keylen = strlen(name);
        if (q->keylen == 0 || q->keylen >= VMALLOC_CALLER_MAX)
            return fail(err, n, -EINVAL, "vmalloc: '%s' is not a caller name", name);
        memcpy(q->key, name, q->keylen + 1);
        q->total = strcmp(name, "total") == 0;
        if (strcmp(field, "areas") == 0)
            q->field = SF_VM_AREAS;
        else if (strcmp(field, "bytes") == 0)
            q->field = SF_VM_BYTES;
        else if (strcmp(field, "pages") == 0)
            q->field = SF_VM_PAGES;
        else
            return fail(err, n, -EINVAL, "unknown vmalloc field '%s' (areas, bytes, pages)", field);
        return 0;
    case HK_BUDDY: {
        unsigned node;
        char zone[BUDDY_ZONE_MAX];
        q->keylen = strlen(name);
        if (q->keylen >= SERIES_KEY_MAX ||
            !series_key_buddy_split(name, q->keylen, &node, zone, sizeof(zone)))
            return fail(err, n, -EINVAL, "buddy: '%s' is not NODE:ZONE (e.g. 0:Normal)", name);
        memcpy(q->key, name, q->keylen);
        if (strcmp(field, "free_pages") == 0)
            q->field = F_FREE_PAGES;
        else if (parse_order(field, "order", &q->order))
            q->field = F_ORDER;
        else if (parse_order(field, "unusable", &q->order))
            q->field = F_UNUSABLE;
        else
            return fail(err, n, -EINVAL,
                        "unknown buddy field '%s' (free_pages, order<N>, unusable<N> with N < %d)",
                        field, BUDDY_MAX_ORDERS);
        return 0;
    }
    case HK_MEMINFO: {
        int mk = meminfo_key_parse(field);
        if (mk < 0)
            return fail(err, n, -EINVAL,
                        "unknown meminfo field '%s' (MemTotal, MemFree, MemAvailable, Slab, "
                        "SReclaimable, SUnreclaim, KReclaimable, VmallocUsed, VmallocTotal, "
                        "Percpu)",
                        field);
        q->field = series_meminfo_field((enum meminfo_key)mk);
        return 0;
    }
    }
    return -EINVAL;
}

/* Is the entity (kind, key) part of the series?  The walk's filter: asked once per appearance. */
static bool entity_wanted(int kind, const char *key, size_t keylen, void *arg)
{
    const struct hq *q = arg;

    switch (q->kind) {
    case HK_SLAB:
        return kind == SK_SLAB && keylen == q->keylen && memcmp(key, q->key, q->keylen) == 0;
    case HK_KMALLOC: {
        char name[SLAB_NAME_MAX];
        enum kmalloc_variant v;
        uint64_t size;
        if (kind != SK_SLAB || keylen >= SLAB_NAME_MAX)
            return false;
        memcpy(name, key, keylen);
        name[keylen] = '\0';
        return kmalloc_classify(name, &size, &v) && size == q->size &&
               (q->total || v == q->variant);
    }
    case HK_VMALLOC: {
        const char *caller, *module;
        enum vmalloc_type t;
        return kind == SK_VMALLOC && series_key_vmalloc_split(key, keylen, &caller, &module, &t) &&
               (q->total || strcmp(caller, q->key) == 0);
    }
    case HK_BUDDY:
        return kind == SK_BUDDY && keylen == q->keylen && memcmp(key, q->key, q->keylen) == 0;
    case HK_MEMINFO:
        return kind == SK_MEMINFO;
    }
    return false;
}

/* The slots of the series in st: every entity the filtered walk lists. */
static int rematch(struct hq *q, const struct ring_state *st)
{
    struct ring_entity e;
    size_t it = 0;

    q->nslots = 0;
    while (ring_state_next(st, &it, &e)) {
        if (q->nslots == q->cap) {
            size_t nc = q->cap ? q->cap * 2 : 8;
            unsigned *ns = realloc(q->slots, nc * sizeof(*ns));
            if (!ns)
                return -ENOMEM;
            q->slots = ns;
            q->cap = nc;
        }
        q->slots[q->nslots++] = e.slot;
    }
    if (q->nslots)
        q->found = true;
    q->gen = st->gen;
    q->have_gen = true;
    return 0;
}

/* The series' value in st; false when it has none there. */
static bool evaluate(const struct hq *q, const struct ring_state *st, double *out)
{
    uint64_t sum = 0;
    bool any = false;

    for (size_t i = 0; i < q->nslots; i++) {
        struct ring_entity e;
        const uint64_t *v;
        uint64_t x;

        if (!ring_state_slot(st, q->slots[i], &e))
            continue;
        v = e.val;
        switch (q->kind) {
        case HK_SLAB:
        case HK_KMALLOC:
            if (q->field == F_BYTES_TOTAL)
                x = mul_sat(mul_sat(v[SF_SLAB_NUM_SLABS], v[SF_SLAB_PAGESPERSLAB]), st->page_size);
            else if (q->field == F_BYTES_ACTIVE)
                x = mul_sat(v[SF_SLAB_ACTIVE_OBJS], v[SF_SLAB_OBJSIZE]);
            else
                x = v[q->field];
            break;
        case HK_VMALLOC:
            x = v[q->field];
            break;
        case HK_BUDDY: {
            unsigned orders = ring_entity_orders(&e);
            if (q->field == F_FREE_PAGES) {
                x = series_buddy_free_pages(v, orders);
            } else if (q->order >= orders) {
                continue;
            } else if (q->field == F_ORDER) {
                x = v[q->order];
            } else {
                *out = series_buddy_unusable(v, orders, q->order) / 1000.0;
                return true;
            }
            break;
        }
        case HK_MEMINFO:
            if (!series_fm_has(e.fm, q->field))
                continue;
            x = v[q->field];
            break;
        default:
            continue;
        }
        sum = add_sat(sum, x);
        any = true;
    }
    *out = (double)sum;
    return any;
}

static int query_cb(const struct ring_state *st, void *arg)
{
    struct history_cursor *hc = arg;
    struct hq *q = &hc->q;
    struct history_points *hp = hc->out;
    double v;

    if (st->seq <= hc->after_seq)
        return 0;
    /*
     * A later part goes on at the record right after the last one sent.  Any
     * other record means records were lost in between (the ring overwrote
     * them while the client was slow to read, or the clock went back across
     * the part's end): a reply with a hole must not look whole.
     */
    if (hc->after_seq && !hc->went_on) {
        if (st->seq != ring_seq_next(hc->after_seq)) {
            q->err = -ESTALE;
            return 1;
        }
        hc->went_on = true;
    }
    /* the walk's own end (to_wall_ns), taken here so that a part knows it saw every record */
    if (st->wall_ns > hc->to) {
        hc->cut = true;
        return 1;
    }
    hc->last_seq = st->seq;
    hc->last_wall = st->wall_ns;
    if (st->wall_ns < hc->min_wall)
        hc->min_wall = st->wall_ns;
    if (!q->have_gen || q->gen != st->gen) {
        q->err = rematch(q, st);
        if (q->err < 0)
            return 1;
    }
    if (!((st->src_mask >> hkind_src[q->kind]) & 1u) || !evaluate(q, st, &v))
        return 0;
    if (hp->n == hp->cap) {
        size_t nc = hp->cap ? hp->cap * 2 : 256;
        struct history_point *np = realloc(hp->v, nc * sizeof(*np));
        if (!np) {
            q->err = -ENOMEM;
            return 1;
        }
        hp->v = np;
        hp->cap = nc;
    }
    hp->v[hp->n].wall_ns = st->wall_ns;
    hp->v[hp->n].value = v;
    hp->n++;
    if (hp->n < hc->max)
        return 0;
    hc->full = true;
    return 1;
}

enum ring_tier history_pick_tier(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns)
{
    uint64_t win = window_s > UINT64_MAX / 1000000000u ? UINT64_MAX : window_s * 1000000000u;
    uint64_t from = now_wall_ns > win ? now_wall_ns - win : 0;
    struct ring_tier_info f, c;

    ring_reader_tier_info(rd, RING_FULL, &f);
    ring_reader_tier_info(rd, RING_COARSE, &c);
    if (!f.records)
        return c.records ? RING_COARSE : RING_FULL;
    if (f.oldest_wall_ns <= from || f.dropped == 0 || !c.records)
        return RING_FULL;
    /* the coarse tier reaches furthest back even when it does not cover the whole window */
    return RING_COARSE;
}

int history_open(struct history_cursor **out, struct ring_reader *rd, const char *kind,
                 const char *name, const char *field, uint64_t window_s, uint64_t now_wall_ns,
                 char *err, size_t err_len)
{
    uint64_t win = window_s > UINT64_MAX / 1000000000u ? UINT64_MAX : window_s * 1000000000u;
    struct history_cursor *hc;
    int r;

    *out = NULL;
    if (err && err_len)
        err[0] = '\0';
    if (!kind || !name || !field)
        return fail(err, err_len, -EINVAL, "history needs a kind, a name and a field");
    hc = calloc(1, sizeof(*hc));
    if (!hc)
        return fail(err, err_len, -ENOMEM, "out of memory");
    r = parse_query(&hc->q, kind, name, field, err, err_len);
    if (r < 0) {
        free(hc);
        return r;
    }
    hc->is_fraction = hc->q.kind == HK_BUDDY && hc->q.field == F_UNUSABLE;
    hc->tier = history_pick_tier(rd, window_s, now_wall_ns);
    snprintf(hc->name, sizeof(hc->name), "%s", name);
    hc->window_s = window_s;
    hc->from = now_wall_ns > win ? now_wall_ns - win : 0;
    hc->to = now_wall_ns;
    *out = hc;
    return 0;
}

int history_next(struct history_cursor *hc, struct ring_reader *rd, size_t max,
                 struct history_points *out, char *err, size_t err_len)
{
    struct hq *q = &hc->q;
    bool first = !hc->started;
    int r;

    if (err && err_len)
        err[0] = '\0';
    out->n = 0;
    out->is_fraction = hc->is_fraction;
    out->tier = hc->tier;
    out->reuse_before = 0;
    hc->started = true;
    hc->out = out;
    hc->max = max ? max : 1;
    hc->full = hc->cut = hc->went_on = false;
    hc->min_wall = UINT64_MAX;
    q->err = 0;
    r = ring_reader_walk_only(rd, hc->tier, hc->from, 0, entity_wanted, q, query_cb, hc);
    if (q->err < 0 || r < 0) {
        out->n = 0;
        r = q->err < 0 ? q->err : r;
        if (r == -ESTALE)
            return fail(err, err_len, r, "records of this reply were overwritten before they "
                        "were sent (read faster, or ask for less)");
        return fail(err, err_len, r, "cannot read the ring: %s", strerror(-r));
    }
    if (hc->full) {
        /* the next part: the records after the last one delivered */
        hc->from = hc->last_wall;
        hc->after_seq = hc->last_seq;
        return 1;
    }
    if (!q->found) {
        switch (q->kind) {
        case HK_SLAB:
            return fail(err, err_len, -ENOENT, "no slab cache '%s' in the last %llus", hc->name,
                        (unsigned long long)hc->window_s);
        case HK_KMALLOC:
            return fail(err, err_len, -ENOENT, "no kmalloc class '%s' in the last %llus", hc->name,
                        (unsigned long long)hc->window_s);
        case HK_VMALLOC:
            return fail(err, err_len, -ENOENT, "no vmalloc caller '%s' in the last %llus", hc->name,
                        (unsigned long long)hc->window_s);
        case HK_BUDDY:
            return fail(err, err_len, -ENOENT, "no buddy zone '%s' in the last %llus", hc->name,
                        (unsigned long long)hc->window_s);
        case HK_MEMINFO:
            return fail(err, err_len, -ENOENT, "no meminfo in the last %llus",
                        (unsigned long long)hc->window_s);
        }
    }
    /* every record up to the newest was seen: later windows that start before min_wall agree */
    if (first && !hc->cut)
        out->reuse_before = hc->min_wall;
    return 0;
}

void history_close(struct history_cursor *hc)
{
    if (!hc)
        return;
    free(hc->q.slots);
    free(hc);
}

int history_query(struct ring_reader *rd, const char *kind, const char *name, const char *field,
                  uint64_t window_s, uint64_t now_wall_ns, struct history_points *out, char *err,
                  size_t err_len)
{
    struct history_cursor *hc;
    int r;

    out->n = 0;
    out->is_fraction = false;
    out->tier = RING_FULL;
    out->reuse_before = 0;
    r = history_open(&hc, rd, kind, name, field, window_s, now_wall_ns, err, err_len);
    if (r < 0)
        return r;
    r = history_next(hc, rd, SIZE_MAX, out, err, err_len);
    history_close(hc);
    return r;
}
