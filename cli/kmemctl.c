/*
 * kmemctl: the scripts' client.  Queries kernel memory from the daemon, from
 * the /proc files directly, or from a recorded ring, and prints an aligned
 * table, CSV or JSON.
 *
 * Where the data comes from:
 *   --direct or --proc-root   read the files; never contact a daemon
 *   --replay FILE             a ring file or an export
 *   --socket PATH             that daemon only; failing to use it is an error
 *   (none)                    the default socket when a daemon answers, else
 *                             the files (commands that need history fail)
 *
 * Exit status: 0 success, 1 "found something" (check), 2 any error, with one
 * line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "growth.h"
#include "history.h"
#include "metrics.h"
#include "proto.h"
#include "render.h"
#include "report.h"
#include "ring.h"
#include "sampler.h"
#include "util.h"

#define EXIT_ERROR 2
#define TIMEOUT_MS 10000

enum backend { BE_AUTO, BE_DIRECT, BE_SOCKET, BE_REPLAY };

struct opts {
    enum backend be;
    const char *proc_root;
    const char *socket;
    const char *replay;
    enum render_format fmt;
    const char *sort;
    const char *match;
    long top;       /* -1: all */
    bool reverse;
    const char *from, *to;
    const char *window;    /* growth, check */
    const char *threshold;
    const char *at;
};

enum cmd_kind { CK_SNAPSHOT, CK_STATUS, CK_HISTORY, CK_GROWTH, CK_CHECK, CK_METRICS, CK_WATCH, CK_EXPORT,
                CK_IMPORT };

struct command {
    const char *name;
    enum cmd_kind kind;
    enum src_id src;        /* CK_SNAPSHOT */
    int min_args, max_args; /* after the command word */
    const char *args;
    const char *summary;
};

static const struct command commands[] = {
    { "slab", CK_SNAPSHOT, SRC_SLABINFO, 0, 0, "", "every slab cache (like slabtop -o)" },
    { "kmalloc", CK_SNAPSHOT, SRC_SLABINFO, 0, 0, "", "kmalloc size classes by variant" },
    { "vmalloc", CK_SNAPSHOT, SRC_VMALLOCINFO, 0, 0, "", "vmalloc areas by caller, module and type" },
    { "buddy", CK_SNAPSHOT, SRC_BUDDYINFO, 0, 0, "", "free blocks and unusable index per zone" },
    { "meminfo", CK_SNAPSHOT, SRC_MEMINFO, 0, 0, "", "kernel memory totals" },
    { "status", CK_STATUS, SRC_N, 0, 0, "", "the daemon's version and per-source status" },
    { "history", CK_HISTORY, SRC_N, 3, 4, "KIND NAME FIELD [DURATION]", "one series over time" },
    { "growth", CK_GROWTH, SRC_N, 0, 0, "[--window W]", "fastest-growing series, leak suspects marked" },
    { "check", CK_CHECK, SRC_N, 0, 0, "[--window W]", "exit 1 listing leak suspects, 0 when none" },
    { "metrics", CK_METRICS, SRC_N, 0, 0, "", "Prometheus text format" },
    { "watch", CK_WATCH, SRC_N, 0, 5, "[KIND...]", "one JSON line per new sample" },
    { "export", CK_EXPORT, SRC_N, 1, 1, "[--from T] [--to T] FILE", "write a window of history to FILE" },
    { "import", CK_IMPORT, SRC_N, 2, 2, "DIR FILE", "build a ring FILE from snapshot directories" },
};

