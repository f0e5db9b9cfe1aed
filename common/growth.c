#include "growth.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "kmalloc.h"
#include "meminfo.h"
#include "series.h"

const uint64_t growth_windows[GROWTH_NWINDOWS] = { 60, 600, 3600, 86400 };

/* ---- one series ------------------------------------------------------------------------ */

void growth_acc_init(struct growth_acc *a, double window_s)
{
    memset(a, 0, sizeof(*a));
    a->window_s = window_s > 0 ? window_s : 1;
    a->bucket = -1;
}

static int bucket_of(const struct growth_acc *a, double t)
{
    double b = t / a->window_s * GROWTH_BUCKETS;

    if (!(b >= 0))
        return 0;
    if (b >= GROWTH_BUCKETS)
        return GROWTH_BUCKETS - 1;
    return (int)b;
}

/* The slice in progress ends at the value a->last: count its move from the previous end. */
static void close_slice(double last, double *anchor, double *rise, double *fall, double *max_rise)
{
    double mv = last - *anchor;

    if (mv > 0) {
        *rise += mv;
        if (mv > *max_rise)
            *max_rise = mv;
    } else {
        *fall -= mv;
    }
    *anchor = last;
}

void growth_acc_add_run(struct growth_acc *a, double v, uint64_t count, double sum_t,
                        double sum_tt, double t_first, double t_last)
{
    double d;

    if (!count)
        return;
    if (a->n == 0) {
        a->first = a->last = a->min = a->max = a->anchor = v;
        a->first_t = t_first;
        a->bucket = bucket_of(a, t_first);
    } else if (v != a->last) {
        /*
         * Only the value at the end of each slice counts for rise and fall:
         * what happens inside one slice (a spike, jitter of a slab or two) is
         * not movement.  A change in a later slice closes the slice of the
         * previous change at the value before this one.
         */
        int b = bucket_of(a, t_first);
        if (b > a->bucket) {
            close_slice(a->last, &a->anchor, &a->rise, &a->fall, &a->max_rise);
            a->bucket = b;
        }
        if (v > a->last)
            a->up_steps++;
        else
            a->down_steps++;
        a->last = v;
        if (v < a->min)
            a->min = v;
        if (v > a->max)
            a->max = v;
    }
    d = v - a->first;
    a->n += count;
    a->st += sum_t;
    a->stt += sum_tt;
    a->sv += d * (double)count;
    a->stv += d * sum_t;
    a->svv += d * d * (double)count;
    a->last_t = t_last;
}

void growth_acc_add(struct growth_acc *a, double t, double v)
{
    growth_acc_add_run(a, v, 1, t, t * t, t, t);
}

void growth_acc_fit(const struct growth_acc *a, struct growth_fit *out)
{
    double anchor = a->anchor, rise = a->rise, fall = a->fall, max_rise = a->max_rise;

    memset(out, 0, sizeof(*out));
    out->points = a->n;
    if (!a->n)
        return;
    out->span_s = a->last_t - a->first_t;
    out->first = a->first;
    out->last = a->last;
    out->min = a->min;
    out->max = a->max;
    out->net = a->last - a->first;
    out->up_steps = a->up_steps;
    out->down_steps = a->down_steps;
    close_slice(a->last, &anchor, &rise, &fall, &max_rise);
    out->rise = rise;
    out->fall = fall;
    out->max_rise = max_rise;
    if (a->n >= 2) {
        double n = (double)a->n;
        double sxx = a->stt - a->st * a->st / n;
        double sxy = a->stv - a->st * a->sv / n;
        double syy = a->svv - a->sv * a->sv / n;

        /* sxx below rounding noise: every point at (nearly) the same time */
        if (sxx > 1e-9 * (a->stt > 1 ? a->stt : 1)) {
            out->per_hour = sxy / sxx * 3600.0;
            if (syy > 0 && sxy > 0) {
                out->r2 = sxy * sxy / (sxx * syy);
                if (out->r2 > 1)
                    out->r2 = 1;
            }
        }
    }
    /*
     * R^2 alone cannot tell a step from a ramp well enough (a single step in
     * the middle of the window still fits a line with R^2 = 0.75) and says
     * nothing about a sawtooth that drops back.  net/rise is 1 for growth
     * that never gives anything back and near 0 for a sawtooth or a spike;
     * 1 - max_rise/rise is near 1 when the rise is spread over the window and
     * 0 when one slice holds all of it.
     */
    if (out->net > 0 && rise > 0 && out->r2 > 0) {
        double s = out->r2 * (out->net / rise) * (1.0 - max_rise / rise);
        out->steadiness = s < 0 ? 0 : s > 1 ? 1 : s;
    }
}

