/*
 * timeline: which record kmemtop shows, and the trend over the window
 * ending there.
 *
 * The cursor is the wall time of one record.  Live, it follows the newest
 * record; `t`/`T` step it through the records of the history (the daemon's
 * ring, a replayed file, or the session's private ring in direct mode), `b`
 * jumps, `z` freezes it.  Whenever the cursor or the window changes the
 * trend is rebuilt from the history (timeline_reload): one walk over the
 * window, turning only the first record of each trend bucket (and the
 * cursor's) back into tables.  While live, each new sample only adds one
 * point (timeline_on_data).
 *
 * Every function that changes what is shown calls screens_update().
 */
#ifndef KMW_TUI_TIMELINE_H
#define KMW_TUI_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* The windows `w` cycles through: 1m, 10m, 1h, 1d. */
uint64_t timeline_window_ns(int idx);
const char *timeline_window_name(int idx);
/* Index of "1m", "10m", "1h" or "1d"; -1 if not one of them. */
int timeline_window_parse(const char *s);

void timeline_init(struct app *a, int window_idx);
void timeline_fini(struct app *a);

/* Rebuild the view and the trend from the history (start, a new ring, a new window, a jump). */
void timeline_reload(struct app *a);
/* The source has a new sample. */
void timeline_on_data(struct app *a);

/*
 * t (dir -1) and T (dir 1): the previous or next record.  Stepping past the
 * newest record of a live source follows it again.  0, or -1 with a message
 * in msg (at the oldest record, no history).
 */
int timeline_step(struct app *a, int dir, char *msg, size_t n);
/* b: "HH:MM[:SS]" (the day of the newest record) or "-DURATION".  0, or -1 with msg. */
int timeline_jump(struct app *a, const char *spec, char *msg, size_t n);
/* Show the record at or before wall_ns (the oldest one if all are later).  0, or -1 with msg. */
int timeline_seek(struct app *a, uint64_t wall_ns, char *msg, size_t n);

void timeline_set_window(struct app *a, int idx);
/* m: growth "vs MARK" counts from the record shown now. */
void timeline_mark(struct app *a);
/* z: freeze the view, or follow the newest record again. */
void timeline_pause(struct app *a, bool paused);

/*
 * The TK_SLAB series of the view's cache i: from where the last record's values
 * went when that record is the view (no name to look up), else by name.
 */
long timeline_slab_series(const struct app *a, size_t i);

/* Series names shared with the screens. */
void timeline_kmalloc_label(uint64_t size, char *buf, size_t n);  /* "96", "1k", "2M" */
void timeline_vmalloc_name(const struct vmalloc_row *r, char *buf, size_t n); /* "f [mod]" */
void timeline_zone_name(const struct buddy_zone *z, char *buf, size_t n);     /* "0:Normal" */

#endif
