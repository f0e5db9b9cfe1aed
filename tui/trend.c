#include "trend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bucket_of(uint64_t window_ns)
{
    uint64_t b = window_ns / TREND_CAP;

    return b ? b : 1;
}

void trend_init(struct trend *h, uint64_t window_ns)
{
    static uint64_t ids;

    memset(h, 0, sizeof(*h));
    h->id = ++ids;
    h->window_ns = window_ns;
    h->bucket_ns = bucket_of(window_ns);
}

void trend_free(struct trend *h)
{
    while (h->names) {
        struct trend_names *next = h->names->next;

        free(h->names);
        h->names = next;
    }
    for (size_t i = 0; i < h->nseries; i++)
        free(h->runs[i].col);
    free(h->vals);
    free(h->rank);
    free(h->series);
    free(h->runs);
    free(h->slots);
    memset(h, 0, sizeof(*h));
}

void trend_clear(struct trend *h, uint64_t window_ns)
{
    h->head = h->n = 0;
    h->full = false;
    h->window_ns = window_ns;
    h->bucket_ns = bucket_of(window_ns);
    h->target = TT_POINT;
}

static void slot_reset(struct trend *h, size_t slot)
{
    /* TREND_NONE is all ones (no series yet: no values, vals NULL) */
    if (h->nseries)
        memset(h->vals + slot * h->cap, 0xff, h->nseries * sizeof(*h->vals));
}

bool trend_point(struct trend *h, uint64_t wall_ns, bool replace)
{
    uint64_t b = wall_ns / h->bucket_ns;
    size_t slot;

    h->target = TT_POINT;
    /* The oldest point is where growth counts from: never merge a later record into it. */
    if (h->n > 1 && b == h->newest_bucket) {
        if (!replace)
            return false;
        slot = (h->head + h->n - 1) % TREND_CAP;
    } else {
        /* Drop what has left the window, then the oldest point if the ring is full. */
        while (h->n && trend_time(h, 0) + h->window_ns < wall_ns) {
            h->head = (h->head + 1) % TREND_CAP;
            h->n--;
            h->full = true;
        }
        if (h->n == TREND_CAP) {
            h->head = (h->head + 1) % TREND_CAP;
            h->n--;
            h->full = true;
        }
        slot = (h->head + h->n) % TREND_CAP;
        h->n++;
        h->newest_bucket = b;
    }
    h->t[slot] = wall_ns;
    /* A replaced point gets a new number too: its values are new. */
    h->pseq[slot] = ++h->seq;
    h->cur = slot;
    slot_reset(h, slot);
    return true;
}

void trend_set_full(struct trend *h)
{
    h->full = true;
}

void trend_begin_base(struct trend *h, uint64_t wall_ns)
{
    h->target = TT_BASE;
    h->has_base = true;
    h->base_wall = wall_ns;
    for (size_t i = 0; i < h->nseries; i++)
        h->series[i].base = TREND_NONE;
}

void trend_begin_mark(struct trend *h, uint64_t wall_ns)
{
    h->target = TT_MARK;
    h->has_mark = true;
    h->mark_wall = wall_ns;
    for (size_t i = 0; i < h->nseries; i++)
        h->series[i].mark = TREND_NONE;
}

void trend_end_target(struct trend *h)
{
    h->target = TT_POINT;
}

static uint64_t hash_name(int kind, const char *s)
{
    uint64_t x = 1469598103934665603ull ^ (uint64_t)kind; /* FNV-1a */

    while (*s) {
        x ^= (unsigned char)*s++;
        x *= 1099511628211ull;
    }
    return x;
}

long trend_find(const struct trend *h, int kind, const char *name)
{
    uint64_t x = hash_name(kind, name);
    size_t mask;

    if (!h->nslots)
        return -1;
    mask = h->nslots - 1;
    for (size_t i = x & mask; h->slots[i].series; i = (i + 1) & mask) {
        const struct trend_series *s = &h->series[h->slots[i].series - 1];

        if (h->slots[i].hash == (uint32_t)(x >> 32) && s->kind == kind && strcmp(s->name, name) == 0)
            return (long)(h->slots[i].series - 1);
    }
    return -1;
}

