#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "mask.h"
#include "period.h"
#include "remote.h"

/* Where the tiers start, relative to the evaluation minute: the fine tier keeps 6 hours,
 * the middle one a day; the coarse one the longest period. */
static const int64_t eval_fine_span = 6 * 3600;
static const int64_t eval_mid_span = 24 * 3600;
/* Minutes asked for again each cycle, for samples that arrived late. */
static const int64_t eval_refetch = 2 * 60;

/* ---- queries ---- */

/* Replaces every {{.window}} in tmpl by window. */
static const char *eval_subst(struct arena *a, const char *tmpl, const char *window)
{
    static const char mark[] = "{{.window}}";
    size_t n = 0;
    for (const char *p = strstr(tmpl, mark); p != NULL; p = strstr(p + 1, mark))
        n++;
    size_t len = strlen(tmpl) + n * strlen(window) + 1;
    char *out = arena_alloc(a, len), *w = out;
    const char *p = tmpl;
    for (const char *m = strstr(p, mark); m != NULL; m = strstr(p, mark)) {
        memcpy(w, p, (size_t)(m - p));
        w += m - p;
        memcpy(w, window, strlen(window));
        w += strlen(window);
        p = m + sizeof(mark) - 1;
    }
    strcpy(w, p);
    return out;
}

/* "by (a, b) " for the SLO's group_by, or "" without one. */
static const char *eval_by(struct arena *a, const struct rules_slo *slo)
{
    if (slo->n_group_by == 0)
        return "";
    size_t len = 8;
    for (size_t i = 0; i < slo->n_group_by; i++)
        len += strlen(slo->group_by[i]) + 2;
    char *s = arena_alloc(a, len);
    strcpy(s, "by (");
    for (size_t i = 0; i < slo->n_group_by; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, slo->group_by[i]);
    }
    strcat(s, ") ");
    return s;
}

/* The selector's matchers without braces, and a comma after them when there are some. */
static const char *eval_matchers(struct arena *a, const char *selector)
{
    size_t len = strlen(selector);
    if (len < 2)
        return "";
    const char *inner = arena_strndup(a, selector + 1, len - 2);
    const char *p = inner;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return "";
    return arena_printf(a, "%s, ", inner);
}

static const char *eval_op_text(enum rules_op op)
{
    switch (op) {
    case RULES_OP_LT:
        return "<";
    case RULES_OP_LTE:
        return "<=";
    case RULES_OP_GT:
        return ">";
    case RULES_OP_GTE:
        return ">=";
    case RULES_OP_NONE:
        break;
    }
    return "";
}

int eval_queries(const struct rules_slo *slo, const char *le, const char *window, int64_t step,
                 struct arena *a, const char **primary, const char **secondary,
                 bool *primary_is_good)
{
    const struct rules_sli *s = &slo->sli;
    const char *by = eval_by(a, slo);
    *secondary = NULL;
    *primary_is_good = false;
    switch (s->kind) {
    case RULES_SLI_EVENTS:
        *primary_is_good = s->good_query != NULL;
        *primary = eval_subst(a, s->good_query ? s->good_query : s->bad_query, window);
        *secondary = eval_subst(a, s->total_query, window);
        return 0;
    case RULES_SLI_LATENCY: {
        if (le == NULL)
            return -1;
        const char *m = eval_matchers(a, s->selector);
        *primary_is_good = true;
        *primary = arena_printf(a, "sum %s(increase(%s_bucket{%sle=\"%s\"}[%s]))", by, s->metric, m,
                                le, window);
        *secondary = arena_printf(a, "sum %s(increase(%s_count{%s}[%s]))", by, s->metric,
                                  arena_strndup(a, m, strlen(m) >= 2 ? strlen(m) - 2 : 0), window);
        return 0;
    }
    case RULES_SLI_RAW:
        /* The error ratio over the interval, weighted by the interval's seconds. */
        *primary = arena_printf(a, "(%s) * %lld", eval_subst(a, s->error_ratio_query, window),
                                (long long)step);
        return 0;
    case RULES_SLI_UPTIME:
        /* The share of the interval the signal was 1, in seconds: the mean of its minutes,
         * each the mean of the signal over that minute, so that a sample on an interval
         * boundary counts once whatever the interval length. */
        *primary_is_good = true;
        *primary = arena_printf(a,
                                "avg %s(avg_over_time((avg_over_time((%s)[1m:60s]))[%llds:60s])) "
                                "* %lld",
                                by, s->query, (long long)(step - 1), (long long)step);
        return 0;
    case RULES_SLI_TIMESLICE: {
        char slice[32];
        duration_format(s->slice_ms, slice, sizeof(slice));
        const char *q = eval_subst(a, s->query, slice);
        const char *cond = s->op == RULES_OP_NONE ? arena_printf(a, "(%s)", q)
                                                  : arena_printf(a, "((%s) %s bool %.17g)", q,
                                                                 eval_op_text(s->op), s->value);
        /* The slices in (t - step, t]: a subquery range of step - 1 seconds, as for uptime, so
         * that a slice on an interval boundary counts once on engines whose ranges include
         * their start (Prometheus 2.x) as on those that exclude it (3.x, VictoriaMetrics). */
        *primary_is_good = true;
        *primary = arena_printf(a, "sum %s(sum_over_time(%s[%llds:%s]))", by, cond,
                                (long long)(step - 1), slice);
        *secondary = arena_printf(a, "sum %s(count_over_time(%s[%llds:%s]))", by, cond,
                                  (long long)(step - 1), slice);
        return 0;
    }
    }
    return -1;
}

