#include "timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "screens.h"
#include "util.h"

#define NS 1000000000ull

static const uint64_t windows_ns[APP_NWINDOWS] = { 60 * NS, 600 * NS, 3600 * NS, 86400 * NS };
static const char *const window_names[APP_NWINDOWS] = { "1m", "10m", "1h", "1d" };

uint64_t timeline_window_ns(int idx)
{
    return windows_ns[idx >= 0 && idx < APP_NWINDOWS ? idx : 1];
}

const char *timeline_window_name(int idx)
{
    return window_names[idx >= 0 && idx < APP_NWINDOWS ? idx : 1];
}

int timeline_window_parse(const char *s)
{
    for (int i = 0; i < APP_NWINDOWS; i++)
        if (strcmp(s, window_names[i]) == 0)
            return i;
    return -1;
}

/* --- names ------------------------------------------------------------------ */

void timeline_kmalloc_label(uint64_t size, char *buf, size_t n)
{
    char unit = 0;
    size_t len;

    /* once per class and record when the trend is rebuilt: no printf */
    if (size >= (1u << 20) && size % (1u << 20) == 0) {
        size >>= 20;
        unit = 'M';
    } else if (size >= 1024 && size % 1024 == 0) {
        size >>= 10;
        unit = 'k';
    }
    len = strlen(fmt_u64(buf, n, size));
    if (unit && len + 1 < n) {
        buf[len] = unit;
        buf[len + 1] = '\0';
    }
}

void timeline_vmalloc_name(const struct vmalloc_row *r, char *buf, size_t n)
{
    if (r->module[0])
        snprintf(buf, n, "%s [%s]", r->caller, r->module);
    else
        snprintf(buf, n, "%s", r->caller);
}

void timeline_zone_name(const struct buddy_zone *z, char *buf, size_t n)
{
    snprintf(buf, n, "%u:%s", z->node, z->zone);
}

/* --- series of one record ------------------------------------------------------ */

static const enum meminfo_key trend_meminfo_keys[] = {
    MEMINFO_SLAB, MEMINFO_SRECLAIMABLE, MEMINFO_SUNRECLAIM, MEMINFO_VMALLOCUSED,
    MEMINFO_PERCPU, MEMINFO_MEMFREE, MEMINFO_MEMAVAILABLE,
};

/*
 * Where extract() sends each value.  Naming a series costs more than the
 * value (formatting "kmalloc 1k" or "0:Normal/3", hashing it, comparing):
 * while the entities of the records are the same, which the ring reader's
 * state generation says, and so is the shape of the sampler (sources with
 * data, meminfo keys, buddy orders, vmalloc types in use), the values go to
 * the same series in the same order, and the indices of the last record
 * are used without names.
 */
struct xput {
    struct trend *h;
    struct extract_plan *plan; /* NULL: names only */
    bool replay;               /* plan->idx holds this record's series, in order */
    size_t i;
};

static void xput(struct xput *x, int kind, const char *name, uint64_t v, bool add)
{
    struct extract_plan *p = x->plan;
    long idx;

    if (x->replay) {
        trend_put(x->h, x->i < p->n ? p->idx[x->i] : -1, v, add);
        x->i++;
        return;
    }
    idx = add ? trend_add(x->h, kind, name, v) : trend_set(x->h, kind, name, v);
    if (!p)
        return;
    if (idx < 0 || array_reserve((void **)&p->idx, &p->cap, p->n + 1, sizeof(*p->idx)) < 0) {
        x->plan = NULL;
        p->ok = false;
        return;
    }
    p->idx[p->n++] = idx;
}

/* What decides which series extract() sets, and in which order, besides the entities. */
static void extract_shape(const struct sampler *sm, uint64_t shape[6])
{
    unsigned types = 0;

    for (int t = 0; t < VMALLOC_NTYPES; t++)
        types |= sm->vmalloc.types[t].areas ? 1u << t : 0;
    shape[0] = sm->valid;
    shape[1] = sm->meminfo.present;
    shape[2] = (uint64_t)sm->buddy.orders << 32 | types;
    shape[3] = sm->slab.n;
    shape[4] = (uint64_t)sm->kmalloc.n << 32 | sm->vmalloc.n;
    shape[5] = sm->buddy.n;
}

/*
 * Set every series of sm at the trend's current target (a point, the base or
 * the mark).  plan: the series of records of generation gen (NULL: none).
 */
