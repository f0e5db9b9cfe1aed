#include "testutil.h"

#include <errno.h>

#include "slab.h"

#define HDR21 "slabinfo - version: 2.1\n"
#define COLS                                                                                  \
    "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : "   \
    "tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "   \
    "<sharedavail>\n"
#define ROW(name) name " 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n"

static struct slab_info *parse_ok(const char *buf, size_t len)
{
    static struct slab_info si;
    struct perr err = { 0, "" };
    int r;

    slab_info_free(&si);
    r = slab_parse(buf, len, 4096, &si, &err);
    if (r != 0)
        fail_msg("slab_parse failed: %d line %u: %s", r, err.line, err.msg);
    return &si;
}

static struct slab_info *parse_file(const char *path)
{
    static char *buf;
    size_t len;

    free(buf);
    buf = fixture_read(path, &len);
    return parse_ok(buf, len);
}

static const struct slab_cache *find(const struct slab_info *si, const char *name)
{
    long i = slab_find(si, name);
    if (i < 0)
        fail_msg("cache %s not found", name);
    return &si->caches[i];
}

/* Number of '\n' in a buffer: the row count is that minus the two header lines. */
static size_t count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    return n;
}

static void assert_row(const struct slab_cache *c, uint64_t active, uint64_t num, uint64_t objsize,
                       uint64_t perslab, uint64_t pages, uint64_t limit, uint64_t batch,
                       uint64_t shared, uint64_t aslabs, uint64_t nslabs, uint64_t avail)
{
    assert_int_equal(c->active_objs, active);
    assert_int_equal(c->num_objs, num);
    assert_int_equal(c->objsize, objsize);
    assert_int_equal(c->objperslab, perslab);
    assert_int_equal(c->pagesperslab, pages);
    assert_int_equal(c->limit, limit);
    assert_int_equal(c->batchcount, batch);
    assert_int_equal(c->sharedfactor, shared);
    assert_int_equal(c->active_slabs, aslabs);
    assert_int_equal(c->num_slabs, nslabs);
    assert_int_equal(c->sharedavail, avail);
    assert_int_equal(c->bytes_total, nslabs * pages * 4096);
    assert_int_equal(c->bytes_active, active * objsize);
}

static void test_idle_fixture(void **state)
{
    const struct slab_info *si;

    (void)state;
    si = parse_file("tests/fixtures/idle/slabinfo");
    assert_int_equal(si->version_major, 2);
    assert_int_equal(si->version_minor, 1);
    assert_int_equal(si->statistics, 0);
    assert_int_equal(si->n, 235);
    assert_string_equal(si->caches[0].name, "btrfs_delayed_node");
    assert_string_equal(si->caches[1].name, "btrfs_ordered_extent");
    assert_row(&si->caches[1], 0, 0, 416, 19, 2, 0, 0, 0, 0, 0, 0);
    assert_string_equal(si->caches[234].name, "kmem_cache");
    assert_row(&si->caches[234], 256, 256, 256, 16, 1, 0, 0, 0, 16, 16, 0);
    assert_row(find(si, "kmalloc-8"), 2048, 2048, 8, 512, 1, 0, 0, 0, 4, 4, 0);
    assert_row(find(si, "dentry"), 32896, 32907, 192, 21, 1, 0, 0, 0, 1567, 1567, 0);
    assert_row(find(si, "task_struct"), 119, 130, 5888, 5, 8, 0, 0, 0, 26, 26, 0);
    assert_int_equal(find(si, "task_struct")->bytes_total, 26 * 8 * 4096);
    assert_int_equal(find(si, "task_struct")->bytes_active, 119 * 5888);
    assert_row(find(si, "kmalloc-cg-1k"), 151, 176, 1024, 16, 4, 0, 0, 0, 11, 11, 0);
    assert_row(find(si, "kmalloc_buckets"), 36, 36, 112, 36, 1, 0, 0, 0, 1, 1, 0);
    assert_row(find(si, "RAWv6"), 12, 12, 1344, 12, 4, 0, 0, 0, 1, 1, 0);
    assert_row(find(si, "TCPv6"), 13, 13, 2496, 13, 8, 0, 0, 0, 1, 1, 0);
    assert_row(find(si, "fuse_request"), 0, 0, 168, 24, 1, 0, 0, 0, 0, 0, 0);
    assert_row(find(si, "kmem_cache_node"), 288, 288, 128, 32, 1, 0, 0, 0, 9, 9, 0);
    /* no duplicates in this file, so nothing may have been renamed */
    for (size_t i = 0; i < si->n; i++)
        assert_null(strchr(si->caches[i].name, '#'));
}

