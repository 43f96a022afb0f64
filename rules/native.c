#include "native.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tz.h"

static const char *const native_top_keys[] = {"version", "services", "exclusions", NULL};
static const char *const native_global_exclusion_keys[] = {"slos", "start", "end", "reason", NULL};
static const char *const native_service_keys[] = {"name", "labels", "scorecard", "slos", NULL};
static const char *const native_scorecard_keys[] = {"excellent", "pass", NULL};
static const char *const native_slo_keys[] = {
    "name",     "description", "objective",   "warning",       "minimum",    "window",
    "timezone", "sli",         "group_by",    "service_hours", "exclusions", "depends_on",
    "alerting", "scoring",     "sla_credits", "labels",        NULL,
};
static const char *const native_sli_keys[] = {"events", "latency",   "raw",
                                              "uptime", "timeslice", NULL};
static const char *const native_events_keys[] = {"good_query", "bad_query", "total_query", NULL};
static const char *const native_latency_keys[] = {"metric", "selector", "threshold", NULL};
static const char *const native_raw_keys[] = {"error_ratio_query", NULL};
static const char *const native_uptime_keys[] = {"query", NULL};
static const char *const native_timeslice_keys[] = {"query", "op", "value", "slice", NULL};
static const char *const native_hours_keys[] = {"days", "start", "end", NULL};
static const char *const native_exclusion_keys[] = {"start", "end", "reason", NULL};
static const char *const native_alerting_keys[] = {"page",   "ticket",      "name",
                                                   "labels", "annotations", NULL};
static const char *const native_tier_keys[] = {"labels", "annotations", NULL};
static const char *const native_scoring_keys[] = {"weight", "deduct", "per", NULL};
static const char *const native_credit_keys[] = {"below", "credit", NULL};

static const int64_t native_minute_ms = 60 * 1000;
static const int64_t native_day_ms = 24LL * 3600 * 1000;

/* True when every quoted string in s ("...", '...' or `...`) is closed. */
static bool native_quotes_closed(const char *s)
{
    char q = 0;
    for (const char *p = s; *p; p++) {
        if (q != 0 && *p == '\\' && q != '`' && p[1] != '\0')
            p++;
        else if (q != 0 && *p == q)
            q = 0;
        else if (q == 0 && (*p == '"' || *p == '\'' || *p == '`'))
            q = *p;
    }
    return q == 0;
}

