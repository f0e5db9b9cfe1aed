/* util: number scanning, line iteration, sizes and durations, table helpers. */
#include "testutil.h"

#include <errno.h>

#include "table.h"
#include "util.h"

static void test_scan_u64(void **state)
{
    const char *s = "  123 rest", *end = s + strlen(s);
    uint64_t v;

    (void)state;
    assert_int_equal(scan_u64(&s, end, &v), 0);
    assert_int_equal(v, 123);
    assert_string_equal(s, " rest");
    s = "18446744073709551615";
    assert_int_equal(scan_u64(&s, s + 20, &v), 0);
    assert_true(v == UINT64_MAX);
    s = "18446744073709551616";
    assert_int_equal(scan_u64(&s, s + 20, &v), -ERANGE);
    s = "12x";
    assert_int_equal(scan_u64(&s, s + 3, &v), -EINVAL);
    s = "x";
    assert_int_equal(scan_u64(&s, s + 1, &v), -EINVAL);
    s = "N0=4";
    s += 3; /* past "N0=" */
    assert_int_equal(scan_u64_prefix(&s, s + 1, &v), 0);
    assert_int_equal(v, 4);
}

static void test_line_iter(void **state)
{
    struct line_iter it;
    struct perr pe = { 0, "" };
    const char *ls, *le;

    (void)state;
    line_iter_init(&it, STRBUF("a\nbb\n"));
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 1);
    assert_int_equal(le - ls, 1);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 1);
    assert_int_equal(le - ls, 2);
    assert_int_equal(it.lineno, 2);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 0);

    line_iter_init(&it, STRBUF("a\nno newline"));
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 1);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), -EINVAL);
    assert_int_equal(pe.line, 2);
    assert_non_null(strstr(pe.msg, "truncated"));

    line_iter_init(&it, STRBUF("a\nno newline"));
    it.last_line_may_lack_newline = true;
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 1);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 1);
    assert_int_equal(le - ls, 10);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), 0);

    line_iter_init(&it, "x\0y\n", 4);
    assert_int_equal(line_iter_next(&it, &ls, &le, &pe), -EINVAL);
    assert_non_null(strstr(pe.msg, "NUL"));
}