static void die(const char *fmt, ...) KMW_PRINTF(1, 2) __attribute__((noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("kmemctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_ERROR);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: kmemctl [OPTIONS] COMMAND [ARGS]\n"
            "Query kernel memory: slab caches, kmalloc size classes, vmalloc, buddy allocator.\n"
            "\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        char left[64];
        snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
        fprintf(f, "  %-36s %s\n", left, commands[i].summary);
    }
    fprintf(f,
            "\nWhere the data comes from:\n"
            "  --socket PATH     that daemon only (default %s)\n"
            "  --direct          read the /proc files; never contact a daemon\n"
            "  --proc-root DIR   read DIR/slabinfo etc. (implies --direct)\n"
            "  --replay FILE     a ring file or an export\n"
            "\nOutput:\n"
            "  --json            JSON (a stable interface, see kmemctl(1))\n"
            "  --csv             CSV with a header row and raw units\n"
            "  --sort FIELD      slab, kmalloc, vmalloc, growth: order by FIELD (a JSON key,\n"
            "                    or a slabtop -s letter for slab); numbers largest first\n"
            "  --reverse         reverse the order\n"
            "  --top N           only the first N rows (growth: 20 by default)\n"
            "  --match REGEX     only names (vmalloc: callers) matching REGEX\n"
            "  --from T, --to T  export: window (unix time, or -DURATION before now)\n"
            "  --window W        growth (default 10m), check (default 1h): the window judged\n"
            "  --threshold SIZE  growth, check: least net growth of a suspect (default: the\n"
            "                    daemon's growth_min_size, 1M for a recording)\n"
            "  --at T            growth, check: the window's end (unix time, or -DURATION\n"
            "                    before now; with --replay, before the recording's end)\n"
            "  -h, --help        this help\n"
            "  -V, --version     version\n"
            "\nDURATION: seconds or with a unit: 600, 10m, 1h, 7d.\n"
            "Exit status: 0 success (check: no suspect), 1 check found suspects, 2 error.\n",
            PROTO_DEFAULT_SOCKET);
}

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static uint64_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (uint64_t)ps : 4096;
}

/* ---- building the reply of a snapshot command ---------------------------- */

static json_t *snapshot_report(const struct command *cmd, const struct sampler *sm)
{
    switch (cmd->src) {
    case SRC_SLABINFO:
        return strcmp(cmd->name, "kmalloc") == 0 ? report_kmalloc(&sm->kmalloc) : report_slab(&sm->slab);
    case SRC_VMALLOCINFO:
        return report_vmalloc(&sm->vmalloc);
    case SRC_BUDDYINFO:
        return report_buddy(&sm->buddy);
    case SRC_MEMINFO:
        return report_meminfo(&sm->meminfo);
    case SRC_N:
        break;
    }
    return NULL;
}

/* Read the sources in mask once; die with the first file's own error. */
static void direct_sample(struct sampler *sm, const char *proc_root, unsigned mask)
{
    sampler_init(sm, proc_root, mask, page_size());
    for (int s = 0; s < SRC_N; s++) {
        if ((mask & SRC_BIT(s)) && sampler_read(sm, (enum src_id)s) < 0) {
            fprintf(stderr, "kmemctl: %s\n", sm->src[s].errmsg);
            sampler_fini(sm);
            exit(EXIT_ERROR);
        }
    }
}

static json_t *snapshot_direct(const struct command *cmd, const char *proc_root)
{
    struct sampler sm;
    json_t *obj;

    direct_sample(&sm, proc_root, SRC_BIT(cmd->src));
    obj = snapshot_report(cmd, &sm);
    sampler_fini(&sm);
    if (!obj)
        die("out of memory");
    return obj;
}

/* ---- replay ------------------------------------------------------------- */

static struct ring_reader *replay_open(const char *path)
{
    struct ring_reader *rd;
    char err[256];

    if (ring_reader_open_path(&rd, path, err, sizeof(err)) < 0)
        die("%s: %s", path, err);
    return rd;
}

struct last_ctx {
    struct sampler *sm;
    enum src_id src;
    uint64_t wall_ns;
    int err;
};

/* keep the newest record that sampled the wanted source */
static int keep_last(const struct ring_state *st, void *arg)
{
    struct last_ctx *lc = arg;

    if (!(st->src_mask & SRC_BIT(lc->src)))
        return 0;
    lc->err = ring_state_to_sampler(st, lc->sm);
    lc->wall_ns = st->wall_ns;
    return 0;
}

static json_t *snapshot_replay(const struct command *cmd, const char *path)
{
    struct ring_reader *rd = replay_open(path);
    struct sampler sm;
    struct last_ctx lc = { &sm, cmd->src, 0, 0 };
    uint64_t oldest, newest;
    json_t *obj;

    ring_sampler_init(&sm);
    if (ring_reader_span(rd, RING_FULL, &oldest, &newest) < 0 || !newest)
        die("%s: the recording is empty", path);
    /* start a little before the newest record: the walk begins at the keyframe before it */
    if (ring_reader_walk(rd, RING_FULL, newest > 3600ull * 1000000000u ? newest - 3600ull * 1000000000u : 0, 0,
                         keep_last, &lc) < 0)
        die("%s: cannot read the recording", path);
    if (!lc.wall_ns)
        die("%s: no %s sample in the last hour of the recording", path, src_name(cmd->src));
    if (lc.err < 0)
        die("%s: cannot rebuild the sample: %s", path, strerror(-lc.err));
    obj = snapshot_report(cmd, &sm);
    if (!obj)
        die("out of memory");
    json_object_set_new(obj, "time", json_real((double)(lc.wall_ns / 1000000) / 1e3));
    sampler_fini(&sm);
    ring_reader_close(rd);
    return obj;
}

