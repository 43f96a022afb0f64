#include "page.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "duration.h"
#include "history.h"
#include "html.h"
#include "period.h"
#include "rules.h"

/* Points of the burn-down chart. */
enum { PAGE_CHART_POINTS = 60 };

/* Detailed cards (with charts) at most: past that the page would weigh megabytes per
 * hundred SLOs and no browser shows it well. The overview table still lists every SLO. */
enum { PAGE_MAX_CARDS = 100 };

/* Geometry of the burn-down chart, in its viewBox units. */
static const double page_cw = 320, page_ch = 132;
static const double page_px0 = 46, page_px1 = 312, page_py0 = 8, page_py1 = 112;

/* The status page's own rules, after html_css's shared ones, in one inline <style>. */
static const char *const page_css[] = {
    "a{color:var(--accent)}\n",
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\","
    "monospace;font-size:.86em}\n",
    ".top nav{margin-left:auto;font-size:14px}\n",
    ".top nav a{color:#cfe3ff;margin-left:14px}\n",
    ".service{margin-top:22px}\n",
    ".empty{color:var(--muted);font-style:italic}\n",
    ".stale{margin:8px 0 0;padding:6px 10px;border-radius:6px;background:var(--soft);"
    "color:#424a53;font-size:13px;overflow-wrap:anywhere}\n",
    ".panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px;"
    "margin-top:12px}\n",
    ".panel{border:1px solid var(--soft);border-radius:6px;padding:10px 12px;min-width:0}\n",
    ".big{font-size:26px;font-weight:650;line-height:1.25;margin:2px 0 6px;"
    "white-space:nowrap}\n",
    ".big small{font-size:14px;font-weight:500;color:var(--muted);margin-left:6px}\n",
    ".scale{display:block;width:100%;height:18px}\n",
    ".ends{display:flex;justify-content:space-between;font-size:11px;color:var(--muted)}\n",
    ".lines{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;"
    "gap:2px 14px;font-size:13px}\n",
    ".lines li{display:flex;align-items:center;gap:5px;white-space:nowrap}\n",
    ".key{display:inline-block;width:3px;height:12px;border-radius:1px}\n",
    ".k-obj{background:var(--met)}.k-warn{background:var(--warn)}"
    ".k-min{background:var(--breach)}.k-now{background:var(--fg);width:4px;height:14px}\n",
    ".bar{height:14px;border-radius:7px;background:var(--soft);overflow:hidden;"
    "border:1px solid var(--line)}\n",
    ".bar span{display:block;height:100%;background:var(--met)}\n",
    ".bar.f-low span{background:#e3b400}.bar.f-crit span{background:var(--warn)}"
    ".bar.f-neg span{background:repeating-linear-gradient(135deg,var(--breach) 0 6px,"
    "#e5534b 6px 12px)}\n",
    ".sub{margin:6px 0 0;font-size:13px;color:var(--muted)}\n",
    ".sub .neg{color:var(--breach);font-weight:600}\n",
    ".chart{display:block;width:100%;height:auto;max-height:170px;margin-top:4px}\n",
    ".chart .nodata{font-size:12px;font-style:italic}\n",
    ".lower{display:flex;flex-wrap:wrap;align-items:flex-start;gap:12px 24px;margin-top:12px}\n",
    ".burnbox{min-width:0;max-width:100%;flex:1 1 560px}\n",
    ".scroll{overflow-x:auto}\n",
    ".burnbox h4,.alerts h4{margin-bottom:4px}\n",
    ".slo h4 span{text-transform:none;letter-spacing:0;font-weight:400}\n",
    "table.burn{border-collapse:collapse;font-size:13px;width:100%}\n",
    ".burn th,.burn td{padding:3px 8px;text-align:right;border-bottom:1px solid var(--soft);"
    "white-space:nowrap}\n",
    ".burn thead th{font-weight:600;border-bottom:1px solid var(--line)}\n",
    ".burn thead th:first-child{text-align:left;color:var(--muted);font-weight:500}\n",
    ".slo.s-stale .panels,.slo.s-stale .lower{opacity:.72}\n",
    ".burn tbody th{text-align:left;font-weight:500;color:var(--muted)}\n",
    ".burn tr.thr td{color:var(--muted);font-size:11px}\n",
    ".burn td.hot-page{background:var(--breach-t);color:#a40e26;font-weight:700}\n",
    ".burn td.hot-ticket{background:var(--warn-t);color:#953800;font-weight:700}\n",
    ".alerts{display:flex;flex-direction:column;gap:6px;flex:0 0 250px}\n",
    ".al{display:block;font-size:13px;border:1px solid var(--line);"
    "border-radius:6px;padding:3px 10px}\n",
    ".al.on{border-color:var(--breach);background:var(--breach-t);color:#a40e26;"
    "font-weight:700}\n",
    ".al.on.t{border-color:var(--warn);background:var(--warn-t);color:#953800}\n",
    ".al.off{color:var(--muted)}\n",
    ".al.held{border-style:dashed}\n",
    "table.ov{width:100%;border-collapse:collapse;background:var(--card);font-size:14px;"
    "border:1px solid var(--line);border-radius:8px}\n",
    ".ov td.n{text-align:right;white-space:nowrap}\n",
    ".ov .neg,.ov .firing{color:var(--breach);font-weight:600}\n",
    ".ov a{text-decoration:none}\n",
    "@media (max-width:640px){.wrap{padding:0 12px}.slo{padding:12px}"
    ".big{font-size:22px}.top nav{margin-left:0}.top nav a{margin:0 14px 0 0}"
    ".ov .hide-s{display:none}.ov th,.ov td{padding:6px;font-size:13px}"
    ".ov a{overflow-wrap:anywhere}.burn th,.burn td{padding:3px 4px}table.burn{font-size:12px}"
    ".burn tr.sli,.slo h4 span,.wide{display:none}.ov td:first-child{width:55%}.alerts{flex:1 1 "
    "auto}}\n",
    "@media print{:root{--bg:#fff}body{font-size:12px}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".top{background:#fff;color:#000;border-bottom:2px solid #000}.brand small{color:#444}"
    ".top nav{display:none}.summary{border:0}.slo{box-shadow:none;break-inside:avoid}"
    ".ovbox,.scroll{overflow:visible}.ovbox{break-inside:avoid}.wrap{max-width:none;padding:0}"
    ".svc-head{break-after:avoid}.panels{grid-template-columns:repeat(3,minmax(0,1fr))}"
    "table.burn{font-size:11px}.burn th,.burn td{padding:2px 4px}.ov a{overflow-wrap:anywhere}"
    "a{color:inherit;text-decoration:none}}\n",
};

/* A burn rate: two significant decimals when small, fewer when large. */
static char *page_burn(double v, char *buf, size_t size)
{
    v = html_fin(v, 0);
    if (v < 10)
        snprintf(buf, size, "%.2f", v);
    else if (v < 100)
        snprintf(buf, size, "%.1f", v);
    else
        snprintf(buf, size, "%.0f", v);
    return buf;
}

/* A threshold factor, as short as it reads (14.4, 6, 0.2). */
static char *page_factor(double v, char *buf, size_t size)
{
    snprintf(buf, size, "%.3g", html_fin(v, 0));
    return buf;
}

/* A span of seconds in human units: "2d 4h", "3h 12m", "45m", "under 1m". */
static char *page_human(double s, char *buf, size_t size)
{
    s = html_fin(s, 0);
    if (s < 60) {
        snprintf(buf, size, "under 1m");
        return buf;
    }
    long long m = (long long)(s / 60);
    long long h = m / 60, d = h / 24;
    if (m < 60)
        snprintf(buf, size, "%lldm", m);
    else if (h < 24)
        snprintf(buf, size, "%lldh %lldm", h, m % 60);
    else if (d < 100)
        snprintf(buf, size, "%lldd %lldh", d, h % 24);
    else if (d < 3650)
        snprintf(buf, size, "%lldd", d);
    else
        snprintf(buf, size, "over 10 years");
    return buf;
}

/* Writes <time datetime="...Z">YYYY-MM-DD HH:MM:SS UTC</time>. */
static void page_utc(FILE *out, int64_t t)
{
    char iso[40], shown[40];
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    if (strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        iso[0] = '\0';
    html_time(NULL, t, HTML_T_FULL, shown, sizeof(shown));
    fprintf(out, "<time datetime=\"%s\">%s UTC</time>", iso, shown);
}

/* The display state of an instance: 0..3 a budget_state, 4 no data, 5 stale. */
enum { PAGE_NODATA = 4, PAGE_STALE = 5 };
static const char *const page_state_class[6] = {"met",    "degraded", "warning",
                                                "breach", "nodata",   "stale"};
static const char *const page_state_text[6] = {"Met",    "Degraded", "Warning",
                                               "Breach", "No data",  "Stale"};

static int page_state(const struct eval_instance *in)
{
    if (!in->have_result)
        return PAGE_NODATA;
    if (!in->data_ok)
        return PAGE_STALE;
    return (int)in->res.state;
}

/* Orders instances by service name, SLO, then group key. */
static int page_cmp(const void *a, const void *b)
{
    const struct eval_instance *x = *(const struct eval_instance *const *)a;
    const struct eval_instance *y = *(const struct eval_instance *const *)b;
    int c = strcmp(x->slo->service->name, y->slo->service->name);
    if (c != 0)
        return c;
    if (x->slo_index != y->slo_index)
        return x->slo_index < y->slo_index ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Writes the labels name=value as chips: the group_by values, then the SLO's own labels. */
static void page_labels(FILE *out, const struct eval_instance *in)
{
    const struct rules_slo *slo = in->slo;
    if (slo->n_group_by == 0 && slo->labels.n == 0)
        return;
    fputs("<div class=\"labels\">", out);
    for (size_t g = 0; g < slo->n_group_by; g++)
        html_chip(out, "<span class=\"lbl grp\" title=\"group_by label\">", slo->group_by[g],
                  in->values[g][0] == '\0' ? NULL : in->values[g]);
    for (size_t i = 0; i < slo->labels.n; i++)
        html_chip(out, "<span class=\"lbl\">", slo->labels.v[i].name, slo->labels.v[i].value);
    fputs("</div>", out);
}

/* The SLO's name with its group values, for titles: "checkout/availability{route=/a}". */
static void page_name(FILE *out, const struct eval_instance *in)
{
    html_esc(out, in->slo->service->name);
    fputc('/', out);
    html_esc(out, in->slo->name);
    if (in->slo->n_group_by == 0)
        return;
    fputc('{', out);
    for (size_t g = 0; g < in->slo->n_group_by; g++) {
        if (g > 0)
            fputc(',', out);
        html_esc(out, in->slo->group_by[g]);
        fputc('=', out);
        html_esc(out, in->values[g]);
    }
    fputc('}', out);
}

/* The compliance scale: coloured zones between the lines, the lines, and a marker at the
 * compliance; with the scale's ends and the lines below it. */
static void page_scale(FILE *out, const struct rules_slo *slo, double compliance, int dec)
{
    double obj = slo->objective, warn = slo->warning, min = slo->minimum;
    struct html_scale sc;
    html_scale_init(&sc, obj, warn, min, compliance);
    /* Ends on a round number of the scale's own magnitude. */
    double unit = pow(10, floor(log10(sc.span)) - 1);
    double lo = floor(sc.lo / unit) * unit;
    if (lo < 0)
        lo = 0;
    sc.lo = lo;
    sc.span = 100 - lo;
    html_scale_svg(out, &sc, 18, true);
    char a[32], b[32];
    int lo_dec = unit >= 1 ? 0 : (int)nearbyint(-log10(unit));
    fprintf(out, "<div class=\"ends\"><span>%.*f %%</span><span>100 %%</span></div>", lo_dec, lo);
    fputs("<ul class=\"lines\">", out);
    fprintf(out, "<li><i class=\"key k-now\"></i>now %s %%</li>",
            html_pct(compliance, dec, b, sizeof(b)));
    fprintf(out, "<li><i class=\"key k-obj\"></i>objective %s %%</li>",
            html_line(obj, a, sizeof(a)));
    if (warn < obj)
        fprintf(out, "<li><i class=\"key k-warn\"></i>warning %s %%</li>",
                html_line(warn, a, sizeof(a)));
    if (min < warn)
        fprintf(out, "<li><i class=\"key k-min\"></i>minimum %s %%</li>",
                html_line(min, a, sizeof(a)));
    fputs("</ul>", out);
}

/* The error-budget panel: what is left, as a bar, the events behind it, the forecast. */
static void page_budget(FILE *out, const struct eval_instance *in)
{
    const struct budget_result *r = &in->res;
    const struct rules_slo *slo = in->slo;
    double rem = html_fin(r->remaining, 0);
    char a[64], b[64];
    fputs("<section class=\"panel\"><h4>Error budget left</h4>", out);
    if (rem < 0) {
        fprintf(out, "<div class=\"big neg\">%.1f %%<small>overspent</small></div>", rem * 100);
        double w = -rem > 1 ? 100 : -rem * 100;
        fprintf(out,
                "<div class=\"bar f-neg\" role=\"img\" aria-label=\"overspent by %.1f %% of the "
                "budget\"><span style=\"width:%.1f%%\"></span></div>",
                -rem * 100, w);
    } else {
        const char *cls = rem > 0.5 ? "" : rem > 0.25 ? " f-low" : " f-crit";
        fprintf(out, "<div class=\"big\">%.1f %%</div>", rem * 100);
        fprintf(out,
                "<div class=\"bar%s\" role=\"img\" aria-label=\"%.1f %% of the budget left\">"
                "<span style=\"width:%.1f%%\"></span></div>",
                cls, rem * 100, rem > 1 ? 100 : rem * 100);
    }
    if (rem <= 0)
        fputs("<p class=\"sub\"><span class=\"neg\">Budget exhausted</span></p>", out);
    else if (r->exhaustion_s >= 0 && isfinite(r->exhaustion_s))
        fprintf(out, "<p class=\"sub\">Exhausted in <b>%s</b> at the 1h burn rate</p>",
                page_human(r->exhaustion_s, a, sizeof(a)));
    else
        fputs("<p class=\"sub\">Exhaustion: <b>not burning</b> (1h burn rate 0)</p>", out);
    double bad = html_fin(r->period.bad, 0), total = html_fin(r->period.total, 0);
    switch (slo->sli.kind) {
    case RULES_SLI_EVENTS:
    case RULES_SLI_LATENCY:
        if (total > 0)
            fprintf(out, "<p class=\"sub\"><b>%s</b> bad of %s events this period</p>",
                    html_count(bad, a, sizeof(a)), html_count(total, b, sizeof(b)));
        else
            fputs("<p class=\"sub\">No events this period</p>", out);
        break;
    case RULES_SLI_UPTIME:
        if (total > 0)
            fprintf(out, "<p class=\"sub\">Down <b>%s</b> of %s measured</p>",
                    bad < 60 ? (bad > 0 ? "under 1m" : "0m") : page_human(bad, a, sizeof(a)),
                    page_human(total, b, sizeof(b)));
        else
            fputs("<p class=\"sub\">No samples this period</p>", out);
        break;
    default:
        break;
    }
    fputs("</section>", out);
}

/* The burn-down chart: error budget remaining, 1 - (bad/total)/(1 - objective) counted from
 * the period's start, at PAGE_CHART_POINTS times up to the evaluation, over the period. */
static void page_chart(FILE *out, const struct eval_instance *in)
{
    const struct budget_result *r = &in->res;
    const struct rules_slo *slo = in->slo;
    int64_t start = r->period_start, end = r->period_end, t = in->last_eval / 60 * 60;
    if (end <= start)
        end = start + 60;
    if (t > end)
        t = end;
    double allowed = 1 - budget_ratio(slo->objective);
    double xs[PAGE_CHART_POINTS], ys[PAGE_CHART_POINTS];
    int n = 0;
    int64_t a0 = start % 60 == 0 ? start : (start / 60 + 1) * 60, prev = a0;
    double bad = 0, total = 0;
    int64_t covered = 0;
    double lowest = 0;
    for (int k = 1; k <= PAGE_CHART_POINTS && t > a0; k++) {
        int64_t tk = (a0 + (t - a0) * k / PAGE_CHART_POINTS) / 60 * 60;
        if (k == PAGE_CHART_POINTS)
            tk = t;
        if (tk <= prev)
            continue;
        double b, tot;
        int64_t cov;
        history_sum(in->hist, prev, tk, &b, &tot, &cov);
        prev = tk;
        bad += html_fin(b, 0);
        total += html_fin(tot, 0);
        covered += cov;
        if (covered <= 0)
            continue;
        double y = total > 0 && allowed > 0 ? 1 - bad / total / allowed : 1;
        y = html_fin(y, 1);
        xs[n] = (double)(tk - start) / (double)(end - start);
        ys[n] = y;
        if (y < lowest)
            lowest = y;
        n++;
    }
    struct html_burn fr;
    html_burn_init(&fr, page_px0, page_px1, page_py0, page_py1, lowest);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>Error budget "
            "remaining over the "
            "compliance period: ",
            page_cw, page_ch);
    page_name(out, in);
    fputs("</title>", out);
    html_burn_grid(out, &fr);
    /* The time axis: the period's start and end in the SLO's zone. */
    char a[40], b[40];
    enum html_tfmt f = end - start <= 2 * 86400 ? HTML_T_CLOCK : HTML_T_DAY;
    bool rolling = slo->window.kind == RULES_WINDOW_ROLLING;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", page_px0, page_ch - 4,
            html_time(slo->timezone, start, f, a, sizeof(a)));
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", page_px1, page_ch - 4,
            rolling ? "now" : html_time(slo->timezone, end, f, b, sizeof(b)));
    if (!rolling && t < end) {
        double x = html_burn_now(out, &fr, (double)(t - start) / (double)(end - start));
        if (x > page_px0 + 40 && x < page_px1 - 40)
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">now</text>", x,
                    page_ch - 4);
    }
    if (n == 0) {
        fprintf(out,
                "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no events "
                "in the period yet</text>",
                (page_px0 + page_px1) / 2, (page_py0 + page_py1) / 2 - 10);
    } else {
        html_burn_curve(out, &fr, xs, ys, (size_t)n);
    }
    fputs("</svg>", out);
}

