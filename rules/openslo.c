#include "openslo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "duration.h"

static const char *const openslo_doc_keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const openslo_meta_keys[] = {"name", "displayName", "labels", "annotations",
                                                NULL};
static const char *const openslo_slo_keys[] = {
    "description",     "service",    "indicator",     "indicatorRef", "timeWindow",
    "budgetingMethod", "objectives", "alertPolicies", NULL,
};
static const char *const openslo_indicator_keys[] = {"metadata", "spec", NULL};
static const char *const openslo_sli_spec_keys[] = {"description", "ratioMetric", "thresholdMetric",
                                                    NULL};
static const char *const openslo_ratio_keys[] = {"counter", "good", "bad", "total",
                                                 "rawType", "raw",  NULL};
static const char *const openslo_metric_keys[] = {"metricSource", NULL};
static const char *const openslo_source_keys[] = {"metricSourceRef", "type", "spec", NULL};
static const char *const openslo_window_keys[] = {"duration", "isRolling", "calendar", NULL};
static const char *const openslo_calendar_keys[] = {"startTime", "timeZone", NULL};
static const char *const openslo_objective_keys[] = {
    "displayName",
    "op",
    "value",
    "target",
    "targetPercent",
    "timeSliceTarget",
    "timeSliceWindow",
    "compositeWeight",
    NULL,
};

const char *openslo_sli_name(struct ydoc *d, yaml_node_t *root)
{
    const char *kind = ydoc_scalar(ydoc_get(d, root, "kind"));
    if (kind == NULL || strcmp(kind, "SLI") != 0)
        return NULL;
    return ydoc_scalar(ydoc_get(d, ydoc_get(d, root, "metadata"), "name"));
}

/* A bare selector: a metric name, then optionally one {...} and nothing else. */
static bool openslo_plain_selector(const char *q)
{
    const char *p = q;
    while (*p == ' ')
        p++;
    const char *start = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':' ||
           (p > start && *p >= '0' && *p <= '9'))
        p++;
    if (*p == '{') {
        const char *close = strrchr(p, '}');
        if (close == NULL || strchr(p, '[') != NULL || strchr(p, '(') != NULL)
            return false;
        p = close + 1;
    } else if (p == start) {
        return false;
    }
    while (*p == ' ')
        p++;
    return *p == '\0';
}

/* The PromQL of a ratioMetric part ({metricSource: {type: Prometheus, spec: {query}}}). */
static const char *openslo_query(struct ydoc *d, yaml_node_t *n, const char *what, bool counter,
                                 bool need_window)
{
    if (ydoc_map(d, n, what, openslo_metric_keys) != 0)
        return NULL;
    yaml_node_t *src = ydoc_need(d, n, "metricSource", what);
    if (src == NULL || ydoc_map(d, src, "metricSource", openslo_source_keys) != 0)
        return NULL;
    yaml_node_t *type = ydoc_get(d, src, "type");
    const char *t = ydoc_scalar(type);
    if (type != NULL && (t == NULL || strcasecmp(t, "Prometheus") != 0)) {
        ydoc_error(d, type,
                   "metricSource type \"%.40s\" is not supported: sloe reads "
                   "Prometheus queries",
                   t ? t : "");
        return NULL;
    }
    yaml_node_t *spec = ydoc_need(d, src, "spec", "metricSource");
    if (spec == NULL || ydoc_map(d, spec, "metricSource.spec", NULL) != 0)
        return NULL;
    yaml_node_t *qn = ydoc_get(d, spec, "query");
    if (qn == NULL)
        qn = ydoc_get(d, spec, "promql");
    if (qn == NULL) {
        ydoc_error(d, spec, "metricSource.spec: missing field \"query\"");
        return NULL;
    }
    const char *q;
    if (ydoc_str(d, qn, "query", &q) != 0)
        return NULL;
    if (need_window && strstr(q, "{{.window}}") == NULL && counter && openslo_plain_selector(q))
        return arena_printf(d->arena, "sum(increase(%s[{{.window}}]))", q);
    if (need_window && strstr(q, "{{.window}}") == NULL) {
        ydoc_error(d, qn,
                   "query has no {{.window}}: write the range as [{{.window}}], or set "
                   "counter: true and give a plain selector");
        return NULL;
    }
    if (build_query(d, qn, "query", false, &q) != 0)
        return NULL;
    return q;
}

