#include "panel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void panel_init(struct panel *p, const struct panel_column *cols, size_t ncols,
                const struct panel_ops *ops, const void *ctx, size_t sort_col)
{
    memset(p, 0, sizeof(*p));
    p->cols = cols;
    p->ncols = ncols < PANEL_MAX_COLS ? ncols : PANEL_MAX_COLS;
    p->ops = ops;
    p->ctx = ctx;
    p->sort_col = sort_col < p->ncols ? sort_col : 0;
}

static void memo_free_cells(struct panel *p)
{
    free(p->memo_cells);
    free(p->memo_elems);
    p->memo_cells = NULL;
    p->memo_elems = NULL;
}

void panel_fini(struct panel *p)
{
    if (p->has_filter)
        regfree(&p->filter);
    free(p->order);
    p->order = NULL;
    p->n = p->cap = 0;
    memo_free_cells(p);
    free(p->memo);
    p->memo = NULL;
    p->memo_rows = 0;
}

/* Forget the rows kept: the next draw builds them all. */
static void memo_forget(struct panel *p)
{
    for (size_t r = 0; r < p->memo_rows; r++)
        p->memo[r].len = 0;
}

/*
 * Ready the memo for `rows` rows drawn at (y, x), w wide: what it holds of
 * another place is forgotten.  false when there is no memory for it (the
 * rows are then all built).
 */
static bool panel_memo_at(struct panel *p, int y, int x, int w, int rows, bool show_sel)
{
    size_t n = rows > 0 ? (size_t)rows : 0;

    if (!p->ops->row_key || w <= 0 || n == 0)
        return false;
    /* another place: new cells (below), which forgets the rows */
    if (p->memo_y != y || p->memo_x != x || p->memo_w != w || p->memo_sel != show_sel) {
        memo_free_cells(p);
        p->memo_y = y;
        p->memo_x = x;
        p->memo_w = w;
        p->memo_sel = show_sel;
    }
    if (n > p->memo_rows || !p->memo_cells) {
        size_t cap = n > p->memo_rows ? n : p->memo_rows;
        struct panel_memo_row *m = realloc(p->memo, cap * sizeof(*m));

        if (!m)
            return false;
        p->memo = m;
        for (size_t r = p->memo_rows; r < cap; r++)
            p->memo[r].len = 0;
        p->memo_rows = cap;
        memo_free_cells(p);
        p->memo_cells = malloc(cap * (size_t)w * sizeof(*p->memo_cells));
        p->memo_elems = malloc(cap * (size_t)w);
        memo_forget(p);
        if (!p->memo_cells || !p->memo_elems) {
            memo_free_cells(p);
            return false;
        }
    }
    return true;
}

static int panel_cmp(const void *a, const void *b, void *arg)
{
    const struct panel *p = arg;
    size_t ra = *(const size_t *)a, rb = *(const size_t *)b;
    int c = p->ops->compare(p->ctx, ra, rb, p->cols[p->sort_col].sort_key);

    if (c)
        return p->invert ? -c : c;
    /* Equal keys: by name, whatever the direction, so the order is stable across samples. */
    if (p->ops->name_cmp)
        return p->ops->name_cmp(p->ctx, ra, rb);
    return strcmp(p->ops->name(p->ctx, ra), p->ops->name(p->ctx, rb));
}

static void panel_remember_sel(struct panel *p)
{
    if (p->n == 0)
        return;
    snprintf(p->sel_name, sizeof(p->sel_name), "%s", p->ops->name(p->ctx, p->order[p->sel]));
}

/* Is order strictly increasing?  Then it is the one order qsort_r would give. */
static bool panel_in_order(struct panel *p)
{
    for (size_t i = 1; i < p->n; i++)
        if (panel_cmp(&p->order[i - 1], &p->order[i], p) >= 0)
            return false;
    return true;
}

/* After a sort: the cursor back on the remembered name. */
static void panel_reselect(struct panel *p)
{
    if (p->sel_name[0]) {
        for (size_t i = 0; i < p->n; i++) {
            if (strcmp(p->ops->name(p->ctx, p->order[i]), p->sel_name) == 0) {
                p->sel = i;
                return;
            }
        }
    }
    /* The row is gone (destroyed or filtered out): stay at the same height on screen. */
    if (p->sel >= p->n)
        p->sel = p->n - 1;
    panel_remember_sel(p);
}

/* Sort the visible rows and put the cursor back on the remembered name. */
static void panel_sort(struct panel *p)
{
    if (p->n == 0) {
        p->sel = p->top = 0;
        return;
    }
    qsort_r(p->order, p->n, sizeof(*p->order), panel_cmp, p);
    panel_reselect(p);
}

