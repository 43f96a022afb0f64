/* mask: which minutes count for an SLO: those inside its service hours (in its time zone,
 * daylight-saving changes included) and outside its exclusions. Events of other minutes
 * count neither as good nor as bad, for the period and for every alert window. */
#ifndef SLOE_MASK_H
#define SLOE_MASK_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* Remembers the local day last looked at, so that walking minutes in order costs two zone
 * conversions a day. */
struct mask {
    const struct rules_slo *slo;
    int64_t day_from, day_to; /* the local day cached, [from, to) in unix seconds */
    int64_t open, close;      /* its service hours, [open, close); open == close when none */
};

/* True when the SLO has service hours or exclusions (else every minute counts). */
bool mask_active(const struct rules_slo *slo);

void mask_init(struct mask *m, const struct rules_slo *slo);

/* True when the minute (t - 60, t] counts: its start lies inside service hours and outside
 * every exclusion. */
bool mask_counts(struct mask *m, int64_t t);

#endif