/* ---- the rule -------------------------------------------------------------------------- */

bool growth_eligible(const char *kind, const char *field)
{
    static const char *const mem[] = { "Slab", "SReclaimable", "SUnreclaim", "KReclaimable",
                                       "VmallocUsed", "Percpu" };

    if (strcmp(kind, "slab") == 0 || strcmp(kind, "kmalloc") == 0)
        return strcmp(field, "bytes_total") == 0;
    if (strcmp(kind, "vmalloc") == 0)
        return strcmp(field, "bytes") == 0;
    if (strcmp(kind, "meminfo") == 0) {
        for (size_t i = 0; i < ARRAY_SIZE(mem); i++)
            if (strcmp(field, mem[i]) == 0)
                return true;
    }
    return false;
}

bool growth_is_suspect(const struct growth_fit *f, double window_s, const struct growth_rule *r)
{
    double ms = r->min_steadiness > 0 ? r->min_steadiness : GROWTH_DEFAULT_STEADINESS;

    return window_s >= (double)r->min_window_s && f->points >= GROWTH_MIN_POINTS &&
           f->span_s >= GROWTH_COVERAGE * window_s && f->net > 0 &&
           f->net >= (double)r->min_bytes && f->steadiness >= ms;
}

/* ---- every series of a ring ------------------------------------------------------------ */

enum gkind { GK_SLAB, GK_KMALLOC, GK_VMALLOC, GK_BUDDY, GK_MEMINFO };

static const char *const gk_names[] = { "slab", "kmalloc", "vmalloc", "buddy", "meminfo" };
static const enum src_id gk_src[] = { SRC_SLABINFO, SRC_SLABINFO, SRC_VMALLOCINFO, SRC_BUDDYINFO,
                                      SRC_MEMINFO };

/* How a contribution's value comes out of its entity. */
enum sel { SEL_FIELD, SEL_SLAB_BYTES, SEL_BUDDY_FREE };

/* Running sums over the sample times of one source: an unchanged run costs O(1). */
struct pfx {
    uint64_t n;
    double st, stt, t_last;
};

struct gser {
    uint8_t kind;
    uint8_t src;
    const char *unit;
    char name[GROWTH_NAME_MAX];
    char field[GROWTH_FIELD_MAX];
    uint32_t hnext;   /* hash chain: index + 1, 0 ends */
    uint32_t stamp;   /* the plan that lists it */
    uint64_t sum;     /* this record's value: the sum of its contributions (mod 2^64) */
    uint32_t npresent; /* contributions present: absent when 0 */
    uint32_t nsat;    /* contributions saturated at UINT64_MAX: the series is too (no wrap) */
    bool dirty;       /* listed in dirty[src]: sum or presence moved since its run was checked */
    bool in_run;      /* run_v has held since run_t0, p0 = the source's sums before it */
    double run_v, run_t0;
    struct pfx p0;
    struct growth_acc acc;
};

/* One entity's share of one series, and its value at the last record. */
struct contrib {
    uint32_t slot;
    uint32_t ser;
    uint16_t sel;
    uint16_t f;
    uint8_t src;
    bool has;
    uint64_t last;    /* 0 when !has */
};

struct geval {
    struct gser *s;
    size_t ns, scap;
    uint32_t *htab;   /* index + 1, 0 empty */
    size_t hsize;
    struct contrib *c;
    size_t nc, ccap;
    uint32_t *bysrc[SRC_N]; /* the plan's series per source */
    size_t nbysrc[SRC_N], capbysrc[SRC_N];
    uint32_t *cstart; /* contributions of slot i: c[cstart[i] .. cstart[i + 1]) */
    size_t ncstart, capcstart;
    uint32_t *dirty[SRC_N]; /* series to check at the next record that stores their source */
    size_t ndirty[SRC_N], capdirty[SRC_N];
    uint64_t last_seq; /* of the last record seen (valid with have_gen) */
    uint32_t stamp;
    uint64_t gen;
    bool have_gen;
    struct pfx p[SRC_N];
    uint64_t from;
    double window_s;
    uint64_t records;
    int err;
};