static void native_sli(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "sli", native_sli_keys) != 0)
        return;
    /* Unknown keys are reported by ydoc_map; count the known kinds. */
    int kinds = 0, first = -1;
    for (int i = 0; i < ydoc_map_len(n); i++) {
        const char *k = ydoc_scalar(ydoc_key(d, n, i));
        for (size_t j = 0; k != NULL && native_sli_keys[j] != NULL; j++)
            if (strcmp(k, native_sli_keys[j]) == 0) {
                kinds++;
                if (first < 0)
                    first = i;
            }
    }
    if (kinds != 1) {
        ydoc_error(d, n,
                   "sli must hold exactly one kind: events, latency, raw, uptime or timeslice");
        if (kinds == 0)
            return;
    }
    const char *kind = ydoc_scalar(ydoc_key(d, n, first));
    yaml_node_t *v = ydoc_value(d, n, first);
    struct rules_sli *s = &o->sli;
    if (kind == NULL)
        return;
    if (strcmp(kind, "events") == 0) {
        s->kind = RULES_SLI_EVENTS;
        if (ydoc_map(d, v, "sli.events", native_events_keys) != 0)
            return;
        yaml_node_t *good = ydoc_get(d, v, "good_query");
        yaml_node_t *bad = ydoc_get(d, v, "bad_query");
        if ((good == NULL) == (bad == NULL))
            ydoc_error(d, v, "sli.events needs exactly one of good_query and bad_query");
        if (good != NULL)
            (void)build_query(d, good, "good_query", true, &s->good_query);
        if (bad != NULL)
            (void)build_query(d, bad, "bad_query", true, &s->bad_query);
        yaml_node_t *total = ydoc_need(d, v, "total_query", "sli.events");
        if (total != NULL)
            (void)build_query(d, total, "total_query", true, &s->total_query);
    } else if (strcmp(kind, "latency") == 0) {
        s->kind = RULES_SLI_LATENCY;
        if (ydoc_map(d, v, "sli.latency", native_latency_keys) != 0)
            return;
        yaml_node_t *m = ydoc_need(d, v, "metric", "sli.latency");
        if (m != NULL && ydoc_str(d, m, "metric", &s->metric) == 0) {
            size_t len = strlen(s->metric);
            bool ok = len > 0;
            for (size_t i = 0; i < len && ok; i++) {
                char c = s->metric[i];
                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                     (i > 0 && c >= '0' && c <= '9');
            }
            if (!ok)
                ydoc_error(d, m, "metric \"%.100s\" is not a metric name", s->metric);
            else if (len > 7 && strcmp(s->metric + len - 7, "_bucket") == 0)
                ydoc_error(d, m,
                           "metric is the histogram's base name: write \"%.*s\", without "
                           "_bucket",
                           (int)(len - 7), s->metric);
        }
        s->selector = "";
        yaml_node_t *sel = ydoc_get(d, v, "selector");
        if (sel != NULL && ydoc_str(d, sel, "selector", &s->selector) == 0) {
            size_t len = strlen(s->selector);
            if (len > 0 && (s->selector[0] != '{' || s->selector[len - 1] != '}'))
                ydoc_error(d, sel,
                           "selector must be a matcher list in braces, like "
                           "'{job=\"api\"}'");
            else if (!native_quotes_closed(s->selector))
                ydoc_error(d, sel, "selector has a label value whose quote is not closed");
        }
        yaml_node_t *t = ydoc_need(d, v, "threshold", "sli.latency");
        if (t != NULL && ydoc_number(d, t, "threshold", &s->threshold) == 0 && !(s->threshold > 0))
            ydoc_error(d, t,
                       "threshold must be above 0 (the le bucket boundary, in the "
                       "histogram's unit)");
    } else if (strcmp(kind, "raw") == 0) {
        s->kind = RULES_SLI_RAW;
        if (ydoc_map(d, v, "sli.raw", native_raw_keys) != 0)
            return;
        yaml_node_t *q = ydoc_need(d, v, "error_ratio_query", "sli.raw");
        if (q != NULL)
            (void)build_query(d, q, "error_ratio_query", true, &s->error_ratio_query);
    } else if (strcmp(kind, "uptime") == 0) {
        s->kind = RULES_SLI_UPTIME;
        if (ydoc_map(d, v, "sli.uptime", native_uptime_keys) != 0)
            return;
        yaml_node_t *q = ydoc_need(d, v, "query", "sli.uptime");
        if (q != NULL)
            (void)build_query(d, q, "query", false, &s->query);
    } else if (strcmp(kind, "timeslice") == 0) {
        s->kind = RULES_SLI_TIMESLICE;
        if (ydoc_map(d, v, "sli.timeslice", native_timeslice_keys) != 0)
            return;
        yaml_node_t *q = ydoc_need(d, v, "query", "sli.timeslice");
        if (q != NULL)
            (void)build_query(d, q, "query", false, &s->query);
        yaml_node_t *op = ydoc_get(d, v, "op");
        yaml_node_t *val = ydoc_get(d, v, "value");
        if ((op == NULL) != (val == NULL))
            ydoc_error(d, v,
                       "sli.timeslice needs op and value together (or neither, to "
                       "average the slice values)");
        if (op != NULL) {
            const char *ops = ydoc_scalar(op);
            static const char *const names[] = {"lt", "lte", "gt", "gte", NULL};
            size_t i;
            for (i = 0; names[i] != NULL; i++)
                if (ops != NULL && strcmp(ops, names[i]) == 0)
                    break;
            if (names[i] == NULL)
                ydoc_error(d, op, "op must be one of lt, lte, gt, gte");
            else
                s->op = (enum rules_op)(RULES_OP_LT + (int)i);
        }
        if (val != NULL)
            (void)ydoc_number(d, val, "value", &s->value);
        s->slice_ms = native_minute_ms;
        yaml_node_t *sl = ydoc_get(d, v, "slice");
        if (sl != NULL)
            (void)build_duration(d, sl, "slice", 1000, native_day_ms, &s->slice_ms);
    }
}

static void native_window(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    static const char *const cal[] = {"day", "week", "month", "quarter", NULL};
    const char *s = ydoc_scalar(n);
    for (size_t i = 0; s != NULL && cal[i] != NULL; i++) {
        if (strcmp(s, cal[i]) == 0) {
            o->window.kind = RULES_WINDOW_CALENDAR;
            o->window.calendar = (enum rules_calendar)i;
            o->window.duration_ms = 0;
            return;
        }
    }
    if (s != NULL && ydoc_suggest(s, cal) != NULL && (s[0] < '0' || s[0] > '9')) {
        ydoc_error(d, n, "window \"%.60s\" is not a calendar period (did you mean \"%s\"?)", s,
                   ydoc_suggest(s, cal));
        return;
    }
    (void)build_duration(d, n, "window", 5 * native_minute_ms, 400 * native_day_ms,
                         &o->window.duration_ms);
}

