/* The history of interval counts, the period bounds and the error-budget arithmetic. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "eval.h"
#include "harness.h"
#include "history.h"
#include "mask.h"
#include "period.h"
#include "rules.h"

/* Known per-minute counts: total varies by the hour, bad has bursts. */
static double minute_total(int64_t m)
{
    return 100 + (double)((m / 60) % 24) * 10;
}

static double minute_bad(int64_t m)
{
    return m % 97 == 0 ? 7 : (m % 13 == 0 ? 1 : 0);
}

static void exact_sum(int64_t t0, int64_t a, int64_t b, double *bad, double *total)
{
    *bad = *total = 0;
    for (int64_t end = a + 60; end <= b; end += 60) {
        int64_t m = (end - t0) / 60;
        *bad += minute_bad(m);
        *total += minute_total(m);
    }
}

/* Minute by minute for four days (steady state): every window equals the exact sum although
 * the fine tier keeps only six hours, where its start is on the grid of the tier that holds
 * it (5 minutes up to a day, the hour beyond); off the grid it is within the counts of the
 * interval straddling the start, counted pro rata. */
static void steady_state_sums(void)
{
    int64_t t0 = 1790000000 / 3600 * 3600;
    struct history *h = history_new(30LL * 86400);
    int64_t end = t0 + 4 * 86400;
    for (int64_t t = t0 + 60; t <= end; t += 60) {
        int64_t m = (t - t0) / 60;
        history_put(h, 0, t, minute_bad(m), minute_total(m));
    }
    static const int64_t windows[] = {300, 1800, 3600, 7200, 21600, 86400, 3 * 86400};
    for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
        for (int64_t t = end - 1800; t <= end; t += 60) {
            double bad, total, xb, xt;
            history_sum(h, t - windows[w], t, &bad, &total, NULL);
            exact_sum(t0, t - windows[w], t, &xb, &xt);
            int64_t a = t - windows[w];
            int64_t grid = windows[w] <= 6 * 3600 ? 60 : windows[w] <= 86400 ? 300 : 3600;
            double sb = 0, st = 0; /* the straddling interval's counts: the most pro rata moves */
            if (a % grid != 0)
                exact_sum(t0, a - a % grid, a - a % grid + grid, &sb, &st);
            if (!EXPECT_DBL(bad, xb, sb + 1e-6) || !EXPECT_DBL(total, xt, st + 1e-6))
                harness_fail(__FILE__, __LINE__, "window %lld ending %lld", (long long)windows[w],
                             (long long)(t - t0));
        }
    }
    /* The whole history: four days, nothing before it. */
    double bad, total, xb, xt;
    int64_t covered;
    history_sum(h, end - 30 * 86400, end, &bad, &total, &covered);
    exact_sum(t0, t0, end, &xb, &xt);
    EXPECT_DBL(bad, xb, 1e-6);
    EXPECT_DBL(total, xt, 1e-6);
    EXPECT_INT(covered, 4 * 86400);
    history_free(h);
}

