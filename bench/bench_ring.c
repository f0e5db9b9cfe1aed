/*
 * bench_ring: the memory figures of the history ring.
 *
 *   bench_ring fill DIR DAYS   sample /proc once, then write DAYS of simulated
 *                              idle seconds (ring_fill_idle) into DIR/ring.kmw
 *                              with the daemon's default sizes, as if the daemon
 *                              had run that long; the daemon can then be
 *                              started on DIR.
 *   bench_ring stats FILE      bytes per sample of an existing ring file (an
 *                              import, an export, the daemon's ring).
 *   bench_ring query FILE KIND NAME FIELD SECONDS [RUNS]
 *                              CPU of one history_query over the SECONDS before
 *                              the newest record (what the daemon's "history"
 *                              command costs before the reply is written):
 *                              median of RUNS (default 41) timed calls.
 *   bench_ring tables FILE N [RUNS]
 *                              ring_state_to_sampler over the last N seconds
 *                              of the full tier (kmemtop following its
 *                              daemon): into one sampler, so each record
 *                              updates the tables of the one before in place,
 *                              and into two samplers in turn, so each one
 *                              sees every other record and rebuilds every
 *                              table; ns per record of each, median of RUNS
 *                              (default 5) walks.
 *   bench_ring judge FILE WINDOW EVERY
 *                              growth_eval of the WINDOW seconds up to now,
 *                              now sliding by EVERY seconds from the oldest
 *                              record + WINDOW to the newest (kmemtop: 600
 *                              60; the daemon: 600 10), on one reader with
 *                              growth_eval (each walk from the keyframe
 *                              before the window) and on another with
 *                              growth_eval_next (each from the checkpoint
 *                              the judgement before kept): records decoded
 *                              and CPU per judgement (median) of each.
 *
 * Output: "key value" lines for bench/run.sh, prefixed by --label.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "growth.h"
#include "history.h"
#include "ring.h"
#include "util.h"
#include "sampler.h"

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int fill(const char *label, const char *dir, double days)
{
    struct sampler sm;
    struct ring *r;
    struct ring_stats st;
    char path[4096], note[512];
    long ps = sysconf(_SC_PAGESIZE);
    uint64_t n = (uint64_t)(days * 86400.0);
    double c0;
    int ret;

    sampler_init(&sm, "/proc", SRC_ALL, ps > 0 ? (uint64_t)ps : 4096);
    if (sampler_read_all(&sm) != 0) {
        for (int s = 0; s < SRC_N; s++)
            if (sm.src[s].err)
                fprintf(stderr, "bench_ring: %s\n", sm.src[s].errmsg);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/ring.kmw", dir);
    unlink(path);
    ret = ring_open(&r, path, NULL, note, sizeof(note));
    if (ret < 0) {
        fprintf(stderr, "bench_ring: %s: %s\n", path, strerror(-ret));
        return 1;
    }
    c0 = cpu_s();
    ret = ring_fill_idle(r, &sm, n, util_wall_ns() - n * 1000000000ull, 1);
    if (ret < 0) {
        fprintf(stderr, "bench_ring: ring_fill_idle: %s\n", strerror(-ret));
        return 1;
    }
    ring_sync(r);
    ring_stats(r, &st);
    printf("%s.samples %llu\n", label, (unsigned long long)n);
    printf("%s.fill_cpu_s %.1f\n", label, cpu_s() - c0);
    printf("%s.file_bytes %llu\n", label, (unsigned long long)st.file_bytes);
    printf("%s.full_records %llu\n", label, (unsigned long long)st.full_records);
    printf("%s.full_dropped %llu\n", label, (unsigned long long)st.full_dropped);
    printf("%s.full_bytes_used %llu\n", label, (unsigned long long)st.full_bytes_used);
    printf("%s.bytes_per_sample %.1f\n", label, st.full_bytes_per_sample);
    printf("%s.full_span_days %.2f\n", label,
           st.full_newest_wall_ns > st.full_oldest_wall_ns
               ? (double)(st.full_newest_wall_ns - st.full_oldest_wall_ns) / 86400e9
               : 0.0);
    printf("%s.coarse_bytes_per_minute %.1f\n", label, st.coarse_bytes_per_record);
    ring_close(r);
    sampler_fini(&sm);
    return 0;
}

static int stats(const char *label, const char *path)
{
    struct ring_reader *rd;
    struct ring_tier_info ti;
    char err[256];
    int r = ring_reader_open_path(&rd, path, err, sizeof(err));

    if (r < 0) {
        fprintf(stderr, "bench_ring: %s: %s\n", path, err);
        return 1;
    }
    r = ring_reader_tier_info(rd, RING_FULL, &ti);
    if (r < 0 || !ti.records) {
        fprintf(stderr, "bench_ring: %s: no full-tier records\n", path);
        ring_reader_close(rd);
        return 1;
    }
    printf("%s.records %llu\n", label, (unsigned long long)ti.records);
    printf("%s.bytes_used %llu\n", label, (unsigned long long)ti.used);
    printf("%s.bytes_per_sample %.1f\n", label, (double)ti.used / (double)ti.records);
    ring_reader_close(rd);
    return 0;
}

static int query(const char *label, char **argv, int runs)
{
    struct ring_reader *rd;
    struct ring_tier_info ti;
    struct history_points hp;
    uint64_t window = strtoull(argv[4], NULL, 10);
    double *us = calloc((size_t)runs, sizeof(*us));
    char err[256];
    int r = ring_reader_open_path(&rd, argv[0], err, sizeof(err));

    if (r < 0 || !us) {
        fprintf(stderr, "bench_ring: %s: %s\n", argv[0], r < 0 ? err : "out of memory");
        free(us);
        return 1;
    }
    ring_reader_tier_info(rd, RING_FULL, &ti);
    memset(&hp, 0, sizeof(hp));
    for (int i = 0; i <= runs; i++) {
        /* run 0 warms the reader's state and the page cache */
        double c0 = cpu_s();
        r = history_query(rd, argv[1], argv[2], argv[3], window, ti.newest_wall_ns, &hp, err,
                          sizeof(err));
        if (r < 0) {
            fprintf(stderr, "bench_ring: history %s %s %s: %s\n", argv[1], argv[2], argv[3], err);
            break;
        }
        if (i)
            us[i - 1] = (cpu_s() - c0) * 1e6;
    }
    if (r == 0) {
        qsort(us, (size_t)runs, sizeof(*us), cmp_double);
        printf("%s.points %zu\n", label, hp.n);
        printf("%s.tier %s\n", label, hp.tier == RING_FULL ? "full" : "coarse");
        printf("%s.cpu_us %.0f\n", label, us[runs / 2]);
    }
    history_points_free(&hp);
    free(us);
    ring_reader_close(rd);
    return r < 0;
}

