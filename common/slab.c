#include "slab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linediff.h"

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
static inline uint32_t name_hash(const char *name, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

    for (size_t i = 0; i <= len; i += 8) {
        uint64_t w;
        memcpy(&w, name + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return (uint32_t)h;
}

/* Zero name[len..] up to the next multiple of 8 (fits: len < SLAB_NAME_MAX, which is one). */
static inline void name_pad(char *name, size_t len)
{
    _Static_assert(SLAB_NAME_MAX % 8 == 0, "name_hash reads whole words");
    memset(name + len, 0, 8 - (len & 7));
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
    /*
     * Whole words (the buffer goes on past the name; name_pad clears what
     * follows it): an inlined copy of the exact length compiled to
     * "rep movsq", slow to start for a few bytes.
     */
    if ((size_t)(bufend - p) >= ((nlen + 8) & ~(size_t)7)) {
        for (size_t i = 0; i < nlen; i += 8)
            memcpy(c->name + i, p + i, 8);
    } else {
        memcpy(c->name, p, nlen);
    }
    name_pad(c->name, nlen);
    *len = nlen;
    *hash = name_hash(c->name, nlen);

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

int slab_parse(const char *buf, size_t len, uint64_t page_size, struct slab_info *si,
               struct perr *err)
{
    struct line_iter it;
    const char *p, *end;
    unsigned lineno;
    size_t n = 0;
    int r;

    si->n = 0;
    si->incr_n = 0;
    if (si->name_nslots)
        memset(si->name_slots, 0, si->name_nslots * sizeof(*si->name_slots));
    line_iter_init(&it, buf, len);
    r = parse_header(&it, si, err);
    if (r < 0)
        return r;
    si->hdr_len = (size_t)(it.pos - buf);

    /*
     * Rows.  The header went through line_iter; here only the newline is
     * searched for.  line_iter's second scan, for NUL bytes, is left out:
     * the row grammar accepts no NUL anywhere, so a NUL always fails the row,
     * and only then is the line checked for one so that it is reported as
     * such.  (About a sixth of the time of a row otherwise.)
     */
    p = it.pos;
    end = it.end;
    lineno = it.lineno;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct slab_cache *c;
        size_t nlen = 0;
        uint32_t h = 0;

        lineno++;
        if (!nl)
            return perr_set(err, lineno, "truncated line (no newline at end of file)");
        if ((n + 1 > si->cap &&
             array_reserve((void **)&si->caches, &si->cap, n + 1, sizeof(*si->caches)) < 0) ||
            (n + 1 > si->row_off_cap &&
             array_reserve((void **)&si->row_off, &si->row_off_cap, n + 1, sizeof(*si->row_off)) <
                 0) ||
            set_reserve(si, n + 1) < 0)
            return -ENOMEM;
        si->row_off[n] = (size_t)(p - buf);
        c = &si->caches[n];
        r = parse_row(p, nl, end, lineno, c, &nlen, &h, err);
        if (r < 0) {
            if (memchr(p, '\0', (size_t)(nl - p)))
                return perr_set(err, lineno, "NUL byte in line");
            return r;
        }
        r = name_register(si, n, nlen, h, lineno, err);
        if (r < 0)
            return r;
        c->bytes_total = mul_sat(mul_sat(c->num_slabs, c->pagesperslab), page_size);
        c->bytes_active = mul_sat(c->active_objs, c->objsize);
        n++;
        p = nl + 1;
    }
    si->n = n;
    si->incr_n = n;
    si->incr_page = page_size;
    si->incr_chk = rows_chk(si);
    return 0;
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
