/* expo_om: writes a metric set in the OpenMetrics 1.0.0 text format
 * (application/openmetrics-text; version=1.0.0).
 *
 * Each family gets "# TYPE" then "# HELP" with the family name as expo names it (counters
 * without "_total", info families without "_info"); counter samples are written with
 * "_total", info samples with "_info", histogram samples with their "_bucket", "_sum" and
 * "_count" suffixes and the "le" values in the canonical OpenMetrics rendering ("1.0",
 * "0.005", "+Inf"). Label values and help texts are escaped (\\, \", \n). The exposition
 * ends with "# EOF".
 *
 * OpenMetrics requires a stateset's state label to be named like the family. A stateset
 * whose state label has another name (slo_state{state=...}) is written as a gauge, which
 * keeps the series identical to the other formats and the exposition valid. */
#ifndef SLOE_EXPO_OM_H
#define SLOE_EXPO_OM_H

#include <stdio.h>

#include "expo.h"

/* Writes e to out. The set is only read; write errors are cleared from out. */
void expo_om_write(const struct expo_set *e, FILE *out);

/* e in OpenMetrics, malloc'd and NUL-terminated, *len bytes before the NUL. */
char *expo_om_render(const struct expo_set *e, size_t *len);

#endif