/* Start-up fills each tier from its own query; sums agree with the steady-state ones. */
static void startup_fill_matches(void)
{
    int64_t t0 = 1790000000 / 3600 * 3600;
    int64_t now = t0 + 10 * 86400 + 37 * 60; /* not on an hour or five minutes */
    struct history *h = history_new(30LL * 86400);
    for (int64_t t = t0 + 3600; t <= now / 3600 * 3600; t += 3600) {
        double b, tot;
        exact_sum(t0, t - 3600, t, &b, &tot);
        history_put(h, 2, t, b, tot);
    }
    for (int64_t t = now / 300 * 300 - 86400 + 300; t <= now / 300 * 300; t += 300) {
        double b, tot;
        exact_sum(t0, t - 300, t, &b, &tot);
        history_put(h, 1, t, b, tot);
    }
    for (int64_t t = now - 6 * 3600 + 60; t <= now; t += 60) {
        int64_t m = (t - t0) / 60;
        history_put(h, 0, t, minute_bad(m), minute_total(m));
    }
    static const int64_t windows[] = {300, 1800, 3600, 7200, 21600, 86400, 3 * 86400, 7 * 86400};
    for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
        double bad, total, xb, xt;
        int64_t a = now - windows[w];
        /* Windows longer than the middle tier start on an hour boundary of the coarse tier:
         * pro rata at the edge. The exact sums are compared where they are exact. */
        if (windows[w] > 86400)
            a = (a + 3599) / 3600 * 3600;
        else if (windows[w] > 6 * 3600)
            a = (a + 299) / 300 * 300;
        history_sum(h, a, now, &bad, &total, NULL);
        exact_sum(t0, a, now, &xb, &xt);
        if (!EXPECT_DBL(bad, xb, 1e-6) || !EXPECT_DBL(total, xt, 1e-6))
            harness_fail(__FILE__, __LINE__, "window %lld", (long long)windows[w]);
    }
    /* Then the steady state carries on from there for a day. */
    for (int64_t t = now + 60; t <= now + 86400; t += 60) {
        int64_t m = (t - t0) / 60;
        history_put(h, 0, t, minute_bad(m), minute_total(m));
    }
    double bad, total, xb, xt;
    int64_t b = (now + 86400) / 3600 * 3600;
    history_sum(h, b - 3 * 86400, b, &bad, &total, NULL);
    exact_sum(t0, b - 3 * 86400, b, &xb, &xt);
    EXPECT_DBL(bad, xb, 1e-6);
    EXPECT_DBL(total, xt, 1e-6);
    history_free(h);
}

static void edge_pro_rata(void)
{
    struct history *h = history_new(30LL * 86400);
    int64_t t0 = 1790000000 / 3600 * 3600;
    history_put(h, 2, t0 + 3600, 6, 600); /* only hourly data */
    double bad, total;
    history_sum(h, t0 + 2400, t0 + 3600, &bad, &total, NULL); /* the last 20 minutes */
    EXPECT_DBL(bad, 2, 1e-9);
    EXPECT_DBL(total, 200, 1e-9);
    history_free(h);
}

static struct rules_set *one_slo(const char *text)
{
    struct diag_list d = {0};
    struct rules_set *set = NULL;
    if (rules_load_buffer("t.yaml", text, strlen(text), &set, &d) != 0)
        diag_print(&d, stderr);
    diag_free(&d);
    return set;
}

