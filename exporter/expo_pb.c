#include "expo_pb.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Field keys (field number << 3 | wire type) of the messages of metrics.proto. */
enum {
    PB_FAMILY_NAME = 1 << 3 | 2,
    PB_FAMILY_HELP = 2 << 3 | 2,
    PB_FAMILY_TYPE = 3 << 3 | 0,
    PB_FAMILY_METRIC = 4 << 3 | 2,
    PB_METRIC_LABEL = 1 << 3 | 2,
    PB_METRIC_GAUGE = 2 << 3 | 2,
    PB_METRIC_COUNTER = 3 << 3 | 2,
    PB_METRIC_HISTOGRAM = 7 << 3 | 2,
    PB_LABEL_NAME = 1 << 3 | 2,
    PB_LABEL_VALUE = 2 << 3 | 2,
    PB_VALUE = 1 << 3 | 1, /* Gauge.value, Counter.value */
    PB_HISTOGRAM_COUNT = 1 << 3 | 0,
    PB_HISTOGRAM_SUM = 2 << 3 | 1,
    PB_HISTOGRAM_BUCKET = 3 << 3 | 2,
    PB_BUCKET_COUNT = 1 << 3 | 0,
    PB_BUCKET_BOUND = 2 << 3 | 1,
};

/* MetricType values. */
enum { PB_TYPE_COUNTER = 0, PB_TYPE_GAUGE = 1, PB_TYPE_HISTOGRAM = 4 };

static size_t expo_pb_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Appends v as a base-128 varint, low groups first. */
static void expo_pb_varint(struct expo_buf *b, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    expo_buf_put(b, buf, n);
}

/* The size of a length-delimited field of n bytes. */
static size_t expo_pb_field_len(size_t n)
{
    return 1 + expo_pb_varint_len(n) + n;
}

static void expo_pb_key(struct expo_buf *b, uint8_t key)
{
    expo_buf_put(b, &key, 1);
}

static void expo_pb_string(struct expo_buf *b, uint8_t key, const char *s, size_t n)
{
    expo_pb_key(b, key);
    expo_pb_varint(b, n);
    expo_buf_put(b, s, n);
}

/* Appends a 64-bit field: the key, then v's bits little-endian. */
static void expo_pb_double(struct expo_buf *b, uint8_t key, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint8_t buf[9] = {key};
    for (int i = 0; i < 8; i++)
        buf[1 + i] = (uint8_t)(bits >> (8 * i));
    expo_buf_put(b, buf, sizeof(buf));
}

/* The size of a LabelPair field holding l. */
static size_t expo_pb_label_len(const struct expo_label *l)
{
    size_t n = strlen(l->name), v = strlen(l->value);
    return expo_pb_field_len(expo_pb_field_len(n) + expo_pb_field_len(v));
}

static void expo_pb_label(struct expo_buf *b, const struct expo_label *l)
{
    size_t n = strlen(l->name), v = strlen(l->value);
    expo_pb_key(b, PB_METRIC_LABEL);
    expo_pb_varint(b, expo_pb_field_len(n) + expo_pb_field_len(v));
    expo_pb_string(b, PB_LABEL_NAME, l->name, n);
    expo_pb_string(b, PB_LABEL_VALUE, l->value, v);
}

/* The writer's state: the output, a family being encoded (its length goes first), and the
 * LabelPair fields of each shared label list, by id: where they are in labels, encoded on
 * first use (a length of 0 means not yet). */
struct expo_pb {
    struct expo_buf out, family, labels;
    struct expo_span *known;
};