static uint32_t hash_key(int kind, const char *name, const char *field)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;

    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const char *p = field; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static int rehash(struct geval *ev)
{
    size_t nsize = ev->hsize ? ev->hsize * 2 : 1024;
    uint32_t *nt = calloc(nsize, sizeof(*nt));

    if (!nt)
        return -ENOMEM;
    free(ev->htab);
    ev->htab = nt;
    ev->hsize = nsize;
    for (size_t i = 0; i < ev->ns; i++) {
        struct gser *x = &ev->s[i];
        uint32_t h = hash_key(x->kind, x->name, x->field) & (uint32_t)(nsize - 1);
        x->hnext = nt[h];
        nt[h] = (uint32_t)i + 1;
    }
    return 0;
}

/* The series kind/name/field, created on first use; its index or -ENOMEM. */
static long ser_get(struct geval *ev, enum gkind kind, const char *name, const char *field,
                    const char *unit)
{
    uint32_t h = hash_key(kind, name, field), i;
    struct gser *x;

    if (ev->hsize)
        for (i = ev->htab[h & (ev->hsize - 1)]; i; i = ev->s[i - 1].hnext) {
            x = &ev->s[i - 1];
            if (x->kind == kind && strcmp(x->name, name) == 0 && strcmp(x->field, field) == 0)
                return (long)i - 1;
        }
    if (ev->ns == ev->scap) {
        size_t nc = ev->scap ? ev->scap * 2 : 512;
        struct gser *ns = realloc(ev->s, nc * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        ev->s = ns;
        ev->scap = nc;
    }
    x = &ev->s[ev->ns];
    memset(x, 0, sizeof(*x));
    x->kind = (uint8_t)kind;
    x->src = (uint8_t)gk_src[kind];
    x->unit = unit;
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->field, sizeof(x->field), "%s", field);
    growth_acc_init(&x->acc, ev->window_s);
    ev->ns++;
    if (ev->ns * 2 > ev->hsize) {
        if (rehash(ev) < 0) {
            ev->ns--;
            return -ENOMEM;
        }
    } else {
        uint32_t b = h & (uint32_t)(ev->hsize - 1);
        x->hnext = ev->htab[b];
        ev->htab[b] = (uint32_t)ev->ns;
    }
    return (long)ev->ns - 1;
}

static int add_contrib(struct geval *ev, unsigned slot, enum gkind kind, const char *name,
                       const char *field, const char *unit, enum sel sel, unsigned f)
{
    long si = ser_get(ev, kind, name, field, unit);
    struct gser *x;
    int src = gk_src[kind];

    if (si < 0)
        return (int)si;
    if (ev->nc == ev->ccap) {
        void *nc = ev->c;
        if (array_reserve(&nc, &ev->ccap, ev->nc + 1, sizeof(*ev->c)) < 0)
            return -ENOMEM;
        ev->c = nc;
    }
    ev->c[ev->nc++] = (struct contrib){ .slot = slot, .ser = (uint32_t)si, .sel = (uint16_t)sel,
                                        .f = (uint16_t)f, .src = (uint8_t)src };
    x = &ev->s[si];
    if (x->stamp != ev->stamp) {
        x->stamp = ev->stamp;
        void *nb = ev->bysrc[src];
        if (array_reserve(&nb, &ev->capbysrc[src], ev->nbysrc[src] + 1, sizeof(uint32_t)) < 0)
            return -ENOMEM;
        ev->bysrc[src] = nb;
        ev->bysrc[src][ev->nbysrc[src]++] = (uint32_t)si;
    }
    return 0;
}

