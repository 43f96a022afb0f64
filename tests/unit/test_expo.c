/* The exposition formats (Prometheus text, OpenMetrics, protobuf delimited) of a metric set
 * built by hand, content negotiation and gzip. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "expo.h"
#include "expo_om.h"
#include "expo_pb.h"
#include "expo_value.h"
#include "harness.h"
#include "metrics.pb-c.h"
#include "negotiate.h"

/* One family of every kind: label values and help with a quote, a backslash and a newline;
 * a stateset whose state label is not named like it and one whose label is; two
 * histograms; an empty family. */
static struct expo_set *sample_set(void)
{
    static const struct expo_label esc[] = {{"service", "a\"b"}, {"slo", "c\\d\ne"}};
    static const struct expo_label none[] = {{"unused", "unused"}};
    static const struct expo_label svc[] = {{"service", "a"}};
    static const struct expo_label build[] = {{"version", "1.2.3"}, {"revision", "abc"}};
    static const struct expo_label jx[] = {{"job", "x"}}, jy[] = {{"job", "y"}};
    static const double bounds[] = {0.005, 0.5, 1, 10, INFINITY};
    static const uint64_t cx[] = {1, 3, 4, 6, 7}, cy[] = {0, 0, 0, 2, 2};

    struct expo_set *e = calloc(1, sizeof(*e));
    struct expo_family *f =
        expo_family(e, "test_ratio", EXPO_GAUGE, "A \"ratio\", a \\ and a\nnewline.");
    expo_add(e, f, esc, 2, NULL, NULL, 0.999);
    expo_add(e, f, esc, 1, "slo", "plain", 1e-9);
    f = expo_family(e, "test_events", EXPO_COUNTER, "Events counted.");
    expo_add(e, f, none, 0, "type", "good", 41);
    expo_add(e, f, none, 0, "type", "bad", 1.5);
    f = expo_family(e, "test_state", EXPO_STATESET, "State.");
    f->state_label = "state";
    expo_add(e, f, svc, 1, "state", "met", 0);
    expo_add(e, f, svc, 1, "state", "breach", 1);
    f = expo_family(e, "test_mode", EXPO_STATESET, "Mode.");
    f->state_label = "test_mode";
    expo_add(e, f, none, 0, "test_mode", "on", 1);
    expo_add(e, f, none, 0, "test_mode", "off", 0);
    f = expo_family(e, "test_build", EXPO_INFO, "Build.");
    expo_add(e, f, build, 2, NULL, NULL, 1);
    f = expo_family(e, "test_duration_seconds", EXPO_HISTOGRAM, "Durations.");
    expo_add_histogram(e, f, jx, 1, bounds, cx, 5, 12.25, 7);
    expo_add_histogram(e, f, jy, 1, bounds, cy, 5, 30, 2);
    expo_family(e, "test_empty", EXPO_GAUGE, "Nothing yet.");
    return e;
}

enum render_kind { RENDER_TEXT, RENDER_OM, RENDER_PB };

/* Renders e into a malloc'd buffer (NUL-terminated) of *len bytes. */
static char *render(const struct expo_set *e, enum render_kind kind, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    if (kind == RENDER_TEXT)
        expo_write_text(e, out);
    else if (kind == RENDER_OM)
        expo_om_write(e, out);
    else
        EXPECT_INT(expo_pb_write(e, out), 0);
    fclose(out);
    if (len != NULL)
        *len = n;
    return buf;
}

static const char histograms_text[] = "test_duration_seconds_bucket{job=\"x\",le=\"0.005\"} 1\n"
                                      "test_duration_seconds_bucket{job=\"x\",le=\"0.5\"} 3\n"
                                      "test_duration_seconds_bucket{job=\"x\",le=\"1.0\"} 4\n"
                                      "test_duration_seconds_bucket{job=\"x\",le=\"10.0\"} 6\n"
                                      "test_duration_seconds_bucket{job=\"x\",le=\"+Inf\"} 7\n"
                                      "test_duration_seconds_sum{job=\"x\"} 12.25\n"
                                      "test_duration_seconds_count{job=\"x\"} 7\n"
                                      "test_duration_seconds_bucket{job=\"y\",le=\"0.005\"} 0\n"
                                      "test_duration_seconds_bucket{job=\"y\",le=\"0.5\"} 0\n"
                                      "test_duration_seconds_bucket{job=\"y\",le=\"1.0\"} 0\n"
                                      "test_duration_seconds_bucket{job=\"y\",le=\"10.0\"} 2\n"
                                      "test_duration_seconds_bucket{job=\"y\",le=\"+Inf\"} 2\n"
                                      "test_duration_seconds_sum{job=\"y\"} 30\n"
                                      "test_duration_seconds_count{job=\"y\"} 2\n";

/* The Prometheus text format: HELP before TYPE with the suffixed names, statesets and info
 * families as gauges; help escapes only backslash and newline. */
static void text_format(void)
{
    struct expo_set *e = sample_set();
    char *text = render(e, RENDER_TEXT, NULL);
    char *want = NULL;
    size_t n = 0;
    FILE *w = open_memstream(&want, &n);
    fputs("# HELP test_ratio A \"ratio\", a \\\\ and a\\nnewline.\n"
          "# TYPE test_ratio gauge\n"
          "test_ratio{service=\"a\\\"b\",slo=\"c\\\\d\\ne\"} 0.999\n"
          "test_ratio{service=\"a\\\"b\",slo=\"plain\"} 1e-09\n"
          "# HELP test_events_total Events counted.\n"
          "# TYPE test_events_total counter\n"
          "test_events_total{type=\"good\"} 41\n"
          "test_events_total{type=\"bad\"} 1.5\n"
          "# HELP test_state State.\n"
          "# TYPE test_state gauge\n"
          "test_state{service=\"a\",state=\"met\"} 0\n"
          "test_state{service=\"a\",state=\"breach\"} 1\n"
          "# HELP test_mode Mode.\n"
          "# TYPE test_mode gauge\n"
          "test_mode{test_mode=\"on\"} 1\n"
          "test_mode{test_mode=\"off\"} 0\n"
          "# HELP test_build_info Build.\n"
          "# TYPE test_build_info gauge\n"
          "test_build_info{version=\"1.2.3\",revision=\"abc\"} 1\n"
          "# HELP test_duration_seconds Durations.\n"
          "# TYPE test_duration_seconds histogram\n",
          w);
    fputs(histograms_text, w);
    fputs("# HELP test_empty Nothing yet.\n"
          "# TYPE test_empty gauge\n",
          w);
    fclose(w);
    EXPECT_STR(text, want);
    free(want);
    free(text);
    expo_free(e);
}

