#include "vmalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "linediff.h"

/*
 * One pass over the buffer, one pass over each line's tokens.  Nothing is
 * allocated per line: rows and the hash index live in vi and are reused by
 * the next parse, so steady-state sampling allocates only when a sample has
 * more distinct (caller, module, type) keys than any sample before it.
 *
 * Each line goes first through a fast path that takes lines exactly as the
 * kernel prints them in one pass, checking every byte; whatever it does not
 * recognise goes through the general parser (any spacing, unknown words
 * ignored, an error message for everything else), which decides.  The two
 * always agree on what a line means; the fast path only gives up sooner.
 *
 * vmalloc_parse_incr() parses only the lines that differ from the previous
 * sample and keeps per-row counts (vmalloc_row_aux) that make every sum
 * reversible.
 *
 * Addresses are secrets (%pK exists to hide them): the address range and
 * phys= are validated and skipped, never copied, and no error message quotes
 * any part of the line except numbers the parser itself produced.
 */

/* Literal-length token compares: token_eq() would strlen() every call. */
#define TOK_IS(s, e, lit) \
    ((size_t)((e) - (s)) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)
#define TOK_HAS_PREFIX(s, e, lit) \
    ((size_t)((e) - (s)) >= sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* Kind words; the type of an area is the highest-priority kind it printed. */
enum {
    K_VM_MAP_RAM = 1u << 0,
    K_VMAP = 1u << 1,
    K_VMALLOC = 1u << 2,
    K_SPARSE = 1u << 3,
    K_IOREMAP = 1u << 4,
    K_DMA_COHERENT = 1u << 5,
};

#define HEX_ADDR_MAX_DIGITS 16 /* %pK and %pa print at most 64 bits */

static const char *const type_names[VMALLOC_NTYPES] = {
    [VMALLOC_T_VMALLOC] = "vmalloc",
    [VMALLOC_T_VMAP] = "vmap",
    [VMALLOC_T_IOREMAP] = "ioremap",
    [VMALLOC_T_VM_MAP_RAM] = "vm_map_ram",
    [VMALLOC_T_SPARSE] = "sparse",
    [VMALLOC_T_DMA_COHERENT] = "dma-coherent",
    [VMALLOC_T_OTHER] = "other",
};

static const char unknown_caller[] = "unknown";

const char *vmalloc_type_name(enum vmalloc_type t)
{
    if ((unsigned)t >= VMALLOC_NTYPES)
        return "invalid";
    return type_names[t];
}

void vmalloc_info_init(struct vmalloc_info *vi)
{
    memset(vi, 0, sizeof(*vi));
}

void vmalloc_info_free(struct vmalloc_info *vi)
{
    free(vi->rows);
    free(vi->hash);
    free(vi->aux);
    free(vi->anch);
    vmalloc_info_init(vi);
}

/*
 * A table rather than range compares: every line starts with 32 random hex
 * digits, and the table walk measured 3-5x faster over them (the compare
 * chain was most of the cost of a line).
 */
static const unsigned char hex_tab[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

static inline bool is_hex(char c)
{
    return hex_tab[(unsigned char)c];
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Printable ASCII without space: everything a kernel symbol or module name can contain. */
static bool all_graphic(const char *s, const char *e)
{
    for (; s < e; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* "0x" and 1..16 hex digits at *p; advances past them. */
static bool skip_hex_addr(const char **p, const char *end)
{
    const char *s = *p;
    const char *d;

    if (end - s < 3 || s[0] != '0' || s[1] != 'x')
        return false;
    s += 2;
    d = s;
    while (s < end && is_hex(*s))
        s++;
    if (s == d || s - d > HEX_ADDR_MAX_DIGITS)
        return false;
    *p = s;
    return true;
}

/* "0x<hex>-0x<hex>" followed by a blank or the end of the line. */
static bool skip_addr_range(const char **p, const char *end)
{
    const char *s = *p;

    if (!skip_hex_addr(&s, end) || s >= end || *s != '-')
        return false;
    s++;
    if (!skip_hex_addr(&s, end))
        return false;
    if (s < end && *s != ' ' && *s != '\t')
        return false;
    *p = s;
    return true;
}

/* Is [s, e) exactly "0x<hex>" (what %pS prints when there is no symbol)? */
static bool is_bare_hex(const char *s, const char *e)
{
    const char *q = s;

    return skip_hex_addr(&q, e) && q == e;
}

/*
 * Does [s, e) contain "0x" and 8 or more hex digits?  Such a string is a
 * kernel address (or could be one) and must never be stored.
 */
static bool has_address(const char *s, const char *e)
{
    const char *q;

    for (; e - s >= 10; s++) {
        if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            continue;
        for (q = s + 2; q < e && is_hex(*q); q++)
            ;
        if (q - (s + 2) >= 8)
            return true;
    }
    return false;
}

/* The kind/flag words vmalloc_info_show prints.  false for anything else. */
static bool word_bits(const char *s, const char *e, unsigned *kinds, unsigned *flags)
{
    switch ((size_t)(e - s)) {
    case 4:
        if (memcmp(s, "vmap", 4) == 0) {
            *kinds |= K_VMAP;
            return true;
        }
        if (memcmp(s, "user", 4) == 0) {
            *flags |= VMALLOC_F_USER;
            return true;
        }
        return false;
    case 6:
        if (memcmp(s, "sparse", 6) == 0) {
            *kinds |= K_SPARSE;
            return true;
        }
        if (memcmp(s, "vpages", 6) == 0) {
            *flags |= VMALLOC_F_VPAGES;
            return true;
        }
        return false;
    case 7:
        if (memcmp(s, "vmalloc", 7) == 0) {
            *kinds |= K_VMALLOC;
            return true;
        }
        if (memcmp(s, "ioremap", 7) == 0) {
            *kinds |= K_IOREMAP;
            return true;
        }
        return false;
    case 10:
        if (memcmp(s, "vm_map_ram", 10) == 0) {
            *kinds |= K_VM_MAP_RAM;
            return true;
        }
        return false;
    case 12:
        if (memcmp(s, "dma-coherent", 12) == 0) {
            *kinds |= K_DMA_COHERENT;
            return true;
        }
        return false;
    default:
        return false;
    }
}

static enum vmalloc_type kinds_type(unsigned kinds)
{
    if (kinds & K_DMA_COHERENT)
        return VMALLOC_T_DMA_COHERENT;
    if (kinds & K_IOREMAP)
        return VMALLOC_T_IOREMAP;
    if (kinds & K_SPARSE)
        return VMALLOC_T_SPARSE;
    if (kinds & K_VMALLOC)
        return VMALLOC_T_VMALLOC;
    if (kinds & K_VMAP)
        return VMALLOC_T_VMAP;
    if (kinds & K_VM_MAP_RAM)
        return VMALLOC_T_VM_MAP_RAM;
    return VMALLOC_T_OTHER;
}

/* "N<digits>=" starts a per-node page count (show_numa_info). */
static bool is_node_tok(const char *s, const char *e)
{
    if (e - s < 3 || s[0] != 'N' || !is_digit(s[1]))
        return false;
    for (s++; s < e && is_digit(*s); s++)
        ;
    return s < e && *s == '=';
}

/* Parse a token for which is_node_tok() is true. */
static int parse_node_tok(const char *s, const char *e, unsigned *node, uint64_t *pages,
                          unsigned ln, struct perr *err)
{
    const char *p = s + 1;
    uint64_t n;
    int r;

    r = scan_u64_prefix(&p, e, &n);
    if (r < 0 || n >= VMALLOC_MAX_NODES) {
        if (r < 0)
            return perr_set(err, ln, "NUMA node index out of range (max %d)",
                            VMALLOC_MAX_NODES - 1);
        return perr_set(err, ln, "NUMA node %llu out of range (max %d)", (unsigned long long)n,
                        VMALLOC_MAX_NODES - 1);
    }
    p++; /* '=' */
    if (p == e)
        return perr_set(err, ln, "N%llu= has no value", (unsigned long long)n);
    r = scan_u64(&p, e, pages);
    if (r == -ERANGE)
        return perr_set(err, ln, "N%llu= value out of range", (unsigned long long)n);
    if (r < 0 || p != e)
        return perr_set(err, ln, "N%llu= value is not a number", (unsigned long long)n);
    *node = (unsigned)n;
    return 0;
}

/*
 * Hash of the stored key, a word at a time (FNV-1a byte by byte cost more
 * than the rest of a line's parse).  The separators keep ("ab","c") apart
 * from ("a","bc").
 */
static inline uint64_t mix_bytes(uint64_t h, const char *s, size_t n)
{
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    if (i < n) {
        uint64_t w = 0;
        for (size_t k = 0; i + k < n; k++)
            w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    return h;
}

static uint32_t key_hash(const char *c, size_t cl, const char *m, size_t ml, unsigned type)
{
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)cl << 32) ^ ((uint64_t)ml << 8) ^ type;

    h = mix_bytes(h, c, cl);
    h = mix_bytes(h ^ 0xff, m, ml);
    h *= 0xff51afd7ed558ccdull;
    return (uint32_t)(h ^ (h >> 32));
}

static void hash_insert(struct vmalloc_info *vi, uint32_t h, size_t idx)
{
    size_t mask = vi->hcap - 1;
    size_t i = h & mask;

    while (vi->hash[i])
        i = (i + 1) & mask;
    vi->hash[i] = (uint32_t)(idx + 1);
}

/* Index every row again (after rows were dropped or reordered). */
static void hash_rebuild(struct vmalloc_info *vi)
{
    if (!vi->hcap)
        return;
    memset(vi->hash, 0, vi->hcap * sizeof(*vi->hash));
    for (size_t i = 0; i < vi->n; i++) {
        const struct vmalloc_row *row = &vi->rows[i];
        hash_insert(vi, key_hash(row->caller, strlen(row->caller), row->module,
                                 strlen(row->module), row->type),
                    i);
    }
}

/* Keep the load factor at or below 1/2 for rows rows; rehash the existing rows. */
static int hash_reserve(struct vmalloc_info *vi, size_t rows)
{
    size_t ncap = vi->hcap ? vi->hcap : 64;
    uint32_t *h;

    while (ncap / 2 < rows) {
        if (ncap > SIZE_MAX / 4 / sizeof(*h))
            return -ENOMEM;
        ncap *= 2;
    }
    if (ncap == vi->hcap)
        return 0;
    h = calloc(ncap, sizeof(*h));
    if (!h)
        return -ENOMEM;
    free(vi->hash);
    vi->hash = h;
    vi->hcap = ncap;
    hash_rebuild(vi);
    return 0;
}

/*
 * Per-row bookkeeping that makes a row's sums reversible: flags and
 * node_mask are unions, which cannot be undone without knowing how many
 * areas contributed each bit, and the row order (first appearance) needs
 * the position of the row's first line.
 */
struct vmalloc_row_aux {
    uint64_t first_off;                     /* offset of the row's first line in the buffer */
    uint32_t n_user, n_vpages;              /* areas printing "user", "vpages" */
    uint32_t node_areas[VMALLOC_MAX_NODES]; /* N<n>= tokens seen, per node */
    /* scratch of one incremental parse */
    uint64_t first_added;                   /* offset of the first added line (new buffer) */
    uint32_t added;                         /* lines added to this row */
    bool first_gone;                        /* the old first line was removed */
};

/* From here on, old offsets at or after old map to new offsets at or after new. */
struct vmalloc_anchor {
    uint64_t old, new;
};

/* The row for the key, or NULL. */
static struct vmalloc_row *row_find(const struct vmalloc_info *vi, uint32_t h, const char *c,
                                    size_t cl, const char *m, size_t ml, enum vmalloc_type type)
{
    size_t mask, i;

    if (!vi->hcap)
        return NULL;
    mask = vi->hcap - 1;
    for (i = h & mask; vi->hash[i]; i = (i + 1) & mask) {
        struct vmalloc_row *row = &vi->rows[vi->hash[i] - 1];
        if (row->type == type && memcmp(row->caller, c, cl) == 0 && row->caller[cl] == '\0' &&
            memcmp(row->module, m, ml) == 0 && row->module[ml] == '\0')
            return row;
    }
    return NULL;
}

/* The row for the key, created (zeroed, first line at off) at the end if new. */
static int row_get(struct vmalloc_info *vi, const char *c, size_t cl, const char *m, size_t ml,
                   enum vmalloc_type type, uint64_t off, struct vmalloc_row **out, bool *created)
{
    uint32_t h = key_hash(c, cl, m, ml, (unsigned)type);
    struct vmalloc_row *row = row_find(vi, h, c, cl, m, ml, type);
    struct vmalloc_row_aux *aux;
    void *arr;
    int r;

    *created = false;
    if (row) {
        *out = row;
        return 0;
    }
    if (vi->n >= UINT32_MAX - 1)
        return -ENOMEM;
    r = hash_reserve(vi, vi->n + 1);
    if (r < 0)
        return r;
    arr = vi->rows;
    r = array_reserve(&arr, &vi->cap, vi->n + 1, sizeof(*vi->rows));
    vi->rows = arr;
    if (r < 0)
        return r;
    arr = vi->aux;
    r = array_reserve(&arr, &vi->aux_cap, vi->n + 1, sizeof(*vi->aux));
    vi->aux = arr;
    if (r < 0)
        return r;
    row = &vi->rows[vi->n];
    memset(row, 0, sizeof(*row));
    memcpy(row->caller, c, cl);
    memcpy(row->module, m, ml);
    row->type = type;
    aux = &vi->aux[vi->n];
    memset(aux, 0, sizeof(*aux));
    aux->first_off = off;
    hash_insert(vi, h, vi->n);
    vi->n++;
    *out = row;
    *created = true;
    return 0;
}

/* What one line says, as pointers into the buffer, and the key it is stored under. */
struct area {
    const char *caller, *caller_end; /* the whole %pS token; NULL when absent */
    const char *module, *module_end; /* inside the brackets; NULL when absent */
    const char *nodes;               /* slow path: first N<n>= token, scanned again on apply */
    const char *end;                 /* end of the line */
    unsigned kinds;
    unsigned flags;
    uint64_t size;
    uint64_t pages;
    unsigned nn;                     /* fast path: the N<n>= tokens, in nid/nv */
    uint8_t nid[4];
    uint64_t nv[4];
    bool unpurged;
    /* the stored key */
    const char *c, *m;
    size_t cl, ml;
    enum vmalloc_type type;
};

/*
 * The caller as stored: the symbol without "+off/len", cut to fit.  A %pS
 * with no symbol prints the bare address, and anything address-like is never
 * stored, so both become "unknown".  Symbols longer than the field are cut
 * rather than rejected: a kernel with one very long (e.g. Rust) symbol must
 * still be sampled, and the ASCII-only check below makes a byte cut safe.
 */
static int caller_key(const struct area *a, const char **c, size_t *cl, unsigned ln,
                      struct perr *err)
{
    const char *s = a->caller, *e = a->caller_end, *plus;

    if (!s) {
        *c = unknown_caller;
        *cl = sizeof(unknown_caller) - 1;
        return 0;
    }
    plus = memchr(s, '+', (size_t)(e - s));
    if (plus)
        e = plus;
    if (!all_graphic(s, e))
        return perr_set(err, ln, "non-printable byte in caller name");
    if (s == e || has_address(s, e) || is_bare_hex(s, e)) {
        *c = unknown_caller;
        *cl = sizeof(unknown_caller) - 1;
        return 0;
    }
    *c = s;
    *cl = (size_t)(e - s);
    if (*cl > VMALLOC_CALLER_MAX - 1)
        *cl = VMALLOC_CALLER_MAX - 1;
    return 0;
}

/* The module name as stored; "" when absent or address-like, cut to fit like the caller. */
static int module_key(const struct area *a, const char **m, size_t *ml, unsigned ln,
                      struct perr *err)
{
    *m = "";
    *ml = 0;
    if (!a->module)
        return 0;
    if (!all_graphic(a->module, a->module_end))
        return perr_set(err, ln, "non-printable byte in module name");
    if (has_address(a->module, a->module_end))
        return 0;
    *m = a->module;
    *ml = (size_t)(a->module_end - a->module);
    if (*ml > VMALLOC_MODULE_MAX - 1)
        *ml = VMALLOC_MODULE_MAX - 1;
    return 0;
}

/*
 * The %pS caller may be followed by " [module]" (or " [module buildid]" from
 * %pSb).  p is just past the caller token; on success *p is past the ']'.
 */
static int take_module(struct area *a, const char **p, const char *end, unsigned ln,
                       struct perr *err)
{
    const char *q = skip_blanks(*p, end);
    const char *close;

    if (q >= end || *q != '[')
        return 0;
    close = memchr(q, ']', (size_t)(end - q));
    if (!close)
        return perr_set(err, ln, "module name without closing ']'");
    if (close + 1 < end && close[1] != ' ' && close[1] != '\t')
        return perr_set(err, ln, "text right after the module name's ']'");
    a->module = q + 1;
    a->module_end = token_end(q + 1, close);
    *p = close + 1;
    return 0;
}

/* Every token after the size.  Fills *a, or returns 1 for an unpurged area. */
static int parse_fields(struct area *a, const char *p, const char *end, unsigned ln,
                        struct perr *err)
{
    bool first = true;
    const char *t, *te;
    uint64_t v;
    int r;

    for (;;) {
        t = skip_blanks(p, end);
        if (t >= end)
            break;
        te = token_end(t, end);
        p = te;

        if (TOK_HAS_PREFIX(t, te, "pages=")) {
            const char *q = t + 6;
            if (q == te)
                return perr_set(err, ln, "pages= has no value");
            r = scan_u64(&q, te, &v);
            if (r == -ERANGE)
                return perr_set(err, ln, "pages= value out of range");
            if (r < 0 || q != te)
                return perr_set(err, ln, "pages= value is not a number");
            a->pages = add_sat(a->pages, v);
        } else if (TOK_HAS_PREFIX(t, te, "phys=")) {
            const char *q = t + 5;
            if (!skip_hex_addr(&q, te) || q != te)
                return perr_set(err, ln, "phys= value is not a 0x<hex> address");
        } else if (is_node_tok(t, te)) {
            unsigned node;
            r = parse_node_tok(t, te, &node, &v, ln, err);
            if (r < 0)
                return r;
            if (!a->nodes)
                a->nodes = t;
        } else if (word_bits(t, te, &a->kinds, &a->flags)) {
            /* a kind or flag word */
        } else if (first) {
            /* Not a keyword, so it is the %pS caller (kernel order: right after the size). */
            if (TOK_IS(t, te, "unpurged")) {
                const char *n = skip_blanks(te, end);
                const char *ne = token_end(n, end);
                if (TOK_IS(n, ne, "vm_area"))
                    return 1;
            }
            a->caller = t;
            a->caller_end = te;
            r = take_module(a, &p, end, ln, err);
            if (r < 0)
                return r;
        }
        /*
         * Any other word is ignored on purpose: a newer kernel that adds a
         * flag word (as "sparse" and "vpages" were added) must not stop
         * sampling.  Words that claim a known form (pages=, phys=, N<n>=)
         * were validated strictly above.
         */
        first = false;
    }
    return 0;
}


/*
 * The general line parser: any spacing, unknown words ignored, every error
 * with its message.  Used for lines the fast path below does not take.
 * Returns 0 with the area and its key in *a, or -EINVAL.
 */
static int parse_area_slow(struct area *a, const char *p, const char *end, unsigned ln,
                           struct perr *err)
{
    int r;

    memset(a, 0, sizeof(*a));
    a->end = end;
    if (p == end)
        return perr_set(err, ln, "empty line");
    /* /proc text never holds a NUL; a line with one is refused whatever else it says */
    if (memchr(p, '\0', (size_t)(end - p)))
        return perr_set(err, ln, "NUL byte in line");
    if (!skip_addr_range(&p, end))
        return perr_set(err, ln, "malformed address range (expected 0x<hex>-0x<hex>)");
    p = skip_blanks(p, end);
    if (p == end)
        return perr_set(err, ln, "truncated line: no size after the address range");
    r = scan_u64(&p, end, &a->size);
    if (r == -ERANGE)
        return perr_set(err, ln, "size out of range");
    if (r < 0)
        return perr_set(err, ln, "size is not a number");

    r = parse_fields(a, p, end, ln, err);
    if (r < 0)
        return r;
    if (r == 1) {
        a->unpurged = true;
        return 0;
    }
    r = caller_key(a, &a->c, &a->cl, ln, err);
    if (r < 0)
        return r;
    r = module_key(a, &a->m, &a->ml, ln, err);
    if (r < 0)
        return r;
    a->type = kinds_type(a->kinds);
    return 0;
}


#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/*
 * Eight bytes at a time (SWAR): the table walk over the 32 hex digits of
 * every line's address range was a fifth of a line's time.  For bytes
 * below 0x80, b + (0x80 - lo) has its high bit set exactly when b >= lo,
 * and no byte carries into the next.
 */
static inline bool hex8_lower(const char *p)
{
    uint64_t x, digit, alpha;

    memcpy(&x, p, 8);
    if (x & HIGH)
        return false;
    digit = (x + ONES * (0x80 - '0')) & ~(x + ONES * (0x7f - '9')) & HIGH;
    alpha = (x + ONES * (0x80 - 'a')) & ~(x + ONES * (0x7f - 'f')) & HIGH;
    return (digit | alpha) == HIGH;
}

/* Exactly 16 lowercase hex digits at p (what %pK and %px print on 64-bit). */
static inline bool hex16(const char *p)
{
    return hex8_lower(p) && hex8_lower(p + 8);
}

/*
 * End of the run of printable bytes (0x21..0x7e) at p, not past lim: the
 * byte that ends a word.  Eight bytes at a time where the buffer allows.
 */
static inline const char *graphic_end(const char *p, const char *lim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (lim - p >= 8) {
        uint64_t x, x7, bad;

        memcpy(&x, p, 8);
        x7 = x & ~HIGH;
        bad = (x & HIGH) | (~(x7 + ONES * (0x80 - 0x21)) & HIGH) | ((x7 + ONES) & HIGH);
        if (bad)
            return p + (__builtin_ctzll(bad) >> 3);
        p += 8;
    }
#endif
    while (p < lim && (unsigned char)(*p - 0x21) <= 0x7e - 0x21)
        p++;
    return p;
}

/* Could [s, e) hold "0x"?  A cheap test before the address checks, for callers that never do. */
static inline bool maybe_address(const char *s, const char *e)
{
    bool x = false;

    for (; e - s >= 8; s += 8) {
        uint64_t w, v;
        memcpy(&w, s, 8);
        v = (w | ONES * 0x20) ^ (ONES * 'x'); /* a zero byte where s had 'x' or 'X' */
        x |= ((v - ONES) & ~v & HIGH) != 0;
    }
    for (; s < e; s++)
        x |= (*s | 0x20) == 'x';
    return x;
}

/* Decimal digits at *p, at most 19 (no overflow possible); the count, 0 for none or too many. */
static inline unsigned dec19(const char **pp, const char *lim, uint64_t *out)
{
    const char *p = *pp, *s = p;
    uint64_t v = 0;
    unsigned d;

    while (p < lim && (d = (unsigned char)*p - (unsigned)'0') <= 9) {
        v = v * 10 + d;
        if (++p - s > 19)
            return 0;
    }
    *out = v;
    *pp = p;
    return (unsigned)(p - s);
}

/* The byte after a token: a space or the newline (tabs and the rest go to the slow path). */
#define TOK_END_OK(p, lim) ((p) < (lim) && (*(p) == ' ' || *(p) == '\n'))

/* Is [s, e) the literal (compile-time length)? */
#define FAST_IS(s, e, lit) \
    ((size_t)((e) - (s)) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/*
 * The fast path: one pass over a line exactly as the kernel prints it
 * (vmalloc_info_show: 16-digit addresses, single spaces between words, only
 * the words it knows).  Every byte is checked on the way, so a line it
 * accepts holds no NUL and no stray byte, and it computes what the slow
 * path would.  Anything else (tabs, unknown words, odd numbers, more than
 * four nodes) returns false and the slow path decides.  On success *next is
 * past the newline.
 */
static bool parse_area_fast(struct area *a, const char *p, const char *lim, const char **next)
{
    bool first = true;
    uint64_t v;

    if (lim - p < 40 || p[0] != '0' || p[1] != 'x' || p[18] != '-' || p[19] != '0' ||
        p[20] != 'x' || p[37] != ' ' || !hex16(p + 2) || !hex16(p + 21))
        return false;
    p += 38;
    while (p < lim && *p == ' ')
        p++;
    if (!dec19(&p, lim, &a->size) || !TOK_END_OK(p, lim))
        return false;
    a->kinds = 0;
    a->flags = 0;
    a->pages = 0;
    a->nn = 0;
    a->nodes = NULL;
    a->unpurged = false;
    a->c = unknown_caller;
    a->cl = sizeof(unknown_caller) - 1;
    a->m = "";
    a->ml = 0;
    for (;;) {
        const char *t;

        while (p < lim && *p == ' ')
            p++;
        if (p >= lim)
            return false;
        if (*p == '\n')
            break;
        t = p;
        switch (*t) {
        case 'p':
            if (lim - t > 6 && memcmp(t, "pages=", 6) == 0) {
                p = t + 6;
                if (!dec19(&p, lim, &v) || !TOK_END_OK(p, lim))
                    return false;
                a->pages = add_sat(a->pages, v);
                first = false;
                continue;
            }
            if (lim - t > 5 && memcmp(t, "phys=", 5) == 0) {
                const char *d = p = t + 7;
                if (lim - t < 8 || t[5] != '0' || t[6] != 'x')
                    return false;
                while (p < lim && hex_tab[(unsigned char)*p])
                    p++;
                if (p == d || p - d > HEX_ADDR_MAX_DIGITS || !TOK_END_OK(p, lim))
                    return false;
                first = false;
                continue;
            }
            break;
        case 'N': {
            uint64_t node;
            if (lim - t < 2 || !is_digit(t[1]))
                break; /* a word, not a node count */
            p = t + 1;
            if (!dec19(&p, lim, &node) || node >= VMALLOC_MAX_NODES || p >= lim || *p != '=' ||
                a->nn >= ARRAY_SIZE(a->nid))
                return false;
            p++;
            if (!dec19(&p, lim, &v) || !TOK_END_OK(p, lim))
                return false;
            a->nid[a->nn] = (uint8_t)node;
            a->nv[a->nn++] = v;
            first = false;
            continue;
        }
        default:
            break;
        }
        /* a word: up to the next space or the newline, printable bytes only */
        p = graphic_end(p, lim);
        if (!TOK_END_OK(p, lim))
            return false;
        if (word_bits(t, p, &a->kinds, &a->flags)) {
            first = false;
            continue;
        }
        if (!first)
            return false; /* a word the kernel does not print: the slow path ignores it */
        first = false;
        if (FAST_IS(t, p, "unpurged") && lim - p >= 9 && memcmp(p, " vm_area\n", 9) == 0) {
            a->unpurged = true;
            *next = p + 9;
            return true;
        }
        /* the caller: the symbol up to '+', unless it is (or holds) an address */
        {
            const char *e = memchr(t, '+', (size_t)(p - t));
            if (!e)
                e = p;
            if (e == t || (maybe_address(t, e) && (has_address(t, e) || is_bare_hex(t, e)))) {
                a->c = unknown_caller;
                a->cl = sizeof(unknown_caller) - 1;
            } else {
                a->c = t;
                a->cl = (size_t)(e - t) > VMALLOC_CALLER_MAX - 1 ? VMALLOC_CALLER_MAX - 1
                                                                  : (size_t)(e - t);
            }
        }
        /* " [module]" right after the caller */
        if (lim - p >= 2 && p[1] == '[') {
            const char *ms = p + 2, *me = ms;
            while (me < lim && *me != ']' && (unsigned char)(*me - 0x21) <= 0x7e - 0x21)
                me++;
            if (me >= lim || *me != ']' || !TOK_END_OK(me + 1, lim))
                return false;
            if (!has_address(ms, me)) {
                a->m = ms;
                a->ml = (size_t)(me - ms) > VMALLOC_MODULE_MAX - 1 ? VMALLOC_MODULE_MAX - 1
                                                                   : (size_t)(me - ms);
            }
            p = me + 1;
        }
    }
    a->type = kinds_type(a->kinds);
    *next = p + 1;
    return true;
}

static inline uint64_t checked_add(uint64_t a, uint64_t b, bool *ovf)
{
    uint64_t r;

    if (__builtin_add_overflow(a, b, &r)) {
        *ovf = true;
        return UINT64_MAX;
    }
    return r;
}

static inline uint64_t checked_sub(uint64_t a, uint64_t b, bool *bad)
{
    if (a < b) {
        *bad = true;
        return 0;
    }
    return a - b;
}

/* Add (sign > 0) or take away one area's numbers to or from a sum. */
static void sum_apply(struct vmalloc_sum *s, uint64_t bytes, uint64_t pages, int sign, bool *bad)
{
    if (sign > 0) {
        s->areas = checked_add(s->areas, 1, bad);
        s->bytes = checked_add(s->bytes, bytes, bad);
        s->pages = checked_add(s->pages, pages, bad);
    } else {
        s->areas = checked_sub(s->areas, 1, bad);
        s->bytes = checked_sub(s->bytes, bytes, bad);
        s->pages = checked_sub(s->pages, pages, bad);
    }
}

/* One N<n>= value in or out of a row; node_mask follows the count of areas naming the node. */
static void node_apply(struct vmalloc_row *row, struct vmalloc_row_aux *aux, unsigned node,
                       uint64_t v, int sign, bool *bad)
{
    if (sign > 0) {
        row->nodes[node] = checked_add(row->nodes[node], v, bad);
        aux->node_areas[node]++;
    } else {
        row->nodes[node] = checked_sub(row->nodes[node], v, bad);
        if (!aux->node_areas[node])
            *bad = true;
        else
            aux->node_areas[node]--;
    }
    if (aux->node_areas[node])
        row->node_mask |= 1ull << node;
    else
        row->node_mask &= ~(1ull << node);
}

/*
 * Count one area in (sign > 0) or out of its row and the sums.  off is the
 * line's offset (for the row order).  *bad is set when a sum overflowed
 * (adding) or would go below zero (taking away; the incremental parser then
 * starts over).  In a plain parse an overflow only saturates, as always,
 * and marks the result as not reversible.
 */
static int area_apply(struct vmalloc_info *vi, const struct area *a, uint64_t off, int sign,
                      bool incremental, bool *bad)
{
    struct vmalloc_row *row;
    struct vmalloc_row_aux *aux;
    bool created = false;
    size_t idx;

    if (a->unpurged) {
        if (sign > 0) {
            vi->unpurged.areas = checked_add(vi->unpurged.areas, 1, bad);
            vi->unpurged.bytes = checked_add(vi->unpurged.bytes, a->size, bad);
        } else {
            vi->unpurged.areas = checked_sub(vi->unpurged.areas, 1, bad);
            vi->unpurged.bytes = checked_sub(vi->unpurged.bytes, a->size, bad);
        }
        return 0;
    }
    if (sign > 0) {
        int r = row_get(vi, a->c, a->cl, a->m, a->ml, a->type, off, &row, &created);
        if (r < 0)
            return r;
    } else {
        row = row_find(vi, key_hash(a->c, a->cl, a->m, a->ml, (unsigned)a->type), a->c, a->cl,
                       a->m, a->ml, a->type);
        if (!row) {
            *bad = true; /* the previous result does not hold this line: start over */
            return 0;
        }
    }
    idx = (size_t)(row - vi->rows);
    aux = &vi->aux[idx];
    if (incremental) {
        if (sign > 0) {
            if (!aux->added++)
                aux->first_added = off;
        } else if (off == aux->first_off && !created) {
            aux->first_gone = true;
        }
    }
    if (sign > 0) {
        row->areas = checked_add(row->areas, 1, bad);
        row->bytes = checked_add(row->bytes, a->size, bad);
        row->pages = checked_add(row->pages, a->pages, bad);
        aux->n_user += (a->flags & VMALLOC_F_USER) != 0;
        aux->n_vpages += (a->flags & VMALLOC_F_VPAGES) != 0;
    } else {
        row->areas = checked_sub(row->areas, 1, bad);
        row->bytes = checked_sub(row->bytes, a->size, bad);
        row->pages = checked_sub(row->pages, a->pages, bad);
        if (((a->flags & VMALLOC_F_USER) && !aux->n_user) ||
            ((a->flags & VMALLOC_F_VPAGES) && !aux->n_vpages))
            *bad = true;
        aux->n_user -= (a->flags & VMALLOC_F_USER) && aux->n_user;
        aux->n_vpages -= (a->flags & VMALLOC_F_VPAGES) && aux->n_vpages;
    }
    row->flags = (aux->n_user ? VMALLOC_F_USER : 0u) | (aux->n_vpages ? VMALLOC_F_VPAGES : 0u);
    if (a->nodes) {
        /* slow-path area: its N<n>= tokens again (all were validated) */
        for (const char *t = a->nodes; t < a->end;) {
            const char *te = token_end(t, a->end);
            unsigned node;
            uint64_t v;

            if (is_node_tok(t, te) && parse_node_tok(t, te, &node, &v, 0, NULL) == 0)
                node_apply(row, aux, node, v, sign, bad);
            t = skip_blanks(te, a->end);
        }
    } else {
        for (unsigned i = 0; i < a->nn; i++)
            node_apply(row, aux, a->nid[i], a->nv[i], sign, bad);
    }
    sum_apply(&vi->types[row->type], a->size, a->pages, sign, bad);
    sum_apply(&vi->total, a->size, a->pages, sign, bad);
    return 0;
}

static void reset(struct vmalloc_info *vi)
{
    vi->n = 0;
    vi->aux_n = 0;
    vi->sat = 0;
    memset(vi->types, 0, sizeof(vi->types));
    memset(&vi->unpurged, 0, sizeof(vi->unpurged));
    memset(&vi->total, 0, sizeof(vi->total));
    if (vi->hash)
        memset(vi->hash, 0, vi->hcap * sizeof(*vi->hash));
}

/* Parse the line at p (the fast path, else the slow one); *next is past its newline. */
static int parse_area(struct area *a, const char *p, const char *end, unsigned ln,
                      const char **next, struct perr *err)
{
    const char *nl;
    int r;

    if (parse_area_fast(a, p, end, next))
        return 0;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return perr_set(err, ln, "truncated line (no newline at end of file)");
    r = parse_area_slow(a, p, nl, ln, err);
    *next = nl + 1;
    return r;
}

int vmalloc_parse(const char *buf, size_t len, struct vmalloc_info *vi, struct perr *err)
{
    const char *p = buf, *end = buf + len;
    unsigned ln = 0;
    bool sat = false;
    int r = 0;

    reset(vi);
    /* An empty file is valid: nothing is mapped (unlikely, but not malformed). */
    while (p < end) {
        struct area a;
        const char *next;

        ln++;
        r = parse_area(&a, p, end, ln, &next, err);
        if (r < 0)
            break;
        r = area_apply(vi, &a, (uint64_t)(p - buf), 1, false, &sat);
        if (r < 0)
            break;
        p = next;
    }
    if (r < 0) {
        /* Never leave half a sample behind: callers must not mistake it for data. */
        reset(vi);
        if (r == -ENOMEM)
            perr_set(err, ln, "out of memory");
        return r;
    }
    vi->sat = sat;
    vi->aux_n = vi->n;
    vi->chk_total = vi->total;
    vi->chk_unpurged = vi->unpurged;
    return 0;
}

/* ---- incremental parse ---- */

/*
 * Lines a mismatch is looked up in, ahead on either side, before it counts
 * as a replacement: first a few (scattered single areas, the common case),
 * then more (a batch of lazily freed areas arriving together).
 */
#define RESYNC_NEAR 8
#define RESYNC_FAR 64
/*
 * Replacements before giving up: a block of changed lines longer than
 * RESYNC_FAR (a purge of lazily freed areas) looks like a run of them, and
 * a plain parse is then cheaper than walking on out of step.
 */
#define MAX_REPLACED 32

/*
 * Is the line [s, s+n] (with its newline) among the lines of b from q on,
 * looking at lines number `from` to `to` (0-based) of them?  Offset of that
 * line, or SIZE_MAX.  *qp carries the scan position between calls.
 */
static size_t find_line(const char *b, size_t blen, size_t *qp, int from, int to, const char *s,
                        size_t n)
{
    size_t q = *qp;

    for (int k = from; k < to && q < blen; k++) {
        size_t qe = (size_t)((const char *)memchr(b + q, '\n', blen - q) - b);
        if (qe - q == n && memcmp(b + q, s, n) == 0)
            return q;
        q = qe + 1;
    }
    *qp = q;
    return SIZE_MAX;
}

/* End of the line starting at p (the newline's offset); every line ends with one here. */
static inline size_t eol(const char *b, size_t len, size_t p)
{
    return (size_t)((const char *)memchr(b + p, '\n', len - p) - b);
}

struct walk {
    struct vmalloc_info *vi;
    const char *prev, *buf;
    size_t plen, len;
    size_t n0;       /* rows before this parse */
    size_t budget;   /* bytes that may still be parsed before a plain parse is cheaper */
    bool bad;
    unsigned replaced; /* lines handled as replaced by another */
};

static int anchor_push(struct vmalloc_info *vi, uint64_t old, uint64_t new)
{
    void *arr = vi->anch;
    int r = array_reserve(&arr, &vi->anch_cap, vi->anch_n + 1, sizeof(*vi->anch));

    vi->anch = arr;
    if (r < 0)
        return r;
    vi->anch[vi->anch_n].old = old;
    vi->anch[vi->anch_n].new = new;
    vi->anch_n++;
    return 0;
}

/* Take away (sign < 0, from prev) or add (from buf) the lines of [p, e). */
static int walk_lines(struct walk *w, size_t p, size_t e, int sign)
{
    const char *base = sign < 0 ? w->prev : w->buf;
    size_t blen = sign < 0 ? w->plen : w->len;

    while (p < e) {
        struct area a;
        const char *next;
        size_t ll;
        int r;

        if (parse_area(&a, base + p, base + blen, 0, &next, NULL) < 0)
            return -EAGAIN; /* the plain parse reports it, with the line number */
        ll = (size_t)(next - (base + p));
        if (ll > w->budget)
            return -EAGAIN;
        w->budget -= ll;
        r = area_apply(w->vi, &a, p, sign, true, &w->bad);
        if (r < 0)
            return r;
        if (w->bad)
            return -EAGAIN;
        p += ll;
    }
    return 0;
}

/*
 * Walk both buffers, skipping equal stretches at memcmp speed; at each
 * difference decide which lines went away and which came, and apply only
 * those.  Any sequence of decisions gives the right sums (every old line is
 * either equal to a new one or taken away, every new line equal or added);
 * a good one parses fewer lines.
 */
static int walk(struct walk *w)
{
    const char *prev = w->prev, *buf = w->buf;
    size_t po = 0, pn = 0;
    int r;

    w->vi->anch_n = 0;
    r = anchor_push(w->vi, 0, 0);
    while (r == 0) {
        size_t m = linediff_prefix(prev + po, buf + pn,
                                   w->plen - po < w->len - pn ? w->plen - po : w->len - pn);
        size_t ls, oe, ne, q, qo, qn;
        bool found = false;

        if (po + m == w->plen && pn + m == w->len)
            return 0;
        /* back to the start of the line that differs (pn is a line start) */
        ls = (size_t)(linediff_line_start(buf + pn, buf + pn + m) - buf);
        po += ls - pn;
        pn = ls;
        if (po == w->plen)
            return walk_lines(w, pn, w->len, 1);
        if (pn == w->len)
            return walk_lines(w, po, w->plen, -1);
        oe = eol(prev, w->plen, po);
        ne = eol(buf, w->len, pn);
        /*
         * Near, then far: lines removed (the new line is further down the
         * old buffer) or lines added (the old line further down the new).
         */
        qo = oe + 1;
        qn = ne + 1;
        for (int lv = 0; lv < 2 && !found; lv++) {
            int from = lv ? RESYNC_NEAR : 0, to = lv ? RESYNC_FAR : RESYNC_NEAR;

            q = find_line(prev, w->plen, &qo, from, to, buf + pn, ne - pn);
            if (q != SIZE_MAX) {
                r = walk_lines(w, po, q, -1);
                po = q;
                found = true;
                break;
            }
            q = find_line(buf, w->len, &qn, from, to, prev + po, oe - po);
            if (q != SIZE_MAX) {
                r = walk_lines(w, pn, q, 1);
                pn = q;
                found = true;
            }
        }
        /* a line replaced by another */
        if (!found) {
            if (++w->replaced > MAX_REPLACED)
                return -EAGAIN;
            r = walk_lines(w, po, oe + 1, -1);
            if (r == 0)
                r = walk_lines(w, pn, ne + 1, 1);
            po = oe + 1;
            pn = ne + 1;
        }
        if (r == 0)
            r = anchor_push(w->vi, po, pn);
    }
    return r;
}

static int cmp_first_off(const void *a, const void *b, void *arg)
{
    const struct vmalloc_row_aux *aux = arg;
    uint64_t x = aux[*(const uint32_t *)a].first_off, y = aux[*(const uint32_t *)b].first_off;

    return (x > y) - (x < y);
}

/*
 * Row i lost its first line but kept older ones: where is its first line
 * now?  Not before `from` (everything there is either an unchanged line
 * that came before the row's old first line, or an added one, which the
 * walk counted apart).  The caller's name is searched for (memmem, fast)
 * and each hit's line parsed to check it is the row's.
 */
static int find_first(const struct walk *w, size_t i, size_t from, uint64_t *off)
{
    const struct vmalloc_row *row = &w->vi->rows[i];
    size_t cl = strlen(row->caller), ml = strlen(row->module);
    const char *p = w->buf + from, *end = w->buf + w->len, *hit;

    /* an unknown caller has no text of its own to look for */
    if (strcmp(row->caller, unknown_caller) == 0)
        return -EAGAIN;
    while ((hit = memmem(p, (size_t)(end - p), row->caller, cl))) {
        const char *ls = linediff_line_start(w->buf, hit), *next;
        struct area a;

        if (parse_area(&a, ls, end, 0, &next, NULL) < 0)
            return -EAGAIN;
        if (!a.unpurged && a.type == row->type && a.cl == cl && memcmp(a.c, row->caller, cl) == 0 &&
            a.ml == ml && memcmp(a.m, row->module, ml) == 0) {
            *off = (uint64_t)(ls - w->buf);
            return 0;
        }
        p = next;
    }
    return -EAGAIN;
}

/*
 * After the walk: every surviving row's first line in new-buffer offsets,
 * rows with no area left dropped, and the order of first appearance
 * restored.  -EAGAIN when a row lost its first line but kept older ones
 * (where its first line now is would take a scan of the file).
 */
static int finish(struct walk *w)
{
    struct vmalloc_info *vi = w->vi;
    size_t ai = 0, out = 0;
    bool drop = false, sorted = true;
    uint64_t last = 0;

    for (size_t i = 0; i < vi->n; i++) {
        struct vmalloc_row_aux *aux = &vi->aux[i];

        if (vi->rows[i].areas == 0) {
            drop = true;
            continue;
        }
        if (i >= w->n0) {
            aux->first_off = aux->first_added;
        } else {
            /* rows before n0 are in old first-line order, so the anchors are met in order */
            uint64_t off;
            while (ai + 1 < vi->anch_n && vi->anch[ai + 1].old <= aux->first_off)
                ai++;
            if (!aux->first_gone) {
                off = aux->first_off - vi->anch[ai].old + vi->anch[ai].new;
            } else if (aux->added == vi->rows[i].areas) {
                off = aux->first_added; /* every area of the row is new */
            } else {
                int r = find_first(w, i, vi->anch[ai].new, &off);
                if (r < 0)
                    return r;
            }
            if (aux->added && aux->first_added < off)
                off = aux->first_added;
            aux->first_off = off;
        }
        if (out && aux->first_off <= last)
            sorted = false;
        last = aux->first_off;
        out++;
    }
    if (drop) {
        out = 0;
        for (size_t i = 0; i < vi->n; i++) {
            if (vi->rows[i].areas == 0)
                continue;
            if (out != i) {
                vi->rows[out] = vi->rows[i];
                vi->aux[out] = vi->aux[i];
            }
            out++;
        }
        vi->n = out;
    }
    if (!sorted) {
        /* a row whose first line moved ahead of another's: reorder (rare; allocates) */
        uint32_t *idx = malloc(vi->n * sizeof(*idx));
        struct vmalloc_row *rows = malloc(vi->n * sizeof(*rows));
        struct vmalloc_row_aux *aux = malloc(vi->n * sizeof(*aux));

        if (!idx || !rows || !aux) {
            free(idx);
            free(rows);
            free(aux);
            return -ENOMEM;
        }
        for (size_t i = 0; i < vi->n; i++)
            idx[i] = (uint32_t)i;
        qsort_r(idx, vi->n, sizeof(*idx), cmp_first_off, vi->aux);
        for (size_t i = 0; i < vi->n; i++) {
            rows[i] = vi->rows[idx[i]];
            aux[i] = vi->aux[idx[i]];
        }
        memcpy(vi->rows, rows, vi->n * sizeof(*rows));
        memcpy(vi->aux, aux, vi->n * sizeof(*aux));
        free(idx);
        free(rows);
        free(aux);
    }
    if (drop || !sorted)
        hash_rebuild(vi);
    return 0;
}

static bool sum_eq(const struct vmalloc_sum *a, const struct vmalloc_sum *b)
{
    return a->areas == b->areas && a->bytes == b->bytes && a->pages == b->pages;
}

int vmalloc_parse_incr(const char *prev, size_t prev_len, const char *buf, size_t len,
                       struct vmalloc_info *vi, struct perr *err)
{
    struct walk w;
    int r;

    /*
     * The previous result must be whole and ours: parsed by us (aux_n), not
     * saturated, and not changed since (the sums as we left them).
     */
    vi->incr_parses++;
    if (vi->aux_n != vi->n || vi->sat || !sum_eq(&vi->total, &vi->chk_total) ||
        !sum_eq(&vi->unpurged, &vi->chk_unpurged) || !prev_len || prev[prev_len - 1] != '\n' ||
        !len || buf[len - 1] != '\n') {
        vi->incr_fallbacks++;
        return vmalloc_parse(buf, len, vi, err);
    }
    if (prev_len == len && memcmp(prev, buf, len) == 0)
        return 0;
    memset(&w, 0, sizeof(w));
    w.vi = vi;
    w.prev = prev;
    w.plen = prev_len;
    w.buf = buf;
    w.len = len;
    w.n0 = vi->n;
    /* taking away and adding back half the file costs about one plain parse */
    w.budget = len / 2 + 4096;
    for (size_t i = 0; i < vi->n; i++) {
        vi->aux[i].added = 0;
        vi->aux[i].first_gone = false;
    }
    r = walk(&w);
    if (r == 0)
        r = finish(&w);
    if (r < 0) {
        vi->incr_fallbacks++;
        return vmalloc_parse(buf, len, vi, err);
    }
    vi->aux_n = vi->n;
    vi->chk_total = vi->total;
    vi->chk_unpurged = vi->unpurged;
    return 0;
}
