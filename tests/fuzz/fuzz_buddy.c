/* libFuzzer target for buddy_parse: sanitizers plus the parser's invariants. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct buddy_info bi;
static int bi_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct perr err;
    size_t i, n;
    unsigned o;
    int r;

    if (!bi_ready) {
        buddy_info_init(&bi);
        bi_ready = 1;
    }
    memset(&err, 0, sizeof(err));
    r = buddy_parse((const char *)data, size, &bi, &err);
    if (r < 0) {
        n = strnlen(err.msg, sizeof(err.msg));
        if (r != -EINVAL || n == 0 || n == sizeof(err.msg) || bi.n != 0)
            abort();
        for (i = 0; i < n; i++)
            if ((unsigned char)err.msg[i] < 0x20 || (unsigned char)err.msg[i] > 0x7e)
                abort();
        return 0;
    }
    if (bi.n == 0 || bi.orders == 0 || bi.orders > BUDDY_MAX_ORDERS)
        abort();
    for (i = 0; i < bi.n; i++) {
        const struct buddy_zone *z = &bi.zones[i];
        if (!memchr(z->zone, '\0', sizeof(z->zone)) || z->zone[0] == '\0')
            abort();
        for (o = 0; o < bi.orders; o++) {
            if (z->unusable[o] > 1000)
                abort();
            /* more of the zone is unusable for larger requests, never less */
            if (o > 0 && z->unusable[o] < z->unusable[o - 1])
                abort();
        }
        if (buddy_find(&bi, z->node, z->zone) < 0)
            abort();
    }
    return 0;
}