/* ---- instances ---- */

static size_t eval_hash(size_t slo_index, const char *key)
{
    uint64_t h = 14695981039346656037ULL ^ slo_index;
    h *= 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)h;
}

static void eval_table_put(struct eval_state *s, size_t idx)
{
    size_t mask = s->table_cap - 1;
    const struct eval_instance *in = s->inst[idx];
    size_t i = eval_hash(in->slo_index, in->key) & mask;
    while (s->table[i] != 0)
        i = (i + 1) & mask;
    s->table[i] = idx + 1;
}

static void eval_table_rebuild(struct eval_state *s)
{
    size_t cap = 64;
    while (cap < 2 * (s->n_inst + 1))
        cap *= 2;
    free(s->table);
    s->table = calloc(cap, sizeof(*s->table));
    if (s->table == NULL)
        abort();
    s->table_cap = cap;
    for (size_t i = 0; i < s->n_inst; i++)
        eval_table_put(s, i);
}

static struct eval_instance *eval_find(struct eval_state *s, size_t slo_index, const char *key)
{
    if (s->table_cap == 0)
        return NULL;
    size_t mask = s->table_cap - 1;
    for (size_t i = eval_hash(slo_index, key) & mask; s->table[i] != 0; i = (i + 1) & mask) {
        struct eval_instance *in = s->inst[s->table[i] - 1];
        if (in->slo_index == slo_index && strcmp(in->key, key) == 0)
            return in;
    }
    return NULL;
}

static char *eval_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

/* Frees an instance and what it owns. */
static void eval_instance_free(struct eval_instance *in)
{
    for (size_t g = 0; g < in->slo->n_group_by; g++)
        free((char *)in->values[g]);
    free((void *)in->values);
    free((char *)in->key);
    history_free(in->hist);
    free(in);
}

/* Finds or adds the instance of SLO slo_index for the group values in series labels. */
static struct eval_instance *eval_instance_for(struct eval_state *s, size_t slo_index,
                                               const char *key, const struct prom_series *ser)
{
    struct eval_instance *in = eval_find(s, slo_index, key);
    if (in != NULL)
        return in;
    const struct rules_slo *slo = s->rules->slos[slo_index];
    in = calloc(1, sizeof(*in));
    if (in == NULL)
        abort();
    in->slo = slo;
    in->slo_index = slo_index;
    in->key = eval_xstrdup(key);
    const char **values = calloc(slo->n_group_by + 1, sizeof(*values));
    if (values == NULL)
        abort();
    for (size_t g = 0; g < slo->n_group_by; g++) {
        const char *v = "";
        for (size_t l = 0; ser != NULL && l < ser->n_labels; l++)
            if (strcmp(ser->labels[l].name, slo->group_by[g]) == 0)
                v = ser->labels[l].value;
        values[g] = eval_xstrdup(v);
    }
    in->values = values;
    in->hist = history_new(period_max_length(slo));
    in->data_ok = true;
    if (s->n_inst == s->cap_inst) {
        s->cap_inst = s->cap_inst ? 2 * s->cap_inst : 64;
        s->inst = realloc(s->inst, s->cap_inst * sizeof(*s->inst));
        if (s->inst == NULL)
            abort();
    }
    s->inst[s->n_inst++] = in;
    if (2 * (s->n_inst + 1) > s->table_cap)
        eval_table_rebuild(s);
    else
        eval_table_put(s, s->n_inst - 1);
    return in;
}

