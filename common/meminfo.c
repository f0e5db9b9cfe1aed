#include "meminfo.h"

#include <errno.h>
#include <string.h>

/*
 * Lines are "Key:<blanks>value[ kB]" (fs/proc/meminfo.c show_val_kb pads the
 * value to 8 columns; the HugePages_* counts have no unit).  The file is
 * small, so the key lookup is a plain scan of our ten names.
 */

static const char *const key_names[MEMINFO_NKEYS] = {
    [MEMINFO_MEMTOTAL] = "MemTotal",
    [MEMINFO_MEMFREE] = "MemFree",
    [MEMINFO_MEMAVAILABLE] = "MemAvailable",
    [MEMINFO_SLAB] = "Slab",
    [MEMINFO_SRECLAIMABLE] = "SReclaimable",
    [MEMINFO_SUNRECLAIM] = "SUnreclaim",
    [MEMINFO_KRECLAIMABLE] = "KReclaimable",
    [MEMINFO_VMALLOCUSED] = "VmallocUsed",
    [MEMINFO_VMALLOCTOTAL] = "VmallocTotal",
    [MEMINFO_PERCPU] = "Percpu",
};

static const unsigned char key_len[MEMINFO_NKEYS] = {
    [MEMINFO_MEMTOTAL] = sizeof("MemTotal") - 1,
    [MEMINFO_MEMFREE] = sizeof("MemFree") - 1,
    [MEMINFO_MEMAVAILABLE] = sizeof("MemAvailable") - 1,
    [MEMINFO_SLAB] = sizeof("Slab") - 1,
    [MEMINFO_SRECLAIMABLE] = sizeof("SReclaimable") - 1,
    [MEMINFO_SUNRECLAIM] = sizeof("SUnreclaim") - 1,
    [MEMINFO_KRECLAIMABLE] = sizeof("KReclaimable") - 1,
    [MEMINFO_VMALLOCUSED] = sizeof("VmallocUsed") - 1,
    [MEMINFO_VMALLOCTOTAL] = sizeof("VmallocTotal") - 1,
    [MEMINFO_PERCPU] = sizeof("Percpu") - 1,
};

const char *meminfo_key_name(enum meminfo_key k)
{
    if ((unsigned)k >= MEMINFO_NKEYS)
        return NULL;
    return key_names[k];
}

int meminfo_key_parse(const char *s)
{
    int k;

    if (!s)
        return -1;
    for (k = 0; k < MEMINFO_NKEYS; k++)
        if (strcmp(s, key_names[k]) == 0)
            return k;
    return -1;
}

/*
 * Our key spelled by [s, e), or -1.  Most of the file's ~55 keys are not
 * ours; comparing lengths and first letters first leaves a memcmp for only
 * the few candidates (ten strncmp calls per line were most of the parse).
 */
static int key_lookup(const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    int k;

    for (k = 0; k < MEMINFO_NKEYS; k++)
        if (key_len[k] == n && key_names[k][0] == s[0] && memcmp(key_names[k], s, n) == 0)
            return k;
    return -1;
}

static int parse_line(struct meminfo *mi, const char *p, const char *end, unsigned ln,
                      struct perr *err)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *u, *ue;
    bool kb = false;
    uint64_t v;
    int k, r;

    if (!colon)
        return perr_set(err, ln, "expected \"Key: value\" (no ':')");
    if (colon == p)
        return perr_set(err, ln, "empty key before ':'");
    k = key_lookup(p, colon);
    p = colon + 1;
    if (skip_blanks(p, end) == end)
        return perr_set(err, ln, "truncated line: no value after ':'");
    r = scan_u64(&p, end, &v);
    if (r == -ERANGE)
        return perr_set(err, ln, "value out of range");
    if (r < 0)
        return perr_set(err, ln, "value is not a number");
    u = skip_blanks(p, end);
    ue = token_end(u, end);
    if (u < ue) {
        if (!(ue - u == 2 && u[0] == 'k' && u[1] == 'B'))
            return perr_set(err, ln,
                            "unexpected text after the value (expected \"kB\" or nothing)");
        kb = true;
        if (skip_blanks(ue, end) != end)
            return perr_set(err, ln, "unexpected text after \"kB\"");
    }
    if (k < 0)
        return 0; /* not ours: checked for shape only */
    /* every key we keep is a size; a bare count there would be misread by 1024x */
    if (!kb)
        return perr_set(err, ln, "%s has no kB unit", key_names[k]);
    if (v > UINT64_MAX / 1024)
        return perr_set(err, ln, "%s value out of range", key_names[k]);
    mi->value[k] = v * 1024;
    mi->present |= 1u << k;
    return 0;
}

int meminfo_parse(const char *buf, size_t len, struct meminfo *mi, struct perr *err)
{
    struct line_iter it;
    const char *ls, *le;
    int r;

    memset(mi, 0, sizeof(*mi));
    if (len == 0)
        return perr_set(err, 0, "empty file");
    line_iter_init(&it, buf, len);
    while ((r = line_iter_next(&it, &ls, &le, err)) > 0) {
        r = parse_line(mi, ls, le, it.lineno, err);
        if (r < 0)
            break;
    }
    if (r < 0) {
        memset(mi, 0, sizeof(*mi));
        return r;
    }
    return 0;
}
