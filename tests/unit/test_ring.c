/*
 * Tests for the history ring (common/ring.c, docs/FORMAT.md): round trip of a
 * real trace, entity churn, keyframe random access, crash consistency, bad
 * files, wrap-around under small budgets, concurrent readers, the idle
 * budget, export and resize.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "crc32c.h"
#include "ring.h"
#include "series.h"

#define TRACE "tests/fixtures/growth-trace"
#define TRACE_N 30

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof(tmpdir), "ring");
}

static int teardown_tmp(void **state)
{
    (void)state;
    test_tmpdir_remove(tmpdir);
    return 0;
}

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, name);
    return p[i];
}

/* A directly parsed snapshot, the reference every reconstruction is compared with. */
static void parse_snapshot(struct sampler *sm, const char *dir)
{
    assert_int_equal(sampler_init(sm, dir, SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(sm), 0);
}

static void snapshot_dir(char *buf, size_t n, int i)
{
    snprintf(buf, n, "%s/%03d", TRACE, i);
}

static uint64_t snapshot_time(int i)
{
    char p[256];
    size_t len;
    char *s;
    uint64_t t;

    snprintf(p, sizeof(p), "%s/%03d/time_ns", TRACE, i);
    s = fixture_read(p, &len);
    t = strtoull(s, NULL, 10);
    free(s);
    return t;
}

static const struct slab_cache *find_cache(const struct slab_info *si, const char *name)
{
    long i = slab_find(si, name);
    return i < 0 ? NULL : &si->caches[i];
}

static const struct vmalloc_row *find_row(const struct vmalloc_info *vi,
                                          const struct vmalloc_row *k)
{
    for (size_t i = 0; i < vi->n; i++)
        if (vi->rows[i].type == k->type && strcmp(vi->rows[i].caller, k->caller) == 0 &&
            strcmp(vi->rows[i].module, k->module) == 0)
            return &vi->rows[i];
    return NULL;
}

/* Every parsed number of b equals a's (tables compared by key, not order). */
static void assert_sampler_equal(const struct sampler *a, const struct sampler *b)
{
    assert_int_equal(a->slab.n, b->slab.n);
    assert_int_equal(a->slab.version_major, b->slab.version_major);
    assert_int_equal(a->slab.version_minor, b->slab.version_minor);
    assert_int_equal(a->slab.statistics, b->slab.statistics);
    for (size_t i = 0; i < a->slab.n; i++) {
        const struct slab_cache *x = &a->slab.caches[i], *y = find_cache(&b->slab, x->name);
        if (!y) {
            fail_msg("cache %s missing", x->name);
            return;
        }
        assert_slab_fields_equal(x, y);
    }
    assert_kmalloc_equal(&a->kmalloc, &b->kmalloc);
    assert_int_equal(a->vmalloc.n, b->vmalloc.n);
    for (size_t i = 0; i < a->vmalloc.n; i++) {
        const struct vmalloc_row *x = &a->vmalloc.rows[i], *y = find_row(&b->vmalloc, x);
        if (!y) {
            fail_msg("vmalloc row %s [%s] missing", x->caller, x->module);
            return;
        }
        assert_vmalloc_counts_equal(x, y);
    }
    assert_memory_equal(a->vmalloc.types, b->vmalloc.types, sizeof(a->vmalloc.types));
    assert_int_equal(a->vmalloc.unpurged.areas, b->vmalloc.unpurged.areas);
    assert_int_equal(a->vmalloc.unpurged.bytes, b->vmalloc.unpurged.bytes);
    assert_memory_equal(&a->vmalloc.total, &b->vmalloc.total, sizeof(a->vmalloc.total));
    assert_int_equal(a->buddy.n, b->buddy.n);
    assert_int_equal(a->buddy.orders, b->buddy.orders);
    for (size_t i = 0; i < a->buddy.n; i++) {
        const struct buddy_zone *x = &a->buddy.zones[i];
        long j = buddy_find(&b->buddy, x->node, x->zone);
        assert_true(j >= 0);
        assert_memory_equal(x->free, b->buddy.zones[j].free, sizeof(x->free));
        assert_int_equal(x->free_pages, b->buddy.zones[j].free_pages);
        assert_memory_equal(x->unusable, b->buddy.zones[j].unusable,
                            a->buddy.orders * sizeof(x->unusable[0]));
    }
    assert_int_equal(a->meminfo.present, b->meminfo.present);
    assert_memory_equal(a->meminfo.value, b->meminfo.value, sizeof(a->meminfo.value));
}

static void import_trace(const char *out, const struct ring_config *cfg)
{
    char err[512];
    int r = ring_import_dir(TRACE, out, cfg, err, sizeof(err));
    if (r < 0)
        fail_msg("import: %d %s", r, err);
}

static struct ring_reader *open_reader(const char *path)
{
    struct ring_reader *rd;
    char err[512];
    int r = ring_reader_open_path(&rd, path, err, sizeof(err));
    if (r < 0)
        fail_msg("reader %s: %d %s", path, r, err);
    return rd;
}

/* ---- round trip ---- */

struct rt_ctx {
    int i;
    int start; /* snapshot of the first record, a keyframe */
    struct sampler got;
};

static int rt_cb(const struct ring_state *st, void *arg)
{
    struct rt_ctx *x = arg;
    struct sampler want;
    char dir[256];

    assert_true(x->i < TRACE_N);
    assert_int_equal(st->wall_ns, snapshot_time(x->i));
    assert_int_equal(st->mono_ns, st->wall_ns);
    assert_int_equal(st->src_mask, SRC_ALL);
    assert_int_equal(st->err_mask, 0);
    assert_int_equal(st->page_size, 4096);
    assert_int_equal(st->keyframe, x->i == x->start);
    snapshot_dir(dir, sizeof(dir), x->i);
    parse_snapshot(&want, dir);
    assert_int_equal(ring_state_to_sampler(st, &x->got), 0);
    assert_int_equal(x->got.valid, SRC_ALL);
    assert_sampler_equal(&want, &x->got);
    sampler_fini(&want);
    x->i++;
    return 0;
}

static void test_roundtrip_trace(void **state)
{
    const char *path = tpath("trace.ring");
    struct rt_ctx x;
    struct ring_reader *rd;
    struct stat st;

    (void)state;
    memset(&x, 0, sizeof(x));
    import_trace(path, NULL);
    assert_int_equal(stat(path, &st), 0);
    printf("# growth trace: %d snapshots -> %lld byte file\n", TRACE_N, (long long)st.st_size);
    rd = open_reader(path);
    ring_sampler_init(&x.got);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, rt_cb, &x), 0);
    assert_int_equal(x.i, TRACE_N);
    sampler_fini(&x.got);
    ring_reader_close(rd);
}

/* The coarse tier: per minute the last values, and min/max over the minute's samples. */
struct coarse_ctx {
    int records;
    uint64_t samples;
    struct sampler snaps[TRACE_N];
    uint64_t times[TRACE_N];
};

static int coarse_cb(const struct ring_state *st, void *arg)
{
    struct coarse_ctx *x = arg;
    const struct sampler *last = NULL;
    size_t it = 0;
    struct ring_entity e;
    int checked = 0;

    x->records++;
    x->samples += st->nsamples;
    for (int i = 0; i < TRACE_N; i++)
        if (x->times[i] / 60000000000ull == st->wall_ns / 60000000000ull)
            last = &x->snaps[i];
    if (!last) {
        fail_msg("no snapshot in the minute of a coarse record");
        return 1;
    }
    while (ring_state_next(st, &it, &e)) {
        const struct slab_cache *c;
        uint64_t mn = UINT64_MAX, mx = 0;
        char name[SLAB_NAME_MAX];

        if (e.kind != SK_SLAB)
            continue;
        memcpy(name, e.key, e.keylen);
        name[e.keylen] = '\0';
        c = find_cache(&last->slab, name);
        if (!c) {
            fail_msg("cache %s missing", name);
            return 1;
        }
        assert_int_equal(e.val[SF_SLAB_ACTIVE_OBJS], c->active_objs);
        assert_int_equal(e.val[SF_SLAB_NUM_OBJS], c->num_objs);
        for (int i = 0; i < TRACE_N; i++) {
            const struct slab_cache *ci;
            if (x->times[i] / 60000000000ull != st->wall_ns / 60000000000ull)
                continue;
            ci = find_cache(&x->snaps[i].slab, name);
            if (!ci) {
                fail_msg("cache %s missing", name);
                return 1;
            }
            if (ci->active_objs < mn)
                mn = ci->active_objs;
            if (ci->active_objs > mx)
                mx = ci->active_objs;
        }
        assert_int_equal(e.min[SF_SLAB_ACTIVE_OBJS], mn);
        assert_int_equal(e.max[SF_SLAB_ACTIVE_OBJS], mx);
        checked++;
    }
    assert_true(checked > 200);
    return 0;
}

static void test_coarse_trace(void **state)
{
    const char *path = tpath("trace-coarse.ring");
    struct coarse_ctx *x = calloc(1, sizeof(*x));
    struct ring_reader *rd;
    char dir[256];

    (void)state;
    assert_non_null(x);
    import_trace(path, NULL);
    for (int i = 0; i < TRACE_N; i++) {
        snapshot_dir(dir, sizeof(dir), i);
        parse_snapshot(&x->snaps[i], dir);
        x->times[i] = snapshot_time(i);
    }
    rd = open_reader(path);
    assert_int_equal(ring_reader_walk(rd, RING_COARSE, 0, 0, coarse_cb, x), 0);
    assert_true(x->records >= 1);
    assert_int_equal(x->samples, TRACE_N);
    ring_reader_close(rd);
    for (int i = 0; i < TRACE_N; i++)
        sampler_fini(&x->snaps[i]);
    free(x);
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

/* ---- budget: a simulated idle day ---- */

static struct ring *open_ring(const char *path, const struct ring_config *cfg, char *note,
                              size_t nl)
{
    struct ring *r;
    char tmp[512];
    int ret = ring_open(&r, path, cfg, note ? note : tmp, note ? nl : sizeof(tmp));
    if (ret < 0) {
        fail_msg("ring_open %s: %d", path, ret);
        return NULL;
    }
    return r;
}

static void idle_sampler(struct sampler *sm)
{
    parse_snapshot(sm, "tests/fixtures/idle");
}

static void test_budget_idle_day(void **state)
{
    const char *path = tpath("day.ring");
    struct ring_stats rs;
    struct sampler sm;
    struct ring *r;
    struct stat st;
    double per_sample, per_minute;
    struct timespec t0, t1;

    (void)state;
    idle_sampler(&sm);
    r = open_ring(path, NULL, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ring_fill_idle(r, &sm, 86400, 1700000000000000000ull, 42), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ring_stats(r, &rs);
    assert_int_equal(rs.full_records, 86400);
    assert_int_equal(rs.full_dropped, 0);
    per_sample = rs.full_bytes_per_sample;
    per_minute = rs.coarse_bytes_per_record;
    printf("# idle day: %.1f bytes/sample full tier (%llu keyframes), %.1f bytes/minute coarse "
           "(%llu records); 7 days need %.1f MiB, 30 days coarse %.1f MiB; %.2f s, "
           "%.1f us/append\n",
           per_sample, (unsigned long long)rs.full_keyframes, per_minute,
           (unsigned long long)rs.coarse_records, per_sample * 7 * 86400 / 1048576.0,
           per_minute * 30 * 1440 / 1048576.0,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 86400e3);
    assert_true(per_sample <= 100.0);
    assert_true(per_minute * 30 * 1440 <= (double)RING_DEFAULT_COARSE_BYTES);
    assert_true(rs.coarse_records >= 1439);
    ring_close(r);
    assert_int_equal(stat(path, &st), 0);
    assert_true((uint64_t)st.st_size <=
                RING_DEFAULT_FULL_BYTES + RING_DEFAULT_COARSE_BYTES + (1u << 20));
    unlink(path);
    sampler_fini(&sm);
}

/* ---- helpers: synthetic samplers, digests, raw header access ---- */

static void synth_init(struct sampler *sm)
{
    ring_sampler_init(sm);
    sm->page_size = 4096;
    sm->valid = SRC_ALL;
}

static void synth_slab(struct sampler *sm, const char *const *names, size_t n, uint64_t k)
{
    void *arr = sm->slab.caches;
    assert_int_equal(array_reserve(&arr, &sm->slab.cap, n + 1, sizeof(*sm->slab.caches)), 0);
    sm->slab.caches = arr;
    sm->slab.n = n;
    sm->slab.version_major = 2;
    sm->slab.version_minor = 1;
    for (size_t i = 0; i < n; i++) {
        struct slab_cache *c = &sm->slab.caches[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", names[i]);
        c->objsize = 64 + 8 * i;
        c->objperslab = 32;
        c->pagesperslab = 1;
        c->num_slabs = k + i + 1;
        c->active_slabs = c->num_slabs;
        c->num_objs = c->num_slabs * 32;
        c->active_objs = c->num_objs - (k % 7);
        c->bytes_total = c->num_slabs * 4096;
        c->bytes_active = c->active_objs * c->objsize;
    }
    assert_int_equal(kmalloc_build(&sm->slab, &sm->kmalloc), 0);
}

static void synth_vmalloc(struct sampler *sm, const char *const *callers, const uint64_t *nodes,
                          size_t n, uint64_t k)
{
    void *arr = sm->vmalloc.rows;
    assert_int_equal(array_reserve(&arr, &sm->vmalloc.cap, n + 1, sizeof(*sm->vmalloc.rows)), 0);
    sm->vmalloc.rows = arr;
    sm->vmalloc.n = n;
    memset(sm->vmalloc.types, 0, sizeof(sm->vmalloc.types));
    memset(&sm->vmalloc.total, 0, sizeof(sm->vmalloc.total));
    for (size_t i = 0; i < n; i++) {
        struct vmalloc_row *row = &sm->vmalloc.rows[i];
        memset(row, 0, sizeof(*row));
        snprintf(row->caller, sizeof(row->caller), "%s", callers[i]);
        if (i % 2)
            snprintf(row->module, sizeof(row->module), "mod%zu", i);
        row->type = (enum vmalloc_type)(i % VMALLOC_NTYPES);
        row->areas = k + i + 1;
        row->bytes = row->areas * 20480;
        row->pages = row->areas * 4;
        row->node_mask = nodes[i];
        for (unsigned nd = 0; nd < 64; nd++)
            if ((nodes[i] >> nd) & 1)
                row->nodes[nd] = row->pages / 2 + nd;
        sm->vmalloc.types[row->type].areas += row->areas;
        sm->vmalloc.types[row->type].bytes += row->bytes;
        sm->vmalloc.types[row->type].pages += row->pages;
        sm->vmalloc.total.areas += row->areas;
        sm->vmalloc.total.bytes += row->bytes;
        sm->vmalloc.total.pages += row->pages;
    }
    sm->vmalloc.unpurged.areas = k;
    sm->vmalloc.unpurged.bytes = k * 4096;
}

static void synth_buddy(struct sampler *sm, unsigned orders, uint64_t k)
{
    void *arr = sm->buddy.zones;
    assert_int_equal(array_reserve(&arr, &sm->buddy.cap, 2, sizeof(*sm->buddy.zones)), 0);
    sm->buddy.zones = arr;
    sm->buddy.n = 1;
    sm->buddy.orders = orders;
    memset(&sm->buddy.zones[0], 0, sizeof(sm->buddy.zones[0]));
    snprintf(sm->buddy.zones[0].zone, sizeof(sm->buddy.zones[0].zone), "Normal");
    for (unsigned o = 0; o < orders; o++)
        sm->buddy.zones[0].free[o] = (k * 3 + o) % 50;
    sm->buddy.zones[0].free_pages = series_buddy_free_pages(sm->buddy.zones[0].free, orders);
    for (unsigned o = 0; o < orders; o++)
        sm->buddy.zones[0].unusable[o] = series_buddy_unusable(sm->buddy.zones[0].free, orders, o);
}

static void synth_meminfo(struct sampler *sm, uint32_t present, uint64_t k)
{
    memset(&sm->meminfo, 0, sizeof(sm->meminfo));
    sm->meminfo.present = present;
    for (int i = 0; i < MEMINFO_NKEYS; i++)
        if ((present >> i) & 1)
            sm->meminfo.value[i] = (1000 + k * 13 + (uint64_t)i) * 1024;
}

/* Order-independent digest of a state's entities and times. */
static uint64_t state_digest(const struct ring_state *st)
{
    uint64_t h = 1469598103934665603ull ^ st->wall_ns, sum = 0;
    size_t it = 0;
    struct ring_entity e;

    while (ring_state_next(st, &it, &e)) {
        uint64_t x = 1469598103934665603ull ^ (uint64_t)e.kind;
        for (size_t i = 0; i < e.keylen; i++)
            x = (x ^ (uint8_t)e.key[i]) * 1099511628211ull;
        x = (x ^ e.fm[0]) * 1099511628211ull;
        x = (x ^ e.fm[1]) * 1099511628211ull;
        for (unsigned f = 0; f < e.nfields; f++)
            x = (x ^ e.val[f]) * 1099511628211ull;
        sum += x;
    }
    return (h ^ sum) * 1099511628211ull;
}

struct digests {
    size_t n, cap;
    uint64_t *d, *wall, *seq;
    bool first_kf;
};

static int digest_cb(const struct ring_state *st, void *arg)
{
    struct digests *x = arg;
    if (x->n == 0)
        x->first_kf = st->keyframe;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->d = realloc(x->d, x->cap * sizeof(*x->d));
        x->wall = realloc(x->wall, x->cap * sizeof(*x->wall));
        x->seq = realloc(x->seq, x->cap * sizeof(*x->seq));
        assert_non_null(x->d);
        assert_non_null(x->wall);
        assert_non_null(x->seq);
    }
    x->d[x->n] = state_digest(st);
    x->wall[x->n] = st->wall_ns;
    x->seq[x->n] = st->seq;
    x->n++;
    return 0;
}

static void digests_free(struct digests *x)
{
    free(x->d);
    free(x->wall);
    free(x->seq);
    memset(x, 0, sizeof(*x));
}

static void walk_digests(const char *path, enum ring_tier t, uint64_t from, uint64_t to,
                         struct digests *x)
{
    struct ring_reader *rd = open_reader(path);
    memset(x, 0, sizeof(*x));
    assert_int_equal(ring_reader_walk(rd, t, from, to, digest_cb, x), 0);
    ring_reader_close(rd);
}

/* Header fields by their documented offsets (docs/FORMAT.md). */
static uint64_t hdr_u64(const char *path, off_t off)
{
    uint64_t v = 0;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &v, 8, off), 8);
    close(fd);
    return v;
}

