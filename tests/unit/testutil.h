/*
 * Shared helpers for the cmocka unit tests (header-only: every test is its
 * own binary).  Tests run from the repository root, so fixture paths are
 * "tests/fixtures/...".
 */
#ifndef KMW_TESTUTIL_H
#define KMW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <unistd.h>

#include "kmalloc.h"
#include "ring.h"
#include "slab.h"
#include "vmalloc.h"

/* Read a whole fixture file; fails the test if it cannot. Caller frees. */
static inline char *fixture_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
        fail_msg("short read on %s", path);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Make a private directory "/tmp/kmw-test-TAG.XXXXXX" in buf; 0 or -1. */
static inline int test_tmpdir_make(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/kmw-test-%s.XXXXXX", tag);
    return mkdtemp(buf) ? 0 : -1;
}

/* Remove a directory made by test_tmpdir_make and the files in it. */
static inline void test_tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[4096];

    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* The counts of two vmalloc rows of the same caller (what every parse must agree on). */
static inline void assert_vmalloc_counts_equal(const struct vmalloc_row *x, const struct vmalloc_row *y)
{
    assert_int_equal(x->flags, y->flags);
    assert_int_equal(x->areas, y->areas);
    assert_int_equal(x->bytes, y->bytes);
    assert_int_equal(x->pages, y->pages);
    assert_int_equal(x->node_mask, y->node_mask);
    assert_memory_equal(x->nodes, y->nodes, sizeof(x->nodes));
}

/* A ring at path holding n simulated idle seconds from start (ring_fill_idle) on the idle fixture. */
static inline void test_idle_ring(const char *path, const struct ring_config *cfg, uint64_t n,
                                  uint64_t start, uint32_t seed)
{
    char note[512];
    struct sampler sm;
    struct ring *r;

    assert_int_equal(sampler_init(&sm, "tests/fixtures/idle", SRC_ALL, 4096), SRC_N);
    assert_int_equal(sampler_read_all(&sm), 0);
    assert_int_equal(ring_open(&r, path, cfg, note, sizeof(note)), 0);
    assert_int_equal(ring_fill_idle(r, &sm, n, start, seed), 0);
    ring_close(r);
    sampler_fini(&sm);
}

/* Two kmalloc tables row by row (built from the same slab table, they are in the same order). */
static inline void assert_kmalloc_equal(const struct kmalloc_table *a, const struct kmalloc_table *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct kmalloc_row *x = &a->rows[i], *y = &b->rows[i];
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->variant, y->variant);
        assert_string_equal(x->cache, y->cache);
        assert_int_equal(x->objsize, y->objsize);
        assert_int_equal(x->active_objs, y->active_objs);
        assert_int_equal(x->num_objs, y->num_objs);
        assert_int_equal(x->bytes_total, y->bytes_total);
        assert_int_equal(x->bytes_active, y->bytes_active);
    }
}

/* Every counted field of two slab caches (not the name) is equal. */
static inline void assert_slab_fields_equal(const struct slab_cache *x, const struct slab_cache *y)
{
    assert_int_equal(x->active_objs, y->active_objs);
    assert_int_equal(x->num_objs, y->num_objs);
    assert_int_equal(x->objsize, y->objsize);
    assert_int_equal(x->objperslab, y->objperslab);
    assert_int_equal(x->pagesperslab, y->pagesperslab);
    assert_int_equal(x->limit, y->limit);
    assert_int_equal(x->batchcount, y->batchcount);
    assert_int_equal(x->sharedfactor, y->sharedfactor);
    assert_int_equal(x->active_slabs, y->active_slabs);
    assert_int_equal(x->num_slabs, y->num_slabs);
    assert_int_equal(x->sharedavail, y->sharedavail);
    assert_int_equal(x->bytes_total, y->bytes_total);
    assert_int_equal(x->bytes_active, y->bytes_active);
}

/* A string literal as (buf, len) without its terminating NUL. */
#define STRBUF(s) (s), (sizeof(s) - 1)

#endif
