/*
 * suspects: kmemtop's leak suspects, judged with the daemon's code and rule
 * (growth_eval and growth_is_suspect of common/growth.h; docs/GROWTH.md) over
 * the history kmemtop shows, so that its verdicts are `kmemctl growth`'s for
 * the same window and end.
 *
 * Windows.  The minimum suspect window (--suspect-window, default 10 m like
 * kmemwatchd.conf's growth_min_window) is always judged, and the selected
 * window (`w`) too when it is longer: the daemon likewise judges its minimum
 * and, when longer, the last hour and day.  A window shorter than the
 * minimum is never judged (a sawtooth seen through it is a ramp); a longer
 * one alone would miss a leak that began minutes ago (a single step in a
 * day).  A series is a suspect when either evaluation says so, and is listed
 * once, with the figures of the shortest window that flags it.  Both windows
 * end at the displayed record: stepping back in time shows the suspects of
 * that moment.
 *
 * Cost.  One growth_eval() per window (a walk of that window in the ring),
 * and only when the displayed record, the window or the history's reader changed,
 * never per frame.  While live (the record follows new samples) a window is
 * judged again once its end has moved by a tenth of it, at least a minute
 * and at most 10 min (the daemon, which alerts, judges every 10 s).
 * On a simulated idle two-day ring one evaluation costs about 10 ms for 10
 * minutes and 24 ms for a day (the per-minute tier).  While live, each
 * evaluation keeps a checkpoint of the reader's decoded state where the
 * window's next evaluation will begin (growth_eval_next: the end a pace
 * later), so that one decodes its window alone rather than from the keyframe
 * before it (about 400 records more on an idle ring, 40 % of a 10-minute
 * walk; docs/GROWTH.md "Cost").  The follower of new samples shares the
 * reader and still resumes where the evaluation ended.  The reports are kept
 * between evaluations; lookups go over the suspects alone (a handful), so
 * marking every table row costs nothing when there are none.
 */
#ifndef KMW_TUI_SUSPECTS_H
#define KMW_TUI_SUSPECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "growth.h"
#include "ring.h"

#define SUSPECTS_WINDOW_DEFAULT_S 600u          /* like growth_min_window */
#define SUSPECTS_SIZE_DEFAULT (1ull << 20)      /* like growth_min_size */
/* The option bounds: kmemwatchd.conf's for growth_min_window and growth_min_size. */
#define SUSPECTS_WINDOW_MAX_S (30ull * 86400)
#define SUSPECTS_SIZE_MAX (1ull << 50)
#define SUSPECTS_NWIN 2

struct suspect {
    const struct growth_series *g;  /* in the report of its window */
    uint64_t window_s;              /* the shortest window that flags it */
};

/* One judged window. */
struct suspects_win {
    struct growth_report rep;
    uint64_t window_s;              /* 0: not judged */
    uint64_t end_ns;                /* the record it ends at */
    uint64_t history_gen;           /* the history it was read from (0: none) */
    bool live;                      /* judged while following new samples */
};

struct suspects {
    struct growth_rule rule;        /* min_window_s, min_bytes: the options */
    struct suspects_win win[SUSPECTS_NWIN]; /* [0] the minimum; [1] the selected, when longer */
    struct suspect *v;              /* the union, in no particular order */
    size_t n, cap;
    uint64_t history_s;             /* the full tier's span up to the end, at the last judgement */
    bool judged;                    /* the verdicts are for a history (else err, or nothing yet) */
    char err[256];                  /* why there are no verdicts; "" when there are */
};

void suspects_init(struct suspects *s, uint64_t min_window_s, uint64_t min_bytes);
void suspects_fini(struct suspects *s);

/*
 * The displayed record ends_ns (0: none) of history rd (NULL: none), which
 * is history_gen (a number that changes whenever the source's reader does:
 * a new reader may reuse an old one's address), the selected window
 * window_s, live: following new samples.  Judges what is
 * due (see the top of this file).  true when the verdicts changed.
 */
bool suspects_update(struct suspects *s, struct ring_reader *rd, uint64_t history_gen,
                     uint64_t end_ns, uint64_t window_s, bool live);

/* The suspect kind/name/field (field NULL: any of the series' fields), or NULL. */
const struct suspect *suspects_find(const struct suspects *s, const char *kind, const char *name,
                                    const char *field);
/*
 * The suspects among the kmalloc series of size class `size` ("cg-1024",
 * "total-1024"): bit v for variant v, bit KMALLOC_NVARIANTS for the total.
 */
unsigned suspects_kmalloc_mask(const struct suspects *s, uint64_t size);

/* "10s", "10m", "1h", "1d": a window in its largest whole unit. */
void suspects_window_name(uint64_t window_s, char *buf, size_t n);

#endif
