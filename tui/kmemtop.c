/*
 * kmemtop: htop for kernel memory.
 *
 * This file owns the options and the one loop.  The loop waits in ppoll() on
 * the terminal, the daemon's socket and one absolute CLOCK_MONOTONIC
 * deadline (the next direct sample, the next reconnection attempt), all
 * given by the source (source.c).  Everything else is elsewhere: curses in
 * ui.c, keys in keys.c, which record is shown in timeline.c, what is drawn
 * in screens.c.
 *
 * Where the data comes from: --replay FILE; --direct or --proc-root (this
 * process reads /proc); --socket PATH (that daemon, waited for and
 * reconnected to forever); by default the daemon on the default socket when
 * one accepts connections, else direct.
 *
 * --batch draws the same screens into a text buffer, one frame per sample
 * (like top -b), for scripts and golden tests.  A replay in batch shows its
 * newest record, or the record at or before --at.
 *
 * Exit status: 0 success, 2 any error, with one line on stderr (never while
 * curses owns the terminal: errors then go to the status line), 128 + N
 * after signal N (SIGINT, SIGTERM, SIGHUP) ended the interactive loop.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "keys.h"
#include "proto.h"
#include "sampler.h"
#include "screens.h"
#include "source.h"
#include "timeline.h"
#include "ui.h"
#include "util.h"

#define EXIT_ERROR 2

#define BATCH_WIDTH_DEFAULT 120
#define BATCH_WIDTH_MAX 1000
/* Batch from a daemon: how long to wait for a sample before giving up. */
#define BATCH_DAEMON_WAIT_MS 15000u

struct opts {
    bool batch;
    long iterations;    /* --batch frames; -1: until interrupted (like top -b) */
    int width;
    int height;         /* 0: as many rows as the screen has */
    bool color;
    bool direct;
    const char *socket;
    const char *replay;
    bool have_at;
    uint64_t at_ns;
};

static void die(const char *fmt, ...) KMW_PRINTF(1, 2) __attribute__((noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("kmemtop: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_ERROR);
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: kmemtop [OPTIONS]\n"
            "Interactive viewer of kernel memory: slab caches, kmalloc size classes, vmalloc,\n"
            "the buddy allocator and meminfo, live or from history.\n"
            "\nWhere the data comes from (default: the daemon on %s if one\n"
            "answers, else /proc directly):\n"
            "  --socket PATH      the kmemwatchd at PATH (waits and reconnects when it is gone)\n"
            "  --direct           read /proc directly and keep this session's history\n"
            "  --proc-root DIR    read DIR/slabinfo etc. instead of /proc (implies --direct)\n"
            "  --replay FILE      browse a ring file (kmemctl import/export, the daemon's ring)\n"
            "\nOptions:\n"
            "  -d, --interval S   direct: seconds between samples, %g to %g (default 1)\n"
            "  --screen NAME      start on overview, kmalloc, caches (default), vmalloc, buddy\n"
            "                     or graph\n"
            "  --window W         growth and sparkline window: 1m, 10m (default), 1h, 1d\n"
            "  --suspect-window D leak suspects are judged over at least D (default 10m; the\n"
            "                     window above too when longer), like growth_min_window\n"
            "  --suspect-size S   ... and must have grown by S (default 1M), like growth_min_size\n"
            "  --at TIME          show the record at or before TIME (unix seconds) of the\n"
            "                     history; with --replay --batch the frames show it\n"
            "  --no-color         monochrome (also when NO_COLOR is set)\n"
            "  -b, --batch        no curses: print frames of the screen as text (like top -b)\n"
            "  -n, --iterations N with --batch: N frames, one per new sample (default: until\n"
            "                     interrupted; a replay prints one)\n"
            "  --width W          with --batch: frame width, %d to %d (default %d)\n"
            "  --height H         with --batch: frame height, at least %d (default: every row)\n"
            "  --keys             print the key table as man page rows\n"
            "  -h, --help         this help\n"
            "  -V, --version      print the version\n"
            "\nPress ? in kmemtop for the keys.\n",
            PROTO_DEFAULT_SOCKET, APP_INTERVAL_MIN_MS / 1000.0, APP_INTERVAL_MAX_MS / 1000.0,
            UI_MIN_COLS, BATCH_WIDTH_MAX, BATCH_WIDTH_DEFAULT, UI_MIN_ROWS);
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        die("%s '%s': expected a whole number from %ld to %ld", opt, s, lo, hi);
    return v;
}

static unsigned parse_interval(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v * 1000.0 < APP_INTERVAL_MIN_MS - 0.5 ||
        v * 1000.0 > APP_INTERVAL_MAX_MS + 0.5)
        die("--interval '%s': expected seconds from %g to %g", s, APP_INTERVAL_MIN_MS / 1000.0,
            APP_INTERVAL_MAX_MS / 1000.0);
    return (unsigned)lround(v * 1000.0);
}

