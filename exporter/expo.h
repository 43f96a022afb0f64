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
#include <string.h>

#include "arena.h"
#include "eval.h"

enum expo_type { EXPO_GAUGE, EXPO_COUNTER, EXPO_STATESET, EXPO_INFO, EXPO_HISTOGRAM };

struct expo_label {
    const char *name, *value;
};

/* Labels shared by consecutive samples: expo_add copies its base labels once and the samples
 * that follow with the same labels share the copy, so that a writer renders them once. */
struct expo_labels {
    size_t id; /* 0, 1, ... in the order the set made them */
    size_t n;
    const struct expo_label *v;
};

struct expo_sample {
    const char *suffix;               /* histograms: "_bucket", "_sum" or "_count"; else "" */
    const struct expo_labels *labels; /* the sample's labels, then extra */
    struct expo_label extra;          /* name NULL when there is none */
    double value;
};

/* A sample's number of labels, and its label i (the shared ones, then the extra one). */
static inline size_t expo_sample_n_labels(const struct expo_sample *s)
{
    return s->labels->n + (s->extra.name != NULL);
}

static inline const struct expo_label *expo_sample_label(const struct expo_sample *s, size_t i)
{
    return i < s->labels->n ? &s->labels->v[i] : &s->extra;
}

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
    size_t n_labels;                /* label lists made: the next one's id */
    const struct expo_labels *last; /* the last one, which the next sample may share */
};

/* Builds every SLO metric of the contract from the evaluation state into a new set at time
 * now. Allocation failure aborts. Free with expo_free. */
struct expo_set *expo_build(const struct eval_state *s, int64_t now);
void expo_free(struct expo_set *e);

/* Adds a family (or returns the one of that name) and a sample to it: the labels base plus,
 * when extra_name is not NULL, one more. The base array is copied (or shared with the
 * previous sample when it holds the same labels); the strings are borrowed: they must outlive
 * the set (copy them into e->arena when they do not). */
struct expo_family *expo_family(struct expo_set *e, const char *name, enum expo_type type,
                                const char *help);
void expo_add(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
              size_t n_base, const char *extra_name, const char *extra_value, double v);

/* Adds a histogram sample set: cumulative counts for the upper bounds (the last +Inf), sum
 * and count, each with the given labels. */
void expo_add_histogram(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
                        size_t n_base, const double *bounds, const uint64_t *cumulative,
                        size_t n_bounds, double sum, uint64_t count);

/* A growing byte buffer (start it zeroed; free data). expo_buf_grow makes room for n more
 * bytes; allocation failure aborts. With a sink, the buffer does not grow past what one put
 * needs: when full, its contents are written to the sink and it starts over, so that a
 * large exposition goes out in pieces (a write error sets failed). */
struct expo_buf {
    char *data;
    size_t len, cap;
    FILE *sink;
    bool failed;
};

void expo_buf_grow(struct expo_buf *b, size_t n);

/* Writes the contents to the sink and empties the buffer. */
void expo_buf_flush(struct expo_buf *b);

static inline void expo_buf_put(struct expo_buf *b, const void *s, size_t n)
{
    if (b->data == NULL || b->cap - b->len < n)
        expo_buf_grow(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Where something is in a buffer. */
struct expo_span {
    size_t offset, len;
};

/* A writer of the set e in an exposition format: the output gathers in memory (far cheaper
 * than a stdio call for each label of hundreds of thousands of series), then goes to the
 * caller, or, with a sink, to the sink in pieces as it fills. Allocation failure aborts. */
struct expo_out;
struct expo_out *expo_out_new(const struct expo_set *e, FILE *sink);

/* Frees the writer (made without a sink) and hands over its output: malloc'd,
 * NUL-terminated, *len bytes before the NUL. */
char *expo_out_take(struct expo_out *o, size_t *len);

/* Writes the rest of the output to the sink and frees the writer; returns 0, or -1 when
 * writing failed. */
int expo_out_finish(struct expo_out *o);

void expo_out_put(struct expo_out *o, const char *s, size_t n);
void expo_out_puts(struct expo_out *o, const char *s);

/* Writes s with backslash and line feed escaped, and the double quote too when quote. */
void expo_out_escaped(struct expo_out *o, const char *s, bool quote);

/* Writes a sample line of the text formats: name, suffix (the family's: "_total", "_info" or
 * ""), the sample's own suffix, its labels in braces (none without labels), the value and a
 * line feed. The shared labels of a sample are rendered once per writer and copied after. */
void expo_out_sample(struct expo_out *o, const char *name, size_t name_len, const char *suffix,
                     size_t suffix_len, const struct expo_sample *s);

/* Writes the set in the Prometheus text exposition format 0.0.4, in pieces as it is made;
 * write errors are cleared from out. */
void expo_write_text(const struct expo_set *e, FILE *out);

/* The set in the text format 0.0.4, malloc'd and NUL-terminated, *len bytes before the NUL. */
char *expo_render_text(const struct expo_set *e, size_t *len);

/* Writes the evaluation state as JSON: one object per SLO instance with its results;
 * indented, or on one line when compact. */
void expo_write_json(const struct eval_state *s, FILE *out, bool compact);

#endif
