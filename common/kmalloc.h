/*
 * kmalloc: which slab caches are kmalloc size classes.
 *
 * Names recognised (size always taken from the name, never from objsize,
 * which slub_debug inflates):
 *   kmalloc-N          normal     kmalloc-cg-N   cg
 *   kmalloc-rcl-N      rcl        dma-kmalloc-N  dma
 *   kmalloc-rnd-NN-N   rnd (CONFIG_RANDOM_KMALLOC_CACHES; all NN summed per size)
 *   size-N             normal (old SLAB names)
 * N is decimal bytes ("8", "192", "1024") or with a k/M suffix ("1k", "8k",
 * "2M").  Anything else, including "kmalloc_buckets", "kmalloc-cg-" with no
 * size, or "#2" duplicates, is not a class.
 */
#ifndef KMW_KMALLOC_H
#define KMW_KMALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slab.h"

enum kmalloc_variant {
    KMALLOC_NORMAL,
    KMALLOC_CG,
    KMALLOC_RCL,
    KMALLOC_DMA,
    KMALLOC_RND,
    KMALLOC_NVARIANTS
};

/* "normal", "cg", "rcl", "dma", "rnd" */
const char *kmalloc_variant_name(enum kmalloc_variant v);
/* Inverse of kmalloc_variant_name; -1 if unknown. */
int kmalloc_variant_parse(const char *s);

/* Is name a kmalloc cache?  If so fill size (bytes) and variant. */
bool kmalloc_classify(const char *name, uint64_t *size, enum kmalloc_variant *variant);

struct kmalloc_row {
    uint64_t size;
    enum kmalloc_variant variant;
    char cache[SLAB_NAME_MAX]; /* cache name; "kmalloc-rnd-*-N" for the summed rnd row */
    uint64_t objsize;          /* largest objsize among the summed caches */
    uint64_t active_objs;
    uint64_t num_objs;
    uint64_t bytes_total;
    uint64_t bytes_active;
};

/* Private to kmalloc.c: which slab row adds into which table row. */
struct kmalloc_src;

struct kmalloc_table {
    size_t n;
    size_t cap;
    struct kmalloc_row *rows; /* sorted by size, then variant */
    /* private: for kmalloc_refresh, as the last kmalloc_build left it */
    struct kmalloc_src *src;
    size_t src_n, src_cap;
    size_t src_caches;        /* si->n of that build */
};

void kmalloc_table_init(struct kmalloc_table *kt);
void kmalloc_table_free(struct kmalloc_table *kt);

/* Build the table from parsed slabinfo (storage reused).  0 or -ENOMEM. */
int kmalloc_build(const struct slab_info *si, struct kmalloc_table *kt);

/*
 * The same result as kmalloc_build(si, kt), for an si whose cache names and
 * their order are those of the last kmalloc_build into kt (only counts
 * changed: slab_parse_incr says so with same_names).  No classification
 * and no sort, only the sums again.  Falls back to kmalloc_build when kt was
 * not built from as many caches.  0 or -ENOMEM.
 */
int kmalloc_refresh(const struct slab_info *si, struct kmalloc_table *kt);

#endif
