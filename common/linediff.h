/*
 * linediff: the shared pieces of the incremental parsers (slab_parse_incr,
 * vmalloc_parse_incr).  Between two 1-second samples most of a /proc file is
 * byte-identical to the last one, and comparing bytes is an order of
 * magnitude cheaper than parsing them, so the incremental parsers skip over
 * equal stretches with linediff_prefix() and parse only the lines that
 * differ.
 */
#ifndef KMW_LINEDIFF_H
#define KMW_LINEDIFF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Length of the common prefix of a and b (n bytes each at most).  libc's
 * memcmp (vectorised) finds the first differing 1 KiB block; only that block
 * is scanned by word here.  Most calls run over long equal stretches, where
 * this goes at memcmp's speed.
 */
static inline size_t linediff_prefix(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    while (n - i >= 1024 && memcmp(a + i, b + i, 1024) == 0)
        i += 1024;
    while (n - i >= 8) {
        uint64_t x, y;

        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            break;
        i += 8;
    }
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Start of the line holding p, not before floor (itself a line start). */
static inline const char *linediff_line_start(const char *floor, const char *p)
{
    const char *nl = p > floor ? memrchr(floor, '\n', (size_t)(p - floor)) : NULL;

    return nl ? nl + 1 : floor;
}

#endif
