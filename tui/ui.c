#include "ui.h"

/* vid_puts is declared with the wide-character functions */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <term.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool ui_is_utf8;

void ui_locale_init(void)
{
    const char *cs;

    setlocale(LC_ALL, "");
    cs = nl_langinfo(CODESET);
    ui_is_utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

bool ui_utf8(void)
{
    return ui_is_utf8;
}

/* --- glyphs ------------------------------------------------------------ */

/*
 * One glyph of s into a cell (its bytes, NUL-padded): returns how many bytes
 * of s it spans.  Control characters, invalid UTF-8 and (outside a UTF-8
 * locale) any non-ASCII byte become '?': the terminal would otherwise
 * interpret them, and a name from /proc must never move the cursor.
 */
static inline size_t glyph_cell(const char *str, char cell[4])
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    size_t len = 0;

    memset(cell, 0, 4);
    if (c < 0x80) {
        cell[0] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    /* A NUL fails the continuation test, so this never reads past the string. */
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            len = 0;
            break;
        }
    }
    if (len == 0 || !ui_is_utf8) {
        cell[0] = '?';
        return len ? len : 1;
    }
    memcpy(cell, s, len);
    return len;
}

int ui_text_width(const char *s)
{
    char g[4];
    int cols = 0;

    while (*s) {
        /* every ASCII byte is one glyph ('?' for a control character) */
        s += (unsigned char)*s < 0x80 ? 1 : glyph_cell(s, g);
        cols++;
    }
    return cols;
}

/* --- curses state -------------------------------------------------------- */

static SCREEN *ui_screen;
static bool ui_active;
static attr_t ui_attr[UI_NELEMS];
static volatile sig_atomic_t ui_quit_sig;
static volatile sig_atomic_t ui_resumed; /* SIGCONT: back from a suspension (^Z, fg) */

struct elem_style {
    short fg, bg;
    attr_t color_extra;  /* added to the colour pair */
    attr_t mono;         /* used instead when there is no colour */
};

static const struct elem_style elem_styles[UI_NELEMS] = {
    [UI_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
    [UI_HEADER] = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_BOLD },
    [UI_TITLE] = { COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE },
    [UI_SORTED] = { COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD | A_UNDERLINE },
    [UI_SELECTED] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE | A_BOLD },
    [UI_WARN] = { COLOR_RED, -1, A_BOLD, A_BOLD },
    [UI_GROW_UP] = { COLOR_RED, -1, A_NORMAL, A_BOLD },
    [UI_GROW_DOWN] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
    [UI_STATUS] = { COLOR_WHITE, COLOR_BLUE, A_NORMAL, A_REVERSE },
    [UI_GRAPH] = { COLOR_CYAN, -1, A_NORMAL, A_NORMAL },
    [UI_LABEL] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
};

static void ui_setup_colors(bool want)
{
    const char *nc = getenv("NO_COLOR");
    bool color = want && !(nc && *nc) && has_colors() && start_color() == OK;
    bool defaults = color && use_default_colors() == OK;

    for (int e = 0; e < UI_NELEMS; e++) {
        const struct elem_style *st = &elem_styles[e];
        short fg = st->fg, bg = st->bg;

        if (!color) {
            ui_attr[e] = st->mono;
            continue;
        }
        /* Without default-colour support -1 is not a colour: use the classic white on black. */
        if (!defaults) {
            fg = fg < 0 ? COLOR_WHITE : fg;
            bg = bg < 0 ? COLOR_BLACK : bg;
        }
        if (e == UI_NORMAL && defaults) {
            ui_attr[e] = A_NORMAL;
            continue;
        }
        init_pair((short)(e + 1), fg, bg);
        ui_attr[e] = COLOR_PAIR(e + 1) | st->color_extra;
    }
}

/*
 * SIGINT/SIGTERM/SIGHUP only raise a flag: the poll loop wakes (they are
 * unblocked only inside ppoll) and leaves through ui_fini, which is safe.  A
 * second one means the loop is stuck somewhere, so restore and leave here.
 */
static void on_quit_signal(int sig)
{
    if (ui_quit_sig) {
        if (ui_active)
            endwin();
        _exit(128 + sig);
    }
    ui_quit_sig = sig;
}

