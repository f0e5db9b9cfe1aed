/*
 * The incremental parsers (slab_parse_incr, vmalloc_parse_incr) must give
 * exactly what the plain parsers give on the new buffer: same rows in the
 * same order, same sums, same errors.  Checked on consecutive real samples
 * (the growth trace) and on many random edits of the fixtures: lines
 * removed, inserted, duplicated, changed, moved, and broken.  Likewise
 * kmalloc_refresh against kmalloc_build when the cache names did not change.
 */
#include "testutil.h"

#include <errno.h>
#include <stdbool.h>

#include "kmalloc.h"
#include "slab.h"
#include "vmalloc.h"

static void vm_equal(const struct vmalloc_info *a, const struct vmalloc_info *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct vmalloc_row *x = &a->rows[i], *y = &b->rows[i];
        assert_string_equal(x->caller, y->caller);
        assert_string_equal(x->module, y->module);
        assert_int_equal(x->type, y->type);
        assert_vmalloc_counts_equal(x, y);
    }
    assert_memory_equal(a->types, b->types, sizeof(a->types));
    assert_memory_equal(&a->unpurged, &b->unpurged, sizeof(a->unpurged));
    assert_memory_equal(&a->total, &b->total, sizeof(a->total));
}

static void slab_equal(const struct slab_info *a, const struct slab_info *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->version_minor, b->version_minor);
    assert_int_equal(a->statistics, b->statistics);
    for (size_t i = 0; i < a->n; i++) {
        const struct slab_cache *x = &a->caches[i], *y = &b->caches[i];
        assert_string_equal(x->name, y->name);
        assert_slab_fields_equal(x, y);
    }
}

/*
 * inc holds the parse of prev; parse cur both ways and compare.  Returns the
 * result code so that a chain of samples can go on from it.
 */
/* Steps whose new buffer parsed, and how many of them fell back to the plain parse. */
static unsigned vm_good_steps, vm_good_fallbacks;

static int vm_step(struct vmalloc_info *inc, const char *prev, size_t plen, const char *cur,
                   size_t clen)
{
    struct vmalloc_info full;
    struct perr e1 = { 0, "" }, e2 = { 0, "" };
    uint64_t fb = inc->incr_fallbacks;
    int r1, r2;

    vmalloc_info_init(&full);
    r1 = vmalloc_parse(cur, clen, &full, &e1);
    r2 = vmalloc_parse_incr(prev, plen, cur, clen, inc, &e2);
    if (r1 == 0) {
        vm_good_steps++;
        vm_good_fallbacks += inc->incr_fallbacks != fb;
    }
    assert_int_equal(r1, r2);
    if (r1 < 0) {
        assert_int_equal(e1.line, e2.line);
        assert_string_equal(e1.msg, e2.msg);
    }
    vm_equal(&full, inc);
    vmalloc_info_free(&full);
    return r1;
}

static int slab_step(struct slab_info *inc, const char *prev, size_t plen, const char *cur,
                     size_t clen)
{
    struct slab_info full;
    struct perr e1 = { 0, "" }, e2 = { 0, "" };
    bool same = false;
    int r1, r2;

    slab_info_init(&full);
    r1 = slab_parse(cur, clen, 4096, &full, &e1);
    r2 = slab_parse_incr(prev, plen, cur, clen, 4096, inc, &same, &e2);
    assert_int_equal(r1, r2);
    if (r1 < 0) {
        assert_int_equal(e1.line, e2.line);
        assert_string_equal(e1.msg, e2.msg);
    }
    slab_equal(&full, inc);
    if (same && r1 == 0) {
        /* "same names" promises the names and their order did not change */
        for (size_t i = 0; i < full.n; i++)
            assert_string_equal(full.caches[i].name, inc->caches[i].name);
    }
    slab_info_free(&full);
    return r1;
}

/* The growth trace: 30 consecutive samples of a machine growing vmalloc areas. */
static void test_trace(void **state)
{
    struct vmalloc_info vi;
    struct slab_info si;
    char *pv = NULL, *ps = NULL;
    size_t pvl = 0, psl = 0;
    struct perr e;

    (void)state;
    vmalloc_info_init(&vi);
    slab_info_init(&si);
    for (int i = 0; i < 100; i++) {
        char path[128];
        size_t vl, sl;
        char *v, *s;
        FILE *f;

        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/vmallocinfo", i);
        f = fopen(path, "r");
        if (!f)
            break;
        fclose(f);
        v = fixture_read(path, &vl);
        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/slabinfo", i);
        s = fixture_read(path, &sl);
        if (!pv) {
            assert_int_equal(vmalloc_parse(v, vl, &vi, &e), 0);
            assert_int_equal(slab_parse(s, sl, 4096, &si, &e), 0);
        } else {
            assert_int_equal(vm_step(&vi, pv, pvl, v, vl), 0);
            assert_int_equal(slab_step(&si, ps, psl, s, sl), 0);
        }
        free(pv);
        free(ps);
        pv = v;
        pvl = vl;
        ps = s;
        psl = sl;
    }
    free(pv);
    free(ps);
    /*
     * consecutive samples differ in a few lines: only the step where half the
     * file changed (019 -> 020, a purge) needs the plain parse
     */
    assert_true(vi.incr_fallbacks <= 1);
    assert_true(vi.incr_parses > 20);
    vmalloc_info_free(&vi);
    slab_info_free(&si);
}

