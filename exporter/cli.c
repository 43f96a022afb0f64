#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "diag.h"
#include "duration.h"
#include "eval.h"
#include "expo.h"
#include "log.h"
#include "native.h"
#include "prom.h"
#include "report.h"
#include "rules.h"
#include "serve.h"

static const char cli_usage[] =
    "usage: sloe COMMAND [FLAGS] [ARGS]\n"
    "\n"
    "sloe evaluates SLO rule files against Prometheus and exports compliance, error budgets,\n"
    "burn rates and states as metrics.\n"
    "\n"
    "commands:\n"
    "  check FILE|DIR...   validate rule files (sloe/v1, Sloth prometheus/v1, OpenSLO v1)\n"
    "  eval [--time=T]     evaluate every SLO once against Prometheus and print the metrics\n"
    "  serve               run the exporter daemon (/metrics, status page, reload)\n"
    "  generate alerts     print Prometheus alerting rules over sloe's metrics\n"
    "  report --period=P   write a compliance report of a month, quarter, ISO week or day\n"
    "\n"
    "flags:\n"
    "  --help              show this help (sloe COMMAND --help for a command)\n"
    "  --version           show the version\n"
    "\n"
    "See sloe(1) and sloe-rules(5).\n";

static const char cli_check_usage[] =
    "usage: sloe check FILE|DIR...\n"
    "\n"
    "Validates rule files as one set: a directory stands for its *.yaml and *.yml files, and\n"
    "a quoted glob such as 'rules/*.yaml' is expanded. Every problem is printed to stderr as\n"
    "FILE:LINE:COL: message; on success one summary line goes to stdout.\n"
    "\n"
    "exit status: 0 valid, 1 invalid, 2 usage error.\n";

/* The flags of every command that queries Prometheus, in their usage texts. */
#define CLI_QUERY_FLAGS                                                                            \
    "  --rules=PATH                       rule file, directory or glob; repeatable\n"              \
    "                                     (default rules/*.yaml)\n"                                \
    "  --prometheus.url=URL               query API base URL (default http://127.0.0.1:9090)\n"    \
    "  --prometheus.timeout=DURATION      per query (default 30s)\n"                               \
    "  --prometheus.header=NAME:VALUE     sent with every query; repeatable\n"                     \
    "  --prometheus.bearer-token-file=FILE\n"                                                      \
    "  --prometheus.basic-auth-user=USER\n"                                                        \
    "  --prometheus.basic-auth-password-file=FILE\n"                                               \
    "  --prometheus.ca-file=FILE\n"                                                                \
    "  --prometheus.remote-read=auto|off  fill the history at start-up by remote read where\n"     \
    "                                     it gives the same numbers (default auto)\n"              \
    "  --log.level=debug|info|warn|error  (default info)\n"

static const char cli_eval_usage[] =
    "usage: sloe eval [FLAGS]\n"
    "\n"
    "Evaluates every SLO once at time T against the Prometheus query API and prints the\n"
    "metrics sloe serves, in the text exposition format (or JSON).\n"
    "\n"
    "flags:\n"
    "  --time=T                           RFC 3339 time or unix seconds (default: now)\n"
    "  --format=text|json                 output format (default text)\n" CLI_QUERY_FLAGS
    "  --shard=I/N                        evaluate only shard I of N (0-based) of the SLOs\n"
    "\n"
    "exit status: 0 when every SLO was evaluated, 1 when some queries failed (their SLOs\n"
    "show slo_data_ok 0), 2 on a usage or rule file error.\n";

static const char cli_serve_usage[] =
    "usage: sloe serve [FLAGS]\n"
    "\n"
    "Runs the exporter: evaluates every SLO each --evaluation-interval and serves the results\n"
    "on /metrics (Prometheus text, OpenMetrics or protobuf), a status page on /, JSON on\n"
    "/api/v1/slos, /-/healthy, /-/ready, and POST /-/reload (SIGHUP reloads too).\n"
    "\n"
    "flags:\n"
    "  --web.listen-address=ADDR          host:port, [v6]:port or :port (default :9363)\n"
    "  --web.config.file=FILE             TLS and basic auth (exporter-toolkit web-config)\n"
    "  --evaluation-interval=DURATION     (default 30s)\n" CLI_QUERY_FLAGS
    "  --shard=I/N                        evaluate only shard I of N (0-based) of the SLOs;\n"
    "                                     replicas split them by a hash, no coordination\n"
    "\n"
    "exit status: 0 after SIGTERM or SIGINT, 1 when it cannot start, 2 on a usage error.\n";

