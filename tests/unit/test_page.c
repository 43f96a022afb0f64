/* The status page: escaping of every rule-file string, one state badge per SLO instance,
 * well-formed output with no NaN or Inf, over an evaluation state filled from known
 * histories. Set SLOE_PAGE_OUT=FILE to keep the rendered page (for a screenshot). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "harness.h"
#include "history.h"
#include "page.h"
#include "period.h"
#include "rules.h"

/* 2026-11-20T14:03:00Z */
static const int64_t page_now = 1795183380;

static const char page_rules[] =
    "version: sloe/v1\n"
    "services:\n"
    "  - name: checkout\n"
    "    labels: {team: \"<script>alert(1)</script>\", tier: \"1\"}\n"
    "    scorecard: {excellent: 95, pass: 85}\n"
    "    slos:\n"
    "      - name: availability\n"
    "        description: \"Checkout requests that do not fail <script>alert(1)</script> "
    "&amp; \\\"onmouseover=alert(2) 'x'\"\n"
    "        objective: 99.9\n"
    "        warning: 99.7\n"
    "        minimum: 99.5\n"
    "        window: 30d\n"
    "        sli:\n"
    "          events:\n"
    "            good_query: sum(rate(ok[{{.window}}]))\n"
    "            total_query: sum(rate(all[{{.window}}]))\n"
    "        alerting: {page: true, ticket: true}\n"
    "        scoring: {weight: 40, deduct: 5, per: 0.1}\n"
    "        labels: {owner: \"\\\"onmouseover=alert(3)\"}\n"
    "      - name: latency\n"
    "        description: Pages render in time, per route\n"
    "        objective: 99\n"
    "        warning: 98.5\n"
    "        minimum: 98\n"
    "        window: month\n"
    "        timezone: Asia/Shanghai\n"
    "        sli:\n"
    "          events:\n"
    "            bad_query: sum by (route) (rate(slow[{{.window}}]))\n"
    "            total_query: sum by (route) (rate(all[{{.window}}]))\n"
    "        group_by: [route]\n"
    "        alerting: {page: true, ticket: false}\n"
    "        scoring: {weight: 20, deduct: 10, per: 0.5}\n"
    "  - name: payments\n"
    "    scorecard: {excellent: 90, pass: 60}\n"
    "    slos:\n"
    "      - name: ledger\n"
    "        description: Ledger writes\n"
    "        objective: 99.5\n"
    "        window: week\n"
    "        sli:\n"
    "          events:\n"
    "            good_query: sum(rate(ok[{{.window}}]))\n"
    "            total_query: sum(rate(all[{{.window}}]))\n"
    "      - name: reconcile\n"
    "        objective: 99\n"
    "        window: 28d\n"
    "        sli:\n"
    "          raw: {error_ratio_query: 'job:err:ratio[{{.window}}]'}\n"
    "      - name: uptime\n"
    "        description: The payment gateway answers probes\n"
    "        objective: 99.95\n"
    "        minimum: 99.9\n"
    "        warning: 99.9\n"
    "        window: 7d\n"
    "        sli:\n"
    "          uptime: {query: 'probe_success{job=\"gw\"}'}\n"
    "        alerting: {page: true, ticket: true}\n"
    "        sla_credits: [{below: 99.9, credit: 10}, {below: 99.0, credit: 25}]\n";

static struct rules_set *page_load(void)
{
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (rules_load_buffer("page.yaml", page_rules, strlen(page_rules), &set, &diags) != 0)
        diag_print(&diags, stderr);
    diag_free(&diags);
    return set;
}

static size_t page_slo(const struct rules_set *set, const char *svc, const char *name)
{
    for (size_t i = 0; i < set->n_slos; i++)
        if (strcmp(set->slos[i]->service->name, svc) == 0 && strcmp(set->slos[i]->name, name) == 0)
            return i;
    harness_fail(__FILE__, __LINE__, "no SLO %s/%s", svc, name);
    abort();
}

/* The instance eval_new made for an SLO without group_by. */
static struct eval_instance *page_single(struct eval_state *s, size_t slo_index)
{
    for (size_t i = 0; i < s->n_inst; i++)
        if (s->inst[i]->slo_index == slo_index)
            return s->inst[i];
    abort();
}