/* The 1h window in period_windows_s, whose burn rate the forecast uses. */
enum { PAGE_W1H = 2 };

/* Alert-tier factors per window, scaled by the period factor: the page and ticket
 * thresholds the window takes part in (0 when none). */
static const double page_page_thr[PERIOD_N_WINDOWS] = {14.4, 6, 14.4, 0, 6, 0, 0};
static const double page_ticket_thr[PERIOD_N_WINDOWS] = {0, 0, 0, 3, 1, 3, 1};

/* The burn-rate table: SLI and burn rate per alert window, values above a tier's threshold
 * highlighted, and the thresholds. */
static void page_burn_table(FILE *out, const struct eval_instance *in, size_t id, int dec)
{
    const struct budget_result *r = &in->res;
    double f = budget_period_factor(r->period_end - r->period_start);
    f = html_fin(f, 1);
    char a[48];
    fputs("<div class=\"burnbox\"><h4 id=\"burn-", out);
    fprintf(out,
            "%zu\">Burn rate by window <span>(1 = spending exactly the budget over the "
            "period)</span></h4><div class=\"scroll\"><table class=\"burn\" "
            "aria-labelledby=\"burn-%zu\"><thead><tr><th scope=\"col\"><span class=\"wide\">"
            "window</span></th>",
            id, id);
    for (int w = 0; w < PERIOD_N_WINDOWS; w++)
        fprintf(out, "<th scope=\"col\">%s</th>", period_window_names[w]);
    fputs("</tr></thead><tbody><tr><th scope=\"row\">burn<span class=\"wide\"> rate</span></th>",
          out);
    for (int w = 0; w < PERIOD_N_WINDOWS; w++) {
        double v = html_fin(r->windows[w].burn, 0);
        const char *cls = "";
        const char *what = "";
        if (page_page_thr[w] > 0 && v > page_page_thr[w] * f) {
            cls = " class=\"hot-page\"";
            what = " (above the page threshold)";
        } else if (page_ticket_thr[w] > 0 && v > page_ticket_thr[w] * f) {
            cls = " class=\"hot-ticket\"";
            what = " (above the ticket threshold)";
        }
        fprintf(out, "<td%s title=\"burn rate over %s%s\">%s</td>", cls, period_window_names[w],
                what, page_burn(v, a, sizeof(a)));
    }
    fputs("</tr><tr class=\"sli\"><th scope=\"row\">SLI</th>", out);
    for (int w = 0; w < PERIOD_N_WINDOWS; w++) {
        if (r->windows[w].total > 0)
            fprintf(out, "<td>%s %%</td>", html_pct(r->windows[w].sli, dec, a, sizeof(a)));
        else
            fputs("<td title=\"no events in this window\">\xe2\x80\x93</td>", out);
    }
    for (int tier = 0; tier < 2; tier++) {
        const double *thr = tier == 0 ? page_page_thr : page_ticket_thr;
        fprintf(
            out,
            "</tr><tr class=\"thr\"><th scope=\"row\">%s<span class=\"wide\"> above</span></th>",
            tier == 0 ? "page" : "ticket");
        for (int w = 0; w < PERIOD_N_WINDOWS; w++) {
            if (thr[w] > 0)
                fprintf(out, "<td>%s</td>", page_factor(thr[w] * f, a, sizeof(a)));
            else
                fputs("<td></td>", out);
        }
    }
    fputs("</tr></tbody></table></div></div>", out);
}