/* ncurses' SIGTSTP handler suspends and restores the terminal; the frame is sent again after. */
static void on_continue_signal(int sig)
{
    (void)sig;
    ui_resumed = 1;
}

/*
 * A crash: endwin() is not async-signal-safe, but the process is dying anyway
 * and a terminal left in raw mode with no echo is the worse outcome.  Then die
 * of the same signal so that the exit status and core dump stay truthful.
 */
static void on_crash_signal(int sig)
{
    if (ui_active)
        endwin();
    ui_active = false;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void ui_install_signals(void)
{
    static const int quit_sigs[] = { SIGINT, SIGTERM, SIGHUP };
    static const int crash_sigs[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal;
    for (size_t i = 0; i < sizeof(quit_sigs) / sizeof(quit_sigs[0]); i++)
        sigaction(quit_sigs[i], &sa, NULL);
    sa.sa_handler = on_continue_signal;
    sigaction(SIGCONT, &sa, NULL);
    sa.sa_handler = on_crash_signal;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(crash_sigs) / sizeof(crash_sigs[0]); i++)
        sigaction(crash_sigs[i], &sa, NULL);
}

static void ui_atexit(void)
{
    ui_fini();
}

int ui_init(bool color, char *err, size_t n)
{
    static bool atexit_done;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, n, "not a terminal (use --batch for text output)");
        return -1;
    }
    ui_screen = newterm(NULL, stdout, stdin);
    if (!ui_screen) {
        const char *term = getenv("TERM");
        snprintf(err, n, "cannot start curses on terminal type '%s'", term ? term : "");
        return -1;
    }
    set_term(ui_screen);
    ui_active = true;
    if (!atexit_done) {
        atexit(ui_atexit);
        atexit_done = true;
    }
    ui_install_signals();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    /* The poll loop decides when to wait; getch only drains what is there. */
    nodelay(stdscr, TRUE);
    /* Esc closes help and prompts: the default 1 s wait for an escape sequence feels broken. */
    set_escdelay(25);
    curs_set(0);
    ui_setup_colors(color);
    /* curses clears the screen at its first refresh: now, before the first frame is sent */
    refresh();
    return 0;
}

/* --- the frame ------------------------------------------------------------- */

/*
 * The frame being drawn and the one the terminal shows (what stdscr holds),
 * COLS x LINES cells each.  A shown cell of 0xff bytes matches no glyph: its
 * row goes out whole at the next ui_present (the first frame, after a resize).
 */
static struct {
    int w, h;
    char (*cells)[4], (*shown)[4];
    unsigned char *elems, *shown_elems;
    /*
     * The terminal's attributes are normal (element UI_NELEMS), as every
     * ui_present leaves them, and curses believes so: the next frame starts
     * from there.  False until the first frame and whenever curses may have
     * written (frame_forget_shown): then it starts from curses' belief.
     */
    bool sgr_normal;
    /* vid_puts moved curses' belief during this frame: put it back to normal at its end */
    bool curses_moved;
} ui_frame;

static void cells_blank(char (*cells)[4], size_t n)
{
    /* one blank cell, then the blanks so far copied after themselves */
    if (n)
        memcpy(cells[0], " \0\0", 4);
    for (size_t done = 1; done < n; done *= 2)
        memcpy(cells[done], cells[0], (done < n - done ? done : n - done) * sizeof(*cells));
}

static void frame_free(void)
{
    free(ui_frame.cells);
    free(ui_frame.shown);
    free(ui_frame.elems);
    free(ui_frame.shown_elems);
    memset(&ui_frame, 0, sizeof(ui_frame));
}

/* Send every row to the terminal at the next ui_present. */
static void frame_forget_shown(void)
{
    size_t n = (size_t)ui_frame.w * (size_t)ui_frame.h;

    if (ui_frame.shown)
        memset(ui_frame.shown, 0xff, n * sizeof(*ui_frame.shown));
    ui_frame.sgr_normal = false;
}

void ui_fini(void)
{
    if (!ui_active)
        return;
    ui_active = false;
    endwin();
    delscreen(ui_screen);
    ui_screen = NULL;
    frame_free();
}