/* OpenMetrics: TYPE then HELP with the family names, "_total" and "_info" on the samples,
 * everything escaped, canonical "le" values, a stateset only where the label allows it, and
 * "# EOF". */
static void openmetrics_format(void)
{
    struct expo_set *e = sample_set();
    char *om = render(e, RENDER_OM, NULL);
    static const char want[] = "# TYPE test_ratio gauge\n"
                               "# HELP test_ratio A \\\"ratio\\\", a \\\\ and a\\nnewline.\n"
                               "test_ratio{service=\"a\\\"b\",slo=\"c\\\\d\\ne\"} 0.999\n"
                               "test_ratio{service=\"a\\\"b\",slo=\"plain\"} 1e-09\n"
                               "# TYPE test_events counter\n"
                               "# HELP test_events Events counted.\n"
                               "test_events_total{type=\"good\"} 41\n"
                               "test_events_total{type=\"bad\"} 1.5\n"
                               "# TYPE test_state gauge\n"
                               "# HELP test_state State.\n"
                               "test_state{service=\"a\",state=\"met\"} 0\n"
                               "test_state{service=\"a\",state=\"breach\"} 1\n"
                               "# TYPE test_mode stateset\n"
                               "# HELP test_mode Mode.\n"
                               "test_mode{test_mode=\"on\"} 1\n"
                               "test_mode{test_mode=\"off\"} 0\n"
                               "# TYPE test_build info\n"
                               "# HELP test_build Build.\n"
                               "test_build_info{version=\"1.2.3\",revision=\"abc\"} 1\n"
                               "# TYPE test_duration_seconds histogram\n"
                               "# HELP test_duration_seconds Durations.\n"
                               "test_duration_seconds_bucket{job=\"x\",le=\"0.005\"} 1\n"
                               "test_duration_seconds_bucket{job=\"x\",le=\"0.5\"} 3\n"
                               "test_duration_seconds_bucket{job=\"x\",le=\"1.0\"} 4\n"
                               "test_duration_seconds_bucket{job=\"x\",le=\"10.0\"} 6\n"
                               "test_duration_seconds_bucket{job=\"x\",le=\"+Inf\"} 7\n"
                               "test_duration_seconds_sum{job=\"x\"} 12.25\n"
                               "test_duration_seconds_count{job=\"x\"} 7\n"
                               "test_duration_seconds_bucket{job=\"y\",le=\"0.005\"} 0\n"
                               "test_duration_seconds_bucket{job=\"y\",le=\"0.5\"} 0\n"
                               "test_duration_seconds_bucket{job=\"y\",le=\"1.0\"} 0\n"
                               "test_duration_seconds_bucket{job=\"y\",le=\"10.0\"} 2\n"
                               "test_duration_seconds_bucket{job=\"y\",le=\"+Inf\"} 2\n"
                               "test_duration_seconds_sum{job=\"y\"} 30\n"
                               "test_duration_seconds_count{job=\"y\"} 2\n"
                               "# TYPE test_empty gauge\n"
                               "# HELP test_empty Nothing yet.\n"
                               "# EOF\n";
    EXPECT_STR(om, want);
    free(om);
    expo_free(e);
}

/* "le" values follow the OpenMetrics canonical rendering (Go's shortest %g with ".0" on
 * integers), whatever the set holds; other labels are left alone; no HELP line for an empty
 * help. */
static void openmetrics_canonical_le(void)
{
    static const double bounds[] = {1e-05, 0.0001, 0.25, 100000, 1e6, 2.5e7, INFINITY};
    static const uint64_t counts[] = {0, 0, 1, 1, 2, 2, 3};
    static const struct expo_label other[] = {{"le_like", "1"}};
    struct expo_set *e = calloc(1, sizeof(*e));
    struct expo_family *f = expo_family(e, "b", EXPO_HISTOGRAM, "");
    expo_add_histogram(e, f, other, 1, bounds, counts, 7, 1e6, 3);
    char *om = render(e, RENDER_OM, NULL);
    static const char want[] = "# TYPE b histogram\n"
                               "b_bucket{le_like=\"1\",le=\"1e-05\"} 0\n"
                               "b_bucket{le_like=\"1\",le=\"0.0001\"} 0\n"
                               "b_bucket{le_like=\"1\",le=\"0.25\"} 1\n"
                               "b_bucket{le_like=\"1\",le=\"100000.0\"} 1\n"
                               "b_bucket{le_like=\"1\",le=\"1e+06\"} 2\n"
                               "b_bucket{le_like=\"1\",le=\"2.5e+07\"} 2\n"
                               "b_bucket{le_like=\"1\",le=\"+Inf\"} 3\n"
                               "b_sum{le_like=\"1\"} 1000000\n"
                               "b_count{le_like=\"1\"} 3\n"
                               "# EOF\n";
    EXPECT_STR(om, want);
    free(om);
    expo_free(e);
}

/* Reads the varint at *p (before end); returns -1 when it is cut or too long. */
static long long read_varint(const uint8_t **p, const uint8_t *end)
{
    unsigned long long v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (unsigned long long)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return v > (1ULL << 40) ? -1 : (long long)v;
    }
    return -1;
}

static void expect_label(const struct Io__Prometheus__Client__Metric *m, size_t i, const char *name,
                         const char *value)
{
    if (!EXPECT(i < m->n_label))
        return;
    EXPECT_STR(m->label[i]->name, name);
    EXPECT_STR(m->label[i]->value, value);
}