struct tables_ctx {
    struct sampler *sm[2];
    unsigned nsm;          /* 1: in place; 2: in turn, always the rebuild */
    uint64_t records, ns;
    int err;
};

static int tables_cb(const struct ring_state *st, void *arg)
{
    struct tables_ctx *c = arg;
    struct sampler *sm = c->sm[c->records % c->nsm];
    uint64_t t0 = util_mono_ns();
    int r = ring_state_to_sampler(st, sm);

    c->ns += util_mono_ns() - t0;
    c->records++;
    if (r < 0)
        c->err = r;
    return r < 0;
}

static int tables(const char *label, const char *path, uint64_t secs, int runs)
{
    struct ring_reader *rd;
    struct ring_tier_info ti;
    struct sampler sm[3];
    double *per[2] = { calloc((size_t)runs, sizeof(double)), calloc((size_t)runs, sizeof(double)) };
    uint64_t from, records = 0, updates = 0;
    char err[256];
    int r = ring_reader_open_path(&rd, path, err, sizeof(err));

    if (r < 0 || !per[0] || !per[1] || runs < 1) {
        fprintf(stderr, "bench_ring: %s: %s\n", path, r < 0 ? err : "out of memory");
        free(per[0]);
        free(per[1]);
        return 1;
    }
    ring_reader_tier_info(rd, RING_FULL, &ti);
    from = ti.newest_wall_ns > secs * 1000000000ull ? ti.newest_wall_ns - secs * 1000000000ull : 0;
    for (int i = 0; i < 3; i++)
        ring_sampler_init(&sm[i]);
    for (int i = 0; i < runs && r == 0; i++) {
        for (int m = 0; m < 2 && r == 0; m++) {
            struct tables_ctx c = { { &sm[m ? 1 : 0], &sm[2] }, m ? 2u : 1u, 0, 0, 0 };
            uint64_t u0 = sm[0].ring_fill.updates;

            r = ring_reader_walk(rd, RING_FULL, from, 0, tables_cb, &c);
            if (c.err)
                r = c.err;
            if (!c.records)
                r = -ENOENT;
            per[m][i] = (double)c.ns / (double)(c.records ? c.records : 1);
            records = c.records;
            if (!m)
                updates = sm[0].ring_fill.updates - u0;
        }
    }
    if (r == 0) {
        qsort(per[0], (size_t)runs, sizeof(double), cmp_double);
        qsort(per[1], (size_t)runs, sizeof(double), cmp_double);
        printf("%s.records %llu\n", label, (unsigned long long)records);
        printf("%s.in_place_records %llu\n", label, (unsigned long long)updates);
        printf("%s.in_place_ns %.0f\n", label, per[0][runs / 2]);
        printf("%s.rebuild_ns %.0f\n", label, per[1][runs / 2]);
        printf("%s.slab_caches %zu\n", label, sm[0].slab.n);
        printf("%s.vmalloc_rows %zu\n", label, sm[0].vmalloc.n);
    } else {
        fprintf(stderr, "bench_ring: %s: %s\n", path, strerror(-r));
    }
    for (int i = 0; i < 3; i++)
        sampler_fini(&sm[i]);
    free(per[0]);
    free(per[1]);
    ring_reader_close(rd);
    return r < 0;
}

