#include "series.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[SK_NKINDS] = {
    [SK_NONE] = "none",       [SK_SLAB] = "slab",         [SK_VMALLOC] = "vmalloc",
    [SK_BUDDY] = "buddy",     [SK_MEMINFO] = "meminfo",   [SK_SLABINFO] = "slabinfo",
    [SK_VMUNPURGED] = "unpurged",
};

static const char *const slab_fields[SF_SLAB_N] = {
    "active_objs", "num_slabs",  "active_slabs", "num_objs",     "objsize",    "objperslab",
    "pagesperslab", "limit",     "batchcount",   "sharedfactor", "sharedavail",
};

static const char *const vm_fields[SF_VM_NODE0] = { "areas", "bytes", "pages", "flags" };
static const char *const slabinfo_fields[SF_SLABINFO_N] = { "version_major", "version_minor",
                                                            "statistics" };
static const char *const unpurged_fields[SF_UNPURGED_N] = { "areas", "bytes" };

/*
 * SK_MEMINFO stored order: the keys that move every second first, then the
 * ones Slab and KReclaimable are predicted from ahead of them.
 */
static const enum meminfo_key meminfo_order[MEMINFO_NKEYS] = {
    MEMINFO_MEMFREE,      MEMINFO_MEMAVAILABLE, MEMINFO_SUNRECLAIM, MEMINFO_SRECLAIMABLE,
    MEMINFO_SLAB,         MEMINFO_KRECLAIMABLE, MEMINFO_VMALLOCUSED, MEMINFO_PERCPU,
    MEMINFO_MEMTOTAL,     MEMINFO_VMALLOCTOTAL,
};
enum { MF_MEMFREE, MF_MEMAVAILABLE, MF_SUNRECLAIM, MF_SRECLAIMABLE, MF_SLAB, MF_KRECLAIMABLE };
_Static_assert(MF_SLAB == 4 && MF_KRECLAIMABLE == 5, "series_predicted() in series.h");

unsigned series_nfields(int kind)
{
    switch (kind) {
    case SK_SLAB:
        return SF_SLAB_N;
    case SK_VMALLOC:
        return SF_VM_N;
    case SK_BUDDY:
        return BUDDY_MAX_ORDERS;
    case SK_MEMINFO:
        return MEMINFO_NKEYS;
    case SK_SLABINFO:
        return SF_SLABINFO_N;
    case SK_VMUNPURGED:
        return SF_UNPURGED_N;
    default:
        return 0;
    }
}

bool series_fields_optional(int kind)
{
    return kind == SK_VMALLOC || kind == SK_BUDDY || kind == SK_MEMINFO;
}

int series_src(int kind)
{
    switch (kind) {
    case SK_SLAB:
    case SK_SLABINFO:
        return SRC_SLABINFO;
    case SK_VMALLOC:
    case SK_VMUNPURGED:
        return SRC_VMALLOCINFO;
    case SK_BUDDY:
        return SRC_BUDDYINFO;
    case SK_MEMINFO:
        return SRC_MEMINFO;
    default:
        return -1;
    }
}

const char *series_kind_name(int kind)
{
    return (kind >= 0 && kind < SK_NKINDS) ? kind_names[kind] : "?";
}

const char *series_field_name(int kind, unsigned f, char *buf, size_t n)
{
    if (f >= series_nfields(kind))
        return "?";
    switch (kind) {
    case SK_SLAB:
        return slab_fields[f];
    case SK_VMALLOC:
        if (f < SF_VM_NODE0)
            return vm_fields[f];
        snprintf(buf, n, "N%u", f - SF_VM_NODE0);
        return buf;
    case SK_BUDDY:
        snprintf(buf, n, "free%u", f);
        return buf;
    case SK_MEMINFO:
        return meminfo_key_name(meminfo_order[f]);
    case SK_SLABINFO:
        return slabinfo_fields[f];
    case SK_VMUNPURGED:
        return unpurged_fields[f];
    default:
        return "?";
    }
}

unsigned series_meminfo_field(enum meminfo_key k)
{
    for (unsigned f = 0; f < MEMINFO_NKEYS; f++)
        if (meminfo_order[f] == k)
            return f;
    return 0;
}

enum meminfo_key series_meminfo_key(unsigned f)
{
    return f < MEMINFO_NKEYS ? meminfo_order[f] : MEMINFO_MEMTOTAL;
}

size_t series_count(const struct sampler *sm, enum src_id s)
{
    switch (s) {
    case SRC_SLABINFO:
        return sm->slab.n + 1;
    case SRC_VMALLOCINFO:
        return sm->vmalloc.n + 1;
    case SRC_BUDDYINFO:
        return sm->buddy.n;
    case SRC_MEMINFO:
        return 1;
    default:
        return 0;
    }
}

size_t series_key_vmalloc(char *buf, const char *caller, const char *module, enum vmalloc_type t)
{
    size_t cl = strnlen(caller, VMALLOC_CALLER_MAX - 1);
    size_t ml = strnlen(module, VMALLOC_MODULE_MAX - 1);

    memcpy(buf, caller, cl);
    buf[cl] = '\0';
    memcpy(buf + cl + 1, module, ml);
    buf[cl + 1 + ml] = '\0';
    buf[cl + ml + 2] = (char)('0' + (unsigned)t);
    return cl + ml + 3;
}

