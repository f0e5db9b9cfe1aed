/*
 * trend: the series kmemtop draws (sparklines, growth, the graph), over the
 * selected window ending at the displayed record.
 *
 * One trend holds every series (slab caches, kmalloc classes, meminfo keys,
 * vmalloc callers, buddy zones) on one shared timeline of at most TREND_CAP
 * points.  The window is cut into TREND_CAP buckets and a bucket keeps one
 * point, so a day at one sample a second costs the same memory as a minute:
 * this is a view derived from the history (the ring, or the session), never a
 * copy of it.
 *
 * A point is begun with trend_point(), then every series present in that
 * record is set with trend_set() (or summed with trend_add(), for vmalloc
 * rows that share a caller).  A series not set at a point is absent there
 * and counts as 0: a cache that does not exist holds no memory.
 *
 * Two more values per series, kept across reloads of the window: the base
 * (the first record of the session, or of a recording) and the mark (the
 * record shown when `m` was pressed).  They are filled the same way, with the
 * target switched by trend_begin_base() / trend_begin_mark().
 */
#ifndef KMW_TUI_TREND_H
#define KMW_TUI_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TREND_CAP 720
/* A sparkline is at most this many columns (wider cells are blank past it). */
#define TREND_SPARK_MAX 512
#define TREND_NONE UINT64_MAX

/* Namespaces of series names: the same name may exist once per kind. */
enum trend_kind {
    TK_SLAB,            /* cache name: bytes_total */
    TK_KMALLOC,         /* class label ("1k"): bytes_total of all variants */
    TK_MEMINFO,         /* key name ("Slab"): bytes */
    TK_VMALLOC,         /* caller: bytes; "total" and "unpurged" are kept as TK_VMSUM */
    TK_VMSUM,           /* "total", "unpurged", and one per type ("ioremap"): bytes */
    TK_VMPAGES,         /* caller: real pages in bytes */
    TK_BUDDY,           /* "<node>:<zone>": free pages in bytes */
    TK_BUDDY_BLOCKS,    /* "<node>:<zone>/<order>": free blocks of that order */
    TK_BUDDY_UNUSABLE,  /* "<node>:<zone>/<order>": unusable index in thousandths */
    TK_NKINDS
};

enum trend_target { TT_POINT, TT_BASE, TT_MARK };

struct trend_series {
    char *name;
    uint8_t kind;
    uint64_t base;      /* TREND_NONE: absent at the base record (counts as 0 when there is one) */
    uint64_t mark;
};

/*
 * What trend_sparkline() last learnt of a series' newest values, so that a
 * frame need not read the ~100 columns of every row: on an idle kernel most
 * series have not changed for minutes, and those reads are cold, spread over
 * the 6 KB of each series.  Every point of the window whose sequence number
 * (trend.pseq) is in [start, seen] holds `val` (absent counts as 0); seen is
 * never the newest point, whose values may still be set.  All 0: nothing
 * known (numbers start at 1).  Kept in trend.runs, parallel to the series.
 */
struct trend_run {
    uint64_t val;
    uint64_t start;     /* sequence number of the oldest point of the run */
    uint64_t seen;      /* sequence number of the newest point checked */
    /*
     * The column values of the series' last sparkline that read any (a flat
     * series reads none), drawn with the columns numbered col_gen (0: none,
     * see trend.c sparkline_columns).  The next frame's columns that show
     * the same point as one of these (but the newest, which may still be
     * set) take its value, and its level while the scale is the same, from
     * here: a sparkline that moves one column a frame reads and scales its
     * new column only (9 bytes a column here, against a cache line of the
     * value matrix for each column read there).
     */
    uint64_t col_gen;
    uint64_t *col;      /* col_cap values, then col_cap levels (bytes), one block */
    size_t col_cap;
    uint64_t lo, hi;    /* the scale they were drawn with: same scale, same levels */
};