/* Adds a group_by instance as the evaluator would on seeing its series (owned by s). */
static struct eval_instance *page_group(struct eval_state *s, size_t slo_index,
                                        const char *const *values)
{
    const struct rules_slo *slo = s->rules->slos[slo_index];
    struct eval_instance *in = calloc(1, sizeof(*in));
    const char **v = calloc(slo->n_group_by + 1, sizeof(*v));
    size_t len = 1;
    for (size_t g = 0; g < slo->n_group_by; g++) {
        v[g] = strdup(values[g]);
        len += strlen(values[g]) + 1;
    }
    char *key = calloc(1, len);
    for (size_t g = 0; g < slo->n_group_by; g++) {
        if (g > 0)
            strcat(key, "\x1f");
        strcat(key, values[g]);
    }
    in->slo = slo;
    in->slo_index = slo_index;
    in->values = v;
    in->key = key;
    in->hist = history_new(period_max_length(slo));
    in->data_ok = true;
    if (s->n_inst == s->cap_inst) {
        s->cap_inst = s->cap_inst ? 2 * s->cap_inst : 8;
        s->inst = realloc(s->inst, s->cap_inst * sizeof(*s->inst));
    }
    s->inst[s->n_inst++] = in;
    return in;
}

/* An error ratio over (from, to] seconds before now. */
struct page_incident {
    int64_t from, to;
    double ratio;
};

/* Writes minute counts from start to now: total per minute, bad = total * ratio, where ratio
 * is base outside the incidents. */
static void page_fill(struct history *h, int64_t start, double total, double base,
                      const struct page_incident *inc, size_t n_inc)
{
    for (int64_t t = start / 60 * 60 + 60; t <= page_now / 60 * 60; t += 60) {
        double ratio = base;
        int64_t ago = page_now - t;
        for (size_t i = 0; i < n_inc; i++)
            if (ago < inc[i].from && ago >= inc[i].to)
                ratio = inc[i].ratio;
        /* A daily swell in traffic, so the counts are not all alike. */
        double tot = total * (1 + 0.3 * sin((double)(t % 86400) / 86400 * 6.283185307));
        history_put(h, 0, t, tot * ratio, tot);
    }
}

/* Builds the state: met, degraded, warning (paging), breach, stale and no-data instances. */
static struct eval_state *page_state_new(struct rules_set *set)
{
    struct eval_state *s = eval_new(set, NULL);
    const int64_t d = 86400, h = 3600;

    /* checkout/availability: met, an incident ten days ago. */
    struct page_incident avail[] = {{10 * d, 10 * d - 2 * h, 0.02}, {3 * h, 2 * h, 0.004}};
    page_fill(page_single(s, page_slo(set, "checkout", "availability"))->hist, page_now - 31 * d,
              1000, 0.0002, avail, 2);

    /* checkout/latency, two routes: degraded, and warning with a fast burn now. */
    size_t lat = page_slo(set, "checkout", "latency");
    const char *r1[] = {"/api/<script>alert(1)</script>"};
    const char *r2[] = {"&amp; \"onmouseover=alert(4) \x01\xff"};
    struct page_incident slow[] = {{15 * d, 14 * d, 0.08}};
    page_fill(page_group(s, lat, r1)->hist, page_now - 32 * d, 300, 0.009, slow, 1);
    struct page_incident burning[] = {{12 * d, 11 * d, 0.2}, {2 * h, 0, 0.3}};
    page_fill(page_group(s, lat, r2)->hist, page_now - 32 * d, 200, 0.006, burning, 2);

    /* payments/uptime: a long outage yesterday, breach. */
    struct page_incident outage[] = {{30 * h, 27 * h, 0.6}, {50 * h, 49 * h, 1}};
    page_fill(page_single(s, page_slo(set, "payments", "uptime"))->hist, page_now - 8 * d, 60, 0,
              outage, 2);

