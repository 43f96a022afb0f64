#include "expo.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "expo_value.h"
#include "period.h"

struct expo_family *expo_family(struct expo_set *e, const char *name, enum expo_type type,
                                const char *help)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->families[i].name, name) == 0)
            return &e->families[i];
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 32;
        e->families = realloc(e->families, e->cap * sizeof(*e->families));
        if (e->families == NULL)
            abort();
    }
    struct expo_family *f = &e->families[e->n++];
    memset(f, 0, sizeof(*f));
    f->name = name;
    f->type = type;
    f->help = help;
    return f;
}

/* The shared copy of the labels base: the previous sample's when it holds the same ones. */
static const struct expo_labels *expo_labels_of(struct expo_set *e, const struct expo_label *base,
                                                size_t n_base)
{
    const struct expo_labels *last = e->last;
    if (last != NULL && last->n == n_base &&
        (n_base == 0 || memcmp(last->v, base, n_base * sizeof(*base)) == 0))
        return last;
    struct expo_labels *l = arena_alloc(&e->arena, sizeof(*l));
    struct expo_label *v = arena_alloc(&e->arena, (n_base + 1) * sizeof(*v));
    if (n_base > 0)
        memcpy(v, base, n_base * sizeof(*v));
    l->id = e->n_labels++;
    l->n = n_base;
    l->v = v;
    e->last = l;
    return l;
}

void expo_add(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
              size_t n_base, const char *extra_name, const char *extra_value, double v)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        f->samples = realloc(f->samples, f->cap * sizeof(*f->samples));
        if (f->samples == NULL)
            abort();
    }
    struct expo_sample *s = &f->samples[f->n++];
    s->suffix = "";
    s->labels = expo_labels_of(e, base, n_base);
    s->extra.name = extra_name;
    s->extra.value = extra_name != NULL ? extra_value : NULL;
    s->value = v;
}

void expo_add_histogram(struct expo_set *e, struct expo_family *f, const struct expo_label *base,
                        size_t n_base, const double *bounds, const uint64_t *cumulative,
                        size_t n_bounds, double sum, uint64_t count)
{
    char buf[EXPO_VALUE_SIZE];
    for (size_t i = 0; i < n_bounds; i++) {
        /* The canonical form ("1.0", not "1"), so that every format stores the same le. */
        if (isfinite(bounds[i]) && bounds[i] == floor(bounds[i]) && fabs(bounds[i]) < 1e15)
            snprintf(buf, sizeof(buf), "%.1f", bounds[i]);
        else
            expo_value_format(bounds[i], buf);
        const char *le = arena_strdup(&e->arena, buf);
        expo_add(e, f, base, n_base, "le", le, (double)cumulative[i]);
        f->samples[f->n - 1].suffix = "_bucket";
    }
    expo_add(e, f, base, n_base, NULL, NULL, sum);
    f->samples[f->n - 1].suffix = "_sum";
    expo_add(e, f, base, n_base, NULL, NULL, (double)count);
    f->samples[f->n - 1].suffix = "_count";
}

/* The common labels of an instance: service, slo, group_by values, service and SLO labels.
 * The strings are copied, so that the set outlives the rules and the evaluation state. */
static size_t expo_common(struct expo_set *e, const struct eval_instance *in,
                          struct expo_label **out)
{
    const struct rules_slo *slo = in->slo;
    struct arena *a = &e->arena;
    size_t n = 2 + slo->n_group_by + slo->service->labels.n + slo->labels.n;
    struct expo_label *l = arena_alloc(a, (n + 1) * sizeof(*l));
    size_t k = 0;
    l[k++] = (struct expo_label){"service", arena_strdup(a, slo->service->name)};
    l[k++] = (struct expo_label){"slo", arena_strdup(a, slo->name)};
    for (size_t g = 0; g < slo->n_group_by; g++)
        l[k++] =
            (struct expo_label){arena_strdup(a, slo->group_by[g]), arena_strdup(a, in->values[g])};
    for (size_t i = 0; i < slo->service->labels.n; i++)
        l[k++] = (struct expo_label){arena_strdup(a, slo->service->labels.v[i].name),
                                     arena_strdup(a, slo->service->labels.v[i].value)};
    for (size_t i = 0; i < slo->labels.n; i++)
        l[k++] = (struct expo_label){arena_strdup(a, slo->labels.v[i].name),
                                     arena_strdup(a, slo->labels.v[i].value)};
    *out = l;
    return k;
}