static const char cli_report_usage[] =
    "usage: sloe report --period=P [FLAGS]\n"
    "\n"
    "Writes a compliance report of every SLO for a calendar period, each SLO's period aligned\n"
    "in its own time zone: compliance against the objective, state, error budget spent,\n"
    "events, score, SLA credit, the worst days, the page and ticket alert episodes, whether an\n"
    "improvement plan is due, and per service the score and grade. A period not over yet is\n"
    "reported up to now. On a terminal, progress goes to stderr.\n"
    "\n"
    "flags:\n"
    "  --period=P                         2026-10 (month), 2026-Q3 (quarter), 2026-W44 (ISO\n"
    "                                     week) or 2026-10-31 (day); required\n"
    "  --format=markdown|html|csv|json    output format (default markdown)\n"
    "  --output=FILE                      write to FILE (replaced whole) instead of stdout\n"
    "  --time=T                           report as if now were T: RFC 3339 or unix seconds\n"
    "                                     (default: now)\n" CLI_QUERY_FLAGS "\n"
    "exit status: 0 when every SLO was reported, 1 when some SLO's queries failed (the report\n"
    "lists them as failed, with the error), 2 on a usage or rule file error.\n";

/* The flags shared by the commands that query Prometheus. */
struct cli_flags {
    const char *rules[64];
    size_t n_rules;
    const char *headers[64];
    size_t n_headers;
    struct prom_config prom;
    const char *time;
    const char *format;
    const char *period; /* report only */
    const char *output; /* report only */
    const char *log_level;
    const char *listen;
    const char *web_config;
    int64_t interval_ms;
    bool serve; /* accept the serve-only flags */
    unsigned shard_index, shard_count;
};

