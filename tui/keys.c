#include "keys.h"

#include <stdio.h>
#include <string.h>

#include "screens.h"
#include "timeline.h"
#include "ui.h"

/* --- actions ------------------------------------------------------------ */

static unsigned act_quit(struct app *a)
{
    (void)a;
    return KEYS_QUIT;
}

static unsigned show_screen(struct app *a, enum screen_id s)
{
    if (s == SCREEN_GRAPH) {
        screens_open_graph(a);
        return KEYS_REDRAW;
    }
    a->screen = s;
    return KEYS_REDRAW;
}

static unsigned act_overview(struct app *a)
{
    return show_screen(a, SCREEN_OVERVIEW);
}

static unsigned act_kmalloc(struct app *a)
{
    return show_screen(a, SCREEN_KMALLOC);
}

static unsigned act_caches(struct app *a)
{
    return show_screen(a, SCREEN_CACHES);
}

static unsigned act_vmalloc(struct app *a)
{
    return show_screen(a, SCREEN_VMALLOC);
}

static unsigned act_buddy(struct app *a)
{
    return show_screen(a, SCREEN_BUDDY);
}

static unsigned act_graph(struct app *a)
{
    return show_screen(a, SCREEN_GRAPH);
}

/* Tab cycles 1 to 6; the graph is entered like key 6, of the selected row. */
static unsigned act_next_screen(struct app *a)
{
    enum screen_id s = a->screen;

    a->screen = (enum screen_id)((s + 1) % SCREEN_N);
    if (a->screen == SCREEN_GRAPH) {
        a->screen = s;
        screens_open_graph(a);
    }
    return KEYS_REDRAW;
}

static unsigned act_prev_screen(struct app *a)
{
    enum screen_id s = a->screen;

    if (s == SCREEN_GRAPH) {
        screens_close_graph(a);
        return KEYS_REDRAW;
    }
    a->screen = (enum screen_id)((s + SCREEN_N - 1) % SCREEN_N);
    if (a->screen == SCREEN_GRAPH) {
        a->screen = s;
        screens_open_graph(a);
    }
    return KEYS_REDRAW;
}

static unsigned act_help(struct app *a)
{
    a->help = true;
    a->help_top = 0;
    return KEYS_REDRAW;
}

static unsigned act_escape(struct app *a)
{
    screens_close_graph(a);
    return KEYS_REDRAW;
}

/* Navigation keys act on the focused panel; a screen without one ignores them. */
#define WITH_FOCUS(a, p)                        \
    struct panel *p = screens_focus(a);         \
    if (!p)                                     \
        return KEYS_REDRAW

static unsigned act_up(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_move(p, -1);
    return KEYS_REDRAW;
}

static unsigned act_down(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_move(p, 1);
    return KEYS_REDRAW;
}

static unsigned act_pgup(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_page(p, -1);
    return KEYS_REDRAW;
}

static unsigned act_pgdn(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_page(p, 1);
    return KEYS_REDRAW;
}

static unsigned act_home(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_home(p);
    return KEYS_REDRAW;
}

static unsigned act_end(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_end(p);
    return KEYS_REDRAW;
}

static unsigned act_enter(struct app *a)
{
    screens_open_graph(a);
    return KEYS_REDRAW;
}

static unsigned act_sort_prev(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_sort_step(p, -1);
    return KEYS_REDRAW;
}

static unsigned act_sort_next(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_sort_step(p, 1);
    return KEYS_REDRAW;
}

static unsigned act_invert(struct app *a)
{
    WITH_FOCUS(a, p);
    panel_sort_invert(p);
    return KEYS_REDRAW;
}

static void set_msg(struct app *a, bool error, const char *what, const char *detail)
{
    snprintf(a->msg, sizeof(a->msg), "%s%s", what, detail);
    a->msg_error = error;
}

static unsigned act_pause(struct app *a)
{
    if (a->src.kind == SOURCE_REPLAY) {
        set_msg(a, false, "a replay does not move: t and T step through it", "");
        return KEYS_REDRAW;
    }
    timeline_pause(a, !a->paused);
    return KEYS_REDRAW;
}

static unsigned act_back(struct app *a)
{
    char msg[200];

    if (timeline_step(a, -1, msg, sizeof(msg)) < 0)
        set_msg(a, false, msg, "");
    return KEYS_REDRAW;
}

static unsigned act_forward(struct app *a)
{
    char msg[200];

    if (timeline_step(a, 1, msg, sizeof(msg)) < 0)
        set_msg(a, false, msg, "");
    return KEYS_REDRAW;
}

static unsigned act_jump(struct app *a)
{
    a->prompt = PROMPT_JUMP;
    a->prompt_buf[0] = '\0';
    return KEYS_REDRAW;
}

static unsigned act_window(struct app *a)
{
    timeline_set_window(a, (a->window_idx + 1) % APP_NWINDOWS);
    set_msg(a, false, "window ", timeline_window_name(a->window_idx));
    return KEYS_REDRAW;
}

