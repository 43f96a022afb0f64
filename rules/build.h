/* build: assembling a rule set from the documents of its files. The three format readers
 * (native, sloth, openslo) read fields with the shared checked readers below and add
 * services and SLOs; build_finish checks the set as a whole. */
#ifndef SLOE_BUILD_H
#define SLOE_BUILD_H

#include "rules.h"
#include "ydoc.h"

/* An exclusion given at the top of a file for the SLOs its patterns name ("service/slo",
 * "service/ANY", "ANY", where ANY is a star); applied once every SLO is known, its times
 * read in each SLO's zone. */
struct build_exclusion {
    size_t n_patterns;
    const char *const *patterns;
    const struct rules_pos *pattern_pos;
    const char *start, *end, *reason;
    struct rules_pos pos, start_pos, end_pos;
    bool broken; /* a field was missing or bad (reported): check the patterns, apply nothing */
};

struct build {
    struct rules_set *set; /* its arena holds everything built */
    struct diag_list *diags;
    struct rules_service **services;
    size_t n_services, cap_services;
    struct rules_slo **slos;
    size_t n_slos, cap_slos;
    bool too_many;                      /* RULES_MAX_SLOS reached and reported */
    struct build_exclusion *exclusions; /* from files of exclusions */
    size_t n_exclusions, cap_exclusions;
    size_t *table; /* open addressing: index + 1 into slos by service and name; 0 free */
    size_t table_cap;
};

/* A service as one document defines it, with where its parts were written (the nodes may
 * be NULL when a part was not written). */
struct build_service_def {
    const char *name;
    struct rules_labels labels;
    double excellent, pass;
    yaml_node_t *at, *labels_at, *scorecard_at;
};

/* Finds the service called def->name or adds it. When it exists (from another file or
 * document), its labels and scorecard must be the same; otherwise an error is reported where
 * they differ and NULL returned. */
struct rules_service *build_service(struct build *b, struct ydoc *d,
                                    const struct build_service_def *def);

/* Reports each key of labels_node (SLO labels) that its service or group_by already uses. */
void build_check_label_clash(struct ydoc *d, yaml_node_t *labels_node,
                             const struct rules_service *svc, const struct rules_slo *slo);

/* Adds an SLO defined at `at` with every default filled in (30d rolling window, UTC, both
 * alert tiers on, scoring weight 1 deduct 5 per 0.1). Reports a duplicate name (at name_at)
 * or the SLO cap and returns NULL then. */
struct rules_slo *build_slo(struct build *b, struct ydoc *d, yaml_node_t *at, yaml_node_t *name_at,
                            struct rules_service *svc, const char *name, enum rules_format fmt);

/* Checks the whole set (depends_on targets, cycles and support, label clashes, lines) and
 * sorts it. Returns 0 when no error was found in the set. */
int build_finish(struct build *b);

/* Checked readers: each reports a message at the node naming WHAT and returns -1 on a
 * bad value. */
int build_name(struct ydoc *d, yaml_node_t *n, const char *what, const char **out);
int build_labels(struct ydoc *d, yaml_node_t *n, const char *what, bool label_names,
                 struct rules_labels *out);
int build_percent(struct ydoc *d, yaml_node_t *n, const char *what, double *out);
int build_query(struct ydoc *d, yaml_node_t *n, const char *what, bool need_window,
                const char **out);
int build_duration(struct ydoc *d, yaml_node_t *n, const char *what, int64_t min_ms, int64_t max_ms,
                   int64_t *out);
int build_timezone(struct ydoc *d, yaml_node_t *n, const char **out);

/* Checks minimum <= warning <= objective, reporting at n. */
void build_check_lines(struct ydoc *d, yaml_node_t *n, const struct rules_slo *slo);

/* True when name may be used as a label of sloe's series. */
bool build_label_name_ok(const char *name);
bool build_label_reserved(const char *name);

#endif
