#include "ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

/*
 * Layout and protocol: docs/FORMAT.md.  Sections of this file:
 *   1. on-disk structures and byte codecs
 *   2. reconstructed state and the record decoder (shared by readers and the writer)
 *   3. record I/O on a tier's circular byte log
 *   4. writer: entity table, append, coarse minutes, recovery, open/close
 *   5. reader
 *   6. state -> parsed structs, import, export, synthetic fill
 *
 * The file is read and written through a shared mapping.  Structures are
 * accessed in place, so the format is little-endian and so must the host be.
 */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ring format is little-endian; big-endian hosts are not supported"
#endif

/* ==== 1. on-disk structures and byte codecs ========================================== */

#define RING_MAGIC "KMWRING1"
#define HDR_SIZE 4096u
#define SLOT_SIZE 64u
#define SLOT_INLINE 36u    /* key bytes held by each slot piece */
#define SLOT_CONT 0xffu    /* kind of a continuation piece */
#define SLOT_MAX_PIECES 6u /* 6 * 36 >= SERIES_KEY_MAX */
#define RH 12u             /* record header: len, crc, seq */
#define WRAP_LEN 0xffffffffu
#define KF_NONE UINT64_MAX
#define MAX_SLOTS (1u << 20)
#define MIN_FILE_TIER 64u  /* smallest tier a file may declare */
#define KF_FIXED 33u       /* keyframe payload prefix: type, wall, mono, prev off, prev seq */
#define NS_PER_MIN 60000000000ull

/* Keyframe cadence: see docs/FORMAT.md "Keyframes". */
#define KF_RATIO 20u
#define KF_MAX_RECS_FULL 3600u
#define KF_MAX_RECS_COARSE 1440u

/* Scratch-ring budgets for import/export before the result is cut to fit. */
#define MEM_FULL_BYTES (512ull << 20)
#define MEM_COARSE_BYTES (128ull << 20)

enum { REC_FULL_KF = 1, REC_FULL_DELTA = 2, REC_COARSE_KF = 3, REC_COARSE_DELTA = 4 };
enum { EOP_CHANGE = 0, EOP_APPEAR = 1, EOP_GONE = 2, EOP_APPEAR_EMPTY = 3 };
enum { FOP_DELTA, FOP_DELTA_K, FOP_SET, FOP_SET_K, FOP_CLEAR, FOP_MM, FOP_MM_K };

struct disk_tier_hint {
    uint64_t tail_off, tail_seq; /* oldest retained record */
    uint64_t head_off, head_seq; /* where the next record goes, and its seq */
    uint64_t last_off, last_seq; /* newest record (seq 0: none) */
    uint64_t kf_off, kf_seq;     /* newest keyframe (seq 0: none) */
    uint64_t records, used, dropped, appended;
    uint64_t oldest_wall_ns, newest_wall_ns;
    uint64_t keyframes;
    uint64_t reserved;
};

struct disk_hdr {
    char magic[8];
    uint32_t version;
    uint32_t hdr_size;
    uint64_t file_size;
    uint32_t slot_size;
    uint32_t nslots;
    uint64_t slots_off;
    uint64_t tier_off[RING_NTIERS];
    uint64_t tier_size[RING_NTIERS];
    uint64_t created_wall_ns;
    uint32_t flags;
    uint32_t geom_crc; /* crc32c of every byte before it */
    /* dynamic part, under hint_lock */
    uint32_t hint_lock;
    uint32_t page_size;
    struct disk_tier_hint tier[RING_NTIERS];
};

_Static_assert(offsetof(struct disk_hdr, geom_crc) == 84, "header layout");
_Static_assert(offsetof(struct disk_hdr, tier) == 96, "header layout");
_Static_assert(sizeof(struct disk_hdr) == 352, "header layout");

struct disk_slot {
    uint32_t lock;               /* seqlock: odd while the slot is rewritten */
    uint8_t kind;                /* 0 free, enum series_kind, SLOT_CONT */
    uint8_t flags;
    uint16_t keylen;             /* whole key, in the entity's first piece */
    uint32_t next;               /* index + 1 of the next piece; 0 = none */
    uint32_t born[RING_NTIERS];  /* low 32 bits of the first seq that may refer to it */
    uint32_t last_ref[RING_NTIERS]; /* newest seq that appeared or dropped it; 0 = never */
    uint8_t name[SLOT_INLINE];
};

_Static_assert(sizeof(struct disk_slot) == SLOT_SIZE, "slot layout");

struct geom {
    uint32_t nslots;
    uint64_t size[RING_NTIERS];
};

static inline uint64_t align4(uint64_t v)
{
    return (v + 3) & ~(uint64_t)3;
}

/* Sequence numbers are u64; records carry the low 32 bits, never 0 (0 = invalid). */
static inline uint64_t seq_next(uint64_t s)
{
    return ring_seq_next(s);
}

static inline bool seq32_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static inline uint64_t zz_enc(uint64_t v)
{
    return (v << 1) ^ (0 - (v >> 63));
}

static inline uint64_t zz_dec(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static uint64_t geom_file_size(const struct geom *g)
{
    return HDR_SIZE + (uint64_t)g->nslots * SLOT_SIZE + g->size[0] + g->size[1];
}

static void hdr_init(struct disk_hdr *h, const struct geom *g, uint64_t created)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, RING_MAGIC, 8);
    h->version = RING_FORMAT_VERSION;
    h->hdr_size = HDR_SIZE;
    h->slot_size = SLOT_SIZE;
    h->nslots = g->nslots;
    h->slots_off = HDR_SIZE;
    h->tier_off[0] = HDR_SIZE + (uint64_t)g->nslots * SLOT_SIZE;
    h->tier_size[0] = g->size[0];
    h->tier_off[1] = h->tier_off[0] + g->size[0];
    h->tier_size[1] = g->size[1];
    h->file_size = geom_file_size(g);
    h->created_wall_ns = created;
    h->geom_crc = crc32c(0, h, offsetof(struct disk_hdr, geom_crc));
    for (int t = 0; t < RING_NTIERS; t++) {
        h->tier[t].head_seq = 1;
        h->tier[t].tail_seq = 1;
    }
}

/* Is the header usable with a file of st_size bytes?  -EINVAL with a reason if not. */
static int hdr_check(const struct disk_hdr *h, uint64_t st_size, char *why, size_t n)
{
    struct geom g;

    if (memcmp(h->magic, RING_MAGIC, 8) != 0) {
        snprintf(why, n, "not a kmemwatch ring file (bad magic)");
        return -EINVAL;
    }
    if (h->version != RING_FORMAT_VERSION) {
        snprintf(why, n, "ring layout version %u, this build reads version %u", h->version,
                 RING_FORMAT_VERSION);
        return -EINVAL;
    }
    if (h->geom_crc != crc32c(0, h, offsetof(struct disk_hdr, geom_crc))) {
        snprintf(why, n, "header checksum mismatch");
        return -EINVAL;
    }
    g.nslots = h->nslots;
    g.size[0] = h->tier_size[0];
    g.size[1] = h->tier_size[1];
    if (h->hdr_size != HDR_SIZE || h->slot_size != SLOT_SIZE || h->nslots == 0 ||
        h->nslots > MAX_SLOTS || h->slots_off != HDR_SIZE ||
        h->tier_off[0] != HDR_SIZE + (uint64_t)h->nslots * SLOT_SIZE ||
        h->tier_off[1] != h->tier_off[0] + h->tier_size[0] || h->tier_size[0] < MIN_FILE_TIER ||
        h->tier_size[1] < MIN_FILE_TIER || h->tier_size[0] % 64 || h->tier_size[1] % 64 ||
        h->tier_size[0] > (1ull << 40) || h->tier_size[1] > (1ull << 40) ||
        h->file_size != geom_file_size(&g)) {
        snprintf(why, n, "inconsistent header geometry");
        return -EINVAL;
    }
    if (st_size < h->file_size) {
        snprintf(why, n, "truncated: %llu bytes, the header says %llu",
                 (unsigned long long)st_size, (unsigned long long)h->file_size);
        return -EINVAL;
    }
    return 0;
}

/* Growable output buffer; an allocation failure sticks in err. */
struct enc {
    uint8_t *p;
    size_t n, cap;
    int err;
    long prev_slot;
};

static bool enc_room(struct enc *e, size_t more)
{
    size_t nc;
    uint8_t *np;

    if (e->err)
        return false;
    if (e->n + more <= e->cap)
        return true;
    nc = e->cap ? e->cap : 4096;
    while (nc < e->n + more)
        nc *= 2;
    np = realloc(e->p, nc);
    if (!np) {
        e->err = -ENOMEM;
        return false;
    }
    e->p = np;
    e->cap = nc;
    return true;
}

static void put_u8(struct enc *e, uint8_t v)
{
    if (enc_room(e, 1))
        e->p[e->n++] = v;
}

static void put_u64(struct enc *e, uint64_t v)
{
    if (enc_room(e, 8)) {
        memcpy(e->p + e->n, &v, 8);
        e->n += 8;
    }
}

