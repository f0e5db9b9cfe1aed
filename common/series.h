/*
 * series: the data model of the history ring (docs/FORMAT.md, "Series").
 *
 * Everything the ring stores is an entity (a kind and a key) with a small
 * array of u64 fields:
 *
 *   kind           key                          fields (in stored order)
 *   SK_SLAB        cache name ("dentry", "x#2")  active_objs num_slabs active_slabs num_objs
 *                                                objsize objperslab pagesperslab limit
 *                                                batchcount sharedfactor sharedavail
 *   SK_VMALLOC     caller \0 module \0 'T'       areas bytes pages flags N0 .. N63
 *                  (T = '0' + enum vmalloc_type)
 *   SK_BUDDY       "<node>:<zone>" ("0:Normal")  free[0] .. free[orders-1]
 *   SK_MEMINFO     "meminfo"                     MemFree MemAvailable SUnreclaim SReclaimable
 *                                                Slab KReclaimable VmallocUsed Percpu
 *                                                MemTotal VmallocTotal (bytes)
 *   SK_SLABINFO    "slabinfo"                    version_major version_minor statistics
 *   SK_VMUNPURGED  "unpurged"                    areas bytes
 *
 * A series is one (entity, field).  Fields of SK_VMALLOC (the N<n> nodes),
 * SK_BUDDY (orders beyond the data's) and SK_MEMINFO (keys the kernel does not
 * print) can be absent individually; the other kinds always have every field
 * while the entity exists.  An entity that is not in the latest read of its
 * source is absent as a whole: absent is never stored as zero.
 *
 * Derived numbers (bytes_total, kmalloc classes, vmalloc per-type sums,
 * free_pages, the unusable index) are not series: they are recomputed from
 * these when a state is turned back into parsed structs.
 *
 * The field order is part of the on-disk format: it puts the fields that
 * change most first (small gaps) and lets a field be predicted from the ones
 * before it (series_predict).
 */
#ifndef KMW_SERIES_H
#define KMW_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampler.h"

enum series_kind {
    SK_NONE = 0, /* a free entity slot */
    SK_SLAB = 1,
    SK_VMALLOC = 2,
    SK_BUDDY = 3,
    SK_MEMINFO = 4,
    SK_SLABINFO = 5,
    SK_VMUNPURGED = 6,
    SK_NKINDS
};

enum {
    SF_SLAB_ACTIVE_OBJS,
    SF_SLAB_NUM_SLABS,
    SF_SLAB_ACTIVE_SLABS,
    SF_SLAB_NUM_OBJS,
    SF_SLAB_OBJSIZE,
    SF_SLAB_OBJPERSLAB,
    SF_SLAB_PAGESPERSLAB,
    SF_SLAB_LIMIT,
    SF_SLAB_BATCHCOUNT,
    SF_SLAB_SHAREDFACTOR,
    SF_SLAB_SHAREDAVAIL,
    SF_SLAB_N
};

enum {
    SF_VM_AREAS,
    SF_VM_BYTES,
    SF_VM_PAGES,
    SF_VM_FLAGS,
    SF_VM_NODE0,
    SF_VM_N = SF_VM_NODE0 + 64
};

enum { SF_SLABINFO_MAJOR, SF_SLABINFO_MINOR, SF_SLABINFO_STATISTICS, SF_SLABINFO_N };

enum { SF_UNPURGED_AREAS, SF_UNPURGED_BYTES, SF_UNPURGED_N };

#define SERIES_MAX_FIELDS SF_VM_N /* 68: the widest kind */
/* caller (127) + NUL + module (63) + NUL + type byte = 193; keys never hold a final NUL */
#define SERIES_KEY_MAX 200

_Static_assert(VMALLOC_MAX_NODES == 64, "SK_VMALLOC stores exactly 64 node fields");
_Static_assert(BUDDY_MAX_ORDERS <= SERIES_MAX_FIELDS, "buddy orders must fit the field array");

/* Field presence: bit f of fm[f / 64]. */
static inline bool series_fm_has(const uint64_t fm[2], unsigned f)
{
    return (fm[f >> 6] >> (f & 63)) & 1u;
}

static inline void series_fm_set(uint64_t fm[2], unsigned f)
{
    fm[f >> 6] |= 1ull << (f & 63);
}