/* ---- daemon ------------------------------------------------------------- */

/* Send one request; return the parsed reply, die on a protocol error. */
static json_t *daemon_call(struct kmw_conn *c, const char *req)
{
    char *line;
    size_t len;
    json_error_t je;
    json_t *o;
    int r = conn_call(c, req, &line, &len);

    if (r < 0)
        die("%s: %s", req, r == -ECONNRESET ? "the daemon closed the connection" : strerror(-r));
    o = json_loadb(line, len, 0, &je);
    if (!o)
        die("%s: the daemon's reply is not JSON: %s", req, je.text);
    if (!json_is_true(json_object_get(o, "ok"))) {
        const char *e = json_string_value(json_object_get(o, "error"));
        die("%s", e ? e : "the daemon refused the request");
    }
    return o;
}

/* ---- output ------------------------------------------------------------- */

/* --sort / --match / --top on the reply's row array. */
static void shape_rows(const struct render_view *v, json_t *rows, const struct opts *o)
{
    const char *key = NULL;

    if (o->match) {
        regex_t re;
        int r = regcomp(&re, o->match, REG_EXTENDED | REG_NOSUB);
        if (r) {
            char why[128];
            regerror(r, &re, why, sizeof(why));
            die("--match '%s': %s", o->match, why);
        }
        table_filter(rows, v->match_key, &re);
        regfree(&re);
    }
    if (o->sort) {
        key = render_sort_key(v, o->sort);
        if (!key)
            die("%s: cannot sort by '%s' (see kmemctl --help)", v->command, o->sort);
    } else if (o->fmt == RENDER_HUMAN || o->top >= 0 || o->reverse) {
        key = v->default_sort;
    }
    if (key && table_sort(rows, key, o->reverse) < 0)
        die("out of memory");
    else if (!key && o->reverse && json_array_size(rows) > 1) {
        for (size_t i = 0, j = json_array_size(rows) - 1; i < j; i++, j--) {
            json_t *a = json_incref(json_array_get(rows, i));
            json_array_set(rows, i, json_array_get(rows, j));
            json_array_set_new(rows, j, a);
        }
    }
    if (o->top >= 0)
        table_truncate(rows, (size_t)o->top);
}

static void print_json(json_t *obj)
{
    if (json_dumpf(obj, stdout, JSON_COMPACT) < 0)
        die("writing output: %s", strerror(errno));
    fputc('\n', stdout);
}

static void finish_output(int r)
{
    if (fflush(stdout) != 0 || r < 0)
        die("writing output: %s", strerror(errno ? errno : EIO));
}

static void output_snapshot(const struct command *cmd, json_t *obj, const struct opts *o)
{
    const struct render_view *v = render_view_find(cmd->name);
    int r = 0;

    if (v && o->fmt == RENDER_HUMAN)
        render_summary(stdout, v, json_object_get(obj, v->array));
    if (v)
        shape_rows(v, json_object_get(obj, v->array), o);
    if (o->fmt == RENDER_JSON)
        print_json(obj);
    else if (v)
        r = render_rows(stdout, v, obj, json_object_get(obj, v->array), o->fmt, page_size());
    else if (cmd->src == SRC_BUDDYINFO)
        r = render_buddy(stdout, obj, o->fmt);
    else
        r = render_meminfo(stdout, obj, o->fmt);
    finish_output(r);
}

