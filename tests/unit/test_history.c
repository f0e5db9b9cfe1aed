/*
 * Tests for history_query (common/history.c) on the growth trace and on
 * synthetic rings that wrapped.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "history.h"
#include "ring.h"

#define TRACE "tests/fixtures/growth-trace"
#define TRACE_N 30

static char tmpdir[256];
static char trace_ring[512];
static uint64_t times[TRACE_N];
static struct sampler snaps[TRACE_N];

static int setup(void **state)
{
    char err[256], dir[256];

    (void)state;
    if (test_tmpdir_make(tmpdir, sizeof(tmpdir), "history") < 0)
        return -1;
    snprintf(trace_ring, sizeof(trace_ring), "%s/trace.ring", tmpdir);
    if (ring_import_dir(TRACE, trace_ring, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "import: %s\n", err);
        return -1;
    }
    for (int i = 0; i < TRACE_N; i++) {
        char p[300], *s;
        size_t len;
        snprintf(dir, sizeof(dir), "%s/%03d", TRACE, i);
        snprintf(p, sizeof(p), "%s/time_ns", dir);
        s = fixture_read(p, &len);
        times[i] = strtoull(s, NULL, 10);
        free(s);
        if (sampler_init(&snaps[i], dir, SRC_ALL, 4096) != SRC_N || sampler_read_all(&snaps[i]))
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_tmpdir_remove(tmpdir);
    for (int i = 0; i < TRACE_N; i++)
        sampler_fini(&snaps[i]);
    return 0;
}

static struct ring_reader *trace_reader(void)
{
    struct ring_reader *rd;
    char err[256];
    assert_int_equal(ring_reader_open_path(&rd, trace_ring, err, sizeof(err)), 0);
    return rd;
}

/* A query over the last hour before the trace's end; asserts success. */
static void q_ok(struct ring_reader *rd, const char *kind, const char *name, const char *field,
                 struct history_points *hp)
{
    char err[256];
    int r = history_query(rd, kind, name, field, 3600, times[TRACE_N - 1] + 1000000000u, hp, err,
                          sizeof(err));
    if (r != 0)
        fail_msg("history %s %s %s: %d %s", kind, name, field, r, err);
}

static void q_err(struct ring_reader *rd, const char *kind, const char *name, const char *field,
                  int want, const char *msg)
{
    struct history_points hp;
    char err[256];
    int r;

    memset(&hp, 0, sizeof(hp));
    r = history_query(rd, kind, name, field, 3600, times[TRACE_N - 1] + 1000000000u, &hp, err,
                      sizeof(err));
    if (r != want || !strstr(err, msg))
        fail_msg("history %s %s %s: %d \"%s\", want %d \"%s\"", kind, name, field, r, err, want,
                 msg);
    history_points_free(&hp);
}

static void test_slab_dentry(void **state)
{
    struct ring_reader *rd = trace_reader();
    struct history_points hp;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    q_ok(rd, "slab", "dentry", "active_objs", &hp);
    assert_int_equal(hp.n, TRACE_N);
    assert_int_equal(hp.tier, RING_FULL);
    assert_false(hp.is_fraction);
    for (int i = 0; i < TRACE_N; i++) {
        long c = slab_find(&snaps[i].slab, "dentry");
        assert_true(c >= 0);
        assert_int_equal(hp.v[i].wall_ns, times[i]);
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].slab.caches[c].active_objs);
    }
    /* derived: bytes_total uses the ring's page size */
    q_ok(rd, "slab", "dentry", "bytes_total", &hp);
    for (int i = 0; i < TRACE_N; i++) {
        long c = slab_find(&snaps[i].slab, "dentry");
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].slab.caches[c].bytes_total);
    }
    /* the growth: 10000 files a second from 005 to 014 */
    assert_true(hp.v[15].value > hp.v[4].value);
    /* a shorter window: only the points inside it */
    {
        char err[256];
        int r = history_query(rd, "slab", "dentry", "num_slabs", 5, times[TRACE_N - 1], &hp, err,
                              sizeof(err));
        assert_int_equal(r, 0);
        assert_true(hp.n >= 5 && hp.n <= 7);
        assert_true(hp.v[0].wall_ns >= times[TRACE_N - 1] - 5000000000ull);
        assert_int_equal(hp.v[hp.n - 1].wall_ns, times[TRACE_N - 1]);
    }
    history_points_free(&hp);
    ring_reader_close(rd);
}

