/*
 * kmemwatchd: samples the kernel-memory /proc files on a fixed schedule into
 * a persistent ring and serves it over a Unix socket.
 *
 * Start-up order matters: as root, open the /proc files, the ring and the
 * socket; then drop to the unprivileged user (the kept-open descriptors and
 * the shared mapping still work); then take the first sample, and only then
 * tell systemd READY=1.
 *
 * One thread, one wait point (loop.c).  All sources share one timer: a tick
 * samples every source whose absolute deadline has come and appends one
 * record, so the 1-second sources land in one record instead of three.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "daemon.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "proto.h"
#include "ring.h"
#include "server.h"

#define NSEC 1000000000ull
/* sources due within this much of each other are read in the same tick */
#define TICK_SLACK_NS (2 * 1000000ull)
/* a sample this long after its deadline counts as late or delayed (struct sched) */
#define LATE_NS (NSEC / 10)

struct daemon D;

/* Options given on the command line, re-applied over the file on SIGHUP. */
static struct {
    int n;
    const char *key[32];
    const char *value[32];
} cli;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: kmemwatchd [OPTIONS]\n"
            "Sample kernel memory (/proc/slabinfo, vmallocinfo, buddyinfo, meminfo) into a\n"
            "persistent history ring and serve it on a Unix socket.  Runs in the foreground.\n"
            "\nOptions:\n"
            "  --socket PATH        socket (default %s)\n"
            "  --state-dir DIR      where the ring lives (default /var/lib/kmemwatch)\n"
            "  --proc-root DIR      read DIR/slabinfo etc. instead of /proc\n"
            "  --interval SECONDS   interval of every source (default 1; vmallocinfo 5)\n"
            "  --user USER          drop privileges to USER after start-up (default kmemwatch;\n"
            "                       'root' keeps root, with a warning)\n"
            "  --config FILE        configuration (default %s)\n"
            "  --max-clients N      connection limit (default 1024)\n"
            "  --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
            "                       (default off; e.g. 127.0.0.1:9101)\n"
            "  -h, --help           this help\n"
            "  -V, --version        version\n"
            "\nSignals: SIGHUP reloads the configuration, SIGTERM stops cleanly.\n",
            PROTO_DEFAULT_SOCKET, CONF_DEFAULT_PATH);
}

/* ---- configuration ------------------------------------------------------ */

/* Read the config file (a missing default file means defaults) and apply the command line. */
static int load_conf(struct conf *c, char *err, size_t errlen)
{
    struct procfile pf;
    struct perr pe = { 0, "" };
    char msg[256];
    int r;

    conf_defaults(c);
    procfile_init(&pf);
    r = procfile_open(&pf, "", D.conf_path);
    if (r == -ENOENT && !D.conf_path_given) {
        r = 0;
    } else if (r < 0 || (r = procfile_read(&pf)) < 0) {
        snprintf(err, errlen, "%s: %s", D.conf_path, strerror(-r));
    } else if ((r = conf_parse(pf.buf, pf.len, c, &pe)) < 0) {
        snprintf(err, errlen, "%s:%u: %s", D.conf_path, pe.line, pe.msg);
    }
    procfile_close(&pf);
    for (int i = 0; r == 0 && i < cli.n; i++) {
        if (conf_set(c, cli.key[i], cli.value[i], msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "--%s: %s", cli.key[i], msg);
            r = -EINVAL;
        }
    }
    return r;
}

