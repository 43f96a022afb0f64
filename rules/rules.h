/* rules: the SLO rule model, loaded from native sloe/v1, Sloth prometheus/v1 and OpenSLO
 * openslo/v1 files, validated as a whole. A loaded set is immutable: reload builds a new
 * one and swaps it in; everything in it lives in the set's arena. */
#ifndef SLOE_RULES_H
#define SLOE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

/* Caps on what a rule set may hold; past one the load fails with a message naming it. */
enum {
    RULES_MAX_FILE_BYTES = 4 * 1024 * 1024,
    RULES_MAX_FILES = 10000,
    RULES_MAX_SLOS = 10000,
    RULES_MAX_LABELS = 64,
    RULES_MAX_STRING = 64 * 1024,
    RULES_MAX_DEPTH = 64,
    RULES_MAX_VISITS = 1000000,
    RULES_MAX_LIST = 1000, /* exclusions, credit tiers, depends_on, group_by entries */
};

enum rules_format { RULES_FORMAT_NATIVE, RULES_FORMAT_SLOTH, RULES_FORMAT_OPENSLO };

enum rules_window_kind { RULES_WINDOW_ROLLING, RULES_WINDOW_CALENDAR };

enum rules_calendar { RULES_CAL_DAY, RULES_CAL_WEEK, RULES_CAL_MONTH, RULES_CAL_QUARTER };

enum rules_sli_kind {
    RULES_SLI_EVENTS,
    RULES_SLI_LATENCY,
    RULES_SLI_RAW,
    RULES_SLI_UPTIME,
    RULES_SLI_TIMESLICE,
};

/* Comparison of a timeslice; NONE averages the slice values (ratio timeslices). */
enum rules_op { RULES_OP_NONE, RULES_OP_LT, RULES_OP_LTE, RULES_OP_GT, RULES_OP_GTE };

struct rules_label {
    const char *name;
    const char *value;
};

/* Sorted by name, names unique. */
struct rules_labels {
    size_t n;
    const struct rules_label *v;
};

/* Where a definition came from, for messages. */
struct rules_pos {
    const char *file;
    unsigned line, col;
};

struct rules_sli {
    enum rules_sli_kind kind;
    /* events: exactly one of good_query and bad_query, and total_query. */
    const char *good_query, *bad_query, *total_query;
    /* raw: the error ratio over {{.window}}. */
    const char *error_ratio_query;
    /* latency: a classic histogram, its matchers ("{...}" or ""), the le threshold. */
    const char *metric, *selector;
    double threshold;
    /* uptime (0/1 signal) and timeslice. */
    const char *query;
    enum rules_op op;
    double value;
    int64_t slice_ms;
};

struct rules_window {
    enum rules_window_kind kind;
    int64_t duration_ms; /* rolling */
    enum rules_calendar calendar;
};

struct rules_service_hours {
    bool set;
    uint8_t days;     /* bit 0 = Monday ... bit 6 = Sunday */
    int start_minute; /* minutes after local midnight, [0, 1440) */
    int end_minute;   /* (start_minute, 1440] */
};

struct rules_exclusion {
    int64_t start, end; /* unix seconds, end > start */
    const char *reason;
};

struct rules_alert_tier {
    bool enabled;
    struct rules_labels labels, annotations;
};

struct rules_alerting {
    const char *name; /* may be NULL */
    struct rules_labels labels, annotations;
    struct rules_alert_tier page, ticket;
};

struct rules_scoring {
    double weight, deduct, per;
};

struct rules_credit {
    double below;  /* percent */
    double credit; /* percent of the fee */
};

struct rules_service;

struct rules_slo {
    const struct rules_service *service;
    const char *name;
    const char *description;            /* "" when none */
    double objective, warning, minimum; /* percent; warning and minimum default to objective */
    struct rules_window window;
    const char *timezone;
    struct rules_sli sli;
    size_t n_group_by;
    const char *const *group_by;
    struct rules_service_hours service_hours;
    size_t n_exclusions;
    const struct rules_exclusion *exclusions;
    size_t n_depends_on;
    const char *const *depends_on; /* "service/slo" */
    const struct rules_pos *depends_on_pos;
    struct rules_alerting alerting;
    struct rules_scoring scoring;
    size_t n_credits;
    const struct rules_credit *credits; /* below falling, credit rising */
    struct rules_labels labels;         /* the SLO's own, beyond its service's */
    enum rules_format format;
    struct rules_pos pos;
};

struct rules_service {
    const char *name;
    struct rules_labels labels;
    double excellent, pass; /* scorecard grade lines */
    size_t n_slos;
    const struct rules_slo *const *slos;
    struct rules_pos pos;
};

struct rules_set {
    struct arena arena;
    size_t n_files;
    const char *const *files;
    size_t n_services; /* sorted by name */
    const struct rules_service *const *services;
    size_t n_slos; /* every SLO, by service then SLO name */
    const struct rules_slo *const *slos;
};

/* Expands paths (files, directories, globs) into the sorted list of rule files they name:
 * a directory gives its *.yaml and *.yml files. Returns 0, or -1 with a diagnostic for a
 * path that names nothing. The result is malloc'd; free it with rules_paths_free. */
int rules_expand_paths(const char *const *paths, size_t n, char ***out, size_t *n_out,
                       struct diag_list *diags) __attribute__((warn_unused_result));
void rules_paths_free(char **paths, size_t n);

/* Loads and validates the given rule files as one set. Every problem goes to diags.
 * Returns 0 and a new set in *out (free with rules_set_free) when there is no error;
 * otherwise -1 and *out is NULL. Warnings do not fail the load. */
int rules_load_files(const char *const *files, size_t n, struct rules_set **out,
                     struct diag_list *diags) __attribute__((warn_unused_result));

/* As rules_load_files, for one file already in memory (name is used in messages). */
int rules_load_buffer(const char *name, const char *data, size_t len, struct rules_set **out,
                      struct diag_list *diags) __attribute__((warn_unused_result));

/* Frees a set and everything in it; NULL is fine. */
void rules_set_free(struct rules_set *set);

/* Looks up an SLO by service and name; NULL when absent. */
const struct rules_slo *rules_find(const struct rules_set *set, const char *service,
                                   const char *slo);

/* Writes a canonical text form of the model (every field, defaults filled in) to a
 * malloc'd string: two sets are the same model exactly when these strings are equal. */
char *rules_dump(const struct rules_set *set);

const char *rules_sli_kind_name(enum rules_sli_kind kind);
const char *rules_calendar_name(enum rules_calendar cal);
const char *rules_op_name(enum rules_op op);

#endif