/* ---- random edits ---- */

static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return n ? rng % n : 0;
}

struct lines {
    size_t n;
    char **l; /* each with its newline */
};

static void lines_split(struct lines *ls, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    ls->n = 0;
    ls->l = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        ls->l = realloc(ls->l, (ls->n + 1) * sizeof(*ls->l));
        ls->l[ls->n] = strndup(p, n);
        ls->n++;
        p += n;
    }
}

static char *lines_join(const struct lines *ls, size_t *len)
{
    size_t n = 0, o = 0;
    char *b;

    for (size_t i = 0; i < ls->n; i++)
        n += strlen(ls->l[i]);
    b = malloc(n + 1);
    for (size_t i = 0; i < ls->n; i++) {
        size_t k = strlen(ls->l[i]);
        memcpy(b + o, ls->l[i], k);
        o += k;
    }
    b[o] = '\0';
    *len = o;
    return b;
}

static void lines_free(struct lines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        free(ls->l[i]);
    free(ls->l);
}

/* Replace the first run of digits at or after a random column with another number. */
static void bump_number(char **line)
{
    char *s = *line, *d;
    size_t len = strlen(s), at = rnd((uint32_t)len);
    char out[4096];

    for (d = s + at; *d && !(*d >= '0' && *d <= '9'); d++)
        ;
    if (!*d)
        return;
    {
        char *e = d;
        while (*e >= '0' && *e <= '9')
            e++;
        snprintf(out, sizeof(out), "%.*s%u%s", (int)(d - s), s, rnd(100000), e);
    }
    free(*line);
    *line = strdup(out);
}

/* One random edit of the line list (min_line: lines before it are never touched). */
static void edit(struct lines *ls, const struct lines *pool, size_t min_line)
{
    size_t i;

    if (ls->n <= min_line + 1)
        return;
    i = min_line + rnd((uint32_t)(ls->n - min_line));
    switch (rnd(9)) {
    case 0: /* remove */
        free(ls->l[i]);
        memmove(ls->l + i, ls->l + i + 1, (ls->n - i - 1) * sizeof(*ls->l));
        ls->n--;
        break;
    case 1: /* insert a line of the pool */
    case 2:
        ls->l = realloc(ls->l, (ls->n + 1) * sizeof(*ls->l));
        memmove(ls->l + i + 1, ls->l + i, (ls->n - i) * sizeof(*ls->l));
        ls->l[i] = strdup(pool->l[min_line + rnd((uint32_t)(pool->n - min_line))]);
        ls->n++;
        break;
    case 3: /* a number changes */
    case 4:
    case 5:
        bump_number(&ls->l[i]);
        break;
    case 6: { /* a line moves */
        size_t j = min_line + rnd((uint32_t)(ls->n - min_line));
        char *t = ls->l[i];
        ls->l[i] = ls->l[j];
        ls->l[j] = t;
        break;
    }
    case 7: /* a block of lines goes away */
        for (int k = 0; k < 20 && i < ls->n && ls->n > min_line + 2; k++) {
            free(ls->l[i]);
            memmove(ls->l + i, ls->l + i + 1, (ls->n - i - 1) * sizeof(*ls->l));
            ls->n--;
        }
        break;
    default: /* a line breaks (rarely): a stray byte */
        if (rnd(8) == 0) {
            char *s = ls->l[i];
            size_t len = strlen(s);
            if (len > 2)
                s[rnd((uint32_t)(len - 1))] = "x\t\x01 ]["[rnd(6)];
        }
        break;
    }
}

