/*
 * panel: a scrollable table of named rows (slab caches, kmalloc size classes).
 *
 * The columns are data (struct panel_column); the rows belong to the owner,
 * which answers through struct panel_ops: how many rows, each row's name,
 * how two rows compare on a sort key, and a cell's text.  The panel keeps the
 * view: the filtered and sorted order, the selection, the scroll position,
 * the sort column and direction, and the filter regex.
 *
 * The selection is a row *name*, not a position.  panel_refresh(), called
 * when a new sample has replaced the rows, re-filters and re-sorts and then
 * puts the cursor back on the same name.  Navigation never re-sorts, so rows
 * do not move under the cursor while the user is moving it; they move only
 * when new data arrives (or when the user asks for another order or filter).
 */
#ifndef KMW_TUI_PANEL_H
#define KMW_TUI_PANEL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ui.h"

#define PANEL_NAME_MAX 128
#define PANEL_FILTER_MAX 128
#define PANEL_MAX_COLS 16   /* columns beyond this are not shown */

enum panel_align { PANEL_LEFT, PANEL_RIGHT };

struct panel_column {
    const char *title;
    int width;              /* columns; 0 = what the fixed columns leave (one per table, last) */
    enum panel_align align;
    int sort_key;           /* handed to ops->compare; -1 = cannot sort by this column */
    /*
     * Not covered by the row key (panel_ops.row_key): the cell is drawn every
     * frame, also on a row whose other cells are kept (a sparkline shifts as
     * the window fills while the figures beside it stay put).
     */
    bool every_frame;
};

/*
 * A row's key: bytes that decide everything the row's cells show, but for
 * the every_frame columns.  A row whose key is the one it had at the same
 * place in the last draw is copied from that draw instead of being built
 * again: on an idle kernel nearly every row of every frame.  Filled with
 * panel_key_put(); a key that does not fit is no key (the row is built).
 * `all`: the key decides the every_frame columns too (a series flat over a
 * full window draws the same sparkline every frame): a kept row is copied
 * whole.
 */
#define PANEL_KEY_MAX 256
struct panel_key {
    size_t len;
    bool over;
    bool all;
    unsigned char b[PANEL_KEY_MAX];
};

static inline void panel_key_put(struct panel_key *k, const void *p, size_t n)
{
    if (k->over || n > sizeof(k->b) - k->len) {
        k->over = true;
        return;
    }
    memcpy(k->b + k->len, p, n);
    k->len += n;
}

static inline void panel_key_u64(struct panel_key *k, uint64_t v)
{
    panel_key_put(k, &v, sizeof(v));
}

/* The string and its end: "ab" then "c" is not "a" then "bc". */
static inline void panel_key_str(struct panel_key *k, const char *s)
{
    panel_key_put(k, s, strlen(s) + 1);
}

/* What the last draw built of its rows (panel_draw). */
struct panel_memo_row {
    size_t len;             /* of key; 0: nothing kept */
    bool selected;
    unsigned char key[PANEL_KEY_MAX];
};

struct panel_ops {
    size_t (*count)(const void *ctx);
    const char *(*name)(const void *ctx, size_t row);
    /*
     * < 0 when row a comes before row b in the key's natural order (numbers
     * largest first, names A-Z).  Ties are broken by name here, not there.
     */
    int (*compare)(const void *ctx, size_t a, size_t b, int sort_key);
    /* Write the text of (row, column) for a cell `width` wide; returns its element. */
    enum ui_elem (*cell)(const void *ctx, size_t row, size_t col, int width, char *buf, size_t n);
    /*
     * Optional (NULL: every row is built every draw).  Fill the row's key;
     * false when there is none, as for a row whose figures move each frame.
     */
    bool (*row_key)(const void *ctx, size_t row, struct panel_key *k);
    /*
     * Optional (NULL: strcmp of the names).  The order of two rows' names,
     * for ties: a table of hundreds of rows that mostly tie (small caches of
     * equal memory) checks its order every sample, and strcmp of their cold
     * names was 3 % of an idle kmemtop.
     */
    int (*name_cmp)(const void *ctx, size_t a, size_t b);
};

struct panel {
    const struct panel_column *cols;
    size_t ncols;
    const struct panel_ops *ops;
    const void *ctx;
    size_t *order;          /* visible rows (owner's indices), filtered and sorted */
    size_t n;
    size_t cap;
    bool all_rows;          /* order holds every row (no filter at the last refresh) */
    size_t sel;             /* index into order */
    size_t top;             /* first visible index into order */
    char sel_name[PANEL_NAME_MAX]; /* the selected row's name; "" before the first refresh */
    size_t sort_col;
    bool invert;
    bool has_filter;
    regex_t filter;
    char filter_src[PANEL_FILTER_MAX];
    int page;               /* data rows the last draw showed (PgUp/PgDn step) */
    /*
     * The rows the last draw built, by place on screen: their keys, and
     * their cells as drawn but for the every_frame columns (blank there).
     * Valid for the place (memo_y, memo_x, memo_w, memo_sel) only.
     */
    struct panel_memo_row *memo;
    char (*memo_cells)[4];
    unsigned char *memo_elems;
    size_t memo_rows;
    int memo_y, memo_x, memo_w;
    bool memo_sel;
    int kept;               /* rows the last draw copied (tests, benchmarks) */
    int kept_whole;         /* ... of them copied with their every_frame cells (key.all) */
};

void panel_init(struct panel *p, const struct panel_column *cols, size_t ncols,
                const struct panel_ops *ops, const void *ctx, size_t sort_col);
void panel_fini(struct panel *p);

/* The owner's rows changed: re-filter, re-sort, keep the cursor on its row.  0 or -ENOMEM. */
int panel_refresh(struct panel *p);

/* Navigation: never re-sorts. */
void panel_move(struct panel *p, long delta);
void panel_page(struct panel *p, int dir);
void panel_home(struct panel *p);
void panel_end(struct panel *p);

/* Sort by the next (dir 1) or previous (dir -1) sortable column; re-sorts now. */
void panel_sort_step(struct panel *p, int dir);
void panel_sort_invert(struct panel *p);

/*
 * Show only rows whose name matches the POSIX extended regex; "" shows all.
 * 0, or -1 with the regex error in err (the old filter stays).
 */
int panel_set_filter(struct panel *p, const char *re, char *err, size_t n);

/*
 * Select the first row whose name contains s, looking from the selection
 * (from the row after it when `next`), wrapping around.  false if none.
 */
bool panel_search(struct panel *p, const char *s, bool next);

/* Owner's index of the selected row; false when the panel shows no rows. */
bool panel_selected(const struct panel *p, size_t *row);

/* Title of the sort column. */
const char *panel_sort_title(const struct panel *p);

/* Rows the panel needs to show everything: the title row plus one per visible row. */
int panel_height(const struct panel *p);

/*
 * Draw the title row and the rows that fit in h rows (h < 0: all of them) at
 * (y, x), w columns wide.  show_sel highlights the selection (interactive).
 * Scrolls just enough to keep the selection visible.  Returns the rows used.
 * A row with the key it had at its place in the last draw is copied from
 * that draw (see panel_key).
 */
int panel_draw(struct panel *p, struct canvas *cv, int y, int x, int w, int h, bool show_sel);

#endif