static int plan_entity(struct geval *ev, const struct ring_entity *e)
{
    char name[GROWTH_NAME_MAX], fb[GROWTH_FIELD_MAX];
    int r = 0;

    switch (e->kind) {
    case SK_SLAB: {
        uint64_t size;
        enum kmalloc_variant var;

        if (e->keylen >= sizeof(name))
            return 0;
        memcpy(name, e->key, e->keylen);
        name[e->keylen] = '\0';
        r = add_contrib(ev, e->slot, GK_SLAB, name, "bytes_total", "bytes", SEL_SLAB_BYTES, 0);
        if (!r)
            r = add_contrib(ev, e->slot, GK_SLAB, name, "num_objs", "objects", SEL_FIELD,
                            SF_SLAB_NUM_OBJS);
        if (!r && kmalloc_classify(name, &size, &var)) {
            char kn[64];
            for (int pass = 0; !r && pass < 2; pass++) {
                snprintf(kn, sizeof(kn), "%s-%llu", pass ? "total" : kmalloc_variant_name(var),
                         (unsigned long long)size);
                r = add_contrib(ev, e->slot, GK_KMALLOC, kn, "bytes_total", "bytes",
                                SEL_SLAB_BYTES, 0);
                if (!r)
                    r = add_contrib(ev, e->slot, GK_KMALLOC, kn, "num_objs", "objects", SEL_FIELD,
                                    SF_SLAB_NUM_OBJS);
            }
        }
        return r;
    }
    case SK_VMALLOC: {
        const char *caller, *module;
        enum vmalloc_type t;

        if (!series_key_vmalloc_split(e->key, e->keylen, &caller, &module, &t))
            return 0;
        for (int pass = 0; !r && pass < 2; pass++) {
            const char *n = pass ? "total" : caller;
            r = add_contrib(ev, e->slot, GK_VMALLOC, n, "bytes", "bytes", SEL_FIELD, SF_VM_BYTES);
            if (!r)
                r = add_contrib(ev, e->slot, GK_VMALLOC, n, "pages", "pages", SEL_FIELD,
                                SF_VM_PAGES);
        }
        return r;
    }
    case SK_BUDDY: {
        unsigned orders = ring_entity_orders(e);

        if (e->keylen >= sizeof(name))
            return 0;
        memcpy(name, e->key, e->keylen);
        name[e->keylen] = '\0';
        r = add_contrib(ev, e->slot, GK_BUDDY, name, "free_pages", "pages", SEL_BUDDY_FREE, 0);
        for (unsigned o = 0; !r && o < orders; o++) {
            snprintf(fb, sizeof(fb), "order%u", o);
            r = add_contrib(ev, e->slot, GK_BUDDY, name, fb, "blocks", SEL_FIELD, o);
        }
        return r;
    }
    case SK_MEMINFO:
        for (unsigned f = 0; !r && f < e->nfields && f < MEMINFO_NKEYS; f++)
            if (series_fm_has(e->fm, f))
                r = add_contrib(ev, e->slot, GK_MEMINFO, "-",
                                meminfo_key_name(series_meminfo_key(f)), "bytes", SEL_FIELD, f);
        return r;
    default:
        return 0;
    }
}

static void run_flush(struct geval *ev, struct gser *x)
{
    const struct pfx *p = &ev->p[x->src];
    uint64_t cnt = p->n - x->p0.n;

    if (x->in_run && cnt)
        growth_acc_add_run(&x->acc, x->run_v, cnt, p->st - x->p0.st, p->stt - x->p0.stt,
                           x->run_t0, p->t_last);
    x->in_run = false;
}

static int mark_dirty(struct geval *ev, struct gser *x)
{
    void *d = ev->dirty[x->src];

    if (x->dirty)
        return 0;
    if (array_reserve(&d, &ev->capdirty[x->src], ev->ndirty[x->src] + 1, sizeof(uint32_t)) < 0)
        return -ENOMEM;
    ev->dirty[x->src] = d;
    ev->dirty[x->src][ev->ndirty[x->src]++] = (uint32_t)(x - ev->s);
    x->dirty = true;
    return 0;
}