static void extract_plan(struct trend *h, const struct sampler *sm, struct extract_plan *plan,
                         uint64_t gen)
{
    struct xput x = { h, plan, false, 0 };
    char name[APP_NAME_MAX + 16];
    uint64_t ps = sm->page_size ? sm->page_size : 4096, shape[6];

    if (plan) {
        extract_shape(sm, shape);
        x.replay = plan->ok && plan->gen == gen && memcmp(plan->shape, shape, sizeof(shape)) == 0;
        if (!x.replay) {
            plan->ok = true;
            plan->gen = gen;
            memcpy(plan->shape, shape, sizeof(shape));
            plan->n = 0;
        }
    }
    name[0] = '\0';
    if (sampler_valid(sm, SRC_SLABINFO)) {
        for (size_t i = 0; i < sm->slab.n; i++)
            xput(&x, TK_SLAB, sm->slab.caches[i].name, sm->slab.caches[i].bytes_total, false);
        for (size_t i = 0; i < sm->kmalloc.n; i++) {
            if (!x.replay)
                timeline_kmalloc_label(sm->kmalloc.rows[i].size, name, sizeof(name));
            xput(&x, TK_KMALLOC, name, sm->kmalloc.rows[i].bytes_total, true);
        }
    }
    if (sampler_valid(sm, SRC_MEMINFO)) {
        for (size_t i = 0; i < ARRAY_SIZE(trend_meminfo_keys); i++) {
            enum meminfo_key k = trend_meminfo_keys[i];
            if (meminfo_has(&sm->meminfo, k))
                xput(&x, TK_MEMINFO, meminfo_key_name(k), sm->meminfo.value[k], false);
        }
    }
    if (sampler_valid(sm, SRC_VMALLOCINFO)) {
        const struct vmalloc_info *vi = &sm->vmalloc;

        for (size_t i = 0; i < vi->n; i++) {
            if (!x.replay)
                timeline_vmalloc_name(&vi->rows[i], name, sizeof(name));
            xput(&x, TK_VMALLOC, name, vi->rows[i].bytes, true);
            xput(&x, TK_VMPAGES, name, mul_sat(vi->rows[i].pages, ps), true);
        }
        for (int t = 0; t < VMALLOC_NTYPES; t++)
            if (vi->types[t].areas)
                xput(&x, TK_VMSUM, vmalloc_type_name((enum vmalloc_type)t), vi->types[t].bytes,
                     false);
        xput(&x, TK_VMSUM, "total", vi->total.bytes, false);
        xput(&x, TK_VMSUM, "unpurged", vi->unpurged.bytes, false);
    }
    if (sampler_valid(sm, SRC_BUDDYINFO)) {
        const struct buddy_info *bi = &sm->buddy;

        for (size_t i = 0; i < bi->n; i++) {
            const struct buddy_zone *z = &bi->zones[i];
            size_t len = 0;

            if (!x.replay) {
                timeline_zone_name(z, name, sizeof(name));
                len = strlen(name);
            }
            xput(&x, TK_BUDDY, name, mul_sat(z->free_pages, ps), false);
            for (unsigned o = 0; o < bi->orders; o++) {
                if (!x.replay)
                    snprintf(name + len, sizeof(name) - len, "/%u", o);
                xput(&x, TK_BUDDY_BLOCKS, name, z->free[o], false);
                xput(&x, TK_BUDDY_UNUSABLE, name, z->unusable[o], false);
            }
        }
    }
    /* A record that set other series than the plan says cannot be: forget the plan then. */
    if (plan && x.replay && x.i != plan->n)
        plan->ok = false;
    if (plan)
        plan->of = plan->ok ? sm : NULL;
}

long timeline_slab_series(const struct app *a, size_t i)
{
    const struct extract_plan *p = &a->xplan;

    if (p->of && p->of == a->view && sampler_valid(a->view, SRC_SLABINFO) && i < a->view->slab.n &&
        i < p->n)
        return p->idx[i];
    return trend_find(&a->tr, TK_SLAB, a->view->slab.caches[i].name);
}

static void extract(struct trend *h, const struct sampler *sm)
{
    extract_plan(h, sm, NULL, 0);
}

/* --- setup ---------------------------------------------------------------------- */

void timeline_init(struct app *a, int window_idx)
{
    a->window_idx = window_idx;
    a->window_ns = timeline_window_ns(window_idx);
    trend_init(&a->tr, a->window_ns);
    ring_sampler_init(&a->hist);
    ring_sampler_init(&a->scratch);
    a->hist_open = true;
    a->live = true;
    a->view = NULL;
}

