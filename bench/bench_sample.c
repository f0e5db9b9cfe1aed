/*
 * bench_sample: CPU cost of one daemon sample set against the floor of only
 * reading the same files.
 *
 *   full   sampler_read() of every source (read + parse + kmalloc table),
 *          then ring_append() into a real ring in a temporary directory:
 *          exactly what kmemwatchd's tick does;
 *   floor  the same four files opened once and read with pread() from
 *          offset 0 until end of file, nothing else.
 *
 * Two modes, both printed as "key value" lines for bench/run.sh:
 *
 *   loop   blocks of --iters back-to-back sample sets, floor and full
 *          blocks interleaved, --runs pairs; the ratio of each pair is
 *          taken and the median reported (the machine is shared and noisy:
 *          interleaving puts both sides under the same noise).
 *   tick   --tick-seconds real sample sets, one per second as the daemon
 *          does, each side timed alone with the thread CPU clock; medians.
 *          Slower, but it sees what the daemon sees: files that changed
 *          since the last second and caches that went cold in between.
 *
 * CPU time is CLOCK_THREAD_CPUTIME_ID (user + system of this thread, so the
 * kernel's cost of generating the files is counted on both sides).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "sampler.h"

struct floor_file {
    int fd;
    char *buf;
    size_t cap;
    size_t len;
};

static struct floor_file floor_files[SRC_N];

static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int floor_open(const char *proc_root)
{
    for (int s = 0; s < SRC_N; s++) {
        char path[4096];
        struct floor_file *f = &floor_files[s];

        snprintf(path, sizeof(path), "%s/%s", proc_root, src_name((enum src_id)s));
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            fprintf(stderr, "bench_sample: %s: %s\n", path, strerror(errno));
            return -1;
        }
        f->cap = 1u << 20;
        f->buf = malloc(f->cap);
        if (!f->buf)
            return -1;
    }
    return 0;
}

/* The floor: pread from 0 to the end, growing the buffer only when a file outgrows it. */
static void floor_read_all(void)
{
    for (int s = 0; s < SRC_N; s++) {
        struct floor_file *f = &floor_files[s];
        size_t off = 0;
        ssize_t r;

        for (;;) {
            if (f->cap - off < 4096) {
                f->cap *= 2;
                f->buf = realloc(f->buf, f->cap);
                if (!f->buf)
                    abort();
            }
            r = pread(f->fd, f->buf + off, f->cap - off, (off_t)off);
            if (r <= 0)
                break;
            off += (size_t)r;
        }
        f->len = off;
    }
}

static struct sampler sm;
static struct ring *ring;
static unsigned sample_errors;
/* tick mode: what the parses and ring_append took, summed (the parse by the sampler's own clock) */
static bool detail;
static uint64_t sum_parse[SRC_N], sum_append;