static int judge(const char *label, const char *path, uint64_t window_s, uint64_t every_s)
{
    static const struct growth_rule rule = { 600, 1u << 20, 0 };
    const uint64_t win = window_s * 1000000000ull, every = every_s * 1000000000ull;
    struct ring_reader *rd[2] = { NULL, NULL };
    struct ring_tier_info ti;
    struct growth_report rep;
    uint64_t records = 0, decoded[2] = { 0, 0 }, n = 0;
    double *us[2] = { NULL, NULL };
    char err[256];
    int r = 0;

    for (int m = 0; m < 2 && r == 0; m++)
        r = ring_reader_open_path(&rd[m], path, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "bench_ring: %s: %s\n", path, err);
        goto out;
    }
    ring_reader_tier_info(rd[0], RING_FULL, &ti);
    if (!every || ti.newest_wall_ns < ti.oldest_wall_ns + win + every) {
        fprintf(stderr, "bench_ring: %s: not enough history for a %llu s window slid by %llu s\n",
                path, (unsigned long long)window_s, (unsigned long long)every_s);
        r = -EINVAL;
        goto out;
    }
    n = (ti.newest_wall_ns - ti.oldest_wall_ns - win) / every + 1;
    us[0] = calloc(n, sizeof(double));
    us[1] = calloc(n, sizeof(double));
    if (!us[0] || !us[1]) {
        r = -ENOMEM;
        goto out;
    }
    memset(&rep, 0, sizeof(rep));
    /* the two readers in turn, so that both see the same machine load */
    for (uint64_t i = 0; i < n && r == 0; i++) {
        uint64_t now = ti.oldest_wall_ns + win + i * every;

        for (int m = 0; m < 2 && r == 0; m++) {
            uint64_t d0 = ring_reader_decoded(rd[m]);
            double c0 = cpu_s();

            r = growth_eval_next(rd[m], window_s, now, m ? now + every : 0, &rule, &rep, err,
                                 sizeof(err));
            us[m][i] = (cpu_s() - c0) * 1e6;
            decoded[m] += ring_reader_decoded(rd[m]) - d0;
            if (!m)
                records += rep.records;
        }
    }
    growth_report_free(&rep);
    if (r < 0) {
        fprintf(stderr, "bench_ring: growth: %s\n", err);
        goto out;
    }
    for (int m = 0; m < 2; m++)
        qsort(us[m], n, sizeof(double), cmp_double);
    printf("%s.judgements %llu\n", label, (unsigned long long)n);
    printf("%s.records_per_judgement %.0f\n", label, (double)records / (double)n);
    printf("%s.decoded_keyframe %.0f\n", label, (double)decoded[0] / (double)n);
    printf("%s.decoded_checkpoint %.0f\n", label, (double)decoded[1] / (double)n);
    printf("%s.cpu_us_keyframe %.0f\n", label, us[0][n / 2]);
    printf("%s.cpu_us_checkpoint %.0f\n", label, us[1][n / 2]);
out:
    free(us[0]);
    free(us[1]);
    ring_reader_close(rd[0]);
    ring_reader_close(rd[1]);
    return r < 0;
}

int main(int argc, char **argv)
{
    const char *label = "ring";

    if (argc >= 3 && strcmp(argv[1], "--label") == 0) {
        label = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc == 4 && strcmp(argv[1], "fill") == 0)
        return fill(label, argv[2], atof(argv[3]));
    if (argc == 3 && strcmp(argv[1], "stats") == 0)
        return stats(label, argv[2]);
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "query") == 0)
        return query(label, argv + 2, argc == 8 ? atoi(argv[7]) : 41);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "tables") == 0)
        return tables(label, argv[2], strtoull(argv[3], NULL, 10), argc == 5 ? atoi(argv[4]) : 5);
    if (argc == 5 && strcmp(argv[1], "judge") == 0)
        return judge(label, argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    fprintf(stderr, "Usage: bench_ring [--label L] fill DIR DAYS | stats FILE |\n"
                    "       query FILE KIND NAME FIELD SECONDS [RUNS] | tables FILE N [RUNS] |\n"
                    "       judge FILE WINDOW EVERY\n");
    return 2;
}
