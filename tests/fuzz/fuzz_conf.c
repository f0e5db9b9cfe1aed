/*
 * libFuzzer target for the configuration parser: never crashes, errors name a
 * line inside the file, and whatever parses yields values inside their ranges.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf c;
    struct perr pe;
    size_t lines = 1;
    int r;

    memset(&pe, 0, sizeof(pe));
    conf_defaults(&c);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    r = conf_parse((const char *)data, size, &c, &pe);
    if (r < 0) {
        if (r != -EINVAL || pe.line == 0 || pe.line > lines || strnlen(pe.msg, sizeof(pe.msg)) == 0)
            abort();
        return 0;
    }
    for (int s = 0; s < SRC_N; s++)
        if (c.interval_ms[s] < 100 || c.interval_ms[s] > 86400000)
            abort();
    if (c.max_clients < 1 || c.max_clients > 65536 || strnlen(c.socket, sizeof(c.socket)) == sizeof(c.socket))
        abort();
    return 0;
}
