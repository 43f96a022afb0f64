/* The rule model: what a loaded file holds, defaults, the three formats, and the caps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "harness.h"
#include "rules.h"

/* Loads text as one file; returns the set or NULL, with the diagnostics printed into *msgs. */
static struct rules_set *load(const char *text, char **msgs)
{
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    int rc = rules_load_buffer("t.yaml", text, strlen(text), &set, &diags);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    diag_print(&diags, f);
    fclose(f);
    diag_free(&diags);
    if (msgs != NULL)
        *msgs = buf;
    else
        free(buf);
    if (rc != 0 && set != NULL)
        harness_fail(__FILE__, __LINE__, "failed load returned a set");
    return set;
}

static const char full_native[] =
    "version: sloe/v1\n"
    "services:\n"
    "  - name: checkout\n"
    "    labels: {team: payments, tier: \"1\"}\n"
    "    scorecard: {excellent: 95, pass: 85}\n"
    "    slos:\n"
    "      - name: availability\n"
    "        description: Checkout API requests that do not fail\n"
    "        objective: 99.9\n"
    "        warning: 99.7\n"
    "        minimum: 99.5\n"
    "        window: month\n"
    "        timezone: Asia/Shanghai\n"
    "        sli:\n"
    "          events:\n"
    "            good_query: sum(rate(ok[{{.window}}]))\n"
    "            total_query: sum(rate(all[{{.window}}]))\n"
    "        group_by: [route, region]\n"
    "        service_hours: {days: mon-fri, start: \"09:00\", end: \"18:00\"}\n"
    "        exclusions:\n"
    "          - {start: \"2026-11-28T02:00:00+08:00\", end: \"2026-11-28T04:00\", reason: "
    "planned maintenance}\n"
    "        depends_on: [payments-db/availability]\n"
    "        alerting:\n"
    "          page: {labels: {pager: primary}}\n"
    "          ticket: false\n"
    "          labels: {channel: ops}\n"
    "          annotations: {runbook_url: \"https://runbooks.example/checkout\"}\n"
    "        scoring: {weight: 40, deduct: 5, per: 0.1}\n"
    "        sla_credits: [{below: 99.9, credit: 10}, {below: 99.0, credit: 25}]\n"
    "        labels: {owner: alice}\n"
    "  - name: payments-db\n"
    "    slos:\n"
    "      - name: availability\n"
    "        objective: 99.99\n"
    "        sli:\n"
    "          uptime: {query: 'up{job=\"db\"}'}\n";