static const char *expo_window_label(struct expo_set *e, const struct rules_slo *slo)
{
    if (slo->window.kind == RULES_WINDOW_CALENDAR)
        return rules_calendar_name(slo->window.calendar);
    char buf[32];
    return arena_strdup(&e->arena, duration_format(slo->window.duration_ms, buf, sizeof(buf)));
}

/* Adds the series of one instance; returns its common labels. */
static size_t expo_instance(struct expo_set *e, const struct eval_instance *in, int64_t now,
                            struct expo_label **labels)
{
    const struct rules_slo *slo = in->slo;
    struct expo_label *l;
    size_t n = expo_common(e, in, &l);
    *labels = l;
    const struct budget_result *r = &in->res;

    struct expo_family *f =
        expo_family(e, "slo", EXPO_INFO, "Every loaded SLO, with its definition.");
    struct expo_label *info = arena_alloc(&e->arena, (n + 4) * sizeof(*info));
    memcpy(info, l, n * sizeof(*l));
    info[n] = (struct expo_label){"description", arena_strdup(&e->arena, slo->description)};
    info[n + 1] = (struct expo_label){"window", expo_window_label(e, slo)};
    info[n + 2] = (struct expo_label){"sli_kind", rules_sli_kind_name(slo->sli.kind)};
    info[n + 3] = (struct expo_label){"timezone", arena_strdup(&e->arena, slo->timezone)};
    expo_add(e, f, info, n + 4, NULL, NULL, 1);

    expo_add(e, expo_family(e, "slo_objective_ratio", EXPO_GAUGE, "The objective, 0..1."), l, n,
             NULL, NULL, budget_ratio(slo->objective));
    expo_add(e,
             expo_family(e, "slo_warning_ratio", EXPO_GAUGE,
                         "The early-warning line, 0..1 (the objective when unset)."),
             l, n, NULL, NULL, budget_ratio(slo->warning));
    expo_add(e,
             expo_family(e, "slo_minimum_ratio", EXPO_GAUGE,
                         "The minimum (red) line, 0..1 (the warning line when unset)."),
             l, n, NULL, NULL, budget_ratio(slo->minimum));
    expo_add(e,
             expo_family(e, "slo_in_service_hours", EXPO_GAUGE,
                         "1 while now is inside the SLO's service hours (always without any)."),
             l, n, NULL, NULL, period_in_service_hours(slo, now));
    expo_add(
        e,
        expo_family(e, "slo_excluded", EXPO_GAUGE,
                    "1 while now is inside an exclusion (planned maintenance, force majeure)."),
        l, n, NULL, NULL, period_excluded(slo, now));
    expo_add(e,
             expo_family(e, "slo_data_ok", EXPO_GAUGE,
                         "1 when the last evaluation updated this SLO; 0 when its queries failed "
                         "and the values shown are the last good ones."),
             l, n, NULL, NULL, in->data_ok && in->have_result);
    if (!in->have_result)
        return n;
    expo_add(e,
             expo_family(e, "slo_last_evaluation_timestamp_seconds", EXPO_GAUGE,
                         "When the values shown were computed."),
             l, n, NULL, NULL, (double)in->last_eval);
    expo_add(e,
             expo_family(e, "slo_period_start_timestamp_seconds", EXPO_GAUGE,
                         "Start of the compliance period being measured."),
             l, n, NULL, NULL, (double)r->period_start);
    expo_add(e,
             expo_family(e, "slo_period_end_timestamp_seconds", EXPO_GAUGE,
                         "End of the compliance period being measured."),
             l, n, NULL, NULL, (double)r->period_end);
    expo_add(e,
             expo_family(e, "slo_compliance_ratio", EXPO_GAUGE,
                         "SLI over the compliance period, 0..1 (1 with no events)."),
             l, n, NULL, NULL, r->period.sli);
    f = expo_family(e, "slo_sli_ratio", EXPO_GAUGE,
                    "SLI over each alert window, 0..1 (1 with no events).");
    for (int w = 0; w < PERIOD_N_WINDOWS; w++)
        expo_add(e, f, l, n, "window", period_window_names[w], r->windows[w].sli);
    f = expo_family(e, "slo_burn_rate", EXPO_GAUGE,
                    "Error ratio over the window divided by 1 - objective (0 with no events).");
    for (int w = 0; w < PERIOD_N_WINDOWS; w++)
        expo_add(e, f, l, n, "window", period_window_names[w], r->windows[w].burn);
    expo_add(e, f, l, n, "window", "period", r->period.burn);
    expo_add(e,
             expo_family(e, "slo_error_budget_remaining_ratio", EXPO_GAUGE,
                         "1 - spent/allowed error budget over the period; negative when "
                         "overspent."),
             l, n, NULL, NULL, r->remaining);
    if (slo->sli.kind == RULES_SLI_EVENTS || slo->sli.kind == RULES_SLI_LATENCY) {
        f = expo_family(e, "slo_period_events", EXPO_GAUGE, "Events counted in the period.");
        expo_add(e, f, l, n, "type", "good", r->period.total - r->period.bad);
        expo_add(e, f, l, n, "type", "total", r->period.total);
    }
    if (r->exhaustion_s >= 0)
        expo_add(e,
                 expo_family(e, "slo_error_budget_exhaustion_seconds", EXPO_GAUGE,
                             "Seconds until the error budget is gone at the current 1h burn "
                             "rate."),
                 l, n, NULL, NULL, r->exhaustion_s);
    f = expo_family(e, "slo_state", EXPO_STATESET,
                    "Compliance against the lines: met >= objective > degraded >= warning > "
                    "warning >= minimum > breach.");
    f->state_label = "state";
    for (int st = 0; st < 4; st++)
        expo_add(e, f, l, n, "state", budget_state_names[st], (int)r->state == st);
    f = expo_family(e, "slo_alert", EXPO_GAUGE,
                    "1 while the multiwindow multi-burn-rate condition of the tier holds.");
    if (slo->alerting.page.enabled)
        expo_add(e, f, l, n, "severity", "page", r->page);
    if (slo->alerting.ticket.enabled)
        expo_add(e, f, l, n, "severity", "ticket", r->ticket);
    expo_add(e, expo_family(e, "slo_score", EXPO_GAUGE, "Score 0..100 from the SLO's scoring."), l,
             n, NULL, NULL, r->score);
    expo_add(e,
             expo_family(e, "slo_sla_credit_ratio", EXPO_GAUGE,
                         "Service credit owed for the period, 0..1 of the fee."),
             l, n, NULL, NULL, r->credit);
    return n;
}