static void put_var(struct enc *e, uint64_t v)
{
    if (!enc_room(e, 10))
        return;
    while (v >= 0x80) {
        e->p[e->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    e->p[e->n++] = (uint8_t)v;
}

static void put_zz(struct enc *e, uint64_t v)
{
    put_var(e, zz_enc(v));
}

/* Bounded reader; any overrun or malformed varint sets bad and returns 0. */
struct dec {
    const uint8_t *p, *end;
    bool bad;
};

static uint8_t get_u8(struct dec *d)
{
    if (d->p >= d->end) {
        d->bad = true;
        return 0;
    }
    return *d->p++;
}

static uint64_t get_u64(struct dec *d)
{
    uint64_t v;

    if (d->end - d->p < 8) {
        d->bad = true;
        return 0;
    }
    memcpy(&v, d->p, 8);
    d->p += 8;
    return v;
}

static uint64_t get_var_long(struct dec *d)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t b;

        if (d->p >= d->end)
            break;
        b = *d->p++;
        if (shift == 63 && b > 1)
            break;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    d->bad = true;
    return 0;
}

/* Most varints of a record are one byte (field codes, small deltas): that case inline. */
static inline uint64_t get_var(struct dec *d)
{
    if (d->p < d->end && *d->p < 0x80)
        return *d->p++;
    return get_var_long(d);
}

/* ==== 2. reconstructed state and the record decoder ================================== */

struct sent {
    uint8_t kind;
    uint8_t nf;
    bool present;
    bool stale; /* present before the keyframe being decoded; not yet re-listed */
    bool skip;  /* refused by a filtered walk's want(): presence and field bits kept, values not */
    uint16_t keylen;
    uint16_t keycap;
    uint8_t vcap;
    char *key;
    uint64_t fm[2];
    uint64_t *v, *mn, *mx;
    uint64_t mm_seq; /* coarse: seq whose min/max mn/mx hold */
};

struct ring_state_priv {
    /*
     * Unique for the life of the process (state_ids): ring_state_to_sampler
     * recognises the state it filled a sampler from by it, and an address
     * could be that of a state freed since and another one allocated there.
     */
    uint64_t id;
    uint32_t nslots;
    uint32_t hi; /* 1 + highest slot ever present */
    struct sent *e;
    uint32_t present_src[SRC_N];
    uint32_t npresent;
    uint64_t prev_wall_delta;
    bool valid; /* a keyframe was decoded and every record since */
    uint32_t *touched;
    size_t ntouched, tcap;
    /* ring_reader_walk_only: decided for each entity when it appears (NULL: keep every one) */
    bool (*want)(int kind, const char *key, size_t keylen, void *arg);
    void *want_arg;
};

/* Is the entity in a state's listings?  (Skipped ones have no values.) */
static inline bool sent_listed(const struct sent *x)
{
    return x->present && !x->skip;
}

struct sstate {
    struct ring_state pub;
    struct ring_state_priv pv;
};

/* How the decoder learns entity names, and the writer's hook before an entity changes. */
struct dec_ctx {
    int (*resolve)(void *arg, unsigned slot, uint64_t seq, enum ring_tier t, int *kind,
                   char *key, size_t *keylen);
    void (*prechange)(void *arg, unsigned slot);
    void *arg;
};

/* The last ring_state_priv.id handed out; 0 is never one. */
static uint64_t state_ids;

static int sstate_init(struct sstate *s, enum ring_tier t, uint32_t nslots)
{
    memset(s, 0, sizeof(*s));
    s->pub.tier = t;
    s->pub.priv = &s->pv;
    s->pv.id = __atomic_add_fetch(&state_ids, 1, __ATOMIC_RELAXED);
    s->pv.nslots = nslots;
    s->pv.e = calloc(nslots, sizeof(*s->pv.e));
    return s->pv.e ? 0 : -ENOMEM;
}

static void sstate_free(struct sstate *s)
{
    if (s->pv.e) {
        for (uint32_t i = 0; i < s->pv.nslots; i++) {
            free(s->pv.e[i].key);
            free(s->pv.e[i].v);
            free(s->pv.e[i].mn);
            free(s->pv.e[i].mx);
        }
    }
    free(s->pv.e);
    free(s->pv.touched);
    memset(s, 0, sizeof(*s));
}

/* Forget everything (a walk starts over at a keyframe). */
static void sstate_clear(struct sstate *s, enum ring_tier t)
{
    for (uint32_t i = 0; i < s->pv.hi; i++) {
        s->pv.e[i].present = false;
        s->pv.e[i].stale = false;
    }
    memset(s->pv.present_src, 0, sizeof(s->pv.present_src));
    s->pv.npresent = 0;
    s->pv.valid = false;
    s->pv.ntouched = 0;
    s->pub.tier = t;
    s->pub.seq = 0;
    s->pub.gen++;
}

static int touch(struct sstate *s, unsigned slot)
{
    if (s->pv.ntouched == s->pv.tcap) {
        size_t nc = s->pv.tcap ? s->pv.tcap * 2 : 64;
        uint32_t *nt = realloc(s->pv.touched, nc * sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        s->pv.touched = nt;
        s->pv.tcap = nc;
    }
    s->pv.touched[s->pv.ntouched++] = slot;
    return 0;
}

/* Make e hold an entity of kind with key; values zeroed. */
static int sent_prepare(struct sent *e, int kind, const char *key, size_t keylen, bool coarse)
{
    unsigned nf = series_nfields(kind);

    if (e->vcap < nf || (coarse && !e->mn)) {
        uint64_t *v = calloc(nf, sizeof(*v));
        uint64_t *mn = coarse ? calloc(nf, sizeof(*mn)) : NULL;
        uint64_t *mx = coarse ? calloc(nf, sizeof(*mx)) : NULL;
        if (!v || (coarse && (!mn || !mx))) {
            free(v);
            free(mn);
            free(mx);
            return -ENOMEM;
        }
        free(e->v);
        free(e->mn);
        free(e->mx);
        e->v = v;
        e->mn = mn;
        e->mx = mx;
        e->vcap = (uint8_t)nf;
    }
    if (e->keycap < keylen) {
        char *k = malloc(keylen);
        if (!k)
            return -ENOMEM;
        free(e->key);
        e->key = k;
        e->keycap = (uint16_t)keylen;
    }
    memcpy(e->key, key, keylen);
    e->keylen = (uint16_t)keylen;
    e->kind = (uint8_t)kind;
    e->nf = (uint8_t)nf;
    memset(e->v, 0, nf * sizeof(*e->v));
    if (coarse) {
        memset(e->mn, 0, nf * sizeof(*e->mn));
        memset(e->mx, 0, nf * sizeof(*e->mx));
    }
    e->fm[0] = e->fm[1] = 0;
    return 0;
}

/*
 * Make d the state s is (a reader's checkpoint, kept or taken up again):
 * the present entities are copied into d's own buffers, reused from copy to
 * copy.  d keeps its id, and its gen moves on: to a caller, d jumping to
 * another record is a walk starting over.  Only states of unfiltered walks
 * are copied (every present entity has its values).  On -ENOMEM d is left
 * invalid; sstate_clear makes it usable again.
 */
static int sstate_copy(struct sstate *d, const struct sstate *s)
{
    bool coarse = s->pub.tier == RING_COARSE;
    uint64_t gen = d->pub.gen + 1;

    d->pv.valid = false;
    /* entries past s's hi are absent in s: cleared in d too */
    if (s->pv.hi > d->pv.hi)
        d->pv.hi = s->pv.hi;
    for (uint32_t i = 0; i < d->pv.hi; i++) {
        struct sent *x = &d->pv.e[i];
        const struct sent *y = &s->pv.e[i];

        x->present = x->stale = false;
        if (!y->present)
            continue;
        if (sent_prepare(x, y->kind, y->key, y->keylen, coarse) < 0)
            return -ENOMEM;
        memcpy(x->v, y->v, y->nf * sizeof(*x->v));
        if (coarse) {
            memcpy(x->mn, y->mn, y->nf * sizeof(*x->mn));
            memcpy(x->mx, y->mx, y->nf * sizeof(*x->mx));
        }
        x->fm[0] = y->fm[0];
        x->fm[1] = y->fm[1];
        x->mm_seq = y->mm_seq;
        x->skip = y->skip;
        x->stale = y->stale;
        x->present = true;
    }
    memcpy(d->pv.present_src, s->pv.present_src, sizeof(d->pv.present_src));
    d->pv.npresent = s->pv.npresent;
    d->pv.prev_wall_delta = s->pv.prev_wall_delta;
    d->pv.ntouched = 0;
    d->pub = s->pub;
    d->pub.priv = &d->pv;
    d->pub.gen = gen;
    d->pv.valid = s->pv.valid;
    return 0;
}

/* One entity block's field entries, indexed by field. */
struct fentries {
    uint64_t has[2];
    uint8_t op[SERIES_MAX_FIELDS];
    uint64_t val[SERIES_MAX_FIELDS];
    uint64_t mo[SERIES_MAX_FIELDS];
    uint64_t xo[SERIES_MAX_FIELDS];
};

static int read_entries(struct dec *d, bool coarse, unsigned nf, struct fentries *fx)
{
    long prevf = -1;

    fx->has[0] = fx->has[1] = 0;
    for (;;) {
        uint64_t code = get_var(d), fgap, v = 0, m = 0, x = 0;
        unsigned shift = coarse ? 5 : 4, op, f;
        bool last, mm;

        if (d->bad)
            return -EINVAL;
        fgap = code >> shift;
        last = (code >> (shift - 1)) & 1;
        mm = coarse && ((code >> 3) & 1);
        op = (unsigned)(code & 7);
        if (fgap >= nf || (uint64_t)(prevf + 1) + fgap >= nf)
            return -EINVAL;
        f = (unsigned)(prevf + 1 + (long)fgap);
        if (op > FOP_MM_K || (!coarse && op > FOP_CLEAR) || (op == FOP_CLEAR && mm))
            return -EINVAL;
        if (op == FOP_DELTA || op == FOP_DELTA_K)
            v = zz_dec(get_var(d));
        else if (op == FOP_SET || op == FOP_SET_K)
            v = get_var(d);
        if (coarse && op != FOP_CLEAR && (mm || op == FOP_MM || op == FOP_MM_K)) {
            m = zz_dec(get_var(d));
            x = zz_dec(get_var(d));
        }
        if (d->bad)
            return -EINVAL;
        if (op == FOP_SET_K) {
            if (v > (UINT64_MAX >> 10))
                return -EINVAL;
            v <<= 10;
        }
        if (op == FOP_DELTA_K || op == FOP_SET_K || op == FOP_MM_K) {
            if (op == FOP_DELTA_K)
                v *= 1024;
            m *= 1024;
            x *= 1024;
        }
        series_fm_set(fx->has, f);
        fx->op[f] = (uint8_t)op;
        fx->val[f] = v;
        fx->mo[f] = m;
        fx->xo[f] = x;
        prevf = f;
        if (last)
            return 0;
    }
}

static inline void set_mm(struct sent *e, unsigned f, uint64_t mo, uint64_t xo)
{
    e->mn[f] = e->v[f] - mo;
    e->mx[f] = e->v[f] + xo;
}

/*
 * The entries of an entity block of an entity that a filtered walk does not
 * want (sent.skip), read and checked as read_entries, decode_appear
 * (appear: only absolute values) and decode_change check them, so that a
 * record is refused exactly when the full decode refuses it; the field bits
 * are kept, values are not computed (predictions and deltas are most of the
 * cost of decoding a record).
 */
static inline __attribute__((always_inline)) int skip_entries_of(struct dec *d, bool coarse,
                                                                   struct sent *e, bool appear)
{
    bool always = !series_fields_optional(e->kind);
    unsigned shift = coarse ? 5 : 4;
    uint64_t nf = e->nf, f = 0; /* f: the field after the previous entry's */

    if (!coarse && always && !appear) {
        /* most blocks: every field is there and only changes by a delta (ops 0 and 1) */
        for (;;) {
            uint64_t code = get_var(d), fgap = code >> 4;

            if (d->bad || (code & 6) || fgap >= nf || f + fgap >= nf)
                return -EINVAL;
            f += fgap + 1;
            (void)get_var(d);
            if (code & 8)
                return d->bad ? -EINVAL : 0;
        }
    }
    for (;;) {
        uint64_t code = get_var(d), fgap = code >> shift;
        unsigned op = (unsigned)(code & 7);
        bool mm = coarse && ((code >> 3) & 1), wasp;

        if (d->bad || fgap >= nf || f + fgap >= nf)
            return -EINVAL;
        f += fgap;
        if (op > FOP_MM_K || (!coarse && op > FOP_CLEAR) || (op == FOP_CLEAR && mm))
            return -EINVAL;
        if (op <= FOP_SET_K) { /* the ops with a value */
            uint64_t v = get_var(d);
            if (op == FOP_SET_K && v > (UINT64_MAX >> 10))
                return -EINVAL;
        }
        if (coarse && op != FOP_CLEAR && (mm || op >= FOP_MM)) {
            (void)get_var(d);
            (void)get_var(d);
        }
        if (d->bad)
            return -EINVAL;
        wasp = series_fm_has(e->fm, (unsigned)f);
        if (op == FOP_SET || op == FOP_SET_K) {
            if (always && !appear)
                return -EINVAL;
            series_fm_set(e->fm, (unsigned)f);
        } else if (appear) {
            return -EINVAL;
        } else if (op == FOP_CLEAR) {
            if (always || !wasp)
                return -EINVAL;
            e->fm[f >> 6] &= ~(1ull << (f & 63));
        } else if (!wasp) {
            return -EINVAL;
        }
        f++;
        if ((code >> (shift - 1)) & 1)
            return 0;
    }
}

/* skip_entries_of compiled for each tier and block type: the tests on them go away */
static int skip_entries(struct dec *d, bool coarse, struct sent *e, bool appear)
{
    if (coarse)
        return appear ? skip_entries_of(d, true, e, true) : skip_entries_of(d, true, e, false);
    return appear ? skip_entries_of(d, false, e, true) : skip_entries_of(d, false, e, false);
}

static int decode_appear(struct sstate *s, struct dec *d, unsigned slot, unsigned eop,
                         uint64_t seq, const struct dec_ctx *cx)
{
    struct sent *e = &s->pv.e[slot];
    bool coarse = s->pub.tier == RING_COARSE;
    bool was = e->present;
    struct fentries fx;
    int r;

    if (e->present && !e->stale)
        return -EINVAL;
    if (cx->prechange)
        cx->prechange(cx->arg, slot);
    if (!(e->present && e->stale)) {
        /* a keyframe re-listing a present entity keeps its name: its slot cannot change */
        char key[SERIES_KEY_MAX];
        size_t keylen = 0;
        int kind = 0;

        r = cx->resolve(cx->arg, slot, seq, s->pub.tier, &kind, key, &keylen);
        if (r < 0)
            return r;
        r = sent_prepare(e, kind, key, keylen, coarse);
        if (r < 0)
            return r;
        e->skip = s->pv.want && !s->pv.want(kind, key, keylen, s->pv.want_arg);
    } else {
        if (!e->skip)
            memset(e->v, 0, e->nf * sizeof(*e->v));
        e->fm[0] = e->fm[1] = 0;
    }
    if (!series_fields_optional(e->kind))
        for (unsigned f = 0; f < e->nf; f++)
            series_fm_set(e->fm, f);
    if (e->skip) {
        r = eop == EOP_APPEAR ? skip_entries(d, coarse, e, true) : 0;
        if (r < 0)
            return r;
    } else if (coarse) {
        for (unsigned f = 0; f < e->nf; f++)
            e->mn[f] = e->mx[f] = 0;
    }
    if (eop == EOP_APPEAR && !e->skip) {
        r = read_entries(d, coarse, e->nf, &fx);
        if (r < 0)
            return r;
        for (unsigned f = 0; f < e->nf; f++) {
            if (!series_fm_has(fx.has, f))
                continue;
            if (fx.op[f] != FOP_SET && fx.op[f] != FOP_SET_K)
                return -EINVAL;
            e->v[f] = fx.val[f];
            series_fm_set(e->fm, f);
            if (coarse)
                set_mm(e, f, fx.mo[f], fx.xo[f]);
        }
    }
    e->present = true;
    e->stale = false;
    e->mm_seq = seq;
    if (!was) {
        int src = series_src(e->kind);
        if (src >= 0)
            s->pv.present_src[src]++;
        s->pv.npresent++;
        s->pub.gen++;
    }
    if (slot + 1 > s->pv.hi)
        s->pv.hi = slot + 1;
    return e->skip ? 0 : touch(s, slot);
}

static int decode_change(struct sstate *s, struct dec *d, unsigned slot, uint64_t seq,
                         const struct dec_ctx *cx)
{
    struct sent *e = &s->pv.e[slot];
    bool coarse = s->pub.tier == RING_COARSE;
    bool always = !series_fields_optional(e->kind);
    uint64_t old[SERIES_MAX_FIELDS], dq[SERIES_MAX_FIELDS], mq[SERIES_MAX_FIELDS],
        xq[SERIES_MAX_FIELDS], oldfm[2];
    struct fentries fx;
    unsigned nf = e->nf;
    int r;

    if (!e->present || e->stale)
        return -EINVAL;
    r = read_entries(d, coarse, nf, &fx);
    if (r < 0)
        return r;
    if (cx->prechange)
        cx->prechange(cx->arg, slot);
    memcpy(old, e->v, nf * sizeof(*old));
    oldfm[0] = e->fm[0];
    oldfm[1] = e->fm[1];
    for (unsigned f = 0; f < nf; f++) {
        bool has = series_fm_has(fx.has, f), wasp = series_fm_has(oldfm, f);
        unsigned op = has ? fx.op[f] : FOP_DELTA;
        uint64_t mo = 0, xo = 0;

        dq[f] = mq[f] = xq[f] = 0;
        if (has && (op == FOP_SET || op == FOP_SET_K)) {
            if (always)
                return -EINVAL;
            e->v[f] = fx.val[f];
            series_fm_set(e->fm, f);
            mo = fx.mo[f];
            xo = fx.xo[f];
        } else if (has && op == FOP_CLEAR) {
            if (always || !wasp)
                return -EINVAL;
            e->v[f] = 0;
            e->fm[f >> 6] &= ~(1ull << (f & 63));
        } else if (wasp) {
            uint64_t dres = has && (op == FOP_DELTA || op == FOP_DELTA_K) ? fx.val[f] : 0;
            bool pr = series_predicted(e->kind, f);
            dq[f] = (pr ? series_predict(e->kind, f, dq, old, oldfm) : 0) + dres;
            if (coarse) {
                mq[f] = (pr ? series_predict(e->kind, f, mq, old, oldfm) : 0) +
                        (has ? fx.mo[f] : 0);
                xq[f] = (pr ? series_predict(e->kind, f, xq, old, oldfm) : 0) +
                        (has ? fx.xo[f] : 0);
                mo = mq[f];
                xo = xq[f];
            }
            e->v[f] = old[f] + dq[f];
        } else if (has) {
            return -EINVAL; /* a change to a field that is absent */
        }
        if (coarse) {
            if (series_fm_has(e->fm, f))
                set_mm(e, f, mo, xo);
            else
                e->mn[f] = e->mx[f] = 0;
        }
    }
    e->mm_seq = seq;
    return touch(s, slot);
}

static int decode_gone(struct sstate *s, unsigned slot, const struct dec_ctx *cx)
{
    struct sent *e = &s->pv.e[slot];
    int src;

    if (!e->present)
        return -EINVAL;
    if (cx->prechange)
        cx->prechange(cx->arg, slot);
    e->present = false;
    e->stale = false;
    src = series_src(e->kind);
    if (src >= 0 && s->pv.present_src[src])
        s->pv.present_src[src]--;
    if (s->pv.npresent)
        s->pv.npresent--;
    s->pub.gen++;
    return touch(s, slot);
}

/* The wall time a record will have once decoded (for minute boundaries); 0 if unknown. */
static uint64_t rec_wall(const struct sstate *s, const uint8_t *p, size_t len)
{
    struct dec d = { p, p + len, false };
    uint8_t type = get_u8(&d);
    uint64_t w;

    if (type == REC_FULL_KF || type == REC_COARSE_KF) {
        w = get_u64(&d);
        return d.bad ? 0 : w;
    }
    w = zz_dec(get_var(&d));
    if (d.bad || !s->pv.valid)
        return 0;
    return s->pub.wall_ns + s->pv.prev_wall_delta + w;
}

/*
 * Apply one record (payload p, sequence seq) to s.  Keyframes replace the
 * state; deltas need the state of the record just before.  On any error the
 * state is marked invalid (a keyframe is needed again): -EINVAL for a record
 * that does not decode, -ESTALE when an entity slot was reused after seq
 * (the record is stale), -ENOMEM.
 */
static int rec_decode(struct sstate *s, const uint8_t *p, size_t len, uint64_t seq,
                      const struct dec_ctx *cx)
{
    struct dec d = { p, p + len, false };
    bool coarse = s->pub.tier == RING_COARSE;
    uint64_t wall, mono, wd = 0, nsamples = 1;
    uint32_t us[SRC_N];
    unsigned masks, have;
    uint8_t type = get_u8(&d);
    long prev_slot = -1;
    bool kf;
    int r;

    s->pv.ntouched = 0;
    if (type == (coarse ? REC_COARSE_KF : REC_FULL_KF)) {
        kf = true;
    } else if (type == (coarse ? REC_COARSE_DELTA : REC_FULL_DELTA)) {
        kf = false;
        if (!s->pv.valid || seq != seq_next(s->pub.seq))
            goto bad;
    } else {
        goto bad;
    }
    if (kf) {
        wall = get_u64(&d);
        mono = get_u64(&d);
        (void)get_u64(&d); /* previous keyframe: only for walking back */
        (void)get_u64(&d);
        masks = get_u8(&d);
        have = get_u8(&d);
    } else {
        wd = s->pv.prev_wall_delta + zz_dec(get_var(&d));
        wall = s->pub.wall_ns + wd;
        mono = s->pub.mono_ns + wd + zz_dec(get_var(&d));
        masks = get_u8(&d);
        have = s->pub.have_mask | (masks & 0xfu);
    }
    for (unsigned i = 0; i < SRC_N; i++) {
        uint64_t v = ((masks | (masks >> 4)) >> i) & 1u ? get_var(&d) : 0;
        us[i] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
    if (coarse)
        nsamples = get_var(&d);
    if (d.bad || have > 0xfu)
        goto bad;

    s->pv.valid = false;
    if (kf) {
        for (uint32_t i = 0; i < s->pv.hi; i++)
            if (s->pv.e[i].present)
                s->pv.e[i].stale = true;
        s->pub.gen++;
    }
    while (d.p < d.end) {
        uint64_t code = get_var(&d), gap = code >> 2;
        unsigned eop = (unsigned)(code & 3), slot;

        if (d.bad || gap >= s->pv.nslots || (uint64_t)(prev_slot + 1) + gap >= s->pv.nslots)
            goto bad;
        slot = (unsigned)(prev_slot + 1 + (long)gap);
        prev_slot = slot;
        if (kf && (eop == EOP_CHANGE || eop == EOP_GONE))
            goto bad;
        if (eop == EOP_GONE)
            r = decode_gone(s, slot, cx);
        else if (eop == EOP_CHANGE && s->pv.e[slot].skip)
            r = s->pv.e[slot].present && !s->pv.e[slot].stale
                    ? skip_entries(&d, coarse, &s->pv.e[slot], false)
                    : -EINVAL;
        else if (eop == EOP_CHANGE)
            r = decode_change(s, &d, slot, seq, cx);
        else
            r = decode_appear(s, &d, slot, eop, seq, cx);
        if (r < 0)
            goto fail;
    }
    if (kf) {
        for (uint32_t i = 0; i < s->pv.hi; i++) {
            if (s->pv.e[i].stale) {
                r = decode_gone(s, i, cx);
                if (r < 0)
                    goto fail;
            }
        }
    }
    s->pub.seq = seq;
    s->pub.wall_ns = wall;
    s->pub.mono_ns = mono;
    s->pub.src_mask = masks & 0xfu;
    s->pub.err_mask = (masks >> 4) & 0xfu;
    s->pub.have_mask = have;
    memcpy(s->pub.read_us, us, sizeof(us));
    s->pub.nsamples = nsamples > UINT32_MAX ? UINT32_MAX : (uint32_t)nsamples;
    s->pub.keyframe = kf;
    s->pv.prev_wall_delta = kf ? 0 : wd;
    s->pv.valid = true;
    return 0;
bad:
    r = -EINVAL;
fail:
    s->pv.valid = false;
    for (uint32_t i = 0; i < s->pv.hi; i++)
        s->pv.e[i].stale = false;
    return r;
}

/* ==== 3. record I/O on a tier's circular byte log ===================================== */

struct tview {
    const uint8_t *data;
    uint64_t size;
};

struct rbuf {
    uint8_t *p;
    size_t cap;
};

enum { RR_OK, RR_MISMATCH, RR_BAD };

static uint32_t rec_crc(uint32_t len, uint32_t seq32, const uint8_t *payload)
{
    uint32_t pre[2] = { len, seq32 };
    return crc32c(crc32c(0, pre, sizeof(pre)), payload, len);
}

static inline uint32_t ld32(const uint8_t *p)
{
    return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
}

static inline uint32_t ld32_acq(const uint8_t *p)
{
    return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

/*
 * The record with sequence seq, expected at offset pos (or at 0 after a wrap
 * marker or when fewer than RH bytes are left).  Copies the payload into b.
 * RR_MISMATCH: another sequence number is there (not written yet, or
 * overwritten, or changed while copying); RR_BAD: the right sequence number
 * with a bad length or CRC.
 */
static int rec_read(struct tview tv, uint64_t pos, uint64_t seq, struct rbuf *b, uint64_t *at,
                    uint32_t *plen)
{
    uint32_t s32 = (uint32_t)seq, s1, s2, len, crc;
    const uint8_t *h;

    if (pos >= tv.size || (pos & 3))
        return RR_BAD;
    if (tv.size - pos < RH)
        pos = 0;
    h = tv.data + pos;
    s1 = ld32_acq(h + 8);
    len = ld32(h);
    if (len == WRAP_LEN) {
        if (s1 != s32 || pos == 0)
            return s1 != s32 ? RR_MISMATCH : RR_BAD;
        pos = 0;
        h = tv.data;
        s1 = ld32_acq(h + 8);
        len = ld32(h);
    }
    if (s1 != s32)
        return RR_MISMATCH;
    if (len == 0 || len > tv.size - pos - RH)
        return RR_BAD;
    if (b->cap < len) {
        size_t nc = b->cap ? b->cap : 4096;
        uint8_t *np;
        while (nc < len)
            nc *= 2;
        np = realloc(b->p, nc);
        if (!np)
            return RR_BAD;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p, h + RH, len);
    crc = ld32(h + 4);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    s2 = ld32(h + 8);
    if (s2 != s1 || ld32(h) != len)
        return RR_MISMATCH;
    if (rec_crc(len, s32, b->p) != crc)
        return RR_BAD;
    *at = pos;
    *plen = len;
    return RR_OK;
}

struct kfhead {
    uint64_t off, seq, wall, prev_off, prev_seq;
};

/*
 * A writer holds a seqlock odd for a few stores; one killed in between
 * leaves it odd for good.  Spin briefly, then yield, then give up (and
 * validate what was read some other way).
 */
#define LOCK_SPINS 16
#define LOCK_TRIES 64

/* The fixed part of the keyframe (off, seq), without its CRC: for walking the chain back. */
static bool kf_peek(struct tview tv, uint64_t off, uint64_t seq, struct kfhead *k)
{
    uint8_t fx[KF_FIXED];
    const uint8_t *h;
    uint32_t s1, len;

    if (off >= tv.size || (off & 3) || tv.size - off < RH + KF_FIXED || seq == 0)
        return false;
    h = tv.data + off;
    s1 = ld32_acq(h + 8);
    len = ld32(h);
    if (s1 != (uint32_t)seq || len < KF_FIXED || len > tv.size - off - RH)
        return false;
    memcpy(fx, h + RH, KF_FIXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (ld32(h + 8) != s1)
        return false;
    if (fx[0] != REC_FULL_KF && fx[0] != REC_COARSE_KF)
        return false;
    k->off = off;
    k->seq = seq;
    memcpy(&k->wall, fx + 1, 8);
    memcpy(&k->prev_off, fx + 17, 8);
    memcpy(&k->prev_seq, fx + 25, 8);
    return true;
}

/*
 * Header hints under the seqlock; after many failed tries (a writer killed
 * mid-update) take them as they are: they are validated anyway.
 */
static void hints_read(const struct disk_hdr *h, enum ring_tier t, struct disk_tier_hint *out,
                       uint32_t *page_size)
{
    for (int tries = 0;; tries++) {
        uint32_t l1 = __atomic_load_n(&h->hint_lock, __ATOMIC_ACQUIRE), l2;

        if ((l1 & 1) && tries < LOCK_TRIES) {
            if (tries >= LOCK_SPINS)
                sched_yield();
            continue;
        }
        memcpy(out, &h->tier[t], sizeof(*out));
        if (page_size)
            *page_size = h->page_size;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        l2 = __atomic_load_n(&h->hint_lock, __ATOMIC_RELAXED);
        if (l1 == l2 || tries >= LOCK_TRIES)
            return;
    }
}

/* A slot copied under its seqlock. */
static bool slot_copy(const uint8_t *slots, uint32_t i, struct disk_slot *out)
{
    const struct disk_slot *d =
        (const struct disk_slot *)(const void *)(slots + (size_t)i * SLOT_SIZE);

    for (int tries = 0; tries < LOCK_TRIES; tries++) {
        uint32_t l1 = __atomic_load_n(&d->lock, __ATOMIC_ACQUIRE);
        if (l1 & 1) {
            if (tries >= LOCK_SPINS)
                sched_yield();
            continue;
        }
        memcpy(out, d, sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&d->lock, __ATOMIC_RELAXED) == l1) {
            out->lock = l1;
            return true;
        }
    }
    return false;
}

/*
 * An entity's kind and key from the table (pieces followed through next).
 * -ESTALE when the slot was (re)assigned after seq in tier t, -EINVAL when it
 * is not a well-formed entity.
 */
static int slot_resolve(const uint8_t *slots, uint32_t nslots, unsigned slot, uint64_t seq,
                        enum ring_tier t, int *kind, char *key, size_t *keylen)
{
    for (int tries = 0; tries < 8; tries++) {
        struct disk_slot s0, s;
        size_t got, len;
        uint32_t next;
        unsigned pieces = 1;

        if (slot >= nslots || !slot_copy(slots, slot, &s0))
            return -EINVAL;
        if (s0.kind == 0 || s0.kind >= SK_NKINDS)
            return s0.kind == 0 ? -ESTALE : -EINVAL;
        if (seq32_before((uint32_t)seq, s0.born[t]))
            return -ESTALE;
        len = s0.keylen;
        if (len == 0 || len > SERIES_KEY_MAX)
            return -EINVAL;
        got = len < SLOT_INLINE ? len : SLOT_INLINE;
        memcpy(key, s0.name, got);
        next = s0.next;
        while (got < len) {
            size_t k;
            if (next == 0 || next > nslots || ++pieces > SLOT_MAX_PIECES ||
                !slot_copy(slots, next - 1, &s) || s.kind != SLOT_CONT)
                break;
            k = len - got < SLOT_INLINE ? len - got : SLOT_INLINE;
            memcpy(key + got, s.name, k);
            got += k;
            next = s.next;
        }
        {
            const struct disk_slot *d =
                (const struct disk_slot *)(const void *)(slots + (size_t)slot * SLOT_SIZE);
            if (__atomic_load_n(&d->lock, __ATOMIC_ACQUIRE) != s0.lock)
                continue; /* rewritten while we read the pieces */
        }
        if (got < len || !series_key_valid(s0.kind, key, len))
            return -EINVAL;
        *kind = s0.kind;
        *keylen = len;
        return 0;
    }
    return -ESTALE;
}

/* ==== 4. writer ======================================================================= */

struct kfent {
    uint64_t L, seq, wall;
};

/*
 * One tier as the writer sees it.  Positions are logical (L): they only grow,
 * and L % size is the offset in the data area; a wrap skips to the next
 * multiple of size.  The live region is [tail_L, head_L), never longer than
 * size.
 */
struct tier {
    uint8_t *data;
    uint64_t size;
    uint64_t tail_L, head_L, last_L, kf_L;
    uint64_t tail_seq, head_seq, last_seq, kf_seq;
    uint64_t records, dropped, appended;
    uint64_t newest_wall;
    uint64_t since_kf_bytes, since_kf_recs, last_kf_bytes;
    bool force_kf;
    struct kfent *kfq; /* retained keyframes, oldest first (a ring buffer) */
    size_t kfq_head, kfq_n, kfq_cap;
    struct sstate st;  /* the state after the newest record */
};

/* The writer's view of an entity-table slot (the disk copy is what readers see). */
struct wslot {
    uint8_t kind;
    uint16_t keylen;
    uint32_t next;
    uint32_t hash;
    uint32_t born[RING_NTIERS];
    uint32_t last_ref[RING_NTIERS];
    uint32_t seen;    /* == ring.epoch: already given in the sample being appended */
    uint32_t acc_gen; /* == ring.acc_gen: amin/amax/afm belong to the pending minute */
    char *key;
    uint64_t afm[2];
    uint64_t *amin, *amax;
    uint8_t anf;
};

struct pend {
    uint32_t slot;
    uint8_t op;
    uint64_t fm[2];
    size_t voff;
};

struct wmeta {
    uint64_t wall, mono;
    unsigned src_mask; /* stored */
    unsigned err_mask;
    uint32_t us[SRC_N];
};

struct ring {
    char *path;
    int fd;
    bool mem; /* anonymous scratch mapping (import, export) */
    bool fit; /* scratch for a sized-to-fit file: no size-driven keyframes */
    uint8_t *map;
    size_t map_len;
    struct disk_hdr *hdr;
    uint8_t *slots;
    uint32_t nslots;
    uint32_t page_size;
    struct wslot *ws;
    uint32_t *ht; /* key hash -> slot + 1 */
    size_t hcap;
    uint32_t free_hint; /* no free slot below this */
    uint32_t slots_used;
    struct tier t[RING_NTIERS];
    /* the sample being appended */
    uint32_t epoch;
    unsigned store;
    uint32_t seen_present[SRC_N];
    struct pend *pend;
    size_t npend, pendcap;
    uint64_t *pool;
    size_t pooln, poolcap;
    uint32_t *rowslot[SRC_N]; /* sampler row -> slot + 1, a guess checked before use */
    size_t rowcap[SRC_N];
    /*
     * What the sampler's source looked like when the last append stored it
     * with every row in the table (ring_append: a source read again to the
     * same bytes since is not compared row by row).  sm NULL: nothing kept.
     */
    struct {
        const struct sampler *sm;
        uint64_t gen, reads, unchanged;
    } kept[SRC_N];
    /* the coarse tier's pending minute */
    bool acc_on;
    uint32_t acc_gen;
    uint32_t acc_n;
    uint64_t acc_minute, acc_wall, acc_mono;
    unsigned acc_src, acc_err, acc_seen;
    uint32_t acc_us[SRC_N];
    struct dec_ctx cx_full, cx_plain;
    struct enc enc;
    struct rbuf rb;
    uint64_t entities_dropped;
    uint64_t coarse_failures;
};

static const char *tier_name(enum ring_tier t)
{
    return t == RING_FULL ? "full" : "coarse";
}

static inline struct disk_slot *slot_disk(struct ring *r, uint32_t i)
{
    return (struct disk_slot *)(void *)(r->slots + (size_t)i * SLOT_SIZE);
}

/* Rewrite a slot under its seqlock (readers retry while it is odd). */
static void slot_write(struct ring *r, uint32_t i, const struct disk_slot *src)
{
    struct disk_slot *d = slot_disk(r, i);
    uint32_t l = d->lock;

    if (!(l & 1))
        l++;
    __atomic_store_n(&d->lock, l, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy((uint8_t *)d + 4, (const uint8_t *)src + 4, SLOT_SIZE - 4);
    __atomic_store_n(&d->lock, l + 1, __ATOMIC_RELEASE);
}

static void slot_set_ref(struct ring *r, uint32_t slot, enum ring_tier t, uint64_t seq)
{
    r->ws[slot].last_ref[t] = (uint32_t)seq;
    __atomic_store_n(&slot_disk(r, slot)->last_ref[t], (uint32_t)seq, __ATOMIC_RELAXED);
}

static uint32_t key_hash(int kind, const char *key, size_t len)
{
    uint32_t h = (2166136261u ^ (uint32_t)kind) * 16777619u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

static bool is_entity_kind(unsigned k)
{
    return k > SK_NONE && k < SK_NKINDS;
}

static void ht_put(struct ring *r, uint32_t slot)
{
    size_t m = r->hcap - 1, i = r->ws[slot].hash & m;

    while (r->ht[i])
        i = (i + 1) & m;
    r->ht[i] = slot + 1;
}

static int ht_rebuild(struct ring *r)
{
    size_t n = 0, cap = 64;
    uint32_t *nh;

    for (uint32_t i = 0; i < r->nslots; i++)
        if (is_entity_kind(r->ws[i].kind))
            n++;
    while (cap < 2 * n + 16)
        cap *= 2;
    nh = calloc(cap, sizeof(*nh));
    if (!nh)
        return -ENOMEM;
    free(r->ht);
    r->ht = nh;
    r->hcap = cap;
    for (uint32_t i = 0; i < r->nslots; i++)
        if (is_entity_kind(r->ws[i].kind))
            ht_put(r, i);
    return 0;
}

static long ht_find(const struct ring *r, int kind, const char *key, size_t len, uint32_t h)
{
    size_t m = r->hcap - 1;

    for (size_t i = h & m; r->ht[i]; i = (i + 1) & m) {
        const struct wslot *w = &r->ws[r->ht[i] - 1];
        if (w->hash == h && w->kind == kind && w->keylen == len && memcmp(w->key, key, len) == 0)
            return (long)(r->ht[i] - 1);
    }
    return -1;
}

static void ws_clear(struct wslot *w)
{
    free(w->key);
    free(w->amin);
    free(w->amax);
    memset(w, 0, sizeof(*w));
}

/* Free an entity slot and its continuation pieces, on disk and here. */
static void slot_free_chain(struct ring *r, uint32_t i)
{
    static const struct disk_slot zero;
    uint32_t next = r->ws[i].next;

    slot_write(r, i, &zero);
    ws_clear(&r->ws[i]);
    r->slots_used--;
    for (unsigned p = 0; next && next <= r->nslots && p < SLOT_MAX_PIECES; p++) {
        uint32_t c = next - 1;
        if (r->ws[c].kind != SLOT_CONT)
            break;
        next = r->ws[c].next;
        slot_write(r, c, &zero);
        ws_clear(&r->ws[c]);
        r->slots_used--;
    }
    if (i < r->free_hint)
        r->free_hint = i;
}

/* Has tier T dropped every record that could refer to a slot last referenced at ref? */
static bool ref_gone(const struct tier *T, uint32_t ref)
{
    return ref == 0 || T->records == 0 || seq32_before(ref, (uint32_t)T->tail_seq);
}

/*
 * Free every entity slot no retained record and no present state refers to.
 * Run only when the table is full, so names stay put as long as possible
 * (an entity that comes back reuses its slot).
 */
static unsigned reclaim(struct ring *r)
{
    unsigned n = 0;

    for (uint32_t i = 0; i < r->nslots; i++) {
        struct wslot *w = &r->ws[i];
        if (!is_entity_kind(w->kind) || w->seen == r->epoch)
            continue;
        if ((i < r->t[0].st.pv.nslots && r->t[0].st.pv.e[i].present) ||
            (i < r->t[1].st.pv.nslots && r->t[1].st.pv.e[i].present))
            continue;
        if (!ref_gone(&r->t[RING_FULL], w->last_ref[RING_FULL]) ||
            !ref_gone(&r->t[RING_COARSE], w->last_ref[RING_COARSE]))
            continue;
        slot_free_chain(r, i);
        n++;
    }
    if (n && ht_rebuild(r) < 0)
        return 0;
    return n;
}

/* A new slot (plus continuation pieces) for an entity; -ENOSPC when the table is full. */
static int slot_alloc(struct ring *r, int kind, const char *key, size_t len, uint32_t h,
                      uint32_t *out)
{
    unsigned need = 1 + (len > SLOT_INLINE ? (unsigned)((len - 1) / SLOT_INLINE) : 0), got = 0;
    uint32_t idx[SLOT_MAX_PIECES];
    struct disk_slot d;
    char *k;

    if (need > SLOT_MAX_PIECES)
        return -EINVAL;
    for (int pass = 0; pass < 2; pass++) {
        got = 0;
        for (uint32_t i = r->free_hint; i < r->nslots && got < need; i++)
            if (r->ws[i].kind == 0)
                idx[got++] = i;
        if (got == need || pass == 1 || reclaim(r) == 0)
            break;
    }
    if (got < need)
        return -ENOSPC;
    k = malloc(len);
    if (!k)
        return -ENOMEM;
    memcpy(k, key, len);
    r->free_hint = idx[0] + 1;
    /* pieces first, last to first, so the chain is whole before the entity slot points to it */
    for (unsigned p = need; p-- > 1;) {
        size_t off = (size_t)p * SLOT_INLINE, n = len - off < SLOT_INLINE ? len - off : SLOT_INLINE;
        memset(&d, 0, sizeof(d));
        d.kind = SLOT_CONT;
        d.next = p + 1 < need ? idx[p + 1] + 1 : 0;
        memcpy(d.name, key + off, n);
        slot_write(r, idx[p], &d);
        r->ws[idx[p]].kind = SLOT_CONT;
        r->ws[idx[p]].next = d.next;
    }
    memset(&d, 0, sizeof(d));
    d.kind = (uint8_t)kind;
    d.keylen = (uint16_t)len;
    d.next = need > 1 ? idx[1] + 1 : 0;
    d.born[RING_FULL] = (uint32_t)r->t[RING_FULL].head_seq;
    d.born[RING_COARSE] = (uint32_t)r->t[RING_COARSE].head_seq;
    memcpy(d.name, key, len < SLOT_INLINE ? len : SLOT_INLINE);
    slot_write(r, idx[0], &d);
    {
        struct wslot *w = &r->ws[idx[0]];
        ws_clear(w);
        w->kind = (uint8_t)kind;
        w->keylen = (uint16_t)len;
        w->next = d.next;
        w->hash = h;
        w->born[0] = d.born[0];
        w->born[1] = d.born[1];
        w->key = k;
    }
    r->slots_used += need;
    if ((r->slots_used + 1) * 2 > r->hcap) {
        if (ht_rebuild(r) < 0)
            return -ENOMEM;
    } else {
        ht_put(r, idx[0]);
    }
    *out = idx[0];
    return 0;
}

/* The writer's own names, for decoding its records (and for recovery). */
static int w_resolve(void *arg, unsigned slot, uint64_t seq, enum ring_tier t, int *kind,
                     char *key, size_t *keylen)
{
    struct ring *r = arg;
    const struct wslot *w;

    if (slot >= r->nslots)
        return -EINVAL;
    w = &r->ws[slot];
    if (!is_entity_kind(w->kind) || !w->key)
        return -EINVAL;
    if (seq32_before((uint32_t)seq, w->born[t]))
        return -ESTALE;
    *kind = w->kind;
    memcpy(key, w->key, w->keylen);
    *keylen = w->keylen;
    return 0;
}

/* ---- keyframe queue ---- */

static struct kfent *kfq_at(struct tier *T, size_t i)
{
    return &T->kfq[(T->kfq_head + i) % T->kfq_cap];
}

static int kfq_push(struct tier *T, uint64_t L, uint64_t seq, uint64_t wall)
{
    if (T->kfq_n == T->kfq_cap) {
        size_t nc = T->kfq_cap ? T->kfq_cap * 2 : 64;
        struct kfent *nq = malloc(nc * sizeof(*nq));
        if (!nq)
            return -ENOMEM;
        for (size_t i = 0; i < T->kfq_n; i++)
            nq[i] = *kfq_at(T, i);
        free(T->kfq);
        T->kfq = nq;
        T->kfq_cap = nc;
        T->kfq_head = 0;
    }
    T->kfq[(T->kfq_head + T->kfq_n) % T->kfq_cap] = (struct kfent){ L, seq, wall };
    T->kfq_n++;
    T->kf_L = L;
    T->kf_seq = seq;
    return 0;
}

static void kfq_pop_front(struct tier *T)
{
    T->kfq_head = (T->kfq_head + 1) % T->kfq_cap;
    T->kfq_n--;
    if (!T->kfq_n)
        T->kf_seq = 0;
}

static void kfq_pop_back(struct tier *T)
{
    T->kfq_n--;
    if (T->kfq_n) {
        T->kf_L = kfq_at(T, T->kfq_n - 1)->L;
        T->kf_seq = kfq_at(T, T->kfq_n - 1)->seq;
    } else {
        T->kf_seq = 0;
    }
}

/* ---- hints and the circular log ---- */

static void hints_publish(struct ring *r)
{
    struct disk_hdr *h = r->hdr;
    uint32_t l = h->hint_lock;

    if (!(l & 1))
        l++;
    __atomic_store_n(&h->hint_lock, l, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    h->page_size = r->page_size;
    for (int t = 0; t < RING_NTIERS; t++) {
        struct tier *T = &r->t[t];
        struct disk_tier_hint *d = &h->tier[t];
        d->tail_off = T->tail_L % T->size;
        d->tail_seq = T->tail_seq;
        d->head_off = T->head_L % T->size;
        d->head_seq = T->head_seq;
        d->last_off = T->last_L % T->size;
        d->last_seq = T->records ? T->last_seq : 0;
        d->kf_off = T->kf_L % T->size;
        d->kf_seq = T->kfq_n ? T->kf_seq : 0;
        d->records = T->records;
        d->used = T->records ? T->head_L - T->tail_L : 0;
        d->dropped = T->dropped;
        d->appended = T->appended;
        d->oldest_wall_ns = T->kfq_n ? T->kfq[T->kfq_head].wall : 0;
        d->newest_wall_ns = T->records ? T->newest_wall : 0;
        d->keyframes = T->kfq_n;
    }
    __atomic_store_n(&h->hint_lock, l + 1, __ATOMIC_RELEASE);
}

/* Move tail_L off a wrap marker or a too-short end gap onto the next record. */
static void tier_norm_tail(struct tier *T)
{
    for (int i = 0; i < 2 && T->records; i++) {
        uint64_t phys = T->tail_L % T->size;
        if (T->size - phys >= RH && ld32(T->data + phys) != WRAP_LEN)
            return;
        T->tail_L += T->size - phys;
    }
}

static void tier_reset_empty(struct tier *T)
{
    T->records = 0;
    T->tail_L = T->head_L;
    T->tail_seq = T->head_seq;
    T->kfq_n = 0;
    T->kf_seq = 0;
    T->force_kf = true;
}

/*
 * Drop the oldest record: the header's tail moves first, then the record's
 * sequence number is zeroed, and only then may its bytes be overwritten.
 */
static void tier_drop(struct ring *r, struct tier *T)
{
    uint64_t phys;
    uint32_t len;
    uint8_t *h;

    tier_norm_tail(T);
    phys = T->tail_L % T->size;
    h = T->data + phys;
    len = T->size - phys >= RH ? ld32(h) : 0;
    if (len == 0 || len == WRAP_LEN || len > T->size - phys - RH) {
        /* not what we wrote: someone else changed the file; start this tier over */
        tier_reset_empty(T);
        hints_publish(r);
        return;
    }
    if (T->kfq_n && T->kfq[T->kfq_head].seq == T->tail_seq)
        kfq_pop_front(T);
    T->tail_L += align4(RH + len);
    T->tail_seq = seq_next(T->tail_seq);
    T->records--;
    T->dropped++;
    tier_norm_tail(T);
    hints_publish(r);
    __atomic_store_n((uint32_t *)(void *)(h + 8), 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void rec_store(uint8_t *at, uint32_t len, uint32_t seq32, const uint8_t *payload)
{
    uint32_t crc = payload ? rec_crc(len, seq32, payload) : 0;
    uint64_t total = payload ? align4(RH + len) : RH;

    __atomic_store_n((uint32_t *)(void *)(at + 8), 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(at, &len, 4);
    memcpy(at + 4, &crc, 4);
    if (payload) {
        memcpy(at + RH, payload, len);
        memset(at + RH + len, 0, total - RH - len);
    }
    __atomic_store_n((uint32_t *)(void *)(at + 8), seq32, __ATOMIC_RELEASE);
}

/* Append one record; the caller checked that it is at most size / 2. */
static int tier_put(struct ring *r, struct tier *T, const uint8_t *pl, uint32_t len, bool kf,
                    uint64_t wall)
{
    uint64_t total = align4(RH + len), L = T->head_L, phys = L % T->size, start = L;
    int ret = 0;

    if (phys + total > T->size)
        start = L + (T->size - phys);
    while (T->records && start + total > T->tail_L + T->size)
        tier_drop(r, T);
    if (!T->records) {
        T->tail_L = start;
        T->tail_seq = T->head_seq;
    }
    if (start != L && T->size - phys >= RH)
        rec_store(T->data + phys, WRAP_LEN, (uint32_t)T->head_seq, NULL);
    rec_store(T->data + start % T->size, len, (uint32_t)T->head_seq, pl);
    T->last_L = start;
    T->last_seq = T->head_seq;
    T->head_L = start + total;
    T->head_seq = seq_next(T->head_seq);
    T->records++;
    T->appended++;
    T->newest_wall = wall;
    if (kf) {
        ret = kfq_push(T, start, T->last_seq, wall);
        T->since_kf_bytes = 0;
        T->since_kf_recs = 0;
        T->last_kf_bytes = total;
    } else {
        T->since_kf_bytes += total;
        T->since_kf_recs++;
    }
    hints_publish(r);
    return ret;
}

/* ---- encoding ---- */

/* v / 1024 for a v (as int64) known to be a multiple of 1024, without signed arithmetic. */
static inline uint64_t sdiv1024(uint64_t v)
{
    return (v >> 63) ? 0 - ((0 - v) >> 10) : v >> 10;
}

struct fent {
    uint8_t f, op, mm;
    uint64_t v, m, x;
};

static void emit_block(struct enc *e, unsigned slot, unsigned eop, const struct fent *fe,
                       unsigned n, bool coarse)
{
    long pf = -1;

    put_var(e, ((uint64_t)(slot - (unsigned long)(e->prev_slot + 1)) << 2) | eop);
    e->prev_slot = slot;
    for (unsigned i = 0; i < n; i++) {
        uint64_t fgap = (uint64_t)(fe[i].f - (pf + 1)), last = i + 1 == n;
        uint64_t code = coarse ? (fgap << 5) | (last << 4) | ((uint64_t)fe[i].mm << 3) | fe[i].op
                               : (fgap << 4) | (last << 3) | fe[i].op;
        put_var(e, code);
        if (fe[i].op == FOP_DELTA || fe[i].op == FOP_DELTA_K)
            put_zz(e, fe[i].v);
        else if (fe[i].op == FOP_SET || fe[i].op == FOP_SET_K)
            put_var(e, fe[i].v);
        if (coarse && (fe[i].mm || fe[i].op == FOP_MM || fe[i].op == FOP_MM_K)) {
            put_zz(e, fe[i].m);
            put_zz(e, fe[i].x);
        }
        pf = fe[i].f;
    }
}

static void emit_gone(struct enc *e, unsigned slot)
{
    emit_block(e, slot, EOP_GONE, NULL, 0, false);
}

/* Absolute values (keyframes, entities that appear); mo/xo: coarse min/max offsets or NULL. */
static void emit_appear(struct enc *e, unsigned slot, int kind, const uint64_t *v,
                        const uint64_t fm[2], const uint64_t *mo, const uint64_t *xo, bool coarse)
{
    struct fent fe[SERIES_MAX_FIELDS];
    unsigned nf = series_nfields(kind), n = 0;
    bool always = !series_fields_optional(kind);

    for (unsigned f = 0; f < nf; f++) {
        uint64_t m = mo ? mo[f] : 0, x = xo ? xo[f] : 0;
        bool k;

        if (!series_fm_has(fm, f) || (always && v[f] == 0 && m == 0 && x == 0))
            continue;
        k = v[f] && !(v[f] & 1023) && !(m & 1023) && !(x & 1023);
        fe[n].f = (uint8_t)f;
        fe[n].op = k ? FOP_SET_K : FOP_SET;
        fe[n].mm = (m || x) ? 1 : 0;
        fe[n].v = k ? v[f] >> 10 : v[f];
        fe[n].m = k ? sdiv1024(m) : m;
        fe[n].x = k ? sdiv1024(x) : x;
        n++;
    }
    emit_block(e, slot, n ? EOP_APPEAR : EOP_APPEAR_EMPTY, fe, n, coarse);
}

/*
 * The change from old to new values of one entity, as residuals after
 * series_predict (the decoder runs the same predictions in the same order).
 */
static void emit_change(struct enc *e, unsigned slot, int kind, const uint64_t *old,
                        const uint64_t ofm[2], const uint64_t *nv, const uint64_t nfm[2],
                        const uint64_t *mo, const uint64_t *xo, bool coarse)
{
    uint64_t dq[SERIES_MAX_FIELDS], mq[SERIES_MAX_FIELDS], xq[SERIES_MAX_FIELDS];
    struct fent fe[SERIES_MAX_FIELDS];
    unsigned nf = series_nfields(kind), n = 0;

    for (unsigned f = 0; f < nf; f++) {
        bool oldp = series_fm_has(ofm, f), newp = series_fm_has(nfm, f);
        struct fent *x = &fe[n];

        dq[f] = mq[f] = xq[f] = 0;
        if (oldp && newp) {
            uint64_t d = nv[f] - old[f], rd, rm = 0, rx = 0;
            bool k, pr = series_predicted(kind, f);
            rd = d - (pr ? series_predict(kind, f, dq, old, ofm) : 0);
            dq[f] = d;
            if (coarse) {
                rm = mo[f] - (pr ? series_predict(kind, f, mq, old, ofm) : 0);
                rx = xo[f] - (pr ? series_predict(kind, f, xq, old, ofm) : 0);
                mq[f] = mo[f];
                xq[f] = xo[f];
            }
            if (!rd && !rm && !rx)
                continue;
            k = !(rd & 1023) && !(rm & 1023) && !(rx & 1023);
            x->f = (uint8_t)f;
            if (coarse && !rd) {
                x->op = k ? FOP_MM_K : FOP_MM;
                x->mm = 0;
            } else {
                x->op = k ? FOP_DELTA_K : FOP_DELTA;
                x->mm = coarse && (rm || rx);
            }
            x->v = k ? sdiv1024(rd) : rd;
            x->m = k ? sdiv1024(rm) : rm;
            x->x = k ? sdiv1024(rx) : rx;
            n++;
        } else if (newp) {
            uint64_t m = coarse ? mo[f] : 0, xx = coarse ? xo[f] : 0;
            bool k = nv[f] && !(nv[f] & 1023) && !(m & 1023) && !(xx & 1023);
            x->f = (uint8_t)f;
            x->op = k ? FOP_SET_K : FOP_SET;
            x->mm = (m || xx) ? 1 : 0;
            x->v = k ? nv[f] >> 10 : nv[f];
            x->m = k ? sdiv1024(m) : m;
            x->x = k ? sdiv1024(xx) : xx;
            n++;
        } else if (oldp) {
            x->f = (uint8_t)f;
            x->op = FOP_CLEAR;
            x->mm = 0;
            x->v = x->m = x->x = 0;
            n++;
        }
    }
    if (n)
        emit_block(e, slot, EOP_CHANGE, fe, n, coarse);
}

static void put_durations(struct enc *e, unsigned sampled, const uint32_t *us)
{
    for (unsigned s = 0; s < SRC_N; s++)
        if ((sampled >> s) & 1u)
            put_var(e, us[s]);
}

/* ---- the coarse tier's minute ---- */

static int acc_arrays(struct wslot *w, unsigned nf)
{
    if (w->amin && w->anf >= nf)
        return 0;
    free(w->amin);
    free(w->amax);
    w->amin = calloc(nf, sizeof(*w->amin));
    w->amax = calloc(nf, sizeof(*w->amax));
    w->anf = (uint8_t)nf;
    if (!w->amin || !w->amax) {
        free(w->amin);
        free(w->amax);
        w->amin = w->amax = NULL;
        w->anf = 0;
        return -ENOMEM;
    }
    return 0;
}

/*
 * Decoder hook, before a full-tier record changes an entity: the first change
 * in a minute seeds the minute's min/max with the value held so far, if that
 * value was sampled in this minute (its source was stored by an earlier
 * record of the minute).
 */
static void acc_prechange(void *arg, unsigned slot)
{
    struct ring *r = arg;
    struct wslot *w = &r->ws[slot];
    const struct sent *e = &r->t[RING_FULL].st.pv.e[slot];
    int src;

    if (!r->acc_on || w->acc_gen == r->acc_gen)
        return;
    w->acc_gen = r->acc_gen;
    w->afm[0] = w->afm[1] = 0;
    src = e->present ? series_src(e->kind) : -1;
    if (src < 0 || !((r->acc_seen >> src) & 1u) || acc_arrays(w, e->nf) < 0)
        return;
    memcpy(w->amin, e->v, e->nf * sizeof(*w->amin));
    memcpy(w->amax, e->v, e->nf * sizeof(*w->amax));
    w->afm[0] = e->fm[0];
    w->afm[1] = e->fm[1];
}

/* After a full-tier record: fold the new values of what it touched into the minute. */
static void acc_fold(struct ring *r, unsigned stored)
{
    const struct sstate *s = &r->t[RING_FULL].st;

    for (size_t i = 0; i < s->pv.ntouched; i++) {
        unsigned slot = s->pv.touched[i];
        const struct sent *e = &s->pv.e[slot];
        struct wslot *w = &r->ws[slot];
        int src;

        if (!e->present)
            continue;
        src = series_src(e->kind);
        if (src < 0 || !((stored >> src) & 1u))
            continue;
        if (w->acc_gen != r->acc_gen) {
            w->acc_gen = r->acc_gen;
            w->afm[0] = w->afm[1] = 0;
        }
        if (acc_arrays(w, e->nf) < 0)
            continue;
        for (unsigned f = 0; f < e->nf; f++) {
            if (!series_fm_has(e->fm, f))
                continue;
            if (series_fm_has(w->afm, f)) {
                if (e->v[f] < w->amin[f])
                    w->amin[f] = e->v[f];
                if (e->v[f] > w->amax[f])
                    w->amax[f] = e->v[f];
            } else {
                w->amin[f] = w->amax[f] = e->v[f];
                series_fm_set(w->afm, f);
            }
        }
    }
}

static void acc_record(struct ring *r, const struct ring_state *ps)
{
    r->acc_n++;
    r->acc_src |= ps->src_mask;
    r->acc_err |= ps->err_mask;
    r->acc_seen |= ps->src_mask;
    for (unsigned s = 0; s < SRC_N; s++)
        if (((ps->src_mask | ps->err_mask) >> s) & 1u && ps->read_us[s] > r->acc_us[s])
            r->acc_us[s] = ps->read_us[s];
    r->acc_wall = ps->wall_ns;
    r->acc_mono = ps->mono_ns;
    r->acc_minute = ps->wall_ns / NS_PER_MIN;
}

static void acc_reset(struct ring *r)
{
    r->acc_n = 0;
    r->acc_src = r->acc_err = r->acc_seen = 0;
    memset(r->acc_us, 0, sizeof(r->acc_us));
    if (++r->acc_gen == 0) {
        for (uint32_t i = 0; i < r->nslots; i++)
            r->ws[i].acc_gen = 0;
        r->acc_gen = 1;
    }
}

static void acc_offsets(const struct ring *r, unsigned slot, const struct sent *e, uint64_t *mo,
                        uint64_t *xo)
{
    const struct wslot *w = &r->ws[slot];
    bool cur = w->acc_gen == r->acc_gen && w->amin;

    for (unsigned f = 0; f < e->nf; f++) {
        if (cur && f < w->anf && series_fm_has(w->afm, f) && series_fm_has(e->fm, f)) {
            mo[f] = e->v[f] - w->amin[f];
            xo[f] = w->amax[f] - e->v[f];
        } else {
            mo[f] = xo[f] = 0;
        }
    }
}

/* Write the pending minute as one coarse record. */
static int coarse_flush(struct ring *r)
{
    struct tier *C = &r->t[RING_COARSE];
    struct sstate *cs = &C->st, *fs = &r->t[RING_FULL].st;
    struct enc *e = &r->enc;
    uint64_t mo[SERIES_MAX_FIELDS], xo[SERIES_MAX_FIELDS], seq;
    uint32_t hi = fs->pv.hi > cs->pv.hi ? fs->pv.hi : cs->pv.hi;
    unsigned masks = r->acc_src | (r->acc_err << 4);
    bool kf;
    int ret;

    if (!r->acc_n)
        return 0;
    kf = C->force_kf || !cs->pv.valid || C->since_kf_recs >= KF_MAX_RECS_COARSE ||
         C->since_kf_bytes >= (uint64_t)KF_RATIO * C->last_kf_bytes;
    for (int pass = 0; pass < 3; pass++) {
        bool need_kf = false;

        e->n = 0;
        e->err = 0;
        e->prev_slot = -1;
        if (kf) {
            put_u8(e, REC_COARSE_KF);
            put_u64(e, r->acc_wall);
            put_u64(e, r->acc_mono);
            put_u64(e, C->kfq_n ? C->kf_L % C->size : KF_NONE);
            put_u64(e, C->kfq_n ? C->kf_seq : 0);
            put_u8(e, (uint8_t)masks);
            put_u8(e, (uint8_t)fs->pub.have_mask);
        } else {
            uint64_t wd = r->acc_wall - cs->pub.wall_ns;
            put_u8(e, REC_COARSE_DELTA);
            put_zz(e, wd - cs->pv.prev_wall_delta);
            put_zz(e, (r->acc_mono - cs->pub.mono_ns) - wd);
            put_u8(e, (uint8_t)masks);
        }
        put_durations(e, r->acc_src | r->acc_err, r->acc_us);
        put_var(e, r->acc_n);
        for (uint32_t slot = 0; slot < hi; slot++) {
            const struct sent *fx = &fs->pv.e[slot], *cx = &cs->pv.e[slot];
            bool np = slot < fs->pv.hi && fx->present, op = !kf && slot < cs->pv.hi && cx->present;

            if (!np && !op)
                continue;
            if (np)
                acc_offsets(r, slot, fx, mo, xo);
            if (np && op && cx->kind != fx->kind) {
                need_kf = true;
                break;
            }
            if (np && !op)
                emit_appear(e, slot, fx->kind, fx->v, fx->fm, mo, xo, true);
            else if (!np)
                emit_gone(e, slot);
            else
                emit_change(e, slot, fx->kind, cx->v, cx->fm, fx->v, fx->fm, mo, xo, true);
        }
        if (!kf && (need_kf || (!r->fit && C->since_kf_bytes + C->last_kf_bytes +
                                                   align4(RH + e->n) > C->size / 2))) {
            kf = true;
            continue;
        }
        break;
    }
    if (e->err) {
        acc_reset(r);
        return e->err;
    }
    if (align4(RH + e->n) > C->size / 2) {
        C->force_kf = true;
        r->coarse_failures++;
        acc_reset(r);
        return -EFBIG;
    }
    seq = C->head_seq;
    for (uint32_t slot = 0; slot < hi; slot++) {
        bool np = slot < fs->pv.hi && fs->pv.e[slot].present;
        bool op = slot < cs->pv.hi && cs->pv.e[slot].present;
        if (np != op)
            slot_set_ref(r, slot, RING_COARSE, seq);
    }
    ret = tier_put(r, C, e->p, (uint32_t)e->n, kf, r->acc_wall);
    if (ret == 0) {
        ret = rec_decode(cs, e->p, e->n, seq, &r->cx_plain);
        if (ret < 0)
            ret = -EIO;
    }
    C->force_kf = ret < 0;
    if (ret < 0)
        r->coarse_failures++;
    acc_reset(r);
    return ret;
}

/* ---- appending a sample ---- */

static int pend_push(struct ring *r, uint32_t slot, unsigned op, const uint64_t *v,
                     const uint64_t fm[2], unsigned nf)
{
    struct pend *p;

    if (r->npend == r->pendcap) {
        size_t nc = r->pendcap ? r->pendcap * 2 : 256;
        struct pend *np = realloc(r->pend, nc * sizeof(*np));
        if (!np)
            return -ENOMEM;
        r->pend = np;
        r->pendcap = nc;
    }
    p = &r->pend[r->npend++];
    p->slot = slot;
    p->op = (uint8_t)op;
    p->fm[0] = fm ? fm[0] : 0;
    p->fm[1] = fm ? fm[1] : 0;
    p->voff = r->pooln;
    if (v) {
        if (r->pooln + nf > r->poolcap) {
            size_t nc = r->poolcap ? r->poolcap * 2 : 4096;
            uint64_t *np;
            while (nc < r->pooln + nf)
                nc *= 2;
            np = realloc(r->pool, nc * sizeof(*np));
            if (!np)
                return -ENOMEM;
            r->pool = np;
            r->poolcap = nc;
        }
        memcpy(r->pool + r->pooln, v, nf * sizeof(*v));
        r->pooln += nf;
    }
    return 0;
}

static int pend_cmp(const void *a, const void *b)
{
    const struct pend *x = a, *y = b;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

static void w_begin(struct ring *r, unsigned store, uint64_t wall)
{
    struct sstate *s = &r->t[RING_FULL].st;

    if (r->acc_n && wall / NS_PER_MIN != r->acc_minute)
        (void)coarse_flush(r);
    if (!s->pv.valid)
        sstate_clear(s, RING_FULL); /* a keyframe comes next; start from nothing */
    if (++r->epoch == 0) {
        for (uint32_t i = 0; i < r->nslots; i++)
            r->ws[i].seen = 0;
        r->epoch = 1;
    }
    r->store = store;
    memset(r->seen_present, 0, sizeof(r->seen_present));
    r->npend = 0;
    r->pooln = 0;
}

static inline bool u64_eq(const uint64_t *a, const uint64_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/*
 * The common case of a 1-second sample: a slab cache that did not change.
 * True when row i is the entity its cached slot holds, with the same values;
 * it is then marked seen and nothing else needs doing.
 */
static bool slab_row_unchanged(struct ring *r, const struct slab_cache *c, uint32_t cache)
{
    const struct sent *x;
    struct wslot *w;
    const uint64_t *v;

    if (!cache || cache > r->nslots)
        return false;
    w = &r->ws[cache - 1];
    x = &r->t[RING_FULL].st.pv.e[cache - 1];
    if (w->kind != SK_SLAB || !x->present || w->seen == r->epoch || w->keylen >= SLAB_NAME_MAX ||
        c->name[w->keylen] != '\0' || memcmp(w->key, c->name, w->keylen) != 0)
        return false;
    v = x->v;
    if (v[SF_SLAB_ACTIVE_OBJS] != c->active_objs || v[SF_SLAB_NUM_SLABS] != c->num_slabs ||
        v[SF_SLAB_ACTIVE_SLABS] != c->active_slabs || v[SF_SLAB_NUM_OBJS] != c->num_objs ||
        v[SF_SLAB_OBJSIZE] != c->objsize || v[SF_SLAB_OBJPERSLAB] != c->objperslab ||
        v[SF_SLAB_PAGESPERSLAB] != c->pagesperslab || v[SF_SLAB_LIMIT] != c->limit ||
        v[SF_SLAB_BATCHCOUNT] != c->batchcount || v[SF_SLAB_SHAREDFACTOR] != c->sharedfactor ||
        v[SF_SLAB_SHAREDAVAIL] != c->sharedavail)
        return false;
    w->seen = r->epoch;
    r->seen_present[SRC_SLABINFO]++;
    return true;
}

/* slab_row_unchanged for a vmalloc row (68 fields, most of them node counts). */
static bool vmalloc_row_unchanged(struct ring *r, const struct vmalloc_row *row, uint32_t cache)
{
    char key[SERIES_KEY_MAX];
    const struct sent *x;
    struct wslot *w;
    size_t keylen;

    if (!cache || cache > r->nslots)
        return false;
    w = &r->ws[cache - 1];
    x = &r->t[RING_FULL].st.pv.e[cache - 1];
    if (w->kind != SK_VMALLOC || !x->present || w->seen == r->epoch)
        return false;
    /* the field bits: areas, bytes, pages, flags, then one per node of node_mask */
    if (x->fm[0] != (((1ull << SF_VM_NODE0) - 1) | row->node_mask << SF_VM_NODE0) ||
        x->fm[1] != row->node_mask >> (64 - SF_VM_NODE0) || x->v[SF_VM_AREAS] != row->areas ||
        x->v[SF_VM_BYTES] != row->bytes || x->v[SF_VM_PAGES] != row->pages ||
        x->v[SF_VM_FLAGS] != row->flags)
        return false;
    /* absent nodes are 0 in the state as in series_get's values */
    for (uint64_t m = row->node_mask; m; m &= m - 1) {
        unsigned n = (unsigned)__builtin_ctzll(m);
        if (x->v[SF_VM_NODE0 + n] != row->nodes[n])
            return false;
    }
    keylen = series_key_vmalloc(key, row->caller, row->module, row->type);
    if (w->keylen != keylen || memcmp(w->key, key, keylen) != 0)
        return false;
    w->seen = r->epoch;
    r->seen_present[SRC_VMALLOCINFO]++;
    return true;
}

/* One entity of a stored source.  cache: the slot this sampler row had last time (+1), or NULL. */
static int w_entity(struct ring *r, const struct series_ent *se, uint32_t *cache)
{
    struct sstate *s = &r->t[RING_FULL].st;
    uint32_t slot = UINT32_MAX;
    unsigned nf = series_nfields(se->kind);
    struct wslot *w;
    struct sent *x;

    if (cache && *cache && *cache <= r->nslots) {
        w = &r->ws[*cache - 1];
        if (w->kind == se->kind && w->keylen == se->keylen &&
            memcmp(w->key, se->key, se->keylen) == 0)
            slot = *cache - 1;
    }
    if (slot == UINT32_MAX) {
        uint32_t h;
        long f;

        if (!nf || !series_key_valid(se->kind, se->key, se->keylen)) {
            r->entities_dropped++;
            return 0;
        }
        h = key_hash(se->kind, se->key, se->keylen);
        f = ht_find(r, se->kind, se->key, se->keylen, h);
        if (f >= 0) {
            slot = (uint32_t)f;
        } else {
            int ret = slot_alloc(r, se->kind, se->key, se->keylen, h, &slot);
            if (ret == -ENOSPC || ret == -EINVAL) {
                r->entities_dropped++;
                return 0;
            }
            if (ret < 0)
                return ret;
        }
        if (cache)
            *cache = slot + 1;
    }
    w = &r->ws[slot];
    if (w->seen == r->epoch) {
        r->entities_dropped++; /* the same key twice in one sample */
        return 0;
    }
    w->seen = r->epoch;
    x = &s->pv.e[slot];
    if (x->present) {
        r->seen_present[series_src(se->kind)]++;
        if (x->fm[0] == se->fm[0] && x->fm[1] == se->fm[1] && u64_eq(x->v, se->val, nf))
            return 0;
        return pend_push(r, slot, EOP_CHANGE, se->val, se->fm, nf);
    }
    return pend_push(r, slot, EOP_APPEAR, se->val, se->fm, nf);
}

static void full_body(struct ring *r, struct enc *e, bool kf)
{
    struct sstate *s = &r->t[RING_FULL].st;

    if (kf) {
        uint32_t hi = s->pv.hi;
        size_t pi = 0;

        if (r->npend && r->pend[r->npend - 1].slot + 1 > hi)
            hi = r->pend[r->npend - 1].slot + 1;
        for (uint32_t slot = 0; slot < hi; slot++) {
            while (pi < r->npend && r->pend[pi].slot < slot)
                pi++;
            if (pi < r->npend && r->pend[pi].slot == slot) {
                const struct pend *p = &r->pend[pi];
                if (p->op != EOP_GONE)
                    emit_appear(e, slot, r->ws[slot].kind, r->pool + p->voff, p->fm, NULL, NULL,
                                false);
            } else if (slot < s->pv.hi && s->pv.e[slot].present) {
                const struct sent *x = &s->pv.e[slot];
                emit_appear(e, slot, x->kind, x->v, x->fm, NULL, NULL, false);
            }
        }
        return;
    }
    for (size_t i = 0; i < r->npend; i++) {
        const struct pend *p = &r->pend[i];
        const struct sent *x = &s->pv.e[p->slot];

        if (p->op == EOP_GONE)
            emit_gone(e, p->slot);
        else if (p->op == EOP_APPEAR)
            emit_appear(e, p->slot, r->ws[p->slot].kind, r->pool + p->voff, p->fm, NULL, NULL,
                        false);
        else
            emit_change(e, p->slot, x->kind, x->v, x->fm, r->pool + p->voff, p->fm, NULL, NULL,
                        false);
    }
}

static void full_header(struct ring *r, struct enc *e, bool kf, const struct wmeta *m)
{
    struct tier *F = &r->t[RING_FULL];
    struct sstate *s = &F->st;
    unsigned masks = m->src_mask | (m->err_mask << 4);

    e->n = 0;
    e->err = 0;
    e->prev_slot = -1;
    if (kf) {
        put_u8(e, REC_FULL_KF);
        put_u64(e, m->wall);
        put_u64(e, m->mono);
        put_u64(e, F->kfq_n ? F->kf_L % F->size : KF_NONE);
        put_u64(e, F->kfq_n ? F->kf_seq : 0);
        put_u8(e, (uint8_t)masks);
        put_u8(e, (uint8_t)((s->pv.valid ? s->pub.have_mask : 0) | m->src_mask));
    } else {
        uint64_t wd = m->wall - s->pub.wall_ns;
        put_u8(e, REC_FULL_DELTA);
        put_zz(e, wd - s->pv.prev_wall_delta);
        put_zz(e, (m->mono - s->pub.mono_ns) - wd);
        put_u8(e, (uint8_t)masks);
    }
    put_durations(e, m->src_mask | m->err_mask, m->us);
}

static int w_commit(struct ring *r, const struct wmeta *m)
{
    struct tier *F = &r->t[RING_FULL];
    struct sstate *s = &F->st;
    struct enc *e = &r->enc;
    uint64_t seq;
    bool kf;
    int ret;

    for (unsigned src = 0; src < SRC_N; src++) {
        if (!((r->store >> src) & 1u) || r->seen_present[src] >= s->pv.present_src[src])
            continue;
        for (uint32_t i = 0; i < s->pv.hi; i++) {
            const struct sent *x = &s->pv.e[i];
            if (x->present && series_src(x->kind) == (int)src && r->ws[i].seen != r->epoch) {
                ret = pend_push(r, i, EOP_GONE, NULL, NULL, 0);
                if (ret < 0)
                    return ret;
            }
        }
    }
    if (r->npend > 1)
        qsort(r->pend, r->npend, sizeof(*r->pend), pend_cmp);

    kf = F->force_kf || !s->pv.valid || F->since_kf_recs >= KF_MAX_RECS_FULL ||
         F->since_kf_bytes >= (uint64_t)KF_RATIO * F->last_kf_bytes;
    if (!kf) {
        full_header(r, e, false, m);
        full_body(r, e, false);
        if (!r->fit &&
            F->since_kf_bytes + F->last_kf_bytes + align4(RH + e->n) > F->size / 2)
            kf = true;
    }
    if (kf) {
        full_header(r, e, true, m);
        full_body(r, e, true);
    }
    if (e->err)
        return e->err;
    if (align4(RH + e->n) > F->size / 2) {
        F->force_kf = true;
        return -EFBIG;
    }
    seq = F->head_seq;
    for (size_t i = 0; i < r->npend; i++)
        if (r->pend[i].op != EOP_CHANGE)
            slot_set_ref(r, r->pend[i].slot, RING_FULL, seq);
    ret = tier_put(r, F, e->p, (uint32_t)e->n, kf, m->wall);
    if (ret < 0)
        return ret;
    /* Apply the record exactly as every reader will, then check it says what we meant. */
    r->acc_on = true;
    ret = rec_decode(s, e->p, e->n, seq, &r->cx_full);
    r->acc_on = false;
    if (ret < 0) {
        F->force_kf = true;
        return ret == -ENOMEM ? ret : -EIO;
    }
    for (size_t i = 0; i < r->npend; i++) {
        const struct pend *p = &r->pend[i];
        const struct sent *x = &s->pv.e[p->slot];
        bool ok = p->op == EOP_GONE
                      ? !x->present
                      : x->present && x->fm[0] == p->fm[0] && x->fm[1] == p->fm[1] &&
                            memcmp(x->v, r->pool + p->voff, x->nf * sizeof(uint64_t)) == 0;
        if (!ok) {
            F->force_kf = true;
            return -EIO;
        }
    }
    acc_fold(r, s->pub.src_mask);
    acc_record(r, &s->pub);
    F->force_kf = false;
    return 0;
}

int ring_append(struct ring *r, const struct sampler *sm, unsigned src_mask, unsigned err_mask,
                uint64_t wall_ns, uint64_t mono_ns)
{
    char keybuf[SERIES_KEY_MAX];
    struct series_ent se;
    struct wmeta m;
    unsigned store;
    int ret;

    src_mask &= SRC_ALL;
    err_mask &= SRC_ALL;
    err_mask |= src_mask & ~sm->valid;
    store = src_mask & ~err_mask;
    if (!r->page_size && sm->page_size && sm->page_size <= UINT32_MAX)
        r->page_size = (uint32_t)sm->page_size;
    memset(&m, 0, sizeof(m));
    m.wall = wall_ns;
    m.mono = mono_ns;
    m.src_mask = store;
    m.err_mask = err_mask;
    for (unsigned s = 0; s < SRC_N; s++) {
        uint64_t us = sm->src[s].read_ns / 1000;
        if (((store | err_mask) >> s) & 1u)
            m.us[s] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
    w_begin(r, store, wall_ns);
    for (unsigned s = 0; s < SRC_N; s++) {
        const struct source *src = &sm->src[s];
        uint64_t dropped = r->entities_dropped;
        size_t n;

        if (!((store >> s) & 1u))
            continue;
        /*
         * Read again to the same bytes (so the same parse: gen) since the
         * append that stored every row: the stored entities are the rows.
         * A sampler filled by hand (no read since) or set up again (counts
         * start over) is compared row by row.
         */
        if (r->kept[s].sm == sm && r->kept[s].gen == src->gen && src->reads > r->kept[s].reads &&
            src->unchanged - r->kept[s].unchanged == src->reads - r->kept[s].reads &&
            r->t[RING_FULL].st.pv.valid) {
            r->seen_present[s] = r->t[RING_FULL].st.pv.present_src[s];
            continue;
        }
        r->kept[s].sm = NULL;
        n = series_count(sm, (enum src_id)s);
        if (n > r->rowcap[s]) {
            uint32_t *nr = realloc(r->rowslot[s], n * sizeof(*nr));
            if (!nr) {
                ret = -ENOMEM;
                goto fail;
            }
            memset(nr + r->rowcap[s], 0, (n - r->rowcap[s]) * sizeof(*nr));
            r->rowslot[s] = nr;
            r->rowcap[s] = n;
        }
        for (size_t i = 0; i < n; i++) {
            if (s == SRC_SLABINFO && i < sm->slab.n &&
                slab_row_unchanged(r, &sm->slab.caches[i], r->rowslot[s][i]))
                continue;
            if (s == SRC_VMALLOCINFO && i < sm->vmalloc.n &&
                vmalloc_row_unchanged(r, &sm->vmalloc.rows[i], r->rowslot[s][i]))
                continue;
            series_get(sm, (enum src_id)s, i, &se, keybuf);
            ret = w_entity(r, &se, &r->rowslot[s][i]);
            if (ret < 0)
                goto fail;
        }
        /* a row left out (the entity table full) is tried again next time */
        if (r->entities_dropped == dropped)
            r->kept[s].sm = sm;
    }
    ret = w_commit(r, &m);
    if (ret < 0)
        goto fail;
    for (unsigned s = 0; s < SRC_N; s++) {
        if (r->kept[s].sm == sm && ((store >> s) & 1u)) {
            r->kept[s].gen = sm->src[s].gen;
            r->kept[s].reads = sm->src[s].reads;
            r->kept[s].unchanged = sm->src[s].unchanged;
        }
    }
    return 0;
fail:
    memset(r->kept, 0, sizeof(r->kept));
    return ret;
}

/* Append a reconstructed state (export): entities of the sources in store replace ours. */
static int append_state(struct ring *r, const struct ring_state *st, unsigned store)
{
    const struct ring_state_priv *pv = st->priv;
    struct series_ent se;
    struct wmeta m;
    int ret;

    memset(&m, 0, sizeof(m));
    m.wall = st->wall_ns;
    m.mono = st->mono_ns;
    m.src_mask = st->src_mask;
    m.err_mask = st->err_mask;
    memcpy(m.us, st->read_us, sizeof(m.us));
    if (!r->page_size)
        r->page_size = st->page_size;
    w_begin(r, store, st->wall_ns);
    for (uint32_t i = 0; i < pv->hi; i++) {
        const struct sent *x = &pv->e[i];
        int src;

        if (!x->present)
            continue;
        src = series_src(x->kind);
        if (src < 0 || !((store >> src) & 1u))
            continue;
        se.kind = x->kind;
        se.key = x->key;
        se.keylen = x->keylen;
        se.fm[0] = x->fm[0];
        se.fm[1] = x->fm[1];
        memset(se.val, 0, sizeof(se.val));
        memcpy(se.val, x->v, x->nf * sizeof(*se.val));
        ret = w_entity(r, &se, NULL);
        if (ret < 0)
            return ret;
    }
    return w_commit(r, &m);
}

/* ---- recovery ---- */

/*
 * Load the entity table.  A slot caught half-written (odd lock) or not well
 * formed is freed: no committed record can refer to it (slots are written
 * before the record that first names them).
 */
static int slots_load(struct ring *r)
{
    static const struct disk_slot zero;
    uint8_t *owned = calloc(r->nslots, 1);

    if (!owned)
        return -ENOMEM;
    r->slots_used = 0;
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct disk_slot d;
        char key[SERIES_KEY_MAX];
        uint32_t next, chain[SLOT_MAX_PIECES];
        size_t got, len;
        unsigned np = 0;
        bool ok;

        memcpy(&d, slot_disk(r, i), sizeof(d));
        if (d.lock & 1) {
            slot_write(r, i, &zero);
            continue;
        }
        if (!is_entity_kind(d.kind))
            continue;
        len = d.keylen;
        ok = len > 0 && len <= SERIES_KEY_MAX;
        got = ok ? (len < SLOT_INLINE ? len : SLOT_INLINE) : 0;
        if (ok)
            memcpy(key, d.name, got);
        next = d.next;
        while (ok && got < len) {
            const struct disk_slot *c;
            size_t k;
            if (next == 0 || next > r->nslots || np >= SLOT_MAX_PIECES - 1 || owned[next - 1]) {
                ok = false;
                break;
            }
            c = slot_disk(r, next - 1);
            if (c->kind != SLOT_CONT || (c->lock & 1)) {
                ok = false;
                break;
            }
            k = len - got < SLOT_INLINE ? len - got : SLOT_INLINE;
            memcpy(key + got, c->name, k);
            got += k;
            chain[np++] = next - 1;
            next = c->next;
        }
        if (!ok || !series_key_valid(d.kind, key, len)) {
            slot_write(r, i, &zero);
            continue;
        }
        {
            struct wslot *w = &r->ws[i];
            ws_clear(w);
            w->key = malloc(len);
            if (!w->key) {
                free(owned);
                return -ENOMEM;
            }
            memcpy(w->key, key, len);
            w->kind = d.kind;
            w->keylen = (uint16_t)len;
            w->next = np ? chain[0] + 1 : 0;
            w->hash = key_hash(d.kind, key, len);
            for (int t = 0; t < RING_NTIERS; t++) {
                w->born[t] = d.born[t];
                w->last_ref[t] = d.last_ref[t];
            }
        }
        owned[i] = 1;
        r->slots_used++;
        for (unsigned p = 0; p < np; p++) {
            owned[chain[p]] = 1;
            r->ws[chain[p]].kind = SLOT_CONT;
            r->ws[chain[p]].next = p + 1 < np ? chain[p + 1] + 1 : 0;
            r->slots_used++;
        }
    }
    /* pieces nobody owns, and kinds we do not know */
    r->free_hint = r->nslots;
    for (uint32_t i = 0; i < r->nslots; i++) {
        const struct disk_slot *d = slot_disk(r, i);
        if (!owned[i] && d->kind != 0)
            slot_write(r, i, &zero);
        if (!owned[i] && i < r->free_hint)
            r->free_hint = i;
    }
    free(owned);
    return ht_rebuild(r);
}

static bool hint_off_ok(const struct tier *T, uint64_t off)
{
    return off < T->size && !(off & 3);
}

/*
 * Find the retained records of a tier: start at the header's tail (or, if
 * that record is gone, the oldest keyframe reachable from the newest one,
 * or the head of a tier that was empty) and follow records while their
 * sequence numbers and CRCs are right.  The first record that is not valid
 * is where the next one will be written.
 */
static int tier_scan(struct ring *r, struct tier *T, enum ring_tier t,
                     const struct disk_tier_hint *h, char *why, size_t n)
{
    struct tview tv = { T->data, T->size };
    uint64_t at, spos = 0, sseq = 0, L, seq, pos;
    uint32_t len;
    bool found = false;

    T->records = 0;
    T->kfq_n = 0;
    T->kf_seq = 0;
    T->last_kf_bytes = T->since_kf_bytes = T->since_kf_recs = 0;
    T->dropped = h->dropped;
    T->appended = h->appended;
    if (h->tail_seq && hint_off_ok(T, h->tail_off) &&
        rec_read(tv, h->tail_off, h->tail_seq, &r->rb, &at, &len) == RR_OK) {
        spos = at;
        sseq = h->tail_seq;
        found = true;
    }
    if (!found && h->kf_seq) {
        struct kfhead k, p;
        if (kf_peek(tv, h->kf_off, h->kf_seq, &k)) {
            for (uint64_t i = 0; i < T->size / RH; i++) {
                if (k.prev_seq == 0 || k.prev_seq >= k.seq ||
                    !kf_peek(tv, k.prev_off, k.prev_seq, &p))
                    break;
                k = p;
            }
            if (rec_read(tv, k.off, k.seq, &r->rb, &at, &len) == RR_OK) {
                spos = at;
                sseq = k.seq;
                found = true;
            }
        }
    }
    if (!found && h->head_seq && hint_off_ok(T, h->head_off) &&
        rec_read(tv, h->head_off, h->head_seq, &r->rb, &at, &len) == RR_OK) {
        spos = at;
        sseq = h->head_seq;
        found = true;
    }
    if (!found) {
        if (h->records && h->last_seq) {
            snprintf(why, n,
                     "%s tier: no valid record at the tail, the newest keyframe or the head",
                     tier_name(t));
            return -EINVAL;
        }
        T->head_L = hint_off_ok(T, h->head_off) ? h->head_off : 0;
        T->head_seq = h->head_seq && (uint32_t)h->head_seq ? h->head_seq : 1;
        tier_reset_empty(T);
        return 0;
    }
    T->tail_L = L = pos = spos;
    T->tail_seq = seq = sseq;
    for (;;) {
        uint64_t total;

        if (rec_read(tv, pos, seq, &r->rb, &at, &len) != RR_OK)
            break;
        if (at != pos)
            L += T->size - L % T->size;
        total = align4(RH + len);
        if (L + total - T->tail_L > T->size)
            break;
        if (len >= KF_FIXED && r->rb.p[0] == (t == RING_FULL ? REC_FULL_KF : REC_COARSE_KF)) {
            uint64_t wall;
            memcpy(&wall, r->rb.p + 1, 8);
            if (kfq_push(T, L, seq, wall) < 0)
                return -ENOMEM;
            T->last_kf_bytes = total;
            T->since_kf_bytes = 0;
            T->since_kf_recs = 0;
        } else {
            T->since_kf_bytes += total;
            T->since_kf_recs++;
        }
        T->last_L = L;
        T->last_seq = seq;
        T->records++;
        L += total;
        pos = L % T->size;
        seq = seq_next(seq);
    }
    T->head_L = L;
    T->head_seq = seq;
    if (T->appended < T->records)
        T->appended = T->records;
    if (!T->kfq_n) {
        /* records without a keyframe cannot be decoded: keep the sequence going, drop them */
        T->dropped += T->records;
        tier_reset_empty(T);
    }
    return 0;
}

/* Abandon the records from (L, seq) on: zero them so no reader follows into them. */
static void tier_truncate(struct ring *r, struct tier *T, uint64_t L, uint64_t seq,
                          uint64_t prev_L, uint64_t prev_seq)
{
    struct tview tv = { T->data, T->size };
    uint64_t pos = L % T->size, s = seq, at, cut = 0;
    uint32_t len;

    while (s != T->head_seq && rec_read(tv, pos, s, &r->rb, &at, &len) == RR_OK) {
        __atomic_store_n((uint32_t *)(void *)(T->data + at + 8), 0, __ATOMIC_RELAXED);
        pos = (at + align4(RH + len)) % T->size;
        s = seq_next(s);
        cut++;
    }
    while (T->kfq_n && kfq_at(T, T->kfq_n - 1)->seq >= seq)
        kfq_pop_back(T);
    T->records = T->records > cut ? T->records - cut : 0;
    T->head_L = L;
    T->head_seq = seq;
    T->last_L = prev_L;
    T->last_seq = prev_seq;
    T->force_kf = true;
    if (!T->records || !T->kfq_n || !prev_seq)
        tier_reset_empty(T);
}

/*
 * Decode the records from keyframe kfq[kfi] to the head into the tier's
 * state.  For the full tier, records newer than acc_after also feed the
 * coarse tier's pending minute (writing coarse records at minute changes),
 * exactly as if they were being appended now.
 */
static int tier_replay(struct ring *r, struct tier *T, size_t kfi, uint64_t acc_after)
{
    struct tview tv = { T->data, T->size };
    bool full = T == &r->t[RING_FULL];
    uint64_t L = kfq_at(T, kfi)->L, seq = kfq_at(T, kfi)->seq, pos = L % T->size;
    uint64_t prev_L = 0, prev_seq = 0, at;
    uint32_t len;
    int ret;

    while (seq != T->head_seq) {
        uint64_t wall;
        bool acc;

        if (rec_read(tv, pos, seq, &r->rb, &at, &len) != RR_OK) {
            tier_truncate(r, T, L, seq, prev_L, prev_seq);
            break;
        }
        if (at != pos)
            L += T->size - L % T->size;
        wall = rec_wall(&T->st, r->rb.p, len);
        acc = full && wall > acc_after;
        if (acc && r->acc_n && wall / NS_PER_MIN != r->acc_minute) {
            /* coarse_flush reuses nothing of rb; the payload stays valid */
            (void)coarse_flush(r);
        }
        r->acc_on = acc;
        ret = rec_decode(&T->st, r->rb.p, len, seq, full ? &r->cx_full : &r->cx_plain);
        r->acc_on = false;
        if (ret == -ENOMEM)
            return ret;
        if (ret < 0) {
            tier_truncate(r, T, L, seq, prev_L, prev_seq);
            break;
        }
        if (acc) {
            acc_fold(r, T->st.pub.src_mask);
            acc_record(r, &T->st.pub);
        }
        prev_L = L;
        prev_seq = seq;
        L += align4(RH + len);
        pos = L % T->size;
        seq = seq_next(seq);
    }
    T->newest_wall = T->records && T->st.pv.valid ? T->st.pub.wall_ns : 0;
    return 0;
}

static void ring_free(struct ring *r)
{
    if (!r)
        return;
    for (int t = 0; t < RING_NTIERS; t++) {
        sstate_free(&r->t[t].st);
        free(r->t[t].kfq);
    }
    if (r->ws)
        for (uint32_t i = 0; i < r->nslots; i++)
            ws_clear(&r->ws[i]);
    free(r->ws);
    free(r->ht);
    free(r->pend);
    free(r->pool);
    for (int s = 0; s < SRC_N; s++)
        free(r->rowslot[s]);
    free(r->enc.p);
    free(r->rb.p);
    if (r->map && r->map != MAP_FAILED)
        munmap(r->map, r->map_len);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r);
}

/*
 * A slot's born and last_ref seqs never lie ahead of its tier's head; in a
 * damaged file they might, and the writer's own next record would then look
 * stale to every reader.  Bring them back to the head.
 */
static void slots_clamp(struct ring *r)
{
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct wslot *w = &r->ws[i];
        bool fix = false;

        if (!is_entity_kind(w->kind))
            continue;
        for (int t = 0; t < RING_NTIERS; t++) {
            uint32_t head = (uint32_t)r->t[t].head_seq;
            if (seq32_before(head, w->born[t])) {
                w->born[t] = head;
                fix = true;
            }
            if (w->last_ref[t] && !seq32_before(w->last_ref[t], head)) {
                w->last_ref[t] = r->t[t].records ? (uint32_t)r->t[t].last_seq : 0;
                fix = true;
            }
        }
        if (fix) {
            struct disk_slot d;
            memcpy(&d, slot_disk(r, i), sizeof(d));
            memcpy(d.born, w->born, sizeof(d.born));
            memcpy(d.last_ref, w->last_ref, sizeof(d.last_ref));
            slot_write(r, i, &d);
        }
    }
}

/*
 * Set up a writer on a mapping whose header passed hdr_check, recovering the
 * state after the newest valid record.  -EINVAL (why filled) when the
 * contents are unusable, -ENOMEM.
 */
static int ring_attach(struct ring *r, char *why, size_t n)
{
    struct disk_hdr *h = (struct disk_hdr *)(void *)r->map;
    struct disk_tier_hint hint[RING_NTIERS];
    struct tier *F = &r->t[RING_FULL], *C = &r->t[RING_COARSE];
    uint64_t coarse_last = 0;
    int ret;

    r->hdr = h;
    r->nslots = h->nslots;
    r->slots = r->map + h->slots_off;
    r->page_size = h->page_size;
    r->acc_gen = 1;
    r->cx_full = (struct dec_ctx){ w_resolve, acc_prechange, r };
    r->cx_plain = (struct dec_ctx){ w_resolve, NULL, r };
    memcpy(hint, h->tier, sizeof(hint));
    r->ws = calloc(r->nslots, sizeof(*r->ws));
    if (!r->ws)
        return -ENOMEM;
    for (int t = 0; t < RING_NTIERS; t++) {
        r->t[t].data = r->map + h->tier_off[t];
        r->t[t].size = h->tier_size[t];
        ret = sstate_init(&r->t[t].st, (enum ring_tier)t, r->nslots);
        if (ret < 0)
            return ret;
    }
    /* scanning only reads: a file found unusable here is moved aside untouched */
    for (int t = RING_COARSE; t >= RING_FULL; t--) {
        ret = tier_scan(r, &r->t[t], (enum ring_tier)t, &hint[t], why, n);
        if (ret < 0)
            return ret;
    }
    if (h->hint_lock & 1)
        h->hint_lock++;
    ret = slots_load(r);
    if (ret < 0)
        return ret;
    if (C->kfq_n) {
        ret = tier_replay(r, C, C->kfq_n - 1, 0);
        if (ret < 0)
            return ret;
        if (C->records && C->st.pv.valid)
            coarse_last = C->st.pub.wall_ns;
    }
    if (F->kfq_n) {
        size_t k = 0;
        if (coarse_last)
            for (size_t i = F->kfq_n; i-- > 0;)
                if (kfq_at(F, i)->wall <= coarse_last) {
                    k = i;
                    break;
                }
        ret = tier_replay(r, F, k, coarse_last);
        if (ret < 0)
            return ret;
    }
    for (int t = 0; t < RING_NTIERS; t++)
        if (!r->t[t].st.pv.valid)
            r->t[t].force_kf = true;
    slots_clamp(r);
    hints_publish(r);
    return 0;
}

/* ---- files ---- */

static int geom_from_cfg(const struct ring_config *cfg, struct geom *g)
{
    uint64_t f = cfg && cfg->full_bytes ? cfg->full_bytes : RING_DEFAULT_FULL_BYTES;
    uint64_t c = cfg && cfg->coarse_bytes ? cfg->coarse_bytes : RING_DEFAULT_COARSE_BYTES;
    uint32_t s = cfg && cfg->entity_slots ? cfg->entity_slots : RING_DEFAULT_SLOTS;

    if (f < RING_MIN_TIER_BYTES || c < RING_MIN_TIER_BYTES || f > (1ull << 40) ||
        c > (1ull << 40) || s < 16 || s > MAX_SLOTS)
        return -EINVAL;
    g->nslots = s;
    g->size[RING_FULL] = f & ~(uint64_t)63;
    g->size[RING_COARSE] = c & ~(uint64_t)63;
    return 0;
}

static void fsync_dir_of(const char *path)
{
    char *dup = strdup(path);
    int dfd;

    if (!dup)
        return;
    dfd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dup);
}

/* A new, empty file of the given geometry at tmp (created exclusively). */
static int file_create(const char *tmp, const struct geom *g, int *fdout)
{
    uint64_t size = geom_file_size(g);
    struct disk_hdr h;
    int fd, r;

    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0 && errno == EEXIST) {
        unlink(tmp);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    }
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)size) < 0) {
        r = -errno;
        goto fail;
    }
    /* reserve the blocks now: a full disk must fail here, not as SIGBUS in a mapped store */
    r = posix_fallocate(fd, 0, (off_t)size);
    if (r && r != EOPNOTSUPP && r != EINVAL) {
        r = -r;
        goto fail;
    }
    hdr_init(&h, g, util_wall_ns());
    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        r = errno ? -errno : -EIO;
        goto fail;
    }
    *fdout = fd;
    return 0;
fail:
    close(fd);
    unlink(tmp);
    return r;
}

static int tmp_name(char *buf, size_t n, const char *path, const char *what)
{
    int k = snprintf(buf, n, "%s.%s.%ld", path, what, (long)getpid());
    return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

static int file_create_at(const char *path, const struct geom *g)
{
    char tmp[PATH_MAX];
    int fd, r = tmp_name(tmp, sizeof(tmp), path, "new");

    if (r < 0)
        return r;
    r = file_create(tmp, g, &fd);
    if (r < 0)
        return r;
    if (fsync(fd) < 0 || rename(tmp, path) < 0) {
        r = -errno;
        close(fd);
        unlink(tmp);
        return r;
    }
    close(fd);
    fsync_dir_of(path);
    return 0;
}

/*
 * Write the retained records of r into a new file at path with geometry g
 * (compact: each tier exactly as large as its records), renamed into place.
 * Each tier keeps its newest records from a keyframe on, as many as fit, laid
 * out from offset 0 with their sequence numbers; keyframe back-links are
 * rewritten.  The entity table is copied slot for slot.
 */
static int image_write(struct ring *r, const char *path, const struct geom *gin, bool compact,
                       char *why, size_t n)
{
    struct geom g = *gin;
    struct disk_hdr h;
    char tmp[PATH_MAX];
    size_t start[RING_NTIERS];
    uint8_t *buf = NULL;
    uint32_t maxslot = 0;
    int fd = -1, ret;

    for (uint32_t i = 0; i < r->nslots; i++)
        if (r->ws[i].kind)
            maxslot = i + 1;
    if (compact)
        g.nslots = maxslot ? maxslot : 1;
    else if (g.nslots < maxslot)
        g.nslots = r->nslots;
    for (int t = 0; t < RING_NTIERS; t++) {
        struct tier *T = &r->t[t];
        start[t] = T->kfq_n;
        for (size_t k = 0; k < T->kfq_n; k++) {
            if (compact || T->head_L - kfq_at(T, k)->L <= g.size[t]) {
                start[t] = k;
                break;
            }
        }
        if (compact) {
            uint64_t need = start[t] < T->kfq_n ? T->head_L - kfq_at(T, start[t])->L : 0;
            g.size[t] = (need + 63) & ~(uint64_t)63;
            if (g.size[t] < MIN_FILE_TIER)
                g.size[t] = MIN_FILE_TIER;
        }
    }
    ret = tmp_name(tmp, sizeof(tmp), path, "tmp");
    if (ret == 0)
        ret = file_create(tmp, &g, &fd);
    if (ret < 0) {
        snprintf(why, n, "%s: %s", path, strerror(-ret));
        return ret;
    }
    hdr_init(&h, &g, r->hdr->created_wall_ns);
    h.page_size = r->page_size;
    /* the entity table, slot for slot (the tail of a larger table was all free) */
    {
        size_t bytes = (size_t)(g.nslots < r->nslots ? g.nslots : r->nslots) * SLOT_SIZE;
        buf = malloc(bytes ? bytes : 1);
        if (!buf) {
            ret = -ENOMEM;
            goto fail;
        }
        memcpy(buf, r->slots, bytes);
        for (size_t i = 0; i < bytes; i += SLOT_SIZE)
            memset(buf + i, 0, 4); /* locks even */
        if (pwrite(fd, buf, bytes, (off_t)h.slots_off) != (ssize_t)bytes)
            goto ioerr;
        free(buf);
        buf = NULL;
    }
    for (int t = 0; t < RING_NTIERS; t++) {
        struct tier *T = &r->t[t];
        struct tview tv = { T->data, T->size };
        struct disk_tier_hint *d = &h.tier[t];
        uint64_t pos = 0, kept = 0, kf_pos = KF_NONE, kf_seq = 0, seq, at, L;
        uint32_t len;

        buf = calloc(1, g.size[t]);
        if (!buf) {
            ret = -ENOMEM;
            goto fail;
        }
        d->head_seq = d->tail_seq = T->head_seq;
        d->appended = T->appended;
        if (start[t] < T->kfq_n) {
            L = kfq_at(T, start[t])->L;
            seq = kfq_at(T, start[t])->seq;
            d->tail_seq = seq;
            d->oldest_wall_ns = kfq_at(T, start[t])->wall;
            while (seq != T->head_seq &&
                   rec_read(tv, L % T->size, seq, &r->rb, &at, &len) == RR_OK) {
                uint64_t total = align4(RH + len);
                if (at != L % T->size)
                    L += T->size - L % T->size;
                if (pos + total > g.size[t])
                    break;
                if (r->rb.p[0] == REC_FULL_KF || r->rb.p[0] == REC_COARSE_KF) {
                    memcpy(r->rb.p + 17, &kf_pos, 8);
                    memcpy(r->rb.p + 25, &kf_seq, 8);
                    kf_pos = pos;
                    kf_seq = seq;
                    d->keyframes++;
                }
                rec_store(buf + pos, len, (uint32_t)seq, r->rb.p);
                d->last_off = pos;
                d->last_seq = seq;
                pos += total;
                L += total;
                kept++;
                seq = seq_next(seq);
            }
            d->head_seq = seq;
        }
        d->tail_off = 0;
        d->head_off = pos % g.size[t];
        d->kf_off = kf_seq ? kf_pos : 0;
        d->kf_seq = kf_seq;
        d->records = kept;
        d->used = pos;
        d->dropped = T->dropped + (T->records - (kept < T->records ? kept : T->records));
        d->newest_wall_ns = kept ? T->newest_wall : 0;
        if (!kept) {
            d->tail_seq = d->head_seq;
            d->oldest_wall_ns = 0;
            d->last_seq = 0;
        }
        if (pwrite(fd, buf, g.size[t], (off_t)h.tier_off[t]) != (ssize_t)g.size[t])
            goto ioerr;
        free(buf);
        buf = NULL;
    }
    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || fsync(fd) < 0 ||
        rename(tmp, path) < 0)
        goto ioerr;
    close(fd);
    fsync_dir_of(path);
    return 0;
ioerr:
    ret = errno ? -errno : -EIO;
fail:
    free(buf);
    close(fd);
    unlink(tmp);
    snprintf(why, n, "%s: %s", path, strerror(-ret));
    return ret;
}

/* Map an open file and recover it as a writer.  -EINVAL (why filled) for a bad file. */
static int ring_map_file(struct ring *r, char *why, size_t n)
{
    struct stat st;
    struct disk_hdr h;
    ssize_t got;
    int ret;

    if (fstat(r->fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, n, "not a regular file");
        return -EINVAL;
    }
    if ((uint64_t)st.st_size < HDR_SIZE) {
        snprintf(why, n, "truncated: %llu bytes, shorter than the header",
                 (unsigned long long)st.st_size);
        return -EINVAL;
    }
    got = pread(r->fd, &h, sizeof(h), 0);
    if (got < 0)
        return -errno;
    if (got != (ssize_t)sizeof(h)) {
        snprintf(why, n, "short header read");
        return -EINVAL;
    }
    ret = hdr_check(&h, (uint64_t)st.st_size, why, n);
    if (ret < 0)
        return ret;
    r->map_len = h.file_size;
    r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        return -errno;
    }
    return ring_attach(r, why, n);
}

static int move_aside(const char *path, char *aside, size_t n)
{
    long now = (long)time(NULL);

    for (int i = 0; i < 100; i++) {
        struct stat st;
        int k = i ? snprintf(aside, n, "%s.corrupt-%ld-%d", path, now, i)
                  : snprintf(aside, n, "%s.corrupt-%ld", path, now);
        if (k < 0 || (size_t)k >= n)
            return -ENAMETOOLONG;
        if (lstat(aside, &st) == 0)
            continue;
        return rename(path, aside) < 0 ? -errno : 0;
    }
    return -EEXIST;
}

int ring_open(struct ring **out, const char *path, const struct ring_config *cfg, char *note,
              size_t note_len)
{
    struct geom want;
    char why[256], aside[PATH_MAX];
    bool resized = false;
    uint64_t had = 0;
    int ret;

    *out = NULL;
    if (note && note_len)
        note[0] = '\0';
    if (geom_from_cfg(cfg, &want) < 0)
        return -EINVAL;
    for (int attempt = 0; attempt < 4; attempt++) {
        struct ring *r = calloc(1, sizeof(*r));

        if (!r)
            return -ENOMEM;
        r->fd = open(path, O_RDWR | O_CLOEXEC);
        if (r->fd < 0 && errno == ENOENT) {
            ring_free(r);
            ret = file_create_at(path, &want);
            if (ret < 0)
                return ret;
            continue;
        }
        if (r->fd < 0 && errno != EISDIR && errno != ENXIO) {
            ret = -errno;
            ring_free(r);
            return ret;
        }
        why[0] = '\0';
        if (r->fd < 0) {
            snprintf(why, sizeof(why), "not a regular file");
            ret = -EINVAL;
        } else if (flock(r->fd, LOCK_EX | LOCK_NB) < 0) {
            ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
            ring_free(r);
            return ret;
        } else {
            r->path = strdup(path);
            ret = r->path ? ring_map_file(r, why, sizeof(why)) : -ENOMEM;
        }
        if (ret == 0) {
            struct tier *F = &r->t[RING_FULL], *C = &r->t[RING_COARSE];
            struct geom g = want;
            for (uint32_t i = g.nslots; i < r->nslots; i++)
                if (r->ws[i].kind)
                    g.nslots = r->nslots; /* names in use beyond the new size: keep the table */
            if (resized) {
                if (note && note_len)
                    snprintf(note, note_len,
                             "ring %s resized to %llu + %llu bytes; kept %llu of %llu "
                             "full-resolution records",
                             path, (unsigned long long)F->size, (unsigned long long)C->size,
                             (unsigned long long)F->records, (unsigned long long)had);
            } else if (F->size != g.size[RING_FULL] || C->size != g.size[RING_COARSE] ||
                       r->nslots != g.nslots) {
                had = F->records;
                ret = image_write(r, path, &g, false, why, sizeof(why));
                if (ret == 0) {
                    ring_free(r);
                    resized = true;
                    continue;
                }
                /* keep going with the file as it is */
                if (note && note_len)
                    snprintf(note, note_len,
                             "ring %s: could not resize (%s); keeping its current size", path, why);
            }
            *out = r;
            return 0;
        }
        ring_free(r);
        if (ret != -EINVAL)
            return ret;
        ret = move_aside(path, aside, sizeof(aside));
        if (ret < 0)
            return ret;
        if (note && note_len)
            snprintf(note, note_len, "ring %s: %s; moved it aside to %s and started a new ring",
                     path, why, aside);
    }
    return -EIO;
}

/*
 * A ring with no file behind it: a memfd of the same layout.  The daemon
 * keeps its history here while the state directory is full, and saves it
 * with ring_save() once there is room again.
 */
int ring_open_memory(struct ring **out, const struct ring_config *cfg)
{
    struct geom g;
    struct disk_hdr h;
    struct ring *r;
    char why[256];
    int ret;

    *out = NULL;
    if (geom_from_cfg(cfg, &g) < 0)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->fd = memfd_create("kmemwatch-ring", MFD_CLOEXEC);
    if (r->fd < 0 || ftruncate(r->fd, (off_t)geom_file_size(&g)) < 0) {
        ret = -errno;
        ring_free(r);
        return ret;
    }
    hdr_init(&h, &g, util_wall_ns());
    if (pwrite(r->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
        ret = errno ? -errno : -EIO;
        ring_free(r);
        return ret;
    }
    ret = ring_map_file(r, why, sizeof(why));
    if (ret < 0) {
        ring_free(r);
        return ret;
    }
    *out = r;
    return 0;
}

int ring_save(struct ring *r, const char *path, char *why, size_t why_len)
{
    struct geom g;

    g.nslots = r->nslots;
    g.size[RING_FULL] = r->t[RING_FULL].size;
    g.size[RING_COARSE] = r->t[RING_COARSE].size;
    return image_write(r, path, &g, false, why, why_len);
}

bool ring_in_memory(const struct ring *r)
{
    return r->path == NULL;
}

int ring_sync(struct ring *r)
{
    if (r->mem || r->fd < 0)
        return 0;
    if (msync(r->map, r->map_len, MS_SYNC) < 0 || fsync(r->fd) < 0)
        return -errno;
    return 0;
}

int ring_fd(const struct ring *r)
{
    return r->fd;
}

void ring_close(struct ring *r)
{
    /*
     * The pending minute is not written: the next writer rebuilds it from the
     * full tier, so a restart within a minute still gives one coarse record.
     */
    ring_free(r);
}

void ring_stats(const struct ring *r, struct ring_stats *st)
{
    const struct tier *F = &r->t[RING_FULL], *C = &r->t[RING_COARSE];

    memset(st, 0, sizeof(*st));
    st->file_bytes = r->map_len;
    st->full_records = F->records;
    st->coarse_records = C->records;
    st->full_bytes_used = F->records ? F->head_L - F->tail_L : 0;
    st->coarse_bytes_used = C->records ? C->head_L - C->tail_L : 0;
    st->full_capacity = F->size;
    st->coarse_capacity = C->size;
    st->full_oldest_wall_ns = F->kfq_n ? F->kfq[F->kfq_head].wall : 0;
    st->full_newest_wall_ns = F->records ? F->newest_wall : 0;
    st->coarse_oldest_wall_ns = C->kfq_n ? C->kfq[C->kfq_head].wall : 0;
    st->coarse_newest_wall_ns = C->records ? C->newest_wall : 0;
    st->full_dropped = F->dropped;
    st->coarse_dropped = C->dropped;
    st->full_keyframes = F->kfq_n;
    st->coarse_keyframes = C->kfq_n;
    st->full_bytes_per_sample = F->records ? (double)st->full_bytes_used / (double)F->records : 0;
    st->coarse_bytes_per_record =
        C->records ? (double)st->coarse_bytes_used / (double)C->records : 0;
    st->slots_total = r->nslots;
    st->slots_used = r->slots_used;
    st->entities_present = F->st.pv.npresent;
    st->entities_dropped = r->entities_dropped;
}

/* A writer on an anonymous mapping: the scratch ring of import and export. */
static int ring_create_mem(struct ring **out, const struct geom *g, bool fit)
{
    struct ring *r = calloc(1, sizeof(*r));
    char why[128];
    int ret;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->fd = -1;
    r->mem = true;
    r->fit = fit;
    r->map_len = geom_file_size(g);
    r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        ring_free(r);
        return -ENOMEM;
    }
    hdr_init((struct disk_hdr *)(void *)r->map, g, util_wall_ns());
    ret = ring_attach(r, why, sizeof(why));
    if (ret < 0) {
        ring_free(r);
        return ret;
    }
    *out = r;
    return 0;
}

/* ==== 5. reader ======================================================================= */

/*
 * What st holds: the state at the last record a walk decoded, so that the
 * next walk starting after it goes on from there instead of decoding again
 * from a keyframe (kmemtop walks from its last record once a second).  Every
 * walk that decodes into st keeps this up to date.
 */
struct walk_mark {
    bool ok;            /* st is the state at record seq of tier t */
    enum ring_tier t;
    uint64_t seq;
    uint64_t off;       /* where the record lies, its length and CRC: is it still there? */
    uint32_t len, crc;
    uint64_t kf_seq;    /* the keyframe the decoding started from */
    uint64_t max_wall;  /* the latest wall time of the records decoded since then */
};

/*
 * A checkpoint (ring_reader_walk_keep): a copy of the state at the record
 * its mark is at, for a later walk that starts after that record.  Its mark
 * validates it like the reader's own: the record still there, the later
 * walk's keyframe not newer, every record decoded up to it before the
 * walk's from.
 */
struct ckpt {
    struct sstate st;       /* allocated at the first save, its buffers reused by the next */
    struct walk_mark mark;  /* mark.ok: st holds a checkpoint */
    uint64_t keep_wall;     /* what it was kept for: the state before the first record at or after it */
    uint64_t stamp;         /* when last saved or started from (rd->ck_stamp) */
};

struct ring_reader {
    int fd;
    const uint8_t *map;
    size_t map_len;
    const struct disk_hdr *hdr;
    const uint8_t *slots;
    uint32_t nslots;
    struct tview tv[RING_NTIERS];
    struct sstate st;
    struct rbuf rb;
    struct walk_mark mark;
    uint64_t decoded;   /* records decoded by walks so far (ring_reader_decoded) */
    struct ckpt ck[RING_NTIERS][RING_READER_CHECKPOINTS];
    uint64_t ck_stamp;
};

static int r_resolve(void *arg, unsigned slot, uint64_t seq, enum ring_tier t, int *kind,
                     char *key, size_t *keylen)
{
    const struct ring_reader *rd = arg;
    return slot_resolve(rd->slots, rd->nslots, slot, seq, t, kind, key, keylen);
}

void ring_reader_close(struct ring_reader *rd)
{
    if (!rd)
        return;
    sstate_free(&rd->st);
    for (int t = 0; t < RING_NTIERS; t++)
        for (int i = 0; i < RING_READER_CHECKPOINTS; i++)
            sstate_free(&rd->ck[t][i].st);
    free(rd->rb.p);
    if (rd->map)
        munmap((void *)(uintptr_t)rd->map, rd->map_len);
    if (rd->fd >= 0)
        close(rd->fd);
    free(rd);
}

int ring_reader_open(struct ring_reader **out, int fd, char *err, size_t err_len)
{
    struct ring_reader *rd;
    struct disk_hdr h;
    struct stat st;
    char why[256];
    void *map;
    ssize_t got;
    int ret;

    *out = NULL;
    if (err && err_len)
        err[0] = '\0';
    rd = calloc(1, sizeof(*rd));
    if (!rd)
        return -ENOMEM;
    rd->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (rd->fd < 0) {
        ret = -errno;
        snprintf(why, sizeof(why), "cannot duplicate the descriptor: %s", strerror(-ret));
        goto fail;
    }
    if (fstat(rd->fd, &st) < 0) {
        ret = -errno;
        snprintf(why, sizeof(why), "%s", strerror(-ret));
        goto fail;
    }
    ret = -EINVAL;
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, sizeof(why), "not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size < HDR_SIZE) {
        snprintf(why, sizeof(why), "truncated: %llu bytes, shorter than the header",
                 (unsigned long long)st.st_size);
        goto fail;
    }
    got = pread(rd->fd, &h, sizeof(h), 0);
    if (got != (ssize_t)sizeof(h)) {
        ret = got < 0 ? -errno : -EINVAL;
        snprintf(why, sizeof(why), "cannot read the header: %s",
                 got < 0 ? strerror(errno) : "short read");
        goto fail;
    }
    ret = hdr_check(&h, (uint64_t)st.st_size, why, sizeof(why));
    if (ret < 0)
        goto fail;
    map = mmap(NULL, h.file_size, PROT_READ, MAP_SHARED, rd->fd, 0);
    if (map == MAP_FAILED) {
        ret = -errno;
        snprintf(why, sizeof(why), "cannot map: %s", strerror(-ret));
        goto fail;
    }
    rd->map = map;
    rd->map_len = h.file_size;
    rd->hdr = (const struct disk_hdr *)map;
    rd->nslots = h.nslots;
    rd->slots = rd->map + h.slots_off;
    for (int t = 0; t < RING_NTIERS; t++) {
        rd->tv[t].data = rd->map + h.tier_off[t];
        rd->tv[t].size = h.tier_size[t];
    }
    ret = sstate_init(&rd->st, RING_FULL, rd->nslots);
    if (ret < 0) {
        snprintf(why, sizeof(why), "out of memory");
        goto fail;
    }
    *out = rd;
    return 0;
fail:
    if (err && err_len)
        snprintf(err, err_len, "%s", why);
    ring_reader_close(rd);
    return ret;
}

int ring_reader_open_path(struct ring_reader **out, const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

    *out = NULL;
    if (fd < 0) {
        ret = -errno;
        if (err && err_len)
            snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return ret;
    }
    ret = ring_reader_open(out, fd, err, err_len);
    close(fd);
    return ret;
}

uint32_t ring_reader_page_size(const struct ring_reader *rd)
{
    return __atomic_load_n(&rd->hdr->page_size, __ATOMIC_RELAXED);
}

int ring_reader_tier_info(struct ring_reader *rd, enum ring_tier t, struct ring_tier_info *ti)
{
    struct disk_tier_hint h;

    memset(ti, 0, sizeof(*ti));
    if (t != RING_FULL && t != RING_COARSE)
        return -EINVAL;
    hints_read(rd->hdr, t, &h, NULL);
    ti->capacity = rd->tv[t].size;
    if (!h.records || !h.kf_seq)
        return 0;
    ti->records = h.records;
    ti->dropped = h.dropped;
    ti->oldest_wall_ns = h.oldest_wall_ns;
    ti->newest_wall_ns = h.newest_wall_ns;
    ti->used = h.used;
    return 0;
}

int ring_reader_span(struct ring_reader *rd, enum ring_tier t, uint64_t *oldest_wall_ns,
                     uint64_t *newest_wall_ns)
{
    struct ring_tier_info ti;
    int ret = ring_reader_tier_info(rd, t, &ti);

    *oldest_wall_ns = ti.oldest_wall_ns;
    *newest_wall_ns = ti.newest_wall_ns;
    return ret;
}

/*
 * The keyframe to start from: walking back from the newest one, the first
 * with wall <= from, without going below the tail or below min_seq.
 */
static bool kf_find(const struct ring_reader *rd, enum ring_tier t, const struct disk_tier_hint *h,
                    uint64_t from, uint64_t min_seq, struct kfhead *out)
{
    struct tview tv = rd->tv[t];
    struct kfhead k, p;

    if (!h->kf_seq || !kf_peek(tv, h->kf_off, h->kf_seq, &k) || k.seq < min_seq)
        return false;
    for (uint64_t i = 0; i < tv.size / RH; i++) {
        if (k.wall <= from || k.prev_seq == 0 || k.prev_seq >= k.seq || k.prev_seq < h->tail_seq ||
            k.prev_seq < min_seq || !kf_peek(tv, k.prev_off, k.prev_seq, &p))
            break;
        k = p;
    }
    *out = k;
    return true;
}

/*
 * Can a walk of tier t from `from` to `to` that would start at keyframe k go
 * on from the state at the record mark m is at (the reader's own state, or a
 * checkpoint's)?  Only when that is transparent: m is at a record R of t at
 * or after k that is still in the ring (same sequence number, length and
 * CRC), and no record from k to R would be delivered or end the walk (all
 * their wall times are before `from`, so also before `to`).
 */
static bool mark_usable(const struct ring_reader *rd, enum ring_tier t, const struct walk_mark *m,
                        const struct kfhead *k, uint64_t from, uint64_t to)
{
    struct tview tv = rd->tv[t];
    const uint8_t *h;

    if (!m->ok || m->t != t || k->seq < m->kf_seq || k->seq > m->seq || m->max_wall >= from ||
        (to && to < from))
        return false;
    if (m->off >= tv.size || tv.size - m->off < RH)
        return false;
    h = tv.data + m->off;
    return ld32_acq(h + 8) == (uint32_t)m->seq && ld32(h) == m->len && ld32(h + 4) == m->crc;
}

/*
 * Instead of keyframe k, can the walk go on from a state it has?  The
 * reader's own (at the last record decoded) or a checkpoint of the tier,
 * whichever is at the later record, so that the fewest records are decoded;
 * a checkpoint is copied into rd->st and its mark becomes the reader's.
 * false: start at k (rd->st may have been overwritten by a copy that ran
 * out of memory; the caller clears it anyway).  A filtered walk takes up no
 * checkpoint: the state it builds must not list the entities it refuses.
 */
static bool walk_resume(struct ring_reader *rd, enum ring_tier t, const struct kfhead *k,
                        uint64_t from, uint64_t to)
{
    bool own = rd->st.pv.valid && rd->st.pub.seq == rd->mark.seq &&
               mark_usable(rd, t, &rd->mark, k, from, to);
    uint64_t at = own ? rd->mark.seq : 0;
    struct ckpt *best = NULL;

    for (int i = 0; !rd->st.pv.want && i < RING_READER_CHECKPOINTS; i++) {
        struct ckpt *c = &rd->ck[t][i];

        if (c->mark.seq > at && mark_usable(rd, t, &c->mark, k, from, to)) {
            best = c;
            at = c->mark.seq;
        }
    }
    if (!best)
        return own;
    best->stamp = ++rd->ck_stamp;
    if (sstate_copy(&rd->st, &best->st) < 0)
        return false;
    rd->mark = best->mark;
    return true;
}

/*
 * Keep rd->st, at the record rd->mark is at, as the checkpoint of tier t for
 * keep_wall.  Its slot: the one kept for the same time; else an empty one;
 * else the one kept for the latest time at or before this walk's from (the
 * checkpoint this walk was meant to start from, spent now that the next one
 * is kept); else the least recently saved or started from.  A copy that runs
 * out of memory leaves the slot empty: a checkpoint only saves time.
 */
static void ckpt_save(struct ring_reader *rd, enum ring_tier t, uint64_t from, uint64_t keep_wall)
{
    struct ckpt *same = NULL, *empty = NULL, *spent = NULL, *lru = NULL, *c;

    for (int i = 0; i < RING_READER_CHECKPOINTS; i++) {
        struct ckpt *x = &rd->ck[t][i];

        if (!x->mark.ok) {
            empty = empty ? empty : x;
            continue;
        }
        if (x->keep_wall == keep_wall)
            same = x;
        if (x->keep_wall <= from && (!spent || x->keep_wall > spent->keep_wall))
            spent = x;
        if (!lru || x->stamp < lru->stamp)
            lru = x;
    }
    c = same ? same : empty ? empty : spent ? spent : lru;
    c->mark.ok = false;
    if (!c->st.pv.e && sstate_init(&c->st, t, rd->nslots) < 0)
        return;
    if (sstate_copy(&c->st, &rd->st) < 0)
        return;
    c->mark = rd->mark;
    c->keep_wall = keep_wall;
    c->stamp = ++rd->ck_stamp;
}

uint64_t ring_reader_decoded(const struct ring_reader *rd)
{
    return rd->decoded;
}

int ring_reader_walk_keep(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                          uint64_t to_wall_ns, uint64_t keep_wall_ns,
                          int (*cb)(const struct ring_state *st, void *arg), void *arg)
{
    struct sstate *s = &rd->st;
    struct walk_mark *m = &rd->mark;
    struct dec_ctx cx = { r_resolve, NULL, rd };
    struct disk_tier_hint h;
    uint64_t done_seq = 0, min_seq = 0, end_seq;
    uint32_t ps = 0;

    if (t != RING_FULL && t != RING_COARSE)
        return -EINVAL;
    if (s->pv.want)
        keep_wall_ns = 0; /* a filtered state lacks the refused entities' values */
    hints_read(rd->hdr, t, &h, &ps);
    /* records appended after the walk started are left for the next walk: it always ends */
    end_seq = h.head_seq;
    for (int restarts = 0; restarts < 10000; restarts++) {
        struct kfhead k;
        uint64_t pos, seq, at;
        uint32_t len;
        bool resumed;

        if (restarts)
            hints_read(rd->hdr, t, &h, &ps);
        if (!kf_find(rd, t, &h, from_wall_ns, min_seq, &k))
            return 0;
        /* once: a resumed walk that fails starts over from the keyframe */
        resumed = !restarts && walk_resume(rd, t, &k, from_wall_ns, to_wall_ns);
        if (resumed) {
            pos = (m->off + align4(RH + m->len)) % rd->tv[t].size;
            seq = seq_next(m->seq);
        } else {
            sstate_clear(s, t);
            m->ok = false;
            m->kf_seq = k.seq;
            m->max_wall = 0;
            pos = k.off;
            seq = k.seq;
        }
        for (;;) {
            int rr, ret;

            if (seq >= end_seq)
                return 0;
            rr = rec_read(rd->tv[t], pos, seq, &rd->rb, &at, &len);
            /* the state before the first record at or after keep_wall_ns (m->ok: s is at m) */
            if (rr == RR_OK && keep_wall_ns && m->ok && s->pv.valid &&
                m->max_wall < keep_wall_ns && rec_wall(s, rd->rb.p, len) >= keep_wall_ns)
                ckpt_save(rd, t, from_wall_ns, keep_wall_ns);
            ret = rr == RR_OK ? rec_decode(s, rd->rb.p, len, seq, &cx) : -EAGAIN;
            if (ret < 0) {
                m->ok = false;
                if (ret == -ENOMEM)
                    return ret;
                /* overwritten, torn or undecodable: go on from a later keyframe */
                if (!resumed)
                    min_seq = seq_next(seq);
                break;
            }
            rd->decoded++;
            m->ok = true;
            m->t = t;
            m->seq = seq;
            m->off = at;
            m->len = len;
            m->crc = ld32(rd->tv[t].data + at + 4);
            if (s->pub.wall_ns > m->max_wall)
                m->max_wall = s->pub.wall_ns;
            s->pub.page_size = ps;
            if (to_wall_ns && s->pub.wall_ns > to_wall_ns)
                return 0;
            if (seq > done_seq && s->pub.wall_ns >= from_wall_ns) {
                done_seq = seq;
                ret = cb(&s->pub, arg);
                if (ret)
                    return ret;
            }
            pos = (at + align4(RH + len)) % rd->tv[t].size;
            seq = seq_next(seq);
        }
    }
    return -EAGAIN;
}

int ring_reader_walk(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                     uint64_t to_wall_ns, int (*cb)(const struct ring_state *st, void *arg),
                     void *arg)
{
    return ring_reader_walk_keep(rd, t, from_wall_ns, to_wall_ns, 0, cb, arg);
}

int ring_reader_walk_only(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                          uint64_t to_wall_ns,
                          bool (*want)(int kind, const char *key, size_t keylen, void *arg),
                          void *want_arg, int (*cb)(const struct ring_state *st, void *arg),
                          void *arg)
{
    struct sstate *s = &rd->st;
    int r;

    /*
     * The walk starts from nothing and leaves nothing behind: a state built
     * with a filter lacks the values of the entities it refused, so no later
     * walk may carry on from it (and this one must not carry on from a state
     * built without the filter, which lists every entity).
     */
    sstate_clear(s, t);
    s->pv.want = want;
    s->pv.want_arg = want_arg;
    r = ring_reader_walk(rd, t, from_wall_ns, to_wall_ns, cb, arg);
    s->pv.want = NULL;
    s->pv.want_arg = NULL;
    sstate_clear(s, t);
    return r;
}

static void entity_fill(const struct ring_state *st, unsigned slot, const struct sent *x,
                        struct ring_entity *e)
{
    e->kind = x->kind;
    e->slot = slot;
    e->key = x->key;
    e->keylen = x->keylen;
    e->nfields = x->nf;
    e->fm = x->fm;
    e->val = x->v;
    if (st->tier == RING_COARSE && x->mn && x->mm_seq == st->seq) {
        e->min = x->mn;
        e->max = x->mx;
    } else {
        e->min = e->max = x->v;
    }
}

bool ring_state_next(const struct ring_state *st, size_t *it, struct ring_entity *e)
{
    const struct ring_state_priv *pv = st->priv;

    for (size_t i = *it; i < pv->hi; i++) {
        if (sent_listed(&pv->e[i])) {
            entity_fill(st, (unsigned)i, &pv->e[i], e);
            *it = i + 1;
            return true;
        }
    }
    *it = pv->hi;
    return false;
}

bool ring_state_slot(const struct ring_state *st, unsigned slot, struct ring_entity *e)
{
    const struct ring_state_priv *pv = st->priv;

    if (slot >= pv->hi || !sent_listed(&pv->e[slot]))
        return false;
    entity_fill(st, slot, &pv->e[slot], e);
    return true;
}

size_t ring_state_touched(const struct ring_state *st, const uint32_t **slots)
{
    *slots = st->priv->touched;
    return st->priv->ntouched;
}

bool ring_state_find(const struct ring_state *st, int kind, const char *key, size_t keylen,
                     struct ring_entity *e)
{
    size_t it = 0;

    while (ring_state_next(st, &it, e))
        if (e->kind == kind && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
            return true;
    return false;
}

/* ==== 6. state -> parsed structs, import, export, synthetic fill ===================== */

void ring_sampler_init(struct sampler *sm)
{
    memset(sm, 0, sizeof(*sm));
    for (int s = 0; s < SRC_N; s++)
        procfile_init(&sm->src[s].pf);
    slab_info_init(&sm->slab);
    kmalloc_table_init(&sm->kmalloc);
    vmalloc_info_init(&sm->vmalloc);
    buddy_info_init(&sm->buddy);
}

static void sum_add(struct vmalloc_sum *s, uint64_t areas, uint64_t bytes, uint64_t pages)
{
    s->areas = add_sat(s->areas, areas);
    s->bytes = add_sat(s->bytes, bytes);
    s->pages = add_sat(s->pages, pages);
}

/*
 * One row of each kind from its entity.  The full rebuild and the update in
 * place both use these, so that a row rewritten in place is byte for byte
 * the row a rebuild writes.
 */
static void row_slab(struct slab_cache *c, const struct sent *x, uint64_t page_size)
{
    const uint64_t *v = x->v;
    size_t kl = x->keylen < SLAB_NAME_MAX - 1 ? x->keylen : SLAB_NAME_MAX - 1;

    memset(c, 0, sizeof(*c));
    memcpy(c->name, x->key, kl);
    c->active_objs = v[SF_SLAB_ACTIVE_OBJS];
    c->num_objs = v[SF_SLAB_NUM_OBJS];
    c->objsize = v[SF_SLAB_OBJSIZE];
    c->objperslab = v[SF_SLAB_OBJPERSLAB];
    c->pagesperslab = v[SF_SLAB_PAGESPERSLAB];
    c->limit = v[SF_SLAB_LIMIT];
    c->batchcount = v[SF_SLAB_BATCHCOUNT];
    c->sharedfactor = v[SF_SLAB_SHAREDFACTOR];
    c->active_slabs = v[SF_SLAB_ACTIVE_SLABS];
    c->num_slabs = v[SF_SLAB_NUM_SLABS];
    c->sharedavail = v[SF_SLAB_SHAREDAVAIL];
    c->bytes_total = mul_sat(mul_sat(c->num_slabs, c->pagesperslab), page_size);
    c->bytes_active = mul_sat(c->active_objs, c->objsize);
}

static void row_slabinfo(struct slab_info *si, const struct sent *x)
{
    si->version_major = (unsigned)x->v[SF_SLABINFO_MAJOR];
    si->version_minor = (unsigned)x->v[SF_SLABINFO_MINOR];
    si->statistics = x->v[SF_SLABINFO_STATISTICS] != 0;
}

/* false (row untouched) for a malformed key: such an entity has no row. */
static bool row_vmalloc(struct vmalloc_row *row, const struct sent *x)
{
    const uint64_t *v = x->v;
    const char *caller, *module;
    enum vmalloc_type type;

    if (!series_key_vmalloc_split(x->key, x->keylen, &caller, &module, &type))
        return false;
    memset(row, 0, sizeof(*row));
    memcpy(row->caller, caller, strlen(caller) + 1);
    memcpy(row->module, module, strlen(module) + 1);
    row->type = type;
    row->flags = (unsigned)v[SF_VM_FLAGS];
    row->areas = v[SF_VM_AREAS];
    row->bytes = v[SF_VM_BYTES];
    row->pages = v[SF_VM_PAGES];
    for (unsigned nd = 0; nd < VMALLOC_MAX_NODES; nd++) {
        if (series_fm_has(x->fm, SF_VM_NODE0 + nd)) {
            row->nodes[nd] = v[SF_VM_NODE0 + nd];
            row->node_mask |= 1ull << nd;
        }
    }
    return true;
}

static void row_unpurged(struct vmalloc_info *vi, const struct sent *x)
{
    vi->unpurged.areas = x->v[SF_UNPURGED_AREAS];
    vi->unpurged.bytes = x->v[SF_UNPURGED_BYTES];
}

/* The type sums and the total, from the rows (saturating: the order does not matter). */
static void vmalloc_sums(struct vmalloc_info *vi)
{
    memset(vi->types, 0, sizeof(vi->types));
    memset(&vi->total, 0, sizeof(vi->total));
    for (size_t i = 0; i < vi->n; i++) {
        const struct vmalloc_row *row = &vi->rows[i];
        sum_add(&vi->types[row->type], row->areas, row->bytes, row->pages);
        sum_add(&vi->total, row->areas, row->bytes, row->pages);
    }
}

/* false for a malformed key (no row); *orders = one past the highest order with a value. */
static bool row_buddy(struct buddy_zone *z, const struct sent *x, unsigned *orders)
{
    unsigned n = 0;

    memset(z, 0, sizeof(*z));
    if (!series_key_buddy_split(x->key, x->keylen, &z->node, z->zone, sizeof(z->zone)))
        return false;
    for (unsigned o = 0; o < BUDDY_MAX_ORDERS; o++) {
        if (series_fm_has(x->fm, o)) {
            z->free[o] = x->v[o];
            n = o + 1;
        }
    }
    z->free_pages = series_buddy_free_pages(z->free, n);
    for (unsigned o = 0; o < n; o++)
        z->unusable[o] = series_buddy_unusable(z->free, n, o);
    *orders = n;
    return true;
}

static void row_meminfo(struct meminfo *mi, const struct sent *x)
{
    for (unsigned f = 0; f < MEMINFO_NKEYS; f++) {
        if (series_fm_has(x->fm, f)) {
            enum meminfo_key k = series_meminfo_key(f);
            mi->value[k] = x->v[f];
            mi->present |= 1u << k;
        }
    }
}

#define FILL_NO_ROW UINT32_MAX
_Static_assert(BUDDY_MAX_ORDERS <= UINT8_MAX, "sampler_ring_fill.zone_orders holds an order count");

/*
 * Every table from scratch.  On the way, sm->ring_fill learns which row each
 * slot went to, and on success remembers the record, so that the record
 * after it can go through fill_update.  Without room for that map the
 * tables are still built; only the next record is built from scratch too.
 */
static int fill_full(const struct ring_state *st, struct sampler *sm)
{
    const struct ring_state_priv *pv = st->priv;
    struct sampler_ring_fill *f = &sm->ring_fill;
    struct slab_info *si = &sm->slab;
    struct vmalloc_info *vi = &sm->vmalloc;
    struct buddy_info *bi = &sm->buddy;
    size_t ns = 0, nv = 0, nb = 0, nsingle[SK_NKINDS] = { 0 };
    bool map;
    void *arr;
    int r;

    /* until every table is this state's */
    f->state_id = 0;
    for (uint32_t i = 0; i < pv->hi; i++) {
        if (!sent_listed(&pv->e[i]))
            continue;
        ns += pv->e[i].kind == SK_SLAB;
        nv += pv->e[i].kind == SK_VMALLOC;
        nb += pv->e[i].kind == SK_BUDDY;
    }
    arr = si->caches;
    if (ns && array_reserve(&arr, &si->cap, ns, sizeof(*si->caches)) < 0)
        return -ENOMEM;
    si->caches = arr;
    arr = vi->rows;
    if (nv && array_reserve(&arr, &vi->cap, nv, sizeof(*vi->rows)) < 0)
        return -ENOMEM;
    vi->rows = arr;
    arr = bi->zones;
    if (nb && array_reserve(&arr, &bi->cap, nb, sizeof(*bi->zones)) < 0)
        return -ENOMEM;
    bi->zones = arr;
    arr = f->row;
    map = !pv->hi || array_reserve(&arr, &f->row_cap, pv->hi, sizeof(*f->row)) == 0;
    f->row = arr;
    arr = f->zone_orders;
    map = map && (!nb || array_reserve(&arr, &f->zone_cap, nb, sizeof(*f->zone_orders)) == 0);
    f->zone_orders = arr;
    if (map && pv->hi)
        memset(f->row, 0xff, pv->hi * sizeof(*f->row)); /* FILL_NO_ROW */

    si->n = 0;
    si->version_major = si->version_minor = 0;
    si->statistics = 0;
    vi->n = 0;
    memset(&vi->unpurged, 0, sizeof(vi->unpurged));
    if (vi->hash)
        memset(vi->hash, 0, vi->hcap * sizeof(*vi->hash)); /* rows here are not indexed */
    bi->n = 0;
    bi->orders = 0;
    memset(&sm->meminfo, 0, sizeof(sm->meminfo));

    for (uint32_t i = 0; i < pv->hi; i++) {
        const struct sent *x = &pv->e[i];
        uint32_t row = FILL_NO_ROW;
        unsigned orders;

        if (!sent_listed(x))
            continue;
        switch (x->kind) {
        case SK_SLAB:
            row_slab(&si->caches[si->n], x, st->page_size);
            row = (uint32_t)si->n++;
            break;
        case SK_SLABINFO:
            row_slabinfo(si, x);
            break;
        case SK_VMALLOC:
            if (row_vmalloc(&vi->rows[vi->n], x))
                row = (uint32_t)vi->n++;
            break;
        case SK_VMUNPURGED:
            row_unpurged(vi, x);
            break;
        case SK_BUDDY:
            if (!row_buddy(&bi->zones[bi->n], x, &orders))
                break;
            if (orders > bi->orders)
                bi->orders = orders;
            if (map)
                f->zone_orders[bi->n] = (uint8_t)orders;
            row = (uint32_t)bi->n++;
            break;
        case SK_MEMINFO:
            row_meminfo(&sm->meminfo, x);
            break;
        default:
            break;
        }
        if (x->kind < SK_NKINDS)
            nsingle[x->kind]++;
        if (map)
            f->row[i] = row;
    }
    vmalloc_sums(vi);
    sm->page_size = st->page_size;
    sm->valid = st->have_mask & SRC_ALL;
    r = kmalloc_build(si, &sm->kmalloc);
    if (r < 0)
        return r;
    /*
     * Two entities of a kind that has one (only a damaged file could have
     * them) add up in the tables above: not worth updating in place.
     */
    if (map && nsingle[SK_SLABINFO] <= 1 && nsingle[SK_VMUNPURGED] <= 1 &&
        nsingle[SK_MEMINFO] <= 1 && pv->id) {
        f->state_id = pv->id;
        f->tier = (int)st->tier;
        f->seq = st->seq;
        f->gen = st->gen;
        f->page_size = st->page_size;
        f->nrow = pv->hi;
    }
    return 0;
}

/*
 * sm holds the tables of the record before st's, from the same state and
 * with the same entities (ring_state_to_sampler checked): rewrite the rows
 * of the slots st's record touched and what is derived from them.  1 when
 * done, 0 when something does not add up (the full rebuild then starts
 * over; rows rewritten so far do not matter), negative errno.
 */
static int fill_update(const struct ring_state *st, struct sampler *sm)
{
    const struct ring_state_priv *pv = st->priv;
    struct sampler_ring_fill *f = &sm->ring_fill;
    struct slab_info *si = &sm->slab;
    struct vmalloc_info *vi = &sm->vmalloc;
    struct buddy_info *bi = &sm->buddy;
    bool slab = false, vmalloc = false, buddy = false;
    const uint32_t *slots;
    size_t nt = ring_state_touched(st, &slots);

    for (size_t i = 0; i < nt; i++) {
        unsigned slot = slots[i], orders;
        const struct sent *x;
        uint32_t row;

        /* a slot that appeared or went away would have moved gen */
        if (slot >= f->nrow || !sent_listed(&pv->e[slot]))
            return 0;
        x = &pv->e[slot];
        row = f->row[slot];
        switch (x->kind) {
        case SK_SLAB:
            if (row >= si->n)
                return 0;
            row_slab(&si->caches[row], x, st->page_size);
            slab = true;
            break;
        case SK_SLABINFO:
            row_slabinfo(si, x);
            break;
        case SK_VMALLOC:
            if (row == FILL_NO_ROW)
                break; /* a malformed key: no row in a rebuild either */
            if (row >= vi->n || !row_vmalloc(&vi->rows[row], x))
                return 0;
            vmalloc = true;
            break;
        case SK_VMUNPURGED:
            row_unpurged(vi, x);
            break;
        case SK_BUDDY:
            if (row == FILL_NO_ROW)
                break;
            if (row >= bi->n || !row_buddy(&bi->zones[row], x, &orders))
                return 0;
            f->zone_orders[row] = (uint8_t)orders;
            buddy = true;
            break;
        case SK_MEMINFO:
            memset(&sm->meminfo, 0, sizeof(sm->meminfo));
            row_meminfo(&sm->meminfo, x);
            break;
        default:
            break;
        }
    }
    if (vmalloc)
        vmalloc_sums(vi);
    if (buddy) {
        bi->orders = 0;
        for (size_t z = 0; z < bi->n; z++)
            if (f->zone_orders[z] > bi->orders)
                bi->orders = f->zone_orders[z];
    }
    sm->page_size = st->page_size;
    sm->valid = st->have_mask & SRC_ALL;
    if (slab) {
        /* names and their order are those of the last build: only the sums again */
        int r = kmalloc_refresh(si, &sm->kmalloc);
        if (r < 0) {
            f->state_id = 0;
            return r;
        }
    }
    f->seq = st->seq;
    return 1;
}

int ring_state_to_sampler(const struct ring_state *st, struct sampler *sm)
{
    const struct sampler_ring_fill *f = &sm->ring_fill;

    /*
     * Following a ring one record at a time (kmemtop on its daemon), a
     * record changes a handful of the few hundred entities: rewriting only
     * those rows is what keeps an idle kmemtop idle.  That is exact when sm
     * holds the tables of the record just before st's, decoded into the
     * same state (the id is never reused) with the same set of entities
     * (gen: it also moves when a walk starts over).
     */
    if (f->state_id && f->state_id == st->priv->id && f->tier == (int)st->tier &&
        f->gen == st->gen && st->seq == ring_seq_next(f->seq) &&
        f->page_size == st->page_size && f->nrow == st->priv->hi) {
        int r = fill_update(st, sm);
        if (r != 0) {
            sm->ring_fill.updates += r > 0;
            return r < 0 ? r : 0;
        }
    }
    sm->ring_fill.rebuilds++;
    return fill_full(st, sm);
}

static int read_u64_file(const char *path, uint64_t *out)
{
    char buf[64], *end;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EINVAL;
    buf[n] = '\0';
    errno = 0;
    *out = strtoull(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n'))
        return -EINVAL;
    return 0;
}

static int snap_filter(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int ring_import_dir(const char *dir, const char *out_path, const struct ring_config *cfg, char *err,
                    size_t err_len)
{
    struct dirent **names = NULL;
    struct ring *m = NULL;
    struct geom g;
    uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE), count = 0;
    char path[PATH_MAX], file[PATH_MAX + 16], why[256] = "";
    int nn, ret = 0;

    if (err && err_len)
        err[0] = '\0';
    if (cfg) {
        if (geom_from_cfg(cfg, &g) < 0) {
            snprintf(why, sizeof(why), "ring budgets out of range");
            ret = -EINVAL;
            goto out;
        }
    } else {
        g.nslots = RING_DEFAULT_SLOTS;
        g.size[RING_FULL] = MEM_FULL_BYTES;
        g.size[RING_COARSE] = MEM_COARSE_BYTES;
    }
    nn = scandir(dir, &names, snap_filter, alphasort);
    if (nn < 0) {
        ret = -errno;
        snprintf(why, sizeof(why), "%s: %s", dir, strerror(errno));
        goto out;
    }
    snprintf(file, sizeof(file), "%s/pagesize", dir);
    (void)read_u64_file(file, &page_size);
    ret = ring_create_mem(&m, &g, !cfg);
    if (ret < 0) {
        snprintf(why, sizeof(why), "%s", strerror(-ret));
        goto out_names;
    }
    for (int i = 0; i < nn; i++) {
        struct sampler sm;
        struct stat st;
        uint64_t t, ps = page_size;
        unsigned errm = 0;

        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path) ||
            stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        snprintf(file, sizeof(file), "%s/time_ns", path);
        if (read_u64_file(file, &t) < 0) {
            snprintf(why, sizeof(why), "%.200s: missing, or not a number of nanoseconds", file);
            ret = -EINVAL;
            goto out_names;
        }
        snprintf(file, sizeof(file), "%s/pagesize", path);
        (void)read_u64_file(file, &ps);
        sampler_init(&sm, path, SRC_ALL, ps);
        for (int s = 0; s < SRC_N; s++)
            if (sampler_read(&sm, (enum src_id)s) < 0)
                errm |= SRC_BIT(s);
        ret = ring_append(m, &sm, SRC_ALL, errm, t, t);
        sampler_fini(&sm);
        if (ret < 0) {
            snprintf(why, sizeof(why), "%.160s: cannot store the snapshot: %s", path,
                     strerror(-ret));
            goto out_names;
        }
        count++;
    }
    if (!count) {
        snprintf(why, sizeof(why), "%s: no snapshot directories", dir);
        ret = -ENOENT;
        goto out_names;
    }
    ret = coarse_flush(m);
    if (ret == 0)
        ret = image_write(m, out_path, &g, !cfg, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "cannot write the last minute: %s", strerror(-ret));
out_names:
    for (int i = 0; names && i < nn; i++)
        free(names[i]);
    free(names);
out:
    ring_free(m);
    if (ret < 0 && err && err_len)
        snprintf(err, err_len, "%s", why);
    return ret;
}

struct export_ctx {
    struct ring *m;
    bool first;
    int err;
    uint64_t n;
};

static int export_cb(const struct ring_state *st, void *arg)
{
    struct export_ctx *x = arg;
    /* the first record carries every source with data, so the file starts complete */
    int ret = append_state(x->m, st, x->first ? st->have_mask & SRC_ALL : st->src_mask);

    x->first = false;
    if (ret < 0) {
        x->err = ret;
        return 1;
    }
    x->n++;
    return 0;
}

int ring_export(struct ring_reader *rd, uint64_t from_wall_ns, uint64_t to_wall_ns,
                const char *out_path, char *err, size_t err_len)
{
    struct export_ctx x = { NULL, true, 0, 0 };
    struct geom g = { rd->nslots, { MEM_FULL_BYTES, MEM_COARSE_BYTES } };
    char why[256] = "";
    int ret;

    if (err && err_len)
        err[0] = '\0';
    ret = ring_create_mem(&x.m, &g, true);
    if (ret < 0) {
        snprintf(why, sizeof(why), "%s", strerror(-ret));
        goto out;
    }
    x.m->page_size = ring_reader_page_size(rd);
    ret = ring_reader_walk(rd, RING_FULL, from_wall_ns, to_wall_ns, export_cb, &x);
    if (x.err) {
        ret = x.err;
        snprintf(why, sizeof(why), "cannot copy a record: %s", strerror(-ret));
        goto out;
    }
    if (ret < 0) {
        snprintf(why, sizeof(why), "cannot read the ring: %s", strerror(-ret));
        goto out;
    }
    if (!x.n) {
        ret = -ENOENT;
        snprintf(why, sizeof(why), "no full-resolution record in the time window");
        goto out;
    }
    ret = coarse_flush(x.m);
    if (ret == 0)
        ret = image_write(x.m, out_path, &g, true, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "cannot write the last minute: %s", strerror(-ret));
out:
    ring_free(x.m);
    if (ret < 0 && err && err_len)
        snprintf(err, err_len, "%s", why);
    return ret;
}

/* ---- synthetic idle machine ---- */

static uint32_t xs32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Uniform in [lo, hi]. */
static int64_t rnd(uint32_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(xs32(s) % (uint32_t)(hi - lo + 1));
}

static uint64_t add_clamped(uint64_t v, int64_t d, uint64_t lo)
{
    if (d < 0 && (uint64_t)(-d) > v - lo)
        return lo;
    return v + (uint64_t)d;
}

static int sampler_clone(struct sampler *dst, const struct sampler *src)
{
    void *arr;

    ring_sampler_init(dst);
    dst->page_size = src->page_size;
    dst->wanted = src->wanted;
    dst->valid = src->valid;
    for (int s = 0; s < SRC_N; s++)
        dst->src[s].read_ns = src->src[s].read_ns;
    arr = NULL;
    if (src->slab.n &&
        array_reserve(&arr, &dst->slab.cap, src->slab.n, sizeof(*src->slab.caches)) < 0)
        return -ENOMEM;
    dst->slab.caches = arr;
    if (src->slab.n)
        memcpy(dst->slab.caches, src->slab.caches, src->slab.n * sizeof(*src->slab.caches));
    dst->slab.n = src->slab.n;
    dst->slab.version_major = src->slab.version_major;
    dst->slab.version_minor = src->slab.version_minor;
    dst->slab.statistics = src->slab.statistics;
    arr = NULL;
    if (src->vmalloc.n &&
        array_reserve(&arr, &dst->vmalloc.cap, src->vmalloc.n, sizeof(*src->vmalloc.rows)) < 0)
        return -ENOMEM;
    dst->vmalloc.rows = arr;
    if (src->vmalloc.n)
        memcpy(dst->vmalloc.rows, src->vmalloc.rows, src->vmalloc.n * sizeof(*src->vmalloc.rows));
    dst->vmalloc.n = src->vmalloc.n;
    dst->vmalloc.unpurged = src->vmalloc.unpurged;
    arr = NULL;
    if (src->buddy.n &&
        array_reserve(&arr, &dst->buddy.cap, src->buddy.n, sizeof(*src->buddy.zones)) < 0)
        return -ENOMEM;
    dst->buddy.zones = arr;
    if (src->buddy.n)
        memcpy(dst->buddy.zones, src->buddy.zones, src->buddy.n * sizeof(*src->buddy.zones));
    dst->buddy.n = src->buddy.n;
    dst->buddy.orders = src->buddy.orders;
    dst->meminfo = src->meminfo;
    return 0;
}

static void meminfo_move(struct meminfo *mi, enum meminfo_key k, int64_t kib)
{
    if (meminfo_has(mi, k))
        mi->value[k] = add_clamped(mi->value[k], kib * 1024, 0);
}

int ring_fill_idle(struct ring *r, const struct sampler *base, uint64_t n, uint64_t start_wall_ns,
                   uint32_t seed)
{
    struct sampler w;
    uint32_t rng = seed ? seed : 0x9e3779b9u;
    size_t hot[20], nhot = 0;
    long zone = -1, vmrow = -1;
    int ret = sampler_clone(&w, base);

    if (ret < 0)
        goto out;
    /* the busiest caches are the ones that move on an idle machine */
    for (size_t k = 0; k < ARRAY_SIZE(hot); k++) {
        long best = -1;
        for (size_t i = 0; i < w.slab.n; i++) {
            bool taken = false;
            for (size_t j = 0; j < nhot; j++)
                taken |= hot[j] == i;
            if (taken || !w.slab.caches[i].objperslab || !w.slab.caches[i].num_slabs)
                continue;
            if (best < 0 || w.slab.caches[i].active_objs > w.slab.caches[best].active_objs)
                best = (long)i;
        }
        if (best < 0)
            break;
        hot[nhot++] = (size_t)best;
    }
    for (size_t i = 0; i < w.buddy.n; i++)
        if (zone < 0 || w.buddy.zones[i].free_pages > w.buddy.zones[zone].free_pages)
            zone = (long)i;
    for (size_t i = 0; i < w.vmalloc.n; i++)
        if (w.vmalloc.rows[i].type == VMALLOC_T_VMALLOC &&
            (vmrow < 0 || w.vmalloc.rows[i].areas > w.vmalloc.rows[vmrow].areas))
            vmrow = (long)i;

    for (uint64_t i = 0; i < n; i++) {
        int64_t jitter = rnd(&rng, -100000, 100000);
        uint64_t wall = start_wall_ns + i * 1000000000ull + (uint64_t)jitter;
        uint64_t mono = 1000000000000ull + i * 1000000000ull + (uint64_t)jitter +
                        (uint64_t)rnd(&rng, 0, 2000);
        unsigned src = SRC_BIT(SRC_SLABINFO) | SRC_BIT(SRC_BUDDYINFO) | SRC_BIT(SRC_MEMINFO);
        int64_t target = rnd(&rng, 11, 15), changed = 0;

        while (nhot && changed < target) {
            struct slab_cache *c = &w.slab.caches[hot[rnd(&rng, 0, (int64_t)nhot - 1)]];
            int64_t d = rnd(&rng, -40, 40);
            c->active_objs = add_clamped(c->active_objs, d ? d : 1, 0);
            changed++;
            if (rnd(&rng, 0, 99) < 30) {
                c->num_slabs = add_clamped(c->num_slabs, rnd(&rng, 0, 1) ? 1 : -1, 1);
                c->active_slabs = c->num_slabs;
                c->num_objs = c->num_slabs * c->objperslab;
                changed += 3;
            }
            if (c->active_objs > c->num_objs)
                c->active_objs = c->num_objs;
        }
        if (zone >= 0) {
            struct buddy_zone *z = &w.buddy.zones[zone];
            for (unsigned o = 0; o < 5 && o < w.buddy.orders; o++)
                z->free[o] = add_clamped(z->free[o], rnd(&rng, -30, 30), 0);
        }
        meminfo_move(&w.meminfo, MEMINFO_MEMFREE, rnd(&rng, -300, 300));
        meminfo_move(&w.meminfo, MEMINFO_MEMAVAILABLE, rnd(&rng, -150, 150));
        meminfo_move(&w.meminfo, MEMINFO_SUNRECLAIM, rnd(&rng, -8, 8));
        meminfo_move(&w.meminfo, MEMINFO_SRECLAIMABLE, rnd(&rng, -16, 16));
        if (meminfo_has(&w.meminfo, MEMINFO_SLAB))
            w.meminfo.value[MEMINFO_SLAB] = w.meminfo.value[MEMINFO_SUNRECLAIM] +
                                            w.meminfo.value[MEMINFO_SRECLAIMABLE];
        if (meminfo_has(&w.meminfo, MEMINFO_KRECLAIMABLE))
            w.meminfo.value[MEMINFO_KRECLAIMABLE] = w.meminfo.value[MEMINFO_SRECLAIMABLE];
        if (i % 5 == 0) {
            src |= SRC_BIT(SRC_VMALLOCINFO);
            if (vmrow >= 0 && rnd(&rng, 0, 4) == 0) {
                struct vmalloc_row *row = &w.vmalloc.rows[vmrow];
                int64_t d = rnd(&rng, 0, 1) ? 1 : -1;
                if (row->areas > 1 || d > 0) {
                    row->areas = add_clamped(row->areas, d, 0);
                    row->bytes = add_clamped(row->bytes, d * 20480, 0);
                    row->pages = add_clamped(row->pages, d * 4, 0);
                    if (row->node_mask & 1)
                        row->nodes[0] = add_clamped(row->nodes[0], d * 4, 0);
                }
            }
        }
        w.src[SRC_SLABINFO].read_ns = 300000 + (uint64_t)rnd(&rng, 0, 100000);
        w.src[SRC_VMALLOCINFO].read_ns = 1500000 + (uint64_t)rnd(&rng, 0, 500000);
        w.src[SRC_BUDDYINFO].read_ns = 12000 + (uint64_t)rnd(&rng, 0, 6000);
        w.src[SRC_MEMINFO].read_ns = 20000 + (uint64_t)rnd(&rng, 0, 10000);
        ret = ring_append(r, &w, src & w.valid, 0, wall, mono);
        if (ret < 0)
            break;
    }
out:
    sampler_fini(&w);
    return ret;
}
