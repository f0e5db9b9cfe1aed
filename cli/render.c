/*
 * render: kmemctl's human and CSV views of the report.h JSON shapes.
 *
 * Everything here starts from the JSON object, whether it was built from
 * /proc directly or (later) received from the daemon, so the two sources can
 * never print differently.
 */
#include "render.h"

#include <errno.h>
#include <string.h>

#include "meminfo.h"
#include "table.h"
#include "util.h"

static const struct column slab_cols[] = {
    { "NAME", "name", COL_STR, NULL, COL_F_LEFT },
    { "ACTIVE", "active_objs", COL_INT, NULL, 0 },
    { "OBJS", "num_objs", COL_INT, NULL, 0 },
    { "USE", "active_objs", COL_PCT, "num_objs", COL_F_HUMAN_ONLY },
    { "OBJSIZE", "objsize", COL_INT, NULL, 0 },
    { "OBJ/SLAB", "objperslab", COL_INT, NULL, 0 },
    { "PG/SLAB", "pagesperslab", COL_INT, NULL, 0 },
    { "SLABS", "num_slabs", COL_INT, NULL, 0 },
    { "ACT_SLABS", "active_slabs", COL_INT, NULL, COL_F_CSV_ONLY },
    { "MEMORY", "bytes_total", COL_BYTES, NULL, 0 },
    { "ACT_MEM", "bytes_active", COL_BYTES, NULL, 0 },
};

static const struct column kmalloc_cols[] = {
    { "SIZE", "size", COL_INT, NULL, 0 },
    { "VARIANT", "variant", COL_STR, NULL, COL_F_LEFT },
    { "CACHE", "cache", COL_STR, NULL, COL_F_LEFT },
    { "OBJSIZE", "objsize", COL_INT, NULL, 0 },
    { "ACTIVE", "active_objs", COL_INT, NULL, 0 },
    { "OBJS", "num_objs", COL_INT, NULL, 0 },
    { "USE", "active_objs", COL_PCT, "num_objs", COL_F_HUMAN_ONLY },
    { "MEMORY", "bytes_total", COL_BYTES, NULL, 0 },
    { "ACT_MEM", "bytes_active", COL_BYTES, NULL, 0 },
};

static const struct column vmalloc_cols[] = {
    { "AREAS", "areas", COL_INT, NULL, 0 },
    { "SIZE", "bytes", COL_BYTES, NULL, 0 },
    { "PAGES", "pages", COL_INT, NULL, 0 },
    { "TYPE", "type", COL_STR, NULL, COL_F_LEFT },
    { "FLAGS", "flags", COL_LIST, NULL, COL_F_LEFT },
    { "NODES", "nodes", COL_NODES, NULL, COL_F_LEFT | COL_F_CSV_ONLY },
    { "MODULE", "module", COL_STR, NULL, COL_F_LEFT },
    { "CALLER", "caller", COL_STR, NULL, COL_F_LEFT },
};

static const struct column meminfo_cols[] = {
    { "KEY", "key", COL_STR, NULL, COL_F_LEFT },
    { "VALUE", "bytes", COL_BYTES, NULL, 0 },
};

/* growth: CSV as is; the human table is render_growth's (units differ per row) */
static const struct column growth_cols[] = {
    { "KIND", "kind", COL_STR, NULL, COL_F_LEFT },
    { "NAME", "name", COL_STR, NULL, COL_F_LEFT },
    { "FIELD", "field", COL_STR, NULL, COL_F_LEFT },
    { "UNIT", "unit", COL_STR, NULL, COL_F_LEFT },
    { "PER_HOUR", "per_hour", COL_FRAC, NULL, 0 },
    { "NET", "net", COL_INT, NULL, 0 },
    { "STEADINESS", "steadiness", COL_FRAC, NULL, 0 },
    { "POINTS", "points", COL_INT, NULL, 0 },
    { "SUSPECT", "suspect", COL_INT, NULL, 0 },
};