static void file_write(const char *path, off_t off, const void *buf, size_t n)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
    close(fd);
}

#define HDR_TIER_OFF(t) (40 + 8 * (t))
#define HDR_HINT(t, field) (96 + 128 * (t) + 8 * (field))
enum { H_TAIL_OFF, H_TAIL_SEQ, H_HEAD_OFF, H_HEAD_SEQ, H_LAST_OFF, H_LAST_SEQ, H_KF_OFF, H_KF_SEQ,
       H_RECORDS };

/* ---- entities appearing and disappearing ---- */

static const char *const names0[] = { "alpha", "beta", "gamma" };
static const char *const names1[] = { "alpha", "gamma", "delta" };
static const char *const names2[] = { "beta", "alpha", "gamma" };
static const char *const names3[] = { "beta", "alpha", "gamma", "epsilon" };
static const char *const callers0[] = { "kernel_clone" };
static const uint64_t nodes0[] = { 1 };
static const char *const callers1[] = { "kernel_clone", "bpf_prog_alloc" };
static const uint64_t nodes1[] = { 3, 0 };

/* Step k of the churn scenario; sources outside the step's mask keep their previous contents. */
static unsigned churn_step(struct sampler *sm, int k, unsigned *err)
{
    uint32_t mi_all = (1u << MEMINFO_NKEYS) - 1;
    *err = 0;
    switch (k) {
    case 0:
        synth_slab(sm, names0, 3, 0);
        synth_vmalloc(sm, callers0, nodes0, 1, 0);
        synth_buddy(sm, 11, 0);
        synth_meminfo(sm, mi_all & ~(1u << MEMINFO_SLAB), 0);
        return SRC_ALL;
    case 1: /* beta gone, delta new; a node and a caller appear; SUnreclaim gone, Slab back */
        synth_slab(sm, names1, 3, 1);
        synth_vmalloc(sm, callers1, nodes1, 2, 1);
        synth_buddy(sm, 11, 1);
        synth_meminfo(sm, mi_all & ~(1u << MEMINFO_SUNRECLAIM), 1);
        return SRC_ALL;
    case 2: /* beta back, delta gone, node 1 and bpf_prog_alloc gone, SUnreclaim back */
        synth_slab(sm, names2, 3, 2);
        synth_vmalloc(sm, callers0, nodes0, 1, 2);
        synth_buddy(sm, 11, 2);
        synth_meminfo(sm, mi_all, 2);
        return SRC_ALL;
    case 3: /* only slabinfo sampled */
        synth_slab(sm, names3, 4, 3);
        return SRC_BIT(SRC_SLABINFO);
    default: /* vmallocinfo failed: its previous contents stay */
        synth_slab(sm, names2, 3, 4);
        synth_buddy(sm, 11, 4);
        *err = SRC_BIT(SRC_VMALLOCINFO);
        return SRC_ALL;
    }
}

struct churn_ctx {
    int i;
    struct sampler want, got;
};

static int churn_cb(const struct ring_state *st, void *arg)
{
    struct churn_ctx *x = arg;
    struct ring_entity e;
    unsigned err;

    churn_step(&x->want, x->i, &err);
    assert_int_equal(st->err_mask, err);
    assert_int_equal(st->src_mask, x->i == 3 ? SRC_BIT(SRC_SLABINFO) : SRC_ALL & ~err);
    assert_int_equal(ring_state_to_sampler(st, &x->got), 0);
    x->want.valid = SRC_ALL;
    assert_sampler_equal(&x->want, &x->got);
    /* absent, not zero */
    assert_int_equal(ring_state_find(st, SK_SLAB, "beta", 4, &e), x->i != 1);
    assert_int_equal(ring_state_find(st, SK_SLAB, "delta", 5, &e), x->i == 1);
    assert_true(ring_state_find(st, SK_MEMINFO, "meminfo", 7, &e));
    assert_int_equal(series_fm_has(e.fm, series_meminfo_field(MEMINFO_SUNRECLAIM)), x->i != 1);
    x->i++;
    return 0;
}

static void test_entities_appear_disappear(void **state)
{
    const char *path = tpath("churn.ring");
    struct ring_config cfg = { 1 << 20, 1 << 20, 64 };
    struct churn_ctx x;
    struct sampler sm;
    struct ring *r;
    struct ring_reader *rd;

    (void)state;
    synth_init(&sm);
    r = open_ring(path, &cfg, NULL, 0);
    for (int k = 0; k < 5; k++) {
        unsigned err, mask = churn_step(&sm, k, &err);
        uint64_t t = (uint64_t)k * 1000000000u;
        assert_int_equal(ring_append(r, &sm, mask, err, 1000000000000ull + t, t), 0);
    }
    ring_close(r);
    sampler_fini(&sm);

    memset(&x, 0, sizeof(x));
    synth_init(&x.want);
    ring_sampler_init(&x.got);
    rd = open_reader(path);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, churn_cb, &x), 0);
    assert_int_equal(x.i, 5);
    ring_reader_close(rd);
    sampler_fini(&x.want);
    sampler_fini(&x.got);
}

/* ---- long keys: names spread over continuation slots, and their reuse ---- */

struct long_ctx {
    int n;
    char slab[SLAB_NAME_MAX];
    char caller[VMALLOC_CALLER_MAX], module[VMALLOC_MODULE_MAX];
};

static int long_cb(const struct ring_state *st, void *arg)
{
    struct long_ctx *x = arg;
    struct sampler got;
    long i;

    ring_sampler_init(&got);
    assert_int_equal(ring_state_to_sampler(st, &got), 0);
    i = slab_find(&got.slab, x->slab);
    assert_int_equal(i >= 0, st->seq % 2 == 1);
    if (st->seq % 2 == 1) {
        assert_int_equal(got.vmalloc.n, 1);
        assert_string_equal(got.vmalloc.rows[0].caller, x->caller);
        assert_string_equal(got.vmalloc.rows[0].module, x->module);
    }
    sampler_fini(&got);
    x->n++;
    return 0;
}

static void test_long_names(void **state)
{
    struct ring_config cfg = { 64 << 10, 64 << 10, 16 };
    const char *path = tpath("long.ring");
    struct long_ctx x;
    const char *names[1];
    const char *callers[1];
    uint64_t nodes[1] = { 1 };
    struct ring_stats rs;
    struct ring_reader *rd;
    struct sampler sm;
    struct ring *r;

    (void)state;
    memset(&x, 0, sizeof(x));
    memset(x.slab, 'n', SLAB_NAME_MAX - 1);
    memset(x.caller, 'c', VMALLOC_CALLER_MAX - 1);
    memset(x.module, 'm', VMALLOC_MODULE_MAX - 1);
    names[0] = x.slab;
    callers[0] = x.caller;
    synth_init(&sm);
    r = open_ring(path, &cfg, NULL, 0);
    /* odd samples have the long names, even ones a short name: a 16-slot table must recycle */
    for (uint64_t k = 0; k < 400; k++) {
        char shortname[32];
        const char *sn[1] = { shortname };
        snprintf(shortname, sizeof(shortname), "s%llu", (unsigned long long)k);
        if (k % 2 == 0) {
            synth_slab(&sm, names, 1, k);
            synth_vmalloc(&sm, callers, nodes, 1, k);
            snprintf(sm.vmalloc.rows[0].module, VMALLOC_MODULE_MAX, "%s", x.module);
        } else {
            synth_slab(&sm, sn, 1, k);
            synth_vmalloc(&sm, callers, nodes, 0, k);
        }
        assert_int_equal(ring_append(r, &sm, SRC_BIT(SRC_SLABINFO) | SRC_BIT(SRC_VMALLOCINFO), 0,
                                     1700000000000000000ull + k * 61000000000ull, k),
                         0);
    }
    ring_stats(r, &rs);
    assert_true(rs.slots_used <= 16);
    ring_close(r);
    sampler_fini(&sm);
    rd = open_reader(path);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, long_cb, &x), 0);
    assert_true(x.n > 20);
    ring_reader_close(rd);
}

/* ---- keyframes: random access from the middle ---- */

