/*
 * bench_parse: nanoseconds per line of our parsers against the reference
 * parsers of refparse.h (sscanf per line, as procps slabtop does), on the
 * same buffers.
 *
 * Cases: the idle fixtures, the live /proc files, and for the incremental
 * parsers a pair of consecutive samples (the growth-trace fixture's first
 * two snapshots; two live reads one second apart), parsed alternately one
 * from the other as the sampler does every second.
 *
 * Output: "key value" lines for bench/run.sh:
 *   parse.<case>.<file>.lines, .ours_ns, .ref_ns, .ratio
 *   parse.<case>.slabinfo.fast_pct   (rows slab_parse took through its fast path)
 *   parse.<case>.<file>.incr_ns, .incr_ratio      (pairs only)
 * ns are per line, median of --runs blocks, thread CPU time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buddy.h"
#include "meminfo.h"
#include "refparse.h"
#include "slab.h"
#include "vmalloc.h"

enum kind { K_SLAB, K_VMALLOC, K_BUDDY, K_MEMINFO, K_N };
static const char *const kind_file[K_N] = { "slabinfo", "vmallocinfo", "buddyinfo", "meminfo" };

struct buf {
    char *p;
    size_t len;
};

static int runs = 7;
static uint64_t page_size = 4096;
static unsigned failures;

static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int read_file(const char *path, struct buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 1 << 16;
    ssize_t r;

    b->len = 0;
    b->p = NULL;
    if (fd < 0)
        return -errno;
    b->p = malloc(cap);
    for (;;) {
        if (!b->p)
            abort();
        r = read(fd, b->p + b->len, cap - b->len - 1);
        if (r <= 0)
            break;
        b->len += (size_t)r;
        if (cap - b->len < 4096) {
            cap *= 2;
            b->p = realloc(b->p, cap);
        }
    }
    close(fd);
    b->p[b->len] = '\0';
    return r < 0 ? -errno : 0;
}

static size_t count_lines(const struct buf *b)
{
    size_t n = 0;

    for (const char *p = b->p; (p = memchr(p, '\n', (size_t)(b->p + b->len - p))); p++)
        n++;
    return n;
}

/* State of our parsers and of the reference ones. */
static struct slab_info si;
static struct vmalloc_info vi;
static struct buddy_info bi;
static struct meminfo mi;
static struct ref_slab_info rsi;
static struct ref_vm_info rvi;
static struct ref_buddy_info rbi;
static struct ref_meminfo rmi;

static void ours(enum kind k, const struct buf *b)
{
    struct perr pe;
    int r = -1;

    switch (k) {
    case K_SLAB:
        r = slab_parse(b->p, b->len, page_size, &si, &pe);
        break;
    case K_VMALLOC:
        r = vmalloc_parse(b->p, b->len, &vi, &pe);
        break;
    case K_BUDDY:
        r = buddy_parse(b->p, b->len, &bi, &pe);
        break;
    case K_MEMINFO:
        r = meminfo_parse(b->p, b->len, &mi, &pe);
        break;
    case K_N:
        break;
    }
    if (r < 0)
        failures++;
}

static void ref(enum kind k, const struct buf *b)
{
    int r = -1;

    switch (k) {
    case K_SLAB:
        r = ref_slab_parse(b->p, b->len, (unsigned long)page_size, &rsi);
        break;
    case K_VMALLOC:
        r = ref_vmalloc_parse(b->p, b->len, &rvi);
        break;
    case K_BUDDY:
        r = ref_buddy_parse(b->p, b->len, &rbi);
        break;
    case K_MEMINFO:
        r = ref_meminfo_parse(b->p, b->len, &rmi);
        break;
    case K_N:
        break;
    }
    if (r < 0)
        failures++;
}