int native_parse_days(const char *s, uint8_t *out)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    if (strcasecmp(s, "daily") == 0 || strcasecmp(s, "all") == 0) {
        *out = 0x7f;
        return 0;
    }
    uint8_t mask = 0;
    const char *p = s;
    while (*p != '\0') {
        int from = -1, to = -1;
        for (int pass = 0; pass < 2; pass++) {
            while (*p == ' ')
                p++;
            int found = -1;
            for (int i = 0; i < 7; i++)
                if (strncasecmp(p, days[i], 3) == 0)
                    found = i;
            if (found < 0)
                return -1;
            p += 3;
            while (*p == ' ')
                p++;
            if (pass == 0) {
                from = to = found;
                if (*p != '-')
                    break;
                p++;
            } else {
                to = found;
            }
        }
        if (to < from)
            return -1; /* a range runs forward from Monday: write sat-sun, not sun-sat */
        for (int i = from; i <= to; i++)
            mask |= (uint8_t)(1u << i);
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return -1;
    }
    if (mask == 0)
        return -1;
    *out = mask;
    return 0;
}

/* "HH:MM" to minutes after midnight; "24:00" is allowed. Returns 0, -1 when not HH:MM, -2
 * when out of range. */
static int native_parse_hhmm(const char *s, int *out)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -2;
    *out = h * 60 + m;
    return 0;
}

static void native_hours(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "service_hours", native_hours_keys) != 0)
        return;
    struct rules_service_hours *h = &o->service_hours;
    h->set = true;
    yaml_node_t *days = ydoc_need(d, n, "days", "service_hours");
    if (days != NULL) {
        int len = days->type == YAML_SEQUENCE_NODE ? ydoc_seq_len(d, days, "days") : -1;
        if (len >= 0) {
            for (int i = 0; i < len; i++) {
                yaml_node_t *it = ydoc_item(d, days, i);
                uint8_t m;
                const char *s = ydoc_scalar(it);
                if (s == NULL || native_parse_days(s, &m) != 0)
                    ydoc_error(d, it, "days: \"%.40s\" is not a day (mon, tue, ... sun)",
                               s ? s : "");
                else
                    h->days |= m;
            }
        } else {
            const char *s = ydoc_scalar(days);
            if (s == NULL || native_parse_days(s, &h->days) != 0)
                ydoc_error(d, days,
                           "days \"%.40s\" is not a day list: write mon-fri, mon,wed,fri, "
                           "sat-sun or daily",
                           s ? s : "");
        }
    }
    yaml_node_t *st = ydoc_need(d, n, "start", "service_hours");
    yaml_node_t *en = ydoc_need(d, n, "end", "service_hours");
    const char *ss = ydoc_scalar(st), *es = ydoc_scalar(en);
    bool ok = true;
    yaml_node_t *tn[2] = {st, en};
    const char *ts[2] = {ss, es};
    int *tv[2] = {&h->start_minute, &h->end_minute};
    for (int i = 0; i < 2; i++) {
        if (tn[i] == NULL)
            continue;
        int rc = ts[i] == NULL ? -1 : native_parse_hhmm(ts[i], tv[i]);
        if (rc == -2)
            ydoc_error(d, tn[i], "%s \"%s\" is out of range: a time of day is 00:00 to 24:00",
                       i == 0 ? "start" : "end", ts[i]);
        else if (rc != 0)
            ydoc_error(d, tn[i], "%s must be a time of day \"HH:MM\" (quoted), like \"%s\"",
                       i == 0 ? "start" : "end", i == 0 ? "09:00" : "18:00");
        ok &= rc == 0;
    }
    if (ok && st != NULL && en != NULL && h->end_minute <= h->start_minute)
        ydoc_error(d, en,
                   "end %s is not after start %s: service hours cannot cross midnight (use "
                   "\"24:00\" as the end of the day)",
                   es, ss);
    if (st != NULL && h->start_minute >= 24 * 60)
        ydoc_error(d, st, "start must be before 24:00");
}