/* The group key of a series: its group_by label values joined by 0x1f. */
static const char *eval_key(struct arena *a, const struct rules_slo *slo,
                            const struct prom_series *ser)
{
    if (slo->n_group_by == 0)
        return "";
    size_t len = 1;
    for (size_t l = 0; l < ser->n_labels; l++)
        len += strlen(ser->labels[l].value) + 1;
    len += slo->n_group_by;
    char *k = arena_alloc(a, len), *w = k;
    for (size_t g = 0; g < slo->n_group_by; g++) {
        if (g > 0)
            *w++ = '\x1f';
        for (size_t l = 0; l < ser->n_labels; l++)
            if (strcmp(ser->labels[l].name, slo->group_by[g]) == 0) {
                size_t n = strlen(ser->labels[l].value);
                memcpy(w, ser->labels[l].value, n);
                w += n;
            }
    }
    *w = '\0';
    return k;
}

bool eval_in_shard(const struct eval_state *s, const struct rules_slo *slo, const char *key)
{
    if (s->shard_count <= 1)
        return true;
    uint64_t h = 14695981039346656037ULL;
    const char *parts[3] = {slo->service->name, slo->name, key};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h % s->shard_count == s->shard_index;
}

void eval_set_shard(struct eval_state *s, unsigned index, unsigned count)
{
    s->shard_index = index;
    s->shard_count = count;
    /* Drop what another shard owns (the instances eval_new made up front). */
    size_t kept = 0;
    for (size_t k = 0; k < s->n_inst; k++) {
        if (eval_in_shard(s, s->inst[k]->slo, s->inst[k]->key))
            s->inst[kept++] = s->inst[k];
        else
            eval_instance_free(s->inst[k]);
    }
    s->n_inst = kept;
    eval_table_rebuild(s);
}

struct eval_state *eval_new(const struct rules_set *rules, struct prom_client *prom)
{
    struct eval_state *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    s->rules = rules;
    s->prom = prom;
    s->slos = calloc(rules->n_slos + 1, sizeof(*s->slos));
    if (s->slos == NULL)
        abort();
    s->stats.samples = -1;
    /* An SLO without group_by always has its one instance, traffic or not. */
    for (size_t i = 0; i < rules->n_slos; i++) {
        s->slos[i].ok = true; /* nothing has failed yet */
        if (rules->slos[i]->n_group_by == 0)
            (void)eval_instance_for(s, i, "", NULL);
    }
    return s;
}

void eval_free(struct eval_state *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_inst; i++)
        eval_instance_free(s->inst[i]);
    free(s->inst);
    free(s->table);
    free(s->slos);
    arena_free(&s->arena);
    free(s);
}

/* ---- filling ---- */

const double eval_query_bounds[EVAL_QUERY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

static double eval_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* During a full fill, answers a range query by remote read when the query has a shape it
 * can compute exactly (remote.h) and the server has it. Returns 0 with out filled, or -1:
 * not tried, or failed, and then the rest of this SLO's fill goes to query_range (a server
 * without remote read is not asked again at all). */
static int eval_remote_read(struct eval_state *s, struct eval_slo *es, const char *q, int64_t start,
                            int64_t end, int64_t step, struct prom_result *out)
{
    if (!s->filling || es->remote_failed || !prom_remote_read_usable(s->prom))
        return -1;
    struct arena a = {0};
    struct remote_expr e;
    int rc = -1;
    if (remote_parse(q, &a, &e) != 0)
        goto out;
    struct prom_error err;
    if (remote_query_range(s->prom, &e, start * 1000, end * 1000, step * 1000, out, &err) != 0) {
        es->remote_failed = true;
        s->stats.remote_fallbacks++;
        memcpy(es->remote_error, err.msg, sizeof(es->remote_error));
        goto out;
    }
    s->stats.remote_reads++;
    rc = 0;
out:
    arena_free(&a);
    return rc;
}

