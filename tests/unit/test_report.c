/* The compliance report: period names and their bounds in time zones (expected times computed
 * independently with Python's zoneinfo), alert episodes on synthetic minute counts (expected
 * minutes from a brute-force evaluation in Python), worst days, CSV quoting, HTML escaping,
 * and a whole report built from known counts in every format. Set SLOE_REPORT_OUT=FILE to
 * keep the HTML of the last test. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "html.h"
#include "report.h"
#include "rules.h"

/* ---- periods ---- */

static void period_forms(void)
{
    static const struct {
        const char *in;
        enum report_kind kind;
        int year, num, day;
    } good[] = {
        {"2026-10", REPORT_MONTH, 2026, 10, 0},   {"2026-01", REPORT_MONTH, 2026, 1, 0},
        {"2026-Q3", REPORT_QUARTER, 2026, 3, 0},  {"2026-q1", REPORT_QUARTER, 2026, 1, 0},
        {"2026-W44", REPORT_WEEK, 2026, 44, 0},   {"2026-W53", REPORT_WEEK, 2026, 53, 0},
        {"2020-W53", REPORT_WEEK, 2020, 53, 0},   {"2026-w01", REPORT_WEEK, 2026, 1, 0},
        {"2026-10-31", REPORT_DAY, 2026, 10, 31}, {"2024-02-29", REPORT_DAY, 2024, 2, 29},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct report_period p;
        if (!EXPECT_INT(report_period_parse(good[i].in, &p), 0))
            continue;
        EXPECT_INT(p.kind, good[i].kind);
        EXPECT_INT(p.year, good[i].year);
        EXPECT_INT(p.num, good[i].num);
        EXPECT_INT(p.day, good[i].day);
    }
    /* Names round-trip in the canonical form. */
    static const char *const canon[] = {"2026-10", "2026-Q3", "2026-W05", "2026-10-31"};
    for (size_t i = 0; i < 4; i++) {
        struct report_period p;
        char buf[24];
        EXPECT_INT(report_period_parse(canon[i], &p), 0);
        EXPECT_STR(report_period_name(&p, buf, sizeof(buf)), canon[i]);
    }
    static const char *const bad[] = {
        "",           "2026",
        "2026-",      "2026-13",
        "2026-00",    "2026-1",
        "26-10",      "2026/10",
        "2026-10 ",   " 2026-10",
        "2026-Q0",    "2026-Q5",
        "2026-Q12",   "2026-W00",
        "2026-W54",   "2025-W53",
        "2024-W53",   "2026-W5",
        "2026-W444",  "2026-02-29",
        "2026-04-31", "2026-10-32",
        "2026-10-00", "2026-10-3",
        "1969-12",    "2026-10-31T00:00",
        "month",      "2026-M10",
        "abcd-10",    "2026-1a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct report_period p;
        if (report_period_parse(bad[i], &p) == 0)
            harness_fail(__FILE__, __LINE__, "\"%s\" was taken for a period", bad[i]);
    }
    EXPECT_INT(report_iso_weeks(2015), 53);
    EXPECT_INT(report_iso_weeks(2020), 53);
    EXPECT_INT(report_iso_weeks(2024), 52);
    EXPECT_INT(report_iso_weeks(2025), 52);
    EXPECT_INT(report_iso_weeks(2026), 53);
    EXPECT_INT(report_iso_weeks(2032), 53);
}

/* Bounds from Python: int(datetime(y, m, d, tzinfo=ZoneInfo(zone)).timestamp()), ISO weeks
 * from date.fromisocalendar(y, w, 1). */
