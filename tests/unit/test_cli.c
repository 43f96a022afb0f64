/* The sloe command line, run as a user runs it: exit codes, messages, summary lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int run(const char *a1, const char *a2, const char *a3, char **out, char **err)
{
    char *argv[] = {(char *)harness_sloe(), (char *)a1, (char *)a2, (char *)a3, NULL};
    return harness_run(argv, out, err);
}

static void version_and_help(void)
{
    char *out, *err;
    EXPECT_INT(run("--version", NULL, NULL, &out, &err), 0);
    EXPECT_CONTAINS(out, "sloe version ");
    free(out);
    free(err);
    EXPECT_INT(run("--help", NULL, NULL, &out, &err), 0);
    EXPECT_CONTAINS(out, "usage: sloe COMMAND");
    EXPECT_CONTAINS(out, "check FILE|DIR...");
    free(out);
    free(err);
    EXPECT_INT(run("check", "--help", NULL, &out, &err), 0);
    EXPECT_CONTAINS(out, "usage: sloe check FILE|DIR...");
    EXPECT_CONTAINS(out, "0 valid, 1 invalid, 2 usage");
    free(out);
    free(err);
}

static void usage_errors(void)
{
    char *out, *err;
    EXPECT_INT(run(NULL, NULL, NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "usage: sloe COMMAND");
    free(out);
    free(err);
    EXPECT_INT(run("frobnicate", NULL, NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "unknown command \"frobnicate\"");
    free(out);
    free(err);
    EXPECT_INT(run("check", NULL, NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "no rule files given");
    free(out);
    free(err);
    EXPECT_INT(run("check", "--strict", "x.yaml", &out, &err), 2);
    EXPECT_CONTAINS(err, "unknown flag --strict");
    free(out);
    free(err);
    EXPECT_INT(run("report", NULL, NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "say which period: --period=P");
    free(out);
    free(err);
    EXPECT_INT(run("report", "--period=2026-13", NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "--period=2026-13 is not a period: give a month (2026-10), a quarter");
    free(out);
    free(err);
    EXPECT_INT(run("report", "--period=2026-10", "--format=pdf", &out, &err), 2);
    EXPECT_CONTAINS(err, "--format must be markdown, html, csv or json, not pdf");
    free(out);
    free(err);
    EXPECT_INT(run("generate", NULL, NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "say what to generate: sloe generate alerts");
    free(out);
    free(err);
    EXPECT_INT(run("generate", "alerts", "--rules=/nonexistent.yaml", &out, &err), 2);
    EXPECT_CONTAINS(err, "/nonexistent.yaml: cannot open");
    free(out);
    free(err);
    EXPECT_INT(run("serve", "--evaluation-interval=soon", NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "--evaluation-interval=soon must be a duration");
    free(out);
    free(err);
    EXPECT_INT(run("eval", "--web.listen-address=:1", NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "unknown flag or argument --web.listen-address=:1");
    free(out);
    free(err);
    EXPECT_INT(run("eval", "--rules=/nonexistent/*.yaml", NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "/nonexistent/*.yaml: pattern matches no file");
    free(out);
    free(err);
    EXPECT_INT(run("eval", "--time=yesterday", NULL, &out, &err), 2);
    EXPECT_CONTAINS(err, "--time=yesterday is not a time");
    free(out);
    free(err);
}

static void check_valid(void)
{
    char *out, *err;
    EXPECT_INT(run("check", "rules/examples/", NULL, &out, &err), 0);
    EXPECT_STR(err, "");
    /* One line: "N files, M SLOs: OK". */
    unsigned files = 0, slos = 0;
    EXPECT_INT(sscanf(out, "%u files, %u SLOs: OK\n", &files, &slos), 2);
    EXPECT(files >= 8);
    EXPECT(slos >= files);
    EXPECT_INT(strchr(out, '\n') - out + 1, (long long)strlen(out));
    free(out);
    free(err);
    EXPECT_INT(run("check", "tests/rules/same/native.yaml", NULL, &out, &err), 0);
    EXPECT_STR(out, "1 file, 1 SLO: OK\n");
    free(out);
    free(err);
    /* A quoted glob is expanded by sloe itself. */
    EXPECT_INT(run("check", "tests/rules/same/*.yaml", NULL, &out, &err), 1);
    EXPECT_CONTAINS(err, "duplicate SLO \"checkout/availability\"");
    free(out);
    free(err);
}