static void test_keyframe_random_access(void **state)
{
    const char *path = tpath("kf.ring");
    struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };
    struct digests all, part, part2;
    struct ring_stats rs;
    struct sampler sm;
    struct ring *r;
    size_t mid = 12345, j;

    (void)state;
    idle_sampler(&sm);
    r = open_ring(path, &cfg, NULL, 0);
    assert_int_equal(ring_fill_idle(r, &sm, 20000, 1700000000000000000ull, 7), 0);
    ring_stats(r, &rs);
    assert_true(rs.full_keyframes >= 5);
    ring_close(r);
    sampler_fini(&sm);

    walk_digests(path, RING_FULL, 0, 0, &all);
    assert_int_equal(all.n, 20000);
    assert_true(all.first_kf);
    {
        struct ring_reader *rd = open_reader(path);
        uint64_t oldest, newest;
        assert_int_equal(ring_reader_span(rd, RING_FULL, &oldest, &newest), 0);
        assert_int_equal(oldest, all.wall[0]);
        assert_int_equal(newest, all.wall[all.n - 1]);
        assert_int_equal(ring_reader_span(rd, RING_COARSE, &oldest, &newest), 0);
        assert_true(oldest >= all.wall[0] && oldest < all.wall[0] + 60000000000ull);
        assert_true(newest <= all.wall[all.n - 1] && newest > all.wall[all.n - 1] - 60000000000ull);
        assert_int_equal(ring_reader_page_size(rd), 4096);
        ring_reader_close(rd);
    }
    walk_digests(path, RING_FULL, all.wall[mid], 0, &part);
    assert_int_equal(part.n, all.n - mid);
    for (j = 0; j < part.n; j++) {
        assert_int_equal(part.seq[j], all.seq[mid + j]);
        assert_int_equal(part.d[j], all.d[mid + j]);
    }
    /* a bounded window */
    walk_digests(path, RING_FULL, all.wall[100] - 1, all.wall[150], &part2);
    assert_int_equal(part2.n, 51);
    assert_int_equal(part2.d[0], all.d[100]);
    assert_int_equal(part2.d[50], all.d[150]);
    digests_free(&all);
    digests_free(&part);
    digests_free(&part2);
}

/* ---- crash consistency ---- */

static void fill_file(const char *path, const struct ring_config *cfg, uint64_t n, uint64_t start)
{
    struct sampler sm;
    struct ring *r;

    idle_sampler(&sm);
    r = open_ring(path, cfg, NULL, 0);
    assert_int_equal(ring_fill_idle(r, &sm, n, start, 3), 0);
    ring_close(r);
    sampler_fini(&sm);
}

/* Reopen as a writer; the note must be empty (nothing moved aside). */
static void reopen_check(const char *path, const struct ring_config *cfg,
                         const struct digests *want, size_t expect)
{
    struct digests got;
    struct ring_stats rs;
    struct sampler sm;
    struct ring *r;
    char note[512];

    r = open_ring(path, cfg, note, sizeof(note));
    assert_string_equal(note, "");
    ring_stats(r, &rs);
    assert_int_equal(rs.full_records, expect);
    ring_close(r);
    walk_digests(path, RING_FULL, 0, 0, &got);
    assert_int_equal(got.n, expect);
    for (size_t i = 0; i < expect; i++)
        assert_int_equal(got.d[i], want->d[i]);
    digests_free(&got);
    /* and appends continue after the last valid record */
    idle_sampler(&sm);
    r = open_ring(path, cfg, note, sizeof(note));
    assert_int_equal(ring_fill_idle(r, &sm, 10, want->wall[expect - 1] + 1000000000u, 9), 0);
    ring_close(r);
    sampler_fini(&sm);
    walk_digests(path, RING_FULL, 0, 0, &got);
    assert_int_equal(got.n, expect + 10);
    for (size_t i = 0; i < expect; i++)
        assert_int_equal(got.d[i], want->d[i]);
    digests_free(&got);
}

static void test_crash_torn_records(void **state)
{
    struct ring_config cfg = { 1 << 20, 256 << 10, 1024 };
    const char *path = tpath("crash.ring");
    struct digests want;
    uint64_t toff, last, len32 = 0;
    uint32_t zero = 0;
    unsigned char b;

    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        unlink(path);
        fill_file(path, &cfg, 200, 1700000000000000000ull);
        walk_digests(path, RING_FULL, 0, 0, &want);
        assert_int_equal(want.n, 200);
        toff = hdr_u64(path, HDR_TIER_OFF(0));
        last = hdr_u64(path, HDR_HINT(0, H_LAST_OFF));
        {
            int fd = open(path, O_RDONLY);
            uint32_t l;
            assert_int_equal(pread(fd, &l, 4, (off_t)(toff + last)), 4);
            close(fd);
            len32 = l;
        }
        switch (mode) {
        case 0: /* the sequence number never made it */
            file_write(path, (off_t)(toff + last + 8), &zero, 4);
            break;
        case 1: /* one payload byte differs: CRC mismatch */
            b = 0x5a;
            file_write(path, (off_t)(toff + last + 12 + len32 / 2), &b, 1);
            break;
        case 2: { /* the second half of the payload never reached the file */
            char z[4096] = { 0 };
            file_write(path, (off_t)(toff + last + 12 + len32 / 2), z, len32 - len32 / 2);
            break;
        }
        default: { /* hints written before the crash lag behind: head points 20 records back */
            uint64_t v = want.seq[180];
            file_write(path, HDR_HINT(0, H_HEAD_SEQ), &v, 8);
            v = want.seq[179];
            file_write(path, HDR_HINT(0, H_LAST_SEQ), &v, 8);
            break;
        }
        }
        reopen_check(path, &cfg, &want, mode == 3 ? 200 : 199);
        digests_free(&want);
    }
}

/* kill -9 of a writer in the middle of appending: everything it reported written is there. */
static void test_crash_kill9(void **state)
{
    struct ring_config cfg = { 256 << 10, 128 << 10, 1024 };
    const char *path = tpath("kill9.ring");
    struct digests got;
    uint64_t done = 0, v;
    int pfd[2];
    pid_t pid;

    (void)state;
    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sampler sm;
        struct ring *r;
        char note[256];
        close(pfd[0]);
        parse_snapshot(&sm, "tests/fixtures/idle");
        if (ring_open(&r, path, &cfg, note, sizeof(note)) < 0)
            _exit(1);
        for (uint64_t i = 0;; i++) {
            uint64_t t = 1700000000000000000ull + i * 1000000000u;
            if (ring_fill_idle(r, &sm, 1, t, (uint32_t)i + 1) < 0)
                _exit(2);
            v = i + 1;
            if (write(pfd[1], &v, 8) != 8)
                _exit(3);
        }
    }
    close(pfd[1]);
    while (done < 3000 && read(pfd[0], &v, 8) == 8)
        done = v;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(pfd[0], &v, 8) == 8)
        done = v;
    close(pfd[0]);
    assert_true(done >= 3000);
    {
        struct ring *r;
        struct ring_stats rs;
        char note[256];
        r = open_ring(path, &cfg, note, sizeof(note));
        assert_string_equal(note, "");
        ring_stats(r, &rs);
        /* the small ring wrapped: the newest record is the last one reported (or one more) */
        assert_true(rs.full_dropped + rs.full_records >= done);
        assert_true(rs.full_dropped > 0);
        ring_close(r);
    }
    walk_digests(path, RING_FULL, 0, 0, &got);
    assert_true(got.n > 100);
    assert_true(got.wall[got.n - 1] >= 1700000000000000000ull + (done - 1) * 1000000000u - 100000);
    for (size_t i = 1; i < got.n; i++)
        assert_true(got.seq[i] == got.seq[i - 1] + 1);
    digests_free(&got);
}

/* ---- bad files are moved aside ---- */

static void expect_moved_aside(const char *path, const char *why)
{
    struct ring_config cfg = { 128 << 10, 64 << 10, 512 };
    struct digests got;
    struct sampler sm;
    struct ring *r;
    struct stat st;
    char note[1024], aside[600];
    const char *p;

    r = open_ring(path, &cfg, note, sizeof(note));
    if (!strstr(note, why) || !strstr(note, "moved it aside"))
        fail_msg("note \"%s\" does not say \"%s\"", note, why);
    p = strstr(note, "moved it aside to ");
    assert_non_null(p);
    snprintf(aside, sizeof(aside), "%s", p + strlen("moved it aside to "));
    *strstr(aside, " and started") = '\0';
    assert_int_equal(lstat(aside, &st), 0);
    idle_sampler(&sm);
    assert_int_equal(ring_fill_idle(r, &sm, 3, 1700000000000000000ull, 1), 0);
    ring_close(r);
    sampler_fini(&sm);
    walk_digests(path, RING_FULL, 0, 0, &got);
    assert_int_equal(got.n, 3);
    digests_free(&got);
    if (S_ISDIR(st.st_mode))
        rmdir(aside);
    else
        unlink(aside);
    unlink(path);
}

static void test_bad_files(void **state)
{
    struct ring_config cfg = { 128 << 10, 64 << 10, 512 };
    const char *path = tpath("bad.ring");
    struct ring_reader *rd;
    char err[256], *junk;
    uint32_t v;
    int fd;

    (void)state;
    /* garbage */
    junk = malloc(100000);
    assert_non_null(junk);
    for (int i = 0; i < 100000; i++)
        junk[i] = (char)(i * 7919 + 13);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_int_equal(write(fd, junk, 100000), 100000);
    close(fd);
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "bad magic"));
    expect_moved_aside(path, "bad magic");
    free(junk);

    /* an empty file */
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(fd);
    expect_moved_aside(path, "truncated");

    /* another layout version (header checksum made right) */
    fill_file(path, &cfg, 5, 1700000000000000000ull);
    v = RING_FORMAT_VERSION + 1;
    file_write(path, 8, &v, 4);
    {
        unsigned char h[84];
        fd = open(path, O_RDONLY);
        assert_int_equal(pread(fd, h, 84, 0), 84);
        close(fd);
        v = crc32c(0, h, 84);
        file_write(path, 84, &v, 4);
    }
    assert_int_equal(ring_reader_open_path(&rd, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "version"));
    expect_moved_aside(path, "layout version 2");

    /* a corrupt header */
    fill_file(path, &cfg, 5, 1700000000000000000ull);
    v = 12345;
    file_write(path, 56, &v, 4);
    expect_moved_aside(path, "header checksum mismatch");

    /* truncated */
    fill_file(path, &cfg, 5, 1700000000000000000ull);
    assert_int_equal(truncate(path, 100000), 0);
    expect_moved_aside(path, "truncated");

    /* records destroyed: neither the tail nor any keyframe is valid */
    fill_file(path, &cfg, 5, 1700000000000000000ull);
    {
        uint64_t off = hdr_u64(path, HDR_TIER_OFF(0));
        char *z = calloc(1, 128 << 10);
        file_write(path, (off_t)off, z, 128 << 10);
        free(z);
    }
    expect_moved_aside(path, "no valid record");

    /* not a file at all */
    assert_int_equal(mkdir(path, 0755), 0);
    expect_moved_aside(path, "not a regular file");
}

/* Opening fails only on I/O errors, e.g. a directory we may not write into. */
static void test_open_io_error(void **state)
{
    struct ring *r;
    char note[128];

    (void)state;
    assert_true(ring_open(&r, "/nonexistent-dir/x.ring", NULL, note, sizeof(note)) < 0);
    /* and a second writer on the same file is refused */
    {
        const char *path = tpath("busy.ring");
        struct ring_config cfg = { 128 << 10, 64 << 10, 64 };
        struct ring *r1 = open_ring(path, &cfg, NULL, 0), *r2;
        assert_int_equal(ring_open(&r2, path, &cfg, note, sizeof(note)), -EBUSY);
        ring_close(r1);
    }
}

/* ---- wrap-around and name-slot reclamation under tiny budgets ---- */

/* ---- walks that go on from where the last one stopped ---- */

/* Every delivered state, field by field and entity by entity, as bytes. */
struct walk_log {
    uint8_t *p;
    size_t n, cap;
    size_t records;
    uint64_t last_wall;
    size_t stop_after; /* the callback stops the walk after this many records; 0: never */
    bool first_kf;     /* the first record delivered is a keyframe */
};

static void log_put(struct walk_log *w, const void *v, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2;
        w->p = realloc(w->p, w->cap);
        assert_non_null(w->p);
    }
    memcpy(w->p + w->n, v, n);
    w->n += n;
}

#define LOG_PUT(w, v) log_put((w), &(v), sizeof(v))

static int log_cb(const struct ring_state *st, void *arg)
{
    struct walk_log *w = arg;
    struct ring_entity e;
    size_t it = 0;

    LOG_PUT(w, st->tier);
    LOG_PUT(w, st->seq);
    LOG_PUT(w, st->wall_ns);
    LOG_PUT(w, st->mono_ns);
    LOG_PUT(w, st->src_mask);
    LOG_PUT(w, st->err_mask);
    LOG_PUT(w, st->have_mask);
    LOG_PUT(w, st->read_us);
    LOG_PUT(w, st->nsamples);
    LOG_PUT(w, st->keyframe);
    LOG_PUT(w, st->page_size);
    if (!w->records)
        w->first_kf = st->keyframe;
    while (ring_state_next(st, &it, &e)) {
        LOG_PUT(w, e.kind);
        LOG_PUT(w, e.slot);
        LOG_PUT(w, e.keylen);
        log_put(w, e.key, e.keylen);
        LOG_PUT(w, e.nfields);
        log_put(w, e.fm, 2 * sizeof(*e.fm));
        log_put(w, e.val, e.nfields * sizeof(*e.val));
        log_put(w, e.min, e.nfields * sizeof(*e.min));
        log_put(w, e.max, e.nfields * sizeof(*e.max));
    }
    w->records++;
    w->last_wall = st->wall_ns;
    return w->stop_after && w->records >= w->stop_after ? 1 : 0;
}

/*
 * Walk [from, to] of tier t with rd, which keeps its state and its
 * checkpoints from walk to walk (keeping one at keep, 0: none), and with a
 * reader opened for this walk alone: both must deliver the same records with
 * the same states.  The log of rd's walk goes to out.  Returns the records
 * rd decoded; the fresh reader's in *fresh_dec (NULL: not wanted).
 */
static uint64_t walk_both_keep(struct ring_reader *rd, const char *path, enum ring_tier t,
                               uint64_t from, uint64_t to, uint64_t keep, size_t stop_after,
                               struct walk_log *out, uint64_t *fresh_dec)
{
    struct walk_log a = { .stop_after = stop_after }, b = { .stop_after = stop_after };
    struct ring_reader *fresh = open_reader(path);
    /* the newest record delivered so far, also when this walk delivers none */
    a.last_wall = out ? out->last_wall : 0;
    uint64_t d0 = ring_reader_decoded(rd);
    int ra = ring_reader_walk_keep(rd, t, from, to, keep, log_cb, &a);
    int rb = ring_reader_walk(fresh, t, from, to, log_cb, &b);