static double expo_dependencies_supported(const struct rules_set *rules,
                                          const struct rules_slo *slo)
{
    double product = 1;
    for (size_t i = 0; i < slo->n_depends_on; i++) {
        const char *ref = slo->depends_on[i], *slash = strchr(ref, '/');
        char svc[160];
        snprintf(svc, sizeof(svc), "%.*s", (int)(slash - ref), ref);
        const struct rules_slo *dep = rules_find(rules, svc, slash + 1);
        if (dep != NULL)
            product *= dep->objective / 100;
    }
    return product * 100 + 1e-9 >= slo->objective;
}

struct expo_set *expo_build(const struct eval_state *s, int64_t now)
{
    struct expo_set *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    for (size_t i = 0; i < s->n_inst; i++) {
        struct expo_label *l;
        size_t n = expo_instance(e, s->inst[i], now, &l);
        expo_add(e,
                 expo_family(e, "slo_dependencies_supported", EXPO_GAUGE,
                             "1 when the product of the depends_on objectives reaches this "
                             "objective."),
                 l, n, NULL, NULL, expo_dependencies_supported(s->rules, s->inst[i]->slo));
    }
    /* Service scores: the weighted mean of their SLO instances' scores (an SLO's weight is
     * shared by its group_by instances). One pass counts instances per SLO, one sums. */
    const struct rules_set *rules = s->rules;
    size_t *per_slo = calloc(rules->n_slos + 1, sizeof(*per_slo));
    double *wsum = calloc(rules->n_services + 1, sizeof(*wsum));
    double *ssum = calloc(rules->n_services + 1, sizeof(*ssum));
    if (per_slo == NULL || wsum == NULL || ssum == NULL)
        abort();
    for (size_t i = 0; i < s->n_inst; i++)
        per_slo[s->inst[i]->slo_index] += s->inst[i]->have_result;
    for (size_t i = 0; i < s->n_inst; i++) {
        const struct eval_instance *in = s->inst[i];
        if (!in->have_result)
            continue;
        size_t v = 0;
        while (v < rules->n_services && rules->services[v] != in->slo->service)
            v++;
        double w = in->slo->scoring.weight / (double)per_slo[in->slo_index];
        wsum[v] += w;
        ssum[v] += w * in->res.score;
    }
    struct expo_family *fs = NULL, *fg = NULL;
    for (size_t v = 0; v < rules->n_services; v++) {
        const struct rules_service *svc = rules->services[v];
        if (wsum[v] <= 0)
            continue;
        double score = ssum[v] / wsum[v];
        if (fs == NULL) {
            fs = expo_family(e, "slo_service_score", EXPO_GAUGE,
                             "Weighted score 0..100 of the service's SLOs.");
            fg = expo_family(e, "slo_service_grade", EXPO_STATESET,
                             "Grade of the service score by its scorecard.");
            fg->state_label = "grade";
        }
        struct expo_label *l = arena_alloc(&e->arena, sizeof(*l));
        l[0] = (struct expo_label){"service", arena_strdup(&e->arena, svc->name)};
        expo_add(e, fs, l, 1, NULL, NULL, score);
        int grade = budget_grade(svc, score);
        for (int gr = 0; gr < 3; gr++)
            expo_add(e, fg, l, 1, "grade", budget_grade_names[gr], grade == gr);
        struct expo_family *ft =
            expo_family(e, "slo_service_grade_threshold", EXPO_GAUGE,
                        "The scorecard's lines: the lowest score of each grade.");
        expo_add(e, ft, l, 1, "grade", "excellent", svc->excellent);
        expo_add(e, ft, l, 1, "grade", "pass", svc->pass);
    }
    free(per_slo);
    free(wsum);
    free(ssum);
    return e;
}

