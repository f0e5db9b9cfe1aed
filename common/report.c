#include "report.h"

#include <limits.h>
#include <stdio.h>

json_t *report_u64(uint64_t v)
{
    /* json_int_t is long long here; counters never get near 2^63 in practice */
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

/* json_object_set_new that tolerates NULL values by failing the whole build. */
static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static int append(json_t *a, json_t *v)
{
    return v ? json_array_append_new(a, v) : -1;
}

/* Append a row built with r errors; on any failure the row is dropped and -1 returned. */
static int push(json_t *arr, json_t *o, int r)
{
    if (!o || r) {
        json_decref(o);
        return -1;
    }
    return json_array_append_new(arr, o);
}

/* Wrap an array under one key; consumes arr. */
static json_t *wrap(const char *key, json_t *arr)
{
    json_t *o;

    if (!arr)
        return NULL;
    o = json_object();
    if (!o || json_object_set_new(o, key, arr) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *report_slab(const struct slab_info *si)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        json_t *o = json_object();
        int r = 0;

        r |= set(o, "name", json_string(c->name));
        r |= set(o, "active_objs", report_u64(c->active_objs));
        r |= set(o, "num_objs", report_u64(c->num_objs));
        r |= set(o, "objsize", report_u64(c->objsize));
        r |= set(o, "objperslab", report_u64(c->objperslab));
        r |= set(o, "pagesperslab", report_u64(c->pagesperslab));
        r |= set(o, "active_slabs", report_u64(c->active_slabs));
        r |= set(o, "num_slabs", report_u64(c->num_slabs));
        r |= set(o, "bytes_total", report_u64(c->bytes_total));
        r |= set(o, "bytes_active", report_u64(c->bytes_active));
        if (push(arr, o, r) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return wrap("caches", arr);
}

json_t *report_kmalloc(const struct kmalloc_table *kt)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < kt->n; i++) {
        const struct kmalloc_row *k = &kt->rows[i];
        json_t *o = json_object();
        int r = 0;

        r |= set(o, "size", report_u64(k->size));
        r |= set(o, "variant", json_string(kmalloc_variant_name(k->variant)));
        r |= set(o, "cache", json_string(k->cache));
        r |= set(o, "objsize", report_u64(k->objsize));
        r |= set(o, "active_objs", report_u64(k->active_objs));
        r |= set(o, "num_objs", report_u64(k->num_objs));
        r |= set(o, "bytes_total", report_u64(k->bytes_total));
        r |= set(o, "bytes_active", report_u64(k->bytes_active));
        if (push(arr, o, r) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return wrap("classes", arr);
}

static json_t *vm_sum(const struct vmalloc_sum *s, int with_pages)
{
    json_t *o = json_object();
    int r = 0;

    r |= set(o, "areas", report_u64(s->areas));
    r |= set(o, "bytes", report_u64(s->bytes));
    if (with_pages)
        r |= set(o, "pages", report_u64(s->pages));
    if (!o || r) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *vm_row(const struct vmalloc_row *v)
{
    json_t *o = json_object(), *flags = json_array(), *nodes = json_object();
    int r = 0;

    if (flags && (v->flags & VMALLOC_F_USER))
        r |= append(flags, json_string("user"));
    if (flags && (v->flags & VMALLOC_F_VPAGES))
        r |= append(flags, json_string("vpages"));
    for (unsigned n = 0; nodes && n < VMALLOC_MAX_NODES; n++) {
        char key[8];
        if (!((v->node_mask >> n) & 1u))
            continue;
        snprintf(key, sizeof(key), "%u", n);
        r |= set(nodes, key, report_u64(v->nodes[n]));
    }
    r |= set(o, "caller", json_string(v->caller));
    r |= set(o, "module", v->module[0] ? json_string(v->module) : json_null());
    r |= set(o, "type", json_string(vmalloc_type_name(v->type)));
    r |= set(o, "flags", flags);
    r |= set(o, "areas", report_u64(v->areas));
    r |= set(o, "bytes", report_u64(v->bytes));
    r |= set(o, "pages", report_u64(v->pages));
    r |= set(o, "nodes", nodes);
    if (!o || r) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *report_vmalloc(const struct vmalloc_info *vi)
{
    json_t *o = json_object(), *arr = json_array(), *types = json_object();
    int r = 0;

    for (size_t i = 0; arr && i < vi->n; i++)
        r |= append(arr, vm_row(&vi->rows[i]));
    for (int t = 0; types && t < VMALLOC_NTYPES; t++)
        if (vi->types[t].areas)
            r |= set(types, vmalloc_type_name((enum vmalloc_type)t), vm_sum(&vi->types[t], 1));
    r |= set(o, "callers", arr);
    r |= set(o, "types", types);
    r |= set(o, "unpurged", vm_sum(&vi->unpurged, 0));
    r |= set(o, "total", vm_sum(&vi->total, 1));
    if (!o || r) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *report_buddy(const struct buddy_info *bi)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < bi->n; i++) {
        const struct buddy_zone *z = &bi->zones[i];
        json_t *o = json_object(), *fr = json_array(), *ui = json_array();
        int r = 0;

        for (unsigned k = 0; fr && ui && k < bi->orders; k++) {
            r |= append(fr, report_u64(z->free[k]));
            r |= append(ui, json_real(z->unusable[k] / 1000.0));
        }
        r |= set(o, "node", json_integer(z->node));
        r |= set(o, "zone", json_string(z->zone));
        r |= set(o, "free", fr);
        r |= set(o, "free_pages", report_u64(z->free_pages));
        r |= set(o, "unusable_index", ui);
        if (push(arr, o, r) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return wrap("zones", arr);
}

json_t *report_meminfo(const struct meminfo *mi)
{
    json_t *m = json_object();
    int r = 0;

    for (int k = 0; m && k < MEMINFO_NKEYS; k++)
        if (meminfo_has(mi, (enum meminfo_key)k))
            r |= set(m, meminfo_key_name((enum meminfo_key)k), report_u64(mi->value[k]));
    if (!m || r) {
        json_decref(m);
        return NULL;
    }
    return wrap("meminfo", m);
}