void timeline_fini(struct app *a)
{
    free(a->xplan.idx);
    memset(&a->xplan, 0, sizeof(a->xplan));
    trend_free(&a->tr);
    if (a->hist_open) {
        sampler_fini(&a->hist);
        sampler_fini(&a->scratch);
    }
    a->hist_open = false;
    a->view = NULL;
}

/* The base ("vs START") is the first record shown in a live session, the oldest of a recording. */
static void set_base(struct app *a, const struct sampler *sm, uint64_t wall)
{
    trend_begin_base(&a->tr, wall);
    extract(&a->tr, sm);
    trend_end_target(&a->tr);
}

static void shown(struct app *a, const struct sampler *sm, uint64_t wall, unsigned src, unsigned err)
{
    a->view = sm;
    a->cursor_ns = wall;
    a->cursor_src = src;
    a->cursor_err = err;
    a->samples++;
}

/* --- walks ---------------------------------------------------------------------- */

struct find_ctx {
    uint64_t wall;
    bool found;
    bool first_only;
};

static int find_cb(const struct ring_state *st, void *arg)
{
    struct find_ctx *f = arg;

    f->wall = st->wall_ns;
    f->found = true;
    return f->first_only ? 1 : 0;
}

/* The newest record with wall time <= at, looking back further and further. */
static bool find_at_or_before(struct ring_reader *rd, uint64_t at, uint64_t *out)
{
    static const uint64_t looks[] = { 10 * NS, 600 * NS, 86400 * NS, 0 };

    for (size_t i = 0; i < ARRAY_SIZE(looks); i++) {
        struct find_ctx f = { 0, false, false };
        uint64_t from = looks[i] && at > looks[i] ? at - looks[i] : 0;

        if (ring_reader_walk(rd, RING_FULL, from, at, find_cb, &f) < 0)
            return false;
        if (f.found) {
            *out = f.wall;
            return true;
        }
        if (!from)
            break;
    }
    return false;
}

/* The oldest record with wall time >= at. */
static bool find_at_or_after(struct ring_reader *rd, uint64_t at, uint64_t *out)
{
    struct find_ctx f = { 0, false, true };

    if (ring_reader_walk(rd, RING_FULL, at, 0, find_cb, &f) < 0 || !f.found)
        return false;
    *out = f.wall;
    return true;
}

struct reload_ctx {
    struct app *a;
    uint64_t target;
    enum ring_tier tier;
    bool found;
    int err;
};

static int reload_cb(const struct ring_state *st, void *arg)
{
    struct reload_ctx *c = arg;
    struct app *a = c->a;

    if (c->tier == RING_FULL && st->wall_ns == c->target) {
        trend_point(&a->tr, st->wall_ns, true);
        if (ring_state_to_sampler(st, &a->hist) < 0)
            c->err = -ENOMEM;
        extract_plan(&a->tr, &a->hist, &a->xplan, st->gen);
        c->found = true;
        a->cursor_src = st->src_mask;
        a->cursor_err = st->err_mask;
        return 0;
    }
    /* Only the first record of each bucket becomes tables: the walk itself is cheap. */
    if (!trend_point(&a->tr, st->wall_ns, false))
        return 0;
    if (ring_state_to_sampler(st, &a->scratch) < 0) {
        c->err = -ENOMEM;
        return 0;
    }
    extract_plan(&a->tr, &a->scratch, &a->xplan, st->gen);
    return 0;
}

/* The base of a recording: its oldest record. */
static int base_cb(const struct ring_state *st, void *arg)
{
    struct app *a = arg;

    if (ring_state_to_sampler(st, &a->scratch) == 0)
        set_base(a, &a->scratch, st->wall_ns);
    return 1;
}

/* Direct mode without a ring: the live samples are the only history. */
static void reload_without_history(struct app *a)
{
    const struct sampler *live = source_live(&a->src);

    trend_clear(&a->tr, a->window_ns);
    a->view = NULL;
    if (!live)
        return;
    trend_point(&a->tr, a->src.live_wall_ns, true);
    extract(&a->tr, live);
    shown(a, live, a->src.live_wall_ns, a->src.live_mask, SRC_ALL & ~live->valid);
    a->newest_ns = a->src.live_wall_ns;
    if (!a->tr.has_base)
        set_base(a, live, a->cursor_ns);
}

