#include "testutil.h"

#include <errno.h>

#include "kmalloc.h"
#include "slab.h"

#define HDR21 "slabinfo - version: 2.1\n# name <active_objs> <num_objs> <objsize>\n"

struct parsed {
    struct slab_info si;
    struct kmalloc_table kt;
    char *buf;
};

/* Parse (buf, len) and build the kmalloc table; everything is freed by done(). */
static void build(struct parsed *p, const char *buf, size_t len)
{
    struct perr err = { 0, "" };
    int r;

    slab_info_init(&p->si);
    kmalloc_table_init(&p->kt);
    p->buf = NULL;
    r = slab_parse(buf, len, 4096, &p->si, &err);
    if (r != 0)
        fail_msg("slab_parse: %d line %u: %s", r, err.line, err.msg);
    assert_int_equal(kmalloc_build(&p->si, &p->kt), 0);
}

static void build_file(struct parsed *p, const char *path)
{
    size_t len;
    char *buf = fixture_read(path, &len);

    build(p, buf, len);
    p->buf = buf;
}

static void done(struct parsed *p)
{
    slab_info_free(&p->si);
    kmalloc_table_free(&p->kt);
    free(p->buf);
}

static const struct kmalloc_row *row_for(const struct kmalloc_table *kt, const char *cache)
{
    for (size_t i = 0; i < kt->n; i++)
        if (strcmp(kt->rows[i].cache, cache) == 0)
            return &kt->rows[i];
    static const struct kmalloc_row none;
    fail_msg("no kmalloc row for %s", cache);
    return &none; /* not reached: fail_msg does not return */
}

static void assert_sorted(const struct kmalloc_table *kt)
{
    for (size_t i = 1; i < kt->n; i++) {
        const struct kmalloc_row *a = &kt->rows[i - 1], *b = &kt->rows[i];
        if (a->size > b->size || (a->size == b->size && a->variant > b->variant))
            fail_msg("rows %zu/%zu out of order: %s, %s", i - 1, i, a->cache, b->cache);
    }
}

static void test_classify(void **state)
{
    static const struct {
        const char *name;
        bool is;
        uint64_t size;
        enum kmalloc_variant v;
    } cases[] = {
        { "kmalloc-8", true, 8, KMALLOC_NORMAL },
        { "kmalloc-96", true, 96, KMALLOC_NORMAL },
        { "kmalloc-192", true, 192, KMALLOC_NORMAL },
        { "kmalloc-1k", true, 1024, KMALLOC_NORMAL },
        { "kmalloc-8k", true, 8192, KMALLOC_NORMAL },
        { "kmalloc-2M", true, 2097152, KMALLOC_NORMAL },
        { "kmalloc-1024", true, 1024, KMALLOC_NORMAL },
        { "kmalloc-8192", true, 8192, KMALLOC_NORMAL },
        { "kmalloc-4194304", true, 4194304, KMALLOC_NORMAL },
        { "kmalloc-cg-8", true, 8, KMALLOC_CG },
        { "kmalloc-cg-1k", true, 1024, KMALLOC_CG },
        { "kmalloc-rcl-192", true, 192, KMALLOC_RCL },
        { "kmalloc-rcl-8k", true, 8192, KMALLOC_RCL },
        { "dma-kmalloc-8", true, 8, KMALLOC_DMA },
        { "dma-kmalloc-4k", true, 4096, KMALLOC_DMA },
        { "kmalloc-rnd-01-64", true, 64, KMALLOC_RND },
        { "kmalloc-rnd-15-8k", true, 8192, KMALLOC_RND },
        { "kmalloc-rnd-7-32", true, 32, KMALLOC_RND },
        { "size-32", true, 32, KMALLOC_NORMAL },
        { "size-4096", true, 4096, KMALLOC_NORMAL },
        { "size-131072", true, 131072, KMALLOC_NORMAL },
        /* not classes */
        { "kmalloc_buckets", false, 0, 0 },
        { "kmalloc-", false, 0, 0 },
        { "kmalloc", false, 0, 0 },
        { "kmalloc-cg-", false, 0, 0 },
        { "kmalloc-rcl-", false, 0, 0 },
        { "kmalloc-rnd-", false, 0, 0 },
        { "kmalloc-rnd-01-", false, 0, 0 },
        { "kmalloc-rnd-01", false, 0, 0 },
        { "kmalloc-rnd-64", false, 0, 0 },
        { "kmalloc-rnd--64", false, 0, 0 },
        { "kmalloc-rnd-x1-64", false, 0, 0 },
        { "dma-kmalloc-", false, 0, 0 },
        { "dma-kmalloc-cg-8", false, 0, 0 },
        { "kmalloc-abc", false, 0, 0 },
        { "kmalloc-8#2", false, 0, 0 },
        { "kmalloc-cg-64#3", false, 0, 0 },
        { "kmalloc-8k ", false, 0, 0 },
        { "kmalloc-8kk", false, 0, 0 },
        { "kmalloc-8K", false, 0, 0 },
        { "kmalloc-8m", false, 0, 0 },
        { "kmalloc-k", false, 0, 0 },
        { "kmalloc-0", false, 0, 0 },
        { "kmalloc-064", false, 0, 0 },
        { "kmalloc--8", false, 0, 0 },
        { "kmalloc-+8", false, 0, 0 },
        { "kmalloc-99999999999999999999", false, 0, 0 },
        { "kmalloc-18014398509481984M", false, 0, 0 },
        { "size-", false, 0, 0 },
        { "size-32(DMA)", false, 0, 0 },
        { "sizes-32", false, 0, 0 },
        { "Kmalloc-8", false, 0, 0 },
        { "xkmalloc-8", false, 0, 0 },
        { "kmalloc-cg", false, 0, 0 },
        { "dentry", false, 0, 0 },
        { "", false, 0, 0 },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t size = 12345;
        enum kmalloc_variant v = KMALLOC_NVARIANTS;
        bool is = kmalloc_classify(cases[i].name, &size, &v);

        if (is != cases[i].is)
            fail_msg("\"%s\": classified %d, want %d", cases[i].name, is, cases[i].is);
        if (!is) {
            /* outputs untouched when the name is not a class */
            assert_int_equal(size, 12345);
            continue;
        }
        if (size != cases[i].size || v != cases[i].v)
            fail_msg("\"%s\": size %llu variant %d, want %llu %d", cases[i].name,
                     (unsigned long long)size, v, (unsigned long long)cases[i].size, cases[i].v);
    }
    /* outputs are optional */
    assert_true(kmalloc_classify("kmalloc-64", NULL, NULL));
    assert_false(kmalloc_classify(NULL, NULL, NULL));
}

