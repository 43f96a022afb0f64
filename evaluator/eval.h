/* eval: evaluates a rule set against a Prometheus query API. It keeps, per SLO instance (an
 * SLO and one value of its group_by labels), the per-interval good and total event counts in
 * a history, filled from query_range at start-up and after a gap (or, for the queries it
 * can answer exactly, by remote read: remote.h), and in steady state asks
 * Prometheus only for the minutes since the last cycle. Every window and the compliance
 * period are summed from the history. */
#ifndef SLOE_EVAL_H
#define SLOE_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "history.h"
#include "prom.h"
#include "rules.h"

struct eval_instance {
    const struct rules_slo *slo;
    size_t slo_index;          /* in the rule set's slos */
    const char *const *values; /* of slo->group_by, one each; "" when a series lacked one */
    const char *key;           /* the values joined, for lookups */
    struct history *hist;
    struct budget_result res;
    bool have_result; /* res holds a computed result */
    bool data_ok;     /* the last cycle updated it; else res is the last good one */
    int64_t last_eval;
    /* While a tier is being filled: its intervals' sums, and which had a value. */
    double *acc_bad, *acc_total;
    unsigned char *acc_has;
};

/* Per-SLO state of the data path. */
struct eval_slo {
    int64_t fetched_to;     /* fine intervals are in the histories up to here; 0 before filling */
    bool ok;                /* the last cycle's queries succeeded (true before the first) */
    char error[800];        /* why not, for the log; "" when ok */
    const char *le;         /* latency: the bucket boundary that equals the threshold */
    size_t series_seen;     /* grouped: the most series a range query returned, to size them */
    bool remote_failed;     /* a remote read of this fill failed: the rest goes to query_range */
    char remote_error[512]; /* a remote read failure not yet logged; "" when none */
};

/* Upper bounds (seconds) of the query duration histogram; the last bucket is +Inf. */
enum { EVAL_QUERY_BUCKETS = 12 };
extern const double eval_query_bounds[EVAL_QUERY_BUCKETS];

struct eval_stats {
    uint64_t queries[8]; /* by enum prom_error_kind, since the state was made */
    int64_t samples;     /* totalQueryableSamples of the last cycle, -1 when unknown */
    uint64_t query_buckets[EVAL_QUERY_BUCKETS + 1]; /* per bound, not cumulative; last +Inf */
    double query_seconds;                           /* sum of all query durations */
    uint64_t remote_reads;     /* range queries of a fill answered by remote read */
    uint64_t remote_fallbacks; /* remote reads that failed, so query_range was asked */
};

struct eval_state {
    const struct rules_set *rules; /* not owned */
    struct prom_client *prom;      /* not owned */
    struct eval_slo *slos;         /* one per rules->slos */
    struct eval_instance **inst;   /* sorted by slo_index, then key */
    size_t n_inst, cap_inst;
    size_t *table; /* instance lookup by (slo, key): index + 1; 0 free */
    size_t table_cap;
    struct arena arena; /* strings that live as long as the state (latency le values) */
    unsigned shard_index, shard_count; /* this replica evaluates shard index of count */
    struct eval_stats stats;
    bool filling; /* a full fill is under way: range queries may go by remote read */
};

/* Creates the state for rules and a client, both borrowed for the state's life. Allocation
 * failure aborts. Free with eval_free. */
struct eval_state *eval_new(const struct rules_set *rules, struct prom_client *prom);
void eval_free(struct eval_state *s);

/* Makes this state evaluate only shard `index` of `count` (0 <= index < count): SLO instances
 * are split by a hash of service, SLO and group_by values, the same on every replica, so
 * replicas need no coordination and two replicas of one shard export the same series. */
void eval_set_shard(struct eval_state *s, unsigned index, unsigned count);

/* True when the instance (slo, group key; "" without group_by) belongs to s's shard. */
bool eval_in_shard(const struct eval_state *s, const struct rules_slo *slo, const char *key);

/* Evaluates every SLO at time now (unix seconds; windows end at the whole minute at or
 * before it). An SLO whose queries fail keeps its last results with data_ok false; its error
 * is in s->slos[i].error. A group_by instance with no event left in its period is dropped.
 * Returns the number of SLOs that failed (0 when all went well). */
int eval_cycle(struct eval_state *s, int64_t now);

/* Computes every instance's results at time t (rounded down to the minute) from its history,
 * without querying: what eval_cycle does once the histories are up to date. Instances of an
 * SLO whose last cycle failed (s->slos[i].ok false) keep their last results with data_ok
 * false; a group_by instance with no event left in its period is dropped. */
void eval_compute_all(struct eval_state *s, int64_t t);

/* Receives the intervals of one instance: n intervals of `step` seconds from the start given
 * to eval_intervals; has[k] tells whether interval k had a value. */
typedef void (*eval_interval_fn)(void *cls, const struct eval_instance *in, size_t n,
                                 const double *bad, const double *total, const unsigned char *has);

/* Fetches the event counts of SLO i for the intervals (start - step, start], ...,
 * (end - step, end] (step a multiple of 60; start and end multiples of step), service hours
 * and exclusions applied, and hands each instance's to fn. For reports: nothing is kept.
 * Returns 0, or -1 with the reason in s->slos[i].error. */
int eval_intervals(struct eval_state *s, size_t i, int64_t step, int64_t start, int64_t end,
                   eval_interval_fn fn, void *cls) __attribute__((warn_unused_result));

/* The PromQL sloe sends for one SLO, one interval length (e.g. "5m") and step: *primary is
 * the good (or bad) count query, *secondary the total (NULL when the kind has none).
 * Strings are allocated in a. Returns 0 or -1 (latency without a known bucket). Exposed for
 * tests and for `sloe generate`. */
int eval_queries(const struct rules_slo *slo, const char *le, const char *window, int64_t step,
                 struct arena *a, const char **primary, const char **secondary,
                 bool *primary_is_good);

#endif