void timeline_reload(struct app *a)
{
    struct ring_reader *rd = source_history(&a->src);
    struct reload_ctx c = { a, 0, RING_FULL, false, 0 };
    struct ring_tier_info ci;
    uint64_t oldest, newest, from;
    const struct sampler *live;

    /* generations count per reader, and this may be a new one */
    a->xplan.ok = false;
    a->xplan.of = NULL;

    if (!rd) {
        reload_without_history(a);
        screens_update(a);
        return;
    }
    ring_reader_span(rd, RING_FULL, &oldest, &newest);
    if (!newest) {
        /* An empty history: nothing recorded yet (a daemon that just started). */
        trend_clear(&a->tr, a->window_ns);
        a->view = NULL;
        screens_update(a);
        return;
    }
    a->newest_ns = newest;
    c.target = a->live || !a->cursor_ns || a->cursor_ns > newest ? newest : a->cursor_ns;
    if (c.target < oldest)
        c.target = oldest;
    trend_clear(&a->tr, a->window_ns);
    from = c.target > a->window_ns ? c.target - a->window_ns : 0;
    /* A day at one sample a second is 86400 records: the per-minute tier has 1440. */
    if (a->window_ns >= 86400 * NS && ring_reader_tier_info(rd, RING_COARSE, &ci) == 0 &&
        ci.records >= 2)
        c.tier = RING_COARSE;
    ring_reader_walk(rd, c.tier, from, c.target, reload_cb, &c);
    /* older records than the window's: its points span it, as when following (sparklines) */
    if (oldest < from)
        trend_set_full(&a->tr);
    if (!c.found) {
        /* The coarse tier was walked, or the cursor's record has been overwritten since. */
        uint64_t w;

        if (find_at_or_before(rd, c.target, &w) || find_at_or_after(rd, c.target, &w)) {
            c.target = w;
            c.tier = RING_FULL;
            ring_reader_walk(rd, RING_FULL, w, w, reload_cb, &c);
        }
    }
    if (!c.found) {
        a->view = NULL;
        screens_update(a);
        return;
    }
    live = source_live(&a->src);
    /* Live in direct mode the newest record is the live sample: show that (file order, errors). */
    if (a->live && live && a->src.live_wall_ns == c.target)
        shown(a, live, c.target, a->cursor_src, a->cursor_err);
    else
        shown(a, &a->hist, c.target, a->cursor_src, a->cursor_err);
    if (!a->tr.has_base) {
        if (a->src.kind == SOURCE_REPLAY)
            ring_reader_walk(rd, RING_FULL, 0, 0, base_cb, a);
        else
            set_base(a, a->view, a->cursor_ns);
    }
    if (c.err)
        snprintf(a->msg, sizeof(a->msg), "out of memory: some history is missing");
    screens_update(a);
}

static int newer_cb(const struct ring_state *st, void *arg)
{
    struct app *a = arg;

    trend_point(&a->tr, st->wall_ns, true);
    if (ring_state_to_sampler(st, &a->hist) < 0)
        return -ENOMEM;
    extract_plan(&a->tr, &a->hist, &a->xplan, st->gen);
    shown(a, &a->hist, st->wall_ns, st->src_mask, st->err_mask);
    return 0;
}

void timeline_on_data(struct app *a)
{
    struct ring_reader *rd = source_history(&a->src);
    const struct sampler *live = source_live(&a->src);
    uint64_t oldest, newest;

    if (live) {
        a->newest_ns = a->src.live_wall_ns;
        if (!a->live)
            return;
        if (!a->view) {
            timeline_reload(a);
            return;
        }
        trend_point(&a->tr, a->src.live_wall_ns, true);
        extract(&a->tr, live);
        shown(a, live, a->src.live_wall_ns, a->src.live_mask, SRC_ALL & ~live->valid);
        screens_update(a);
        return;
    }
    if (!rd)
        return;
    ring_reader_span(rd, RING_FULL, &oldest, &newest);
    a->newest_ns = newest;
    if (!a->live)
        return;
    /* Far behind (a stall, a suspend): the window is rebuilt rather than extended. */
    if (!a->view || !a->cursor_ns || newest > a->cursor_ns + a->window_ns / 2 ||
        a->view != &a->hist) {
        timeline_reload(a);
        return;
    }
    if (newest <= a->cursor_ns)
        return;
    if (ring_reader_walk(rd, RING_FULL, a->cursor_ns + 1, 0, newer_cb, a) == -ENOMEM)
        snprintf(a->msg, sizeof(a->msg), "out of memory: some history is missing");
    screens_update(a);
}

/* --- moving in time ------------------------------------------------------------ */

