/*
 * vmalloc parser tests.  Expected figures for the real fixtures were computed
 * independently with awk (the commands are quoted next to each number), not
 * with the parser under test.
 */
#include "testutil.h"

#include <ctype.h>
#include <errno.h>

#include "vmalloc.h"

static const struct vmalloc_row *find_row(const struct vmalloc_info *vi, const char *caller,
                                          const char *module, enum vmalloc_type type)
{
    size_t i;

    for (i = 0; i < vi->n; i++)
        if (strcmp(vi->rows[i].caller, caller) == 0 && strcmp(vi->rows[i].module, module) == 0 &&
            vi->rows[i].type == type)
            return &vi->rows[i];
    return NULL;
}

/* "0x" followed by 8+ hex digits anywhere in s (what a leaked address looks like). */
static int has_address(const char *s)
{
    for (; *s; s++) {
        size_t n = 0;
        if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            continue;
        while (isxdigit((unsigned char)s[2 + n]))
            n++;
        if (n >= 8)
            return 1;
    }
    return 0;
}

static void assert_no_address_stored(const struct vmalloc_info *vi)
{
    size_t i;

    for (i = 0; i < vi->n; i++) {
        assert_false(has_address(vi->rows[i].caller));
        assert_false(has_address(vi->rows[i].module));
        assert_false(strncmp(vi->rows[i].caller, "0x", 2) == 0);
        assert_null(strchr(vi->rows[i].caller, '+'));
    }
}

/* An error message is one printable line and quotes no address. */
static void assert_clean_msg(const struct perr *err)
{
    const char *p;

    assert_true(err->msg[0] != '\0');
    for (p = err->msg; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    assert_null(strstr(err->msg, "0x0"));
    assert_false(has_address(err->msg));
}

static int parse_file(const char *path, struct vmalloc_info *vi, struct perr *err)
{
    size_t len;
    char *buf = fixture_read(path, &len);
    int r = vmalloc_parse(buf, len, vi, err);

    free(buf);
    return r;
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(vmalloc_type_name(VMALLOC_T_VMALLOC), "vmalloc");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_VMAP), "vmap");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_IOREMAP), "ioremap");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_VM_MAP_RAM), "vm_map_ram");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_SPARSE), "sparse");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_DMA_COHERENT), "dma-coherent");
    assert_string_equal(vmalloc_type_name(VMALLOC_T_OTHER), "other");
    assert_non_null(vmalloc_type_name(VMALLOC_NTYPES));
}