    assert_int_equal(ra, rb);
    assert_int_equal(a.records, b.records);
    assert_int_equal(a.n, b.n);
    if (a.n)
        assert_memory_equal(a.p, b.p, a.n);
    if (fresh_dec)
        *fresh_dec = ring_reader_decoded(fresh);
    ring_reader_close(fresh);
    free(b.p);
    if (out) {
        free(out->p);
        *out = a;
    } else {
        free(a.p);
    }
    return ring_reader_decoded(rd) - d0;
}

static uint64_t walk_both(struct ring_reader *rd, const char *path, enum ring_tier t, uint64_t from,
                          uint64_t to, size_t stop_after, struct walk_log *out)
{
    return walk_both_keep(rd, path, t, from, to, 0, stop_after, out, NULL);
}

static uint64_t tier_records(struct ring_reader *rd, enum ring_tier t)
{
    struct ring_tier_info ti;

    assert_int_equal(ring_reader_tier_info(rd, t, &ti), 0);
    return ti.records;
}

/*
 * Follow a growing ring as kmemtop does (one walk from the newest record
 * seen + 1 after each append), in both tiers, with walks that stop early, end
 * at a bound, or go back in time in between; then in a ring so small that it
 * wraps around many times while it is followed.
 */
static void test_walk_resume(void **state)
{
    struct ring_config big = { 4 << 20, 1 << 20, 1024 }, small = { 64 << 10, 64 << 10, 512 };
    const struct ring_config *cfgs[] = { &big, &small };
    uint64_t start = 1700000000000000000ull;
    struct sampler sm;

    (void)state;
    idle_sampler(&sm);
    for (size_t c = 0; c < ARRAY_SIZE(cfgs); c++) {
        const char *path = tpath(c ? "resume-small.ring" : "resume.ring");
        struct walk_log w = { 0 }, cw = { 0 };
        uint64_t total = 100, follows = 0, resumed = 0, full_dec = 0, full_new = 0, dec;
        struct ring_reader *rd, *crd;
        struct ring_stats rs;
        struct ring *r;

        unlink(path);
        r = open_ring(path, cfgs[c], NULL, 0);
        assert_int_equal(ring_fill_idle(r, &sm, total, start, 1), 0);
        rd = open_reader(path);
        crd = open_reader(path);
        walk_both(rd, path, RING_FULL, 0, 0, 0, &w);
        walk_both(crd, path, RING_COARSE, 0, 0, 0, &cw);
        for (uint32_t i = 0; i < 400; i++) {
            /* in the small ring bigger steps, so that the coarse tier wraps around too */
            uint64_t n = (1 + i % 13) * (c ? 10 : 1), cnew = tier_records(crd, RING_COARSE), last = w.last_wall;
            /* the walks from after the last record seen decode exactly the new records */
            bool follow = true;

            assert_int_equal(ring_fill_idle(r, &sm, n, start + total * 1000000000ull, i + 2), 0);
            total += n;
            switch (i % 10) {
            case 3: /* stop at the first new record, then go on after it */
                dec = walk_both(rd, path, RING_FULL, last + 1, 0, 1, &w);
                assert_int_equal(w.records, 1);
                dec += walk_both(rd, path, RING_FULL, w.last_wall + 1, 0, 0, &w);
                assert_int_equal(w.records, n - 1);
                break;
            case 6: /* a bounded walk decodes the record after the bound: the next one starts over */
                walk_both(rd, path, RING_FULL, last + 1, last + 1 + n / 2 * 1000000000ull, 0, &w);
                dec = walk_both(rd, path, RING_FULL, w.last_wall + 1, 0, 0, &w);
                follow = false;
                break;
            case 9: /* back in time: from the keyframe again, and the next walk goes on from it */
                dec = walk_both(rd, path, RING_FULL, last - 30 * 1000000000ull, 0, 0, &w);
                follow = false;
                break;
            default:
                dec = walk_both(rd, path, RING_FULL, last + 1, 0, 0, &w);
                assert_int_equal(w.records, n);
                break;
            }
            /*
             * Following, only the new records are decoded (fewer when a new
             * keyframe among them is the better start).
             */
            if (follow) {
                assert_true(dec <= n);
                follows++;
                resumed += dec == n;
                full_dec += dec;
                full_new += n;
            }
            cnew = tier_records(crd, RING_COARSE) - cnew;
            dec = walk_both(crd, path, RING_COARSE, cw.last_wall + 1, 0, 0, &cw);
            if (c == 0)
                assert_int_equal(dec, cnew);
        }
        printf("# %s: %llu samples; following, %llu of %llu walks decoded only the new records, "
               "%llu records decoded for %llu new\n",
               c ? "64 KiB tiers" : "4 MiB tiers", (unsigned long long)total,
               (unsigned long long)resumed, (unsigned long long)follows,
               (unsigned long long)full_dec, (unsigned long long)full_new);
        assert_true(resumed * 10 >= follows * 9);
        ring_stats(r, &rs);
        if (c == 1)
            assert_true(rs.full_dropped > 0 && rs.coarse_dropped > 0);
        /* in the small ring the record the reader is at gets overwritten: back to a keyframe */
        assert_int_equal(ring_fill_idle(r, &sm, c ? 3000 : 10, start + total * 1000000000ull, 99),
                         0);
        total += c ? 3000 : 10;
        dec = walk_both(rd, path, RING_FULL, w.last_wall + 1, 0, 0, &w);
        ring_stats(r, &rs);
        assert_int_equal(w.last_wall, rs.full_newest_wall_ns);
        if (c == 1) /* from the oldest keyframe, and every record after it is new */
            assert_true(w.first_kf && w.records < 3000 && dec == w.records);
        else
            assert_true(!w.first_kf && w.records == 10 && dec == 10);
        ring_close(r);
        ring_reader_close(rd);
        ring_reader_close(crd);
        free(w.p);
        free(cw.p);
    }
    sampler_fini(&sm);
}

/*
 * A record rewritten in place under the same sequence number and with the
 * same length (as a writer recovering from a torn record may do) is not the
 * record a reader decoded: its CRC tells.  The reader must not go on from
 * its own state of it.  Here the last record's wall time moves by 7 ns, with
 * a valid CRC, and a writer appends after it.
 */
static void test_walk_resume_rewritten(void **state)
{
    struct ring_config cfg = { 1 << 20, 256 << 10, 1024 };
    const char *path = tpath("resume-rewritten.ring");
    uint64_t wall = 1700000000000000000ull, rec;
    struct walk_log w = { 0 };
    struct ring_reader *rd;
    struct sampler sm;
    struct ring *r;
    uint32_t hdr[3], crc;
    uint8_t *payload;
    int fd;

    (void)state;
    idle_sampler(&sm);
    unlink(path);
    r = open_ring(path, &cfg, NULL, 0);
    for (uint64_t i = 0; i < 3; i++) {
        sm.slab.caches[i].active_objs++;
        assert_int_equal(ring_append(r, &sm, SRC_ALL, 0, wall + i * 1000000000u, wall), 0);
    }
    ring_close(r);
    rd = open_reader(path);
    walk_both(rd, path, RING_FULL, 0, 0, 0, &w);
    assert_int_equal(w.records, 3);

    /*
     * The record: len, crc, seq, payload (docs/FORMAT.md).  It is the third,
     * a delta: payload[1] is dwall, the zigzag varint of the change in the
     * wall-time step, 0 for steps of exactly a second; 14 makes it +7 ns.
     */
    rec = hdr_u64(path, HDR_TIER_OFF(0)) + hdr_u64(path, HDR_HINT(0, H_LAST_OFF));
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, hdr, sizeof(hdr), (off_t)rec), (ssize_t)sizeof(hdr));
    payload = malloc(hdr[0]);
    assert_non_null(payload);
    assert_int_equal(pread(fd, payload, hdr[0], (off_t)rec + 12), (ssize_t)hdr[0]);
    close(fd);
    assert_int_equal(payload[0], 2);
    assert_int_equal(payload[1], 0);
    payload[1] = 14;
    crc = crc32c(crc32c(0, (uint32_t[2]){ hdr[0], hdr[2] }, 8), payload, hdr[0]);
    assert_int_not_equal(crc, hdr[1]);
    file_write(path, (off_t)rec + 4, &crc, 4);
    file_write(path, (off_t)rec + 12, payload, hdr[0]);
    free(payload);

    r = open_ring(path, &cfg, NULL, 0);
    for (uint64_t i = 3; i < 8; i++) {
        sm.slab.caches[i].active_objs++;
        assert_int_equal(ring_append(r, &sm, SRC_ALL, 0, wall + i * 1000000000u, wall), 0);
    }
    ring_close(r);
    sampler_fini(&sm);
    /* the rewritten record is now after the one seen: it comes too, then the five new ones */
    walk_both(rd, path, RING_FULL, w.last_wall + 1, 0, 0, &w);
    assert_int_equal(w.records, 6);
    ring_reader_close(rd);
    free(w.p);
}

static void test_wrap_small_budget(void **state)
{
    struct ring_config small = { 64 << 10, 64 << 10, 512 }, big = { 8 << 20, 1 << 20, 1024 };
    const char *ps = tpath("small.ring"), *pb = tpath("big.ring");
    struct digests ds, db, cs;
    struct ring_stats rs;
    struct stat st;
    struct sampler sm;
    struct ring *r;
    uint64_t start = 1700000000000000000ull;

    (void)state;
    idle_sampler(&sm);
    r = open_ring(ps, &small, NULL, 0);
    assert_int_equal(ring_fill_idle(r, &sm, 15000, start, 11), 0);
    ring_stats(r, &rs);
    assert_true(rs.full_dropped > 0);
    assert_true(rs.coarse_dropped > 0);
    assert_true(rs.full_bytes_used <= rs.full_capacity);
    assert_true(rs.coarse_bytes_used <= rs.coarse_capacity);
    assert_true(rs.full_oldest_wall_ns > start + 10000ull * 1000000000u);
    assert_int_equal(rs.entities_dropped, 0);
    printf("# 64 KiB tiers: %llu full records (%.1f s), %llu coarse records\n",
           (unsigned long long)rs.full_records,
           (double)(rs.full_newest_wall_ns - rs.full_oldest_wall_ns) / 1e9,
           (unsigned long long)rs.coarse_records);
    ring_close(r);
    assert_int_equal(stat(ps, &st), 0);
    assert_true((uint64_t)st.st_size <= small.full_bytes + small.coarse_bytes + (1u << 20));

    r = open_ring(pb, &big, NULL, 0);
    assert_int_equal(ring_fill_idle(r, &sm, 15000, start, 11), 0);
    ring_close(r);
    sampler_fini(&sm);

    walk_digests(ps, RING_FULL, 0, 0, &ds);
    walk_digests(pb, RING_FULL, 0, 0, &db);
    assert_true(ds.n > 100 && ds.n < 15000);
    assert_true(ds.first_kf);
    /* the newest records are intact: equal to the same samples in a ring that kept everything */
    for (size_t i = 0; i < ds.n; i++)
        assert_int_equal(ds.d[ds.n - 1 - i], db.d[db.n - 1 - i]);
    assert_int_equal(ds.wall[ds.n - 1], db.wall[db.n - 1]);
    walk_digests(ps, RING_COARSE, 0, 0, &cs);
    assert_true(cs.n > 10);
    for (size_t i = 1; i < cs.n; i++)
        assert_true(cs.wall[i] > cs.wall[i - 1]);
    digests_free(&ds);
    digests_free(&db);
    digests_free(&cs);
}

/* Three new cache names per sample, each living four samples: thousands of names, few slots. */
#define CHURN_LIFE 4
#define CHURN_NEW 3

static void churn_names(uint64_t k, char names[][32], const char **ptr, size_t *n)
{
    *n = 0;
    for (uint64_t born = k >= CHURN_LIFE - 1 ? k - (CHURN_LIFE - 1) : 0; born <= k; born++)
        for (int j = 0; j < CHURN_NEW; j++) {
            snprintf(names[*n], 32, "churn-%llu-%d", (unsigned long long)born, j);
            ptr[*n] = names[*n];
            (*n)++;
        }
}

struct names_ctx {
    uint64_t start, step;
    size_t states;
};

static int names_cb(const struct ring_state *st, void *arg)
{
    struct names_ctx *x = arg;
    uint64_t k = (st->wall_ns - x->start) / x->step;
    char names[CHURN_LIFE * CHURN_NEW][32];
    const char *ptr[CHURN_LIFE * CHURN_NEW];
    size_t n, it = 0, seen = 0;
    struct ring_entity e;

    churn_names(k, names, ptr, &n);
    while (ring_state_next(st, &it, &e)) {
        bool found = false;
        if (e.kind != SK_SLAB)
            continue;
        for (size_t i = 0; i < n; i++)
            found |= e.keylen == strlen(ptr[i]) && memcmp(e.key, ptr[i], e.keylen) == 0;
        if (!found)
            fail_msg("record %llu: unexpected name %.*s", (unsigned long long)k, (int)e.keylen,
                     e.key);
        seen++;
    }
    assert_int_equal(seen, n);
    x->states++;
    return 0;
}

