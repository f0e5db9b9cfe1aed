#include "procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void procfile_init(struct procfile *pf)
{
    memset(pf, 0, sizeof(*pf));
    pf->fd = -1;
}

int procfile_open(struct procfile *pf, const char *proc_root, const char *name)
{
    int n, fd;

    n = snprintf(pf->path, sizeof(pf->path), "%s/%s", proc_root, name);
    if (n < 0 || (size_t)n >= sizeof(pf->path))
        return -ENAMETOOLONG;
    fd = open(pf->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (pf->fd >= 0)
        close(pf->fd);
    pf->fd = fd;
    return 0;
}

int procfile_read(struct procfile *pf)
{
    size_t off = 0;
    ssize_t r;

    if (pf->fd < 0)
        return -EBADF;
    /* the last read becomes the old one: a swap, no copy */
    {
        char *b = pf->buf;
        size_t c = pf->cap;

        pf->buf = pf->old;
        pf->cap = pf->old_cap;
        pf->old = b;
        pf->old_cap = c;
        pf->old_len = pf->len;
        pf->len = 0;
    }
    for (;;) {
        /* keep one byte for the terminating NUL and a page of headroom per read */
        if (pf->cap - off < 4096 + 1) {
            size_t ncap = pf->cap ? pf->cap * 2 : 65536;
            char *nb;
            if (ncap > PROCFILE_MAX_SIZE)
                return -EFBIG;
            nb = realloc(pf->buf, ncap);
            if (!nb)
                return -ENOMEM;
            pf->buf = nb;
            pf->cap = ncap;
        }
        r = pread(pf->fd, pf->buf + off, pf->cap - off - 1, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        off += (size_t)r;
    }
    pf->buf[off] = '\0';
    pf->len = off;
    return 0;
}

void procfile_close(struct procfile *pf)
{
    if (pf->fd >= 0)
        close(pf->fd);
    free(pf->buf);
    free(pf->old);
    procfile_init(pf);
}

const char *procfile_strerror(int err, const char *name, char *buf, size_t n)
{
    if (err < 0)
        err = -err;
    switch (err) {
    case EACCES:
    case EPERM:
        snprintf(buf, n, "permission denied (needs root or CAP_DAC_READ_SEARCH)");
        break;
    case ENOENT:
        snprintf(buf, n, "no such file (this kernel has no /proc/%s)", name);
        break;
    case EFBIG:
        snprintf(buf, n, "file larger than %u MiB", PROCFILE_MAX_SIZE >> 20);
        break;
    default:
        snprintf(buf, n, "%s", strerror(err));
        break;
    }
    return buf;
}