static void test_idle(void **state)
{
    struct vmalloc_info vi;
    struct perr err = { 0 };
    const struct vmalloc_row *row;

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(parse_file("tests/fixtures/idle/vmallocinfo", &vi, &err), 0);

    /*
     * awk '$3=="unpurged"{ua++; ub+=$2; next} {a++; b+=$2; for(i=3;i<=NF;i++)
     *   if ($i ~ /^pages=/) {split($i,x,"="); p+=x[2]}}
     *   END{print a, b, p, ua, ub}' tests/fixtures/idle/vmallocinfo
     * -> 248 19124224 3617 1662 34037760
     */
    assert_int_equal(vi.total.areas, 248);
    assert_int_equal(vi.total.bytes, 19124224);
    assert_int_equal(vi.total.pages, 3617);
    assert_int_equal(vi.unpurged.areas, 1662);
    assert_int_equal(vi.unpurged.bytes, 34037760);
    assert_int_equal(vi.unpurged.pages, 0);

    /*
     * awk '$3!="unpurged"{t="other"; for(i=3;i<=NF;i++){ if($i=="ioremap"||$i=="vmalloc"||
     *   $i=="vmap")t=$i}; n[t]++; b[t]+=$2} END{for(t in n) print t, n[t], b[t]}'
     * -> vmap 2 40960, vmalloc 217 17797120, ioremap 29 1286144
     */
    assert_int_equal(vi.types[VMALLOC_T_VMAP].areas, 2);
    assert_int_equal(vi.types[VMALLOC_T_VMAP].bytes, 40960);
    assert_int_equal(vi.types[VMALLOC_T_VMALLOC].areas, 217);
    assert_int_equal(vi.types[VMALLOC_T_VMALLOC].bytes, 17797120);
    assert_int_equal(vi.types[VMALLOC_T_VMALLOC].pages, 3617);
    assert_int_equal(vi.types[VMALLOC_T_IOREMAP].areas, 29);
    assert_int_equal(vi.types[VMALLOC_T_IOREMAP].bytes, 1286144);
    assert_int_equal(vi.types[VMALLOC_T_OTHER].areas, 0);
    assert_int_equal(vi.types[VMALLOC_T_VM_MAP_RAM].areas, 0);

    /* distinct callers (each has one type here): ... | awk '!s[$0]++' | wc -l -> 17 */
    assert_int_equal(vi.n, 17);
    /* first line of the file is the first row */
    assert_string_equal(vi.rows[0].caller, "irq_init_percpu_irqstack");
    assert_string_equal(vi.rows[1].caller, "acpi_os_map_iomem");
    assert_string_equal(vi.rows[2].caller, "kernel_clone");

    /* awk '$3 ~ /^kernel_clone\+/ {a++; b+=$2} END{print a, b}' -> 105 2150400 */
    row = find_row(&vi, "kernel_clone", "", VMALLOC_T_VMALLOC);
    assert_non_null(row);
    assert_int_equal(row->areas, 105);
    assert_int_equal(row->bytes, 2150400);
    assert_int_equal(row->pages, 105 * 4);
    assert_int_equal(row->nodes[0], 105 * 4);
    assert_int_equal(row->node_mask, 1);
    assert_int_equal(row->flags, 0);

    /* htab_map_alloc: 7 lines "vmalloc" + 3 lines "vmalloc vpages" make one row */
    row = find_row(&vi, "htab_map_alloc", "", VMALLOC_T_VMALLOC);
    assert_non_null(row);
    assert_int_equal(row->areas, 10);
    assert_int_equal(row->flags, VMALLOC_F_VPAGES);

    assert_no_address_stored(&vi);
    vmalloc_info_free(&vi);
}