/* Labels of OpenSLO metadata: values may be a string or a list of strings (joined by ","). */
static void openslo_labels(struct ydoc *d, yaml_node_t *n, struct rules_labels *out)
{
    out->n = 0;
    if (n == NULL)
        return;
    if (ydoc_map(d, n, "metadata.labels", NULL) != 0)
        return;
    int len = ydoc_map_len(n);
    bool has_list = false;
    for (int i = 0; i < len; i++)
        has_list |= ydoc_value(d, n, i)->type == YAML_SEQUENCE_NODE;
    if (!has_list) {
        (void)build_labels(d, n, "metadata.labels", true, out);
        return;
    }
    /* Build a flattened copy as scalar values, then read it as ordinary labels. */
    if (len > RULES_MAX_LABELS) {
        ydoc_error(d, n, "metadata.labels has %d entries; the limit is %d", len, RULES_MAX_LABELS);
        return;
    }
    struct rules_label *v = arena_alloc(d->arena, (size_t)len * sizeof(*v) + 1);
    size_t k = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *kn = ydoc_key(d, n, i), *vn = ydoc_value(d, n, i);
        const char *name;
        if (ydoc_str(d, kn, "metadata.labels", &name) != 0)
            continue;
        if (!build_label_name_ok(name) || build_label_reserved(name)) {
            ydoc_error(d, kn,
                       "\"%.100s\" cannot be a label of sloe's series: use letters, "
                       "digits and '_', and no name sloe sets itself",
                       name);
            continue;
        }
        const char *value = "";
        if (vn->type == YAML_SEQUENCE_NODE) {
            int m = ydoc_seq_len(d, vn, "a label value list");
            for (int j = 0; j < m; j++) {
                const char *s;
                if (ydoc_str(d, ydoc_item(d, vn, j), "a label value", &s) == 0)
                    value = j == 0 ? s : arena_printf(d->arena, "%s,%s", value, s);
            }
        } else if (ydoc_str(d, vn, "a label value", &value) != 0) {
            continue;
        }
        v[k].name = name;
        v[k].value = value;
        k++;
    }
    /* Same order as build_labels gives. */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1].name, v[j].name) > 0; j--) {
            struct rules_label t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    out->v = v;
    out->n = k;
}

static void openslo_window(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    int len = ydoc_seq_len(d, n, "timeWindow");
    if (len <= 0) {
        if (len == 0)
            ydoc_error(d, n, "timeWindow is empty: give one window");
        return;
    }
    if (len > 1)
        ydoc_warn(d, n, "timeWindow has %d entries; sloe uses the first", len);
    yaml_node_t *w = ydoc_item(d, n, 0);
    if (ydoc_map(d, w, "timeWindow", openslo_window_keys) != 0)
        return;
    yaml_node_t *dur = ydoc_need(d, w, "duration", "timeWindow");
    bool rolling = true;
    yaml_node_t *r = ydoc_get(d, w, "isRolling");
    if (r != NULL)
        (void)ydoc_bool(d, r, "isRolling", &rolling);
    yaml_node_t *cal = ydoc_get(d, w, "calendar");
    if (cal != NULL && ydoc_map(d, cal, "calendar", openslo_calendar_keys) == 0) {
        yaml_node_t *tzn = ydoc_get(d, cal, "timeZone");
        if (tzn != NULL)
            (void)build_timezone(d, tzn, &o->timezone);
    }
    if (dur == NULL)
        return;
    const char *s = ydoc_scalar(dur);
    if (!rolling) {
        static const char *const units[] = {"1d", "1w", "1M", "1Q", NULL};
        for (size_t i = 0; s != NULL && units[i] != NULL; i++) {
            if (strcmp(s, units[i]) == 0) {
                o->window.kind = RULES_WINDOW_CALENDAR;
                o->window.calendar = (enum rules_calendar)i;
                o->window.duration_ms = 0;
                return;
            }
        }
        ydoc_error(d, dur, "calendar duration \"%.20s\" is not supported: use 1d, 1w, 1M or 1Q",
                   s ? s : "");
        return;
    }
    (void)build_duration(d, dur, "timeWindow duration", 5 * 60 * 1000LL, 400 * 24 * 3600 * 1000LL,
                         &o->window.duration_ms);
}