/* The incremental parse of cur given prev (state holds the parse of prev). */
static void ours_incr(enum kind k, const struct buf *prev, const struct buf *cur)
{
    struct perr pe;
    bool same = false;
    int r = -1;

    switch (k) {
    case K_SLAB:
        r = slab_parse_incr(prev->p, prev->len, cur->p, cur->len, page_size, &si, &same, &pe);
        break;
    case K_VMALLOC:
        r = vmalloc_parse_incr(prev->p, prev->len, cur->p, cur->len, &vi, &pe);
        break;
    default:
        break;
    }
    if (r < 0)
        failures++;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Repetitions that make a block take about 20 ms of CPU. */
static int reps_for(uint64_t one_ns)
{
    uint64_t r = one_ns ? 20000000u / one_ns : 1000;
    return r < 3 ? 3 : r > 100000 ? 100000 : (int)r;
}

/* Cross-check that both sides read the same figures, so that the timing compares equal work. */
static void cross_check(const char *name, enum kind k)
{
    bool ok = true;

    if (k == K_SLAB) {
        uint64_t t = 0;
        for (size_t i = 0; i < si.n; i++)
            t += si.caches[i].num_objs;
        ok = si.n == rsi.n && t == rsi.total_objs;
    } else if (k == K_VMALLOC) {
        ok = vi.total.bytes == rvi.total_bytes && vi.unpurged.areas == rvi.unpurged_areas;
    } else if (k == K_BUDDY) {
        ok = bi.n == rbi.n && (!bi.n || bi.zones[0].free_pages == rbi.z[0].free_pages);
    } else if (k == K_MEMINFO) {
        ok = mi.value[MEMINFO_SLAB] == rmi.v[3];
    }
    if (!ok) {
        fprintf(stderr, "bench_parse: %s: the reference parser disagrees with ours\n", name);
        failures++;
    }
}

static void bench_case(const char *label, enum kind k, const struct buf *a, const struct buf *b)
{
    double o[64], f[64], inc[64];
    size_t lines = count_lines(a);
    uint64_t t0;
    int reps_o, reps_f;

    if (!lines)
        return;
    /* calibrate, warm up, and check the results agree */
    t0 = cpu_ns();
    ours(k, a);
    reps_o = reps_for(cpu_ns() - t0);
    t0 = cpu_ns();
    ref(k, a);
    reps_f = reps_for(cpu_ns() - t0);
    cross_check(label, k);
    for (int r = 0; r < runs; r++) {
        t0 = cpu_ns();
        for (int i = 0; i < reps_o; i++)
            ours(k, a);
        o[r] = (double)(cpu_ns() - t0) / reps_o / (double)lines;
        t0 = cpu_ns();
        for (int i = 0; i < reps_f; i++)
            ref(k, a);
        f[r] = (double)(cpu_ns() - t0) / reps_f / (double)lines;
    }
    printf("parse.%s.%s.lines %zu\n", label, kind_file[k], lines);
    printf("parse.%s.%s.ours_ns %.1f\n", label, kind_file[k], median(o, runs));
    printf("parse.%s.%s.ref_ns %.1f\n", label, kind_file[k], median(f, runs));
    printf("parse.%s.%s.ratio %.1f\n", label, kind_file[k], median(f, runs) / median(o, runs));
    if (k == K_SLAB)
        printf("parse.%s.%s.fast_pct %.1f\n", label, kind_file[k],
               si.n ? 100.0 * (double)si.fast_rows / (double)si.n : 0.0);

    if (!b || (k != K_SLAB && k != K_VMALLOC))
        return;
    /* incremental: a -> b -> a -> ..., each step parsing only what differs from the last */
    ours(k, a);
    vi.incr_parses = vi.incr_fallbacks = 0;
    t0 = cpu_ns();
    ours_incr(k, a, b);
    ours_incr(k, b, a);
    reps_o = reps_for((cpu_ns() - t0) / 2) / 2 + 1;
    for (int r = 0; r < runs; r++) {
        t0 = cpu_ns();
        for (int i = 0; i < reps_o; i++) {
            ours_incr(k, a, b);
            ours_incr(k, b, a);
        }
        inc[r] = (double)(cpu_ns() - t0) / (2.0 * reps_o) / (double)lines;
    }
    printf("parse.%s.%s.incr_ns %.2f\n", label, kind_file[k], median(inc, runs));
    if (k == K_VMALLOC)
        printf("parse.%s.%s.incr_fallback_pct %.1f\n", label, kind_file[k],
               vi.incr_parses ? 100.0 * (double)vi.incr_fallbacks / (double)vi.incr_parses : 0.0);
    printf("parse.%s.%s.incr_ratio %.1f\n", label, kind_file[k], median(f, runs) / median(inc, runs));
}

static int load_dir(const char *dir, struct buf *out)
{
    for (int k = 0; k < K_N; k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, kind_file[k]);
        if (read_file(path, &out[k]) < 0) {
            fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "fixtures", required_argument, NULL, 'f' },
        { "runs", required_argument, NULL, 'r' },
        { "no-live", no_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 },
    };
    const char *fixtures = "tests/fixtures";
    bool live = true;
    struct buf idle[K_N], g0[K_N], g1[K_N], l0[K_N], l1[K_N];
    char path[4096];
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            fixtures = optarg;
            break;
        case 'r':
            runs = atoi(optarg);
            if (runs < 1 || runs > 64)
                runs = 7;
            break;
        case 'L':
            live = false;
            break;
        default:
            fprintf(stderr, "Usage: bench_parse [--fixtures DIR] [--runs N] [--no-live]\n");
            return 2;
        }
    }
    snprintf(path, sizeof(path), "%s/idle", fixtures);
    if (load_dir(path, idle) < 0)
        return 1;
    snprintf(path, sizeof(path), "%s/growth-trace/000", fixtures);
    if (load_dir(path, g0) < 0)
        return 1;
    snprintf(path, sizeof(path), "%s/growth-trace/001", fixtures);
    if (load_dir(path, g1) < 0)
        return 1;
    for (int k = 0; k < K_N; k++)
        bench_case("idle", (enum kind)k, &idle[k], NULL);
    for (int k = 0; k < K_N; k++)
        bench_case("trace", (enum kind)k, &g0[k], &g1[k]);
    if (live) {
        if (load_dir("/proc", l0) < 0)
            return 1;
        sleep(1);
        if (load_dir("/proc", l1) < 0)
            return 1;
        for (int k = 0; k < K_N; k++)
            bench_case("live", (enum kind)k, &l0[k], &l1[k]);
    }
    if (failures)
        fprintf(stderr, "bench_parse: %u parses failed\n", failures);
    return failures ? 1 : 0;
}