/* slabtop -s letters (slabtop(1)); its "u" (utilisation) has no JSON field */
static const struct sort_letter slab_letters[] = {
    { 'a', "active_objs" }, { 'b', "objperslab" }, { 'c', "bytes_total" }, { 'l', "num_slabs" },
    { 'v', "active_slabs" }, { 'n', "name" }, { 'o', "num_objs" }, { 'p', "pagesperslab" },
    { 's', "objsize" }, { 0, NULL },
};

const struct render_view render_views[] = {
    { "slab", "caches", slab_cols, ARRAY_SIZE(slab_cols), "bytes_total", "name", slab_letters },
    { "kmalloc", "classes", kmalloc_cols, ARRAY_SIZE(kmalloc_cols), NULL, "cache", NULL },
    { "vmalloc", "callers", vmalloc_cols, ARRAY_SIZE(vmalloc_cols), "bytes", "caller", NULL },
    { "growth", "growers", growth_cols, ARRAY_SIZE(growth_cols), "per_hour", "name", NULL },
    { NULL, NULL, NULL, 0, NULL, NULL, NULL },
};

const struct render_view *render_view_find(const char *command)
{
    for (const struct render_view *v = render_views; v->command; v++)
        if (strcmp(v->command, command) == 0)
            return v;
    return NULL;
}

const char *render_sort_key(const struct render_view *v, const char *field)
{
    size_t i;

    if (field[0] && !field[1] && v->letters) {
        for (const struct sort_letter *l = v->letters; l->letter; l++)
            if (l->letter == field[0])
                return l->key;
    }
    for (i = 0; i < v->ncols; i++)
        if (strcmp(v->cols[i].key, field) == 0 && v->cols[i].kind != COL_PCT)
            return v->cols[i].key;
    return NULL;
}

void render_summary(FILE *f, const struct render_view *v, json_t *rows)
{
    uint64_t act = 0, tot = 0, mem = 0, amem = 0;
    size_t i;
    json_t *r;
    char b1[32], b2[32];

    if (strcmp(v->command, "slab") != 0)
        return;
    json_array_foreach(rows, i, r) {
        act += (uint64_t)json_integer_value(json_object_get(r, "active_objs"));
        tot += (uint64_t)json_integer_value(json_object_get(r, "num_objs"));
        mem += (uint64_t)json_integer_value(json_object_get(r, "bytes_total"));
        amem += (uint64_t)json_integer_value(json_object_get(r, "bytes_active"));
    }
    fprintf(f, "caches: %zu  objects: %llu / %llu (%.1f%% used)  memory: %s (active %s)\n\n",
            json_array_size(rows), (unsigned long long)act, (unsigned long long)tot,
            tot ? 100.0 * (double)act / (double)tot : 0.0, fmt_bytes(b1, sizeof(b1), mem),
            fmt_bytes(b2, sizeof(b2), amem));
}

static void vmalloc_footer(FILE *f, json_t *obj, uint64_t page_size)
{
    json_t *types = json_object_get(obj, "types"), *v;
    const char *k;
    char b1[32], b2[32];

    fprintf(f, "\n%-14s %8s %10s %10s\n", "TYPE", "AREAS", "SIZE", "MEMORY");
    json_object_foreach(types, k, v) {
        uint64_t pages = (uint64_t)json_integer_value(json_object_get(v, "pages"));
        fprintf(f, "%-14s %8" JSON_INTEGER_FORMAT " %10s %10s\n", k,
                json_integer_value(json_object_get(v, "areas")),
                fmt_bytes(b1, sizeof(b1), (uint64_t)json_integer_value(json_object_get(v, "bytes"))),
                fmt_bytes(b2, sizeof(b2), mul_sat(pages, page_size)));
    }
    v = json_object_get(obj, "total");
    fprintf(f, "%-14s %8" JSON_INTEGER_FORMAT " %10s %10s\n", "total",
            json_integer_value(json_object_get(v, "areas")),
            fmt_bytes(b1, sizeof(b1), (uint64_t)json_integer_value(json_object_get(v, "bytes"))),
            fmt_bytes(b2, sizeof(b2),
                      mul_sat((uint64_t)json_integer_value(json_object_get(v, "pages")), page_size)));
    v = json_object_get(obj, "unpurged");
    fprintf(f, "%-14s %8" JSON_INTEGER_FORMAT " %10s %10s  (lazily freed, not a leak)\n", "unpurged",
            json_integer_value(json_object_get(v, "areas")),
            fmt_bytes(b1, sizeof(b1), (uint64_t)json_integer_value(json_object_get(v, "bytes"))), "-");
}

