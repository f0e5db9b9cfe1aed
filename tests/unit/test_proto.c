/*
 * proto_sample_event: the watch event read without a JSON parser says what
 * jansson says of the same line, whenever it answers; and it answers for
 * every line the daemon writes (built here the way daemon/cmd.c builds them).
 */
#include "testutil.h"

#include <jansson.h>
#include <math.h>

#include "../../common/proto.h"
#include "../../common/sampler.h"

/* The line as kmemwatchd writes it: cmd_notify_watchers, dumped compact. */
static char *daemon_line(double time, long long seq, unsigned mask, const char *extra_src)
{
    json_t *srcs = json_array(), *o;
    char *s;

    for (int k = 0; k < SRC_N; k++)
        if (mask & SRC_BIT(k))
            json_array_append_new(srcs, json_string(src_name((enum src_id)k)));
    if (extra_src)
        json_array_append_new(srcs, json_string(extra_src));
    o = json_pack("{s:b,s:s,s:o,s:I,s:o}", "ok", 1, "event", "sample", "time", json_real(time),
                  "seq", (json_int_t)seq, "sources", srcs);
    assert_non_null(o);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

/* What a client that parses JSON takes from the line: false when it is not a sample event. */
static bool json_sample(const char *line, double *time, unsigned *mask)
{
    json_t *j = json_loads(line, 0, NULL), *v, *t;
    const char *ev;
    size_t i;
    bool ok;

    ok = j && json_is_true(json_object_get(j, "ok"));
    ev = j ? json_string_value(json_object_get(j, "event")) : NULL;
    ok = ok && ev && strcmp(ev, "sample") == 0;
    if (ok) {
        t = json_object_get(j, "time");
        *time = json_is_number(t) ? json_number_value(t) : -1;
        *mask = 0;
        json_array_foreach(json_object_get(j, "sources"), i, v) {
            int src = json_is_string(v) ? src_parse(json_string_value(v)) : -1;
            if (src >= 0)
                *mask |= SRC_BIT(src);
        }
    }
    json_decref(j);
    return ok;
}

static size_t nfast;

/* Whenever the fast read answers, it answers what the JSON parse does. */
static void agree(const char *line)
{
    double ft = 0, jt = 0;
    unsigned fm = 0, jm = 0;
    bool fast = proto_sample_event(line, &ft, &fm), js = json_sample(line, &jt, &jm);

    if (!fast)
        return;
    nfast++;
    if (!js || ft != jt || fm != jm)
        fail_msg("%s\n fast: %.6f %#x; json: %d %.6f %#x", line, ft, fm, js, jt, jm);
}

static void test_daemon_lines(void **state)
{
    static const double times[] = { 0, 1, 1763776101.001, 1795366067.186, 4102444800.999, 0.5 };

    (void)state;
    for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++)
        for (unsigned mask = 0; mask < (1u << SRC_N); mask++) {
            char *line = daemon_line(times[t], (long long)(t * 1000 + mask), mask,
                                     mask == 5 ? "newsource" : NULL);
            double ft;
            unsigned fm;

            if (!proto_sample_event(line, &ft, &fm))
                fail_msg("the daemon's own line is not read: %s", line);
            agree(line);
            assert_true(fm == mask);
            assert_true(fabs(ft - times[t]) < 1e-9 * (times[t] + 1));
            free(line);
        }
}

/* Other shapes, and every cut and one-byte change of a real line: never a wrong answer. */
static void test_other_lines(void **state)
{
    static const char *const lines[] = {
        "{\"ok\": true, \"event\": \"sample\", \"time\": 12.5, \"seq\": 1, \"sources\": [\"meminfo\"]}",
        "{\"event\":\"sample\",\"ok\":true,\"time\":12.5,\"seq\":1,\"sources\":[\"meminfo\"]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":12.5,\"seq\":1,\"sources\":[\"meminfo\"],\"x\":1}",
        "{\"ok\":true,\"event\":\"other\",\"time\":12.5,\"seq\":1,\"sources\":[]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":0x10,\"seq\":1,\"sources\":[]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":inf,\"seq\":1,\"sources\":[]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1e3,\"seq\":1,\"sources\":[]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":1,\"sources\":[\"mem\\u0069nfo\"]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":1,\"sources\":[\"meminfo\",]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":1,\"sources\":[,\"meminfo\"]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":1,\"sources\":[]}x",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":1,\"sources\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}",
        "{\"ok\":true,\"event\":\"sample\",\"time\":1,\"seq\":-1,\"sources\":[]}",
        "",
    };
    char *line = daemon_line(1795366067.186, 1038, (1u << SRC_N) - 1, NULL);
    char buf[512];
    size_t len = strlen(line);

    (void)state;
    nfast = 0;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        agree(lines[i]);
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(buf, line, cut);
        buf[cut] = '\0';
        agree(buf);
        for (int c = 0; c < 256; c += 7) {
            memcpy(buf, line, len + 1);
            buf[cut] = (char)(c ? c : ' ');
            agree(buf);
        }
    }
    /* the checks ran on lines the fast read took, not only on ones it refused */
    assert_true(nfast > 50);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_lines),
        cmocka_unit_test(test_other_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
