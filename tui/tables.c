/*
 * tables: the rows of the table screens (Overview, kmalloc, Caches, vmalloc,
 * Buddy), built from the displayed record, and the panels that show them.
 *
 * Every table ends in the same trend columns: growth per minute over the
 * window, growth since start ("vs START") and since the mark ("vs MARK"),
 * and a sparkline of the window.  series_cell() and series_compare() serve
 * them all.  The tables of consumption series (not Buddy's free memory) start
 * with the mark column: "!" on the rows of leak suspects (suspects.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screens.h"
#include "screens_int.h"
#include "timeline.h"
#include "util.h"

/* SLUB estimates free objects of a node with more partial slabs than this (mm/slub.c). */
#define HUGE_CACHE_SLABS 10000u

/* --- cells ------------------------------------------------------------------- */

static const char *const spark_utf8[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const spark_ascii[8] = { "_", ".", ":", "-", "=", "+", "*", "#" };

void cell_bytes(uint64_t v, char *buf, size_t n)
{
    fmt_bytes(buf, n, v);
}

/* A text cell, cut to the buffer: "%s" without printf (every row has a few, every frame). */
static void cell_text(const char *s, char *buf, size_t n)
{
    size_t len;

    if (n == 0)
        return;
    len = strnlen(s, n - 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
}

static void cell_count(uint64_t v, char *buf, size_t n)
{
    static const char unit[] = { 0, 'k', 'M' };
    int u = 0;
    size_t len;

    /* Object and block counts: exact up to 7 digits, then k/M so columns keep their width. */
    if (v >= 10000000000ull) {
        v /= 1000000;
        u = 2;
    } else if (v >= 10000000) {
        v /= 1000;
        u = 1;
    }
    len = strlen(fmt_u64(buf, n, v));
    if (u && len + 1 < n) {
        buf[len] = unit[u];
        buf[len + 1] = '\0';
    }
}

/* Every row has these cells, every frame: no printf for them. */
enum ui_elem cell_delta(bool ok, int64_t d, bool bytes, char *buf, size_t n)
{
    uint64_t mag;

    if (n < 2) {
        if (n)
            buf[0] = '\0';
        return UI_NORMAL;
    }
    if (!ok || d == 0) {
        memcpy(buf, ok ? "0" : "-", 2);
        return UI_NORMAL;
    }
    mag = d > 0 ? (uint64_t)d : (uint64_t)-d;
    buf[0] = d > 0 ? '+' : '-';
    if (bytes)
        fmt_bytes(buf + 1, n - 1, mag);
    else
        cell_count(mag, buf + 1, n - 1);
    return d > 0 ? UI_GROW_UP : UI_GROW_DOWN;
}

static void cell_pct(uint64_t part, uint64_t whole, char *buf, size_t n)
{
    size_t len;

    if (whole == 0) {
        cell_text("-", buf, n);
        return;
    }
    len = strlen(fmt_u64(buf, n, part * 100 / whole));
    if (len + 1 < n) {
        buf[len] = '%';
        buf[len + 1] = '\0';
    }
}

/* A figure as a whole number of units, saturated (a fit over saturated values can be huge). */
static int64_t round_i64(double v)
{
    return v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? -INT64_MAX : (int64_t)llround(v);
}

/*
 * The first column of every table of consumption series: "!" on a leak
 * suspect's row, in the warning colour like the row's name (cell_name), so
 * that the mark shows in monochrome and the colour shows from afar.
 */
#define MARK_COL { "", 1, PANEL_LEFT, -1 }

static enum ui_elem cell_mark(bool suspect, char *buf, size_t n)
{
    cell_text(suspect ? "!" : "", buf, n);
    return suspect ? UI_WARN : UI_NORMAL;
}

static enum ui_elem cell_name(bool suspect, const char *name, char *buf, size_t n)
{
    cell_text(name, buf, n);
    return suspect ? UI_WARN : UI_NORMAL;
}

static int cmp_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

/* Use % as a comparable number: per mille of objects in use (0 for an empty cache). */
static uint64_t use_pm(uint64_t active, uint64_t objs)
{
    return objs ? active * 1000 / objs : 0;
}

/* --- the trend columns ------------------------------------------------------------ */

enum series_col { SC_RATE, SC_GROWTH, SC_START, SC_MARK, SC_SPARK };

static bool series_figure(const struct app *a, long series, enum series_col c, double *out)
{
    const struct trend_series *s = trend_series(&a->tr, series);
    int64_t d;
    bool ok;

    switch (c) {
    case SC_RATE:
        return trend_rate(&a->tr, s, out);
    case SC_GROWTH:
        ok = trend_growth(&a->tr, s, &d);
        break;
    case SC_START:
        ok = trend_since_base(&a->tr, s, &d);
        break;
    case SC_MARK:
        ok = trend_since_mark(&a->tr, s, &d);
        break;
    case SC_SPARK:
    default:
        return false;
    }
    *out = (double)d;
    return ok;
}

static enum ui_elem series_cell(const struct app *a, long series, enum series_col c, bool bytes,
                                int width, char *buf, size_t n)
{
    double v;
    bool ok;

    if (c == SC_SPARK) {
        if (width > 0)
            trend_sparkline(&a->tr, trend_series(&a->tr, series), (size_t)width,
                            ui_utf8() ? spark_utf8 : spark_ascii, buf, n);
        return UI_NORMAL;
    }
    ok = series_figure(a, series, c, &v);
    /* Half a byte a minute is noise from the division, not growth. */
    if (ok && fabs(v) < 0.5)
        v = 0;
    return cell_delta(ok, (int64_t)llround(v), bytes, buf, n);
}

/*
 * The trend columns' part of a row key (panel.h), but the sparkline's, which
 * is drawn every frame: what the growth, "vs START" and "vs MARK" show.
 * Only a series that held one value over the whole window has one: its
 * growth is 0 however the window's ends move, and the rest is that value,
 * the base and the mark.  false for a series that moved in the window.
 */
static bool key_series(const struct app *a, long series, struct panel_key *k)
{
    const struct trend *h = &a->tr;
    const struct trend_series *s = trend_series(h, series);
    uint64_t v;
    unsigned char has[3];

    if (!s) {
        panel_key_u64(k, 0); /* every figure "-" */
        return true;
    }
    if (!trend_flat(h, s, &v))
        return false;
    /* every column of any sparkline shows a point: every column the lowest glyph */
    k->all = trend_spark_filled(h);
    /* trend_rate: two points at different times; since(): a base, a mark */
    has[0] = h->n > 1 && trend_time(h, h->n - 1) > trend_time(h, 0);
    has[1] = h->has_base;
    has[2] = h->has_mark;
    panel_key_u64(k, 1);
    panel_key_put(k, has, sizeof(has));
    panel_key_u64(k, v);
    panel_key_u64(k, s->base);
    panel_key_u64(k, s->mark);
    return true;
}

/* Largest growth first; rows without a figure last. */
static int series_compare(const struct app *a, long sa, long sb, enum series_col c)
{
    double x = 0, y = 0;
    bool hx = series_figure(a, sa, c, &x), hy = series_figure(a, sb, c, &y);

    if (hx != hy)
        return hx ? -1 : 1;
    return x > y ? -1 : x < y ? 1 : 0;
}

#define TREND_COLS(first)                                                         \
    { "GROWTH/m", 8, PANEL_RIGHT, (first) }, { "vs START", 8, PANEL_RIGHT, (first) + 1 }, \
        { "vs MARK", 8, PANEL_RIGHT, (first) + 2 }, { "HISTORY", 0, PANEL_LEFT, -1, true }

/* Map a column at or after `first` (the TREND_COLS) to its series column. */
static enum series_col trend_col(size_t col, size_t first)
{
    static const enum series_col m[] = { SC_RATE, SC_START, SC_MARK, SC_SPARK };
    return m[col - first < 4 ? col - first : 3];
}

/* --- Caches ------------------------------------------------------------------------- */

enum { C_MARK, C_NAME, C_ACTIVE, C_OBJS, C_USE, C_OBJSIZE, C_SLABS, C_MEMORY, C_TREND };

static const struct panel_column cache_cols[] = {
    [C_MARK] = MARK_COL,
    [C_NAME] = { "NAME", 26, PANEL_LEFT, C_NAME },
    [C_ACTIVE] = { "ACTIVE", 9, PANEL_RIGHT, C_ACTIVE },
    [C_OBJS] = { "OBJS", 9, PANEL_RIGHT, C_OBJS },
    [C_USE] = { "USE%", 4, PANEL_RIGHT, C_USE },
    [C_OBJSIZE] = { "OBJSIZE", 7, PANEL_RIGHT, C_OBJSIZE },
    [C_SLABS] = { "SLABS", 7, PANEL_RIGHT, C_SLABS },
    [C_MEMORY] = { "MEMORY", 7, PANEL_RIGHT, C_MEMORY },
    TREND_COLS(C_TREND),
};

static const struct slab_cache *cache_of(const struct app *a, size_t row)
{
    return &a->view->slab.caches[a->caches[row].cache];
}

static size_t caches_count(const void *ctx)
{
    return ((const struct app *)ctx)->ncaches;
}

static const char *caches_name(const void *ctx, size_t row)
{
    return cache_of(ctx, row)->name;
}

static int caches_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct app *a = ctx;
    const struct slab_cache *x = cache_of(a, ra), *y = cache_of(a, rb);

    switch (key) {
    case C_NAME:
        return strcmp(x->name, y->name);
    case C_ACTIVE:
        return cmp_desc(x->active_objs, y->active_objs);
    case C_OBJS:
        return cmp_desc(x->num_objs, y->num_objs);
    case C_USE:
        return cmp_desc(use_pm(x->active_objs, x->num_objs), use_pm(y->active_objs, y->num_objs));
    case C_OBJSIZE:
        return cmp_desc(x->objsize, y->objsize);
    case C_SLABS:
        return cmp_desc(x->num_slabs, y->num_slabs);
    case C_MEMORY:
        return cmp_desc(x->bytes_total, y->bytes_total);
    default:
        return series_compare(a, a->caches[ra].series, a->caches[rb].series,
                              trend_col((size_t)key, C_TREND));
    }
}

static enum ui_elem caches_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                size_t n)
{
    const struct app *a = ctx;
    const struct slab_cache *c = cache_of(a, row);

