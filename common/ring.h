/*
 * ring: the persistent history of kmemwatchd, a file shared between one
 * writer (the daemon) and any number of readers (kmemtop, kmemctl) in other
 * processes.  The on-disk layout is specified in docs/FORMAT.md; this header
 * is the programming interface.
 *
 * Two tiers, each a circular log of variable-length records:
 *   full    one record per sample, storing only the series that changed,
 *           with a keyframe (every present series, absolute) every so often
 *           so that any time can be reached without replaying from the start;
 *   coarse  one record per wall-clock minute: last, min and max of every series.
 * Entity names (cache names, vmalloc callers, zones) live once in an entity
 * table; records refer to them by slot number.
 *
 * Writers and readers never block each other.  Every record ends with a
 * sequence number stored last (release); readers copy a record, re-check the
 * sequence number and the CRC, and treat a record that changed under them as
 * gone.  Nothing in here logs: errors are negative errno values and, where a
 * person needs to know more, a sentence in a caller-supplied buffer.
 */
#ifndef KMW_RING_H
#define KMW_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampler.h"
#include "series.h"

/* docs/FORMAT.md "Versioning": any layout change bumps this. */
#define RING_FORMAT_VERSION 1

#define RING_DEFAULT_FULL_BYTES (64ull << 20)
#define RING_DEFAULT_COARSE_BYTES (16ull << 20)
/* Header page + this many 64-byte entity slots = exactly 1 MiB. */
#define RING_DEFAULT_SLOTS 16320u
/* Smallest tier ring_open accepts in a configuration (exported files may be smaller). */
#define RING_MIN_TIER_BYTES (64ull << 10)

struct ring_config {
    uint64_t full_bytes;   /* full-tier data area; 0 = RING_DEFAULT_FULL_BYTES */
    uint64_t coarse_bytes; /* coarse-tier data area; 0 = RING_DEFAULT_COARSE_BYTES */
    uint32_t entity_slots; /* 64-byte entity-table slots; 0 = RING_DEFAULT_SLOTS */
};

enum ring_tier { RING_FULL, RING_COARSE };
#define RING_NTIERS 2

struct ring_stats {
    uint64_t file_bytes;
    uint64_t full_records, coarse_records;       /* retained */
    uint64_t full_bytes_used, coarse_bytes_used; /* retained record bytes, padding included */
    uint64_t full_capacity, coarse_capacity;     /* data area sizes */
    uint64_t full_oldest_wall_ns, full_newest_wall_ns;     /* 0 when empty */
    uint64_t coarse_oldest_wall_ns, coarse_newest_wall_ns; /* oldest = first usable keyframe */
    uint64_t full_dropped, coarse_dropped;       /* records overwritten so far */
    uint64_t full_keyframes, coarse_keyframes;   /* retained */
    double full_bytes_per_sample;                /* bytes_used / records */
    double coarse_bytes_per_record;              /* coarse: bytes per minute */
    uint32_t slots_total;
    uint32_t slots_used;         /* entity + continuation slots holding a name */
    uint32_t entities_present;   /* in the newest full record */
    uint64_t entities_dropped;   /* entity samples not stored because the table was full */
};

/* ---- writer ---------------------------------------------------------------------------- */

struct ring;

/*
 * Open or create the ring file at path (cfg NULL = defaults) for writing and
 * take an exclusive lock on it (-EBUSY when another writer holds it).
 *
 * An existing file is validated and recovered: the newest valid record is
 * found by following records from the header's hints and checking every
 * sequence number and CRC, so a record torn by a crash is dropped and all
 * earlier history kept.  A file that is corrupt, truncated, from another
 * layout version or not a ring at all is renamed to <path>.corrupt-<unix
 * time>, a new ring is started, and note receives one sentence saying so.
 * An existing valid file keeps its own sizes; when cfg asks for different
 * ones the file is rebuilt at the new size (newest records kept) and note
 * says so.  Otherwise note[0] = '\0'.
 *
 * Fails only on I/O errors (-EACCES, -ENOSPC, -EROFS, ...), never because of
 * the file's contents; also -EINVAL for a configuration out of range (a tier
 * under RING_MIN_TIER_BYTES or over 1 TiB, slots outside 16 .. 2^20).
 */
int ring_open(struct ring **out, const char *path, const struct ring_config *cfg, char *note,
              size_t note_len);

/*
 * Append one sample.  The sources in src_mask were sampled into sm this tick;
 * the data of those that succeeded (src_mask & ~err_mask) replaces the
 * stored state of that source, entities missing from it become absent.
 * Sources outside src_mask keep their state.  err_mask = sources whose read
 * failed this tick (their state is kept too).  Read durations come from
 * sm->src[s].read_ns.  0, or -EFBIG when the state is too large for a tier
 * (nothing stored), -ENOMEM.
 *
 * A source that sm read again to the same bytes since the append that
 * stored all of its rows (the same sampler, the same src[s].gen, every read
 * since counted in src[s].unchanged) is not compared row by row: its stored
 * entities are taken as they are.  So a caller that writes into a sampler's
 * parsed structs by hand must not read that sampler in between.
 */
