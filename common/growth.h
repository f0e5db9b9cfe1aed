/*
 * growth: how fast and how steadily every series grows over a window of the
 * history ring, and the leak-suspect rule.  Used by the daemon (the `growth`
 * command, the suspect log lines, the Prometheus families), by kmemctl
 * (growth, check; also on recordings) and by kmemtop.  docs/GROWTH.md is the
 * long form of the rule and its reasoning.
 *
 * Series, named like history.h:
 *   kind     name                 fields                       unit
 *   slab     cache ("dentry")     bytes_total, num_objs        bytes, objects
 *   kmalloc  "cg-1024", "total-1024"  bytes_total, num_objs    bytes, objects
 *   vmalloc  caller, or "total"   bytes, pages                 bytes, pages
 *   buddy    "0:Normal"           free_pages, order<N>         pages, blocks
 *   meminfo  "-"                  every key present            bytes
 *
 * Per series and window the fit gives:
 *   per_hour    least-squares slope, units per hour
 *   net         last - first value in the window
 *   steadiness  0..1: R^2 of the fit x (1 - fall/rise) x (1 - largest rise/rise),
 *               where rise and fall are the upward and downward moves between the
 *               values at the ends of GROWTH_BUCKETS equal slices of the window.
 *               A steady ramp scores near 1; a sawtooth (fall ~ rise), a spike
 *               (net ~ 0) and a single step (one slice holds the whole rise) near 0.
 *
 * A series is a leak suspect when all of these hold:
 *   - it is a consumption series measured in bytes: slab bytes_total, kmalloc
 *     bytes_total, vmalloc bytes (callers and total), meminfo Slab,
 *     SReclaimable, SUnreclaim, KReclaimable, VmallocUsed, Percpu; never free
 *     memory, free pages, object or page counts (they double the bytes series);
 *   - the window is at least rule->min_window_s;
 *   - the series has at least GROWTH_MIN_POINTS points spanning at least
 *     GROWTH_COVERAGE of the window (a series seen for a moment is not judged);
 *   - net >= rule->min_bytes, and steadiness >= rule->min_steadiness.
 *
 * Library code: never logs; returns 0 or a negative errno.
 */
#ifndef KMW_GROWTH_H
#define KMW_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define GROWTH_BUCKETS 20
#define GROWTH_MIN_POINTS 5
#define GROWTH_COVERAGE 0.75
#define GROWTH_DEFAULT_STEADINESS 0.5
#define GROWTH_NAME_MAX 128
#define GROWTH_FIELD_MAX 24

/* The standard windows (seconds) that kmemtop and the docs speak of. */
#define GROWTH_NWINDOWS 4
extern const uint64_t growth_windows[GROWTH_NWINDOWS]; /* 60, 600, 3600, 86400 */

/* ---- one series, in memory ------------------------------------------------------------- */

/*
 * Accumulator of one series over one window.  Times are seconds since the
 * window's start (keep them small: the sums are of t^2), values in the
 * series' unit; points must come oldest first.  The sums are those of
 * least squares on (t, value - first value), so a large constant level costs
 * no precision.
 */
struct growth_acc {
    double window_s;
    uint64_t n;
    double st, stt, sv, stv, svv;
    double first, last, min, max;
    double first_t, last_t;
    /* moves between the values at the ends of the window's slices */
    int bucket;      /* slice of the last change */
    double anchor;   /* value at the end of the last closed slice */
    double rise, fall, max_rise;
    uint64_t up_steps, down_steps; /* point-to-point changes */
};

/* The outcome for one series. */
struct growth_fit {
    uint64_t points;
    double span_s;      /* last point's time - first point's */
    double per_hour;    /* least-squares slope; 0 with fewer than 2 distinct times */
    double net;         /* last - first */
    double first, last, min, max;
    double r2;          /* of the fit; 0 when flat or falling */
    double rise, fall;  /* total moves up and down between slice ends (rise - fall = net) */
    double max_rise;    /* the largest single slice-to-slice rise */
    double steadiness;  /* 0..1 (see the top of this file) */
    uint64_t up_steps, down_steps;
};