    switch (col) {
    case C_MARK:
        return cell_mark(a->caches[row].suspect, buf, n);
    case C_NAME:
        return cell_name(a->caches[row].suspect, c->name, buf, n);
    case C_ACTIVE:
        cell_count(c->active_objs, buf, n);
        break;
    case C_OBJS:
        cell_count(c->num_objs, buf, n);
        break;
    case C_USE:
        cell_pct(c->active_objs, c->num_objs, buf, n);
        break;
    case C_OBJSIZE:
        fmt_u64(buf, n, c->objsize);
        break;
    case C_SLABS:
        cell_count(c->num_slabs, buf, n);
        break;
    case C_MEMORY:
        cell_bytes(c->bytes_total, buf, n);
        break;
    default:
        return series_cell(a, a->caches[row].series, trend_col(col, C_TREND), true, width, buf, n);
    }
    return UI_NORMAL;
}

static bool caches_key(const void *ctx, size_t row, struct panel_key *k)
{
    const struct app *a = ctx;
    const struct slab_cache *c = cache_of(a, row);
    const uint64_t f[] = { a->caches[row].suspect, c->active_objs, c->num_objs, c->objsize,
                           c->num_slabs, c->bytes_total };

    panel_key_put(k, f, sizeof(f));
    panel_key_str(k, c->name);
    return key_series(a, a->caches[row].series, k);
}

static int caches_name_cmp(const void *ctx, size_t ra, size_t rb)
{
    const struct app *a = ctx;

    return trend_name_cmp(&a->tr, a->caches[ra].series, a->caches[rb].series, cache_of(a, ra)->name,
                          cache_of(a, rb)->name);
}

static const struct panel_ops caches_ops = {
    caches_count, caches_name, caches_compare, caches_cell, caches_key, caches_name_cmp,
};

/* --- kmalloc ------------------------------------------------------------------------- */

enum {
    K_MARK, K_SIZE, K_VARIANT0, K_TOTAL = K_VARIANT0 + KMALLOC_NVARIANTS, K_OBJS, K_USE, K_TREND
};

static const struct panel_column kmalloc_cols[] = {
    [K_MARK] = MARK_COL,
    [K_SIZE] = { "SIZE", 5, PANEL_RIGHT, K_SIZE },
    [K_VARIANT0 + KMALLOC_NORMAL] = { "normal", 7, PANEL_RIGHT, K_VARIANT0 + KMALLOC_NORMAL },
    [K_VARIANT0 + KMALLOC_CG] = { "cg", 7, PANEL_RIGHT, K_VARIANT0 + KMALLOC_CG },
    [K_VARIANT0 + KMALLOC_RCL] = { "rcl", 7, PANEL_RIGHT, K_VARIANT0 + KMALLOC_RCL },
    [K_VARIANT0 + KMALLOC_DMA] = { "dma", 7, PANEL_RIGHT, K_VARIANT0 + KMALLOC_DMA },
    [K_VARIANT0 + KMALLOC_RND] = { "rnd", 7, PANEL_RIGHT, K_VARIANT0 + KMALLOC_RND },
    [K_TOTAL] = { "TOTAL", 7, PANEL_RIGHT, K_TOTAL },
    [K_OBJS] = { "ACTIVE/OBJS", 15, PANEL_RIGHT, K_OBJS },
    [K_USE] = { "USE%", 4, PANEL_RIGHT, K_USE },
    TREND_COLS(K_TREND),
};

static size_t kmalloc_count(const void *ctx)
{
    return ((const struct app *)ctx)->nclasses;
}

static const char *kmalloc_name(const void *ctx, size_t row)
{
    return ((const struct app *)ctx)->classes[row].label;
}

static int kmalloc_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct app *a = ctx;
    const struct kmalloc_class *x = &a->classes[ra], *y = &a->classes[rb];

    if (key >= K_VARIANT0 && key < K_TOTAL)
        return cmp_desc(x->bytes[key - K_VARIANT0], y->bytes[key - K_VARIANT0]);
    switch (key) {
    case K_SIZE:
        /* Sizes read as a scale, so their natural order is ascending. */
        return -cmp_desc(x->size, y->size);
    case K_TOTAL:
        return cmp_desc(x->total, y->total);
    case K_OBJS:
        return cmp_desc(x->active, y->active);
    case K_USE:
        return cmp_desc(use_pm(x->active, x->objs), use_pm(y->active, y->objs));
    default:
        return series_compare(a, x->series, y->series, trend_col((size_t)key, K_TREND));
    }
}

static enum ui_elem kmalloc_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                 size_t n)
{
    const struct app *a = ctx;
    const struct kmalloc_class *k = &a->classes[row];

    /* The cells of the suspect series (a variant, the total) in the warning colour too. */
    if (col >= K_VARIANT0 && col < K_TOTAL) {
        unsigned v = (unsigned)(col - K_VARIANT0);
        if (k->present & (1u << v))
            cell_bytes(k->bytes[v], buf, n);
        else
            cell_text("-", buf, n);
        return k->suspect & (1u << v) ? UI_WARN : UI_NORMAL;
    }
    switch (col) {
    case K_MARK:
        return cell_mark(k->suspect, buf, n);
    case K_SIZE:
        return cell_name(k->suspect, k->label, buf, n);
    case K_TOTAL:
        cell_bytes(k->total, buf, n);
        return k->suspect & (1u << KMALLOC_NVARIANTS) ? UI_WARN : UI_NORMAL;
    case K_OBJS: {
        char x[16], y[16];
        cell_count(k->active, x, sizeof(x));
        cell_count(k->objs, y, sizeof(y));
        snprintf(buf, n, "%s/%s", x, y);
        break;
    }
    case K_USE:
        cell_pct(k->active, k->objs, buf, n);
        break;
    default:
        return series_cell(a, k->series, trend_col(col, K_TREND), true, width, buf, n);
    }
    return UI_NORMAL;
}

static bool kmalloc_key(const void *ctx, size_t row, struct panel_key *k)
{
    const struct app *a = ctx;
    const struct kmalloc_class *c = &a->classes[row];
    const uint64_t f[] = { c->suspect, c->present, c->total, c->active, c->objs };

    panel_key_put(k, f, sizeof(f));
    panel_key_put(k, c->bytes, sizeof(c->bytes));
    panel_key_str(k, c->label);
    return key_series(a, c->series, k);
}

static const struct panel_ops kmalloc_ops = {
    kmalloc_count, kmalloc_name, kmalloc_compare, kmalloc_cell, kmalloc_key, NULL,
};

/* --- Overview: meminfo ------------------------------------------------------------------ */

enum { M_MARK, M_KEY, M_VALUE, M_TREND };

static const struct panel_column meminfo_cols[] = {
    [M_MARK] = MARK_COL,
    [M_KEY] = { "MEMINFO", 14, PANEL_LEFT, -1 },
    [M_VALUE] = { "VALUE", 8, PANEL_RIGHT, -1 },
    { "GROWTH/m", 8, PANEL_RIGHT, -1 },
    { "vs START", 8, PANEL_RIGHT, -1 },
    { "vs MARK", 8, PANEL_RIGHT, -1 },
    { "HISTORY", 0, PANEL_LEFT, -1, true },
};

