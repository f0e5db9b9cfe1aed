#include "metrics.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"

void metrics_label_value(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*s, f);
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool cache_wanted(const struct metrics_opts *o, const char *name)
{
    if (o->cache_include && regexec(o->cache_include, name, 0, NULL, 0) != 0)
        return false;
    if (o->cache_exclude && regexec(o->cache_exclude, name, 0, NULL, 0) == 0)
        return false;
    return true;
}

static void slab_metrics(FILE *f, const struct slab_info *si, const struct metrics_opts *o)
{
    family(f, "kmemwatch_slab_objects", "gauge", "Objects in a slab cache, active or total (/proc/slabinfo).");
    for (size_t i = 0; i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        if (!cache_wanted(o, c->name))
            continue;
        fputs("kmemwatch_slab_objects{cache=\"", f);
        metrics_label_value(f, c->name);
        fprintf(f, "\",state=\"active\"} %llu\n", (unsigned long long)c->active_objs);
        fputs("kmemwatch_slab_objects{cache=\"", f);
        metrics_label_value(f, c->name);
        fprintf(f, "\",state=\"total\"} %llu\n", (unsigned long long)c->num_objs);
    }
    family(f, "kmemwatch_slab_bytes", "gauge",
           "Memory of a slab cache: total = slabs x pages per slab x page size, active = active objects x object size.");
    for (size_t i = 0; i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        if (!cache_wanted(o, c->name))
            continue;
        fputs("kmemwatch_slab_bytes{cache=\"", f);
        metrics_label_value(f, c->name);
        fprintf(f, "\",state=\"total\"} %llu\n", (unsigned long long)c->bytes_total);
        fputs("kmemwatch_slab_bytes{cache=\"", f);
        metrics_label_value(f, c->name);
        fprintf(f, "\",state=\"active\"} %llu\n", (unsigned long long)c->bytes_active);
    }
    family(f, "kmemwatch_slab_object_size_bytes", "gauge", "Object size of a slab cache, debug padding included.");
    for (size_t i = 0; i < si->n; i++) {
        const struct slab_cache *c = &si->caches[i];
        if (!cache_wanted(o, c->name))
            continue;
        fputs("kmemwatch_slab_object_size_bytes{cache=\"", f);
        metrics_label_value(f, c->name);
        fprintf(f, "\"} %llu\n", (unsigned long long)c->objsize);
    }
}

static void kmalloc_metrics(FILE *f, const struct kmalloc_table *kt)
{
    family(f, "kmemwatch_kmalloc_bytes", "gauge", "Memory of a kmalloc size class and variant (slab pages held).");
    for (size_t i = 0; i < kt->n; i++)
        fprintf(f, "kmemwatch_kmalloc_bytes{size=\"%llu\",variant=\"%s\"} %llu\n",
                (unsigned long long)kt->rows[i].size, kmalloc_variant_name(kt->rows[i].variant),
                (unsigned long long)kt->rows[i].bytes_total);
    family(f, "kmemwatch_kmalloc_objects", "gauge", "Objects of a kmalloc size class and variant, active or total.");
    for (size_t i = 0; i < kt->n; i++) {
        const struct kmalloc_row *k = &kt->rows[i];
        fprintf(f, "kmemwatch_kmalloc_objects{size=\"%llu\",variant=\"%s\",state=\"active\"} %llu\n",
                (unsigned long long)k->size, kmalloc_variant_name(k->variant), (unsigned long long)k->active_objs);
        fprintf(f, "kmemwatch_kmalloc_objects{size=\"%llu\",variant=\"%s\",state=\"total\"} %llu\n",
                (unsigned long long)k->size, kmalloc_variant_name(k->variant), (unsigned long long)k->num_objs);
    }
}