static void test_name_slot_reclamation(void **state)
{
    struct ring_config cfg = { 64 << 10, 64 << 10, 2048 };
    const char *path = tpath("names.ring");
    struct names_ctx x = { 1700000000000000000ull, 61000000000ull, 0 };
    char names[CHURN_LIFE * CHURN_NEW][32];
    const char *ptr[CHURN_LIFE * CHURN_NEW];
    struct ring_stats rs;
    struct ring_reader *rd;
    struct sampler sm;
    struct ring *r;
    size_t n;
    uint64_t total = 6000;

    (void)state;
    synth_init(&sm);
    sm.valid = SRC_BIT(SRC_SLABINFO);
    r = open_ring(path, &cfg, NULL, 0);
    for (uint64_t k = 0; k < total; k++) {
        churn_names(k, names, ptr, &n);
        synth_slab(&sm, ptr, n, k);
        assert_int_equal(ring_append(r, &sm, SRC_BIT(SRC_SLABINFO), 0, x.start + k * x.step, k), 0);
    }
    ring_stats(r, &rs);
    printf("# name churn: %llu names through %u slots, %u in use, %llu dropped\n",
           (unsigned long long)(total * CHURN_NEW), rs.slots_total, rs.slots_used,
           (unsigned long long)rs.entities_dropped);
    assert_int_equal(rs.entities_dropped, 0);
    assert_true(rs.slots_used <= cfg.entity_slots);
    assert_true(rs.full_dropped > 0 && rs.coarse_dropped > 0);
    ring_close(r);
    sampler_fini(&sm);

    /* every retained record, both tiers, names exactly the caches alive at its time */
    rd = open_reader(path);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, names_cb, &x), 0);
    assert_true(x.states > 50);
    x.states = 0;
    assert_int_equal(ring_reader_walk(rd, RING_COARSE, 0, 0, names_cb, &x), 0);
    assert_true(x.states > 50);
    ring_reader_close(rd);
}

/* ---- a reader never sees a torn state while a writer in another process appends ---- */

#define CONC_CACHES 20
static const char *const conc_names[CONC_CACHES] = {
    "c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09",
    "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19",
};

struct conc_ctx {
    uint64_t start;
    uint64_t states, coarse;
};

/* Every value of record k is a function of k: any mix of two records shows. */
static int conc_cb(const struct ring_state *st, void *arg)
{
    struct conc_ctx *x = arg;
    uint64_t k = (st->wall_ns - x->start) / 1000000000u;
    size_t it = 0, n = 0;
    struct ring_entity e;

    while (ring_state_next(st, &it, &e)) {
        unsigned i;
        if (e.kind != SK_SLAB)
            continue;
        assert_int_equal(e.keylen, 3);
        i = (unsigned)((e.key[1] - '0') * 10 + (e.key[2] - '0'));
        assert_true(i < CONC_CACHES);
        assert_int_equal(e.val[SF_SLAB_NUM_SLABS], k + i + 1);
        assert_int_equal(e.val[SF_SLAB_NUM_OBJS], (k + i + 1) * 32);
        assert_int_equal(e.val[SF_SLAB_ACTIVE_OBJS], (k + i + 1) * 32 - k % 7);
        assert_true(e.min[SF_SLAB_NUM_SLABS] <= e.val[SF_SLAB_NUM_SLABS]);
        assert_true(e.max[SF_SLAB_NUM_SLABS] >= e.val[SF_SLAB_NUM_SLABS]);
        n++;
    }
    /* caches come and go with k: c<i> exists when (k + i) % 5 != 0 */
    {
        size_t want = 0;
        for (unsigned i = 0; i < CONC_CACHES; i++)
            want += (k + i) % 5 != 0;
        assert_int_equal(n, want);
    }
    if (st->tier == RING_COARSE)
        x->coarse++;
    else
        x->states++;
    return 0;
}

static void conc_sample(struct sampler *sm, uint64_t k)
{
    const char *ptr[CONC_CACHES];
    size_t n = 0;
    for (unsigned i = 0; i < CONC_CACHES; i++)
        if ((k + i) % 5 != 0)
            ptr[n++] = conc_names[i];
    synth_slab(sm, ptr, n, k);
    /* synth_slab numbers caches by position; renumber by name so values follow the name */
    for (size_t j = 0; j < n; j++) {
        struct slab_cache *c = &sm->slab.caches[j];
        unsigned i = (unsigned)((c->name[1] - '0') * 10 + (c->name[2] - '0'));
        c->num_slabs = k + i + 1;
        c->active_slabs = c->num_slabs;
        c->num_objs = c->num_slabs * 32;
        c->active_objs = c->num_objs - k % 7;
    }
}

static void test_reader_concurrent(void **state)
{
    struct ring_config cfg = { 64 << 10, 64 << 10, 256 };
    const char *path = tpath("conc.ring");
    struct conc_ctx x = { 1700000000000000000ull, 0, 0 };
    struct timespec t0, t1;
    int pfd[2], status;
    char c;
    pid_t pid;

    (void)state;
    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sampler sm;
        struct ring *r;
        char note[256];
        close(pfd[0]);
        synth_init(&sm);
        sm.valid = SRC_BIT(SRC_SLABINFO);
        if (ring_open(&r, path, &cfg, note, sizeof(note)) < 0)
            _exit(1);
        for (uint64_t k = 0; k < 400000; k++) {
            conc_sample(&sm, k);
            if (ring_append(r, &sm, SRC_BIT(SRC_SLABINFO), 0, x.start + k * 1000000000u, k) < 0)
                _exit(2);
            if (k == 100 && write(pfd[1], "x", 1) != 1)
                _exit(3);
        }
        ring_close(r);
        _exit(0);
    }
    close(pfd[1]);
    assert_int_equal(read(pfd[0], &c, 1), 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        struct ring_reader *rd = open_reader(path);
        assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, conc_cb, &x), 0);
        assert_int_equal(ring_reader_walk(rd, RING_COARSE, 0, 0, conc_cb, &x), 0);
        ring_reader_close(rd);
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    close(pfd[0]);
    printf("# concurrent reader: %llu full and %llu coarse states checked while writing\n",
           (unsigned long long)x.states, (unsigned long long)x.coarse);
    assert_true(x.states > 1000);
}

/* ---- export ---- */

static void test_export_window(void **state)
{
    const char *path = tpath("exp-src.ring"), *out = tpath("exp-out.ring");
    struct rt_ctx x;
    struct ring_reader *rd, *ro;
    struct stat st;
    char err[256];

    (void)state;
    memset(&x, 0, sizeof(x));
    x.i = x.start = 10;
    import_trace(path, NULL);
    rd = open_reader(path);
    assert_int_equal(
        ring_export(rd, snapshot_time(10), snapshot_time(19), out, err, sizeof(err)), 0);
    assert_int_equal(ring_export(rd, 1, 2, tpath("none.ring"), err, sizeof(err)), -ENOENT);
    assert_true(err[0] != '\0');
    ring_reader_close(rd);
    assert_int_equal(stat(out, &st), 0);
    printf("# export of 10 snapshots: %lld bytes\n", (long long)st.st_size);
    assert_true(st.st_size < 64 * 1024);
    ro = open_reader(out);
    ring_sampler_init(&x.got);
    assert_int_equal(ring_reader_walk(ro, RING_FULL, 0, 0, rt_cb, &x), 0);
    assert_int_equal(x.i, 20);
    ring_reader_close(ro);
    sampler_fini(&x.got);
}

/* ---- filtered walks (ring_reader_walk_only) against the full walk ---- */

/*
 * Which entities a filtered walk asks for: kind -1 none, 0 all; key NULL any,
 * else the first keylen bytes of the key (a vmalloc caller with its NUL).
 */
struct want {
    int kind;
    const char *key;
    size_t keylen;
};

static bool want_entity(int kind, const char *key, size_t keylen, void *arg)
{
    const struct want *w = arg;

    if (w->kind <= 0)
        return w->kind == 0;
    return kind == w->kind &&
           (!w->key || (keylen >= w->keylen && memcmp(key, w->key, w->keylen) == 0));
}

/* What a walk delivered, record by record: the wanted entities' digest and the record's facts. */
struct fwalk {
    const struct want *w;
    bool filtered;
    size_t n, cap;
    struct frec {
        uint64_t seq, wall, mono, digest, gen;
        unsigned masks, nsamples, listed;
        uint32_t read_us[SRC_N];
        bool keyframe;
    } *r;
};

static int fwalk_cb(const struct ring_state *st, void *arg)
{
    struct fwalk *x = arg;
    struct ring_entity e;
    struct frec *f;
    uint64_t sum = 0;
    size_t it = 0;

    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->r = realloc(x->r, x->cap * sizeof(*x->r));
        assert_non_null(x->r);
    }
    f = &x->r[x->n++];
    memset(f, 0, sizeof(*f));
    while (ring_state_next(st, &it, &e)) {
        uint64_t h = 1469598103934665603ull ^ (uint64_t)e.kind ^ ((uint64_t)e.slot << 8);
        bool wanted = want_entity(e.kind, e.key, e.keylen, (void *)(uintptr_t)x->w);

        /* a filtered walk lists exactly the wanted entities */
        if (x->filtered)
            assert_true(wanted);
        else if (!wanted)
            continue;
        for (size_t i = 0; i < e.keylen; i++)
            h = (h ^ (uint8_t)e.key[i]) * 1099511628211ull;
        h = (h ^ e.fm[0] ^ (e.fm[1] << 7)) * 1099511628211ull;
        for (unsigned k = 0; k < e.nfields; k++)
            h = (((h ^ e.val[k]) * 1099511628211ull ^ e.min[k]) * 1099511628211ull ^ e.max[k]) *
                1099511628211ull;
        sum += h;
        f->listed++;
    }
    f->seq = st->seq;
    f->wall = st->wall_ns;
    f->mono = st->mono_ns;
    f->digest = sum;
    f->gen = st->gen;
    f->masks = st->src_mask | st->err_mask << 4 | st->have_mask << 8;
    f->nsamples = st->nsamples;
    memcpy(f->read_us, st->read_us, sizeof(f->read_us));
    f->keyframe = st->keyframe;
    return 0;
}

/* The filtered walk of rd delivers the records the full walk does, with the wanted entities equal. */
static void check_walk_only(struct ring_reader *rd, enum ring_tier t, uint64_t from, uint64_t to,
                            const struct want *w, size_t *listed)
{
    struct fwalk full = { w, false, 0, 0, NULL }, only = { w, true, 0, 0, NULL };

    assert_int_equal(ring_reader_walk(rd, t, from, to, fwalk_cb, &full), 0);
    assert_int_equal(ring_reader_walk_only(rd, t, from, to, want_entity, (void *)(uintptr_t)w,
                                           fwalk_cb, &only),
                     0);
    assert_true(full.n > 0);
    assert_int_equal(only.n, full.n);
    *listed = 0;
    for (size_t i = 0; i < full.n; i++) {
        const struct frec *a = &full.r[i], *b = &only.r[i];
        assert_int_equal(b->seq, a->seq);
        assert_int_equal(b->wall, a->wall);
        assert_int_equal(b->mono, a->mono);
        assert_int_equal(b->masks, a->masks);
        assert_int_equal(b->nsamples, a->nsamples);
        assert_memory_equal(b->read_us, a->read_us, sizeof(a->read_us));
        assert_int_equal(b->keyframe, a->keyframe);
        assert_int_equal(b->listed, a->listed);
        assert_int_equal(b->digest, a->digest);
        /* gen changes at the same records (its values differ from walk to walk) */
        if (i)
            assert_int_equal(b->gen != only.r[i - 1].gen, a->gen != full.r[i - 1].gen);
        *listed += a->listed;
    }
    free(full.r);
    free(only.r);
}

/* Filters: one cache, every area of a caller, a zone, meminfo, all, none. */
static void check_walk_only_filters(struct ring_reader *rd, enum ring_tier t, uint64_t from,
                                    uint64_t to, const char *cache, const char *caller)
{
    struct want w[] = {
        { SK_SLAB, cache, strlen(cache) }, /* and the caches whose name starts so */
        { SK_VMALLOC, caller, strlen(caller) + 1 },
        { SK_BUDDY, NULL, 0 },
        { SK_MEMINFO, NULL, 0 },
        { 0, NULL, 0 },
        { -1, NULL, 0 },
    };
    size_t listed;

    for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
        check_walk_only(rd, t, from, to, &w[i], &listed);
        /* the filters that want something find it */
        assert_true(w[i].kind < 0 ? listed == 0 : listed > 0);
    }
}

static void test_walk_only_trace(void **state)
{
    const char *path = tpath("only-trace.ring");
    struct want none = { -1, NULL, 0 }, every = { 0, NULL, 0 };
    struct fwalk nothing = { &none, true, 0, 0, NULL }, all = { &every, false, 0, 0, NULL };
    struct ring_reader *rd;

    (void)state;
    import_trace(path, NULL);
    rd = open_reader(path);
    /* the trace's caches and callers: dentry grows, kernel_clone areas are thread stacks */
    check_walk_only_filters(rd, RING_FULL, 0, 0, "dentry", "kernel_clone");
    check_walk_only_filters(rd, RING_FULL, snapshot_time(17), snapshot_time(25), "task_struct",
                            "kernel_clone");
    check_walk_only_filters(rd, RING_COARSE, 0, 0, "dentry", "kernel_clone");
    /* a full walk after a filtered one on the same reader lists every entity again */
    assert_int_equal(ring_reader_walk_only(rd, RING_FULL, 0, 0, want_entity, &none, fwalk_cb,
                                           &nothing),
                     0);
    assert_int_equal(nothing.n, TRACE_N);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, fwalk_cb, &all), 0);
    assert_int_equal(all.n, TRACE_N);
    for (size_t i = 0; i < all.n; i++)
        assert_true(all.r[i].listed > 200);
    free(all.r);
    free(nothing.r);
    ring_reader_close(rd);
}

static void test_walk_only_idle(void **state)
{
    const char *path = tpath("only-idle.ring");
    struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };
    struct sampler sm;
    struct ring_reader *rd;
    struct ring *r;
    uint64_t start = 1700000000000000000ull;

    (void)state;
    idle_sampler(&sm);
    r = open_ring(path, &cfg, NULL, 0);
    /* about a keyframe an hour at most: windows start between keyframes */
    assert_int_equal(ring_fill_idle(r, &sm, 20000, start, 5), 0);
    ring_close(r);
    sampler_fini(&sm);
    rd = open_reader(path);
    check_walk_only_filters(rd, RING_FULL, 0, 0, "dentry", "kernel_clone");
    check_walk_only_filters(rd, RING_FULL, start + 12345000000000ull, start + 16000000000000ull,
                            "kmalloc-64", "bpf_prog_alloc_no_stats");
    check_walk_only_filters(rd, RING_COARSE, 0, 0, "dentry", "kernel_clone");
    ring_reader_close(rd);
}