static const enum meminfo_key meminfo_keys[APP_MEMINFO_ROWS] = {
    MEMINFO_SLAB, MEMINFO_SRECLAIMABLE, MEMINFO_SUNRECLAIM, MEMINFO_VMALLOCUSED,
    MEMINFO_PERCPU, MEMINFO_MEMFREE, MEMINFO_MEMAVAILABLE,
};

static size_t meminfo_count(const void *ctx)
{
    (void)ctx;
    return APP_MEMINFO_ROWS;
}

static const char *meminfo_name(const void *ctx, size_t row)
{
    return meminfo_key_name(((const struct app *)ctx)->meminfo[row].key);
}

/* A fixed list: keep the order of meminfo_keys. */
static int meminfo_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    (void)ctx;
    (void)key;
    return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/* Does the displayed record have the row's meminfo key? */
static bool meminfo_shown(const struct app *a, const struct meminfo_row *m)
{
    return a->view && sampler_valid(a->view, SRC_MEMINFO) && meminfo_has(&a->view->meminfo, m->key);
}

static enum ui_elem meminfo_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                 size_t n)
{
    const struct app *a = ctx;
    const struct meminfo_row *m = &a->meminfo[row];
    bool has = meminfo_shown(a, m);

    if (col == M_MARK)
        return cell_mark(m->suspect, buf, n);
    if (col == M_KEY)
        return cell_name(m->suspect, meminfo_key_name(m->key), buf, n);
    if (!has) {
        cell_text(col == M_VALUE ? "-" : "", buf, n);
        return UI_NORMAL;
    }
    if (col == M_VALUE) {
        cell_bytes(a->view->meminfo.value[m->key], buf, n);
        return UI_NORMAL;
    }
    return series_cell(a, m->series, trend_col(col, M_TREND), true, width, buf, n);
}

static bool meminfo_key(const void *ctx, size_t row, struct panel_key *k)
{
    const struct app *a = ctx;
    const struct meminfo_row *m = &a->meminfo[row];
    bool has = meminfo_shown(a, m);
    const uint64_t f[] = { m->suspect, (uint64_t)m->key, has,
                           has ? a->view->meminfo.value[m->key] : 0 };

    panel_key_put(k, f, sizeof(f));
    return !has || key_series(a, m->series, k);
}

static const struct panel_ops meminfo_ops = {
    meminfo_count, meminfo_name, meminfo_compare, meminfo_cell, meminfo_key, NULL,
};

/* --- Overview: top growers -------------------------------------------------------------- */

enum { G_MARK, G_KIND, G_NAME, G_NOW, G_GROWTH, G_RATE, G_HISTORY };

static const struct panel_column grower_cols[] = {
    [G_MARK] = MARK_COL,
    [G_KIND] = { "KIND", 7, PANEL_LEFT, G_KIND },
    [G_NAME] = { "TOP GROWERS IN THE WINDOW", 34, PANEL_LEFT, G_NAME },
    [G_NOW] = { "NOW", 8, PANEL_RIGHT, G_NOW },
    [G_GROWTH] = { "GROWTH", 8, PANEL_RIGHT, G_GROWTH },
    [G_RATE] = { "GROWTH/m", 8, PANEL_RIGHT, G_RATE },
    [G_HISTORY] = { "HISTORY", 0, PANEL_LEFT, -1, true },
};

static const char *kind_short(int kind)
{
    switch (kind) {
    case TK_SLAB:
        return "slab";
    case TK_KMALLOC:
        return "kmalloc";
    case TK_VMALLOC:
        return "vmalloc";
    default:
        return "?";
    }
}

static uint64_t series_now(const struct app *a, long series)
{
    const struct trend_series *s = trend_series(&a->tr, series);

    return s && a->tr.n ? trend_val(&a->tr, s, a->tr.n - 1) : 0;
}

static size_t growers_count(const void *ctx)
{
    return ((const struct app *)ctx)->ngrowers;
}

static const char *growers_name(const void *ctx, size_t row)
{
    return ((const struct app *)ctx)->growers[row].name;
}

static int growers_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct app *a = ctx;
    const struct grower_row *x = &a->growers[ra], *y = &a->growers[rb];

    switch (key) {
    case G_KIND:
        return strcmp(kind_short(x->kind), kind_short(y->kind));
    case G_NAME:
        return strcmp(x->name, y->name);
    case G_NOW:
        return cmp_desc(series_now(a, x->series), series_now(a, y->series));
    case G_GROWTH:
        return x->growth > y->growth ? -1 : x->growth < y->growth;
    case G_RATE:
        return series_compare(a, x->series, y->series, SC_RATE);
    default:
        return 0;
    }
}

static enum ui_elem growers_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                 size_t n)
{
    const struct app *a = ctx;
    const struct grower_row *g = &a->growers[row];

    switch (col) {
    case G_MARK:
        return cell_mark(g->suspect, buf, n);
    case G_KIND:
        cell_text(kind_short(g->kind), buf, n);
        break;
    case G_NAME:
        /* The kind is its own column: show the name without the prefix that keeps it unique. */
        return cell_name(g->suspect,
                         g->name + (g->kind == TK_SLAB ? 0 : strlen(kind_short(g->kind)) + 1),
                         buf, n);
    case G_NOW:
        cell_bytes(series_now(a, g->series), buf, n);
        break;
    case G_GROWTH:
        return cell_delta(true, g->growth, true, buf, n);
    case G_RATE:
        return series_cell(a, g->series, SC_RATE, true, width, buf, n);
    case G_HISTORY:
        return series_cell(a, g->series, SC_SPARK, true, width, buf, n);
    default:
        break;
    }
    return UI_NORMAL;
}

static const struct panel_ops growers_ops = {
    growers_count, growers_name, growers_compare, growers_cell, NULL, NULL,
};

/* --- Overview: leak suspects ------------------------------------------------------------ */

enum { S_MARK, S_KIND, S_RATE, S_NET, S_STEADY, S_WINDOW, S_NAME };

static const struct panel_column suspect_cols[] = {
    [S_MARK] = MARK_COL,
    [S_KIND] = { "KIND", 7, PANEL_LEFT, -1 },
    [S_RATE] = { "GROWTH/h", 9, PANEL_RIGHT, S_RATE },
    [S_NET] = { "NET", 8, PANEL_RIGHT, -1 },
    [S_STEADY] = { "STEADY", 6, PANEL_RIGHT, -1 },
    [S_WINDOW] = { "WINDOW", 6, PANEL_RIGHT, -1 },
    /* Last, as wide as the screen leaves: at 60 columns the figures still show. */
    [S_NAME] = { "LEAK SUSPECT", 0, PANEL_LEFT, -1 },
};

static const struct growth_series *suspect_of(const struct app *a, size_t row)
{
    return a->sus.v[row].g;
}

/* A meminfo series by its key (its name is "-"), the others by name, as kmemctl growth. */
static const char *suspect_name(const struct growth_series *g)
{
    return strcmp(g->kind, "meminfo") == 0 ? g->field : g->name;
}

static size_t suspects_count(const void *ctx)
{
    return ((const struct app *)ctx)->sus.n;
}

static const char *suspects_name(const void *ctx, size_t row)
{
    return suspect_name(suspect_of(ctx, row));
}

/* Fastest first, like kmemctl growth; equal rates by kind, then field (panel_cmp breaks ties by name). */
static int suspects_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct growth_series *x = suspect_of(ctx, ra), *y = suspect_of(ctx, rb);
    int c;

    (void)key;
    if (x->fit.per_hour != y->fit.per_hour)
        return x->fit.per_hour > y->fit.per_hour ? -1 : 1;
    if ((c = strcmp(x->kind, y->kind)) != 0)
        return c;
    return strcmp(x->field, y->field);
}

static enum ui_elem suspects_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                  size_t n)
{
    const struct app *a = ctx;
    const struct growth_series *g = suspect_of(a, row);
    char b[32];

    (void)width;
    switch (col) {
    case S_MARK:
        return cell_mark(true, buf, n);
    case S_KIND:
        cell_text(g->kind, buf, n);
        break;
    case S_RATE:
        cell_delta(true, round_i64(g->fit.per_hour), true, b, sizeof(b));
        snprintf(buf, n, "%s/h", b);
        break;
    case S_NET:
        cell_delta(true, round_i64(g->fit.net), true, buf, n);
        break;
    case S_STEADY:
        snprintf(buf, n, "%.2f", g->fit.steadiness);
        break;
    case S_WINDOW:
        suspects_window_name(a->sus.v[row].window_s, buf, n);
        break;
    default:
        return cell_name(true, suspect_name(g), buf, n);
    }
    return UI_NORMAL;
}

