/*
 * graph: a full-width time graph of one series over the window.
 *
 * The plot is an area chart: braille cells (2 x 4 dots each) in a UTF-8
 * locale, '#' cells otherwise.  Columns split the time from the oldest point
 * of the window to the newest evenly and show the last value at or before
 * their end, so uneven sampling (a daemon that was down a while, the
 * per-minute tier) is drawn at its true place on the time axis.  The value
 * scale runs from the window's minimum to its maximum: the labels give the
 * numbers, the shape gives the trend.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "screens_int.h"
#include "timeline.h"
#include "util.h"

#define GRAPH_LABEL_W 12
#define GRAPH_MAX_COLS 1024

void fmt_clock(uint64_t wall_ns, char *buf, size_t n)
{
    time_t t = (time_t)(wall_ns / 1000000000u);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, n, "%H:%M:%S", &tm);
}

void fmt_span(uint64_t ns, char *buf, size_t n)
{
    uint64_t s = ns / 1000000000u;

    if (s < 60)
        snprintf(buf, n, "%llus", (unsigned long long)s);
    else if (s < 3600)
        snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, n, "%lluh%02llum", (unsigned long long)(s / 3600),
                 (unsigned long long)(s % 3600 / 60));
    else
        snprintf(buf, n, "%llud%02lluh", (unsigned long long)(s / 86400),
                 (unsigned long long)(s % 86400 / 3600));
}

static void fmt_value(uint64_t v, bool bytes, int kind, char *buf, size_t n)
{
    if (kind == TK_BUDDY_UNUSABLE)
        snprintf(buf, n, "%.3f", v / 1000.0);
    else if (bytes)
        fmt_bytes(buf, n, v);
    else
        snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* Append the UTF-8 of the braille cell with dot bits `mask` (U+2800 + mask). */