int native_parse_time(const char *s, const char *zone, int64_t *out)
{
    int y, mo, da, h = 0, mi = 0, se = 0, used = 0;
    size_t len = strlen(s);
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &da, &used) != 3 || used != 10)
        return -1;
    const char *p = s + used;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        int n = 0;
        if (sscanf(p, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
            return -1;
        p += n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &se, &n) != 1 || n != 2)
                return -1;
            p += 3;
            if (*p == '.') { /* fractions of a second are dropped */
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
    }
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 60 || y < 1970 ||
        y > 9999)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = da;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    if (*p == '\0') {
        int64_t t;
        if (tz_local_to_utc(zone, &tm, &t) != 0)
            return -1;
        struct tm back;
        /* Reject dates that do not exist, such as February 30. */
        if (tz_utc_to_local(zone, t, &back) != 0 || back.tm_mday != da)
            return -1;
        *out = t;
        return 0;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
            return -1;
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p != '\0' || (size_t)(p - s) != len)
        return -1;
    time_t t = timegm(&tm);
    if (tm.tm_mday != da)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

int native_parse_time_utc(const char *s, int64_t *out)
{
    return native_parse_time(s, "UTC", out);
}

static void native_exclusions(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    int len = ydoc_seq_len(d, n, "exclusions");
    if (len < 0)
        return;
    if (len > RULES_MAX_LIST) {
        ydoc_error(d, n, "exclusions has %d entries; the limit is %d", len, RULES_MAX_LIST);
        return;
    }
    struct rules_exclusion *v = arena_alloc(d->arena, (size_t)len * sizeof(*v) + 1);
    size_t k = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_item(d, n, i);
        if (ydoc_map(d, it, "an exclusion", native_exclusion_keys) != 0)
            continue;
        yaml_node_t *st = ydoc_need(d, it, "start", "exclusion");
        yaml_node_t *en = ydoc_need(d, it, "end", "exclusion");
        yaml_node_t *re = ydoc_need(d, it, "reason", "exclusion");
        struct rules_exclusion *e = &v[k];
        bool ok = st != NULL && en != NULL && re != NULL;
        if (re != NULL && ydoc_str(d, re, "reason", &e->reason) != 0)
            ok = false;
        yaml_node_t *tn[2] = {st, en};
        int64_t *tv[2] = {&e->start, &e->end};
        for (int j = 0; j < 2; j++) {
            const char *s = ydoc_scalar(tn[j]);
            if (tn[j] != NULL && (s == NULL || native_parse_time(s, o->timezone, tv[j]) != 0)) {
                ydoc_error(d, tn[j],
                           "%s \"%.60s\" is not a time: write RFC 3339 like "
                           "2026-11-28T02:00:00+08:00, or 2026-11-28T02:00 in the SLO's "
                           "timezone",
                           j == 0 ? "start" : "end", s ? s : "");
                ok = false;
            }
        }
        if (ok && e->end <= e->start) {
            ydoc_error(d, en, "exclusion end is not after its start");
            ok = false;
        }
        if (ok)
            k++;
    }
    o->exclusions = v;
    o->n_exclusions = k;
}

static void native_tier(struct ydoc *d, yaml_node_t *n, const char *what,
                        struct rules_alert_tier *t)
{
    if (n->type == YAML_MAPPING_NODE) {
        if (ydoc_map(d, n, what, native_tier_keys) != 0)
            return;
        t->enabled = true;
        (void)build_labels(d, ydoc_get(d, n, "labels"), "alert labels", true, &t->labels);
        (void)build_labels(d, ydoc_get(d, n, "annotations"), "annotations", false, &t->annotations);
        return;
    }
    (void)ydoc_bool(d, n, what, &t->enabled);
}

static void native_alerting(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "alerting", native_alerting_keys) != 0)
        return;
    struct rules_alerting *a = &o->alerting;
    yaml_node_t *v;
    if ((v = ydoc_get(d, n, "page")) != NULL)
        native_tier(d, v, "alerting.page", &a->page);
    if ((v = ydoc_get(d, n, "ticket")) != NULL)
        native_tier(d, v, "alerting.ticket", &a->ticket);
    if ((v = ydoc_get(d, n, "name")) != NULL)
        (void)build_name(d, v, "alerting.name", &a->name);
    (void)build_labels(d, ydoc_get(d, n, "labels"), "alerting.labels", true, &a->labels);
    (void)build_labels(d, ydoc_get(d, n, "annotations"), "alerting.annotations", false,
                       &a->annotations);
}

