#include "proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

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

/* *p starts with the literal s: step over it. */
static bool skip(const char **p, const char *s)
{
    size_t n = strlen(s);

    if (strncmp(*p, s, n) != 0)
        return false;
    *p += n;
    return true;
}

/* Length of the JSON number at p (RFC 8259: no '+', no leading zeros, digits around '.'), or 0. */
static size_t number_len(const char *p)
{
    const char *q = p;

    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (isdigit((unsigned char)*q))
        q += strspn(q, "0123456789");
    else
        return 0;
    if (*q == '.') {
        if (!isdigit((unsigned char)q[1]))
            return 0;
        q += 1 + strspn(q + 1, "0123456789");
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!isdigit((unsigned char)*q))
            return 0;
        q += strspn(q, "0123456789");
    }
    return (size_t)(q - p);
}

bool proto_sample_event(const char *line, double *time, unsigned *sources)
{
    const char *p = line;
    char *end;
    unsigned mask = 0;
    size_t n;

    if (!skip(&p, "{\"ok\":true,\"event\":\"sample\",\"time\":"))
        return false;
    /* a JSON number only: strtod would also take hex, inf, nan and spaces */
    n = number_len(p);
    if (n == 0)
        return false;
    *time = strtod(p, &end);
    if (end != p + n)
        return false;
    p = end;
    if (!skip(&p, ",\"seq\":") || (n = number_len(p)) == 0)
        return false;
    p += n;
    if (!skip(&p, ",\"sources\":["))
        return false;
    for (bool first = true; *p != ']'; first = false) {
        char name[32];
        const char *q;
        int src;

        if (!first && !skip(&p, ","))
            return false;
        if (*p != '"')
            return false;
        /* printable ASCII without escapes, as every source name is */
        for (q = p + 1; *q != '"'; q++)
            if (*q < 0x20 || *q > 0x7e || *q == '\\')
                return false;
        if ((size_t)(q - p - 1) >= sizeof(name))
            return false;
        memcpy(name, p + 1, (size_t)(q - p - 1));
        name[q - p - 1] = '\0';
        src = src_parse(name);
        if (src >= 0)
            mask |= SRC_BIT(src);
        p = q + 1;
    }
    if (strcmp(p, "]}") != 0)
        return false;
    *sources = mask;
    return true;
}