int ui_canvas(struct canvas *cv)
{
    size_t n = (size_t)(COLS > 0 ? COLS : 0) * (size_t)(LINES > 0 ? LINES : 0);

    memset(cv, 0, sizeof(*cv));
    if (ui_frame.w != COLS || ui_frame.h != LINES || !ui_frame.cells) {
        frame_free();
        if (n == 0)
            return 0;
        ui_frame.cells = malloc(n * sizeof(*ui_frame.cells));
        ui_frame.shown = malloc(n * sizeof(*ui_frame.shown));
        ui_frame.elems = malloc(n);
        ui_frame.shown_elems = malloc(n);
        if (!ui_frame.cells || !ui_frame.shown || !ui_frame.elems || !ui_frame.shown_elems) {
            frame_free();
            return -ENOMEM;
        }
        ui_frame.w = COLS;
        ui_frame.h = LINES;
        cells_blank(ui_frame.cells, n);
        memset(ui_frame.elems, UI_NELEMS, n);
        frame_forget_shown();
    }
    cv->w = ui_frame.w;
    cv->h = ui_frame.h;
    cv->rows_cap = ui_frame.h;
    cv->curses = true;
    cv->cells = ui_frame.cells;
    cv->elems = ui_frame.elems;
    return 0;
}

/*
 * Output.  curses' own update (doupdate) compares every cell it was given
 * again and plans each cursor movement by costing half a dozen ways of
 * making it, each formatted with tparm: for a frame whose rows each change
 * in a place or two (the clock, a figure, a sparkline growing) that was 3 of
 * the 5.5 M instructions of an idle frame at 200x60.  The frame knows which
 * cells changed, so the changed stretches go to the terminal directly: one
 * cursor_address each, the attributes through vid_puts (curses' own
 * terminfo translation, colour pairs included), the glyphs' UTF-8 bytes,
 * all in one write().  curses keeps the terminal's modes, the keys, and the
 * colour pairs; it never draws: stdscr stays untouched, so getch never
 * refreshes, except after a resize or a suspension (then ncurses clears the
 * screen and the whole frame is sent again).
 */
static struct {
    char p[16384];
    size_t n;
} ui_out;

static void out_flush(void)
{
    size_t done = 0;

    while (done < ui_out.n) {
        ssize_t w = write(STDOUT_FILENO, ui_out.p + done, ui_out.n - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the terminal went away: the loop notices on stdin */
        done += (size_t)w;
    }
    ui_out.n = 0;
}

/* A frame is written at once, or in pieces of the buffer's size when it is larger. */
static int out_putc(int c)
{
    if (ui_out.n == sizeof(ui_out.p))
        out_flush();
    ui_out.p[ui_out.n++] = (char)c;
    return c;
}

static void out_cap(const char *s)
{
    if (s && s != (const char *)-1)
        tputs(s, 1, out_putc);
}

static void out_bytes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_putc((unsigned char)s[i]);
}

static int discard_putc(int c)
{
    return c;
}

static void out_uint(unsigned v)
{
    char d[12];
    size_t n = 0;

    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out_putc(d[--n]);
}

/*
 * The cursor to (y, x).  Nearly every terminal's cursor_address is the ANSI
 * one, written here without interpreting the terminfo string (tiparm) for
 * every stretch of every frame.
 */
static void out_cup(int y, int x)
{
    static int ansi = -1;

    if (ansi < 0)
        ansi = cursor_address && strcmp(cursor_address, "\033[%i%p1%d;%p2%dH") == 0;
    if (!ansi) {
        out_cap(tiparm(cursor_address, y, x));
        return;
    }
    out_bytes("\033[", 2);
    out_uint((unsigned)y + 1);
    out_putc(';');
    out_uint((unsigned)x + 1);
    out_putc('H');
}

/* A cell's attributes: a cleared cell has curses' own background, as erase() leaves it. */
static attr_t elem_attr(int e)
{
    return e >= 0 && e < UI_NELEMS ? ui_attr[e] : A_NORMAL;
}

/*
 * Switch the terminal's attributes from element `from` (-1: whatever curses
 * believes they are) to `to`.  vid_puts knows how (sgr, colour pairs,
 * what can be left as it is) but formats colours with tiparm every time, so
 * what it writes for each switch is kept: the few elements switch back and
 * forth all the time.  A kept string does not tell curses; ui_present puts
 * its belief right at the end of every frame.
 */