static uint64_t vm_caller_sum(const struct sampler *sm, const char *caller, int field)
{
    uint64_t s = 0;
    for (size_t i = 0; i < sm->vmalloc.n; i++) {
        const struct vmalloc_row *r = &sm->vmalloc.rows[i];
        if (caller && strcmp(r->caller, caller) != 0)
            continue;
        s += field == 0 ? r->areas : field == 1 ? r->bytes : r->pages;
    }
    return s;
}

static void test_vmalloc_kernel_clone(void **state)
{
    struct ring_reader *rd = trace_reader();
    struct history_points hp;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    q_ok(rd, "vmalloc", "kernel_clone", "bytes", &hp);
    assert_int_equal(hp.n, TRACE_N);
    for (int i = 0; i < TRACE_N; i++)
        assert_int_equal((uint64_t)hp.v[i].value, vm_caller_sum(&snaps[i], "kernel_clone", 1));
    /* 100 more parked threads (20480-byte stacks) every second */
    for (int i = 6; i <= 15; i++) {
        double d = hp.v[i].value - hp.v[i - 1].value;
        assert_true(d >= 100 * 20480.0 && d <= 110 * 20480.0);
    }
    /* and released at 020 */
    assert_true(hp.v[20].value < hp.v[15].value / 5);
    q_ok(rd, "vmalloc", "total", "pages", &hp);
    for (int i = 0; i < TRACE_N; i++) {
        assert_int_equal((uint64_t)hp.v[i].value, vm_caller_sum(&snaps[i], NULL, 2));
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].vmalloc.total.pages);
    }
    q_ok(rd, "vmalloc", "kernel_clone", "areas", &hp);
    assert_int_equal((uint64_t)hp.v[10].value, vm_caller_sum(&snaps[10], "kernel_clone", 0));
    history_points_free(&hp);
    ring_reader_close(rd);
}

static uint64_t kmalloc_sum(const struct sampler *sm, uint64_t size, int variant, int field)
{
    uint64_t s = 0;
    for (size_t i = 0; i < sm->kmalloc.n; i++) {
        const struct kmalloc_row *r = &sm->kmalloc.rows[i];
        if (r->size != size || (variant >= 0 && (int)r->variant != variant))
            continue;
        s += field == 0 ? r->num_objs : field == 1 ? r->active_objs : r->bytes_total;
    }
    return s;
}

static void test_kmalloc_cg_1024(void **state)
{
    struct ring_reader *rd = trace_reader();
    struct history_points hp, hk;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    memset(&hk, 0, sizeof(hk));
    q_ok(rd, "kmalloc", "cg-1024", "num_objs", &hp);
    assert_int_equal(hp.n, TRACE_N);
    for (int i = 0; i < TRACE_N; i++)
        assert_int_equal((uint64_t)hp.v[i].value, kmalloc_sum(&snaps[i], 1024, KMALLOC_CG, 0));
    /* 500 more pipes a second: it rises */
    for (int i = 6; i <= 14; i++)
        assert_true(hp.v[i].value >= hp.v[i - 1].value);
    assert_true(hp.v[15].value > hp.v[5].value + 4000);
    /* the size may be spelled as the kernel does */
    q_ok(rd, "kmalloc", "cg-1k", "num_objs", &hk);
    assert_int_equal(hk.n, hp.n);
    for (size_t i = 0; i < hp.n; i++)
        assert_true(hk.v[i].value == hp.v[i].value);
    /* total sums the variants */
    q_ok(rd, "kmalloc", "total-1024", "bytes_total", &hk);
    for (int i = 0; i < TRACE_N; i++)
        assert_int_equal((uint64_t)hk.v[i].value, kmalloc_sum(&snaps[i], 1024, -1, 2));
    history_points_free(&hp);
    history_points_free(&hk);
    ring_reader_close(rd);
}

