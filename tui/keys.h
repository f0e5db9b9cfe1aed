/*
 * keys: the one key table.  Each binding has its key codes, the name shown in
 * help, a description and an action.  The help screen and the man page
 * (`kmemtop --keys`) are generated from the table, so they cannot disagree
 * with what the keys do.
 *
 * Actions return flags telling the main loop what to do next.  (They are not
 * called KEY_*: that is curses' namespace.)
 */
#ifndef KMW_TUI_KEYS_H
#define KMW_TUI_KEYS_H

#include <stddef.h>
#include <stdio.h>

#include "app.h"

#define KEYS_REDRAW   0x1u  /* the view changed: draw again */
#define KEYS_QUIT     0x2u  /* leave kmemtop */

#define KEYS_MAX_CODES 3

struct key_binding {
    int codes[KEYS_MAX_CODES]; /* characters or UI_KEY_*; unused slots 0 */
    const char *name;          /* as shown in help and the man page: "q", "PgUp", "z, Space" */
    const char *desc;
    unsigned (*action)(struct app *a);
};

const struct key_binding *keys_table(size_t *n);

/* Handle one key from ui_getkey(): prompts and help first, then the table.  Returns KEYS_* flags. */
unsigned keys_dispatch(struct app *a, int key);

/* The table as man page rows: ".TP\n.B <name>\n<description>\n", escaped for roff. */
void keys_print_man(FILE *f);

#endif
