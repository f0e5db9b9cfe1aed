#include "slab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linediff.h"

/* Little-endian machines have the fast row parser (parse_row_fast). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SLAB_FAST 1
#else
#define SLAB_FAST 0
#endif

/*
 * One entry of the open-addressing name set.  row is the index + 1 of the
 * cache that owns the (final, possibly "#n"-suffixed) name, 0 for an empty
 * slot.  seen is the highest occurrence number handed out for this name used
 * as a base, so a run of duplicates renames in O(1) each instead of probing
 * "foo#2", "foo#3", ... from the start every time.
 */
struct slab_name_slot {
    uint32_t hash;
    uint32_t seen;
    size_t row;
};

/* How much of a bad token or line an error message shows. */
#define SLAB_QUOTE_MAX 60

static const char slab_hdr_20[] = "slabinfo - version: 2.0";
static const char slab_hdr_21[] = "slabinfo - version: 2.1";
static const char slab_hdr_21s[] = "slabinfo - version: 2.1 (statistics)";

void slab_info_init(struct slab_info *si)
{
    memset(si, 0, sizeof(*si));
}

void slab_info_free(struct slab_info *si)
{
    free(si->caches);
    free(si->name_slots);
    free(si->row_off);
    slab_info_init(si);
}

/*
 * Copy [s, e) into dst for an error message: at most SLAB_QUOTE_MAX output
 * characters, '"' and '\' and every non-printable byte escaped, "..." when
 * cut.  The input may be anything (fuzzed, binary), and the message ends up on
 * a terminal or in a journal, so raw control bytes must never get through.
 */
static const char *quote(char *dst, size_t n, const char *s, const char *e)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    /* n is always a local buffer comfortably above SLAB_QUOTE_MAX + 4 */
    for (; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        size_t w = (c < 0x20 || c >= 0x7f) ? 4 : (c == '"' || c == '\\') ? 2 : 1;

        if (o + w > SLAB_QUOTE_MAX || o + w + 4 > n) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (w == 4) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            if (w == 2)
                dst[o++] = '\\';
            dst[o++] = (char)c;
        }
    }
    dst[o] = '\0';
    return dst;
}

/*
 * Hash of a name stored NUL-padded to a multiple of 8 bytes (name_pad()), read
 * a word at a time: a byte-serial hash such as FNV-1a cost more than all the
 * number scanning of a row together.
 */
#define NAME_HASH_SEED 0x9e3779b97f4a7c15ull

static inline uint64_t name_hash_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

static inline uint32_t name_hash(const char *name, size_t len)
{
    uint64_t h = NAME_HASH_SEED ^ len;

    for (size_t i = 0; i <= len; i += 8) {
        uint64_t w;
        memcpy(&w, name + i, 8);
        h = name_hash_word(h, w);
    }
    return (uint32_t)h;
}

/* Zero name[len..] up to the next multiple of 8 (fits: len < SLAB_NAME_MAX, which is one). */
static inline void name_pad(char *name, size_t len)
{
    _Static_assert(SLAB_NAME_MAX % 8 == 0, "name_hash reads whole words");
    memset(name + len, 0, 8 - (len & 7));
}

/*
 * Copy the name src[0, len) into dst as name_pad() leaves it and return its
 * name_hash(), in one pass of whole words (an inlined copy of the exact
 * length compiled to "rep movsq", slow to start for a few bytes).  src must
 * be readable up to the next multiple of 8 after len.
 */
static inline uint32_t name_copy_hash(char *dst, const char *src, size_t len)
{
#if SLAB_FAST
    uint64_t h = NAME_HASH_SEED ^ len, w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&w, src + i, 8);
        memcpy(dst + i, &w, 8);
        h = name_hash_word(h, w);
    }
    /* the last word: the name's bytes kept (the low ones), the rest zero */
    memcpy(&w, src + i, 8);
    w &= ~(~0ull << 8 * (len & 7));
    memcpy(dst + i, &w, 8);
    return (uint32_t)name_hash_word(h, w);
#else
    memcpy(dst, src, len);
    name_pad(dst, len);
    return name_hash(dst, len);
#endif
}

/* Slot holding name (hash h), or the empty slot where it would go. */
static struct slab_name_slot *set_lookup(const struct slab_info *si, uint32_t h, const char *name)
{
    size_t mask = si->name_nslots - 1;
    size_t i = h & mask;

    for (;;) {
        struct slab_name_slot *sl = &si->name_slots[i];
        if (!sl->row)
            return sl;
        if (sl->hash == h && strcmp(si->caches[sl->row - 1].name, name) == 0)
            return sl;
        i = (i + 1) & mask;
    }
}