/* ---- ring_append: sources read again to the same bytes ---- */

/* Write the bytes of fixture file src over dst in place (a sampler's descriptor sees them). */
static void put_file(const char *dst, const char *src)
{
    size_t len;
    char *buf = fixture_read(src, &len);
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
    free(buf);
}

/* Step k: each source's file is a trace snapshot that changes every few steps, meminfo is
 * broken for a while, vmallocinfo and buddyinfo are not read at every step. */
static void skip_step(int k, const char *files[SRC_N], unsigned *mask)
{
    static char p[SRC_N][256];
    static const int every[SRC_N] = { 4, 9, 3, 5 };

    for (int s = 0; s < SRC_N; s++) {
        snprintf(p[s], sizeof(p[s]), "%s/%03d/%s", TRACE, (k / every[s]) % TRACE_N,
                 src_name((enum src_id)s));
        files[s] = p[s];
    }
    if (k >= 30 && k < 33)
        files[SRC_MEMINFO] = "tests/fixtures/malformed/meminfo-garbage";
    *mask = SRC_ALL;
    if (k % 2)
        *mask &= ~SRC_BIT(SRC_VMALLOCINFO);
    if (k % 7 == 3)
        *mask &= ~SRC_BIT(SRC_BUDDYINFO);
}

static unsigned read_masked(struct sampler *sm, unsigned mask)
{
    unsigned errs = 0;

    for (int s = 0; s < SRC_N; s++)
        if ((mask & SRC_BIT(s)) && sampler_read(sm, (enum src_id)s) < 0)
            errs |= SRC_BIT(s);
    return errs;
}

struct newest_ctx {
    const char *name;
    uint64_t v;
};

static int newest_cb(const struct ring_state *st, void *arg)
{
    struct newest_ctx *c = arg;
    struct ring_entity e;

    c->v = ring_state_find(st, SK_SLAB, c->name, strlen(c->name), &e) ? e.val[SF_SLAB_ACTIVE_OBJS]
                                                                       : UINT64_MAX;
    return 0;
}

/* The active_objs of cache name in the newest full-tier record (read while the writer writes). */
static uint64_t newest_active_objs(const char *path, const char *name)
{
    struct ring_reader *rd = open_reader(path);
    struct newest_ctx c = { name, UINT64_MAX };
    uint64_t oldest, newest;

    assert_int_equal(ring_reader_span(rd, RING_FULL, &oldest, &newest), 0);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, newest, 0, newest_cb, &c), 0);
    ring_reader_close(rd);
    return c.v;
}

/*
 * The same history whether sources read again to the same bytes are skipped
 * (one sampler reading the files as they change, as the daemon does) or
 * every row is compared (a fresh sampler for every sample, which never
 * skips), with a roomy and with a full entity table.
 */
static void test_append_unchanged_sources(void **state)
{
    static const struct ring_config cfgs[] = { { 1 << 20, 1 << 20, 1024 }, { 1 << 20, 1 << 20, 64 } };
    char procdir[300];

    (void)state;
    snprintf(procdir, sizeof(procdir), "%s/proc", tmpdir);
    assert_int_equal(mkdir(procdir, 0700), 0);
    for (size_t c = 0; c < ARRAY_SIZE(cfgs); c++) {
        const char *pa = tpath(c ? "skip-a64.ring" : "skip-a.ring");
        const char *pb = tpath(c ? "skip-b64.ring" : "skip-b.ring");
        const char *prev[SRC_N] = { "", "", "", "" };
        struct digests da, db;
        struct ring_stats sa, sb;
        struct sampler sm, fresh;
        struct ring *ra, *rb;

        for (int s = 0; s < SRC_N; s++) {
            char dst[400];
            snprintf(dst, sizeof(dst), "%s/%s", procdir, src_name((enum src_id)s));
            put_file(dst, "tests/fixtures/growth-trace/000/meminfo"); /* replaced at step 0 */
        }
        assert_int_equal(sampler_init(&sm, procdir, SRC_ALL, 4096), SRC_N);
        ra = open_ring(pa, &cfgs[c], NULL, 0);
        rb = open_ring(pb, &cfgs[c], NULL, 0);
        for (int k = 0; k < 80; k++) {
            const char *files[SRC_N];
            uint64_t wall = 1700000000000000000ull + (uint64_t)k * 1000000000u;
            unsigned mask, errs;

            skip_step(k, files, &mask);
            for (int s = 0; s < SRC_N; s++) {
                char dst[400];
                if (strcmp(files[s], prev[s]) == 0)
                    continue; /* unchanged files stay byte-identical */
                snprintf(dst, sizeof(dst), "%s/%s", procdir, src_name((enum src_id)s));
                put_file(dst, files[s]);
                prev[s] = files[s];
            }
            errs = read_masked(&sm, mask);
            assert_int_equal(errs, k >= 30 && k < 33 ? SRC_BIT(SRC_MEMINFO) : 0);
            assert_int_equal(ring_append(ra, &sm, mask, errs, wall, wall), 0);
            assert_int_equal(sampler_init(&fresh, procdir, SRC_ALL, 4096), SRC_N);
            assert_int_equal(read_masked(&fresh, mask), errs);
            assert_int_equal(ring_append(rb, &fresh, mask, errs, wall, wall), 0);
            sampler_fini(&fresh);
        }
        ring_stats(ra, &sa);
        ring_stats(rb, &sb);
        assert_int_equal(sa.full_records, 80);
        assert_int_equal(sa.full_records, sb.full_records);
        assert_int_equal(sa.full_keyframes, sb.full_keyframes);
        assert_int_equal(sa.entities_dropped, sb.entities_dropped);
        assert_true(c == 0 ? sa.entities_dropped == 0 : sa.entities_dropped > 0);
        ring_close(rb);
        for (int t = 0; t < RING_NTIERS; t++) {
            walk_digests(pa, (enum ring_tier)t, 0, 0, &da);
            walk_digests(pb, (enum ring_tier)t, 0, 0, &db);
            assert_int_equal(da.n, db.n);
            for (size_t i = 0; i < da.n; i++) {
                assert_int_equal(da.seq[i], db.seq[i]);
                assert_int_equal(da.d[i], db.d[i]);
            }
            digests_free(&da);
            digests_free(&db);
        }
        if (c == 0) {
            /*
             * That the rows were skipped, seen from outside: a value written by
             * hand into the parsed struct (which no user of a sampler may do)
             * is not stored after a read to the same bytes, and is stored
             * when the sampler was not read in between (rows compared).
             */
            struct slab_cache *dentry = &sm.slab.caches[slab_find(&sm.slab, "dentry")];
            uint64_t v = dentry->active_objs, wall = 1700000000000000000ull + 100000000000ull;

            assert_int_equal(read_masked(&sm, SRC_BIT(SRC_SLABINFO)), 0);
            dentry->active_objs = v + 1;
            assert_int_equal(ring_append(ra, &sm, SRC_BIT(SRC_SLABINFO), 0, wall, wall), 0);
            assert_int_equal(newest_active_objs(pa, "dentry"), v);
            assert_int_equal(ring_append(ra, &sm, SRC_BIT(SRC_SLABINFO), 0, wall + 1000000000u,
                                         wall + 1000000000u),
                             0);
            assert_int_equal(newest_active_objs(pa, "dentry"), v + 1);
        }
        ring_close(ra);
        sampler_fini(&sm);
    }
}

/* ---- resize on a budget change ---- */

static void test_resize(void **state)
{
    struct ring_config a = { 256 << 10, 128 << 10, 1024 }, b = { 512 << 10, 256 << 10, 2048 },
                       c = { 64 << 10, 64 << 10, 1024 };
    const char *path = tpath("resize.ring");
    struct digests d0, d1, d2;
    struct ring_stats rs;
    struct ring *r;
    struct stat st;
    char note[512];

    (void)state;
    fill_file(path, &a, 2000, 1700000000000000000ull);
    walk_digests(path, RING_FULL, 0, 0, &d0);
    r = open_ring(path, &b, note, sizeof(note));
    assert_non_null(strstr(note, "resized"));
    ring_stats(r, &rs);
    assert_int_equal(rs.full_capacity, b.full_bytes);
    assert_int_equal(rs.slots_total, b.entity_slots);
    ring_close(r);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4096 + 2048 * 64 + (512 << 10) + (256 << 10));
    walk_digests(path, RING_FULL, 0, 0, &d1);
    assert_int_equal(d1.n, d0.n);
    for (size_t i = 0; i < d0.n; i++)
        assert_int_equal(d0.d[i], d1.d[i]);
    /* shrinking keeps the newest records */
    r = open_ring(path, &c, note, sizeof(note));
    assert_non_null(strstr(note, "resized"));
    ring_close(r);
    walk_digests(path, RING_FULL, 0, 0, &d2);
    assert_true(d2.n > 100 && d2.n < d0.n);
    for (size_t i = 0; i < d2.n; i++)
        assert_int_equal(d2.d[d2.n - 1 - i], d0.d[d0.n - 1 - i]);
    /* same budgets again: nothing to do */
    r = open_ring(path, &c, note, sizeof(note));
    assert_string_equal(note, "");
    ring_close(r);
    digests_free(&d0);
    digests_free(&d1);
    digests_free(&d2);
}

/* ---- ring_state_to_sampler: tables updated in place from one record to the next ---- */

/* Every field of every table of b is a's, in the same order (a: rebuilt from scratch). */
static void assert_tables_same(const struct sampler *a, const struct sampler *b)
{
    assert_int_equal(a->valid, b->valid);
    assert_int_equal(a->page_size, b->page_size);
    assert_int_equal(a->slab.n, b->slab.n);
    assert_int_equal(a->slab.version_major, b->slab.version_major);
    assert_int_equal(a->slab.version_minor, b->slab.version_minor);
    assert_int_equal(a->slab.statistics, b->slab.statistics);
    for (size_t i = 0; i < a->slab.n; i++) {
        assert_string_equal(a->slab.caches[i].name, b->slab.caches[i].name);
        assert_slab_fields_equal(&a->slab.caches[i], &b->slab.caches[i]);
    }
    assert_kmalloc_equal(&a->kmalloc, &b->kmalloc);
    assert_int_equal(a->vmalloc.n, b->vmalloc.n);
    for (size_t i = 0; i < a->vmalloc.n; i++) {
        const struct vmalloc_row *x = &a->vmalloc.rows[i], *y = &b->vmalloc.rows[i];
        assert_string_equal(x->caller, y->caller);
        assert_string_equal(x->module, y->module);
        assert_int_equal(x->type, y->type);
        assert_vmalloc_counts_equal(x, y);
    }
    assert_memory_equal(a->vmalloc.types, b->vmalloc.types, sizeof(a->vmalloc.types));
    assert_memory_equal(&a->vmalloc.total, &b->vmalloc.total, sizeof(a->vmalloc.total));
    assert_memory_equal(&a->vmalloc.unpurged, &b->vmalloc.unpurged, sizeof(a->vmalloc.unpurged));
    assert_int_equal(a->buddy.n, b->buddy.n);
    assert_int_equal(a->buddy.orders, b->buddy.orders);
    for (size_t i = 0; i < a->buddy.n; i++) {
        const struct buddy_zone *x = &a->buddy.zones[i], *y = &b->buddy.zones[i];
        assert_int_equal(x->node, y->node);
        assert_string_equal(x->zone, y->zone);
        assert_memory_equal(x->free, y->free, sizeof(x->free));
        assert_int_equal(x->free_pages, y->free_pages);
        assert_memory_equal(x->unusable, y->unusable, sizeof(x->unusable));
    }
    assert_int_equal(a->meminfo.present, b->meminfo.present);
    assert_memory_equal(a->meminfo.value, b->meminfo.value, sizeof(a->meminfo.value));
}

/*
 * Converts the records of walks into one sampler, as kmemtop does, and each
 * also into a new sampler (the rebuild from scratch): both must give the
 * same tables.  The update in place must happen exactly when the record
 * follows the one converted last, in the same reader's state, with the same
 * entities (gen); otherwise a rebuild.
 */
struct inplace_ctx {
    struct sampler sm;
    int reader;            /* which reader delivers (the test's numbering, not an address) */
    unsigned every;        /* convert one delivered record in this many */
    bool read_between;     /* sampler_read_all(sm) after each conversion */
    /* the record sm holds, when prev */
    bool prev;
    int prev_reader;
    enum ring_tier prev_tier;
    uint64_t prev_seq, prev_gen;
    uint32_t prev_page;
    uint64_t delivered, converted, in_place;
    uint64_t first_gen, last_gen; /* of the first record delivered (delivered = 0 before) and last */
};

static void inplace_init(struct inplace_ctx *x, int reader, unsigned every)
{
    memset(x, 0, sizeof(*x));
    ring_sampler_init(&x->sm);
    x->reader = reader;
    x->every = every;
}

