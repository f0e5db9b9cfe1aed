#include "kmalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const variant_names[KMALLOC_NVARIANTS] = {
    [KMALLOC_NORMAL] = "normal",
    [KMALLOC_CG] = "cg",
    [KMALLOC_RCL] = "rcl",
    [KMALLOC_DMA] = "dma",
    [KMALLOC_RND] = "rnd",
};

const char *kmalloc_variant_name(enum kmalloc_variant v)
{
    /* never NULL: callers hand the result straight to printf and JSON */
    if ((unsigned)v >= KMALLOC_NVARIANTS)
        return "unknown";
    return variant_names[v];
}

int kmalloc_variant_parse(const char *s)
{
    if (!s)
        return -1;
    for (int v = 0; v < KMALLOC_NVARIANTS; v++)
        if (strcmp(s, variant_names[v]) == 0)
            return v;
    return -1;
}

/*
 * If s starts with prefix, the rest of s; else NULL.  Inline and byte-wise
 * on purpose: kmalloc_build classifies every cache every second, and the
 * library strncmp calls were most of its time.
 */
static inline const char *after_prefix(const char *s, const char *prefix)
{
    while (*prefix) {
        if (*s != *prefix)
            return NULL;
        s++;
        prefix++;
    }
    return s;
}

/*
 * The size part of a kmalloc name: decimal bytes, optionally with a 'k' or 'M'
 * suffix, and nothing after.  Leading zeros and zero are refused: the kernel
 * never writes them, and accepting them would let two spellings of one size
 * ("64", "064") look like distinct caches of the same class.
 */
static bool parse_kmalloc_size(const char *s, uint64_t *size)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '1' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return false;
    }
    if (*p == 'k') {
        if (__builtin_mul_overflow(v, 1024, &v))
            return false;
        p++;
    } else if (*p == 'M') {
        if (__builtin_mul_overflow(v, 1024 * 1024, &v))
            return false;
        p++;
    }
    if (*p != '\0')
        return false;
    *size = v;
    return true;
}

/*
 * For "NN-N" (what follows "kmalloc-rnd-"), the "N" part, or NULL.  NN is the
 * copy number (CONFIG_RANDOM_KMALLOC_CACHES, "01".."15").
 */
static const char *rnd_size_part(const char *p)
{
    if (*p < '0' || *p > '9')
        return NULL;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '-' ? p + 1 : NULL;
}

bool kmalloc_classify(const char *name, uint64_t *size, enum kmalloc_variant *variant)
{
    enum kmalloc_variant v = KMALLOC_NORMAL;
    const char *n;
    uint64_t sz;

    if (!name)
        return false;
    switch (name[0]) {
    case 'k':
        if (!(n = after_prefix(name, "kmalloc-")))
            return false;
        /* the variant infixes; a size never starts with a letter, so no ambiguity */
        if (n[0] == 'c' && n[1] == 'g' && n[2] == '-') {
            v = KMALLOC_CG;
            n += 3;
        } else if (n[0] == 'r' && n[1] == 'c' && n[2] == 'l' && n[3] == '-') {
            v = KMALLOC_RCL;
            n += 4;
        } else if (n[0] == 'r' && n[1] == 'n' && n[2] == 'd' && n[3] == '-') {
            v = KMALLOC_RND;
            if (!(n = rnd_size_part(n + 4)))
                return false;
        }
        break;
    case 'd':
        if (!(n = after_prefix(name, "dma-kmalloc-")))
            return false;
        v = KMALLOC_DMA;
        break;
    case 's':
        if (!(n = after_prefix(name, "size-")))
            return false;
        break;
    default:
        return false;
    }
    if (!parse_kmalloc_size(n, &sz))
        return false;
    if (size)
        *size = sz;
    if (variant)
        *variant = v;
    return true;
}

void kmalloc_table_init(struct kmalloc_table *kt)
{
    memset(kt, 0, sizeof(*kt));
}

void kmalloc_table_free(struct kmalloc_table *kt)
{
    free(kt->rows);
    free(kt->src);
    kmalloc_table_init(kt);
}

/* size, then variant, then cache name so that the order never depends on qsort */
static int row_cmp(const void *a, const void *b)
{
    const struct kmalloc_row *x = a, *y = b;

    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    if (x->variant != y->variant)
        return x->variant < y->variant ? -1 : 1;
    return strcmp(x->cache, y->cache);
}

/* One slab cache that adds into one table row. */
struct kmalloc_src {
    uint32_t cache;
    uint32_t row;
};

/*
 * Remember, for kmalloc_refresh, which cache went into which row: each
 * class cache is found again in the finished table (sorted by size and
 * variant; a non-rnd row by its cache name, the rnd copies all in their one
 * summed row).  Once per build, that is once per change of the cache list.
 */
