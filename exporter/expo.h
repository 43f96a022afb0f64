/* expo: the metrics sloe exports, built once per evaluation into an immutable set of
 * metric families, and written in the Prometheus text format (0.0.4) or as JSON.
 *
 * Names follow OpenMetrics: a counter family is named without "_total" and an info family
 * without "_info"; the writers add the suffixes. A histogram family's samples carry the
 * suffix "_bucket" (with an "le" label, last), "_sum" or "_count". */
#ifndef SLOE_EXPO_H
#define SLOE_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "eval.h"

enum expo_type { EXPO_GAUGE, EXPO_COUNTER, EXPO_STATESET, EXPO_INFO, EXPO_HISTOGRAM };

struct expo_label {
    const char *name, *value;
};

struct expo_sample {
    const char *suffix; /* histograms: "_bucket", "_sum" or "_count"; else "" */
    size_t n_labels;
    const struct expo_label *labels;
    double value;
};

struct expo_family {
    const char *name; /* without _total (counters) or _info (info families) */
    const char *help;
    enum expo_type type;
    const char *state_label; /* stateset: the label holding the state */
    size_t n, cap;
    struct expo_sample *samples;
};

struct expo_set {
    struct arena arena; /* owns everything */
    size_t n, cap;
    struct expo_family *families;
};

/* Builds every SLO metric of the contract from the evaluation state into a new set at time
 * now. Allocation failure aborts. Free with expo_free. */
struct expo_set *expo_build(const struct eval_state *s, int64_t now);
void expo_free(struct expo_set *e);

/* Adds a family (or returns the one of that name) and a sample to it: the labels base plus,
 * when extra_name is not NULL, one more. Strings are borrowed: they must outlive the set
 * (copy them into e->arena when they do not). */
struct expo_family *expo_family(struct expo_set *e, const char *name, enum expo_type type,
                                const char *help);
void expo_add(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
              size_t n_base, const char *extra_name, const char *extra_value, double v);

/* Adds a histogram sample set: cumulative counts for the upper bounds (the last +Inf), sum
 * and count, each with the given labels. */
void expo_add_histogram(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
                        size_t n_base, const double *bounds, const uint64_t *cumulative,
                        size_t n_bounds, double sum, uint64_t count);

/* A buffered writer for the exposition formats: far cheaper than a stdio call for each label
 * of hundreds of thousands of series. expo_out_free flushes and frees. */
struct expo_out;
struct expo_out *expo_out_new(FILE *f);
void expo_out_free(struct expo_out *o);
void expo_out_put(struct expo_out *o, const char *s, size_t n);
void expo_out_puts(struct expo_out *o, const char *s);

/* Writes s with backslash and line feed escaped, and the double quote too when quote. */
void expo_out_escaped(struct expo_out *o, const char *s, bool quote);

/* Writes the set in the Prometheus text exposition format 0.0.4. */
void expo_write_text(const struct expo_set *e, FILE *out);

/* Writes the evaluation state as JSON: one object per SLO instance with its results;
 * indented, or on one line when compact. */
void expo_write_json(const struct eval_state *s, FILE *out, bool compact);

#endif
