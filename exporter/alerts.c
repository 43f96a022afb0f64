#include "alerts.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "budget.h"
#include "cli.h"
#include "duration.h"
#include "period.h"

/* The emitter and whether an event failed; every helper is a no-op after a failure. */
struct alerts_out {
    yaml_emitter_t em;
    bool failed;
};

static int alerts_write_handler(void *data, unsigned char *buffer, size_t size)
{
    return fwrite(buffer, 1, size, (FILE *)data) == size;
}

static void alerts_emit(struct alerts_out *o, yaml_event_t *ev)
{
    if (o->failed) {
        yaml_event_delete(ev);
        return;
    }
    if (!yaml_emitter_emit(&o->em, ev))
        o->failed = true;
}

static void alerts_scalar(struct alerts_out *o, const char *s)
{
    yaml_event_t ev;
    /* A PromQL expression over several lines reads best as a literal block. */
    yaml_scalar_style_t style =
        strchr(s, '\n') != NULL ? YAML_LITERAL_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    alerts_emit(o, &ev);
}

static void alerts_map_start(struct alerts_out *o)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    alerts_emit(o, &ev);
}

static void alerts_map_end(struct alerts_out *o)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    alerts_emit(o, &ev);
}

static void alerts_seq_start(struct alerts_out *o)
{
    yaml_event_t ev;
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    alerts_emit(o, &ev);
}

static void alerts_seq_end(struct alerts_out *o)
{
    yaml_event_t ev;
    yaml_sequence_end_event_initialize(&ev);
    alerts_emit(o, &ev);
}

static void alerts_kv(struct alerts_out *o, const char *k, const char *v)
{
    alerts_scalar(o, k);
    alerts_scalar(o, v);
}

/* Escapes a label value for a PromQL string in double quotes. */
static char *alerts_promql_string(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += (*p == '"' || *p == '\\' || *p == '\n') ? 2 : 1;
    char *out = malloc(n + 1), *w = out;
    if (out == NULL)
        abort();
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *w++ = '\\';
            *w++ = *p;
        } else if (*p == '\n') {
            *w++ = '\\';
            *w++ = 'n';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}

static char *alerts_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *alerts_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

/* Writes the labels of one alert: service, slo, severity, the SLO's labels and the alerting
 * labels (the tier's last). A later entry of the same name wins, as in the rule file. */
static void alerts_labels(struct alerts_out *o, const struct rules_slo *slo, const char *severity,
                          const struct rules_labels *tier)
{
    const struct rules_labels *sets[] = {&slo->service->labels, &slo->labels, &slo->alerting.labels,
                                         tier};
    alerts_scalar(o, "labels");
    alerts_map_start(o);
    alerts_kv(o, "severity", severity);
    alerts_kv(o, "service", slo->service->name);
    alerts_kv(o, "slo", slo->name);
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        if (sets[s] == NULL)
            continue;
        for (size_t i = 0; i < sets[s]->n; i++) {
            const char *name = sets[s]->v[i].name;
            if (strcmp(name, "severity") == 0 || strcmp(name, "service") == 0 ||
                strcmp(name, "slo") == 0)
                continue;
            /* Skip a name a later set gives again. */
            bool later = false;
            for (size_t t = s + 1; t < sizeof(sets) / sizeof(sets[0]) && !later; t++)
                for (size_t j = 0; sets[t] != NULL && j < sets[t]->n; j++)
                    later |= strcmp(sets[t]->v[j].name, name) == 0;
            if (!later)
                alerts_kv(o, name, sets[s]->v[i].value);
        }
    }
    alerts_map_end(o);
}