/* Take contribution c's value in entity e (NULL: absent) into its series. */
static int contrib_update(struct geval *ev, struct contrib *c, const struct ring_entity *e,
                          uint32_t page_size)
{
    struct gser *x = &ev->s[c->ser];
    uint64_t v = 0;
    bool has = e != NULL;

    if (has) {
        switch (c->sel) {
        case SEL_SLAB_BYTES:
            v = mul_sat(mul_sat(e->val[SF_SLAB_NUM_SLABS], e->val[SF_SLAB_PAGESPERSLAB]), page_size);
            break;
        case SEL_BUDDY_FREE:
            v = series_buddy_free_pages(e->val, ring_entity_orders(e));
            break;
        default:
            has = c->f < e->nfields && series_fm_has(e->fm, c->f);
            v = has ? e->val[c->f] : 0;
            break;
        }
    }
    if (has == c->has && v == c->last)
        return 0;
    /* sums are exact in modular arithmetic: subtracting the old share undoes it */
    x->sum += v - c->last;
    if (has != c->has)
        x->npresent += has ? 1u : (uint32_t)-1;
    if ((v == UINT64_MAX) != (c->last == UINT64_MAX))
        x->nsat += v == UINT64_MAX ? 1u : (uint32_t)-1;
    c->has = has;
    c->last = v;
    return mark_dirty(ev, x);
}

/* Take slot's entity in st (absent: gone) into the shares of its contributions. */
static int slot_update(struct geval *ev, const struct ring_state *st, uint32_t slot)
{
    struct ring_entity e;
    bool have;
    int r;

    if (slot + 1u >= ev->ncstart)
        return 0;
    have = ring_state_slot(st, slot, &e);
    for (uint32_t i = ev->cstart[slot]; i < ev->cstart[slot + 1]; i++)
        if ((r = contrib_update(ev, &ev->c[i], have ? &e : NULL, st->page_size)) < 0)
            return r;
    return 0;
}

/* The entities changed: list the contributions of the present ones, slot order. */
static int plan_build(struct geval *ev, const struct ring_state *st)
{
    struct ring_entity e;
    size_t it = 0;
    int r;

    ev->stamp++;
    ev->nc = 0;
    for (int s = 0; s < SRC_N; s++)
        ev->nbysrc[s] = ev->ndirty[s] = 0;
    while (ring_state_next(st, &it, &e))
        if ((r = plan_entity(ev, &e)) < 0)
            return r;
    for (size_t i = 0; i < ev->ns; i++) {
        struct gser *x = &ev->s[i];

        /* a series whose entities are gone has no points from here on */
        if (x->in_run && x->stamp != ev->stamp)
            run_flush(ev, x);
        x->sum = 0;
        x->npresent = x->nsat = 0;
        x->dirty = false;
    }
    /* contributions come in slot order (ring_state_next): index them by slot */
    size_t nslots = ev->nc ? ev->c[ev->nc - 1].slot + 2u : 1u, k = 0;
    void *cs = ev->cstart;
    if (array_reserve(&cs, &ev->capcstart, nslots, sizeof(uint32_t)) < 0)
        return -ENOMEM;
    ev->cstart = cs;
    for (size_t slot = 0; slot < nslots; slot++) {
        while (k < ev->nc && ev->c[k].slot < slot)
            k++;
        ev->cstart[slot] = (uint32_t)k;
    }
    ev->ncstart = nslots;
    /* every series of the plan is checked at the next record of its source */
    for (int s = 0; s < SRC_N; s++)
        for (size_t i = 0; i < ev->nbysrc[s]; i++)
            if ((r = mark_dirty(ev, &ev->s[ev->bysrc[s][i]])) < 0)
                return r;
    ev->gen = st->gen;
    ev->have_gen = true;
    return 0;
}

/*
 * One record.  Only what the record changed is looked at: its touched slots
 * update their contributions' shares of the series sums, and only series whose
 * sum or presence moved are checked for the end of their run.  A new set of
 * entities (or a record that does not follow the last one seen) rebuilds or
 * recomputes everything.  A series gets a point at every record that stores its
 * source, as before: unchanged runs are added in O(1) by run_flush.
 */
