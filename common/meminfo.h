/*
 * meminfo: the kernel-memory totals from /proc/meminfo, in bytes.
 * Keys that the file does not have are absent (present bit clear), not zero.
 */
#ifndef KMW_MEMINFO_H
#define KMW_MEMINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum meminfo_key {
    MEMINFO_MEMTOTAL,
    MEMINFO_MEMFREE,
    MEMINFO_MEMAVAILABLE,
    MEMINFO_SLAB,
    MEMINFO_SRECLAIMABLE,
    MEMINFO_SUNRECLAIM,
    MEMINFO_KRECLAIMABLE,
    MEMINFO_VMALLOCUSED,
    MEMINFO_VMALLOCTOTAL,
    MEMINFO_PERCPU,
    MEMINFO_NKEYS
};

/* The key as /proc/meminfo spells it ("SUnreclaim"). */
const char *meminfo_key_name(enum meminfo_key k);
/* Inverse; -1 if not one of ours. */
int meminfo_key_parse(const char *s);

struct meminfo {
    uint64_t value[MEMINFO_NKEYS]; /* bytes */
    uint32_t present;              /* bit k set when key k was in the file */
};

int meminfo_parse(const char *buf, size_t len, struct meminfo *mi, struct perr *err);

static inline bool meminfo_has(const struct meminfo *mi, enum meminfo_key k)
{
    return (mi->present >> k) & 1u;
}

#endif