static int no_history(struct app *a, char *msg, size_t n)
{
    if (a->src.kind == SOURCE_DIRECT && a->src.ring_err[0])
        snprintf(msg, n, "%s", a->src.ring_err);
    else if (a->src.kind == SOURCE_DAEMON && a->src.no_ring)
        snprintf(msg, n, "no history: the daemon keeps no ring");
    else
        snprintf(msg, n, "no history yet");
    return -1;
}

static void go_to(struct app *a, uint64_t wall)
{
    /* Live sources follow the newest record again once the cursor reaches it. */
    a->live = wall >= a->newest_ns && a->src.kind != SOURCE_REPLAY && !a->paused;
    a->cursor_ns = wall;
    timeline_reload(a);
}

int timeline_step(struct app *a, int dir, char *msg, size_t n)
{
    struct ring_reader *rd = source_history(&a->src);
    uint64_t oldest, newest, w;

    if (!rd || !a->cursor_ns)
        return no_history(a, msg, n);
    ring_reader_span(rd, RING_FULL, &oldest, &newest);
    a->newest_ns = newest;
    if (dir < 0) {
        if (a->cursor_ns <= oldest || !find_at_or_before(rd, a->cursor_ns - 1, &w)) {
            snprintf(msg, n, "at the oldest record");
            return -1;
        }
        a->live = false;
        a->cursor_ns = w;
        timeline_reload(a);
        return 0;
    }
    if (!find_at_or_after(rd, a->cursor_ns + 1, &w)) {
        if (a->src.kind == SOURCE_REPLAY || a->paused || a->live) {
            snprintf(msg, n, "at the newest record");
            return -1;
        }
        w = newest;
    }
    go_to(a, w);
    return 0;
}

int timeline_seek(struct app *a, uint64_t wall_ns, char *msg, size_t n)
{
    struct ring_reader *rd = source_history(&a->src);
    uint64_t oldest, newest, w;

    if (!rd)
        return no_history(a, msg, n);
    ring_reader_span(rd, RING_FULL, &oldest, &newest);
    if (!newest)
        return no_history(a, msg, n);
    a->newest_ns = newest;
    if (wall_ns >= newest)
        w = newest;
    else if (!find_at_or_before(rd, wall_ns, &w) && !find_at_or_after(rd, 0, &w))
        return no_history(a, msg, n);
    go_to(a, w);
    return 0;
}

int timeline_jump(struct app *a, const char *spec, char *msg, size_t n)
{
    uint64_t secs, target;
    unsigned h, m, s = 0;
    char extra;

    if (!a->newest_ns && !a->cursor_ns)
        return no_history(a, msg, n);
    if (spec[0] == '-') {
        if (parse_duration(spec + 1, &secs) < 0) {
            snprintf(msg, n, "'%s': expected -DURATION like -90s, -10m, -2h", spec);
            return -1;
        }
        target = a->newest_ns > secs * NS ? a->newest_ns - secs * NS : 0;
    } else if ((sscanf(spec, "%u:%u:%u%c", &h, &m, &s, &extra) == 3 ||
                sscanf(spec, "%u:%u%c", &h, &m, &extra) == 2) &&
               h < 24 && m < 60 && s < 60) {
        /* That time of the day of the newest record, or of the day before if it is later. */
        time_t t = (time_t)(a->newest_ns / NS);
        struct tm tm;
        time_t at;

        if (sscanf(spec, "%u:%u:%u", &h, &m, &s) < 3)
            s = 0;
        localtime_r(&t, &tm);
        tm.tm_hour = (int)h;
        tm.tm_min = (int)m;
        tm.tm_sec = (int)s;
        tm.tm_isdst = -1;
        at = mktime(&tm);
        if (at > t)
            at -= 86400;
        target = at > 0 ? (uint64_t)at * NS + NS - 1 : 0;
    } else {
        snprintf(msg, n, "'%s': expected HH:MM[:SS] or -DURATION", spec);
        return -1;
    }
    return timeline_seek(a, target, msg, n);
}

void timeline_set_window(struct app *a, int idx)
{
    a->window_idx = idx;
    a->window_ns = timeline_window_ns(idx);
    timeline_reload(a);
}

void timeline_mark(struct app *a)
{
    if (!a->view)
        return;
    trend_begin_mark(&a->tr, a->cursor_ns);
    extract(&a->tr, a->view);
    trend_end_target(&a->tr);
    screens_update(a);
}

void timeline_pause(struct app *a, bool paused)
{
    a->paused = paused;
    if (paused) {
        a->live = false;
        return;
    }
    if (a->src.kind == SOURCE_REPLAY)
        return;
    a->live = true;
    timeline_reload(a);
}
