/*
 * Tests for common/growth.c: the fit and the leak-suspect rule on synthetic
 * series (steady, jittery leak, sawtooth, spike, step, two steps, flat,
 * noise, falling), the whole path through a ring written with ring_append,
 * and the real growth trace.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "growth.h"
#include "ring.h"

#define W 600.0
#define MIB 1048576.0
#define TRACE "tests/fixtures/growth-trace"
#define TRACE_N 30

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof(tmpdir), "growth");
}

static int teardown(void **state)
{
    (void)state;
    test_tmpdir_remove(tmpdir);
    return 0;
}

/* Deterministic pseudo-random numbers in [0, 1). */
static double rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (double)(*s >> 8) / 16777216.0;
}

typedef double (*series_fn)(double t, uint32_t *seed);

/* Fit f(t) sampled once a second over [t0, W). */
static void fit_of(series_fn f, double t0, double window, struct growth_fit *out)
{
    struct growth_acc a;
    uint32_t seed = 12345;

    growth_acc_init(&a, window);
    for (double t = t0; t < window; t += 1)
        growth_acc_add(&a, t, f(t, &seed));
    growth_acc_fit(&a, out);
}

static const struct growth_rule rule_1m = { 0, 1u << 20, 0 };

static bool suspect(const struct growth_fit *f, double window)
{
    return growth_is_suspect(f, window, &rule_1m);
}

/* ---- the shapes ---- */

static double linear(double t, uint32_t *s)
{
    (void)s;
    return 5e6 + 1000 * t;
}

static void test_linear_exact(void **state)
{
    struct growth_fit f;
    struct growth_rule half = { 0, 500000, 0 };

    (void)state;
    fit_of(linear, 0, W, &f);
    assert_int_equal(f.points, 600);
    assert_true(fabs(f.per_hour - 3.6e6) < 1e-3);
    assert_true(fabs(f.net - 599000) < 1e-6);
    assert_true(fabs(f.r2 - 1) < 1e-9);
    assert_true(fabs(f.rise - 599000) < 1e-6);
    assert_true(f.fall == 0);
    /* twenty slices of 30 s, each 30000 up: one slice holds 1/20 of the rise */
    assert_true(fabs(f.max_rise - 30000) < 1e-6);
    assert_true(fabs(f.steadiness - 0.95) < 0.01);
    assert_true(fabs(f.span_s - 599) < 1e-9);
    assert_true(growth_is_suspect(&f, W, &half));
    /* 599000 bytes is under the 1 MiB default */
    assert_false(suspect(&f, W));
}

/* A leak of one 4 KiB slab every 2 s, with a slab more or less of churn at every sample. */
static double jittery_leak(double t, uint32_t *s)
{
    return 4096.0 * (1000 + floor(t / 2) + floor(rnd(s) * 3) - 1);
}

static void test_jittery_leak(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(jittery_leak, 0, W, &f);
    assert_true(f.net > MIB);
    /* every sample moves, yet between slice ends the leak dominates */
    assert_true(f.down_steps > 100);
    assert_true(f.steadiness > 0.7);
    assert_true(f.per_hour > 7e6 && f.per_hour < 7.8e6); /* 1800 slabs/h = 7.37 MB/h */
    assert_true(suspect(&f, W));
}

/* dentry under reclaim: grows 40 KB/s for 60 s, then reclaim takes it back in 5 s. */
static double sawtooth(double t, uint32_t *s)
{
    double ph = fmod(t, 65);

    (void)s;
    return 8e6 + (ph < 60 ? 40000 * ph : 40000 * 60 * (65 - ph) / 5);
}

static void test_sawtooth(void **state)
{
    struct growth_fit f;

    (void)state;
    for (double w = 100; w <= W; w += 37) {
        /* whatever the phase at the window's end, not steady */
        fit_of(sawtooth, 0, w, &f);
        assert_true(f.fall > 0);
        if (f.steadiness >= 0.3 || suspect(&f, w))
            fail_msg("window %.0f: steadiness %.3f net %.0f r2 %.3f", w, f.steadiness, f.net, f.r2);
    }
}

static double spike(double t, uint32_t *s)
{
    (void)s;
    return 10e6 + (t >= 300 && t < 330 ? 50e6 : 0);
}

static void test_spike(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(spike, 0, W, &f);
    assert_true(f.net == 0);
    assert_true(f.max == 60e6);
    assert_true(f.steadiness == 0);
    assert_false(suspect(&f, W));
}

