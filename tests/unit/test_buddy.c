/*
 * buddyinfo parser tests.  Fixture figures were computed with awk using the
 * kernel's formula, not with the parser:
 *   awk '{ n=0; fp=0; for(i=5;i<=NF;i++){ c[n]=$i; fp+=$i*2^(i-5); n++ }
 *          printf "%s %s fp=%d unusable:", $2, $4, fp;
 *          for(o=0;o<n;o++){ s=0; for(k=o;k<n;k++) s+=c[k]*2^k;
 *            printf " %d", fp==0 ? 1000 : int((fp-s)*1000/fp) } print "" }' FILE
 */
#include "testutil.h"

#include <errno.h>

#include "buddy.h"

static int parse_file(const char *path, struct buddy_info *bi, struct perr *err)
{
    size_t len;
    char *buf = fixture_read(path, &len);
    int r = buddy_parse(buf, len, bi, err);

    free(buf);
    return r;
}

static void assert_unusable(const struct buddy_zone *z, const unsigned *want, unsigned n)
{
    unsigned o;

    for (o = 0; o < n; o++)
        if (z->unusable[o] != want[o])
            fail_msg("%s order %u: unusable %u, want %u", z->zone, o, z->unusable[o], want[o]);
}

static void test_idle(void **state)
{
    static const unsigned dma[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 66, 200 };
    static const unsigned dma32[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3 };
    static const unsigned normal[] = { 0, 0, 0, 0, 0, 0, 1, 2, 4, 7, 12 };
    struct buddy_info bi;
    struct perr err = { 0 };

    (void)state;
    buddy_info_init(&bi);
    assert_int_equal(parse_file("tests/fixtures/idle/buddyinfo", &bi, &err), 0);
    assert_int_equal(bi.orders, 11);
    assert_int_equal(bi.n, 3);
    assert_int_equal(bi.zones[0].node, 0);
    assert_string_equal(bi.zones[0].zone, "DMA");
    assert_string_equal(bi.zones[1].zone, "DMA32");
    assert_string_equal(bi.zones[2].zone, "Normal");
    assert_int_equal(bi.zones[0].free[10], 3);
    assert_int_equal(bi.zones[1].free[10], 752);
    assert_int_equal(bi.zones[2].free[0], 16);
    /* awk: fp=3840, 772915, 95424 */
    assert_int_equal(bi.zones[0].free_pages, 3840);
    assert_int_equal(bi.zones[1].free_pages, 772915);
    assert_int_equal(bi.zones[2].free_pages, 95424);
    assert_unusable(&bi.zones[0], dma, 11);
    assert_unusable(&bi.zones[1], dma32, 11);
    assert_unusable(&bi.zones[2], normal, 11);
    buddy_info_free(&bi);
}

static void test_procfs(void **state)
{
    static const unsigned dma32[] = { 0, 53, 134, 357, 625, 844, 945, 1000, 1000, 1000, 1000 };
    static const unsigned normal[] = { 0, 136, 204, 227, 608, 890, 992, 1000, 1000, 1000, 1000 };
    struct buddy_info bi;
    struct perr err = { 0 };
    long i;

    (void)state;
    buddy_info_init(&bi);
    assert_int_equal(parse_file("tests/fixtures/procfs/buddyinfo", &bi, &err), 0);
    i = buddy_find(&bi, 0, "Normal");
    assert_int_equal(i, 2);
    assert_int_equal(bi.zones[i].free[0], 4381);
    assert_int_equal(bi.zones[i].free_pages, 32139);
    assert_unusable(&bi.zones[i], normal, 11);
    i = buddy_find(&bi, 0, "DMA32");
    assert_int_equal(i, 1);
    assert_int_equal(bi.zones[i].free[1], 572);
    assert_int_equal(bi.zones[i].free_pages, 14179);
    assert_unusable(&bi.zones[i], dma32, 11);
    assert_int_equal(buddy_find(&bi, 0, "Movable"), -1);
    assert_int_equal(buddy_find(&bi, 1, "Normal"), -1);
    buddy_info_free(&bi);
}

static void test_numa2(void **state)
{
    static const unsigned n0normal[] = { 0, 339, 640, 820, 910, 962, 986, 996, 999, 1000, 1000 };
    static const unsigned n1normal[] = { 0, 219, 539, 758, 889, 953, 983, 995, 998, 999, 1000 };
    static const unsigned movable[] = { 0, 30, 60, 91, 121, 152, 182, 212, 242, 272, 299 };
    struct buddy_info bi;
    struct perr err = { 0 };
    long i;

    (void)state;
    buddy_info_init(&bi);
    assert_int_equal(parse_file("tests/fixtures/synthetic/buddyinfo-numa2", &bi, &err), 0);
    assert_int_equal(bi.n, 5);
    assert_int_equal(bi.orders, 11);
    assert_int_equal(buddy_find(&bi, 0, "Normal"), 2);
    assert_int_equal(buddy_find(&bi, 1, "Normal"), 3);
    i = buddy_find(&bi, 1, "Movable");
    assert_int_equal(i, 4);
    assert_int_equal(bi.zones[i].node, 1);
    assert_int_equal(bi.zones[i].free[10], 90);
    assert_int_equal(bi.zones[i].free_pages, 131550);
    assert_unusable(&bi.zones[i], movable, 11);
    assert_int_equal(bi.zones[2].free_pages, 267890);
    assert_unusable(&bi.zones[2], n0normal, 11);
    assert_int_equal(bi.zones[3].free_pages, 549777);
    assert_unusable(&bi.zones[3], n1normal, 11);
    assert_int_equal(buddy_find(&bi, 0, "Movable"), -1);
    assert_int_equal(buddy_find(&bi, 2, "Normal"), -1);
    buddy_info_free(&bi);
}