/* The indicator spec (an SLI document's spec) gives the SLI for one objective. */
static void openslo_sli(struct ydoc *d, yaml_node_t *spec, const char *budgeting, struct ydoc *od,
                        yaml_node_t *obj, struct rules_slo *o)
{
    if (ydoc_map(d, spec, "indicator spec", openslo_sli_spec_keys) != 0)
        return;
    yaml_node_t *ratio = ydoc_get(d, spec, "ratioMetric");
    yaml_node_t *thr = ydoc_get(d, spec, "thresholdMetric");
    if ((ratio == NULL) == (thr == NULL)) {
        ydoc_error(d, spec, "the indicator needs exactly one of ratioMetric and thresholdMetric");
        return;
    }
    bool slices = strcmp(budgeting, "Timeslices") == 0;
    bool ratio_slices = strcmp(budgeting, "RatioTimeslices") == 0;
    struct rules_sli *s = &o->sli;
    if (slices || ratio_slices) {
        s->kind = RULES_SLI_TIMESLICE;
        s->slice_ms = 60 * 1000;
        yaml_node_t *w = ydoc_get(od, obj, "timeSliceWindow");
        if (w != NULL)
            (void)build_duration(od, w, "timeSliceWindow", 1000, 24 * 3600 * 1000LL, &s->slice_ms);
    }
    if (thr != NULL) {
        if (!slices) {
            ydoc_error(d, thr, "thresholdMetric needs budgetingMethod: Timeslices");
            return;
        }
        s->query = openslo_query(d, thr, "thresholdMetric", false, false);
        yaml_node_t *op = ydoc_need(od, obj, "op", "objective with thresholdMetric");
        yaml_node_t *val = ydoc_need(od, obj, "value", "objective with thresholdMetric");
        const char *ops = ydoc_scalar(op);
        static const char *const names[] = {"lt", "lte", "gt", "gte", NULL};
        for (size_t i = 0; ops != NULL && names[i] != NULL; i++)
            if (strcmp(ops, names[i]) == 0)
                s->op = (enum rules_op)(RULES_OP_LT + (int)i);
        if (op != NULL && s->op == RULES_OP_NONE)
            ydoc_error(od, op, "op must be one of lt, lte, gt, gte");
        if (val != NULL)
            (void)ydoc_number(od, val, "value", &s->value);
        return;
    }
    if (ydoc_map(d, ratio, "ratioMetric", openslo_ratio_keys) != 0)
        return;
    bool counter = false;
    yaml_node_t *c = ydoc_get(d, ratio, "counter");
    if (c != NULL)
        (void)ydoc_bool(d, c, "counter", &counter);
    yaml_node_t *good = ydoc_get(d, ratio, "good"), *bad = ydoc_get(d, ratio, "bad");
    yaml_node_t *total = ydoc_get(d, ratio, "total"), *raw = ydoc_get(d, ratio, "raw");
    const char *raw_q = NULL, *good_q = NULL, *bad_q = NULL, *total_q = NULL;
    if (raw != NULL) {
        if (good != NULL || bad != NULL || total != NULL) {
            ydoc_error(d, raw, "ratioMetric has raw and good/bad/total: give one or the other");
            return;
        }
        yaml_node_t *rt = ydoc_need(d, ratio, "rawType", "ratioMetric with raw");
        const char *rts = ydoc_scalar(rt);
        if (rt != NULL &&
            (rts == NULL || (strcmp(rts, "success") != 0 && strcmp(rts, "failure") != 0))) {
            ydoc_error(d, rt, "rawType must be success or failure");
            return;
        }
        raw_q = openslo_query(d, raw, "raw", false, true);
        if (raw_q != NULL && rts != NULL && strcmp(rts, "success") == 0)
            raw_q = arena_printf(d->arena, "1 - (%s)", raw_q);
    } else {
        if ((good == NULL) == (bad == NULL)) {
            ydoc_error(d, ratio, "ratioMetric needs exactly one of good and bad, and total");
            return;
        }
        if (good != NULL)
            good_q = openslo_query(d, good, "good", counter, true);
        if (bad != NULL)
            bad_q = openslo_query(d, bad, "bad", counter, true);
        if (ydoc_need(d, ratio, "total", "ratioMetric") != NULL)
            total_q = openslo_query(d, total, "total", counter, true);
    }
    if (slices || ratio_slices) {
        /* Each slice's ratio of good events; Timeslices compares it with timeSliceTarget. */
        if (raw_q != NULL)
            s->query = arena_printf(d->arena, "1 - (%s)", raw_q);
        else if (good_q != NULL && total_q != NULL)
            s->query = arena_printf(d->arena, "(%s) / (%s)", good_q, total_q);
        else if (bad_q != NULL && total_q != NULL)
            s->query = arena_printf(d->arena, "1 - (%s) / (%s)", bad_q, total_q);
        if (slices) {
            s->op = RULES_OP_GTE;
            yaml_node_t *t = ydoc_need(od, obj, "timeSliceTarget", "objective with Timeslices");
            if (t != NULL && ydoc_number(od, t, "timeSliceTarget", &s->value) == 0 &&
                !(s->value > 0 && s->value <= 1))
                ydoc_error(od, t, "timeSliceTarget must be in (0, 1]");
        }
        return;
    }
    if (raw_q != NULL) {
        s->kind = RULES_SLI_RAW;
        s->error_ratio_query = raw_q;
    } else {
        s->kind = RULES_SLI_EVENTS;
        s->good_query = good_q;
        s->bad_query = bad_q;
        s->total_query = total_q;
    }
}

