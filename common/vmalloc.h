/*
 * vmalloc: parser and aggregator for /proc/vmallocinfo.
 *
 * Line forms (mm/vmalloc.c, vmalloc_info_show):
 *   ADDR-ADDR SIZE [CALLER [\[MODULE\]]] [pages=N] [phys=ADDR] [ioremap] [sparse]
 *       [vmalloc] [vmap] [user] [dma-coherent] [vpages] [N<n>=pages ...]
 *   ADDR-ADDR SIZE vm_map_ram
 *   ADDR-ADDR SIZE unpurged vm_area
 * Areas are aggregated into rows keyed by (caller, module, type).  caller is
 * the symbol without "+off/len"; a bare hex address (no symbol) and vm_map_ram
 * areas have caller "unknown".  Addresses are never stored.
 * Unpurged (lazily freed) areas are counted apart, never as a caller.
 */
#ifndef KMW_VMALLOC_H
#define KMW_VMALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define VMALLOC_CALLER_MAX 128
#define VMALLOC_MODULE_MAX 64
#define VMALLOC_MAX_NODES 64

enum vmalloc_type {
    VMALLOC_T_VMALLOC,
    VMALLOC_T_VMAP,
    VMALLOC_T_IOREMAP,
    VMALLOC_T_VM_MAP_RAM,
    VMALLOC_T_SPARSE,
    VMALLOC_T_DMA_COHERENT,
    VMALLOC_T_OTHER, /* none of the kinds above was printed */
    VMALLOC_NTYPES
};

/* flags bits */
#define VMALLOC_F_USER   0x1u
#define VMALLOC_F_VPAGES 0x2u

const char *vmalloc_type_name(enum vmalloc_type t); /* "vmalloc", "dma-coherent", ... */

struct vmalloc_row {
    char caller[VMALLOC_CALLER_MAX];
    char module[VMALLOC_MODULE_MAX]; /* "" when not a module */
    enum vmalloc_type type;
    unsigned flags;                  /* union of the areas' flags */
    uint64_t areas;
    uint64_t bytes;                  /* sum of the size column (guard pages included) */
    uint64_t pages;                  /* sum of pages= */
    uint64_t nodes[VMALLOC_MAX_NODES]; /* per-node page sums (N<n>=) */
    uint64_t node_mask;              /* bit n set when N<n>= was seen */
};

/* Private to vmalloc.c: per-row bookkeeping of the incremental parser. */
struct vmalloc_row_aux;
struct vmalloc_anchor;

struct vmalloc_sum {
    uint64_t areas;
    uint64_t bytes;
    uint64_t pages;
};

struct vmalloc_info {
    size_t n;
    size_t cap;
    struct vmalloc_row *rows;        /* order of first appearance */
    struct vmalloc_sum types[VMALLOC_NTYPES];
    struct vmalloc_sum unpurged;     /* pages always 0 */
    struct vmalloc_sum total;        /* excludes unpurged */
    /* private: hash index over rows */
    size_t hcap;
    uint32_t *hash;
    /* private: what vmalloc_parse_incr needs (vmalloc.c) */
    struct vmalloc_row_aux *aux;     /* parallel to rows */
    size_t aux_cap;
    size_t aux_n;                    /* == n after a successful parse */
    int sat;                         /* a sum saturated: no subtraction possible */
    struct vmalloc_sum chk_total;    /* the sums as the last parse left them */
    struct vmalloc_sum chk_unpurged;
    struct vmalloc_anchor *anch;
    size_t anch_cap, anch_n;
    uint64_t incr_parses, incr_fallbacks; /* statistics for benchmarks and tests */
};

void vmalloc_info_init(struct vmalloc_info *vi);
void vmalloc_info_free(struct vmalloc_info *vi);

/*
 * Parse buf (storage reused).  0, -EINVAL with err, or -ENOMEM.  An empty
 * buffer is valid (no areas).  Words the parser does not know are ignored so
 * that a newer kernel's new flag does not stop sampling; a structurally broken
 * line (no address range, no size, a non-number where a number must be,
 * overflow, a NUL byte, no final newline) is an error.  Caller and module
 * names longer than their fields are cut, not rejected.  On error vi is left
 * with no rows and zero sums.  Error messages never quote the line's text.
 */
int vmalloc_parse(const char *buf, size_t len, struct vmalloc_info *vi, struct perr *err);

/*
 * The same result as vmalloc_parse(buf), computed from the previous sample:
 * vi must hold the result of a successful parse of exactly prev (the
 * sampler keeps both).  Only the lines that differ from prev are parsed:
 * a line that went away is parsed again from prev and its area subtracted
 * from its row, a new line is parsed and added.  Rows keep the order of
 * first appearance in buf and rows left with no area are dropped, exactly
 * as a plain parse would give.  Whenever that cannot be guaranteed cheaply
 * (a row lost its first line and kept others, a sum saturated, more than
 * about half the file changed, an error anywhere), it falls back to
 * vmalloc_parse(buf), so errors and messages are those of the plain parse.
 */
int vmalloc_parse_incr(const char *prev, size_t prev_len, const char *buf, size_t len,
                       struct vmalloc_info *vi, struct perr *err);

#endif
