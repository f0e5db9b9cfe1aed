/*
 * source: where kmemtop's samples and history come from.  One interface,
 * three back ends:
 *
 *   direct   kmemtop samples /proc itself every interval and appends each
 *            sample to a private ring (an unlinked file in /dev/shm or the
 *            temporary directory), which is the session's history;
 *   daemon   kmemwatchd: `ring` passes a read-only descriptor of its ring
 *            (mapped, never copied), then `watch` sends one line per new
 *            sample, after which the newest records are read from the ring;
 *   replay   a ring file (`kmemctl import`, `kmemctl export`, or a copy of
 *            the daemon's): the history only, nothing new arrives.
 *
 * The main loop polls source_fd() (the daemon socket) and sleeps until
 * source_deadline() (the next direct sample, the next reconnection
 * attempt); source_service() does what is due and says what changed.  Nothing
 * here blocks: the daemon is connected and greeted by a small state machine
 * driven from the loop, and a lost daemon is retried every second.
 */
#ifndef KMW_TUI_SOURCE_H
#define KMW_TUI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "ring.h"
#include "sampler.h"

enum source_kind { SOURCE_DIRECT, SOURCE_DAEMON, SOURCE_REPLAY };

/* source_service() results. */
#define SOURCE_EV_DATA    0x1u  /* a new sample: direct: source_live(); daemon: in the ring */
#define SOURCE_EV_HISTORY 0x2u  /* the history reader changed (connected, reconnected): reload */
#define SOURCE_EV_STATUS  0x4u  /* the status line changed */

/* How long a lost daemon waits before the next attempt. */
#define SOURCE_RETRY_MS 1000u

enum daemon_state { DS_DOWN, DS_HELLO, DS_RING, DS_WATCH, DS_UP };

struct data_source {
    enum source_kind kind;
    char where[512];            /* /proc root, socket path or replay file, as given */
    bool no_daemon;             /* direct because no daemon answered (said on the status line) */

    /* direct */
    struct sampler sm;          /* the latest sample (also a daemon's without a ring) */
    bool sm_open;
    unsigned interval_ms;
    uint64_t next_sample_ns;    /* CLOCK_MONOTONIC deadline */
    uint64_t samples;
    uint64_t live_wall_ns;      /* CLOCK_REALTIME of the latest sample */
    unsigned live_mask;         /* sources read for the latest sample */
    struct ring *ring;          /* the session's history; NULL when it could not be created */
    char ring_err[256];

    /* daemon */
    struct kmw_conn conn;
    enum daemon_state dstate;
    uint64_t retry_ns;
    bool ever_up;
    uint64_t attempts;
    char down_reason[256];
    unsigned event_sources;     /* SRC_BIT mask of the latest watch event */
    bool no_ring;               /* the daemon keeps no history: its reports fill sm */
    unsigned stale_events;      /* samples announced in a row that the mapped ring lacks */
    uint64_t page_size;

    /* history, every kind (NULL until a daemon passed its ring) */
    struct ring_reader *rd;
    uint64_t rd_gen;            /* changes whenever rd does */
};

/* Direct sampling of proc_root every interval_ms.  Never fails (a missing history is said). */
void source_open_direct(struct data_source *s, const char *proc_root, unsigned interval_ms,
                        uint64_t page_size);
/* The daemon at path; connecting starts at the first source_service(). */
void source_open_daemon(struct data_source *s, const char *path, uint64_t page_size);
/* A ring file.  0, or -errno with err filled. */
int source_open_replay(struct data_source *s, const char *path, char *err, size_t n);
void source_close(struct data_source *s);

/* Does a daemon accept connections at path?  (Decides the default source.) */
bool source_daemon_listening(const char *path);

/* Descriptor to poll for reading, or -1. */
int source_fd(const struct data_source *s);
/* CLOCK_MONOTONIC time at which source_service() has work, or 0 for none. */
uint64_t source_deadline(const struct data_source *s);
/* Do what is due at now_ns (readable: the fd polled readable).  SOURCE_EV_* flags. */
unsigned source_service(struct data_source *s, uint64_t now_ns, bool readable);

/* The latest sample read here (direct; a daemon without a ring), or NULL. */
const struct sampler *source_live(const struct data_source *s);
/* The history, or NULL. */
static inline struct ring_reader *source_history(const struct data_source *s)
{
    return s->rd;
}
/* Is the daemon connected and watching?  (Always true for the other kinds.) */
bool source_up(const struct data_source *s);

/* Direct: sample every ms from now on (the deadline stays one interval after the last sample). */
void source_set_interval(struct data_source *s, unsigned ms);

/* One line for the status bar: "direct /proc (no daemon)", "daemon PATH: reconnecting (...)". */
void source_status(const struct data_source *s, char *buf, size_t n);

#endif