    /* payments/ledger: not burning now; computed, then its queries fail: stale. */
    size_t led = page_slo(set, "payments", "ledger");
    struct page_incident blip[] = {{3 * d, 2 * d, 0.005}};
    page_fill(page_single(s, led)->hist, page_now - 8 * d, 50, 0, blip, 1);

    /* payments/reconcile: its queries never succeed: no data. */
    size_t rec = page_slo(set, "payments", "reconcile");
    s->slos[rec].ok = false;
    snprintf(s->slos[rec].error, sizeof(s->slos[rec].error),
             "bad_data: parse error at char 3: <unexpected> \"x\"");

    eval_compute_all(s, page_now - 120);
    s->slos[led].ok = false;
    snprintf(s->slos[led].error, sizeof(s->slos[led].error), "connection refused <b>boom</b>");
    eval_compute_all(s, page_now);
    return s;
}

/* Renders the page; with keep, also into $SLOE_PAGE_OUT when set. */
static char *page_render(const struct eval_state *s, bool keep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    page_write(s, page_now, "1.2.3-<rc>", f);
    fclose(f);
    const char *path = keep ? getenv("SLOE_PAGE_OUT") : NULL;
    if (path != NULL && path[0] != '\0') {
        FILE *o = fopen(path, "w");
        if (o != NULL) {
            fwrite(buf, 1, len, o);
            fclose(o);
        }
    }
    return buf;
}

static size_t page_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Case-insensitive search. */
static bool page_has_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