static void period_bounds_in_zones(void)
{
    static const struct {
        const char *period, *zone;
        long long start, end;
    } cases[] = {
        /* 2026-10-01 .. 2026-11-01, +08:00 */
        {"2026-10", "Asia/Shanghai", 1790784000, 1793462400},
        /* 2026-07-01 .. 2026-10-01, both -04:00 */
        {"2026-Q3", "America/New_York", 1782878400, 1790827200},
        /* 2026-10-01 -04:00 .. 2027-01-01 -05:00: the clocks go back inside */
        {"2026-Q4", "America/New_York", 1790827200, 1798779600},
        /* 2026-11-01 starts on daylight time, the day the clocks go back */
        {"2026-11", "America/New_York", 1793505600, 1796101200},
        {"2026-Q1", "Asia/Shanghai", 1767196800, 1774972800},
        {"2026-12", "UTC", 1796083200, 1798761600},
        /* Monday 2026-10-26 .. 2026-11-02 */
        {"2026-W44", "UTC", 1792972800, 1793577600},
        /* week 53: Monday 2026-12-28 .. 2027-01-04 */
        {"2026-W53", "Asia/Shanghai", 1798387200, 1798992000},
        /* week 1 of 2026 starts in 2025: Monday 2025-12-29 .. 2026-01-05 */
        {"2026-W01", "America/New_York", 1766984400, 1767589200},
        {"2020-W53", "UTC", 1609113600, 1609718400},
        /* a 23-hour day: the clocks go forward */
        {"2026-03-08", "America/New_York", 1772946000, 1773028800},
        {"2024-02-29", "UTC", 1709164800, 1709251200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct report_period p;
        int64_t s = 0, e = 0;
        if (!EXPECT_INT(report_period_parse(cases[i].period, &p), 0))
            continue;
        EXPECT_INT(report_period_bounds(&p, cases[i].zone, &s, &e), 0);
        if (s != cases[i].start || e != cases[i].end)
            harness_fail(__FILE__, __LINE__, "%s in %s: [%lld, %lld), want [%lld, %lld)",
                         cases[i].period, cases[i].zone, (long long)s, (long long)e, cases[i].start,
                         cases[i].end);
    }
    /* The periods before. */
    static const char *const prev[][2] = {
        {"2026-01", "2025-12"},       {"2026-10", "2026-09"},       {"2026-Q1", "2025-Q4"},
        {"2026-Q3", "2026-Q2"},       {"2026-W01", "2025-W52"},     {"2027-W01", "2026-W53"},
        {"2026-W44", "2026-W43"},     {"2026-03-01", "2026-02-28"}, {"2024-03-01", "2024-02-29"},
        {"2026-01-01", "2025-12-31"},
    };
    for (size_t i = 0; i < sizeof(prev) / sizeof(prev[0]); i++) {
        struct report_period p, q;
        char buf[24];
        EXPECT_INT(report_period_parse(prev[i][0], &p), 0);
        report_period_prev(&p, &q);
        EXPECT_STR(report_period_name(&q, buf, sizeof(buf)), prev[i][1]);
    }
    enum report_format f;
    EXPECT_INT(report_format_parse("markdown", &f), 0);
    EXPECT_INT(f, REPORT_MARKDOWN);
    EXPECT_INT(report_format_parse("json", &f), 0);
    EXPECT_INT(f, REPORT_JSON);
    EXPECT_INT(report_format_parse("pdf", &f), -1);
    EXPECT_INT(report_format_parse("", &f), -1);
}

/* ---- episodes ---- */

static const char episode_rules[] = "version: sloe/v1\n"
                                    "services:\n"
                                    "  - name: s\n"
                                    "    slos:\n"
                                    "      - name: a\n"
                                    "        objective: 99.9\n"
                                    "        window: 30d\n"
                                    "        sli:\n"
                                    "          events:\n"
                                    "            bad_query: sum(rate(e[{{.window}}]))\n"
                                    "            total_query: sum(rate(t[{{.window}}]))\n";

static struct rules_set *load(const char *text)
{
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (rules_load_buffer("report.yaml", text, strlen(text), &set, &diags) != 0)
        diag_print(&diags, stderr);
    diag_free(&diags);
    return set;
}

enum { EP_N = 2000 };
static const int64_t ep_t0 = 1790784000;

static void expect_episode(const struct report_episode *e, int sev, int64_t start_min,
                           int64_t end_min, int64_t held_min, bool open)
{
    EXPECT_INT(e->severity, sev);
    EXPECT_INT((e->start - ep_t0) / 60, start_min);
    EXPECT_INT((e->end - ep_t0) / 60, end_min);
    EXPECT_INT(e->held / 60, held_min);
    EXPECT_INT(e->open, open);
}

/* 100 events a minute; a 10-minute burst of 50 % errors at minutes 1000..1009 (objective
 * 99.9 %, 30-day window: page when the 1h and 5m burn rates pass 14.4, or the 6h and 30m ones
 * pass 6). The page condition first holds at minute 1001 (the 1h error ratio reaches
 * 100/6000) and last at 1038 (the 30m window still holds minute 1009), so the episode runs
 * 1001 to 1039, 38 minutes. */
static void episodes_burst(void)
{
    struct rules_set *set = load(episode_rules);
    if (!EXPECT(set != NULL))
        return;
    const struct rules_slo *slo = set->slos[0];
    static double bad[EP_N], total[EP_N];
    for (size_t k = 0; k < EP_N; k++) {
        total[k] = 100;
        bad[k] = k >= 1000 && k < 1010 ? 50 : 0;
    }
    struct report_episode *ep = NULL;
    size_t n = report_episodes(slo, ep_t0, EP_N, bad, total, ep_t0 + 6000, ep_t0 + 60 * 1999, &ep);
    if (EXPECT_INT(n, 2)) {
        expect_episode(&ep[0], REPORT_PAGE, 1001, 1039, 38, false);
        expect_episode(&ep[1], REPORT_TICKET, 1002, 1369, 367, false);
        EXPECT_DBL(ep[0].peak, 500.0 / 6000 / 0.001, 1e-6); /* 500 bad of 6000 in 1h */
    }
    free(ep);

    /* A second burst 6 minutes after the page condition stopped: the same episode. */
    for (size_t k = 1045; k < 1050; k++)
        bad[k] = 50;
    n = report_episodes(slo, ep_t0, EP_N, bad, total, ep_t0 + 6000, ep_t0 + 60 * 1999, &ep);
    if (EXPECT_INT(n, 2)) {
        expect_episode(&ep[0], REPORT_PAGE, 1001, 1079, 72, false);
        expect_episode(&ep[1], REPORT_TICKET, 1002, 1409, 407, false);
    }
    free(ep);

    /* Two bursts far apart: two page episodes, the tickets in between. */
    for (size_t k = 1045; k < 1050; k++)
        bad[k] = 0;
    for (size_t k = 1500; k < 1510; k++)
        bad[k] = 50;
    n = report_episodes(slo, ep_t0, EP_N, bad, total, ep_t0 + 6000, ep_t0 + 60 * 1999, &ep);
    if (EXPECT_INT(n, 4)) {
        expect_episode(&ep[0], REPORT_PAGE, 1001, 1039, 38, false);
        expect_episode(&ep[1], REPORT_TICKET, 1002, 1369, 367, false);
        expect_episode(&ep[2], REPORT_TICKET, 1500, 1869, 369, false);
        expect_episode(&ep[3], REPORT_PAGE, 1501, 1539, 38, false);
    }
    free(ep);

    /* Measured only up to minute 1020: both still open. */
    n = report_episodes(slo, ep_t0, EP_N, bad, total, ep_t0 + 6000, ep_t0 + 60 * 1020, &ep);
    if (EXPECT_INT(n, 2)) {
        expect_episode(&ep[0], REPORT_PAGE, 1001, 1020, 20, true);
        expect_episode(&ep[1], REPORT_TICKET, 1002, 1020, 19, true);
    }
    free(ep);

    /* No events at all, or no errors: nothing. */
    for (size_t k = 0; k < EP_N; k++)
        bad[k] = 0;
    EXPECT_INT(report_episodes(slo, ep_t0, EP_N, bad, total, ep_t0, ep_t0 + 60 * 1999, &ep), 0);
    EXPECT(ep == NULL);
    EXPECT_INT(report_episodes(slo, ep_t0, 0, NULL, NULL, ep_t0, ep_t0 + 600, &ep), 0);
    rules_set_free(set);
}

/* ---- worst days ---- */

static void worst_days(void)
{
    struct report_day d[8] = {0};
    double bad[8] = {5, 0, 1, 5, 3, 0, 2, 5};
    double total[8] = {1000, 0, 1000, 1000, 100, 500, 1000, 500};
    for (int i = 0; i < 8; i++) {
        d[i].start = i * 86400;
        d[i].end = (i + 1) * 86400;
        d[i].bad = bad[i];
        d[i].total = total[i];
    }
    /* Compliance: 99.5, -, 99.9, 99.5, 97, 100, 99.8, 99; day 1 has no events, day 5 no bad
     * event. Lowest: day 4, day 7, then days 0 and 3 tie (the earlier first). */
    size_t idx[3];
    EXPECT_INT(report_worst_days(d, 8, 3, idx), 3);
    EXPECT_INT(idx[0], 4);
    EXPECT_INT(idx[1], 7);
    EXPECT_INT(idx[2], 0);
    size_t all[8];
    EXPECT_INT(report_worst_days(d, 8, 8, all), 6);
    EXPECT_INT(all[3], 3);
    EXPECT_INT(all[4], 6);
    EXPECT_INT(all[5], 2);
    EXPECT_INT(report_worst_days(d, 2, 3, idx), 1);
    EXPECT_INT(idx[0], 0);
    EXPECT_INT(report_worst_days(d + 5, 1, 3, idx), 0);
}

/* ---- escaping ---- */

static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, s);
    fclose(f);
    return buf;
}