int ring_append(struct ring *r, const struct sampler *sm, unsigned src_mask, unsigned err_mask,
                uint64_t wall_ns, uint64_t mono_ns);

/*
 * A ring in memory only (a memfd with the file layout), for when the state
 * directory has no room: sampling and history go on, and ring_save() writes
 * it to path (atomically, via a temporary file) once there is room.
 * ring_save returns -ENOSPC and friends with a sentence in why while there
 * is not; the caller then reopens path with ring_open.
 */
int ring_open_memory(struct ring **out, const struct ring_config *cfg);
int ring_save(struct ring *r, const char *path, char *why, size_t why_len);
bool ring_in_memory(const struct ring *r);

int ring_sync(struct ring *r);     /* msync + fsync; for SIGTERM and tests */
int ring_fd(const struct ring *r); /* the writer's descriptor (read-write) */
/*
 * Unmap and unlock; no msync (the page cache has everything: kill -9 loses
 * nothing either).  The coarse record of the current, unfinished minute is
 * not written: the next writer rebuilds that minute from the full tier.
 */
void ring_close(struct ring *r);
void ring_stats(const struct ring *r, struct ring_stats *st);

/*
 * Benchmark and test helper: append n synthetic samples of a simulated idle
 * machine, one per second from start_wall_ns, starting from the parsed
 * contents of base.  Per sample about 13 slab numbers of the 20 busiest
 * caches change (active_objs; a slab more or less moves num_slabs,
 * active_slabs and num_objs together), five buddy orders of the largest zone
 * and six meminfo keys move, and vmallocinfo is sampled every fifth second
 * with an occasional area more or less.  Deterministic for a given seed.
 */
int ring_fill_idle(struct ring *r, const struct sampler *base, uint64_t n, uint64_t start_wall_ns,
                   uint32_t seed);

/* ---- reader ---------------------------------------------------------------------------- */

struct ring_reader;

/*
 * Map the ring behind fd read-only (fd is dup'ed; the caller keeps its own).
 * Validates the header; on failure returns -EINVAL (or an I/O error) with a
 * sentence in err.  Safe while a writer in another process appends.
 */
int ring_reader_open(struct ring_reader **out, int fd, char *err, size_t err_len);
/* Same, by path. */
int ring_reader_open_path(struct ring_reader **out, const char *path, char *err, size_t err_len);
void ring_reader_close(struct ring_reader *rd);

/* Page size of the machine the samples came from (bytes_total); 0 if not yet known. */
uint32_t ring_reader_page_size(const struct ring_reader *rd);

struct ring_tier_info {
    uint64_t records;        /* retained */
    uint64_t dropped;        /* overwritten so far: 0 means nothing was lost yet */
    uint64_t oldest_wall_ns; /* first usable keyframe; 0 if empty */
    uint64_t newest_wall_ns;
    uint64_t capacity;       /* data area bytes */
    uint64_t used;           /* retained bytes */
};
int ring_reader_tier_info(struct ring_reader *rd, enum ring_tier t, struct ring_tier_info *ti);

/* Oldest usable (first keyframe after the tail) and newest wall time of a tier; 0 if empty. */
int ring_reader_span(struct ring_reader *rd, enum ring_tier t, uint64_t *oldest_wall_ns,
                     uint64_t *newest_wall_ns);

/*
 * The state reconstructed at one record: every present entity with its
 * fields.  Valid only during the walk callback that received it.
 */
struct ring_state_priv;
struct ring_state {
    enum ring_tier tier;
    uint64_t seq;           /* the record's sequence number in its tier */
    uint64_t wall_ns;       /* CLOCK_REALTIME of the sample (coarse: the minute's last) */
    uint64_t mono_ns;
    unsigned src_mask;      /* sources stored by this record (read successfully) */
    unsigned err_mask;      /* sources whose read failed (coarse: in any sample of the minute) */
    unsigned have_mask;     /* sources with data in the state (stored at least once) */
    uint32_t read_us[SRC_N]; /* read+parse time of each source in src|err (coarse: the maximum) */
    uint32_t nsamples;      /* full: 1; coarse: samples folded into the minute */
    bool keyframe;
    uint32_t page_size;
    uint64_t gen;           /* changes whenever the set of present entities changes */
    const struct ring_state_priv *priv;
};

