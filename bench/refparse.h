/*
 * refparse: the reference parsers of bench_parse, written the way the tools
 * people run today parse these files (procps slabtop's parse_slabinfo20,
 * procps meminfo, a plain vmallocinfo summariser): one line copied out the
 * way fgets() does, then sscanf()/strtok_r()/strtoul() on it.  They compute
 * the same figures as ours (per-cache counts and bytes; vmalloc areas, bytes,
 * pages and nodes per caller/module/type; free pages per zone; the meminfo
 * keys) so that the comparison is of equal work.  Only bench_parse includes
 * this file.
 */
#ifndef KMW_BENCH_REFPARSE_H
#define KMW_BENCH_REFPARSE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_LINE_MAX 4096

/* fgets() on a buffer: the next line, newline included, NUL-terminated, into line. */
static const char *ref_next_line(const char *p, const char *end, char *line)
{
    const char *nl;
    size_t n;

    if (p >= end)
        return NULL;
    nl = memchr(p, '\n', (size_t)(end - p));
    n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    if (n > REF_LINE_MAX - 1)
        n = REF_LINE_MAX - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    return p + n;
}

/* ---- slabinfo: procps-ng slabtop (proc/slab.c parse_slabinfo20) ---- */

struct ref_slab {
    char name[128];
    unsigned long active_objs, num_objs, objsize, objperslab, pagesperslab;
    unsigned long active_slabs, num_slabs;
    unsigned long long bytes_total, bytes_active;
};

struct ref_slab_info {
    size_t n, cap;
    struct ref_slab *c;
    unsigned long long total_objs;
};

static int ref_slab_parse(const char *buf, size_t len, unsigned long page_size,
                          struct ref_slab_info *si)
{
    const char *p = buf, *end = buf + len;
    char line[REF_LINE_MAX];
    int major, minor;

    si->n = 0;
    si->total_objs = 0;
    p = ref_next_line(p, end, line);
    if (!p || sscanf(line, "slabinfo - version: %d.%d", &major, &minor) != 2)
        return -1;
    while ((p = ref_next_line(p, end, line))) {
        struct ref_slab *c;
        int assigned;

        if (line[0] == '#')
            continue;
        if (si->n == si->cap) {
            si->cap = si->cap ? si->cap * 2 : 256;
            si->c = realloc(si->c, si->cap * sizeof(*si->c));
            if (!si->c)
                abort();
        }
        c = &si->c[si->n];
        assigned = sscanf(line,
                          "%127s %lu %lu %lu %lu %lu : tunables %*u %*u %*u : slabdata %lu %lu %*u",
                          c->name, &c->active_objs, &c->num_objs, &c->objsize, &c->objperslab,
                          &c->pagesperslab, &c->active_slabs, &c->num_slabs);
        if (assigned < 8)
            return -1;
        c->bytes_total = (unsigned long long)c->num_slabs * c->pagesperslab * page_size;
        c->bytes_active = (unsigned long long)c->active_objs * c->objsize;
        si->total_objs += c->num_objs;
        si->n++;
    }
    return 0;
}

/* ---- vmallocinfo: sscanf for the fixed part, strtok_r for the words, a hash for callers ---- */

struct ref_vm_row {
    char caller[128];
    char module[64];
    int type;
    unsigned long long areas, bytes, pages;
    unsigned long long nodes[64];
};

struct ref_vm_info {
    size_t n, cap;
    struct ref_vm_row *rows;
    unsigned *hash; /* index + 1, open addressing */
    size_t hcap;
    unsigned long long unpurged_areas, unpurged_bytes, total_bytes;
};