static void alerts_annotations(struct alerts_out *o, const struct rules_slo *slo,
                               const char *summary, const char *description,
                               const struct rules_labels *tier)
{
    alerts_scalar(o, "annotations");
    alerts_map_start(o);
    const struct rules_labels *sets[] = {&slo->alerting.annotations, tier};
    /* The SLO's own summary and description win over sloe's (the tier's over the SLO's). */
    const char *mine[2] = {summary, description};
    static const char *const names[2] = {"summary", "description"};
    for (int m = 0; m < 2; m++) {
        for (size_t s = 0; s < 2; s++)
            for (size_t i = 0; sets[s] != NULL && i < sets[s]->n; i++)
                if (strcmp(sets[s]->v[i].name, names[m]) == 0)
                    mine[m] = sets[s]->v[i].value;
        alerts_kv(o, names[m], mine[m]);
    }
    for (size_t s = 0; s < 2; s++) {
        if (sets[s] == NULL)
            continue;
        for (size_t i = 0; i < sets[s]->n; i++) {
            const char *name = sets[s]->v[i].name;
            if (strcmp(name, "summary") == 0 || strcmp(name, "description") == 0)
                continue;
            bool later = false;
            for (size_t j = 0; s == 0 && sets[1] != NULL && j < sets[1]->n; j++)
                later |= strcmp(sets[1]->v[j].name, name) == 0;
            if (!later)
                alerts_kv(o, name, sets[s]->v[i].value);
        }
    }
    alerts_map_end(o);
}

/* One alerting rule. */
static void alerts_rule(struct alerts_out *o, const struct rules_slo *slo, const char *name,
                        const char *expr, const char *for_, const char *severity,
                        const char *summary, const char *description,
                        const struct rules_alert_tier *tier)
{
    alerts_map_start(o);
    alerts_kv(o, "alert", name);
    alerts_kv(o, "expr", expr);
    alerts_kv(o, "for", for_);
    alerts_labels(o, slo, severity, tier ? &tier->labels : NULL);
    alerts_annotations(o, slo, summary, description, tier ? &tier->annotations : NULL);
    alerts_map_end(o);
}