static double step(double t, uint32_t *s)
{
    (void)s;
    return 10e6 + (t >= 300 ? 8e6 : 0);
}

static void test_step(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(step, 0, W, &f);
    assert_true(f.net == 8e6);
    /* a line through a step in the middle still fits with R^2 = 3p(1-p) = 0.75 */
    assert_true(fabs(f.r2 - 0.75) < 0.01);
    /* ... but the whole rise is in one slice */
    assert_true(f.max_rise == f.rise);
    assert_true(f.steadiness < 1e-9);
    assert_false(suspect(&f, W));
}

static double two_steps(double t, uint32_t *s)
{
    (void)s;
    return 10e6 + (t >= 200 ? 4e6 : 0) + (t >= 400 ? 4e6 : 0);
}

static double staircase(double t, uint32_t *s)
{
    (void)s;
    return 10e6 + 1e6 * floor(t / 60);
}

static void test_steps(void **state)
{
    struct growth_fit f;

    (void)state;
    /* two one-off allocations are not a leak */
    fit_of(two_steps, 0, W, &f);
    assert_true(f.steadiness < GROWTH_DEFAULT_STEADINESS);
    assert_false(suspect(&f, W));
    /* a step every minute, ten in the window, is steady growth */
    fit_of(staircase, 0, W, &f);
    assert_true(f.steadiness > 0.8);
    assert_true(suspect(&f, W));
}

static double flat(double t, uint32_t *s)
{
    (void)t;
    (void)s;
    return 123456789;
}

static void test_flat(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(flat, 0, W, &f);
    assert_true(f.per_hour == 0);
    assert_true(f.net == 0 && f.rise == 0 && f.fall == 0);
    assert_true(f.r2 == 0 && f.steadiness == 0);
    assert_int_equal(f.up_steps + f.down_steps, 0);
    assert_false(suspect(&f, W));
}

static double noise(double t, uint32_t *s)
{
    (void)t;
    return 50e6 + 4e6 * (rnd(s) - 0.5);
}

static void test_noise(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(noise, 0, W, &f);
    assert_true(f.steadiness < 0.1);
    assert_false(suspect(&f, W));
}

static double falling(double t, uint32_t *s)
{
    (void)s;
    return 50e6 - 20000 * t;
}

static void test_falling(void **state)
{
    struct growth_fit f;

    (void)state;
    fit_of(falling, 0, W, &f);
    assert_true(fabs(f.per_hour + 7.2e7) < 1e-2);
    assert_true(f.net < 0);
    assert_true(f.r2 == 0 && f.steadiness == 0);
    assert_false(suspect(&f, W));
}

static double late_ramp(double t, uint32_t *s)
{
    (void)s;
    return 1e6 + 40000 * t;
}

static void test_window_and_coverage(void **state)
{
    struct growth_fit f;
    struct growth_rule min10 = { 600, 1u << 20, 0 };
    struct growth_acc a;

    (void)state;
    /* a series that appeared 100 s before the end of a 10-minute window */
    fit_of(late_ramp, 500, W, &f);
    assert_true(f.steadiness > 0.6 && f.net > MIB);
    assert_false(suspect(&f, W));
    /* judged over the 100 s it has been there, it is a suspect ... */
    growth_acc_init(&a, 100);
    for (double t = 0; t < 100; t++)
        growth_acc_add(&a, t, late_ramp(t + 500, NULL));
    growth_acc_fit(&a, &f);
    assert_true(suspect(&f, 100));
    /* ... unless the rule asks for a longer window */
    assert_false(growth_is_suspect(&f, 100, &min10));
    /* too few points */
    growth_acc_init(&a, 100);
    for (double t = 0; t < 100; t += 25)
        growth_acc_add(&a, t, late_ramp(t, NULL));
    growth_acc_fit(&a, &f);
    assert_int_equal(f.points, 4);
    assert_false(suspect(&f, 100));
}

