/*
 * sampler: the four /proc sources, opened once, read and parsed on demand.
 *
 * Used by kmemctl (one shot), kmemtop (direct mode) and kmemwatchd (every
 * interval).  Each source keeps its own error so that one bad file never
 * stops the others: a source that cannot be opened stays closed and reports
 * why; a source that fails to parse is marked invalid until the next good read.
 */
#ifndef KMW_SAMPLER_H
#define KMW_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "buddy.h"
#include "kmalloc.h"
#include "meminfo.h"
#include "procfile.h"
#include "slab.h"
#include "vmalloc.h"

enum src_id {
    SRC_SLABINFO,
    SRC_VMALLOCINFO,
    SRC_BUDDYINFO,
    SRC_MEMINFO,
    SRC_N
};

#define SRC_BIT(s) (1u << (s))
#define SRC_ALL ((1u << SRC_N) - 1)

/* "slabinfo", "vmallocinfo", "buddyinfo", "meminfo" */
const char *src_name(enum src_id s);
/* Inverse of src_name; -1 if unknown. */
int src_parse(const char *name);

struct source {
    struct procfile pf;
    int err;              /* 0, or negative errno of the last open/read/parse */
    bool parsed;          /* the parsed struct is the parse of pf.buf: the base of the next read */
    uint64_t unchanged;   /* reads whose bytes were those of the read before (nothing parsed) */
    /*
     * Bumped by every read whose parsed data may differ from the read
     * before (bytes changed, a plain parse, a failure).  Equal gen, equal
     * data: a consumer such as the ring can skip comparing the rows.
     */
    uint64_t gen;
    char errmsg[4400];    /* "<path>: <reason>" or "<path>:<line>: <reason>" */
    uint64_t read_ns;     /* CPU-independent wall duration of the last read+parse */
    uint64_t parse_ns;    /* of which the parse (with the kmalloc table), for benchmarks */
    uint64_t reads;       /* successful reads */
    uint64_t failures;    /* failed reads */
};

/*
 * Private to ring_state_to_sampler (common/ring.c): the ring record the
 * tables were last filled from and where each entity slot's row is, so that
 * the record after it only rewrites the rows it changed.  Zeroed by
 * sampler_init and ring_sampler_init (state_id 0 matches no record), cleared
 * by sampler_read (the tables are then a parse, not a ring state), freed by
 * sampler_fini.
 */
struct sampler_ring_fill {
    uint64_t state_id;      /* the ring state's unique id (never reused); 0 = none */
    uint64_t seq, gen;      /* the record's sequence number and its state's generation */
    int tier;
    uint32_t page_size;
    uint32_t *row;          /* [nrow] per slot: index in its kind's table, UINT32_MAX = none */
    size_t nrow, row_cap;
    uint8_t *zone_orders;   /* [buddy.n] orders of each zone (buddy.orders is their maximum) */
    size_t zone_cap;
    uint64_t updates, rebuilds; /* calls that updated in place, that rebuilt (tests, benchmarks) */
};

struct sampler {
    char proc_root[3800];  /* kept to retry sources that could not be opened */
    uint64_t page_size;
    unsigned wanted;      /* SRC_BIT mask of sources in use */
    unsigned valid;       /* SRC_BIT mask whose latest read parsed */
    struct source src[SRC_N];
    struct slab_info slab;
    struct kmalloc_table kmalloc;  /* derived from slab on every slab read */
    struct vmalloc_info vmalloc;
    struct buddy_info buddy;
    struct meminfo meminfo;
    struct sampler_ring_fill ring_fill; /* private: see above */
};

/*
 * Open the wanted sources under proc_root.  Never fails as a whole: a source
 * that cannot be opened has src[s].err set.  Returns the number of sources
 * that opened.
 */
int sampler_init(struct sampler *sm, const char *proc_root, unsigned wanted, uint64_t page_size);

/*
 * Read and parse one source.  0 or negative errno; errmsg says why.  A
 * source that is not open is opened first (a file that appears later, a
 * module loaded after start), so a failed open is retried at every read.
 *
 * Parsing is incremental: the bytes of the last read are kept, a read that
 * returns the same bytes parses nothing, and slabinfo and vmallocinfo parse
 * only the lines that differ (slab_parse_incr, vmalloc_parse_incr).  The
 * result is always exactly that of parsing the whole file.  So the parsed
 * structs belong to the sampler: read them, never write into them (a
 * caller that fills them from elsewhere must sampler_init again).
 */
int sampler_read(struct sampler *sm, enum src_id s);

/* Read every wanted source; returns the number that failed. */
int sampler_read_all(struct sampler *sm);

void sampler_fini(struct sampler *sm);

static inline bool sampler_valid(const struct sampler *sm, enum src_id s)
{
    return (sm->valid >> s) & 1u;
}

#endif