/* Hand-computed unusable indexes on small zones, and the order count taken from the data. */
static void test_unusable_by_hand(void **state)
{
    struct buddy_info bi;
    struct perr err = { 0 };

    (void)state;
    buddy_info_init(&bi);
    /*
     * A: free = {4,0,1}: free_pages = 4 + 0*2 + 1*4 = 8.
     *   o0: suitable pages 8 -> (8-8)*1000/8 = 0
     *   o1: 0*2 + 1*4 = 4   -> (8-4)*1000/8 = 500
     *   o2: 1*4 = 4         -> 500
     * B: free = {1,1,1,1}: free_pages = 1+2+4+8 = 15.
     *   o1: 14 -> 1*1000/15 = 66 (rounded down); o2: 12 -> 3000/15 = 200;
     *   o3: 8 -> 7000/15 = 466
     * C: no free pages at all -> 1000 at every order.
     * D: only order 0 free: free_pages 3; every higher order is fully unusable.
     */
    assert_int_equal(buddy_parse(STRBUF("Node 0, zone A 4 0 1 0\n"
                                        "Node 0, zone B 1 1 1 1\n"
                                        "Node 0, zone C 0 0 0 0\n"
                                        "Node 3, zone D 3 0 0 0\n"),
                                 &bi, &err),
                     0);
    assert_int_equal(bi.orders, 4);
    assert_int_equal(bi.n, 4);
    assert_int_equal(bi.zones[0].free_pages, 8);
    assert_int_equal(bi.zones[0].unusable[0], 0);
    assert_int_equal(bi.zones[0].unusable[1], 500);
    assert_int_equal(bi.zones[0].unusable[2], 500);
    assert_int_equal(bi.zones[0].unusable[3], 1000); /* nothing free at order 3 */
    assert_int_equal(bi.zones[1].free_pages, 15);
    assert_int_equal(bi.zones[1].unusable[0], 0);
    assert_int_equal(bi.zones[1].unusable[1], 66);
    assert_int_equal(bi.zones[1].unusable[2], 200);
    assert_int_equal(bi.zones[1].unusable[3], 466);
    assert_int_equal(bi.zones[2].free_pages, 0);
    assert_int_equal(bi.zones[2].unusable[0], 1000);
    assert_int_equal(bi.zones[2].unusable[1], 1000);
    assert_int_equal(bi.zones[2].unusable[2], 1000);
    assert_int_equal(bi.zones[2].unusable[3], 1000);
    assert_int_equal(bi.zones[3].node, 3);
    assert_int_equal(bi.zones[3].free_pages, 3);
    assert_int_equal(bi.zones[3].unusable[0], 0);
    assert_int_equal(bi.zones[3].unusable[1], 1000);
    assert_int_equal(buddy_find(&bi, 3, "D"), 3);
    buddy_info_free(&bi);
}

/* Huge counts saturate free_pages and keep the index within 0..1000. */
static void test_saturation(void **state)
{
    struct buddy_info bi;
    struct perr err = { 0 };
    unsigned o;

    (void)state;
    buddy_info_init(&bi);
    assert_int_equal(buddy_parse(STRBUF("Node 0, zone Big 1 18446744073709551615 "
                                        "18446744073709551615\n"),
                                 &bi, &err),
                     0);
    assert_int_equal(bi.zones[0].free_pages, UINT64_MAX);
    for (o = 0; o < bi.orders; o++)
        assert_in_range(bi.zones[0].unusable[o], 0, 1000);
    assert_int_equal(bi.zones[0].unusable[0], 0);
    buddy_info_free(&bi);
}

