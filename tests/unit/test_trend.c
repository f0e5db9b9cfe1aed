/*
 * trend: sparklines drawn with each series' cached trailing run are byte for
 * byte those of the plain algorithm that reads every column (kept below as
 * the reference, as it was before the run), over random timelines: flat
 * stretches, changes, absent values, series born late, replaced and skipped
 * points, sliding windows, clears, and values set after a draw of the same
 * point.
 */
#include "testutil.h"

#include "../../tui/trend.h"

static const char *const lv_utf8[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const lv_ascii[8] = { "_", ".", ":", "-", "=", "+", "*", "#" };

/* ---- the reference: trend_sparkline before the run, with no cache at all ---- */

static void ref_columns(const struct trend *h, size_t width, long *pick)
{
    uint64_t t0 = h->n ? trend_time(h, 0) : 0, t1 = h->n ? trend_time(h, h->n - 1) : 0;

    if (h->n <= width) {
        for (size_t c = 0; c < width; c++)
            pick[c] = c + h->n >= width ? (long)((h->head + c + h->n - width) % TREND_CAP) : -1;
    } else if (h->full) {
        /* a window's width'th (rounded up) a column, aligned in wall time; the last holds t1 */
        uint64_t d = (h->window_ns + width - 1) / width;

        for (size_t c = 0; c < width; c++) {
            uint64_t start = (t1 / d) * d;

            pick[c] = -1;
            /* the column starts `width - 1 - c` columns before the newest one */
            if (start / d < width - 1 - c)
                continue;
            start -= (width - 1 - c) * d;
            for (size_t i = 0; i < h->n; i++)
                if (trend_time(h, i) < start + d)
                    pick[c] = (long)((h->head + i) % TREND_CAP);
        }
    } else {
        size_t p = 0;

        for (size_t c = 0; c < width; c++) {
            uint64_t end = c + 1 == width ? t1
                                          : t0 + (uint64_t)((double)(t1 - t0) * (double)(c + 1) /
                                                            (double)width);
            while (p + 1 < h->n && trend_time(h, p + 1) <= end)
                p++;
            pick[c] = (long)((h->head + p) % TREND_CAP);
        }
    }
}

static char *ref_sparkline(const struct trend *h, const struct trend_series *s, size_t width,
                           const char *const levels[8], char *buf, size_t n)
{
    long pick[512];
    uint64_t lo = UINT64_MAX, hi = 0, prev = 0;
    size_t pos = 0, glen[8];
    double span;
    int level = 0;

    if (n == 0)
        return buf;
    buf[0] = '\0';
    if (!s || width == 0)
        return buf;
    if (width > 512)
        width = 512;
    ref_columns(h, width, pick);
    for (size_t c = 0; c < width; c++) {
        if (pick[c] >= 0) {
            uint64_t v = trend_slot_val(h, s, (size_t)pick[c]);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    span = (double)(hi - lo);
    if (span < (double)hi / 64.0)
        span = (double)hi / 64.0;
    for (int l = 0; l < 8; l++)
        glen[l] = strlen(levels[l]);
    prev = lo;
    for (size_t c = 0; c < width; c++) {
        uint64_t v;

        if (pick[c] < 0) {
            if (pos + 1 >= n)
                break;
            buf[pos++] = ' ';
            continue;
        }
        v = trend_slot_val(h, s, (size_t)pick[c]);
        if (v != prev) {
            level = span > 0 ? (int)((double)(v - lo) / span * 7.0 + 0.5) : 0;
            level = level < 0 ? 0 : level > 7 ? 7 : level;
            prev = v;
        }
        if (pos + glen[level] >= n)
            break;
        for (size_t i = 0; i < glen[level]; i++)
            buf[pos++] = levels[level][i];
    }
    buf[pos] = '\0';
    return buf;
}

/* trend_flat without the run: every point of the window read. */
static bool ref_flat(const struct trend *h, const struct trend_series *s, uint64_t *val)
{
    if (!s || !h->n)
        return false;
    for (size_t i = 1; i < h->n; i++)
        if (trend_val(h, s, i) != trend_val(h, s, 0))
            return false;
    *val = trend_val(h, s, 0);
    return true;
}

/* ---- deterministic random numbers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13; /* xorshift64 */
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* In [0, n). */
static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* True one time in n. */
static bool one_in(uint64_t n)
{
    return rnd_below(n) == 0;
}

/* ---- comparing ---- */

static size_t ndraws, nflat;

/* One sparkline of series idx both ways; buffers big and small, both glyph sets. */
static void check_one(const struct trend *h, long idx, size_t width)
{
    static char got[4096], want[4096];
    const char *const *lv = one_in(2) ? lv_utf8 : lv_ascii;
    size_t n = sizeof(got);
    const struct trend_series *s = trend_series(h, idx);
    uint64_t fv = 1, rv = 2;
    bool flat = trend_flat(h, s, &fv), rflat = ref_flat(h, s, &rv);

    if (flat != rflat || (flat && fv != rv))
        fail_msg("series %ld points %zu: trend_flat %d (%llu), every point read %d (%llu)", idx,
                 h->n, flat, (unsigned long long)fv, rflat, (unsigned long long)rv);
    nflat += flat;
    if (s) {
        uint64_t lo = 1, hi = 0, rlo = UINT64_MAX, rhi = 0;
        bool any = trend_range(h, s, &lo, &hi);

        for (size_t i = 0; i < h->n; i++) {
            rlo = trend_val(h, s, i) < rlo ? trend_val(h, s, i) : rlo;
            rhi = trend_val(h, s, i) > rhi ? trend_val(h, s, i) : rhi;
        }
        if (any != (h->n > 0) || (any && (lo != rlo || hi != rhi)))
            fail_msg("series %ld points %zu: trend_range %d %llu..%llu, every point %llu..%llu", idx,
                     h->n, any, (unsigned long long)lo, (unsigned long long)hi,
                     (unsigned long long)rlo, (unsigned long long)rhi);
    }

    if (one_in(8))
        n = (size_t)rnd_below(width * 3 + 2);
    memset(got, 'x', sizeof(got));
    memset(want, 'y', sizeof(want));
    trend_sparkline(h, s, width, lv, got, n);
    ref_sparkline(h, s, width, lv, want, n);
    ndraws++;
    if (n == 0)
        return;
    if (strcmp(got, want) != 0)
        fail_msg("series %ld width %zu n %zu points %zu head %zu:\n got  \"%s\"\n want \"%s\"", idx,
                 width, n, h->n, h->head, got, want);
}

/*
 * A few rows at one width, as a frame draws them (same width: the shared
 * picks are reused).  Mostly the same rows at the same width as the frame
 * before, as a screen left alone draws them, so that the columns kept from
 * the last frame are used; now and then other rows, or another width.
 */
static void check_frame(const struct trend *h)
{
    static size_t width = 95;
    static long first;

    if (!h->nseries)
        return;
    if (one_in(8)) {
        switch (rnd_below(4)) {
        case 0:
            width = 1 + (size_t)rnd_below(8);
            break;
        case 1:
            width = 95;
            break;
        default:
            width = 1 + (size_t)rnd_below(300);
            break;
        }
    }
    if (one_in(8) || (size_t)first >= h->nseries)
        first = (long)rnd_below(h->nseries);
    for (long k = first; k < first + 4 && (size_t)k < h->nseries; k++)
        check_one(h, k, width);
    check_one(h, (long)rnd_below(h->nseries), width);
    /* and again right after: nothing changed, everything comes from the run and the kept columns */
    check_one(h, first, width);
}

/* ---- random timelines ---- */

#define NSER 48

struct model {
    char name[NSER][24];
    uint64_t val[NSER];
    unsigned change_in;     /* 1 in change_in points changes the value (0: never) */
    unsigned absent_in;     /* 1 in absent_in points leaves it absent (0: never) */
    unsigned born[NSER];    /* step at which the series first gets a value */
};

static uint64_t pick_value(uint64_t old)
{
    static const uint64_t some[] = { 0, 1, 2, 63, 64, 4096, 4097, 1ull << 40, (1ull << 40) + 1,
                                     UINT64_MAX - 1, TREND_NONE };

    switch (rnd_below(4)) {
    case 0:
        return some[rnd_below(sizeof(some) / sizeof(some[0]))];
    case 1:
        return old + 1 + rnd_below(3);
    case 2:
        return old ? old - 1 : 0;
    default:
        return rnd_below(1000000);
    }
}

/* Set (or add, or leave absent) series i at the current point. */
static void fill_one(struct trend *h, struct model *m, int i, int step)
{
    long idx;

    if (step < (int)m->born[i])
        return;
    if (m->change_in && one_in(m->change_in))
        m->val[i] = pick_value(m->val[i]);
    if (m->absent_in && one_in(m->absent_in))
        return;
    idx = trend_find(h, TK_SLAB, m->name[i]);
    if (idx >= 0 && one_in(2)) {
        trend_put(h, idx, m->val[i], false);
    } else if (one_in(10) && m->val[i] > 1 && m->val[i] != TREND_NONE) {
        /* summed like vmalloc callers */
        assert_true(trend_add(h, TK_SLAB, m->name[i], m->val[i] / 2) >= 0);
        assert_true(trend_add(h, TK_SLAB, m->name[i], m->val[i] - m->val[i] / 2) >= 0);
    } else {
        assert_true(trend_set(h, TK_SLAB, m->name[i], m->val[i]) >= 0);
    }
}

static uint64_t pick_window(void)
{
    static const uint64_t w[] = { 60, 100, 600, 3600 };

    return w[rnd_below(4)] * 1000000000ull;
}

static void run_scenario(uint64_t seed, int steps)
{
    struct trend h;
    struct model m;
    uint64_t wall = 1700000000ull * 1000000000ull;

    rng_state = seed;
    memset(&m, 0, sizeof(m));
    m.change_in = (unsigned[]){ 0, 3, 50, 500 }[rnd_below(4)];
    m.absent_in = (unsigned[]){ 0, 5, 100, 1000 }[rnd_below(4)];
    for (int i = 0; i < NSER; i++) {
        snprintf(m.name[i], sizeof(m.name[i]), "cache-%d", i);
        m.val[i] = pick_value(0);
        m.born[i] = one_in(3) ? (unsigned)rnd_below((uint64_t)steps) : 0;
    }
    trend_init(&h, pick_window());
    for (int step = 0; step < steps; step++) {
        uint64_t b = h.bucket_ns;

        /* mostly one point a bucket; same buckets, exact buckets and jumps now and then */
        switch (rnd_below(20)) {
        case 0:
            wall += rnd_below(b / 2 + 1);
            break;
        case 1:
            wall += b;
            break;
        case 2:
            wall += b * (1 + rnd_below(200));
            break;
        case 3:
            if (one_in(10))
                wall += h.window_ns + b;
            else
                wall += b + rnd_below(b);
            break;
        default:
            wall += b + b / 5 + rnd_below(b / 10 + 1);
            break;
        }
        if (one_in(400)) {
            /* a reload: a new window (or the same) from scratch; the runs must not survive it */
            trend_clear(&h, one_in(2) ? pick_window() : h.window_ns);
            check_frame(&h);
        }
        if (one_in(300)) {
            trend_begin_base(&h, wall);
            for (int i = 0; i < NSER; i += 3)
                fill_one(&h, &m, i, step);
            trend_end_target(&h);
        }
        if (!trend_point(&h, wall, !one_in(3)))
            continue;
        if (one_in(4)) {
            /* a frame drawn halfway through the record, then the rest set, some values again */
            int half = (int)rnd_below(NSER);

            for (int i = 0; i < half; i++)
                fill_one(&h, &m, i, step);
            check_frame(&h);
            for (int i = 0; i < NSER; i++)
                if (i >= half || one_in(4))
                    fill_one(&h, &m, i, step);
        } else {
            for (int i = 0; i < NSER; i++)
                fill_one(&h, &m, i, step);
        }
        if (one_in(2))
            check_frame(&h);
    }
    check_frame(&h);
    trend_free(&h);
}

static void test_sparkline_random(void **state)
{
    (void)state;
    ndraws = nflat = 0;
    for (uint64_t seed = 1; seed <= 24; seed++)
        run_scenario(seed * 0x9e3779b97f4a7c15ull, 1500);
    /* the scenarios must really draw, flat series too: counts, not timings */
    assert_true(ndraws > 20000);
    assert_true(nflat > 1000 && nflat < ndraws / 2);
}

/* ---- the cases the run is for, spelled out ---- */

static void expect_same(const struct trend *h, long idx, size_t width)
{
    char got[2048], want[2048];

    trend_sparkline(h, trend_series(h, idx), width, lv_utf8, got, sizeof(got));
    ref_sparkline(h, trend_series(h, idx), width, lv_utf8, want, sizeof(want));
    assert_string_equal(got, want);
}

/* Flat for minutes, then a change set on the newest point after a first draw of it. */
static void test_sparkline_set_after_draw(void **state)
{
    struct trend h;
    uint64_t wall = 1000ull * 1000000000ull;
    long a, late = -1;

    (void)state;
    trend_init(&h, 600ull * 1000000000ull);
    for (int k = 0; k < 900; k++, wall += 1000000000ull) {
        assert_true(trend_point(&h, wall, true));
        a = trend_set(&h, TK_SLAB, "flat", 4096);
        expect_same(&h, a, 95);
        /* the same point, a new value: the newest must be read again */
        trend_put(&h, a, k % 97 == 0 ? 8192 : 4096, false);
        expect_same(&h, a, 95);
        expect_same(&h, a, 300);
        /* born late: its earlier points are absent (0) */
        if (k == 450)
            late = trend_set(&h, TK_SLAB, "late", 0);
        if (late >= 0) {
            trend_put(&h, late, k > 700 ? 5 : 0, false);
            expect_same(&h, late, 95);
            expect_same(&h, late, 7);
        }
    }
    /* replaced newest point with the old value, then another one */
    assert_true(trend_point(&h, wall - 1000000000ull + 1, true));
    trend_put(&h, a, 4096, false);
    expect_same(&h, a, 95);
    /* cleared and refilled with the very same times: the old run must not be trusted */
    trend_clear(&h, 600ull * 1000000000ull);
    expect_same(&h, a, 95);
    for (int k = 0; k < 10; k++) {
        assert_true(trend_point(&h, 1000ull * 1000000000ull + (uint64_t)k * 1000000000ull, true));
        trend_put(&h, a, k == 3 ? 1 : 4096, false);
        expect_same(&h, a, 95);
        expect_same(&h, a, 5);
    }
    trend_free(&h);
}

/*
 * Cleared and refilled to the same count, head and ends but other times in
 * between: the columns pick other points, so the shared picks must be
 * computed again (they are keyed by the point counter too).
 */
static void test_sparkline_refill_other_times(void **state)
{
    static const uint64_t t1[10] = { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 };
    static const uint64_t t2[10] = { 0, 19, 20, 39, 40, 59, 60, 79, 80, 90 };
    struct trend h;
    long a = -1;

    (void)state;
    trend_init(&h, 7200); /* a bucket of 10 ns */
    for (int pass = 0; pass < 2; pass++) {
        trend_clear(&h, 7200);
        for (int k = 0; k < 10; k++) {
            assert_true(trend_point(&h, (pass ? t2 : t1)[k], true));
            a = trend_set(&h, TK_SLAB, "a", (uint64_t)k * 1000);
        }
        expect_same(&h, a, 5);
    }
    trend_free(&h);
}

/* Blank columns of series a's sparkline at width w (the reference's). */
static size_t blanks_at(const struct trend *h, long a, size_t w)
{
    char buf[2048];
    size_t nb = 0;

    ref_sparkline(h, trend_series(h, a), w, lv_ascii, buf, sizeof(buf));
    for (const char *p = buf; *p; p++)
        nb += *p == ' ';
    return nb;
}

/*
 * trend_spark_filled: when it says so, no sparkline of any width has a blank
 * column (panel rows of flat series are then copied whole, sparkline and
 * all); a window whose first point comes late leaves one at some width.
 */
static void test_spark_filled(void **state)
{
    const uint64_t s = 1000000000ull, t = 1700000000ull * s;
    struct trend h;
    long a = -1;
    size_t nb = 0;

    (void)state;
    /* 15 minutes at one point a second through a 10-minute window: full, 600 points */
    trend_init(&h, 600 * s);
    for (uint64_t k = 0; k < 900; k++) {
        assert_true(trend_point(&h, t + k * s, true));
        a = trend_set(&h, TK_SLAB, "a", 4096);
    }
    assert_true(h.full);
    assert_true(trend_spark_filled(&h));
    for (size_t w = 1; w <= TREND_SPARK_MAX; w++)
        if (blanks_at(&h, a, w))
            fail_msg("filled, width %zu: a blank column", w);
    /* the same, but nothing in the window's first 5 seconds */
    trend_clear(&h, 600 * s);
    for (uint64_t k = 0; k < 900; k++) {
        if (k >= 299 && k < 305)
            continue;
        assert_true(trend_point(&h, t + k * s, true));
        trend_set(&h, TK_SLAB, "a", 4096);
    }
    assert_true(h.full && h.n >= TREND_SPARK_MAX);
    assert_false(trend_spark_filled(&h));
    for (size_t w = 1; w <= TREND_SPARK_MAX; w++)
        nb += blanks_at(&h, a, w);
    assert_true(nb > 0);
    /* not full (an hour's window of 5-second buckets, 50 minutes in): the columns share the span */
    trend_clear(&h, 3600 * s);
    for (uint64_t k = 0; k < 600; k++) {
        assert_true(trend_point(&h, t + k * 5 * s, true));
        trend_set(&h, TK_SLAB, "a", 4096);
    }
    assert_false(h.full);
    assert_true(trend_spark_filled(&h));
    for (size_t w = 1; w <= TREND_SPARK_MAX; w++)
        assert_int_equal(blanks_at(&h, a, w), 0);
    trend_free(&h);
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* trend_name_cmp by ranks is strcmp of the names, for every pair of one kind, as series are added. */
static void test_name_ranks(void **state)
{
    struct trend h;
    char name[32];
    long idx[300];
    int kind[300];
    size_t n = 0;

    (void)state;
    rng_state = 0x5eed;
    trend_init(&h, 60ull * 1000000000ull);
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 100; k++, n++) {
            /* short names with shared prefixes, some the same in two kinds */
            snprintf(name, sizeof(name), "%.*s-%llu", (int)rnd_below(6), "kmalloc",
                     (unsigned long long)rnd_below(40));
            kind[n] = one_in(2) ? TK_SLAB : TK_VMALLOC;
            idx[n] = trend_find(&h, kind[n], name);
            if (idx[n] < 0)
                idx[n] = trend_set(&h, kind[n], name, 1);
            assert_true(idx[n] >= 0);
        }
        /* the last round's series are not ranked yet: compared by name */
        if (round < 2)
            assert_int_equal(trend_rank_names(&h), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                const char *a = h.series[idx[i]].name, *b = h.series[idx[j]].name;

                if (kind[i] != kind[j])
                    continue;
                if (sign(trend_name_cmp(&h, idx[i], idx[j], a, b)) != sign(strcmp(a, b)))
                    fail_msg("round %d: %s vs %s", round, a, b);
            }
    }
    assert_true(h.nranked > 0 && h.nranked < h.nseries);
    trend_free(&h);
}

/*
 * Series born one after another while points come and go: every value of
 * every series at every point is the one set, absent (0) before its birth,
 * through the moves of the value matrix as it grows.
 */
static void test_many_series(void **state)
{
    const uint64_t sec = 1000000000ull;
    struct trend h;
    char name[32];
    long idx[1000];
    size_t born = 0;

    (void)state;
    trend_init(&h, 300 * sec); /* 300 s: points every second, the oldest leave after 300 */
    for (uint64_t t = 1; t <= 700; t++) {
        assert_true(trend_point(&h, t * sec, true));
        for (size_t k = 0; k < 2 && born < 1000; k++, born++) {
            snprintf(name, sizeof(name), "s%zu", born);
            idx[born] = trend_set(&h, TK_SLAB, name, 0);
            assert_true(idx[born] == (long)born);
        }
        for (size_t i = 0; i < born; i++)
            if ((i + t) % 7)
                trend_put(&h, idx[i], t * 10000 + i, false);
    }
    assert_true(h.nseries == 1000 && h.cap >= 1000);
    for (size_t p = 0; p < h.n; p++) {
        uint64_t t = trend_time(&h, p) / sec;

        for (size_t i = 0; i < born; i++) {
            /* born at point (i / 2) + 1; absent every 7th point */
            uint64_t want = t < i / 2 + 1 || (i + t) % 7 == 0 ? 0 : t * 10000 + i;

            if (trend_val(&h, trend_series(&h, idx[i]), p) != want)
                fail_msg("series %zu at %llu s: %llu, want %llu", i, (unsigned long long)t,
                         (unsigned long long)trend_val(&h, trend_series(&h, idx[i]), p),
                         (unsigned long long)want);
        }
    }
    trend_free(&h);
}

static void test_sparkline_degenerate(void **state)
{
    struct trend h;
    char buf[16] = "zz";
    long a;

    (void)state;
    trend_init(&h, 60ull * 1000000000ull);
    a = trend_set(&h, TK_SLAB, "a", 1); /* no point yet: nothing is set */
    assert_string_equal(trend_sparkline(&h, trend_series(&h, a), 10, lv_ascii, buf, sizeof(buf)),
                        "          ");
    assert_string_equal(trend_sparkline(&h, NULL, 10, lv_ascii, buf, sizeof(buf)), "");
    assert_string_equal(trend_sparkline(&h, trend_series(&h, a), 0, lv_ascii, buf, sizeof(buf)), "");
    buf[0] = 'q';
    trend_sparkline(&h, trend_series(&h, a), 10, lv_ascii, buf, 0);
    assert_int_equal(buf[0], 'q');
    assert_true(trend_point(&h, 1, true));
    trend_put(&h, a, 5, false);
    expect_same(&h, a, 1);
    expect_same(&h, a, 3);
    trend_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparkline_random),
        cmocka_unit_test(test_sparkline_set_after_draw),
        cmocka_unit_test(test_sparkline_refill_other_times),
        cmocka_unit_test(test_sparkline_degenerate),
        cmocka_unit_test(test_spark_filled),
        cmocka_unit_test(test_name_ranks),
        cmocka_unit_test(test_many_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