static int inplace_cb(const struct ring_state *st, void *arg)
{
    struct inplace_ctx *x = arg;
    uint64_t upd = x->sm.ring_fill.updates, reb = x->sm.ring_fill.rebuilds;
    struct sampler fresh;
    bool follows;

    if (!x->delivered)
        x->first_gen = st->gen;
    if (x->delivered++ % x->every)
        return 0;
    follows = x->prev && x->prev_reader == x->reader && x->prev_tier == st->tier &&
              st->seq == ring_seq_next(x->prev_seq) && st->gen == x->prev_gen &&
              st->page_size == x->prev_page;
    assert_int_equal(ring_state_to_sampler(st, &x->sm), 0);
    assert_int_equal(x->sm.ring_fill.updates - upd, follows);
    assert_int_equal(x->sm.ring_fill.rebuilds - reb, !follows);
    ring_sampler_init(&fresh);
    assert_int_equal(ring_state_to_sampler(st, &fresh), 0);
    assert_int_equal(fresh.ring_fill.rebuilds, 1);
    assert_tables_same(&fresh, &x->sm);
    sampler_fini(&fresh);
    x->converted++;
    x->in_place += follows;
    x->prev = true;
    x->prev_reader = x->reader;
    x->prev_tier = st->tier;
    x->prev_seq = st->seq;
    x->prev_gen = st->gen;
    x->prev_page = st->page_size;
    x->last_gen = st->gen;
    if (x->read_between) {
        /* the fixture's bytes again: nothing parsed, but the tables stop being the record's */
        assert_int_equal(sampler_read_all(&x->sm), 0);
        x->prev = false;
    }
    return 0;
}

/* Both tiers of the ring at path, whole; returns the full tier's records updated in place. */
static uint64_t inplace_walk_tiers(const char *path, const char *what)
{
    uint64_t full_in_place = 0;

    for (int t = 0; t < RING_NTIERS; t++) {
        struct ring_reader *rd = open_reader(path);
        struct inplace_ctx x;

        inplace_init(&x, 1, 1);
        assert_int_equal(ring_reader_walk(rd, (enum ring_tier)t, 0, 0, inplace_cb, &x), 0);
        assert_true(x.converted > 0);
        printf("# %s, %s tier: %llu records, %llu updated in place\n", what,
               t == RING_FULL ? "full" : "coarse", (unsigned long long)x.converted,
               (unsigned long long)x.in_place);
        if (t == RING_FULL)
            full_in_place = x.in_place;
        sampler_fini(&x.sm);
        ring_reader_close(rd);
    }
    return full_in_place;
}

static void test_tables_in_place_trace(void **state)
{
    const char *path = tpath("inplace-trace.ring");

    (void)state;
    import_trace(path, NULL);
    /* the first record is the keyframe; the trace's later ones change values, not caches */
    assert_true(inplace_walk_tiers(path, "growth trace") >= TRACE_N - 1);
}

static void test_tables_in_place_idle(void **state)
{
    const char *path = tpath("inplace-idle.ring");
    const struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };
    uint64_t n = 5000;

    (void)state;
    test_idle_ring(path, &cfg, n, 1700000000000000000ull, 3);
    assert_true(inplace_walk_tiers(path, "idle ring") * 10 >= n * 9);
}

/*
 * Step k of a long churn: caches, vmalloc callers and meminfo keys come and
 * go, values change at different rates, vmalloc sums saturate, buddy orders
 * and vmalloc nodes come and go (fields, not entities: gen does not move),
 * kmalloc classes with rnd copies to sum, sources skipped or failing.
 */
static unsigned mix_step(struct sampler *sm, int k, unsigned *err)
{
    static const char *const slabs[] = { "dentry",          "kmalloc-64",
                                         "kmalloc-cg-192",  "kmalloc-rnd-01-128",
                                         "kmalloc-rnd-02-128", "dma-kmalloc-512",
                                         "inode_cache",     "kmalloc-1k",
                                         "task_struct",     "size-4096" };
    static const char *const callers[] = { "kernel_clone", "bpf_prog_alloc",
                                           "alloc_large_system_hash", "load_module",
                                           "n_tty_open" };
    uint64_t uk = (uint64_t)k;
    unsigned mask = SRC_BIT(SRC_SLABINFO) | SRC_BIT(SRC_MEMINFO);
    void *arr;

    *err = 0;
    arr = sm->slab.caches;
    assert_int_equal(
        array_reserve(&arr, &sm->slab.cap, ARRAY_SIZE(slabs), sizeof(*sm->slab.caches)), 0);
    sm->slab.caches = arr;
    sm->slab.n = 0;
    sm->slab.version_major = 2;
    sm->slab.version_minor = (k / 60) % 2 ? 0 : 1;
    for (size_t i = 0; i < ARRAY_SIZE(slabs); i++) {
        struct slab_cache *c;

        if ((i == 2 && (k / 40) % 2) || (i == 4 && (k / 70) % 2 == 0))
            continue;
        c = &sm->slab.caches[sm->slab.n++];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", slabs[i]);
        c->objsize = 32 + 16 * i;
        c->objperslab = 16;
        c->pagesperslab = 1 + i % 3;
        c->num_slabs = 100 + i + uk / (i + 1);
        c->active_slabs = c->num_slabs - (uk / (i + 2)) % 3;
        c->num_objs = c->num_slabs * 16;
        c->active_objs = c->num_objs - (uk / (i + 1)) % 16;
        c->bytes_total = c->num_slabs * c->pagesperslab * 4096;
        c->bytes_active = c->active_objs * c->objsize;
    }
    if (k % 3 == 0 && k % 37 == 6) {
        *err |= SRC_BIT(SRC_VMALLOCINFO);
        mask |= SRC_BIT(SRC_VMALLOCINFO);
    } else if (k % 3 == 0) {
        struct vmalloc_info *vi = &sm->vmalloc;

        arr = vi->rows;
        assert_int_equal(array_reserve(&arr, &vi->cap, ARRAY_SIZE(callers), sizeof(*vi->rows)), 0);
        vi->rows = arr;
        vi->n = 0;
        memset(vi->types, 0, sizeof(vi->types));
        memset(&vi->total, 0, sizeof(vi->total));
        for (size_t i = 0; i < ARRAY_SIZE(callers); i++) {
            struct vmalloc_row *row;

            if ((i == 1 && (k / 50) % 2) || (i == 4 && (k / 45) % 2 == 0))
                continue;
            row = &vi->rows[vi->n++];
            memset(row, 0, sizeof(*row));
            snprintf(row->caller, sizeof(row->caller), "%s", callers[i]);
            if (i % 2)
                snprintf(row->module, sizeof(row->module), "mod%zu", i);
            row->type = (enum vmalloc_type)(i % VMALLOC_NTYPES);
            row->areas = 1 + i + uk / (i + 3);
            row->pages = row->areas * (i + 1);
            /* the first two together exceed 2^64: total and their type sum saturate */
            row->bytes = i < 2 ? UINT64_MAX / 2 + row->areas * 4096 : row->pages * 4096;
            row->node_mask = (k / 20) % 2 ? 3 : 1;
            row->nodes[0] = row->pages / 2;
            if (row->node_mask & 2)
                row->nodes[1] = row->pages - row->pages / 2;
            vi->types[row->type].areas = add_sat(vi->types[row->type].areas, row->areas);
            vi->types[row->type].bytes = add_sat(vi->types[row->type].bytes, row->bytes);
            vi->types[row->type].pages = add_sat(vi->types[row->type].pages, row->pages);
            vi->total.areas = add_sat(vi->total.areas, row->areas);
            vi->total.bytes = add_sat(vi->total.bytes, row->bytes);
            vi->total.pages = add_sat(vi->total.pages, row->pages);
        }
        vi->unpurged.areas = (uk / 3) % 5;
        vi->unpurged.bytes = vi->unpurged.areas * 4096;
        mask |= SRC_BIT(SRC_VMALLOCINFO);
    }
    if (k % 2 == 0) {
        struct buddy_info *bi = &sm->buddy;
        static const char *const zones[] = { "DMA32", "Normal" };

        arr = bi->zones;
        assert_int_equal(array_reserve(&arr, &bi->cap, 2, sizeof(*bi->zones)), 0);
        bi->zones = arr;
        bi->n = 2;
        bi->orders = (k / 13) % 2 ? 9 : 11;
        for (size_t z = 0; z < 2; z++) {
            struct buddy_zone *bz = &bi->zones[z];

            memset(bz, 0, sizeof(*bz));
            snprintf(bz->zone, sizeof(bz->zone), "%s", zones[z]);
            for (unsigned o = 0; o < bi->orders; o++)
                bz->free[o] = (uk / (o + 1) + o * 7 + z) % 40;
            bz->free_pages = series_buddy_free_pages(bz->free, bi->orders);
            for (unsigned o = 0; o < bi->orders; o++)
                bz->unusable[o] = series_buddy_unusable(bz->free, bi->orders, o);
        }
        mask |= SRC_BIT(SRC_BUDDYINFO);
    }
    /* one meminfo key absent at a time, a different one every nine steps */
    synth_meminfo(sm, ((1u << MEMINFO_NKEYS) - 1) & ~(1u << ((k / 9) % MEMINFO_NKEYS)),
                  uk / 4);
    return mask;
}

static void test_tables_in_place_churn(void **state)
{
    const char *path = tpath("inplace-churn.ring");
    struct ring_config cfg = { 1 << 20, 1 << 20, 128 };
    struct sampler sm;
    struct ring *r;

    (void)state;
    synth_init(&sm);
    r = open_ring(path, &cfg, NULL, 0);
    for (int k = 0; k < 600; k++) {
        unsigned err, mask = mix_step(&sm, k, &err);
        /* ten seconds apart: a coarse record every six samples */
        uint64_t t = (uint64_t)k * 10000000000ull;
        assert_int_equal(ring_append(r, &sm, mask, err, 1700000000000000000ull + t, t), 0);
    }
    ring_close(r);
    sampler_fini(&sm);
    assert_true(inplace_walk_tiers(path, "churn") > 300);
}

/* Per record of a walk from the start: keyframe or not, gen, wall time (for the test below). */
struct kf_log {
    size_t n;
    bool kf[2000];
    uint64_t gen[2000], wall[2000];
};

static int kf_log_cb(const struct ring_state *st, void *arg)
{
    struct kf_log *l = arg;

    assert_true(l->n < ARRAY_SIZE(l->kf));
    l->kf[l->n] = st->keyframe;
    l->gen[l->n] = st->gen;
    l->wall[l->n] = st->wall_ns;
    l->n++;
    return 0;
}

/*
 * Never in place when it would not be exact: converting every other record;
 * walks with a gap; a sampler read from /proc in between; a new reader on the
 * same file whose state has the very same gen and seq as the old one's (it
 * started from the same keyframe), opened where the old one was freed.
 */
static void test_tables_in_place_never_wrong(void **state)
{
    const char *path = tpath("inplace-skips.ring");
    const struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };
    uint64_t start = 1700000000000000000ull, n = 1500;
    static struct kf_log l;
    struct inplace_ctx x;
    struct ring_reader *rd;
    size_t kf = 0, cut = 0;

    (void)state;
    test_idle_ring(path, &cfg, n, start, 4);
    /* the records' times (they jitter around whole seconds), keyframes and gens */
    rd = open_reader(path);
    memset(&l, 0, sizeof(l));
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, kf_log_cb, &l), 0);
    ring_reader_close(rd);
    assert_int_equal(l.n, n);

    /* every other record: each one a rebuild */
    rd = open_reader(path);
    inplace_init(&x, 1, 2);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, 0, 0, inplace_cb, &x), 0);
    assert_int_equal(x.converted, (n + 1) / 2);
    assert_int_equal(x.in_place, 0);
    sampler_fini(&x.sm);

    /* gaps between walks of the same reader into the same sampler */
    inplace_init(&x, 1, 1);
    for (uint64_t a = 0; a + 20 < n; a += 100) {
        uint64_t before = x.in_place, conv = x.converted;
        assert_int_equal(ring_reader_walk(rd, RING_FULL, l.wall[a], l.wall[a + 19], inplace_cb, &x),
                         0);
        assert_int_equal(x.converted - conv, 20);
        /* the first record of each walk is a rebuild; the rest follow (unless a keyframe) */
        assert_true(x.in_place - before <= 19 && x.in_place - before >= 17);
    }
    sampler_fini(&x.sm);

    /* a sampler that reads /proc (here a fixture) between records: never trusted */
    inplace_init(&x, 1, 1);
    sampler_fini(&x.sm);
    assert_int_equal(sampler_init(&x.sm, "tests/fixtures/idle", SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(&x.sm), 0);
    x.read_between = true;
    assert_int_equal(ring_reader_walk(rd, RING_FULL, l.wall[200], l.wall[260], inplace_cb, &x), 0);
    assert_int_equal(x.converted, 61);
    assert_int_equal(x.in_place, 0);
    assert_int_equal(x.sm.ring_fill.rebuilds, 61);
    sampler_fini(&x.sm);
    ring_reader_close(rd);

    /*
     * A record `cut` after a keyframe, with no entity coming or going: a
     * reader walking from that keyframe up to cut - 1, then a new one from
     * cut, have the same gen at cut - 1 and cut.
     */
    for (size_t i = 1; i < l.n && !cut; i++) {
        if (l.kf[i])
            kf = i;
        else if (i > kf + 50 && l.gen[i] == l.gen[i - 1])
            cut = i;
    }
    assert_true(cut > 0);
    rd = open_reader(path);
    inplace_init(&x, 1, 1);
    assert_int_equal(ring_reader_walk(rd, RING_FULL, l.wall[kf], l.wall[cut - 1], inplace_cb, &x),
                     0);
    assert_int_equal(x.converted, cut - kf);
    ring_reader_close(rd);
    {
        uint64_t gen = x.last_gen, in_place = x.in_place, conv = x.converted;

        rd = open_reader(path);
        x.reader = 2;
        x.every = 1;
        x.delivered = 0;
        assert_int_equal(ring_reader_walk(rd, RING_FULL, l.wall[cut], l.wall[cut + 10], inplace_cb,
                                          &x),
                         0);
        /* the old reader's gen and the next seq, from another state: a rebuild, then in place */
        assert_int_equal(x.first_gen, gen);
        assert_int_equal(x.converted - conv, 11);
        assert_int_equal(x.in_place - in_place, 10);
        ring_reader_close(rd);
    }
    sampler_fini(&x.sm);
}

/* ---- checkpoints: growth judgements of sliding windows ---- */

#define SEC 1000000000ull

/* A ring that grows while the tests below read it: simulated idle seconds, or mix_step's churn. */
struct grower {
    struct ring *r;
    struct sampler sm;
    bool churn;
    uint64_t start, n; /* samples so far, one a second from start */
};

