#include "vmalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * One pass over the buffer, one pass over each line's tokens.  Nothing is
 * allocated per line: rows and the hash index live in vi and are reused by
 * the next parse, so steady-state sampling allocates only when a sample has
 * more distinct (caller, module, type) keys than any sample before it.
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

/* FNV-1a over the stored key; the separators keep ("ab","c") apart from ("a","bc"). */
static uint32_t key_hash(const char *c, size_t cl, const char *m, size_t ml, unsigned type)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < cl; i++)
        h = (h ^ (unsigned char)c[i]) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (i = 0; i < ml; i++)
        h = (h ^ (unsigned char)m[i]) * 16777619u;
    h = (h ^ (0x100u + type)) * 16777619u;
    return h;
}

static void hash_insert(struct vmalloc_info *vi, uint32_t h, size_t idx)
{
    size_t mask = vi->hcap - 1;
    size_t i = h & mask;

    while (vi->hash[i])
        i = (i + 1) & mask;
    vi->hash[i] = (uint32_t)(idx + 1);
}

/* Keep the load factor at or below 1/2 for rows rows; rehash the existing rows. */
static int hash_reserve(struct vmalloc_info *vi, size_t rows)
{
    size_t ncap = vi->hcap ? vi->hcap : 64;
    uint32_t *h;
    size_t i;

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
    for (i = 0; i < vi->n; i++) {
        const struct vmalloc_row *row = &vi->rows[i];
        hash_insert(vi, key_hash(row->caller, strlen(row->caller), row->module,
                                 strlen(row->module), row->type),
                    i);
    }
    return 0;
}

/* The row for the key, created (zeroed) in first-appearance order if new. */
static int row_get(struct vmalloc_info *vi, const char *c, size_t cl, const char *m, size_t ml,
                   enum vmalloc_type type, struct vmalloc_row **out)
{
    uint32_t h = key_hash(c, cl, m, ml, (unsigned)type);
    struct vmalloc_row *row;
    void *rows;
    size_t i;
    int r;

    if (vi->hcap) {
        size_t mask = vi->hcap - 1;
        for (i = h & mask; vi->hash[i]; i = (i + 1) & mask) {
            row = &vi->rows[vi->hash[i] - 1];
            if (row->type == type && memcmp(row->caller, c, cl) == 0 && row->caller[cl] == '\0' &&
                memcmp(row->module, m, ml) == 0 && row->module[ml] == '\0') {
                *out = row;
                return 0;
            }
        }
    }
    if (vi->n >= UINT32_MAX - 1)
        return -ENOMEM;
    r = hash_reserve(vi, vi->n + 1);
    if (r < 0)
        return r;
    rows = vi->rows;
    r = array_reserve(&rows, &vi->cap, vi->n + 1, sizeof(*vi->rows));
    vi->rows = rows;
    if (r < 0)
        return r;
    row = &vi->rows[vi->n];
    memset(row, 0, sizeof(*row));
    memcpy(row->caller, c, cl);
    memcpy(row->module, m, ml);
    row->type = type;
    hash_insert(vi, h, vi->n);
    vi->n++;
    *out = row;
    return 0;
}

static void sum_add(struct vmalloc_sum *s, uint64_t bytes, uint64_t pages)
{
    s->areas = add_sat(s->areas, 1);
    s->bytes = add_sat(s->bytes, bytes);
    s->pages = add_sat(s->pages, pages);
}

/* What one line says, as pointers into the buffer. */
struct area {
    const char *caller, *caller_end; /* the whole %pS token; NULL when absent */
    const char *module, *module_end; /* inside the brackets; NULL when absent */
    const char *nodes;               /* first N<n>= token; NULL when none */
    unsigned kinds;
    unsigned flags;
    uint64_t size;
    uint64_t pages;
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

static int parse_line(struct vmalloc_info *vi, const char *p, const char *end, unsigned ln,
                      struct perr *err)
{
    struct area a;
    struct vmalloc_row *row;
    enum vmalloc_type type;
    const char *c = unknown_caller, *m = "", *t, *te;
    size_t cl = 0, ml = 0;
    int r;

    memset(&a, 0, sizeof(a));
    if (p == end)
        return perr_set(err, ln, "empty line");
    if (!skip_addr_range(&p, end))
        return perr_set(err, ln, "malformed address range (expected 0x<hex>-0x<hex>)");
    p = skip_blanks(p, end);
    if (p == end)
        return perr_set(err, ln, "truncated line: no size after the address range");
    r = scan_u64(&p, end, &a.size);
    if (r == -ERANGE)
        return perr_set(err, ln, "size out of range");
    if (r < 0)
        return perr_set(err, ln, "size is not a number");

    r = parse_fields(&a, p, end, ln, err);
    if (r < 0)
        return r;
    if (r == 1) {
        vi->unpurged.areas = add_sat(vi->unpurged.areas, 1);
        vi->unpurged.bytes = add_sat(vi->unpurged.bytes, a.size);
        return 0;
    }

    r = caller_key(&a, &c, &cl, ln, err);
    if (r < 0)
        return r;
    r = module_key(&a, &m, &ml, ln, err);
    if (r < 0)
        return r;
    type = kinds_type(a.kinds);
    r = row_get(vi, c, cl, m, ml, type, &row);
    if (r < 0)
        return r;

    row->flags |= a.flags;
    row->areas = add_sat(row->areas, 1);
    row->bytes = add_sat(row->bytes, a.size);
    row->pages = add_sat(row->pages, a.pages);
    /* Second look at the N<n>= tokens only, now that the row is known; all were validated. */
    for (t = a.nodes; t && t < end; t = skip_blanks(te, end)) {
        unsigned node;
        uint64_t v;

        te = token_end(t, end);
        if (is_node_tok(t, te) && parse_node_tok(t, te, &node, &v, ln, NULL) == 0) {
            row->nodes[node] = add_sat(row->nodes[node], v);
            row->node_mask |= 1ull << node;
        }
    }
    sum_add(&vi->types[type], a.size, a.pages);
    sum_add(&vi->total, a.size, a.pages);
    return 0;
}

static void reset(struct vmalloc_info *vi)
{
    vi->n = 0;
    memset(vi->types, 0, sizeof(vi->types));
    memset(&vi->unpurged, 0, sizeof(vi->unpurged));
    memset(&vi->total, 0, sizeof(vi->total));
    if (vi->hash)
        memset(vi->hash, 0, vi->hcap * sizeof(*vi->hash));
}

int vmalloc_parse(const char *buf, size_t len, struct vmalloc_info *vi, struct perr *err)
{
    struct line_iter it;
    const char *ls, *le;
    int r;

    reset(vi);
    /* An empty file is valid: nothing is mapped (unlikely, but not malformed). */
    line_iter_init(&it, buf, len);
    while ((r = line_iter_next(&it, &ls, &le, err)) > 0) {
        r = parse_line(vi, ls, le, it.lineno, err);
        if (r < 0)
            break;
    }
    if (r < 0) {
        /* Never leave half a sample behind: callers must not mistake it for data. */
        reset(vi);
        if (r == -ENOMEM)
            perr_set(err, it.lineno, "out of memory");
        return r;
    }
    return 0;
}

int vmalloc_parse_incr(const char *prev, size_t prev_len, const char *buf, size_t len,
                       struct vmalloc_info *vi, struct perr *err)
{
    (void)prev;
    (void)prev_len;
    return vmalloc_parse(buf, len, vi, err);
}