/*
 * Make room for one more name (load factor at most 1/2, so probes stay short
 * and set_lookup always finds an empty slot).  Growing rehashes from the
 * stored hashes; with storage kept between parses this happens only while the
 * first samples are read.
 */
static int set_reserve(struct slab_info *si, size_t entries)
{
    struct slab_name_slot *ns, *old = si->name_slots;
    size_t nn, oldn = si->name_nslots;

    if (entries <= oldn / 2)
        return 0;
    nn = oldn ? oldn : 256;
    while (entries > nn / 2) {
        if (nn > SIZE_MAX / 2 / sizeof(*ns))
            return -ENOMEM;
        nn *= 2;
    }
    ns = calloc(nn, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < oldn; i++) {
        size_t j;
        if (!old[i].row)
            continue;
        j = old[i].hash & (nn - 1);
        while (ns[j].row)
            j = (j + 1) & (nn - 1);
        ns[j] = old[i];
    }
    free(old);
    si->name_slots = ns;
    si->name_nslots = nn;
    return 0;
}

/* Decimal digits of v into buf (no NUL); returns the length. */
static size_t fmt_u32(char *buf, uint32_t v)
{
    char tmp[10];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/*
 * Register the name of row idx (already in si->caches[idx].name, length len,
 * hash h), renaming it "name#k" when the name was seen before.  The caller
 * has reserved room for one more entry.
 */
static int name_register(struct slab_info *si, size_t idx, size_t len, uint32_t h, unsigned line,
                         struct perr *err)
{
    char *name = si->caches[idx].name;
    struct slab_name_slot *base = set_lookup(si, h, name);
    struct slab_name_slot *sl;
    uint32_t k;

    if (!base->row) {
        base->hash = h;
        base->row = idx + 1;
        base->seen = 1;
        return 0;
    }
    /*
     * A literal "foo#2" earlier in the file would collide with the renamed
     * second "foo"; keep counting until the name is free so that every row
     * stays addressable by a distinct name.
     */
    for (k = base->seen + 1;; k++) {
        char suf[12];
        size_t sl_len;
        uint32_t hk;

        if (k == 0)
            return perr_set(err, line, "too many caches named \"%.60s\"", name);
        suf[0] = '#';
        sl_len = 1 + fmt_u32(suf + 1, k);
        if (len + sl_len > SLAB_NAME_MAX - 1)
            return perr_set(err, line, "cache name too long with duplicate suffix (max %d bytes)",
                            SLAB_NAME_MAX - 1);
        memcpy(name + len, suf, sl_len);
        name_pad(name, len + sl_len);
        hk = name_hash(name, len + sl_len);
        sl = set_lookup(si, hk, name);
        if (!sl->row) {
            sl->hash = hk;
            sl->row = idx + 1;
            sl->seen = 1;
            base->seen = k;
            return 0;
        }
    }
}

/*
 * The row scanners below are the hot path (every cache, every second), so
 * they are inline, never format anything and only say what went wrong; the
 * cold *_error() functions look at the same bytes again to build the message.
 */
enum scan_res { SCAN_OK, SCAN_MISSING, SCAN_BAD, SCAN_RANGE };

#if defined(__GNUC__)
#define SLAB_COLD __attribute__((cold, noinline))
#else
#define SLAB_COLD
#endif

/*
 * skip_blanks for the row scanners.  The kernel pads every column with runs
 * of spaces, and skipping them a byte at a time was the largest cost of a
 * row; compare eight bytes at once where the buffer allows it.
 */
static inline const char *skip_pad(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (;;) {
        if (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            w ^= 0x2020202020202020ull;
            if (!w) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(w) >> 3;   /* first byte that is not a space */
        } else {
            while (p < end && *p == ' ')
                p++;
        }
        if (p < end && *p == '\t') {
            p++;
            continue;
        }
        return p;
    }
#else
    return skip_blanks(p, end);
#endif
}

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/*
 * Blanks, then an unsigned decimal ending at a blank or the end of the line.
 * (Finding the digits and converting them eight bytes at a time, without a
 * branch, was tried and measured slower: it chains every field's position
 * on the one before through loads and multiplies, while these branches, on
 * the regular columns of slabinfo, predict well and let fields overlap.)
 * bufend is unused here; parse_row's name copy uses it.
 */
static inline enum scan_res scan_num(const char **pp, const char *end, const char *bufend,
                                     uint64_t *out)
{
    const char *p = *pp;
    uint64_t v;
    unsigned d;
    int ndig = 1;

    p = skip_pad(p, end);
    if (p == end)
        return SCAN_MISSING;
    (void)bufend;
    v = (unsigned char)*p - (unsigned)'0';
    if (v > 9)
        return SCAN_BAD;
    for (p++; p < end && (d = (unsigned char)*p - (unsigned)'0') <= 9; p++, ndig++) {
        /* up to 19 digits always fit in 64 bits; only longer numbers need the check */
        if (ndig >= 19 && v > (UINT64_MAX - d) / 10)
            return SCAN_RANGE;
        v = v * 10 + d;
    }
    if (p < end && *p != ' ' && *p != '\t')
        return SCAN_BAD;
    *out = v;
    *pp = p;
    return SCAN_OK;
}

/* End of the run of printable bytes (0x21..0x7e) at p, not past lim. */
static inline const char *graphic_end(const char *p, const char *lim, const char *bufend)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (bufend - p >= 8 && p < lim) {
        uint64_t x, x7, bad;

        memcpy(&x, p, 8);
        x7 = x & ~HIGH;
        bad = (x & HIGH) | (~(x7 + ONES * (0x80 - 0x21)) & HIGH) | ((x7 + ONES) & HIGH);
        if (bad) {
            p += __builtin_ctzll(bad) >> 3;
            return p < lim ? p : lim;
        }
        p += 8;
    }
    if (p > lim)
        return lim;
#else
    (void)bufend;
#endif
    while (p < lim && (unsigned char)(*p - 0x21) <= 0x7e - 0x21)
        p++;
    return p;
}