static int compile_filters(const struct conf *c, char *err, size_t errlen)
{
    regex_t inc, exc;
    bool hi = c->metrics_cache_include[0], he = c->metrics_cache_exclude[0];

    if (hi && regcomp(&inc, c->metrics_cache_include, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(err, errlen, "metrics_cache_include: invalid regex '%s'", c->metrics_cache_include);
        return -EINVAL;
    }
    if (he && regcomp(&exc, c->metrics_cache_exclude, REG_EXTENDED | REG_NOSUB) != 0) {
        if (hi)
            regfree(&inc);
        snprintf(err, errlen, "metrics_cache_exclude: invalid regex '%s'", c->metrics_cache_exclude);
        return -EINVAL;
    }
    if (D.have_include)
        regfree(&D.cache_include);
    if (D.have_exclude)
        regfree(&D.cache_exclude);
    D.have_include = hi;
    D.have_exclude = he;
    if (hi)
        D.cache_include = inc;
    if (he)
        D.cache_exclude = exc;
    return 0;
}

/* ---- sampling ----------------------------------------------------------- */

static void tick(void *arg);

static void schedule(void)
{
    uint64_t next = UINT64_MAX;

    for (int s = 0; s < SRC_N; s++)
        if (D.sched[s].deadline < next)
            next = D.sched[s].deadline;
    D.timer = loop_add_timer(next, tick, NULL);
    if (D.timer < 0)
        log_err("cannot schedule the next sample: %s", strerror((int)-D.timer));
}

static void update_status(void)
{
    char failing[512] = "";
    size_t off = 0;

    for (int s = 0; s < SRC_N; s++)
        if (D.sm.src[s].err && off < sizeof(failing))
            off += (size_t)snprintf(failing + off, sizeof(failing) - off, "; %s",
                                    D.sm.src[s].errmsg);
    notify_send("WATCHDOG=1\nSTATUS=%llu samples, %u clients%s", (unsigned long long)D.seq,
                server_nclients(), failing);
}

static void tick(void *arg)
{
    uint64_t now = loop_now_ns(), wall = loop_wall_ns();
    unsigned mask = 0, errs = 0;
    int r;

    (void)arg;
    for (int s = 0; s < SRC_N; s++) {
        struct sched *sc = &D.sched[s];

        if (sc->deadline > now + TICK_SLACK_NS)
            continue;
        /*
         * Only the part of the delay the daemon spent on a CPU running other
         * work is its own.  Blocked in its wait, kept from a CPU, the CPU
         * taken by the host (a stop, a busy machine, steal): counting those
         * as late would blame the daemon for a scheduler it does not
         * control, and hide its own unfairness in the noise.
         */
        if (now > sc->deadline + LATE_NS) {
            static struct log_ratelimit rl = { 60 * NSEC, 1, 0, 0, 0 };
            struct loop_delay d;
            bool late;

            loop_delay_split(sc->deadline, now, &d);
            late = d.own > LATE_NS;
            if (late)
                sc->late++;
            else
                sc->delayed++;
            if (log_ratelimit_ok(&rl, now))
                log_msg(late ? LOG_WARNING : LOG_NOTICE,
                        "%s: sample %llu ms after its deadline (%s): %llu ms busy, %llu ms kept from a CPU, "
                        "%llu ms not woken, %llu ms stolen or blocked",
                        src_name((enum src_id)s), (unsigned long long)((now - sc->deadline) / 1000000),
                        late ? "late" : "delayed", (unsigned long long)(d.own / 1000000),
                        (unsigned long long)(d.queued / 1000000), (unsigned long long)(d.waited / 1000000),
                        (unsigned long long)(d.other / 1000000));
        }
        mask |= SRC_BIT(s);
        r = sampler_read(&D.sm, (enum src_id)s);
        sc->samples++;
        if (r < 0) {
            errs |= SRC_BIT(s);
            sc->errors++;
            if (r != sc->last_err)
                log_warn("%s", D.sm.src[s].errmsg);
        } else {
            sc->last_wall_ns = wall;
            if (sc->last_err)
                log_notice("%s: readable again", src_name((enum src_id)s));
        }
        sc->last_err = r;
        /* next deadline on the fixed grid; slots already missed are skipped, not bunched */
        do
            sc->deadline += sc->interval_ns;
        while (sc->deadline <= now);
    }
    if (D.ring) {
        static struct log_ratelimit rl = { 60 * NSEC, 1, 0, 0, 0 };
        r = ring_append(D.ring, &D.sm, mask, errs, wall, now);
        if (r < 0 && log_ratelimit_ok(&rl, now))
            log_warn("ring: cannot append: %s", strerror(-r));
    }
    D.seq++;
    D.last_wall_ns = wall;
    D.last_mask = mask & ~errs;
    cmd_notify_watchers();
    if (!D.ready) {
        D.ready = true;
        notify_send("READY=1\nSTATUS=sampling");
        log_notice("ready: sampling %s, socket %s", D.sm.proc_root,
                   server_inherited() ? "inherited from systemd" : D.conf.socket);
    }
    update_status();
    schedule();
}

static void sched_init(uint64_t now)
{
    for (int s = 0; s < SRC_N; s++) {
        D.sched[s].src = (enum src_id)s;
        D.sched[s].interval_ns = D.conf.interval_ms[s] * 1000000ull;
        D.sched[s].deadline = now;
        D.sched[s].last_err = 0;
    }
}

/* ---- leak suspects ------------------------------------------------------ */

/* journald MESSAGE_IDs of the two events (journalctl MESSAGE_ID=...) */
#define MSGID_SUSPECT "fc55a527c8d14b5b84a7618c1cbc7666"
#define MSGID_CLEARED "7a2eb0c5be464365b44a9ad9d210a9b2"

static bool journal_direct;   /* stderr is journald's stream: send structured entries */
static uint64_t growth_deadline;

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected to stderr; when they still match, journald is reading and
 * sd_journal_send can add fields to the entry.  Anything else (a terminal,
 * a pipe, a file in a test) gets plain lines.
 */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void fmt_window(char *buf, size_t n, uint64_t s)
{
    if (s % 3600 == 0)
        snprintf(buf, n, "%lluh", (unsigned long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(buf, n, "%llum", (unsigned long long)(s / 60));
    else
        snprintf(buf, n, "%llus", (unsigned long long)s);
}

static void fmt_signed(char *buf, size_t n, double v)
{
    char b[32];

    fmt_bytes(b, sizeof(b), (uint64_t)(v < 0 ? -v : v));
    snprintf(buf, n, "%s%s", v < 0 ? "-" : "+", b);
}

/* One line when a series becomes a suspect (warning) and when it stops (notice). */
static void growth_log(bool start, const struct growth_series *g, uint64_t window_s)
{
    static struct log_ratelimit rl = { 60 * NSEC, 20, 0, 0, 0 };
    char msg[600], series[320], net[40], rate[40], win[32];
    int prio = start ? LOG_WARNING : LOG_NOTICE;

    if (!log_ratelimit_ok(&rl, loop_now_ns()))
        return;
    snprintf(series, sizeof(series), "%s/%s/%s", g->kind, g->name, g->field);
    fmt_signed(net, sizeof(net), g->fit.net);
    fmt_signed(rate, sizeof(rate), g->fit.per_hour);
    fmt_window(win, sizeof(win), window_s);
    if (start)
        snprintf(msg, sizeof(msg), "leak suspect: %s %s %s grew %s in %s (%s/h, steadiness %.2f)", g->kind,
                 g->name, g->field, net, win, rate, g->fit.steadiness);
    else
        snprintf(msg, sizeof(msg), "no longer a leak suspect: %s %s %s (%s in the last %s, steadiness %.2f)",
                 g->kind, g->name, g->field, net, win, g->fit.steadiness);
    if (journal_direct &&
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=kmemwatchd",
                        "MESSAGE_ID=%s", start ? MSGID_SUSPECT : MSGID_CLEARED, "KMEMWATCH_EVENT=%s",
                        start ? "suspect" : "cleared", "KMEMWATCH_SERIES=%s", series, "KMEMWATCH_KIND=%s",
                        g->kind, "KMEMWATCH_NAME=%s", g->name, "KMEMWATCH_FIELD=%s", g->field,
                        "KMEMWATCH_NET_BYTES=%.0f", g->fit.net, "KMEMWATCH_BYTES_PER_HOUR=%.0f", g->fit.per_hour,
                        "KMEMWATCH_STEADINESS=%.3f", g->fit.steadiness, "KMEMWATCH_WINDOW=%llu",
                        (unsigned long long)window_s, NULL) == 0)
        return;
    log_msg(prio, "%s KMEMWATCH_SERIES=%s", msg, series);
}

static long sus_find(const struct growth_track *gt, const struct growth_series *g)
{
    for (size_t i = 0; i < gt->nsus; i++)
        if (strcmp(gt->sus[i].kind, g->kind) == 0 && strcmp(gt->sus[i].name, g->name) == 0 &&
            strcmp(gt->sus[i].field, g->field) == 0)
            return (long)i;
    return -1;
}

static bool sus_reserve(struct growth_track *gt)
{
    size_t nc;
    struct growth_series *ns;
    uint64_t *nw;
    unsigned *nm;

    if (gt->nsus < gt->cap)
        return true;
    nc = gt->cap ? gt->cap * 2 : 16;
    ns = realloc(gt->sus, nc * sizeof(*ns));
    if (!ns)
        return false;
    gt->sus = ns;
    nw = realloc(gt->sus_window, nc * sizeof(*nw));
    if (!nw)
        return false;
    gt->sus_window = nw;
    nm = realloc(gt->misses, nc * sizeof(*nm));
    if (!nm)
        return false;
    gt->misses = nm;
    gt->cap = nc;
    return true;
}

/* Fold the latest evaluation of every window into the suspect set (see daemon.h), logging what changes. */
static void growth_track_update(struct growth_track *gt)
{
    for (size_t i = 0; i < gt->nsus; i++)
        gt->misses[i]++;
    /* shortest window first: a series flagged by several is reported over the shortest */
    for (int w = 0; w < GROWTH_NWIN; w++) {
        for (size_t i = 0; gt->window[w] && i < gt->rep[w].n; i++) {
            const struct growth_series *g = &gt->rep[w].v[i];
            long k;

            if (!g->suspect)
                continue;
            k = sus_find(gt, g);
            if (k >= 0) {
                if (gt->misses[k]) {
                    gt->sus[k] = *g;
                    gt->sus_window[k] = gt->window[w];
                    gt->misses[k] = 0;
                }
                continue;
            }
            if (!sus_reserve(gt))
                return;
            gt->sus[gt->nsus] = *g;
            gt->sus_window[gt->nsus] = gt->window[w];
            gt->misses[gt->nsus++] = 0;
            growth_log(true, g, gt->window[w]);
        }
    }
    for (size_t i = gt->nsus; i-- > 0;) {
        const struct growth_series *now = NULL;
        size_t tail = gt->nsus - i - 1;

        if (gt->misses[i] < GROWTH_CLEAR_EVALS)
            continue;
        /* the numbers of the latest evaluation of its window, when the series is still there */
        for (int w = 0; !now && w < GROWTH_NWIN; w++)
            if (gt->window[w] == gt->sus_window[i])
                now = growth_report_find(&gt->rep[w], gt->sus[i].kind, gt->sus[i].name, gt->sus[i].field);
        growth_log(false, now ? now : &gt->sus[i], gt->sus_window[i]);
        memmove(&gt->sus[i], &gt->sus[i + 1], tail * sizeof(*gt->sus));
        memmove(&gt->sus_window[i], &gt->sus_window[i + 1], tail * sizeof(*gt->sus_window));
        memmove(&gt->misses[i], &gt->misses[i + 1], tail * sizeof(*gt->misses));
        gt->nsus--;
    }
}

/* The windows to judge: the configured one, then an hour and a day when longer, each at its pace. */
static void growth_windows_set(struct growth_track *gt, uint64_t now)
{
    static const uint64_t longer[GROWTH_NWIN - 1] = { 3600, 86400 };
    uint64_t min = D.conf.growth_min_window_s;

    if (gt->window[0] != min) {
        gt->window[0] = min;
        gt->due[0] = now;
    }
    for (int w = 1; w < GROWTH_NWIN; w++) {
        uint64_t want = longer[w - 1] > min ? longer[w - 1] : 0;
        if (gt->window[w] != want) {
            gt->window[w] = want;
            gt->due[w] = now;
            if (!want)
                growth_report_free(&gt->rep[w]);
        }
    }
}

/*
 * Every GROWTH_EVAL_NS, not every sample: one walk over the configured
 * window (600 records at the defaults, a few ms) is cheap, but doing it each
 * second would be the daemon's largest cost for a verdict that changes
 * slowly.  The hour is judged every minute, the day every ten minutes (from
 * the per-minute tier).
 */
static void growth_tick(void *arg)
{
    static const uint64_t every_ns[GROWTH_NWIN] = { GROWTH_EVAL_NS, 60 * NSEC, 600 * NSEC };
    static struct log_ratelimit rl = { 600 * NSEC, 1, 0, 0, 0 };
    struct growth_track *gt = &D.growth;
    uint64_t now = loop_now_ns(), wall = loop_wall_ns();
    char err[256];

    (void)arg;
    do
        growth_deadline += GROWTH_EVAL_NS;
    while (growth_deadline <= now);
    gt->timer = loop_add_timer(growth_deadline, growth_tick, NULL);
    if (!D.reader)
        return;
    growth_windows_set(gt, now);
    for (int w = 0; w < GROWTH_NWIN; w++) {
        struct growth_rule rule = { D.conf.growth_min_window_s, D.conf.growth_min_bytes, 0 };
        uint64_t next;

        if (!gt->window[w] || gt->due[w] > now)
            continue;
        gt->due[w] = now + every_ns[w] - NSEC / 2;
        /*
         * The next judgement: at the first tick at or after due (ticks are
         * never early).  Its wall time less a tenth of a second for a slewed
         * clock (a stepped one costs a walk from the keyframe).
         */
        next = growth_deadline;
        while (next < gt->due[w])
            next += GROWTH_EVAL_NS;
        if (growth_eval_next(D.reader, gt->window[w], wall, wall + (next - now) - NSEC / 10, &rule,
                             &gt->rep[w], err, sizeof(err)) < 0 &&
            log_ratelimit_ok(&rl, now))
            log_warn("growth: %s", err);
    }
    growth_track_update(gt);
}

static void growth_fini(void)
{
    if (D.growth.timer > 0)
        loop_del_timer(D.growth.timer);
    for (int w = 0; w < GROWTH_NWIN; w++)
        growth_report_free(&D.growth.rep[w]);
    free(D.growth.sus);
    free(D.growth.sus_window);
    free(D.growth.misses);
    memset(&D.growth, 0, sizeof(D.growth));
}

/* ---- signals ------------------------------------------------------------ */

static void on_stop(int signo, void *arg)
{
    (void)arg;
    log_notice("%s: stopping", strsignal(signo));
    notify_send("STOPPING=1");
    loop_quit();
}

static void on_reload(int signo, void *arg)
{
    struct conf nc;
    char err[512];
    uint64_t now = loop_now_ns();

    (void)signo;
    (void)arg;
    notify_send("RELOADING=1");
    if (load_conf(&nc, err, sizeof(err)) < 0 || compile_filters(&nc, err, sizeof(err)) < 0) {
        log_err("reload: %s; keeping the running configuration", err);
        notify_send("READY=1");
        return;
    }
    if (strcmp(nc.socket, D.conf.socket) || strcmp(nc.state_dir, D.conf.state_dir) ||
        strcmp(nc.proc_root, D.conf.proc_root) || strcmp(nc.user, D.conf.user) ||
        strcmp(nc.metrics, D.conf.metrics))
        log_warn("reload: socket, state_dir, proc_root, user and metrics take effect at the next start");
    for (int s = 0; s < SRC_N; s++) {
        uint64_t ns = nc.interval_ms[s] * 1000000ull;
        if (ns != D.sched[s].interval_ns) {
            D.sched[s].interval_ns = ns;
            D.sched[s].deadline = now + ns;
        }
    }
    memcpy(nc.socket, D.conf.socket, sizeof(nc.socket));
    memcpy(nc.state_dir, D.conf.state_dir, sizeof(nc.state_dir));
    memcpy(nc.proc_root, D.conf.proc_root, sizeof(nc.proc_root));
    memcpy(nc.user, D.conf.user, sizeof(nc.user));
    memcpy(nc.metrics, D.conf.metrics, sizeof(nc.metrics));
    D.conf = nc;
    server_set_limits((unsigned)nc.max_clients, (size_t)nc.client_queue_bytes);
    if (D.timer > 0)
        loop_del_timer(D.timer);
    schedule();
    log_notice("reload: configuration from %s applied", D.conf_path);
    notify_send("READY=1");
}

/* ---- privileges --------------------------------------------------------- */

/*
 * Find the user to run as and the socket's group: "kmemwatch" when it exists,
 * else the user's primary group, never root's.
 */
static int resolve_identity(uid_t *uid, gid_t *gid, gid_t *sock_gid, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(D.conf.user);
    struct group *gr = getgrnam("kmemwatch");

    if (!pw) {
        snprintf(err, errlen, "user '%s' does not exist (create it with systemd-sysusers, or pass --user)",
                 D.conf.user);
        return -ENOENT;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (gr) {
        *sock_gid = gr->gr_gid;
    } else if (pw->pw_gid != 0) {
        *sock_gid = pw->pw_gid;
        log_warn("group kmemwatch does not exist; the socket's group is %s's primary group %ld",
                 D.conf.user, (long)pw->pw_gid);
    } else {
        /* never hand the socket to root's group: root only */
        *sock_gid = (gid_t)-1;
        log_warn("group kmemwatch does not exist; the socket is for root only");
    }
    return 0;
}

static int drop_privileges(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    if (geteuid() != 0)
        return 0;
    if (uid == 0) {
        log_warn("--user root: keeping root privileges");
        return 0;
    }
    /* the daemon's only group is its own; it needs no supplementary groups */
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "cannot drop privileges to uid %ld: %s", (long)uid, strerror(errno));
        return -errno;
    }
    /* setresuid away from 0 cleared every capability; make sure none can come back */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return -errno;
    }
    if (setuid(0) == 0) {
        snprintf(err, errlen, "privileges could be regained after dropping them");
        return -EPERM;
    }
    return 0;
}