/* One alert tier's indicator. */
static void page_alert(FILE *out, const char *tier, bool enabled, bool holds, bool ticket)
{
    if (enabled && holds)
        fprintf(out, "<div class=\"al on%s\">\xe2\x97\x8f %s alert: <span>firing</span></div>",
                ticket ? " t" : "", tier);
    else if (enabled)
        fprintf(out, "<div class=\"al off\">\xe2\x97\x8b %s alert: quiet</div>", tier);
    else if (holds)
        fprintf(out,
                "<div class=\"al off held\" title=\"the condition holds but the alert is "
                "disabled\">\xe2\x97\x8c %s: condition holds (alert off)</div>",
                tier);
    else
        fprintf(out, "<div class=\"al off\">\xe2\x97\x8c %s alert: off</div>", tier);
}

/* The period, as "rolling 30d" or "month from 2026-11-01 00:00 Asia/Shanghai". */
static void page_period(FILE *out, const struct eval_instance *in)
{
    const struct rules_slo *slo = in->slo;
    char a[48], b[48];
    if (slo->window.kind == RULES_WINDOW_ROLLING) {
        fprintf(out, "rolling %s", duration_format(slo->window.duration_ms, a, sizeof(a)));
        return;
    }
    fprintf(out, "%s from %s ", rules_calendar_name(slo->window.calendar),
            in->have_result
                ? html_time(slo->timezone, in->res.period_start, HTML_T_MINUTE, a, sizeof(a))
                : "?");
    html_esc(out, slo->timezone);
    if (in->have_result)
        fprintf(out, " to %s",
                html_time(slo->timezone, in->res.period_end, HTML_T_MINUTE, b, sizeof(b)));
}