static void alerts_slo(struct alerts_out *o, const struct rules_slo *slo)
{
    char *svc = alerts_promql_string(slo->service->name);
    char *name = alerts_promql_string(slo->name);
    char *sel = alerts_printf("service=\"%s\",slo=\"%s\"", svc, name);
    /* The labels that tell instances of one SLO apart. */
    char *on = alerts_printf("service, slo");
    for (size_t g = 0; g < slo->n_group_by; g++) {
        char *next = alerts_printf("%s, %s", on, slo->group_by[g]);
        free(on);
        on = next;
    }
    const char *id_text = "{{ $labels.service }}/{{ $labels.slo }}";
    /* The thresholds scale with the period; a calendar period by its usual length. */
    static const int64_t calendar_len[] = {86400, 7 * 86400, 30 * 86400, 91 * 86400};
    double f = budget_period_factor(slo->window.kind == RULES_WINDOW_ROLLING
                                        ? period_max_length(slo)
                                        : calendar_len[slo->window.calendar]);
    const char *burn_name = slo->alerting.name ? slo->alerting.name : "SLOErrorBudgetBurn";
    char window[32];
    if (slo->window.kind == RULES_WINDOW_ROLLING)
        duration_format(slo->window.duration_ms, window, sizeof(window));
    else
        snprintf(window, sizeof(window), "%s", rules_calendar_name(slo->window.calendar));

    char *group = alerts_printf("sloe-%s-%s", slo->service->name, slo->name);
    alerts_map_start(o);
    alerts_kv(o, "name", group);
    alerts_scalar(o, "rules");
    alerts_seq_start(o);

    static const struct {
        const char *severity, *window, *for_;
        double factor, factor2;
        const char *what, *pairs;
    } tiers[2] = {
        {"page", "1h", "2m", 14.4, 6, "fast", "over 1h and 5m, or %.3gx over 6h and 30m"},
        {"ticket", "1d", "15m", 3, 1, "slowly", "over 1d and 2h, or %.3gx over 3d and 6h"}};
    for (int t = 0; t < 2; t++) {
        const struct rules_alert_tier *tier = t == 0 ? &slo->alerting.page : &slo->alerting.ticket;
        if (!tier->enabled)
            continue;
        char *expr = alerts_printf("max without (window) (slo_burn_rate{%s,window=\"%s\"})\n"
                                   "  and on (%s)\n"
                                   "(slo_alert{%s,severity=\"%s\"} == 1)",
                                   sel, tiers[t].window, on, sel, tiers[t].severity);
        char *pairs =
            t == 0 ? alerts_printf("over 1h and 5m, or %.3gx over 6h and 30m", tiers[t].factor2 * f)
                   : alerts_printf("over 1d and 2h, or %.3gx over 3d and 6h", tiers[t].factor2 * f);
        char *summary = alerts_printf(
            "%s burns its error budget %s: {{ $value | printf \"%%.1f\" }}x the sustainable "
            "rate over %s (alert above %.3gx %s)",
            id_text, tiers[t].what, tiers[t].window, tiers[t].factor * f, pairs);
        free(pairs);
        char *desc = alerts_printf(
            "The %s multiwindow multi-burn-rate condition holds for %s (objective %g%% over "
            "%s): at this rate the error budget is gone long before the period ends. Look at "
            "the SLO's recent errors.",
            tiers[t].severity, id_text, slo->objective, window);
        alerts_rule(o, slo, burn_name, expr, tiers[t].for_, tiers[t].severity, summary, desc, tier);
        free(expr);
        free(summary);
        free(desc);
    }

    static const struct {
        const char *alert, *metric, *severity, *line;
    } lines[2] = {{"SLOBelowWarning", "slo_warning_ratio", "warning", "warning"},
                  {"SLOBelowMinimum", "slo_minimum_ratio", "ticket", "minimum"}};
    for (int l = 0; l < 2; l++) {
        double value = l == 0 ? slo->warning : slo->minimum;
        /* One-to-one on every label: replicas of sloe (an HA pair) each match their own. */
        char *expr =
            alerts_printf("slo_compliance_ratio{%s}\n  < %s{%s}", sel, lines[l].metric, sel);
        char *summary = alerts_printf("%s compliance {{ $value | humanizePercentage }} is below "
                                      "its %s line %g%%",
                                      id_text, lines[l].line, value);
        char *desc = alerts_printf(
            "Over its %s period %s is at {{ $value | humanizePercentage }}, below the %s line "
            "(%g%%; objective %g%%).%s",
            window, id_text, lines[l].line, value, slo->objective,
            l == 0 ? " An early warning: act before the objective is lost."
                   : " The red line is crossed: improvement work is due.");
        alerts_rule(o, slo, lines[l].alert, expr, "10m", lines[l].severity, summary, desc, NULL);
        free(expr);
        free(summary);
        free(desc);
    }

    char *expr = alerts_printf("slo_error_budget_remaining_ratio{%s} <= 0", sel);
    char *summary = alerts_printf("%s has spent its whole error budget "
                                  "({{ $value | humanizePercentage }} left)",
                                  id_text);
    char *desc = alerts_printf("No error budget is left for %s in this %s period (objective "
                               "%g%%): freeze risky changes until it recovers.",
                               id_text, window, slo->objective);
    alerts_rule(o, slo, "SLOErrorBudgetExhausted", expr, "5m", "ticket", summary, desc, NULL);
    free(expr);
    free(summary);
    free(desc);

    expr = alerts_printf("slo_data_ok{%s} == 0\nor\nabsent(slo_data_ok{%s})", sel, sel);
    summary = alerts_printf("%s has no data: its values are stale or missing", id_text);
    desc = alerts_printf("sloe could not evaluate %s: its queries failed or returned nothing, "
                         "or sloe does not export it. Check sloe's log and the SLO's queries.",
                         id_text);
    alerts_rule(o, slo, "SLONoData", expr, "10m", "ticket", summary, desc, NULL);
    free(expr);
    free(summary);
    free(desc);

    alerts_seq_end(o);
    alerts_map_end(o);
    free(group);
    free(on);
    free(sel);
    free(svc);
    free(name);
}

/* The service's grade alert: its grade is worse than a day before (excellent > pass > fail,
 * from slo_service_grade). */