static unsigned act_mark(struct app *a)
{
    if (!a->view) {
        set_msg(a, false, "nothing to mark yet", "");
        return KEYS_REDRAW;
    }
    timeline_mark(a);
    set_msg(a, false, "mark set: vs MARK counts from here", "");
    return KEYS_REDRAW;
}

static unsigned act_search(struct app *a)
{
    if (!screens_focus(a))
        return KEYS_REDRAW;
    a->prompt = PROMPT_SEARCH;
    a->prompt_buf[0] = '\0';
    return KEYS_REDRAW;
}

static unsigned act_filter(struct app *a)
{
    WITH_FOCUS(a, p);
    a->prompt = PROMPT_FILTER;
    snprintf(a->prompt_buf, sizeof(a->prompt_buf), "%s", p->filter_src);
    return KEYS_REDRAW;
}

/* The next sample is due one (new) interval after the last one: deadlines stay absolute. */
static unsigned set_interval(struct app *a, unsigned ms)
{
    char m[64];

    if (a->src.kind != SOURCE_DIRECT) {
        set_msg(a, false,
                a->src.kind == SOURCE_DAEMON ? "the daemon's configuration sets its interval"
                                             : "a replay has no interval",
                "");
        return KEYS_REDRAW;
    }
    if (ms < APP_INTERVAL_MIN_MS)
        ms = APP_INTERVAL_MIN_MS;
    if (ms > APP_INTERVAL_MAX_MS)
        ms = APP_INTERVAL_MAX_MS;
    source_set_interval(&a->src, ms);
    snprintf(m, sizeof(m), "interval %gs", ms / 1000.0);
    set_msg(a, false, m, "");
    return KEYS_REDRAW;
}

static unsigned act_slower(struct app *a)
{
    return set_interval(a, a->src.interval_ms + APP_INTERVAL_STEP_MS);
}

static unsigned act_faster(struct app *a)
{
    return set_interval(a, a->src.interval_ms > APP_INTERVAL_STEP_MS
                               ? a->src.interval_ms - APP_INTERVAL_STEP_MS : APP_INTERVAL_MIN_MS);
}

/* --- the table ---------------------------------------------------------- */

static const struct key_binding key_table[] = {
    { { 'q' }, "q", "Quit", act_quit },
    { { '1' }, "1", "Overview: meminfo totals, warnings, leak suspects, the top growers of the window",
      act_overview },
    { { '2' }, "2", "kmalloc: size classes by variant (normal, cg, rcl, dma, rnd)", act_kmalloc },
    { { '3' }, "3", "Caches: every slab cache, like slabtop, with growth", act_caches },
    { { '4' }, "4", "vmalloc: areas by caller and by type, unpurged areas apart", act_vmalloc },
    { { '5' }, "5", "Buddy: free blocks per order and the unusable index, per zone", act_buddy },
    { { '6' }, "6", "Graph of the selected row over the window (of Slab when none)", act_graph },
    { { UI_KEY_TAB }, "Tab", "Next screen", act_next_screen },
    { { UI_KEY_BTAB }, "Shift-Tab", "Previous screen", act_prev_screen },
    { { '?', UI_KEY_F(1) }, "?, F1", "This help (Esc or q closes it)", act_help },
    { { UI_KEY_ESC }, "Esc", "Close the graph (and help, a prompt)", act_escape },
    { { UI_KEY_UP }, "Up", "Select the row above", act_up },
    { { UI_KEY_DOWN }, "Down", "Select the row below", act_down },
    { { UI_KEY_PGUP }, "PgUp", "One page up", act_pgup },
    { { UI_KEY_PGDN }, "PgDn", "One page down", act_pgdn },
    { { UI_KEY_HOME }, "Home", "First row", act_home },
    { { UI_KEY_END }, "End", "Last row", act_end },
    { { UI_KEY_ENTER }, "Enter", "Graph of the selected row", act_enter },
    { { '<' }, "<", "Sort by the column to the left", act_sort_prev },
    { { '>', UI_KEY_F(6) }, ">, F6", "Sort by the column to the right", act_sort_next },
    { { 'I' }, "I", "Invert the sort order", act_invert },
    { { '/' }, "/",
      "Search row names for a substring; Enter jumps to the next match, Esc closes", act_search },
    { { '\\' }, "\\",
      "Filter rows by name with a POSIX extended regex; an empty one shows all rows", act_filter },
    { { 'z', ' ' }, "z, Space",
      "Pause: freeze the view (PAUSED); again to follow the newest sample", act_pause },
    { { 't' }, "t", "One record back in time (the daemon's ring, a replay, or this session)",
      act_back },
    { { 'T' }, "T", "One record forward; past the newest one, follow new samples again",
      act_forward },
    { { 'b' }, "b", "Jump to a time: HH:MM[:SS] or -DURATION (-90s, -10m, -2h)", act_jump },
    { { 'w' }, "w", "Window of growth, sparklines and graphs: 1m, 10m, 1h, 1d", act_window },
    { { 'm' }, "m", "Mark the record shown: the vs MARK columns count from it", act_mark },
    { { '+' }, "+", "Sample less often (0.5 s more, up to 60 s; direct mode)", act_slower },
    { { '-' }, "-", "Sample more often (0.5 s less, down to 0.5 s; direct mode)", act_faster },
};