void expo_free(struct expo_set *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->families[i].samples);
    free(e->families);
    arena_free(&e->arena);
    free(e);
}

void expo_buf_grow(struct expo_buf *b, size_t n)
{
    if (b->sink != NULL && b->len > 0) {
        expo_buf_flush(b);
        if (b->cap >= n)
            return;
    }
    size_t cap = b->cap > 0 ? b->cap : 1 << 16;
    while (cap - b->len < n)
        cap *= 2;
    b->data = realloc(b->data, cap);
    if (b->data == NULL)
        abort();
    b->cap = cap;
}

void expo_buf_flush(struct expo_buf *b)
{
    if (b->len > 0 && !b->failed && fwrite(b->data, 1, b->len, b->sink) != b->len)
        b->failed = true;
    b->len = 0;
}

/* Appends s with backslash and line feed escaped, and the double quote too when quote. */
static void expo_buf_escaped(struct expo_buf *b, const char *s, bool quote)
{
    const char *special = quote ? "\\\n\"" : "\\\n";
    for (;;) {
        size_t run = strcspn(s, special);
        expo_buf_put(b, s, run);
        s += run;
        if (*s == '\0')
            return;
        expo_buf_put(b, *s == '\n' ? "\\n" : *s == '\\' ? "\\\\" : "\\\"", 2);
        s++;
    }
}

/* Appends name="value" with the value escaped. */
static void expo_buf_label(struct expo_buf *b, const struct expo_label *l)
{
    expo_buf_put(b, l->name, strlen(l->name));
    expo_buf_put(b, "=\"", 2);
    expo_buf_escaped(b, l->value, true);
    expo_buf_put(b, "\"", 1);
}

struct expo_out {
    struct expo_buf out;
    /* The text (name="value",...) of each shared label list written so far, by id: where
     * it is in texts; a length of 0 means not written yet. */
    struct expo_buf texts;
    struct expo_span *known;
};

struct expo_out *expo_out_new(const struct expo_set *e, FILE *sink)
{
    struct expo_out *o = calloc(1, sizeof(*o));
    if (o == NULL || (o->known = calloc(e->n_labels + 1, sizeof(*o->known))) == NULL)
        abort();
    o->out.sink = sink;
    return o;
}

static void expo_out_free(struct expo_out *o)
{
    free(o->texts.data);
    free(o->known);
    free(o);
}

char *expo_out_take(struct expo_out *o, size_t *len)
{
    expo_buf_put(&o->out, "", 1); /* a NUL after the output, and never a NULL buffer */
    /* The buffer grew by doubling: give back what it does not use, as it is kept. */
    char *data = realloc(o->out.data, o->out.len);
    if (data == NULL)
        data = o->out.data;
    *len = o->out.len - 1;
    expo_out_free(o);
    return data;
}