bool series_key_vmalloc_split(const char *key, size_t len, const char **caller,
                              const char **module, enum vmalloc_type *t)
{
    const char *z1, *z2;

    if (len < 3)
        return false;
    z1 = memchr(key, '\0', len);
    if (!z1 || (size_t)(z1 - key) >= VMALLOC_CALLER_MAX)
        return false;
    z2 = memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - key));
    if (!z2 || (size_t)(z2 - z1 - 1) >= VMALLOC_MODULE_MAX || z2 + 2 != key + len)
        return false;
    if (z2[1] < '0' || z2[1] >= '0' + VMALLOC_NTYPES)
        return false;
    *caller = key;
    *module = z1 + 1;
    *t = (enum vmalloc_type)(z2[1] - '0');
    return true;
}

bool series_key_buddy_split(const char *key, size_t len, unsigned *node, char *zone, size_t zn)
{
    unsigned long long v = 0;
    size_t i = 0;

    if (len == 0 || key[0] < '0' || key[0] > '9')
        return false;
    for (; i < len && key[i] >= '0' && key[i] <= '9'; i++) {
        v = v * 10 + (unsigned)(key[i] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    if (i >= len || key[i] != ':' || len - i - 1 == 0 || len - i - 1 >= zn ||
        len - i - 1 >= BUDDY_ZONE_MAX)
        return false;
    memcpy(zone, key + i + 1, len - i - 1);
    zone[len - i - 1] = '\0';
    *node = (unsigned)v;
    return true;
}

static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

bool series_key_valid(int kind, const char *key, size_t len)
{
    const char *c, *m;
    enum vmalloc_type t;
    unsigned node;
    char zone[BUDDY_ZONE_MAX];

    if (len == 0 || len > SERIES_KEY_MAX)
        return false;
    switch (kind) {
    case SK_SLAB:
        return len < SLAB_NAME_MAX && printable(key, len);
    case SK_VMALLOC:
        return series_key_vmalloc_split(key, len, &c, &m, &t) && printable(c, strlen(c)) &&
               printable(m, strlen(m));
    case SK_BUDDY:
        return series_key_buddy_split(key, len, &node, zone, sizeof(zone)) &&
               printable(zone, strlen(zone));
    case SK_MEMINFO:
        return len == 7 && memcmp(key, "meminfo", 7) == 0;
    case SK_SLABINFO:
        return len == 8 && memcmp(key, "slabinfo", 8) == 0;
    case SK_VMUNPURGED:
        return len == 8 && memcmp(key, "unpurged", 8) == 0;
    default:
        return false;
    }
}

void series_get(const struct sampler *sm, enum src_id s, size_t i, struct series_ent *e,
                char *keybuf)
{
    memset(e->fm, 0, sizeof(e->fm));
    switch (s) {
    case SRC_SLABINFO:
        if (i < sm->slab.n) {
            const struct slab_cache *c = &sm->slab.caches[i];
            e->kind = SK_SLAB;
            e->key = c->name;
            e->keylen = strnlen(c->name, SLAB_NAME_MAX - 1);
            e->val[SF_SLAB_ACTIVE_OBJS] = c->active_objs;
            e->val[SF_SLAB_NUM_SLABS] = c->num_slabs;
            e->val[SF_SLAB_ACTIVE_SLABS] = c->active_slabs;
            e->val[SF_SLAB_NUM_OBJS] = c->num_objs;
            e->val[SF_SLAB_OBJSIZE] = c->objsize;
            e->val[SF_SLAB_OBJPERSLAB] = c->objperslab;
            e->val[SF_SLAB_PAGESPERSLAB] = c->pagesperslab;
            e->val[SF_SLAB_LIMIT] = c->limit;
            e->val[SF_SLAB_BATCHCOUNT] = c->batchcount;
            e->val[SF_SLAB_SHAREDFACTOR] = c->sharedfactor;
            e->val[SF_SLAB_SHAREDAVAIL] = c->sharedavail;
            e->fm[0] = (1ull << SF_SLAB_N) - 1;
        } else {
            e->kind = SK_SLABINFO;
            e->key = "slabinfo";
            e->keylen = 8;
            e->val[SF_SLABINFO_MAJOR] = sm->slab.version_major;
            e->val[SF_SLABINFO_MINOR] = sm->slab.version_minor;
            e->val[SF_SLABINFO_STATISTICS] = (uint64_t)(sm->slab.statistics != 0);
            e->fm[0] = (1ull << SF_SLABINFO_N) - 1;
        }
        return;
    case SRC_VMALLOCINFO:
        if (i < sm->vmalloc.n) {
            const struct vmalloc_row *row = &sm->vmalloc.rows[i];
            e->kind = SK_VMALLOC;
            e->keylen = series_key_vmalloc(keybuf, row->caller, row->module, row->type);
            e->key = keybuf;
            e->val[SF_VM_AREAS] = row->areas;
            e->val[SF_VM_BYTES] = row->bytes;
            e->val[SF_VM_PAGES] = row->pages;
            e->val[SF_VM_FLAGS] = row->flags;
            e->fm[0] = (1ull << SF_VM_NODE0) - 1;
            for (unsigned n = 0; n < VMALLOC_MAX_NODES; n++) {
                if ((row->node_mask >> n) & 1u) {
                    e->val[SF_VM_NODE0 + n] = row->nodes[n];
                    series_fm_set(e->fm, SF_VM_NODE0 + n);
                } else {
                    e->val[SF_VM_NODE0 + n] = 0;
                }
            }
        } else {
            e->kind = SK_VMUNPURGED;
            e->key = "unpurged";
            e->keylen = 8;
            e->val[SF_UNPURGED_AREAS] = sm->vmalloc.unpurged.areas;
            e->val[SF_UNPURGED_BYTES] = sm->vmalloc.unpurged.bytes;
            e->fm[0] = (1ull << SF_UNPURGED_N) - 1;
        }
        return;
    case SRC_BUDDYINFO: {
        const struct buddy_zone *z = &sm->buddy.zones[i];
        unsigned orders =
            sm->buddy.orders <= BUDDY_MAX_ORDERS ? sm->buddy.orders : BUDDY_MAX_ORDERS;
        char digits[10];
        size_t n = 0, zl = strnlen(z->zone, BUDDY_ZONE_MAX - 1);
        unsigned node = z->node;

        /* "<node>:<zone>" by hand: this runs for every zone of every sample */
        do {
            digits[n++] = (char)('0' + node % 10);
            node /= 10;
        } while (node);
        for (size_t d = 0; d < n; d++)
            keybuf[d] = digits[n - 1 - d];
        keybuf[n++] = ':';
        memcpy(keybuf + n, z->zone, zl);
        e->kind = SK_BUDDY;
        e->key = keybuf;
        e->keylen = n + zl;
        for (unsigned o = 0; o < BUDDY_MAX_ORDERS; o++) {
            e->val[o] = o < orders ? z->free[o] : 0;
            if (o < orders)
                series_fm_set(e->fm, o);
        }
        return;
    }
    case SRC_MEMINFO:
        e->kind = SK_MEMINFO;
        e->key = "meminfo";
        e->keylen = 7;
        for (unsigned f = 0; f < MEMINFO_NKEYS; f++) {
            enum meminfo_key k = meminfo_order[f];
            e->val[f] = meminfo_has(&sm->meminfo, k) ? sm->meminfo.value[k] : 0;
            if (meminfo_has(&sm->meminfo, k))
                series_fm_set(e->fm, f);
        }
        return;
    default:
        e->kind = SK_NONE;
        e->key = "";
        e->keylen = 0;
        return;
    }
}

uint64_t series_predict(int kind, unsigned f, const uint64_t *q, const uint64_t *old,
                        const uint64_t oldfm[2])
{
    switch (kind) {
    case SK_SLAB:
        if (f == SF_SLAB_ACTIVE_SLABS)
            return q[SF_SLAB_NUM_SLABS];
        if (f == SF_SLAB_NUM_OBJS)
            return q[SF_SLAB_NUM_SLABS] * old[SF_SLAB_OBJPERSLAB];
        return 0;
    case SK_MEMINFO:
        if (f == MF_SLAB)
            return q[MF_SUNRECLAIM] + q[MF_SRECLAIMABLE];
        if (f == MF_KRECLAIMABLE)
            return q[MF_SRECLAIMABLE];
        return 0;
    case SK_VMALLOC:
        if ((f == SF_VM_BYTES || f == SF_VM_PAGES) && old[SF_VM_AREAS])
            return q[SF_VM_AREAS] * (old[f] / old[SF_VM_AREAS]);
        if (f >= SF_VM_NODE0 && f < SF_VM_N && old[SF_VM_PAGES] && series_fm_has(oldfm, f)) {
            __int128 p = (__int128)(int64_t)q[SF_VM_PAGES] * (__int128)old[f];
            return (uint64_t)(p / (__int128)old[SF_VM_PAGES]); /* modulo 2^64 */
        }
        return 0;
    default:
        return 0;
    }
}

static uint64_t buddy_suffix(const uint64_t *free, unsigned orders, unsigned from)
{
    uint64_t s = 0;

    for (unsigned o = orders; o-- > from;)
        s = add_sat(s, mul_sat(free[o], 1ull << o));
    return s;
}

uint64_t series_buddy_free_pages(const uint64_t *free, unsigned orders)
{
    return buddy_suffix(free, orders, 0);
}

unsigned series_buddy_unusable(const uint64_t *free, unsigned orders, unsigned o)
{
    uint64_t total = buddy_suffix(free, orders, 0);

    if (total == 0)
        return 1000;
    /* 128 bits as in buddy.c: saturated counts from hostile input stay in range */
    return (unsigned)((unsigned __int128)(total - buddy_suffix(free, orders, o)) * 1000u / total);
}