/* Counts a query's outcome and duration and keeps the error message for the SLO. */
static int eval_fetch(struct eval_state *s, struct eval_slo *es, const char *q, int64_t start,
                      int64_t end, int64_t step, struct prom_result *out)
{
    struct prom_error err;
    int rc;
    double t0 = eval_now();
    if (start != end && eval_remote_read(s, es, q, start, end, step, out) == 0)
        rc = 0;
    else if (start == end)
        rc = prom_query(s->prom, q, end * 1000, out, &err);
    else
        rc = prom_query_range(s->prom, q, start * 1000, end * 1000, step * 1000, out, &err);
    double took = eval_now() - t0;
    s->stats.queries[rc == 0 ? PROM_OK : err.kind]++;
    s->stats.query_seconds += took;
    size_t b = 0;
    while (b < EVAL_QUERY_BUCKETS && took > eval_query_bounds[b])
        b++;
    s->stats.query_buckets[b]++;
    if (rc != 0) {
        snprintf(es->error, sizeof(es->error), "%s (query: %.200s)", err.msg, q);
        return -1;
    }
    if (out->total_queryable_samples >= 0) {
        if (s->stats.samples < 0)
            s->stats.samples = 0;
        s->stats.samples += out->total_queryable_samples;
    }
    return 0;
}

/* Finds the le label value of the latency SLO's histogram that equals its threshold. */
static int eval_find_le(struct eval_state *s, size_t i, int64_t t)
{
    const struct rules_slo *slo = s->rules->slos[i];
    struct eval_slo *es = &s->slos[i];
    struct arena a = {0};
    const char *q =
        arena_printf(&a, "count by (le) (%s_bucket%s)", slo->sli.metric, slo->sli.selector);
    struct prom_result r = {0};
    int rc = -1;
    if (eval_fetch(s, es, q, t, t, 0, &r) != 0)
        goto out;
    char seen[400] = "";
    size_t used = 0;
    for (size_t k = 0; k < r.n_series; k++) {
        for (size_t l = 0; l < r.series[k].n_labels; l++) {
            if (strcmp(r.series[k].labels[l].name, "le") != 0)
                continue;
            const char *v = r.series[k].labels[l].value;
            char *end;
            double b = strtod(v, &end);
            if (*end == '\0' && isfinite(b) && fabs(b - slo->sli.threshold) <= 1e-9 * fabs(b)) {
                /* The state's arena lives long: copy only a value not already kept. */
                if (es->le == NULL || strcmp(es->le, v) != 0)
                    es->le = arena_strdup(&s->arena, v);
                rc = 0;
                goto out;
            }
            int w = snprintf(seen + used, sizeof(seen) - used, "%s%s", used ? ", " : "", v);
            if (w > 0 && (size_t)w < sizeof(seen) - used)
                used += (size_t)w;
        }
    }
    if (r.n_series == 0)
        snprintf(es->error, sizeof(es->error),
                 "latency SLI: no series %s_bucket%s in Prometheus; check metric and selector",
                 slo->sli.metric, slo->sli.selector);
    else
        snprintf(es->error, sizeof(es->error),
                 "latency SLI: %s_bucket has no bucket le=\"%g\" (threshold); its buckets are "
                 "%s: set threshold to one of them",
                 slo->sli.metric, slo->sli.threshold, seen);
out:
    prom_result_free(&r);
    arena_free(&a);
    return rc;
}

/* A value usable as a count: finite and not negative (NaN and Inf count as missing). */
static bool eval_usable(double v)
{
    return isfinite(v);
}

struct eval_point {
    double a, b;
    bool has_a, has_b;
};

struct eval_group {
    const char *key;
    const struct prom_series *ser; /* for the group's label values */
    struct eval_point *pts;
};