/* Message for a scan_num failure at p (which scan_num left unmoved). */
static SLAB_COLD int num_error(enum scan_res res, const char *p, const char *end,
                               const char *field, unsigned line, struct perr *err)
{
    char q[SLAB_QUOTE_MAX + 8];

    p = skip_blanks(p, end);
    if (res == SCAN_MISSING)
        return perr_set(err, line, "truncated line: expected field %s", field);
    quote(q, sizeof(q), p, token_end(p, end));
    if (res == SCAN_RANGE)
        return perr_set(err, line, "field %s: number out of range \"%s\"", field, q);
    return perr_set(err, line, "field %s: not a number \"%s\"", field, q);
}

/* Blanks, ':', blanks, then exactly word (length wlen). */
static inline bool scan_section(const char **pp, const char *end, const char *word, size_t wlen)
{
    const char *p = skip_pad(*pp, end);

    if (p == end || *p != ':')
        return false;
    p++;
    if (p == end || (*p != ' ' && *p != '\t'))
        return false;
    p = skip_pad(p, end);
    if ((size_t)(end - p) < wlen || memcmp(p, word, wlen) != 0)
        return false;
    p += wlen;
    if (p < end && *p != ' ' && *p != '\t')
        return false;
    *pp = p;
    return true;
}

/*
 * " : <word>" section marker, with a message when it is not there.  The slow
 * twin of scan_section: used for errors and for the rare statistics columns.
 */
static SLAB_COLD int parse_section(const char **pp, const char *end, const char *word,
                                   unsigned line, struct perr *err)
{
    const char *p = skip_blanks(*pp, end);
    const char *e = token_end(p, end);
    const char *w, *we;
    char q[SLAB_QUOTE_MAX + 8];

    if (p == end)
        return perr_set(err, line, "truncated line: expected '%s' section", word);
    if (!token_eq(p, e, ":"))
        return perr_set(err, line, "expected ': %s', got \"%s\"", word, quote(q, sizeof(q), p, e));
    w = skip_blanks(e, end);
    we = token_end(w, end);
    if (w == end)
        return perr_set(err, line, "truncated line: expected '%s' section", word);
    if (!token_eq(w, we, word))
        return perr_set(err, line, "expected ': %s', got \"%s\"", word, quote(q, sizeof(q), p, we));
    *pp = we;
    return 0;
}

/*
 * What may follow sharedavail: nothing, or the statistics columns
 * ": globalstat n... : cpustat n...".  Their values are not used, but the
 * tokens must still look like them so that junk is not silently accepted.
 * The number of values differs between kernel versions, so it is not checked.
 */
static int parse_tail(const char *p, const char *end, unsigned line, struct perr *err)
{
    const char *s = skip_blanks(p, end);
    const char *e;
    char q[SLAB_QUOTE_MAX + 8];
    int cpustat = 0;

    if (s == end)
        return 0;
    if (parse_section(&p, end, "globalstat", 0, NULL) < 0)
        return perr_set(err, line, "unexpected data after sharedavail: \"%s\"",
                        quote(q, sizeof(q), s, end));
    for (;;) {
        uint64_t v;

        s = skip_blanks(p, end);
        if (s == end)
            return 0;
        e = token_end(s, end);
        if (*s == ':' && !cpustat) {
            if (parse_section(&p, end, "cpustat", 0, NULL) < 0)
                break;
            cpustat = 1;
            continue;
        }
        p = s;
        if (scan_u64(&p, end, &v) < 0)
            break;
    }
    return perr_set(err, line, "malformed statistics columns near \"%s\"",
                    quote(q, sizeof(q), s, e));
}

