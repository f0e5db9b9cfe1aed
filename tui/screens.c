#include "screens.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "screens_int.h"
#include "timeline.h"
#include "util.h"

static const char *const screen_names[SCREEN_N] = {
    [SCREEN_OVERVIEW] = "overview", [SCREEN_KMALLOC] = "kmalloc", [SCREEN_CACHES] = "caches",
    [SCREEN_VMALLOC] = "vmalloc",   [SCREEN_BUDDY] = "buddy",     [SCREEN_GRAPH] = "graph",
};

/* As the title bar shows them. */
static const char *const screen_titles[SCREEN_N] = {
    [SCREEN_OVERVIEW] = "Overview", [SCREEN_KMALLOC] = "kmalloc", [SCREEN_CACHES] = "Caches",
    [SCREEN_VMALLOC] = "vmalloc",   [SCREEN_BUDDY] = "Buddy",     [SCREEN_GRAPH] = "Graph",
};

const char *screen_name(enum screen_id s)
{
    return (unsigned)s < SCREEN_N ? screen_names[s] : "?";
}

int screen_parse(const char *name)
{
    for (int i = 0; i < SCREEN_N; i++)
        if (strcmp(name, screen_names[i]) == 0)
            return i;
    return -1;
}

unsigned screens_sources(enum screen_id s)
{
    switch (s) {
    case SCREEN_OVERVIEW:
        return SRC_BIT(SRC_MEMINFO) | SRC_BIT(SRC_SLABINFO);
    case SCREEN_KMALLOC:
    case SCREEN_CACHES:
        return SRC_BIT(SRC_SLABINFO);
    case SCREEN_VMALLOC:
        return SRC_BIT(SRC_VMALLOCINFO);
    case SCREEN_BUDDY:
        return SRC_BIT(SRC_BUDDYINFO);
    case SCREEN_GRAPH:
    case SCREEN_N:
        break;
    }
    return 0;
}

void screens_init(struct app *a)
{
    tables_init(a);
}

void screens_fini(struct app *a)
{
    tables_fini(a);
}

int screens_update(struct app *a)
{
    /* First the leak suspects (judged only when due): the rows carry their marks. */
    suspects_update(&a->sus, source_history(&a->src), a->src.rd_gen, a->view ? a->cursor_ns : 0,
                    a->window_ns / 1000000000u, a->live);
    return tables_update(a);
}

struct panel *screens_focus(struct app *a)
{
    return tables_focus(a, a->screen == SCREEN_GRAPH ? a->graph_from : a->screen);
}

void screens_open_graph(struct app *a)
{
    if (a->screen == SCREEN_GRAPH)
        return;
    a->graph_from = a->screen;
    a->screen = SCREEN_GRAPH;
}

void screens_close_graph(struct app *a)
{
    if (a->screen == SCREEN_GRAPH)
        a->screen = a->graph_from == SCREEN_GRAPH ? SCREEN_OVERVIEW : a->graph_from;
}

/* --- drawing ---------------------------------------------------------------------- */

static bool fits(int y, int end)
{
    return end < 0 || y < end;
}

void screens_source_problem(const struct app *a, enum src_id s, char *buf, size_t n)
{
    const struct sampler *live = source_live(&a->src);

    if (live && a->view == live && live->src[s].errmsg[0] && !sampler_valid(live, s))
        snprintf(buf, n, "%s", live->src[s].errmsg);
    else if (!(a->cursor_err & SRC_BIT(s)) && (!a->view || !sampler_valid(a->view, s)))
        snprintf(buf, n, "no sample of it yet");
    else if (a->src.kind == SOURCE_DAEMON)
        snprintf(buf, n, "the daemon could not read it for this record");
    else
        snprintf(buf, n, "not readable in this record");
}

/* One warning line per unreadable source the screen shows.  Returns the rows used. */
static int draw_warnings(struct app *a, struct canvas *cv, int y, int end)
{
    enum screen_id scr = a->screen == SCREEN_GRAPH ? a->graph_from : a->screen;
    unsigned need = screens_sources(scr);
    int used = 0;

    if (!a->view)
        return 0;
    for (int s = 0; s < SRC_N; s++) {
        char line[600], why[500];

        if (!(need & SRC_BIT(s)) ||
            (sampler_valid(a->view, (enum src_id)s) && !(a->cursor_err & SRC_BIT(s))))
            continue;
        if (!fits(y + used, end))
            break;
        screens_source_problem(a, (enum src_id)s, why, sizeof(why));
        snprintf(line, sizeof(line), " %s unreadable: %s", src_name((enum src_id)s), why);
        canvas_put(cv, y + used, 0, -1, UI_WARN, line);
        used++;
    }
    return used;
}