/* Every line form of the synthetic fixture, row by row. */
static void test_variety(void **state)
{
    struct vmalloc_info vi;
    struct perr err = { 0 };
    const struct vmalloc_row *r;

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(parse_file("tests/fixtures/synthetic/vmallocinfo-variety", &vi, &err), 0);
    assert_int_equal(vi.n, 11);

    /* plain caller, vmap, no pages */
    r = &vi.rows[0];
    assert_string_equal(r->caller, "irq_init_percpu_irqstack");
    assert_string_equal(r->module, "");
    assert_int_equal(r->type, VMALLOC_T_VMAP);
    assert_int_equal(r->flags, 0);
    assert_int_equal(r->areas, 1);
    assert_int_equal(r->bytes, 20480);
    assert_int_equal(r->pages, 0);
    assert_int_equal(r->node_mask, 0);

    /* phys= ioremap, two areas aggregated */
    r = &vi.rows[1];
    assert_string_equal(r->caller, "acpi_os_map_iomem");
    assert_int_equal(r->type, VMALLOC_T_IOREMAP);
    assert_int_equal(r->areas, 2);
    assert_int_equal(r->bytes, 8192 + 12288);
    assert_int_equal(r->pages, 0);
    assert_int_equal(r->node_mask, 0);

    /* same caller on two nodes */
    r = &vi.rows[2];
    assert_string_equal(r->caller, "alloc_thread_stack_node");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->areas, 2);
    assert_int_equal(r->bytes, 40960);
    assert_int_equal(r->pages, 8);
    assert_int_equal(r->nodes[0], 4);
    assert_int_equal(r->nodes[1], 4);
    assert_int_equal(r->node_mask, 0x3);

    /* one area spread over two nodes */
    r = &vi.rows[3];
    assert_string_equal(r->caller, "load_module");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->areas, 1);
    assert_int_equal(r->bytes, 2101248);
    assert_int_equal(r->pages, 512);
    assert_int_equal(r->nodes[0], 256);
    assert_int_equal(r->nodes[1], 256);
    assert_int_equal(r->node_mask, 0x3);

    /* module caller, vpages */
    r = &vi.rows[4];
    assert_string_equal(r->caller, "xfs_buf_get_map");
    assert_string_equal(r->module, "xfs");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->flags, VMALLOC_F_VPAGES);
    assert_int_equal(r->areas, 1);
    assert_int_equal(r->bytes, 266240);
    assert_int_equal(r->pages, 64);
    assert_int_equal(r->nodes[0], 64);
    assert_int_equal(r->node_mask, 0x1);

    r = &vi.rows[5];
    assert_string_equal(r->caller, "n_tty_open");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->bytes, 16384);
    assert_int_equal(r->pages, 3);
    assert_int_equal(r->nodes[0], 3);

    /* vm_map_ram: no caller */
    r = &vi.rows[6];
    assert_string_equal(r->caller, "unknown");
    assert_string_equal(r->module, "");
    assert_int_equal(r->type, VMALLOC_T_VM_MAP_RAM);
    assert_int_equal(r->areas, 1);
    assert_int_equal(r->bytes, 8192);
    assert_int_equal(r->pages, 0);

    /* (the unpurged line makes no row) */
    r = &vi.rows[7];
    assert_string_equal(r->caller, "bpf_map_area_alloc");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->flags, VMALLOC_F_VPAGES);
    assert_int_equal(r->bytes, 4198400);
    assert_int_equal(r->pages, 1024);
    assert_int_equal(r->nodes[0], 1024);

    r = &vi.rows[8];
    assert_string_equal(r->caller, "remap_vmalloc_range_partial");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->flags, VMALLOC_F_USER);
    assert_int_equal(r->bytes, 1052672);
    assert_int_equal(r->pages, 256);
    assert_int_equal(r->nodes[0], 256);

    /* vmalloc with no pages= and no node counts */
    r = &vi.rows[9];
    assert_string_equal(r->caller, "pcpu_get_vm_areas");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->bytes, 8192);
    assert_int_equal(r->pages, 0);
    assert_int_equal(r->node_mask, 0);

    /* a bare hex caller (no symbol) is "unknown", and a different row from vm_map_ram */
    r = &vi.rows[10];
    assert_string_equal(r->caller, "unknown");
    assert_string_equal(r->module, "");
    assert_int_equal(r->type, VMALLOC_T_VMALLOC);
    assert_int_equal(r->areas, 1);
    assert_int_equal(r->bytes, 135168);
    assert_int_equal(r->pages, 32);
    assert_int_equal(r->nodes[0], 32);

    assert_int_equal(vi.unpurged.areas, 1);
    assert_int_equal(vi.unpurged.bytes, 20480);
    assert_int_equal(vi.unpurged.pages, 0);

    /*
     * awk '$3!="unpurged"{a++; b+=$2} END{print a, b}'
     *   tests/fixtures/synthetic/vmallocinfo-variety -> 13 7868416
     */
    assert_int_equal(vi.total.areas, 13);
    assert_int_equal(vi.total.bytes, 7868416);
    assert_int_equal(vi.total.pages, 4 + 4 + 512 + 64 + 3 + 1024 + 256 + 32);
    assert_int_equal(vi.types[VMALLOC_T_VMAP].areas, 1);
    assert_int_equal(vi.types[VMALLOC_T_IOREMAP].areas, 2);
    assert_int_equal(vi.types[VMALLOC_T_VMALLOC].areas, 9);
    assert_int_equal(vi.types[VMALLOC_T_VM_MAP_RAM].areas, 1);
    assert_int_equal(vi.types[VMALLOC_T_VM_MAP_RAM].bytes, 8192);
    assert_int_equal(vi.types[VMALLOC_T_OTHER].areas, 0);

    assert_no_address_stored(&vi);
    vmalloc_info_free(&vi);
}

