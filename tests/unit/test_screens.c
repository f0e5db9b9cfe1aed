/*
 * screens: a frame whose panels copy the rows they kept from the last draw
 * (panel.h, row keys) is, cell for cell and element for element, the frame
 * built from scratch, on every table screen:
 *
 *   - an idle session sampling a /proc copy (direct source) as it goes on,
 *     most caches still, a few growing now and then, at two widths (a
 *     sparkline wider than the window's points and one narrower);
 *   - the selection moving, a mark, another sort, a filter, between samples;
 *   - the real growth trace (30 records, every figure moving) stepped back
 *     and forth;
 *   - a full 10-minute window of a simulated idle machine (ring_fill_idle:
 *     the busiest caches move every second, the rest are flat, so their rows
 *     are kept whole, sparkline and all) stepped back and forth.
 *
 * Each frame is drawn twice: once as kmemtop draws it (the rows kept from
 * the frame before), once as a table without row keys is (every cell
 * built).  The copies must really happen: the idle session and the full
 * window count them.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <time.h>

#include "../../tui/keys.h"
#include "../../tui/screens.h"
#include "../../tui/timeline.h"
#include "../../tui/ui.h"
#include "util.h"

static struct app A; /* large: not on the stack */

static struct panel *const PANELS[] = {
    &A.p_meminfo, &A.p_suspects, &A.p_growers, &A.p_kmalloc,
    &A.p_caches,  &A.p_vmtypes,  &A.p_vmcallers, &A.p_zones,
};
#define NPANELS (sizeof(PANELS) / sizeof(PANELS[0]))

static const enum screen_id TABLE_SCREENS[] = {
    SCREEN_OVERVIEW, SCREEN_KMALLOC, SCREEN_CACHES, SCREEN_VMALLOC, SCREEN_BUDDY,
};

static size_t nframes, nkept, nwhole;

/* A fixed canvas with elements, like the curses one, that is not the terminal. */
static void canvas_make(struct canvas *cv, int w, int h)
{
    memset(cv, 0, sizeof(*cv));
    cv->w = w;
    cv->h = cv->rows_cap = h;
    cv->cells = calloc((size_t)w * (size_t)h, sizeof(*cv->cells));
    cv->elems = calloc((size_t)w * (size_t)h, 1);
    assert_non_null(cv->cells);
    assert_non_null(cv->elems);
}

static void canvas_drop(struct canvas *cv)
{
    free(cv->cells);
    free(cv->elems);
}

/*
 * The frame with nothing kept: every panel drawn as a table without row keys
 * is (ops.row_key NULL: each cell built), then given its own ops back.
 */
static void draw_built(struct canvas *cv)
{
    struct panel_ops ops[NPANELS];
    const struct panel_ops *was[NPANELS];

    for (size_t i = 0; i < NPANELS; i++) {
        was[i] = PANELS[i]->ops;
        ops[i] = *was[i];
        ops[i].row_key = NULL;
        PANELS[i]->ops = &ops[i];
    }
    screens_draw(&A, cv, true);
    for (size_t i = 0; i < NPANELS; i++) {
        assert_int_equal(PANELS[i]->kept, 0);
        PANELS[i]->ops = was[i];
    }
}

static void row_text(const struct canvas *cv, int y, char *out, size_t n)
{
    size_t pos = 0;

    for (int x = 0; x < cv->w && pos + 5 < n; x++) {
        const char *c = cv->cells[(size_t)y * (size_t)cv->w + (size_t)x];
        size_t len = strnlen(c, 4);

        memcpy(out + pos, len ? c : " ", len ? len : 1);
        pos += len ? len : 1;
    }
    out[pos] = '\0';
}

/* Draw the screen shown both ways and compare. */
static void check_frame(struct canvas *kept, struct canvas *built, const char *what)
{
    size_t cells = (size_t)kept->w * (size_t)kept->h;

    screens_draw(&A, kept, true);
    for (size_t i = 0; i < NPANELS; i++) {
        nkept += (size_t)PANELS[i]->kept;
        nwhole += (size_t)PANELS[i]->kept_whole;
    }
    draw_built(built);
    nframes++;
    for (size_t i = 0; i < cells; i++) {
        if (memcmp(kept->cells[i], built->cells[i], 4) != 0 || kept->elems[i] != built->elems[i]) {
            char a[1024], b[1024];
            int y = (int)(i / (size_t)kept->w);

            row_text(kept, y, a, sizeof(a));
            row_text(built, y, b, sizeof(b));
            fail_msg("%s, screen %s, row %d column %d (elements %d, %d):\n kept  \"%s\"\n built \"%s\"",
                     what, screen_name(A.screen), y, (int)(i % (size_t)kept->w),
                     kept->elems[i], built->elems[i], a, b);
        }
    }
}