/* One present entity of a state; pointers valid like the state. */
struct ring_entity {
    int kind;               /* enum series_kind */
    unsigned slot;          /* entity-table slot; stable while the entity is present */
    const char *key;        /* not NUL-terminated (SK_VMALLOC keys contain NULs) */
    size_t keylen;
    unsigned nfields;
    const uint64_t *fm;     /* [2] field presence bits (series_fm_has) */
    const uint64_t *val;    /* [nfields] last value; 0 where absent */
    const uint64_t *min;    /* [nfields] coarse: minimum over the minute; full: == val */
    const uint64_t *max;
};

/* Orders of a buddy entity: one past the highest order it has a value for. */
static inline unsigned ring_entity_orders(const struct ring_entity *e)
{
    unsigned orders = 0;

    for (unsigned o = 0; o < e->nfields && o < BUDDY_MAX_ORDERS; o++)
        if (series_fm_has(e->fm, o))
            orders = o + 1;
    return orders;
}

/* Iterate present entities in slot order: *it = 0 to start; false at the end. */
bool ring_state_next(const struct ring_state *st, size_t *it, struct ring_entity *e);
/* The entity in slot, if present. */
bool ring_state_slot(const struct ring_state *st, unsigned slot, struct ring_entity *e);
/*
 * The slots the record of st changed: entities whose values changed, that
 * appeared or that went away; a keyframe lists every entity.  *slots is
 * valid like the state.  A caller that keeps results per entity from the
 * record just before (st->seq follows the last one it saw) and whose st->gen
 * is unchanged (gen moves whenever the set of present entities does, and
 * whenever a walk starts over) need only update these slots.
 */
size_t ring_state_touched(const struct ring_state *st, const uint32_t **slots);
/* The sequence number of the record after the one numbered seq in the same tier. */
static inline uint64_t ring_seq_next(uint64_t seq)
{
    seq++;
    if ((uint32_t)seq == 0) /* the low half is never 0: 0 means "no record" on disk */
        seq++;
    return seq;
}
/* Find by kind and key (linear). */
bool ring_state_find(const struct ring_state *st, int kind, const char *key, size_t keylen,
                     struct ring_entity *e);

/*
 * Walk the records of tier t from the keyframe at or before from_wall_ns up
 * to to_wall_ns (0 = no limit), calling cb for each record whose wall time is
 * >= from_wall_ns, oldest first.  A record overwritten or torn while it is
 * read is skipped by resuming at the next keyframe; records are never
 * delivered twice or out of order.  Returns 0, cb's first non-zero return
 * value, or a negative errno.
 *
 * The reader keeps the state of the last record a walk decoded (the walk's
 * end, the record cb stopped at, or the first one after to_wall_ns).  A walk
 * of the same tier whose from_wall_ns is later than every record decoded
 * since that walk's keyframe goes on from there, decoding only the records
 * after it, instead of starting again at a keyframe: following a live ring
 * with one walk from the newest record seen + 1 per new sample costs the new
 * records, not up to a keyframe interval of them.  This is transparent: the
 * same records and states as a walk from the keyframe.  It is done only when
 * the record the state is at is still in the ring (its sequence number,
 * length and CRC unchanged) and the keyframe the walk would start from is not
 * newer; otherwise, and when the next record turns out overwritten, the walk
 * starts from the keyframe as above.
 */
int ring_reader_walk(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                     uint64_t to_wall_ns, int (*cb)(const struct ring_state *st, void *arg),
                     void *arg);

/*
 * ring_reader_walk for a window judged again and again as time goes on (a
 * growth judgement of [now - W, now] every P seconds): a walk from a
 * keyframe decodes the records between it and its window for nothing, half
 * a keyframe interval on average (about 400 records on an idle ring, up to
 * 1800), as much as a 10-minute window holds.  This walk also keeps a
 * checkpoint: a copy of its state just before its first record at or after
 * keep_wall_ns (where the next judgement's window will begin), when it gets
 * that far (keep_wall_ns 0: none, ring_reader_walk).
 *
 * Every walk of the tier but a filtered one (ring_reader_walk_only) whose
 * from_wall_ns is later than every record decoded up to a checkpoint (since
 * the keyframe its decoding started from) starts from a copy of it instead
 * of the keyframe, under the conditions of the resume above: the record it
 * is at still in the ring (its sequence number, length and CRC unchanged)
 * and the keyframe the walk would start from not newer.  Of the reader's own
 * state and its checkpoints, the one at the latest record is taken.  This is
 * transparent (the same records and states as a walk from the keyframe, gen
 * aside: it moves, as when a walk starts over); a checkpoint that turned out
 * overwritten or torn is not used, and when the record after it is, the walk
 * starts from the keyframe as above.  The walk still ends with the reader's
 * state at its last record, so a follower of the live ring resumes as cheaply
 * as before.
 *
 * A reader keeps up to RING_READER_CHECKPOINTS per tier, each the size of
 * one decoded state (its buffers reused from one save to the next); a walk
 * copies its state once, when it crosses keep_wall_ns.  The copy replaces
 * the checkpoint kept for the same time, else fills an empty slot, else
 * replaces the one kept for the latest time at or before this walk's
 * from_wall_ns (the one this walk was kept for, spent now), else the least
 * recently saved or used.  So a few callers judging different windows on one
 * reader (kmemtop's two, the daemon's on each tier) each find theirs.  A
 * keep_wall_ns later than the next walk's from_wall_ns may leave the
 * checkpoint unusable (a record before it at or after that from), and the
 * next walk starts at its keyframe; one too early costs the records between.
 */