static void native_scoring(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    if (ydoc_map(d, n, "scoring", native_scoring_keys) != 0)
        return;
    struct rules_scoring *s = &o->scoring;
    yaml_node_t *v;
    if ((v = ydoc_get(d, n, "weight")) != NULL && ydoc_number(d, v, "weight", &s->weight) == 0 &&
        s->weight < 0)
        ydoc_error(d, v, "weight must be 0 or more");
    if ((v = ydoc_get(d, n, "deduct")) != NULL && ydoc_number(d, v, "deduct", &s->deduct) == 0 &&
        !(s->deduct > 0 && s->deduct <= 100))
        ydoc_error(d, v, "deduct must be above 0 and at most 100 points");
    if ((v = ydoc_get(d, n, "per")) != NULL && ydoc_number(d, v, "per", &s->per) == 0 &&
        !(s->per > 0 && s->per < 100))
        ydoc_error(d, v, "per must be above 0 (percentage points below the objective)");
}

static void native_credits(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    int len = ydoc_seq_len(d, n, "sla_credits");
    if (len < 0)
        return;
    if (len > RULES_MAX_LIST) {
        ydoc_error(d, n, "sla_credits has %d tiers; the limit is %d", len, RULES_MAX_LIST);
        return;
    }
    struct rules_credit *v = arena_alloc(d->arena, (size_t)len * sizeof(*v) + 1);
    size_t k = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_item(d, n, i);
        if (ydoc_map(d, it, "a credit tier", native_credit_keys) != 0)
            continue;
        yaml_node_t *b = ydoc_need(d, it, "below", "credit tier");
        yaml_node_t *c = ydoc_need(d, it, "credit", "credit tier");
        struct rules_credit t;
        if (b == NULL || c == NULL || build_percent(d, b, "below", &t.below) != 0 ||
            ydoc_number(d, c, "credit", &t.credit) != 0)
            continue;
        if (!(t.credit > 0 && t.credit <= 100)) {
            ydoc_error(d, c, "credit must be a percentage of the fee, above 0 and at most 100");
            continue;
        }
        if (k > 0 && !(t.below < v[k - 1].below))
            ydoc_error(d, b,
                       "credit tiers out of order: below %g must be lower than the tier "
                       "before (%g); list tiers from the smallest shortfall to the largest",
                       t.below, v[k - 1].below);
        else if (k > 0 && !(t.credit > v[k - 1].credit))
            ydoc_error(d, c,
                       "credit tiers out of order: credit %g must be higher than the tier "
                       "before (%g)",
                       t.credit, v[k - 1].credit);
        if (t.below > o->objective)
            ydoc_warn(d, b,
                      "credit tier below %g is above the objective %g: credit is owed "
                      "while the objective is met",
                      t.below, o->objective);
        v[k++] = t;
    }
    o->credits = v;
    o->n_credits = k;
}

/* A list of strings, each checked by check (which reports its own errors) when given. */
static size_t native_strings(struct ydoc *d, yaml_node_t *n, const char *what, const char ***out,
                             struct rules_pos **pos)
{
    *out = NULL;
    int len = ydoc_seq_len(d, n, what);
    if (len < 0)
        return 0;
    if (len > RULES_MAX_LIST) {
        ydoc_error(d, n, "%s has %d entries; the limit is %d", what, len, RULES_MAX_LIST);
        return 0;
    }
    const char **v = arena_alloc(d->arena, ((size_t)len + 1) * sizeof(*v));
    struct rules_pos *p = arena_alloc(d->arena, ((size_t)len + 1) * sizeof(*p));
    size_t k = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_item(d, n, i);
        if (ydoc_str(d, it, what, &v[k]) != 0)
            continue;
        for (size_t j = 0; j < k; j++)
            if (strcmp(v[j], v[k]) == 0)
                ydoc_error(d, it, "%s lists \"%.100s\" twice", what, v[k]);
        p[k].file = d->file;
        p[k].line = ydoc_line(it);
        p[k].col = ydoc_col(it);
        k++;
    }
    *out = v;
    if (pos != NULL)
        *pos = p;
    return k;
}

static void native_group_by(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    const char **v;
    struct rules_pos *pos;
    size_t k = native_strings(d, n, "group_by", &v, &pos);
    for (size_t i = 0; i < k; i++) {
        if (!build_label_name_ok(v[i]))
            diag_add(d->diags, DIAG_ERROR, d->file, pos[i].line, pos[i].col,
                     "group_by \"%.100s\" is not a label name", v[i]);
        else if (build_label_reserved(v[i]))
            diag_add(d->diags, DIAG_ERROR, d->file, pos[i].line, pos[i].col,
                     "group_by \"%s\" is a label sloe sets itself; relabel it in the query "
                     "(label_replace) and group by the new name",
                     v[i]);
    }
    o->group_by = v;
    o->n_group_by = k;
}