/* Kind words not in the fixtures, and the priority between several of them. */
static void test_kinds_and_priority(void **state)
{
    static const char in[] =
        "0x0000000000001000-0x0000000000002000    4096 a+0x1/0x2 ioremap dma-coherent\n"
        "0x0000000000001000-0x0000000000002000    4096 b+0x1/0x2 phys=0x1000 ioremap sparse\n"
        "0x0000000000001000-0x0000000000002000    4096 c+0x1/0x2 sparse vmalloc\n"
        "0x0000000000001000-0x0000000000002000    4096 d+0x1/0x2 vmalloc vmap\n"
        "0x0000000000001000-0x0000000000002000    4096 e+0x1/0x2 dma-coherent\n"
        "0x0000000000001000-0x0000000000002000    4096 f+0x1/0x2 sparse\n"
        "0x0000000000001000-0x0000000000002000    4096 g+0x1/0x2 user vpages\n"
        "0x0000000000001000-0x0000000000002000    4096 pages=1 vmalloc N3=1\n"
        "0x0000000000001000-0x0000000000002000    4096 phys=0x00000000fed00000 ioremap\n"
        "0x0000000000001000-0x0000000000002000    4096\n";
    struct vmalloc_info vi;
    struct perr err = { 0 };

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(STRBUF(in), &vi, &err), 0);
    assert_int_equal(vi.n, 10);
    assert_int_equal(vi.rows[0].type, VMALLOC_T_DMA_COHERENT);
    assert_int_equal(vi.rows[1].type, VMALLOC_T_IOREMAP);
    assert_int_equal(vi.rows[2].type, VMALLOC_T_SPARSE);
    assert_int_equal(vi.rows[3].type, VMALLOC_T_VMALLOC);
    assert_int_equal(vi.rows[4].type, VMALLOC_T_DMA_COHERENT);
    assert_int_equal(vi.rows[5].type, VMALLOC_T_SPARSE);
    assert_int_equal(vi.rows[6].type, VMALLOC_T_OTHER);
    assert_int_equal(vi.rows[6].flags, VMALLOC_F_USER | VMALLOC_F_VPAGES);
    /* no %pS at all: the first word is already a field */
    assert_string_equal(vi.rows[7].caller, "unknown");
    assert_int_equal(vi.rows[7].type, VMALLOC_T_VMALLOC);
    assert_int_equal(vi.rows[7].nodes[3], 1);
    assert_int_equal(vi.rows[7].node_mask, 1u << 3);
    assert_string_equal(vi.rows[8].caller, "unknown");
    assert_int_equal(vi.rows[8].type, VMALLOC_T_IOREMAP);
    /* address and size only */
    assert_string_equal(vi.rows[9].caller, "unknown");
    assert_int_equal(vi.rows[9].type, VMALLOC_T_OTHER);
    assert_int_equal(vi.types[VMALLOC_T_DMA_COHERENT].areas, 2);
    assert_int_equal(vi.types[VMALLOC_T_SPARSE].areas, 2);
    assert_int_equal(vi.total.areas, 10);
    assert_int_equal(vi.total.bytes, 40960);
    vmalloc_info_free(&vi);
}

/* Words a newer kernel might add are ignored, not errors. */
static void test_unknown_words_tolerated(void **state)
{
    static const char in[] =
        "0x0000000000001000-0x0000000000002000    8192 foo+0x1/0x2 pages=1 vmalloc shiny N0=1\n"
        "0x0000000000001000-0x0000000000002000    8192 foo+0x1/0x2 pages=1 Nx vmalloc N0=1 [x]\n"
        "0x0000000000001000-0x0000000000002000    8192 foo+0x1/0x2 pages=1 vmalloc N0=1 zz=1\n";
    struct vmalloc_info vi;
    struct perr err = { 0 };

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(STRBUF(in), &vi, &err), 0);
    assert_int_equal(vi.n, 1);
    assert_int_equal(vi.rows[0].areas, 3);
    assert_int_equal(vi.rows[0].pages, 3);
    assert_int_equal(vi.rows[0].nodes[0], 3);
    assert_int_equal(vi.rows[0].flags, 0);
    vmalloc_info_free(&vi);
}