static int cmp_rows_by_bytes(const void *a, const void *b)
{
    const struct vmalloc_row *x = *(const struct vmalloc_row *const *)a;
    const struct vmalloc_row *y = *(const struct vmalloc_row *const *)b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void vm_line(FILE *f, const char *metric, const struct vmalloc_row *r, uint64_t v)
{
    fprintf(f, "%s{caller=\"", metric);
    metrics_label_value(f, r->caller);
    fputs("\",module=\"", f);
    metrics_label_value(f, r->module);
    fprintf(f, "\",type=\"%s\"} %llu\n", vmalloc_type_name(r->type), (unsigned long long)v);
}

static int vmalloc_metrics(FILE *f, const struct vmalloc_info *vi, const struct metrics_opts *o)
{
    const struct vmalloc_row **rows = NULL;
    struct vmalloc_row other[VMALLOC_NTYPES];
    size_t n = vi->n, keep;
    static const struct {
        const char *name, *help;
        size_t off;
    } fams[] = {
        { "kmemwatch_vmalloc_bytes", "Address space of vmalloc areas by caller, module and type (guard pages included).",
          offsetof(struct vmalloc_row, bytes) },
        { "kmemwatch_vmalloc_pages", "Pages held by vmalloc areas by caller, module and type.",
          offsetof(struct vmalloc_row, pages) },
        { "kmemwatch_vmalloc_areas", "Number of vmalloc areas by caller, module and type.",
          offsetof(struct vmalloc_row, areas) },
    };

    if (n) {
        rows = malloc(n * sizeof(*rows));
        if (!rows)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        rows[i] = &vi->rows[i];
    qsort(rows, n, sizeof(*rows), cmp_rows_by_bytes);
    keep = o->vmalloc_top && o->vmalloc_top < n ? o->vmalloc_top : n;
    /* the long tail, summed per type as caller="other" */
    memset(other, 0, sizeof(other));
    for (int t = 0; t < VMALLOC_NTYPES; t++) {
        snprintf(other[t].caller, sizeof(other[t].caller), "other");
        other[t].type = (enum vmalloc_type)t;
    }
    for (size_t i = keep; i < n; i++) {
        struct vmalloc_row *ot = &other[rows[i]->type];
        ot->areas += rows[i]->areas;
        ot->bytes += rows[i]->bytes;
        ot->pages += rows[i]->pages;
    }
    for (size_t k = 0; k < ARRAY_SIZE(fams); k++) {
        family(f, fams[k].name, "gauge", fams[k].help);
        for (size_t i = 0; i < keep; i++)
            vm_line(f, fams[k].name, rows[i], *(const uint64_t *)(const void *)((const char *)rows[i] + fams[k].off));
        for (int t = 0; t < VMALLOC_NTYPES; t++)
            if (other[t].areas)
                vm_line(f, fams[k].name, &other[t],
                        *(const uint64_t *)(const void *)((const char *)&other[t] + fams[k].off));
    }
    free(rows);
    family(f, "kmemwatch_vmalloc_total_bytes", "gauge", "Address space of all vmalloc areas (unpurged excluded).");
    fprintf(f, "kmemwatch_vmalloc_total_bytes %llu\n", (unsigned long long)vi->total.bytes);
    family(f, "kmemwatch_vmalloc_total_pages", "gauge", "Pages held by all vmalloc areas.");
    fprintf(f, "kmemwatch_vmalloc_total_pages %llu\n", (unsigned long long)vi->total.pages);
    family(f, "kmemwatch_vmalloc_unpurged_bytes", "gauge", "Address space of lazily freed vmalloc areas not yet purged (not a leak).");
    fprintf(f, "kmemwatch_vmalloc_unpurged_bytes %llu\n", (unsigned long long)vi->unpurged.bytes);
    family(f, "kmemwatch_vmalloc_unpurged_areas", "gauge", "Lazily freed vmalloc areas not yet purged.");
    fprintf(f, "kmemwatch_vmalloc_unpurged_areas %llu\n", (unsigned long long)vi->unpurged.areas);
    return 0;
}

static void buddy_metrics(FILE *f, const struct buddy_info *bi)
{
    family(f, "kmemwatch_buddy_free_blocks", "gauge", "Free blocks of 2^order pages per node and zone (/proc/buddyinfo).");
    for (size_t i = 0; i < bi->n; i++)
        for (unsigned k = 0; k < bi->orders; k++) {
            fprintf(f, "kmemwatch_buddy_free_blocks{node=\"%u\",zone=\"", bi->zones[i].node);
            metrics_label_value(f, bi->zones[i].zone);
            fprintf(f, "\",order=\"%u\"} %llu\n", k, (unsigned long long)bi->zones[i].free[k]);
        }
    family(f, "kmemwatch_buddy_free_pages", "gauge", "Free pages per node and zone.");
    for (size_t i = 0; i < bi->n; i++) {
        fprintf(f, "kmemwatch_buddy_free_pages{node=\"%u\",zone=\"", bi->zones[i].node);
        metrics_label_value(f, bi->zones[i].zone);
        fprintf(f, "\"} %llu\n", (unsigned long long)bi->zones[i].free_pages);
    }
    family(f, "kmemwatch_buddy_unusable_index", "gauge",
           "Unusable free space index per order: share of free memory that cannot serve an allocation of that order.");
    for (size_t i = 0; i < bi->n; i++)
        for (unsigned k = 0; k < bi->orders; k++) {
            fprintf(f, "kmemwatch_buddy_unusable_index{node=\"%u\",zone=\"", bi->zones[i].node);
            metrics_label_value(f, bi->zones[i].zone);
            fprintf(f, "\",order=\"%u\"} %.3f\n", k, bi->zones[i].unusable[k] / 1000.0);
        }
}

static void meminfo_metrics(FILE *f, const struct meminfo *mi)
{
    family(f, "kmemwatch_meminfo_bytes", "gauge", "Kernel memory totals from /proc/meminfo.");
    for (int k = 0; k < MEMINFO_NKEYS; k++)
        if (meminfo_has(mi, (enum meminfo_key)k))
            fprintf(f, "kmemwatch_meminfo_bytes{field=\"%s\"} %llu\n", meminfo_key_name((enum meminfo_key)k),
                    (unsigned long long)mi->value[k]);
}

static void growth_labels(FILE *f, const char *metric, const struct growth_series *g)
{
    fprintf(f, "%s{kind=\"%s\",name=\"", metric, g->kind);
    metrics_label_value(f, g->name);
    fprintf(f, "\",field=\"%s\"", g->field);
}

static void growth_metrics(FILE *f, const struct metrics_growth *mg)
{
    unsigned k = 0;

    family(f, "kmemwatch_growth_bytes_per_hour", "gauge",
           "Least-squares growth rate of the fastest-growing byte series over the window (kmemctl growth).");
    for (size_t i = 0; i < mg->n && k < mg->top; i++) {
        const struct growth_series *g = &mg->series[i];
        if (strcmp(g->unit, "bytes") != 0 || !(g->fit.per_hour > 0))
            continue;
        growth_labels(f, "kmemwatch_growth_bytes_per_hour", g);
        fprintf(f, ",window=\"%llu\"} %.0f\n", (unsigned long long)mg->window_s, g->fit.per_hour);
        k++;
    }
    family(f, "kmemwatch_growth_steadiness", "gauge",
           "How steadily the same series grew over the window: 1 a steady ramp, 0 flat, a spike, a step or a sawtooth.");
    k = 0;
    for (size_t i = 0; i < mg->n && k < mg->top; i++) {
        const struct growth_series *g = &mg->series[i];
        if (strcmp(g->unit, "bytes") != 0 || !(g->fit.per_hour > 0))
            continue;
        growth_labels(f, "kmemwatch_growth_steadiness", g);
        fprintf(f, ",window=\"%llu\"} %.3f\n", (unsigned long long)mg->window_s, g->fit.steadiness);
        k++;
    }
    family(f, "kmemwatch_leak_suspect", "gauge",
           "1 for each series the daemon holds for a leak suspect (steady growth over the configured window and size).");
    for (size_t i = 0; i < mg->nsuspects; i++) {
        growth_labels(f, "kmemwatch_leak_suspect", &mg->suspects[i]);
        fputs("} 1\n", f);
    }
    family(f, "kmemwatch_leak_suspects", "gauge", "Number of leak suspects.");
    fprintf(f, "kmemwatch_leak_suspects %zu\n", mg->nsuspects);
}

/* A counter family with one line per wanted source: the uint64_t at offset off of its stats. */
static void source_counter(FILE *f, const struct sampler *sm, const struct metrics_extra *x,
                           const char *name, const char *help, size_t off)
{
    family(f, name, "counter", help);
    for (int s = 0; s < SRC_N; s++) {
        uint64_t v;

        if (!(sm->wanted & SRC_BIT(s)))
            continue;
        memcpy(&v, (const char *)&x->src[s] + off, sizeof(v));
        fprintf(f, "%s{source=\"%s\"} %llu\n", name, src_name((enum src_id)s), (unsigned long long)v);
    }
}

static void source_metrics(FILE *f, const struct sampler *sm, const struct metrics_extra *x)
{
    family(f, "kmemwatch_source_up", "gauge", "1 when the last read of the source succeeded.");
    for (int s = 0; s < SRC_N; s++)
        if (sm->wanted & SRC_BIT(s))
            fprintf(f, "kmemwatch_source_up{source=\"%s\"} %d\n", src_name((enum src_id)s), x->src[s].up ? 1 : 0);
    source_counter(f, sm, x, "kmemwatch_samples_total", "Samples taken of the source.",
                   offsetof(struct metrics_source_stats, samples));
    source_counter(f, sm, x, "kmemwatch_sample_errors_total",
                   "Samples of the source that failed (unreadable or malformed).",
                   offsetof(struct metrics_source_stats, errors));
    source_counter(f, sm, x, "kmemwatch_samples_late_total",
                   "Samples taken more than 100 ms after their deadline because kmemwatchd was busy.",
                   offsetof(struct metrics_source_stats, late));
    source_counter(f, sm, x, "kmemwatch_samples_delayed_total",
                   "Samples taken more than 100 ms after their deadline because the system did not run kmemwatchd in time.",
                   offsetof(struct metrics_source_stats, delayed));
    family(f, "kmemwatch_read_duration_seconds", "gauge", "Time the last read and parse of the source took.");
    for (int s = 0; s < SRC_N; s++)
        if (sm->wanted & SRC_BIT(s))
            fprintf(f, "kmemwatch_read_duration_seconds{source=\"%s\"} %.6f\n", src_name((enum src_id)s),
                    x->src[s].read_seconds);
    if (x->uptime_seconds >= 0) {
        family(f, "kmemwatch_uptime_seconds", "gauge", "Seconds since kmemwatchd started.");
        fprintf(f, "kmemwatch_uptime_seconds %.3f\n", x->uptime_seconds);
        family(f, "kmemwatch_clients", "gauge", "Connected socket clients.");
        fprintf(f, "kmemwatch_clients %llu\n", (unsigned long long)x->clients);
    }
    if (x->ring_bytes) {
        family(f, "kmemwatch_ring_bytes", "gauge", "Size of the history ring file.");
        fprintf(f, "kmemwatch_ring_bytes %llu\n", (unsigned long long)x->ring_bytes);
    }
}

int metrics_write(FILE *f, const struct sampler *sm, const struct metrics_opts *o,
                  const struct metrics_extra *x)
{
    static const struct metrics_opts none = { NULL, NULL, 0 };

    if (!o)
        o = &none;
    if (sampler_valid(sm, SRC_SLABINFO)) {
        slab_metrics(f, &sm->slab, o);
        kmalloc_metrics(f, &sm->kmalloc);
    }
    if (sampler_valid(sm, SRC_VMALLOCINFO) && vmalloc_metrics(f, &sm->vmalloc, o) < 0)
        return -ENOMEM;
    if (sampler_valid(sm, SRC_BUDDYINFO))
        buddy_metrics(f, &sm->buddy);
    if (sampler_valid(sm, SRC_MEMINFO))
        meminfo_metrics(f, &sm->meminfo);
    if (x->growth)
        growth_metrics(f, x->growth);
    source_metrics(f, sm, x);
    return ferror(f) ? -EIO : 0;
}
