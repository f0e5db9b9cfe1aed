#include "suspects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"
#include "util.h"

#define NS 1000000000ull

void suspects_init(struct suspects *s, uint64_t min_window_s, uint64_t min_bytes)
{
    memset(s, 0, sizeof(*s));
    s->rule.min_window_s = min_window_s;
    s->rule.min_bytes = min_bytes;
}

void suspects_fini(struct suspects *s)
{
    for (int w = 0; w < SUSPECTS_NWIN; w++)
        growth_report_free(&s->win[w].rep);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/*
 * While live, how far a window's end moves before it is judged again: a
 * tenth of it, at least a minute (a verdict over 10 minutes moves slowly,
 * and one evaluation of it costs more than kmemtop's whole second otherwise),
 * at most 10 minutes.  The daemon, which alerts, judges every 10 s.
 */
static uint64_t pace_ns(uint64_t window_s)
{
    uint64_t p = window_s / 10;

    return (p < 60 ? 60 : p > 600 ? 600 : p) * NS;
}

static bool due(const struct suspects_win *x, uint64_t history_gen, uint64_t window_s,
                uint64_t end_ns, bool live)
{
    if (x->window_s != window_s || x->history_gen != history_gen)
        return true;
    if (x->end_ns == end_ns)
        return false;
    /* Following new samples: the verdict moves slowly, keep it for a while. */
    return !(live && x->live && end_ns > x->end_ns && end_ns - x->end_ns < pace_ns(window_s));
}

/* The series' suspects in v[0..n) (the windows judged before). */
static const struct suspect *find_in(const struct suspect *v, size_t n, const char *kind,
                                     const char *name, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].g->kind, kind) == 0 && strcmp(v[i].g->name, name) == 0 &&
            (!field || strcmp(v[i].g->field, field) == 0))
            return &v[i];
    return NULL;
}

/* The union of the windows' suspects, each once, from the shortest window that flags it. */
static int collect(struct suspects *s)
{
    s->n = 0;
    for (int w = 0; w < SUSPECTS_NWIN; w++) {
        const struct suspects_win *x = &s->win[w];

        for (size_t i = 0; x->window_s && i < x->rep.n; i++) {
            const struct growth_series *g = &x->rep.v[i];
            void *nv = s->v;

            if (!g->suspect || find_in(s->v, s->n, g->kind, g->name, g->field))
                continue;
            if (array_reserve(&nv, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
                return -ENOMEM;
            s->v = nv;
            s->v[s->n++] = (struct suspect){ g, x->window_s };
        }
    }
    return 0;
}

static void forget(struct suspects *s)
{
    for (int w = 0; w < SUSPECTS_NWIN; w++) {
        growth_report_free(&s->win[w].rep);
        s->win[w].window_s = 0;
    }
    s->n = 0;
    s->judged = false;
}

bool suspects_update(struct suspects *s, struct ring_reader *rd, uint64_t history_gen,
                     uint64_t end_ns, uint64_t window_s,
                     bool live)
{
    uint64_t want[SUSPECTS_NWIN] = { s->rule.min_window_s,
                                     window_s > s->rule.min_window_s ? window_s : 0 };
    uint64_t oldest = 0, newest = 0;
    bool changed = false;

    if (!rd || !end_ns) {
        changed = s->judged || s->n;
        forget(s);
        snprintf(s->err, sizeof(s->err), "%s",
                 rd ? "" : "no history (they are judged over the ring)");
        return changed;
    }
    for (int w = 0; w < SUSPECTS_NWIN; w++) {
        struct suspects_win *x = &s->win[w];
        char err[sizeof(s->err)];

        if (!want[w]) {
            if (x->window_s) {
                growth_report_free(&x->rep);
                x->window_s = 0;
                changed = true;
            }
            continue;
        }
        if (!due(x, history_gen, want[w], end_ns, live))
            continue;
        changed = true;
        x->window_s = want[w];
        x->end_ns = end_ns;
        x->history_gen = history_gen;
        x->live = live;
        /* live, the next judgement ends a pace later (due): its walk starts from a checkpoint */
        if (growth_eval_next(rd, want[w], end_ns, live ? end_ns + pace_ns(want[w]) : 0, &s->rule,
                             &x->rep, err, sizeof(err)) < 0) {
            x->history_gen = 0; /* the report is empty: due again at the next update */
            snprintf(s->err, sizeof(s->err), "%s", err[0] ? err : "out of memory");
        }
    }
    if (!changed)
        return false;
    s->judged = true;
    for (int w = 0; w < SUSPECTS_NWIN; w++)
        if (want[w] && !s->win[w].history_gen)
            s->judged = false;
    if (collect(s) < 0) {
        snprintf(s->err, sizeof(s->err), "out of memory");
        s->judged = false;
    }
    if (s->judged) {
        s->err[0] = '\0';
        ring_reader_span(rd, RING_FULL, &oldest, &newest);
        s->history_s = oldest && end_ns > oldest ? (end_ns - oldest) / NS : 0;
    }
    return true;
}

const struct suspect *suspects_find(const struct suspects *s, const char *kind, const char *name,
                                    const char *field)
{
    return find_in(s->v, s->n, kind, name, field);
}

unsigned suspects_kmalloc_mask(const struct suspects *s, uint64_t size)
{
    unsigned mask = 0;

    for (size_t i = 0; i < s->n; i++) {
        const char *name = s->v[i].g->name, *dash = strrchr(name, '-');
        size_t len;

        if (strcmp(s->v[i].g->kind, "kmalloc") != 0 || !dash ||
            strtoull(dash + 1, NULL, 10) != size)
            continue;
        len = (size_t)(dash - name);
        if (len == 5 && strncmp(name, "total", 5) == 0) {
            mask |= 1u << KMALLOC_NVARIANTS;
            continue;
        }
        for (int v = 0; v < KMALLOC_NVARIANTS; v++) {
            const char *vn = kmalloc_variant_name((enum kmalloc_variant)v);
            if (strlen(vn) == len && strncmp(name, vn, len) == 0)
                mask |= 1u << v;
        }
    }
    return mask;
}

void suspects_window_name(uint64_t window_s, char *buf, size_t n)
{
    static const struct {
        uint64_t secs;
        char unit;
    } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };

    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (window_s && window_s % units[i].secs == 0) {
            snprintf(buf, n, "%llu%c", (unsigned long long)(window_s / units[i].secs),
                     units[i].unit);
            return;
        }
    snprintf(buf, n, "%llus", (unsigned long long)window_s);
}
