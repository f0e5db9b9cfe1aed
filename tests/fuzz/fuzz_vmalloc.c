/*
 * libFuzzer target for vmalloc_parse.  Besides the sanitizers, it checks the
 * parser's promises: stored names are printable, NUL-terminated within their
 * fields and never hold an address; error messages are printable and quote no
 * address; sums add up.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "0x" followed by 8+ hex digits anywhere in [s, s+n). */
static int has_address(const char *s, size_t n)
{
    size_t i, k;

    for (i = 0; i + 1 < n; i++) {
        if (s[i] != '0' || (s[i + 1] != 'x' && s[i + 1] != 'X'))
            continue;
        for (k = i + 2; k < n && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f') ||
                                  (s[k] >= 'A' && s[k] <= 'F'));
             k++)
            ;
        if (k - (i + 2) >= 8)
            return 1;
    }
    return 0;
}

static void check_str(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    size_t i, n;

    if (!nul)
        abort();
    n = (size_t)(nul - s);
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            abort();
    if (has_address(s, n))
        abort();
}

/* Reused across inputs like the daemon reuses it across samples. */
static struct vmalloc_info vi;
static int vi_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct perr err;
    uint64_t areas = 0;
    size_t i;
    int r;

    if (!vi_ready) {
        vmalloc_info_init(&vi);
        vi_ready = 1;
    }
    memset(&err, 0, sizeof(err));
    r = vmalloc_parse((const char *)data, size, &vi, &err);
    if (r < 0) {
        size_t n = strnlen(err.msg, sizeof(err.msg));
        if (r != -EINVAL && r != -ENOMEM)
            abort();
        if (n == 0 || n == sizeof(err.msg) || has_address(err.msg, n))
            abort();
        for (i = 0; i < n; i++)
            if ((unsigned char)err.msg[i] < 0x20 || (unsigned char)err.msg[i] > 0x7e)
                abort();
        if (vi.n != 0 || vi.total.areas != 0)
            abort();
        return 0;
    }
    for (i = 0; i < vi.n; i++) {
        const struct vmalloc_row *row = &vi.rows[i];
        check_str(row->caller, sizeof(row->caller));
        check_str(row->module, sizeof(row->module));
        if ((unsigned)row->type >= VMALLOC_NTYPES || row->areas == 0)
            abort();
        if (row->flags & ~(VMALLOC_F_USER | VMALLOC_F_VPAGES))
            abort();
        areas += row->areas;
    }
    /* every non-unpurged area is in exactly one row (no saturation below 2^64 lines) */
    if (areas != vi.total.areas)
        abort();
    return 0;
}