static void test_variant_names(void **state)
{
    static const char *const names[] = { "normal", "cg", "rcl", "dma", "rnd" };

    (void)state;
    for (int v = 0; v < KMALLOC_NVARIANTS; v++) {
        assert_string_equal(kmalloc_variant_name((enum kmalloc_variant)v), names[v]);
        assert_int_equal(kmalloc_variant_parse(names[v]), v);
    }
    assert_int_equal(kmalloc_variant_parse("Normal"), -1);
    assert_int_equal(kmalloc_variant_parse(""), -1);
    assert_int_equal(kmalloc_variant_parse("rn"), -1);
    assert_int_equal(kmalloc_variant_parse(NULL), -1);
    assert_non_null(kmalloc_variant_name(KMALLOC_NVARIANTS));
}

static void test_rnd_summed(void **state)
{
    static const char in[] = HDR21
        "kmalloc-rnd-01-64 10 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-02-64 11 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-03-64 12 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-04-64 13 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-05-64 14 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-06-64 15 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-07-64 16 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-08-64 17 20 80 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-09-64 18 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-10-64 19 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-11-64 20 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-12-64 21 40 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n"
        "kmalloc-rnd-13-64 22 40 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n"
        "kmalloc-rnd-14-64 23 40 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n"
        "kmalloc-rnd-15-64 24 40 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n"
        "kmalloc-rnd-01-1k 5 16 1024 16 4 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-rnd-02-1k 6 16 1024 16 4 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-1k 7 16 1024 16 4 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-cg-64 1 64 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-64 2 64 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "dentry 3 64 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n";
    struct parsed p;
    const struct kmalloc_row *r;

    (void)state;
    build(&p, STRBUF(in));
    assert_int_equal(p.kt.n, 5);
    assert_sorted(&p.kt);
    assert_string_equal(p.kt.rows[0].cache, "kmalloc-64");
    assert_string_equal(p.kt.rows[1].cache, "kmalloc-cg-64");
    assert_string_equal(p.kt.rows[2].cache, "kmalloc-rnd-*-64");
    assert_string_equal(p.kt.rows[3].cache, "kmalloc-1k");
    assert_string_equal(p.kt.rows[4].cache, "kmalloc-rnd-*-1k");

    r = &p.kt.rows[2];
    assert_int_equal(r->size, 64);
    assert_int_equal(r->variant, KMALLOC_RND);
    assert_int_equal(r->active_objs, 10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19 + 20 + 21 +
                                         22 + 23 + 24);
    assert_int_equal(r->num_objs, 11 * 20 + 4 * 40);
    assert_int_equal(r->objsize, 80); /* the largest of the summed caches */
    assert_int_equal(r->bytes_total, (11 * 1 + 4 * 2) * 4096);
    /* bytes_active sums each cache's own active * objsize */
    assert_int_equal(r->bytes_active, (10 + 11 + 12 + 13 + 14 + 15 + 16 + 18 + 19 + 20 + 21 + 22 +
                                       23 + 24) * 64 + 17 * 80);

    r = &p.kt.rows[4];
    assert_int_equal(r->size, 1024);
    assert_int_equal(r->active_objs, 11);
    assert_int_equal(r->num_objs, 32);
    assert_int_equal(r->objsize, 1024);
    assert_int_equal(r->bytes_total, 2 * 4 * 4096);
    done(&p);
}