int panel_refresh(struct panel *p)
{
    size_t count = p->ops->count(p->ctx);

    /*
     * New figures seldom reorder the rows (a refresh comes with every
     * sample): when the last order of all rows is still in order, it stays,
     * for one comparison per row instead of a sort.
     */
    if (!p->has_filter && p->all_rows && p->n == count && count && panel_in_order(p)) {
        panel_reselect(p);
        return 0;
    }
    if (count > p->cap) {
        size_t *order = realloc(p->order, count * sizeof(*order));
        if (!order)
            return -ENOMEM;
        p->order = order;
        p->cap = count;
    }
    p->n = 0;
    for (size_t i = 0; i < count; i++) {
        if (p->has_filter && regexec(&p->filter, p->ops->name(p->ctx, i), 0, NULL, 0) != 0)
            continue;
        p->order[p->n++] = i;
    }
    p->all_rows = !p->has_filter;
    panel_sort(p);
    return 0;
}

void panel_move(struct panel *p, long delta)
{
    long sel = (long)p->sel + delta;

    if (p->n == 0)
        return;
    if (sel < 0)
        sel = 0;
    if (sel >= (long)p->n)
        sel = (long)p->n - 1;
    p->sel = (size_t)sel;
    panel_remember_sel(p);
}

void panel_page(struct panel *p, int dir)
{
    long step = p->page > 1 ? p->page - 1 : 1;

    /* Move the view with the cursor, like a pager, so a page really turns. */
    if (dir > 0)
        p->top += (size_t)step;
    else
        p->top = p->top > (size_t)step ? p->top - (size_t)step : 0;
    panel_move(p, dir > 0 ? step : -step);
}

void panel_home(struct panel *p)
{
    panel_move(p, -(long)p->n);
}

void panel_end(struct panel *p)
{
    panel_move(p, (long)p->n);
}

void panel_sort_step(struct panel *p, int dir)
{
    size_t c = p->sort_col;

    for (size_t i = 0; i < p->ncols; i++) {
        c = (c + p->ncols + (size_t)(dir > 0 ? 1 : -1)) % p->ncols;
        if (p->cols[c].sort_key >= 0) {
            p->sort_col = c;
            break;
        }
    }
    panel_sort(p);
}

void panel_sort_invert(struct panel *p)
{
    p->invert = !p->invert;
    panel_sort(p);
}

int panel_set_filter(struct panel *p, const char *re, char *err, size_t n)
{
    regex_t nre;
    int r;

    if (!*re) {
        if (p->has_filter)
            regfree(&p->filter);
        p->has_filter = false;
        p->filter_src[0] = '\0';
        return panel_refresh(p) < 0 ? -1 : 0;
    }
    if (strlen(re) >= sizeof(p->filter_src)) {
        snprintf(err, n, "regex too long (at most %zu characters)", sizeof(p->filter_src) - 1);
        return -1;
    }
    r = regcomp(&nre, re, REG_EXTENDED | REG_NOSUB);
    if (r) {
        regerror(r, &nre, err, n);
        regfree(&nre);
        return -1;
    }
    if (p->has_filter)
        regfree(&p->filter);
    p->filter = nre;
    p->has_filter = true;
    snprintf(p->filter_src, sizeof(p->filter_src), "%s", re);
    return panel_refresh(p) < 0 ? -1 : 0;
}

bool panel_search(struct panel *p, const char *s, bool next)
{
    for (size_t i = next ? 1 : 0; i <= p->n && p->n; i++) {
        size_t k = (p->sel + i) % p->n;
        if (strstr(p->ops->name(p->ctx, p->order[k]), s)) {
            p->sel = k;
            panel_remember_sel(p);
            return true;
        }
    }
    return false;
}

bool panel_selected(const struct panel *p, size_t *row)
{
    if (p->n == 0)
        return false;
    *row = p->order[p->sel];
    return true;
}

const char *panel_sort_title(const struct panel *p)
{
    return p->cols[p->sort_col].title;
}

int panel_height(const struct panel *p)
{
    return 1 + (int)p->n;
}

/* Where each column starts and how wide it is, for a panel w columns wide. */
static void panel_layout(const struct panel *p, int w, int *xs, int *ws)
{
    int fixed = 0;

    for (size_t c = 0; c < p->ncols; c++)
        fixed += p->cols[c].width + (c ? 1 : 0);
    for (size_t c = 0, x = 0; c < p->ncols; c++) {
        int cw = p->cols[c].width;

        if (cw == 0)
            cw = w - fixed > 0 ? w - fixed : 0;
        xs[c] = (int)x;
        ws[c] = cw;
        x += (size_t)cw + 1;
    }
}

