/*
 * app: kmemtop's state, shared by the main loop (kmemtop.c), the time line
 * (timeline.c), the key actions (keys.c) and the screens (screens.c,
 * tables.c, graph.c).
 *
 * Ownership: the main loop owns the source (source.c: when to sample, the
 * daemon connection); timeline.c owns what is displayed: the record under
 * the cursor (`view`), the trend over the window ending there, and the
 * cursor itself; the screens own the rows built from the view and the
 * panels that show them, and the leak suspects of the window ending at it
 * (suspects.c, judged when it changes); keys.c only changes the view
 * (screen, selection, sort, filter, time, window, prompt).  Nothing here touches curses: that is
 * ui.c's.
 */
#ifndef KMW_TUI_APP_H
#define KMW_TUI_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kmalloc.h"
#include "meminfo.h"
#include "panel.h"
#include "sampler.h"
#include "source.h"
#include "suspects.h"
#include "trend.h"
#include "vmalloc.h"

enum screen_id {
    SCREEN_OVERVIEW,
    SCREEN_KMALLOC,
    SCREEN_CACHES,
    SCREEN_VMALLOC,
    SCREEN_BUDDY,
    SCREEN_GRAPH,
    SCREEN_N
};

enum prompt_kind { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER, PROMPT_JUMP };

/* Bounds of the sampling interval, and the + / - step. */
#define APP_INTERVAL_MIN_MS 500u
#define APP_INTERVAL_MAX_MS 60000u
#define APP_INTERVAL_STEP_MS 500u

#define APP_TOP_GROWERS 10
#define APP_MEMINFO_ROWS 7
#define APP_NWINDOWS 4

/*
 * A table row's name: cache names, vmalloc "caller [module]", zones.
 * Rows of consumption series carry `suspect`: a leak suspect (suspects.h),
 * marked in the table's first column.
 */
#define APP_NAME_MAX 200

/* One slab cache of the view (Caches screen). */
struct cache_row {
    size_t cache;       /* index into view->slab.caches */
    long series;        /* TK_SLAB series, or -1 */
    bool suspect;
};

/* One kmalloc size class, all variants side by side (kmalloc screen). */
struct kmalloc_class {
    uint64_t size;
    char label[24];     /* "96", "1k", "2M": as the cache names spell it */
    uint64_t bytes[KMALLOC_NVARIANTS];
    uint64_t vobjs[KMALLOC_NVARIANTS];
    unsigned present;   /* bit v: the variant has a cache of this size */
    uint64_t total;     /* sum of bytes[] */
    uint64_t active;    /* active objects, all variants */
    uint64_t objs;      /* objects, all variants */
    uint64_t objsize;   /* largest objsize of the normal variant (slub_debug check) */
    long series;        /* TK_KMALLOC series */
    unsigned suspect;   /* suspects_kmalloc_mask: bit v variant v, KMALLOC_NVARIANTS the total */
};

struct meminfo_row {
    enum meminfo_key key;
    long series;        /* TK_MEMINFO series */
    bool suspect;
};

/* A vmalloc caller (module included), summed over its area types. */
struct vm_caller_row {
    char name[APP_NAME_MAX];
    unsigned types;     /* bit t: has areas of enum vmalloc_type t */
    uint64_t areas, bytes, pages;
    long series;        /* TK_VMALLOC */
    bool suspect;       /* its caller (all modules) */
};

/* Rows of the vmalloc "by type" table: the types, the total, then the unpurged areas. */
#define APP_VMTYPE_TOTAL VMALLOC_NTYPES
#define APP_VMTYPE_UNPURGED (VMALLOC_NTYPES + 1)
#define APP_VMTYPE_ROWS (VMALLOC_NTYPES + 2)
struct vm_type_row {
    const char *name;
    struct vmalloc_sum sum;
    long series;        /* TK_VMSUM */
    bool suspect;       /* the total only: the types are not series of growth.h */
};

struct zone_row {
    size_t zone;        /* index into view->buddy.zones */
    char name[48];      /* "0:Normal" */
    long series;        /* TK_BUDDY */
};

/* One row of the overview's top growers: a cache, a kmalloc class or a vmalloc caller. */
struct grower_row {
    int kind;           /* TK_SLAB, TK_KMALLOC, TK_VMALLOC */
    char name[APP_NAME_MAX]; /* as shown and searched: "dentry", "kmalloc 1k", "vmalloc kernel_clone" */
    long series;
    int64_t growth;     /* over the window */
    bool suspect;
};

/* The series of the last record turned into trend points, in the order timeline.c sets them. */
struct extract_plan {
    bool ok;
    uint64_t gen;               /* the ring state generation of that record */
    uint64_t shape[6];          /* and what else decides the series */
    long *idx;                  /* the slab caches' series first, in the sampler's order */
    size_t n, cap;
    /*
     * The sampler the last extraction described (NULL: none, or the plan is not
     * whole): its series are idx[].  Its callers refill a sampler only to extract it.
     */
    const struct sampler *of;
};

struct app {
    /* options (the source keeps its own copy of the interval, which + and - change) */
    const char *proc_root;
    unsigned interval_ms;

    /* where data comes from (kmemtop.c drives it) */
    struct data_source src;

    /* time line (timeline.c) */
    const struct sampler *view;     /* the displayed record, or NULL before there is one */
    struct sampler hist;            /* a record read back from the ring */
    struct sampler scratch;         /* records of a window walk, one at a time */
    bool hist_open;
    uint64_t cursor_ns;             /* wall time of the displayed record; 0 = none */
    unsigned cursor_src, cursor_err;/* sources read / failed in that record */
    bool live;                      /* the cursor follows the newest record */
    bool paused;
    uint64_t newest_ns;             /* the newest record seen */
    uint64_t window_ns;
    int window_idx;
    struct trend tr;
    struct extract_plan xplan;      /* where each value of the next record read back goes */
    uint64_t samples;               /* records shown so far (0: nothing yet) */
    struct suspects sus;            /* leak suspects of the window ending at the cursor */

    /* rows of the view and their panels (screens) */
    struct cache_row *caches;
    size_t ncaches, caches_cap;
    struct kmalloc_class *classes;
    size_t nclasses, classes_cap;
    struct meminfo_row meminfo[APP_MEMINFO_ROWS];
    struct grower_row growers[APP_TOP_GROWERS];
    size_t ngrowers;
    struct vm_caller_row *vmcallers;
    size_t nvmcallers, vmcallers_cap;
    const struct vmalloc_row **vmsort;  /* scratch: vmalloc rows by caller */
    size_t vmsort_cap;
    struct vm_type_row vmtypes[APP_VMTYPE_ROWS];
    struct zone_row *zones;
    size_t nzones, zones_cap;
    struct panel p_meminfo, p_suspects, p_growers, p_kmalloc, p_caches, p_vmtypes, p_vmcallers;
    struct panel p_zones;
    unsigned tables_stale;          /* tables.c: rows and panels not rebuilt since the view changed */

    /* view (keys.c) */
    enum screen_id screen;
    enum screen_id graph_from;      /* the screen whose selected row the graph shows */
    bool help;
    int help_top;
    enum prompt_kind prompt;
    char prompt_buf[PANEL_FILTER_MAX];
    char msg[256];                  /* one-line message on the status line, until the next key */
    bool msg_error;
    bool interactive;
};

#endif
