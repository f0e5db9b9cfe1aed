#include "reports.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* A JSON integer as u64 (negative and missing read as 0: the daemon never sends those). */
static uint64_t u64_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static void str_of(json_t *o, const char *key, char *buf, size_t n)
{
    const char *s = json_string_value(json_object_get(o, key));

    snprintf(buf, n, "%s", s ? s : "");
}

static int slab_from(json_t *rep, struct sampler *sm)
{
    json_t *arr = json_object_get(rep, "caches"), *c;
    struct slab_info *si = &sm->slab;
    size_t i;

    if (!json_is_array(arr))
        return -EINVAL;
    if (array_reserve((void **)&si->caches, &si->cap, json_array_size(arr), sizeof(*si->caches)) < 0)
        return -ENOMEM;
    si->n = 0;
    json_array_foreach(arr, i, c) {
        struct slab_cache *sc = &si->caches[si->n++];

        memset(sc, 0, sizeof(*sc));
        str_of(c, "name", sc->name, sizeof(sc->name));
        sc->active_objs = u64_of(c, "active_objs");
        sc->num_objs = u64_of(c, "num_objs");
        sc->objsize = u64_of(c, "objsize");
        sc->objperslab = u64_of(c, "objperslab");
        sc->pagesperslab = u64_of(c, "pagesperslab");
        sc->active_slabs = u64_of(c, "active_slabs");
        sc->num_slabs = u64_of(c, "num_slabs");
        sc->bytes_total = u64_of(c, "bytes_total");
        sc->bytes_active = u64_of(c, "bytes_active");
    }
    return kmalloc_build(si, &sm->kmalloc);
}

static int vmalloc_type_of(const char *s)
{
    for (int t = 0; t < VMALLOC_NTYPES; t++)
        if (strcmp(s, vmalloc_type_name((enum vmalloc_type)t)) == 0)
            return t;
    return VMALLOC_T_OTHER;
}

static void sum_of(json_t *o, struct vmalloc_sum *s)
{
    s->areas = u64_of(o, "areas");
    s->bytes = u64_of(o, "bytes");
    s->pages = u64_of(o, "pages");
}

static int vmalloc_from(json_t *rep, struct sampler *sm)
{
    json_t *arr = json_object_get(rep, "callers"), *types = json_object_get(rep, "types"), *c;
    struct vmalloc_info *vi = &sm->vmalloc;
    size_t i;

    if (!json_is_array(arr))
        return -EINVAL;
    if (array_reserve((void **)&vi->rows, &vi->cap, json_array_size(arr), sizeof(*vi->rows)) < 0)
        return -ENOMEM;
    vi->n = 0;
    json_array_foreach(arr, i, c) {
        struct vmalloc_row *r = &vi->rows[vi->n++];
        char type[32];

        memset(r, 0, sizeof(*r));
        str_of(c, "caller", r->caller, sizeof(r->caller));
        str_of(c, "module", r->module, sizeof(r->module));
        str_of(c, "type", type, sizeof(type));
        r->type = (enum vmalloc_type)vmalloc_type_of(type);
        r->areas = u64_of(c, "areas");
        r->bytes = u64_of(c, "bytes");
        r->pages = u64_of(c, "pages");
    }
    memset(vi->types, 0, sizeof(vi->types));
    for (int t = 0; t < VMALLOC_NTYPES; t++)
        sum_of(json_object_get(types, vmalloc_type_name((enum vmalloc_type)t)), &vi->types[t]);
    sum_of(json_object_get(rep, "unpurged"), &vi->unpurged);
    sum_of(json_object_get(rep, "total"), &vi->total);
    return 0;
}

static int buddy_from(json_t *rep, struct sampler *sm)
{
    json_t *arr = json_object_get(rep, "zones"), *z;
    struct buddy_info *bi = &sm->buddy;
    size_t i;

    if (!json_is_array(arr))
        return -EINVAL;
    if (array_reserve((void **)&bi->zones, &bi->cap, json_array_size(arr), sizeof(*bi->zones)) < 0)
        return -ENOMEM;
    bi->n = 0;
    bi->orders = 0;
    json_array_foreach(arr, i, z) {
        struct buddy_zone *bz = &bi->zones[bi->n++];
        json_t *free = json_object_get(z, "free"), *unus = json_object_get(z, "unusable_index"), *v;
        size_t o;

        memset(bz, 0, sizeof(*bz));
        bz->node = (unsigned)u64_of(z, "node");
        str_of(z, "zone", bz->zone, sizeof(bz->zone));
        bz->free_pages = u64_of(z, "free_pages");
        json_array_foreach(free, o, v) {
            if (o >= BUDDY_MAX_ORDERS)
                break;
            bz->free[o] = json_is_integer(v) && json_integer_value(v) > 0
                              ? (uint64_t)json_integer_value(v) : 0;
            if (o + 1 > bi->orders)
                bi->orders = (unsigned)(o + 1);
        }
        json_array_foreach(unus, o, v) {
            if (o >= BUDDY_MAX_ORDERS)
                break;
            /* Fractions in the report, thousandths here (as the kernel rounds: down). */
            bz->unusable[o] = json_is_number(v) ? (unsigned)floor(json_number_value(v) * 1000.0 + 1e-6)
                                                : 0;
        }
    }
    return 0;
}

static int meminfo_from(json_t *rep, struct sampler *sm)
{
    json_t *m = json_object_get(rep, "meminfo");

    if (!json_is_object(m))
        return -EINVAL;
    memset(&sm->meminfo, 0, sizeof(sm->meminfo));
    for (int k = 0; k < MEMINFO_NKEYS; k++) {
        json_t *v = json_object_get(m, meminfo_key_name((enum meminfo_key)k));
        if (json_is_integer(v)) {
            sm->meminfo.value[k] = json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
            sm->meminfo.present |= 1u << k;
        }
    }
    return 0;
}

int reports_to_sampler(json_t *event, struct sampler *sm)
{
    static const struct {
        const char *kind;
        enum src_id src;
        int (*fill)(json_t *rep, struct sampler *sm);
    } kinds[] = {
        { "slab", SRC_SLABINFO, slab_from },
        { "vmalloc", SRC_VMALLOCINFO, vmalloc_from },
        { "buddy", SRC_BUDDYINFO, buddy_from },
        { "meminfo", SRC_MEMINFO, meminfo_from },
    };
    int mask = 0;

    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        json_t *rep = json_object_get(event, kinds[i].kind);
        int r;

        if (!rep)
            continue;
        r = kinds[i].fill(rep, sm);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            sm->valid &= ~SRC_BIT(kinds[i].src);
            continue;
        }
        sm->valid |= SRC_BIT(kinds[i].src);
        mask |= (int)SRC_BIT(kinds[i].src);
    }
    return mask;
}