/* " [mod buildid]" (%pSb) keeps the module name; an address-like caller is never stored. */
static void test_module_and_address_forms(void **state)
{
    static const char in[] =
        "0x0000000000001000-0x0000000000002000    4096 f+0x1/0x2 [nf_tables 0123abcd] vmalloc\n"
        "0x0000000000001000-0x0000000000002000    4096 0xffffffffc0a41234+0x0/0x10 [m] vmalloc\n"
        "0x0000000000001000-0x0000000000002000    4096 x0xffffffffc0a41234 vmalloc\n"
        "0x0000000000001000-0x0000000000002000    4096 g+0x1/0x2 [0xffffffffc0a41234] vmalloc\n"
        "0x0000000000001000-0x0000000000002000    4096 0x1f vmalloc\n";
    struct vmalloc_info vi;
    struct perr err = { 0 };

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(STRBUF(in), &vi, &err), 0);
    assert_int_equal(vi.n, 4);
    assert_string_equal(vi.rows[0].caller, "f");
    assert_string_equal(vi.rows[0].module, "nf_tables");
    assert_string_equal(vi.rows[1].caller, "unknown");
    assert_string_equal(vi.rows[1].module, "m");
    assert_string_equal(vi.rows[2].caller, "unknown");
    assert_string_equal(vi.rows[2].module, "");
    assert_int_equal(vi.rows[2].areas, 2); /* "x0x..." and the short bare "0x1f" */
    assert_string_equal(vi.rows[3].caller, "g");
    assert_string_equal(vi.rows[3].module, "");
    assert_no_address_stored(&vi);
    vmalloc_info_free(&vi);
}

/* Over-long names are cut at the field size (not rejected), so such keys merge. */
static void test_long_caller_truncated(void **state)
{
    char in[2048], name[300];
    struct vmalloc_info vi;
    struct perr err = { 0 };
    int n;

    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    n = snprintf(in, sizeof(in),
                 "0x0000000000001000-0x0000000000002000 4096 %sX+0x1/0x2 [%s] vmalloc\n"
                 "0x0000000000001000-0x0000000000002000 4096 %sY+0x1/0x2 [%s] vmalloc\n",
                 name, name, name, name);
    assert_true(n > 0 && (size_t)n < sizeof(in));
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(in, (size_t)n, &vi, &err), 0);
    assert_int_equal(vi.n, 1);
    assert_int_equal(strlen(vi.rows[0].caller), VMALLOC_CALLER_MAX - 1);
    assert_int_equal(strlen(vi.rows[0].module), VMALLOC_MODULE_MAX - 1);
    assert_int_equal(vi.rows[0].areas, 2);
    vmalloc_info_free(&vi);
}

static void test_empty_is_valid(void **state)
{
    struct vmalloc_info vi;
    struct perr err = { 0 };

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse("", 0, &vi, &err), 0);
    assert_int_equal(vi.n, 0);
    assert_int_equal(vi.total.areas, 0);
    assert_int_equal(vi.unpurged.areas, 0);
    vmalloc_info_free(&vi);
}

/* Parsing again reuses storage and starts from zero. */
static void test_reuse(void **state)
{
    struct vmalloc_info vi;
    struct perr err = { 0 };
    const struct vmalloc_row *rows;
    size_t cap, hcap;

    (void)state;
    vmalloc_info_init(&vi);
    assert_int_equal(parse_file("tests/fixtures/idle/vmallocinfo", &vi, &err), 0);
    rows = vi.rows;
    cap = vi.cap;
    hcap = vi.hcap;
    assert_int_equal(parse_file("tests/fixtures/idle/vmallocinfo", &vi, &err), 0);
    assert_ptr_equal(vi.rows, rows);
    assert_int_equal(vi.cap, cap);
    assert_int_equal(vi.hcap, hcap);
    assert_int_equal(vi.n, 17);
    assert_int_equal(vi.total.areas, 248);
    assert_int_equal(vi.unpurged.areas, 1662);

    assert_int_equal(parse_file("tests/fixtures/synthetic/vmallocinfo-variety", &vi, &err), 0);
    assert_int_equal(vi.n, 11);
    assert_int_equal(vi.total.areas, 13);
    assert_int_equal(vi.unpurged.areas, 1);
    assert_null(find_row(&vi, "kernel_clone", "", VMALLOC_T_VMALLOC));
    vmalloc_info_free(&vi);
}