static void test_duplicates_not_classes(void **state)
{
    static const char in[] = HDR21
        "kmalloc-8 1 2 8 512 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "kmalloc-8 3 4 8 512 1 : tunables 0 0 0 : slabdata 1 1 0\n";
    struct parsed p;

    (void)state;
    build(&p, STRBUF(in));
    assert_int_equal(p.si.n, 2);
    assert_string_equal(p.si.caches[1].name, "kmalloc-8#2");
    assert_int_equal(p.kt.n, 1);
    assert_string_equal(p.kt.rows[0].cache, "kmalloc-8");
    assert_int_equal(p.kt.rows[0].active_objs, 1);
    done(&p);
}

/*
 * Two caches of one kmalloc name reach the table only from a damaged ring
 * file (slab_parse renames the second): kmalloc_refresh must still give
 * kmalloc_build's table, two rows, not one row summing both.
 */
static void test_refresh_same_names(void **state)
{
    static const char in[] = HDR21
        "kmalloc-1k 288 288 1024 32 8 : tunables 0 0 0 : slabdata 9 9 0\n"
        "kmalloc-2k 810 880 2048 16 8 : tunables 0 0 0 : slabdata 55 55 0\n"
        "kmalloc-64 100 128 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n";
    struct parsed p;
    struct kmalloc_table fresh;

    (void)state;
    build(&p, STRBUF(in));
    strcpy(p.si.caches[1].name, "kmalloc-1k");
    p.si.caches[1].objsize = 1024;
    assert_int_equal(kmalloc_build(&p.si, &p.kt), 0);
    assert_int_equal(p.kt.n, 3);
    /* counts change, names and order do not: what slab_parse_incr calls same_names */
    p.si.caches[0].active_objs = 300;
    p.si.caches[1].active_objs = 820;
    assert_int_equal(kmalloc_refresh(&p.si, &p.kt), 0);
    kmalloc_table_init(&fresh);
    assert_int_equal(kmalloc_build(&p.si, &fresh), 0);
    assert_kmalloc_equal(&p.kt, &fresh);
    kmalloc_table_free(&fresh);
    done(&p);
}

static void test_idle_fixture(void **state)
{
    static const uint64_t sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512,
                                      1024, 2048, 4096, 8192 };
    static const char *const spelled[] = { "8", "16", "32", "64", "96", "128", "192",
                                           "256", "512", "1k", "2k", "4k", "8k" };
    static const char *const prefix[] = { "kmalloc-", "kmalloc-cg-", "kmalloc-rcl-",
                                          "dma-kmalloc-" };
    struct parsed p;
    const struct kmalloc_row *r;

    (void)state;
    build_file(&p, "tests/fixtures/idle/slabinfo");
    /* 13 sizes x normal, cg, rcl, dma; kmalloc_buckets is not a class */
    assert_int_equal(p.kt.n, 52);
    assert_sorted(&p.kt);
    for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
        for (size_t v = 0; v < 4; v++) {
            char want[64];
            r = &p.kt.rows[s * 4 + v];
            snprintf(want, sizeof(want), "%s%s", prefix[v], spelled[s]);
            assert_string_equal(r->cache, want);
            assert_int_equal(r->size, sizes[s]);
            assert_int_equal(r->variant, (enum kmalloc_variant)v);
            /* the row carries the cache's own numbers */
            const struct slab_cache *c = &p.si.caches[slab_find(&p.si, want)];
            assert_int_equal(r->objsize, c->objsize);
            assert_int_equal(r->active_objs, c->active_objs);
            assert_int_equal(r->num_objs, c->num_objs);
            assert_int_equal(r->bytes_total, c->bytes_total);
            assert_int_equal(r->bytes_active, c->bytes_active);
        }
    }
    r = row_for(&p.kt, "kmalloc-cg-1k");
    assert_int_equal(r->active_objs, 151);
    assert_int_equal(r->num_objs, 176);
    assert_int_equal(r->bytes_total, 11 * 4 * 4096);
    r = row_for(&p.kt, "kmalloc-8");
    assert_int_equal(r->active_objs, 2048);
    assert_int_equal(r->objsize, 8);
    done(&p);
}