static int parse_header(struct line_iter *it, struct slab_info *si, struct perr *err)
{
    const char *ls, *le;
    char q[SLAB_QUOTE_MAX + 8];
    int r;

    r = line_iter_next(it, &ls, &le, err);
    if (r < 0)
        return r;
    if (r == 0)
        return perr_set(err, 0, "empty file");
    si->statistics = 0;
    si->version_major = 2;
    if (token_eq(ls, le, slab_hdr_20)) {
        si->version_minor = 0;
    } else if (token_eq(ls, le, slab_hdr_21)) {
        si->version_minor = 1;
    } else if (token_eq(ls, le, slab_hdr_21s)) {
        si->version_minor = 1;
        si->statistics = 1;
    } else {
        si->version_major = 0;
        si->version_minor = 0;
        return perr_set(err, it->lineno, "unsupported slabinfo format \"%s\"",
                        quote(q, sizeof(q), ls, le));
    }

    r = line_iter_next(it, &ls, &le, err);
    if (r < 0)
        return r;
    if (r == 0)
        return perr_set(err, 2, "missing \"# name\" column header line");
    if ((size_t)(le - ls) < 6 || memcmp(ls, "# name", 6) != 0 ||
        (le - ls > 6 && ls[6] != ' ' && ls[6] != '\t'))
        return perr_set(err, it->lineno, "expected \"# name\" column header, got \"%s\"",
                        quote(q, sizeof(q), ls, le));
    return 0;
}

/* Message for a cache name that is too long or has a byte that is not printable. */
static SLAB_COLD int name_error(const char *p, const char *ne, unsigned line, struct perr *err)
{
    char q[SLAB_QUOTE_MAX + 8];
    size_t nlen = (size_t)(ne - p);

    quote(q, sizeof(q), p, ne);
    if (nlen > SLAB_NAME_MAX - 1)
        return perr_set(err, line, "cache name too long (%zu bytes, max %d): \"%s\"", nlen,
                        SLAB_NAME_MAX - 1, q);
    return perr_set(err, line, "cache name with a non-printable byte: \"%s\"", q);
}

/* One cache row into c (name copied, hash returned via *hash, length via *len). */
static int parse_row(const char *ls, const char *le, const char *bufend, unsigned line,
                     struct slab_cache *c, size_t *len, uint32_t *hash, struct perr *err)
{
    const char *p = skip_pad(ls, le);
    const char *lim = (size_t)(le - p) > SLAB_NAME_MAX ? p + SLAB_NAME_MAX : le;
    const char *ne;
    size_t nlen;

    if (p == le)
        return perr_set(err, line, "empty line");
    /*
     * Find the end of the name (eight bytes at a time), check it and copy
     * it.  Kernel cache names are printable ASCII: anything else would end
     * up in JSON, metrics labels and on terminals, so it is refused here
     * once.
     */
    ne = graphic_end(p, lim, bufend);
    if (ne < le && *ne != ' ' && *ne != '\t')
        return name_error(p, token_end(ne, le), line, err);
    nlen = (size_t)(ne - p);
    if (nlen > SLAB_NAME_MAX - 1)
        return name_error(p, token_end(ne, le), line, err);
    if ((size_t)(bufend - p) >= ((nlen + 8) & ~(size_t)7)) {
        *hash = name_copy_hash(c->name, p, nlen);
    } else {
        memcpy(c->name, p, nlen);
        name_pad(c->name, nlen);
        *hash = name_hash(c->name, nlen);
    }
    *len = nlen;