static void native_full(void)
{
    char *msgs;
    struct rules_set *set = load(full_native, &msgs);
    if (!EXPECT(set != NULL)) {
        fprintf(stderr, "%s", msgs);
        free(msgs);
        return;
    }
    EXPECT_STR(msgs, "");
    free(msgs);
    EXPECT_INT(set->n_services, 2);
    EXPECT_INT(set->n_slos, 2);
    const struct rules_slo *o = rules_find(set, "checkout", "availability");
    if (!EXPECT(o != NULL))
        return;
    const struct rules_service *s = o->service;
    EXPECT_STR(s->name, "checkout");
    EXPECT_INT(s->labels.n, 2);
    EXPECT_STR(s->labels.v[0].name, "team");
    EXPECT_STR(s->labels.v[1].value, "1");
    EXPECT_DBL(s->excellent, 95, 0);
    EXPECT_DBL(s->pass, 85, 0);
    EXPECT_STR(o->description, "Checkout API requests that do not fail");
    EXPECT_DBL(o->objective, 99.9, 0);
    EXPECT_DBL(o->warning, 99.7, 0);
    EXPECT_DBL(o->minimum, 99.5, 0);
    EXPECT_INT(o->window.kind, RULES_WINDOW_CALENDAR);
    EXPECT_INT(o->window.calendar, RULES_CAL_MONTH);
    EXPECT_STR(o->timezone, "Asia/Shanghai");
    EXPECT_INT(o->sli.kind, RULES_SLI_EVENTS);
    EXPECT_STR(o->sli.good_query, "sum(rate(ok[{{.window}}]))");
    EXPECT(o->sli.bad_query == NULL);
    EXPECT_STR(o->sli.total_query, "sum(rate(all[{{.window}}]))");
    EXPECT_INT(o->n_group_by, 2);
    EXPECT_STR(o->group_by[1], "region");
    EXPECT(o->service_hours.set);
    EXPECT_INT(o->service_hours.days, 0x1f);
    EXPECT_INT(o->service_hours.start_minute, 9 * 60);
    EXPECT_INT(o->service_hours.end_minute, 18 * 60);
    EXPECT_INT(o->n_exclusions, 1);
    /* 02:00 and 04:00 on 2026-11-28 in Shanghai: 2026-11-27 18:00 and 20:00 UTC. */
    EXPECT_INT(o->exclusions[0].start, 1795802400);
    EXPECT_INT(o->exclusions[0].end, 1795802400 + 7200);
    EXPECT_STR(o->exclusions[0].reason, "planned maintenance");
    EXPECT_INT(o->n_depends_on, 1);
    EXPECT_STR(o->depends_on[0], "payments-db/availability");
    EXPECT(o->alerting.page.enabled);
    EXPECT_STR(o->alerting.page.labels.v[0].value, "primary");
    EXPECT(!o->alerting.ticket.enabled);
    EXPECT_STR(o->alerting.labels.v[0].name, "channel");
    EXPECT_STR(o->alerting.annotations.v[0].value, "https://runbooks.example/checkout");
    EXPECT_DBL(o->scoring.weight, 40, 0);
    EXPECT_DBL(o->scoring.deduct, 5, 0);
    EXPECT_DBL(o->scoring.per, 0.1, 0);
    EXPECT_INT(o->n_credits, 2);
    EXPECT_DBL(o->credits[1].below, 99.0, 0);
    EXPECT_DBL(o->credits[1].credit, 25, 0);
    EXPECT_STR(o->labels.v[0].name, "owner");
    EXPECT_INT(o->pos.line, 7);
    EXPECT_INT(o->pos.col, 9);
    rules_set_free(set);
}

static void native_defaults(void)
{
    struct rules_set *set = load("version: sloe/v1\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    slos:\n"
                                 "      - name: up\n"
                                 "        objective: 99.5\n"
                                 "        sli: {uptime: {query: up}}\n",
                                 NULL);
    if (!EXPECT(set != NULL))
        return;
    const struct rules_slo *o = set->slos[0];
    EXPECT_DBL(o->warning, 99.5, 0);
    EXPECT_DBL(o->minimum, 99.5, 0);
    EXPECT_INT(o->window.kind, RULES_WINDOW_ROLLING);
    EXPECT_INT(o->window.duration_ms, 30LL * 86400 * 1000);
    EXPECT_STR(o->timezone, "UTC");
    EXPECT(o->alerting.page.enabled);
    EXPECT(o->alerting.ticket.enabled);
    EXPECT_DBL(o->scoring.weight, 1, 0);
    EXPECT_DBL(o->scoring.deduct, 5, 0);
    EXPECT_DBL(o->scoring.per, 0.1, 0);
    EXPECT_DBL(o->service->excellent, 90, 0);
    EXPECT_DBL(o->service->pass, 80, 0);
    EXPECT(!o->service_hours.set);
    EXPECT_STR(o->description, "");
    /* Only a warning line: the minimum follows it. */
    rules_set_free(set);
    set = load("version: sloe/v1\nservices:\n  - name: api\n    slos:\n      - name: up\n"
               "        objective: 99.5\n        warning: 99\n        sli: {uptime: {query: up}}\n",
               NULL);
    if (EXPECT(set != NULL))
        EXPECT_DBL(set->slos[0]->minimum, 99, 0);
    rules_set_free(set);
}

