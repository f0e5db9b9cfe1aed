/*
 * render: kmemctl output for people (aligned tables, binary-unit sizes) and
 * for spreadsheets (CSV, raw units, JSON keys as headers).
 */
#ifndef KMW_RENDER_H
#define KMW_RENDER_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "table.h"

enum render_format { RENDER_HUMAN, RENDER_CSV, RENDER_JSON };

struct sort_letter {
    char letter;
    const char *key;
};

/* A command whose reply is one array of rows. */
struct render_view {
    const char *command;      /* "slab" */
    const char *array;        /* key of the row array in the reply: "caches" */
    const struct column *cols;
    size_t ncols;
    const char *default_sort; /* human default order; NULL keeps the reply's order */
    const char *match_key;    /* what --match applies to */
    const struct sort_letter *letters; /* slabtop-style one-letter sort keys, or NULL */
};

extern const struct render_view render_views[];

const struct render_view *render_view_find(const char *command);

/* Map a --sort argument (JSON key or slabtop letter) to a key, or NULL. */
const char *render_sort_key(const struct render_view *v, const char *field);

/* The human view's summary line over all rows (before --top and --match). */
void render_summary(FILE *f, const struct render_view *v, json_t *rows);

int render_rows(FILE *f, const struct render_view *v, json_t *obj, json_t *rows,
                enum render_format fmt, uint64_t page_size);
int render_buddy(FILE *f, json_t *obj, enum render_format fmt);
int render_meminfo(FILE *f, json_t *obj, enum render_format fmt);
/* growth rows (growth.h shape): a table with sizes for byte series, or CSV. */
int render_growth(FILE *f, json_t *rows, enum render_format fmt);
/* One line for kmemctl check: "suspect: KIND NAME FIELD grew +NET in W (+RATE/h, steadiness S)". */
void render_growth_line(FILE *f, json_t *row, uint64_t window_s);

#endif
