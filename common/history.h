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
    /*
     * For a cache of answers: 0, or the same query asked again at a later
     * now (and the same tier) gives the same points as long as its window
     * starts before this wall time and nothing was appended to the ring in
     * between.  Set when one part answered the query, every record up to the
     * newest was read, and there was at least one record in the window.
     */
    uint64_t reuse_before;
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

/*
 * The same query answered in parts, for answers too long to hold at once (a
 * week of 1-second points is 604800 of them): history_open parses the query
 * and picks the tier (-EINVAL with a sentence as history_query);
 * history_next puts the next points, at most max of them, in out (replacing
 * what it held) and returns 1 when it stopped at max (there may be more), 0
 * after the last part, or history_query's errors (-ENOENT only when no
 * part found the name); history_close frees.  Each part walks the ring from
 * the keyframe before the last point of the previous part, so parts of a
 * few thousand points cost little more than one walk, and the ring may be
 * appended to between parts (the window keeps the end it had when opened).
 * Concatenated, the parts are history_query's points.  A part that cannot go
 * on at the record right after the previous part's last one fails with
 * -ESTALE (and a sentence) rather than leave a hole: the ring overwrote those
 * records in between (a slow reader of a window as long as the ring), or the
 * wall time went back (a clock set back) across the end of the part.
 */
struct history_cursor;
int history_open(struct history_cursor **out, struct ring_reader *rd, const char *kind,
                 const char *name, const char *field, uint64_t window_s, uint64_t now_wall_ns,
                 char *err, size_t err_len);
int history_next(struct history_cursor *hc, struct ring_reader *rd, size_t max,
                 struct history_points *out, char *err, size_t err_len);
void history_close(struct history_cursor *hc);

/* The tier history_query reads for this window. */
enum ring_tier history_pick_tier(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns);

#endif