static void full_sample(void)
{
    unsigned errs = 0;
    uint64_t t0 = 0;

    for (int s = 0; s < SRC_N; s++) {
        if (sampler_read(&sm, (enum src_id)s) < 0)
            errs |= SRC_BIT(s);
        sum_parse[s] += sm.src[s].parse_ns;
    }
    if (errs)
        sample_errors++;
    if (detail)
        t0 = cpu_ns();
    if (ring_append(ring, &sm, SRC_ALL, errs, clock_ns(CLOCK_REALTIME),
                    clock_ns(CLOCK_MONOTONIC)) < 0)
        sample_errors++;
    if (detail)
        sum_append += cpu_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t median_u64(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_dbl(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Per-source split of one full sample set: the floor's read, the sampler's
 * parse (its own clock around the parse alone) and ring_append.
 */
static void breakdown(const char *label, int iters)
{
    uint64_t rd[SRC_N] = { 0 }, parse[SRC_N] = { 0 }, append = 0, unchanged[SRC_N];

    for (int s = 0; s < SRC_N; s++)
        unchanged[s] = sm.src[s].unchanged;
    for (int i = 0; i < iters; i++) {
        unsigned errs = 0;
        uint64_t t0;

        for (int s = 0; s < SRC_N; s++) {
            struct floor_file *f = &floor_files[s];
            size_t off = 0;
            ssize_t r;

            t0 = cpu_ns();
            while ((r = pread(f->fd, f->buf + off, f->cap - off, (off_t)off)) > 0)
                off += (size_t)r;
            rd[s] += cpu_ns() - t0;
            if (sampler_read(&sm, (enum src_id)s) < 0)
                errs |= SRC_BIT(s);
            parse[s] += sm.src[s].parse_ns;
        }
        t0 = cpu_ns();
        ring_append(ring, &sm, SRC_ALL, errs, clock_ns(CLOCK_REALTIME), clock_ns(CLOCK_MONOTONIC));
        append += cpu_ns() - t0;
    }
    uint64_t rsum = 0, psum = 0;

    for (int s = 0; s < SRC_N; s++) {
        const char *n = src_name((enum src_id)s);
        printf("%s.%s.read_us %.1f\n%s.%s.parse_us %.2f\n%s.%s.unchanged_pct %.0f\n", label, n,
               rd[s] / 1e3 / iters, label, n, parse[s] / 1e3 / iters, label, n,
               100.0 * (double)(sm.src[s].unchanged - unchanged[s]) / iters);
        rsum += rd[s];
        psum += parse[s];
    }
    printf("%s.append_us %.1f\n", label, append / 1e3 / iters);
    /*
     * The same ratio from its parts: what the sample set adds to the reads
     * (every parse and the append, each timed alone), over the reads.  The
     * whole-set ratio below subtracts two reads of files whose cost swings
     * by tens of percent from one read to the next on a busy kernel; this
     * one does not.
     */
    printf("%s.overhead_us %.1f\n", label, (psum + append) / 1e3 / iters);
    printf("%s.overhead_ratio %.3f\n", label, 1.0 + (double)(psum + append) / (double)rsum);
}

static void mode_loop(const char *label, int iters, int runs)
{
    double *ratio = calloc((size_t)runs, sizeof(double));
    uint64_t *fl = calloc((size_t)runs, sizeof(uint64_t)), *fu = calloc((size_t)runs, sizeof(uint64_t));

    if (!ratio || !fl || !fu)
        abort();
    /* warm up both sides: buffers at size, the ring's entity table filled */
    for (int i = 0; i < 20; i++) {
        floor_read_all();
        full_sample();
    }
    for (int r = 0; r < runs; r++) {
        uint64_t t0, t1, t2;

        /* alternate which side goes first so neither always runs right after the other */
        if (r % 2 == 0) {
            t0 = cpu_ns();
            for (int i = 0; i < iters; i++)
                floor_read_all();
            t1 = cpu_ns();
            for (int i = 0; i < iters; i++)
                full_sample();
            t2 = cpu_ns();
            fl[r] = (t1 - t0) / (uint64_t)iters;
            fu[r] = (t2 - t1) / (uint64_t)iters;
        } else {
            t0 = cpu_ns();
            for (int i = 0; i < iters; i++)
                full_sample();
            t1 = cpu_ns();
            for (int i = 0; i < iters; i++)
                floor_read_all();
            t2 = cpu_ns();
            fu[r] = (t1 - t0) / (uint64_t)iters;
            fl[r] = (t2 - t1) / (uint64_t)iters;
        }
        ratio[r] = (double)fu[r] / (double)fl[r];
    }
    printf("%s.floor_us %.1f\n", label, median_u64(fl, (size_t)runs) / 1e3);
    printf("%s.full_us %.1f\n", label, median_u64(fu, (size_t)runs) / 1e3);
    printf("%s.ratio %.3f\n", label, median_dbl(ratio, (size_t)runs));
    printf("%s.ratio_min %.3f\n%s.ratio_max %.3f\n", label, ratio[0], label, ratio[runs - 1]);
    free(ratio);
    free(fl);
    free(fu);
}

/* One sample set per second, as the daemon does. */
static void mode_tick(const char *label, int seconds)
{
    uint64_t *fl = calloc((size_t)seconds, sizeof(uint64_t));
    uint64_t *fu = calloc((size_t)seconds, sizeof(uint64_t));
    double *ratio = calloc((size_t)seconds, sizeof(double));
    uint64_t next = clock_ns(CLOCK_MONOTONIC), sum_fl = 0, sum_fu = 0;
    size_t bytes = 0;

    struct ring_stats st0, st1;
    uint64_t unchanged0[SRC_N];

    if (!fl || !fu || !ratio)
        abort();
    floor_read_all();
    full_sample();
    /* the first record is a keyframe: the per-sample figure is measured from here */
    ring_stats(ring, &st0);
    memset(sum_parse, 0, sizeof(sum_parse));
    sum_append = 0;
    detail = true;
    for (int s = 0; s < SRC_N; s++)
        unchanged0[s] = sm.src[s].unchanged;
    for (int i = 0; i < seconds; i++) {
        struct timespec ts;
        uint64_t t0, t1, t2;

        next += 1000000000ull;
        ts.tv_sec = (time_t)(next / 1000000000ull);
        ts.tv_nsec = (long)(next % 1000000000ull);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        if (i % 2 == 0) {
            t0 = cpu_ns();
            floor_read_all();
            t1 = cpu_ns();
            full_sample();
            t2 = cpu_ns();
            fl[i] = t1 - t0;
            fu[i] = t2 - t1;
        } else {
            t0 = cpu_ns();
            full_sample();
            t1 = cpu_ns();
            floor_read_all();
            t2 = cpu_ns();
            fu[i] = t1 - t0;
            fl[i] = t2 - t1;
        }
        ratio[i] = (double)fu[i] / (double)fl[i];
        sum_fl += fl[i];
        sum_fu += fu[i];
        for (int s = 0; s < SRC_N; s++)
            bytes += floor_files[s].len;
    }
    detail = false;
    ring_stats(ring, &st1);
    printf("%s.bytes_per_set %zu\n", label, bytes / (size_t)seconds);
    for (int s = 0; s < SRC_N; s++) {
        const char *n = src_name((enum src_id)s);
        printf("%s.%s.parse_us %.2f\n%s.%s.unchanged_pct %.0f\n", label, n,
               sum_parse[s] / 1e3 / seconds, label, n,
               100.0 * (double)(sm.src[s].unchanged - unchanged0[s]) / seconds);
    }
    printf("%s.append_us %.1f\n", label, sum_append / 1e3 / seconds);
    {
        uint64_t ps = sum_append;
        for (int s = 0; s < SRC_N; s++)
            ps += sum_parse[s];
        /* the parts (see breakdown()) over the median floor */
        printf("%s.overhead_us %.1f\n", label, ps / 1e3 / seconds);
        printf("%s.overhead_ratio %.3f\n", label,
               1.0 + (double)ps / seconds / (double)median_u64(fl, (size_t)seconds));
    }
    printf("%s.slab_incr_fallbacks %llu/%llu\n%s.vmalloc_incr_fallbacks %llu/%llu\n", label,
           (unsigned long long)sm.slab.incr_fallbacks, (unsigned long long)sm.slab.incr_parses,
           label, (unsigned long long)sm.vmalloc.incr_fallbacks,
           (unsigned long long)sm.vmalloc.incr_parses);
    /*
     * Ring bytes per sample: the delta records after the first keyframe, and
     * with the keyframe spread over the records it covers (one every 3600
     * records at most, docs/FORMAT.md).
     */
    if (st1.full_records > st0.full_records) {
        double delta = (double)(st1.full_bytes_used - st0.full_bytes_used) /
                       (double)(st1.full_records - st0.full_records);
        printf("%s.ring_keyframe_bytes %llu\n", label, (unsigned long long)st0.full_bytes_used);
        printf("%s.ring_delta_bytes_per_sample %.1f\n", label, delta);
        printf("%s.ring_bytes_per_sample %.1f\n", label,
               delta + (double)st0.full_bytes_used / 3600.0);
        printf("%s.ring_keyframes %llu\n", label,
               (unsigned long long)(st1.full_keyframes - st0.full_keyframes));
    }
    printf("%s.floor_us %.1f\n", label, median_u64(fl, (size_t)seconds) / 1e3);
    printf("%s.full_us %.1f\n", label, median_u64(fu, (size_t)seconds) / 1e3);
    printf("%s.ratio %.3f\n", label, median_dbl(ratio, (size_t)seconds));
    printf("%s.ratio_of_sums %.3f\n", label, (double)sum_fu / (double)sum_fl);
    free(fl);
    free(fu);
    free(ratio);
}

/*
 * ring_append alone (to profile the store):
 *   append_only_us        the last sample set appended again and again, with
 *                         no read in between: every row is compared;
 *   append_after_read_us  each append after a read of every source (the read
 *                         not timed), as in the daemon: a source read again
 *                         to the same bytes is not compared at all (on
 *                         --proc-root of a fixture, every source every time).
 */
static void append_only(const char *label, int iters)
{
    uint64_t t0 = cpu_ns(), wall = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
    uint64_t spent = 0, unchanged0 = 0, unchanged1 = 0;

    for (int i = 0; i < iters; i++)
        ring_append(ring, &sm, SRC_ALL, 0, wall + (uint64_t)i * 1000000000ull,
                    mono + (uint64_t)i * 1000000000ull);
    printf("%s.append_only_us %.2f\n", label, (cpu_ns() - t0) / 1e3 / iters);
    for (int s = 0; s < SRC_N; s++)
        unchanged0 += sm.src[s].unchanged;
    wall += (uint64_t)iters * 1000000000ull;
    mono += (uint64_t)iters * 1000000000ull;
    for (int i = 0; i < iters; i++) {
        unsigned errs = sampler_read_all(&sm) ? SRC_ALL & ~sm.valid : 0;
        t0 = cpu_ns();
        ring_append(ring, &sm, SRC_ALL, errs, wall + (uint64_t)i * 1000000000ull,
                    mono + (uint64_t)i * 1000000000ull);
        spent += cpu_ns() - t0;
    }
    for (int s = 0; s < SRC_N; s++)
        unchanged1 += sm.src[s].unchanged;
    printf("%s.append_after_read_us %.2f\n", label, spent / 1e3 / iters);
    printf("%s.append_after_read_unchanged %.2f\n", label,
           (double)(unchanged1 - unchanged0) / ((double)iters * SRC_N));
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: bench_sample [--proc-root DIR] [--label L] [--iters N] [--runs R]\n"
               "                    [--tick-seconds S] [--breakdown N]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "proc-root", required_argument, NULL, 'p' }, { "label", required_argument, NULL, 'l' },
        { "iters", required_argument, NULL, 'n' },     { "runs", required_argument, NULL, 'r' },
        { "tick-seconds", required_argument, NULL, 't' },
        { "breakdown", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
        { "append-only", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    const char *proc_root = "/proc", *label = "sample";
    int iters = 200, runs = 9, tick = 0, bd = 0, append_n = 0, c;
    char dir[] = "/tmp/kmw-bench-XXXXXX", path[64], note[512];
    long ps = sysconf(_SC_PAGESIZE);

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            proc_root = optarg;
            break;
        case 'l':
            label = optarg;
            break;
        case 'n':
            iters = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 't':
            tick = atoi(optarg);
            break;
        case 'b':
            bd = atoi(optarg);
            break;
        case 'a':
            append_n = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (iters < 1 || runs < 1) {
        usage(stderr);
        return 2;
    }
    if (floor_open(proc_root) < 0)
        return 1;
    if (sampler_init(&sm, proc_root, SRC_ALL, ps > 0 ? (uint64_t)ps : 4096) != SRC_N) {
        for (int s = 0; s < SRC_N; s++)
            if (sm.src[s].err)
                fprintf(stderr, "bench_sample: %s\n", sm.src[s].errmsg);
        return 1;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/ring.kmw", dir);
    if (ring_open(&ring, path, NULL, note, sizeof(note)) < 0) {
        fprintf(stderr, "bench_sample: cannot open a ring in %s\n", dir);
        return 1;
    }
    if (bd > 0)
        breakdown(label, bd);
    if (append_n > 0) {
        full_sample();
        append_only(label, append_n);
        goto out;
    }
    if (tick > 0)
        mode_tick(label, tick);
    else
        mode_loop(label, iters, runs);
out:
    if (sample_errors)
        fprintf(stderr, "bench_sample: %u sample sets had a failing source\n", sample_errors);
    ring_close(ring);
    unlink(path);
    rmdir(dir);
    sampler_fini(&sm);
    return sample_errors ? 1 : 0;
}