static void random_edits(const char *path, bool slab)
{
    struct lines base, cur;
    size_t len, plen;
    char *buf = fixture_read(path, &len), *prev;
    struct vmalloc_info vi;
    struct slab_info si;
    struct perr e;
    int pr;

    lines_split(&base, buf, len);
    vmalloc_info_init(&vi);
    slab_info_init(&si);
    for (int round = 0; round < 40; round++) {
        lines_split(&cur, buf, len);
        prev = lines_join(&cur, &plen);
        pr = slab ? slab_parse(prev, plen, 4096, &si, &e) : vmalloc_parse(prev, plen, &vi, &e);
        assert_int_equal(pr, 0);
        for (int step = 0; step < 25; step++) {
            size_t clen;
            char *next;
            int edits = 1 + (int)rnd(step % 5 == 0 ? 30 : 4);

            for (int k = 0; k < edits; k++)
                edit(&cur, &base, slab ? 2 : 0);
            next = lines_join(&cur, &clen);
            pr = slab ? slab_step(&si, prev, plen, next, clen) : vm_step(&vi, prev, plen, next, clen);
            free(prev);
            prev = next;
            plen = clen;
            if (pr < 0) {
                /* a broken sample: start again from a good one, as the sampler does */
                lines_free(&cur);
                lines_split(&cur, buf, len);
                free(prev);
                prev = lines_join(&cur, &plen);
                pr = slab ? slab_parse(prev, plen, 4096, &si, &e) : vmalloc_parse(prev, plen, &vi, &e);
                assert_int_equal(pr, 0);
            }
        }
        free(prev);
        lines_free(&cur);
    }
    lines_free(&base);
    free(buf);
    /* most good steps went the incremental way (only broken samples must fall back) */
    if (!slab) {
        print_message("# %s: %u good steps, %u fell back\n", path, vm_good_steps,
                      vm_good_fallbacks);
        assert_true(vm_good_fallbacks * 10 < vm_good_steps);
        vm_good_steps = vm_good_fallbacks = 0;
    }
    vmalloc_info_free(&vi);
    slab_info_free(&si);
}

static void test_vmalloc_random(void **state)
{
    (void)state;
    random_edits("tests/fixtures/idle/vmallocinfo", false);
    random_edits("tests/fixtures/synthetic/vmallocinfo-variety", false);
    random_edits("tests/fixtures/growth-trace/020/vmallocinfo", false);
}

static void test_slab_random(void **state)
{
    (void)state;
    random_edits("tests/fixtures/idle/slabinfo", true);
}

/* A previous result that is not the parse of prev (someone wrote into it) is detected. */
static void test_vmalloc_foreign_state(void **state)
{
    static const char a[] = "0x1-0x2 4096 f+0x1/0x2 pages=1 vmalloc N0=1\n"
                            "0x3-0x4 8192 g+0x1/0x2 pages=2 vmalloc N0=2\n";
    static const char b[] = "0x1-0x2 4096 f+0x1/0x2 pages=1 vmalloc N0=1\n"
                            "0x3-0x4 8192 g+0x1/0x2 pages=2 vmalloc N0=2\n"
                            "0x5-0x6 4096 h+0x1/0x2 pages=1 vmalloc N0=1\n";
    struct vmalloc_info vi;
    struct perr e;

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(STRBUF(a), &vi, &e), 0);
    vi.total.areas = 7; /* as a JSON importer might leave it */
    assert_int_equal(vm_step(&vi, STRBUF(a), STRBUF(b)), 0);
    assert_int_equal(vi.total.areas, 3);
    vmalloc_info_free(&vi);
}

/* kmalloc_refresh after an incremental slab parse == kmalloc_build on a plain parse. */
static void test_kmalloc_refresh(void **state)
{
    struct slab_info si, sf;
    struct kmalloc_table kt, kf;
    char *prev = NULL;
    size_t plen = 0;
    unsigned refreshed = 0;

    (void)state;
    slab_info_init(&si);
    slab_info_init(&sf);
    kmalloc_table_init(&kt);
    kmalloc_table_init(&kf);
    for (int i = 0; i < 100; i++) {
        char path[128];
        struct perr e;
        bool same = false;
        size_t len;
        char *buf;
        FILE *f;

        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/slabinfo", i);
        if (!(f = fopen(path, "r")))
            break;
        fclose(f);
        buf = fixture_read(path, &len);
        if (!prev)
            assert_int_equal(slab_parse(buf, len, 4096, &si, &e), 0);
        else
            assert_int_equal(slab_parse_incr(prev, plen, buf, len, 4096, &si, &same, &e), 0);
        assert_int_equal(same ? kmalloc_refresh(&si, &kt) : kmalloc_build(&si, &kt), 0);
        refreshed += same;
        assert_int_equal(slab_parse(buf, len, 4096, &sf, &e), 0);
        assert_int_equal(kmalloc_build(&sf, &kf), 0);
        assert_kmalloc_equal(&kt, &kf);
        free(prev);
        prev = buf;
        plen = len;
    }
    assert_true(refreshed > 20);
    free(prev);
    slab_info_free(&si);
    slab_info_free(&sf);
    kmalloc_table_free(&kt);
    kmalloc_table_free(&kf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_vmalloc_random),
        cmocka_unit_test(test_slab_random),
        cmocka_unit_test(test_vmalloc_foreign_state),
        cmocka_unit_test(test_kmalloc_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