static void test_sizes_durations(void **state)
{
    uint64_t v;
    char buf[32];

    (void)state;
    assert_int_equal(parse_size("16M", &v), 0);
    assert_true(v == 16u << 20);
    assert_int_equal(parse_size("4k", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(parse_size("1.5G", &v), 0);
    assert_true(v == 3ull << 29);
    assert_int_equal(parse_size("16MiB", &v), 0);
    assert_true(v == 16u << 20);
    assert_int_equal(parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(parse_size("-1", &v), -EINVAL);
    assert_int_equal(parse_size("1Q", &v), -EINVAL);
    assert_int_equal(parse_size("", &v), -EINVAL);
    assert_int_equal(parse_size("99999999999T", &v), -ERANGE);

    assert_int_equal(parse_duration("600", &v), 0);
    assert_int_equal(v, 600);
    assert_int_equal(parse_duration("10m", &v), 0);
    assert_int_equal(v, 600);
    assert_int_equal(parse_duration("1h", &v), 0);
    assert_int_equal(v, 3600);
    assert_int_equal(parse_duration("7d", &v), 0);
    assert_int_equal(v, 604800);
    assert_int_equal(parse_duration("-5m", &v), -EINVAL);
    assert_int_equal(parse_duration("5mB", &v), -EINVAL);
    assert_int_equal(parse_duration("nan", &v), -EINVAL);
    assert_int_equal(parse_duration("inf", &v), -EINVAL);

    assert_string_equal(fmt_bytes(buf, sizeof(buf), 1023), "1023B");
    assert_string_equal(fmt_bytes(buf, sizeof(buf), 1536), "1.5K");
    assert_string_equal(fmt_bytes(buf, sizeof(buf), 20u << 20), "20.0M");
    assert_string_equal(fmt_bytes(buf, sizeof(buf), 1023ull << 20), "1023M");
}

/* fmt_bytes as printf formats it: the reference the fast one must equal byte for byte. */
static void ref_fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    double v = (double)bytes;
    int u = -1;

    if (bytes < 1024) {
        snprintf(buf, n, "%lluB", (unsigned long long)bytes);
        return;
    }
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, n, v >= 1000.0 ? "%.0f%c" : "%.1f%c", v, units[u]);
}

static void check_fmt(uint64_t v)
{
    char got[32], want[32], got_u[32], want_u[32];

    ref_fmt_bytes(want, sizeof(want), v);
    fmt_bytes(got, sizeof(got), v);
    if (strcmp(got, want) != 0)
        fail_msg("fmt_bytes(%llu) = \"%s\", printf says \"%s\"", (unsigned long long)v, got, want);
    snprintf(want_u, sizeof(want_u), "%llu", (unsigned long long)v);
    fmt_u64(got_u, sizeof(got_u), v);
    if (strcmp(got_u, want_u) != 0)
        fail_msg("fmt_u64(%llu) = \"%s\"", (unsigned long long)v, got_u);
}

/*
 * Every value up to 4 MiB, the powers of two and their neighbours, the
 * unit and 1000-unit boundaries, exact ties of the last digit (odd times
 * 2^(10k - 2): x.x5 exactly, which printf rounds to even), and a million
 * pseudo-random values of every magnitude.
 */
static void test_fmt_bytes_as_printf(void **state)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[8];

    (void)state;
    for (uint64_t v = 0; v < (4u << 20); v++)
        check_fmt(v);
    for (unsigned s = 0; s < 64; s++)
        for (int d = -3; d <= 3; d++)
            check_fmt((1ull << s) + (uint64_t)(int64_t)d);
    check_fmt(UINT64_MAX);
    for (unsigned k = 1; k <= 6; k++) {
        for (int d = -2000; d <= 2000; d++) {
            check_fmt((uint64_t)((1000ull << (10 * k)) / 1024 * 1024 + (uint64_t)(int64_t)d));
            if (10 * k < 64)
                check_fmt((1000ull << (10 * (k - 1))) + (uint64_t)(int64_t)d);
        }
        for (uint64_t odd = 1; odd < 20000; odd += 2)
            if (10 * k >= 2 && odd < (UINT64_MAX >> (10 * k - 2)))
                check_fmt(odd << (10 * k - 2));
    }
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_fmt(x >> (x % 64));
    }
    /* truncated like snprintf */
    assert_string_equal(fmt_bytes(buf, sizeof(buf), 123456789012ull), "115.0G");
    assert_string_equal(fmt_bytes(buf, 4, 123456789012ull), "115");
    assert_string_equal(fmt_u64(buf, 3, 12345), "12");
}

static void test_table_sort_and_csv(void **state)
{
    json_error_t je;
    json_t *rows = json_loads("[{\"n\":\"b\",\"v\":2},{\"n\":\"a\",\"v\":2},{\"n\":\"c\",\"v\":9},{\"n\":\"d\"}]", 0, &je);
    char *out = NULL;
    size_t len = 0;
    FILE *f;
    static const struct column cols[] = {
        { "NAME", "n", COL_STR, NULL, COL_F_LEFT },
        { "V", "v", COL_INT, NULL, 0 },
    };

    (void)state;
    assert_non_null(rows);
    assert_int_equal(table_sort(rows, "v", false), 0);
    /* largest first, stable for equal keys, missing values last */
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "n")), "c");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "n")), "b");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "n")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 3), "n")), "d");
    assert_int_equal(table_sort(rows, "n", false), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "n")), "a");
    table_truncate(rows, 2);
    assert_int_equal(json_array_size(rows), 2);

    f = open_memstream(&out, &len);
    table_csv_field(f, "plain");
    fputc('|', f);
    table_csv_field(f, "a,\"b\"");
    fclose(f);
    assert_string_equal(out, "plain|\"a,\"\"b\"\"\"");
    free(out);

    out = NULL;
    f = open_memstream(&out, &len);
    assert_int_equal(table_print_human(f, rows, cols, ARRAY_SIZE(cols)), 0);
    fclose(f);
    assert_string_equal(out, "NAME  V\na     2\nb     2\n");
    free(out);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_u64),
        cmocka_unit_test(test_line_iter),
        cmocka_unit_test(test_sizes_durations),
        cmocka_unit_test(test_fmt_bytes_as_printf),
        cmocka_unit_test(test_table_sort_and_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