/* One SLO instance's card. */
static void page_instance(FILE *out, const struct eval_state *s, const struct eval_instance *in,
                          size_t id, int64_t now)
{
    const struct rules_slo *slo = in->slo;
    const struct budget_result *r = &in->res;
    int st = page_state(in);
    int dec = html_decimals(slo->objective);
    char a[64];
    html_card_open(out, page_state_class[st], id, slo->service->name, slo->name);
    page_labels(out, in);
    fputs("</div>", out);
    fprintf(out, "<span class=\"badge b-%s\" title=\"state: %s\">%s</span></div>",
            page_state_class[st], page_state_text[st], page_state_text[st]);
    if (slo->description[0] != '\0') {
        fputs("<p class=\"desc\">", out);
        html_esc(out, slo->description);
        fputs("</p>", out);
    }
    const struct eval_slo *es = &s->slos[in->slo_index];
    if (st == PAGE_STALE) {
        fputs("<p class=\"stale\">Stale: the last evaluation failed; the values are from ", out);
        page_utc(out, in->last_eval);
        fprintf(out, " (last state: %s).", page_state_text[r->state]);
        if (es->error[0] != '\0') {
            fputs(" Error: <span class=\"mono\">", out);
            html_esc(out, es->error);
            fputs("</span>", out);
        }
        fputs("</p>", out);
    } else if (st == PAGE_NODATA) {
        fputs("<p class=\"stale\">No results yet: this SLO has not been evaluated.", out);
        if (es->error[0] != '\0') {
            fputs(" Error: <span class=\"mono\">", out);
            html_esc(out, es->error);
            fputs("</span>", out);
        }
        fputs("</p>", out);
    }
    if (in->have_result) {
        fputs("<div class=\"panels\"><section class=\"panel\"><h4>Compliance</h4>", out);
        fprintf(out, "<div class=\"big\">%s %%", html_pct(r->period.sli, dec, a, sizeof(a)));
        if (r->period.total <= 0)
            fputs("<small>no events</small>", out);
        fputs("</div>", out);
        page_scale(out, slo, r->period.sli, dec);
        fputs("</section>", out);
        page_budget(out, in);
        fputs("<section class=\"panel\"><h4>Budget burn-down</h4>", out);
        page_chart(out, in);
        fputs("</section></div><div class=\"lower\">", out);
        page_burn_table(out, in, id, dec);
        fputs("<div class=\"alerts\"><h4>Alert conditions</h4>", out);
        page_alert(out, "Page", slo->alerting.page.enabled, r->page, false);
        page_alert(out, "Ticket", slo->alerting.ticket.enabled, r->ticket, true);
        fputs("</div></div>", out);
    }
    fputs("<dl class=\"meta\"><div><dt>Period</dt><dd>", out);
    page_period(out, in);
    fputs("</dd></div>", out);
    fprintf(out, "<div><dt>SLI</dt><dd>%s</dd></div>", rules_sli_kind_name(slo->sli.kind));
    if (in->have_result) {
        fputs("<div><dt>Last evaluation</dt><dd>", out);
        page_utc(out, in->last_eval);
        fputs("</dd></div>", out);
        fprintf(out, "<div><dt>Score</dt><dd>%.1f</dd></div>", html_fin(r->score, 0));
        if (slo->n_credits > 0)
            fprintf(out, "<div><dt>SLA credit</dt><dd>%.10g %%</dd></div>",
                    html_fin(r->credit, 0) * 100);
    }
    if (slo->service_hours.set)
        fprintf(out, "<div><dt>Service hours</dt><dd>%s</dd></div>",
                period_in_service_hours(slo, now) ? "inside now" : "outside now");
    if (period_excluded(slo, now))
        fputs("<div><dt>Exclusion</dt><dd>in an exclusion now</dd></div>", out);
    fputs("</dl></article>\n", out);
}