static void sli_kinds(void)
{
    struct rules_set *set = load(
        "version: sloe/v1\n"
        "services:\n"
        "  - name: api\n"
        "    slos:\n"
        "      - name: lat\n"
        "        objective: 99\n"
        "        sli: {latency: {metric: http_request_duration_seconds, selector: '{job=\"a\"}', "
        "threshold: 0.3}}\n"
        "      - name: raw\n"
        "        objective: 99\n"
        "        sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}]))'}}\n"
        "      - name: slices\n"
        "        objective: 99\n"
        "        sli: {timeslice: {query: 'p99', op: lte, value: 0.3, slice: 5m}}\n"
        "      - name: ratio-slices\n"
        "        objective: 99\n"
        "        sli: {timeslice: {query: 'ratio'}}\n"
        "      - name: bad\n"
        "        objective: 99\n"
        "        sli: {events: {bad_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}}\n",
        NULL);
    if (!EXPECT(set != NULL))
        return;
    const struct rules_slo *o = rules_find(set, "api", "lat");
    EXPECT_INT(o->sli.kind, RULES_SLI_LATENCY);
    EXPECT_STR(o->sli.metric, "http_request_duration_seconds");
    EXPECT_STR(o->sli.selector, "{job=\"a\"}");
    EXPECT_DBL(o->sli.threshold, 0.3, 0);
    o = rules_find(set, "api", "raw");
    EXPECT_INT(o->sli.kind, RULES_SLI_RAW);
    EXPECT_STR(o->sli.error_ratio_query, "sum(rate(e[{{.window}}]))");
    o = rules_find(set, "api", "slices");
    EXPECT_INT(o->sli.kind, RULES_SLI_TIMESLICE);
    EXPECT_INT(o->sli.op, RULES_OP_LTE);
    EXPECT_DBL(o->sli.value, 0.3, 0);
    EXPECT_INT(o->sli.slice_ms, 300000);
    o = rules_find(set, "api", "ratio-slices");
    EXPECT_INT(o->sli.op, RULES_OP_NONE);
    EXPECT_INT(o->sli.slice_ms, 60000);
    o = rules_find(set, "api", "bad");
    EXPECT_STR(o->sli.bad_query, "e[{{.window}}]");
    EXPECT(o->sli.good_query == NULL);
    rules_set_free(set);
}

static void every_problem_in_one_run(void)
{
    char *msgs;
    struct rules_set *set = load("version: sloe/v1\n"
                                 "services:\n"
                                 "  - name: api\n"
                                 "    slos:\n"
                                 "      - name: a\n"
                                 "        objective: 100\n"
                                 "        sli: {uptime: {query: up}}\n"
                                 "      - name: b\n"
                                 "        objectiv: 99\n"
                                 "        sli: {uptime: {query: up}}\n"
                                 "        window: 30x\n",
                                 &msgs);
    EXPECT(set == NULL);
    EXPECT_CONTAINS(msgs, "t.yaml:6:20: objective must be a percentage between 0 and 100");
    EXPECT_CONTAINS(msgs, "t.yaml:8:9: missing field \"objective\"");
    EXPECT_CONTAINS(msgs, "t.yaml:9:9: unknown field \"objectiv\" in an SLO (did you mean "
                          "\"objective\"?)");
    EXPECT_CONTAINS(msgs, "t.yaml:11:17: window \"30x\" is not a duration");
    free(msgs);
}

/* The same SLO in three files of different formats is the same model. */
static void three_formats_one_model(void)
{
    const char *const files[] = {"tests/rules/same/native.yaml", "tests/rules/same/sloth.yaml",
                                 "tests/rules/same/openslo.yaml"};
    char *dumps[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        struct diag_list diags = {0};
        struct rules_set *set = NULL;
        if (!EXPECT_INT(rules_load_files(&files[i], 1, &set, &diags), 0)) {
            diag_print(&diags, stderr);
        } else {
            dumps[i] = rules_dump(set);
            EXPECT_INT(set->n_slos, 1);
        }
        diag_free(&diags);
        rules_set_free(set);
    }
    EXPECT_CONTAINS(dumps[0],
                    "bad: sum(increase(http_requests_total{job=\"checkout\",code=~\"5..\"}"
                    "[{{.window}}]))");
    EXPECT_STR(dumps[1], dumps[0]);
    EXPECT_STR(dumps[2], dumps[0]);
    for (int i = 0; i < 3; i++)
        free(dumps[i]);
}