/* Takes "--name=value" or "--name value" at argv[*i]; returns the value or NULL. */
static const char *cli_value(int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] == '\0' && *i + 1 < argc) {
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

/* Parses the shared flags; returns 0, 1 when help was asked for, or -1 after a message. */
static int cli_parse(int argc, char **argv, struct cli_flags *f, const char *usage, FILE *out,
                     FILE *err, const char *cmd)
{
    bool serve = strcmp(cmd, "serve") == 0;
    bool report = strcmp(cmd, "report") == 0;
    memset(f, 0, sizeof(*f));
    f->serve = serve;
    f->shard_count = 1;
    f->listen = ":9363";
    f->interval_ms = 30000;
    f->prom.url = "http://127.0.0.1:9090";
    f->prom.timeout_ms = 30000;
    f->prom.user_agent = "sloe/" SLOE_VERSION;
    f->format = report ? "markdown" : "text";
    f->log_level = "info";
    for (int i = 0; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, out);
            return 1;
        } else if ((v = cli_value(argc, argv, &i, "--rules")) != NULL) {
            if (f->n_rules == 64) {
                fprintf(err, "sloe %s: more than 64 --rules flags; use a directory or glob\n", cmd);
                return -1;
            }
            f->rules[f->n_rules++] = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.url")) != NULL) {
            f->prom.url = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.timeout")) != NULL) {
            int64_t ms;
            if (duration_parse_ms(v, &ms) != 0 || ms <= 0) {
                fprintf(err, "sloe %s: --prometheus.timeout=%s is not a duration like 30s\n", cmd,
                        v);
                return -1;
            }
            f->prom.timeout_ms = ms;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.header")) != NULL) {
            if (strchr(v, ':') == NULL || f->n_headers == 64) {
                fprintf(err, "sloe %s: --prometheus.header=%s must be NAME:VALUE (at most 64)\n",
                        cmd, v);
                return -1;
            }
            f->headers[f->n_headers++] = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.bearer-token-file")) != NULL) {
            f->prom.bearer_token_file = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.basic-auth-user")) != NULL) {
            f->prom.basic_auth_user = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.basic-auth-password-file")) !=
                   NULL) {
            f->prom.basic_auth_password_file = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.ca-file")) != NULL) {
            f->prom.ca_file = v;
        } else if ((v = cli_value(argc, argv, &i, "--prometheus.remote-read")) != NULL) {
            if (strcmp(v, "auto") != 0 && strcmp(v, "off") != 0) {
                fprintf(err, "sloe %s: --prometheus.remote-read must be auto or off, not %s\n", cmd,
                        v);
                return -1;
            }
            f->prom.remote_read_off = strcmp(v, "off") == 0;
        } else if (!serve && (v = cli_value(argc, argv, &i, "--time")) != NULL) {
            f->time = v;
        } else if (!serve && (v = cli_value(argc, argv, &i, "--format")) != NULL) {
            f->format = v;
        } else if (report && (v = cli_value(argc, argv, &i, "--period")) != NULL) {
            f->period = v;
        } else if (report && (v = cli_value(argc, argv, &i, "--output")) != NULL) {
            f->output = v;
        } else if ((v = cli_value(argc, argv, &i, "--log.level")) != NULL) {
            f->log_level = v;
        } else if ((v = cli_value(argc, argv, &i, "--shard")) != NULL) {
            unsigned a, b;
            int used = 0;
            if (sscanf(v, "%u/%u%n", &a, &b, &used) != 2 || v[used] != '\0' || b == 0 || a >= b ||
                b > 1000) {
                fprintf(err, "sloe %s: --shard=%s must be I/N with 0 <= I < N <= 1000, like 0/3\n",
                        cmd, v);
                return -1;
            }
            f->shard_index = a;
            f->shard_count = b;
        } else if (serve && (v = cli_value(argc, argv, &i, "--web.listen-address")) != NULL) {
            f->listen = v;
        } else if (serve && (v = cli_value(argc, argv, &i, "--web.config.file")) != NULL) {
            f->web_config = v;
        } else if (serve && (v = cli_value(argc, argv, &i, "--evaluation-interval")) != NULL) {
            if (duration_parse_ms(v, &f->interval_ms) != 0 || f->interval_ms < 1000) {
                fprintf(err,
                        "sloe %s: --evaluation-interval=%s must be a duration of at least 1s, "
                        "like 30s\n",
                        cmd, v);
                return -1;
            }
        } else {
            fprintf(err, "sloe %s: unknown flag or argument %s\n%s", cmd, argv[i], usage);
            return -1;
        }
    }
    if (strcmp(f->log_level, "debug") != 0 && strcmp(f->log_level, "info") != 0 &&
        strcmp(f->log_level, "warn") != 0 && strcmp(f->log_level, "error") != 0) {
        fprintf(err, "sloe %s: --log.level must be debug, info, warn or error, not %s\n", cmd,
                f->log_level);
        return -1;
    }
    if (f->n_rules == 0)
        f->rules[f->n_rules++] = "rules/*.yaml";
    f->prom.headers = f->headers;
    f->prom.n_headers = f->n_headers;
    return 0;
}

/* Reads T as unix seconds or RFC 3339; returns 0 or -1. */
static int cli_time(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == '\0' && errno == 0) {
        *out = (int64_t)v;
        return 0;
    }
    return native_parse_time_utc(s, out);
}

/* Loads the rule set named by the flags, printing problems to err. */
static struct rules_set *cli_load(const struct cli_flags *f, FILE *err, const char *cmd)
{
    struct diag_list diags = {0};
    char **files = NULL;
    size_t n_files = 0;
    struct rules_set *set = NULL;
    if (rules_expand_paths(f->rules, f->n_rules, &files, &n_files, &diags) == 0 &&
        rules_load_files((const char *const *)files, n_files, &set, &diags) != 0)
        set = NULL;
    diag_print(&diags, err);
    if (set == NULL)
        fprintf(err, "sloe %s: the rule files have errors (sloe check shows them all)\n", cmd);
    rules_paths_free(files, n_files);
    diag_free(&diags);
    return set;
}