/* Sorts the series of both results into groups by key; points indexed from start by step. */
static size_t eval_group(struct arena *a, const struct rules_slo *slo, const struct prom_result *ra,
                         const struct prom_result *rb, int64_t start, int64_t step, size_t n_pts,
                         struct eval_group **out)
{
    size_t cap = (ra ? ra->n_series : 0) + (rb ? rb->n_series : 0) + 1;
    struct eval_group *g = arena_alloc(a, cap * sizeof(*g));
    /* Groups found by key through an open-addressing table: thousands of group_by values
     * must not cost a quadratic search. */
    size_t tcap = 16;
    while (tcap < 2 * cap)
        tcap *= 2;
    size_t *table = arena_alloc(a, tcap * sizeof(*table));
    size_t n = 0;
    const struct prom_result *rs[2] = {ra, rb};
    for (int which = 0; which < 2; which++) {
        if (rs[which] == NULL)
            continue;
        for (size_t k = 0; k < rs[which]->n_series; k++) {
            const struct prom_series *ser = &rs[which]->series[k];
            const char *key = eval_key(a, slo, ser);
            size_t slot = eval_hash(0, key) & (tcap - 1);
            while (table[slot] != 0 && strcmp(g[table[slot] - 1].key, key) != 0)
                slot = (slot + 1) & (tcap - 1);
            size_t gi;
            if (table[slot] != 0) {
                gi = table[slot] - 1;
            } else {
                gi = n++;
                table[slot] = gi + 1;
                g[gi].key = key;
                g[gi].ser = ser;
                g[gi].pts = arena_alloc(a, n_pts * sizeof(struct eval_point));
            }
            for (size_t p = 0; p < ser->n_samples; p++) {
                int64_t t = ser->samples[p].t_ms / 1000;
                double v = ser->samples[p].v;
                if ((t - start) % step != 0 || t < start || !eval_usable(v))
                    continue;
                size_t idx = (size_t)((t - start) / step);
                if (idx >= n_pts)
                    continue;
                struct eval_point *pt = &g[gi].pts[idx];
                if (which == 0) {
                    pt->a += v; /* series of one group add up */
                    pt->has_a = true;
                } else {
                    pt->b += v;
                    pt->has_b = true;
                }
            }
        }
    }
    *out = g;
    return n;
}

/* The bad and total events of one point of the queries, or false when it has none. */
static bool eval_point_counts(const struct rules_slo *slo, const struct eval_point *pt,
                              bool a_is_good, int64_t fstep, double *bad, double *total)
{
    switch (slo->sli.kind) {
    case RULES_SLI_EVENTS:
    case RULES_SLI_LATENCY:
    case RULES_SLI_TIMESLICE:
        if (!pt->has_b)
            return false; /* no total: no events in this interval */
        *total = pt->b;
        *bad = a_is_good ? *total - (pt->has_a ? pt->a : 0) : (pt->has_a ? pt->a : 0);
        break;
    case RULES_SLI_RAW:
        if (!pt->has_a)
            return false;
        *total = (double)fstep;
        *bad = pt->a;
        break;
    case RULES_SLI_UPTIME:
    default:
        if (!pt->has_a)
            return false;
        *total = (double)fstep;
        *bad = *total - pt->a;
        break;
    }
    if (*total < 0)
        *total = 0;
    if (*bad < 0)
        *bad = 0;
    if (*bad > *total)
        *bad = *total;
    return true;
}

/* True when the query's value is a per-second rate: it calls rate() (not irate()). An events
 * query may be written either way, as in Sloth (rate) or as counts (increase); the history
 * adds intervals of 1 minute, 5 minutes and 1 hour, so a rate must become the interval's
 * event count (rate times the interval's seconds, which is what increase() returns) or the
 * short intervals of the last hours would weigh as much as whole hours. */