static void test_buddy(void **state)
{
    struct ring_reader *rd = trace_reader();
    struct history_points hp;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    q_ok(rd, "buddy", "0:Normal", "order3", &hp);
    assert_int_equal(hp.n, TRACE_N);
    assert_false(hp.is_fraction);
    for (int i = 0; i < TRACE_N; i++) {
        long z = buddy_find(&snaps[i].buddy, 0, "Normal");
        assert_true(z >= 0);
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].buddy.zones[z].free[3]);
    }
    q_ok(rd, "buddy", "0:Normal", "free_pages", &hp);
    for (int i = 0; i < TRACE_N; i++) {
        long z = buddy_find(&snaps[i].buddy, 0, "Normal");
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].buddy.zones[z].free_pages);
    }
    q_ok(rd, "buddy", "0:Normal", "unusable5", &hp);
    assert_true(hp.is_fraction);
    for (int i = 0; i < TRACE_N; i++) {
        long z = buddy_find(&snaps[i].buddy, 0, "Normal");
        assert_true(fabs(hp.v[i].value - snaps[i].buddy.zones[z].unusable[5] / 1000.0) < 1e-9);
        assert_true(hp.v[i].value >= 0 && hp.v[i].value <= 1);
    }
    /* an order beyond the data's: no points, not an error */
    q_ok(rd, "buddy", "0:DMA", "order20", &hp);
    assert_int_equal(hp.n, 0);
    history_points_free(&hp);
    ring_reader_close(rd);
}

static void test_meminfo(void **state)
{
    struct ring_reader *rd = trace_reader();
    struct history_points hp;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    q_ok(rd, "meminfo", "-", "SUnreclaim", &hp);
    assert_int_equal(hp.n, TRACE_N);
    for (int i = 0; i < TRACE_N; i++)
        assert_int_equal((uint64_t)hp.v[i].value, snaps[i].meminfo.value[MEMINFO_SUNRECLAIM]);
    assert_true(hp.v[14].value > hp.v[4].value);
    history_points_free(&hp);
    ring_reader_close(rd);
}

static void test_errors(void **state)
{
    struct ring_reader *rd = trace_reader();

    (void)state;
    q_err(rd, "slub", "dentry", "active_objs", -EINVAL, "unknown kind 'slub'");
    q_err(rd, "slab", "dentry", "colour", -EINVAL, "unknown slab field 'colour'");
    q_err(rd, "slab", "no_such_cache", "active_objs", -ENOENT, "no slab cache 'no_such_cache'");
    q_err(rd, "kmalloc", "cg1024", "num_objs", -EINVAL, "not VARIANT-SIZE");
    q_err(rd, "kmalloc", "blue-1024", "num_objs", -EINVAL, "unknown variant 'blue'");
    q_err(rd, "kmalloc", "cg-1024", "objsize", -EINVAL, "unknown kmalloc field");
    q_err(rd, "kmalloc", "dma-3", "num_objs", -ENOENT, "no kmalloc class 'dma-3'");
    q_err(rd, "vmalloc", "kernel_clone", "size", -EINVAL, "unknown vmalloc field 'size'");
    q_err(rd, "vmalloc", "no_such_caller", "bytes", -ENOENT, "no vmalloc caller");
    q_err(rd, "buddy", "Normal", "order3", -EINVAL, "not NODE:ZONE");
    q_err(rd, "buddy", "0:Normal", "order32", -EINVAL, "unknown buddy field 'order32'");
    q_err(rd, "buddy", "7:Normal", "order3", -ENOENT, "no buddy zone '7:Normal'");
    q_err(rd, "meminfo", "-", "Cached", -EINVAL, "unknown meminfo field 'Cached'");
    /* a window before the trace: nothing appears */
    {
        struct history_points hp;
        char err[256];
        memset(&hp, 0, sizeof(hp));
        int r = history_query(rd, "slab", "dentry", "active_objs", 60,
                              times[0] - 100000000000ull, &hp, err, sizeof(err));
        assert_int_equal(r, -ENOENT);
        history_points_free(&hp);
    }
    ring_reader_close(rd);
}