/* After the keys: what the tables' marks mean. */
static const char *const help_legend[] = {
    "",
    " In the tables",
    "   !          A leak suspect: steady growth over the suspect window (the Overview lists them)",
};

static int draw_help(struct app *a, struct canvas *cv, int y, int end)
{
    size_t nkeys;
    const struct key_binding *kt = keys_table(&nkeys);
    int nk = (int)nkeys + 2, total = nk + (int)ARRAY_SIZE(help_legend);
    int rows = end < 0 ? total : end - y, y0 = y;
    char line[512];

    if (rows <= 0)
        return 0;
    if (a->help_top > total - rows)
        a->help_top = total - rows > 0 ? total - rows : 0;
    for (int i = a->help_top; i < total && y - y0 < rows; i++, y++) {
        if (i == 0) {
            snprintf(line, sizeof(line), " kmemtop %s keys  (Esc or q closes; Up/Down scroll)",
                     KMW_VERSION);
            canvas_fill(cv, y, 0, -1, UI_TITLE);
            canvas_put(cv, y, 0, -1, UI_TITLE, line);
        } else if (i >= nk) {
            canvas_put(cv, y, 0, -1, UI_NORMAL, help_legend[i - nk]);
        } else if (i > 1) {
            const struct key_binding *k = &kt[i - 2];
            snprintf(line, sizeof(line), "   %-10s %s", k->name, k->desc);
            canvas_put(cv, y, 0, -1, UI_NORMAL, line);
        }
    }
    return y - y0;
}

static void draw_title(struct app *a, struct canvas *cv)
{
    char line[256], tbuf[32];
    int x;

    canvas_fill(cv, 0, 0, -1, UI_HEADER);
    x = canvas_put(cv, 0, 0, -1, UI_HEADER, " kmemtop " KMW_VERSION " ");
    for (int s = 0; s < SCREEN_N; s++) {
        snprintf(line, sizeof(line), s == (int)a->screen ? "[%d %s]" : " %d %s ", s + 1,
                 screen_titles[s]);
        x += canvas_put(cv, 0, x, -1, UI_HEADER, line);
    }
    /* The time of the displayed record: the recording's own time in a replay. */
    if (a->cursor_ns) {
        fmt_clock(a->cursor_ns, tbuf, sizeof(tbuf));
        strcat(tbuf, " ");
        if (cv->w - (int)strlen(tbuf) > x)
            canvas_put(cv, 0, cv->w - (int)strlen(tbuf), -1, UI_HEADER, tbuf);
    }
}

