/*
 * libFuzzer target for the incremental parsers: the input is two samples,
 * split at the first "\n--\n" (or at the middle, on a line boundary), and
 * slab_parse_incr / vmalloc_parse_incr of the second from the first must
 * give exactly what slab_parse / vmalloc_parse give on the second alone:
 * the same result code, error line and message, rows in the same order,
 * sums and counts.  The same bytes go to both parsers (one of them mostly
 * fails early on the other's format, which is part of the test).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slab.h"
#include "vmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void split(const char *d, size_t n, size_t *plen, const char **cur, size_t *clen)
{
    const char *sep = memmem(d, n, "\n--\n", 4);
    const char *nl;

    if (sep) {
        *plen = (size_t)(sep - d) + 1;
        *cur = sep + 4;
    } else {
        nl = memchr(d + n / 2, '\n', n - n / 2);
        *plen = nl ? (size_t)(nl - d) + 1 : n;
        *cur = d + *plen;
    }
    *clen = (size_t)(d + n - *cur);
}

static void vm_check(const char *prev, size_t plen, const char *cur, size_t clen)
{
    static struct vmalloc_info inc, full;
    struct perr e1 = { 0, "" }, e2 = { 0, "" };
    int r1, r2;

    if (vmalloc_parse(prev, plen, &inc, &e1) < 0)
        return; /* the sampler only goes incremental from a good sample */
    r2 = vmalloc_parse_incr(prev, plen, cur, clen, &inc, &e2);
    r1 = vmalloc_parse(cur, clen, &full, &e1);
    if (r1 != r2 || (r1 < 0 && (e1.line != e2.line || strcmp(e1.msg, e2.msg) != 0)))
        abort();
    if (full.n != inc.n || memcmp(full.types, inc.types, sizeof(full.types)) != 0 ||
        memcmp(&full.total, &inc.total, sizeof(full.total)) != 0 ||
        memcmp(&full.unpurged, &inc.unpurged, sizeof(full.unpurged)) != 0)
        abort();
    for (size_t i = 0; i < full.n; i++) {
        const struct vmalloc_row *a = &full.rows[i], *b = &inc.rows[i];
        if (strcmp(a->caller, b->caller) || strcmp(a->module, b->module) || a->type != b->type ||
            a->flags != b->flags || a->areas != b->areas || a->bytes != b->bytes ||
            a->pages != b->pages || a->node_mask != b->node_mask ||
            memcmp(a->nodes, b->nodes, sizeof(a->nodes)) != 0)
            abort();
    }
}

static void slab_check(const char *prev, size_t plen, const char *cur, size_t clen)
{
    static struct slab_info inc, full;
    struct perr e1 = { 0, "" }, e2 = { 0, "" };
    bool same;
    int r1, r2;

    if (slab_parse(prev, plen, 4096, &inc, &e1) < 0)
        return;
    r2 = slab_parse_incr(prev, plen, cur, clen, 4096, &inc, &same, &e2);
    r1 = slab_parse(cur, clen, 4096, &full, &e1);
    if (r1 != r2 || (r1 < 0 && (e1.line != e2.line || strcmp(e1.msg, e2.msg) != 0)))
        abort();
    /* on an error only n == 0 is promised (the version fields may be the last good parse's) */
    if (full.n != inc.n ||
        (r1 == 0 && (full.version_minor != inc.version_minor || full.statistics != inc.statistics)))
        abort();
    for (size_t i = 0; i < full.n; i++) {
        const struct slab_cache *a = &full.caches[i], *b = &inc.caches[i];
        if (strcmp(a->name, b->name) || a->active_objs != b->active_objs ||
            a->num_objs != b->num_objs || a->objsize != b->objsize ||
            a->objperslab != b->objperslab || a->pagesperslab != b->pagesperslab ||
            a->limit != b->limit || a->batchcount != b->batchcount ||
            a->sharedfactor != b->sharedfactor || a->active_slabs != b->active_slabs ||
            a->num_slabs != b->num_slabs || a->sharedavail != b->sharedavail ||
            a->bytes_total != b->bytes_total || a->bytes_active != b->bytes_active)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data, *cur;
    size_t plen, clen;

    split(d, size, &plen, &cur, &clen);
    vm_check(d, plen, cur, clen);
    slab_check(d, plen, cur, clen);
    return 0;
}
