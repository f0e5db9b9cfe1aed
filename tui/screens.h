/*
 * screens: the six views (1 Overview, 2 kmalloc, 3 Caches, 4 vmalloc,
 * 5 Buddy, 6 Graph), the help screen, the title bar and the status line,
 * drawn into a canvas.  The same code draws the curses screen and the
 * --batch text frames.
 *
 * screens_update() rebuilds the rows of the screen on view from the displayed
 * record (app.view) and refreshes its panels, which keep the cursor on its
 * row by name; it is called by the time line whenever the record or the trend
 * changes.  The other screens' rows are rebuilt when one is next shown or
 * asked for its panel (tables.c), so a frame of an unchanged screen
 * allocates nothing.
 */
#ifndef KMW_TUI_SCREENS_H
#define KMW_TUI_SCREENS_H

#include <stdbool.h>

#include "app.h"
#include "ui.h"

/* "overview", "kmalloc", "caches", "vmalloc", "buddy", "graph" (the --screen names). */
const char *screen_name(enum screen_id s);
/* Inverse of screen_name; -1 if unknown. */
int screen_parse(const char *name);
/* SRC_BIT mask of the sources a screen shows. */
unsigned screens_sources(enum screen_id s);

void screens_init(struct app *a);
void screens_fini(struct app *a);

/* The view or the trend changed: rebuild the shown rows.  0 or -ENOMEM (said on the status line). */
int screens_update(struct app *a);

/* Why source s has no data in the displayed record: the reader's error, "no sample of it yet", ... */
void screens_source_problem(const struct app *a, enum src_id s, char *buf, size_t n);

/* The panel that keys move, sort, search and filter (the graph's: its source screen's), or NULL. */
struct panel *screens_focus(struct app *a);

/* Open the graph of the selected row of the current screen (of total Slab when there is none). */
void screens_open_graph(struct app *a);
/* Leave the graph for the screen it came from. */
void screens_close_graph(struct app *a);

/*
 * Draw a whole frame: title bar, the current screen (or help), status line.
 * interactive: show the selection.  On an unlimited canvas the screen takes
 * the rows it needs; on a fixed one it is laid out to fit, or replaced by a
 * "too small" notice below UI_MIN_COLS x UI_MIN_ROWS.
 */
void screens_draw(struct app *a, struct canvas *cv, bool interactive);

#endif