/* Put series s (its hash x) in the first free slot of its probe sequence. */
static void index_put(struct trend_slot *slots, size_t nslots, uint64_t x, size_t s)
{
    size_t i = x & (nslots - 1);

    while (slots[i].series)
        i = (i + 1) & (nslots - 1);
    slots[i].series = (uint32_t)(s + 1);
    slots[i].hash = (uint32_t)(x >> 32);
}

/* Keep the index at most half full so that probes stay short. */
static int index_grow(struct trend *h)
{
    size_t nslots = h->nslots ? h->nslots * 2 : 256;
    struct trend_slot *slots = calloc(nslots, sizeof(*slots));

    if (!slots)
        return -ENOMEM;
    for (size_t s = 0; s < h->nseries; s++)
        index_put(slots, nslots, hash_name(h->series[s].kind, h->series[s].name), s);
    free(h->slots);
    h->slots = slots;
    h->nslots = nslots;
    return 0;
}

/* A copy of name among the others (never moved: series keep pointers), or NULL. */
static char *name_keep(struct trend *h, const char *name)
{
    size_t len = strlen(name) + 1;
    struct trend_names *b = h->names;

    if (!b || b->cap - b->used < len) {
        size_t cap = len > 4096 ? len : 4096;

        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = h->names;
        b->used = 0;
        b->cap = cap;
        h->names = b;
    }
    memcpy(b->data + b->used, name, len);
    b->used += len;
    return b->data + b->used - len;
}

