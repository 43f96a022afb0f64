/* history: per-interval event counts of one SLO instance, kept at three resolutions so
 * that every window and the compliance period can be summed without asking Prometheus for
 * old data again: 1-minute intervals for the last 6 hours, 5-minute ones for the last
 * day, and hourly ones for the longest period. An interval (t - step, t] is named by its end
 * t, a multiple of its step in unix seconds. Counts are bad and total events (bad is the
 * small number, kept precisely). */
#ifndef SLOE_HISTORY_H
#define SLOE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HISTORY_TIERS = 3 };

/* The longest burn-rate window (3d): the coarse tier keeps at least this much, whatever the
 * period. */
#define HISTORY_LONGEST_WINDOW ((int64_t)3 * 24 * 3600)
extern const int64_t history_steps[HISTORY_TIERS]; /* 60, 300, 3600 */

struct history_tier {
    int64_t step;   /* seconds */
    size_t n;       /* intervals kept */
    int64_t newest; /* end of the newest interval written; 0 when none */
    int64_t oldest; /* end of the oldest interval ever written; 0 when none */
    float *bad, *total;
    unsigned char *known; /* bitmap: bit set where an interval was written */
};

struct history {
    struct history_tier tier[HISTORY_TIERS];
};

/* Allocates a history able to cover `span` seconds (at least HISTORY_LONGEST_WINDOW) at the
 * coarsest resolution. Allocation
 * failure aborts. Free with history_free. */
struct history *history_new(int64_t span);
void history_free(struct history *h);

/* Bytes a history of that span holds, for memory accounting. */
size_t history_bytes(int64_t span);

/* Writes the counts of interval (t - step, t] of tier `tier` (t a multiple of its step).
 * Intervals older than the tier keeps are ignored; moving the newest interval forward
 * forgets those that fall out. A fine interval also updates the coarser intervals that
 * contain it, from the finer data, when that data covers them whole. */
void history_put(struct history *h, int tier, int64_t t, double bad, double total);

/* Sums the counts over (a, b]; a and b are multiples of 60. Each part of the range is taken
 * from the finest tier that has it; an interval that straddles a is counted pro rata. Returns
 * the seconds of the range that had data in *covered (may be NULL). */
void history_sum(const struct history *h, int64_t a, int64_t b, double *bad, double *total,
                 int64_t *covered);

/* True when interval t of the tier has been written and is still kept. */
bool history_known(const struct history *h, int tier, int64_t t);

#endif