int render_rows(FILE *f, const struct render_view *v, json_t *obj, json_t *rows,
                enum render_format fmt, uint64_t page_size)
{
    int r;

    if (fmt == RENDER_CSV)
        return table_print_csv(f, rows, v->cols, v->ncols);
    r = table_print_human(f, rows, v->cols, v->ncols);
    if (r == 0 && strcmp(v->command, "vmalloc") == 0)
        vmalloc_footer(f, obj, page_size);
    return r;
}

int render_buddy(FILE *f, json_t *obj, enum render_format fmt)
{
    json_t *zones = json_object_get(obj, "zones"), *z;
    size_t i, orders = 0;

    json_array_foreach(zones, i, z)
        if (json_array_size(json_object_get(z, "free")) > orders)
            orders = json_array_size(json_object_get(z, "free"));
    if (fmt == RENDER_CSV) {
        fputs("node,zone,free_pages", f);
        for (size_t o = 0; o < orders; o++)
            fprintf(f, ",free%zu", o);
        for (size_t o = 0; o < orders; o++)
            fprintf(f, ",unusable%zu", o);
        fputc('\n', f);
        json_array_foreach(zones, i, z) {
            fprintf(f, "%" JSON_INTEGER_FORMAT ",", json_integer_value(json_object_get(z, "node")));
            table_csv_field(f, json_string_value(json_object_get(z, "zone")));
            fprintf(f, ",%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(z, "free_pages")));
            for (size_t o = 0; o < orders; o++)
                fprintf(f, ",%" JSON_INTEGER_FORMAT,
                        json_integer_value(json_array_get(json_object_get(z, "free"), o)));
            for (size_t o = 0; o < orders; o++)
                fprintf(f, ",%.3f", json_number_value(json_array_get(json_object_get(z, "unusable_index"), o)));
            fputc('\n', f);
        }
        return ferror(f) ? -EIO : 0;
    }
    fprintf(f, "Free blocks per order\n%-4s %-8s %10s", "NODE", "ZONE", "FREE_PAGES");
    for (size_t o = 0; o < orders; o++)
        fprintf(f, " %7zu", o);
    fputc('\n', f);
    json_array_foreach(zones, i, z) {
        fprintf(f, "%-4" JSON_INTEGER_FORMAT " %-8s %10" JSON_INTEGER_FORMAT,
                json_integer_value(json_object_get(z, "node")),
                json_string_value(json_object_get(z, "zone")),
                json_integer_value(json_object_get(z, "free_pages")));
        for (size_t o = 0; o < orders; o++)
            fprintf(f, " %7" JSON_INTEGER_FORMAT,
                    json_integer_value(json_array_get(json_object_get(z, "free"), o)));
        fputc('\n', f);
    }
    fprintf(f, "\nUnusable free space index per order (0 = all free memory usable, 1 = none)\n"
               "%-4s %-8s %10s", "NODE", "ZONE", "");
    for (size_t o = 0; o < orders; o++)
        fprintf(f, " %7zu", o);
    fputc('\n', f);
    json_array_foreach(zones, i, z) {
        fprintf(f, "%-4" JSON_INTEGER_FORMAT " %-8s %10s", json_integer_value(json_object_get(z, "node")),
                json_string_value(json_object_get(z, "zone")), "");
        for (size_t o = 0; o < orders; o++)
            fprintf(f, " %7.3f", json_number_value(json_array_get(json_object_get(z, "unusable_index"), o)));
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

int render_meminfo(FILE *f, json_t *obj, enum render_format fmt)
{
    json_t *m = json_object_get(obj, "meminfo"), *rows = json_array(), *v;
    const char *k;
    int r;

    if (!rows)
        return -ENOMEM;
    /* show the keys in meminfo.h order (the file's), not the object's hash order */
    for (int i = 0; i < MEMINFO_NKEYS; i++) {
        k = meminfo_key_name((enum meminfo_key)i);
        v = json_object_get(m, k);
        if (v)
            json_array_append_new(rows, json_pack("{s:s,s:O}", "key", k, "bytes", v));
    }
    r = fmt == RENDER_CSV ? table_print_csv(f, rows, meminfo_cols, ARRAY_SIZE(meminfo_cols))
                          : table_print_human(f, rows, meminfo_cols, ARRAY_SIZE(meminfo_cols));
    json_decref(rows);
    return r;
}

/* A signed amount in the row's unit: "+1.5M" for bytes, "+1234" otherwise. */
static void fmt_amount(char *buf, size_t n, double v, const char *unit, const char *suffix)
{
    char b[32];
    double a = v < 0 ? -v : v;

    if (unit && strcmp(unit, "bytes") == 0)
        fmt_bytes(b, sizeof(b), a >= 1.8e19 ? UINT64_MAX : (uint64_t)(a + 0.5));
    else
        snprintf(b, sizeof(b), "%.0f", a);
    snprintf(buf, n, "%s%s%s", v < 0 ? "-" : "+", b, suffix);
}

int render_growth(FILE *f, json_t *rows, enum render_format fmt)
{
    size_t i;
    json_t *r;

    if (fmt == RENDER_CSV) {
        int e;
        json_t *copy = json_deep_copy(rows);

        if (!copy)
            return -ENOMEM;
        /* suspect as 0/1: a CSV cell, not a JSON literal */
        json_array_foreach(copy, i, r)
            json_object_set_new(r, "suspect", json_integer(json_is_true(json_object_get(r, "suspect"))));
        e = table_print_csv(f, copy, growth_cols, ARRAY_SIZE(growth_cols));
        json_decref(copy);
        return e;
    }
    fprintf(f, "%-8s %-28s %-13s %12s %10s %7s  %s\n", "KIND", "NAME", "FIELD", "PER_HOUR", "NET", "STEADY",
            "SUSPECT");
    json_array_foreach(rows, i, r) {
        const char *unit = json_string_value(json_object_get(r, "unit"));
        char ph[40], net[40];

        fmt_amount(ph, sizeof(ph), json_number_value(json_object_get(r, "per_hour")), unit, "/h");
        fmt_amount(net, sizeof(net), json_number_value(json_object_get(r, "net")), unit, "");
        fprintf(f, "%-8s %-28s %-13s %12s %10s %7.2f  %s\n", json_string_value(json_object_get(r, "kind")),
                json_string_value(json_object_get(r, "name")), json_string_value(json_object_get(r, "field")), ph,
                net, json_number_value(json_object_get(r, "steadiness")),
                json_is_true(json_object_get(r, "suspect")) ? "yes" : "-");
    }
    return ferror(f) ? -EIO : 0;
}

void render_growth_line(FILE *f, json_t *row, uint64_t window_s)
{
    const char *unit = json_string_value(json_object_get(row, "unit"));
    char ph[40], net[40], win[32];

    fmt_amount(ph, sizeof(ph), json_number_value(json_object_get(row, "per_hour")), unit, "/h");
    fmt_amount(net, sizeof(net), json_number_value(json_object_get(row, "net")), unit, "");
    if (window_s % 3600 == 0)
        snprintf(win, sizeof(win), "%lluh", (unsigned long long)(window_s / 3600));
    else if (window_s % 60 == 0)
        snprintf(win, sizeof(win), "%llum", (unsigned long long)(window_s / 60));
    else
        snprintf(win, sizeof(win), "%llus", (unsigned long long)window_s);
    fprintf(f, "suspect: %s %s %s grew %s in %s (%s, steadiness %.2f)\n",
            json_string_value(json_object_get(row, "kind")), json_string_value(json_object_get(row, "name")),
            json_string_value(json_object_get(row, "field")), net, win, ph,
            json_number_value(json_object_get(row, "steadiness")));
}