static uint64_t parse_at(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e11)
        die("--at '%s': expected unix time in seconds", s);
    return (uint64_t)llround(v * 1e9);
}

static struct timespec ns_to_ts(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    return ts;
}

/* Act on what the source reported; true when the screen changed. */
static bool handle_source(struct app *a, unsigned ev)
{
    if (ev & SOURCE_EV_HISTORY)
        timeline_reload(a);
    if (ev & SOURCE_EV_DATA)
        timeline_on_data(a);
    return ev != 0;
}

/*
 * Run the source's due timers; unless that changed the screen (draw first), wait in ppoll
 * for the socket, the terminal (pfd[1] when nfds is 2) or the next deadline, at most until
 * limit_ns (0: no limit), and read what the socket has.  ppoll's result, or -errno.
 */
static int wait_and_service(struct app *a, struct pollfd *pfd, nfds_t nfds, uint64_t limit_ns,
                            const sigset_t *mask, bool *changed)
{
    uint64_t now = util_mono_ns(), dl = source_deadline(&a->src);
    struct timespec ts, *timeout = NULL;
    int r;

    if (dl && now >= dl) {
        *changed |= handle_source(a, source_service(&a->src, now, false));
        now = util_mono_ns();
        dl = source_deadline(&a->src);
    }
    if (limit_ns && (!dl || limit_ns < dl))
        dl = limit_ns;
    if (*changed)
        return 0; /* draw first */
    if (dl) {
        ts = ns_to_ts(dl > now ? dl - now : 0);
        timeout = &ts;
    }
    pfd[0].fd = source_fd(&a->src);
    pfd[0].events = POLLIN;
    pfd[0].revents = 0;
    r = ppoll(pfd, nfds, timeout, mask);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (pfd[0].fd >= 0 && pfd[0].revents)
        *changed |= handle_source(a, source_service(&a->src, util_mono_ns(), true));
    return r;
}

static void start_history(struct app *a, const struct opts *o)
{
    char msg[200];

    if (!source_history(&a->src))
        return;
    timeline_reload(a);
    if (o->have_at && timeline_seek(a, o->at_ns, msg, sizeof(msg)) < 0)
        snprintf(a->msg, sizeof(a->msg), "%s", msg);
}

static int run_interactive(struct app *a, const struct opts *o)
{
    /* [0]: the daemon's socket (fd -1 when there is none), [1]: the terminal */
    struct pollfd pfd[2] = { { .fd = -1 }, { .fd = STDIN_FILENO, .events = POLLIN } };
    sigset_t wake, orig;
    char err[256];
    bool redraw = true;
    int rc = 0;

    if (ui_init(o->color, err, sizeof(err)) < 0) {
        fprintf(stderr, "kmemtop: %s\n", err);
        return EXIT_ERROR;
    }
    a->interactive = true;
    ui_wake_signals(&wake);
    sigprocmask(SIG_BLOCK, &wake, &orig);
    start_history(a, o);
    while (!ui_quit_signal()) {
        unsigned flags = 0;
        int key, r;

        if (redraw) {
            struct canvas cv;

            /* Without memory for a frame nothing is drawn; the next redraw tries again. */
            if (ui_canvas(&cv) == 0) {
                screens_draw(a, &cv, true);
                ui_present();
            }
            redraw = false;
        }
        r = wait_and_service(a, pfd, 2, 0, &orig, &redraw);
        if (r < 0) {
            snprintf(err, sizeof(err), "poll: %s", strerror(-r));
            rc = EXIT_ERROR;
            break;
        }
        if (pfd[1].revents & (POLLHUP | POLLERR | POLLNVAL))
            break; /* the terminal went away */
        /*
         * Keys when the terminal has input, and after a signal or a timeout (r == 0): ui_getkey
         * reports a resize or a resumption then.  Not on a new sample alone: that was a poll
         * of the terminal every second for nothing.
         */
        if (r == 0 || (pfd[1].revents & POLLIN))
            while ((key = ui_getkey()) != UI_KEY_NONE)
                flags |= keys_dispatch(a, key);
        pfd[1].revents = 0;
        if (flags & KEYS_QUIT)
            break;
        if (flags & KEYS_REDRAW)
            redraw = true;
    }
    ui_fini();
    sigprocmask(SIG_SETMASK, &orig, NULL);
    if (rc)
        fprintf(stderr, "kmemtop: %s\n", err);
    else if (ui_quit_signal())
        rc = 128 + ui_quit_signal(); /* what the shell reports for a process killed by it */
    return rc;
}

