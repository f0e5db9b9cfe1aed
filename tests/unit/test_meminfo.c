/* meminfo parser tests. */
#include "testutil.h"

#include <errno.h>

#include "meminfo.h"

static int parse_file(const char *path, struct meminfo *mi, struct perr *err)
{
    size_t len;
    char *buf = fixture_read(path, &len);
    int r = meminfo_parse(buf, len, mi, err);

    free(buf);
    return r;
}

static void test_key_names(void **state)
{
    int k;

    (void)state;
    assert_string_equal(meminfo_key_name(MEMINFO_MEMTOTAL), "MemTotal");
    assert_string_equal(meminfo_key_name(MEMINFO_SUNRECLAIM), "SUnreclaim");
    assert_string_equal(meminfo_key_name(MEMINFO_VMALLOCUSED), "VmallocUsed");
    assert_string_equal(meminfo_key_name(MEMINFO_PERCPU), "Percpu");
    assert_null(meminfo_key_name(MEMINFO_NKEYS));
    for (k = 0; k < MEMINFO_NKEYS; k++)
        assert_int_equal(meminfo_key_parse(meminfo_key_name((enum meminfo_key)k)), k);
    assert_int_equal(meminfo_key_parse("Buffers"), -1);
    assert_int_equal(meminfo_key_parse("MemTota"), -1);
    assert_int_equal(meminfo_key_parse("MemTotalX"), -1);
    assert_int_equal(meminfo_key_parse(""), -1);
    assert_int_equal(meminfo_key_parse(NULL), -1);
}

/* Values straight from tests/fixtures/idle/meminfo (kB), times 1024. */
static void test_idle(void **state)
{
    struct meminfo mi;
    struct perr err = { 0 };

    (void)state;
    assert_int_equal(parse_file("tests/fixtures/idle/meminfo", &mi, &err), 0);
    assert_int_equal(mi.present, (1u << MEMINFO_NKEYS) - 1);
    assert_int_equal(mi.value[MEMINFO_MEMTOTAL], 24684084ull * 1024);
    assert_int_equal(mi.value[MEMINFO_MEMFREE], 23651648ull * 1024);
    assert_int_equal(mi.value[MEMINFO_MEMAVAILABLE], 24204460ull * 1024);
    assert_int_equal(mi.value[MEMINFO_SLAB], 82876ull * 1024);
    assert_int_equal(mi.value[MEMINFO_SRECLAIMABLE], 58916ull * 1024);
    assert_int_equal(mi.value[MEMINFO_SUNRECLAIM], 23960ull * 1024);
    assert_int_equal(mi.value[MEMINFO_KRECLAIMABLE], 58916ull * 1024);
    assert_int_equal(mi.value[MEMINFO_VMALLOCUSED], 14452ull * 1024);
    assert_int_equal(mi.value[MEMINFO_VMALLOCTOTAL], 34359738367ull * 1024);
    assert_int_equal(mi.value[MEMINFO_PERCPU], 976ull * 1024);
    /* Slab is the sum of its two parts in the kernel's own accounting */
    assert_int_equal(mi.value[MEMINFO_SLAB],
                     mi.value[MEMINFO_SRECLAIMABLE] + mi.value[MEMINFO_SUNRECLAIM]);
}

static void test_growth_trace_all_parse(void **state)
{
    struct meminfo mi;
    struct perr err = { 0 };
    char path[64];
    int i;

    (void)state;
    for (i = 0; i < 30; i++) {
        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/meminfo", i);
        assert_int_equal(parse_file(path, &mi, &err), 0);
        assert_true(meminfo_has(&mi, MEMINFO_SUNRECLAIM));
    }
}

/* A key the file lacks (older kernels have no KReclaimable/Percpu) is absent, not 0. */
static void test_missing_key(void **state)
{
    struct meminfo mi;
    struct perr err = { 0 };

    (void)state;
    assert_int_equal(meminfo_parse(STRBUF("MemTotal:       1000 kB\n"
                                          "Slab:              20 kB\n"
                                          "HugePages_Total:       0\n"
                                          "Hugepagesize:       2048 kB\n"
                                          "Active(anon):       1564 kB\n"),
                                   &mi, &err),
                     0);
    assert_true(meminfo_has(&mi, MEMINFO_MEMTOTAL));
    assert_true(meminfo_has(&mi, MEMINFO_SLAB));
    assert_false(meminfo_has(&mi, MEMINFO_PERCPU));
    assert_false(meminfo_has(&mi, MEMINFO_KRECLAIMABLE));
    assert_int_equal(mi.value[MEMINFO_PERCPU], 0);
    assert_int_equal(mi.present, (1u << MEMINFO_MEMTOTAL) | (1u << MEMINFO_SLAB));
    assert_int_equal(mi.value[MEMINFO_SLAB], 20480);

    /* a new parse starts from scratch */
    assert_int_equal(meminfo_parse(STRBUF("Percpu:  1 kB\n"), &mi, &err), 0);
    assert_int_equal(mi.present, 1u << MEMINFO_PERCPU);
    assert_int_equal(mi.value[MEMINFO_MEMTOTAL], 0);
}