int expo_out_finish(struct expo_out *o)
{
    expo_buf_flush(&o->out);
    int rc = o->out.failed ? -1 : 0;
    free(o->out.data);
    expo_out_free(o);
    return rc;
}

void expo_out_put(struct expo_out *o, const char *s, size_t n)
{
    expo_buf_put(&o->out, s, n);
}

void expo_out_puts(struct expo_out *o, const char *s)
{
    expo_buf_put(&o->out, s, strlen(s));
}

void expo_out_escaped(struct expo_out *o, const char *s, bool quote)
{
    expo_buf_escaped(&o->out, s, quote);
}

/* Appends the text of a shared label list, rendered on its first use. */
static void expo_out_shared(struct expo_out *o, const struct expo_labels *l)
{
    struct expo_span *known = &o->known[l->id];
    if (known->len == 0) {
        known->offset = o->texts.len;
        for (size_t j = 0; j < l->n; j++) {
            if (j > 0)
                expo_buf_put(&o->texts, ",", 1);
            expo_buf_label(&o->texts, &l->v[j]);
        }
        known->len = o->texts.len - known->offset;
    }
    expo_buf_put(&o->out, o->texts.data + known->offset, known->len);
}

void expo_out_sample(struct expo_out *o, const char *name, size_t name_len, const char *suffix,
                     size_t suffix_len, const struct expo_sample *s)
{
    struct expo_buf *b = &o->out;
    expo_buf_put(b, name, name_len);
    expo_buf_put(b, suffix, suffix_len);
    expo_buf_put(b, s->suffix, strlen(s->suffix));
    if (s->labels->n > 0 || s->extra.name != NULL) {
        expo_buf_put(b, "{", 1);
        if (s->labels->n > 0)
            expo_out_shared(o, s->labels);
        if (s->extra.name != NULL) {
            if (s->labels->n > 0)
                expo_buf_put(b, ",", 1);
            expo_buf_label(b, &s->extra);
        }
        expo_buf_put(b, "}", 1);
    }
    char value[EXPO_VALUE_SIZE + 2];
    value[0] = ' ';
    size_t n = expo_value_format(s->value, value + 1);
    value[n + 1] = '\n';
    expo_buf_put(b, value, n + 2);
}

/* The text format 0.0.4 of e. */
static void expo_text(const struct expo_set *e, struct expo_out *o)
{
    for (size_t i = 0; i < e->n; i++) {
        const struct expo_family *f = &e->families[i];
        const char *suffix = f->type == EXPO_INFO      ? "_info"
                             : f->type == EXPO_COUNTER ? "_total"
                                                       : "";
        size_t name_len = strlen(f->name), suffix_len = strlen(suffix);
        expo_out_puts(o, "# HELP ");
        expo_out_put(o, f->name, name_len);
        expo_out_put(o, suffix, suffix_len);
        expo_out_puts(o, " ");
        expo_out_escaped(o, f->help, false);
        expo_out_puts(o, "\n# TYPE ");
        expo_out_put(o, f->name, name_len);
        expo_out_put(o, suffix, suffix_len);
        expo_out_puts(o, f->type == EXPO_COUNTER     ? " counter\n"
                         : f->type == EXPO_HISTOGRAM ? " histogram\n"
                                                     : " gauge\n");
        for (size_t k = 0; k < f->n; k++)
            expo_out_sample(o, f->name, name_len, suffix, suffix_len, &f->samples[k]);
    }
}

void expo_write_text(const struct expo_set *e, FILE *out)
{
    struct expo_out *o = expo_out_new(e, out);
    expo_text(e, o);
    if (expo_out_finish(o) != 0)
        clearerr(out);
}

char *expo_render_text(const struct expo_set *e, size_t *len)
{
    struct expo_out *o = expo_out_new(e, NULL);
    expo_text(e, o);
    return expo_out_take(o, len);
}

static json_t *expo_json_window(const struct budget_window *w)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "sli", w->sli, "burn_rate", w->burn, "bad", w->bad,
                     "total", w->total);
}

/* Writes o as the next element of the array expo_write_json writes, laid out as json_dumpf
 * lays out a whole array, and frees it. Dumping element by element keeps one SLO's tree in
 * memory at a time: the tree of 10,000 SLOs weighed some 200 MB at every evaluation. */
