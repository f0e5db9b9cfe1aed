#include "ui.h"

/* cchar_t and the wide-character calls */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <wchar.h>
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
 * One glyph of s: returns how many bytes of s it spans and puts the bytes to
 * draw in out.  Control characters, invalid UTF-8 and (outside a UTF-8
 * locale) any non-ASCII byte become '?': curses would otherwise interpret
 * them, and a name from /proc must never move the cursor.
 */
static size_t next_glyph(const char *str, char out[4], size_t *olen)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    size_t len = 0;

    if (c < 0x80) {
        out[0] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        *olen = 1;
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
        out[0] = '?';
        *olen = 1;
        return len ? len : 1;
    }
    memcpy(out, s, len);
    *olen = len;
    return len;
}

int ui_text_width(const char *s)
{
    char g[4];
    size_t gl;
    int cols = 0;

    while (*s) {
        s += next_glyph(s, g, &gl);
        cols++;
    }
    return cols;
}

/* --- curses state -------------------------------------------------------- */

static SCREEN *ui_screen;
static bool ui_active;
static attr_t ui_attr[UI_NELEMS];
static volatile sig_atomic_t ui_quit_sig;

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
    return 0;
}

void ui_fini(void)
{
    if (!ui_active)
        return;
    ui_active = false;
    endwin();
    delscreen(ui_screen);
    ui_screen = NULL;
}

void ui_canvas(struct canvas *cv)
{
    memset(cv, 0, sizeof(*cv));
    cv->w = COLS;
    cv->h = LINES;
    cv->curses = true;
}

void ui_present(void)
{
    refresh();
}

int ui_getkey(void)
{
    int c = getch();

    switch (c) {
    case ERR:
        return UI_KEY_NONE;
    case KEY_RESIZE:
        /*
         * The one place a resize is handled: ncurses has already resized its
         * screens (LINES/COLS); make the next refresh repaint everything,
         * since the terminal may have reflowed what was on it.
         */
        clearok(curscr, TRUE);
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
}

/* --- canvas -------------------------------------------------------------- */

static void buffer_blank_rows(struct canvas *cv, int from, int to)
{
    for (int y = from; y < to; y++)
        for (int x = 0; x < cv->w; x++)
            memcpy(cv->cells[(size_t)y * (size_t)cv->w + (size_t)x], " \0\0", 4);
}

int canvas_buffer_init(struct canvas *cv, int w, int h)
{
    memset(cv, 0, sizeof(*cv));
    if (w <= 0 || h < 0)
        return -EINVAL;
    cv->w = w;
    cv->unlimited = h == 0;
    cv->rows_cap = h ? h : 64;
    cv->cells = calloc((size_t)w * (size_t)cv->rows_cap, sizeof(*cv->cells));
    if (!cv->cells)
        return -ENOMEM;
    cv->h = h;
    buffer_blank_rows(cv, 0, cv->rows_cap);
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
        buffer_blank_rows(cv, cv->rows_cap, cap);
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
    if (cv->curses) {
        erase();
        return;
    }
    buffer_blank_rows(cv, 0, cv->rows_cap);
    if (cv->unlimited)
        cv->h = 0;
}

void canvas_fill(struct canvas *cv, int y, int x, int w, enum ui_elem e)
{
    if (x < 0 || x >= cv->w)
        return;
    if (w < 0 || w > cv->w - x)
        w = cv->w - x;
    if (cv->curses) {
        if (y < 0 || y >= cv->h)
            return;
        mvhline(y, x, ' ' | ui_attr[e], w);
        return;
    }
    if (!buffer_row(cv, y))
        return;
    for (int i = 0; i < w; i++)
        memcpy(cv->cells[(size_t)y * (size_t)cv->w + (size_t)(x + i)], " \0\0", 4);
}

/* The code point of one glyph as next_glyph() returned it. */
static wchar_t glyph_wc(const char *g, size_t gl)
{
    const unsigned char *u = (const unsigned char *)g;

    switch (gl) {
    case 2:
        return (wchar_t)(((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu));
    case 3:
        return (wchar_t)(((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu));
    case 4:
        return (wchar_t)(((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) | ((u[2] & 0x3fu) << 6) |
                         (u[3] & 0x3fu));
    default:
        return (wchar_t)u[0];
    }
}

/*
 * Write cells straight into the window: ASCII runs as chtype (no conversion
 * at all), other glyphs as cchar_t.  Going through addstr instead makes
 * ncurses convert every byte with mbrtowc, which was most of the CPU time of
 * an idle kmemtop.
 */
static int curses_put(int y, int x, int limit, enum ui_elem e, const char *s)
{
    chtype ch[257];
    cchar_t wc[257];
    size_t nch = 0, nwc = 0;
    attr_t attr = ui_attr[e];
    short pair = (short)PAIR_NUMBER(attr);
    int cols = 0, cx = x;

    while (*s && cols < limit) {
        char g[4];
        size_t gl;

        s += next_glyph(s, g, &gl);
        if (gl == 1) {
            if (nwc) {
                mvadd_wchnstr(y, cx, wc, (int)nwc);
                cx += (int)nwc;
                nwc = 0;
            }
            ch[nch++] = (chtype)(unsigned char)g[0] | attr;
        } else {
            wchar_t w[2] = { glyph_wc(g, gl), 0 };

            if (nch) {
                mvaddchnstr(y, cx, ch, (int)nch);
                cx += (int)nch;
                nch = 0;
            }
            setcchar(&wc[nwc++], w, attr & ~A_COLOR, pair, NULL);
        }
        cols++;
        if (nch == 256 || nwc == 256) {
            if (nch)
                mvaddchnstr(y, cx, ch, (int)nch);
            else
                mvadd_wchnstr(y, cx, wc, (int)nwc);
            cx += (int)(nch + nwc);
            nch = nwc = 0;
        }
    }
    if (nch)
        mvaddchnstr(y, cx, ch, (int)nch);
    if (nwc)
        mvadd_wchnstr(y, cx, wc, (int)nwc);
    return cols;
}

int canvas_put(struct canvas *cv, int y, int x, int maxw, enum ui_elem e, const char *s)
{
    int limit, cols = 0;

    if (x < 0 || x >= cv->w)
        return 0;
    limit = cv->w - x;
    if (maxw >= 0 && maxw < limit)
        limit = maxw;
    if (cv->curses) {
        if (y < 0 || y >= cv->h)
            return 0;
        return curses_put(y, x, limit, e, s);
    }
    if (!buffer_row(cv, y))
        return 0;
    while (*s && cols < limit) {
        char *cell = cv->cells[(size_t)y * (size_t)cv->w + (size_t)(x + cols)];
        char g[4];
        size_t gl;

        s += next_glyph(s, g, &gl);
        memset(cell, 0, 4);
        memcpy(cell, g, gl);
        cols++;
    }
    return cols;
}