static void native_depends(struct ydoc *d, yaml_node_t *n, struct rules_slo *o)
{
    const char **v;
    struct rules_pos *pos;
    size_t k = native_strings(d, n, "depends_on", &v, &pos);
    for (size_t i = 0; i < k; i++) {
        const char *slash = strchr(v[i], '/');
        if (slash == NULL || slash == v[i] || slash[1] == '\0' || strchr(slash + 1, '/'))
            diag_add(d->diags, DIAG_ERROR, d->file, pos[i].line, pos[i].col,
                     "depends_on \"%.100s\" must name an SLO as service/slo", v[i]);
    }
    o->depends_on = v;
    o->depends_on_pos = pos;
    o->n_depends_on = k;
}

static void native_slo(struct build *b, struct ydoc *d, yaml_node_t *n, struct rules_service *svc)
{
    if (ydoc_map(d, n, "an SLO", native_slo_keys) != 0)
        return;
    yaml_node_t *name_n = ydoc_need(d, n, "name", "SLO");
    const char *name = NULL;
    if (name_n != NULL)
        (void)build_name(d, name_n, "SLO name", &name);
    struct rules_slo *o = NULL;
    if (svc != NULL && name != NULL)
        o = build_slo(b, d, n, name_n, svc, name, RULES_FORMAT_NATIVE);
    if (o == NULL) {
        /* Still read the fields, to report their problems too. */
        static struct rules_service scratch_svc = {.name = "-"};
        o = arena_alloc(d->arena, sizeof(*o));
        o->service = &scratch_svc;
        o->timezone = "UTC";
    }
    yaml_node_t *v;
    if ((v = ydoc_get(d, n, "description")) != NULL)
        (void)ydoc_str(d, v, "description", &o->description);
    yaml_node_t *obj = ydoc_need(d, n, "objective", "SLO");
    bool lines_ok = obj != NULL && build_percent(d, obj, "objective", &o->objective) == 0;
    o->warning = o->minimum = o->objective;
    yaml_node_t *warn = ydoc_get(d, n, "warning");
    yaml_node_t *min = ydoc_get(d, n, "minimum");
    if (warn != NULL && build_percent(d, warn, "warning", &o->warning) != 0)
        lines_ok = false;
    if (min != NULL) {
        if (build_percent(d, min, "minimum", &o->minimum) != 0)
            lines_ok = false;
    } else {
        o->minimum = o->warning;
    }
    if (lines_ok)
        build_check_lines(d, min != NULL ? min : warn != NULL ? warn : obj, o);
    if ((v = ydoc_get(d, n, "timezone")) != NULL)
        (void)build_timezone(d, v, &o->timezone);
    if ((v = ydoc_get(d, n, "window")) != NULL)
        native_window(d, v, o);
    if ((v = ydoc_need(d, n, "sli", "SLO")) != NULL)
        native_sli(d, v, o);
    if ((v = ydoc_get(d, n, "group_by")) != NULL)
        native_group_by(d, v, o);
    if ((v = ydoc_get(d, n, "service_hours")) != NULL)
        native_hours(d, v, o);
    if ((v = ydoc_get(d, n, "exclusions")) != NULL)
        native_exclusions(d, v, o);
    if ((v = ydoc_get(d, n, "depends_on")) != NULL)
        native_depends(d, v, o);
    if ((v = ydoc_get(d, n, "alerting")) != NULL)
        native_alerting(d, v, o);
    if ((v = ydoc_get(d, n, "scoring")) != NULL)
        native_scoring(d, v, o);
    if ((v = ydoc_get(d, n, "sla_credits")) != NULL)
        native_credits(d, v, o);
    yaml_node_t *labels_n = ydoc_get(d, n, "labels");
    (void)build_labels(d, labels_n, "SLO labels", true, &o->labels);
    build_check_label_clash(d, labels_n, svc, o);
}