/* The tier: full while it reaches back over the window or nothing was dropped yet; else coarse. */
static void test_tier_choice(void **state)
{
    struct ring_config small = { 64 << 10, 64 << 10, 512 };
    char path[600], note[256], err[256];
    struct history_points hp;
    struct ring_tier_info ti;
    struct ring_reader *rd;
    struct sampler sm;
    struct ring *r;
    uint64_t start = 1700000000000000000ull, n = 6000, now = start + n * 1000000000ull;

    (void)state;
    memset(&hp, 0, sizeof(hp));
    assert_int_equal(sampler_init(&sm, "tests/fixtures/idle", SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(&sm), 0);
    snprintf(path, sizeof(path), "%s/small.ring", tmpdir);
    assert_int_equal(ring_open(&r, path, &small, note, sizeof(note)), 0);
    assert_int_equal(ring_fill_idle(r, &sm, n, start, 5), 0);
    ring_close(r);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    assert_int_equal(ring_reader_tier_info(rd, RING_FULL, &ti), 0);
    assert_true(ti.dropped > 0);
    /* a short window is inside the full tier */
    assert_int_equal(history_query(rd, "meminfo", "-", "MemFree", 120, now, &hp, err, sizeof(err)),
                     0);
    assert_int_equal(hp.tier, RING_FULL);
    assert_true(hp.n >= 119 && hp.n <= 121);
    for (size_t i = 1; i < hp.n; i++)
        assert_true(hp.v[i].wall_ns > hp.v[i - 1].wall_ns);
    /* an hour is not: the coarse tier, one point per minute */
    assert_int_equal(history_query(rd, "meminfo", "-", "MemFree", 3600, now, &hp, err, sizeof(err)),
                     0);
    assert_int_equal(hp.tier, RING_COARSE);
    assert_true(hp.n >= 59 && hp.n <= 61);
    for (size_t i = 1; i < hp.n; i++)
        assert_true(hp.v[i].wall_ns - hp.v[i - 1].wall_ns >= 50000000000ull);
    /* vmallocinfo is sampled every fifth second: the full tier has a point every fifth record */
    assert_int_equal(
        history_query(rd, "vmalloc", "total", "bytes", 100, now, &hp, err, sizeof(err)), 0);
    assert_int_equal(hp.tier, RING_FULL);
    assert_true(hp.n >= 19 && hp.n <= 21);
    ring_reader_close(rd);

    /* a trace shorter than the window: nothing was dropped, the full tier */
    rd = trace_reader();
    assert_int_equal(history_query(rd, "slab", "dentry", "active_objs", 7 * 86400,
                                   times[TRACE_N - 1], &hp, err, sizeof(err)),
                     0);
    assert_int_equal(hp.tier, RING_FULL);
    assert_int_equal(hp.n, TRACE_N);
    ring_reader_close(rd);
    history_points_free(&hp);
    sampler_fini(&sm);
}

/* A ring of an idle machine: n seconds from start, every source (vmallocinfo every fifth). */
static void idle_ring(const char *path, uint64_t n, uint64_t start)
{
    const struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };

    test_idle_ring(path, &cfg, n, start, 5);
}