/* The overview table: one row per instance, linking to its card. */
static void page_overview(FILE *out, const struct eval_instance *const *v, size_t n,
                          const bool *card)
{
    char a[64], b[64], c[64];
    fputs("<div class=\"ovbox\"><table class=\"ov\"><caption>Overview</caption><thead><tr>"
          "<th scope=\"col\">SLO</th><th scope=\"col\">State</th>"
          "<th scope=\"col\" class=\"n hide-s\">Compliance</th>"
          "<th scope=\"col\" class=\"n hide-s\">Objective</th>"
          "<th scope=\"col\" class=\"n\">Budget left</th>"
          "<th scope=\"col\" class=\"n hide-s\">Burn 1h</th>"
          "<th scope=\"col\" class=\"hide-s\">Alerts</th></tr></thead><tbody>",
          out);
    for (size_t i = 0; i < n; i++) {
        const struct eval_instance *in = v[i];
        const struct budget_result *r = &in->res;
        int st = page_state(in);
        if (card[i]) {
            fprintf(out, "<tr><td><a href=\"#slo-%zu\">", i);
            page_name(out, in);
            fputs("</a></td>", out);
        } else {
            fputs("<tr><td>", out);
            page_name(out, in);
            fputs("</td>", out);
        }
        fprintf(out, "<td><span class=\"st\"><i class=\"dot d-%s\"></i>%s</span></td>",
                page_state_class[st], page_state_text[st]);
        if (!in->have_result) {
            fprintf(out,
                    "<td class=\"n hide-s\">\xe2\x80\x93</td><td class=\"n hide-s\">%s %%</td>"
                    "<td class=\"n\">\xe2\x80\x93</td><td class=\"n hide-s\">\xe2\x80\x93</td>"
                    "<td class=\"hide-s\"></td></tr>\n",
                    html_line(in->slo->objective, a, sizeof(a)));
            continue;
        }
        double rem = html_fin(r->remaining, 0);
        bool pg = r->page && in->slo->alerting.page.enabled;
        bool tk = r->ticket && in->slo->alerting.ticket.enabled;
        const char *firing = pg && tk ? "page, ticket" : pg ? "page" : tk ? "ticket" : "";
        fprintf(out,
                "<td class=\"n hide-s\">%s %%</td><td class=\"n hide-s\">%s %%</td>"
                "<td class=\"n%s\">%.1f %%</td><td class=\"n hide-s\">%s</td>"
                "<td class=\"hide-s%s\">%s</td></tr>\n",
                html_pct(r->period.sli, html_decimals(in->slo->objective), a, sizeof(a)),
                html_line(in->slo->objective, b, sizeof(b)), rem < 0 ? " neg" : "", rem * 100,
                page_burn(r->windows[PAGE_W1H].burn, c, sizeof(c)), *firing ? " firing" : "",
                *firing ? firing : "\xe2\x80\x93");
    }
    fputs("</tbody></table></div>\n", out);
}