static void test_procfs_fixture(void **state)
{
    const struct slab_info *si;

    (void)state;
    si = parse_file("tests/fixtures/procfs/slabinfo");
    assert_int_equal(si->n, 300);
    assert_string_equal(si->caches[0].name, "pid_3");
    assert_row(&si->caches[0], 375, 532, 576, 28, 4, 0, 0, 0, 19, 19, 0);
    assert_int_equal(si->caches[0].bytes_total, 19 * 4 * 4096);
    assert_int_equal(si->caches[0].bytes_active, 375 * 576);
    /* slub_debug inflates objsize: kmalloc-8 objects take 344 bytes */
    assert_row(find(si, "kmalloc-8"), 7576, 7705, 344, 23, 2, 0, 0, 0, 335, 335, 0);
    assert_row(find(si, "dentry"), 166069, 169074, 528, 31, 4, 0, 0, 0, 5454, 5454, 0);
    assert_row(&si->caches[299], 904, 936, 832, 39, 8, 0, 0, 0, 24, 24, 0);
    assert_string_equal(si->caches[299].name, "kmem_cache");
    /* names with ':' '.' '/' (PCI addresses, protocol families) */
    assert_true(slab_find(si, "iwl_cmd_pool:0000:04:00.0") >= 0);
    assert_true(slab_find(si, "L2TP/IPv6") >= 0);
    for (size_t i = 0; i < si->n; i++)
        assert_null(strchr(si->caches[i].name, '#'));
}

static void test_synthetic_slab21(void **state)
{
    const struct slab_info *si;

    (void)state;
    si = parse_file("tests/fixtures/synthetic/slabinfo-slab-2.1");
    assert_int_equal(si->version_minor, 1);
    assert_int_equal(si->statistics, 0);
    assert_int_equal(si->n, 13);
    assert_row(&si->caches[0], 4, 4, 1032, 4, 1, 54, 27, 8, 1, 1, 0);
    assert_string_equal(si->caches[0].name, "nfs_inode_cache");
    assert_row(find(si, "xfs_inode"), 91250, 91264, 1024, 4, 1, 54, 27, 8, 22816, 22816, 0);
    assert_row(find(si, "kmalloc-8192"), 58, 58, 8192, 1, 2, 8, 4, 0, 58, 58, 0);
    assert_row(find(si, "kmalloc-4096"), 622, 624, 4096, 1, 1, 24, 12, 8, 622, 624, 0);
    assert_row(&si->caches[12], 66231, 66304, 32, 112, 1, 120, 60, 8, 592, 592, 0);
}

static void test_synthetic_statistics(void **state)
{
    const struct slab_info *si;

    (void)state;
    si = parse_file("tests/fixtures/synthetic/slabinfo-slab-debug");
    assert_int_equal(si->version_major, 2);
    assert_int_equal(si->version_minor, 1);
    assert_int_equal(si->statistics, 1);
    assert_int_equal(si->n, 10);
    assert_row(&si->caches[0], 52311, 52416, 1144, 7, 2, 24, 12, 8, 7488, 7488, 0);
    assert_row(find(si, "dentry"), 140412, 140763, 224, 17, 1, 120, 60, 8, 8279, 8281, 24);
    assert_row(find(si, "size-512"), 6650, 6824, 512, 8, 1, 54, 27, 8, 853, 853, 27);
    assert_row(&si->caches[9], 37122, 37184, 32, 112, 1, 120, 60, 8, 332, 332, 0);
    assert_string_equal(si->caches[9].name, "size-32");
}

static void test_growth_trace(void **state)
{
    char path[64];
    char *buf;
    size_t len;
    struct slab_info si;
    struct perr err;

    (void)state;
    slab_info_init(&si);
    for (int i = 0; i < 30; i++) {
        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/slabinfo", i);
        buf = fixture_read(path, &len);
        assert_int_equal(slab_parse(buf, len, 4096, &si, &err), 0);
        assert_int_equal(si.n, count_lines(buf, len) - 2);
        assert_int_equal(si.n, 235);
        if (i == 0)
            assert_row(&si.caches[slab_find(&si, "kmalloc-cg-1k")], 159, 272, 1024, 16, 4, 0, 0,
                       0, 17, 17, 0);
        if (i == 14)
            assert_row(&si.caches[slab_find(&si, "kmalloc-cg-1k")], 4624, 4624, 1024, 16, 4, 0,
                       0, 0, 289, 289, 0);
        free(buf);
    }
    slab_info_free(&si);
}