/* ---- ring --------------------------------------------------------------- */

#define RING_RETRY_NS (10 * NSEC)

/* (Re)open the read side: the descriptor handed to clients and our own reader. */
static void open_reader(void)
{
    char path[64], err[256];
    const char *p = D.ring_path;

    if (D.reader)
        ring_reader_close(D.reader);
    if (D.ring_ro_fd >= 0)
        close(D.ring_ro_fd);
    D.reader = NULL;
    if (ring_in_memory(D.ring)) {
        /* a read-only descriptor of the memfd, for clients as for a file */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", ring_fd(D.ring));
        p = path;
    }
    D.ring_ro_fd = open(p, O_RDONLY | O_CLOEXEC);
    if (D.ring_ro_fd < 0 || ring_reader_open(&D.reader, D.ring_ro_fd, err, sizeof(err)) < 0) {
        log_err("%s: cannot read back the ring: %s", D.ring_path, D.ring_ro_fd < 0 ? strerror(errno) : err);
        D.reader = NULL;
    }
}

/*
 * While the history lives in memory, try every RING_RETRY_NS to save it to
 * the state directory; said once when it works, silent while it does not.
 */
static void ring_retry(void *arg)
{
    struct ring_config rc = { D.conf.ring_full_bytes, D.conf.ring_coarse_bytes, 0 };
    struct ring *file;
    char why[256], note[512];

    (void)arg;
    if (ring_save(D.ring, D.ring_path, why, sizeof(why)) < 0 ||
        ring_open(&file, D.ring_path, &rc, note, sizeof(note)) < 0) {
        loop_add_timer(loop_now_ns() + RING_RETRY_NS, ring_retry, NULL);
        return;
    }
    ring_close(D.ring);
    D.ring = file;
    open_reader();
    log_notice("%s: the state directory has room again; history saved there", D.ring_path);
}