/* A run added at once equals its points added one by one. */
static void test_run_equals_points(void **state)
{
    struct growth_acc a, b;
    struct growth_fit fa, fb;
    uint32_t seed = 7;

    (void)state;
    growth_acc_init(&a, W);
    growth_acc_init(&b, W);
    for (int k = 0; k < 30; k++) {
        double v = floor(rnd(&seed) * 1e6), t0 = k * 20.0, st = 0, stt = 0;
        for (int j = 0; j < 20; j++) {
            growth_acc_add(&a, t0 + j, v);
            st += t0 + j;
            stt += (t0 + j) * (t0 + j);
        }
        growth_acc_add_run(&b, v, 20, st, stt, t0, t0 + 19);
    }
    growth_acc_fit(&a, &fa);
    growth_acc_fit(&b, &fb);
    assert_int_equal(fa.points, fb.points);
    assert_true(fabs(fa.per_hour - fb.per_hour) <= 1e-6 * fabs(fa.per_hour) + 1e-6);
    assert_true(fabs(fa.r2 - fb.r2) < 1e-9);
    assert_true(fa.net == fb.net && fa.rise == fb.rise && fa.fall == fb.fall);
    assert_true(fa.steadiness == fb.steadiness);
}

static void test_eligible(void **state)
{
    (void)state;
    assert_true(growth_eligible("slab", "bytes_total"));
    assert_false(growth_eligible("slab", "num_objs"));
    assert_true(growth_eligible("kmalloc", "bytes_total"));
    assert_true(growth_eligible("vmalloc", "bytes"));
    assert_false(growth_eligible("vmalloc", "pages"));
    for (const char *const *k = (const char *const[]){ "Slab", "SReclaimable", "SUnreclaim", "KReclaimable",
                                                        "VmallocUsed", "Percpu", NULL };
         *k; k++)
        assert_true(growth_eligible("meminfo", *k));
    assert_false(growth_eligible("meminfo", "MemFree"));
    assert_false(growth_eligible("meminfo", "MemAvailable"));
    assert_false(growth_eligible("meminfo", "MemTotal"));
    assert_false(growth_eligible("buddy", "free_pages"));
    assert_false(growth_eligible("buddy", "order0"));
}

/* ---- through a ring ---- */

static long cache_index(const struct sampler *sm, const char *name)
{
    for (size_t i = 0; i < sm->slab.n; i++)
        if (strcmp(sm->slab.caches[i].name, name) == 0)
            return (long)i;
    fail_msg("no cache %s in the fixture", name);
    return -1;
}

static void set_slabs(struct slab_cache *c, uint64_t slabs)
{
    c->num_slabs = c->active_slabs = slabs;
    c->num_objs = c->active_objs = slabs * c->objperslab;
}

/*
 * Ten minutes of one-second samples from the idle fixture in which
 * kmalloc-cg-1k leaks a 16 KiB slab every 3 s, dentry saws (reclaim every
 * 90 s), ext4_inode_cache takes one step, and MemFree grows steadily (not a
 * consumption series).  Vmallocinfo is sampled every 5 s, as by the daemon.
 */