/* The service heading: name, labels, weighted score and grade when it has results. */
static void page_service_head(FILE *out, const struct rules_service *svc,
                              const struct eval_instance *const *v, size_t n)
{
    double wsum = 0, ssum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i]->have_result)
            continue;
        size_t same = 0;
        for (size_t j = 0; j < n; j++)
            same += v[j]->slo == v[i]->slo && v[j]->have_result;
        double w = v[i]->slo->scoring.weight / (double)same;
        wsum += w;
        ssum += w * html_fin(v[i]->res.score, 0);
    }
    fputs("<div class=\"svc-head\"><h2>", out);
    html_esc(out, svc->name);
    fputs("</h2>", out);
    if (wsum > 0) {
        double score = ssum / wsum;
        int grade = budget_grade(svc, score);
        fprintf(out,
                "<span class=\"svc-score\">service score <b>%.1f</b> / 100<span class=\"grade "
                "g-%s\">%s</span></span>",
                score, budget_grade_names[grade], budget_grade_names[grade]);
    }
    if (svc->labels.n > 0) {
        fputs("<div class=\"labels\">", out);
        for (size_t i = 0; i < svc->labels.n; i++)
            html_chip(out, "<span class=\"lbl\">", svc->labels.v[i].name, svc->labels.v[i].value);
        fputs("</div>", out);
    }
    fputs("</div>\n", out);
}