static void test_duplicates_renamed(void **state)
{
    static const char in[] = HDR21 COLS
        "foo 1 1 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "bar 5 5 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "foo 2 2 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n"
        "foo 3 3 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n";
    const struct slab_info *si;

    (void)state;
    for (int round = 0; round < 2; round++) {
        /* the second round reuses storage: the name set must start empty again */
        si = parse_ok(STRBUF(in));
        assert_int_equal(si->n, 4);
        assert_string_equal(si->caches[0].name, "foo");
        assert_string_equal(si->caches[1].name, "bar");
        assert_string_equal(si->caches[2].name, "foo#2");
        assert_string_equal(si->caches[3].name, "foo#3");
        assert_int_equal(si->caches[slab_find(si, "foo")].active_objs, 1);
        assert_int_equal(si->caches[slab_find(si, "foo#2")].active_objs, 2);
        assert_int_equal(si->caches[slab_find(si, "foo#3")].active_objs, 3);
        assert_int_equal(slab_find(si, "foo#4"), -1);
    }
}

static void test_duplicates_reuse_storage(void **state)
{
    static const char in[] = HDR21 COLS ROW("a") ROW("a") ROW("b") ROW("a");
    struct slab_info si;
    struct perr err;
    char *idle;
    size_t len;

    (void)state;
    slab_info_init(&si);
    idle = fixture_read("tests/fixtures/idle/slabinfo", &len);
    assert_int_equal(slab_parse(idle, len, 4096, &si, &err), 0);
    assert_int_equal(slab_parse(STRBUF(in), 4096, &si, &err), 0);
    assert_int_equal(si.n, 4);
    assert_string_equal(si.caches[3].name, "a#3");
    assert_int_equal(slab_parse(idle, len, 4096, &si, &err), 0);
    assert_int_equal(si.n, 235);
    assert_int_equal(slab_find(&si, "a"), -1);
    free(idle);
    slab_info_free(&si);
}

static void test_duplicates_many(void **state)
{
    /* thousands of rows, one name repeated: linear-time renaming, all distinct */
    enum { N = 5000 };
    static const char row[] = ROW("dup");
    size_t hl = sizeof(HDR21 COLS) - 1, rl = sizeof(row) - 1;
    char *buf = malloc(hl + N * rl);
    const struct slab_info *si;
    char want[32];

    (void)state;
    assert_non_null(buf);
    memcpy(buf, HDR21 COLS, hl);
    for (size_t i = 0; i < N; i++)
        memcpy(buf + hl + i * rl, row, rl);
    si = parse_ok(buf, hl + N * rl);
    assert_int_equal(si->n, N);
    assert_string_equal(si->caches[0].name, "dup");
    snprintf(want, sizeof(want), "dup#%d", N);
    assert_string_equal(si->caches[N - 1].name, want);
    assert_int_equal(slab_find(si, want), N - 1);
    free(buf);
}

static void test_duplicate_suffix_collision(void **state)
{
    /* a literal "foo#2" must not be shadowed by the renamed second "foo" */
    static const char in[] = HDR21 COLS ROW("foo#2") ROW("foo") ROW("foo");
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(in));
    assert_int_equal(si->n, 3);
    assert_string_equal(si->caches[0].name, "foo#2");
    assert_string_equal(si->caches[1].name, "foo");
    assert_string_equal(si->caches[2].name, "foo#3");
}

static void test_odd_names(void **state)
{
    static const char in[] = HDR21 COLS ROW(":0000064") ROW(":a-0000192") ROW("ext4_groupinfo_4k")
        ROW("UDP-Lite") ROW("iwl_cmd_pool:0000:04:00.0") ROW("btrfs_ordered_extent")
        ROW("ecryptfs_key_record_cache(x)") ROW("kmalloc-rnd-01-64") ROW("L2TP/IPv6");
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(in));
    assert_int_equal(si->n, 9);
    assert_string_equal(si->caches[0].name, ":0000064");
    assert_string_equal(si->caches[1].name, ":a-0000192");
    assert_int_equal(slab_find(si, "UDP-Lite"), 3);
    assert_int_equal(slab_find(si, "iwl_cmd_pool:0000:04:00.0"), 4);
    assert_int_equal(slab_find(si, "ecryptfs_key_record_cache(x)"), 6);
    assert_int_equal(slab_find(si, "L2TP/IPv6"), 8);
    assert_row(&si->caches[8], 1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8);
    assert_int_equal(slab_find(si, "nope"), -1);
    assert_int_equal(slab_find(si, ""), -1);
}