/* history_next in parts of max points, concatenated, is history_query's answer. */
static void check_parts(struct ring_reader *rd, const char *kind, const char *name,
                        const char *field, uint64_t window, uint64_t now, size_t max)
{
    struct history_points all, part;
    struct history_cursor *hc;
    char err[256];
    size_t got = 0, parts = 0;
    int r;

    memset(&all, 0, sizeof(all));
    memset(&part, 0, sizeof(part));
    assert_int_equal(history_query(rd, kind, name, field, window, now, &all, err, sizeof(err)), 0);
    assert_true(all.n > 0);
    assert_int_equal(history_open(&hc, rd, kind, name, field, window, now, err, sizeof(err)), 0);
    do {
        r = history_next(hc, rd, max, &part, err, sizeof(err));
        assert_true(r == 0 || r == 1);
        /* a part stops at max points; only the last has fewer */
        assert_true(r == 0 ? part.n <= max : part.n == max);
        assert_int_equal(part.tier, all.tier);
        assert_int_equal(part.is_fraction, all.is_fraction);
        assert_true(got + part.n <= all.n);
        for (size_t i = 0; i < part.n; i++) {
            assert_int_equal(part.v[i].wall_ns, all.v[got + i].wall_ns);
            assert_true(part.v[i].value == all.v[got + i].value);
        }
        got += part.n;
        parts++;
    } while (r == 1);
    assert_int_equal(got, all.n);
    assert_true(parts >= all.n / max);
    history_close(hc);
    history_points_free(&all);
    history_points_free(&part);
}

static void test_parts(void **state)
{
    static const size_t sizes[] = { 1, 2, 7, 29, 30, 31, 1000, 16384 };
    uint64_t start = 1700000000000000000ull, n = 20000, now = start + n * 1000000000ull;
    struct ring_reader *rd = trace_reader();
    struct history_points hp;
    struct history_cursor *hc;
    char path[600], err[256];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        check_parts(rd, "slab", "dentry", "active_objs", 3600, times[TRACE_N - 1], sizes[i]);
        check_parts(rd, "vmalloc", "kernel_clone", "bytes", 3600, times[TRACE_N - 1], sizes[i]);
        check_parts(rd, "buddy", "0:Normal", "unusable3", 3600, times[TRACE_N - 1], sizes[i]);
    }
    /* the name is looked for in every part: not there is an error only at the end */
    memset(&hp, 0, sizeof(hp));
    assert_int_equal(history_open(&hc, rd, "slab", "nope", "active_objs", 3600,
                                  times[TRACE_N - 1], err, sizeof(err)),
                     0);
    assert_int_equal(history_next(hc, rd, 1, &hp, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no slab cache 'nope'"));
    history_close(hc);
    assert_int_equal(history_open(&hc, rd, "slab", "dentry", "nope", 3600, times[TRACE_N - 1],
                                  err, sizeof(err)),
                     -EINVAL);
    assert_null(hc);
    ring_reader_close(rd);

    /* keyframes every few hundred records: parts start between them */
    snprintf(path, sizeof(path), "%s/parts.ring", tmpdir);
    idle_ring(path, n, start);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        check_parts(rd, "slab", "dentry", "active_objs", n, now, sizes[i]);
        check_parts(rd, "kmalloc", "total-64", "bytes_total", 7200, now - 777000000000ull,
                    sizes[i]);
        check_parts(rd, "vmalloc", "total", "pages", n, now, sizes[i]);
        check_parts(rd, "meminfo", "-", "MemFree", 4 * 3600, now, sizes[i]);
    }
    ring_reader_close(rd);
    history_points_free(&hp);
}

/*
 * A reply in parts whose next records the ring overwrote in between (a slow
 * reader of a window as long as the ring) fails rather than leave a hole;
 * records appended after the window's end change nothing.
 */
