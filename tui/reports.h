/*
 * reports: the daemon's JSON reports (common/report.h shapes) read back into
 * the parsed structs of a sampler.  Only for a daemon that runs without a
 * history ring: kmemtop then watches with the reports attached and shows the
 * live samples, keeping its own trend in memory.  With a ring (the normal
 * case) records are read from the ring and none of this is used.
 */
#ifndef KMW_TUI_REPORTS_H
#define KMW_TUI_REPORTS_H

#include <jansson.h>

#include "sampler.h"

/*
 * Fill sm from the reports in a watch event ({"slab":{...},"vmalloc":{...},
 * "buddy":{...},"meminfo":{...}}; any may be missing, and keeps its previous
 * contents).  Returns the SRC_BIT mask of the sources read, or -ENOMEM.  A
 * report of an unexpected shape leaves its source invalid.
 */
int reports_to_sampler(json_t *event, struct sampler *sm);

#endif
