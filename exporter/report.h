/* report: the compliance report of one calendar period (`sloe report`). Per SLO instance: the
 * period's compliance against the objective, warning and minimum lines, its state, the error
 * budget spent, the events, score and SLA credit, the worst local days, the episodes in which
 * the page and ticket burn-rate conditions held, and whether an improvement plan is due (score
 * below the service's pass line in this period and the two before); per service the weighted
 * score and grade. Each SLO's period is aligned in the SLO's own time zone. Written as
 * markdown, CSV (RFC 4180), JSON, or one self-contained HTML page (inline CSS and SVG, no
 * script) that prints to A4.
 *
 * The numbers follow the evaluator: the period's counts are the hourly intervals sloe eval
 * sums for a calendar window (minutes at edges that are not on a whole hour, and minutes
 * throughout for SLOs with service hours or exclusions), the alert conditions are those of
 * budget_finish evaluated at every minute from minute counts. */
#ifndef SLOE_REPORT_H
#define SLOE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "budget.h"
#include "eval.h"
#include "rules.h"

enum report_kind { REPORT_DAY, REPORT_WEEK, REPORT_MONTH, REPORT_QUARTER };
extern const char *const report_kind_names[4];

/* A calendar period, the same in every zone; its bounds depend on the zone. */
struct report_period {
    enum report_kind kind;
    int year;
    int num; /* month 1..12 (also for a day), quarter 1..4, or ISO week 1..53 */
    int day; /* day of the month, for a day */
};

/* Reads "2026-10" (month), "2026-Q3" (quarter), "2026-W44" (ISO week) or "2026-10-31" (day),
 * years 1970 to 9999. Returns 0, or -1 when s is none of these or names no such period (a
 * 13th month, a week 53 in a year of 52 weeks, February 30th). */
int report_period_parse(const char *s, struct report_period *p) __attribute__((warn_unused_result));

/* Writes the period's name in the form report_period_parse reads ("2026-W05"); returns buf. */
char *report_period_name(const struct report_period *p, char *buf, size_t size);

/* The period before p (the previous month, quarter, ISO week or day). */
void report_period_prev(const struct report_period *p, struct report_period *out);

/* The period's bounds [*start, *end) in unix seconds: local midnight of its first day and of
 * the day after its last, in zone. Returns 0, or -1 when the zone fails. */
int report_period_bounds(const struct report_period *p, const char *zone, int64_t *start,
                         int64_t *end) __attribute__((warn_unused_result));

/* Number of ISO weeks (52 or 53) of a year. */
int report_iso_weeks(int year);

enum report_format { REPORT_MARKDOWN, REPORT_HTML, REPORT_CSV, REPORT_JSON };

/* Reads "markdown" (also "md"), "html", "csv" or "json"; returns 0 or -1. */
int report_format_parse(const char *s, enum report_format *out) __attribute__((warn_unused_result));

enum report_severity { REPORT_PAGE, REPORT_TICKET };

/* A span of evaluation minutes in which an alert condition held. A condition that stops
 * holding and holds again within REPORT_EPISODE_GAP seconds (a flapping one) continues the
 * same episode. */
struct report_episode {
    enum report_severity severity;
    int64_t start; /* the first minute it held */
    int64_t end;   /* the first minute it no longer held; the last minute measured when open */
    int64_t held;  /* seconds of the episode in which it held (less than end - start when it
                      flapped) */
    bool open;     /* still holding at the end of what was measured */
    double peak;   /* the highest 1h burn rate while it held */
};

enum { REPORT_EPISODE_GAP = 15 * 60 };

/* Evaluates the page and ticket conditions of slo (budget_finish's, with the burn-rate
 * factor of the SLO's own period at each minute) at every minute T in [from, to] (multiples
 * of 60), from per-minute counts: bad[k] and total[k] are the events of the minute ending at
 * t0 + 60 k, k < n; minutes outside the arrays count nothing. Every window is exact to the
 * minute (prefix sums). Returns the number of episodes, page and ticket interleaved by start,
 * and sets *out to a malloc'd array of them (NULL when none; free it). */
size_t report_episodes(const struct rules_slo *slo, int64_t t0, size_t n, const double *bad,
                       const double *total, int64_t from, int64_t to, struct report_episode **out);

/* The events of one local day [start, end). */
struct report_day {
    int64_t start, end;
    double bad, total;
    char date[12]; /* "YYYY-MM-DD", local */
};

/* Puts in idx the indexes of the (at most k) days of lowest compliance, lowest first, earlier
 * first among equals; days without events, and days without a bad event, are skipped.
 * Returns how many. */
size_t report_worst_days(const struct report_day *days, size_t n, size_t k, size_t *idx);

/* Error budget left at time t, counted from the period's start (for the burn-down chart). */
struct report_point {
    int64_t t;
    double remaining;
};

