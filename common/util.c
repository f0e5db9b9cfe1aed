#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int perr_set(struct perr *err, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

void line_iter_init(struct line_iter *it, const char *buf, size_t len)
{
    it->pos = buf;
    it->end = buf + len;
    it->lineno = 0;
    it->last_line_may_lack_newline = false;
}

int line_iter_next(struct line_iter *it, const char **ls, const char **le, struct perr *err)
{
    const char *nl, *nul;
    size_t rest;

    if (it->pos >= it->end)
        return 0;
    it->lineno++;
    rest = (size_t)(it->end - it->pos);
    nl = memchr(it->pos, '\n', rest);
    if (!nl && it->last_line_may_lack_newline)
        nl = it->end;
    if (!nl)
        return perr_set(err, it->lineno, "truncated line (no newline at end of file)");
    nul = memchr(it->pos, '\0', (size_t)(nl - it->pos));
    if (nul)
        return perr_set(err, it->lineno, "NUL byte in line");
    *ls = it->pos;
    *le = nl;
    it->pos = nl < it->end ? nl + 1 : nl;
    return 1;
}

int scan_u64_prefix(const char **p, const char *end, uint64_t *out)
{
    const char *s = skip_blanks(*p, end);
    uint64_t v = 0;

    if (s >= end || *s < '0' || *s > '9')
        return -EINVAL;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
        s++;
    }
    *out = v;
    *p = s;
    return 0;
}

int scan_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v;
    int r = scan_u64_prefix(&s, end, &v);

    if (r < 0)
        return r;
    if (s < end && *s != ' ' && *s != '\t')
        return -EINVAL;
    *out = v;
    *p = s;
    return 0;
}

bool token_eq(const char *s, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - s) == n && memcmp(s, w, n) == 0;
}

int copy_token(char *dst, size_t n, const char *s, const char *e)
{
    size_t len = (size_t)(e - s);

    if (len >= n)
        return -ENAMETOOLONG;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

int array_reserve(void **arr, size_t *cap, size_t need, size_t esz)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / esz)
            return -ENOMEM;
        ncap *= 2;
    }
    p = realloc(*arr, ncap * esz);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* tmp (len bytes) into buf as snprintf would: truncated to n - 1 and terminated. */
static const char *fmt_out(char *buf, size_t n, const char *tmp, size_t len)
{
    if (n == 0)
        return buf;
    if (len >= n)
        len = n - 1;
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    return buf;
}

/* The decimal digits of v, ending at end; returns where they start. */
static char *dec_digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

const char *fmt_u64(char *buf, size_t n, uint64_t v)
{
    char tmp[24], *p = dec_digits(tmp + sizeof(tmp), v);

    return fmt_out(buf, n, p, (size_t)(tmp + sizeof(tmp) - p));
}

#ifdef __SIZEOF_INT128__
/*
 * What printf("%.1f" or "%.0f") makes of v = (double)bytes / 1024^k, without
 * floating point: dividing by a power of two is exact, so v is the integer
 * (double)bytes over 2^(10k), and it is rounded to the nearest tenth (or
 * unit), ties to even, as glibc rounds the exact binary value.  Several
 * times faster than printf's own, and kmemtop formats a few hundred a
 * second.  tests/unit/test_util.c checks it against snprintf.
 */
const char *fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    unsigned __int128 b = (unsigned __int128)(double)bytes, m, q, r, half;
    unsigned shift = 0;
    int u = -1;
    char tmp[40], *end = tmp + sizeof(tmp), *p = end;
    bool tenths;

    if (bytes < 1024) {
        *--p = 'B';
        p = dec_digits(p, bytes);
        return fmt_out(buf, n, p, (size_t)(end - p));
    }
    while ((b >> shift) >= 1024 && u < 5) {
        shift += 10;
        u++;
    }
    /* v >= 1000 is b >= 1000 * 2^shift */
    tenths = b < ((unsigned __int128)1000 << shift);
    m = tenths ? b * 10 : b;
    q = m >> shift;
    r = m & (((unsigned __int128)1 << shift) - 1);
    half = (unsigned __int128)1 << (shift - 1);
    if (r > half || (r == half && (q & 1)))
        q++;
    *--p = units[u];
    if (tenths) {
        *--p = (char)('0' + (unsigned)(q % 10));
        *--p = '.';
        q /= 10;
    }
    p = dec_digits(p, (uint64_t)q);
    return fmt_out(buf, n, p, (size_t)(end - p));
}
#else
const char *fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    double v = (double)bytes;
    int u = -1;

    if (bytes < 1024) {
        snprintf(buf, n, "%lluB", (unsigned long long)bytes);
        return buf;
    }
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (v >= 1000.0)
        snprintf(buf, n, "%.0f%c", v, units[u]);
    else
        snprintf(buf, n, "%.1f%c", v, units[u]);
    return buf;
}
#endif

/* Shared by parse_size and parse_duration: a non-negative number and a unit suffix. */
static int parse_scaled(const char *s, const char *units, const uint64_t *mult, bool byte_suffix,
                        uint64_t *out)
{
    char *end;
    double v;
    const char *u;
    uint64_t m = 1;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    if (*end) {
        /* sizes also take "16MB" and "16MiB"; both mean 2^24 here */
        if (end[1] != '\0' &&
            !(byte_suffix && ((end[1] == 'B' && end[2] == '\0') ||
                              (end[1] == 'i' && end[2] == 'B' && end[3] == '\0'))))
            return -EINVAL;
        u = strchr(units, *end);
        if (!u)
            return -EINVAL;
        m = mult[u - units];
    }
    v *= (double)m;
    if (v >= 18446744073709551616.0)
        return -ERANGE;
    *out = (uint64_t)v;
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    static const uint64_t mult[] = {
        1, 1024, 1024, 1ULL << 20, 1ULL << 20, 1ULL << 30, 1ULL << 30, 1ULL << 40, 1ULL << 40,
    };
    return parse_scaled(s, "BkKmMgGtT", mult, true, out);
}

int parse_duration(const char *s, uint64_t *out)
{
    static const uint64_t mult[] = { 1, 60, 3600, 86400, 604800 };
    return parse_scaled(s, "smhdw", mult, false, out);
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t util_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t util_wall_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}