static void test_ring_synthetic(void **state)
{
    struct ring_config cfg = { 4 << 20, 1 << 20, 0 };
    struct sampler sm;
    struct ring *r;
    struct ring_reader *rd;
    struct growth_report rep;
    const struct growth_series *g;
    char path[400], note[512], err[256];
    uint64_t base = 1700000000ull * 1000000000u, wall = 0;
    uint64_t cg0, den0, ext0, free0;
    long cg, den, ext;

    (void)state;
    snprintf(path, sizeof(path), "%s/synthetic.ring", tmpdir);
    assert_int_equal(sampler_init(&sm, "tests/fixtures/idle", SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(&sm), 0);
    assert_int_equal(ring_open(&r, path, &cfg, note, sizeof(note)), 0);
    cg = cache_index(&sm, "kmalloc-cg-1k");
    den = cache_index(&sm, "dentry");
    ext = cache_index(&sm, "ext4_inode_cache");
    cg0 = sm.slab.caches[cg].num_slabs;
    den0 = sm.slab.caches[den].num_slabs;
    ext0 = sm.slab.caches[ext].num_slabs;
    free0 = sm.meminfo.value[MEMINFO_MEMFREE];
    for (uint64_t t = 0; t < 600; t++) {
        unsigned mask = t % 5 ? SRC_ALL & ~SRC_BIT(SRC_VMALLOCINFO) : SRC_ALL;
        set_slabs(&sm.slab.caches[cg], cg0 + t / 3);
        set_slabs(&sm.slab.caches[den], den0 + 100 * (t % 90));
        set_slabs(&sm.slab.caches[ext], ext0 + (t >= 250 ? 2000 : 0));
        sm.meminfo.value[MEMINFO_MEMFREE] = free0 + 4096 * 100 * t;
        wall = base + t * 1000000000u + 1000000u * (t % 7); /* a little jitter */
        assert_int_equal(ring_append(r, &sm, mask, 0, wall, t * 1000000000u), 0);
    }
    ring_close(r);
    sampler_fini(&sm);

    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    memset(&rep, 0, sizeof(rep));
    assert_int_equal(growth_eval(rd, 600, wall, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.tier, RING_FULL);
    assert_int_equal(rep.records, 600);
    for (size_t i = 1; i < rep.n; i++)
        assert_true(rep.v[i - 1].fit.per_hour >= rep.v[i].fit.per_hour);

    /* the leak: 1200 slabs of 4 pages an hour, seen as the cache, its class and the class total */
    g = growth_report_find(&rep, "slab", "kmalloc-cg-1k", "bytes_total");
    assert_non_null(g);
    assert_true(g->suspect);
    assert_true(fabs(g->fit.per_hour - 1200.0 * 4 * 4096) < 0.01 * 1200 * 4 * 4096);
    assert_true(fabs(g->fit.net - 199.0 * 4 * 4096) < 1);
    assert_int_equal(g->fit.points, 600);
    assert_string_equal(g->unit, "bytes");
    g = growth_report_find(&rep, "kmalloc", "cg-1024", "bytes_total");
    assert_non_null(g);
    assert_true(g->suspect);
    g = growth_report_find(&rep, "kmalloc", "total-1024", "bytes_total");
    assert_non_null(g);
    assert_true(g->suspect);
    g = growth_report_find(&rep, "kmalloc", "cg-1024", "num_objs");
    assert_non_null(g);
    assert_string_equal(g->unit, "objects");
    assert_true(g->fit.net == 199.0 * 16);
    assert_false(g->suspect); /* counts double the bytes series */
    /* the sawtooth, the step and free memory are not */
    g = growth_report_find(&rep, "slab", "dentry", "bytes_total");
    assert_non_null(g);
    assert_false(g->suspect);
    g = growth_report_find(&rep, "slab", "ext4_inode_cache", "bytes_total");
    assert_non_null(g);
    assert_true(g->fit.net == 2000.0 * 4 * 4096);
    assert_false(g->suspect);
    g = growth_report_find(&rep, "meminfo", "-", "MemFree");
    assert_non_null(g);
    assert_true(g->fit.steadiness > 0.9);
    assert_false(g->eligible || g->suspect);
    /* SUnreclaim holds the leak too in /proc, but this synthetic meminfo did not move */
    g = growth_report_find(&rep, "meminfo", "-", "SUnreclaim");
    assert_non_null(g);
    assert_true(g->fit.net == 0);
    /* vmalloc: every fifth sample only, unchanged */
    g = growth_report_find(&rep, "vmalloc", "total", "bytes");
    assert_non_null(g);
    assert_int_equal(g->fit.points, 120);
    assert_true(g->fit.per_hour == 0);
    assert_non_null(growth_report_find(&rep, "buddy", "0:Normal", "free_pages"));
    assert_non_null(growth_report_find(&rep, "buddy", "0:Normal", "order3"));
    assert_int_equal(rep.nsuspects, 3);

    /*
     * The last minute: the leak is too small there, and the dentry sawtooth is
     * on its way up (a 90 s period): seen through a window shorter than its
     * period a sawtooth is a ramp.  That is what the configured minimum
     * window is for.
     */
    assert_int_equal(growth_eval(rd, 60, wall, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.nsuspects, 1);
    assert_true(growth_report_find(&rep, "slab", "dentry", "bytes_total")->suspect);
    assert_false(growth_report_find(&rep, "slab", "kmalloc-cg-1k", "bytes_total")->suspect);
    {
        struct growth_rule r2 = { 600, 64 << 10, 0 };
        assert_int_equal(growth_eval(rd, 300, wall, &r2, &rep, err, sizeof(err)), 0);
        assert_int_equal(rep.nsuspects, 0);
        r2.min_window_s = 300;
        assert_int_equal(growth_eval(rd, 300, wall, &r2, &rep, err, sizeof(err)), 0);
        assert_true(rep.nsuspects >= 3);
    }
    /* the JSON reply: growers only, largest first, top kept */
    {
        json_t *o = growth_report_json(&rep, 64 << 10, 5, false), *a;
        size_t i;
        json_t *row;
        double prev = INFINITY;

        assert_non_null(o);
        assert_true(json_is_true(json_object_get(o, "ok")));
        assert_int_equal(json_integer_value(json_object_get(o, "window")), 300);
        a = json_object_get(o, "growers");
        assert_int_equal(json_array_size(a), 5);
        json_array_foreach(a, i, row) {
            double ph = json_number_value(json_object_get(row, "per_hour"));
            assert_true(ph > 0 && ph <= prev);
            prev = ph;
            for (const char *const *k = (const char *const[]){ "kind", "name", "field", "unit", NULL }; *k; k++)
                assert_true(json_is_string(json_object_get(row, *k)));
            assert_true(json_is_integer(json_object_get(row, "net")));
            assert_true(json_is_number(json_object_get(row, "steadiness")));
            assert_true(json_is_boolean(json_object_get(row, "suspect")));
        }
        json_decref(o);
        o = growth_report_json(&rep, 64 << 10, 0, true);
        assert_int_equal(json_array_size(json_object_get(o, "growers")), rep.nsuspects);
        json_decref(o);
    }
    growth_report_free(&rep);
    ring_reader_close(rd);
}

/* ---- the real trace ---- */

static uint64_t trace_time(int i)
{
    char p[300], *s;
    size_t len;
    uint64_t t;

    snprintf(p, sizeof(p), "%s/%03d/time_ns", TRACE, i);
    s = fixture_read(p, &len);
    t = strtoull(s, NULL, 10);
    free(s);
    return t;
}

static void test_trace(void **state)
{
    static const char *const growers[][3] = {
        { "vmalloc", "kernel_clone", "bytes" },
        { "kmalloc", "cg-1024", "bytes_total" },
        { "slab", "dentry", "bytes_total" },
        { "slab", "shmem_inode_cache", "bytes_total" },
        { "meminfo", "-", "SUnreclaim" },
    };
    struct ring_reader *rd;
    struct growth_report rep;
    const struct growth_series *g;
    char path[400], err[256];
    uint64_t t5 = trace_time(5), t14 = trace_time(14), t29 = trace_time(29);

    (void)state;
    snprintf(path, sizeof(path), "%s/trace.ring", tmpdir);
    assert_int_equal(ring_import_dir(TRACE, path, NULL, err, sizeof(err)), 0);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    memset(&rep, 0, sizeof(rep));

    /* the ramp: samples 005 to 014 */
    assert_int_equal(growth_eval(rd, 9, t14, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.records, 10);
    assert_true(rep.from_wall_ns < t5 && t5 - rep.from_wall_ns < 1000000000u);
    for (size_t k = 0; k < ARRAY_SIZE(growers); k++) {
        g = growth_report_find(&rep, growers[k][0], growers[k][1], growers[k][2]);
        if (!g || !g->suspect || g->fit.steadiness < 0.8)
            fail_msg("%s %s %s: %s", growers[k][0], growers[k][1], growers[k][2],
                     g ? "not a steady suspect" : "missing");
    }
    /* each second 100 thread stacks of 20480 bytes: 18 MiB over the nine steps */
    g = growth_report_find(&rep, "vmalloc", "kernel_clone", "bytes");
    assert_true(g->fit.net > 17.5 * MIB && g->fit.net < 19.5 * MIB);
    assert_int_equal(g->fit.points, 10);
    /* pipes: cg-192 grows steadily too, but by less than 1 MiB */
    g = growth_report_find(&rep, "kmalloc", "cg-192", "bytes_total");
    assert_non_null(g);
    assert_true(g->fit.per_hour > 0 && g->fit.steadiness > 0.8 && g->fit.net < MIB);
    assert_false(g->suspect);
    /* free memory fell: never a suspect */
    g = growth_report_find(&rep, "meminfo", "-", "MemFree");
    assert_false(g->suspect);

    /* after the release: samples 020 to 029, and the whole trace */
    assert_int_equal(growth_eval(rd, 9, t29, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.records, 10);
    assert_int_equal(rep.nsuspects, 0);
    assert_int_equal(growth_eval(rd, 30, t29, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.records, TRACE_N);
    assert_int_equal(rep.nsuspects, 0);
    g = growth_report_find(&rep, "vmalloc", "kernel_clone", "bytes");
    assert_true(g->fit.steadiness < 0.1);
    growth_report_free(&rep);
    ring_reader_close(rd);
}

/* ---- the incremental evaluation against a plain one ---- */

#define REF_MAX 1024

/* One series fitted the plain way: every point of every record added on its own. */
struct ref_series {
    char name[GROWTH_NAME_MAX];
    const char *kind, *field;
    struct growth_acc acc;
};

struct ref {
    struct ref_series s[REF_MAX];
    size_t n;
    uint64_t from;
    double window;
    struct sampler sm;
};

static void ref_point(struct ref *rf, const char *kind, const char *name, const char *field,
                      double t, double v)
{
    size_t i;

    for (i = 0; i < rf->n; i++)
        if (rf->s[i].kind == kind && rf->s[i].field == field && strcmp(rf->s[i].name, name) == 0)
            break;
    if (i == rf->n) {
        assert_true(rf->n < REF_MAX);
        snprintf(rf->s[i].name, sizeof(rf->s[i].name), "%s", name);
        rf->s[i].kind = kind;
        rf->s[i].field = field;
        growth_acc_init(&rf->s[i].acc, rf->window);
        rf->n++;
    }
    growth_acc_add(&rf->s[i].acc, t, v);
}

/* Each record as a whole sampler: slab caches and meminfo keys, a point where stored. */
static int ref_cb(const struct ring_state *st, void *arg)
{
    struct ref *rf = arg;
    double t = st->wall_ns > rf->from ? (double)(st->wall_ns - rf->from) / 1e9 : 0;

    assert_int_equal(ring_state_to_sampler(st, &rf->sm), 0);
    if (st->src_mask & SRC_BIT(SRC_SLABINFO))
        for (size_t i = 0; i < rf->sm.slab.n; i++) {
            const struct slab_cache *c = &rf->sm.slab.caches[i];
            ref_point(rf, "slab", c->name, "bytes_total", t, (double)c->bytes_total);
            ref_point(rf, "slab", c->name, "num_objs", t, (double)c->num_objs);
        }
    if (st->src_mask & SRC_BIT(SRC_MEMINFO))
        for (int k = 0; k < MEMINFO_NKEYS; k++)
            if (meminfo_has(&rf->sm.meminfo, k))
                ref_point(rf, "meminfo", "-", meminfo_key_name(k), t,
                          (double)rf->sm.meminfo.value[k]);
    return 0;
}

static void close_to(double a, double b, const char *what, const char *name)
{
    if (fabs(a - b) > 1e-6 * (fabs(a) + fabs(b)) + 1e-6)
        fail_msg("%s of %s: %.9g (growth_eval) vs %.9g (point by point)", what, name, a, b);
}

/* growth_eval follows only what each record changed; a plain fit of every point must agree. */
static void check_against_plain(struct ring_reader *rd, uint64_t window_s, uint64_t now)
{
    struct ref *rf = calloc(1, sizeof(*rf));
    struct growth_report rep;
    struct growth_fit f;
    char err[256];

    assert_non_null(rf);
    memset(&rep, 0, sizeof(rep));
    assert_int_equal(growth_eval(rd, window_s, now, &rule_1m, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.tier, RING_FULL);
    rf->from = rep.from_wall_ns;
    rf->window = (double)window_s;
    ring_sampler_init(&rf->sm);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, rf->from, now, ref_cb, rf), 0);
    assert_true(rf->n > 100);
    for (size_t i = 0; i < rf->n; i++) {
        const struct growth_series *g =
            growth_report_find(&rep, rf->s[i].kind, rf->s[i].name, rf->s[i].field);

        if (!g)
            fail_msg("%s %s %s: missing from growth_eval", rf->s[i].kind, rf->s[i].name,
                     rf->s[i].field);
        growth_acc_fit(&rf->s[i].acc, &f);
        assert_int_equal(g->fit.points, f.points);
        close_to(g->fit.net, f.net, "net", g->name);
        close_to(g->fit.per_hour, f.per_hour, "per_hour", g->name);
        close_to(g->fit.steadiness, f.steadiness, "steadiness", g->name);
        close_to(g->fit.max, f.max, "max", g->name);
    }
    sampler_fini(&rf->sm);
    growth_report_free(&rep);
    free(rf);
}

static void test_incremental_equals_plain(void **state)
{
    const struct ring_config cfg = { 4 << 20, 1 << 20, 0 };
    uint64_t start = 1700000000ull * 1000000000u, n = 3000;
    struct ring_reader *rd;
    char path[400], err[256];

    (void)state;
    /* a simulated idle machine: a few numbers change each second, vmalloc every fifth */
    snprintf(path, sizeof(path), "%s/idle.ring", tmpdir);
    test_idle_ring(path, &cfg, n, start, 11);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    check_against_plain(rd, 600, start + (n - 1) * 1000000000u);
    check_against_plain(rd, 1777, start + (n - 500) * 1000000000u);
    ring_reader_close(rd);

    /* the real trace: hundreds of numbers change at every sample */
    snprintf(path, sizeof(path), "%s/trace-incr.ring", tmpdir);
    assert_int_equal(ring_import_dir(TRACE, path, NULL, err, sizeof(err)), 0);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    check_against_plain(rd, 30, trace_time(TRACE_N - 1));
    check_against_plain(rd, 9, trace_time(14));
    ring_reader_close(rd);
}

/* Two reports of the same window, series by series, byte for byte. */
static void assert_reports_equal(const struct growth_report *a, const struct growth_report *b)
{
    assert_int_equal(a->window_s, b->window_s);
    assert_int_equal(a->from_wall_ns, b->from_wall_ns);
    assert_int_equal(a->to_wall_ns, b->to_wall_ns);
    assert_int_equal(a->tier, b->tier);
    assert_int_equal(a->records, b->records);
    assert_int_equal(a->nsuspects, b->nsuspects);
    assert_int_equal(a->n, b->n);
    if (a->n)
        assert_memory_equal(a->v, b->v, a->n * sizeof(*a->v));
}

/*
 * The daemon's judgements (10 minutes every 10 s, an hour every minute, two
 * hours every 10 minutes from the per-minute tier) with growth_eval_next on
 * one reader, which starts each from the checkpoint the last judgement of its
 * window kept: the reports of growth_eval on a fresh reader, for fewer
 * records decoded.
 */
static void test_eval_next_same_report(void **state)
{
    static const struct {
        uint64_t window_s, every_s;
    } js[] = { { 600, 10 }, { 3600, 60 }, { 7200, 600 } };
    const struct ring_config cfg = { 4 << 20, 1 << 20, 0 };
    uint64_t start = 1700000000ull * 1000000000u, n = 9000, fresh_dec = 0, judged = 0;
    struct growth_report a, b;
    struct ring_reader *rd;
    char path[400], err[256];
    bool coarse = false;

    (void)state;
    snprintf(path, sizeof(path), "%s/idle-next.ring", tmpdir);
    test_idle_ring(path, &cfg, n, start, 5);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    for (uint64_t s = 7200; s < n; s += 10) {
        uint64_t now = start + s * 1000000000u;

        for (size_t j = 0; j < ARRAY_SIZE(js); j++) {
            uint64_t next = now + js[j].every_s * 1000000000u;
            struct ring_reader *fresh;

            if (s % js[j].every_s)
                continue;
            assert_int_equal(ring_reader_open_path(&fresh, path, err, sizeof(err)), 0);
            assert_int_equal(
                growth_eval_next(rd, js[j].window_s, now, next, &rule_1m, &a, err, sizeof(err)),
                0);
            assert_int_equal(growth_eval(fresh, js[j].window_s, now, &rule_1m, &b, err, sizeof(err)),
                             0);
            assert_reports_equal(&a, &b);
            assert_true(a.n > 100);
            coarse |= a.tier == RING_COARSE;
            fresh_dec += ring_reader_decoded(fresh);
            judged += a.records;
            ring_reader_close(fresh);
        }
    }
    printf("# %llu records judged: %llu decoded with checkpoints, %llu by fresh readers\n",
           (unsigned long long)judged, (unsigned long long)ring_reader_decoded(rd),
           (unsigned long long)fresh_dec);
    assert_true(coarse);
    /* each judgement decodes its window and the record after it, the first ones from keyframes */
    assert_true(ring_reader_decoded(rd) < judged + judged / 20);
    assert_true(fresh_dec > judged + judged / 10);
    growth_report_free(&a);
    growth_report_free(&b);
    ring_reader_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_exact),
        cmocka_unit_test(test_jittery_leak),
        cmocka_unit_test(test_sawtooth),
        cmocka_unit_test(test_spike),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_falling),
        cmocka_unit_test(test_window_and_coverage),
        cmocka_unit_test(test_run_equals_points),
        cmocka_unit_test(test_eligible),
        cmocka_unit_test(test_ring_synthetic),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_incremental_equals_plain),
        cmocka_unit_test(test_eval_next_same_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