static void fmt_time(char *buf, size_t n, double t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void output_status(json_t *o, const struct opts *opt)
{
    json_t *srcs = json_object_get(o, "sources"), *s, *ring = json_object_get(o, "ring");
    const char *name;
    char tb[32];

    if (opt->fmt == RENDER_JSON) {
        print_json(o);
        finish_output(0);
        return;
    }
    fmt_time(tb, sizeof(tb), json_number_value(json_object_get(o, "started")));
    printf("kmemwatchd %s, protocol %" JSON_INTEGER_FORMAT ", started %s, %" JSON_INTEGER_FORMAT " clients\n\n",
           json_string_value(json_object_get(o, "version")), json_integer_value(json_object_get(o, "protocol")),
           tb, json_integer_value(json_object_get(o, "clients")));
    printf("%-12s %8s %10s %6s %7s %7s  %-19s  %s\n", "SOURCE", "INTERVAL", "SAMPLES", "LATE", "DELAYED",
           "ERRORS", "LAST", "ERROR");
    json_object_foreach(srcs, name, s) {
        json_t *last = json_object_get(s, "last"), *delayed = json_object_get(s, "delayed");
        const char *e = json_string_value(json_object_get(s, "error"));
        char db[24];
        if (json_is_number(last))
            fmt_time(tb, sizeof(tb), json_number_value(last));
        else
            snprintf(tb, sizeof(tb), "-");
        /* a daemon from before the split into late and delayed does not send it */
        if (json_is_integer(delayed))
            snprintf(db, sizeof(db), "%" JSON_INTEGER_FORMAT, json_integer_value(delayed));
        else
            snprintf(db, sizeof(db), "-");
        printf("%-12s %7.1fs %10" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT " %7s %7" JSON_INTEGER_FORMAT
               "  %-19s  %s\n",
               name, json_number_value(json_object_get(s, "interval")),
               json_integer_value(json_object_get(s, "samples")), json_integer_value(json_object_get(s, "late")),
               db, json_integer_value(json_object_get(s, "errors")), tb, e ? e : "-");
    }
    if (json_is_object(ring)) {
        char sz[32];
        json_t *old = json_object_get(ring, "oldest");
        fmt_bytes(sz, sizeof(sz), (uint64_t)json_integer_value(json_object_get(ring, "file_bytes")));
        if (json_is_number(old))
            fmt_time(tb, sizeof(tb), json_number_value(old));
        else
            snprintf(tb, sizeof(tb), "-");
        printf("\nring: %s, %" JSON_INTEGER_FORMAT " records, %" JSON_INTEGER_FORMAT
               " per-minute records, full resolution since %s\n",
               sz, json_integer_value(json_object_get(ring, "records")),
               json_integer_value(json_object_get(ring, "coarse_records")), tb);
    } else {
        printf("\nring: none (see the daemon's log)\n");
    }
    finish_output(0);
}

static void output_history(json_t *o, const struct opts *opt)
{
    json_t *pts = json_object_get(o, "points"), *p;
    size_t i;
    char tb[32];

    if (opt->fmt == RENDER_JSON) {
        print_json(o);
        finish_output(0);
        return;
    }
    printf(opt->fmt == RENDER_CSV ? "time,value\n" : "%-19s  %s\n", "TIME", "VALUE");
    json_array_foreach(pts, i, p) {
        json_t *t = json_array_get(p, 0), *v = json_array_get(p, 1);
        if (opt->fmt == RENDER_CSV) {
            printf("%.3f,", json_number_value(t));
        } else {
            fmt_time(tb, sizeof(tb), json_number_value(t));
            printf("%-19s  ", tb);
        }
        if (json_is_integer(v))
            printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
        else
            printf("%.3f\n", json_number_value(v));
    }
    finish_output(0);
}

/* ---- history from a recording -------------------------------------------- */

static json_t *history_replay(const char *path, int argc, char **argv)
{
    struct ring_reader *rd = replay_open(path);
    struct history_points pts;
    uint64_t window = 600, oldest, newest;
    char err[256];
    json_t *arr = json_array();

    if (argc == 4 && parse_duration(argv[3], &window) < 0)
        die("history: '%s' is not a duration", argv[3]);
    if (ring_reader_span(rd, RING_FULL, &oldest, &newest) < 0 || !newest)
        die("%s: the recording is empty", path);
    memset(&pts, 0, sizeof(pts));
    /* "now" is the end of the recording: a replay is about its own time */
    if (history_query(rd, argv[0], argv[1], argv[2], window, newest, &pts, err, sizeof(err)) < 0)
        die("history: %s", err);
    for (size_t i = 0; i < pts.n; i++) {
        json_t *v = pts.is_fraction ? json_real(pts.v[i].value) : json_integer((json_int_t)pts.v[i].value);
        json_array_append_new(arr, json_pack("[f,o]", (double)(pts.v[i].wall_ns / 1000000) / 1e3, v));
    }
    history_points_free(&pts);
    ring_reader_close(rd);
    return json_pack("{s:b,s:o,s:I}", "ok", 1, "points", arr, "window", (json_int_t)window);
}

/* ---- export / import ---------------------------------------------------- */

/* T: unix seconds, or -DURATION before now */
static uint64_t parse_time(const char *s, const char *opt)
{
    uint64_t v;
    char *end;

    if (!s)
        return 0;
    if (s[0] == '-') {
        if (parse_duration(s + 1, &v) < 0)
            die("%s '%s': expected unix time or -DURATION", opt, s);
        return util_wall_ns() - v * 1000000000ull;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        die("%s '%s': expected unix time or -DURATION", opt, s);
    return v * 1000000000ull;
}

static void do_export(struct ring_reader *rd, const char *file, const struct opts *o)
{
    char err[256];
    uint64_t from = parse_time(o->from, "--from"), to = parse_time(o->to, "--to");

    if (to && from > to)
        die("export: --from is after --to");
    if (ring_export(rd, from, to, file, err, sizeof(err)) < 0)
        die("export: %s", err);
}

/* ---- metrics direct ------------------------------------------------------ */

static void metrics_direct(const char *proc_root)
{
    struct sampler sm;
    struct metrics_extra x;

    sampler_init(&sm, proc_root, SRC_ALL, page_size());
    memset(&x, 0, sizeof(x));
    x.uptime_seconds = -1;
    for (int s = 0; s < SRC_N; s++) {
        int r = sampler_read(&sm, (enum src_id)s);
        x.src[s].samples = 1;
        x.src[s].errors = r < 0;
        x.src[s].up = r == 0;
        x.src[s].read_seconds = (double)sm.src[s].read_ns / 1e9;
        /* a scrape never fails because one file does: say so and go on */
        if (r < 0)
            fprintf(stderr, "kmemctl: %s\n", sm.src[s].errmsg);
    }
    finish_output(metrics_write(stdout, &sm, NULL, &x));
    sampler_fini(&sm);
}

/* ---- growth and check ------------------------------------------------------ */

/* --at: unix seconds (fractions allowed) or -DURATION before now_ns */
static uint64_t parse_at(const char *s, uint64_t now_ns)
{
    uint64_t v;
    char *end;
    double d;

    if (s[0] == '-') {
        if (parse_duration(s + 1, &v) < 0 || v > now_ns / 1000000000ull)
            die("--at '%s': expected unix time or -DURATION", s);
        return now_ns - v * 1000000000ull;
    }
    errno = 0;
    d = strtod(s, &end);
    if (errno || *end || end == s || !(d > 0 && d < 1e10))
        die("--at '%s': expected unix time or -DURATION", s);
    return (uint64_t)(d * 1e9 + 0.5);
}

/* Evaluate on a ring this process maps: a recording, or the daemon's ring for --at. */
static json_t *growth_local(struct ring_reader *rd, uint64_t window, uint64_t now_ns, uint64_t min_size)
{
    struct growth_rule rule = { 0, min_size, 0 };
    struct growth_report rep;
    char err[256];
    json_t *obj;

    memset(&rep, 0, sizeof(rep));
    /* an explicit window is judged as given: no configured minimum applies */
    if (growth_eval(rd, window, now_ns, &rule, &rep, err, sizeof(err)) < 0)
        die("growth: %s", err);
    obj = growth_report_json(&rep, min_size, 0, false);
    growth_report_free(&rep);
    if (!obj)
        die("out of memory");
    return obj;
}

static int do_growth(const struct command *cmd, struct opts *o, struct kmw_conn *conn)
{
    bool check = cmd->kind == CK_CHECK;
    uint64_t window = check ? 3600 : 600, min_size = 0;
    const struct render_view *v = render_view_find("growth");
    json_t *obj, *rows;
    size_t n;
    int r = 0;

    if (o->window && (parse_duration(o->window, &window) < 0 || window == 0 || window > 400ull * 86400))
        die("--window '%s': expected a duration (seconds, or with s, m, h, d, w; at most 400d)", o->window);
    if (o->threshold && parse_size(o->threshold, &min_size) < 0)
        die("--threshold '%s': expected a size (bytes, or with K, M, G)", o->threshold);
    if (o->be == BE_DIRECT)
        die("%s needs kmemwatchd or --replay FILE: one sample has no growth", cmd->name);
    if (o->be == BE_REPLAY) {
        struct ring_reader *rd = replay_open(o->replay);
        uint64_t oldest, newest = 0;

        /* "now" is the end of the recording: a replay is about its own time */
        if ((ring_reader_span(rd, RING_FULL, &oldest, &newest) < 0 || !newest) &&
            (ring_reader_span(rd, RING_COARSE, &oldest, &newest) < 0 || !newest))
            die("%s: the recording is empty", o->replay);
        obj = growth_local(rd, window, o->at ? parse_at(o->at, newest) : newest,
                           o->threshold ? min_size : 1u << 20);
        ring_reader_close(rd);
    } else if (o->at) {
        struct ring_reader *rd;
        json_t *hello = daemon_call(conn, "hello");
        char err[256];

        if (!o->threshold)
            min_size = (uint64_t)json_integer_value(json_object_get(json_object_get(hello, "growth"), "min_size"));
        json_decref(hello);
        json_decref(daemon_call(conn, "ring"));
        if (conn->passed_fd < 0)
            die("%s: the daemon sent no ring descriptor", cmd->name);
        if (ring_reader_open(&rd, conn->passed_fd, err, sizeof(err)) < 0)
            die("%s: %s", cmd->name, err);
        obj = growth_local(rd, window, parse_at(o->at, util_wall_ns()), min_size);
        ring_reader_close(rd);
    } else {
        char req[128];
        if (o->threshold)
            snprintf(req, sizeof(req), "growth %llu 0 %llu", (unsigned long long)window,
                     (unsigned long long)min_size);
        else
            snprintf(req, sizeof(req), "growth %llu 0", (unsigned long long)window);
        obj = daemon_call(conn, req);
    }
    conn_close(conn);
    rows = json_object_get(obj, "growers");
    if (!json_is_array(rows))
        die("%s: the reply has no growers", cmd->name);
    if (check) {
        /* keep the suspects only */
        for (size_t i = json_array_size(rows); i-- > 0;)
            if (!json_is_true(json_object_get(json_array_get(rows, i), "suspect")))
                json_array_remove(rows, i);
        n = json_array_size(rows);
        if (o->fmt == RENDER_JSON) {
            print_json(obj);
        } else if (o->fmt == RENDER_CSV) {
            r = render_growth(stdout, rows, RENDER_CSV);
        } else {
            json_t *row;
            size_t i;
            json_array_foreach(rows, i, row)
                render_growth_line(stdout, row, (uint64_t)json_integer_value(json_object_get(obj, "window")));
        }
        finish_output(r);
        json_decref(obj);
        return n ? 1 : 0;
    }
    if (o->top < 0)
        o->top = 20;
    shape_rows(v, rows, o);
    if (o->fmt == RENDER_JSON) {
        print_json(obj);
    } else {
        if (o->fmt == RENDER_HUMAN) {
            char tb[32], ms[32];
            fmt_time(tb, sizeof(tb), json_number_value(json_object_get(obj, "to")));
            fmt_bytes(ms, sizeof(ms), (uint64_t)json_integer_value(json_object_get(obj, "min_size")));
            printf("growth over %" JSON_INTEGER_FORMAT "s to %s (%s tier, %" JSON_INTEGER_FORMAT
                   " records): %" JSON_INTEGER_FORMAT " leak suspects (steady growth of at least %s)\n\n",
                   json_integer_value(json_object_get(obj, "window")), tb,
                   json_string_value(json_object_get(obj, "tier")),
                   json_integer_value(json_object_get(obj, "records")),
                   json_integer_value(json_object_get(obj, "suspects")), ms);
        }
        r = render_growth(stdout, rows, o->fmt);
    }
    finish_output(r);
    json_decref(obj);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct opts *o)
{
    enum { OPT_PROC_ROOT = 256, OPT_DIRECT, OPT_JSON, OPT_CSV, OPT_SORT, OPT_TOP, OPT_MATCH,
           OPT_REVERSE, OPT_SOCKET, OPT_REPLAY, OPT_FROM, OPT_TO, OPT_WINDOW, OPT_THRESHOLD,
           OPT_AT };
    static const struct option longopts[] = {
        { "proc-root", required_argument, NULL, OPT_PROC_ROOT },
        { "direct", no_argument, NULL, OPT_DIRECT },
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "replay", required_argument, NULL, OPT_REPLAY },
        { "json", no_argument, NULL, OPT_JSON },
        { "csv", no_argument, NULL, OPT_CSV },
        { "sort", required_argument, NULL, OPT_SORT },
        { "top", required_argument, NULL, OPT_TOP },
        { "match", required_argument, NULL, OPT_MATCH },
        { "reverse", no_argument, NULL, OPT_REVERSE },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "window", required_argument, NULL, OPT_WINDOW },
        { "threshold", required_argument, NULL, OPT_THRESHOLD },
        { "at", required_argument, NULL, OPT_AT },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false, csv = false, direct = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROC_ROOT:
            o->proc_root = optarg;
            direct = true;
            break;
        case OPT_DIRECT:
            direct = true;
            break;
        case OPT_SOCKET:
            o->socket = optarg;
            break;
        case OPT_REPLAY:
            o->replay = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_CSV:
            csv = true;
            break;
        case OPT_SORT:
            o->sort = optarg;
            break;
        case OPT_TOP: {
            char *end;
            errno = 0;
            o->top = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || o->top < 0)
                die("--top '%s': expected a number of rows", optarg);
            break;
        }
        case OPT_MATCH:
            o->match = optarg;
            break;
        case OPT_REVERSE:
            o->reverse = true;
            break;
        case OPT_FROM:
            o->from = optarg;
            break;
        case OPT_TO:
            o->to = optarg;
            break;
        case OPT_WINDOW:
            o->window = optarg;
            break;
        case OPT_THRESHOLD:
            o->threshold = optarg;
            break;
        case OPT_AT:
            o->at = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("kmemctl %s\n", KMW_VERSION);
            exit(0);
        case ':':
            die("option '%s' needs an argument (see --help)", argv[optind - 1]);
        default:
            die("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (json && csv)
        die("--json and --csv exclude each other");
    o->fmt = json ? RENDER_JSON : csv ? RENDER_CSV : RENDER_HUMAN;
    if ((direct ? 1 : 0) + (o->socket ? 1 : 0) + (o->replay ? 1 : 0) > 1)
        die("--direct/--proc-root, --socket and --replay exclude each other");
    o->be = direct ? BE_DIRECT : o->socket ? BE_SOCKET : o->replay ? BE_REPLAY : BE_AUTO;
}

/* Pick the backend: the daemon when one answers (or was named), else the files. */
static void connect_backend(struct opts *o, struct kmw_conn *conn, const struct command *cmd)
{
    char err[512];
    const char *path = o->socket ? o->socket : PROTO_DEFAULT_SOCKET;
    int r;

    if (o->be != BE_AUTO && o->be != BE_SOCKET)
        return;
    r = conn_open(conn, path, TIMEOUT_MS, err, sizeof(err));
    if (r == 0) {
        o->be = BE_SOCKET;
        return;
    }
    if (o->be == BE_SOCKET)
        die("%s", err);
    /* no daemon: the files, unless the command needs history */
    if (cmd->kind == CK_HISTORY || cmd->kind == CK_STATUS || cmd->kind == CK_WATCH || cmd->kind == CK_EXPORT ||
        cmd->kind == CK_GROWTH || cmd->kind == CK_CHECK)
        die("%s needs kmemwatchd (%s) or --replay FILE", cmd->name, err);
    o->be = BE_DIRECT;
}

int main(int argc, char **argv)
{
    struct opts o = { .proc_root = "/proc", .top = -1 };
    struct kmw_conn conn = { .fd = -1, .passed_fd = -1 };
    const struct command *cmd;
    char **args;
    int nargs;
    json_t *obj;

    parse_args(argc, argv, &o);
    if (optind >= argc) {
        usage(stderr);
        return EXIT_ERROR;
    }
    cmd = command_find(argv[optind]);
    if (!cmd)
        die("unknown command '%s' (see --help)", argv[optind]);
    args = argv + optind + 1;
    nargs = argc - optind - 1;
    if (nargs < cmd->min_args || nargs > cmd->max_args)
        die("usage: kmemctl %s %s", cmd->name, cmd->args);
    if ((o.sort || o.match || o.top >= 0 || o.reverse) && !render_view_find(cmd->name))
        die("%s: --sort, --top, --match and --reverse apply to slab, kmalloc, vmalloc and growth", cmd->name);
    if ((o.from || o.to) && cmd->kind != CK_EXPORT)
        die("%s: --from and --to apply to export", cmd->name);
    if ((o.window || o.threshold || o.at) && cmd->kind != CK_GROWTH && cmd->kind != CK_CHECK)
        die("%s: --window, --threshold and --at apply to growth and check", cmd->name);

    if (cmd->kind == CK_IMPORT) {
        char err[512];
        /* no budget: the file is sized to hold every snapshot */
        if (ring_import_dir(args[0], args[1], NULL, err, sizeof(err)) < 0)
            die("import: %s", err);
        return 0;
    }
    connect_backend(&o, &conn, cmd);

    switch (cmd->kind) {
    case CK_SNAPSHOT:
        if (o.be == BE_SOCKET)
            obj = daemon_call(&conn, cmd->name);
        else if (o.be == BE_REPLAY)
            obj = snapshot_replay(cmd, o.replay);
        else
            obj = snapshot_direct(cmd, o.proc_root);
        output_snapshot(cmd, obj, &o);
        json_decref(obj);
        break;
    case CK_STATUS:
        if (o.be != BE_SOCKET)
            die("status: needs kmemwatchd");
        obj = daemon_call(&conn, "hello");
        output_status(obj, &o);
        json_decref(obj);
        break;
    case CK_HISTORY: {
        char req[PROTO_MAX_LINE];
        if (o.be == BE_REPLAY) {
            obj = history_replay(o.replay, nargs, args);
        } else {
            int n = snprintf(req, sizeof(req), "history %s %s %s%s%s", args[0], args[1], args[2],
                             nargs == 4 ? " " : "", nargs == 4 ? args[3] : "");
            if (n < 0 || (size_t)n >= sizeof(req))
                die("history: request too long");
            obj = daemon_call(&conn, req);
        }
        output_history(obj, &o);
        json_decref(obj);
        break;
    }
    case CK_GROWTH:
    case CK_CHECK:
        return do_growth(cmd, &o, &conn);
    case CK_METRICS:
        if (o.be == BE_SOCKET) {
            char *line;
            size_t len;
            int r = conn_send(&conn, "metrics");
            while (r == 0 && (r = conn_read_line(&conn, &line, &len)) == 0) {
                if (strcmp(line, PROTO_METRICS_END) == 0)
                    break;
                if (line[0] == '{')
                    die("metrics: %s", line);
                printf("%s\n", line);
            }
            if (r < 0)
                die("metrics: %s", strerror(-r));
            finish_output(0);
        } else if (o.be == BE_REPLAY) {
            die("metrics: not available from a recording");
        } else {
            metrics_direct(o.proc_root);
        }
        break;
    case CK_WATCH: {
        char req[256] = "watch";
        char *line;
        size_t len;
        int r;
        if (o.be != BE_SOCKET)
            die("watch: needs kmemwatchd");
        for (int i = 0; i < nargs; i++) {
            strncat(req, " ", sizeof(req) - strlen(req) - 1);
            strncat(req, args[i], sizeof(req) - strlen(req) - 1);
        }
        conn.timeout_ms = -1;
        json_decref(daemon_call(&conn, req));
        while ((r = conn_read_line(&conn, &line, &len)) == 0) {
            printf("%s\n", line);
            fflush(stdout);
        }
        die("watch: %s", r == -ECONNRESET ? "the daemon closed the connection" : strerror(-r));
    }
    case CK_EXPORT: {
        struct ring_reader *rd;
        if (o.be == BE_REPLAY) {
            rd = replay_open(o.replay);
        } else {
            char err[256];
            json_decref(daemon_call(&conn, "ring"));
            if (conn.passed_fd < 0)
                die("export: the daemon sent no ring descriptor");
            if (ring_reader_open(&rd, conn.passed_fd, err, sizeof(err)) < 0)
                die("export: %s", err);
        }
        do_export(rd, args[0], &o);
        ring_reader_close(rd);
        break;
    }
    case CK_IMPORT:
        break;
    }
    conn_close(&conn);
    return 0;
}