static bool eval_is_rate(const char *q)
{
    for (const char *p = strstr(q, "rate"); p != NULL; p = strstr(p + 1, "rate")) {
        if (p > q) {
            char c = p[-1];
            if (c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9'))
                continue; /* irate, error_rate, ... */
        }
        const char *r = p + 4;
        while (*r == ' ' || *r == '\t' || *r == '\n')
            r++;
        if (*r == '(')
            return true;
    }
    return false;
}

/* Points per range query, under Prometheus' limit of 11,000. */
enum { EVAL_CHUNK_POINTS = 10000 };

/* Points per range query for SLO slo fetched at step seconds. The SLIs written as subqueries
 * (uptime by the minute, timeslice by the slice) are also kept to EVAL_CHUNK_POINTS inner
 * points: VictoriaMetrics counts a subquery's points over the whole range of the query
 * against its limit per series (-search.maxPointsPerTimeseries, 30,000 by default), so a
 * 30-day period fetched in one query at 1h steps would be refused. */
static int64_t eval_chunk_points(const struct rules_slo *slo, int64_t step)
{
    int64_t inner = 0;
    if (slo->sli.kind == RULES_SLI_UPTIME)
        inner = 60;
    else if (slo->sli.kind == RULES_SLI_TIMESLICE)
        inner = slo->sli.slice_ms / 1000;
    if (inner <= 0 || step <= inner)
        return EVAL_CHUNK_POINTS;
    int64_t n = EVAL_CHUNK_POINTS * inner / step;
    return n > 0 ? n : 1;
}

/* Points per range query over all its series, for grouped SLOs: a response is decoded whole,
 * some 200 bytes a point, and 1,000 groups over a 30-day period at 1h steps came to 150 MB at
 * once. A grouped SLO's first range query asks for EVAL_PROBE_STEPS steps; the next ones are
 * sized by the most series it has returned. */
enum { EVAL_GROUP_POINTS = 100000, EVAL_PROBE_STEPS = 50 };

static int64_t eval_group_chunk(const struct eval_slo *es, int64_t most)
{
    int64_t n =
        es->series_seen > 0 ? EVAL_GROUP_POINTS / (int64_t)es->series_seen : EVAL_PROBE_STEPS;
    return n < 1 ? 1 : n > most ? most : n;
}

/* Fetches the intervals (start - step, start], ..., (end - step, end] for SLO i and leaves
 * their sums on its instances (acc_*; free them with eval_release). An SLO with service hours
 * or exclusions is fetched by the minute, and only the minutes that count are added up into
 * the intervals. Sets *any when a query returned a series. */
static int eval_collect(struct eval_state *s, size_t i, int64_t step, int64_t start, int64_t end,
                        bool *any)
{
    const struct rules_slo *slo = s->rules->slos[i];
    struct eval_slo *es = &s->slos[i];
    bool masked = mask_active(slo);
    int64_t fstep = masked ? 60 : step;
    struct mask mask;
    mask_init(&mask, slo);
    if (end < start)
        return 0;
    size_t n_buckets = (size_t)((end - start) / step + 1);
    char window[32];
    duration_format(fstep * 1000, window, sizeof(window));
    struct arena qa_arena = {0};
    const char *qa, *qb;
    bool a_is_good;
    int rc = -1;
    if (eval_queries(slo, es->le, window, fstep, &qa_arena, &qa, &qb, &a_is_good) != 0)
        goto out;
    /* Events queries that return rates are turned into counts over the fetched interval. */
    bool events = slo->sli.kind == RULES_SLI_EVENTS;
    double scale_a = events && eval_is_rate(qa) ? (double)fstep : 1;
    double scale_b = events && qb != NULL && eval_is_rate(qb) ? (double)fstep : 1;
    bool grouped = slo->n_group_by > 0;
    int64_t most = eval_chunk_points(slo, fstep);
    int64_t chunk = grouped ? eval_group_chunk(es, most) : most;
    for (int64_t cs = start - step + fstep, ce; cs <= end; cs = ce + fstep) {
        ce = cs + fstep * (chunk - 1);
        if (ce > end)
            ce = end;
        struct arena a = {0};
        struct prom_result ra = {0}, rb = {0};
        int frc = -1;
        if (eval_fetch(s, es, qa, cs, ce, fstep, &ra) != 0 ||
            (qb != NULL && eval_fetch(s, es, qb, cs, ce, fstep, &rb) != 0))
            goto chunk_out;
        if (slo->sli.kind == RULES_SLI_EVENTS && a_is_good && ra.n_series == 0 && rb.n_series > 0) {
            snprintf(es->error, sizeof(es->error),
                     "good_query returned no series while total_query did; check its selector "
                     "(query: %.200s)",
                     qa);
            goto chunk_out;
        }
        *any |= ra.n_series > 0 || rb.n_series > 0;
        if (grouped) {
            size_t most_series = ra.n_series > rb.n_series ? ra.n_series : rb.n_series;
            if (most_series > es->series_seen)
                es->series_seen = most_series;
            chunk = eval_group_chunk(es, most);
        }
        size_t n_pts = (size_t)((ce - cs) / fstep + 1);
        struct eval_group *groups;
        size_t n_groups = eval_group(&a, slo, &ra, qb ? &rb : NULL, cs, fstep, n_pts, &groups);
        for (size_t gi = 0; gi < n_groups; gi++) {
            if (!eval_in_shard(s, slo, groups[gi].key))
                continue;
            struct eval_instance *in = eval_instance_for(s, i, groups[gi].key, groups[gi].ser);
            if (in->acc_has == NULL) {
                in->acc_bad = calloc(n_buckets, sizeof(double));
                in->acc_total = calloc(n_buckets, sizeof(double));
                in->acc_has = calloc(n_buckets, 1);
                if (in->acc_bad == NULL || in->acc_total == NULL || in->acc_has == NULL)
                    abort();
            }
            for (size_t p = 0; p < n_pts; p++) {
                int64_t t = cs + (int64_t)p * fstep;
                double bad, total;
                struct eval_point pt = groups[gi].pts[p];
                pt.a *= scale_a;
                pt.b *= scale_b;
                if (!eval_point_counts(slo, &pt, a_is_good, fstep, &bad, &total))
                    continue;
                size_t b = (size_t)(((t + step - 1) / step * step - start) / step);
                if (b >= n_buckets)
                    continue;
                in->acc_has[b] = 1;
                if (masked && !mask_counts(&mask, t))
                    continue;
                in->acc_bad[b] += bad;
                in->acc_total[b] += total;
            }
        }
        frc = 0;
    chunk_out:
        prom_result_free(&ra);
        prom_result_free(&rb);
        arena_free(&a);
        if (frc != 0)
            goto out;
    }
    rc = 0;
out:
    arena_free(&qa_arena);
    return rc;
}

/* Frees the sums eval_collect left on the instances. */
static void eval_release(struct eval_state *s)
{
    for (size_t k = 0; k < s->n_inst; k++) {
        struct eval_instance *in = s->inst[k];
        free(in->acc_bad);
        free(in->acc_total);
        free(in->acc_has);
        in->acc_bad = in->acc_total = NULL;
        in->acc_has = NULL;
    }
}

/* Fetches the intervals (start - step, start], ..., (end - step, end] of one tier for SLO i
 * and writes them into its instances' histories. Sets *any when a query returned a series. */
static int eval_fill(struct eval_state *s, size_t i, int tier, int64_t start, int64_t end,
                     bool *any)
{
    int64_t step = history_steps[tier];
    if (end < start)
        return 0;
    size_t n = (size_t)((end - start) / step + 1);
    int rc = eval_collect(s, i, step, start, end, any);
    for (size_t k = 0; rc == 0 && k < s->n_inst; k++) {
        struct eval_instance *in = s->inst[k];
        for (size_t b = 0; in->acc_has != NULL && b < n; b++)
            if (in->acc_has[b])
                history_put(in->hist, tier, start + (int64_t)b * step, in->acc_bad[b],
                            in->acc_total[b]);
    }
    eval_release(s);
    return rc;
}

int eval_intervals(struct eval_state *s, size_t i, int64_t step, int64_t start, int64_t end,
                   eval_interval_fn fn, void *cls)
{
    struct eval_slo *es = &s->slos[i];
    const struct rules_slo *slo = s->rules->slos[i];
    es->error[0] = '\0';
    if (slo->sli.kind == RULES_SLI_LATENCY && es->le == NULL && eval_find_le(s, i, end) != 0)
        return -1;
    bool any = false;
    size_t n = (size_t)((end - start) / step + 1);
    int rc = eval_collect(s, i, step, start, end, &any);
    for (size_t k = 0; rc == 0 && k < s->n_inst; k++) {
        const struct eval_instance *in = s->inst[k];
        if (in->acc_has != NULL)
            fn(cls, in, n, in->acc_bad, in->acc_total, in->acc_has);
    }
    eval_release(s);
    return rc;
}

/* Fills SLO i's three tiers up to minute t. */
static int eval_fill_all(struct eval_state *s, size_t i, int64_t t, bool *any)
{
    const struct rules_slo *slo = s->rules->slos[i];
    int64_t hour = t / 3600 * 3600, five = t / 300 * 300;
    int64_t span = period_max_length(slo);
    if (span < HISTORY_LONGEST_WINDOW)
        span = HISTORY_LONGEST_WINDOW; /* the 3d window, for a shorter period */
    int64_t coarse_start = (t - span) / 3600 * 3600 + 3600;
    if (eval_fill(s, i, 2, coarse_start, hour, any) != 0 ||
        eval_fill(s, i, 1, five - eval_mid_span + 300, five, any) != 0 ||
        eval_fill(s, i, 0, t - eval_fine_span + 60, t, any) != 0)
        return -1;
    return 0;
}

/* Brings SLO i's histories up to minute t: all three tiers when never filled or after a gap
 * longer than the fine tier, else the minutes since the last cycle. */
static int eval_update(struct eval_state *s, size_t i, int64_t t)
{
    const struct rules_slo *slo = s->rules->slos[i];
    struct eval_slo *es = &s->slos[i];
    es->error[0] = '\0';
    bool full = es->fetched_to == 0 || t - es->fetched_to >= eval_fine_span - eval_refetch ||
                t < es->fetched_to;
    if (slo->sli.kind == RULES_SLI_LATENCY && (es->le == NULL || full) &&
        eval_find_le(s, i, t) != 0)
        return -1;
    bool any = false;
    if (full) {
        /* The start-up (or after a gap) fill may read raw samples instead. */
        es->remote_failed = false;
        s->filling = true;
        int rc = eval_fill_all(s, i, t, &any);
        s->filling = false;
        if (rc != 0)
            return -1;
    } else {
        int64_t from = es->fetched_to - eval_refetch + 60;
        if (eval_fill(s, i, 0, from, t, &any) != 0)
            return -1;
    }
    if (!any) {
        snprintf(es->error, sizeof(es->error),
                 "no data: the queries returned no series%s; check the selectors",
                 full ? " over the whole period" : " for the last minutes");
        es->fetched_to = t;
        return -1;
    }
    es->fetched_to = t;
    return 0;
}

/* Computes every result of an instance at minute t from its history. */
static void eval_compute(struct eval_instance *in, int64_t t)
{
    const struct rules_slo *slo = in->slo;
    struct budget_result *r = &in->res;
    for (int w = 0; w < PERIOD_N_WINDOWS; w++) {
        double bad, total;
        history_sum(in->hist, t - period_windows_s[w], t, &bad, &total, NULL);
        budget_window(bad, total, slo->objective, &r->windows[w]);
    }
    int64_t start = t - period_max_length(slo), end = t;
    if (period_bounds(slo, t, &start, &end) != 0) {
        start = t - period_max_length(slo);
        end = t;
    }
    r->period_start = start;
    r->period_end = end;
    double bad, total;
    history_sum(in->hist, start, t, &bad, &total, NULL);
    budget_window(bad, total, slo->objective, &r->period);
    budget_finish(slo, end - start, r);
    in->have_result = true;
    in->data_ok = true;
    in->last_eval = t;
}

void eval_compute_all(struct eval_state *s, int64_t t)
{
    t = t / 60 * 60;
    size_t kept = 0;
    for (size_t k = 0; k < s->n_inst; k++) {
        struct eval_instance *in = s->inst[k];
        if (s->slos[in->slo_index].ok)
            eval_compute(in, t);
        else
            in->data_ok = false;
        /* A group whose series vanished goes once it has no event left in the period. */
        if (in->slo->n_group_by > 0 && in->have_result && in->data_ok &&
            in->res.period.total <= 0) {
            eval_instance_free(in);
            continue;
        }
        s->inst[kept++] = in;
    }
    if (kept != s->n_inst) {
        s->n_inst = kept;
        eval_table_rebuild(s);
    }
}

int eval_cycle(struct eval_state *s, int64_t now)
{
    int64_t t = now / 60 * 60;
    int failed = 0;
    s->stats.samples = -1;
    for (size_t i = 0; i < s->rules->n_slos; i++) {
        struct eval_slo *es = &s->slos[i];
        const struct rules_slo *slo = s->rules->slos[i];
        if (slo->n_group_by == 0 && !eval_in_shard(s, slo, "")) {
            es->ok = true; /* another shard's */
            continue;
        }
        es->ok = eval_update(s, i, t) == 0;
        if (!es->ok)
            failed++;
    }
    eval_compute_all(s, t);
    return failed;
}