/* Thousands of distinct keys: the hash grows, rows stay in first-appearance order. */
static void test_many_rows(void **state)
{
    enum { N = 5000 };
    const size_t linesz = 80;
    char *in = malloc(N * 2 * linesz), *p = in;
    struct vmalloc_info vi;
    struct perr err = { 0 };
    char name[32];
    int i;

    (void)state;
    assert_non_null(in);
    for (i = 0; i < 2 * N; i++)
        p += sprintf(p, "0x0000000000001000-0x0000000000002000 4096 fn_%d+0x1/0x2 vmalloc\n",
                     i % N);
    vmalloc_info_init(&vi);
    assert_int_equal(vmalloc_parse(in, (size_t)(p - in), &vi, &err), 0);
    assert_int_equal(vi.n, N);
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "fn_%d", i);
        assert_string_equal(vi.rows[i].caller, name);
        assert_int_equal(vi.rows[i].areas, 2);
    }
    assert_true(vi.hcap >= 2 * N);
    free(in);
    vmalloc_info_free(&vi);
}

/*
 * growth-trace: from 005 to 014 each second adds 100 threads (20480-byte
 * stacks under kernel_clone).
 *   for d in 004 014; do awk '$3 ~ /^kernel_clone\+/ {a++; b+=$2} END{print a, b}' \
 *     tests/fixtures/growth-trace/$d/vmallocinfo; done   -> 92 1884160, 1015 20787200
 * (923 rather than 1000: the kernel reuses cached stacks of exited tasks.)
 */
static void test_growth_trace(void **state)
{
    struct vmalloc_info vi;
    struct perr err = { 0 };
    const struct vmalloc_row *row;
    uint64_t a4, b4, a14, b14;
    char path[64];
    int i;

    (void)state;
    vmalloc_info_init(&vi);
    for (i = 0; i < 30; i++) {
        snprintf(path, sizeof(path), "tests/fixtures/growth-trace/%03d/vmallocinfo", i);
        assert_int_equal(parse_file(path, &vi, &err), 0);
        assert_no_address_stored(&vi);
    }
    assert_int_equal(parse_file("tests/fixtures/growth-trace/004/vmallocinfo", &vi, &err), 0);
    row = find_row(&vi, "kernel_clone", "", VMALLOC_T_VMALLOC);
    assert_non_null(row);
    a4 = row->areas;
    b4 = row->bytes;
    assert_int_equal(parse_file("tests/fixtures/growth-trace/014/vmallocinfo", &vi, &err), 0);
    row = find_row(&vi, "kernel_clone", "", VMALLOC_T_VMALLOC);
    assert_non_null(row);
    a14 = row->areas;
    b14 = row->bytes;
    assert_int_equal(a4, 92);
    assert_int_equal(a14, 1015);
    assert_in_range(a14 - a4, 900, 1100);
    assert_int_equal(b14 - b4, (a14 - a4) * 20480);
    assert_int_equal(b14 - b4, 20787200 - 1884160);
    vmalloc_info_free(&vi);
}

struct bad_case {
    const char *path;
    unsigned line;
    const char *msg; /* substring */
};

static void test_malformed_fixtures(void **state)
{
    static const struct bad_case cases[] = {
        { "tests/fixtures/malformed/vmallocinfo-truncated", 2, "no size" },
        { "tests/fixtures/malformed/vmallocinfo-no-newline", 3, "truncated" },
        { "tests/fixtures/malformed/vmallocinfo-garbage", 2, "address range" },
        { "tests/fixtures/malformed/vmallocinfo-non-number", 2, "size is not a number" },
        { "tests/fixtures/malformed/vmallocinfo-overflow", 3, "size out of range" },
        { "tests/fixtures/malformed/vmallocinfo-nul", 2, "NUL" },
        { "tests/fixtures/malformed/vmallocinfo-bad-node", 2, "node 64 out of range" },
    };
    struct vmalloc_info vi;
    size_t i;

    (void)state;
    vmalloc_info_init(&vi);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct perr err = { 0 };
        int r = parse_file(cases[i].path, &vi, &err);
        if (r != -EINVAL || err.line != cases[i].line || !strstr(err.msg, cases[i].msg))
            fail_msg("%s: r=%d line=%u msg=%s", cases[i].path, r, err.line, err.msg);
        assert_clean_msg(&err);
        /* no half sample is left behind */
        assert_int_equal(vi.n, 0);
        assert_int_equal(vi.total.areas, 0);
    }
    vmalloc_info_free(&vi);
}