static int eval_cb(const struct ring_state *st, void *arg)
{
    struct geval *ev = arg;
    unsigned mask = st->src_mask & SRC_ALL;
    bool follows = ev->have_gen && ev->gen == st->gen && st->seq == ring_seq_next(ev->last_seq);
    double t;
    int r = 0;

    ev->records++;
    if (!ev->have_gen || ev->gen != st->gen)
        r = plan_build(ev, st);
    if (!r && follows) {
        const uint32_t *touched;
        size_t n = ring_state_touched(st, &touched);

        for (size_t i = 0; !r && i < n; i++)
            r = slot_update(ev, st, touched[i]);
    } else {
        for (uint32_t slot = 0; !r && slot + 1u < ev->ncstart; slot++)
            r = slot_update(ev, st, slot);
    }
    if (r < 0) {
        ev->err = r;
        return 1;
    }
    ev->last_seq = st->seq;
    t = st->wall_ns > ev->from ? (double)(st->wall_ns - ev->from) / 1e9 : 0;
    for (int s = 0; s < SRC_N; s++) {
        struct pfx *p = &ev->p[s];

        if (!(mask & SRC_BIT(s)))
            continue;
        for (size_t i = 0; i < ev->ndirty[s]; i++) {
            struct gser *x = &ev->s[ev->dirty[s][i]];
            double cur = x->nsat ? (double)UINT64_MAX : (double)x->sum;

            x->dirty = false;
            if (!x->npresent) {
                run_flush(ev, x); /* absent is not zero: no point */
                continue;
            }
            if (x->in_run && cur == x->run_v)
                continue;
            run_flush(ev, x);
            x->in_run = true;
            x->run_v = cur;
            x->run_t0 = t;
            x->p0 = *p;
        }
        ev->ndirty[s] = 0;
        p->n++;
        p->st += t;
        p->stt += t * t;
        p->t_last = t;
    }
    return 0;
}

static int cmp_series(const void *a, const void *b)
{
    const struct growth_series *x = a, *y = b;
    int c;

    if (x->fit.per_hour != y->fit.per_hour)
        return x->fit.per_hour > y->fit.per_hour ? -1 : 1;
    if ((c = strcmp(x->kind, y->kind)) != 0)
        return c;
    if ((c = strcmp(x->name, y->name)) != 0)
        return c;
    return strcmp(x->field, y->field);
}

/*
 * The tier: history_pick_tier's, except that a window over an hour reads the
 * per-minute tier once the full tier holds more than an hour of it: a fit over
 * 1440 minutes is as good as one over 86400 seconds at 1/60 of the walk, and
 * the daemon answers on its one thread.  A short recording stays on the full
 * tier, whose minutes would be too few to fit.
 */
static enum ring_tier pick_tier(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns,
                                uint64_t from)
{
    enum ring_tier t = history_pick_tier(rd, window_s, now_wall_ns);
    struct ring_tier_info f, c;
    uint64_t start;

    if (t != RING_FULL || window_s <= 3600)
        return t;
    if (ring_reader_tier_info(rd, RING_FULL, &f) < 0 || ring_reader_tier_info(rd, RING_COARSE, &c) < 0)
        return t;
    start = f.oldest_wall_ns > from ? f.oldest_wall_ns : from;
    if (c.records && now_wall_ns > start && now_wall_ns - start > 3600ull * 1000000000u)
        return RING_COARSE;
    return t;
}

void growth_report_free(struct growth_report *rep)
{
    free(rep->v);
    rep->v = NULL;
    rep->n = rep->nsuspects = 0;
}

static void geval_free(struct geval *ev)
{
    free(ev->s);
    free(ev->htab);
    free(ev->c);
    free(ev->cstart);
    for (int s = 0; s < SRC_N; s++) {
        free(ev->bysrc[s]);
        free(ev->dirty[s]);
    }
}

int growth_eval(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns,
                const struct growth_rule *rule, struct growth_report *out, char *err,
                size_t err_len)
{
    return growth_eval_next(rd, window_s, now_wall_ns, 0, rule, out, err, err_len);
}

int growth_eval_next(struct ring_reader *rd, uint64_t window_s, uint64_t now_wall_ns,
                     uint64_t next_now_wall_ns, const struct growth_rule *rule,
                     struct growth_report *out, char *err, size_t err_len)
{
    static const struct growth_rule def = { 0, 1u << 20, 0 };
    uint64_t win = window_s > UINT64_MAX / 1000000000u ? UINT64_MAX : window_s * 1000000000u;
    uint64_t keep = 0;
    struct geval ev;
    size_t k = 0;
    int r;

