/*
 * libFuzzer target for slab_parse and kmalloc_build.
 *
 * Every input is parsed twice: into a slab_info kept across runs (the
 * daemon's steady state, where storage from a previous, larger sample is
 * reused) and into a fresh one.  Both must agree, and agree with
 * slab_parse_general (no fast path: every row through the general parser)
 * on the result, the message and every row.  Beyond the sanitizers it
 * checks what callers rely on: error messages are printable and bounded, and
 * on success every name is NUL-terminated, distinct and findable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"
#include "slab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const struct perr *err)
{
    size_t n = strnlen(err->msg, sizeof(err->msg));

    if (n == 0 || n == sizeof(err->msg))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)err->msg[i];
        if (c < 0x20 || c >= 0x7f)
            abort();
    }
}

static void check_table(const struct slab_info *si)
{
    for (size_t i = 0; i < si->n; i++) {
        const char *name = si->caches[i].name;
        if (strnlen(name, SLAB_NAME_MAX) >= SLAB_NAME_MAX || name[0] == '\0')
            abort();
        /* slab_find returns the first match, so a distinct name finds itself */
        if (si->n <= 512 && slab_find(si, name) != (long)i)
            abort();
    }
}

static void check_kmalloc(const struct slab_info *si, const struct kmalloc_table *kt)
{
    if (kt->n > si->n)
        abort();
    for (size_t i = 0; i < kt->n; i++) {
        const struct kmalloc_row *r = &kt->rows[i];
        if ((unsigned)r->variant >= KMALLOC_NVARIANTS || r->size == 0)
            abort();
        if (strnlen(r->cache, SLAB_NAME_MAX) >= SLAB_NAME_MAX)
            abort();
        if (i > 0 && (kt->rows[i - 1].size > r->size ||
                      (kt->rows[i - 1].size == r->size && kt->rows[i - 1].variant > r->variant)))
            abort();
        if (kmalloc_variant_parse(kmalloc_variant_name(r->variant)) != (int)r->variant)
            abort();
    }
}

/* a and b hold the same rows (the name buffers may differ after the NUL: reused storage) */
static bool same_rows(const struct slab_info *a, const struct slab_info *b)
{
    const size_t off = offsetof(struct slab_cache, active_objs);

    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->caches[i].name, b->caches[i].name) != 0 ||
            memcmp((const char *)&a->caches[i] + off, (const char *)&b->caches[i] + off,
                   sizeof(a->caches[i]) - off) != 0)
            return false;
    return true;
}

/* What the fast path accepts, the general parser reads the same; what it refuses, it decides. */
static void check_general(const char *buf, size_t size, int r, const struct perr *err,
                          const struct slab_info *si)
{
    static struct slab_info general;
    struct perr eg = { 0, "" };

    if (slab_parse_general(buf, size, 4096, &general, &eg) != r)
        abort();
    if (r < 0) {
        if (r == -EINVAL && (err->line != eg.line || strcmp(err->msg, eg.msg) != 0))
            abort();
        return;
    }
    if (!same_rows(&general, si) || general.fast_rows != 0 || si->fast_rows > si->n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct slab_info kept;
    static struct kmalloc_table kept_kt;
    struct slab_info fresh;
    struct kmalloc_table kt;
    struct perr err1 = { 0, "" }, err2 = { 0, "" };
    const char *buf = (const char *)data;
    int r1, r2;

    r1 = slab_parse(buf, size, 4096, &kept, &err1);
    slab_info_init(&fresh);
    r2 = slab_parse(buf, size, 4096, &fresh, &err2);
    if (r1 != r2)
        abort();
    check_general(buf, size, r2, &err2, &fresh);
    if (r1 < 0) {
        if (kept.n != 0 || fresh.n != 0)
            abort();
        if (r1 == -EINVAL) {
            check_message(&err1);
            if (err1.line != err2.line || strcmp(err1.msg, err2.msg) != 0)
                abort();
        }
        slab_info_free(&fresh);
        return 0;
    }
    if (!same_rows(&kept, &fresh))
        abort();
    /* the row grammar admits no NUL byte, which slab_parse relies on to skip scanning for one */
    if (memchr(data, '\0', size))
        abort();
    check_table(&fresh);

    if (kmalloc_build(&kept, &kept_kt) == 0)
        check_kmalloc(&kept, &kept_kt);
    kmalloc_table_init(&kt);
    if (kmalloc_build(&fresh, &kt) == 0) {
        check_kmalloc(&fresh, &kt);
        if (kt.n != kept_kt.n)
            abort();
    }
    for (size_t i = 0; i < fresh.n; i++) {
        uint64_t sz;
        enum kmalloc_variant v;
        (void)kmalloc_classify(fresh.caches[i].name, &sz, &v);
    }
    kmalloc_table_free(&kt);
    slab_info_free(&fresh);
    return 0;
}