static void out_elem(int from, int to)
{
    static struct {
        bool known;
        unsigned char len;
        char s[62];
    } cache[UI_NELEMS + 1][UI_NELEMS + 1];
    attr_t fa = elem_attr(from), ta = elem_attr(to);
    size_t n0;

    if (from >= 0 && cache[from][to].known) {
        out_bytes(cache[from][to].s, cache[from][to].len);
        return;
    }
    /* curses' belief := from, which is where the terminal is */
    if (from >= 0)
        vid_puts(fa & ~A_COLOR, (short)PAIR_NUMBER(fa), NULL, discard_putc);
    ui_frame.curses_moved = true;
    n0 = ui_out.n;
    vid_puts(ta & ~A_COLOR, (short)PAIR_NUMBER(ta), NULL, out_putc);
    if (from >= 0 && ui_out.n >= n0 && ui_out.n - n0 < sizeof(cache[from][to].s)) {
        cache[from][to].len = (unsigned char)(ui_out.n - n0);
        memcpy(cache[from][to].s, ui_out.p + n0, ui_out.n - n0);
        cache[from][to].known = true;
    }
}

/* Cells [x0, x1) of row y: where they start, then each cell's attributes (when they change) and glyph. */
static void frame_put_span(int y, size_t x0, size_t x1, int *cur)
{
    const char(*row)[4] = (const char(*)[4])ui_frame.cells + (size_t)y * (size_t)ui_frame.w;
    const unsigned char *el = ui_frame.elems + (size_t)y * (size_t)ui_frame.w;

    out_cup(y, (int)x0);
    for (size_t x = x0; x < x1; x++) {
        if (el[x] != *cur) {
            out_elem(*cur, el[x]);
            *cur = el[x];
        }
        out_putc(row[x][0]);
        for (int i = 1; i < 4 && row[x][i]; i++)
            out_putc(row[x][i]);
    }
}

static inline bool frame_cell_same(size_t i)
{
    uint32_t a, b;

    memcpy(&a, ui_frame.cells[i], 4);
    memcpy(&b, ui_frame.shown[i], 4);
    return a == b && ui_frame.elems[i] == ui_frame.shown_elems[i];
}

/* The first cell of row at or after x (before end) that differs from what is shown, or end. */
static size_t frame_next_change(size_t row, size_t x, size_t end)
{
    /* eight cells at a time: a changed row still changes in a few places only */
    while (x + 8 <= end && memcmp(ui_frame.cells[row + x], ui_frame.shown[row + x], 32) == 0 &&
           memcmp(ui_frame.elems + row + x, ui_frame.shown_elems + row + x, 8) == 0)
        x += 8;
    while (x < end && frame_cell_same(row + x))
        x++;
    return x;
}

/* Unchanged cells between two changes shorter than this are sent again rather than jumped over. */
#define UI_SPAN_GAP 8

void ui_present(void)
{
    size_t w = (size_t)ui_frame.w;
    /* Writing the last cell of the screen scrolls a terminal with automatic margins and no xenl. */
    bool corner_scrolls = auto_right_margin && !eat_newline_glitch;
    /* -1: whatever curses believes (vid_puts, which formats colours with tiparm, asks it) */
    int cur = ui_frame.sgr_normal ? UI_NELEMS : -1;

    for (int y = 0; y < ui_frame.h; y++) {
        size_t row = (size_t)y * w, x = 0, end = w;

        if (memcmp(ui_frame.cells[row], ui_frame.shown[row], w * sizeof(*ui_frame.cells)) == 0 &&
            memcmp(ui_frame.elems + row, ui_frame.shown_elems + row, w) == 0)
            continue;
        if (corner_scrolls && y == ui_frame.h - 1)
            end = w - 1;
        while (x < end) {
            size_t x0, x1, same = 0;

            x = frame_next_change(row, x, end);
            if (x == end)
                break;
            x0 = x1 = x;
            for (; x < end && same <= UI_SPAN_GAP; x++) {
                if (frame_cell_same(row + x)) {
                    same++;
                } else {
                    same = 0;
                    x1 = x + 1;
                }
            }
            frame_put_span(y, x0, x1, &cur);
        }
        memcpy(ui_frame.shown[row], ui_frame.cells[row], w * sizeof(*ui_frame.cells));
        memcpy(ui_frame.shown_elems + row, ui_frame.elems + row, w);
    }
    /* back to normal, and curses told: its own output (a resize, endwin) starts from there */
    if (cur >= 0 && cur != UI_NELEMS)
        out_elem(cur, UI_NELEMS);
    if (ui_frame.curses_moved)
        vid_puts(A_NORMAL, 0, NULL, discard_putc);
    ui_frame.curses_moved = false;
    ui_frame.sgr_normal = cur >= 0;
    out_flush();
}