static void test_name_max_length(void **state)
{
    char name[SLAB_NAME_MAX];
    char buf[1024];
    const struct slab_info *si;
    int n;

    (void)state;
    memset(name, 'x', SLAB_NAME_MAX - 1);
    name[SLAB_NAME_MAX - 1] = '\0';
    n = snprintf(buf, sizeof(buf), HDR21 COLS "%s 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n",
                 name);
    si = parse_ok(buf, (size_t)n);
    assert_int_equal(si->n, 1);
    assert_string_equal(si->caches[0].name, name);
}

static void test_header_20(void **state)
{
    static const char in[] = "slabinfo - version: 2.0\n" COLS ROW("foo") ROW("bar");
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(in));
    assert_int_equal(si->version_major, 2);
    assert_int_equal(si->version_minor, 0);
    assert_int_equal(si->statistics, 0);
    assert_int_equal(si->n, 2);
}

static void test_header_only(void **state)
{
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(HDR21 COLS));
    assert_int_equal(si->n, 0);
    /* the column header may be abbreviated: only "# name" matters */
    si = parse_ok(STRBUF(HDR21 "# name\n" ROW("a")));
    assert_int_equal(si->n, 1);
}

static void test_whitespace(void **state)
{
    static const char in[] = HDR21 COLS
        "foo\t1\t\t2 3    4 5\t:\ttunables 10 20 30 : slabdata 6 7 8   \n"
        "  bar 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\t\n"
        "baz 1 2 3 4 5 :  tunables\t0 0 0 :\tslabdata 6 7 8 : globalstat 1 2 : cpustat 3 4\n"
        "max 18446744073709551615 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n";
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(in));
    assert_int_equal(si->n, 4);
    assert_string_equal(si->caches[0].name, "foo");
    assert_row(&si->caches[0], 1, 2, 3, 4, 5, 10, 20, 30, 6, 7, 8);
    assert_string_equal(si->caches[1].name, "bar");
    assert_string_equal(si->caches[2].name, "baz");
    assert_row(&si->caches[2], 1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 8);
    assert_int_equal(si->caches[3].active_objs, UINT64_MAX);
    /* derived values saturate instead of wrapping */
    assert_int_equal(si->caches[3].bytes_active, UINT64_MAX);
}

static void test_active_above_num_kept(void **state)
{
    static const char in[] = HDR21 COLS "foo 10 5 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n";
    const struct slab_info *si;

    (void)state;
    si = parse_ok(STRBUF(in));
    assert_int_equal(si->n, 1);
    assert_int_equal(si->caches[0].active_objs, 10);
    assert_int_equal(si->caches[0].num_objs, 5);
}

struct bad_case {
    const char *what;
    const char *buf;
    size_t len;
    unsigned line;
    const char *msg;
};

#define BAD(what, s, line, msg) { what, s, sizeof(s) - 1, line, msg }

/* Error messages go to terminals and journals: no raw control bytes, bounded. */
static void assert_clean_message(const struct perr *err)
{
    size_t n = strlen(err->msg);

    assert_true(n > 0);
    assert_true(n < sizeof(err->msg) - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)err->msg[i];
        if (c < 0x20 || c >= 0x7f)
            fail_msg("raw byte 0x%02x in message \"%s\"", c, err->msg);
    }
}

static void run_bad(const struct bad_case *c)
{
    struct slab_info si;
    struct perr err = { 0, "" };
    int r;

    slab_info_init(&si);
    r = slab_parse(c->buf, c->len, 4096, &si, &err);
    if (r != -EINVAL)
        fail_msg("%s: expected -EINVAL, got %d", c->what, r);
    if (err.line != c->line || !strstr(err.msg, c->msg))
        fail_msg("%s: got line %u \"%s\", want line %u \"%s\"", c->what, err.line, err.msg,
                 c->line, c->msg);
    assert_int_equal(si.n, 0);
    assert_clean_message(&err);
    slab_info_free(&si);
}

