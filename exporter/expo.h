/* expo: the metrics sloe exports, built once per evaluation into an immutable set of
 * metric families, and written in the Prometheus text format (0.0.4) or as JSON. */
#ifndef SLOE_EXPO_H
#define SLOE_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "eval.h"

enum expo_type { EXPO_GAUGE, EXPO_COUNTER, EXPO_STATESET, EXPO_INFO };

struct expo_label {
    const char *name, *value;
};

struct expo_sample {
    size_t n_labels;
    const struct expo_label *labels;
    double value;
};

struct expo_family {
    const char *name; /* without the _info suffix for info families */
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

/* Writes the set in the Prometheus text exposition format 0.0.4. */
void expo_write_text(const struct expo_set *e, FILE *out);

/* Writes the evaluation state as JSON: one object per SLO instance with its results;
 * indented, or on one line when compact. */
void expo_write_json(const struct eval_state *s, FILE *out, bool compact);

/* Formats a sample value the shortest way that reads back exactly ("NaN", "+Inf"). */
char *expo_format_value(double v, char *buf, size_t size);

#endif
