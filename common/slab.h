/*
 * slab: parser for /proc/slabinfo (SLUB and SLAB, format 2.0, 2.1 and
 * "2.1 (statistics)").
 *
 * Accepted header first lines: "slabinfo - version: 2.0", "... 2.1",
 * "... 2.1 (statistics)"; anything else is an error.  The second line is the
 * "# name ..." column header.  Each row is
 *
 *   name active_objs num_objs objsize objperslab pagesperslab
 *     : tunables limit batchcount sharedfactor
 *     : slabdata active_slabs num_slabs sharedavail
 *     [: globalstat ... : cpustat ...]          (statistics format; ignored)
 *
 * Duplicate names are kept as separate rows; the n-th occurrence (n >= 2) of a
 * name is renamed "name#n" here, so every consumer (JSON, history, metrics)
 * sees the same distinct names.
 */
#ifndef KMW_SLAB_H
#define KMW_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SLAB_NAME_MAX 128

struct slab_cache {
    char name[SLAB_NAME_MAX];
    uint64_t active_objs;
    uint64_t num_objs;
    uint64_t objsize;
    uint64_t objperslab;
    uint64_t pagesperslab;
    uint64_t limit;
    uint64_t batchcount;
    uint64_t sharedfactor;
    uint64_t active_slabs;
    uint64_t num_slabs;
    uint64_t sharedavail;
    /* derived */
    uint64_t bytes_total;   /* num_slabs * pagesperslab * page_size */
    uint64_t bytes_active;  /* active_objs * objsize */
};

/* Private to slab.c: the duplicate-name hash set. */
struct slab_name_slot;

struct slab_info {
    unsigned version_major;
    unsigned version_minor;
    int statistics;         /* "2.1 (statistics)" */
    size_t n;
    size_t cap;
    struct slab_cache *caches; /* file order */
    /* private: name set used to rename duplicates, kept between parses */
    struct slab_name_slot *name_slots;
    size_t name_nslots;     /* 0 or a power of two */
    /* private: for slab_parse_incr, where each row's line starts in the parsed buffer */
    size_t *row_off;
    size_t row_off_cap;
    size_t hdr_len;         /* the two header lines */
    size_t incr_n;          /* n as the last parse left it; 0 = no incremental base */
    uint64_t incr_page;     /* page_size of that parse */
    uint64_t incr_chk;      /* checksum of the rows' counts as the last parse left them */
    uint64_t incr_parses, incr_fallbacks; /* statistics for benchmarks and tests */
    size_t fast_rows;       /* rows of the last plain parse that took the fast path (ditto) */
};

void slab_info_init(struct slab_info *si);
void slab_info_free(struct slab_info *si);

/*
 * Parse buf[0..len) into si (previous contents replaced; storage reused).
 * page_size is used for bytes_total.  Returns 0, -EINVAL with err set, or
 * -ENOMEM.  On failure si->n is 0: a half-parsed table is never exposed.
 * Rows exactly as the kernel prints them (its column widths, every number
 * within them) take a fast path, counted in si->fast_rows; every other row
 * goes through the general row parser, which decides what it means.
 */
int slab_parse(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
               struct perr *err);

/*
 * slab_parse without its fast path: every row through the general row
 * parser.  The same result, code and message on every input, only slower;
 * the tests and fuzzers hold slab_parse to it.
 */
int slab_parse_general(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
                       struct perr *err);

/*
 * The same result as slab_parse(buf), computed from the previous sample: si
 * must hold the result of a successful parse of exactly prev with the same
 * page_size (the sampler keeps both).  Only rows whose line differs from
 * prev are parsed again.  When the caches are not the same ones in the same
 * order (a cache created or destroyed), on any error, or when si was not
 * left by a parse, it is slab_parse(buf).  *same_names is set when the
 * result has exactly the names, in the same order, that si had before, so
 * that tables derived from the names (kmalloc_refresh) need no rebuild.
 */
int slab_parse_incr(const char *prev, size_t prev_len, const char *buf, size_t len,
                    uint64_t page_size, struct slab_info *si, bool *same_names, struct perr *err);

/* Index of a cache by (possibly "#n"-suffixed) name, or -1. */
long slab_find(const struct slab_info *si, const char *name);

#endif
