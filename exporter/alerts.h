/* alerts: Prometheus alerting rules over sloe's metrics, for Alertmanager: the multiwindow
 * multi-burn-rate page and ticket alerts, compliance below the warning and minimum lines,
 * budget exhausted, no data, a service's grade falling, and sloe itself down. */
#ifndef SLOE_ALERTS_H
#define SLOE_ALERTS_H

#include <stdio.h>

#include "rules.h"

/* Writes a Prometheus rule file (YAML) for every SLO of set to out, one group per SLO and
 * one per service (its grade).
 * sloe_job is the job label Prometheus gives sloe's own target (for the "sloe down" alert).
 * Returns 0, or -1 when writing failed. */
int alerts_write(const struct rules_set *set, const char *sloe_job, FILE *out)
    __attribute__((warn_unused_result));

#endif