#define RING_READER_CHECKPOINTS 4
int ring_reader_walk_keep(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                          uint64_t to_wall_ns, uint64_t keep_wall_ns,
                          int (*cb)(const struct ring_state *st, void *arg), void *arg);

/* Records decoded by this reader's walks so far: what walks cost (tests, benchmarks). */
uint64_t ring_reader_decoded(const struct ring_reader *rd);

/*
 * ring_reader_walk for a caller that needs a few entities, e.g. one series
 * over an hour: want(kind, key, keylen, want_arg) is asked once for each
 * entity when it appears in the walk (key not NUL-terminated, as in struct
 * ring_entity), and the states list only the entities it accepted, with the
 * same values a full walk gives them.  The others are followed just enough
 * to find where their blocks end and the records that do not decode (so the
 * same records are delivered and skipped as by ring_reader_walk), but their
 * values are never computed: an hour of one slab cache on an idle machine
 * costs a third of the full walk.  Everything else (gen, src_mask, times,
 * order, the return value) is ring_reader_walk's.  The walk starts afresh
 * and leaves the reader's state empty; it neither starts from the reader's
 * checkpoints nor keeps any (they are left as they are).
 */
int ring_reader_walk_only(struct ring_reader *rd, enum ring_tier t, uint64_t from_wall_ns,
                          uint64_t to_wall_ns,
                          bool (*want)(int kind, const char *key, size_t keylen, void *arg),
                          void *want_arg, int (*cb)(const struct ring_state *st, void *arg),
                          void *arg);

/*
 * Fill the parsed structs of sm (slab, kmalloc, vmalloc, buddy, meminfo,
 * page_size, valid = have_mask) from a state so the report_* builders work on
 * history.  sm must come from ring_sampler_init() or sampler_init(); its
 * storage is reused.  Tables list entities in entity-slot order, which is the
 * order of first appearance on a machine whose set of caches does not change.
 * Coarse states give the minute's last values.  0 or -ENOMEM.
 *
 * When sm was last filled by this function from the record just before
 * st's, in the same walk state of the same reader and with the same set of
 * entities (st->gen), only the rows of the slots ring_state_touched() lists
 * are rewritten, with what derives from them (vmalloc sums, buddy orders,
 * the kmalloc table's sums); otherwise every table is rebuilt.  The result
 * is the same either way.  So, as with sampler_read, the tables belong to
 * sm: read them, never write into them between calls (a caller that fills
 * them from elsewhere must ring_sampler_init again; sampler_read is fine).
 */
int ring_state_to_sampler(const struct ring_state *st, struct sampler *sm);
/* An empty sampler with every source closed, for ring_state_to_sampler; free with sampler_fini. */
void ring_sampler_init(struct sampler *sm);

/* ---- files ----------------------------------------------------------------------------- */

/*
 * Build a ring at out_path from a directory of snapshots: every subdirectory
 * of dir, in name order, holding slabinfo, vmallocinfo, buddyinfo, meminfo
 * and time_ns (CLOCK_REALTIME ns; monotonic time is set equal to it); a
 * pagesize file in the snapshot or in dir sets the page size (default: this
 * machine's).  A snapshot whose file fails to parse is stored with that
 * source in err_mask.  cfg NULL sizes the file to fit; otherwise the budgets
 * apply (and the oldest snapshots may be overwritten).  The file is written
 * under a temporary name and renamed into place.
 */
int ring_import_dir(const char *dir, const char *out_path, const struct ring_config *cfg, char *err,
                    size_t err_len);

/*
 * Write the full-tier records with from_wall_ns <= wall <= to_wall_ns (to 0 =
 * up to the newest) to a new ring at out_path, sized to fit; the coarse tier
 * of the new file is rebuilt from them.  The first record is a keyframe.
 * -ENOENT with a message when the window holds no record.
 */
int ring_export(struct ring_reader *rd, uint64_t from_wall_ns, uint64_t to_wall_ns,
                const char *out_path, char *err, size_t err_len);

#endif
