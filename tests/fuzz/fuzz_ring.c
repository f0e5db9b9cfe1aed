/*
 * libFuzzer target for the ring file (common/ring.c, docs/FORMAT.md).
 *
 * Input: one flags byte, then the bytes of a ring file.  The bytes are
 * written to a file, which is then
 *   1. opened by a reader: tier info, spans, walks of both tiers (whole, and
 *      from a time taken from the input), every state turned back into
 *      parsed structs (into one sampler, updated in place from record to
 *      record, which must equal a rebuild from scratch), filtered walks
 *      (ring_reader_walk_only) that must deliver the same records with the
 *      same wanted entities as the full walk, and history queries;
 *   2. opened by a writer (recovery; a bad file must be moved aside and a new
 *      ring started: ring_open must not fail), appended to, closed;
 *   3. read again: what the writer left must be a valid ring.
 * Flags bit 0 "reseals" the input first: the header checksum and the CRC of
 * every record reachable from each tier's tail are recomputed, so mutated
 * record payloads reach the decoders instead of failing their CRC check.
 *
 * Seeds (tests/fuzz/corpus/ring/): a ring imported from three growth-trace
 * snapshots, with and without the reseal flag.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "history.h"
#include "ring.h"
#include "series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];
static struct sampler sm_append, sm_out;
static int ready;

static void remove_dir(void);

static void setup(void)
{
    static const char *const names[] = { "dentry", "kmalloc-64", "kmalloc-cg-1k" };
    void *arr = NULL;

    /* a RAM file system when there is one: the writer fsyncs */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    snprintf(dir, sizeof(dir), "%s/fuzz_ring.%ld", base, (long)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/ring", dir);
    ring_sampler_init(&sm_out);
    ring_sampler_init(&sm_append);
    sm_append.page_size = 4096;
    sm_append.valid = SRC_BIT(SRC_SLABINFO) | SRC_BIT(SRC_MEMINFO);
    if (array_reserve(&arr, &sm_append.slab.cap, 3, sizeof(struct slab_cache)) < 0)
        abort();
    sm_append.slab.caches = arr;
    sm_append.slab.n = 3;
    sm_append.slab.version_major = 2;
    sm_append.slab.version_minor = 1;
    for (int i = 0; i < 3; i++) {
        struct slab_cache *c = &sm_append.slab.caches[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", names[i]);
        c->active_objs = 100u + (unsigned)i;
        c->num_objs = 128;
        c->objsize = 64;
        c->objperslab = 64;
        c->pagesperslab = 1;
        c->num_slabs = c->active_slabs = 2;
    }
    sm_append.meminfo.present = 1u << MEMINFO_SUNRECLAIM;
    sm_append.meminfo.value[MEMINFO_SUNRECLAIM] = 1 << 20;
    atexit(remove_dir);
    ready = 1;
}

static void cleanup(void);

static void remove_dir(void)
{
    cleanup();
    rmdir(dir);
}

static void cleanup(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[400];

    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (unlink(p) < 0)
            rmdir(p);
    }
    if (d)
        closedir(d);
}

static uint64_t rd64(const uint8_t *b, size_t n, size_t off)
{
    uint64_t v = 0;
    if (off + 8 <= n)
        memcpy(&v, b + off, 8);
    return v;
}

/* Recompute the header checksum and the CRCs along each tier's chain of records. */
static void reseal(uint8_t *b, size_t n)
{
    uint32_t c;

    if (n < 96)
        return;
    c = crc32c(0, b, 84);
    memcpy(b + 84, &c, 4);
    for (int t = 0; t < 2; t++) {
        uint64_t off = rd64(b, n, 40 + 8 * (size_t)t), sz = rd64(b, n, 56 + 8 * (size_t)t);
        uint64_t pos = rd64(b, n, 96 + 128 * (size_t)t), walked = 0;

        if (off > n || sz > n - off || sz < 64 || pos >= sz)
            continue;
        pos &= ~(uint64_t)3;
        for (int k = 0; k < 4096 && walked <= sz; k++) {
            uint8_t *h;
            uint32_t len, seq;
            uint32_t pre[2];

            if (sz - pos < 12)
                pos = 0;
            h = b + off + pos;
            memcpy(&len, h, 4);
            if (len == 0xffffffffu) {
                if (pos == 0)
                    break;
                walked += sz - pos;
                pos = 0;
                continue;
            }
            if (len == 0 || len > sz - pos - 12)
                break;
            memcpy(&seq, h + 8, 4);
            pre[0] = len;
            pre[1] = seq;
            c = crc32c(crc32c(0, pre, 8), h + 12, len);
            memcpy(h + 4, &c, 4);
            walked += (12 + len + 3) & ~3u;
            pos = (pos + ((12 + len + 3) & ~3u)) % sz;
        }
    }
}