static void aliases_are_capped(void)
{
    /* Each level repeats the one before ten times: 10^7 SLO entries if expanded. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "version: sloe/v1\nx0: &l0 {name: s, objective: 99, sli: {uptime: {query: up}}}\n");
    for (int i = 1; i <= 7; i++) {
        fprintf(f, "x%d: &l%d [", i, i);
        for (int j = 0; j < 10; j++)
            fprintf(f, "%s*l%d", j ? ", " : "", i - 1);
        fprintf(f, "]\n");
    }
    fprintf(f, "services: [{name: a, slos: *l7}]\n");
    fclose(f);
    char *msgs;
    struct rules_set *set = load(text, &msgs);
    EXPECT(set == NULL);
    /* Refused: either the entries are too many or they are the wrong shape; never expanded. */
    EXPECT(strstr(msgs, "x0") != NULL || strstr(msgs, "too complex") != NULL ||
           strstr(msgs, "must be") != NULL);
    free(msgs);
    free(text);
}

static void alias_bomb_of_slos(void)
{
    /* 1,000 services that each alias one list of 1,000 aliases of one SLO: a million SLOs if
     * followed, from a file of a few kilobytes. Refused after a bounded amount of work. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fprintf(f, "version: sloe/v1\nslo: &o {name: s, objective: 99, sli: {uptime: {query: up}}}\n"
               "list: &l [*o");
    for (int i = 1; i < 1000; i++)
        fprintf(f, ", *o");
    fprintf(f, "]\nservices:\n");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "  - {name: s%d, slos: *l}\n", i);
    fclose(f);
    char *msgs;
    struct rules_set *set = load(text, &msgs);
    EXPECT(set == NULL);
    EXPECT_CONTAINS(msgs, "document too complex");
    free(msgs);
    free(text);
}

static void deep_nesting(void)
{
    size_t depth = 100000;
    char *text = malloc(2 * depth + 64);
    size_t n = (size_t)sprintf(text, "version: sloe/v1\nservices: ");
    memset(text + n, '[', depth);
    memset(text + n + depth, ']', depth);
    text[n + 2 * depth] = '\0';
    char *msgs;
    struct rules_set *set = load(text, &msgs);
    EXPECT(set == NULL);
    EXPECT_CONTAINS(msgs, "t.yaml:2:");
    EXPECT_CONTAINS(msgs, "nesting deeper than 64 levels");
    free(msgs);
    free(text);
}

static void huge_binary_and_non_utf8(void)
{
    size_t big = RULES_MAX_FILE_BYTES + 1;
    char *text = malloc(big + 1);
    memset(text, '#', big);
    text[big] = '\0';
    char *msgs;
    EXPECT(load(text, &msgs) == NULL);
    EXPECT_CONTAINS(msgs, "limited to 4194304 bytes");
    free(msgs);
    free(text);

    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    static const char bin[] = "version: sloe/v1\n\0\x01\x02";
    EXPECT_INT(rules_load_buffer("b.yaml", bin, sizeof(bin), &set, &diags), -1);
    EXPECT_INT(diags.errors, 1);
    EXPECT_CONTAINS(diags.v[0].msg, "binary file");
    diag_free(&diags);

    EXPECT(load("version: sloe/v1\nservices: \xff\xfe\n", &msgs) == NULL);
    EXPECT_CONTAINS(msgs, "not a text file in UTF-8");
    free(msgs);
}

static void service_across_documents(void)
{
    char *msgs;
    struct rules_set *set =
        load("version: sloe/v1\n"
             "services:\n"
             "  - name: api\n"
             "    labels: {team: a}\n"
             "    slos: [{name: x, objective: 99, sli: {uptime: {query: up}}}]\n"
             "---\n"
             "version: sloe/v1\n"
             "services:\n"
             "  - name: api\n"
             "    labels: {team: a}\n"
             "    slos: [{name: y, objective: 99, sli: {uptime: {query: up}}}]\n",
             &msgs);
    if (EXPECT(set != NULL)) {
        EXPECT_INT(set->n_services, 1);
        EXPECT_INT(set->services[0]->n_slos, 2);
    }
    rules_set_free(set);
    free(msgs);
}

static void depends_on_support_warning(void)
{
    char *msgs;
    struct rules_set *set =
        load("version: sloe/v1\n"
             "services:\n"
             "  - name: shop\n"
             "    slos:\n"
             "      - name: checkout\n"
             "        objective: 99.9\n"
             "        sli: {uptime: {query: up}}\n"
             "        depends_on: [db/up, pay/up]\n"
             "  - name: db\n"
             "    slos: [{name: up, objective: 99.95, sli: {uptime: {query: up}}}]\n"
             "  - name: pay\n"
             "    slos: [{name: up, objective: 99.9, sli: {uptime: {query: up}}}]\n",
             &msgs);
    /* 0.9995 * 0.999 = 0.9985005: below 99.9, so a warning, and the set still loads. */
    EXPECT(set != NULL);
    EXPECT_CONTAINS(msgs, "t.yaml:8:22: warning: the SLOs shop/checkout depends on cannot support "
                          "its objective 99.9%: together they promise at most 99.85005%");
    rules_set_free(set);
    free(msgs);
}

