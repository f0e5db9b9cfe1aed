/*
 * report: the public JSON shapes (kmemctl --json, the daemon's replies).
 *
 * These shapes are an interface: keep them.  All numbers are JSON integers
 * except the buddy unusable_index fractions.  Builders return a new reference
 * or NULL on allocation failure.
 *
 *   slab:    {"caches":[{"name","active_objs","num_objs","objsize","objperslab",
 *             "pagesperslab","active_slabs","num_slabs","bytes_total","bytes_active"}]}
 *   kmalloc: {"classes":[{"size","variant","cache","objsize","active_objs","num_objs",
 *             "bytes_total","bytes_active"}]}
 *   vmalloc: {"callers":[{"caller","module","type","flags","areas","bytes","pages","nodes"}],
 *             "types":{"vmalloc":{"areas","bytes","pages"},...},
 *             "unpurged":{"areas","bytes"},"total":{"areas","bytes","pages"}}
 *   buddy:   {"zones":[{"node","zone","free":[..],"free_pages","unusable_index":[..]}]}
 *   meminfo: {"meminfo":{"SUnreclaim":bytes,...}}
 */
#ifndef KMW_REPORT_H
#define KMW_REPORT_H

#include <jansson.h>

#include "sampler.h"

json_t *report_slab(const struct slab_info *si);
json_t *report_kmalloc(const struct kmalloc_table *kt);
json_t *report_vmalloc(const struct vmalloc_info *vi);
json_t *report_buddy(const struct buddy_info *bi);
json_t *report_meminfo(const struct meminfo *mi);

/* JSON integer from a u64, clamped to the JSON-safe signed range. */
json_t *report_u64(uint64_t v);

#endif