static void calendar_periods(void)
{
    struct rules_set *set = one_slo("version: sloe/v1\n"
                                    "services:\n"
                                    "  - name: s\n"
                                    "    slos:\n"
                                    "      - {name: m, objective: 99, window: month, timezone: "
                                    "Asia/Shanghai, sli: {uptime: {query: up}}}\n"
                                    "      - {name: w, objective: 99, window: week, timezone: "
                                    "America/New_York, sli: {uptime: {query: up}}}\n"
                                    "      - {name: q, objective: 99, window: quarter, sli: "
                                    "{uptime: {query: up}}}\n"
                                    "      - {name: d, objective: 99, window: day, timezone: "
                                    "America/New_York, sli: {uptime: {query: up}}}\n"
                                    "      - {name: r, objective: 99, window: 28d, sli: "
                                    "{uptime: {query: up}}}\n");
    if (!EXPECT(set != NULL))
        return;
    int64_t s, e;
    /* 2026-11-23 12:00 UTC: the Shanghai month began 2026-11-01 00:00 +08:00. */
    int64_t t = 1795435200;
    EXPECT_INT(period_bounds(rules_find(set, "s", "m"), t, &s, &e), 0);
    EXPECT_INT(s, 1793462400);
    EXPECT_INT(e, 1796054400); /* 2026-12-01 00:00 +08:00 */
    /* New York week of Monday 2026-11-02 (after DST ended on Nov 1): Monday 00:00 EST. */
    t = 1793836800; /* 2026-11-05 00:00 UTC */
    EXPECT_INT(period_bounds(rules_find(set, "s", "w"), t, &s, &e), 0);
    EXPECT_INT(s, 1793595600); /* 2026-11-02 00:00 -05:00 */
    EXPECT_INT(e - s, 7 * 86400);
    /* The week that holds the change: Monday 2026-10-26 00:00 EDT to 2026-11-02 00:00 EST is
     * 7 days and 1 hour. */
    EXPECT_INT(period_bounds(rules_find(set, "s", "w"), 1793595600 - 3600, &s, &e), 0);
    EXPECT_INT(s, 1792987200); /* 2026-10-26 00:00 -04:00 */
    EXPECT_INT(e - s, 7 * 86400 + 3600);
    /* Quarter in UTC: Q4 2026 starts 2026-10-01. */
    EXPECT_INT(period_bounds(rules_find(set, "s", "q"), 1795435200, &s, &e), 0);
    EXPECT_INT(s, 1790812800);
    EXPECT_INT(e, 1798761600);
    /* The New York day of 2026-11-01 has 25 hours. */
    EXPECT_INT(period_bounds(rules_find(set, "s", "d"), 1793505600 + 7200, &s, &e), 0);
    EXPECT_INT(e - s, 25 * 3600);
    EXPECT_INT(period_bounds(rules_find(set, "s", "r"), 1795435200, &s, &e), 0);
    EXPECT_INT(e, 1795435200);
    EXPECT_INT(e - s, 28 * 86400);
    rules_set_free(set);
}