static void alerts_service(struct alerts_out *o, const struct rules_service *svc)
{
    char *name = alerts_promql_string(svc->name);
    char *rank_now =
        alerts_printf("(2 * sum by (service) (slo_service_grade{service=\"%s\",grade=\"fail\"})\n"
                      "  + sum by (service) (slo_service_grade{service=\"%s\",grade=\"pass\"}))",
                      name, name);
    char *rank_then = alerts_printf(
        "(2 * sum by (service) (slo_service_grade{service=\"%s\",grade=\"fail\"} offset 1d)\n"
        "  + sum by (service) (slo_service_grade{service=\"%s\",grade=\"pass\"} offset 1d))",
        name, name);
    char *expr = alerts_printf("%s\n> on (service)\n%s", rank_now, rank_then);
    char *group = alerts_printf("sloe-service-%s", svc->name);
    alerts_map_start(o);
    alerts_kv(o, "name", group);
    alerts_scalar(o, "rules");
    alerts_seq_start(o);
    alerts_map_start(o);
    alerts_kv(o, "alert", "SLOServiceGradeFalling");
    alerts_kv(o, "expr", expr);
    alerts_kv(o, "for", "10m");
    alerts_scalar(o, "labels");
    alerts_map_start(o);
    alerts_kv(o, "severity", "warning");
    alerts_kv(o, "service", svc->name);
    for (size_t i = 0; i < svc->labels.n; i++)
        if (strcmp(svc->labels.v[i].name, "severity") != 0)
            alerts_kv(o, svc->labels.v[i].name, svc->labels.v[i].value);
    alerts_map_end(o);
    char *summary = alerts_printf(
        "Service %s has fallen a grade since yesterday (score "
        "{{ with printf \"slo_service_score{service='%s'}\" | query }}{{ . | first | value | "
        "printf \"%%.1f\" }}{{ end }}; excellent >= %g, pass >= %g)",
        "{{ $labels.service }}", name, svc->excellent, svc->pass);
    alerts_scalar(o, "annotations");
    alerts_map_start(o);
    alerts_kv(o, "summary", summary);
    alerts_kv(o, "description",
              "The weighted score of the service's SLOs dropped to a lower grade of its scorecard "
              "than a day ago. Look at which SLOs lost points (slo_score).");
    alerts_map_end(o);
    alerts_map_end(o);
    alerts_seq_end(o);
    alerts_map_end(o);
    free(summary);
    free(group);
    free(expr);
    free(rank_then);
    free(rank_now);
    free(name);
}

int alerts_write(const struct rules_set *set, const char *sloe_job, FILE *out)
{
    struct alerts_out o = {.failed = false};
    if (!yaml_emitter_initialize(&o.em))
        abort();
    yaml_emitter_set_output(&o.em, alerts_write_handler, out);
    yaml_emitter_set_width(&o.em, 100);
    yaml_emitter_set_unicode(&o.em, 1);
    fprintf(out,
            "# Prometheus alerting rules generated by sloe %s from %zu rule file%s.\n"
            "# Regenerate them (sloe generate alerts) rather than editing.\n",
            SLOE_VERSION, set->n_files, set->n_files == 1 ? "" : "s");
    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    alerts_emit(&o, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    alerts_emit(&o, &ev);
    alerts_map_start(&o);
    alerts_scalar(&o, "groups");
    alerts_seq_start(&o);

    /* sloe itself. */
    char *job = alerts_promql_string(sloe_job);
    char *expr = alerts_printf("up{job=\"%s\"} == 0\nor\nabsent(up{job=\"%s\"})", job, job);
    alerts_map_start(&o);
    alerts_kv(&o, "name", "sloe");
    alerts_scalar(&o, "rules");
    alerts_seq_start(&o);
    alerts_map_start(&o);
    alerts_kv(&o, "alert", "SloeDown");
    alerts_kv(&o, "expr", expr);
    alerts_kv(&o, "for", "5m");
    alerts_scalar(&o, "labels");
    alerts_map_start(&o);
    alerts_kv(&o, "severity", "page");
    alerts_map_end(&o);
    alerts_scalar(&o, "annotations");
    alerts_map_start(&o);
    alerts_kv(&o, "summary", "sloe is down or not scraped: no SLO is being evaluated");
    alerts_kv(&o, "description",
              "Prometheus cannot scrape sloe (job {{ $labels.job }}); SLO alerts cannot fire "
              "while it is down. Check the sloe process and its logs.");
    alerts_map_end(&o);
    alerts_map_end(&o);
    alerts_seq_end(&o);
    alerts_map_end(&o);
    free(expr);
    free(job);

    for (size_t i = 0; i < set->n_slos; i++)
        alerts_slo(&o, set->slos[i]);
    for (size_t i = 0; i < set->n_services; i++)
        alerts_service(&o, set->services[i]);

    alerts_seq_end(&o);
    alerts_map_end(&o);
    yaml_document_end_event_initialize(&ev, 1);
    alerts_emit(&o, &ev);
    yaml_stream_end_event_initialize(&ev);
    alerts_emit(&o, &ev);
    bool failed = o.failed || !yaml_emitter_flush(&o.em);
    yaml_emitter_delete(&o.em);
    return failed ? -1 : 0;
}