static const struct openslo_sli *openslo_find(const struct openslo_index *index, const char *name)
{
    for (size_t i = 0; i < index->n; i++)
        if (strcmp(index->v[i].name, name) == 0)
            return &index->v[i];
    return NULL;
}

void openslo_read(struct build *b, struct ydoc *d, yaml_node_t *root,
                  const struct openslo_index *index)
{
    if (ydoc_map(d, root, "an OpenSLO document", openslo_doc_keys) != 0)
        return;
    yaml_node_t *kind_n = ydoc_need(d, root, "kind", "OpenSLO document");
    const char *kind = ydoc_scalar(kind_n);
    if (kind == NULL)
        return;
    yaml_node_t *meta = ydoc_need(d, root, "metadata", "OpenSLO document");
    yaml_node_t *spec = ydoc_need(d, root, "spec", "OpenSLO document");
    if (meta == NULL || spec == NULL || ydoc_map(d, meta, "metadata", openslo_meta_keys) != 0)
        return;
    if (strcmp(kind, "SLI") == 0) {
        /* Checked where an SLO uses it; a name is all it needs on its own. */
        yaml_node_t *nn = ydoc_need(d, meta, "name", "metadata");
        const char *name;
        if (nn != NULL)
            (void)build_name(d, nn, "SLI name", &name);
        return;
    }
    if (strcmp(kind, "SLO") != 0)
        return; /* Service, AlertPolicy, DataSource, ...: nothing sloe evaluates. */
    if (ydoc_map(d, spec, "spec", openslo_slo_keys) != 0)
        return;

    yaml_node_t *nn = ydoc_need(d, meta, "name", "metadata");
    const char *name = NULL;
    if (nn != NULL)
        (void)build_name(d, nn, "SLO name", &name);
    struct rules_labels labels;
    openslo_labels(d, ydoc_get(d, meta, "labels"), &labels);
    yaml_node_t *sn = ydoc_need(d, spec, "service", "spec");
    const char *svc_name = NULL;
    if (sn != NULL)
        (void)build_name(d, sn, "service", &svc_name);
    struct rules_labels none = {0, NULL};
    struct rules_service *svc = NULL;
    struct build_service_def def = {svc_name, none, 90, 80, sn, NULL, NULL};
    if (svc_name != NULL)
        svc = build_service(b, d, &def);

    const char *description = "";
    yaml_node_t *v;
    if ((v = ydoc_get(d, spec, "description")) != NULL)
        (void)ydoc_str(d, v, "description", &description);
    const char *budgeting = "Occurrences";
    yaml_node_t *bm = ydoc_get(d, spec, "budgetingMethod");
    if (bm != NULL) {
        budgeting = ydoc_scalar(bm);
        if (budgeting == NULL ||
            (strcmp(budgeting, "Occurrences") != 0 && strcmp(budgeting, "Timeslices") != 0 &&
             strcmp(budgeting, "RatioTimeslices") != 0)) {
            ydoc_error(d, bm,
                       "budgetingMethod must be Occurrences, Timeslices or "
                       "RatioTimeslices");
            budgeting = "Occurrences";
        }
    }

    /* The indicator: inline, or an SLI document named by indicatorRef. */
    struct ydoc *sd = d;
    yaml_node_t *sli_spec = NULL;
    yaml_node_t *ind = ydoc_get(d, spec, "indicator");
    yaml_node_t *ref = ydoc_get(d, spec, "indicatorRef");
    if ((ind == NULL) == (ref == NULL)) {
        ydoc_error(d, spec, "spec needs exactly one of indicator and indicatorRef");
    } else if (ind != NULL) {
        if (ydoc_map(d, ind, "indicator", openslo_indicator_keys) == 0)
            sli_spec = ydoc_need(d, ind, "spec", "indicator");
    } else {
        const char *rn = ydoc_scalar(ref);
        const struct openslo_sli *found = rn ? openslo_find(index, rn) : NULL;
        if (found == NULL) {
            ydoc_error(d, ref,
                       "indicatorRef \"%.100s\" names no kind: SLI document in the "
                       "files given",
                       rn ? rn : "");
        } else {
            sd = found->doc;
            sli_spec = ydoc_get(sd, found->root, "spec");
        }
    }

    yaml_node_t *objs = ydoc_need(d, spec, "objectives", "spec");
    int n_obj = objs != NULL ? ydoc_seq_len(d, objs, "objectives") : -1;
    if (n_obj == 0)
        ydoc_error(d, objs, "objectives is empty: give at least one");
    for (int i = 0; i < n_obj; i++) {
        yaml_node_t *obj = ydoc_item(d, objs, i);
        if (ydoc_map(d, obj, "an objective", openslo_objective_keys) != 0)
            continue;
        double objective = NAN;
        yaml_node_t *t = ydoc_get(d, obj, "target"), *tp = ydoc_get(d, obj, "targetPercent");
        if ((t == NULL) == (tp == NULL)) {
            ydoc_error(d, obj, "an objective needs exactly one of target and targetPercent");
        } else if (t != NULL) {
            double f;
            if (ydoc_number(d, t, "target", &f) == 0) {
                if (!(f > 0 && f < 1))
                    ydoc_error(d, t,
                               "target must be a fraction between 0 and 1 (0.999), or use "
                               "targetPercent");
                else
                    objective = round(f * 1e11) / 1e9;
            }
        } else {
            (void)build_percent(d, tp, "targetPercent", &objective);
        }
        if (svc == NULL || name == NULL)
            continue;
        const char *slo_name = n_obj == 1 ? name : arena_printf(d->arena, "%s-%d", name, i + 1);
        struct rules_slo *o = build_slo(b, d, n_obj == 1 ? root : obj, n_obj == 1 ? nn : obj, svc,
                                        slo_name, RULES_FORMAT_OPENSLO);
        if (o == NULL)
            continue;
        o->objective = o->warning = o->minimum = objective;
        o->description = description;
        o->labels = labels;
        if ((v = ydoc_get(d, spec, "timeWindow")) != NULL)
            openslo_window(d, v, o);
        if (sli_spec != NULL)
            openslo_sli(sd, sli_spec, budgeting, d, obj, o);
    }
}