static const struct panel_ops suspects_ops = {
    suspects_count, suspects_name, suspects_compare, suspects_cell, NULL, NULL,
};

/* --- vmalloc: by type ------------------------------------------------------------------- */

enum { T_MARK, T_NAME, T_AREAS, T_BYTES, T_REAL, T_TREND };

static const struct panel_column vmtype_cols[] = {
    [T_MARK] = MARK_COL,
    [T_NAME] = { "BY TYPE", 30, PANEL_LEFT, -1 },
    [T_AREAS] = { "AREAS", 7, PANEL_RIGHT, -1 },
    [T_BYTES] = { "BYTES", 8, PANEL_RIGHT, -1 },
    [T_REAL] = { "REAL", 8, PANEL_RIGHT, -1 },
    { "GROWTH/m", 8, PANEL_RIGHT, -1 },
    { "vs START", 8, PANEL_RIGHT, -1 },
    { "vs MARK", 8, PANEL_RIGHT, -1 },
    { "HISTORY", 0, PANEL_LEFT, -1, true },
};

/* The types that have areas, the total, and the unpurged row (always: it explains VmallocUsed). */
static bool vmtype_shown(const struct app *a, size_t i)
{
    return a->vmtypes[i].sum.areas || i >= VMALLOC_NTYPES;
}

static size_t vmtypes_count(const void *ctx)
{
    const struct app *a = ctx;
    size_t n = 0;

    for (size_t i = 0; i < APP_VMTYPE_ROWS; i++)
        n += vmtype_shown(a, i);
    return a->view && sampler_valid(a->view, SRC_VMALLOCINFO) ? n : 0;
}

static const struct vm_type_row *vmtype_row(const struct app *a, size_t row)
{
    for (size_t i = 0; i < APP_VMTYPE_ROWS; i++)
        if (vmtype_shown(a, i) && row-- == 0)
            return &a->vmtypes[i];
    return &a->vmtypes[APP_VMTYPE_UNPURGED];
}

static const char *vmtypes_name(const void *ctx, size_t row)
{
    return vmtype_row(ctx, row)->name;
}

static enum ui_elem vmtypes_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                 size_t n)
{
    const struct app *a = ctx;
    const struct vm_type_row *t = vmtype_row(a, row);

    switch (col) {
    case T_MARK:
        return cell_mark(t->suspect, buf, n);
    case T_NAME:
        return cell_name(t->suspect, t->name, buf, n);
    case T_AREAS:
        cell_count(t->sum.areas, buf, n);
        break;
    case T_BYTES:
        cell_bytes(t->sum.bytes, buf, n);
        break;
    case T_REAL:
        /* Unpurged areas have no pages of their own left: say so rather than 0B. */
        if (t == &a->vmtypes[APP_VMTYPE_UNPURGED])
            cell_text("-", buf, n);
        else
            cell_bytes(mul_sat(t->sum.pages, a->view->page_size ? a->view->page_size : 4096), buf, n);
        break;
    default:
        return series_cell(a, t->series, trend_col(col, T_TREND), true, width, buf, n);
    }
    return UI_NORMAL;
}

static const struct panel_ops vmtypes_ops = {
    vmtypes_count, vmtypes_name, meminfo_compare, vmtypes_cell, NULL, NULL,
};

/* --- vmalloc: by caller ----------------------------------------------------------------- */

enum { V_MARK, V_NAME, V_TYPE, V_AREAS, V_BYTES, V_REAL, V_TREND };

static const struct panel_column vmcaller_cols[] = {
    [V_MARK] = MARK_COL,
    [V_NAME] = { "CALLER", 34, PANEL_LEFT, V_NAME },
    [V_TYPE] = { "TYPE", 8, PANEL_LEFT, V_TYPE },
    [V_AREAS] = { "AREAS", 6, PANEL_RIGHT, V_AREAS },
    [V_BYTES] = { "BYTES", 7, PANEL_RIGHT, V_BYTES },
    [V_REAL] = { "REAL", 7, PANEL_RIGHT, V_REAL },
    TREND_COLS(V_TREND),
};

static const char *types_label(unsigned types)
{
    for (int t = 0; t < VMALLOC_NTYPES; t++)
        if (types == (1u << t))
            return vmalloc_type_name((enum vmalloc_type)t);
    return types ? "mixed" : "-";
}

static size_t vmcallers_count(const void *ctx)
{
    return ((const struct app *)ctx)->nvmcallers;
}

static const char *vmcallers_name(const void *ctx, size_t row)
{
    return ((const struct app *)ctx)->vmcallers[row].name;
}

static uint64_t vm_real(const struct app *a, const struct vm_caller_row *v)
{
    return mul_sat(v->pages, a->view && a->view->page_size ? a->view->page_size : 4096);
}

static int vmcallers_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct app *a = ctx;
    const struct vm_caller_row *x = &a->vmcallers[ra], *y = &a->vmcallers[rb];

    switch (key) {
    case V_NAME:
        return strcmp(x->name, y->name);
    case V_TYPE:
        return strcmp(types_label(x->types), types_label(y->types));
    case V_AREAS:
        return cmp_desc(x->areas, y->areas);
    case V_BYTES:
        return cmp_desc(x->bytes, y->bytes);
    case V_REAL:
        return cmp_desc(x->pages, y->pages);
    default:
        return series_compare(a, x->series, y->series, trend_col((size_t)key, V_TREND));
    }
}

static enum ui_elem vmcallers_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                                   size_t n)
{
    const struct app *a = ctx;
    const struct vm_caller_row *v = &a->vmcallers[row];

    switch (col) {
    case V_MARK:
        return cell_mark(v->suspect, buf, n);
    case V_NAME:
        return cell_name(v->suspect, v->name, buf, n);
    case V_TYPE:
        cell_text(types_label(v->types), buf, n);
        break;
    case V_AREAS:
        cell_count(v->areas, buf, n);
        break;
    case V_BYTES:
        cell_bytes(v->bytes, buf, n);
        break;
    case V_REAL:
        cell_bytes(vm_real(a, v), buf, n);
        break;
    default:
        return series_cell(a, v->series, trend_col(col, V_TREND), true, width, buf, n);
    }
    return UI_NORMAL;
}

static bool vmcallers_key(const void *ctx, size_t row, struct panel_key *k)
{
    const struct app *a = ctx;
    const struct vm_caller_row *v = &a->vmcallers[row];
    const uint64_t f[] = { v->suspect, v->types, v->areas, v->bytes, vm_real(a, v) };

    panel_key_put(k, f, sizeof(f));
    panel_key_str(k, v->name);
    return key_series(a, v->series, k);
}

static const struct panel_ops vmcallers_ops = {
    vmcallers_count, vmcallers_name, vmcallers_compare, vmcallers_cell, vmcallers_key, NULL,
};

/* --- Buddy: zones ------------------------------------------------------------------------ */

enum { Z_NAME, Z_FREE, Z_HIGH, Z_TREND };

static const struct panel_column zone_cols[] = {
    [Z_NAME] = { "ZONE", 14, PANEL_LEFT, Z_NAME },
    [Z_FREE] = { "FREE", 8, PANEL_RIGHT, Z_FREE },
    [Z_HIGH] = { "LARGEST", 8, PANEL_RIGHT, Z_HIGH },
    TREND_COLS(Z_TREND),
};

static const struct buddy_zone *zone_of(const struct app *a, size_t row)
{
    return &a->view->buddy.zones[a->zones[row].zone];
}

/* Size of the largest free block, in bytes (0 when the zone has none). */
static uint64_t zone_largest(const struct app *a, const struct buddy_zone *z)
{
    uint64_t ps = a->view->page_size ? a->view->page_size : 4096;

    for (unsigned o = a->view->buddy.orders; o-- > 0;)
        if (z->free[o])
            return mul_sat(ps, 1ull << o);
    return 0;
}

static size_t zones_count(const void *ctx)
{
    return ((const struct app *)ctx)->nzones;
}

static const char *zones_name(const void *ctx, size_t row)
{
    return ((const struct app *)ctx)->zones[row].name;
}

static int zones_compare(const void *ctx, size_t ra, size_t rb, int key)
{
    const struct app *a = ctx;
    const struct buddy_zone *x = zone_of(a, ra), *y = zone_of(a, rb);

    switch (key) {
    case Z_NAME:
        /* File order: node by node, zones from low to high memory. */
        return ra < rb ? -1 : ra > rb;
    case Z_FREE:
        return cmp_desc(x->free_pages, y->free_pages);
    case Z_HIGH:
        return cmp_desc(zone_largest(a, x), zone_largest(a, y));
    default:
        return series_compare(a, a->zones[ra].series, a->zones[rb].series,
                              trend_col((size_t)key, Z_TREND));
    }
}