void ui_repaint(void)
{
    clearok(curscr, TRUE);
    refresh();
    frame_forget_shown();
}

int ui_getkey(void)
{
    int c;

    if (ui_resumed) {
        ui_resumed = 0;
        ui_repaint();
        return UI_KEY_RESIZE;
    }
    c = getch();

    switch (c) {
    case ERR:
        return UI_KEY_NONE;
    case KEY_RESIZE:
        /*
         * The one place a resize is handled: ncurses has already resized its
         * screens (LINES/COLS), and the terminal may have reflowed what was
         * on it.
         */
        ui_repaint();
        return UI_KEY_RESIZE;
    case KEY_UP:
        return UI_KEY_UP;
    case KEY_DOWN:
        return UI_KEY_DOWN;
    case KEY_LEFT:
        return UI_KEY_LEFT;
    case KEY_RIGHT:
        return UI_KEY_RIGHT;
    case KEY_PPAGE:
        return UI_KEY_PGUP;
    case KEY_NPAGE:
        return UI_KEY_PGDN;
    case KEY_HOME:
    case KEY_A1:
        return UI_KEY_HOME;
    case KEY_END:
    case KEY_C1:
        return UI_KEY_END;
    case KEY_BTAB:
        return UI_KEY_BTAB;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        return UI_KEY_BACKSPACE;
    case KEY_ENTER:
    case '\r':
    case '\n':
        return UI_KEY_ENTER;
    default:
        break;
    }
    if (c >= KEY_F(1) && c <= KEY_F(12))
        return UI_KEY_F1 + (c - KEY_F(1));
    if (c >= KEY_MIN)
        return UI_KEY_OTHER;
    return c;
}

int ui_quit_signal(void)
{
    return (int)ui_quit_sig;
}

void ui_wake_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGWINCH);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGCONT);
}

/* --- canvas -------------------------------------------------------------- */

int canvas_buffer_init(struct canvas *cv, int w, int h)
{
    memset(cv, 0, sizeof(*cv));
    if (w <= 0 || h < 0)
        return -EINVAL;
    cv->w = w;
    cv->unlimited = h == 0;
    cv->rows_cap = h ? h : 64;
    cv->cells = malloc((size_t)w * (size_t)cv->rows_cap * sizeof(*cv->cells));
    if (!cv->cells)
        return -ENOMEM;
    cv->h = h;
    cells_blank(cv->cells, (size_t)w * (size_t)cv->rows_cap);
    return 0;
}

void canvas_buffer_free(struct canvas *cv)
{
    free(cv->cells);
    cv->cells = NULL;
}

/* Make row y exist; in an unlimited buffer that may grow it.  false: out of the canvas or memory. */
static bool buffer_row(struct canvas *cv, int y)
{
    if (y < 0)
        return false;
    if (!cv->unlimited)
        return y < cv->h;
    if (y >= cv->rows_cap) {
        int cap = cv->rows_cap;
        char(*cells)[4];

        while (cap <= y)
            cap *= 2;
        cells = realloc(cv->cells, (size_t)cv->w * (size_t)cap * sizeof(*cells));
        if (!cells)
            return false;
        cv->cells = cells;
        cells_blank(cv->cells + (size_t)cv->w * (size_t)cv->rows_cap,
                    (size_t)cv->w * (size_t)(cap - cv->rows_cap));
        cv->rows_cap = cap;
    }
    if (y >= cv->h)
        cv->h = y + 1;
    return true;
}