static void test_malformed(void **state)
{
    static const char long_name[] = HDR21 COLS
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        " 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n";
    static const char long_dup[] = HDR21 COLS
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        " 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        " 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n";
    static const struct bad_case cases[] = {
        BAD("empty file", "", 0, "empty file"),
        BAD("bad version", "slabinfo - version: 3.0\n" COLS ROW("a"), 1,
            "unsupported slabinfo format \"slabinfo - version: 3.0\""),
        BAD("trailing blank on header", "slabinfo - version: 2.1 \n" COLS, 1,
            "unsupported slabinfo format"),
        BAD("not slabinfo", "MemTotal: 1 kB\n", 1,
            "unsupported slabinfo format \"MemTotal: 1 kB\""),
        BAD("header without newline", "slabinfo - version: 2.1", 1, "truncated line"),
        BAD("header only", HDR21, 2, "missing \"# name\""),
        BAD("no column line", HDR21 ROW("a"), 2, "expected \"# name\" column header"),
        BAD("column line #names", HDR21 "# names\n" ROW("a"), 2, "expected \"# name\""),
        BAD("cut mid-row", HDR21 COLS ROW("a") "b 1 2 3 4 5 : tunab", 4, "truncated line"),
        BAD("missing final newline",
            HDR21 COLS ROW("a") "b 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8",
            4, "truncated line"),
        BAD("row ends before tunables", HDR21 COLS "a 1 2 3 4 5\n", 3,
            "truncated line: expected 'tunables' section"),
        BAD("row ends before slabdata", HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0\n", 3,
            "truncated line: expected 'slabdata' section"),
        BAD("row ends after colon", HDR21 COLS "a 1 2 3 4 5 :\n", 3,
            "truncated line: expected 'tunables' section"),
        BAD("row ends in slabdata", HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7\n", 3,
            "truncated line: expected field sharedavail"),
        BAD("missing field", HDR21 COLS "a 1 2 3 4 : tunables 0 0 0 : slabdata 6 7 8\n", 3,
            "field pagesperslab: not a number \":\""),
        BAD("name only", HDR21 COLS ROW("a") "lonely\n", 4,
            "truncated line: expected field active_objs"),
        BAD("garbage line", HDR21 COLS ROW("a") "hello world, how are you\n", 4,
            "field active_objs: not a number \"world,\""),
        BAD("non-number", HDR21 COLS ROW("a") ROW("b") ROW("c") ROW("d")
            "e 1 12x 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n", 7,
            "field num_objs: not a number \"12x\""),
        BAD("negative", HDR21 COLS "a 1 2 -3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n", 3,
            "field objsize: not a number \"-3\""),
        BAD("overflow",
            HDR21 COLS "a 1 2 3 4 5 : tunables 99999999999999999999999 0 0 : slabdata 6 7 8\n",
            3, "field limit: number out of range \"99999999999999999999999\""),
        BAD("overflow by one",
            HDR21 COLS "a 18446744073709551616 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n",
            3, "number out of range"),
        BAD("NUL in row",
            HDR21 COLS ROW("a") "b 1 2 3\0 4 5 : tunables 0 0 0 : slabdata 6 7 8\n", 4,
            "NUL byte in line"),
        BAD("NUL in header", "slabinfo - version: 2.1\0\n", 1, "NUL byte in line"),
        /* rows are not pre-scanned for NUL: every position must still report it */
        BAD("NUL in name", HDR21 COLS ROW("a\0b"), 3, "NUL byte in line"),
        BAD("NUL before name", HDR21 COLS ROW("\0a"), 3, "NUL byte in line"),
        BAD("NUL in padding", HDR21 COLS "a 1 \0 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\n", 3,
            "NUL byte in line"),
        BAD("NUL after last field", HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\0\n",
            3, "NUL byte in line"),
        BAD("NUL in section", HDR21 COLS "a 1 2 3 4 5 : tuna\0les 0 0 0 : slabdata 6 7 8\n", 3,
            "NUL byte in line"),
        BAD("NUL in statistics", HDR21 COLS
            "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8 : globalstat 1 \0 : cpustat 2\n", 3,
            "NUL byte in line"),
        BAD("NUL and no newline", HDR21 COLS "a 1 2\0", 3, "truncated line"),
        BAD("junk after sharedavail",
            HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8 9\n", 3,
            "unexpected data after sharedavail: \"9\""),
        BAD("junk section",
            HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8 : junk 1\n", 3,
            "unexpected data after sharedavail"),
        BAD("bad globalstat", HDR21 COLS
            "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8 : globalstat 1 x 3\n", 3,
            "malformed statistics columns near \"x\""),
        BAD("double cpustat", HDR21 COLS
            "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8 : globalstat 1 : cpustat 2 "
            ": cpustat 3\n",
            3, "malformed statistics"),
        BAD("wrong section word", HDR21 COLS "a 1 2 3 4 5 : tunable 0 0 0 : slabdata 6 7 8\n", 3,
            "expected ': tunables', got \": tunable\""),
        BAD("sections swapped", HDR21 COLS "a 1 2 3 4 5 : slabdata 0 0 0 : tunables 6 7 8\n", 3,
            "expected ': tunables'"),
        BAD("glued colon", HDR21 COLS "a 1 2 3 4 5 :tunables 0 0 0 : slabdata 6 7 8\n", 3,
            "expected ': tunables', got \":tunables\""),
        BAD("too many tunables", HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 0 : slabdata 6 7 8\n", 3,
            "expected ': slabdata', got \"0\""),
        BAD("empty line", HDR21 COLS ROW("a") "\n" ROW("b"), 4, "empty line"),
        BAD("blank line", HDR21 COLS ROW("a") " \t \n", 4, "empty line"),
        BAD("CRLF", HDR21 COLS "a 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 8\r\n", 3,
            "not a number \"8\\x0d\""),
        BAD("control byte in name", HDR21 COLS ROW("a\x1b[31mb"), 3,
            "cache name with a non-printable byte: \"a\\x1b[31mb\""),
        BAD("high byte in name", HDR21 COLS ROW("caf\xc3\xa9"), 3, "non-printable byte"),
        BAD("name too long", long_name, 3, "cache name too long (128 bytes, max 127)"),
        BAD("duplicate suffix too long", long_dup, 4, "too long with duplicate suffix"),
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        run_bad(&cases[i]);
}

static void test_error_message_escaped(void **state)
{
    /* a long binary first line: escaped, cut to about 60 characters */
    char buf[512];
    struct slab_info si;
    struct perr err;
    size_t i;

    (void)state;
    for (i = 0; i < 300; i++)
        buf[i] = (char)(1 + i % 255);
    buf[9] = '"';
    buf[300] = '\n';
    slab_info_init(&si);
    assert_int_equal(slab_parse(buf, 301, 4096, &si, &err), -EINVAL);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "unsupported slabinfo format \"\\x01\\x02"));
    assert_non_null(strstr(err.msg, "...\""));
    assert_true(strlen(err.msg) < 100);
    assert_clean_message(&err);
}