static void csv_quoting(void)
{
    static const char *const cases[][2] = {
        {"plain", "plain"},       {"", ""},
        {"a,b", "\"a,b\""},       {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},       {"line\nbreak", "\"line\nbreak\""},
        {"cr\rlf", "\"cr\rlf\""}, {" lead", "\" lead\""},
        {"trail ", "\"trail \""}, {"route=/a", "route=/a"},
        {"ünïcode", "ünïcode"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = capture(report_csv_field, cases[i][0]);
        EXPECT_STR(got, cases[i][1]);
        free(got);
    }
}

static void html_escaping(void)
{
    static const char *const cases[][2] = {
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"a & b \"c\"", "a &amp; b &quot;c&quot;"},
        {"&amp;", "&amp;amp;"},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
        {"bad \xff byte", "bad \xef\xbf\xbd byte"},
        {"ctl\x01\x7f", "ctl\xef\xbf\xbd\xef\xbf\xbd"},
        {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
        {"tab\tnl\n", "tab\tnl\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = capture(html_esc, cases[i][0]);
        EXPECT_STR(got, cases[i][1]);
        free(got);
    }
    char *none = capture(html_esc, NULL);
    EXPECT_STR(none, "");
    free(none);
}

/* ---- a whole report ---- */

static const char whole_rules[] =
    "version: sloe/v1\n"
    "services:\n"
    "  - name: shop\n"
    "    labels: {team: \"<b>ops</b>\"}\n"
    "    scorecard: {excellent: 95, pass: 90}\n"
    "    slos:\n"
    "      - name: avail\n"
    "        description: \"Requests <script>alert(1)</script> & \\\"quoted\\\", a | pipe\"\n"
    "        objective: 99\n"
    "        window: month\n"
    "        group_by: [route]\n"
    "        sli:\n"
    "          events:\n"
    "            bad_query: sum by (route) (rate(e[{{.window}}]))\n"
    "            total_query: sum by (route) (rate(t[{{.window}}]))\n"
    "        scoring: {weight: 2, deduct: 10, per: 0.1}\n"
    "        sla_credits: [{below: 99, credit: 10}]\n"
    "      - name: sh\n"
    "        objective: 99.5\n"
    "        window: month\n"
    "        timezone: Asia/Shanghai\n"
    "        sli:\n"
    "          events:\n"
    "            bad_query: sum(rate(e[{{.window}}]))\n"
    "            total_query: sum(rate(t[{{.window}}]))\n";

/* Counts of one group for the day 2026-10-31 UTC: 100 events a minute; in the day, bad_first
 * per minute over its first 600 minutes and bad_rest after; before it, 2 % bad. Hours are the
 * minutes summed. */
struct whole_counts {
    double mb[4 * 1440], mt[4 * 1440];
    double hb[72], ht[72];
};

static void whole_fill(struct whole_counts *c, const struct report_slo_period *sp, double bad_first,
                       double bad_rest, struct report_counts *out)
{
    int64_t min_t0 = sp->start - 3 * 86400 + 60;
    for (size_t k = 0; k < 4 * 1440; k++) {
        c->mt[k] = 100;
        if (k >= 3 * 1440)
            c->mb[k] = k < 3 * 1440 + 600 ? bad_first : bad_rest;
        else
            c->mb[k] = 2;
    }
    int64_t hour_t0 = sp->prev_start[1] + 3600;
    memset(c->hb, 0, sizeof(c->hb));
    memset(c->ht, 0, sizeof(c->ht));
    for (size_t h = 0; h < 72; h++) {
        int64_t e = hour_t0 + 3600 * (int64_t)h;
        for (size_t k = 0; k < 4 * 1440; k++) {
            int64_t t = min_t0 + 60 * (int64_t)k;
            if (t > e - 3600 && t <= e) {
                c->hb[h] += c->mb[k];
                c->ht[h] += c->mt[k];
            }
        }
    }
    *out = (struct report_counts){min_t0, 4 * 1440, c->mb, c->mt, hour_t0, 72, c->hb, c->ht};
}

static char *render(const struct report *r, enum report_format f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    EXPECT_INT(report_write(r, f, "1.2.3<x>", m), 0);
    fclose(m);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void whole_report(void)
{
    struct rules_set *set = load(whole_rules);
    if (!EXPECT(set != NULL))
        return;
    struct report_period p;
    EXPECT_INT(report_period_parse("2026-10-31", &p), 0);
    /* Generated long after the day. */
    struct report *r = report_new(set, &p, 1795183380, 1795183380);
    size_t avail = set->slos[0]->name[0] == 'a' ? 0 : 1;
    const struct report_slo_period *sp = report_slo_period(r, avail);
    if (!EXPECT(sp != NULL))
        return;
    EXPECT_INT(sp->start, 1793404800); /* 2026-10-31T00:00Z */
    EXPECT_INT(sp->end, 1793491200);
    EXPECT_INT(sp->n_days, 1);
    static struct whole_counts ca, cb;
    struct report_counts c;
    const char *va[] = {"/a,\"b\""}, *vb[] = {"/b"};
    whole_fill(&ca, sp, 2, 0, &c);
    EXPECT_INT(report_add(r, avail, va, &c), 1);
    whole_fill(&cb, sp, 2, 2, &c); /* 2 % all day */
    EXPECT_INT(report_add(r, avail, vb, &c), 1);
    /* A group without events in the day is left out. */
    struct report_counts none = {0};
    const char *vc[] = {"/c"};
    EXPECT_INT(report_add(r, avail, vc, &none), 0);
    report_finish(r);

    if (!EXPECT_INT(r->n_inst, 3))
        return;
    const struct report_inst *a = r->inst[0], *b = r->inst[1], *s = r->inst[2];
    EXPECT_STR(a->values[0], "/a,\"b\"");
    EXPECT_STR(b->values[0], "/b");
    EXPECT_STR(s->slo->name, "sh");
    /* /a: 1,200 bad of 144,000: 99.1667 %, met, 83.3 % of the budget. */
    EXPECT_DBL(a->total, 144000, 1e-9);
    EXPECT_DBL(a->bad, 1200, 1e-9);
    EXPECT_DBL(a->compliance, 1 - 1200.0 / 144000, 1e-12);
    EXPECT_INT(a->state, BUDGET_MET);
    EXPECT_DBL(a->spent, 1200.0 / 144000 / 0.01, 1e-9);
    EXPECT_DBL(a->score, 100, 1e-9);
    EXPECT_DBL(a->credit, 0, 1e-12);
    EXPECT_DBL(a->prev[0].compliance, 0.98, 1e-12);
    EXPECT_STR(a->prev[0].name, "2026-10-30");
    EXPECT_STR(a->prev[1].name, "2026-10-29");
    EXPECT(!a->plan_due);
    EXPECT_INT(a->n_days, 1);
    EXPECT_STR(a->days[0].date, "2026-10-31");
    EXPECT_INT(a->n_worst, 1);
    /* /b: 2 % bad all along: breach, score 0, credit 10 %, and a plan is due. */
    EXPECT_DBL(b->compliance, 0.98, 1e-12);
    EXPECT_INT(b->state, BUDGET_BREACH);
    EXPECT_DBL(b->score, 0, 1e-12);
    EXPECT_DBL(b->credit, 0.10, 1e-12);
    EXPECT_DBL(b->spent, 2, 1e-9);
    EXPECT(b->plan_due);
    /* 2 % errors from three days before: the ticket condition holds all day and is still
     * open at its end (3d and 6h burn rates 2 > 31/30), and no page (2 < 6 * 31/30). */
    EXPECT_INT(b->n_episodes, 1);
    if (b->n_episodes == 1) {
        EXPECT_INT(b->episodes[0].severity, REPORT_TICKET);
        EXPECT(b->episodes[0].open);
        EXPECT_INT(b->episodes[0].start, 1793404800 + 60);
        EXPECT_INT(b->episodes[0].end, 1793491200);
    }
    /* The burn-down ends at what is left. */
    EXPECT_DBL(b->points[b->n_points - 1].remaining, -1, 1e-9);
    EXPECT_INT(b->points[b->n_points - 1].t, 1793491200);
    /* sh: no counts, so no events; its day is local to Shanghai. */
    EXPECT_DBL(s->total, 0, 0);
    EXPECT_DBL(s->compliance, 1, 0);
    EXPECT_INT(s->start, 1793376000); /* 2026-10-31T00:00+08:00 */
    /* Service: avail's weight 2 shared by its two groups, sh weighs 1: (100 + 0 + 100) / 3. */
    EXPECT_INT(r->n_svcs, 1);
    EXPECT(r->svcs[0].scored);
    EXPECT_DBL(r->svcs[0].score, 200.0 / 3, 1e-9);
    EXPECT_INT(r->svcs[0].grade, 2);

    char *html = render(r, REPORT_HTML);
    EXPECT_CONTAINS(html, "<!DOCTYPE html>");
    EXPECT_CONTAINS(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;");
    EXPECT_CONTAINS(html, "team=&lt;b&gt;ops&lt;/b&gt;");
    EXPECT_CONTAINS(html, "route=/a,&quot;b&quot;");
    EXPECT_CONTAINS(html, "1.2.3&lt;x&gt;");
    EXPECT_CONTAINS(html, "@media print");
    EXPECT_CONTAINS(html, "size:A4");
    EXPECT_CONTAINS(html, "break-before:page");
    EXPECT_CONTAINS(html, "Improvement plan due");
    EXPECT(strstr(html, "<script") == NULL);
    EXPECT(strstr(html, "<b>ops") == NULL);
    EXPECT(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    EXPECT(strstr(html, "nan") == NULL && strstr(html, "inf\"") == NULL);
    EXPECT_INT(count(html, "<svg"), count(html, "</svg>"));
    EXPECT_INT(count(html, "<article"), 3);
    EXPECT_INT(count(html, "<section class=\"service\""), 1);
    const char *keep = getenv("SLOE_REPORT_OUT");
    if (keep != NULL) {
        FILE *f = fopen(keep, "w");
        if (f != NULL) {
            fputs(html, f);
            fclose(f);
        }
    }
    free(html);

    char *csv = render(r, REPORT_CSV);
    EXPECT(strncmp(csv, "service,slo,labels,", 19) == 0);
    EXPECT_INT(count(csv, "\r\n"), 4);
    EXPECT_CONTAINS(csv, "shop,avail,\"route=/a,\"\"b\"\"\",events,UTC,2026-10-31,");
    EXPECT_CONTAINS(csv, ",breach,2,141120,2880,144000,0,0.1,");
    free(csv);

    char *md = render(r, REPORT_MARKDOWN);
    EXPECT_CONTAINS(md, "# SLO report 2026-10-31");
    EXPECT_CONTAINS(md, "\\<script\\>");
    EXPECT_CONTAINS(md, "a \\| pipe");
    EXPECT_CONTAINS(md, "**Improvement plan due**");
    EXPECT(strstr(md, "<script>") == NULL);
    free(md);

    char *js = render(r, REPORT_JSON);
    json_error_t jerr;
    json_t *doc = json_loads(js, 0, &jerr);
    if (EXPECT(doc != NULL)) {
        EXPECT_STR(json_string_value(json_object_get(json_object_get(doc, "period"), "name")),
                   "2026-10-31");
        json_t *svc = json_array_get(json_object_get(doc, "services"), 0);
        EXPECT_DBL(json_real_value(json_object_get(svc, "score")), 200.0 / 3, 1e-9);
        EXPECT_STR(json_string_value(json_object_get(svc, "grade")), "fail");
        json_t *slo = json_array_get(json_object_get(svc, "slos"), 1);
        EXPECT_STR(json_string_value(json_object_get(json_object_get(slo, "labels"), "route")),
                   "/b");
        EXPECT(json_is_true(json_object_get(slo, "improvement_plan_due")));
        EXPECT_DBL(json_real_value(json_object_get(slo, "compliance")), 0.98, 1e-12);
        EXPECT_DBL(json_real_value(json_object_get(json_object_get(slo, "events"), "bad")), 2880,
                   1e-9);
        EXPECT_INT(json_array_size(json_object_get(slo, "alert_episodes")), 1);
        EXPECT_INT(json_array_size(json_object_get(slo, "worst_days")), 1);
        json_decref(doc);
    }
    free(js);
    report_free(r);
    rules_set_free(set);
}

/* A failed SLO is listed, with its error, in every format. */
static void failed_slo(void)
{
    struct rules_set *set = load(episode_rules);
    if (!EXPECT(set != NULL))
        return;
    struct report_period p;
    EXPECT_INT(report_period_parse("2026-Q3", &p), 0);
    struct report *r = report_new(set, &p, 1795183380, 1795183380);
    report_fail(r, 0, "connection refused <here>");
    report_finish(r);
    EXPECT_INT(r->failed, 1);
    EXPECT_INT(r->n_inst, 1);
    EXPECT(!r->svcs[0].scored);
    char *html = render(r, REPORT_HTML);
    EXPECT_CONTAINS(html, "connection refused &lt;here&gt;");
    EXPECT_CONTAINS(html, "Failed");
    free(html);
    char *csv = render(r, REPORT_CSV);
    EXPECT_CONTAINS(csv, ",failed,");
    EXPECT_CONTAINS(csv, "connection refused <here>");
    free(csv);
    char *js = render(r, REPORT_JSON);
    EXPECT_CONTAINS(js, "\"data_ok\": false");
    EXPECT_CONTAINS(js, "\"error\": \"connection refused <here>\"");
    free(js);
    char *md = render(r, REPORT_MARKDOWN);
    EXPECT_CONTAINS(md, "**failed**");
    free(md);
    report_free(r);
    rules_set_free(set);
}

const struct harness_test suite_report[] = {
    {"period_forms", period_forms},
    {"period_bounds", period_bounds_in_zones},
    {"episodes_burst", episodes_burst},
    {"worst_days", worst_days},
    {"csv_quoting", csv_quoting},
    {"html_escaping", html_escaping},
    {"whole_report", whole_report},
    {"failed_slo", failed_slo},
    HARNESS_END,
};