static void panel_put_cell(struct canvas *cv, int y, int x, int cw, enum panel_align align,
                           enum ui_elem e, const char *text)
{
    /* only a right-aligned text needs its width (a sparkline is hundreds of bytes) */
    int tw = align == PANEL_RIGHT ? ui_text_width(text) : cw;
    int off = tw < cw ? cw - tw : 0;

    if (cw > 0)
        canvas_put(cv, y, x + off, cw - off, e, text);
}

/* The cells of one row, those drawn every frame or the others. */
static void panel_draw_cells(const struct panel *p, struct canvas *cv, int y, int x, int w,
                             const int *xs, const int *ws, size_t row, bool selected,
                             bool every_frame)
{
    char buf[1024];

    for (size_t c = 0; c < p->ncols && xs[c] < w; c++) {
        int cw = xs[c] + ws[c] > w ? w - xs[c] : ws[c];
        enum ui_elem e;

        if (p->cols[c].every_frame != every_frame)
            continue;
        buf[0] = '\0';
        e = p->ops->cell(p->ctx, row, c, cw, buf, sizeof(buf));
        panel_put_cell(cv, y, x + xs[c], cw, p->cols[c].align, selected ? UI_SELECTED : e, buf);
    }
}

int panel_draw(struct panel *p, struct canvas *cv, int y, int x, int w, int h, bool show_sel)
{
    int xs[PANEL_MAX_COLS], ws[PANEL_MAX_COLS];
    size_t ncols = p->ncols;
    struct panel_key key;
    bool memo, whole;
    int rows;

    if (h == 0 || w <= 0)
        return 0;
    panel_layout(p, w, xs, ws);
    canvas_fill(cv, y, x, w, UI_TITLE);
    for (size_t c = 0; c < ncols && xs[c] < w; c++) {
        int cw = xs[c] + ws[c] > w ? w - xs[c] : ws[c];
        panel_put_cell(cv, y, x + xs[c], cw, p->cols[c].align,
                       c == p->sort_col ? UI_SORTED : UI_TITLE, p->cols[c].title);
    }
    rows = h < 0 ? (int)p->n : h - 1;
    p->page = rows;
    if (h < 0 || p->n <= (size_t)rows) {
        p->top = 0;
    } else {
        if (p->top > p->n - (size_t)rows)
            p->top = p->n - (size_t)rows;
        if (p->sel < p->top)
            p->top = p->sel;
        if (rows > 0 && p->sel >= p->top + (size_t)rows)
            p->top = p->sel - (size_t)rows + 1;
    }
    memo = panel_memo_at(p, y, x, w, rows, show_sel);
    p->kept = p->kept_whole = 0;
    for (int r = 0; r < rows && p->top + (size_t)r < p->n; r++) {
        size_t i = p->top + (size_t)r;
        size_t row = p->order[i];
        bool selected = show_sel && i == p->sel;
        int ry = y + 1 + r;
        struct panel_memo_row *m = memo ? &p->memo[r] : NULL;
        char (*mcells)[4] = memo ? p->memo_cells + (size_t)r * (size_t)w : NULL;
        unsigned char *melems = memo ? p->memo_elems + (size_t)r * (size_t)w : NULL;

        key.len = 0;
        key.over = false;
        key.all = false;
        if (m && p->ops->row_key(p->ctx, row, &key) && key.len)
            /* a row kept whole and one kept but for the every_frame cells are different rows */
            panel_key_put(&key, &key.all, sizeof(key.all));
        else
            key.len = 0;
        if (key.over)
            key.len = 0;
        whole = key.len && key.all;
        if (m && key.len && m->len == key.len && m->selected == selected &&
            memcmp(m->key, key.b, key.len) == 0) {
            canvas_row_set(cv, ry, x, w, (const char (*)[4])mcells, melems);
            p->kept++;
            p->kept_whole += whole;
        } else {
            if (selected)
                canvas_fill(cv, ry, x, w, UI_SELECTED);
            panel_draw_cells(p, cv, ry, x, w, xs, ws, row, selected, false);
            /* kept with the every_frame cells when the key covers them, else blank there */
            if (whole)
                panel_draw_cells(p, cv, ry, x, w, xs, ws, row, selected, true);
            if (m)
                m->len = 0;
            if (m && key.len && canvas_row_get(cv, ry, x, w, mcells, melems) == w) {
                m->len = key.len;
                m->selected = selected;
                memcpy(m->key, key.b, key.len);
            }
        }
        if (!whole)
            panel_draw_cells(p, cv, ry, x, w, xs, ws, row, selected, true);
    }
    return 1 + (rows < (int)p->n ? rows : (int)p->n);
}
