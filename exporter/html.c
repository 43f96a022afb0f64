#include "html.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "tz.h"

/* U+FFFD, written for bytes that are not valid UTF-8 and for control characters. */
static const char html_replacement[] = "\xef\xbf\xbd";

/* Length of the valid UTF-8 sequence (2 to 4 bytes) at p, or 0 when it is not one (C1
 * control characters count as invalid). */
static size_t html_utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    /* C1 control characters are not allowed in HTML text. */
    if (c == 0xc2 && p[1] <= 0x9f)
        return 0;
    return n;
}

void html_walk(FILE *out, const char *s, void (*ascii)(FILE *, unsigned char))
{
    if (s == NULL)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = html_utf8_len(p);
            if (n == 0) {
                fputs(html_replacement, out);
                p++;
            } else {
                fwrite(p, 1, n, out);
                p += n;
            }
            continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            fputs(html_replacement, out);
        else
            ascii(out, c);
        p++;
    }
}

/* One printable ASCII character (or tab, newline) escaped for HTML text and attributes. */
static void html_char(FILE *out, unsigned char c)
{
    switch (c) {
    case '&':
        fputs("&amp;", out);
        break;
    case '<':
        fputs("&lt;", out);
        break;
    case '>':
        fputs("&gt;", out);
        break;
    case '"':
        fputs("&quot;", out);
        break;
    case '\'':
        fputs("&#39;", out);
        break;
    default:
        fputc(c, out);
    }
}

void html_esc(FILE *out, const char *s)
{
    html_walk(out, s, html_char);
}

double html_fin(double v, double def)
{
    return isfinite(v) ? v : def;
}

int html_decimals(double objective)
{
    int d = 0;
    while (d < 5 && fabs(objective * pow(10, d) - nearbyint(objective * pow(10, d))) > 1e-6)
        d++;
    d += 2;
    return d > 6 ? 6 : d;
}

char *html_pct(double ratio, int dec, char *buf, size_t size)
{
    if (!isfinite(ratio)) {
        snprintf(buf, size, "\xe2\x80\x93");
        return buf;
    }
    double scale = pow(10, dec);
    double v = floor(ratio * 100 * scale + 1e-6) / scale;
    snprintf(buf, size, "%.*f", dec, v);
    return buf;
}

char *html_line(double percent, char *buf, size_t size)
{
    snprintf(buf, size, "%.10g", html_fin(percent, 0));
    return buf;
}