static enum ui_elem zones_cell(const void *ctx, size_t row, size_t col, int width, char *buf,
                               size_t n)
{
    const struct app *a = ctx;
    const struct buddy_zone *z = zone_of(a, row);

    switch (col) {
    case Z_NAME:
        cell_text(a->zones[row].name, buf, n);
        break;
    case Z_FREE:
        cell_bytes(mul_sat(z->free_pages, a->view->page_size ? a->view->page_size : 4096), buf, n);
        break;
    case Z_HIGH:
        cell_bytes(zone_largest(a, z), buf, n);
        break;
    default:
        return series_cell(a, a->zones[row].series, trend_col(col, Z_TREND), true, width, buf, n);
    }
    return UI_NORMAL;
}

static const struct panel_ops zones_ops = {
    zones_count, zones_name, zones_compare, zones_cell, NULL, NULL,
};

/* --- lifecycle -------------------------------------------------------------------------- */

void tables_init(struct app *a)
{
    for (size_t i = 0; i < APP_MEMINFO_ROWS; i++) {
        a->meminfo[i].key = meminfo_keys[i];
        a->meminfo[i].series = -1;
    }
    for (size_t i = 0; i < VMALLOC_NTYPES; i++)
        a->vmtypes[i].name = vmalloc_type_name((enum vmalloc_type)i);
    a->vmtypes[APP_VMTYPE_TOTAL].name = "total";
    a->vmtypes[APP_VMTYPE_UNPURGED].name = "unpurged (lazily freed)";
    for (size_t i = 0; i < APP_VMTYPE_ROWS; i++)
        a->vmtypes[i].series = -1;
    panel_init(&a->p_caches, cache_cols, ARRAY_SIZE(cache_cols), &caches_ops, a, C_MEMORY);
    panel_init(&a->p_kmalloc, kmalloc_cols, ARRAY_SIZE(kmalloc_cols), &kmalloc_ops, a, K_SIZE);
    panel_init(&a->p_meminfo, meminfo_cols, ARRAY_SIZE(meminfo_cols), &meminfo_ops, a, M_KEY);
    panel_init(&a->p_suspects, suspect_cols, ARRAY_SIZE(suspect_cols), &suspects_ops, a, S_RATE);
    panel_init(&a->p_growers, grower_cols, ARRAY_SIZE(grower_cols), &growers_ops, a, G_GROWTH);
    panel_init(&a->p_vmtypes, vmtype_cols, ARRAY_SIZE(vmtype_cols), &vmtypes_ops, a, T_NAME);
    panel_init(&a->p_vmcallers, vmcaller_cols, ARRAY_SIZE(vmcaller_cols), &vmcallers_ops, a,
               V_BYTES);
    panel_init(&a->p_zones, zone_cols, ARRAY_SIZE(zone_cols), &zones_ops, a, Z_NAME);
}

void tables_fini(struct app *a)
{
    panel_fini(&a->p_caches);
    panel_fini(&a->p_kmalloc);
    panel_fini(&a->p_meminfo);
    panel_fini(&a->p_suspects);
    panel_fini(&a->p_growers);
    panel_fini(&a->p_vmtypes);
    panel_fini(&a->p_vmcallers);
    panel_fini(&a->p_zones);
    free(a->caches);
    free(a->classes);
    free(a->vmcallers);
    free(a->vmsort);
    free(a->zones);
    a->caches = NULL;
    a->classes = NULL;
    a->vmcallers = NULL;
    a->vmsort = NULL;
    a->zones = NULL;
}

/* --- rows from the view ------------------------------------------------------------------ */

static int update_caches(struct app *a)
{
    const struct slab_info *si;

    a->ncaches = 0;
    if (!a->view || !sampler_valid(a->view, SRC_SLABINFO))
        return 0;
    si = &a->view->slab;
    if (array_reserve((void **)&a->caches, &a->caches_cap, si->n, sizeof(*a->caches)) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < si->n; i++) {
        a->caches[i].cache = i;
        a->caches[i].series = timeline_slab_series(a, i);
        a->caches[i].suspect = suspects_find(&a->sus, "slab", si->caches[i].name, NULL) != NULL;
    }
    a->ncaches = si->n;
    /* the panel breaks ties by the series' ranks (out of memory: by the names) */
    trend_rank_names(&a->tr);
    return 0;
}

static int update_kmalloc(struct app *a)
{
    const struct kmalloc_table *kt;
    size_t n = 0;

    a->nclasses = 0;
    if (!a->view || !sampler_valid(a->view, SRC_SLABINFO))
        return 0;
    kt = &a->view->kmalloc;
    /* kt is sorted by size, then variant: one class per run of equal sizes. */
    for (size_t i = 0; i < kt->n; i++) {
        const struct kmalloc_row *r = &kt->rows[i];
        struct kmalloc_class *k;

        if (n == 0 || a->classes[n - 1].size != r->size) {
            if (array_reserve((void **)&a->classes, &a->classes_cap, n + 1, sizeof(*a->classes)) < 0)
                return -ENOMEM;
            k = &a->classes[n++];
            memset(k, 0, sizeof(*k));
            k->size = r->size;
            timeline_kmalloc_label(r->size, k->label, sizeof(k->label));
        }
        k = &a->classes[n - 1];
        k->bytes[r->variant] = add_sat(k->bytes[r->variant], r->bytes_total);
        k->vobjs[r->variant] = add_sat(k->vobjs[r->variant], r->num_objs);
        k->present |= 1u << r->variant;
        k->total = add_sat(k->total, r->bytes_total);
        k->active = add_sat(k->active, r->active_objs);
        k->objs = add_sat(k->objs, r->num_objs);
        if (r->variant == KMALLOC_NORMAL && r->objsize > k->objsize)
            k->objsize = r->objsize;
    }
    for (size_t i = 0; i < n; i++) {
        a->classes[i].series = trend_find(&a->tr, TK_KMALLOC, a->classes[i].label);
        a->classes[i].suspect = suspects_kmalloc_mask(&a->sus, a->classes[i].size);
    }
    a->nclasses = n;
    return 0;
}

static void update_meminfo(struct app *a)
{
    for (size_t i = 0; i < APP_MEMINFO_ROWS; i++) {
        const char *key = meminfo_key_name(a->meminfo[i].key);

        a->meminfo[i].series = trend_find(&a->tr, TK_MEMINFO, key);
        a->meminfo[i].suspect = suspects_find(&a->sus, "meminfo", "-", key) != NULL;
    }
}

static int cmp_vmrow(const void *x, const void *y)
{
    const struct vmalloc_row *a = *(const struct vmalloc_row *const *)x;
    const struct vmalloc_row *b = *(const struct vmalloc_row *const *)y;
    int c = strcmp(a->caller, b->caller);

    return c ? c : strcmp(a->module, b->module);
}

/* vmallocinfo rows are per (caller, module, type): sum the types of each caller. */
static int update_vmalloc(struct app *a)
{
    const struct vmalloc_info *vi;
    size_t n = 0;

    a->nvmcallers = 0;
    for (size_t i = 0; i < APP_VMTYPE_ROWS; i++) {
        memset(&a->vmtypes[i].sum, 0, sizeof(a->vmtypes[i].sum));
        a->vmtypes[i].series = -1;
        a->vmtypes[i].suspect = false;
    }
    if (!a->view || !sampler_valid(a->view, SRC_VMALLOCINFO))
        return 0;
    vi = &a->view->vmalloc;
    for (size_t t = 0; t < VMALLOC_NTYPES; t++) {
        a->vmtypes[t].sum = vi->types[t];
        a->vmtypes[t].series = trend_find(&a->tr, TK_VMSUM, a->vmtypes[t].name);
    }
    a->vmtypes[APP_VMTYPE_TOTAL].sum = vi->total;
    a->vmtypes[APP_VMTYPE_TOTAL].series = trend_find(&a->tr, TK_VMSUM, "total");
    a->vmtypes[APP_VMTYPE_TOTAL].suspect = suspects_find(&a->sus, "vmalloc", "total", NULL) != NULL;
    a->vmtypes[APP_VMTYPE_UNPURGED].sum = vi->unpurged;
    a->vmtypes[APP_VMTYPE_UNPURGED].series = trend_find(&a->tr, TK_VMSUM, "unpurged");
    if (array_reserve((void **)&a->vmsort, &a->vmsort_cap, vi->n, sizeof(*a->vmsort)) < 0 ||
        array_reserve((void **)&a->vmcallers, &a->vmcallers_cap, vi->n, sizeof(*a->vmcallers)) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < vi->n; i++)
        a->vmsort[i] = &vi->rows[i];
    qsort(a->vmsort, vi->n, sizeof(*a->vmsort), cmp_vmrow);
    for (size_t i = 0; i < vi->n; i++) {
        const struct vmalloc_row *r = a->vmsort[i];
        struct vm_caller_row *v;

        if (n == 0 || cmp_vmrow(&a->vmsort[i - 1], &a->vmsort[i]) != 0) {
            v = &a->vmcallers[n++];
            memset(v, 0, sizeof(*v));
            timeline_vmalloc_name(r, v->name, sizeof(v->name));
            /* growth.h sums a caller over its modules: each module's row shows the verdict */
            v->suspect = suspects_find(&a->sus, "vmalloc", r->caller, NULL) != NULL;
        }
        v = &a->vmcallers[n - 1];
        v->types |= 1u << r->type;
        v->areas = add_sat(v->areas, r->areas);
        v->bytes = add_sat(v->bytes, r->bytes);
        v->pages = add_sat(v->pages, r->pages);
    }
    for (size_t i = 0; i < n; i++)
        a->vmcallers[i].series = trend_find(&a->tr, TK_VMALLOC, a->vmcallers[i].name);
    a->nvmcallers = n;
    return 0;
}

