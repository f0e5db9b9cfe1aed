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
        cmocka_unit_test(test_table_sort_and_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