static long series_new(struct trend *h, int kind, const char *name)
{
    struct trend_series *s;

    if ((h->nseries + 1) * 2 > h->nslots && index_grow(h) < 0)
        return -ENOMEM;
    if (h->nseries == h->cap) {
        /* by half (a matrix of 720 points a series): a machine has ~600 series */
        size_t cap = h->cap ? (h->cap + h->cap / 2 + 63) / 64 * 64 : 256;
        struct trend_run *nr = realloc(h->runs, cap * sizeof(*nr));
        struct trend_series *ns;
        uint64_t *nv;

        /* runs and series first: when a later one fails, they are merely longer than cap */
        if (!nr)
            return -ENOMEM;
        h->runs = nr;
        ns = realloc(h->series, cap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        h->series = ns;
        nv = malloc(TREND_CAP * cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        /* every value absent, the series' own columns of every point copied */
        memset(nv, 0xff, TREND_CAP * cap * sizeof(*nv));
        for (size_t k = 0; h->vals && k < TREND_CAP; k++)
            memcpy(nv + k * cap, h->vals + k * h->cap, h->nseries * sizeof(*nv));
        free(h->vals);
        h->vals = nv;
        h->cap = cap;
    }
    s = &h->series[h->nseries];
    memset(s, 0, sizeof(*s));
    /* its column is absent at every point: nothing past nseries is ever written */
    s->name = name_keep(h, name);
    if (!s->name)
        return -ENOMEM;
    s->kind = (uint8_t)kind;
    /*
     * Nothing known of its run: its first sparkline reads back from the
     * newest point, and the points before its birth read as absent (0).
     */
    memset(&h->runs[h->nseries], 0, sizeof(h->runs[h->nseries]));
    /* Born after the base and the mark: it held nothing then. */
    s->base = s->mark = TREND_NONE;
    index_put(h->slots, h->nslots, hash_name(kind, name), h->nseries);
    return (long)h->nseries++;
}

void trend_put(struct trend *h, long idx, uint64_t value, bool add)
{
    uint64_t *v;

    if (idx < 0 || (size_t)idx >= h->nseries)
        return;
    switch (h->target) {
    case TT_BASE:
        v = &h->series[idx].base;
        break;
    case TT_MARK:
        v = &h->series[idx].mark;
        break;
    case TT_POINT:
    default:
        if (!h->n)
            return;
        v = &h->vals[h->cur * h->cap + (size_t)idx];
        break;
    }
    if (value == TREND_NONE)
        value--; /* a real value never means "absent" */
    if (add && *v != TREND_NONE)
        *v = *v + value < *v || *v + value == TREND_NONE ? TREND_NONE - 1 : *v + value;
    else
        *v = value;
}

static long put(struct trend *h, int kind, const char *name, uint64_t value, bool add)
{
    long idx = trend_find(h, kind, name);

    if (idx < 0) {
        idx = series_new(h, kind, name);
        if (idx < 0)
            return idx;
    }
    trend_put(h, idx, value, add);
    return idx;
}

long trend_set(struct trend *h, int kind, const char *name, uint64_t value)
{
    return put(h, kind, name, value, false);
}

long trend_add(struct trend *h, int kind, const char *name, uint64_t value)
{
    return put(h, kind, name, value, true);
}

static int64_t diff(uint64_t to, uint64_t from)
{
    if (to >= from) {
        uint64_t d = to - from;
        return d > INT64_MAX ? INT64_MAX : (int64_t)d;
    }
    uint64_t d = from - to;
    return d > INT64_MAX ? -INT64_MAX : -(int64_t)d;
}

static int cmp_names(const void *x, const void *y, void *arg)
{
    const struct trend_series *s = arg, *a = &s[*(const uint32_t *)x], *b = &s[*(const uint32_t *)y];

    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp(a->name, b->name);
}

int trend_rank_names(struct trend *h)
{
    uint32_t *by_name, *rank;

    if (h->nranked == h->nseries)
        return 0;
    by_name = malloc(h->nseries * sizeof(*by_name));
    rank = realloc(h->rank, h->nseries * sizeof(*rank));
    if (!by_name || !rank) {
        free(by_name);
        if (rank)
            h->rank = rank;
        h->nranked = 0;
        return -ENOMEM;
    }
    h->rank = rank;
    for (size_t i = 0; i < h->nseries; i++)
        by_name[i] = (uint32_t)i;
    qsort_r(by_name, h->nseries, sizeof(*by_name), cmp_names, h->series);
    for (size_t i = 0; i < h->nseries; i++)
        rank[by_name[i]] = (uint32_t)i;
    h->nranked = h->nseries;
    free(by_name);
    return 0;
}

int trend_name_cmp(const struct trend *h, long a, long b, const char *name_a, const char *name_b)
{
    if (a >= 0 && b >= 0 && (size_t)a < h->nranked && (size_t)b < h->nranked)
        return h->rank[a] < h->rank[b] ? -1 : h->rank[a] > h->rank[b];
    return strcmp(name_a, name_b);
}

bool trend_range(const struct trend *h, const struct trend_series *s, uint64_t *lo, uint64_t *hi)
{
    /* of every point but the newest, which trend_set() may still change */
    static uint64_t c_id, c_seq, c_lo, c_hi;
    static size_t c_n, c_head;
    static long c_s = -1;
    long idx;
    uint64_t v;

    if (!s || !h->n)
        return false;
    idx = s - h->series;
    if (c_id != h->id || c_s != idx || c_seq != h->seq || c_n != h->n || c_head != h->head) {
        c_lo = UINT64_MAX;
        c_hi = 0;
        for (size_t i = 0; i + 1 < h->n; i++) {
            v = trend_val(h, s, i);
            c_lo = v < c_lo ? v : c_lo;
            c_hi = v > c_hi ? v : c_hi;
        }
        c_id = h->id;
        c_s = idx;
        c_seq = h->seq;
        c_n = h->n;
        c_head = h->head;
    }
    v = trend_val(h, s, h->n - 1);
    *lo = v < c_lo ? v : c_lo;
    *hi = v > c_hi ? v : c_hi;
    return true;
}

bool trend_growth(const struct trend *h, const struct trend_series *s, int64_t *out)
{
    if (!s || h->n < 2)
        return false;
    *out = diff(trend_val(h, s, h->n - 1), trend_val(h, s, 0));
    return true;
}

bool trend_rate(const struct trend *h, const struct trend_series *s, double *out)
{
    int64_t g;
    uint64_t t0, t1;

    if (!trend_growth(h, s, &g))
        return false;
    t0 = trend_time(h, 0);
    t1 = trend_time(h, h->n - 1);
    if (t1 <= t0)
        return false;
    *out = (double)g / ((double)(t1 - t0) / 60e9);
    return true;
}

static bool since(const struct trend *h, const struct trend_series *s, uint64_t ref, bool has,
                  int64_t *out)
{
    if (!s || !has || !h->n)
        return false;
    *out = diff(trend_val(h, s, h->n - 1), ref == TREND_NONE ? 0 : ref);
    return true;
}

bool trend_since_base(const struct trend *h, const struct trend_series *s, int64_t *out)
{
    return since(h, s, s ? s->base : 0, h->has_base, out);
}

bool trend_since_mark(const struct trend *h, const struct trend_series *s, int64_t *out)
{
    return since(h, s, s ? s->mark : 0, h->has_mark, out);
}

/*
 * Which point each of `width` columns shows (trend_sparkline's rule), shared
 * by every series of a trend: a frame computes it once per width, not once
 * per row.
 */
struct spark_cols {
    long pick[TREND_SPARK_MAX];     /* the point's slot in the series' values; -1: blank */
    uint64_t seq[TREND_SPARK_MAX];  /* its sequence number (0: blank) */
    /*
     * The column of the previous picks (numbered gen - 1) that showed the
     * same point, or -1.  Always -1 for the newest point, whose values may
     * still be set, and for the point that was the newest then: a frame may
     * have drawn it before the rest of its record was set.
     */
    int16_t from[TREND_SPARK_MAX];
    uint64_t newest_seq;            /* the newest point's number (0: no point) */
    uint64_t gen;                   /* numbers every computation; never 0 */
};

/* Aligned columns (a full window): each is this long, rounded up so that width of them hold it. */
static uint64_t spark_col_ns(const struct trend *h, size_t width)
{
    return h->window_ns / width + (h->window_ns % width != 0);
}

/*
 * How many columns, from the right, show a point; the ones to their left are
 * blank.  Every column from the one holding the oldest point on shows one.
 */
static size_t spark_shown(const struct trend *h, size_t width)
{
    uint64_t d, span;

    if (h->n <= width || !h->full)
        return h->n < width ? h->n : width;
    d = spark_col_ns(h, width);
    span = trend_time(h, h->n - 1) / d - trend_time(h, 0) / d;
    return span < width ? (size_t)span + 1 : width;
}

bool trend_spark_filled(const struct trend *h)
{
    uint64_t gap;

    if (h->n < TREND_SPARK_MAX)
        return false;
    if (!h->full)
        return true;
    /*
     * Aligned columns: every one of w is filled when the oldest point is at
     * most (w - 1) columns of d = ceil(window / w) before the newest, which
     * holds for every w up to TREND_SPARK_MAX when the window begins less
     * than window / TREND_SPARK_MAX - TREND_SPARK_MAX ns before the oldest
     * point.
     */
    gap = trend_time(h, 0) - (trend_time(h, h->n - 1) - h->window_ns);
    return gap + TREND_SPARK_MAX <= h->window_ns / TREND_SPARK_MAX;
}

/*
 * Keyed by h->seq too: every new or replaced point changes it, which also
 * covers a trend_clear() refilled to the same count, head and ends but other
 * points in between.
 */
static const struct spark_cols *sparkline_columns(const struct trend *h, size_t width)
{
    static struct spark_cols c;
    static uint64_t last_seq[TREND_SPARK_MAX];
    static uint64_t c_id;
    static size_t c_width, c_n, c_head;
    static uint64_t c_t0, c_t1, c_seq;
    static bool c_full;
    uint64_t t0 = h->n ? trend_time(h, 0) : 0, t1 = h->n ? trend_time(h, h->n - 1) : 0;
    long newest = h->n ? (long)((h->head + h->n - 1) % TREND_CAP) : -1;
    size_t last_width = c_width, j = 0;
    uint64_t last_newest = c.newest_seq;

    if (c_id == h->id && c_width == width && c_n == h->n && c_head == h->head && c_t0 == t0 &&
        c_t1 == t1 && c_seq == h->seq && c_full == h->full)
        return &c;
    /* another trend's points are numbered apart: nothing to carry over */
    if (c_id != h->id)
        last_width = 0;
    memcpy(last_seq, c.seq, last_width * sizeof(*last_seq));
    if (h->n <= width) {
        for (size_t k = 0; k < width; k++)
            c.pick[k] = k + h->n >= width ? (long)((h->head + k + h->n - width) % TREND_CAP) : -1;
    } else if (h->full) {
        /* columns of d ns ending at multiples of d, the last one holding t1 */
        uint64_t d = spark_col_ns(h, width), id = t1 / d;
        size_t p = 0;

        for (size_t k = 0; k < width; k++) {
            uint64_t back = width - 1 - k, end = (id - back + 1) * d - 1;

            if (back > id || end < t0) {
                c.pick[k] = -1;
                continue;
            }
            while (p + 1 < h->n && trend_time(h, p + 1) <= end)
                p++;
            c.pick[k] = (long)((h->head + p) % TREND_CAP);
        }
    } else {
        size_t p = 0;

        for (size_t k = 0; k < width; k++) {
            /* The column ends at t0 + (k + 1) / width of the span; the last one at t1. */
            uint64_t end = k + 1 == width ? t1
                                          : t0 + (uint64_t)((double)(t1 - t0) * (double)(k + 1) /
                                                            (double)width);
            while (p + 1 < h->n && trend_time(h, p + 1) <= end)
                p++;
            c.pick[k] = (long)((h->head + p) % TREND_CAP);
        }
    }
    /* Both rows of numbers rise from left to right (blanks aside): one walk matches them. */
    for (size_t k = 0; k < width; k++) {
        c.seq[k] = c.pick[k] >= 0 ? h->pseq[c.pick[k]] : 0;
        c.from[k] = -1;
        if (!c.seq[k] || c.pick[k] == newest)
            continue;
        while (j < last_width && last_seq[j] < c.seq[k])
            j++;
        if (j < last_width && last_seq[j] == c.seq[k] && c.seq[k] != last_newest)
            c.from[k] = (int16_t)j;
    }
    c.newest_seq = newest >= 0 ? h->pseq[newest] : 0;
    c.gen++;
    c_id = h->id;
    c_width = width;
    c_n = h->n;
    c_head = h->head;
    c_t0 = t0;
    c_t1 = t1;
    c_seq = h->seq;
    c_full = h->full;
    return &c;
}

/*
 * Bring series s's run up to every point but the newest, reading only the
 * points checked since the last call, newest first, until one differs.
 *
 * The newest point is never trusted: trend_set() may still change it after
 * a frame was drawn (a row drawn while a record is half extracted, a live
 * sample filled after the first draw).  Leaving it out costs one read per
 * row a frame, the newest value, which the last column reads anyway; the
 * other way, forgetting the run on every trend_put() to the newest point,
 * would put a store on the path that fills every series once a second and
 * walks whole windows on reload, for a frame that draws only ~60 rows.
 * Every other point keeps its values until it leaves the window (its slot
 * is reused with a new number), so [start, seen] stays true: points dropped
 * from the front or forgotten by trend_clear() just no longer match, and the
 * points after a clear all have numbers above seen.
 */
static void run_update(const struct trend *h, const struct trend_series *s, struct trend_run *r)
{
    size_t last, i;
    uint64_t y, start;

    if (h->n < 2)
        return;
    last = h->n - 2;
    if (h->pseq[(h->head + last) % TREND_CAP] <= r->seen)
        return;
    y = trend_val(h, s, last);
    for (i = last;; i--) {
        uint64_t q = h->pseq[(h->head + i) % TREND_CAP];
        bool known = q >= r->start && q <= r->seen;
        uint64_t v = known ? r->val : trend_val(h, s, i);

        if (v != y) {
            start = h->pseq[(h->head + i + 1) % TREND_CAP];
            break;
        }
        if (known) {
            /* [r->start, q] is the old run, of the same value: the run goes on from its start. */
            start = r->start;
            break;
        }
        if (i == 0) {
            start = q;
            break;
        }
    }
    r->val = y;
    r->start = start;
    r->seen = h->pseq[(h->head + last) % TREND_CAP];
}

bool trend_flat(const struct trend *h, const struct trend_series *s, uint64_t *val)
{
    struct trend_run *r;
    uint64_t v;

    if (!s || !h->n)
        return false;
    v = trend_val(h, s, h->n - 1);
    if (h->n > 1) {
        r = &h->runs[s - h->series];
        run_update(h, s, r);
        /* run_update leaves the run at every point but the newest: from the oldest on, and v? */
        if (r->start > h->pseq[h->head] || r->val != v)
            return false;
    }
    *val = v;
    return true;
}

/*
 * n blank columns then m copies of glyph g (glen bytes), as far as they fit in
 * buf (size sz) from pos: what the column loop of trend_sparkline() writes for
 * them, in a few memcpy calls.  Returns the new pos.
 */
static size_t spark_fill(char *buf, size_t sz, size_t pos, size_t n, const char *g, size_t glen,
                         size_t m)
{
    size_t fit, start;

    fit = sz > pos + 1 ? sz - pos - 1 : 0;
    n = n < fit ? n : fit;
    memset(buf + pos, ' ', n);
    pos += n;
    fit = sz > pos + 1 ? (sz - pos - 1) / glen : 0;
    m = m < fit ? m : fit;
    if (m == 0)
        return pos;
    start = pos;
    memcpy(buf + pos, g, glen);
    /* the glyphs so far copied after themselves */
    for (size_t done = glen, all = m * glen; done < all; done *= 2)
        memcpy(buf + start + done, buf + start, done < all - done ? done : all - done);
    return start + m * glen;
}

/* A blank column's level. */
#define SPARK_BLANK 0xff

/* The levels of the columns of r->col (at r->col + r->col_cap, in the same block). */
static uint8_t *spark_levels(const struct trend_run *r)
{
    return (uint8_t *)(r->col + r->col_cap);
}

char *trend_sparkline(const struct trend *h, const struct trend_series *s, size_t width,
                      const char *const levels[8], char *buf, size_t n)
{
    const struct spark_cols *cols;
    struct trend_run *r;
    uint64_t col[TREND_SPARK_MAX];
    int kept[TREND_SPARK_MAX];      /* the column of the series' last draw with the same point, or -1 */
    uint8_t lv[TREND_SPARK_MAX];
    uint32_t glyph[8] = { 0 };
    uint64_t lo = UINT64_MAX, hi = 0, prev = 0;
    size_t pos = 0, glen[8];
    double span;
    int level = 0;
    bool same_scale;
    enum { KEEP_NONE, KEEP_SAME, KEEP_FROM } keep = KEEP_NONE;

    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (!s || width == 0)
        return buf;
    if (width > TREND_SPARK_MAX)
        width = TREND_SPARK_MAX;
    /*
     * One value in the whole window (an idle kernel: most rows): every column shows it at the
     * lowest level (the scale spans at least 1/64 of it).  No column to pick.
     */
    if (trend_flat(h, s, &prev)) {
        size_t shown = spark_shown(h, width);

        buf[spark_fill(buf, n, 0, width - shown, levels[0], strlen(levels[0]), shown)] = '\0';
        return buf;
    }
    cols = sparkline_columns(h, width);
    r = &h->runs[s - h->series]; /* up to date: trend_flat ran run_update */
    /* The columns drawn from the same points last frame (or this one) keep their values. */
    if (r->col_gen && r->col_gen == cols->gen)
        keep = KEEP_SAME;
    else if (r->col_gen && r->col_gen + 1 == cols->gen)
        keep = KEEP_FROM;
    /* Columns in the run show its value: only the others (the newest, what changed) are read. */
    for (size_t c = 0; c < width; c++) {
        long p = cols->pick[c];
        uint64_t v;

        kept[c] = -1;
        if (p < 0)
            continue;
        if (keep == KEEP_FROM && cols->from[c] >= 0)
            kept[c] = cols->from[c];
        else if (keep == KEEP_SAME && cols->seq[c] != cols->newest_seq)
            kept[c] = (int)c;
        if (kept[c] >= 0)
            v = r->col[kept[c]];
        else if (cols->seq[c] >= r->start && cols->seq[c] <= r->seen)
            v = r->val;
        else
            v = trend_slot_val(h, s, (size_t)p);
        col[c] = v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    span = (double)(hi - lo);
    if (span < (double)hi / 64.0)
        span = (double)hi / 64.0;
    /* A kept column keeps its level too while the scale is the one it was drawn with. */
    same_scale = keep != KEEP_NONE && r->lo == lo && r->hi == hi;
    /* Neighbouring columns mostly show the same value: its level is computed once. */
    prev = lo;
    for (size_t c = 0; c < width; c++) {
        uint64_t v = col[c];

        if (cols->pick[c] < 0) {
            lv[c] = SPARK_BLANK;
        } else if (same_scale && kept[c] >= 0) {
            lv[c] = spark_levels(r)[kept[c]];
        } else {
            if (v != prev) {
                level = span > 0 ? (int)((double)(v - lo) / span * 7.0 + 0.5) : 0;
                level = level < 0 ? 0 : level > 7 ? 7 : level;
                prev = v;
            }
            lv[c] = (uint8_t)level;
        }
    }
    /* kept for the next frame; without the memory it merely reads them all again */
    if (r->col_cap < width) {
        uint64_t *nc = realloc(r->col, width * (sizeof(*nc) + 1));

        if (nc) {
            r->col = nc;
            r->col_cap = width;
        }
    }
    if (r->col_cap >= width) {
        memcpy(r->col, col, width * sizeof(*col));
        memcpy(spark_levels(r), lv, width);
        r->col_gen = cols->gen;
        r->lo = lo;
        r->hi = hi;
    } else {
        r->col_gen = 0;
    }
    for (int l = 0; l < 8; l++) {
        glen[l] = strlen(levels[l]);
        memcpy(&glyph[l], levels[l], glen[l] < 4 ? glen[l] : 4);
    }
    for (size_t c = 0; c < width; c++) {
        int l = lv[c];

        if (l == SPARK_BLANK) {
            if (pos + 1 >= n)
                break;
            buf[pos++] = ' ';
        } else if (glen[l] <= 4 && pos + 4 < n) {
            /* one store a column (the bytes past the glyph are written over next) */
            memcpy(buf + pos, &glyph[l], 4);
            pos += glen[l];
        } else {
            if (pos + glen[l] >= n)
                break;
            memcpy(buf + pos, levels[l], glen[l]);
            pos += glen[l];
        }
    }
    buf[pos] = '\0';
    return buf;
}
