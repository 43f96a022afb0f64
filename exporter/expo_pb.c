#include "expo_pb.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "metrics.pb-c.h"

/* protobuf-c declares string fields as char *; packing only reads them. */
static char *expo_pb_str(const char *s)
{
    return (char *)(uintptr_t)s;
}

/* Counts in the set are doubles holding integers; anything else is clamped into uint64. */
static uint64_t expo_pb_count(double v)
{
    if (!(v >= 0))
        return 0;
    if (v >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)v;
}

/* A new metric holding the labels of s, without "le" in histogram buckets. */
static struct Io__Prometheus__Client__Metric *
expo_pb_metric(struct arena *a, const struct expo_sample *s, bool skip_le)
{
    struct Io__Prometheus__Client__Metric *m = arena_alloc(a, sizeof(*m));
    io__prometheus__client__metric__init(m);
    m->label = arena_alloc(a, (s->n_labels + 1) * sizeof(*m->label));
    struct Io__Prometheus__Client__LabelPair *pairs =
        arena_alloc(a, (s->n_labels + 1) * sizeof(*pairs));
    for (size_t j = 0; j < s->n_labels; j++) {
        if (skip_le && strcmp(s->labels[j].name, "le") == 0)
            continue;
        struct Io__Prometheus__Client__LabelPair *p = &pairs[m->n_label];
        io__prometheus__client__label_pair__init(p);
        p->name = expo_pb_str(s->labels[j].name);
        p->value = expo_pb_str(s->labels[j].value);
        m->label[m->n_label++] = p;
    }
    return m;
}

/* Fills mf's metrics from a histogram family: consecutive "_bucket" samples, then "_sum"
 * and "_count", make one metric. */
static void expo_pb_histograms(struct arena *a, const struct expo_family *f,
                               struct Io__Prometheus__Client__MetricFamily *mf)
{
    struct Io__Prometheus__Client__Metric *m = NULL;
    struct Io__Prometheus__Client__Histogram *h = NULL;
    for (size_t k = 0; k < f->n; k++) {
        const struct expo_sample *s = &f->samples[k];
        if (m == NULL) {
            m = expo_pb_metric(a, s, true);
            h = arena_alloc(a, sizeof(*h));
            io__prometheus__client__histogram__init(h);
            h->bucket = arena_alloc(a, (f->n + 1) * sizeof(*h->bucket));
            m->histogram = h;
            mf->metric[mf->n_metric++] = m;
        }
        if (strcmp(s->suffix, "_bucket") == 0) {
            const char *le = NULL;
            for (size_t j = 0; j < s->n_labels; j++)
                if (strcmp(s->labels[j].name, "le") == 0)
                    le = s->labels[j].value;
            struct Io__Prometheus__Client__Bucket *b = arena_alloc(a, sizeof(*b));
            io__prometheus__client__bucket__init(b);
            b->has_upper_bound = true;
            b->upper_bound = le != NULL ? strtod(le, NULL) : INFINITY;
            b->has_cumulative_count = true;
            b->cumulative_count = expo_pb_count(s->value);
            h->bucket[h->n_bucket++] = b;
        } else if (strcmp(s->suffix, "_sum") == 0) {
            h->has_sample_sum = true;
            h->sample_sum = s->value;
        } else {
            h->has_sample_count = true;
            h->sample_count = expo_pb_count(s->value);
            m = NULL; /* "_count" closes the metric */
        }
    }
}

/* Builds the message of a family in a. */
static void expo_pb_family(struct arena *a, const struct expo_family *f,
                           struct Io__Prometheus__Client__MetricFamily *mf)
{
    io__prometheus__client__metric_family__init(mf);
    const char *suffix = f->type == EXPO_COUNTER ? "_total" : f->type == EXPO_INFO ? "_info" : "";
    mf->name = arena_printf(a, "%s%s", f->name, suffix);
    if (f->help != NULL && f->help[0] != '\0')
        mf->help = expo_pb_str(f->help);
    mf->has_type = true;
    mf->type = f->type == EXPO_COUNTER     ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER
               : f->type == EXPO_HISTOGRAM ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM
                                           : IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
    mf->metric = arena_alloc(a, (f->n + 1) * sizeof(*mf->metric));
    if (f->type == EXPO_HISTOGRAM) {
        expo_pb_histograms(a, f, mf);
        return;
    }
    for (size_t k = 0; k < f->n; k++) {
        const struct expo_sample *s = &f->samples[k];
        struct Io__Prometheus__Client__Metric *m = expo_pb_metric(a, s, false);
        if (f->type == EXPO_COUNTER) {
            m->counter = arena_alloc(a, sizeof(*m->counter));
            io__prometheus__client__counter__init(m->counter);
            m->counter->has_value = true;
            m->counter->value = s->value;
        } else {
            m->gauge = arena_alloc(a, sizeof(*m->gauge));
            io__prometheus__client__gauge__init(m->gauge);
            m->gauge->has_value = true;
            m->gauge->value = s->value;
        }
        mf->metric[mf->n_metric++] = m;
    }
}

/* Writes n as a base-128 varint, low groups first. */
static int expo_pb_varint(FILE *out, size_t n)
{
    uint8_t buf[10];
    size_t len = 0;
    do {
        buf[len] = (uint8_t)(n & 0x7f);
        n >>= 7;
        if (n != 0)
            buf[len] |= 0x80;
        len++;
    } while (n != 0);
    return fwrite(buf, 1, len, out) == len ? 0 : -1;
}

int expo_pb_write(const struct expo_set *e, FILE *out)
{
    int rc = 0;
    for (size_t i = 0; i < e->n && rc == 0; i++) {
        const struct expo_family *f = &e->families[i];
        if (f->n == 0)
            continue;
        struct arena a = {0};
        struct Io__Prometheus__Client__MetricFamily mf;
        expo_pb_family(&a, f, &mf);
        size_t len = io__prometheus__client__metric_family__get_packed_size(&mf);
        uint8_t *buf = arena_alloc(&a, len + 1);
        if (io__prometheus__client__metric_family__pack(&mf, buf) != len ||
            expo_pb_varint(out, len) != 0 || fwrite(buf, 1, len, out) != len)
            rc = -1;
        arena_free(&a);
    }
    return rc;
}