static void expect_gauge(const struct Io__Prometheus__Client__Metric *m, double v)
{
    if (EXPECT(m->gauge != NULL) && EXPECT(m->gauge->has_value))
        EXPECT_DBL(m->gauge->value, v, 0);
    EXPECT(m->counter == NULL && m->histogram == NULL && m->summary == NULL);
}

static void expect_histogram(const struct Io__Prometheus__Client__Metric *m, const char *job,
                             const uint64_t *counts, double sum, uint64_t count)
{
    static const double bounds[] = {0.005, 0.5, 1, 10, INFINITY};
    EXPECT_INT(m->n_label, 1);
    expect_label(m, 0, "job", job);
    struct Io__Prometheus__Client__Histogram *h = m->histogram;
    if (!EXPECT(h != NULL && m->gauge == NULL) || !EXPECT_INT(h->n_bucket, 5))
        return;
    for (size_t i = 0; i < 5; i++) {
        EXPECT(h->bucket[i]->has_upper_bound && h->bucket[i]->has_cumulative_count);
        EXPECT(h->bucket[i]->upper_bound == bounds[i]);
        EXPECT_INT(h->bucket[i]->cumulative_count, counts[i]);
    }
    EXPECT(h->has_sample_sum && h->has_sample_count);
    EXPECT_DBL(h->sample_sum, sum, 0);
    EXPECT_INT(h->sample_count, count);
}

/* The delimited protobuf stream decodes back with protobuf-c into the families, named and
 * typed so that Prometheus stores the series of the text format. */
static void protobuf_format(void)
{
    struct expo_set *e = sample_set();
    size_t len;
    char *pb = render(e, RENDER_PB, &len);
    struct Io__Prometheus__Client__MetricFamily *mf[8] = {NULL};
    size_t n = 0;
    const uint8_t *p = (const uint8_t *)pb, *end = p + len;
    while (p < end && n < 8) {
        long long size = read_varint(&p, end);
        if (!EXPECT(size >= 0 && size <= end - p))
            break;
        mf[n] = io__prometheus__client__metric_family__unpack(NULL, (size_t)size, p);
        if (!EXPECT(mf[n] != NULL))
            break;
        n++;
        p += size;
    }
    EXPECT(p == end);
    if (!EXPECT_INT(n, 6)) /* test_empty has no samples and is left out */
        goto out;

    static const struct {
        const char *name, *help;
        int type;
        size_t n_metric;
    } want[] = {
        {"test_ratio", "A \"ratio\", a \\ and a\nnewline.",
         IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE, 2},
        {"test_events_total", "Events counted.", IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER, 2},
        {"test_state", "State.", IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE, 2},
        {"test_mode", "Mode.", IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE, 2},
        {"test_build_info", "Build.", IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE, 1},
        {"test_duration_seconds", "Durations.", IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM, 2},
    };
    for (size_t i = 0; i < n; i++) {
        EXPECT_STR(mf[i]->name, want[i].name);
        EXPECT_STR(mf[i]->help, want[i].help);
        EXPECT(mf[i]->has_type);
        EXPECT_INT(mf[i]->type, want[i].type);
        if (!EXPECT_INT(mf[i]->n_metric, want[i].n_metric))
            goto out;
        for (size_t k = 0; k < mf[i]->n_metric; k++)
            EXPECT(!mf[i]->metric[k]->has_timestamp_ms);
    }

    struct Io__Prometheus__Client__Metric **m = mf[0]->metric;
    EXPECT_INT(m[0]->n_label, 2);
    expect_label(m[0], 0, "service", "a\"b");
    expect_label(m[0], 1, "slo", "c\\d\ne");
    expect_gauge(m[0], 0.999);
    expect_label(m[1], 1, "slo", "plain");
    expect_gauge(m[1], 1e-9);

    m = mf[1]->metric;
    EXPECT_INT(m[0]->n_label, 1);
    expect_label(m[0], 0, "type", "good");
    expect_label(m[1], 0, "type", "bad");
    if (EXPECT(m[0]->counter != NULL && m[1]->counter != NULL && m[0]->gauge == NULL)) {
        EXPECT(m[0]->counter->has_value);
        EXPECT_DBL(m[0]->counter->value, 41, 0);
        EXPECT_DBL(m[1]->counter->value, 1.5, 0);
    }

    m = mf[2]->metric;
    expect_label(m[0], 0, "service", "a");
    expect_label(m[0], 1, "state", "met");
    expect_gauge(m[0], 0); /* a present zero, not an absent value */
    expect_label(m[1], 1, "state", "breach");
    expect_gauge(m[1], 1);

    m = mf[3]->metric;
    expect_label(m[0], 0, "test_mode", "on");
    expect_gauge(m[0], 1);
    expect_gauge(m[1], 0);

    m = mf[4]->metric;
    EXPECT_INT(m[0]->n_label, 2);
    expect_label(m[0], 0, "version", "1.2.3");
    expect_label(m[0], 1, "revision", "abc");
    expect_gauge(m[0], 1);

    static const uint64_t cx[] = {1, 3, 4, 6, 7}, cy[] = {0, 0, 0, 2, 2};
    expect_histogram(mf[5]->metric[0], "x", cx, 12.25, 7);
    expect_histogram(mf[5]->metric[1], "y", cy, 30, 2);
out:
    for (size_t i = 0; i < n; i++)
        io__prometheus__client__metric_family__free_unpacked(mf[i], NULL);
    free(pb);
    expo_free(e);
}

/* splitmix64 from a fixed seed: every run checks the same values. */
static uint64_t value_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* protobuf-c declares string fields as char *; packing only reads them. */
static char *pb_str(const char *s)
{
    return (char *)(uintptr_t)s;
}

