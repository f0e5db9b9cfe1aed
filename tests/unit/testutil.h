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

/* A string literal as (buf, len) without its terminating NUL. */
#define STRBUF(s) (s), (sizeof(s) - 1)

#endif