static int cli_eval(int argc, char **argv, FILE *out, FILE *err)
{
    struct cli_flags f;
    int rc = cli_parse(argc, argv, &f, cli_eval_usage, out, err, "eval");
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    if (strcmp(f.format, "text") != 0 && strcmp(f.format, "json") != 0) {
        fprintf(err, "sloe eval: --format must be text or json, not %s\n", f.format);
        return CLI_USAGE;
    }
    int64_t t = (int64_t)time(NULL);
    if (f.time != NULL && cli_time(f.time, &t) != 0) {
        fprintf(err,
                "sloe eval: --time=%s is not a time: give unix seconds or RFC 3339 like "
                "2026-11-01T00:00:00Z\n",
                f.time);
        return CLI_USAGE;
    }
    struct rules_set *set = cli_load(&f, err, "eval");
    if (set == NULL)
        return CLI_USAGE;
    struct prom_error perr;
    struct prom_client *prom = prom_client_new(&f.prom, &perr);
    if (prom == NULL) {
        fprintf(err, "sloe eval: %s\n", perr.msg);
        rules_set_free(set);
        return CLI_USAGE;
    }
    struct eval_state *s = eval_new(set, prom);
    eval_set_shard(s, f.shard_index, f.shard_count);
    int failed = eval_cycle(s, t);
    for (size_t i = 0; i < set->n_slos; i++)
        if (!s->slos[i].ok)
            fprintf(err, "level=error msg=\"evaluation failed\" service=%s slo=%s err=\"%s\"\n",
                    set->slos[i]->service->name, set->slos[i]->name, s->slos[i].error);
    if (strcmp(f.format, "json") == 0) {
        expo_write_json(s, out, false);
    } else {
        struct expo_set *e = expo_build(s, t);
        expo_write_text(e, out);
        expo_free(e);
    }
    eval_free(s);
    prom_client_free(prom);
    rules_set_free(set);
    return failed ? CLI_INVALID : CLI_OK;
}

/* Opens a temporary file beside path for the report (renamed over path once written, so a
 * reader never sees half a report), with the permissions a new file would get. */