    p = ne;
#define NUM(f)                                                                                \
    do {                                                                                      \
        enum scan_res res_ = scan_num(&p, le, bufend, &c->f);                                        \
        if (res_ != SCAN_OK)                                                                  \
            return num_error(res_, p, le, #f, line, err);                                     \
    } while (0)
#define SECTION(w)                                                                            \
    do {                                                                                      \
        if (!scan_section(&p, le, w, sizeof(w) - 1))                                          \
            return parse_section(&p, le, w, line, err);                                       \
    } while (0)
    NUM(active_objs);
    NUM(num_objs);
    NUM(objsize);
    NUM(objperslab);
    NUM(pagesperslab);
    SECTION("tunables");
    NUM(limit);
    NUM(batchcount);
    NUM(sharedfactor);
    SECTION("slabdata");
    NUM(active_slabs);
    NUM(num_slabs);
    NUM(sharedavail);
#undef NUM
#undef SECTION
    p = skip_pad(p, le);
    if (p == le)
        return 0;
    return parse_tail(p, le, line, err);
}

/*
 * The fast path: a row exactly as the kernel prints it (cache_show() in
 * mm/slab_common.c):
 *
 *   "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n"
 *
 * with every number within its width, which is every row on a usual
 * machine (a cache of a million objects widens its line and goes to
 * parse_row).  After the name field the layout is then fixed: each number
 * ends at a known offset, right-aligned after spaces.  So the line is
 * checked against a template sixteen bytes at a time, and each number is
 * converted from the eight (or four) bytes before its end, padding and all,
 * with no field's position depending on the one before.  That removes what
 * bounds parse_row (every field's end must be found before the next field
 * can start) and more than half of the instructions of a row; the newline
 * is where the template says, so there is no memchr either.
 *
 * Little-endian only (SLAB_FAST: numbers are read a word at a time); other
 * machines parse every row with parse_row.
 */

#if SLAB_FAST
/*
 * The line from the end of the name field (byte 17, or the end of a longer
 * name) to its newline: '_' stands for a digit or a padding space, '9' for a
 * digit (a number's last byte), anything else for itself.
 */
static const char fast_tail[] =
    " _____9 _____9 _____9 ___9 ___9 : tunables ___9 ___9 ___9 : slabdata _____9 _____9 _____9\n";
#define FAST_TAIL_LEN (sizeof(fast_tail) - 1)
#define FAST_NAME_FIELD 17 /* %-17s */
/* Where each number ends in fast_tail. */
enum {
    FAST_END_ACTIVE_OBJS = 7,
    FAST_END_NUM_OBJS = 14,
    FAST_END_OBJSIZE = 21,
    FAST_END_OBJPERSLAB = 26,
    FAST_END_PAGESPERSLAB = 31,
    FAST_END_LIMIT = 47,
    FAST_END_BATCHCOUNT = 52,
    FAST_END_SHAREDFACTOR = 57,
    FAST_END_ACTIVE_SLABS = 75,
    FAST_END_NUM_SLABS = 82,
    FAST_END_SHAREDAVAIL = 89,
};

/* The tail in sixteen-byte pieces: five, then its last sixteen bytes (overlapping). */
#define FAST_NVEC 6
#define FAST_VEC_OFF(i) ((i) < FAST_NVEC - 1 ? 16 * (size_t)(i) : FAST_TAIL_LEN - 16)
_Static_assert(FAST_TAIL_LEN > 16 * (FAST_NVEC - 1) && FAST_TAIL_LEN <= 16 * FAST_NVEC,
               "fast_tail is covered by FAST_NVEC pieces");

/* GCC/Clang vectors: SSE2 on x86-64, NEON on arm64, plain words elsewhere. */
typedef signed char slab_v16 __attribute__((vector_size(16)));
typedef unsigned char slab_u16 __attribute__((vector_size(16)));

struct fast_tmpl {
    slab_v16 want[FAST_NVEC]; /* the byte expected: the literal; ' ' for '_'; '0' for '9' */
    slab_v16 num[FAST_NVEC];  /* all ones in the lanes of a number ('_' and '9') */
};

static inline slab_v16 v16_load(const void *p)
{
    slab_v16 v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Lanes holding '0'..'9': shifted to -128..-119, one signed compare. */
static inline slab_v16 v16_digit(slab_v16 v)
{
    return (slab_v16)((slab_u16)v + (unsigned char)(0x80 - '0')) < (signed char)(-0x80 + 10);
}

static void fast_tmpl_init(struct fast_tmpl *ft)
{
    for (int i = 0; i < FAST_NVEC; i++) {
        slab_v16 t = v16_load(fast_tail + FAST_VEC_OFF(i));
        slab_v16 pad = t == '_', last = t == '9';

        ft->num[i] = pad | last;
        ft->want[i] = (t & ~(pad | last)) | (pad & ' ') | (last & '0');
    }
}

/*
 * Piece i of the tail at t against the template: the lanes where it holds
 * the byte expected or, in a number, a digit.  ('0' is the byte expected in
 * a number's last lane, so only a digit will do there.)  A padding space
 * right after a digit is refused: the digits of a number are right-aligned.
 */
static inline slab_v16 fast_check16(const char *t, const struct fast_tmpl *ft, int i)
{
    slab_v16 v = v16_load(t + FAST_VEC_OFF(i));
    slab_v16 after_digit = v16_digit(v16_load(t + FAST_VEC_OFF(i) - 1)) & ft->num[i];

    return ((v == ft->want[i]) & ~after_digit) | (v16_digit(v) & ft->num[i]);
}

/*
 * The number whose six digits (or padding spaces) end at e: a space is
 * 0x20, whose low nibble is zero, so padding reads as leading zeros; pairs
 * of digits, then fours, then eights are combined with one multiply each.
 */
static inline uint64_t fast_num6(const char *e)
{
    uint64_t x;

    memcpy(&x, e - 8, 8);
    x &= 0x0f0f0f0f0f0f0000ull; /* the two bytes before: the end of the last field, a space */
    x = (x * (10 * 256 + 1)) >> 8;
    x = ((x & 0x00ff00ff00ff00ffull) * (100 * 65536 + 1)) >> 16;
    return (uint32_t)(((x & 0x0000ffff0000ffffull) * (10000 * 4294967296ull + 1)) >> 32);
}

/* The same for four digits ending at e. */
static inline uint64_t fast_num4(const char *e)
{
    uint32_t x;

    memcpy(&x, e - 4, 4);
    x = ((x & 0x0f0f0f0fu) * (10 * 256 + 1)) >> 8;
    return ((x & 0x00ff00ffu) * (100 * 65536 + 1)) >> 16;
}

/*
 * One row at ls through the fast path into c, as parse_row would fill it
 * (*len and *hash too).  Returns the start of the next line, or NULL when
 * the line is not in the kernel's exact layout: parse_row then decides, so
 * a line means the same to both and errors keep parse_row's messages.
 * Every byte of the line is checked (no NUL, no stray byte gets through)
 * and nothing at or past bufend is read.
 */
static inline const char *parse_row_fast(const char *ls, const char *bufend,
                                         const struct fast_tmpl *ft, struct slab_cache *c,
                                         size_t *len, uint32_t *hash)
{
    /* lanes [0, k) of ramp + 16 - k are set */
    static const signed char ramp[32] = { -1, -1, -1, -1, -1, -1, -1, -1,
                                          -1, -1, -1, -1, -1, -1, -1, -1 };
    const char *lim = bufend - ls > SLAB_NAME_MAX ? ls + SLAB_NAME_MAX : bufend;
    const char *ne = graphic_end(ls, lim, bufend), *t;
    size_t nlen = (size_t)(ne - ls), field = nlen < FAST_NAME_FIELD ? FAST_NAME_FIELD : nlen, k;
    slab_v16 ok;
    uint64_t w[2];

    if (nlen == 0 || nlen > SLAB_NAME_MAX - 1 || (size_t)(bufend - ls) < field + FAST_TAIL_LEN)
        return NULL;
    t = ls + field;
    /*
     * A shorter name is padded with spaces to the field's width: bytes
     * [nlen, 17), lanes [nlen - 1, 16) of the sixteen bytes at ls + 1 (the
     * lanes before are the name's, which graphic_end checked).
     */
    k = nlen < FAST_NAME_FIELD ? nlen - 1 : FAST_NAME_FIELD - 1;
    ok = (v16_load(ls + 1) == ' ') | v16_load(ramp + 16 - k);
    _Static_assert(FAST_NVEC == 6, "one fast_check16 per piece");
    ok &= fast_check16(t, ft, 0) & fast_check16(t, ft, 1) & fast_check16(t, ft, 2) &
          fast_check16(t, ft, 3) & fast_check16(t, ft, 4) & fast_check16(t, ft, 5);
    ok = ~ok;
    memcpy(w, &ok, sizeof(w));
    if (w[0] | w[1])
        return NULL;

    *len = nlen;
    *hash = name_copy_hash(c->name, ls, nlen); /* the line goes on for 90 bytes */
    c->active_objs = fast_num6(t + FAST_END_ACTIVE_OBJS);
    c->num_objs = fast_num6(t + FAST_END_NUM_OBJS);
    c->objsize = fast_num6(t + FAST_END_OBJSIZE);
    c->objperslab = fast_num4(t + FAST_END_OBJPERSLAB);
    c->pagesperslab = fast_num4(t + FAST_END_PAGESPERSLAB);
    c->limit = fast_num4(t + FAST_END_LIMIT);
    c->batchcount = fast_num4(t + FAST_END_BATCHCOUNT);
    c->sharedfactor = fast_num4(t + FAST_END_SHAREDFACTOR);
    c->active_slabs = fast_num6(t + FAST_END_ACTIVE_SLABS);
    c->num_slabs = fast_num6(t + FAST_END_NUM_SLABS);
    c->sharedavail = fast_num6(t + FAST_END_SHAREDAVAIL);
    return t + FAST_TAIL_LEN;
}

#endif /* SLAB_FAST */

/*
 * A checksum of the rows' counts, kept up to date by both parsers: a
 * slab_info that someone else filled (kmemtop fills one from the daemon's
 * JSON) is then not mistaken for the base of an incremental parse.
 */
static uint64_t row_chk(const struct slab_cache *c)
{
    return (c->active_objs * 0x9e3779b97f4a7c15ull) ^ (c->num_slabs + c->num_objs);
}

static uint64_t rows_chk(const struct slab_info *si)
{
    uint64_t h = si->n;

    for (size_t i = 0; i < si->n; i++)
        h += row_chk(&si->caches[i]);
    return h;
}

/*
 * slab_parse, with (fast) or without the fast path.  Rows are parsed in
 * place into si->caches; the derived byte counts are filled per row.
 */
static int parse_rows(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
                      bool fast, struct perr *err)
{
    struct line_iter it;
    const char *p, *end;
    unsigned lineno;
    size_t n = 0, nfast = 0;
    int r;
#if SLAB_FAST
    struct fast_tmpl ft;

    if (fast)
        fast_tmpl_init(&ft);
#else
    (void)fast;
#endif

    si->n = 0;
    si->incr_n = 0;
    si->fast_rows = 0;
    if (si->name_nslots)
        memset(si->name_slots, 0, si->name_nslots * sizeof(*si->name_slots));
    line_iter_init(&it, buf, len);
    r = parse_header(&it, si, err);
    if (r < 0)
        return r;
    si->hdr_len = (size_t)(it.pos - buf);

    /*
     * Rows.  The header went through line_iter; here a row is first offered
     * to the fast path, which finds its own newline, and only otherwise is
     * the newline searched for.  line_iter's second scan, for NUL bytes, is
     * left out: the row grammar accepts no NUL anywhere, so a NUL always
     * fails the row, and only then is the line checked for one so that it
     * is reported as such.
     */
    p = it.pos;
    end = it.end;
    lineno = it.lineno;
    while (p < end) {
        const char *next = NULL;
        struct slab_cache *c;
        size_t nlen = 0;
        uint32_t h = 0;

        lineno++;
        if ((n + 1 > si->cap &&
             array_reserve((void **)&si->caches, &si->cap, n + 1, sizeof(*si->caches)) < 0) ||
            (n + 1 > si->row_off_cap &&
             array_reserve((void **)&si->row_off, &si->row_off_cap, n + 1, sizeof(*si->row_off)) <
                 0) ||
            set_reserve(si, n + 1) < 0)
            return -ENOMEM;
        si->row_off[n] = (size_t)(p - buf);
        c = &si->caches[n];
#if SLAB_FAST
        if (fast)
            next = parse_row_fast(p, end, &ft, c, &nlen, &h);
#endif
        if (next) {
            nfast++;
        } else {
            const char *nl = memchr(p, '\n', (size_t)(end - p));

            if (!nl)
                return perr_set(err, lineno, "truncated line (no newline at end of file)");
            r = parse_row(p, nl, end, lineno, c, &nlen, &h, err);
            if (r < 0) {
                if (memchr(p, '\0', (size_t)(nl - p)))
                    return perr_set(err, lineno, "NUL byte in line");
                return r;
            }
            next = nl + 1;
        }
        r = name_register(si, n, nlen, h, lineno, err);
        if (r < 0)
            return r;
        c->bytes_total = mul_sat(mul_sat(c->num_slabs, c->pagesperslab), page_size);
        c->bytes_active = mul_sat(c->active_objs, c->objsize);
        n++;
        p = next;
    }
    si->n = n;
    si->fast_rows = nfast;
    si->incr_n = n;
    si->incr_page = page_size;
    si->incr_chk = rows_chk(si);
    return 0;
}

int slab_parse(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
               struct perr *err)
{
    return parse_rows(buf, len, page_size, si, true, err);
}

int slab_parse_general(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
                       struct perr *err)
{
    return parse_rows(buf, len, page_size, si, false, err);
}

long slab_find(const struct slab_info *si, const char *name)
{
    for (size_t i = 0; i < si->n; i++)
        if (strcmp(si->caches[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Length of the name at the start of a row line (up to the first blank). */
static inline size_t name_len(const char *p, const char *end)
{
    return (size_t)(token_end(p, end) - p);
}

/*
 * Rows are found by offset: row_off[] holds where each row's line started in
 * prev, so the row of a differing byte is a binary search away and the rows
 * in between (equal, skipped by linediff_prefix) only have their offsets
 * moved by what the changed lines before them grew or shrank.
 */
static int parse_incr(const char *prev, size_t plen, const char *buf, size_t len,
                      uint64_t page_size, struct slab_info *si)
{
    size_t n = si->n, k = 0, po = si->hdr_len, pn = si->hdr_len;
    ptrdiff_t shift = 0;
#if SLAB_FAST
    struct fast_tmpl ft;
    bool ft_ready = false;
#endif

    for (;;) {
        size_t m = linediff_prefix(prev + po, buf + pn, plen - po < len - pn ? plen - po : len - pn);
        size_t x = po + m, lo, hi, j, os, oe, ns, ol, nl;
        const char *ne;
        struct slab_cache tmp, *c;
        size_t tl;
        uint32_t th;

        if (x == plen && pn + m == len) {
            for (; k < n; k++)
                si->row_off[k] = (size_t)((ptrdiff_t)si->row_off[k] + shift);
            return 0;
        }
        if (x >= plen || !n)
            return -EAGAIN; /* lines added at the end: a new cache */
        /* the row whose line holds x: the last row starting at or before it */
        lo = k;
        hi = n;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (si->row_off[mid] <= x)
                lo = mid;
            else
                hi = mid;
        }
        j = lo;
        if (si->row_off[j] > x)
            return -EAGAIN; /* not possible: row_off[k] is where the last match resumed */
        os = si->row_off[j];
        oe = (j + 1 < n ? si->row_off[j + 1] : plen) - 1; /* its newline */
        for (; k < j; k++)
            si->row_off[k] = (size_t)((ptrdiff_t)si->row_off[k] + shift);
        ns = (size_t)((ptrdiff_t)os + shift);
        if (ns >= len)
            return -EAGAIN; /* rows gone at the end */
        ne = memchr(buf + ns, '\n', len - ns);
        if (!ne)
            return -EAGAIN;
        /* the same cache, or the list of caches changed: leave that to the plain parse */
        ol = name_len(prev + os, prev + oe);
        nl = name_len(buf + ns, ne);
        if (ol != nl || memcmp(prev + os, buf + ns, ol) != 0)
            return -EAGAIN;
#if SLAB_FAST
        if (!ft_ready) {
            fast_tmpl_init(&ft);
            ft_ready = true;
        }
        /* the fast path checked the whole line, up to the newline at ne */
        if (!parse_row_fast(buf + ns, buf + len, &ft, &tmp, &tl, &th))
#endif
            if (parse_row(buf + ns, ne, buf + len, 0, &tmp, &tl, &th, NULL) < 0)
                return -EAGAIN; /* the plain parse says where and why */
        c = &si->caches[j];
        si->incr_chk -= row_chk(c);
        c->active_objs = tmp.active_objs;
        c->num_objs = tmp.num_objs;
        c->objsize = tmp.objsize;
        c->objperslab = tmp.objperslab;
        c->pagesperslab = tmp.pagesperslab;
        c->limit = tmp.limit;
        c->batchcount = tmp.batchcount;
        c->sharedfactor = tmp.sharedfactor;
        c->active_slabs = tmp.active_slabs;
        c->num_slabs = tmp.num_slabs;
        c->sharedavail = tmp.sharedavail;
        c->bytes_total = mul_sat(mul_sat(c->num_slabs, c->pagesperslab), page_size);
        c->bytes_active = mul_sat(c->active_objs, c->objsize);
        si->incr_chk += row_chk(c);
        si->row_off[j] = ns;
        shift += (ptrdiff_t)((size_t)(ne - buf) - ns) - (ptrdiff_t)(oe - os);
        k = j + 1;
        po = oe + 1;
        pn = (size_t)(ne - buf) + 1;
    }
}

int slab_parse_incr(const char *prev, size_t prev_len, const char *buf, size_t len,
                    uint64_t page_size, struct slab_info *si, bool *same_names, struct perr *err)
{
    int r;

    *same_names = false;
    si->incr_parses++;
    if (!si->incr_n || si->incr_n != si->n || si->incr_page != page_size ||
        si->incr_chk != rows_chk(si) || si->hdr_len > prev_len || si->hdr_len > len ||
        memcmp(prev, buf, si->hdr_len) != 0 || prev[prev_len - 1] != '\n') {
        si->incr_fallbacks++;
        return slab_parse(buf, len, page_size, si, err);
    }
    r = parse_incr(prev, prev_len, buf, len, page_size, si);
    if (r < 0) {
        si->incr_fallbacks++;
        return slab_parse(buf, len, page_size, si, err);
    }
    *same_names = true;
    return 0;
}