static void budget_math(void)
{
    struct rules_set *set =
        one_slo("version: sloe/v1\n"
                "services:\n"
                "  - name: s\n"
                "    scorecard: {excellent: 90, pass: 80}\n"
                "    slos:\n"
                "      - name: a\n"
                "        objective: 99.9\n"
                "        warning: 99.7\n"
                "        minimum: 99.5\n"
                "        sli: {uptime: {query: up}}\n"
                "        scoring: {weight: 40, deduct: 5, per: 0.1}\n"
                "        sla_credits: [{below: 99.9, credit: 10}, {below: 99.0, credit: 25}]\n");
    if (!EXPECT(set != NULL))
        return;
    const struct rules_slo *o = set->slos[0];
    struct budget_window w;
    budget_window(0, 0, 99.9, &w);
    EXPECT_DBL(w.sli, 1, 0);
    EXPECT_DBL(w.burn, 0, 0);
    budget_window(5, 1000, 99.9, &w);
    EXPECT_DBL(w.sli, 0.995, 1e-12);
    EXPECT_DBL(w.burn, 5, 1e-9);
    budget_window(NAN, 1000, 99.9, &w);
    EXPECT_DBL(w.bad, 0, 0);

    struct budget_result r = {0};
    int64_t p = 30 * 86400;
    /* Burns per window 5m 30m 1h 2h 6h 1d 3d: the fast page tier holds (1h and 5m > 14.4). */
    double burns[7] = {15, 1, 14.5, 1, 1, 1, 1};
    for (int i = 0; i < 7; i++)
        budget_window(burns[i] * 0.001 * 1000, 1000, 99.9, &r.windows[i]);
    budget_window(0.6, 1000, 99.9, &r.period); /* 0.06 % errors: 60 % of budget spent */
    budget_finish(o, p, &r);
    EXPECT(r.page);
    EXPECT(!r.ticket);
    EXPECT_DBL(r.remaining, 0.4, 1e-9);
    /* 40 % left at 14.5 times the sustainable rate: 0.4 * 30 d / 14.5. */
    EXPECT_DBL(r.exhaustion_s, 0.4 * (double)p / 14.5, 1e-3);
    EXPECT_INT(r.state, BUDGET_MET);
    EXPECT_DBL(r.score, 100, 0);
    EXPECT_DBL(r.credit, 0, 0);
    /* 5m below the line: no page. */
    r.windows[0].burn = 14.4;
    budget_finish(o, p, &r);
    EXPECT(!r.page);
    /* Slow ticket tier: 3d and 6h above 1. */
    double slow[7] = {0, 0, 0, 0, 1.5, 0.5, 1.2};
    for (int i = 0; i < 7; i++)
        r.windows[i].burn = slow[i];
    budget_finish(o, p, &r);
    EXPECT(!r.page);
    EXPECT(r.ticket);
    /* A 7-day period scales the factors by 7/30: 1h and 5m burns of 4 page (4 > 3.36). */
    double fast[7] = {4, 0, 4, 0, 0, 0, 0};
    for (int i = 0; i < 7; i++)
        r.windows[i].burn = fast[i];
    budget_finish(o, 7 * 86400, &r);
    EXPECT(r.page);
    /* Compliance 99.8: degraded, score 100 - 5 * 0.1 / 0.1 = 95, credit 10 %. */
    budget_window(2, 1000, 99.9, &r.period);
    budget_finish(o, p, &r);
    EXPECT_INT(r.state, BUDGET_DEGRADED);
    EXPECT_DBL(r.score, 95, 1e-6);
    EXPECT_DBL(r.credit, 0.10, 1e-12);
    budget_window(4, 1000, 99.9, &r.period); /* 99.6: warning */
    budget_finish(o, p, &r);
    EXPECT_INT(r.state, BUDGET_WARNING);
    EXPECT_DBL(r.score, 85, 1e-6);
    budget_window(20, 1000, 99.9, &r.period); /* 98.0: breach, 25 % credit, score 0 */
    budget_finish(o, p, &r);
    EXPECT_INT(r.state, BUDGET_BREACH);
    EXPECT_DBL(r.score, 5, 1e-6);
    EXPECT_DBL(r.credit, 0.25, 1e-12);
    EXPECT_DBL(r.remaining, 1 - 20.0, 1e-6);
    EXPECT_DBL(r.exhaustion_s, 0, 0);
    budget_window(1, 1000, 99.9, &r.period); /* exactly 99.9: met */
    budget_finish(o, p, &r);
    EXPECT_INT(r.state, BUDGET_MET);
    EXPECT_INT(budget_grade(o->service, 90), 0);
    EXPECT_INT(budget_grade(o->service, 89.9), 1);
    EXPECT_INT(budget_grade(o->service, 79), 2);
    rules_set_free(set);
}

/* Counted minutes: service hours in the SLO's zone across daylight-saving changes, and
 * exclusions. Expected times were computed with Python's zoneinfo. */
