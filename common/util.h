/*
 * util: small pieces every module needs: the parse-error record, bounded
 * number scanning, line iteration and growable arrays.
 *
 * Library code in common/ never logs and never exits.  Functions return 0 or a
 * negative errno; parsers additionally fill a struct perr so that the program
 * can print one line: "<file>:<line>: <reason>".
 */
#ifndef KMW_UTIL_H
#define KMW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMW_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define KMW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KMW_PRINTF(f, a)
#endif

/*
 * Where and why a parse failed.  line is 1-based; 0 means "the file as a
 * whole" (empty file, bad header position, inconsistent lines).
 */
struct perr {
    unsigned line;
    char msg[160];
};

/* Record an error (always returns -EINVAL so callers can `return perr_set(...)`). */
int perr_set(struct perr *err, unsigned line, const char *fmt, ...) KMW_PRINTF(3, 4);

/*
 * Line cursor over a byte buffer.  Lines end with '\n'; a final line without
 * one means the read was cut short and is reported as truncated.  A NUL byte
 * anywhere is an error: /proc text files never contain one.
 */
struct line_iter {
    const char *pos;
    const char *end;
    unsigned lineno;
    bool last_line_may_lack_newline; /* for files people edit (the config) */
};

void line_iter_init(struct line_iter *it, const char *buf, size_t len);
/*
 * Next line into [*ls, *le) without the newline.  Returns 1 for a line, 0 at
 * the end, -EINVAL (with err filled) for a NUL byte or a missing final newline.
 */
int line_iter_next(struct line_iter *it, const char **ls, const char **le, struct perr *err);

/* Skip spaces and tabs. */
static inline const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* End of the token starting at p (first blank or end). */
static inline const char *token_end(const char *p, const char *end)
{
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    return p;
}

/*
 * Parse an unsigned decimal at *p (after blanks).  Digits must be followed by
 * a blank or the end.  Returns 0 and advances *p, -EINVAL for no digits or a
 * trailing non-blank, -ERANGE on overflow.
 */
int scan_u64(const char **p, const char *end, uint64_t *out);

/* Same, but the number may end at any non-digit (for "N0=4", "pages=12"). */
int scan_u64_prefix(const char **p, const char *end, uint64_t *out);

/* Does [s, e) equal the NUL-terminated word w? */
bool token_eq(const char *s, const char *e, const char *w);

/* Copy [s, e) into dst (size n); returns -ENAMETOOLONG if it does not fit. */
int copy_token(char *dst, size_t n, const char *s, const char *e);

/* Grow *arr (element size esz) so that it can hold need elements. */
int array_reserve(void **arr, size_t *cap, size_t need, size_t esz);

/* Checked multiply-add for derived byte counts; saturates at UINT64_MAX. */
static inline uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return UINT64_MAX;
    return r;
}

static inline uint64_t add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return UINT64_MAX;
    return r;
}

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. */
uint64_t util_mono_ns(void);
uint64_t util_wall_ns(void);

/*
 * Human-readable sizes and durations.
 * fmt_bytes: 1023 -> "1023B", 1536 -> "1.5K", 20971520 -> "20.0M" (binary units):
 * exactly what printf's "%.1f" (from 1000 on "%.0f") makes of the value in units.
 * fmt_u64: 1234 -> "1234", as printf's "%llu".
 * Both write like snprintf (truncated to n - 1 bytes, terminated) and return buf.
 * parse_size: "16M", "4k", "1048576", "1.5G" -> bytes.
 * parse_duration: "600", "10m", "1h", "7d", "30s" -> seconds.
 */
const char *fmt_bytes(char *buf, size_t n, uint64_t bytes);
const char *fmt_u64(char *buf, size_t n, uint64_t v);
int parse_size(const char *s, uint64_t *out);
int parse_duration(const char *s, uint64_t *out);

#endif