static int update_zones(struct app *a)
{
    const struct buddy_info *bi;

    a->nzones = 0;
    if (!a->view || !sampler_valid(a->view, SRC_BUDDYINFO))
        return 0;
    bi = &a->view->buddy;
    if (array_reserve((void **)&a->zones, &a->zones_cap, bi->n, sizeof(*a->zones)) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < bi->n; i++) {
        a->zones[i].zone = i;
        timeline_zone_name(&bi->zones[i], a->zones[i].name, sizeof(a->zones[i].name));
        a->zones[i].series = trend_find(&a->tr, TK_BUDDY, a->zones[i].name);
    }
    a->nzones = bi->n;
    return 0;
}

/* Insert g into the top growers, largest growth first; the list holds APP_TOP_GROWERS. */
static void grower_offer(struct app *a, int kind, const char *prefix, const char *name, long series,
                         bool suspect)
{
    const struct trend_series *s = trend_series(&a->tr, series);
    int64_t g;
    size_t pos;

    if (!trend_growth(&a->tr, s, &g) || g <= 0)
        return;
    pos = a->ngrowers;
    while (pos > 0 && a->growers[pos - 1].growth < g)
        pos--;
    if (pos >= APP_TOP_GROWERS)
        return;
    if (a->ngrowers < APP_TOP_GROWERS)
        a->ngrowers++;
    memmove(&a->growers[pos + 1], &a->growers[pos],
            (a->ngrowers - 1 - pos) * sizeof(a->growers[0]));
    a->growers[pos].kind = kind;
    snprintf(a->growers[pos].name, sizeof(a->growers[pos].name), "%s%s", prefix, name);
    a->growers[pos].series = series;
    a->growers[pos].growth = g;
    a->growers[pos].suspect = suspect;
}

static void update_growers(struct app *a)
{
    a->ngrowers = 0;
    for (size_t i = 0; i < a->ncaches; i++)
        grower_offer(a, TK_SLAB, "", cache_of(a, i)->name, a->caches[i].series,
                     a->caches[i].suspect);
    for (size_t i = 0; i < a->nclasses; i++)
        grower_offer(a, TK_KMALLOC, "kmalloc ", a->classes[i].label, a->classes[i].series,
                     a->classes[i].suspect != 0);
    for (size_t i = 0; i < a->nvmcallers; i++)
        grower_offer(a, TK_VMALLOC, "vmalloc ", a->vmcallers[i].name, a->vmcallers[i].series,
                     a->vmcallers[i].suspect);
}

/*
 * The rows of a table and its panels are rebuilt from the view only when a screen
 * shows them: every sample marks them all stale, the screen on view (and the one
 * the graph is of) rebuilds its own, another screen its own when it is switched
 * to.  Nothing else reads them (tables_focus and tables_selected_series rebuild
 * first), so this is invisible but for the CPU: at a sample a second, rebuilding
 * and sorting the rows of every screen was a sixth of kmemtop's idle cost.
 */
enum {
    TB_CACHES = 1u << 0,    /* a->caches */
    TB_KMALLOC = 1u << 1,   /* a->classes */
    TB_VMALLOC = 1u << 2,   /* a->vmcallers, a->vmtypes */
    TB_ZONES = 1u << 3,     /* a->zones */
    TB_OVERVIEW = 1u << 4,  /* a->meminfo, a->growers */
    TB_P_CACHES = 1u << 5,  /* the panels of those rows */
    TB_P_KMALLOC = 1u << 6,
    TB_P_VMALLOC = 1u << 7,
    TB_P_ZONES = 1u << 8,
    TB_P_OVERVIEW = 1u << 9,
    TB_ALL = (1u << 10) - 1,
};

/* What screen s shows: its rows and panels (the overview's growers come from three tables). */
static unsigned screen_needs(const struct app *a, enum screen_id s)
{
    switch (s) {
    case SCREEN_OVERVIEW:
        return TB_CACHES | TB_KMALLOC | TB_VMALLOC | TB_OVERVIEW | TB_P_OVERVIEW;
    case SCREEN_KMALLOC:
        return TB_KMALLOC | TB_P_KMALLOC;
    case SCREEN_CACHES:
        return TB_CACHES | TB_P_CACHES;
    case SCREEN_VMALLOC:
        return TB_VMALLOC | TB_P_VMALLOC;
    case SCREEN_BUDDY:
        return TB_ZONES | TB_P_ZONES;
    case SCREEN_GRAPH:
        return a->graph_from != SCREEN_GRAPH ? screen_needs(a, a->graph_from) : 0;
    case SCREEN_N:
        break;
    }
    return 0;
}

/* Rebuild what screen s needs of what is stale.  0, or -ENOMEM (on the status line too). */
static int tables_ensure(struct app *a, enum screen_id s)
{
    unsigned todo = screen_needs(a, s) & a->tables_stale;
    int r = 0;

    if (!todo)
        return 0;
    /* Marked done first: a failure leaves what could be built, and says so once. */
    a->tables_stale &= ~todo;
    if ((todo & TB_CACHES) && update_caches(a) < 0)
        r = -ENOMEM;
    if ((todo & TB_KMALLOC) && update_kmalloc(a) < 0)
        r = -ENOMEM;
    if ((todo & TB_VMALLOC) && update_vmalloc(a) < 0)
        r = -ENOMEM;
    if ((todo & TB_ZONES) && update_zones(a) < 0)
        r = -ENOMEM;
    if (todo & TB_OVERVIEW) {
        if (a->view)
            update_meminfo(a);
        update_growers(a);
    }
    if (((todo & TB_P_CACHES) && panel_refresh(&a->p_caches) < 0) ||
        ((todo & TB_P_KMALLOC) && panel_refresh(&a->p_kmalloc) < 0) ||
        ((todo & TB_P_OVERVIEW) &&
         (panel_refresh(&a->p_meminfo) < 0 || panel_refresh(&a->p_suspects) < 0 ||
          panel_refresh(&a->p_growers) < 0)) ||
        ((todo & TB_P_VMALLOC) &&
         (panel_refresh(&a->p_vmtypes) < 0 || panel_refresh(&a->p_vmcallers) < 0)) ||
        ((todo & TB_P_ZONES) && panel_refresh(&a->p_zones) < 0))
        r = -ENOMEM;
    if (r < 0) {
        snprintf(a->msg, sizeof(a->msg), "out of memory: some rows are missing");
        a->msg_error = true;
    }
    return r;
}

int tables_update(struct app *a)
{
    a->tables_stale = TB_ALL;
    return tables_ensure(a, a->screen);
}

struct panel *tables_focus(struct app *a, enum screen_id s)
{
    tables_ensure(a, s);
    switch (s) {
    case SCREEN_OVERVIEW:
        return &a->p_growers;
    case SCREEN_KMALLOC:
        return &a->p_kmalloc;
    case SCREEN_CACHES:
        return &a->p_caches;
    case SCREEN_VMALLOC:
        return &a->p_vmcallers;
    case SCREEN_BUDDY:
        return &a->p_zones;
    case SCREEN_GRAPH:
    case SCREEN_N:
        break;
    }
    return NULL;
}

bool tables_selected_series(struct app *a, enum screen_id s, int *kind, char *name, size_t n)
{
    struct panel *p = tables_focus(a, s);
    size_t row;

    if (!p || !panel_selected(p, &row))
        return false;
    switch (s) {
    case SCREEN_OVERVIEW:
        *kind = a->growers[row].kind;
        snprintf(name, n, "%s", a->growers[row].name +
                                    (*kind == TK_SLAB ? 0 : strlen(kind_short(*kind)) + 1));
        return true;
    case SCREEN_KMALLOC:
        *kind = TK_KMALLOC;
        snprintf(name, n, "%s", a->classes[row].label);
        return true;
    case SCREEN_CACHES:
        *kind = TK_SLAB;
        snprintf(name, n, "%s", cache_of(a, row)->name);
        return true;
    case SCREEN_VMALLOC:
        *kind = TK_VMALLOC;
        snprintf(name, n, "%s", a->vmcallers[row].name);
        return true;
    case SCREEN_BUDDY:
        *kind = TK_BUDDY;
        snprintf(name, n, "%s", a->zones[row].name);
        return true;
    case SCREEN_GRAPH:
    case SCREEN_N:
        break;
    }
    return false;
}