/* Open the ring; false only when another daemon writes to it (fatal). */
static bool open_ring(void)
{
    struct ring_config rc = { D.conf.ring_full_bytes, D.conf.ring_coarse_bytes, 0 };
    char note[512] = "";
    int r;

    snprintf(D.ring_path, sizeof(D.ring_path), "%s/ring.kmw", D.conf.state_dir);
    r = (mkdir(D.conf.state_dir, 0750) < 0 && errno != EEXIST) ? -errno
                                                              : ring_open(&D.ring, D.ring_path, &rc, note, sizeof(note));
    if (note[0])
        log_warn("%s", note);
    if (r == -EBUSY) {
        log_err("%s: another kmemwatchd writes to this ring (use another --state-dir)", D.ring_path);
        return false;
    }
    if (r < 0) {
        /* a full or read-only state directory costs persistence, not history */
        D.ring = NULL;
        if (ring_open_memory(&D.ring, &rc) < 0) {
            log_err("%s: %s; running without history", D.ring_path, strerror(-r));
            return true;
        }
        log_err("%s: %s; keeping history in memory and retrying every %llus", D.ring_path,
                strerror(-r), (unsigned long long)(RING_RETRY_NS / NSEC));
        loop_add_timer(loop_now_ns() + RING_RETRY_NS, ring_retry, NULL);
    }
    open_reader();
    return true;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "state-dir", required_argument, NULL, 'd' },
        { "proc-root", required_argument, NULL, 'P' },
        { "interval", required_argument, NULL, 'i' },
        { "user", required_argument, NULL, 'u' },
        { "config", required_argument, NULL, 'c' },
        { "max-clients", required_argument, NULL, 'm' },
        { "metrics", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static const struct {
        int opt;
        const char *key;
    } opt_keys[] = {
        { 's', "socket" }, { 'd', "state_dir" }, { 'P', "proc_root" }, { 'i', "interval" },
        { 'u', "user" }, { 'm', "max_clients" }, { 'M', "metrics" },
    };
    struct server_config sc;
    char err[512];
    uid_t uid = 0;
    gid_t gid = 0, sock_gid = (gid_t)-1;
    long ps = sysconf(_SC_PAGESIZE);
    int c, r;

    D.conf_path = CONF_DEFAULT_PATH;
    D.ring_ro_fd = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            D.conf_path = optarg;
            D.conf_path_given = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("kmemwatchd %s\n", KMW_VERSION);
            return 0;
        case ':':
            fprintf(stderr, "kmemwatchd: option '%s' needs an argument\n", argv[optind - 1]);
            return 2;
        case '?':
            fprintf(stderr, "kmemwatchd: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            for (size_t i = 0; i < ARRAY_SIZE(opt_keys); i++)
                if (opt_keys[i].opt == c && cli.n < (int)ARRAY_SIZE(cli.key)) {
                    cli.key[cli.n] = opt_keys[i].key;
                    cli.value[cli.n++] = optarg;
                }
            break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kmemwatchd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    log_init();
    journal_direct = stderr_is_journal();
    if (load_conf(&D.conf, err, sizeof(err)) < 0 || compile_filters(&D.conf, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return 2;
    }
    if (geteuid() == 0 && resolve_identity(&uid, &gid, &sock_gid, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return 1;
    }
    if (geteuid() != 0) {
        uid = geteuid();
        sock_gid = (gid_t)-1;
    }
    if ((r = loop_init()) < 0) {
        log_err("cannot set up the event loop: %s", strerror(-r));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    D.start_mono_ns = loop_now_ns();
    D.start_wall_ns = loop_wall_ns();

    /* 1. as root: the sources, the ring, the socket */
    sampler_init(&D.sm, D.conf.proc_root, SRC_ALL, ps > 0 ? (uint64_t)ps : 4096);
    for (int s = 0; s < SRC_N; s++)
        if (D.sm.src[s].err)
            log_warn("%s (sampling the other sources)", D.sm.src[s].errmsg);
    if (!open_ring())
        return 1;
    sc = (struct server_config){ D.conf.socket, (unsigned)D.conf.max_clients, sock_gid, uid,
                                 (size_t)D.conf.client_queue_bytes };
    server_set_handler(cmd_handle);
    if ((r = server_init(&sc, err, sizeof(err))) < 0) {
        log_err("%s", err);
        return 1;
    }
    /* a port below 1024 needs root: bind before the drop */
    if (D.conf.metrics[0]) {
        if ((r = http_init(D.conf.metrics, err, sizeof(err))) < 0) {
            log_err("%s", err);
            server_fini();
            return 1;
        }
        D.http = true;
    }
    /* the daemon user saves the ring there later (memory fallback, resize) */
    if (uid != 0 && geteuid() == 0 && chown(D.conf.state_dir, uid, gid) < 0)
        log_warn("%s: cannot hand the state directory to uid %ld: %s", D.conf.state_dir, (long)uid,
                 strerror(errno));
    /* 2. drop privileges */
    if (drop_privileges(uid, gid, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return 1;
    }
    /* 3. signals, then the first sample right away (READY=1 follows it) */
    loop_add_signal(SIGTERM, on_stop, NULL);
    loop_add_signal(SIGINT, on_stop, NULL);
    loop_add_signal(SIGHUP, on_reload, NULL);
    sched_init(loop_now_ns());
    schedule();
    growth_deadline = loop_now_ns() + GROWTH_EVAL_NS;
    D.growth.timer = loop_add_timer(growth_deadline, growth_tick, NULL);
    r = loop_run();
    if (r < 0)
        log_err("event loop: %s", strerror(-r));
    if (D.ring) {
        ring_sync(D.ring);
        ring_close(D.ring);
    }
    if (D.reader)
        ring_reader_close(D.reader);
    if (D.ring_ro_fd >= 0)
        close(D.ring_ro_fd);
    if (D.http)
        http_fini();
    growth_fini();
    server_fini();
    cmd_fini();
    sampler_fini(&D.sm);
    loop_fini();
    if (D.have_include)
        regfree(&D.cache_include);
    if (D.have_exclude)
        regfree(&D.cache_exclude);
    return r < 0 ? 1 : 0;
}