struct walk_ctx {
    uint64_t n;
};

/*
 * sm_out, filled record after record (updated in place when a record
 * follows the one before), has the tables of a rebuild from scratch.  Rows
 * are written whole from zero, so they compare as bytes; kmalloc rows by
 * field (their name buffers keep old bytes after the NUL).
 */
static void check_tables(const struct ring_state *st)
{
    struct sampler f;
    const struct sampler *o = &sm_out;
    bool same;

    ring_sampler_init(&f);
    if (ring_state_to_sampler(st, &f) < 0)
        abort();
    same = f.valid == o->valid && f.page_size == o->page_size && f.slab.n == o->slab.n &&
           f.slab.version_major == o->slab.version_major &&
           f.slab.version_minor == o->slab.version_minor &&
           f.slab.statistics == o->slab.statistics &&
           (!f.slab.n ||
            !memcmp(f.slab.caches, o->slab.caches, f.slab.n * sizeof(*f.slab.caches))) &&
           f.vmalloc.n == o->vmalloc.n &&
           (!f.vmalloc.n ||
            !memcmp(f.vmalloc.rows, o->vmalloc.rows, f.vmalloc.n * sizeof(*f.vmalloc.rows))) &&
           !memcmp(f.vmalloc.types, o->vmalloc.types, sizeof(f.vmalloc.types)) &&
           !memcmp(&f.vmalloc.total, &o->vmalloc.total, sizeof(f.vmalloc.total)) &&
           !memcmp(&f.vmalloc.unpurged, &o->vmalloc.unpurged, sizeof(f.vmalloc.unpurged)) &&
           f.buddy.n == o->buddy.n && f.buddy.orders == o->buddy.orders &&
           (!f.buddy.n ||
            !memcmp(f.buddy.zones, o->buddy.zones, f.buddy.n * sizeof(*f.buddy.zones))) &&
           f.meminfo.present == o->meminfo.present &&
           !memcmp(f.meminfo.value, o->meminfo.value, sizeof(f.meminfo.value)) &&
           f.kmalloc.n == o->kmalloc.n;
    for (size_t i = 0; same && i < f.kmalloc.n; i++) {
        const struct kmalloc_row *a = &f.kmalloc.rows[i], *b = &o->kmalloc.rows[i];
        same = a->size == b->size && a->variant == b->variant && !strcmp(a->cache, b->cache) &&
               a->objsize == b->objsize && a->active_objs == b->active_objs &&
               a->num_objs == b->num_objs && a->bytes_total == b->bytes_total &&
               a->bytes_active == b->bytes_active;
    }
    sampler_fini(&f);
    if (!same)
        abort();
}

static int walk_cb(const struct ring_state *st, void *arg)
{
    struct walk_ctx *x = arg;
    struct ring_entity e;
    size_t it = 0;

    if (st->src_mask > SRC_ALL || st->err_mask > SRC_ALL || st->have_mask > SRC_ALL)
        abort();
    while (ring_state_next(st, &it, &e)) {
        if (!series_key_valid(e.kind, e.key, e.keylen) || e.nfields != series_nfields(e.kind) ||
            !e.val || !e.min || !e.max)
            abort();
        for (unsigned f = 0; f < e.nfields; f++)
            if (!series_fm_has(e.fm, f) && e.val[f] != 0)
                abort();
    }
    /* every state of a small input, a sample of the states of a large one */
    if (x->n < 64 || x->n % 61 == 0) {
        if (ring_state_to_sampler(st, &sm_out) < 0)
            abort();
        if (sm_out.buddy.orders > BUDDY_MAX_ORDERS)
            abort();
        if (x->n < 64)
            check_tables(st);
    }
    return ++x->n > 3000; /* enough for one input */
}

/* The filtered walks' filter: the dentry cache and meminfo. */
static bool want_cb(int kind, const char *key, size_t keylen, void *arg)
{
    (void)arg;
    return kind == SK_MEMINFO || (kind == SK_SLAB && keylen == 6 && memcmp(key, "dentry", 6) == 0);
}

/* Per record: its seq and a digest of the wanted entities as one walk saw them. */
struct only_ctx {
    bool filtered;
    size_t n;
    uint64_t seq[512], digest[512];
};