static void print_frame(struct app *a, struct canvas *cv, bool first)
{
    char when[64] = "-";
    time_t t = (time_t)(a->cursor_ns / 1000000000u);
    struct tm tm;

    if (!first)
        putchar('\n');
    screens_draw(a, cv, false);
    if (a->cursor_ns) {
        localtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    }
    printf("kmemtop %s\n", when);
    canvas_buffer_write(cv, stdout);
    fflush(stdout);
}

static int run_batch(struct app *a, const struct opts *o)
{
    struct pollfd pfd[1] = { { .fd = -1 } };
    enum screen_id scr = a->screen == SCREEN_GRAPH ? SCREEN_OVERVIEW : a->screen;
    unsigned need = screens_sources(scr);
    struct canvas cv;
    int rc = 0;

    if (canvas_buffer_init(&cv, o->width, o->height) < 0)
        die("out of memory");
    if (a->src.kind == SOURCE_REPLAY) {
        long n = o->iterations < 0 ? 1 : o->iterations;

        start_history(a, o);
        if (a->msg[0])
            fprintf(stderr, "kmemtop: %s\n", a->msg);
        for (long i = 0; i < n; i++)
            print_frame(a, &cv, i == 0);
        if (!a->view) {
            fprintf(stderr, "kmemtop: %s: no records\n", a->src.where);
            rc = EXIT_ERROR;
        }
        canvas_buffer_free(&cv);
        return rc;
    }
    for (long i = 0; o->iterations < 0 || i < o->iterations;) {
        uint64_t shown = a->samples;
        uint64_t give_up = util_mono_ns() + (uint64_t)BATCH_DAEMON_WAIT_MS * 1000000u +
                           (uint64_t)a->src.interval_ms * 2000000u;
        bool changed = false;

        /* One frame per new record (from a daemon: once it watches, so the status line is final). */
        while (a->samples == shown || !source_up(&a->src)) {
            int r = wait_and_service(a, pfd, 1, give_up, NULL, &changed);

            changed = false;
            if (r < 0)
                die("poll: %s", strerror(-r));
            if (a->src.kind == SOURCE_DAEMON && a->src.dstate == DS_DOWN && a->src.attempts)
                die("%s: %s", a->src.where, a->src.down_reason);
            if (util_mono_ns() >= give_up)
                die("%s: no sample within %u s", a->src.where, BATCH_DAEMON_WAIT_MS / 1000);
        }
        if (a->src.kind == SOURCE_DAEMON && a->msg[0])
            a->msg[0] = '\0';
        print_frame(a, &cv, i == 0);
        i++;
    }
    canvas_buffer_free(&cv);
    /* The frames show the problem; scripts also need to see it. */
    for (int s = 0; s < SRC_N; s++) {
        if ((need & SRC_BIT(s)) && a->view && !sampler_valid(a->view, (enum src_id)s)) {
            char why[600];

            screens_source_problem(a, (enum src_id)s, why, sizeof(why));
            /* A reader's error names the file; the others need the source's name. */
            if (why[0] == '/' || strchr(why, ':'))
                fprintf(stderr, "kmemtop: %s\n", why);
            else
                fprintf(stderr, "kmemtop: %s: %s\n", src_name((enum src_id)s), why);
            rc = EXIT_ERROR;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    enum {
        OPT_PROC_ROOT = 256,
        OPT_DIRECT,
        OPT_SOCKET,
        OPT_REPLAY,
        OPT_SCREEN,
        OPT_WINDOW,
        OPT_AT,
        OPT_WIDTH,
        OPT_HEIGHT,
        OPT_NO_COLOR,
        OPT_KEYS,
        OPT_SUSPECT_WINDOW,
        OPT_SUSPECT_SIZE,
    };
    static const struct option longopts[] = {
        { "proc-root", required_argument, NULL, OPT_PROC_ROOT },
        { "direct", no_argument, NULL, OPT_DIRECT },
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "replay", required_argument, NULL, OPT_REPLAY },
        { "interval", required_argument, NULL, 'd' },
        { "screen", required_argument, NULL, OPT_SCREEN },
        { "window", required_argument, NULL, OPT_WINDOW },
        { "at", required_argument, NULL, OPT_AT },
        { "suspect-window", required_argument, NULL, OPT_SUSPECT_WINDOW },
        { "suspect-size", required_argument, NULL, OPT_SUSPECT_SIZE },
        { "no-color", no_argument, NULL, OPT_NO_COLOR },
        { "batch", no_argument, NULL, 'b' },
        { "iterations", required_argument, NULL, 'n' },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "height", required_argument, NULL, OPT_HEIGHT },
        { "keys", no_argument, NULL, OPT_KEYS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct opts o = { .iterations = -1, .width = BATCH_WIDTH_DEFAULT, .color = true };
    static struct app a; /* large (panels, samplers, trend): not on the stack */
    bool batch_only = false, proc_root_set = false;
    int window_idx = 1;
    uint64_t sus_window = SUSPECTS_WINDOW_DEFAULT_S, sus_size = SUSPECTS_SIZE_DEFAULT;
    long ps;
    int c, rc;

    a.proc_root = "/proc";
    a.interval_ms = 1000;
    a.screen = SCREEN_CACHES;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":bd:n:hV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROC_ROOT:
            a.proc_root = optarg;
            proc_root_set = true;
            break;
        case OPT_DIRECT:
            o.direct = true;
            break;
        case OPT_SOCKET:
            o.socket = optarg;
            break;
        case OPT_REPLAY:
            o.replay = optarg;
            break;
        case 'd':
            a.interval_ms = parse_interval(optarg);
            break;
        case OPT_SCREEN: {
            int s = screen_parse(optarg);
            if (s < 0)
                die("--screen '%s': expected overview, kmalloc, caches, vmalloc, buddy or graph",
                    optarg);
            a.screen = (enum screen_id)s;
            break;
        }
        case OPT_WINDOW:
            window_idx = timeline_window_parse(optarg);
            if (window_idx < 0)
                die("--window '%s': expected 1m, 10m, 1h or 1d", optarg);
            break;
        case OPT_AT:
            o.at_ns = parse_at(optarg);
            o.have_at = true;
            break;
        case OPT_SUSPECT_WINDOW:
            if (parse_duration(optarg, &sus_window) < 0 || sus_window < 1 ||
                sus_window > SUSPECTS_WINDOW_MAX_S)
                die("--suspect-window '%s': expected a duration from 1s to 30d (90s, 10m, 1h)",
                    optarg);
            break;
        case OPT_SUSPECT_SIZE:
            if (parse_size(optarg, &sus_size) < 0 || sus_size > SUSPECTS_SIZE_MAX)
                die("--suspect-size '%s': expected a size up to 1024T (512K, 1M, 16M)", optarg);
            break;
        case OPT_NO_COLOR:
            o.color = false;
            break;
        case 'b':
            o.batch = true;
            break;
        case 'n':
            o.iterations = parse_long("-n", optarg, 1, 1000000000L);
            batch_only = true;
            break;
        case OPT_WIDTH:
            o.width = (int)parse_long("--width", optarg, UI_MIN_COLS, BATCH_WIDTH_MAX);
            batch_only = true;
            break;
        case OPT_HEIGHT:
            o.height = (int)parse_long("--height", optarg, UI_MIN_ROWS, 1000000);
            batch_only = true;
            break;
        case OPT_KEYS:
            keys_print_man(stdout);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("kmemtop %s\n", KMW_VERSION);
            return 0;
        case ':':
            die("option '%s' needs an argument (see --help)", argv[optind - 1]);
        default:
            die("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        die("unexpected argument '%s' (see --help)", argv[optind]);
    if (batch_only && !o.batch)
        die("-n, --width and --height apply to --batch");
    if ((o.replay != NULL) + (o.socket != NULL) + (o.direct || proc_root_set) > 1)
        die("--replay, --socket and --direct (--proc-root) choose different sources: one only");

    ui_locale_init();
    ps = sysconf(_SC_PAGESIZE);
    if (o.replay) {
        char err[600];
        if (source_open_replay(&a.src, o.replay, err, sizeof(err)) < 0)
            die("%s", err);
    } else if (o.socket) {
        source_open_daemon(&a.src, o.socket, ps > 0 ? (uint64_t)ps : 4096);
    } else if (!o.direct && !proc_root_set && source_daemon_listening(PROTO_DEFAULT_SOCKET)) {
        source_open_daemon(&a.src, PROTO_DEFAULT_SOCKET, ps > 0 ? (uint64_t)ps : 4096);
    } else {
        source_open_direct(&a.src, a.proc_root, a.interval_ms, ps > 0 ? (uint64_t)ps : 4096);
        a.src.no_daemon = !o.direct && !proc_root_set;
    }
    if (a.screen == SCREEN_GRAPH)
        a.graph_from = SCREEN_GRAPH; /* no row selected yet: the graph shows Slab */
    suspects_init(&a.sus, sus_window, sus_size);
    screens_init(&a);
    timeline_init(&a, window_idx);
    rc = o.batch ? run_batch(&a, &o) : run_interactive(&a, &o);
    timeline_fini(&a);
    screens_fini(&a);
    suspects_fini(&a.sus);
    source_close(&a.src);
    return rc;
}
