#include "proto.h"

#include <errno.h>
#include <stdio.h>

int proto_parse(char *line, size_t len, struct proto_request *req, char *msg, size_t msglen)
{
    size_t i = 0;

    req->argc = 0;
    /* tolerate a CRLF line ending from telnet-like clients */
    if (len && line[len - 1] == '\r')
        len--;
    for (size_t k = 0; k < len; k++) {
        unsigned char ch = (unsigned char)line[k];
        if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) {
            snprintf(msg, msglen, "request has a non-printable byte 0x%02x at column %zu", ch, k + 1);
            return -EINVAL;
        }
    }
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            line[i++] = '\0';
        if (i >= len)
            break;
        if (req->argc == PROTO_MAX_WORDS) {
            snprintf(msg, msglen, "request has more than %d words", PROTO_MAX_WORDS);
            return -E2BIG;
        }
        req->argv[req->argc++] = &line[i];
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
    }
    if (i <= len)
        line[len] = '\0';
    if (req->argc == 0) {
        snprintf(msg, msglen, "empty request");
        return -EINVAL;
    }
    return 0;
}