static uint64_t pb_count(double v)
{
    return !(v >= 0) ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

/* The metric of a sample with its labels (without "le" in histograms), built in a. */
static struct Io__Prometheus__Client__Metric *pb_metric(struct arena *a,
                                                        const struct expo_sample *s, bool skip_le)
{
    struct Io__Prometheus__Client__Metric *m = arena_alloc(a, sizeof(*m));
    io__prometheus__client__metric__init(m);
    size_t n = expo_sample_n_labels(s);
    m->label = arena_alloc(a, (n + 1) * sizeof(*m->label));
    for (size_t j = 0; j < n; j++) {
        const struct expo_label *l = expo_sample_label(s, j);
        if (skip_le && strcmp(l->name, "le") == 0)
            continue;
        struct Io__Prometheus__Client__LabelPair *p = arena_alloc(a, sizeof(*p));
        io__prometheus__client__label_pair__init(p);
        p->name = pb_str(l->name);
        p->value = pb_str(l->value);
        m->label[m->n_label++] = p;
    }
    return m;
}

/* The set encoded by protobuf-c from message structures built for each family: what
 * expo_pb_render must write, byte for byte. */
static char *pb_reference(const struct expo_set *e, size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    for (size_t i = 0; i < e->n; i++) {
        const struct expo_family *fam = &e->families[i];
        if (fam->n == 0)
            continue;
        struct arena a = {0};
        struct Io__Prometheus__Client__MetricFamily mf;
        io__prometheus__client__metric_family__init(&mf);
        mf.name = arena_printf(&a, "%s%s", fam->name,
                               fam->type == EXPO_COUNTER ? "_total"
                               : fam->type == EXPO_INFO  ? "_info"
                                                         : "");
        if (fam->help[0] != '\0')
            mf.help = pb_str(fam->help);
        mf.has_type = true;
        mf.type = fam->type == EXPO_COUNTER     ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER
                  : fam->type == EXPO_HISTOGRAM ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM
                                                : IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
        mf.metric = arena_alloc(&a, (fam->n + 1) * sizeof(*mf.metric));
        struct Io__Prometheus__Client__Metric *open = NULL;
        for (size_t k = 0; k < fam->n; k++) {
            const struct expo_sample *s = &fam->samples[k];
            if (fam->type != EXPO_HISTOGRAM) {
                struct Io__Prometheus__Client__Metric *m = pb_metric(&a, s, false);
                if (fam->type == EXPO_COUNTER) {
                    m->counter = arena_alloc(&a, sizeof(*m->counter));
                    io__prometheus__client__counter__init(m->counter);
                    m->counter->has_value = true;
                    m->counter->value = s->value;
                } else {
                    m->gauge = arena_alloc(&a, sizeof(*m->gauge));
                    io__prometheus__client__gauge__init(m->gauge);
                    m->gauge->has_value = true;
                    m->gauge->value = s->value;
                }
                mf.metric[mf.n_metric++] = m;
                continue;
            }
            if (open == NULL) {
                open = pb_metric(&a, s, true);
                open->histogram = arena_alloc(&a, sizeof(*open->histogram));
                io__prometheus__client__histogram__init(open->histogram);
                open->histogram->bucket =
                    arena_alloc(&a, (fam->n + 1) * sizeof(*open->histogram->bucket));
                mf.metric[mf.n_metric++] = open;
            }
            struct Io__Prometheus__Client__Histogram *h = open->histogram;
            if (strcmp(s->suffix, "_bucket") == 0) {
                struct Io__Prometheus__Client__Bucket *b = arena_alloc(&a, sizeof(*b));
                io__prometheus__client__bucket__init(b);
                b->has_upper_bound = b->has_cumulative_count = true;
                b->upper_bound = INFINITY;
                for (size_t j = 0; j < expo_sample_n_labels(s); j++)
                    if (strcmp(expo_sample_label(s, j)->name, "le") == 0)
                        b->upper_bound = strtod(expo_sample_label(s, j)->value, NULL);
                b->cumulative_count = pb_count(s->value);
                h->bucket[h->n_bucket++] = b;
            } else if (strcmp(s->suffix, "_sum") == 0) {
                h->has_sample_sum = true;
                h->sample_sum = s->value;
            } else {
                h->has_sample_count = true;
                h->sample_count = pb_count(s->value);
                open = NULL;
            }
        }
        size_t n = io__prometheus__client__metric_family__get_packed_size(&mf);
        uint8_t *buf = arena_alloc(&a, n + 1);
        io__prometheus__client__metric_family__pack(&mf, buf);
        for (size_t v = n; v >= 0x80; v >>= 7)
            fputc((int)(v & 0x7f) | 0x80, f);
        size_t top = n;
        while (top >= 0x80)
            top >>= 7;
        fputc((int)top, f);
        fwrite(buf, 1, n, f);
        arena_free(&a);
    }
    fclose(f);
    return out;
}

/* A set of random families (every type), label lists shared and not, label values with
 * escapes or empty, and any double as a value; from a fixed seed. */
static struct expo_set *random_set(uint64_t *state)
{
    static const char *const words[] = {"",    "a",   "x\"y", "back\\slash", "line\nfeed",
                                        "ünï", "200", "5m",   "+Inf",        "0.25"};
    static const enum expo_type types[] = {EXPO_GAUGE, EXPO_COUNTER, EXPO_STATESET, EXPO_INFO,
                                           EXPO_HISTOGRAM};
    const size_t n_words = sizeof(words) / sizeof(words[0]);
    struct expo_set *e = calloc(1, sizeof(*e));
    size_t n_fam = 1 + value_random(state) % 6;
    for (size_t i = 0; i < n_fam; i++) {
        enum expo_type type = types[value_random(state) % 5];
        const char *name = arena_printf(&e->arena, "r_f%zu", i);
        struct expo_family *f = expo_family(e, name, type, words[value_random(state) % n_words]);
        size_t n_lists = value_random(state) % 4;
        for (size_t k = 0; k < n_lists; k++) {
            struct expo_label base[4];
            size_t n_base = value_random(state) % 5;
            for (size_t j = 0; j < n_base; j++) {
                base[j].name = arena_printf(&e->arena, "l%zu", j);
                base[j].value = words[value_random(state) % n_words];
            }
            if (type == EXPO_HISTOGRAM) {
                double bounds[4];
                uint64_t counts[4];
                size_t n_bounds = 1 + value_random(state) % 4;
                for (size_t b = 0; b < n_bounds; b++) {
                    bounds[b] = b + 1 == n_bounds ? INFINITY : (double)(b + 1) * 0.25;
                    counts[b] = value_random(state) % 1000;
                }
                expo_add_histogram(e, f, base, n_base, bounds, counts, n_bounds,
                                   (double)(value_random(state) % 100000) / 8, counts[0]);
                continue;
            }
            for (size_t m = value_random(state) % 4; m > 0; m--) {
                uint64_t bits = value_random(state);
                double v;
                memcpy(&v, &bits, sizeof(v));
                if (value_random(state) % 2)
                    v = (double)(value_random(state) % 5);
                if (value_random(state) % 2)
                    expo_add(e, f, base, n_base, NULL, NULL, v);
                else
                    expo_add(e, f, base, n_base, "extra", words[value_random(state) % n_words], v);
            }
        }
    }
    return e;
}

/* The directly encoded protobuf is byte for byte what protobuf-c packs from message
 * structures, for the sample set and for random sets. */
static void protobuf_same_as_protobuf_c(void)
{
    uint64_t state = 7;
    for (int round = 0; round < 300; round++) {
        struct expo_set *e = round == 0 ? sample_set() : random_set(&state);
        size_t len = 0, want_len = 0;
        char *got = expo_pb_render(e, &len);
        char *want = pb_reference(e, &want_len);
        if (!EXPECT_INT(len, want_len) || !EXPECT(memcmp(got, want, len) == 0))
            round = 1000;
        /* The FILE writer writes the same bytes. */
        size_t file_len = 0;
        char *file = render(e, RENDER_PB, &file_len);
        EXPECT(file_len == len && memcmp(file, got, len) == 0);
        free(file);
        free(got);
        free(want);
        expo_free(e);
    }
}

/* Samples share their label list while the labels stay the same (by content: a caller's
 * array reused with other values makes a new list), and every writer writes each sample's
 * own labels. */
static void shared_labels(void)
{
    struct expo_set *e = calloc(1, sizeof(*e));
    struct expo_family *f = expo_family(e, "t", EXPO_GAUGE, "T.");
    struct expo_label l[2] = {{"a", "1"}, {"b", "2"}};
    expo_add(e, f, l, 2, NULL, NULL, 1);
    expo_add(e, f, l, 2, "x", "y", 2);
    l[1].value = "3";
    expo_add(e, f, l, 2, NULL, NULL, 3);
    expo_add(e, f, l, 1, NULL, NULL, 4);
    expo_add(e, f, l, 0, "x", "z", 5);
    EXPECT(f->samples[0].labels == f->samples[1].labels);
    EXPECT(f->samples[1].labels != f->samples[2].labels);
    EXPECT(f->samples[2].labels != f->samples[3].labels);
    EXPECT_INT(e->n_labels, 4);
    static const char lines[] = "t{a=\"1\",b=\"2\"} 1\n"
                                "t{a=\"1\",b=\"2\",x=\"y\"} 2\n"
                                "t{a=\"1\",b=\"3\"} 3\n"
                                "t{a=\"1\"} 4\n"
                                "t{x=\"z\"} 5\n";
    char *text = render(e, RENDER_TEXT, NULL);
    char want_text[256];
    snprintf(want_text, sizeof(want_text), "# HELP t T.\n# TYPE t gauge\n%s", lines);
    EXPECT_STR(text, want_text);
    char *om = render(e, RENDER_OM, NULL);
    EXPECT_CONTAINS(om, lines);
    size_t len = 0;
    char *pb = render(e, RENDER_PB, &len);
    size_t want_len = 0;
    char *want = pb_reference(e, &want_len);
    EXPECT(len == want_len && memcmp(pb, want, len) == 0);
    free(want);
    free(pb);
    free(om);
    free(text);
    expo_free(e);
}

/* A write error is reported. */
static void protobuf_write_error(void)
{
    FILE *full = fopen("/dev/full", "w");
    if (full == NULL)
        return; /* no /dev/full here */
    setvbuf(full, NULL, _IONBF, 0);
    struct expo_set *e = sample_set();
    EXPECT_INT(expo_pb_write(e, full), -1);
    fclose(full);
    expo_free(e);
}

/* The Accept headers Prometheus sends, and what is made of odd ones. */
static void negotiation(void)
{
    static const char pb[] =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
        "encoding=delimited";
    static const struct {
        const char *accept;
        enum negot_format want;
    } cases[] = {
        {NULL, NEGOT_TEXT},
        {"", NEGOT_TEXT},
        {"   ", NEGOT_TEXT},
        {"garbage", NEGOT_TEXT},
        {";;;,,,===\"", NEGOT_TEXT},
        {"\"application/openmetrics-text\"", NEGOT_TEXT},
        /* Prometheus 2.x with --enable-feature=native-histograms */
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
         NEGOT_PROTOBUF},
        /* Prometheus 2.42 with --enable-feature=native-histograms, as captured */
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
         "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
         "*/*;q=0.1",
         NEGOT_PROTOBUF},
        /* Prometheus 2.42 by default */
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         NEGOT_OPENMETRICS},
        /* Prometheus 3 by default */
        {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
         "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
         "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
         NEGOT_OPENMETRICS},
        /* Prometheus with scrape_protocols: [PrometheusText0.0.4] */
        {"text/plain;version=0.0.4;q=1,*/*;q=0.1", NEGOT_TEXT},
        {"application/openmetrics-text; version=0.0.1", NEGOT_OPENMETRICS},
        {"application/openmetrics-text", NEGOT_OPENMETRICS},
        {"application/openmetrics-text;version=2.0.0", NEGOT_TEXT},
        {"application/openmetrics-text;version=2.0.0,application/openmetrics-text;q=0.1",
         NEGOT_OPENMETRICS},
        {pb, NEGOT_PROTOBUF},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=text",
         NEGOT_TEXT},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", NEGOT_TEXT},
        {"application/vnd.google.protobuf;proto=other.Message;encoding=delimited", NEGOT_TEXT},
        {"application/vnd.google.protobuf;encoding=delimited", NEGOT_TEXT},
        {"Application/Vnd.Google.Protobuf ; PROTO=\"io.prometheus.client.MetricFamily\" ; "
         "Encoding=DELIMITED",
         NEGOT_PROTOBUF},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited;q=0",
         NEGOT_TEXT},
        {"application/openmetrics-text;q=0,application/vnd.google.protobuf;"
         "proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.001",
         NEGOT_PROTOBUF},
        /* ties go to the first */
        {"application/openmetrics-text;version=1.0.0,application/vnd.google.protobuf;"
         "proto=io.prometheus.client.MetricFamily;encoding=delimited",
         NEGOT_OPENMETRICS},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited,application/openmetrics-text;version=1.0.0",
         NEGOT_PROTOBUF},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.500", NEGOT_TEXT},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.501", NEGOT_OPENMETRICS},
        /* malformed entries are skipped, the others count */
        {"application/openmetrics-text;q=1.5", NEGOT_TEXT},
        {"application/openmetrics-text;q=abc", NEGOT_TEXT},
        {"application/openmetrics-text;q=0.0001", NEGOT_TEXT},
        {"application/openmetrics-text;version", NEGOT_TEXT},
        {"application/openmetrics-text;q=0.9 x,text/plain;q=0.1", NEGOT_TEXT},
        {"application/openmetrics-text ;q=0.3 , text/plain ; q=0.2", NEGOT_OPENMETRICS},
        {"application/openmetrics-text;version=1.0.0;", NEGOT_OPENMETRICS},
        {"application/openmetrics-text;foo=\"a,b;q=0\";q=0.9,text/plain;q=0.5", NEGOT_OPENMETRICS},
        {"application/openmetrics-text;foo=\"unterminated", NEGOT_OPENMETRICS},
        {"*/*", NEGOT_TEXT},
        {"text/*;q=0.9,application/openmetrics-text;q=0.8", NEGOT_TEXT},
        {"application/json", NEGOT_TEXT},
        {"application/*", NEGOT_TEXT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (!EXPECT_INT(negot_format(cases[i].accept), cases[i].want))
            harness_fail(__FILE__, __LINE__, "Accept: %s",
                         cases[i].accept ? cases[i].accept : "(none)");

    /* Caps: a header over 8 KiB is not read, nor entries past the 64th. */
    size_t big = NEGOT_MAX_HEADER + 100;
    char *h = malloc(big + 1);
    memset(h, ' ', big);
    memcpy(h, pb, strlen(pb));
    h[big] = '\0';
    EXPECT_INT(negot_format(h), NEGOT_TEXT);
    h[NEGOT_MAX_HEADER] = '\0';
    EXPECT_INT(negot_format(h), NEGOT_PROTOBUF);
    free(h);
    char many[2048] = "";
    for (int i = 0; i < NEGOT_MAX_ENTRIES - 1; i++)
        strcat(many, "x/y,");
    strcat(many, pb);
    EXPECT_INT(negot_format(many), NEGOT_PROTOBUF);
    memmove(many + 4, many, strlen(many) + 1);
    memcpy(many, "x/y,", 4);
    EXPECT_INT(negot_format(many), NEGOT_TEXT);

    EXPECT_STR(negot_content_type(NEGOT_TEXT), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_STR(negot_content_type(NEGOT_OPENMETRICS),
               "application/openmetrics-text; version=1.0.0; charset=utf-8");
    EXPECT_STR(negot_content_type(NEGOT_PROTOBUF),
               "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
               "encoding=delimited");
}

static void gzip_negotiation(void)
{
    static const struct {
        const char *accept_encoding;
        bool want;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"gzip", true},
        {"GZip", true},
        {"x-gzip", true},
        {"gzip;q=0", false},
        {"gzip;q=0.000", false},
        {"gzip;q=0.001", true},
        {"gzip, deflate, br", true},
        {"deflate, gzip;q=1.0, *;q=0.5", true},
        {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
        {"*", true},
        {"*;q=0", false},
        {"gzip;q=0, *", false},
        {"identity", false},
        {"deflate", false},
        {"gzipx", false},
        {"gzip;q=nope", false},
        {",,, gzip ,,", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (!EXPECT_INT(negot_gzip(cases[i].accept_encoding), cases[i].want))
            harness_fail(__FILE__, __LINE__, "Accept-Encoding: %s",
                         cases[i].accept_encoding ? cases[i].accept_encoding : "(none)");
    char *h = malloc(NEGOT_MAX_HEADER + 2);
    memset(h, ' ', NEGOT_MAX_HEADER + 1);
    memcpy(h, "gzip", 4);
    h[NEGOT_MAX_HEADER + 1] = '\0';
    EXPECT(!negot_gzip(h));
    free(h);
}

/* Inflates a gzip stream into a malloc'd buffer of *n bytes, or returns NULL. */
static unsigned char *gunzip(const unsigned char *in, size_t n, size_t cap, size_t *out_n)
{
    unsigned char *out = malloc(cap + 1);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        free(out);
        return NULL;
    }
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap + 1;
    int rc = inflate(&zs, Z_FINISH);
    *out_n = cap + 1 - zs.avail_out;
    bool ok = rc == Z_STREAM_END && zs.avail_in == 0;
    inflateEnd(&zs);
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

/* gzip output inflates back to the input, for a metrics page and for nothing. */
static void gzip_round_trip(void)
{
    struct expo_set *e = sample_set();
    size_t text_n;
    char *text = render(e, RENDER_TEXT, &text_n);
    char *big = malloc(text_n * 200);
    for (size_t i = 0; i < 200; i++)
        memcpy(big + i * text_n, text, text_n);
    const struct {
        const char *data;
        size_t n;
    } inputs[] = {{text, text_n}, {big, text_n * 200}, {"", 0}};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        void *z = NULL;
        size_t zn = 0;
        if (!EXPECT_INT(negot_gzip_compress(inputs[i].data, inputs[i].n, &z, &zn), 0))
            continue;
        const unsigned char *zb = z;
        EXPECT(zn >= 18 && zb[0] == 0x1f && zb[1] == 0x8b && zb[2] == 8);
        if (inputs[i].n > 100000)
            EXPECT(zn < inputs[i].n / 10);
        size_t back_n = 0;
        unsigned char *back = gunzip(zb, zn, inputs[i].n, &back_n);
        if (EXPECT(back != NULL)) {
            EXPECT_INT(back_n, inputs[i].n);
            EXPECT(memcmp(back, inputs[i].data, inputs[i].n) == 0);
        }
        free(back);
        free(z);
    }
    void *z = (void *)1;
    size_t zn = 1;
    EXPECT_INT(negot_gzip_compress(text, NEGOT_MAX_GZIP_INPUT + 1, &z, &zn), -1);
    EXPECT(z == NULL && zn == 0);
    free(big);
    free(text);
    expo_free(e);
}

/* A set whose expositions are several times the writers' 64 KiB piece: 4,000 series over
 * 400 label lists, a histogram among them. */
static struct expo_set *large_set(void)
{
    static const double bounds[] = {0.1, 1, INFINITY};
    struct expo_set *e = calloc(1, sizeof(*e));
    struct expo_family *g = expo_family(e, "big_ratio", EXPO_GAUGE, "Ratios.");
    struct expo_family *h = expo_family(e, "big_seconds", EXPO_HISTOGRAM, "Latency.");
    for (int i = 0; i < 400; i++) {
        char *slo = arena_printf(&e->arena, "slo-%d-with-a-longer-name", i);
        struct expo_label l[2] = {{"service", "checkout"}, {"slo", slo}};
        for (int w = 0; w < 8; w++)
            expo_add(e, g, l, 2, "window", arena_printf(&e->arena, "%dm", w * 5 + 5),
                     1.0 - (double)(i * 8 + w) / 1e6);
        uint64_t counts[] = {(uint64_t)i, (uint64_t)(2 * i), (uint64_t)(3 * i)};
        expo_add_histogram(e, h, l, 2, bounds, counts, 3, (double)i / 4, (uint64_t)(3 * i));
    }
    return e;
}

/* The FILE writers, which write in pieces, write what the in-memory renderings hold; and so
 * does a gzip stream after inflating. */
static void streamed_writers(void)
{
    struct expo_set *e = large_set();
    for (int kind = RENDER_TEXT; kind <= RENDER_PB; kind++) {
        size_t want_len = 0, got_len = 0;
        char *want = kind == RENDER_TEXT ? expo_render_text(e, &want_len)
                     : kind == RENDER_OM ? expo_om_render(e, &want_len)
                                         : expo_pb_render(e, &want_len);
        EXPECT(want_len > 4 * 65536);
        char *got = render(e, (enum render_kind)kind, &got_len);
        EXPECT(got_len == want_len && memcmp(got, want, want_len) == 0);

        struct negot_gz *gz = negot_gz_new();
        if (!EXPECT(gz != NULL))
            break;
        FILE *f = negot_gz_file(gz);
        if (kind == RENDER_TEXT)
            expo_write_text(e, f);
        else if (kind == RENDER_OM)
            expo_om_write(e, f);
        else
            EXPECT_INT(expo_pb_write(e, f), 0);
        void *z = NULL;
        size_t zn = 0, plain_n = 0, back_n = 0;
        EXPECT_INT(negot_gz_finish(gz, &z, &zn, &plain_n), 0);
        EXPECT_INT(plain_n, want_len);
        EXPECT(zn < want_len / 5);
        unsigned char *back = gunzip(z, zn, want_len, &back_n);
        EXPECT(back != NULL && back_n == want_len && memcmp(back, want, want_len) == 0);
        free(back);
        free(z);
        free(got);
        free(want);
    }
    expo_free(e);
}

/* Reads g to the end in pieces of at most piece bytes into a malloc'd buffer of *n bytes;
 * NULL when a read fails. */
static char *gunzip_pieces(struct negot_gunzip *g, size_t piece, size_t cap, size_t *n)
{
    char *out = malloc(cap + piece);
    *n = 0;
    for (;;) {
        long got = negot_gunzip_read(g, out + *n, piece);
        if (got < 0 || *n > cap) {
            free(out);
            return NULL;
        }
        if (got == 0)
            return out;
        *n += (size_t)got;
    }
}

/* The reader a client without gzip is answered through: any piece size gives back the input;
 * a cut or damaged stream is an error, never a short body taken for a whole one. */
static void gunzip_reader(void)
{
    struct expo_set *e = large_set();
    size_t text_n = 0;
    char *text = expo_render_text(e, &text_n);
    void *z = NULL;
    size_t zn = 0;
    EXPECT_INT(negot_gzip_compress(text, text_n, &z, &zn), 0);
    static const size_t pieces[] = {1, 7, 4096, 65536, 1 << 24};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        struct negot_gunzip *g = negot_gunzip_new(z, zn);
        size_t n = 0;
        char *back = gunzip_pieces(g, pieces[i], text_n, &n);
        EXPECT(back != NULL && n == text_n && memcmp(back, text, text_n) == 0);
        EXPECT_INT(negot_gunzip_read(g, &(char){0}, 1), 0); /* stays at the end */
        free(back);
        negot_gunzip_free(g);
    }
    /* Cut short: a few bytes or half the stream missing. */
    size_t cuts[] = {zn - 4, zn / 2, 10};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        struct negot_gunzip *g = negot_gunzip_new(z, cuts[i]);
        size_t n = 0;
        char *back = gunzip_pieces(g, 4096, text_n, &n);
        EXPECT(back == NULL);
        free(back);
        negot_gunzip_free(g);
    }
    /* Damaged in the middle. */
    unsigned char *bad = malloc(zn);
    memcpy(bad, z, zn);
    for (size_t k = zn / 2; k < zn / 2 + 16; k++)
        bad[k] ^= 0x5a;
    struct negot_gunzip *g = negot_gunzip_new(bad, zn);
    size_t n = 0;
    char *back = gunzip_pieces(g, 4096, text_n, &n);
    EXPECT(back == NULL);
    free(back);
    negot_gunzip_free(g);
    /* An empty body. */
    void *ez = NULL;
    size_t ezn = 0;
    EXPECT_INT(negot_gzip_compress("", 0, &ez, &ezn), 0);
    g = negot_gunzip_new(ez, ezn);
    EXPECT_INT(negot_gunzip_read(g, &(char){0}, 1), 0);
    negot_gunzip_free(g);
    free(ez);
    free(bad);
    free(z);
    free(text);
    expo_free(e);
}

