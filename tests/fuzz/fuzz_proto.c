/*
 * libFuzzer target for the request parser (proto_parse): any bytes a client
 * can send, split into lines as the daemon does.  Words must come back
 * printable, non-empty and inside the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[PROTO_MAX_LINE + 1];
    size_t start = 0;

    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t len = (nl ? (size_t)(nl - data) : size) - start;
        struct proto_request req;
        char msg[128];

        if (len > PROTO_MAX_LINE)
            len = PROTO_MAX_LINE; /* the daemon refuses longer lines before parsing */
        memcpy(line, data + start, len);
        if (proto_parse(line, len, &req, msg, sizeof(msg)) == 0) {
            if (req.argc < 1 || req.argc > PROTO_MAX_WORDS)
                abort();
            for (int i = 0; i < req.argc; i++) {
                size_t wl = strlen(req.argv[i]);
                if (wl == 0 || req.argv[i] < line || req.argv[i] + wl > line + len)
                    abort();
                for (size_t k = 0; k < wl; k++)
                    if ((unsigned char)req.argv[i][k] <= ' ' || (unsigned char)req.argv[i][k] >= 0x7f)
                        abort();
            }
        } else if (strnlen(msg, sizeof(msg)) == 0 || strnlen(msg, sizeof(msg)) == sizeof(msg)) {
            abort();
        }
        start += (nl ? (size_t)(nl - (data + start)) + 1 : size - start);
    }
    return 0;
}
