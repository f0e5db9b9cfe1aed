/*
 * buddy: parser for /proc/buddyinfo and the unusable free space index.
 *
 *   Node 0, zone   Normal   4381   1093    185 ...
 *
 * Any number of nodes and zones; the number of orders comes from the data
 * (11 on x86_64, other counts exist) and must be the same on every line.
 *
 * unusable_index[o] is the kernel's definition
 * (mm/vmstat.c unusable_free_index, /sys/kernel/debug/extfrag/unusable_index):
 *   (free_pages - sum_{k>=o} free[k] * 2^k) / free_pages, in thousandths
 *   rounded down like the kernel, and 1.000 when the zone has no free pages.
 */
#ifndef KMW_BUDDY_H
#define KMW_BUDDY_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define BUDDY_MAX_ORDERS 32
#define BUDDY_ZONE_MAX 32

struct buddy_zone {
    unsigned node;
    char zone[BUDDY_ZONE_MAX];
    uint64_t free[BUDDY_MAX_ORDERS];  /* free blocks per order */
    uint64_t free_pages;              /* sum free[o] << o */
    unsigned unusable[BUDDY_MAX_ORDERS]; /* thousandths, 0..1000 */
};

struct buddy_info {
    unsigned orders;
    size_t n;
    size_t cap;
    struct buddy_zone *zones; /* file order */
};

void buddy_info_init(struct buddy_info *bi);
void buddy_info_free(struct buddy_info *bi);

int buddy_parse(const char *buf, size_t len, struct buddy_info *bi, struct perr *err);

/* Index of zone "N:Name" style lookup; -1 if absent. */
long buddy_find(const struct buddy_info *bi, unsigned node, const char *zone);

#endif