void canvas_buffer_write(const struct canvas *cv, FILE *f)
{
    for (int y = 0; y < cv->h; y++) {
        const char(*row)[4] = (const char(*)[4])cv->cells + (size_t)y * (size_t)cv->w;
        int end = cv->w;

        char line[4096];
        size_t len = 0;

        while (end > 0 && row[end - 1][0] == ' ')
            end--;
        /* One write per line: a frame is thousands of cells. */
        for (int x = 0; x < end; x++) {
            size_t gl = row[x][1] == '\0' ? 1 : strnlen(row[x], 4);

            if (len + gl >= sizeof(line)) {
                fwrite(line, 1, len, f);
                len = 0;
            }
            memcpy(line + len, row[x], gl);
            len += gl;
        }
        line[len++] = '\n';
        fwrite(line, 1, len, f);
    }
}

void canvas_clear(struct canvas *cv)
{
    size_t n = (size_t)cv->w * (size_t)cv->rows_cap;

    cells_blank(cv->cells, n);
    if (cv->elems)
        memset(cv->elems, UI_NELEMS, n);
    if (cv->unlimited)
        cv->h = 0;
}

void canvas_fill(struct canvas *cv, int y, int x, int w, enum ui_elem e)
{
    size_t at;

    if (x < 0 || x >= cv->w)
        return;
    if (w < 0 || w > cv->w - x)
        w = cv->w - x;
    if (!buffer_row(cv, y))
        return;
    at = (size_t)y * (size_t)cv->w + (size_t)x;
    cells_blank(cv->cells + at, (size_t)w);
    if (cv->elems)
        memset(cv->elems + at, e, (size_t)w);
}

/* Cells [x, x + w) of row y clipped to the canvas: their count, and the first one's index in *at. */
static int row_span(const struct canvas *cv, int y, int x, int w, size_t *at)
{
    if (x < 0 || x >= cv->w || y < 0 || y >= cv->h || w <= 0)
        return 0;
    *at = (size_t)y * (size_t)cv->w + (size_t)x;
    return w < cv->w - x ? w : cv->w - x;
}

int canvas_row_get(const struct canvas *cv, int y, int x, int w, char (*cells)[4],
                   unsigned char *elems)
{
    size_t at = 0;
    int n = row_span(cv, y, x, w, &at);

    memcpy(cells, cv->cells + at, (size_t)n * sizeof(*cells));
    if (cv->elems)
        memcpy(elems, cv->elems + at, (size_t)n);
    else
        memset(elems, UI_NELEMS, (size_t)n);
    return n;
}

int canvas_row_set(struct canvas *cv, int y, int x, int w, const char (*cells)[4],
                   const unsigned char *elems)
{
    size_t at = 0;
    int n;

    if (!buffer_row(cv, y))
        return 0;
    n = row_span(cv, y, x, w, &at);
    memcpy(cv->cells + at, cells, (size_t)n * sizeof(*cells));
    if (cv->elems)
        memcpy(cv->elems + at, elems, (size_t)n);
    return n;
}

int canvas_put(struct canvas *cv, int y, int x, int maxw, enum ui_elem e, const char *s)
{
    int limit, cols = 0;
    size_t at;

    if (x < 0 || x >= cv->w)
        return 0;
    limit = cv->w - x;
    if (maxw >= 0 && maxw < limit)
        limit = maxw;
    if (!buffer_row(cv, y))
        return 0;
    at = (size_t)y * (size_t)cv->w + (size_t)x;
    while (*s && cols < limit) {
        char *cell = cv->cells[at + (size_t)cols++];
        unsigned char c = (unsigned char)*s;

        /* printable ASCII, nearly everything drawn, and 3-byte UTF-8 (sparklines, graphs): straight in */
        if (c >= 0x20 && c < 0x7f) {
            memcpy(cell, (const char[4]){ (char)c, 0, 0, 0 }, 4);
            s++;
        } else if ((c & 0xf0) == 0xe0 && ui_is_utf8 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
            memcpy(cell, (const char[4]){ s[0], s[1], s[2], 0 }, 4);
            s += 3;
        } else {
            s += glyph_cell(s, cell);
        }
    }
    if (cv->elems)
        memset(cv->elems + at, e, (size_t)cols);
    return cols;
}