static void check_invalid(void)
{
    char path[] = "/tmp/sloe-cli-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    static const char text[] = "version: sloe/v1\n"
                               "services:\n"
                               "  - name: api\n"
                               "    slos:\n"
                               "      - name: a\n"
                               "        objective: 99.9\n"
                               "        warning: 99.95\n"
                               "        timezone: Moon/Base\n"
                               "        sli: {uptime: {query: up}}\n";
    EXPECT_INT(write(fd, text, sizeof(text) - 1), (long long)sizeof(text) - 1);
    close(fd);
    char *out, *err;
    EXPECT_INT(run("check", path, NULL, &out, &err), 1);
    EXPECT_STR(out, "");
    char want[512];
    snprintf(want, sizeof(want), "%s:7:18: warning 99.95 is above the objective 99.9", path);
    EXPECT_CONTAINS(err, want);
    snprintf(want, sizeof(want), "%s:8:19: unknown time zone \"Moon/Base\"", path);
    EXPECT_CONTAINS(err, want);
    EXPECT_CONTAINS(err, "sloe check: 2 errors\n");
    free(out);
    free(err);
    unlink(path);
    EXPECT_INT(run("check", "/nonexistent/rules.yaml", NULL, &out, &err), 1);
    EXPECT_CONTAINS(err, "/nonexistent/rules.yaml: cannot open: No such file or directory");
    free(out);
    free(err);
}

const struct harness_test suite_cli[] = {
    {"version_and_help", version_and_help},
    {"usage_errors", usage_errors},
    {"check_valid", check_valid},
    {"check_invalid", check_invalid},
    HARNESS_END,
};

/* The man pages render without warnings and stay true to the code: every command of the help
 * text is in sloe(1), every field of the native format in sloe-rules(5). */
static void man_pages(void)
{
    static const char *const pages[] = {"exporter/sloe.1", "rules/sloe-rules.5"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {(char *)"/usr/bin/groff",
                        (char *)"-mdoc",
                        (char *)"-ww",
                        (char *)"-z",
                        (char *)pages[i],
                        NULL};
        char *out, *err;
        EXPECT_INT(harness_run(argv, &out, &err), 0);
        EXPECT_STR(err, "");
        free(out);
        free(err);
    }
    char *man1 = harness_read_file("exporter/sloe.1", NULL);
    char *man5 = harness_read_file("rules/sloe-rules.5", NULL);
    if (!EXPECT(man1 != NULL && man5 != NULL))
        return;
    EXPECT_CONTAINS(man1, ".Cm check");
    EXPECT_CONTAINS(man1, ".Cm eval");
    EXPECT_CONTAINS(man1, ".Cm serve");
    static const char *const serve_flags[] = {"web.listen-address", "web.config.file",
                                              "evaluation-interval"};
    char *sout, *serr;
    char *sargv[] = {(char *)harness_sloe(), (char *)"serve", (char *)"--help", NULL};
    EXPECT_INT(harness_run(sargv, &sout, &serr), 0);
    for (size_t i = 0; i < sizeof(serve_flags) / sizeof(serve_flags[0]); i++) {
        char want[80];
        snprintf(want, sizeof(want), "--%s=", serve_flags[i]);
        EXPECT_CONTAINS(sout, want);
        snprintf(want, sizeof(want), "Fl \\-%s Ns", serve_flags[i]);
        EXPECT_CONTAINS(man1, want);
    }
    free(sout);
    free(serr);
    static const char *const flags[] = {"time",
                                        "format",
                                        "rules",
                                        "prometheus.url",
                                        "prometheus.timeout",
                                        "prometheus.header",
                                        "prometheus.bearer-token-file",
                                        "prometheus.basic-auth-user",
                                        "prometheus.basic-auth-password-file",
                                        "prometheus.ca-file",
                                        "log.level"};
    char *out, *err;
    char *argv[] = {(char *)harness_sloe(), (char *)"eval", (char *)"--help", NULL};
    EXPECT_INT(harness_run(argv, &out, &err), 0);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        char want[80];
        snprintf(want, sizeof(want), "--%s=", flags[i]);
        EXPECT_CONTAINS(out, want);
        snprintf(want, sizeof(want), "Fl \\-%s Ns", flags[i]);
        EXPECT_CONTAINS(man1, want);
    }
    free(out);
    free(err);
    EXPECT_CONTAINS(man1, "3 files, 12 SLOs: OK");
    static const char *const fields[] = {
        "objective",
        "warning",
        "minimum",
        "window",
        "timezone",
        "sli",
        "events",
        "good_query",
        "bad_query",
        "total_query",
        "latency",
        "metric",
        "selector",
        "threshold",
        "raw",
        "error_ratio_query",
        "uptime",
        "timeslice",
        "op",
        "slice",
        "group_by",
        "service_hours",
        "days",
        "exclusions",
        "reason",
        "depends_on",
        "alerting",
        "page",
        "ticket",
        "annotations",
        "scoring",
        "weight",
        "deduct",
        "per",
        "sla_credits",
        "below",
        "credit",
        "scorecard",
        "excellent",
        "pass",
        "labels",
        "description",
        "{{.window}}",
        "error_query",
        "page_alert",
        "ticket_alert",
        "indicatorRef",
        "ratioMetric",
        "thresholdMetric",
        "counter",
        "timeWindow",
        "budgetingMethod",
        "RatioTimeslices",
        "targetPercent",
        "timeSliceTarget",
        "timeSliceWindow",
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        EXPECT_CONTAINS(man5, fields[i]);
    free(man1);
    free(man5);
}

const struct harness_test suite_man[] = {
    {"man_pages", man_pages},
    HARNESS_END,
};