/*
 * A slot of the index: series index + 1 (0: empty) and the upper half of its
 * name's hash, so that a lookup reads only the name it finds: kmemtop looks
 * up every row's series every second, and the names are cold by then.
 */
struct trend_slot {
    uint32_t series;
    uint32_t hash;
};

/* Names side by side in blocks (looked up in the order they were made, they stream in). */
struct trend_names {
    struct trend_names *next;
    size_t used, cap;
    char data[];
};

struct trend {
    uint64_t id;            /* unique to this trend_init: what the shared caches of trend.c key on */
    uint64_t t[TREND_CAP];  /* wall time of each point (ring: oldest at head) */
    /*
     * Sequence number of each point, slot-aligned with t: a new or replaced
     * point takes ++seq.  seq only grows, across trend_clear() too, so that
     * a number cached before a clear never names a point after it.
     */
    uint64_t pseq[TREND_CAP];
    uint64_t seq;
    size_t head, n;
    uint64_t window_ns;
    uint64_t bucket_ns;
    uint64_t newest_bucket;
    /*
     * A point has left the window since the last trend_clear(), or the
     * history goes back past it (trend_set_full): the points span the whole
     * window, and will while they are followed.  Sparklines then cut the
     * window into columns of fixed wall time (see trend_sparkline).
     */
    bool full;
    enum trend_target target;
    size_t cur;             /* slot being filled (TT_POINT) */
    bool has_base, has_mark;
    uint64_t base_wall, mark_wall;
    struct trend_series *series;
    /*
     * The values, point by point: vals[slot * cap + i] is series i's at
     * point slot (TREND_NONE: absent).  A record sets every series at one
     * point, once a second: a row of 5 KB written in order, where a column
     * per series would take a cache line per series; a frame reads a few
     * points of ~60 series (the newest, the oldest).
     */
    uint64_t *vals;
    /*
     * Parallel to series (cap of them): a cache that trend_sparkline() keeps
     * through a const trend, hence a pointer and not a member of the series.
     */
    struct trend_run *runs;
    size_t nseries, cap;
    /*
     * rank[i]: series i's place among all names in (kind, strcmp) order, for
     * the first nranked series (trend_rank_names); a pointer, like runs.
     */
    uint32_t *rank;
    size_t nranked;
    struct trend_slot *slots; /* open-addressing index by kind and name */
    size_t nslots;
    struct trend_names *names; /* where the series' names are kept, one after another */
};

void trend_init(struct trend *h, uint64_t window_ns);
void trend_free(struct trend *h);

/* Forget every point (a new window or a jump in time); series, base and mark stay. */
void trend_clear(struct trend *h, uint64_t window_ns);

/*
 * Begin a point for a record at wall_ns (records arrive oldest first).  Points
 * older than the window before wall_ns are dropped.  A record in the same
 * bucket as the newest point replaces it when `replace`, else it is skipped:
 * returns false, and nothing should be set for it.  The oldest point is
 * never replaced: growth over the window counts from it.
 */
bool trend_point(struct trend *h, uint64_t wall_ns, bool replace);

/*
 * The points begun since the last trend_clear() start where the window does:
 * the history goes back further (a window reloaded from a ring that holds
 * more).  It is full (trend.full) as if points had left it.
 */
void trend_set_full(struct trend *h);

/* Switch trend_set() to fill the base or the mark instead of a point (every series starts absent). */
void trend_begin_base(struct trend *h, uint64_t wall_ns);
void trend_begin_mark(struct trend *h, uint64_t wall_ns);
/* Back to points. */
void trend_end_target(struct trend *h);

/* Set (trend_set) or add to (trend_add) a series at the current target.  Series index or -ENOMEM. */
long trend_set(struct trend *h, int kind, const char *name, uint64_t value);
long trend_add(struct trend *h, int kind, const char *name, uint64_t value);
/* The same by the index those returned: no name to build and look up (indices stay valid). */
void trend_put(struct trend *h, long idx, uint64_t value, bool add);

/* Series index, or -1. */
long trend_find(const struct trend *h, int kind, const char *name);