static unsigned ref_fnv(const char *c, const char *m, int type)
{
    unsigned h = 2166136261u;

    for (; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (; *m; m++)
        h = (h ^ (unsigned char)*m) * 16777619u;
    return (h ^ (unsigned)type) * 16777619u;
}

static struct ref_vm_row *ref_vm_row(struct ref_vm_info *vi, const char *caller, const char *module,
                                     int type)
{
    unsigned h = ref_fnv(caller, module, type);
    size_t i;

    if (vi->n + 1 > vi->hcap / 2) {
        size_t nc = vi->hcap ? vi->hcap * 2 : 256;
        free(vi->hash);
        vi->hash = calloc(nc, sizeof(*vi->hash));
        if (!vi->hash)
            abort();
        vi->hcap = nc;
        for (size_t k = 0; k < vi->n; k++) {
            struct ref_vm_row *r = &vi->rows[k];
            for (i = ref_fnv(r->caller, r->module, r->type) & (nc - 1); vi->hash[i];
                 i = (i + 1) & (nc - 1))
                ;
            vi->hash[i] = (unsigned)k + 1;
        }
    }
    for (i = h & (vi->hcap - 1); vi->hash[i]; i = (i + 1) & (vi->hcap - 1)) {
        struct ref_vm_row *r = &vi->rows[vi->hash[i] - 1];
        if (r->type == type && strcmp(r->caller, caller) == 0 && strcmp(r->module, module) == 0)
            return r;
    }
    if (vi->n == vi->cap) {
        vi->cap = vi->cap ? vi->cap * 2 : 64;
        vi->rows = realloc(vi->rows, vi->cap * sizeof(*vi->rows));
        if (!vi->rows)
            abort();
    }
    vi->hash[i] = (unsigned)vi->n + 1;
    struct ref_vm_row *r = &vi->rows[vi->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->caller, sizeof(r->caller), "%s", caller);
    snprintf(r->module, sizeof(r->module), "%s", module);
    r->type = type;
    return r;
}

static int ref_vmalloc_parse(const char *buf, size_t len, struct ref_vm_info *vi)
{
    const char *p = buf, *end = buf + len;
    char line[REF_LINE_MAX];

    vi->n = 0;
    vi->unpurged_areas = vi->unpurged_bytes = vi->total_bytes = 0;
    if (vi->hash)
        memset(vi->hash, 0, vi->hcap * sizeof(*vi->hash));
    while ((p = ref_next_line(p, end, line))) {
        unsigned long long a, b, size, pages = 0;
        unsigned long long nv[64];
        unsigned long long nm = 0;
        char caller[128] = "unknown", module[64] = "", *save = NULL, *tok;
        int off = 0, type = 6, first = 1;

        if (sscanf(line, "0x%llx-0x%llx %llu %n", &a, &b, &size, &off) < 3 || !off)
            return -1;
        for (tok = strtok_r(line + off, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
            unsigned node;
            unsigned long long v;

            if (strncmp(tok, "pages=", 6) == 0) {
                pages += strtoull(tok + 6, NULL, 10);
            } else if (strncmp(tok, "phys=", 5) == 0) {
                /* an address: skipped */
            } else if (sscanf(tok, "N%u=%llu", &node, &v) == 2 && node < 64) {
                nv[node] = (nm >> node & 1) ? nv[node] + v : v;
                nm |= 1ull << node;
            } else if (strcmp(tok, "ioremap") == 0) {
                type = 2;
            } else if (strcmp(tok, "vmalloc") == 0) {
                type = type == 6 || type == 1 ? 0 : type;
            } else if (strcmp(tok, "vmap") == 0) {
                type = type == 6 ? 1 : type;
            } else if (strcmp(tok, "vm_map_ram") == 0) {
                type = type == 6 ? 3 : type;
            } else if (strcmp(tok, "user") == 0 || strcmp(tok, "vpages") == 0 ||
                       strcmp(tok, "sparse") == 0 || strcmp(tok, "dma-coherent") == 0) {
                /* flags */
            } else if (first) {
                if (strcmp(tok, "unpurged") == 0) {
                    vi->unpurged_areas++;
                    vi->unpurged_bytes += size;
                    goto next;
                }
                char *plus = strchr(tok, '+');
                if (plus)
                    *plus = '\0';
                if (strncmp(tok, "0x", 2) != 0)
                    snprintf(caller, sizeof(caller), "%s", tok);
                char *m = strtok_r(NULL, " \t\n", &save);
                if (m && m[0] == '[') {
                    size_t ml = strlen(m);
                    if (ml >= 2 && m[ml - 1] == ']')
                        m[ml - 1] = '\0';
                    snprintf(module, sizeof(module), "%s", m + 1);
                } else if (m) {
                    /* not a module: a word of its own (kernel order puts pages= next) */
                    if (strncmp(m, "pages=", 6) == 0)
                        pages += strtoull(m + 6, NULL, 10);
                    else if (strcmp(m, "ioremap") == 0)
                        type = 2;
                    else if (strcmp(m, "vmap") == 0)
                        type = 1;
                    else if (strcmp(m, "vmalloc") == 0)
                        type = 0;
                }
            }
            first = 0;
        }
        {
            struct ref_vm_row *r = ref_vm_row(vi, caller, module, type);
            r->areas++;
            r->bytes += size;
            r->pages += pages;
            for (unsigned k = 0; k < 64; k++)
                if (nm >> k & 1)
                    r->nodes[k] += nv[k];
            vi->total_bytes += size;
        }
    next:;
    }
    return 0;
}

/* ---- buddyinfo ---- */

struct ref_buddy_info {
    size_t n;
    struct {
        unsigned node;
        char zone[32];
        unsigned long free[32];
        unsigned long long free_pages;
    } z[64];
};

static int ref_buddy_parse(const char *buf, size_t len, struct ref_buddy_info *bi)
{
    const char *p = buf, *end = buf + len;
    char line[REF_LINE_MAX];

    bi->n = 0;
    while ((p = ref_next_line(p, end, line)) && bi->n < 64) {
        int off = 0;
        char *s, *e;
        unsigned o = 0;

        if (sscanf(line, "Node %u, zone %31s %n", &bi->z[bi->n].node, bi->z[bi->n].zone, &off) < 2)
            return -1;
        bi->z[bi->n].free_pages = 0;
        for (s = line + off; o < 32; s = e, o++) {
            unsigned long v = strtoul(s, &e, 10);
            if (e == s)
                break;
            bi->z[bi->n].free[o] = v;
            bi->z[bi->n].free_pages += (unsigned long long)v << o;
        }
        bi->n++;
    }
    return 0;
}

/* ---- meminfo: procps-style "%[^:]: %llu" and a key compare ---- */

static const char *const ref_meminfo_keys[] = {
    "MemTotal",     "MemFree",    "MemAvailable", "Slab",         "SReclaimable",
    "SUnreclaim",   "KReclaimable", "VmallocUsed", "VmallocTotal", "Percpu",
};

struct ref_meminfo {
    unsigned long long v[10];
};

static int ref_meminfo_parse(const char *buf, size_t len, struct ref_meminfo *mi)
{
    const char *p = buf, *end = buf + len;
    char line[REF_LINE_MAX];

    memset(mi, 0, sizeof(*mi));
    while ((p = ref_next_line(p, end, line))) {
        char key[64];
        unsigned long long v;

        if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
            return -1;
        for (size_t k = 0; k < 10; k++)
            if (strcmp(key, ref_meminfo_keys[k]) == 0)
                mi->v[k] = v * 1024;
    }
    return 0;
}

#endif