static void test_error_clears_previous(void **state)
{
    static const char bad[] = HDR21 COLS ROW("a") "b 1\n";
    struct slab_info si;
    struct perr err;

    (void)state;
    slab_info_init(&si);
    assert_int_equal(slab_parse(STRBUF(HDR21 COLS ROW("a") ROW("b")), 4096, &si, &err), 0);
    assert_int_equal(si.n, 2);
    assert_int_equal(slab_parse(STRBUF(bad), 4096, &si, &err), -EINVAL);
    assert_int_equal(si.n, 0);
    assert_int_equal(slab_find(&si, "a"), -1);
    assert_int_equal(slab_parse(STRBUF(HDR21 COLS ROW("a") ROW("a")), 4096, &si, &err), 0);
    assert_string_equal(si.caches[1].name, "a#2");
    slab_info_free(&si);
    /* a NULL perr is allowed */
    assert_int_equal(slab_parse(STRBUF(bad), 4096, &si, NULL), -EINVAL);
    slab_info_free(&si);
}

static void test_malformed_fixtures(void **state)
{
    static const struct {
        const char *path;
        unsigned line;
        const char *msg;
    } cases[] = {
        { "tests/fixtures/malformed/slabinfo-cut-midrow", 12, "truncated line" },
        { "tests/fixtures/malformed/slabinfo-bad-version", 1,
          "unsupported slabinfo format \"slabinfo - version: 1.1\"" },
        { "tests/fixtures/malformed/slabinfo-overflow", 5, "field num_slabs: number out of range" },
        { "tests/fixtures/malformed/slabinfo-short-row", 4, "expected 'slabdata' section" },
    };
    char *buf;
    size_t len;
    struct slab_info si;
    struct perr err;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        buf = fixture_read(cases[i].path, &len);
        slab_info_init(&si);
        assert_int_equal(slab_parse(buf, len, 4096, &si, &err), -EINVAL);
        if (err.line != cases[i].line || !strstr(err.msg, cases[i].msg))
            fail_msg("%s: got line %u \"%s\"", cases[i].path, err.line, err.msg);
        slab_info_free(&si);
        free(buf);
    }
}

/*
 * slab_parse (each row offered to the fast path first) and
 * slab_parse_general (every row through the general parser) on the same
 * bytes: the same result code, error line and message, names and fields.
 * Returns how many rows slab_parse took through the fast path.
 */