const char *tables_kind_title(int kind)
{
    switch (kind) {
    case TK_SLAB:
        return "slab cache";
    case TK_KMALLOC:
        return "kmalloc class (all variants)";
    case TK_MEMINFO:
        return "meminfo";
    case TK_VMALLOC:
        return "vmalloc caller";
    case TK_VMSUM:
        return "vmalloc";
    case TK_VMPAGES:
        return "vmalloc caller, real pages";
    case TK_BUDDY:
        return "free memory of zone";
    case TK_BUDDY_BLOCKS:
        return "free blocks of zone/order";
    case TK_BUDDY_UNUSABLE:
        return "unusable index (thousandths) of zone/order";
    default:
        return "?";
    }
}

bool tables_kind_bytes(int kind)
{
    return kind != TK_BUDDY_BLOCKS && kind != TK_BUDDY_UNUSABLE;
}

/* --- drawing ------------------------------------------------------------------------------ */

static int rows_left(int y, int end)
{
    return end < 0 ? -1 : end - y > 0 ? end - y : 0;
}

static bool fits(int y, int end)
{
    return end < 0 || y < end;
}

static int put_line(struct canvas *cv, int y, int end, enum ui_elem e, const char *s)
{
    if (!fits(y, end))
        return 0;
    canvas_put(cv, y, 0, -1, e, s);
    return 1;
}

/* Overview warnings that are not about a whole source (screens.c says those). */
static int overview_warnings(struct app *a, struct canvas *cv, int y, int end)
{
    char line[256];
    int used = 0;
    size_t huge = 0;

    if (!a->view || !sampler_valid(a->view, SRC_SLABINFO))
        return 0;
    for (size_t i = 0; i < a->nclasses; i++) {
        const struct kmalloc_class *k = &a->classes[i];
        if ((k->present & (1u << KMALLOC_NORMAL)) && k->objsize > k->size) {
            snprintf(line, sizeof(line),
                     " slub_debug inflates object sizes: kmalloc-%s objects take %llu bytes "
                     "(red zones, tracking)",
                     k->label, (unsigned long long)k->objsize);
            used += put_line(cv, y + used, end, UI_WARN, line);
            break;
        }
    }
    for (size_t i = 0; i < a->ncaches; i++)
        huge += cache_of(a, i)->num_slabs > HUGE_CACHE_SLABS;
    if (huge) {
        snprintf(line, sizeof(line),
                 " counts approximate for huge caches: %zu with over %u slabs, whose active "
                 "objects the kernel estimates",
                 huge, HUGE_CACHE_SLABS);
        used += put_line(cv, y + used, end, UI_WARN, line);
    }
    return used;
}

/* "10m", or "10m and 1h" when the selected window is judged too. */
static void suspect_windows(const struct suspects *s, char *buf, size_t n)
{
    char w0[16], w1[16] = "";

    suspects_window_name(s->rule.min_window_s, w0, sizeof(w0));
    if (s->win[1].window_s)
        suspects_window_name(s->win[1].window_s, w1, sizeof(w1));
    snprintf(buf, n, "%s%s%s", w0, w1[0] ? " and " : "", w1);
}

/*
 * The leak suspects: a line saying what was judged (or why nothing was),
 * then the suspects, in at most max rows (max < 0: every one).  Returns the
 * rows used.
 */
static int draw_suspects(struct app *a, struct canvas *cv, int y, int end, int max)
{
    const struct suspects *s = &a->sus;
    uint64_t at = 0;
    char line[512], wins[40], size[32], t[64], d[32];
    int h, used;

    if (end >= 0 && max > end - y)
        max = end - y;
    if (max == 0 || !fits(y, end))
        return 0;
    if (!s->judged) {
        snprintf(line, sizeof(line), " leak suspects not judged%s%s", s->err[0] ? ": " : " yet",
                 s->err);
        return put_line(cv, y, end, s->err[0] ? UI_WARN : UI_NORMAL, line);
    }
    suspect_windows(s, wins, sizeof(wins));
    fmt_bytes(size, sizeof(size), s->rule.min_bytes);
    /* While live the verdicts are kept for a while (suspects.h): say when they are from. */
    for (int w = 0; w < SUSPECTS_NWIN; w++)
        if (s->win[w].window_s && s->win[w].end_ns != a->cursor_ns &&
            (!at || s->win[w].end_ns < at))
            at = s->win[w].end_ns;
    t[0] = '\0';
    if (at) {
        fmt_clock(at, d, sizeof(d));
        snprintf(t, sizeof(t), ", judged at %s", d);
    }
    if (s->n == 0) {
        int len = snprintf(line, sizeof(line), " no leak suspects over %s (>= %s, steady%s)", wins,
                           size, t);

        /* A series is judged once its points span 3/4 of the window: why a young history has none */
        for (int w = 0; w < SUSPECTS_NWIN && len > 0 && (size_t)len < sizeof(line); w++) {
            uint64_t need = (uint64_t)(GROWTH_COVERAGE * (double)s->win[w].window_s);
            char win[16], have[32];

            if (s->history_s >= need)
                continue;
            suspects_window_name(s->win[w].window_s, win, sizeof(win));
            fmt_span(need * 1000000000ull, d, sizeof(d));
            fmt_span(s->history_s * 1000000000ull, have, sizeof(have));
            snprintf(line + len, sizeof(line) - (size_t)len,
                     ": a verdict over %s needs %s of history, has %s", win, d, have);
            break;
        }
        return put_line(cv, y, end, UI_NORMAL, line);
    }
    snprintf(line, sizeof(line),
             " %zu leak suspect%s over %s (>= %s, steady%s), marked ! in the tables", s->n,
             s->n == 1 ? "" : "s", wins, size, t);
    used = put_line(cv, y, end, UI_WARN, line);
    /* The table's title and rows; when not all fit, the last line counts the others. */
    h = max < 0 ? -1 : max - used;
    if (h >= 0 && (size_t)h < 1 + a->p_suspects.n)
        h--;
    if (h >= 0 && h < 2)
        return used;
    h = panel_draw(&a->p_suspects, cv, y + used, 0, cv->w, h, false);
    used += h;
    if ((size_t)(h - 1) < a->p_suspects.n) {
        snprintf(line, sizeof(line), " ... and %zu more (a taller terminal shows them all)",
                 a->p_suspects.n - (size_t)(h - 1));
        used += put_line(cv, y + used, end, UI_WARN, line);
    }
    return used;
}

int draw_overview(struct app *a, struct canvas *cv, int y, int end, bool interactive)
{
    int y0 = y, max = -1;

    tables_ensure(a, SCREEN_OVERVIEW);

    y += panel_draw(&a->p_meminfo, cv, y, 0, cv->w, rows_left(y, end), false);
    y += overview_warnings(a, cv, y, end);
    if (!fits(y + 1, end))
        return y - y0;
    y++; /* a blank line between the tables */
    /*
     * The suspects take what the growers (a blank line, the title, the rows) leave, but at
     * least half the rows, and at least their line, the table's title, one suspect and the
     * count of the others.
     */
    if (end >= 0) {
        int left = rows_left(y, end);

        max = left - 1 - (a->p_growers.n ? panel_height(&a->p_growers) : 2);
        if (max < left / 2)
            max = left / 2;
        if (max < 4)
            max = 4;
    }
    y += draw_suspects(a, cv, y, end, max);
    if (!fits(y + 1, end))
        return y - y0;
    y++;
    y += panel_draw(&a->p_growers, cv, y, 0, cv->w, rows_left(y, end), interactive);
    if (a->p_growers.n == 0 && fits(y, end)) {
        canvas_put(cv, y, 1, -1, UI_NORMAL,
                   a->tr.n < 2 ? "(growth shows from the second sample on)"
                   : a->ngrowers ? "(no grower matches the filter)"
                                 : "(nothing grew in the window)");
        y++;
    }
    return y - y0;
}

