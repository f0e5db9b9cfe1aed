/*
 * history: one named series evaluated over a time window of the ring, for
 * `kmemctl history`, the daemon's "history" command and kmemtop's graphs.
 *
 *   kind     name                       fields
 *   slab     cache name ("dentry")      active_objs num_objs objsize objperslab pagesperslab
 *                                       limit batchcount sharedfactor active_slabs num_slabs
 *                                       sharedavail bytes_total bytes_active
 *   kmalloc  VARIANT-SIZE ("cg-1024",   active_objs num_objs bytes_total bytes_active
 *            "normal-8", "rnd-1k");     (rnd sums every kmalloc-rnd-NN copy; total sums
 *            "total-SIZE" sums variants  all variants of the size)
 *   vmalloc  caller ("kernel_clone"),   areas bytes pages (summed over the caller's modules
 *            or "total"                  and types; total excludes unpurged areas)
 *   buddy    "<node>:<zone>" ("0:Normal") free_pages, order<N> (free blocks of order N),
 *                                       unusable<N> (the kernel's unusable free space index of
 *                                       order N, as a fraction)
 *   meminfo  "-"                        a /proc/meminfo key ("SUnreclaim"), in bytes
 *
 * There is one point per stored record that sampled the series' source (a
 * record where the entity is absent gives no point: absent is not zero),
 * oldest first.  The tier is the finest one whose retention reaches back
 * over the whole window; the full tier is also used when it has never
 * dropped a record (the daemon has run for less time than the window).
 */
#ifndef KMW_HISTORY_H
#define KMW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

struct history_point {
    uint64_t wall_ns; /* CLOCK_REALTIME of the record */
    double value;     /* an integer except for unusable<N> */
};

struct history_points {
    size_t n, cap;
    struct history_point *v;
    bool is_fraction;    /* the values are fractions (unusable<N>), not integers */
    enum ring_tier tier; /* the tier the points come from */
};

/* Release the points (out may then be reused; a zeroed struct is empty). */
void history_points_free(struct history_points *hp);

/*
 * Evaluate kind/name/field over the window_s seconds before now_wall_ns.
 * out must be zeroed or from an earlier call; its previous points are
 * replaced.  Returns 0; -EINVAL for an unknown kind or field or a malformed
 * name, -ENOENT when the name never appears in the window (both with a
 * sentence in err); -ENOMEM; or a ring read error.
 */
int history_query(struct ring_reader *rd, const char *kind, const char *name, const char *field,
                  uint64_t window_s, uint64_t now_wall_ns, struct history_points *out, char *err,
                  size_t err_len);

/* The tier history_query reads for this window. */
enum ring_tier history_pick_tier(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns);

#endif