#define LINE_OK "0x0000000012ef65a8-0x00000000f1e3a0c4   20480 f+0x82/0x1f0 pages=4 vmalloc N0=4\n"

static void test_malformed_inline(void **state)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        { "\n", "empty line" },
        { "0x12ef65a8-0x00000000f1e3a0c4\n", "no size" },
        { "0x12ef65a8-0x00000000f1e3a0c4   \n", "no size" },
        { "0x12ef65a8-0x   20480 f vmalloc\n", "address range" },
        { "0x12ef65a8 20480 f vmalloc\n", "address range" },
        { "12ef65a8-0x1 20480 f vmalloc\n", "address range" },
        { "0x12ef65a8-0x00000000f1e3a0c4x 20480 f vmalloc\n", "address range" },
        { "0x12ef65a8-0x00000000000000000f1e3a0c4 20480 f vmalloc\n", "address range" },
        { "0x12ef65a8-0x1 -20480 f vmalloc\n", "size is not a number" },
        { "0x12ef65a8-0x1 20480kB f vmalloc\n", "size is not a number" },
        { "0x12ef65a8-0x1 20480 f pages=abc vmalloc\n", "pages= value is not a number" },
        { "0x12ef65a8-0x1 20480 f pages=4x vmalloc\n", "pages= value is not a number" },
        { "0x12ef65a8-0x1 20480 f pages= vmalloc\n", "pages= has no value" },
        { "0x12ef65a8-0x1 20480 f pages=18446744073709551616 vmalloc\n", "out of range" },
        { "0x12ef65a8-0x1 20480 f phys=12 ioremap\n", "phys=" },
        { "0x12ef65a8-0x1 20480 f vmalloc N0=x\n", "N0= value is not a number" },
        { "0x12ef65a8-0x1 20480 f vmalloc N0=\n", "N0= has no value" },
        { "0x12ef65a8-0x1 20480 f vmalloc N1=99999999999999999999\n", "N1= value out of range" },
        { "0x12ef65a8-0x1 20480 f vmalloc N64=1\n", "node 64 out of range (max 63)" },
        { "0x12ef65a8-0x1 20480 f vmalloc N99999999999999999999=1\n", "node index out of range" },
        { "0x12ef65a8-0x1 20480 f [xfs vmalloc\n", "module" },
        { "0x12ef65a8-0x1 20480 f [xfs]x vmalloc\n", "module" },
        { "0x12ef65a8-0x1 20480 f\x1b[31m+0x1/0x2 vmalloc\n", "non-printable byte in caller" },
        { "0x12ef65a8-0x1 20480 f [x\x7f] vmalloc\n", "non-printable byte in module" },
    };
    struct vmalloc_info vi;
    char buf[512];
    size_t i;

    (void)state;
    vmalloc_info_init(&vi);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct perr err = { 0 };
        int n = snprintf(buf, sizeof(buf), "%s%s%s", LINE_OK, cases[i].in, LINE_OK);
        int r = vmalloc_parse(buf, (size_t)n, &vi, &err);
        if (r != -EINVAL || err.line != 2 || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: r=%d line=%u msg=%s", i, r, err.line, err.msg);
        assert_clean_msg(&err);
    }
    /* and N63 is the last valid node */
    {
        struct perr err = { 0 };
        assert_int_equal(vmalloc_parse(STRBUF("0x1-0x2 4096 f vmalloc N63=7\n"), &vi, &err), 0);
        assert_int_equal(vi.rows[0].nodes[63], 7);
        assert_int_equal(vi.rows[0].node_mask, 1ull << 63);
    }
    vmalloc_info_free(&vi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_variety),
        cmocka_unit_test(test_kinds_and_priority),
        cmocka_unit_test(test_unknown_words_tolerated),
        cmocka_unit_test(test_module_and_address_forms),
        cmocka_unit_test(test_long_caller_truncated),
        cmocka_unit_test(test_empty_is_valid),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_growth_trace),
        cmocka_unit_test(test_malformed_fixtures),
        cmocka_unit_test(test_malformed_inline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
