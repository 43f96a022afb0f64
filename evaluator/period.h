/* period: the alert windows and the compliance period of an SLO at a time: rolling windows
 * end at the evaluation time; calendar periods (day, ISO week, month, quarter) are aligned in
 * the SLO's time zone. */
#ifndef SLOE_PERIOD_H
#define SLOE_PERIOD_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* The seven multiwindow alert windows, shortest first. */
enum { PERIOD_N_WINDOWS = 7 };
extern const int64_t period_windows_s[PERIOD_N_WINDOWS];
extern const char *const period_window_names[PERIOD_N_WINDOWS];

/* The compliance period containing t (unix seconds): for a rolling window [t - W, t), for a
 * calendar one the local period's start and end. Returns 0, or -1 when the zone fails. */
int period_bounds(const struct rules_slo *slo, int64_t t, int64_t *start, int64_t *end)
    __attribute__((warn_unused_result));

/* The length in seconds of the period containing t (rolling: the window). */
int64_t period_length(const struct rules_slo *slo, int64_t t);

/* The longest period the SLO can have, in seconds (92 days for a quarter). */
int64_t period_max_length(const struct rules_slo *slo);

/* True when t lies inside the SLO's service hours (always, when it has none). */
bool period_in_service_hours(const struct rules_slo *slo, int64_t t);

/* True when t lies inside one of the SLO's exclusions. */
bool period_excluded(const struct rules_slo *slo, int64_t t);

#endif
