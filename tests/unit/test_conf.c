/* conf: kmemwatchd.conf parsing; proto: request splitting. */
#include "testutil.h"

#include <errno.h>

#include "conf.h"
#include "proto.h"

static void test_conf_ok(void **state)
{
    struct conf c;
    struct perr pe = { 0, "" };
    static const char text[] =
        "# comment\n"
        "\n"
        "  interval = 2  \n"
        "vmallocinfo_interval=10\n"
        "socket = /tmp/x.sock\n"
        "ring_full_size = 128M\n"
        "growth_min_window = 1h\n"
        "metrics_cache_exclude = ^kmalloc-rnd-\n"
        "max_clients = 10"; /* no final newline: people edit this file */

    (void)state;
    conf_defaults(&c);
    assert_int_equal(c.interval_ms[SRC_VMALLOCINFO], 5000);
    assert_int_equal(conf_parse(text, sizeof(text) - 1, &c, &pe), 0);
    assert_int_equal(c.interval_ms[SRC_SLABINFO], 2000);
    assert_int_equal(c.interval_ms[SRC_MEMINFO], 2000);
    assert_int_equal(c.interval_ms[SRC_VMALLOCINFO], 10000);
    assert_string_equal(c.socket, "/tmp/x.sock");
    assert_true(c.ring_full_bytes == 128ull << 20);
    assert_int_equal(c.growth_min_window_s, 3600);
    assert_string_equal(c.metrics_cache_exclude, "^kmalloc-rnd-");
    assert_int_equal(c.max_clients, 10);
    assert_true(c.set & (1ull << CONF_MAX_CLIENTS));
    assert_false(c.set & (1ull << CONF_USER));
}

static void test_conf_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } cases[] = {
        { "interval = 1\nbogus = 2\n", 2, "unknown key 'bogus'" },
        { "interval\n", 1, "expected 'key = value'" },
        { "= 3\n", 1, "missing key" },
        { "interval = 0\n", 1, "interval: '0' is not an interval" },
        { "interval = abc\n", 1, "interval: 'abc'" },
        { "max_clients = -1\n", 1, "max_clients:" },
        { "max_clients = 999999999\n", 1, "max_clients:" },
        { "ring_full_size = 1K\n", 1, "ring_full_size:" },
        { "metrics = nocolon\n", 1, "not ADDR:PORT" },
        { "user = a\x01b\n", 1, "control character" },
        { "a\0b = c\n", 1, "NUL" },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct conf c;
        struct perr pe = { 0, "" };
        size_t len = i == ARRAY_SIZE(cases) - 1 ? 8 : strlen(cases[i].text);
        conf_defaults(&c);
        assert_int_equal(conf_parse(cases[i].text, len, &c, &pe), -EINVAL);
        assert_int_equal(pe.line, cases[i].line);
        if (!strstr(pe.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, pe.msg, cases[i].msg);
    }
}

static void test_proto_parse(void **state)
{
    struct proto_request req;
    char msg[128];
    char a[] = "  history\tslab dentry  active_objs 10m  ";
    char b[] = "hello\r";
    char c[] = "   ";
    char d[] = "hel\x01lo";
    char e[] = "a b c d e f g h i j k l m n o p q";

    (void)state;
    assert_int_equal(proto_parse(a, strlen(a), &req, msg, sizeof(msg)), 0);
    assert_int_equal(req.argc, 5);
    assert_string_equal(req.argv[0], "history");
    assert_string_equal(req.argv[4], "10m");
    assert_int_equal(proto_parse(b, strlen(b), &req, msg, sizeof(msg)), 0);
    assert_int_equal(req.argc, 1);
    assert_string_equal(req.argv[0], "hello");
    assert_int_equal(proto_parse(c, strlen(c), &req, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "empty"));
    assert_int_equal(proto_parse(d, strlen(d), &req, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "0x01 at column 4"));
    assert_int_equal(proto_parse(e, strlen(e), &req, msg, sizeof(msg)), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_ok),
        cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_proto_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
