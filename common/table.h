/*
 * table: render arrays of JSON row objects (the shapes of report.h) as an
 * aligned human table or as CSV, plus the sort / top / match operations that
 * kmemctl and kmemtop --batch apply to them.
 *
 * Columns are data: each names the JSON key it shows and how.  Human output
 * uses binary-unit sizes ("20.0M"); CSV uses raw units and the JSON key as the
 * header, quoted per RFC 4180 where needed.
 */
#ifndef KMW_TABLE_H
#define KMW_TABLE_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>

enum col_kind {
    COL_STR,    /* string; null shown as "-" (human) or empty (CSV) */
    COL_INT,    /* integer */
    COL_BYTES,  /* integer bytes: human "1.5M", CSV raw */
    COL_PCT,    /* key / key2 * 100, human only ("97%") */
    COL_FRAC,   /* real, 3 decimals */
    COL_LIST,   /* array of strings: "a,b" (human) "a;b" (CSV) */
    COL_NODES,  /* object {"0": n, "1": m}: "N0=n N1=m" (human) "0:n;1:m" (CSV) */
};

#define COL_F_LEFT       0x1u  /* left-align (names) */
#define COL_F_HUMAN_ONLY 0x2u
#define COL_F_CSV_ONLY   0x4u

struct column {
    const char *header;
    const char *key;
    enum col_kind kind;
    const char *key2;
    unsigned flags;
};

int table_print_human(FILE *f, json_t *rows, const struct column *cols, size_t ncols);
int table_print_csv(FILE *f, json_t *rows, const struct column *cols, size_t ncols);

/*
 * Sort rows in place by key: numbers largest first, strings A-Z (invert
 * reverses either).  Stable: equal keys keep their order.  0 or -ENOMEM.
 */
int table_sort(json_t *rows, const char *key, bool invert);

/* Keep rows whose string key matches re. */
void table_filter(json_t *rows, const char *key, const regex_t *re);

/* Keep the first n rows. */
void table_truncate(json_t *rows, size_t n);

/* Write one CSV field with RFC 4180 quoting. */
void table_csv_field(FILE *f, const char *s);

#endif
