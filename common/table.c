#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CELL_MAX 256

static bool col_shown(const struct column *c, bool csv)
{
    return !(c->flags & (csv ? COL_F_HUMAN_ONLY : COL_F_CSV_ONLY));
}

static uint64_t as_u64(json_t *v)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;
    return i < 0 ? 0 : (uint64_t)i;
}

/* Format one cell of row for column c. */
static void cell(char *buf, size_t n, json_t *row, const struct column *c, bool csv)
{
    json_t *v = json_object_get(row, c->key);
    size_t off = 0;

    buf[0] = '\0';
    switch (c->kind) {
    case COL_STR:
        if (json_is_string(v))
            snprintf(buf, n, "%s", json_string_value(v));
        else if (!csv)
            snprintf(buf, n, "-");
        break;
    case COL_INT:
        if (json_is_integer(v))
            snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case COL_BYTES:
        if (!json_is_integer(v))
            break;
        if (csv)
            snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            fmt_bytes(buf, n, as_u64(v));
        break;
    case COL_PCT: {
        uint64_t num = as_u64(v), den = as_u64(json_object_get(row, c->key2));
        if (den)
            snprintf(buf, n, "%.0f%%", 100.0 * (double)num / (double)den);
        else
            snprintf(buf, n, "-");
        break;
    }
    case COL_FRAC:
        if (json_is_number(v))
            snprintf(buf, n, "%.3f", json_number_value(v));
        break;
    case COL_LIST: {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            int w = snprintf(buf + off, n - off, "%s%s", i ? (csv ? ";" : ",") : "",
                             json_string_value(e) ? json_string_value(e) : "");
            if (w < 0 || (size_t)w >= n - off)
                break;
            off += (size_t)w;
        }
        if (!off && !csv)
            snprintf(buf, n, "-");
        break;
    }
    case COL_NODES: {
        const char *k;
        json_t *e;
        int first = 1;
        json_object_foreach(v, k, e) {
            int w = csv ? snprintf(buf + off, n - off, "%s%s:%" JSON_INTEGER_FORMAT, first ? "" : ";",
                                   k, json_integer_value(e))
                        : snprintf(buf + off, n - off, "%sN%s=%" JSON_INTEGER_FORMAT, first ? "" : " ",
                                   k, json_integer_value(e));
            if (w < 0 || (size_t)w >= n - off)
                break;
            off += (size_t)w;
            first = 0;
        }
        if (first && !csv)
            snprintf(buf, n, "-");
        break;
    }
    }
}

/* One line of the human table: the header when row is NULL. */
static void human_line(FILE *f, json_t *row, const struct column *cols, size_t ncols,
                       const size_t *width)
{
    const char *sep = "";
    char buf[CELL_MAX];

    for (size_t c = 0; c < ncols; c++) {
        const char *text = cols[c].header;
        bool left = cols[c].flags & COL_F_LEFT;

        if (!col_shown(&cols[c], false))
            continue;
        if (row) {
            cell(buf, sizeof(buf), row, &cols[c], false);
            text = buf;
        }
        /* a left-aligned last column is not padded: no trailing blanks */
        if (left && c + 1 == ncols)
            fprintf(f, "%s%s", sep, text);
        else
            fprintf(f, "%s%*s", sep, left ? -(int)width[c] : (int)width[c], text);
        sep = "  ";
    }
    fputc('\n', f);
}

int table_print_human(FILE *f, json_t *rows, const struct column *cols, size_t ncols)
{
    size_t *width = calloc(ncols, sizeof(*width));
    size_t i, c;
    json_t *row;
    char buf[CELL_MAX];

    if (!width)
        return -ENOMEM;
    for (c = 0; c < ncols; c++)
        width[c] = strlen(cols[c].header);
    json_array_foreach(rows, i, row) {
        for (c = 0; c < ncols; c++) {
            if (!col_shown(&cols[c], false))
                continue;
            cell(buf, sizeof(buf), row, &cols[c], false);
            if (strlen(buf) > width[c])
                width[c] = strlen(buf);
        }
    }
    human_line(f, NULL, cols, ncols, width);
    json_array_foreach(rows, i, row)
        human_line(f, row, cols, ncols, width);
    free(width);
    return ferror(f) ? -EIO : 0;
}

void table_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int table_print_csv(FILE *f, json_t *rows, const struct column *cols, size_t ncols)
{
    size_t i, c;
    json_t *row;
    char buf[CELL_MAX];
    const char *sep = "";

    for (c = 0; c < ncols; c++) {
        if (!col_shown(&cols[c], true))
            continue;
        fputs(sep, f);
        table_csv_field(f, cols[c].key);
        sep = ",";
    }
    fputc('\n', f);
    json_array_foreach(rows, i, row) {
        sep = "";
        for (c = 0; c < ncols; c++) {
            if (!col_shown(&cols[c], true))
                continue;
            cell(buf, sizeof(buf), row, &cols[c], true);
            fputs(sep, f);
            table_csv_field(f, buf);
            sep = ",";
        }
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

struct sort_item {
    json_t *row;
    size_t idx;
};

static const char *sort_key;
static bool sort_invert;

static int sort_cmp(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    json_t *vx = json_object_get(x->row, sort_key), *vy = json_object_get(y->row, sort_key);
    int r = 0;

    if (json_is_number(vx) && json_is_number(vy)) {
        double dx = json_number_value(vx), dy = json_number_value(vy);
        r = dx > dy ? -1 : dx < dy ? 1 : 0; /* largest first */
    } else if (json_is_string(vx) && json_is_string(vy)) {
        r = strcmp(json_string_value(vx), json_string_value(vy));
    } else {
        /* missing or null values sort last whatever the direction */
        r = (vx && !json_is_null(vx)) ? -1 : (vy && !json_is_null(vy)) ? 1 : 0;
        if (r)
            return r;
    }
    if (sort_invert)
        r = -r;
    if (r)
        return r;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int table_sort(json_t *rows, const char *key, bool invert)
{
    size_t n = json_array_size(rows), i;
    struct sort_item *it;

    if (n < 2)
        return 0;
    it = calloc(n, sizeof(*it));
    if (!it)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        it[i].row = json_incref(json_array_get(rows, i));
        it[i].idx = i;
    }
    sort_key = key;
    sort_invert = invert;
    qsort(it, n, sizeof(*it), sort_cmp);
    json_array_clear(rows);
    for (i = 0; i < n; i++)
        json_array_append_new(rows, it[i].row);
    free(it);
    return 0;
}

void table_filter(json_t *rows, const char *key, const regex_t *re)
{
    size_t i = 0;

    while (i < json_array_size(rows)) {
        const char *s = json_string_value(json_object_get(json_array_get(rows, i), key));
        if (s && regexec(re, s, 0, NULL, 0) == 0)
            i++;
        else
            json_array_remove(rows, i);
    }
}

void table_truncate(json_t *rows, size_t n)
{
    while (json_array_size(rows) > n)
        json_array_remove(rows, json_array_size(rows) - 1);
}