static void native_service(struct build *b, struct ydoc *d, yaml_node_t *n)
{
    if (ydoc_map(d, n, "a service", native_service_keys) != 0)
        return;
    yaml_node_t *name_n = ydoc_need(d, n, "name", "service");
    const char *name = NULL;
    if (name_n != NULL)
        (void)build_name(d, name_n, "service name", &name);
    struct rules_labels labels;
    bool ok = build_labels(d, ydoc_get(d, n, "labels"), "service labels", true, &labels) == 0;
    double excellent = 90, pass = 80;
    yaml_node_t *sc = ydoc_get(d, n, "scorecard");
    if (sc != NULL && ydoc_map(d, sc, "scorecard", native_scorecard_keys) == 0) {
        yaml_node_t *e = ydoc_get(d, sc, "excellent"), *p = ydoc_get(d, sc, "pass");
        if (e != NULL && ydoc_number(d, e, "excellent", &excellent) != 0)
            ok = false;
        if (p != NULL && ydoc_number(d, p, "pass", &pass) != 0)
            ok = false;
        if (ok && !(pass >= 0 && pass <= excellent && excellent <= 100))
            ydoc_error(d,
                       p != NULL   ? p
                       : e != NULL ? e
                                   : sc,
                       "scorecard lines must satisfy 0 <= pass <= excellent <= 100 "
                       "(got pass %g, excellent %g)",
                       pass, excellent);
    }
    struct rules_service *svc = NULL;
    struct build_service_def def = {name, labels, excellent, pass, n, ydoc_get(d, n, "labels"), sc};
    if (name != NULL)
        svc = build_service(b, d, &def);
    yaml_node_t *slos = ydoc_need(d, n, "slos", "service");
    if (slos == NULL)
        return;
    int len = ydoc_seq_len(d, slos, "slos");
    if (len == 0)
        ydoc_error(d, slos, "slos is empty: a service needs at least one SLO");
    for (int i = 0; i < len; i++)
        native_slo(b, d, ydoc_item(d, slos, i), svc);
}

/* True when pattern names the SLO: "service/slo", or a star for the service, the SLO or
 * both ("*"). */
static bool native_pattern_matches(const char *pattern, const struct rules_slo *o)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    const char *slash = strchr(pattern, '/');
    if (slash == NULL)
        return false;
    size_t sl = (size_t)(slash - pattern);
    bool svc = (sl == 1 && pattern[0] == '*') ||
               (strlen(o->service->name) == sl && strncmp(o->service->name, pattern, sl) == 0);
    return svc && (strcmp(slash + 1, "*") == 0 || strcmp(slash + 1, o->name) == 0);
}

/* Reads the top-level exclusions of a file; they are applied in native_finish. */
static void native_global_exclusions(struct build *b, struct ydoc *d, yaml_node_t *n)
{
    int len = ydoc_seq_len(d, n, "exclusions");
    if (len > RULES_MAX_LIST) {
        ydoc_error(d, n, "exclusions has %d entries; the limit is %d", len, RULES_MAX_LIST);
        return;
    }
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_item(d, n, i);
        if (ydoc_map(d, it, "an exclusion", native_global_exclusion_keys) != 0)
            continue;
        struct build_exclusion e = {0};
        yaml_node_t *pn = ydoc_need(d, it, "slos", "exclusion");
        yaml_node_t *st = ydoc_need(d, it, "start", "exclusion");
        yaml_node_t *en = ydoc_need(d, it, "end", "exclusion");
        yaml_node_t *re = ydoc_need(d, it, "reason", "exclusion");
        /* A broken entry is kept for its patterns to be checked, and not applied. */
        e.broken = st == NULL || en == NULL || re == NULL ||
                   ydoc_str(d, st, "start", &e.start) != 0 || ydoc_str(d, en, "end", &e.end) != 0 ||
                   ydoc_str(d, re, "reason", &e.reason) != 0;
        if (pn == NULL)
            continue;
        const char **pats;
        struct rules_pos *pos;
        e.n_patterns = native_strings(d, pn, "slos", &pats, &pos);
        bool ok = e.n_patterns > 0;
        if (e.n_patterns == 0 && pn->type == YAML_SEQUENCE_NODE)
            ydoc_error(d, pn, "slos is empty: name the SLOs as service/slo, service/* or *");
        for (size_t k = 0; k < e.n_patterns; k++) {
            const char *p = pats[k], *slash = strchr(p, '/');
            if (strcmp(p, "*") != 0 &&
                (slash == NULL || slash == p || slash[1] == '\0' || strchr(slash + 1, '/'))) {
                diag_add(d->diags, DIAG_ERROR, d->file, pos[k].line, pos[k].col,
                         "slos entry \"%.100s\" must be service/slo, service/* or *", p);
                ok = false;
            }
        }
        if (!ok)
            continue;
        e.patterns = pats;
        e.pattern_pos = pos;
        e.pos = (struct rules_pos){d->file, ydoc_line(it), ydoc_col(it)};
        if (st != NULL)
            e.start_pos = (struct rules_pos){d->file, ydoc_line(st), ydoc_col(st)};
        if (en != NULL)
            e.end_pos = (struct rules_pos){d->file, ydoc_line(en), ydoc_col(en)};
        if (b->n_exclusions == b->cap_exclusions) {
            b->cap_exclusions = b->cap_exclusions ? 2 * b->cap_exclusions : 8;
            b->exclusions = realloc(b->exclusions, b->cap_exclusions * sizeof(*b->exclusions));
            if (b->exclusions == NULL)
                abort();
        }
        b->exclusions[b->n_exclusions++] = e;
    }
}