static FILE *cli_report_open(const char *path, char **tmp)
{
    size_t len = strlen(path) + 8;
    *tmp = malloc(len);
    if (*tmp == NULL)
        abort();
    snprintf(*tmp, len, "%s.XXXXXX", path);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        free(*tmp);
        *tmp = NULL;
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

static int cli_report(int argc, char **argv, FILE *out, FILE *err)
{
    struct cli_flags f;
    int rc = cli_parse(argc, argv, &f, cli_report_usage, out, err, "report");
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    struct report_period period;
    if (f.period == NULL) {
        fprintf(err, "sloe report: say which period: --period=P\n%s", cli_report_usage);
        return CLI_USAGE;
    }
    if (report_period_parse(f.period, &period) != 0) {
        fprintf(err,
                "sloe report: --period=%s is not a period: give a month (2026-10), a quarter "
                "(2026-Q3), an ISO week (2026-W44) or a day (2026-10-31)\n",
                f.period);
        return CLI_USAGE;
    }
    enum report_format fmt;
    if (report_format_parse(f.format, &fmt) != 0) {
        fprintf(err, "sloe report: --format must be markdown, html, csv or json, not %s\n",
                f.format);
        return CLI_USAGE;
    }
    if (f.shard_count > 1) {
        fprintf(err, "sloe report: --shard is for eval and serve; a report covers every SLO\n");
        return CLI_USAGE;
    }
    int64_t generated = (int64_t)time(NULL), now = generated;
    if (f.time != NULL && cli_time(f.time, &now) != 0) {
        fprintf(err,
                "sloe report: --time=%s is not a time: give unix seconds or RFC 3339 like "
                "2026-11-01T00:00:00Z\n",
                f.time);
        return CLI_USAGE;
    }
    struct rules_set *set = cli_load(&f, err, "report");
    if (set == NULL)
        return CLI_USAGE;
    /* A period that has not started in any SLO's zone has nothing to report. */
    bool started = set->n_slos == 0;
    for (size_t i = 0; i < set->n_slos && !started; i++) {
        int64_t ps, pe;
        started = report_period_bounds(&period, set->slos[i]->timezone, &ps, &pe) != 0 ||
                  now / 60 * 60 > ps;
    }
    if (!started) {
        fprintf(err, "sloe report: --period=%s has not started yet\n", f.period);
        rules_set_free(set);
        return CLI_USAGE;
    }
    struct prom_error perr;
    struct prom_client *prom = prom_client_new(&f.prom, &perr);
    if (prom == NULL) {
        fprintf(err, "sloe report: %s\n", perr.msg);
        rules_set_free(set);
        return CLI_USAGE;
    }
    char *tmp = NULL;
    FILE *dst = out;
    if (f.output != NULL && (dst = cli_report_open(f.output, &tmp)) == NULL) {
        fprintf(err, "sloe report: cannot write %s: %s\n", f.output, strerror(errno));
        prom_client_free(prom);
        rules_set_free(set);
        return CLI_USAGE;
    }
    struct eval_state *s = eval_new(set, prom);
    FILE *progress = isatty(fileno(err)) ? err : NULL;
    struct report *r = report_build(s, &period, now, generated, progress);
    for (size_t k = 0; k < r->n_inst; k++)
        if (r->inst[k]->failed)
            fprintf(err,
                    "level=error msg=\"report: queries failed\" service=%s slo=%s err=\"%s\"\n",
                    r->inst[k]->slo->service->name, r->inst[k]->slo->name, r->inst[k]->error);
    rc = r->failed > 0 ? CLI_INVALID : CLI_OK;
    bool written = report_write(r, fmt, SLOE_VERSION, dst) == 0;
    if (tmp != NULL) {
        written = fclose(dst) == 0 && written;
        if (written && rename(tmp, f.output) != 0)
            written = false;
        if (!written)
            unlink(tmp);
    }
    if (!written) {
        fprintf(err, "sloe report: writing the report to %s failed: %s\n",
                f.output != NULL ? f.output : "stdout", strerror(errno));
        rc = CLI_INVALID;
    }
    free(tmp);
    report_free(r);
    eval_free(s);
    prom_client_free(prom);
    rules_set_free(set);
    return rc;
}

static int cli_serve(int argc, char **argv, FILE *out, FILE *err)
{
    struct cli_flags f;
    int rc = cli_parse(argc, argv, &f, cli_serve_usage, out, err, "serve");
    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    (void)log_set_level(f.log_level);
    struct serve_config cfg = {
        .rules = f.rules,
        .n_rules = f.n_rules,
        .prom = f.prom,
        .listen = f.listen,
        .web_config = f.web_config,
        .interval_ms = f.interval_ms,
        .shard_index = f.shard_index,
        .shard_count = f.shard_count,
    };
    return serve_run(&cfg) == 0 ? CLI_OK : CLI_INVALID;
}

static const char cli_generate_usage[] =
    "usage: sloe generate alerts [FLAGS]\n"
    "\n"
    "Prints Prometheus alerting rules (YAML) over sloe's metrics for every SLO: the page and\n"
    "ticket multiwindow multi-burn-rate alerts (as the SLO's alerting enables them), compliance\n"
    "below the warning and the minimum lines, error budget exhausted, no data, and sloe down.\n"
    "Load the output into the Prometheus that scrapes sloe (rule_files).\n"
    "\n"
    "flags:\n"
    "  --rules=PATH                       rule file, directory or glob; repeatable\n"
    "                                     (default rules/*.yaml)\n"
    "  --sloe.job=JOB                     the job label of sloe's scrape target, for the\n"
    "                                     SloeDown alert (default sloe)\n"
    "\n"
    "exit status: 0 on success, 2 on a usage or rule file error.\n";

static int cli_generate(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 1 || strcmp(argv[0], "alerts") != 0) {
        if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
            fputs(cli_generate_usage, out);
            return CLI_OK;
        }
        fprintf(err, "sloe generate: say what to generate: sloe generate alerts\n%s",
                cli_generate_usage);
        return CLI_USAGE;
    }
    const char *rules[64];
    size_t n_rules = 0;
    const char *job = "sloe";
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cli_generate_usage, out);
            return CLI_OK;
        } else if ((v = cli_value(argc, argv, &i, "--rules")) != NULL && n_rules < 64) {
            rules[n_rules++] = v;
        } else if ((v = cli_value(argc, argv, &i, "--sloe.job")) != NULL && *v != '\0') {
            job = v;
        } else {
            fprintf(err, "sloe generate alerts: unknown flag or argument %s\n%s", argv[i],
                    cli_generate_usage);
            return CLI_USAGE;
        }
    }
    struct cli_flags f;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < n_rules; i++)
        f.rules[i] = rules[i];
    f.n_rules = n_rules;
    if (f.n_rules == 0)
        f.rules[f.n_rules++] = "rules/*.yaml";
    struct rules_set *set = cli_load(&f, err, "generate alerts");
    if (set == NULL)
        return CLI_USAGE;
    int rc = alerts_write(set, job, out);
    rules_set_free(set);
    if (rc != 0) {
        fprintf(err, "sloe generate alerts: cannot write the rules\n");
        return CLI_INVALID;
    }
    return CLI_OK;
}