/* One of the two periods before the reported one, from hourly counts. */
struct report_prev {
    char name[24];
    int64_t start, end;
    double bad, total;
    double compliance, score;
};

enum { REPORT_WORST = 3 };

struct report_inst {
    const struct rules_slo *slo;
    size_t slo_index;
    char **values; /* of slo->group_by; NULL for an SLO without group_by, or a failed one */
    char *key;     /* the values joined by 0x1f; "" without */
    bool failed;
    char *error;         /* why it failed; NULL otherwise */
    int64_t start, end;  /* the period in the SLO's zone */
    int64_t measured_to; /* end, or the evaluation minute when the period is not over */
    double bad, total;   /* events (seconds for uptime and raw SLIs, slices for timeslice) */
    double compliance;   /* good / total; 1 with no events */
    double spent;        /* bad / allowed bad: 1 is the whole budget, above 1 overspent */
    enum budget_state state;
    double score, credit; /* 0..100, and 0..1 of the fee */
    struct report_prev prev[2];
    bool plan_due;
    size_t n_days;
    struct report_day *days;
    size_t n_worst;
    size_t worst[REPORT_WORST]; /* indexes into days */
    size_t n_episodes;
    struct report_episode *episodes;
    size_t n_points;
    struct report_point *points;
};

struct report_service {
    const struct rules_service *svc;
    size_t first, n; /* its instances in the report's inst */
    bool scored;     /* some instance has results */
    double score;
    int grade; /* as budget_grade */
};

/* Per SLO: its period, what is measured of it, the two before, and its local days. */
struct report_slo_period {
    bool ready;
    int64_t start, end, measured_to;
    int64_t prev_start[2], prev_end[2];
    char prev_name[2][24];
    size_t n_days;
    int64_t *day_starts;   /* n_days + 1 bounds */
    char (*day_dates)[12]; /* "YYYY-MM-DD" of each day */
};

struct report {
    const struct rules_set *rules; /* borrowed */
    struct report_period period;
    char name[24];             /* the period's name */
    int64_t now;               /* the evaluation time the report is measured to, a minute */
    int64_t generated_at;      /* wall-clock time of writing */
    struct report_inst **inst; /* by service, SLO and group key once finished */
    size_t n_inst, cap_inst;
    struct report_service *svcs; /* one per rules service, in order */
    size_t n_svcs;
    size_t failed; /* SLOs whose queries failed */
    struct report_slo_period *per_slo;
};

/* Counts handed to report_add: minute k (k < n_min) ends at min_t0 + 60 k, hour k at
 * hour_t0 + 3600 k. Either may be empty; what they do not cover counts nothing. */
struct report_counts {
    int64_t min_t0;
    size_t n_min;
    const double *min_bad, *min_total;
    int64_t hour_t0;
    size_t n_hour;
    const double *hour_bad, *hour_total;
};

/* Starts an empty report of period p over rules (borrowed for the report's life), measured to
 * now (unix seconds, rounded down to the minute). Allocation failure aborts. */
struct report *report_new(const struct rules_set *rules, const struct report_period *p, int64_t now,
                          int64_t generated_at);

/* The period of SLO i as the report measures it; NULL when its zone fails. */
const struct report_slo_period *report_slo_period(struct report *r, size_t i);

/* Adds an instance of SLO i (group values, or NULL without group_by; copied) from its counts:
 * the minutes must cover the period and the three days before it (for the alert windows),
 * the hours the two periods before (and the period itself, which is then summed by the hour
 * where it can be). A group_by instance without events in the period is left out. Returns 1
 * when added, 0 when left out. */
int report_add(struct report *r, size_t i, const char *const *values,
               const struct report_counts *c);

/* Records that SLO i's queries failed, with the reason (copied). */
void report_fail(struct report *r, size_t i, const char *error);

/* Completes the report: an SLO that has no instance gets one without events, instances are
 * sorted, and the services scored (an SLO's weight shared by its group_by instances). */
void report_finish(struct report *r);

/* Builds the whole report of period p: fetches each SLO's hourly and minute counts through
 * eval_intervals (s is used for fetching only), showing "report: i/n SLOs" on progress when
 * it is not NULL (a terminal: the line is overwritten, and cleared at the end). Returns the
 * finished report; SLOs whose queries failed are in it as failed (r->failed counts them). */
struct report *report_build(struct eval_state *s, const struct report_period *p, int64_t now,
                            int64_t generated_at, FILE *progress);

/* Writes the report in format f; version (may be NULL) goes into the footer. Returns 0, or -1
 * when writing failed. */
int report_write(const struct report *r, enum report_format f, const char *version, FILE *out)
    __attribute__((warn_unused_result));

void report_free(struct report *r);

/* Writes s as one CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma,
 * a quote, CR or LF, or starts or ends with a space; as it is otherwise. */
void report_csv_field(FILE *out, const char *s);

#endif