static void masks(void)
{
    struct rules_set *set = one_slo(
        "version: sloe/v1\n"
        "services:\n"
        "  - name: s\n"
        "    slos:\n"
        "      - {name: sh, objective: 99, timezone: Asia/Shanghai, sli: {uptime: {query: up}},\n"
        "         service_hours: {days: mon-fri, start: \"09:00\", end: \"18:00\"}}\n"
        "      - {name: ny, objective: 99, timezone: America/New_York, sli: {uptime: {query: "
        "up}},\n"
        "         service_hours: {days: mon-fri, start: \"09:00\", end: \"18:00\"}}\n"
        "      - {name: ex, objective: 99, sli: {uptime: {query: up}},\n"
        "         exclusions: [{start: \"2026-11-23T01:30:00Z\", end: \"2026-11-23T02:00:00Z\", "
        "reason: planned}]}\n");
    if (!EXPECT(set != NULL))
        return;
    struct mask m;
    mask_init(&m, rules_find(set, "s", "sh"));
    EXPECT(mask_active(rules_find(set, "s", "sh")));
    /* Monday 2026-11-23 09:00 Shanghai = 1795395600; the minute starting then counts, the
     * one before does not; 18:00 (1795428000) starts the first minute that does not. */
    EXPECT(!mask_counts(&m, 1795395600));
    EXPECT(mask_counts(&m, 1795395600 + 60));
    EXPECT(mask_counts(&m, 1795428000));
    EXPECT(!mask_counts(&m, 1795428000 + 60));
    /* Saturday 10:00 does not count. */
    EXPECT(!mask_counts(&m, 1795831200 + 60));
    int counted = 0;
    for (int64_t t = 1795395600 - 86400 * 2 + 60; t <= 1795395600 + 86400 * 5; t += 60)
        counted += mask_counts(&m, t);
    /* Saturday 21st 09:00 .. Saturday 28th 09:00: Monday to Friday, 9 hours each. */
    EXPECT_INT(counted, 5 * 9 * 60);

    mask_init(&m, rules_find(set, "s", "ny"));
    /* Friday 2026-10-30 09:00 EDT = 1793365200; Monday 2026-11-02 09:00 EST = 1793628000. */
    EXPECT(mask_counts(&m, 1793365200 + 60));
    EXPECT(!mask_counts(&m, 1793365200));
    EXPECT(mask_counts(&m, 1793628000 + 60));
    EXPECT(!mask_counts(&m, 1793628000));
    /* Across the spring change: Friday 2026-03-06 09:00 EST, Monday 2026-03-09 09:00 EDT. */
    EXPECT(mask_counts(&m, 1772805600 + 60));
    EXPECT(!mask_counts(&m, 1772805600));
    EXPECT(mask_counts(&m, 1773061200 + 60));
    EXPECT(!mask_counts(&m, 1773061200));

    const struct rules_slo *ex = rules_find(set, "s", "ex");
    mask_init(&m, ex);
    EXPECT(mask_active(ex));
    int64_t from = 1795397400; /* 2026-11-23T01:30:00Z */
    EXPECT(mask_counts(&m, from));
    EXPECT(!mask_counts(&m, from + 60));
    EXPECT(!mask_counts(&m, from + 1800));
    EXPECT(mask_counts(&m, from + 1860));
    rules_set_free(set);
}

/* Shards split SLO instances deterministically: each in exactly one shard, evenly. */
static void shards(void)
{
    struct rules_set *set = one_slo("version: sloe/v1\n"
                                    "services:\n"
                                    "  - name: s\n"
                                    "    slos:\n"
                                    "      - {name: a, objective: 99, group_by: [route], sli: "
                                    "{uptime: {query: up}}}\n");
    if (!EXPECT(set != NULL))
        return;
    struct eval_state *st[3];
    for (unsigned k = 0; k < 3; k++) {
        st[k] = eval_new(set, NULL);
        eval_set_shard(st[k], k, 3);
    }
    int count[3] = {0, 0, 0};
    for (int i = 0; i < 3000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/route/%d", i);
        int owners = 0;
        for (unsigned k = 0; k < 3; k++)
            if (eval_in_shard(st[k], set->slos[0], key)) {
                owners++;
                count[k]++;
            }
        EXPECT_INT(owners, 1);
    }
    for (int k = 0; k < 3; k++)
        EXPECT(count[k] > 850 && count[k] < 1150);
    /* The same answer from a state made afresh (another replica of the shard). */
    struct eval_state *again = eval_new(set, NULL);
    eval_set_shard(again, 1, 3);
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/route/%d", i);
        EXPECT_INT(eval_in_shard(again, set->slos[0], key),
                   eval_in_shard(st[1], set->slos[0], key));
    }
    eval_free(again);
    for (int k = 0; k < 3; k++)
        eval_free(st[k]);
    rules_set_free(set);
}

const struct harness_test suite_history[] = {
    {"steady_state_sums", steady_state_sums},
    {"startup_fill_matches", startup_fill_matches},
    {"edge_pro_rata", edge_pro_rata},
    {"calendar_periods", calendar_periods},
    {"budget_math", budget_math},
    {"masks", masks},
    {"shards", shards},
    HARNESS_END,
};