/* The largest value that fits in bytes, and the first that does not. */
static void test_limits(void **state)
{
    struct meminfo mi;
    struct perr err = { 0 };

    (void)state;
    assert_int_equal(meminfo_parse(STRBUF("VmallocTotal: 18014398509481983 kB\n"), &mi, &err), 0);
    assert_int_equal(mi.value[MEMINFO_VMALLOCTOTAL], UINT64_MAX - 1023);
    assert_int_equal(meminfo_parse(STRBUF("VmallocTotal: 18014398509481984 kB\n"), &mi, &err),
                     -EINVAL);
    assert_string_equal(err.msg, "VmallocTotal value out of range");
    assert_false(meminfo_has(&mi, MEMINFO_VMALLOCTOTAL));
    /* an unknown key may hold any u64, it is not scaled */
    assert_int_equal(meminfo_parse(STRBUF("Foo: 18446744073709551615 kB\n"), &mi, &err), 0);
}

static void test_errors(void **state)
{
    static const struct {
        const char *path;
        unsigned line;
        const char *msg;
    } files[] = {
        { "tests/fixtures/malformed/meminfo-no-colon", 3, "expected \"Key: value\" (no ':')" },
        { "tests/fixtures/malformed/meminfo-truncated", 3, "truncated line: no value after ':'" },
        { "tests/fixtures/malformed/meminfo-no-newline", 3,
          "truncated line (no newline at end of file)" },
        { "tests/fixtures/malformed/meminfo-garbage", 3, "expected \"Key: value\" (no ':')" },
        { "tests/fixtures/malformed/meminfo-non-number", 3, "value is not a number" },
        { "tests/fixtures/malformed/meminfo-overflow", 3, "VmallocTotal value out of range" },
        { "tests/fixtures/malformed/meminfo-nul", 3, "NUL byte in line" },
    };
    static const struct {
        const char *in;
        unsigned line;
        const char *msg;
    } inl[] = {
        { "", 0, "empty file" },
        { "\n", 1, "expected \"Key: value\" (no ':')" },
        { ": 12 kB\n", 1, "empty key before ':'" },
        { "MemFree:  -12 kB\n", 1, "value is not a number" },
        { "MemFree:  12kB\n", 1, "value is not a number" },
        { "MemFree:  12 MB\n", 1,
          "unexpected text after the value (expected \"kB\" or nothing)" },
        { "MemFree:  12 kB x\n", 1, "unexpected text after \"kB\"" },
        { "MemFree:  12\n", 1, "MemFree has no kB unit" },
        { "Foo: 18446744073709551616\n", 1, "value out of range" },
        { "MemTotal: 1 kB\nHugePages_Total: x\n", 2, "value is not a number" },
        { "MemTotal: 1 kB\n\x1b[2J: 1 kB\nFoo 1\n", 3, "expected \"Key: value\" (no ':')" },
    };
    struct meminfo mi;
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(files); i++) {
        struct perr err = { 0 };
        int r = parse_file(files[i].path, &mi, &err);
        if (r != -EINVAL || err.line != files[i].line || strcmp(err.msg, files[i].msg) != 0)
            fail_msg("%s: r=%d line=%u msg=%s", files[i].path, r, err.line, err.msg);
        assert_int_equal(mi.present, 0);
    }
    for (i = 0; i < ARRAY_SIZE(inl); i++) {
        struct perr err = { 0 };
        int r = meminfo_parse(inl[i].in, strlen(inl[i].in), &mi, &err);
        if (r != -EINVAL || err.line != inl[i].line || strcmp(err.msg, inl[i].msg) != 0)
            fail_msg("case %zu: r=%d line=%u msg=%s", i, r, err.line, err.msg);
        assert_int_equal(mi.present, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_growth_trace_all_parse),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
