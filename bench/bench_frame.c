/*
 * bench_frame: CPU cost of one kmemtop frame, per screen, without sampling.
 *
 *   bench_frame [--label L] [--width W] [--height H] [--frames N] [--runs R]
 *               [--screen NAME] RING
 *
 * kmemtop's own modules (timeline, screens, ui) on a ring file (`kmemctl
 * import tests/fixtures/growth-trace FILE`: 30 samples of a machine growing
 * by 5000 threads, so every sample changes hundreds of figures), drawing to
 * a real terminal: a pseudo-terminal of W x H whose output a child process
 * reads and throws away, with TERM as kmemtop would have it in tmux
 * (tmux-256color unless TERM names another terminal).  For each screen:
 *
 *   draw     screens_draw() of the record shown: building the frame in
 *            memory, the part of every frame that does not depend on what
 *            changed (also what --batch costs before its text is written);
 *   frame    what kmemtop does for a new sample once it is in the view:
 *            screens_update() (rows rebuilt, sorted), screens_draw(), and
 *            ui_present() of the cells that changed, the view moving
 *            between the two newest records so that every frame differs
 *            from the one before it as consecutive samples do;
 *   full     the same with every row sent (the first frame, a resize).
 *
 * CPU is CLOCK_THREAD_CPUTIME_ID (user + system: the pty write included),
 * per frame, median of R blocks of N frames; moving the view between
 * frames is not timed.  Output: "key value" lines for bench/run.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tui/screens.h"
#include "../tui/timeline.h"
#include "../tui/ui.h"
#include "util.h"

static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Make a pseudo-terminal of w x h our stdin and stdout; a child reads what
 * is written to it.  Returns a stream on the old stdout for the results.
 */
static FILE *pty_setup(int w, int h, pid_t *drain)
{
    struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
    int master, slave, out = dup(STDOUT_FILENO);
    const char *term = getenv("TERM");
    FILE *f;

    if (out < 0 || openpty(&master, &slave, NULL, NULL, &ws) < 0) {
        fprintf(stderr, "bench_frame: openpty: %s\n", strerror(errno));
        exit(2);
    }
    *drain = fork();
    if (*drain < 0) {
        fprintf(stderr, "bench_frame: fork: %s\n", strerror(errno));
        exit(2);
    }
    if (*drain == 0) {
        char buf[65536];

        close(slave);
        close(out);
        while (read(master, buf, sizeof(buf)) > 0 || errno == EINTR)
            ;
        _exit(0);
    }
    close(master);
    if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0) {
        fprintf(stderr, "bench_frame: dup2: %s\n", strerror(errno));
        exit(2);
    }
    close(slave);
    if (!term || !*term || strcmp(term, "dumb") == 0)
        setenv("TERM", "tmux-256color", 1);
    f = fdopen(out, "w");
    if (!f)
        exit(2);
    return f;
}

/* Show the record at wall (timeline_seek rebuilds the view and the trend, untimed). */
static void show(struct app *a, uint64_t wall)
{
    char msg[200];

    if (timeline_seek(a, wall, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "bench_frame: %s\n", msg);
        exit(2);
    }
}

struct walls {
    uint64_t w[2];
    int n;
};

static int walls_cb(const struct ring_state *st, void *arg)
{
    struct walls *x = arg;

    x->w[0] = x->w[1];
    x->w[1] = st->wall_ns;
    x->n++;
    return 0;
}

enum part { P_DRAW, P_FRAME, P_FULL, P_N };
static const char *const part_names[P_N] = { "draw", "frame", "full" };

/* CPU per frame of one part on the screen shown, ns: the median of runs blocks of frames. */
static double measure(struct app *a, enum part part, const struct walls *wl, int frames, int runs,
                      struct canvas *buf)
{
    double v[64];

    for (int r = 0; r < runs; r++) {
        uint64_t sum = 0;

        for (int i = 0; i < frames; i++) {
            struct canvas cv;
            uint64_t t0;

            if (part != P_DRAW)
                show(a, wl->w[i % 2]);
            if (part == P_FULL)
                ui_repaint();
            if (part != P_DRAW && ui_canvas(&cv) < 0)
                exit(2);
            t0 = cpu_ns();
            if (part == P_DRAW) {
                screens_draw(a, buf, true);
            } else {
                screens_update(a);
                screens_draw(a, &cv, true);
                ui_present();
            }
            sum += cpu_ns() - t0;
        }
        v[r] = (double)sum / frames;
    }
    return median(v, runs);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "label", required_argument, NULL, 'l' },  { "width", required_argument, NULL, 'w' },
        { "height", required_argument, NULL, 'h' }, { "frames", required_argument, NULL, 'n' },
        { "runs", required_argument, NULL, 'r' },   { "screen", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    static struct app a; /* large: not on the stack */
    const char *label = "frame";
    int w = 200, h = 60, frames = 50, runs = 9, only = -1, c;
    struct walls wl = { { 0, 0 }, 0 };
    struct canvas buf;
    char err[600];
    pid_t drain;
    FILE *out;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            label = optarg;
            break;
        case 'w':
            w = atoi(optarg);
            break;
        case 'h':
            h = atoi(optarg);
            break;
        case 'n':
            frames = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 's':
            only = screen_parse(optarg);
            if (only < 0) {
                fprintf(stderr, "bench_frame: --screen '%s': no such screen\n", optarg);
                return 2;
            }
            break;
        default:
            return 2;
        }
    }
    if (optind != argc - 1 || w < UI_MIN_COLS || h < UI_MIN_ROWS || frames < 1 || runs < 1 ||
        runs > 64) {
        fprintf(stderr, "usage: bench_frame [--label L] [--width W] [--height H] [--frames N] "
                        "[--runs R (1..64)] [--screen NAME] RING\n");
        return 2;
    }
    ui_locale_init();
    a.interval_ms = 1000;
    if (source_open_replay(&a.src, argv[optind], err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_frame: %s\n", err);
        return 2;
    }
    if (ring_reader_walk(source_history(&a.src), RING_FULL, 0, 0, walls_cb, &wl) < 0 || wl.n < 2) {
        fprintf(stderr, "bench_frame: %s: fewer than two records\n", argv[optind]);
        return 2;
    }
    if (canvas_buffer_init(&buf, w, h) < 0)
        return 2;
    screens_init(&a);
    timeline_init(&a, 1);
    out = pty_setup(w, h, &drain);
    if (ui_init(true, err, sizeof(err)) < 0) {
        fprintf(out, "bench_frame: %s\n", err);
        return 2;
    }
    a.interactive = true;
    for (int s = 0; s < SCREEN_N; s++) {
        if (only >= 0 && s != only)
            continue;
        a.screen = (enum screen_id)s;
        a.graph_from = SCREEN_GRAPH; /* the graph of total Slab, as --screen graph opens it */
        show(&a, wl.w[1]);
        for (int p = 0; p < P_N; p++)
            fprintf(out, "%s.%s.%s_us %.1f\n", label, screen_name((enum screen_id)s), part_names[p],
                    measure(&a, (enum part)p, &wl, frames, runs, &buf) / 1000.0);
        fflush(out);
    }
    ui_fini();
    close(STDIN_FILENO);
    close(STDOUT_FILENO);
    waitpid(drain, NULL, 0);
    canvas_buffer_free(&buf);
    timeline_fini(&a);
    screens_fini(&a);
    source_close(&a.src);
    fclose(out);
    return 0;
}