static const char *cli_plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int cli_check(int argc, char **argv, FILE *out, FILE *err)
{
    const char **paths = (const char **)argv;
    size_t n = 0;
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(cli_check_usage, out);
            return CLI_OK;
        }
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (!flags_done && a[0] == '-' && a[1] != '\0') {
            fprintf(err, "sloe check: unknown flag %s\n%s", a, cli_check_usage);
            return CLI_USAGE;
        }
        paths[n++] = a;
    }
    if (n == 0) {
        fprintf(err, "sloe check: no rule files given\n%s", cli_check_usage);
        return CLI_USAGE;
    }
    struct diag_list diags = {0};
    char **files = NULL;
    size_t n_files = 0;
    int rc = rules_expand_paths(paths, n, &files, &n_files, &diags);
    struct rules_set *set = NULL;
    if (rc == 0)
        rc = rules_load_files((const char *const *)files, n_files, &set, &diags);
    diag_print(&diags, err);
    if (rc == 0) {
        fprintf(out, "%zu %s, %zu %s: OK", n_files, cli_plural(n_files, "file", "files"),
                set->n_slos, cli_plural(set->n_slos, "SLO", "SLOs"));
        if (diags.warnings > 0)
            fprintf(out, " (%zu %s)", diags.warnings,
                    cli_plural(diags.warnings, "warning", "warnings"));
        fputc('\n', out);
    } else {
        fprintf(err, "sloe check: %zu %s", diags.errors,
                cli_plural(diags.errors, "error", "errors"));
        if (diags.warnings > 0)
            fprintf(err, ", %zu %s", diags.warnings,
                    cli_plural(diags.warnings, "warning", "warnings"));
        fputc('\n', err);
    }
    rules_set_free(set);
    rules_paths_free(files, n_files);
    diag_free(&diags);
    return rc == 0 ? CLI_OK : CLI_INVALID;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2) {
        fputs(cli_usage, err);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(cli_usage, out);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        fprintf(out, "sloe version %s (revision %s)\n", SLOE_VERSION, SLOE_REVISION);
        return CLI_OK;
    }
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "eval") == 0)
        return cli_eval(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "generate") == 0)
        return cli_generate(argc - 2, argv + 2, out, err);
    if (strcmp(cmd, "report") == 0)
        return cli_report(argc - 2, argv + 2, out, err);
    fprintf(err, "sloe: unknown command \"%s\"\n%s", cmd, cli_usage);
    return CLI_USAGE;
}