static size_t put_braille(char *out, unsigned mask)
{
    unsigned cp = 0x2800 + mask;

    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

int graph_draw(const struct app *a, const struct trend_series *s, bool bytes, struct canvas *cv,
               int y, int x, int w, int h)
{
    const struct trend *tr = &a->tr;
    /* Dot bits of a braille cell: [column][row from the top]. */
    static const unsigned dot[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };
    bool braille = ui_utf8();
    int pw = w - GRAPH_LABEL_W, ph = h - 1, sub_x = braille ? 2 : 1, sub_y = braille ? 4 : 1;
    int ncols, dots;
    uint64_t lo = UINT64_MAX, hi = 0, t0, t1;
    int level[GRAPH_MAX_COLS * 2];
    char label[64], num[32], row[GRAPH_MAX_COLS * 3 + 1];
    int last_row;
    size_t p = 0;

    if (pw < 8 || ph < 2)
        return 0;
    if (pw > GRAPH_MAX_COLS)
        pw = GRAPH_MAX_COLS;
    if (!s || tr->n == 0) {
        canvas_put(cv, y + ph / 2, x + GRAPH_LABEL_W, -1, UI_NORMAL, "(no data in the window)");
        return h;
    }
    ncols = pw * sub_x;
    dots = ph * sub_y;
    trend_range(tr, s, &lo, &hi);
    t0 = trend_time(tr, 0);
    t1 = trend_time(tr, tr->n - 1);
    for (int c = 0; c < ncols; c++) {
        uint64_t end = c + 1 == ncols ? t1
                                      : t0 + (uint64_t)((double)(t1 - t0) * (double)(c + 1) /
                                                        (double)ncols);
        uint64_t v;

        while (p + 1 < tr->n && trend_time(tr, p + 1) <= end)
            p++;
        v = trend_val(tr, s, p);
        /* A flat series sits in the middle; otherwise the minimum keeps one row of dots. */
        if (hi == lo)
            level[c] = dots / 2;
        else
            level[c] = 1 + (int)((double)(v - lo) / (double)(hi - lo) * (dots - 1) + 0.5);
    }
    for (int r = 0; r < ph; r++) {
        size_t bl = 0;

        for (int cx = 0; cx < pw; cx++) {
            if (braille) {
                unsigned mask = 0;
                for (int sx = 0; sx < 2; sx++)
                    for (int sy = 0; sy < 4; sy++) {
                        int from_bottom = dots - (r * 4 + sy); /* 1 = the lowest dot row */
                        if (level[cx * 2 + sx] >= from_bottom)
                            mask |= dot[sx][sy];
                    }
                /* An empty cell is a plain blank: text output trims it, terminals draw it alike. */
                if (mask)
                    bl += put_braille(row + bl, mask);
                else
                    row[bl++] = ' ';
            } else {
                row[bl++] = level[cx] >= dots - r ? '#' : ' ';
            }
        }
        row[bl] = '\0';
        canvas_put(cv, y + r, x + GRAPH_LABEL_W, pw, UI_GRAPH, row);
    }
    /* Labels: max at the top, min at the bottom, last at the height of the last value. */
    fmt_value(hi, bytes, s->kind, num, sizeof(num));
    snprintf(label, sizeof(label), "max %s", num);
    canvas_put(cv, y, x, GRAPH_LABEL_W - 1, UI_NORMAL, label);
    fmt_value(lo, bytes, s->kind, num, sizeof(num));
    snprintf(label, sizeof(label), "min %s", num);
    canvas_put(cv, y + ph - 1, x, GRAPH_LABEL_W - 1, UI_NORMAL, label);
    if (ph >= 3) {
        uint64_t lv = trend_val(tr, s, tr->n - 1);
        last_row = hi == lo ? ph / 2 : (int)((double)(hi - lv) / (double)(hi - lo) * (ph - 1) + 0.5);
        if (last_row < 1)
            last_row = 1;
        if (last_row > ph - 2)
            last_row = ph - 2;
        fmt_value(lv, bytes, s->kind, num, sizeof(num));
        snprintf(label, sizeof(label), "last %s", num);
        canvas_put(cv, y + last_row, x, GRAPH_LABEL_W - 1, UI_LABEL, label);
    }
    /* The time axis: both ends, and the middle when there is room. */
    {
        char l[16], m[16], r[16];
        int ay = y + ph;

        fmt_clock(t0, l, sizeof(l));
        fmt_clock(t0 + (t1 - t0) / 2, m, sizeof(m));
        fmt_clock(t1, r, sizeof(r));
        canvas_put(cv, ay, x, GRAPH_LABEL_W - 1, UI_NORMAL, "time");
        canvas_put(cv, ay, x + GRAPH_LABEL_W, -1, UI_NORMAL, l);
        if (pw >= 40 && t1 > t0)
            canvas_put(cv, ay, x + GRAPH_LABEL_W + pw / 2 - 4, -1, UI_NORMAL, m);
        canvas_put(cv, ay, x + GRAPH_LABEL_W + pw - 8, -1, UI_NORMAL, r);
    }
    return h;
}

int draw_graph(struct app *a, struct canvas *cv, int y, int end)
{
    char name[APP_NAME_MAX + 16], line[512], span[32], b[5][32];
    int kind, y0 = y, h;
    const struct trend_series *s;
    int64_t g = 0;
    double rate = 0;
    bool bytes;

    if (!tables_selected_series(a, a->graph_from, &kind, name, sizeof(name))) {
        kind = TK_MEMINFO;
        snprintf(name, sizeof(name), "Slab");
    }
    bytes = tables_kind_bytes(kind);
    s = trend_series(&a->tr, trend_find(&a->tr, kind, name));
    fmt_span(a->tr.n > 1 ? trend_time(&a->tr, a->tr.n - 1) - trend_time(&a->tr, 0) : 0, span,
             sizeof(span));
    snprintf(line, sizeof(line), " %s %s   window %s: %zu point%s over %s", tables_kind_title(kind),
             name, timeline_window_name(a->window_idx), a->tr.n, a->tr.n == 1 ? "" : "s", span);
    canvas_fill(cv, y, 0, -1, UI_TITLE);
    canvas_put(cv, y++, 0, -1, UI_TITLE, line);
    if (end >= 0 && y >= end)
        return y - y0;
    if (s && a->tr.n) {
        uint64_t lo = 0, hi = 0, last = trend_val(&a->tr, s, a->tr.n - 1);
        bool hg = trend_growth(&a->tr, s, &g), hr = trend_rate(&a->tr, s, &rate);

        trend_range(&a->tr, s, &lo, &hi);
        fmt_value(last, bytes, kind, b[0], sizeof(b[0]));
        fmt_value(lo, bytes, kind, b[1], sizeof(b[1]));
        fmt_value(hi, bytes, kind, b[2], sizeof(b[2]));
        cell_delta(hg, g, bytes, b[3], sizeof(b[3]));
        cell_delta(hr, (int64_t)rate, bytes, b[4], sizeof(b[4]));
        snprintf(line, sizeof(line), " last %s   min %s   max %s   growth %s (%s/min)", b[0], b[1],
                 b[2], b[3], b[4]);
        canvas_put(cv, y, 0, -1, UI_NORMAL, line);
    }
    y++;
    h = end < 0 ? 20 : end - y;
    if (h > 2)
        y += graph_draw(a, s, bytes, cv, y, 0, cv->w, h);
    return y - y0;
}