/* Append to a string buffer, truncating (a path can be longer than the line). */
static void appendf(char *buf, size_t size, const char *fmt, ...) KMW_PRINTF(3, 4);
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strnlen(buf, size);
    va_list ap;

    if (len + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

static void draw_status(struct app *a, struct canvas *cv, int y)
{
    struct panel *p = screens_focus(a);
    char left[1024] = "", right[300], where[600], t[32], d[32];
    int x, rw;

    canvas_fill(cv, y, 0, -1, UI_STATUS);
    if (a->prompt == PROMPT_SEARCH) {
        appendf(left, sizeof(left), " Search: %s_", a->prompt_buf);
    } else if (a->prompt == PROMPT_FILTER) {
        appendf(left, sizeof(left), " Filter (regex, empty shows all): %s_", a->prompt_buf);
    } else if (a->prompt == PROMPT_JUMP) {
        appendf(left, sizeof(left), " Jump to (HH:MM[:SS] or -DURATION like -10m): %s_",
                a->prompt_buf);
    } else {
        source_status(&a->src, where, sizeof(where));
        appendf(left, sizeof(left), " %s", where);
        if (a->src.kind == SOURCE_DIRECT)
            appendf(left, sizeof(left), " | every %gs", a->src.interval_ms / 1000.0);
        if (p)
            appendf(left, sizeof(left), " | sort %s%s", panel_sort_title(p),
                    p->invert ? " (inverted)" : "");
        appendf(left, sizeof(left), " | window %s", timeline_window_name(a->window_idx));
        if (p && p->has_filter)
            appendf(left, sizeof(left), " | filter %s", p->filter_src);
        if (a->cursor_ns && !a->live) {
            fmt_clock(a->cursor_ns, t, sizeof(t));
            if (a->newest_ns > a->cursor_ns) {
                fmt_span(a->newest_ns - a->cursor_ns, d, sizeof(d));
                appendf(left, sizeof(left), " | at %s (-%s)", t, d);
            } else {
                appendf(left, sizeof(left), " | at %s (newest)", t);
            }
        }
        if (a->tr.has_mark) {
            fmt_clock(a->tr.mark_wall, t, sizeof(t));
            appendf(left, sizeof(left), " | mark %s", t);
        }
        if (a->paused)
            appendf(left, sizeof(left), " | PAUSED");
    }
    x = canvas_put(cv, y, 0, -1, UI_STATUS, left);
    if (a->msg[0])
        snprintf(right, sizeof(right), " %s ", a->msg);
    else
        snprintf(right, sizeof(right), "%s", a->prompt ? " Enter, Esc " : " ? help  q quit ");
    rw = ui_text_width(right);
    /* A message wins over the end of the left part; the key hint only shows where it fits. */
    if (a->msg[0] || rw <= cv->w - x)
        canvas_put(cv, y, cv->w - rw > 0 ? cv->w - rw : 0, -1, a->msg_error ? UI_WARN : UI_STATUS,
                   right);
}

static void put_centered(struct canvas *cv, int y, enum ui_elem e, const char *s)
{
    int x = (cv->w - ui_text_width(s)) / 2;

    canvas_put(cv, y, x > 0 ? x : 0, -1, e, s);
}

static void draw_too_small(struct canvas *cv)
{
    char line[64];

    snprintf(line, sizeof(line), "terminal too small: %dx%d", cv->w, cv->h);
    put_centered(cv, cv->h / 2 - 1, UI_WARN, line);
    snprintf(line, sizeof(line), "kmemtop needs %dx%d", UI_MIN_COLS, UI_MIN_ROWS);
    put_centered(cv, cv->h / 2, UI_NORMAL, line);
}

static int draw_nothing_yet(struct app *a, struct canvas *cv, int y, int end)
{
    char line[600];

    if (!fits(y + 1, end))
        return 0;
    if (a->src.kind == SOURCE_DAEMON && !source_up(&a->src) && !source_history(&a->src))
        snprintf(line, sizeof(line), " (waiting for the daemon)");
    else
        snprintf(line, sizeof(line), " (no sample yet)");
    canvas_put(cv, y + 1, 0, -1, UI_NORMAL, line);
    return 2;
}

void screens_draw(struct app *a, struct canvas *cv, bool interactive)
{
    int end = cv->unlimited ? -1 : cv->h - 1; /* the body ends before the status line */
    int y = 1;

    canvas_clear(cv);
    if (!cv->unlimited && (cv->w < UI_MIN_COLS || cv->h < UI_MIN_ROWS)) {
        draw_too_small(cv);
        return;
    }
    draw_title(a, cv);
    if (a->help && interactive) {
        y += draw_help(a, cv, y, end);
    } else if (!a->view) {
        y += draw_nothing_yet(a, cv, y, end);
    } else {
        y += draw_warnings(a, cv, y, end);
        switch (a->screen) {
        case SCREEN_OVERVIEW:
            y += draw_overview(a, cv, y, end, interactive);
            break;
        case SCREEN_KMALLOC:
            y += draw_kmalloc(a, cv, y, end, interactive);
            break;
        case SCREEN_CACHES:
            y += draw_caches(a, cv, y, end, interactive);
            break;
        case SCREEN_VMALLOC:
            y += draw_vmalloc(a, cv, y, end, interactive);
            break;
        case SCREEN_BUDDY:
            y += draw_buddy(a, cv, y, end, interactive);
            break;
        case SCREEN_GRAPH:
        case SCREEN_N:
            y += draw_graph(a, cv, y, end);
            break;
        }
    }
    draw_status(a, cv, cv->unlimited ? y : cv->h - 1);
}
