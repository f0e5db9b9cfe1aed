/*
 * screens_int: what the screen files share (screens.c draws the frame,
 * tables.c the table screens, graph.c the graphs).  Not for other modules.
 */
#ifndef KMW_TUI_SCREENS_INT_H
#define KMW_TUI_SCREENS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "ui.h"

/* --- cells (tables.c) --- */
void cell_bytes(uint64_t v, char *buf, size_t n);
/* "+1.5M", "-200B", "0"; "-" when there is no figure. */
enum ui_elem cell_delta(bool ok, int64_t d, bool bytes, char *buf, size_t n);

/* --- rows and screens (tables.c) --- */
void tables_init(struct app *a);
void tables_fini(struct app *a);
int tables_update(struct app *a);
struct panel *tables_focus(struct app *a, enum screen_id s);

/* Each returns the rows it drew, from y, ending before `end` (end < 0: unlimited). */
int draw_overview(struct app *a, struct canvas *cv, int y, int end, bool interactive);
int draw_kmalloc(struct app *a, struct canvas *cv, int y, int end, bool interactive);
int draw_caches(struct app *a, struct canvas *cv, int y, int end, bool interactive);
int draw_vmalloc(struct app *a, struct canvas *cv, int y, int end, bool interactive);
int draw_buddy(struct app *a, struct canvas *cv, int y, int end, bool interactive);

/* The series of the selected row of screen s: false when s has none (the graph shows Slab). */
bool tables_selected_series(struct app *a, enum screen_id s, int *kind, char *name, size_t n);
/* "slab cache", "kmalloc class", ... for the graph's title. */
const char *tables_kind_title(int kind);
/* Does a series of this kind count bytes (else blocks, or thousandths for unusable)? */
bool tables_kind_bytes(int kind);

/* --- graphs (graph.c) --- */
/*
 * A time graph of series s of the trend in the box (y, x, w, h): value
 * labels (max, min, last) on the left, the plot in braille (UTF-8) or ASCII,
 * the time axis on the last row.  Returns the rows used (h, or 0 when the box
 * is too small).
 */
int graph_draw(const struct app *a, const struct trend_series *s, bool bytes, struct canvas *cv,
               int y, int x, int w, int h);
int draw_graph(struct app *a, struct canvas *cv, int y, int end);

/* "12:34:56" of a wall time in ns (local time). */
void fmt_clock(uint64_t wall_ns, char *buf, size_t n);
/* "1m20s", "2h5m", "3d": a duration in ns, short. */
void fmt_span(uint64_t ns, char *buf, size_t n);

#endif