    if (err && err_len)
        err[0] = '\0';
    growth_report_free(out);
    if (!rule)
        rule = &def;
    if (!window_s) {
        if (err && err_len)
            snprintf(err, err_len, "the window must be longer than 0 s");
        return -EINVAL;
    }
    memset(&ev, 0, sizeof(ev));
    ev.from = now_wall_ns > win ? now_wall_ns - win : 0;
    ev.window_s = (double)window_s;
    out->window_s = window_s;
    out->from_wall_ns = ev.from;
    out->to_wall_ns = now_wall_ns;
    out->tier = pick_tier(rd, window_s, now_wall_ns, ev.from);
    /* where the next judgement's window begins; nothing to keep if not later than this one's */
    if (next_now_wall_ns > now_wall_ns)
        keep = next_now_wall_ns > win ? next_now_wall_ns - win : 0;
    r = ring_reader_walk_keep(rd, out->tier, ev.from, now_wall_ns, keep > ev.from ? keep : 0,
                              eval_cb, &ev);
    if (ev.err < 0 || r < 0) {
        r = ev.err < 0 ? ev.err : r;
        if (err && err_len)
            snprintf(err, err_len, "cannot read the ring: %s", strerror(-r));
        geval_free(&ev);
        return r;
    }
    out->records = ev.records;
    for (size_t i = 0; i < ev.ns; i++)
        if (ev.s[i].acc.n || ev.s[i].in_run)
            k++;
    if (k) {
        out->v = calloc(k, sizeof(*out->v));
        if (!out->v) {
            geval_free(&ev);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < ev.ns; i++) {
        struct gser *x = &ev.s[i];
        struct growth_series *g;

        run_flush(&ev, x);
        if (!x->acc.n)
            continue;
        g = &out->v[out->n++];
        g->kind = gk_names[x->kind];
        memcpy(g->name, x->name, sizeof(g->name));
        memcpy(g->field, x->field, sizeof(g->field));
        g->unit = x->unit;
        growth_acc_fit(&x->acc, &g->fit);
        g->eligible = growth_eligible(g->kind, g->field);
        g->suspect = g->eligible && growth_is_suspect(&g->fit, (double)window_s, rule);
        if (g->suspect)
            out->nsuspects++;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), cmp_series);
    geval_free(&ev);
    return 0;
}

const struct growth_series *growth_report_find(const struct growth_report *rep, const char *kind,
                                               const char *name, const char *field)
{
    for (size_t i = 0; i < rep->n; i++)
        if (strcmp(rep->v[i].kind, kind) == 0 && strcmp(rep->v[i].name, name) == 0 &&
            strcmp(rep->v[i].field, field) == 0)
            return &rep->v[i];
    return NULL;
}

static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* unix time in seconds with millisecond resolution, like every other reply */
static json_t *json_time(uint64_t wall_ns)
{
    return json_real(floor((double)wall_ns / 1e6) / 1e3);
}

static json_t *json_round(double x, double unit)
{
    return json_real(floor(x / unit + 0.5) * unit);
}

json_t *growth_report_json(const struct growth_report *rep, uint64_t min_size, size_t top,
                           bool suspects_only)
{
    json_t *arr = json_array(), *o;

    for (size_t i = 0; arr && i < rep->n && (!top || json_array_size(arr) < top); i++) {
        const struct growth_series *g = &rep->v[i];
        json_t *net;

        if (!(g->fit.per_hour > 0) || (suspects_only && !g->suspect))
            continue;
        /* every series counts whole units: net is an integer */
        net = json_integer((json_int_t)llround(g->fit.net));
        if (json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:b,s:o}", "kind", g->kind, "name",
                               g->name, "field", g->field, "unit", g->unit, "per_hour",
                               json_round(g->fit.per_hour, 0.001), "net", net, "steadiness",
                               json_round(g->fit.steadiness, 0.001), "suspect", g->suspect,
                               "points", json_u64(g->fit.points))) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr)
        return NULL;
    o = json_pack("{s:b,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "ok", 1, "window",
                  json_u64(rep->window_s), "tier", rep->tier == RING_FULL ? "full" : "coarse",
                  "from", json_time(rep->from_wall_ns), "to", json_time(rep->to_wall_ns),
                  "records", json_u64(rep->records), "min_size", json_u64(min_size), "suspects",
                  json_u64(rep->nsuspects), "growers", arr);
    return o;
}