void growth_acc_init(struct growth_acc *a, double window_s);
/* One point. */
void growth_acc_add(struct growth_acc *a, double t, double v);
/*
 * count points, all of value v, at times t_first .. t_last whose sum is
 * sum_t and sum of squares sum_tt: lets a caller add an unchanged stretch of
 * samples in O(1) from running sums of its sample times.
 */
void growth_acc_add_run(struct growth_acc *a, double v, uint64_t count, double sum_t,
                        double sum_tt, double t_first, double t_last);
void growth_acc_fit(const struct growth_acc *a, struct growth_fit *out);

/* ---- the rule -------------------------------------------------------------------------- */

struct growth_rule {
    uint64_t min_window_s;  /* windows shorter than this never flag; 0 = any window */
    uint64_t min_bytes;     /* least net growth */
    double min_steadiness;  /* 0 = GROWTH_DEFAULT_STEADINESS */
};

/* kind "slab"/"kmalloc"/"vmalloc"/"meminfo" with a field as above; eligible at all? */
bool growth_eligible(const char *kind, const char *field);
/* The rule applied to one fit of an eligible series over window_s. */
bool growth_is_suspect(const struct growth_fit *f, double window_s, const struct growth_rule *r);

/* ---- every series of a ring ------------------------------------------------------------ */

struct growth_series {
    const char *kind;   /* "slab", "kmalloc", "vmalloc", "buddy", "meminfo" (static) */
    char name[GROWTH_NAME_MAX];
    char field[GROWTH_FIELD_MAX];
    const char *unit;   /* "bytes", "objects", "pages", "blocks" (static) */
    bool eligible;      /* may be a suspect (growth_eligible) */
    bool suspect;
    struct growth_fit fit;
};

struct growth_report {
    uint64_t window_s;
    uint64_t from_wall_ns, to_wall_ns;
    enum ring_tier tier;
    uint64_t records;   /* records walked */
    size_t n;
    struct growth_series *v; /* largest per_hour first */
    size_t nsuspects;
};

/*
 * Fit every series over the window_s seconds up to now_wall_ns (inclusive)
 * with one walk of the tier history_pick_tier chooses (except that a window
 * over an hour reads the per-minute tier once the full tier holds more than
 * an hour of it), judging each with rule (NULL: min_window 0, 1 MiB, default
 * steadiness).  Cost: the walk plus
 * O(records x entities) comparisons; unchanged stretches are added in O(1).
 * out must be zeroed or from an earlier call (its series are replaced).
 * 0, -ENOMEM, or a ring read error (err says which).  A window without
 * records gives 0 and no series.
 */
int growth_eval(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns,
                const struct growth_rule *rule, struct growth_report *out, char *err,
                size_t err_len);
/*
 * growth_eval for a window judged again and again: the next judgement of
 * the same window is expected to end at next_now_wall_ns or later, so the
 * walk keeps a checkpoint where that judgement's window will begin
 * (ring_reader_walk_keep), and that judgement decodes its window alone
 * instead of starting at the keyframe before it.  The report is
 * growth_eval's exactly.  next_now_wall_ns 0 (or not after now_wall_ns):
 * growth_eval.  An estimate later than the next judgement's end makes that
 * judgement start at its keyframe as before; give the earliest it can be.
 */
int growth_eval_next(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns,
                     uint64_t next_now_wall_ns, const struct growth_rule *rule,
                     struct growth_report *out, char *err, size_t err_len);
void growth_report_free(struct growth_report *rep);
/*
 * The reply shape of the `growth` command and `kmemctl --json growth`:
 *   {"ok":true,"window":S,"tier":"full"|"coarse","from":T,"to":T,"records":N,
 *    "min_size":BYTES,"suspects":N,"growers":[{"kind","name","field","unit",
 *    "per_hour","net","steadiness","suspect","points"}...]}
 * growers: the series with per_hour > 0, largest first; top > 0 keeps that
 * many; suspects_only keeps the suspects alone.  NULL when out of memory.
 */
struct json_t *growth_report_json(const struct growth_report *rep, uint64_t min_size, size_t top,
                                  bool suspects_only);

/* A series of a report, or NULL. */
const struct growth_series *growth_report_find(const struct growth_report *rep, const char *kind,
                                               const char *name, const char *field);

#endif