char *html_count(double v, char *buf, size_t size)
{
    v = html_fin(v, 0);
    char raw[64];
    bool whole = fabs(v - nearbyint(v)) < 0.05 || fabs(v) >= 100;
    snprintf(raw, sizeof(raw), whole ? "%.0f" : "%.1f", whole ? nearbyint(v) : v);
    const char *dot = strchr(raw, '.');
    size_t int_len = dot ? (size_t)(dot - raw) : strlen(raw);
    size_t start = raw[0] == '-' ? 1 : 0, o = 0;
    for (size_t i = 0; raw[i] != '\0' && o + 2 < size; i++) {
        if (i > start && i < int_len && (int_len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

char *html_time(const char *zone, int64_t t, enum html_tfmt fmt, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (zone == NULL || tz_utc_to_local(zone, t, &tm) != 0)
        gmtime_r(&tt, &tm);
    size_t n = 0;
    switch (fmt) {
    case HTML_T_FULL:
        n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
        break;
    case HTML_T_MINUTE:
        n = strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
        break;
    case HTML_T_MINUTE_UTC:
        n = strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
        break;
    case HTML_T_SHORT:
        n = strftime(buf, size, "%m-%d %H:%M", &tm);
        break;
    case HTML_T_DAY:
        n = strftime(buf, size, "%b %d", &tm);
        break;
    case HTML_T_CLOCK:
        n = strftime(buf, size, "%H:%M", &tm);
        break;
    }
    if (n == 0 && size > 0)
        buf[0] = '\0';
    return buf;
}

void html_scale_init(struct html_scale *s, double objective, double warning, double minimum,
                     double compliance)
{
    s->objective = objective;
    s->warning = warning;
    s->minimum = minimum;
    s->at = html_fin(compliance, 1) * 100;
    double gap = 100 - minimum;
    if (!(gap > 0))
        gap = 0.1;
    double span = 2 * gap;
    if (100 - s->at > 0.92 * span)
        span = (100 - s->at) / 0.92;
    if (span > 100)
        span = 100;
    s->span = span;
    s->lo = 100 - span;
}

/* The x of a percentage on the scale's 300 units, clamped to its range. */
static double html_scale_x(const struct html_scale *s, double v)
{
    return (v < s->lo ? 0 : (v > 100 ? 100 : v) - s->lo) / s->span * 300;
}

void html_scale_svg(FILE *out, const struct html_scale *s, int height, bool every_line)
{
    fprintf(out,
            "<svg class=\"scale\" viewBox=\"0 0 300 %d\" preserveAspectRatio=\"none\" "
            "aria-hidden=\"true\" focusable=\"false\">",
            height);
    struct {
        double a, b;
        const char *fill;
    } zones[4] = {{s->lo, s->minimum, "#ffd8d3"},
                  {s->minimum, s->warning, "#ffe2c2"},
                  {s->warning, s->objective, "#fff0a8"},
                  {s->objective, 100, "#cdeed6"}};
    for (int z = 0; z < 4; z++)
        if (zones[z].b > zones[z].a)
            fprintf(out, "<rect x=\"%.2f\" y=\"3\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>",
                    html_scale_x(s, zones[z].a),
                    html_scale_x(s, zones[z].b) - html_scale_x(s, zones[z].a), height - 6,
                    zones[z].fill);
    /* A line equal to the next one up would be drawn under it: skip it. */
    struct {
        double v;
        const char *color;
    } lines[3] = {{s->minimum, "#cf222e"}, {s->warning, "#bc4c00"}, {s->objective, "#1a7f37"}};
    for (int l = every_line ? 0 : 2; l < 3; l++)
        if (l == 2 || lines[l].v < lines[l + 1].v)
            fprintf(out,
                    "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"1\" y2=\"%d\" stroke=\"%s\" "
                    "stroke-width=\"2\" vector-effect=\"non-scaling-stroke\"/>",
                    html_scale_x(s, lines[l].v), html_scale_x(s, lines[l].v), height - 1,
                    lines[l].color);
    double x = html_scale_x(s, s->at);
    fprintf(out,
            "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"0\" y2=\"%d\" stroke=\"#1f2328\" "
            "stroke-width=\"4\" vector-effect=\"non-scaling-stroke\"/></svg>",
            x, x, height);
}

void html_burn_init(struct html_burn *b, double x0, double x1, double y0, double y1, double lowest)
{
    b->x0 = x0;
    b->x1 = x1;
    b->y0 = y0;
    b->y1 = y1;
    double ymin = lowest < 0 ? lowest : 0;
    /* Round steps keep the labels short; below -100 % the chart would be mostly overspend. */
    b->clipped = ymin < -1;
    if (ymin < 0)
        ymin = b->clipped ? -1 : floor(ymin * 4) / 4;
    b->ymin = ymin;
}

double html_burn_x(const struct html_burn *b, double share)
{
    return b->x0 + share * (b->x1 - b->x0);
}

double html_burn_y(const struct html_burn *b, double left)
{
    double v = left < b->ymin ? b->ymin : (left > 1 ? 1 : left);
    return b->y0 + (1 - v) / (1 - b->ymin) * (b->y1 - b->y0);
}

/* One horizontal grid line across the plot at budget left v, labelled prefix and v in percent. */
static void html_burn_rule(FILE *out, const struct html_burn *b, const char *cls, double v,
                           const char *prefix)
{
    double y = html_burn_y(b, v);
    fprintf(out,
            "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s%.0f%%</text>",
            cls, b->x0, b->x1, y, y, b->x0 - 4, y + 3.5, prefix, v * 100);
}

void html_burn_grid(FILE *out, const struct html_burn *b)
{
    html_burn_rule(out, b, "grid", 1, "");
    html_burn_rule(out, b, "grid", 0.5, "");
    if (b->ymin < 0)
        html_burn_rule(out, b, "grid", b->ymin, b->clipped ? "\xe2\x89\xa4" : "");
    html_burn_rule(out, b, "zero", 0, "");
}

double html_burn_now(FILE *out, const struct html_burn *b, double share)
{
    double x = html_burn_x(b, share);
    fprintf(out, "<line class=\"nowl\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x,
            b->y0, b->y1);
    return x;
}

void html_burn_curve(FILE *out, const struct html_burn *b, const double *share, const double *left,
                     size_t n)
{
    const char *neg = left[n - 1] < 0 ? " neg" : "";
    fprintf(out, "<polygon class=\"area%s\" points=\"%.1f,%.1f", neg, html_burn_x(b, share[0]),
            html_burn_y(b, 0));
    for (size_t k = 0; k < n; k++)
        fprintf(out, " %.1f,%.1f", html_burn_x(b, share[k]), html_burn_y(b, left[k]));
    fprintf(out, " %.1f,%.1f\"/>", html_burn_x(b, share[n - 1]), html_burn_y(b, 0));
    fprintf(out, "<polyline class=\"line%s\" points=\"", neg);
    for (size_t k = 0; k < n; k++)
        fprintf(out, "%s%.1f,%.1f", k ? " " : "", html_burn_x(b, share[k]),
                html_burn_y(b, left[k]));
    fputs("\"/>", out);
    fprintf(out, "<circle class=\"pt%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", neg,
            html_burn_x(b, share[n - 1]), html_burn_y(b, left[n - 1]));
}

/* The stylesheet rules the status page and the report share: colours, the header, the
 * summary, service and SLO cards, labels, charts, tables and the footer. */
static const char *const html_css_rules[] = {
    ":root{--bg:#f5f6f8;--card:#fff;--fg:#1f2328;--muted:#5c6670;--line:#d5dbe1;"
    "--soft:#eef1f4;--met:#1a7f37;--deg:#b08800;--warn:#bc4c00;--breach:#cf222e;"
    "--nodata:#6e7781;--accent:#0969da;"
    "--met-t:#dcf5e3;--deg-t:#fff6c7;--warn-t:#ffe9d6;--breach-t:#ffe3e1}\n",
    "*{box-sizing:border-box}\n",
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n",
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,"
    "-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",\"Liberation Sans\","
    "Arial,sans-serif;font-variant-numeric:tabular-nums}\n",
    ".wrap{max-width:1200px;margin:0 auto;padding:0 20px}\n",
    ".top{background:#1f2328;color:#f0f3f6}\n",
    ".top .wrap{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 18px;padding-top:14px;"
    "padding-bottom:14px}\n",
    ".brand{font-size:22px;font-weight:700;letter-spacing:.02em;margin:0}\n",
    ".brand small{font-size:13px;font-weight:400;color:#aab4be;margin-left:8px;"
    "letter-spacing:0}\n",
    ".summary{background:var(--card);border-bottom:1px solid var(--line)}\n",
    ".summary .wrap{display:flex;flex-wrap:wrap;align-items:center;gap:8px 22px;"
    "padding-top:12px;padding-bottom:12px}\n",
    ".evaltime{color:var(--muted);font-size:14px}\n",
    ".counts{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}\n",
    ".counts li{display:flex;align-items:center;gap:6px;border:1px solid var(--line);"
    "border-radius:999px;padding:2px 12px 2px 8px;font-size:14px;background:var(--card)}\n",
    ".counts b{font-size:16px}\n",
    ".dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
    "background:var(--nodata);flex:none}\n",
    ".d-met{background:var(--met)}.d-degraded{background:#e3b400}"
    ".d-warning{background:var(--warn)}.d-breach{background:var(--breach)}\n",
    "main{padding:8px 0 32px}\n",
    "h2{font-size:19px;margin:0}\n",
    ".svc-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;"
    "padding-bottom:8px;margin-bottom:12px;border-bottom:2px solid var(--line)}\n",
    ".svc-score{font-size:14px;color:var(--muted)}\n",
    ".svc-score b{color:var(--fg);font-size:16px}\n",
    ".grade{display:inline-block;border-radius:4px;padding:1px 8px;font-size:12px;"
    "font-weight:700;text-transform:uppercase;letter-spacing:.04em;margin-left:6px;"
    "border:1px solid}\n",
    ".g-excellent{color:var(--met);background:var(--met-t)}"
    ".g-pass{color:#7a5c00;background:var(--deg-t)}"
    ".g-fail{color:var(--breach);background:var(--breach-t)}\n",
    ".labels{display:flex;flex-wrap:wrap;gap:4px 6px}\n",
    ".lbl{display:inline-block;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "\"Liberation Mono\",monospace;font-size:12px;background:var(--soft);color:#424a53;"
    "border-radius:4px;padding:1px 6px;overflow-wrap:anywhere}\n",
    ".lbl.grp{background:#ddeeff;color:#0a3069}\n",
    ".slo{background:var(--card);border:1px solid var(--line);border-left:5px solid "
    "var(--nodata);border-radius:8px;padding:14px 18px 12px;margin:0 0 14px;"
    "box-shadow:0 1px 2px rgba(31,35,40,.06)}\n",
    ".slo.s-met{border-left-color:var(--met)}.slo.s-degraded{border-left-color:#e3b400}"
    ".slo.s-warning{border-left-color:var(--warn)}.slo.s-breach{border-left-color:var(--breach)}"
    "\n",
    ".slo-head{display:flex;align-items:flex-start;justify-content:space-between;gap:12px}\n",
    ".slo-head h3{margin:0 0 4px;font-size:17px;overflow-wrap:anywhere}\n",
    ".slo-head h3 .svc{color:var(--muted);font-weight:400}\n",
    ".badge{flex:none;display:inline-block;border-radius:999px;padding:3px 12px;font-size:13px;"
    "font-weight:700;letter-spacing:.03em;text-transform:uppercase;color:#fff;"
    "background:var(--nodata);white-space:nowrap}\n",
    ".badge.b-met{background:var(--met)}.badge.b-degraded{background:#f2c500;color:#3d2e00}"
    ".badge.b-warning{background:var(--warn)}.badge.b-breach{background:var(--breach)}\n",
    ".desc{margin:4px 0 0;color:var(--muted);overflow-wrap:anywhere}\n",
    ".slo h4{margin:0;font-size:12px;font-weight:600;color:var(--muted);"
    "text-transform:uppercase;letter-spacing:.05em}\n",
    ".big.neg{color:var(--breach)}\n",
    ".sub b{color:var(--fg);font-weight:600}\n",
    ".chart text{font-size:10px;fill:var(--muted);font-family:inherit}\n",
    ".chart .grid{stroke:var(--line);stroke-width:1}\n",
    ".chart .zero{stroke:var(--breach);stroke-width:1.2;stroke-dasharray:4 3}\n",
    ".chart .nowl{stroke:var(--muted);stroke-width:1;stroke-dasharray:2 3}\n",
    ".chart .area{fill:var(--accent);fill-opacity:.12;stroke:none}\n",
    ".chart .line{fill:none;stroke:var(--accent);stroke-width:2;stroke-linejoin:round}\n",
    ".chart .line.neg{stroke:var(--breach)}.chart .area.neg{fill:var(--breach)}\n",
    ".chart .pt{fill:var(--accent)}.chart .pt.neg{fill:var(--breach)}\n",
    ".meta{display:flex;flex-wrap:wrap;gap:2px 20px;margin:12px 0 0;padding-top:8px;"
    "border-top:1px solid var(--soft);font-size:13px;color:var(--muted)}\n",
    ".meta div{display:flex;gap:5px}\n",
    ".meta dt{font-weight:600}\n",
    ".meta dd{margin:0;color:var(--fg);overflow-wrap:anywhere}\n",
    ".ovbox{overflow-x:auto;margin-top:18px}\n",
    ".ov caption{text-align:left;font-size:19px;font-weight:700;padding:0 0 8px}\n",
    ".ov th,.ov td{padding:6px 10px;text-align:left;border-bottom:1px solid var(--soft);"
    "vertical-align:middle}\n",
    ".ov thead th{font-size:12px;color:var(--muted);text-transform:uppercase;"
    "letter-spacing:.05em;border-bottom:1px solid var(--line);white-space:nowrap}\n",
    ".ov .st{display:inline-flex;align-items:center;gap:6px;white-space:nowrap}\n",
    ".ov a:hover{text-decoration:underline}\n",
    "footer.foot{color:var(--muted);font-size:13px;border-top:1px solid var(--line);"
    "padding:14px 0 28px}\n",
};

void html_css(FILE *out)
{
    for (size_t i = 0; i < sizeof(html_css_rules) / sizeof(html_css_rules[0]); i++)
        fputs(html_css_rules[i], out);
}

void html_head_rest(FILE *out, const char *const *rules, size_t n, const char *version)
{
    fputs("<style>\n", out);
    html_css(out);
    for (size_t i = 0; i < n; i++)
        fputs(rules[i], out);
    fputs("</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\">"
          "<p class=\"brand\">sloe<small>",
          out);
    if (version != NULL && version[0] != '\0') {
        fputs("version ", out);
        html_esc(out, version);
        fputs(" \xc2\xb7 ", out);
    }
}

void html_chip(FILE *out, const char *open, const char *name, const char *value)
{
    fputs(open, out);
    html_esc(out, name);
    fputc('=', out);
    if (value == NULL)
        fputs("<i>(none)</i>", out);
    else
        html_esc(out, value);
    fputs("</span>", out);
}

void html_card_open(FILE *out, const char *state, size_t id, const char *service, const char *slo)
{
    fprintf(out, "<article class=\"slo s-%s\" id=\"slo-%zu\"><div class=\"slo-head\"><div>", state,
            id);
    fputs("<h3><span class=\"svc\">", out);
    html_esc(out, service);
    fputs(" / </span>", out);
    html_esc(out, slo);
    fputs("</h3>", out);
}