/* Number of fields of a kind (0 for SK_NONE and unknown kinds). */
unsigned series_nfields(int kind);
/* May single fields of this kind be absent while the entity exists? */
bool series_fields_optional(int kind);
/* The source a kind comes from (enum src_id), or -1. */
int series_src(int kind);
/* "slab", "vmalloc", "buddy", "meminfo", "slabinfo", "unpurged"; "?" if unknown. */
const char *series_kind_name(int kind);
/* A field's name ("active_objs", "N3", "free5", "SUnreclaim"); "?" if out of range. */
const char *series_field_name(int kind, unsigned f, char *buf, size_t n);
/* SK_MEMINFO field index of a meminfo key and back. */
unsigned series_meminfo_field(enum meminfo_key k);
enum meminfo_key series_meminfo_key(unsigned f);

/* One entity as the writer receives it from a sampler. */
struct series_ent {
    int kind;
    const char *key; /* not NUL-terminated; keylen bytes */
    size_t keylen;
    uint64_t fm[2];
    uint64_t val[SERIES_MAX_FIELDS]; /* absent fields are 0 */
};

/*
 * The entities of source s in a parsed sampler: slabinfo gives one SK_SLAB
 * per cache plus SK_SLABINFO; vmallocinfo one SK_VMALLOC per row plus
 * SK_VMUNPURGED; buddyinfo one SK_BUDDY per zone; meminfo one SK_MEMINFO.
 * series_get fills e (e->key may point into keybuf, which must hold
 * SERIES_KEY_MAX bytes, or into sm).  i < series_count().
 */
size_t series_count(const struct sampler *sm, enum src_id s);
void series_get(const struct sampler *sm, enum src_id s, size_t i, struct series_ent *e,
                char *keybuf);

/* SK_VMALLOC key from its parts; returns the key length. */
size_t series_key_vmalloc(char *buf, const char *caller, const char *module, enum vmalloc_type t);
/* Split an SK_VMALLOC key (pointers into key, NUL-terminated there); false if malformed. */
bool series_key_vmalloc_split(const char *key, size_t len, const char **caller,
                              const char **module, enum vmalloc_type *t);
/* SK_BUDDY key "<node>:<zone>" into its parts; false if malformed. */
bool series_key_buddy_split(const char *key, size_t len, unsigned *node, char *zone, size_t zn);
/* Is key a well-formed key for kind (right shape, printable where it must be)? */
bool series_key_valid(int kind, const char *key, size_t len);

/*
 * Buddy values derived like the kernel (mm/vmstat.c): free pages = sum of
 * free[o] << o (saturating), and the unusable free space index of order o in
 * thousandths, 1000 for a zone without free pages.
 */
uint64_t series_buddy_free_pages(const uint64_t *free, unsigned orders);
unsigned series_buddy_unusable(const uint64_t *free, unsigned orders, unsigned o);

/*
 * Prediction of field f's change from the changes q[0..f-1] of the fields
 * before it in the same entity and record, and the entity's previous values
 * old (with presence oldfm).  All arithmetic is modulo 2^64, so encoder and
 * decoder always agree; a prediction only makes the stored residual small,
 * it never has to be right.
 *   slab:    active_slabs ~ num_slabs, num_objs ~ num_slabs * objperslab
 *   meminfo: Slab ~ SUnreclaim + SReclaimable, KReclaimable ~ SReclaimable
 *   vmalloc: bytes, pages ~ areas * previous average; N<n> ~ pages * previous share
 * The same function predicts the coarse tier's min and max offsets.
 */
uint64_t series_predict(int kind, unsigned f, const uint64_t *q, const uint64_t *old,
                        const uint64_t oldfm[2]);

/* Does series_predict ever return non-zero for this field?  (Lets loops skip the call.) */
static inline bool series_predicted(int kind, unsigned f)
{
    switch (kind) {
    case SK_SLAB:
        return f == SF_SLAB_ACTIVE_SLABS || f == SF_SLAB_NUM_OBJS;
    case SK_MEMINFO:
        return f == 4 || f == 5; /* Slab, KReclaimable */
    case SK_VMALLOC:
        return f == SF_VM_BYTES || f == SF_VM_PAGES || f >= SF_VM_NODE0;
    default:
        return false;
    }
}

#endif