/* The value rule as the first writers applied it with printf and strtod: the reference that
 * expo_value_format must match byte for byte. */
static void value_reference(double v, char *buf, size_t size)
{
    if (v == 0 || v == 1) {
        snprintf(buf, size, "%d", (int)v);
    } else if (isnan(v)) {
        snprintf(buf, size, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, size, "%.0f", v);
    } else {
        snprintf(buf, size, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.17g", v);
    }
}

/* Checks that v is written as the reference writes it and that the text reads back as v
 * (-0 as 0, any NaN as a NaN); reports the first mismatches. Returns whether it matched. */
static bool value_check(double v)
{
    static int reported;
    char got[EXPO_VALUE_SIZE], want[64];
    size_t n = expo_value_format(v, got);
    value_reference(v, want, sizeof(want));
    double back = strtod(got, NULL);
    bool ok = n == strlen(got) && strcmp(got, want) == 0 && (isnan(v) ? isnan(back) : back == v);
    if (!ok && reported++ < 20)
        harness_fail(__FILE__, __LINE__, "value %a: wrote \"%s\", the rule gives \"%s\"", v, got,
                     want);
    return ok;
}

/* Sample values: a few known renderings (worked out by hand from the decimal expansions),
 * then every branch of the rule against printf's rendering and strtod's reading: integers,
 * decimals that need 15 or 17 digits, ties at the last digit, tiny and huge exponents,
 * neighbours of powers of ten, NaN, the infinities, -0, and random doubles. */
static void value_format(void)
{
    static const struct {
        double v;
        const char *text;
    } known[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-1, "-1"},
        {42, "42"},
        {-123456789012345, "-123456789012345"},
        {999999999999999, "999999999999999"},
        {1e15, "1e+15"},
        {0.999, "0.999"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3, "0.33333333333333331"},
        {-2.5, "-2.5"},
        {100.125, "100.125"},
        {0.0001, "0.0001"},
        {0.00012, "0.00012"},
        {1e-5, "1e-05"},
        {1.5e-5, "1.5e-05"},
        {1e-9, "1e-09"},
        {2.5e-300, "2.5e-300"},
        {123456789012345.6, "123456789012345.59"},
        {1e300, "1e+300"},
        {1 + 0x1p-17, "1.0000076293945312"}, /* ...3125: the tie goes to the even 2 */
        {NAN, "NaN"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        char got[EXPO_VALUE_SIZE];
        expo_value_format(known[i].v, got);
        EXPECT_STR(got, known[i].text);
        value_check(known[i].v);
    }

    size_t failed = 0;
    /* Powers of ten and their neighbours, where the number of digits changes. */
    for (int x = -330; x <= 310; x++) {
        char t[16];
        snprintf(t, sizeof(t), "1e%d", x);
        double p = strtod(t, NULL);
        failed += !value_check(p) + !value_check(nextafter(p, 0)) +
                  !value_check(nextafter(p, INFINITY)) + !value_check(-p);
    }
    uint64_t state = 20261123;
    for (int i = 0; i < 25000; i++) {
        /* Any bit pattern: every exponent, subnormals, NaNs. */
        uint64_t bits = value_random(&state);
        double v;
        memcpy(&v, &bits, sizeof(v));
        failed += !value_check(v);
        /* Ratios of counts, like SLIs and burn rates. */
        double a = (double)(value_random(&state) % 1000000),
               b = (double)(1 + value_random(&state) % 1000000);
        failed += !value_check(a / b) + !value_check(-b / (a + 1));
        /* Magnitudes from 1e-14 to 1e17, evenly spread over the exponents. */
        double u = (double)(value_random(&state) >> 11) * 0x1p-53;
        failed += !value_check(pow(10, -14 + 31 * u));
        /* Short decimals: m / 10^k, which "%.15g" writes exactly, and their neighbours. */
        double d = (double)(value_random(&state) % 100000000) /
                   pow(10, (double)(value_random(&state) % 20));
        failed +=
            !value_check(d) + !value_check(nextafter(d, 0)) + !value_check(nextafter(d, INFINITY));
        /* Short binary fractions, whose exact decimals end in 5: ties at the last digit. */
        double h =
            ldexp((double)(value_random(&state) % (1u << 24)), -(int)(value_random(&state) % 60));
        failed += !value_check(h);
    }
    EXPECT_INT(failed, 0);
}

const struct harness_test suite_expo[] = {
    {"value_format", value_format},
    {"text_format", text_format},
    {"openmetrics_format", openmetrics_format},
    {"openmetrics_canonical_le", openmetrics_canonical_le},
    {"protobuf_format", protobuf_format},
    {"protobuf_same_as_protobuf_c", protobuf_same_as_protobuf_c},
    {"protobuf_write_error", protobuf_write_error},
    {"shared_labels", shared_labels},
    {"negotiation", negotiation},
    {"gzip_negotiation", gzip_negotiation},
    {"gzip_round_trip", gzip_round_trip},
    {"streamed_writers", streamed_writers},
    {"gunzip_reader", gunzip_reader},
    HARNESS_END,
};