/* Every table screen, in turn, at the same place as the frame before it. */
static void check_screens(struct canvas *kept, struct canvas *built, const char *what)
{
    enum screen_id was = A.screen;

    for (size_t s = 0; s < sizeof(TABLE_SCREENS) / sizeof(TABLE_SCREENS[0]); s++) {
        A.screen = TABLE_SCREENS[s];
        check_frame(kept, built, what);
    }
    A.screen = was;
}

static void keys(const char *s)
{
    for (; *s; s++)
        keys_dispatch(&A, *s == '\n' ? UI_KEY_ENTER : *s == 'v' ? UI_KEY_DOWN : (unsigned char)*s);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *buf = fixture_read(from, &len);
    FILE *f = fopen(to, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

/* The idle slabinfo with `grown` objects more in dentry and kmalloc-1k (0: as it is). */
static void write_slabinfo(const char *dir, unsigned grown)
{
    size_t len;
    char *buf = fixture_read("tests/fixtures/idle/slabinfo", &len), path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/slabinfo", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64];
        unsigned long act, num, size, per, pages, sl_act, sl_num;

        if (grown && sscanf(line, "%63s %lu %lu %lu %lu %lu : tunables %*u %*u %*u : slabdata %lu %lu",
                            name, &act, &num, &size, &per, &pages, &sl_act, &sl_num) == 8 &&
            (strcmp(name, "dentry") == 0 || strcmp(name, "kmalloc-1k") == 0)) {
            unsigned long slabs = (num + grown + per - 1) / per;

            fprintf(f, "%s %lu %lu %lu %lu %lu : tunables 0 0 0 : slabdata %lu %lu 0\n", name,
                    act + grown, num + grown, size, per, pages, slabs, slabs);
            continue;
        }
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    free(buf);
}

/* kmemtop's modules on the source A.src opened, as its main() starts them (window: 0 = 1m). */
static void app_start(int window_idx)
{
    A.interval_ms = 1000;
    A.interactive = true;
    suspects_init(&A.sus, SUSPECTS_WINDOW_DEFAULT_S, SUSPECTS_SIZE_DEFAULT);
    screens_init(&A);
    timeline_init(&A, window_idx);
}

static void app_stop(struct canvas *kept, struct canvas *built)
{
    canvas_drop(kept);
    canvas_drop(built);
    timeline_fini(&A);
    screens_fini(&A);
    suspects_fini(&A.sus);
    source_close(&A.src);
}

/* One sample of the direct source, handled as kmemtop's loop does. */
static void sample(void)
{
    unsigned ev = source_service(&A.src, source_deadline(&A.src), false);

    if (ev & SOURCE_EV_HISTORY)
        timeline_reload(&A);
    if (ev & SOURCE_EV_DATA)
        timeline_on_data(&A);
    assert_true(ev & SOURCE_EV_DATA);
}

static const char *const PROC_FILES[] = { "buddyinfo", "meminfo", "vmallocinfo", "pagesize",
                                           "kernel-release", "zoneinfo", "pagetypeinfo" };

/* A /proc of the idle fixture in a new directory (dir: a mkdtemp template). */
static void proc_make(char *dir)
{
    char from[256], to[512];

    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof(PROC_FILES) / sizeof(PROC_FILES[0]); i++) {
        snprintf(from, sizeof(from), "tests/fixtures/idle/%s", PROC_FILES[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, PROC_FILES[i]);
        copy_file(from, to);
    }
    write_slabinfo(dir, 0);
}

/* That directory and what it holds, also `extra` (NULL: nothing more). */
static void proc_remove(const char *dir, const char *extra)
{
    char to[512];

    for (size_t i = 0; i < sizeof(PROC_FILES) / sizeof(PROC_FILES[0]); i++) {
        snprintf(to, sizeof(to), "%s/%s", dir, PROC_FILES[i]);
        unlink(to);
    }
    snprintf(to, sizeof(to), "%s/slabinfo", dir);
    unlink(to);
    if (extra) {
        snprintf(to, sizeof(to), "%s/%s", dir, extra);
        unlink(to);
    }
    rmdir(dir);
}

static void idle_session(int w, int h)
{
    char dir[] = "/tmp/kmw-test-screens-XXXXXX", what[64];
    static const struct {
        int step;
        const char *keys;
    } user[] = {
        { 10, "vvv" }, { 20, "m" }, { 26, ">" }, { 30, "<I" }, { 36, "\\kmalloc|dentry\n" },
        { 42, "\\\n" },
    };
    struct canvas kept, built;
    unsigned grown = 0;

    proc_make(dir);
    memset(&A, 0, sizeof(A));
    A.proc_root = dir;
    A.screen = SCREEN_CACHES;
    source_open_direct(&A.src, dir, 1000, 4096);
    app_start(0); /* a trend bucket is 83 ms */
    canvas_make(&kept, w, h);
    canvas_make(&built, w, h);
    for (int step = 0; step < 48; step++) {
        /* growing for a few samples now and then, still in between */
        if (step % 12 >= 8) {
            grown += 64u * (unsigned)step;
            write_slabinfo(dir, grown);
        }
        nanosleep(&(struct timespec){ 0, 90 * 1000000 }, NULL);
        sample();
        snprintf(what, sizeof(what), "%dx%d, sample %d", w, h, step);
        check_screens(&kept, &built, what);
        /* the user, between samples: the frame right after, then the next sample's */
        for (size_t k = 0; k < sizeof(user) / sizeof(user[0]); k++) {
            if (user[k].step == step) {
                keys(user[k].keys);
                check_screens(&kept, &built, what);
            }
        }
    }
    app_stop(&kept, &built);
    proc_remove(dir, NULL);
}

static void test_idle_session(void **state)
{
    (void)state;
    nframes = nkept = 0;
    idle_session(200, 60);
    idle_session(100, 30);
    /* rows must really be copied, most of them (counts, not timings) */
    assert_true(nframes > 400);
    assert_true(nkept > nframes * 10);
}

static void test_growth_trace(void **state)
{
    char path[] = "/tmp/kmw-test-screens-XXXXXX", err[600], msg[200];
    struct canvas kept, built;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    if (ring_import_dir("tests/fixtures/growth-trace", path, NULL, err, sizeof(err)) < 0)
        fail_msg("import: %s", err);
    memset(&A, 0, sizeof(A));
    if (source_open_replay(&A.src, path, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    app_start(0);
    timeline_reload(&A);
    canvas_make(&kept, 160, 50);
    canvas_make(&built, 160, 50);
    nframes = 0;
    for (int step = 0; step < 70; step++) {
        int dir = step < 35 ? -1 : 1;

        snprintf(msg, sizeof(msg), "trace, step %d", step);
        check_screens(&kept, &built, msg);
        keys(dir < 0 ? "t" : "T");
        if (step == 20)
            keys("mvv");
    }
    assert_true(nframes >= 350);
    app_stop(&kept, &built);
    unlink(path);
}

static void test_full_window(void **state)
{
    char dir[] = "/tmp/kmw-test-screens-XXXXXX", path[600], note[512], err[600], msg[200];
    const uint64_t n = 900; /* 15 minutes: the 10-minute window full, 600 points */
    struct canvas kept, built;
    struct sampler sm;
    struct ring *r;

    (void)state;
    proc_make(dir);
    sampler_init(&sm, dir, SRC_ALL, 4096);
    assert_int_equal(sampler_read_all(&sm), 0);
    snprintf(path, sizeof(path), "%s/ring.kmw", dir);
    if (ring_open(&r, path, NULL, note, sizeof(note)) < 0)
        fail_msg("%s: %s", path, note);
    assert_int_equal(ring_fill_idle(r, &sm, n, util_wall_ns() - n * 1000000000ull, 1), 0);
    ring_close(r);
    sampler_fini(&sm);
    memset(&A, 0, sizeof(A));
    if (source_open_replay(&A.src, path, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    app_start(1);
    timeline_reload(&A);
    assert_true(A.tr.n >= TREND_SPARK_MAX);
    canvas_make(&kept, 200, 60);
    canvas_make(&built, 200, 60);
    nframes = nkept = nwhole = 0;
    for (int step = 0; step < 40; step++) {
        snprintf(msg, sizeof(msg), "full window, step %d", step);
        check_screens(&kept, &built, msg);
        keys(step < 20 ? "t" : "T");
        if (step == 10)
            keys("vv");
        if (step == 30)
            keys("m");
    }
    /* the flat rows were copied whole, sparkline and all: most rows of most frames */
    assert_true(nframes >= 200);
    assert_true(nwhole > nframes * 10);
    app_stop(&kept, &built);
    proc_remove(dir, "ring.kmw");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_session),
        cmocka_unit_test(test_growth_trace),
        cmocka_unit_test(test_full_window),
    };

    ui_locale_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