static size_t assert_same_as_general(const char *buf, size_t len)
{
    static struct slab_info fast, general;
    struct perr ef = { 0, "" }, eg = { 0, "" };
    int rf, rg;

    rf = slab_parse(buf, len, 4096, &fast, &ef);
    rg = slab_parse_general(buf, len, 4096, &general, &eg);
    if (rf != rg)
        fail_msg("slab_parse %d (%u: %s), slab_parse_general %d (%u: %s)", rf, ef.line, ef.msg,
                 rg, eg.line, eg.msg);
    assert_int_equal(general.fast_rows, 0);
    if (rf < 0) {
        assert_int_equal(ef.line, eg.line);
        assert_string_equal(ef.msg, eg.msg);
        assert_int_equal(fast.n, 0);
        return 0;
    }
    assert_int_equal(fast.n, general.n);
    for (size_t i = 0; i < fast.n; i++) {
        assert_string_equal(fast.caches[i].name, general.caches[i].name);
        assert_slab_fields_equal(&fast.caches[i], &general.caches[i]);
    }
    return fast.fast_rows;
}

static void test_fast_path_fixtures(void **state)
{
    /* files as the kernel prints them: every row takes the fast path */
    static const char *const kernel[] = {
        "tests/fixtures/idle/slabinfo",
        "tests/fixtures/procfs/slabinfo",
        "tests/fixtures/synthetic/slabinfo-slab-2.1",
        "tests/fixtures/growth-trace/000/slabinfo",
        "tests/fixtures/growth-trace/014/slabinfo",
        "tests/fixtures/growth-trace/029/slabinfo",
    };
    char *buf;
    size_t len;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(kernel); i++) {
        buf = fixture_read(kernel[i], &len);
        assert_int_equal(assert_same_as_general(buf, len), count_lines(buf, len) - 2);
        free(buf);
    }
    /* statistics columns: none does */
    buf = fixture_read("tests/fixtures/synthetic/slabinfo-slab-debug", &len);
    assert_int_equal(assert_same_as_general(buf, len), 0);
    free(buf);
}

/* cache_show()'s format in mm/slab_common.c */
#define KERNEL_ROW "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n"

static void test_fast_path_widths(void **state)
{
    static const struct {
        const char *name;
        unsigned long active, num;
        unsigned objsize, perslab;
        int pages;
        unsigned limit, batch, shared;
        unsigned long aslabs, nslabs, avail;
        size_t fast; /* 1: the fast path takes it; 0: it is wider than the columns */
    } rows[] = {
        { "a", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
        { "sixteen_chars_xx", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1 },
        { "seventeen_chars_x", 999999, 999999, 999999, 9999, 9999, 9999, 9999, 9999, 999999,
          999999, 999999, 1 },
        { "eighteen_chars_xxx", 123456, 654321, 100200, 1020, 3004, 5006, 7008, 9000, 120034,
          405006, 7080, 1 },
        { "iwl_cmd_pool:0000:04:00.0", 10, 100, 1000, 10, 100, 1000, 1, 10, 100, 1000, 10000, 1 },
        { "wide", 1000000, 1000001, 8, 512, 1, 0, 0, 0, 1953, 1954, 0, 0 },
        { "wide_objsize", 1, 1, 4194304, 1, 1024, 0, 0, 0, 1, 1, 0, 0 },
        { "wide_perslab", 10000, 10000, 8, 10000, 1, 0, 0, 0, 1, 1, 0, 0 },
        { "wide_tunables", 1, 1, 8, 1, 1, 12345, 0, 0, 1, 1, 0, 0 },
        { "wide_slabs", 1, 1, 8, 1, 1, 0, 0, 0, 1, 1234567, 0, 0 },
    };
    char buf[8192];
    size_t len = sizeof(HDR21 COLS) - 1, want_fast = 0;
    const struct slab_info *si;

    (void)state;
    memcpy(buf, HDR21 COLS, len);
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, KERNEL_ROW, rows[i].name,
                                rows[i].active, rows[i].num, rows[i].objsize, rows[i].perslab,
                                rows[i].pages, rows[i].limit, rows[i].batch, rows[i].shared,
                                rows[i].aslabs, rows[i].nslabs, rows[i].avail);
        want_fast += rows[i].fast;
    }
    assert_int_equal(assert_same_as_general(buf, len), want_fast);
    si = parse_ok(buf, len);
    assert_int_equal(si->n, ARRAY_SIZE(rows));
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        assert_string_equal(si->caches[i].name, rows[i].name);
        assert_row(&si->caches[i], rows[i].active, rows[i].num, rows[i].objsize, rows[i].perslab,
                   (uint64_t)rows[i].pages, rows[i].limit, rows[i].batch, rows[i].shared,
                   rows[i].aslabs, rows[i].nslabs, rows[i].avail);
    }
}

