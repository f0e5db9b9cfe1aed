/*
 * procfile: the one place that opens /proc files.
 *
 * A procfile is opened once and re-read from offset 0 with pread() for every
 * sample (as procps does): reopening /proc/vmallocinfo costs about three times
 * more than rewinding it, and a kept-open descriptor still reads after the
 * daemon drops its privileges.  The buffer grows to the file's size and is
 * reused, so steady-state sampling allocates nothing.
 *
 * The buffer of the previous read is kept too (old, old_len): the sampler
 * compares it with the new one and re-parses only what changed.  Reading
 * swaps the two buffers, so keeping it costs no copy.
 *
 * Parsers never see paths: they get (buf, len) from here.
 */
#ifndef KMW_PROCFILE_H
#define KMW_PROCFILE_H

#include <stddef.h>

struct procfile {
    int fd;
    char path[4096];
    char *buf;
    size_t cap;
    size_t len;
    /* the previous read's bytes (valid after two successful reads in a row; see procfile_read) */
    char *old;
    size_t old_cap;
    size_t old_len;
};

/* Initialise to the closed state (fd -1). */
void procfile_init(struct procfile *pf);

/*
 * Open <proc_root>/<name> read-only.  On failure returns a negative errno and
 * the descriptor stays closed; procfile_strerror() explains it for people.
 */
int procfile_open(struct procfile *pf, const char *proc_root, const char *name);

/*
 * Read the whole file from offset 0 into pf->buf (pf->len bytes, NUL-terminated
 * for convenience; parsers still use the length).  Returns 0 or -errno.
 * -EFBIG when the file exceeds PROCFILE_MAX_SIZE.  What buf held before moves
 * to pf->old (old_len bytes); after a failed read neither buffer is the file.
 */
int procfile_read(struct procfile *pf);

void procfile_close(struct procfile *pf);

/*
 * A sentence for an open/read error, with the hint a user needs:
 * EACCES/EPERM -> "permission denied (needs root or CAP_DAC_READ_SEARCH)",
 * ENOENT -> "no such file (this kernel has no /proc/slabinfo)".
 * name is the file's base name ("slabinfo").
 */
const char *procfile_strerror(int err, const char *name, char *buf, size_t n);

/* Larger than any real /proc file we read (vmallocinfo with 1M areas is ~100 MiB). */
#define PROCFILE_MAX_SIZE (256u << 20)

#endif