static void test_parts_overwritten(void **state)
{
    struct ring_config cfg = { RING_MIN_TIER_BYTES, RING_MIN_TIER_BYTES, 1024 };
    uint64_t start = 1700000000000000000ull, now = start + 299 * 1000000000ull;
    struct history_points hp;
    struct history_cursor *hc;
    struct ring_reader *rd;
    struct sampler sm;
    struct ring *r;
    char path[600], note[256], err[256];

    (void)state;
    memset(&hp, 0, sizeof(hp));
    snprintf(path, sizeof(path), "%s/overwritten.ring", tmpdir);
    assert_int_equal(sampler_init(&sm, "tests/fixtures/idle", SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(&sm), 0);
    assert_int_equal(ring_open(&r, path, &cfg, note, sizeof(note)), 0);
    assert_int_equal(ring_fill_idle(r, &sm, 300, start, 5), 0);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);

    /* appended between parts, after the window: the reply goes on */
    assert_int_equal(history_open(&hc, rd, "meminfo", "-", "MemFree", 3600, now, err, sizeof(err)), 0);
    assert_int_equal(history_next(hc, rd, 50, &hp, err, sizeof(err)), 1);
    assert_int_equal(ring_fill_idle(r, &sm, 100, start + 300 * 1000000000ull, 6), 0);
    assert_int_equal(history_next(hc, rd, 50, &hp, err, sizeof(err)), 1);
    assert_int_equal(hp.n, 50);
    history_close(hc);

    /* so many appended that the records after the first part are gone: an error, not a hole */
    assert_int_equal(history_open(&hc, rd, "meminfo", "-", "MemFree", 3600,
                                  start + 399 * 1000000000ull, err, sizeof(err)), 0);
    assert_int_equal(history_next(hc, rd, 50, &hp, err, sizeof(err)), 1);
    assert_int_equal(ring_fill_idle(r, &sm, 3000, start + 400 * 1000000000ull, 7), 0);
    assert_int_equal(history_next(hc, rd, 50, &hp, err, sizeof(err)), -ESTALE);
    assert_non_null(strstr(err, "overwritten"));
    assert_int_equal(hp.n, 0);
    history_close(hc);

    ring_reader_close(rd);
    ring_close(r);
    sampler_fini(&sm);
    history_points_free(&hp);
}

/*
 * reuse_before: the same query at a later now gives the same points while
 * the window starts before it, and not once it starts after it.
 */
static void test_reuse_before(void **state)
{
    uint64_t start = 1700000000000000000ull, n = 5000, newest = start + (n - 1) * 1000000000ull;
    struct history_points a, b;
    struct ring_reader *rd;
    char path[600], err[256];
    uint64_t now = newest + 300000000u, w = 600;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    snprintf(path, sizeof(path), "%s/reuse.ring", tmpdir);
    idle_ring(path, n, start);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), 0);
    assert_int_equal(history_query(rd, "slab", "dentry", "active_objs", w, now, &a, err,
                                   sizeof(err)),
                     0);
    /* every record up to the newest was read: the earliest in the window */
    assert_int_equal(a.reuse_before, a.v[0].wall_ns);
    assert_true(a.reuse_before >= now - w * 1000000000u);
    /* later, the window still starting before it: the same points */
    assert_int_equal(history_query(rd, "slab", "dentry", "active_objs", w,
                                   a.reuse_before - 1 + w * 1000000000u, &b, err, sizeof(err)),
                     0);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(b.v[i].wall_ns, a.v[i].wall_ns);
        assert_true(b.v[i].value == a.v[i].value);
    }
    /* starting after it: the first point is gone */
    assert_int_equal(history_query(rd, "slab", "dentry", "active_objs", w,
                                   a.reuse_before + 1 + w * 1000000000u, &b, err, sizeof(err)),
                     0);
    assert_int_equal(b.n, a.n - 1);
    /* a window that ends before the newest record did not see every record: not reusable */
    assert_int_equal(history_query(rd, "slab", "dentry", "active_objs", w, newest - 1, &b, err,
                                   sizeof(err)),
                     0);
    assert_int_equal(b.reuse_before, 0);
    ring_reader_close(rd);
    history_points_free(&a);
    history_points_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slab_dentry),
        cmocka_unit_test(test_vmalloc_kernel_clone),
        cmocka_unit_test(test_kmalloc_cg_1024),
        cmocka_unit_test(test_buddy),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tier_choice),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_parts_overwritten),
        cmocka_unit_test(test_reuse_before),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
