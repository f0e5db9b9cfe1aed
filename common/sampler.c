#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const src_names[SRC_N] = {
    [SRC_SLABINFO] = "slabinfo",
    [SRC_VMALLOCINFO] = "vmallocinfo",
    [SRC_BUDDYINFO] = "buddyinfo",
    [SRC_MEMINFO] = "meminfo",
};

const char *src_name(enum src_id s)
{
    return (unsigned)s < SRC_N ? src_names[s] : "?";
}

int src_parse(const char *name)
{
    for (int i = 0; i < SRC_N; i++)
        if (strcmp(name, src_names[i]) == 0)
            return i;
    return -1;
}

/* errmsg = "<path>[:<line>]: <reason>" (composed in a copy: path lives in the same struct) */
static void src_set_error(struct source *src, unsigned line, const char *reason)
{
    char tmp[sizeof(src->errmsg)];

    if (line)
        snprintf(tmp, sizeof(tmp), "%s:%u: %s", src->pf.path, line, reason);
    else
        snprintf(tmp, sizeof(tmp), "%s: %s", src->pf.path, reason);
    memcpy(src->errmsg, tmp, sizeof(tmp));
}

static int src_open(struct sampler *sm, enum src_id s)
{
    struct source *src = &sm->src[s];
    char why[128];
    int r = procfile_open(&src->pf, sm->proc_root, src_names[s]);

    if (r < 0) {
        src->err = r;
        src_set_error(src, 0, procfile_strerror(r, src_names[s], why, sizeof(why)));
    }
    return r;
}

int sampler_init(struct sampler *sm, const char *proc_root, unsigned wanted, uint64_t page_size)
{
    int opened = 0;

    memset(sm, 0, sizeof(*sm));
    snprintf(sm->proc_root, sizeof(sm->proc_root), "%s", proc_root);
    sm->page_size = page_size;
    sm->wanted = wanted & SRC_ALL;
    slab_info_init(&sm->slab);
    kmalloc_table_init(&sm->kmalloc);
    vmalloc_info_init(&sm->vmalloc);
    buddy_info_init(&sm->buddy);
    for (int s = 0; s < SRC_N; s++) {
        procfile_init(&sm->src[s].pf);
        if ((sm->wanted & SRC_BIT(s)) && src_open(sm, (enum src_id)s) == 0)
            opened++;
    }
    return opened;
}

/*
 * The parse of the bytes just read.  When the last read parsed, its bytes
 * (pf.old) and its result are the base: equal bytes need no parse at all
 * (a memcmp is some hundred times cheaper than parsing), and the two big
 * files are parsed only where they differ.  Otherwise a plain parse.
 */
static int parse_source(struct sampler *sm, struct source *src, enum src_id s, struct perr *pe)
{
    const char *buf = src->pf.buf, *old = src->pf.old;
    size_t len = src->pf.len, old_len = src->pf.old_len;
    bool base = src->parsed, same = false;
    int r;

    if (base && len == old_len && memcmp(buf, old, len) == 0) {
        src->unchanged++;
        return 0;
    }
    src->gen++;
    switch (s) {
    case SRC_SLABINFO:
        if (base)
            r = slab_parse_incr(old, old_len, buf, len, sm->page_size, &sm->slab, &same, pe);
        else
            r = slab_parse(buf, len, sm->page_size, &sm->slab, pe);
        if (r == 0)
            r = same ? kmalloc_refresh(&sm->slab, &sm->kmalloc)
                     : kmalloc_build(&sm->slab, &sm->kmalloc);
        return r;
    case SRC_VMALLOCINFO:
        if (base)
            return vmalloc_parse_incr(old, old_len, buf, len, &sm->vmalloc, pe);
        return vmalloc_parse(buf, len, &sm->vmalloc, pe);
    case SRC_BUDDYINFO:
        return buddy_parse(buf, len, &sm->buddy, pe);
    case SRC_MEMINFO:
        return meminfo_parse(buf, len, &sm->meminfo, pe);
    case SRC_N:
        break;
    }
    return -EINVAL;
}

int sampler_read(struct sampler *sm, enum src_id s)
{
    struct source *src;
    struct perr pe = { 0, "" };
    uint64_t t0;
    char why[128];
    int r;

    if ((unsigned)s >= SRC_N || !(sm->wanted & SRC_BIT(s)))
        return -EINVAL;
    src = &sm->src[s];
    sm->valid &= ~SRC_BIT(s);
    sm->ring_fill.state_id = 0; /* the tables stop being a ring state's */
    /* until this read parses, the struct is not the parse of what the procfile holds */
    {
        bool base = src->parsed;
        src->parsed = false;
        if (src->pf.fd < 0 && (r = src_open(sm, s)) < 0) {
            src->failures++;
            return r;
        }
        t0 = util_mono_ns();
        r = procfile_read(&src->pf);
        src->parsed = base; /* pf.old is now the bytes of that parse */
    }
    if (r < 0) {
        src->parsed = false;
        src->gen++;
        src_set_error(src, 0, procfile_strerror(r, src_names[s], why, sizeof(why)));
        goto fail;
    }
    {
        uint64_t t1 = util_mono_ns();
        r = parse_source(sm, src, s, &pe);
        src->parse_ns = util_mono_ns() - t1;
    }
    src->parsed = r == 0;
    if (r == -EINVAL) {
        src_set_error(src, pe.line, pe.msg);
        goto fail;
    } else if (r < 0) {
        src_set_error(src, 0, strerror(-r));
        goto fail;
    }
    src->read_ns = util_mono_ns() - t0;
    src->err = 0;
    src->errmsg[0] = '\0';
    src->reads++;
    sm->valid |= SRC_BIT(s);
    return 0;
fail:
    src->read_ns = util_mono_ns() - t0;
    src->err = r;
    src->failures++;
    return r;
}

int sampler_read_all(struct sampler *sm)
{
    int failed = 0;

    for (int s = 0; s < SRC_N; s++)
        if ((sm->wanted & SRC_BIT(s)) && sampler_read(sm, (enum src_id)s) < 0)
            failed++;
    return failed;
}

void sampler_fini(struct sampler *sm)
{
    for (int s = 0; s < SRC_N; s++)
        procfile_close(&sm->src[s].pf);
    slab_info_free(&sm->slab);
    kmalloc_table_free(&sm->kmalloc);
    vmalloc_info_free(&sm->vmalloc);
    buddy_info_free(&sm->buddy);
    free(sm->ring_fill.row);
    free(sm->ring_fill.zone_orders);
    memset(&sm->ring_fill, 0, sizeof(sm->ring_fill));
}