static void test_limits(void **state)
{
    char line[1024], *p;
    struct buddy_info bi;
    struct perr err = { 0 };
    int i;

    (void)state;
    buddy_info_init(&bi);

    /* 32 orders is the maximum, 33 is an error */
    p = line + sprintf(line, "Node 0, zone Normal");
    for (i = 0; i < BUDDY_MAX_ORDERS; i++)
        p += sprintf(p, " 1");
    strcpy(p, "\n");
    assert_int_equal(buddy_parse(line, strlen(line), &bi, &err), 0);
    assert_int_equal(bi.orders, BUDDY_MAX_ORDERS);
    assert_int_equal(bi.zones[0].free_pages, UINT32_MAX); /* 2^32 - 1 */
    strcpy(p, " 1\n");
    assert_int_equal(buddy_parse(line, strlen(line), &bi, &err), -EINVAL);
    assert_int_equal(err.line, 1);
    assert_string_equal(err.msg, "more than 32 orders");

    /* a 31-byte zone name fits, 32 bytes does not */
    assert_int_equal(
        buddy_parse(STRBUF("Node 0, zone abcdefghijklmnopqrstuvwxyz01234 1 2\n"), &bi, &err), 0);
    assert_string_equal(bi.zones[0].zone, "abcdefghijklmnopqrstuvwxyz01234");
    assert_int_equal(
        buddy_parse(STRBUF("Node 0, zone abcdefghijklmnopqrstuvwxyz012345 1 2\n"), &bi, &err),
        -EINVAL);
    assert_string_equal(err.msg, "zone name longer than 31 bytes");
    assert_int_equal(bi.n, 0);
    buddy_info_free(&bi);
}

/* Storage is reused, and a new parse takes its order count from its own data. */
static void test_reuse(void **state)
{
    struct buddy_info bi;
    struct perr err = { 0 };
    struct buddy_zone *zones;

    (void)state;
    buddy_info_init(&bi);
    assert_int_equal(parse_file("tests/fixtures/synthetic/buddyinfo-numa2", &bi, &err), 0);
    zones = bi.zones;
    assert_int_equal(buddy_parse(STRBUF("Node 0, zone DMA 1 2 3\n"), &bi, &err), 0);
    assert_ptr_equal(bi.zones, zones);
    assert_int_equal(bi.n, 1);
    assert_int_equal(bi.orders, 3);
    assert_int_equal(bi.zones[0].free[3], 0);
    assert_int_equal(bi.zones[0].free_pages, 1 + 4 + 12);
    buddy_info_free(&bi);
}

static void test_errors(void **state)
{
    static const struct {
        const char *path;
        unsigned line;
        const char *msg; /* exact */
    } files[] = {
        { "tests/fixtures/malformed/buddyinfo-orders", 2, "10 orders, expected 11" },
        { "tests/fixtures/malformed/buddyinfo-truncated", 2, "truncated line: no zone name" },
        { "tests/fixtures/malformed/buddyinfo-no-newline", 2,
          "truncated line (no newline at end of file)" },
        { "tests/fixtures/malformed/buddyinfo-garbage", 2,
          "expected \"Node <n>, zone <name> <counts>\"" },
        { "tests/fixtures/malformed/buddyinfo-non-number", 2,
          "free count for order 10 is not a number" },
        { "tests/fixtures/malformed/buddyinfo-overflow", 2,
          "free count for order 10 out of range" },
        { "tests/fixtures/malformed/buddyinfo-nul", 2, "NUL byte in line" },
        { "tests/fixtures/malformed/buddyinfo-bad-node", 2, "node number is not a number" },
    };
    static const struct {
        const char *in;
        unsigned line;
        const char *msg;
    } inl[] = {
        { "", 0, "empty file" },
        { "Node 0, zone DMA\n", 1, "truncated line: no free counts" },
        { "Node 0, zone DMA   \n", 1, "truncated line: no free counts" },
        { "Node 0 zone DMA 1\n", 1, "expected ',' after the node number" },
        { "Node 0, area DMA 1\n", 1, "expected \"zone\" after the node number" },
        { "Node 4294967296, zone DMA 1\n", 1, "node number out of range" },
        { "Node 99999999999999999999999, zone DMA 1\n", 1, "node number out of range" },
        { "Node 0, zone D\x01MA 1\n", 1, "non-printable byte in zone name" },
        { "Node 0, zone DMA 1 2\nNode 0, zone DMA32 1 2 3\n", 2, "3 orders, expected 2" },
        { "Node 0, zone DMA 1 -2\n", 1, "free count for order 1 is not a number" },
        { "\n", 1, "expected \"Node <n>, zone <name> <counts>\"" },
    };
    struct buddy_info bi;
    size_t i;

    (void)state;
    buddy_info_init(&bi);
    for (i = 0; i < ARRAY_SIZE(files); i++) {
        struct perr err = { 0 };
        int r = parse_file(files[i].path, &bi, &err);
        if (r != -EINVAL || err.line != files[i].line || strcmp(err.msg, files[i].msg) != 0)
            fail_msg("%s: r=%d line=%u msg=%s", files[i].path, r, err.line, err.msg);
        assert_int_equal(bi.n, 0);
    }
    for (i = 0; i < ARRAY_SIZE(inl); i++) {
        struct perr err = { 0 };
        int r = buddy_parse(inl[i].in, strlen(inl[i].in), &bi, &err);
        if (r != -EINVAL || err.line != inl[i].line || strcmp(err.msg, inl[i].msg) != 0)
            fail_msg("case %zu: r=%d line=%u msg=%s", i, r, err.line, err.msg);
        assert_int_equal(bi.n, 0);
    }
    buddy_info_free(&bi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_procfs),
        cmocka_unit_test(test_numa2),
        cmocka_unit_test(test_unusable_by_hand),
        cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