static int map_sources(const struct slab_info *si, struct kmalloc_table *kt)
{
    kt->src_n = 0;
    kt->src_caches = 0;
    for (size_t i = 0; i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        enum kmalloc_variant v;
        uint64_t size;
        size_t lo = 0, hi = kt->n;

        if (!kmalloc_classify(c->name, &size, &v))
            continue;
        /* first row of (size, variant) */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const struct kmalloc_row *r = &kt->rows[mid];
            if (r->size < size || (r->size == size && r->variant < v))
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < kt->n && kt->rows[lo].size == size && kt->rows[lo].variant == v; lo++)
            if (v == KMALLOC_RND || strcmp(kt->rows[lo].cache, c->name) == 0)
                break;
        if (lo >= kt->n || kt->rows[lo].size != size || kt->rows[lo].variant != v ||
            i > UINT32_MAX || lo > UINT32_MAX)
            return 0; /* not found (cannot happen): no map, refresh will build */
        /*
         * Two caches of one name (never in a kernel's slabinfo, possible in a damaged ring
         * file) are two rows in an order qsort leaves open: no map, refresh will build.
         */
        if (v != KMALLOC_RND && lo + 1 < kt->n && kt->rows[lo + 1].size == size &&
            kt->rows[lo + 1].variant == v && strcmp(kt->rows[lo + 1].cache, c->name) == 0)
            return 0;
        if (array_reserve((void **)&kt->src, &kt->src_cap, kt->src_n + 1, sizeof(*kt->src)) < 0)
            return -ENOMEM;
        kt->src[kt->src_n].cache = (uint32_t)i;
        kt->src[kt->src_n].row = (uint32_t)lo;
        kt->src_n++;
    }
    kt->src_caches = si->n;
    return 0;
}

int kmalloc_refresh(const struct slab_info *si, struct kmalloc_table *kt)
{
    if (!kt->src_caches || kt->src_caches != si->n)
        return kmalloc_build(si, kt);
    for (size_t i = 0; i < kt->n; i++) {
        struct kmalloc_row *r = &kt->rows[i];
        r->objsize = r->active_objs = r->num_objs = r->bytes_total = r->bytes_active = 0;
    }
    for (size_t k = 0; k < kt->src_n; k++) {
        const struct slab_cache *c = &si->caches[kt->src[k].cache];
        struct kmalloc_row *r = &kt->rows[kt->src[k].row];

        if (c->objsize > r->objsize)
            r->objsize = c->objsize;
        r->active_objs = add_sat(r->active_objs, c->active_objs);
        r->num_objs = add_sat(r->num_objs, c->num_objs);
        r->bytes_total = add_sat(r->bytes_total, c->bytes_total);
        r->bytes_active = add_sat(r->bytes_active, c->bytes_active);
    }
    return 0;
}

int kmalloc_build(const struct slab_info *si, struct kmalloc_table *kt)
{
    size_t n = 0, out;

    kt->n = 0;
    kt->src_caches = 0;
    if (si->n && array_reserve((void **)&kt->rows, &kt->cap, si->n, sizeof(*kt->rows)) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        struct kmalloc_row *r = &kt->rows[n];

        if (!kmalloc_classify(c->name, &r->size, &r->variant))
            continue;
        /* strlen < SLAB_NAME_MAX: slab_parse guarantees it */
        memcpy(r->cache, c->name, strlen(c->name) + 1);
        r->objsize = c->objsize;
        r->active_objs = c->active_objs;
        r->num_objs = c->num_objs;
        r->bytes_total = c->bytes_total;
        r->bytes_active = c->bytes_active;
        n++;
    }
    /*
     * Sorting first makes the rnd copies of one size adjacent, so summing
     * them is a single merge pass instead of a search per row.
     */
    if (n > 1)
        qsort(kt->rows, n, sizeof(*kt->rows), row_cmp);
    out = 0;
    for (size_t i = 0; i < n; i++) {
        struct kmalloc_row *r = &kt->rows[i];

        if (r->variant == KMALLOC_RND) {
            struct kmalloc_row *prev = out ? &kt->rows[out - 1] : NULL;
            if (prev && prev->variant == KMALLOC_RND && prev->size == r->size) {
                if (r->objsize > prev->objsize)
                    prev->objsize = r->objsize;
                prev->active_objs = add_sat(prev->active_objs, r->active_objs);
                prev->num_objs = add_sat(prev->num_objs, r->num_objs);
                prev->bytes_total = add_sat(prev->bytes_total, r->bytes_total);
                prev->bytes_active = add_sat(prev->bytes_active, r->bytes_active);
                continue;
            }
            /*
             * "kmalloc-rnd-07-1k" -> "kmalloc-rnd-*-1k", keeping the size
             * as the kernel spelled it.  Shorter than the source, so it fits.
             */
            const char *sp = rnd_size_part(r->cache + 12); /* after "kmalloc-rnd-" */
            char tmp[SLAB_NAME_MAX];
            size_t sl = sp ? strlen(sp) : 0;
            memcpy(tmp, "kmalloc-rnd-*-", 14);
            if (sp)
                memcpy(tmp + 14, sp, sl);
            tmp[14 + sl] = '\0';
            memcpy(r->cache, tmp, 14 + sl + 1);
        }
        if (out != i)
            kt->rows[out] = *r;
        out++;
    }
    kt->n = out;
    return map_sources(si, kt);
}