int draw_kmalloc(struct app *a, struct canvas *cv, int y, int end, bool interactive)
{
    uint64_t v[KMALLOC_NVARIANTS] = { 0 }, total = 0;
    char line[300], b[32];
    int y0 = y;

    tables_ensure(a, SCREEN_KMALLOC);

    if (fits(y, end) && a->nclasses) {
        int len;

        for (size_t i = 0; i < a->nclasses; i++) {
            for (int k = 0; k < KMALLOC_NVARIANTS; k++)
                v[k] = add_sat(v[k], a->classes[i].bytes[k]);
            total = add_sat(total, a->classes[i].total);
        }
        len = snprintf(line, sizeof(line), " %zu size classes, %s:", a->nclasses,
                       fmt_bytes(b, sizeof(b), total));
        for (int k = 0; k < KMALLOC_NVARIANTS && len > 0 && (size_t)len < sizeof(line); k++)
            if (v[k])
                len += snprintf(line + len, sizeof(line) - (size_t)len, "  %s %s",
                                kmalloc_variant_name((enum kmalloc_variant)k),
                                fmt_bytes(b, sizeof(b), v[k]));
        canvas_put(cv, y++, 0, -1, UI_NORMAL, line);
    }
    y += panel_draw(&a->p_kmalloc, cv, y, 0, cv->w, rows_left(y, end), interactive);
    return y - y0;
}

int draw_caches(struct app *a, struct canvas *cv, int y, int end, bool interactive)
{
    uint64_t total = 0, active = 0;
    char line[256], b1[32], b2[32];
    int y0 = y;

    tables_ensure(a, SCREEN_CACHES);

    for (size_t i = 0; i < a->ncaches; i++) {
        const struct slab_cache *c = cache_of(a, i);
        total = add_sat(total, c->bytes_total);
        active = add_sat(active, c->bytes_active);
    }
    if (fits(y, end)) {
        char pct[16], shown[48] = "";

        cell_pct(active, total, pct, sizeof(pct));
        if (a->p_caches.has_filter)
            snprintf(shown, sizeof(shown), "   %zu shown (filtered)", a->p_caches.n);
        snprintf(line, sizeof(line), " %zu caches   %s in slabs   %s in active objects (%s)%s",
                 a->ncaches, fmt_bytes(b1, sizeof(b1), total), fmt_bytes(b2, sizeof(b2), active),
                 pct, shown);
        canvas_put(cv, y++, 0, -1, UI_NORMAL, line);
    }
    y += panel_draw(&a->p_caches, cv, y, 0, cv->w, rows_left(y, end), interactive);
    return y - y0;
}

int draw_vmalloc(struct app *a, struct canvas *cv, int y, int end, bool interactive)
{
    const struct vmalloc_info *vi;
    char line[300], b1[32], b2[32], b3[32];
    int y0 = y, gh;

    tables_ensure(a, SCREEN_VMALLOC);

    if (!a->view || !sampler_valid(a->view, SRC_VMALLOCINFO))
        return 0;
    vi = &a->view->vmalloc;
    if (fits(y, end)) {
        uint64_t ps = a->view->page_size ? a->view->page_size : 4096;

        snprintf(line, sizeof(line),
                 " %llu areas, %s of address space, %s in real pages;  unpurged: %llu areas, "
                 "%s (freed lazily, not a leak)",
                 (unsigned long long)vi->total.areas, fmt_bytes(b1, sizeof(b1), vi->total.bytes),
                 fmt_bytes(b2, sizeof(b2), mul_sat(vi->total.pages, ps)),
                 (unsigned long long)vi->unpurged.areas,
                 fmt_bytes(b3, sizeof(b3), vi->unpurged.bytes));
        canvas_put(cv, y++, 0, -1, UI_NORMAL, line);
    }
    /*
     * The total over time: a 6-row graph (and its title), when that leaves the type
     * table and at least 8 rows for the callers.
     */
    gh = end < 0 || (end - y) - (panel_height(&a->p_vmtypes) + 1) - 8 >= 6 ? 6 : 0;
    if (gh) {
        long s = trend_find(&a->tr, TK_VMSUM, "total");
        canvas_put(cv, y, 0, -1, UI_TITLE, " vmalloc total (address space) over the window");
        canvas_fill(cv, y, 46, -1, UI_TITLE);
        y++;
        y += graph_draw(a, trend_series(&a->tr, s), true, cv, y, 0, cv->w, gh);
    }
    y += panel_draw(&a->p_vmtypes, cv, y, 0, cv->w, rows_left(y, end), false);
    if (fits(y + 1, end))
        y++;
    y += panel_draw(&a->p_vmcallers, cv, y, 0, cv->w, rows_left(y, end), interactive);
    return y - y0;
}

/* The selected zone's free blocks per order: a bar chart, the unusable index and their change. */
static int draw_orders(struct app *a, struct canvas *cv, int y, int end)
{
    const struct buddy_info *bi = &a->view->buddy;
    const struct buddy_zone *z;
    uint64_t ps = a->view->page_size ? a->view->page_size : 4096, maxb = 1;
    size_t row;
    char line[512], name[64], b1[32], b2[32], d1[32], d2[32];
    int y0 = y, barw;

    if (!panel_selected(&a->p_zones, &row) || !fits(y, end))
        return 0;
    z = zone_of(a, row);
    snprintf(line, sizeof(line),
             " %s: free blocks per order (bars: blocks), unusable free space index, "
             "change over the window",
             a->zones[row].name);
    canvas_fill(cv, y, 0, -1, UI_TITLE);
    canvas_put(cv, y++, 0, -1, UI_TITLE, line);
    if (!fits(y, end))
        return y - y0;
    /* 33 columns before the bar, 29 after it. */
    barw = cv->w - 63;
    if (barw < 4)
        barw = 4;
    if (barw > 300)
        barw = 300;
    snprintf(line, sizeof(line), "%5s %6s %9s %8s  %-*s %8s %9s %9s", "ORDER", "BLOCK", "BLOCKS",
             "FREE", barw, "", "UNUSABLE", "dBLOCKS", "dUNUSABLE");
    canvas_put(cv, y++, 0, -1, UI_NORMAL, line);
    for (unsigned o = 0; o < bi->orders; o++)
        maxb = z->free[o] > maxb ? z->free[o] : maxb;
    for (unsigned o = 0; o < bi->orders && fits(y, end); o++) {
        char bar[1024];
        size_t bl = 0;
        long sb, su;
        int64_t gb = 0, gu = 0;
        bool hb, hu;
        int len = (int)((double)z->free[o] / (double)maxb * barw + 0.5);

        if (z->free[o] && len == 0)
            len = 1;
        for (int i = 0; i < len && bl + 4 < sizeof(bar); i++) {
            const char *g = ui_utf8() ? "█" : "#";
            memcpy(bar + bl, g, strlen(g));
            bl += strlen(g);
        }
        bar[bl] = '\0';
        snprintf(name, sizeof(name), "%s/%u", a->zones[row].name, o);
        sb = trend_find(&a->tr, TK_BUDDY_BLOCKS, name);
        su = trend_find(&a->tr, TK_BUDDY_UNUSABLE, name);
        hb = trend_growth(&a->tr, trend_series(&a->tr, sb), &gb);
        hu = trend_growth(&a->tr, trend_series(&a->tr, su), &gu);
        cell_delta(hb, gb, false, d1, sizeof(d1));
        if (!hu)
            snprintf(d2, sizeof(d2), "-");
        else if (gu == 0)
            snprintf(d2, sizeof(d2), "0");
        else
            snprintf(d2, sizeof(d2), "%+.3f", (double)gu / 1000.0);
        snprintf(line, sizeof(line), "%5u %6s %9llu %8s  ", o,
                 fmt_bytes(b1, sizeof(b1), mul_sat(ps, 1ull << o)), (unsigned long long)z->free[o],
                 fmt_bytes(b2, sizeof(b2), mul_sat(mul_sat(ps, 1ull << o), z->free[o])));
        canvas_put(cv, y, 0, -1, UI_NORMAL, line);
        canvas_put(cv, y, (int)strlen(line), barw, UI_GRAPH, bar);
        snprintf(line, sizeof(line), " %8.3f %9s %9s", z->unusable[o] / 1000.0, d1, d2);
        canvas_put(cv, y, 33 + barw, -1, UI_NORMAL, line);
        y++;
    }
    return y - y0;
}

int draw_buddy(struct app *a, struct canvas *cv, int y, int end, bool interactive)
{
    int y0 = y, h = -1;

    tables_ensure(a, SCREEN_BUDDY);

    if (!a->view || !sampler_valid(a->view, SRC_BUDDYINFO))
        return 0;
    /* The zones, then the order chart of the selected one below them: keep rows for the chart. */
    if (end >= 0) {
        h = rows_left(y, end) - (int)a->view->buddy.orders - 3;
        if (h < 3)
            h = 3;
    }
    y += panel_draw(&a->p_zones, cv, y, 0, cv->w, h, interactive);
    if (fits(y + 1, end))
        y++;
    y += draw_orders(a, cv, y, end);
    return y - y0;
}
