/* budget: the error-budget arithmetic of one SLO over counted events: SLI, burn rate, budget
 * left, exhaustion forecast, state against the three lines, the multiwindow multi-burn-rate
 * alert conditions, score and service credit. Pure functions, no I/O. */
#ifndef SLOE_BUDGET_H
#define SLOE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "period.h"
#include "rules.h"

enum budget_state { BUDGET_MET, BUDGET_DEGRADED, BUDGET_WARNING, BUDGET_BREACH };
extern const char *const budget_state_names[4];

struct budget_window {
    double bad, total; /* events counted */
    double sli;        /* 1 - bad/total; 1 when there were no events */
    double burn;       /* (bad/total) / (1 - objective); 0 when there were no events */
};

struct budget_result {
    struct budget_window windows[PERIOD_N_WINDOWS];
    struct budget_window period;
    int64_t period_start, period_end;
    double remaining;    /* 1 - spent/allowed over the period; 1 with no events */
    double exhaustion_s; /* at the 1h burn rate; negative when not burning (absent) */
    enum budget_state state;
    bool page, ticket; /* the alert conditions, whether or not the tier is enabled */
    double score;      /* 0..100 */
    double credit;     /* 0..1 of the fee */
};

/* A percentage as a ratio, rounded to 12 decimals so that 99.9 gives the double nearest
 * 0.999 (99.9 / 100 does not). */
double budget_ratio(double percent);

/* Fills w from counts, for an objective in percent. */
void budget_window(double bad, double total, double objective, struct budget_window *w);

/* Computes every derived value of r from its windows and period (already filled with
 * budget_window) and the period bounds; period_len is the full period in seconds. */
void budget_finish(const struct rules_slo *slo, int64_t period_len, struct budget_result *r);

/* The burn-rate factor of the alert tiers for a period of that length: 1 for 30 days. */
double budget_period_factor(int64_t period_len);

/* Score of a compliance (0..1) for the SLO's scoring. */
double budget_score(const struct rules_slo *slo, double compliance);

/* Credit owed (0..1) for a compliance (0..1) by the SLO's sla_credits. */
double budget_credit(const struct rules_slo *slo, double compliance);

/* Grade of a service score: 0 excellent, 1 pass, 2 fail. */
int budget_grade(const struct rules_service *svc, double score);
extern const char *const budget_grade_names[3];

#endif