/* Exclusions in a file of their own apply to the SLOs their patterns name, each read in the
 * SLO's zone. */
static void exclusions_file(void)
{
    const char *const files[] = {"tests/rules/sets/maintenance/slos.yaml",
                                 "tests/rules/sets/maintenance/maintenance.yaml"};
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (!EXPECT_INT(rules_load_files(files, 2, &set, &diags), 0)) {
        diag_print(&diags, stderr);
        diag_free(&diags);
        return;
    }
    diag_free(&diags);
    const struct rules_slo *a = rules_find(set, "checkout", "availability");
    const struct rules_slo *l = rules_find(set, "checkout", "latency");
    const struct rules_slo *s = rules_find(set, "search", "availability");
    EXPECT_INT(a->n_exclusions, 2);
    EXPECT_INT(l->n_exclusions, 2);
    EXPECT_INT(s->n_exclusions, 1);
    /* 02:00 in Shanghai is 18:00 UTC the day before; in UTC it is 02:00. */
    EXPECT_INT(a->exclusions[0].start, 1795802400);
    EXPECT_INT(a->exclusions[0].end, 1795802400 + 7200);
    EXPECT_STR(a->exclusions[0].reason, "database upgrade (CHG-1234)");
    EXPECT_INT(l->exclusions[0].start, 1795831200);
    EXPECT_INT(s->exclusions[0].start, 1796083200);
    EXPECT_INT(s->exclusions[0].end, 1796083200 + 1800);
    rules_set_free(set);
}

/* DIAG_MAX distinct problems and then some: each is kept once (the duplicate check's probing
 * table once cycled forever when a run of its slots filled up), and the rest are counted. */
static void many_problems(void)
{
    struct diag_list l = {0};
    for (unsigned i = 0; i < DIAG_MAX; i++) {
        diag_add(&l, DIAG_ERROR, "big.yaml", i + 1, 1, "problem %u", i);
        if (l.n < DIAG_MAX) /* a repeat below the cap: dropped */
            diag_add(&l, DIAG_ERROR, "big.yaml", i + 1, 1, "problem %u", i);
    }
    EXPECT_INT(l.n, DIAG_MAX);
    EXPECT_INT(l.errors, DIAG_MAX);
    for (unsigned i = 0; i < 50; i++) /* past the cap: counted, not kept */
        diag_add(&l, DIAG_ERROR, "big.yaml", DIAG_MAX + i + 1, 1, "problem %u", DIAG_MAX + i);
    EXPECT_INT(l.n, DIAG_MAX);
    EXPECT_INT(l.errors, DIAG_MAX + 50);
    diag_free(&l);
}

const struct harness_test suite_rules[] = {
    {"many_problems", many_problems},
    {"exclusions_file", exclusions_file},
    {"native_full", native_full},
    {"native_defaults", native_defaults},
    {"sli_kinds", sli_kinds},
    {"every_problem_in_one_run", every_problem_in_one_run},
    {"three_formats_one_model", three_formats_one_model},
    {"aliases_are_capped", aliases_are_capped},
    {"alias_bomb_of_slos", alias_bomb_of_slos},
    {"deep_nesting", deep_nesting},
    {"huge_binary_and_non_utf8", huge_binary_and_non_utf8},
    {"service_across_documents", service_across_documents},
    {"depends_on_support_warning", depends_on_support_warning},
    HARNESS_END,
};