const struct key_binding *keys_table(size_t *n)
{
    *n = sizeof(key_table) / sizeof(key_table[0]);
    return key_table;
}

/* --- modes: prompt, help ------------------------------------------------- */

static unsigned prompt_key(struct app *a, int key)
{
    struct panel *p = screens_focus(a);
    size_t len = strlen(a->prompt_buf);
    char err[160];

    if (key == UI_KEY_ESC) {
        a->prompt = PROMPT_NONE;
        return KEYS_REDRAW;
    }
    if (key == UI_KEY_ENTER) {
        if (a->prompt == PROMPT_JUMP) {
            char msg[200];

            a->prompt = PROMPT_NONE;
            if (a->prompt_buf[0] && timeline_jump(a, a->prompt_buf, msg, sizeof(msg)) < 0)
                set_msg(a, true, msg, "");
            return KEYS_REDRAW;
        }
        if (!p) {
            a->prompt = PROMPT_NONE;
            return KEYS_REDRAW;
        }
        if (a->prompt == PROMPT_FILTER) {
            if (panel_set_filter(p, a->prompt_buf, err, sizeof(err)) < 0) {
                /* Stay in the prompt so the regex can be fixed. */
                set_msg(a, true, "bad regex: ", err);
                return KEYS_REDRAW;
            }
            a->prompt = PROMPT_NONE;
            return KEYS_REDRAW;
        }
        if (a->prompt_buf[0] && !panel_search(p, a->prompt_buf, true))
            set_msg(a, true, "no row name contains ", a->prompt_buf);
        return KEYS_REDRAW;
    }
    if (key == UI_KEY_BACKSPACE) {
        if (len)
            a->prompt_buf[len - 1] = '\0';
    } else if (key >= 0x20 && key < 0x7f) {
        if (len + 1 < sizeof(a->prompt_buf)) {
            a->prompt_buf[len] = (char)key;
            a->prompt_buf[len + 1] = '\0';
        }
    } else {
        return 0;
    }
    /* Search as you type: from the selected row, so typing more refines the same hit. */
    if (a->prompt == PROMPT_SEARCH && p && a->prompt_buf[0] && !panel_search(p, a->prompt_buf, false))
        set_msg(a, true, "no row name contains ", a->prompt_buf);
    return KEYS_REDRAW;
}

static unsigned help_key(struct app *a, int key)
{
    switch (key) {
    case UI_KEY_ESC:
    case 'q':
    case '?':
    case UI_KEY_F(1):
        a->help = false;
        return KEYS_REDRAW;
    case UI_KEY_UP:
        a->help_top--;
        break;
    case UI_KEY_DOWN:
        a->help_top++;
        break;
    case UI_KEY_PGUP:
        a->help_top -= 10;
        break;
    case UI_KEY_PGDN:
        a->help_top += 10;
        break;
    case UI_KEY_HOME:
        a->help_top = 0;
        break;
    case UI_KEY_END:
        a->help_top = 1 << 20;
        break;
    default:
        return 0;
    }
    /* screens_draw clamps help_top to what there is to show. */
    if (a->help_top < 0)
        a->help_top = 0;
    return KEYS_REDRAW;
}

unsigned keys_dispatch(struct app *a, int key)
{
    if (key == UI_KEY_NONE)
        return 0;
    if (key == UI_KEY_RESIZE)
        return KEYS_REDRAW;
    /* A message lasts until the next key, so it cannot go unseen. */
    a->msg[0] = '\0';
    if (a->prompt != PROMPT_NONE)
        return prompt_key(a, key) | KEYS_REDRAW;
    if (a->help)
        return help_key(a, key) | KEYS_REDRAW;
    for (size_t i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++)
        for (size_t k = 0; k < KEYS_MAX_CODES && key_table[i].codes[k]; k++)
            if (key_table[i].codes[k] == key)
                return key_table[i].action(a);
    return KEYS_REDRAW;
}

/* --- man page ------------------------------------------------------------ */

/* roff: a backslash is \e, a minus is \-, and a line must not start with . or '. */
static void man_escaped(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

void keys_print_man(FILE *f)
{
    for (size_t i = 0; i < sizeof(key_table) / sizeof(key_table[0]); i++) {
        fputs(".TP\n.B ", f);
        man_escaped(f, key_table[i].name);
        fputc('\n', f);
        man_escaped(f, key_table[i].desc);
        fputc('\n', f);
    }
}