static int only_cb(const struct ring_state *st, void *arg)
{
    struct only_ctx *x = arg;
    struct ring_entity e;
    uint64_t h = st->wall_ns ^ st->src_mask ^ (uint64_t)st->err_mask << 8;
    size_t it = 0;

    while (ring_state_next(st, &it, &e)) {
        bool w = want_cb(e.kind, e.key, e.keylen, NULL);
        if (x->filtered && !w)
            abort(); /* a filtered walk lists only what was asked for */
        if (!w)
            continue;
        h = (h ^ e.slot ^ e.fm[0] ^ e.fm[1]) * 1099511628211ull;
        for (unsigned f = 0; f < e.nfields; f++)
            h = (h ^ e.val[f] ^ e.min[f] ^ e.max[f]) * 1099511628211ull;
    }
    x->seq[x->n] = st->seq;
    x->digest[x->n] = h;
    return ++x->n == 512;
}

static void read_all(uint64_t from, bool must_open)
{
    static const char *const q[][3] = {
        { "slab", "dentry", "bytes_total" },     { "kmalloc", "total-64", "num_objs" },
        { "vmalloc", "total", "pages" },         { "buddy", "0:Normal", "unusable3" },
        { "meminfo", "-", "SUnreclaim" },
    };
    struct ring_reader *rd;
    struct history_points hp;
    char err[256];

    if (ring_reader_open_path(&rd, path, err, sizeof(err)) < 0) {
        if (must_open || !memchr(err, '\0', sizeof(err)) || err[0] == '\0')
            abort();
        return;
    }
    for (int t = 0; t < RING_NTIERS; t++) {
        struct walk_ctx x = { 0 };
        struct ring_tier_info ti;
        uint64_t o, nw;

        ring_reader_tier_info(rd, (enum ring_tier)t, &ti);
        ring_reader_span(rd, (enum ring_tier)t, &o, &nw);
        if (ring_reader_walk(rd, (enum ring_tier)t, 0, 0, walk_cb, &x) == -ENOMEM)
            abort();
        x.n = 0;
        (void)ring_reader_walk(rd, (enum ring_tier)t, from, from + 1000000000000ull, walk_cb, &x);
        {
            /* the same records, the same wanted entities, the same result */
            static struct only_ctx a, b;
            int ra, rb;

            memset(&a, 0, sizeof(a));
            memset(&b, 0, sizeof(b));
            b.filtered = true;
            ra = ring_reader_walk(rd, (enum ring_tier)t, 0, 0, only_cb, &a);
            rb = ring_reader_walk_only(rd, (enum ring_tier)t, 0, 0, want_cb, NULL, only_cb, &b);
            if (ra != rb || a.n != b.n || memcmp(a.seq, b.seq, a.n * sizeof(a.seq[0])) != 0 ||
                memcmp(a.digest, b.digest, a.n * sizeof(a.digest[0])) != 0)
                abort();
        }
    }
    memset(&hp, 0, sizeof(hp));
    /* each query walks the whole tier: two of them per input, chosen by the start time */
    for (size_t i = from % 5, k = 0; k < 2; i = (i + 2) % 5, k++) {
        uint64_t o, nw;
        ring_reader_span(rd, RING_FULL, &o, &nw);
        (void)history_query(rd, q[i][0], q[i][1], q[i][2], 86400, nw, &hp, err, sizeof(err));
        if (!memchr(err, '\0', sizeof(err)))
            abort();
    }
    history_points_free(&hp);
    ring_reader_close(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ring_config cfg = { 64 << 10, 64 << 10, 64 };
    uint8_t *buf;
    struct ring *r;
    char note[1024];
    uint64_t from = 0;
    int fd, ret;

    if (!ready)
        setup();
    if (size < 1)
        return 0;
    buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 1)
        reseal(buf, size - 1);
    if (size >= 9)
        memcpy(&from, data + 1, 8); /* any number will do as a start time */
    cleanup();
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0 || write(fd, buf, size - 1) != (ssize_t)(size - 1))
        abort();
    close(fd);
    free(buf);

    read_all(from, false);

    /* the writer: recovery never fails on bad contents */
    ret = ring_open(&r, path, &cfg, note, sizeof(note));
    if (ret < 0)
        abort();
    if (!memchr(note, '\0', sizeof(note)))
        abort();
    {
        struct ring_stats rs;
        ring_stats(r, &rs);
        ret = ring_append(r, &sm_append, SRC_BIT(SRC_SLABINFO) | SRC_BIT(SRC_MEMINFO), 0,
                          rs.full_newest_wall_ns + 1000000000u, 1);
        if (ret < 0 && ret != -EFBIG) {
            fprintf(stderr, "ring_append after recovery: %s\n", strerror(-ret));
            abort();
        }
    }
    ring_close(r);

    /* and what it left is a ring that reads back */
    read_all(0, true);
    cleanup();
    return 0;
}