static void test_procfs_fixture(void **state)
{
    struct parsed p;
    const struct kmalloc_row *r;
    size_t counts[KMALLOC_NVARIANTS] = { 0 };

    (void)state;
    build_file(&p, "tests/fixtures/procfs/slabinfo");
    assert_int_equal(p.kt.n, 39);
    assert_sorted(&p.kt);
    for (size_t i = 0; i < p.kt.n; i++)
        counts[p.kt.rows[i].variant]++;
    assert_int_equal(counts[KMALLOC_NORMAL], 13);
    assert_int_equal(counts[KMALLOC_CG], 0);
    assert_int_equal(counts[KMALLOC_RCL], 13);
    assert_int_equal(counts[KMALLOC_DMA], 13);
    /* size comes from the name, objsize from the file (slub_debug inflates it) */
    r = &p.kt.rows[0];
    assert_string_equal(r->cache, "kmalloc-8");
    assert_int_equal(r->size, 8);
    assert_int_equal(r->objsize, 344);
    assert_int_equal(r->active_objs, 7576);
    assert_int_equal(r->num_objs, 7705);
    assert_int_equal(r->bytes_total, 335 * 2 * 4096);
    assert_int_equal(r->bytes_active, 7576 * 344);
    r = row_for(&p.kt, "kmalloc-8k");
    assert_int_equal(r->size, 8192);
    assert_int_equal(r->objsize, 24576);
    done(&p);
}

static void test_slab_names(void **state)
{
    struct parsed p;

    (void)state;
    /* old SLAB "size-N" names */
    build_file(&p, "tests/fixtures/synthetic/slabinfo-slab-debug");
    assert_int_equal(p.kt.n, 8);
    assert_sorted(&p.kt);
    assert_string_equal(p.kt.rows[0].cache, "size-32");
    assert_int_equal(p.kt.rows[0].size, 32);
    assert_int_equal(p.kt.rows[0].active_objs, 37122);
    assert_string_equal(p.kt.rows[7].cache, "size-4096");
    assert_int_equal(p.kt.rows[7].size, 4096);
    for (size_t i = 0; i < p.kt.n; i++)
        assert_int_equal(p.kt.rows[i].variant, KMALLOC_NORMAL);
    done(&p);

    /* SLAB "kmalloc-1024" decimal names */
    build_file(&p, "tests/fixtures/synthetic/slabinfo-slab-2.1");
    assert_int_equal(p.kt.n, 11);
    assert_sorted(&p.kt);
    assert_string_equal(p.kt.rows[0].cache, "kmalloc-32");
    assert_string_equal(p.kt.rows[10].cache, "kmalloc-8192");
    assert_int_equal(p.kt.rows[10].size, 8192);
    assert_int_equal(row_for(&p.kt, "kmalloc-1024")->size, 1024);
    assert_int_equal(row_for(&p.kt, "kmalloc-1024")->num_objs, 2424);
    done(&p);
}

static void test_reuse_and_empty(void **state)
{
    struct slab_info si;
    struct kmalloc_table kt;
    struct perr err;
    char *buf;
    size_t len;

    (void)state;
    slab_info_init(&si);
    kmalloc_table_init(&kt);
    /* empty slab_info: nothing to do, no allocation needed */
    assert_int_equal(kmalloc_build(&si, &kt), 0);
    assert_int_equal(kt.n, 0);

    buf = fixture_read("tests/fixtures/idle/slabinfo", &len);
    assert_int_equal(slab_parse(buf, len, 4096, &si, &err), 0);
    assert_int_equal(kmalloc_build(&si, &kt), 0);
    assert_int_equal(kt.n, 52);
    assert_int_equal(kmalloc_build(&si, &kt), 0);
    assert_int_equal(kt.n, 52);
    assert_int_equal(
        slab_parse(STRBUF(HDR21 "dentry 1 1 1 1 1 : tunables 0 0 0 : slabdata 1 1 0\n"), 4096,
                   &si, &err),
        0);
    assert_int_equal(kmalloc_build(&si, &kt), 0);
    assert_int_equal(kt.n, 0);
    free(buf);
    slab_info_free(&si);
    kmalloc_table_free(&kt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_variant_names),
        cmocka_unit_test(test_rnd_summed),
        cmocka_unit_test(test_duplicates_not_classes),
        cmocka_unit_test(test_refresh_same_names),
        cmocka_unit_test(test_idle_fixture),
        cmocka_unit_test(test_procfs_fixture),
        cmocka_unit_test(test_slab_names),
        cmocka_unit_test(test_reuse_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