/* True when a word of letters equal to nan, inf or infinity (any case) occurs. */
static bool page_has_nonfinite(const char *s)
{
    const char *p = s;
    while (*p) {
        if (!isalpha((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *w = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - w);
        if ((n == 3 && (strncasecmp(w, "nan", 3) == 0 || strncasecmp(w, "inf", 3) == 0)) ||
            (n == 8 && strncasecmp(w, "infinity", 8) == 0)) {
            fprintf(stderr, "    non-finite word at: %.40s\n", w);
            return true;
        }
    }
    return false;
}

static void page_escapes(void)
{
    struct rules_set *set = page_load();
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *s = page_state_new(set);
    char *html = page_render(s, false);
    EXPECT(!page_has_ci(html, "<script"));
    EXPECT(strstr(html, "\"onmouseover") == NULL);
    EXPECT(strstr(html, "'x'") == NULL);
    EXPECT_CONTAINS(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    /* Description, team label, route value and the SVG title of the route's chart. */
    EXPECT(page_count(html, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 4);
    EXPECT_CONTAINS(html, "&amp;amp; &quot;onmouseover=alert(2) &#39;x&#39;");
    EXPECT_CONTAINS(html, "owner=&quot;onmouseover=alert(3)");
    EXPECT_CONTAINS(html, "route=&amp;amp; &quot;onmouseover=alert(4) \xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_CONTAINS(html, "<title>Error budget remaining over the compliance period: "
                          "checkout/latency{route=/api/&lt;script&gt;");
    EXPECT_CONTAINS(html, "connection refused &lt;b&gt;boom&lt;/b&gt;");
    EXPECT_CONTAINS(html, "&lt;unexpected&gt; &quot;x&quot;");
    EXPECT_CONTAINS(html, "version 1.2.3-&lt;rc&gt;");
    EXPECT(strstr(html, "<rc>") == NULL);
    EXPECT(strstr(html, "<b>boom") == NULL);
    free(html);
    eval_free(s);
    rules_set_free(set);
}

static void page_badges(void)
{
    struct rules_set *set = page_load();
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *s = page_state_new(set);
    char *html = page_render(s, true);
    EXPECT_INT(s->n_inst, 6);
    EXPECT_INT(page_count(html, "class=\"badge "), s->n_inst);
    EXPECT_INT(page_count(html, "<span class=\"badge b-met\" title=\"state: Met\">Met</span>"), 1);
    EXPECT_INT(page_count(html, "<span class=\"badge b-degraded\" title=\"state: "
                                "Degraded\">Degraded</span>"),
               1);
    EXPECT_INT(page_count(html, "<span class=\"badge b-warning\" title=\"state: "
                                "Warning\">Warning</span>"),
               1);
    EXPECT_INT(page_count(html, "<span class=\"badge b-breach\" title=\"state: "
                                "Breach\">Breach</span>"),
               1);
    EXPECT_INT(
        page_count(html, "<span class=\"badge b-stale\" title=\"state: Stale\">Stale</span>"), 1);
    EXPECT_INT(page_count(html, "<span class=\"badge b-nodata\" title=\"state: No data\">No "
                                "data</span>"),
               1);
    /* The states the page shows are the evaluator's. */
    for (size_t i = 0; i < s->n_inst; i++) {
        const struct eval_instance *in = s->inst[i];
        if (in->have_result && in->data_ok)
            EXPECT_CONTAINS(html, in->res.state == BUDGET_MET        ? "b-met"
                                  : in->res.state == BUDGET_DEGRADED ? "b-degraded"
                                  : in->res.state == BUDGET_WARNING  ? "b-warning"
                                                                     : "b-breach");
    }
    /* The paging route: its condition holds and is shown; its ticket tier is off. */
    EXPECT_CONTAINS(html, "Page alert: <span>firing</span>");
    EXPECT_CONTAINS(html, "class=\"hot-page\"");
    EXPECT_CONTAINS(html, "Ticket: condition holds (alert off)");
    /* Header: counts, links, version and time. */
    EXPECT_CONTAINS(html, "<b>1</b> met</li>");
    EXPECT_CONTAINS(html, "<b>1</b> breach</li>");
    EXPECT_CONTAINS(html, "<b>1</b> no data</li>");
    EXPECT_CONTAINS(html, "href=\"/metrics\"");
    EXPECT_CONTAINS(html, "href=\"/api/v1/slos\"");
    EXPECT_CONTAINS(html, "2026-11-20 14:03:00 UTC");
    /* Calendar period in the SLO's zone, rolling period, forecast, service grades. */
    EXPECT_CONTAINS(html, "month from 2026-11-01 00:00 Asia/Shanghai to 2026-12-01 00:00");
    EXPECT_CONTAINS(html, "rolling 30d");
    EXPECT_CONTAINS(html, "Exhausted in <b>");
    EXPECT_CONTAINS(html, "not burning");
    EXPECT_CONTAINS(html, "overspent");
    EXPECT_CONTAINS(html, "service score <b>");
    free(html);
    eval_free(s);
    rules_set_free(set);
}

static void page_well_formed(void)
{
    struct rules_set *set = page_load();
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *s = page_state_new(set);
    char *html = page_render(s, false);
    size_t len = strlen(html);
    EXPECT(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    EXPECT(len > 8 && strcmp(html + len - 8, "</html>\n") == 0);
    EXPECT_INT(page_count(html, "<svg"), page_count(html, "</svg>"));
    /* A chart for every instance with results (five), and a compliance scale each. */
    EXPECT_INT(page_count(html, "<svg class=\"chart\""), 5);
    EXPECT_INT(page_count(html, "<svg class=\"scale\""), 5);
    EXPECT_INT(page_count(html, "<polyline class=\"line"), 5);
    EXPECT_INT(page_count(html, "<article"), page_count(html, "</article>"));
    EXPECT_INT(page_count(html, "<article"), s->n_inst);
    EXPECT_INT(page_count(html, "<table"), page_count(html, "</table>"));
    EXPECT_INT(page_count(html, "<section"), page_count(html, "</section>"));
    EXPECT_INT(page_count(html, "<div"), page_count(html, "</div>"));
    EXPECT_INT(page_count(html, "<p>") + page_count(html, "<p "), page_count(html, "</p>"));
    EXPECT_INT(page_count(html, "<style>"), 1);
    EXPECT(!page_has_nonfinite(html));
    EXPECT(!page_has_ci(html, "javascript:"));
    EXPECT(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    EXPECT(strstr(html, "@import") == NULL);
    free(html);
    eval_free(s);
    rules_set_free(set);
}

/* Nothing to show: a grouped SLO without data yet still gives a whole page. */
static void page_empty(void)
{
    static const char text[] = "version: sloe/v1\n"
                               "services:\n"
                               "  - name: web\n"
                               "    slos:\n"
                               "      - name: avail\n"
                               "        objective: 99\n"
                               "        group_by: [route]\n"
                               "        sli: {uptime: {query: up}}\n";
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    int rc = rules_load_buffer("e.yaml", text, strlen(text), &set, &diags);
    diag_free(&diags);
    if (!EXPECT_INT(rc, 0))
        return;
    struct eval_state *s = eval_new(set, NULL);
    eval_compute_all(s, page_now);
    EXPECT_INT(s->n_inst, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    page_write(s, page_now, NULL, f);
    fclose(f);
    EXPECT_CONTAINS(buf, "No SLO to show");
    EXPECT_CONTAINS(buf, "No SLO instance yet");
    EXPECT(len > 8 && strcmp(buf + len - 8, "</html>\n") == 0);
    EXPECT(!page_has_nonfinite(buf));
    free(buf);
    eval_free(s);
    rules_set_free(set);
}

/* eval_compute_all: results from the history alone, as eval_cycle computes them; a group
 * with no event left in its period is dropped. */
static void page_compute_all(void)
{
    struct rules_set *set = page_load();
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *s = eval_new(set, NULL);
    size_t av = page_slo(set, "checkout", "availability");
    struct eval_instance *in = page_single(s, av);
    page_fill(in->hist, page_now - 31 * 86400, 1000, 0.0005, NULL, 0);
    const char *r[] = {"/empty"};
    (void)page_group(s, page_slo(set, "checkout", "latency"), r);
    size_t before = s->n_inst;
    eval_compute_all(s, page_now + 59);
    EXPECT_INT(s->n_inst, before - 1);
    EXPECT(in->have_result && in->data_ok);
    EXPECT_INT(in->last_eval, page_now);
    EXPECT_DBL(in->res.period.sli, 0.9995, 1e-9);
    EXPECT_DBL(in->res.remaining, 0.5, 1e-6);
    EXPECT_INT(in->res.state, BUDGET_MET);
    EXPECT_INT(in->res.period_end - in->res.period_start, 30 * 86400);
    free(page_render(s, false));
    eval_free(s);
    rules_set_free(set);
}

/* Past PAGE_MAX_CARDS (100) instances: 100 cards, every breaching instance among them, the
 * overview still lists every instance, and a note says how many are detailed. */
static void page_many(void)
{
    struct rules_set *set = page_load();
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *s = eval_new(set, NULL);
    size_t lat = page_slo(set, "checkout", "latency");
    size_t breaching = 0;
    for (int i = 0; i < 150; i++) {
        char route[32];
        snprintf(route, sizeof(route), "/r%03d", i);
        const char *v[] = {route};
        bool bad = i % 7 == 3; /* 5 % errors against a 99 % objective: breach */
        breaching += bad;
        page_fill(page_group(s, lat, v)->hist, page_now - 2 * 86400, 100, bad ? 0.05 : 0.001, NULL,
                  0);
    }
    eval_compute_all(s, page_now);
    size_t n = s->n_inst, in_breach = 0;
    for (size_t i = 0; i < n; i++)
        in_breach += s->inst[i]->have_result && s->inst[i]->data_ok &&
                     s->inst[i]->res.state == BUDGET_BREACH;
    EXPECT_INT(in_breach, breaching); /* the other SLOs have no data here */
    char *html = page_render(s, false);
    EXPECT_INT(page_count(html, "<article class=\"slo "), 100);
    EXPECT_INT(page_count(html, "<article class=\"slo s-breach\""), in_breach);
    EXPECT_INT(page_count(html, "<tr><td>"), n);
    char note[128];
    snprintf(note, sizeof(note), "Details below for 100 of the %zu SLOs, those not met first", n);
    EXPECT_CONTAINS(html, note);
    EXPECT_CONTAINS(html, "more SLOs of this service in the overview table");
    EXPECT(!page_has_nonfinite(html));
    free(html);
    eval_free(s);
    rules_set_free(set);
}

const struct harness_test suite_page[] = {
    {"escapes", page_escapes},
    {"badges", page_badges},
    {"well_formed", page_well_formed},
    {"empty", page_empty},
    {"compute_all", page_compute_all},
    {"many", page_many},
    HARNESS_END,
};
