/*
 * ui: the one module that owns curses, and the drawing surface every screen
 * draws into.
 *
 * Screens never call curses.  They draw into a struct canvas, which is either
 * the curses screen (interactive) or a plain line buffer (--batch, golden
 * tests), so the batch output is the interactive screen, not a second
 * renderer that could drift from it.
 *
 * Colours are chosen by what a cell means (enum ui_elem), never by colour
 * name, so that the monochrome fallback (--no-color, NO_COLOR, or a terminal
 * without colours) maps the same elements to attributes.
 *
 * Keys come back from ui_getkey() as characters (their byte value) or as the
 * UI_KEY_* codes below, so that the key table does not depend on curses.
 */
#ifndef KMW_TUI_UI_H
#define KMW_TUI_UI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum ui_elem {
    UI_NORMAL,
    UI_HEADER,      /* the title bar */
    UI_TITLE,       /* column titles */
    UI_SORTED,      /* the title of the sort column */
    UI_SELECTED,    /* the selected row */
    UI_WARN,        /* an unreadable source, an error message */
    UI_GROW_UP,     /* memory grew */
    UI_GROW_DOWN,   /* memory shrank */
    UI_STATUS,      /* the status line */
    UI_GRAPH,       /* graph plots and bar charts */
    UI_LABEL,       /* a value labelled on a graph (the last one) */
    UI_NELEMS
};

/* Special keys, above every Unicode code point so that they never collide with a character. */
enum {
    UI_KEY_NONE = -1,
    UI_KEY_ESC = 27,
    UI_KEY_TAB = '\t',
    UI_KEY_BASE = 0x110000,
    UI_KEY_UP = UI_KEY_BASE,
    UI_KEY_DOWN,
    UI_KEY_LEFT,
    UI_KEY_RIGHT,
    UI_KEY_PGUP,
    UI_KEY_PGDN,
    UI_KEY_HOME,
    UI_KEY_END,
    UI_KEY_BTAB,        /* Shift-Tab */
    UI_KEY_BACKSPACE,
    UI_KEY_ENTER,
    UI_KEY_RESIZE,      /* the terminal changed size; the next draw lays out again */
    UI_KEY_OTHER,       /* a special key we have no use for */
    UI_KEY_F1,          /* UI_KEY_F1 + n - 1 is Fn, up to F12 */
    UI_KEY_F12 = UI_KEY_F1 + 11,
};

#define UI_KEY_F(n) (UI_KEY_F1 + (n) - 1)

/* Smallest terminal that is laid out; below it a "too small" notice is drawn. */
#define UI_MIN_COLS 60
#define UI_MIN_ROWS 15

/*
 * Both kinds of canvas are a line buffer; the curses one also keeps each
 * cell's element, and ui_present() sends curses only the cells that differ
 * from the frame it showed last.  Building a frame in memory and comparing
 * it costs far less than handing curses every cell of every frame: curses
 * would compare them all again, and an idle screen changes a few lines a
 * second (the clock, the figures that moved).
 */
struct canvas {
    int w;              /* columns */
    int h;              /* rows; in an unlimited buffer, rows written so far */
    bool unlimited;     /* buffer grows downwards as rows are written (batch without --height) */
    bool curses;        /* the frame of the curses screen (ui_canvas), shown by ui_present */
    /* line buffer: one UTF-8 glyph per cell, NUL-padded (4 bytes, no NUL, for a 4-byte glyph) */
    char (*cells)[4];
    unsigned char *elems; /* curses: the enum ui_elem of each cell (UI_NELEMS: cleared) */
    int rows_cap;
};

/*
 * Call once at start, before anything prints: sets the locale from the
 * environment (UTF-8 text in curses needs it) and notes whether it is UTF-8.
 */
void ui_locale_init(void);
/* Is the locale's character set UTF-8?  (Sparklines use block characters then.) */
bool ui_utf8(void);

/*
 * Line-buffer canvas of w columns and h rows; h 0 means "unlimited": it grows
 * as rows are drawn.  Returns 0 or -ENOMEM.
 */
int canvas_buffer_init(struct canvas *cv, int w, int h);
void canvas_buffer_free(struct canvas *cv);
/* Write the buffer as text lines, trailing blanks trimmed. */
void canvas_buffer_write(const struct canvas *cv, FILE *f);

/* Blank the whole canvas (an unlimited buffer also forgets its rows). */
void canvas_clear(struct canvas *cv);
/*
 * Draw s at (y, x), at most maxw columns (negative: up to the right edge),
 * clipped to the canvas.  Control characters and invalid UTF-8 show as '?'.
 * Returns the columns drawn.
 */
int canvas_put(struct canvas *cv, int y, int x, int maxw, enum ui_elem e, const char *s);
/* Paint w blank columns from (y, x) in element e (negative w: to the right edge). */
void canvas_fill(struct canvas *cv, int y, int x, int w, enum ui_elem e);

/*
 * Copy the w cells of row y from x (clipped to the canvas), with their
 * elements, out of the canvas or back in: a panel keeps the rows it drew to
 * put them back in the next frame.  A canvas without elements gives
 * UI_NELEMS.  Returns the cells copied (0 for a row not drawn yet).
 */
int canvas_row_get(const struct canvas *cv, int y, int x, int w, char (*cells)[4],
                   unsigned char *elems);
int canvas_row_set(struct canvas *cv, int y, int x, int w, const char (*cells)[4],
                   const unsigned char *elems);

/* Columns that canvas_put would use for s (every glyph we draw is one column wide). */
int ui_text_width(const char *s);

/*
 * Start curses on the terminal.  color false forces monochrome; so do NO_COLOR
 * and a terminal without colours.  Installs the handlers that restore the
 * terminal on SIGINT/SIGTERM/SIGHUP and on crashes.  0, or -1 with err filled.
 */
int ui_init(bool color, char *err, size_t n);
/* Restore the terminal.  Safe to call more than once and when ui_init failed. */
void ui_fini(void);
/*
 * Point cv at the frame of the curses screen, at the terminal's current size.
 * The frame keeps what was drawn into it until it is cleared (canvas_clear).
 * -ENOMEM when there is no memory for a frame of that size (then cv is 0x0
 * and draws nothing).
 */
int ui_canvas(struct canvas *cv);
/* Show the frame: the cells that changed since the last call go to the terminal. */
void ui_present(void);
/*
 * The terminal shows something else than the last frame (a resize, a
 * return from suspension): curses clears it now (it would at the next getch
 * anyway), and the next ui_present sends the whole frame.
 */
void ui_repaint(void);
/*
 * Next pending key without waiting, or UI_KEY_NONE.  KEY_RESIZE is handled
 * here, and so is a return from suspension (reported as UI_KEY_RESIZE: draw).
 */
int ui_getkey(void);
/*
 * The SIGINT, SIGTERM or SIGHUP that arrived, or 0.  The loop then ends,
 * ui_fini restores the terminal, and kmemtop exits with 128 + the signal.
 */
int ui_quit_signal(void);
/*
 * The signals whose arrival must wake the poll loop (SIGWINCH, SIGINT, SIGTERM,
 * SIGHUP, and SIGCONT: after a suspension the screen is drawn again).  The loop
 * keeps them blocked and unblocks them only inside ppoll(), so one arriving
 * just before the wait cannot be missed.
 */
void ui_wake_signals(sigset_t *set);

#endif