static void expo_json_element(FILE *out, json_t *o, size_t flags, bool first)
{
    json_t *one = json_array();
    json_array_append_new(one, o);
    char *text = json_dumps(one, flags);
    json_decref(one);
    if (text == NULL)
        abort();
    /* "[" element "]", with a newline after "[" and before "]" when indented. */
    size_t len = strlen(text), cut = (flags & JSON_INDENT(0x1f)) != 0 ? 2 : 1;
    if (len >= 2 * cut) {
        if (!first)
            fputc(',', out);
        fwrite(text + 1, 1, len - 1 - cut, out);
    }
    free(text);
}

void expo_write_json(const struct eval_state *s, FILE *out, bool compact)
{
    size_t flags = (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_REAL_PRECISION(17);
    if (s->n_inst == 0) {
        fputs("[]\n", out);
        return;
    }
    fputc('[', out);
    for (size_t i = 0; i < s->n_inst; i++) {
        const struct eval_instance *in = s->inst[i];
        const struct rules_slo *slo = in->slo;
        const struct budget_result *r = &in->res;
        json_t *labels = json_object();
        for (size_t g = 0; g < slo->n_group_by; g++)
            json_object_set_new(labels, slo->group_by[g], json_string(in->values[g]));
        for (size_t k = 0; k < slo->service->labels.n; k++)
            json_object_set_new(labels, slo->service->labels.v[k].name,
                                json_string(slo->service->labels.v[k].value));
        for (size_t k = 0; k < slo->labels.n; k++)
            json_object_set_new(labels, slo->labels.v[k].name, json_string(slo->labels.v[k].value));
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:f, s:f, s:f, s:b}", "service", slo->service->name, "slo",
                      slo->name, "labels", labels, "objective", budget_ratio(slo->objective),
                      "warning", budget_ratio(slo->warning), "minimum", budget_ratio(slo->minimum),
                      "data_ok", in->data_ok && in->have_result);
        char window[32];
        if (slo->window.kind == RULES_WINDOW_ROLLING)
            duration_format(slo->window.duration_ms, window, sizeof(window));
        else
            snprintf(window, sizeof(window), "%s", rules_calendar_name(slo->window.calendar));
        json_t *group_by = json_array();
        for (size_t g = 0; g < slo->n_group_by; g++)
            json_array_append_new(group_by, json_string(slo->group_by[g]));
        json_t *def = json_pack(
            "{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:o, s:b, s:b, s:b, s:i, s:i}", "description",
            slo->description, "window", window, "timezone", slo->timezone, "sli_kind",
            rules_sli_kind_name(slo->sli.kind), "objective", budget_ratio(slo->objective),
            "warning", budget_ratio(slo->warning), "minimum", budget_ratio(slo->minimum),
            "group_by", group_by, "page_alert", slo->alerting.page.enabled, "ticket_alert",
            slo->alerting.ticket.enabled, "service_hours", slo->service_hours.set, "exclusions",
            (json_int_t)slo->n_exclusions, "depends_on", (json_int_t)slo->n_depends_on);
        json_object_set_new(o, "definition", def);
        const struct eval_slo *es = &s->slos[in->slo_index];
        if (es->error[0] != '\0')
            json_object_set_new(o, "error", json_string(es->error));
        if (in->have_result) {
            json_t *windows = json_object();
            for (int w = 0; w < PERIOD_N_WINDOWS; w++)
                json_object_set_new(windows, period_window_names[w],
                                    expo_json_window(&r->windows[w]));
            json_object_set_new(o, "windows", windows);
            json_t *period = expo_json_window(&r->period);
            json_object_set_new(period, "start", json_integer(r->period_start));
            json_object_set_new(period, "end", json_integer(r->period_end));
            json_object_set_new(o, "period", period);
            json_object_set_new(o, "compliance", json_real(r->period.sli));
            json_object_set_new(o, "error_budget_remaining", json_real(r->remaining));
            json_object_set_new(o, "exhaustion_seconds",
                                r->exhaustion_s >= 0 ? json_real(r->exhaustion_s) : json_null());
            json_object_set_new(o, "state", json_string(budget_state_names[r->state]));
            json_object_set_new(o, "alerts",
                                json_pack("{s:b, s:b}", "page", r->page, "ticket", r->ticket));
            json_object_set_new(o, "score", json_real(r->score));
            json_object_set_new(o, "sla_credit", json_real(r->credit));
            json_object_set_new(o, "last_evaluation", json_integer(in->last_eval));
        }
        expo_json_element(out, o, flags, i == 0);
    }
    fputs(compact ? "]\n" : "\n]\n", out);
}