void page_write(const struct eval_state *s, int64_t now, const char *version, FILE *out)
{
    size_t n = s->n_inst;
    const struct eval_instance **v = malloc((n + 1) * sizeof(*v));
    if (v == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        v[i] = s->inst[i];
    qsort(v, n, sizeof(*v), page_cmp);
    size_t counts[6] = {0};
    for (size_t i = 0; i < n; i++)
        counts[page_state(v[i])]++;
    /* The cards to show: the SLOs that are not met first, then met ones, in page order. */
    bool *card = calloc(n + 1, sizeof(*card));
    if (card == NULL)
        abort();
    size_t n_cards = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n && n_cards < PAGE_MAX_CARDS; i++)
            if (!card[i] && (pass == 1 || page_state(v[i]) != BUDGET_MET)) {
                card[i] = true;
                n_cards++;
            }

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"color-scheme\" content=\"light\">\n"
          "<meta name=\"robots\" content=\"noindex\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n",
          out);
    fprintf(out, "<title>SLO status \xe2\x80\x94 sloe (%zu SLOs", n);
    if (counts[BUDGET_BREACH] > 0)
        fprintf(out, ", %zu in breach", counts[BUDGET_BREACH]);
    fputs(")</title>\n", out);
    html_head_rest(out, page_css, sizeof(page_css) / sizeof(page_css[0]), version);
    fputs("SLO status</small></p><nav aria-label=\"machine-readable\">"
          "<a href=\"/metrics\">/metrics</a><a href=\"/api/v1/slos\">/api/v1/slos</a></nav>"
          "</div></header>\n",
          out);
    fputs("<div class=\"summary\"><div class=\"wrap\"><div class=\"evaltime\">Evaluated ", out);
    page_utc(out, now);
    fputs("</div><ul class=\"counts\" aria-label=\"SLOs by state\">", out);
    for (int st = 0; st < 6; st++) {
        if (st >= PAGE_NODATA && counts[st] == 0)
            continue;
        fprintf(out, "<li><i class=\"dot d-%s\"></i><b>%zu</b> %s</li>", page_state_class[st],
                counts[st], st == PAGE_NODATA ? "no data" : page_state_class[st]);
    }
    fputs("</ul></div></div>\n<main class=\"wrap\">\n", out);

    if (n == 0) {
        fputs("<p class=\"empty\">No SLO to show: no rule is loaded, or every SLO is grouped "
              "(group_by) and none of its groups has data yet.</p>\n",
              out);
    } else {
        page_overview(out, v, n, card);
    }
    if (n_cards < n)
        fprintf(out,
                "<p class=\"empty\">Details below for %zu of the %zu SLOs, those not met first. "
                "The table lists every SLO; <a href=\"/api/v1/slos\">/api/v1/slos</a> and "
                "<a href=\"/metrics\">/metrics</a> hold all the values.</p>\n",
                n_cards, n);
    size_t k = 0;
    for (size_t si = 0; si < s->rules->n_services; si++) {
        const struct rules_service *svc = s->rules->services[si];
        size_t first = k;
        while (k < n && v[k]->slo->service == svc)
            k++;
        if (k == first && svc->n_slos == 0)
            continue;
        fputs("<section class=\"service\">", out);
        page_service_head(out, svc, v + first, k - first);
        if (k == first)
            fputs("<p class=\"empty\">No SLO instance yet: its grouped SLOs appear once their "
                  "series have data.</p>",
                  out);
        size_t hidden = 0;
        for (size_t i = first; i < k; i++) {
            if (card[i])
                page_instance(out, s, v[i], i, now);
            else
                hidden++;
        }
        if (hidden > 0)
            fprintf(out,
                    "<p class=\"empty\">%zu more SLO%s of this service in the overview table."
                    "</p>",
                    hidden, hidden == 1 ? "" : "s");
        fputs("</section>\n", out);
    }
    /* Instances whose service was not met in order (not expected): still shown. */
    for (; k < n; k++)
        if (card[k])
            page_instance(out, s, v[k], k, now);

    fputs("</main>\n<footer class=\"foot\"><div class=\"wrap\">Generated by sloe", out);
    if (version != NULL && version[0] != '\0') {
        fputc(' ', out);
        html_esc(out, version);
    }
    fputs(" at ", out);
    page_utc(out, now);
    fputs(". Burn rate 1 spends exactly the error budget over the period; alert thresholds "
          "follow the multiwindow multi-burn-rate tiers of the SRE Workbook, scaled to the "
          "period. Machine-readable: <a href=\"/metrics\">/metrics</a>, "
          "<a href=\"/api/v1/slos\">/api/v1/slos</a>.</div></footer>\n</body>\n</html>\n",
          out);
    free(card);
    free(v);
}