/*
 * Rank the series' names (kind, then strcmp), when series were added since
 * the last call, so that trend_name_cmp need not read them.  0 or -ENOMEM
 * (trend_name_cmp then reads the names).
 */
int trend_rank_names(struct trend *h);
/*
 * strcmp(name_a, name_b) of the names of series a and b (of one kind; -1:
 * none), from their ranks when both have one: the names are not read.
 */
int trend_name_cmp(const struct trend *h, long a, long b, const char *name_a, const char *name_b);

static inline const struct trend_series *trend_series(const struct trend *h, long i)
{
    return i >= 0 && (size_t)i < h->nseries ? &h->series[i] : NULL;
}

/* Points, 0 = oldest. */
static inline uint64_t trend_time(const struct trend *h, size_t i)
{
    return h->t[(h->head + i) % TREND_CAP];
}
/* Value at slot (not point: see trend.t); absent counts as 0. */
static inline uint64_t trend_slot_val(const struct trend *h, const struct trend_series *s,
                                      size_t slot)
{
    uint64_t v = h->vals[slot * h->cap + (size_t)(s - h->series)];
    return v == TREND_NONE ? 0 : v;
}
/* Value at point i; absent counts as 0. */
static inline uint64_t trend_val(const struct trend *h, const struct trend_series *s, size_t i)
{
    return trend_slot_val(h, s, (h->head + i) % TREND_CAP);
}

/*
 * The lowest and highest value of series s over the window (absent counts
 * as 0); false with no point.  The graph asks it twice a frame: the points
 * but the newest are read once while they are the same.
 */
bool trend_range(const struct trend *h, const struct trend_series *s, uint64_t *lo, uint64_t *hi);

/* Change from the oldest point of the window to the newest; false with fewer than two points. */
bool trend_growth(const struct trend *h, const struct trend_series *s, int64_t *out);
/* The same per minute of the time between the two points. */
bool trend_rate(const struct trend *h, const struct trend_series *s, double *out);
/* Change from the base (since start) or the mark to the newest point; false when there is none. */
bool trend_since_base(const struct trend *h, const struct trend_series *s, int64_t *out);
bool trend_since_mark(const struct trend *h, const struct trend_series *s, int64_t *out);

/*
 * Does series s hold one value at every point of the window (absent counts as
 * 0)?  Then that value in *val.  False with no point.  Cheap on a series that
 * has not changed: it reads the points added since it or trend_sparkline()
 * last looked (the run above), so a frame may ask it of every row to know
 * which rows show what they showed.
 */
bool trend_flat(const struct trend *h, const struct trend_series *s, uint64_t *val);

/*
 * Does every sparkline (of at most TREND_SPARK_MAX columns) show a point in
 * every column, and more than one point in some?  Then a flat series draws
 * the lowest glyph in every column whatever the width, frame after frame.
 */
bool trend_spark_filled(const struct trend *h);

/*
 * A sparkline `width` columns wide, oldest on the left.  With no more points
 * than columns each point is one column, right-aligned (a young session
 * fills from the right).  With more, each column shows the last point at or
 * before its end (blank when there is none): while the window fills, the
 * columns are equal shares of the time from the oldest point to the newest;
 * once it is full (trend.full), they are a fixed width'th of the window,
 * aligned to multiples of it in wall time, the newest column holding the
 * newest point.  Aligned columns keep their points from one frame to the
 * next, so a sparkline scrolls by a column at a time instead of every column
 * picking a new point every second, and what it reads is only what changed.
 * levels[0..7] are glyphs from lowest to highest.  The scale runs from the
 * minimum to the maximum shown but never spans less than 1/64 of the
 * maximum, so that the 0.1 % wobble of an idle kernel stays flat.  Returns
 * buf (always NUL-terminated).
 */
char *trend_sparkline(const struct trend *h, const struct trend_series *s, size_t width,
                      const char *const levels[8], char *buf, size_t n);

#endif
