#include "buddy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * The kernel prints each line as
 *   seq_printf(m, "Node %d, zone %8s ", nid, zone->name);
 *   for each order: seq_printf(m, "%6lu ", nr_free);
 * so a line is "Node", "<n>,", "zone", the name, then one count per order.
 */

void buddy_info_init(struct buddy_info *bi)
{
    memset(bi, 0, sizeof(*bi));
}

void buddy_info_free(struct buddy_info *bi)
{
    free(bi->zones);
    buddy_info_init(bi);
}

/*
 * mm/vmstat.c unusable_free_index():
 *   free_pages == 0 ? 1000
 *                   : (free_pages - (free_blocks_suitable << order)) * 1000 / free_pages
 * where free_blocks_suitable << order is sum_{k>=order} free[k] << k.  The
 * kernel multiplies in 64 bits; real page counts are far from overflowing
 * that, and 128 bits keeps the saturated counts of hostile input in range.
 */
static void zone_derive(struct buddy_zone *z, unsigned orders)
{
    uint64_t suffix[BUDDY_MAX_ORDERS];
    uint64_t s = 0;
    unsigned o;

    for (o = orders; o-- > 0;) {
        s = add_sat(s, mul_sat(z->free[o], 1ull << o));
        suffix[o] = s;
    }
    /* saturating sums are monotone, so suffix[o] <= free_pages for every o */
    z->free_pages = s;
    for (o = 0; o < orders; o++) {
        if (s == 0)
            z->unusable[o] = 1000;
        else
            z->unusable[o] = (unsigned)((unsigned __int128)(s - suffix[o]) * 1000u / s);
    }
}

/* "Node <n>, zone <name>" into z; *p is left after the name. */
static int parse_head(struct buddy_zone *z, const char **p, const char *end, unsigned ln,
                      struct perr *err)
{
    const char *s = skip_blanks(*p, end), *e;
    uint64_t node;
    int r;

    e = token_end(s, end);
    if (!(e - s == 4 && memcmp(s, "Node", 4) == 0))
        return perr_set(err, ln, "expected \"Node <n>, zone <name> <counts>\"");
    s = e;
    r = scan_u64_prefix(&s, end, &node);
    if (r == -ERANGE || (r == 0 && node > UINT32_MAX))
        return perr_set(err, ln, "node number out of range");
    if (r < 0)
        return perr_set(err, ln, "node number is not a number");
    if (s >= end || *s != ',')
        return perr_set(err, ln, "expected ',' after the node number");
    s = skip_blanks(s + 1, end);
    e = token_end(s, end);
    if (!(e - s == 4 && memcmp(s, "zone", 4) == 0))
        return perr_set(err, ln, "expected \"zone\" after the node number");
    s = skip_blanks(e, end);
    e = token_end(s, end);
    if (s == e)
        return perr_set(err, ln, "truncated line: no zone name");
    if ((size_t)(e - s) > BUDDY_ZONE_MAX - 1)
        return perr_set(err, ln, "zone name longer than %d bytes", BUDDY_ZONE_MAX - 1);
    for (const char *q = s; q < e; q++)
        if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
            return perr_set(err, ln, "non-printable byte in zone name");
    z->node = (unsigned)node;
    memcpy(z->zone, s, (size_t)(e - s));
    z->zone[e - s] = '\0';
    *p = e;
    return 0;
}

static int parse_line(struct buddy_info *bi, struct buddy_zone *z, const char *p, const char *end,
                      unsigned ln, struct perr *err)
{
    unsigned o = 0;
    int r;

    r = parse_head(z, &p, end, ln, err);
    if (r < 0)
        return r;
    for (;;) {
        uint64_t v;

        p = skip_blanks(p, end);
        if (p >= end)
            break;
        if (o >= BUDDY_MAX_ORDERS)
            return perr_set(err, ln, "more than %d orders", BUDDY_MAX_ORDERS);
        r = scan_u64(&p, end, &v);
        if (r == -ERANGE)
            return perr_set(err, ln, "free count for order %u out of range", o);
        if (r < 0)
            return perr_set(err, ln, "free count for order %u is not a number", o);
        z->free[o++] = v;
    }
    if (o == 0)
        return perr_set(err, ln, "truncated line: no free counts");
    if (bi->orders == 0)
        bi->orders = o;
    else if (o != bi->orders)
        return perr_set(err, ln, "%u orders, expected %u", o, bi->orders);
    zone_derive(z, o);
    return 0;
}

int buddy_parse(const char *buf, size_t len, struct buddy_info *bi, struct perr *err)
{
    struct line_iter it;
    const char *ls, *le;
    void *zones;
    int r;

    bi->n = 0;
    bi->orders = 0;
    if (len == 0)
        return perr_set(err, 0, "empty file");
    line_iter_init(&it, buf, len);
    while ((r = line_iter_next(&it, &ls, &le, err)) > 0) {
        struct buddy_zone *z;

        zones = bi->zones;
        r = array_reserve(&zones, &bi->cap, bi->n + 1, sizeof(*bi->zones));
        bi->zones = zones;
        if (r < 0) {
            perr_set(err, it.lineno, "out of memory");
            break;
        }
        z = &bi->zones[bi->n];
        memset(z, 0, sizeof(*z));
        r = parse_line(bi, z, ls, le, it.lineno, err);
        if (r < 0)
            break;
        bi->n++;
    }
    if (r < 0) {
        /* no half-parsed sample */
        bi->n = 0;
        bi->orders = 0;
        return r;
    }
    return 0;
}

long buddy_find(const struct buddy_info *bi, unsigned node, const char *zone)
{
    size_t i;

    for (i = 0; i < bi->n; i++)
        if (bi->zones[i].node == node && strcmp(bi->zones[i].zone, zone) == 0)
            return (long)i;
    return -1;
}