/*
 * Every byte of kernel-format rows replaced, in turn, by bytes that sit on
 * the fast path's decisions (blanks, digits, the section words' letters, a
 * newline, NUL, non-ASCII): whatever each variant means, both parsers must
 * say the same.  The last row ends the buffer, so reads near its end are
 * covered too.
 */
static void test_fast_path_mutations(void **state)
{
    static const char subst[] = { ' ', '\t', '\n', '\0', '0', '5', '9', '/', ':', 'a', 't',
                                  's', '#', '\r', (char)0x80, (char)0xff };
    char rows[3][256], buf[1024];
    size_t hl = sizeof(HDR21 COLS) - 1, rl[3];
    unsigned long by_fast[4] = { 0 }; /* variants by the number of rows the fast path took */

    (void)state;
    rl[0] = (size_t)snprintf(rows[0], sizeof(rows[0]), KERNEL_ROW, "dentry", 32896ul, 32907ul,
                             192u, 21u, 1, 0u, 0u, 0u, 1567ul, 1567ul, 0ul);
    rl[1] = (size_t)snprintf(rows[1], sizeof(rows[1]), KERNEL_ROW, "btrfs_ordered_extent", 7ul,
                             123456ul, 416u, 19u, 2, 54u, 27u, 8u, 7ul, 99999ul, 1ul);
    rl[2] = (size_t)snprintf(rows[2], sizeof(rows[2]), KERNEL_ROW, "kmalloc-rnd-01-8k", 0ul, 0ul,
                             8192u, 4u, 8, 0u, 0u, 0u, 0ul, 0ul, 0ul);
    for (int target = 0; target < 3; target++) {
        for (size_t pos = 0; pos < rl[target]; pos++) {
            for (size_t k = 0; k < sizeof(subst); k++) {
                size_t len = hl;

                memcpy(buf, HDR21 COLS, hl);
                for (int r = 0; r < 3; r++) {
                    memcpy(buf + len, rows[r], rl[r]);
                    if (r == target)
                        buf[len + pos] = subst[k];
                    len += rl[r];
                }
                by_fast[assert_same_as_general(buf, len)]++;
            }
        }
    }
    /*
     * The buffer cut anywhere in the last row, with the newline still in
     * memory after the cut: a parser that read past the end would see it.
     */
    for (size_t cut = 1; cut < rl[2]; cut++) {
        size_t len = hl;

        memcpy(buf, HDR21 COLS, hl);
        for (int r = 0; r < 3; r++) {
            memcpy(buf + len, rows[r], rl[r]);
            len += rl[r];
        }
        len -= rl[2] - cut;
        assert_int_equal(assert_same_as_general(buf, len), 0);
    }
    /*
     * A variant fails (0) or the two rows left alone took the fast path;
     * the mutated row did when a digit became another (3), and went to the
     * general parser when it still parsed but not in the kernel's layout (2:
     * a tab for a space, a digit for a padding space).
     */
    assert_int_equal(by_fast[1], 0);
    assert_true(by_fast[0] > 0);
    assert_true(by_fast[2] > 0);
    assert_true(by_fast[3] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_fixture),
        cmocka_unit_test(test_procfs_fixture),
        cmocka_unit_test(test_synthetic_slab21),
        cmocka_unit_test(test_synthetic_statistics),
        cmocka_unit_test(test_growth_trace),
        cmocka_unit_test(test_duplicates_renamed),
        cmocka_unit_test(test_duplicates_reuse_storage),
        cmocka_unit_test(test_duplicates_many),
        cmocka_unit_test(test_duplicate_suffix_collision),
        cmocka_unit_test(test_odd_names),
        cmocka_unit_test(test_name_max_length),
        cmocka_unit_test(test_header_20),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_active_above_num_kept),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_error_message_escaped),
        cmocka_unit_test(test_error_clears_previous),
        cmocka_unit_test(test_malformed_fixtures),
        cmocka_unit_test(test_fast_path_fixtures),
        cmocka_unit_test(test_fast_path_widths),
        cmocka_unit_test(test_fast_path_mutations),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    return r;
}
