/* libFuzzer target for meminfo_parse: sanitizers plus the parser's invariants. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meminfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct meminfo mi;
    struct perr err;
    size_t i, n;
    int r, k;

    memset(&err, 0, sizeof(err));
    r = meminfo_parse((const char *)data, size, &mi, &err);
    if (r < 0) {
        n = strnlen(err.msg, sizeof(err.msg));
        if (r != -EINVAL || n == 0 || n == sizeof(err.msg) || mi.present != 0)
            abort();
        for (i = 0; i < n; i++)
            if ((unsigned char)err.msg[i] < 0x20 || (unsigned char)err.msg[i] > 0x7e)
                abort();
        return 0;
    }
    if (mi.present >> MEMINFO_NKEYS)
        abort();
    for (k = 0; k < MEMINFO_NKEYS; k++) {
        if (!meminfo_has(&mi, (enum meminfo_key)k) && mi.value[k] != 0)
            abort();
        if (mi.value[k] % 1024 != 0)
            abort();
    }
    return 0;
}