static void grower_open(struct grower *g, const char *path, const struct ring_config *cfg,
                        bool churn)
{
    memset(g, 0, sizeof(*g));
    unlink(path);
    g->r = open_ring(path, cfg, NULL, 0);
    g->churn = churn;
    g->start = 1700000000000000000ull;
    if (churn)
        synth_init(&g->sm);
    else
        idle_sampler(&g->sm);
}

static void grower_close(struct grower *g)
{
    ring_close(g->r);
    sampler_fini(&g->sm);
}

/* Sample i's nominal wall time (ring_fill_idle's are up to 0.1 ms off it). */
static uint64_t grower_wall(const struct grower *g, uint64_t i)
{
    return g->start + i * SEC;
}

/* Half a second before sample i: from there, a walk starts at sample i. */
static uint64_t at(const struct grower *g, uint64_t i)
{
    return grower_wall(g, i) - SEC / 2;
}

static void grow(struct grower *g, uint64_t n)
{
    if (!g->churn) {
        assert_int_equal(ring_fill_idle(g->r, &g->sm, n, grower_wall(g, g->n), (uint32_t)g->n + 1),
                         0);
        g->n += n;
        return;
    }
    for (uint64_t i = 0; i < n; i++, g->n++) {
        unsigned err, mask = mix_step(&g->sm, (int)g->n, &err);
        assert_int_equal(ring_append(g->r, &g->sm, mask, err, grower_wall(g, g->n), g->n * SEC), 0);
    }
}

static int count_cb(const struct ring_state *st, void *arg)
{
    uint64_t *last = arg;

    *last = st->wall_ns;
    return 0;
}

/* kmemtop following the live ring: a walk from the newest record seen + 1; the records decoded. */
static uint64_t follow(struct ring_reader *rd, uint64_t *last)
{
    uint64_t d0 = ring_reader_decoded(rd);

    assert_int_equal(ring_reader_walk(rd, RING_FULL, *last + 1, 0, count_cb, last), 0);
    return ring_reader_decoded(rd) - d0;
}

/*
 * Growth judgements on one reader as the daemon makes them on a growing ring
 * (scaled down to keep the test short: 5 minutes every 10 s and 15 every
 * minute on the full tier, an hour every 5 minutes on the per-minute one),
 * each walk keeping a checkpoint where the next judgement of its window
 * begins, and a follower of the newest records (kmemtop's) on the same
 * reader before them.  Every
 * judgement delivers what a fresh reader's walk from the keyframe does, and
 * from its window's second judgement on it decodes the window's records
 * alone, across keyframes; the follower still decodes only the new records.
 */
static void judge_sliding(bool churn)
{
    struct judge {
        enum ring_tier t;
        uint64_t window_s, every_s;
        bool judged;
    } js[] = { { RING_FULL, 300, 10, false },
               { RING_FULL, 900, 60, false },
               { RING_COARSE, 3600, 300, false } };
    const struct ring_config cfg = { 8 << 20, 1 << 20, 1024 };
    const char *path = tpath(churn ? "ckpt-churn.ring" : "ckpt-idle.ring");
    uint64_t last = 0, kept = 0, kept_dec = 0, kept_rec = 0, fresh_dec = 0, follows = 0, exact = 0;
    bool coarse_before = false;
    struct ring_reader *rd;
    struct ring_stats rs;
    struct grower g;

    grower_open(&g, path, &cfg, churn);
    grow(&g, 2000);
    rd = open_reader(path);
    follow(rd, &last);
    while (g.n < 3500) {
        uint64_t now, dec, fdec;
        bool coarse = false;

        grow(&g, 10);
        /* after a judgement of the full tier the follower goes on where it ended */
        dec = follow(rd, &last);
        /* judged up to the newest record, as kmemtop does */
        now = last;
        if (!coarse_before) {
            follows++;
            exact += dec == 10;
        }
        for (size_t j = 0; j < ARRAY_SIZE(js); j++) {
            struct judge *x = &js[j];
            uint64_t from = now - x->window_s * SEC;
            struct walk_log w = { 0 };

            if (g.n % x->every_s)
                continue;
            /* kept a tenth of a second early, as the daemon does: samples have jitter */
            dec = walk_both_keep(rd, path, x->t, from, now, from + x->every_s * SEC - SEC / 10, 0,
                                 &w, &fdec);
            assert_true(w.records > 0 && w.last_wall <= now);
            /* at most one record between the checkpoint and the window: the margin */
            if (x->judged) {
                assert_true(dec <= w.records + 1);
                kept++;
                kept_dec += dec;
                kept_rec += w.records;
                fresh_dec += fdec;
            }
            x->judged = true;
            coarse |= x->t == RING_COARSE;
            free(w.p);
        }
        coarse_before = coarse;
    }
    ring_stats(g.r, &rs);
    printf("# %s: %llu full keyframes; %llu judgements from checkpoints delivered %llu records, "
           "decoded %llu, fresh readers %llu; the follower decoded only the new records %llu "
           "times of %llu\n",
           churn ? "churn" : "idle", (unsigned long long)rs.full_keyframes,
           (unsigned long long)kept, (unsigned long long)kept_rec, (unsigned long long)kept_dec,
           (unsigned long long)fresh_dec, (unsigned long long)exact, (unsigned long long)follows);
    assert_true(rs.full_keyframes >= 2);
    /* fresh readers decode tens to hundreds of records before each window (churn: keyframes are close) */
    assert_true(fresh_dec - kept_rec > 20 * kept);
    assert_true(exact * 10 >= follows * 9);
    ring_reader_close(rd);
    grower_close(&g);
}

static void test_checkpoints_sliding_idle(void **state)
{
    (void)state;
    judge_sliding(false);
}

static void test_checkpoints_sliding_churn(void **state)
{
    (void)state;
    judge_sliding(true);
}

/* The file offset of the full-tier record numbered seq (a ring that has not wrapped). */
static off_t record_offset(const char *path, uint64_t seq)
{
    uint64_t toff = hdr_u64(path, HDR_TIER_OFF(0)), off = hdr_u64(path, HDR_HINT(0, H_TAIL_OFF));
    uint32_t h[3];
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    for (;;) {
        assert_int_equal(pread(fd, h, sizeof(h), (off_t)(toff + off)), (ssize_t)sizeof(h));
        if (h[2] == (uint32_t)seq)
            break;
        assert_true(h[0] > 0 && h[0] < (1u << 20));
        off += (12 + h[0] + 3) & ~3ull;
    }
    close(fd);
    return (off_t)(toff + off);
}

static int seq_of_cb(const struct ring_state *st, void *arg)
{
    uint64_t *seq = arg;

    *seq = st->seq;
    return 1;
}

/*
 * A checkpoint whose record changed is not taken up: rewritten in place
 * under the same sequence number with a valid CRC (its wall time 7 ns later,
 * and every later one with it), or torn (the CRC no longer matches).  The
 * reader walks from the keyframe as a fresh one does.  Then in a ring that
 * wraps around past the checkpoint.
 */
static void test_checkpoint_gone(void **state)
{
    const struct ring_config cfg = { 1 << 20, 256 << 10, 1024 },
                             small = { 64 << 10, 64 << 10, 512 };
    const char *path = tpath("ckpt-gone.ring");
    uint64_t dec, fresh_dec, seq = 0, last;
    struct walk_log w = { 0 };
    struct ring_reader *rd;
    struct grower g;

    (void)state;
    for (int torn = 0; torn < 2; torn++) {
        uint32_t h[3], crc;
        uint8_t *payload;
        off_t rec;
        int fd;

        /* mix_step's samples are exactly a second apart */
        grower_open(&g, path, &cfg, true);
        grow(&g, 40);
        rd = open_reader(path);
        /* a checkpoint before the record of second 20, at the one of second 19 */
        walk_both_keep(rd, path, RING_FULL, at(&g, 10), 0, at(&g, 20), 0, &w, NULL);
        dec = walk_both_keep(rd, path, RING_FULL, at(&g, 25), 0, 0, 0, &w, &fresh_dec);
        assert_true(dec == 20 && w.records == 15 && fresh_dec == 40);
        last = w.last_wall;
        assert_int_equal(ring_reader_walk(rd, RING_FULL, at(&g, 19), 0, seq_of_cb, &seq), 1);
        rec = record_offset(path, seq);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, h, sizeof(h), rec), (ssize_t)sizeof(h));
        payload = malloc(h[0]);
        assert_non_null(payload);
        assert_int_equal(pread(fd, payload, h[0], rec + 12), (ssize_t)h[0]);
        close(fd);
        /* a delta one second after the one before: dwall 0 (test_walk_resume_rewritten) */
        assert_int_equal(payload[0], 2);
        assert_int_equal(payload[1], 0);
        payload[1] = 14;
        crc = crc32c(crc32c(0, (uint32_t[2]){ h[0], h[2] }, 8), payload, h[0]);
        if (torn)
            crc = h[1] ^ 1;
        file_write(path, rec + 4, &crc, 4);
        file_write(path, rec + 12, payload, h[0]);
        free(payload);
        /*
         * A fresh reader sees the wall-time step grow by 7 ns from there (21
         * records to the last), or stops at the torn record: the checkpoint
         * would give the old walls, or records after the torn one.
         */
        dec = walk_both_keep(rd, path, RING_FULL, at(&g, 25), 0, 0, 0, &w, &fresh_dec);
        assert_int_equal(dec, fresh_dec);
        assert_int_equal(w.records, torn ? 0 : 15);
        if (!torn)
            assert_int_equal(w.last_wall, last + 21 * 7);
        ring_reader_close(rd);
        grower_close(&g);
    }

    /* wrapped around: the checkpoint's record and its keyframe are gone */
    grower_open(&g, path, &small, false);
    grow(&g, 100);
    rd = open_reader(path);
    walk_both_keep(rd, path, RING_FULL, at(&g, 50), 0, at(&g, 60), 0, &w, NULL);
    grow(&g, 3000);
    dec = walk_both_keep(rd, path, RING_FULL, at(&g, 61), 0, 0, 0, &w, &fresh_dec);
    assert_int_equal(dec, fresh_dec);
    assert_true(w.first_kf && w.records < 3000);
    ring_reader_close(rd);
    grower_close(&g);
    free(w.p);
}

static bool want_slabs(int kind, const char *key, size_t keylen, void *arg)
{
    (void)key;
    (void)keylen;
    (void)arg;
    return kind == SK_SLAB;
}

static uint64_t walk_only_dec(struct ring_reader *rd, uint64_t from, size_t *n)
{
    uint64_t d0 = ring_reader_decoded(rd), last = 0;

    assert_int_equal(ring_reader_walk_only(rd, RING_FULL, from, 0, want_slabs, NULL, count_cb,
                                           &last),
                     0);
    *n = last ? 1 : 0;
    return ring_reader_decoded(rd) - d0;
}

/*
 * A filtered walk neither starts from a checkpoint (its state would list
 * entities it refuses) nor keeps one, nor spoils those kept: the walk after
 * it still starts from them.
 */
static void test_checkpoint_walk_only(void **state)
{
    const struct ring_config cfg = { 4 << 20, 1 << 20, 1024 };
    const char *path = tpath("ckpt-only.ring");
    struct ring_reader *rd, *fresh;
    struct walk_log w = { 0 };
    uint64_t dec, fresh_dec;
    struct grower g;
    size_t n;

    (void)state;
    grower_open(&g, path, &cfg, false);
    grow(&g, 3000);
    rd = open_reader(path);
    fresh = open_reader(path);
    walk_both_keep(rd, path, RING_FULL, at(&g, 2000), 0, at(&g, 2900), 0, &w, NULL);
    dec = walk_only_dec(rd, at(&g, 2950), &n);
    assert_int_equal(dec, walk_only_dec(fresh, at(&g, 2950), &n));
    assert_true(n && dec > 50);
    /* the checkpoint is still there; the filtered walks left none of their own */
    dec = walk_both_keep(rd, path, RING_FULL, at(&g, 2900), 0, 0, 0, &w, &fresh_dec);
    assert_true(dec == 100 && w.records == 100 && fresh_dec > dec);
    ring_reader_close(fresh);
    fresh = open_reader(path);
    walk_only_dec(fresh, at(&g, 2000), &n);
    dec = walk_both_keep(fresh, path, RING_FULL, at(&g, 2950), 0, 0, 0, &w, &fresh_dec);
    assert_int_equal(dec, fresh_dec);
    ring_reader_close(fresh);
    ring_reader_close(rd);
    grower_close(&g);
    free(w.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_roundtrip_trace),
        cmocka_unit_test(test_coarse_trace),
        cmocka_unit_test(test_entities_appear_disappear),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_keyframe_random_access),
        cmocka_unit_test(test_walk_resume),
        cmocka_unit_test(test_walk_resume_rewritten),
        cmocka_unit_test(test_checkpoints_sliding_idle),
        cmocka_unit_test(test_checkpoints_sliding_churn),
        cmocka_unit_test(test_checkpoint_gone),
        cmocka_unit_test(test_checkpoint_walk_only),
        cmocka_unit_test(test_crash_torn_records),
        cmocka_unit_test(test_crash_kill9),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_open_io_error),
        cmocka_unit_test(test_wrap_small_budget),
        cmocka_unit_test(test_name_slot_reclamation),
        cmocka_unit_test(test_reader_concurrent),
        cmocka_unit_test(test_export_window),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_walk_only_trace),
        cmocka_unit_test(test_walk_only_idle),
        cmocka_unit_test(test_append_unchanged_sources),
        cmocka_unit_test(test_budget_idle_day),
        cmocka_unit_test(test_tables_in_place_trace),
        cmocka_unit_test(test_tables_in_place_idle),
        cmocka_unit_test(test_tables_in_place_churn),
        cmocka_unit_test(test_tables_in_place_never_wrong),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