/* The encoded LabelPair fields of a shared label list. */
static const char *expo_pb_shared(struct expo_pb *w, const struct expo_labels *l, size_t *len)
{
    struct expo_span *known = &w->known[l->id];
    if (known->len == 0) {
        known->offset = w->labels.len;
        for (size_t j = 0; j < l->n; j++)
            expo_pb_label(&w->labels, &l->v[j]);
        known->len = w->labels.len - known->offset;
    }
    *len = known->len;
    return w->labels.data + known->offset;
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

/* Appends the Metric field of a gauge or counter sample: its labels and a Gauge or Counter
 * holding the value. */
static void expo_pb_sample(struct expo_pb *w, const struct expo_sample *s, bool counter)
{
    size_t shared_len = 0;
    const char *shared = s->labels->n > 0 ? expo_pb_shared(w, s->labels, &shared_len) : NULL;
    size_t len = shared_len + expo_pb_field_len(9);
    if (s->extra.name != NULL)
        len += expo_pb_label_len(&s->extra);
    struct expo_buf *b = &w->family;
    expo_pb_key(b, PB_FAMILY_METRIC);
    expo_pb_varint(b, len);
    if (shared_len > 0)
        expo_buf_put(b, shared, shared_len);
    if (s->extra.name != NULL)
        expo_pb_label(b, &s->extra);
    expo_pb_key(b, counter ? PB_METRIC_COUNTER : PB_METRIC_GAUGE);
    expo_pb_varint(b, 9);
    expo_pb_double(b, PB_VALUE, s->value);
}

/* Appends the Metric field of a histogram: the samples of f from *k on, its "_bucket"
 * samples, then "_sum" and "_count", which closes it. The labels are the first sample's
 * without "le"; each bucket's upper bound is its "le" value (+Inf without one). */
static void expo_pb_histogram(struct expo_pb *w, const struct expo_family *f, size_t *k)
{
    struct expo_buf m = {0}, h = {0};
    const struct expo_sample *first = &f->samples[*k];
    for (size_t j = 0; j < expo_sample_n_labels(first); j++) {
        const struct expo_label *l = expo_sample_label(first, j);
        if (strcmp(l->name, "le") != 0)
            expo_pb_label(&m, l);
    }
    bool has_sum = false, has_count = false;
    double sum = 0;
    uint64_t count = 0;
    for (; *k < f->n; ++*k) {
        const struct expo_sample *s = &f->samples[*k];
        if (strcmp(s->suffix, "_bucket") == 0) {
            const char *le = NULL;
            for (size_t j = 0; j < expo_sample_n_labels(s); j++)
                if (strcmp(expo_sample_label(s, j)->name, "le") == 0)
                    le = expo_sample_label(s, j)->value;
            uint64_t cumulative = expo_pb_count(s->value);
            expo_pb_key(&h, PB_HISTOGRAM_BUCKET);
            expo_pb_varint(&h, 1 + expo_pb_varint_len(cumulative) + 9);
            expo_pb_key(&h, PB_BUCKET_COUNT);
            expo_pb_varint(&h, cumulative);
            expo_pb_double(&h, PB_BUCKET_BOUND, le != NULL ? strtod(le, NULL) : INFINITY);
        } else if (strcmp(s->suffix, "_sum") == 0) {
            has_sum = true;
            sum = s->value;
        } else {
            has_count = true;
            count = expo_pb_count(s->value);
            ++*k; /* "_count" closes the metric */
            break;
        }
    }
    /* The Histogram's fields in field order: count, sum, then the buckets. */
    size_t head = (has_count ? 1 + expo_pb_varint_len(count) : 0) + (has_sum ? 9 : 0);
    expo_pb_key(&m, PB_METRIC_HISTOGRAM);
    expo_pb_varint(&m, head + h.len);
    if (has_count) {
        expo_pb_key(&m, PB_HISTOGRAM_COUNT);
        expo_pb_varint(&m, count);
    }
    if (has_sum)
        expo_pb_double(&m, PB_HISTOGRAM_SUM, sum);
    if (h.len > 0)
        expo_buf_put(&m, h.data, h.len);
    expo_pb_string(&w->family, PB_FAMILY_METRIC, m.data, m.len);
    free(m.data);
    free(h.data);
}

/* Appends the MetricFamily message of f, preceded by its length. */
static void expo_pb_family(struct expo_pb *w, const struct expo_family *f)
{
    struct expo_buf *b = &w->family;
    b->len = 0;
    const char *suffix = f->type == EXPO_COUNTER ? "_total" : f->type == EXPO_INFO ? "_info" : "";
    size_t name_len = strlen(f->name), suffix_len = strlen(suffix);
    expo_pb_key(b, PB_FAMILY_NAME);
    expo_pb_varint(b, name_len + suffix_len);
    expo_buf_put(b, f->name, name_len);
    expo_buf_put(b, suffix, suffix_len);
    if (f->help != NULL && f->help[0] != '\0')
        expo_pb_string(b, PB_FAMILY_HELP, f->help, strlen(f->help));
    expo_pb_key(b, PB_FAMILY_TYPE);
    expo_pb_varint(b, f->type == EXPO_COUNTER     ? PB_TYPE_COUNTER
                      : f->type == EXPO_HISTOGRAM ? PB_TYPE_HISTOGRAM
                                                  : PB_TYPE_GAUGE);
    if (f->type == EXPO_HISTOGRAM) {
        for (size_t k = 0; k < f->n;)
            expo_pb_histogram(w, f, &k);
    } else {
        for (size_t k = 0; k < f->n; k++)
            expo_pb_sample(w, &f->samples[k], f->type == EXPO_COUNTER);
    }
    expo_pb_varint(&w->out, b->len);
    expo_buf_put(&w->out, b->data, b->len);
}

/* Encodes e into w->out. */
static void expo_pb_encode(const struct expo_set *e, struct expo_pb *w)
{
    w->known = calloc(e->n_labels + 1, sizeof(*w->known));
    if (w->known == NULL)
        abort();
    for (size_t i = 0; i < e->n; i++)
        if (e->families[i].n > 0)
            expo_pb_family(w, &e->families[i]);
    free(w->family.data);
    free(w->labels.data);
    free(w->known);
}

char *expo_pb_render(const struct expo_set *e, size_t *len)
{
    struct expo_pb w = {0};
    expo_pb_encode(e, &w);
    expo_buf_put(&w.out, "", 1); /* never a NULL buffer */
    /* The buffer grew by doubling: give back what it does not use, as it is kept. */
    char *data = realloc(w.out.data, w.out.len);
    *len = w.out.len - 1;
    return data != NULL ? data : w.out.data;
}

int expo_pb_write(const struct expo_set *e, FILE *out)
{
    struct expo_pb w = {.out.sink = out};
    expo_pb_encode(e, &w);
    expo_buf_flush(&w.out);
    free(w.out.data);
    return w.out.failed ? -1 : 0;
}