void native_finish(struct build *b)
{
    struct arena *a = &b->set->arena;
    for (size_t x = 0; x < b->n_exclusions; x++) {
        const struct build_exclusion *e = &b->exclusions[x];
        for (size_t k = 0; k < e->n_patterns; k++) {
            bool any = false;
            for (size_t i = 0; i < b->n_slos && !any; i++)
                any = native_pattern_matches(e->patterns[k], b->slos[i]);
            if (!any)
                diag_add(b->diags, DIAG_ERROR, e->pattern_pos[k].file, e->pattern_pos[k].line,
                         e->pattern_pos[k].col, "slos entry \"%.100s\" matches no loaded SLO",
                         e->patterns[k]);
        }
        bool reported = e->broken;
        for (size_t i = 0; i < b->n_slos && !e->broken; i++) {
            struct rules_slo *o = b->slos[i];
            bool match = false;
            for (size_t k = 0; k < e->n_patterns && !match; k++)
                match = native_pattern_matches(e->patterns[k], o);
            if (!match)
                continue;
            struct rules_exclusion ex = {0, 0, e->reason};
            if (native_parse_time(e->start, o->timezone, &ex.start) != 0 ||
                native_parse_time(e->end, o->timezone, &ex.end) != 0) {
                if (!reported)
                    diag_add(b->diags, DIAG_ERROR, e->start_pos.file, e->start_pos.line,
                             e->start_pos.col,
                             "exclusion times must be RFC 3339 like 2026-11-28T02:00:00+08:00, "
                             "or 2026-11-28T02:00 in each SLO's timezone");
                reported = true;
                continue;
            }
            if (ex.end <= ex.start) {
                if (!reported)
                    diag_add(b->diags, DIAG_ERROR, e->end_pos.file, e->end_pos.line, e->end_pos.col,
                             "exclusion end is not after its start");
                reported = true;
                continue;
            }
            struct rules_exclusion *v = arena_alloc(a, (o->n_exclusions + 1) * sizeof(*v));
            if (o->n_exclusions > 0)
                memcpy(v, o->exclusions, o->n_exclusions * sizeof(*v));
            v[o->n_exclusions] = ex;
            o->exclusions = v;
            o->n_exclusions++;
        }
    }
    free(b->exclusions);
    b->exclusions = NULL;
    b->n_exclusions = b->cap_exclusions = 0;
}

void native_read(struct build *b, struct ydoc *d, yaml_node_t *root)
{
    if (ydoc_map(d, root, "a sloe/v1 file", native_top_keys) != 0)
        return;
    yaml_node_t *globals = ydoc_get(d, root, "exclusions");
    if (globals != NULL)
        native_global_exclusions(b, d, globals);
    yaml_node_t *services = ydoc_get(d, root, "services");
    if (services == NULL) {
        if (globals == NULL)
            ydoc_error(d, root, "missing field \"services\" in sloe/v1 file");
        return;
    }
    int len = ydoc_seq_len(d, services, "services");
    for (int i = 0; i < len; i++) {
        yaml_node_t *it = ydoc_item(d, services, i);
        /* One list naming a service twice is a slip; across documents and files a service
         * may be spread out. */
        yaml_node_t *nn = ydoc_get(d, it, "name");
        const char *name = ydoc_scalar(nn);
        for (int j = 0; name != NULL && j < i && i < RULES_MAX_SLOS; j++) {
            yaml_node_t *other = ydoc_node(d, services->data.sequence.items.start[j]);
            yaml_node_t *on = ydoc_get(d, other, "name");
            if (ydoc_scalar(on) != NULL && strcmp(ydoc_scalar(on), name) == 0) {
                ydoc_error(d, nn,
                           "duplicate service \"%.100s\" in this list (first at line %u): "
                           "put all its SLOs under one entry",
                           name, ydoc_line(on));
                break;
            }
        }
        native_service(b, d, it);
    }
}
