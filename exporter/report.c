#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "html.h"
#include "mask.h"
#include "period.h"
#include "tz.h"

const char *const report_kind_names[4] = {"day", "week", "month", "quarter"};

static const int64_t report_day_s = 86400;

/* ---- periods ---- */

/* Reads exactly n decimal digits at s. */
static int report_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool report_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int report_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && report_leap(y) ? 29 : days[m - 1];
}

int report_iso_weeks(int year)
{
    /* A year has 53 ISO weeks when it starts on a Thursday, or is a leap year starting on a
     * Wednesday: p(y) is the weekday of December 31st (0 Sunday). */
    int y = year, z = year - 1;
    int p = (y + y / 4 - y / 100 + y / 400) % 7;
    int q = (z + z / 4 - z / 100 + z / 400) % 7;
    return p == 4 || q == 3 ? 53 : 52;
}

int report_period_parse(const char *s, struct report_period *p)
{
    int y, a, b;
    if (s == NULL || report_digits(s, 4, &y) != 0 || s[4] != '-' || y < 1970)
        return -1;
    const char *q = s + 5;
    size_t len = strlen(q);
    memset(p, 0, sizeof(*p));
    p->year = y;
    if ((q[0] == 'Q' || q[0] == 'q') && len == 2 && q[1] >= '1' && q[1] <= '4') {
        p->kind = REPORT_QUARTER;
        p->num = q[1] - '0';
    } else if ((q[0] == 'W' || q[0] == 'w') && len == 3 && report_digits(q + 1, 2, &a) == 0 &&
               a >= 1 && a <= report_iso_weeks(y)) {
        p->kind = REPORT_WEEK;
        p->num = a;
    } else if (len == 2 && report_digits(q, 2, &a) == 0 && a >= 1 && a <= 12) {
        p->kind = REPORT_MONTH;
        p->num = a;
    } else if (len == 5 && report_digits(q, 2, &a) == 0 && q[2] == '-' &&
               report_digits(q + 3, 2, &b) == 0 && a >= 1 && a <= 12 && b >= 1 &&
               b <= report_month_days(y, a)) {
        p->kind = REPORT_DAY;
        p->num = a;
        p->day = b;
    } else {
        return -1;
    }
    return 0;
}

char *report_period_name(const struct report_period *p, char *buf, size_t size)
{
    switch (p->kind) {
    case REPORT_DAY:
        snprintf(buf, size, "%04d-%02d-%02d", p->year, p->num, p->day);
        break;
    case REPORT_WEEK:
        snprintf(buf, size, "%04d-W%02d", p->year, p->num);
        break;
    case REPORT_MONTH:
        snprintf(buf, size, "%04d-%02d", p->year, p->num);
        break;
    case REPORT_QUARTER:
        snprintf(buf, size, "%04d-Q%d", p->year, p->num);
        break;
    }
    return buf;
}

/* The civil date y-m-d after normalising day and month overflow (the 0th is the last of the
 * month before). */
static void report_norm(int y, int m, int d, struct tm *out)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    gmtime_r(&t, out);
}

void report_period_prev(const struct report_period *p, struct report_period *out)
{
    *out = *p;
    switch (p->kind) {
    case REPORT_DAY: {
        struct tm tm;
        report_norm(p->year, p->num, p->day - 1, &tm);
        out->year = tm.tm_year + 1900;
        out->num = tm.tm_mon + 1;
        out->day = tm.tm_mday;
        break;
    }
    case REPORT_WEEK:
        if (--out->num < 1) {
            out->year--;
            out->num = report_iso_weeks(out->year);
        }
        break;
    case REPORT_MONTH:
        if (--out->num < 1) {
            out->year--;
            out->num = 12;
        }
        break;
    case REPORT_QUARTER:
        if (--out->num < 1) {
            out->year--;
            out->num = 4;
        }
        break;
    }
}

/* Unix time of local midnight of civil day y-m-d (normalised) in zone. */
static int report_midnight(const char *zone, int y, int m, int d, int64_t *out)
{
    struct tm tm;
    report_norm(y, m, d, &tm);
    return tz_local_to_utc(zone, &tm, out);
}

/* The first day of the period (y, m, d, normalised) and the number of days after it that the
 * period ends (as a day or month offset). */
int report_period_bounds(const struct report_period *p, const char *zone, int64_t *start,
                         int64_t *end)
{
    int y = p->year, m = 1, d = 1, dm = 0, dd = 0;
    switch (p->kind) {
    case REPORT_DAY:
        m = p->num;
        d = p->day;
        dd = 1;
        break;
    case REPORT_WEEK: {
        struct tm jan4;
        report_norm(y, 1, 4, &jan4);
        int wd = (jan4.tm_wday + 6) % 7; /* Monday 0 */
        d = 4 - wd + 7 * (p->num - 1);
        dd = 7;
        break;
    }
    case REPORT_MONTH:
        m = p->num;
        dm = 1;
        break;
    case REPORT_QUARTER:
        m = 3 * (p->num - 1) + 1;
        dm = 3;
        break;
    }
    if (report_midnight(zone, y, m, d, start) != 0 ||
        report_midnight(zone, y, m + dm, d + dd, end) != 0)
        return -1;
    return 0;
}

int report_format_parse(const char *s, enum report_format *out)
{
    static const struct {
        const char *name;
        enum report_format f;
    } names[] = {{"markdown", REPORT_MARKDOWN},
                 {"md", REPORT_MARKDOWN},
                 {"html", REPORT_HTML},
                 {"csv", REPORT_CSV},
                 {"json", REPORT_JSON}};
    for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].f;
            return 0;
        }
    return -1;
}

/* ---- escaping ---- */

static void report_plain_char(FILE *out, unsigned char c)
{
    fputc(c, out);
}

/* Markdown: punctuation that makes markup inside a line (emphasis, code, links, HTML, table
 * cells, entities) is backslash-escaped, as CommonMark allows for any ASCII punctuation; line
 * breaks become spaces, so that a table row stays one row. User strings never start a line
 * in the report, so list and heading markers need no escape. */
static void report_md_char(FILE *out, unsigned char c)
{
    if (c == '\n' || c == '\t') {
        fputc(' ', out);
        return;
    }
    if (strchr("\\`*_[]<>|&~", c) != NULL)
        fputc('\\', out);
    fputc(c, out);
}

static void report_md_esc(FILE *out, const char *s)
{
    html_walk(out, s, report_md_char);
}

void report_csv_field(FILE *out, const char *s)
{
    if (s == NULL)
        return;
    size_t len = strlen(s);
    bool quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    for (const char *p = s; !quote && *p; p++)
        quote = *p == ',' || *p == '"' || *p == '\r' || *p == '\n';
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* ---- numbers and times as text ---- */

/* html_pct, except that a ratio that is not finite shows as 0 rather than a dash. */
static char *report_pct(double ratio, int dec, char *buf, size_t size)
{
    return html_pct(html_fin(ratio, 0), dec, buf, size);
}

/* A span of whole minutes, zero parts left out: "40m", "1h 7m", "2d 3h", "0m" for none. */
static char *report_dur(int64_t s, char *buf, size_t size)
{
    long long m = (long long)(s / 60), h = m / 60, d = h / 24;
    long long parts[3] = {d, h % 24, m % 60};
    static const char units[3] = {'d', 'h', 'm'};
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < 3 && o < size; i++)
        if (parts[i] > 0)
            o += (size_t)snprintf(buf + o, size - o, "%s%lld%c", o ? " " : "", parts[i], units[i]);
    if (o == 0)
        snprintf(buf, size, "0m");
    return buf;
}

/* t in zone as RFC 3339 with the zone's offset: "2026-10-01T00:00:00+08:00". */
static char *report_iso(const char *zone, int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    long off = 0;
    if (zone != NULL && tz_utc_to_local(zone, t, &tm) == 0)
        off = tm.tm_gmtoff;
    else
        gmtime_r(&tt, &tm);
    char base[40];
    if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        base[0] = '\0';
    if (off == 0) {
        snprintf(buf, size, "%sZ", base);
    } else {
        long a = off < 0 ? -off : off;
        snprintf(buf, size, "%s%c%02ld:%02ld", base, off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
    }
    return buf;
}

/* "route=/pay, code=500" for the instance's group values; "" without. Malloc'd. */
static char *report_group_text(const struct report_inst *in)
{
    size_t len = 1;
    const struct rules_slo *slo = in->slo;
    if (in->values == NULL)
        return strdup("");
    for (size_t g = 0; g < slo->n_group_by; g++)
        len += strlen(slo->group_by[g]) + strlen(in->values[g]) + 3;
    char *s = malloc(len);
    if (s == NULL)
        abort();
    s[0] = '\0';
    for (size_t g = 0; g < slo->n_group_by; g++) {
        if (g > 0)
            strcat(s, ", ");
        strcat(s, slo->group_by[g]);
        strcat(s, "=");
        strcat(s, in->values[g]);
    }
    return s;
}

/* Writes " (route=/pay, code=500)" for an instance of a group_by SLO, through esc (the
 * format's escaping); nothing for one without. */
static void report_group_suffix(FILE *out, const struct report_inst *in,
                                void (*esc)(FILE *, const char *))
{
    if (in->values == NULL)
        return;
    char *g = report_group_text(in);
    fputs(" (", out);
    esc(out, g);
    fputc(')', out);
    free(g);
}

/* True for SLIs that count events (events, latency), whose counts are requests. */
static bool report_occurrences(const struct rules_slo *slo)
{
    return slo->sli.kind == RULES_SLI_EVENTS || slo->sli.kind == RULES_SLI_LATENCY;
}

/* The window as written: "30d", "month". */
static char *report_window(const struct rules_slo *slo, char *buf, size_t size)
{
    if (slo->window.kind == RULES_WINDOW_ROLLING)
        return duration_format(slo->window.duration_ms, buf, size);
    snprintf(buf, size, "%s", rules_calendar_name(slo->window.calendar));
    return buf;
}

/* ---- analysis ---- */

/* t rounded down and up to a multiple of step (t may be negative). */
static int64_t report_floor(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step != 0 && t < 0)
        q--;
    return q * step;
}

static int64_t report_ceil(int64_t t, int64_t step)
{
    return -report_floor(-t, step);
}

/* A count as the evaluator takes it: finite and not negative, else 0. */
static double report_val(const double *v, size_t k)
{
    return v != NULL && isfinite(v[k]) && v[k] > 0 ? v[k] : 0;
}

/* good / total, 1 with no events. */
static double report_sli(double bad, double total)
{
    struct budget_window w;
    budget_window(bad, total, 50, &w);
    return w.sli;
}

/* The 1h window in period_windows_s. */
enum { REPORT_W1H = 2 };

size_t report_episodes(const struct rules_slo *slo, int64_t t0, size_t n, const double *bad,
                       const double *total, int64_t from, int64_t to, struct report_episode **out)
{
    *out = NULL;
    if (n == 0 || to < from)
        return 0;
    double *pb = malloc((n + 1) * sizeof(double)), *pt = malloc((n + 1) * sizeof(double));
    if (pb == NULL || pt == NULL)
        abort();
    pb[0] = pt[0] = 0;
    for (size_t k = 0; k < n; k++) {
        pb[k + 1] = pb[k] + report_val(bad, k);
        pt[k + 1] = pt[k] + report_val(total, k);
    }
    struct report_episode *ep = NULL;
    size_t n_ep = 0, cap = 0;
    long open[2] = {-1, -1}, last[2] = {-1, -1};
    int64_t ps = 0, pe = 0, plen = slo->window.duration_ms / 1000;
    bool calendar = slo->window.kind == RULES_WINDOW_CALENDAR;
    for (int64_t t = from; t <= to; t += 60) {
        /* The burn-rate factor of the SLO's own period at t: a calendar period is looked up
         * once, a rolling one is its window. */
        if (calendar && (pe == 0 || t < ps || t >= pe)) {
            if (period_bounds(slo, t, &ps, &pe) != 0 || pe <= ps) {
                ps = t;
                pe = t + 60;
                plen = 30 * report_day_s;
            } else {
                plen = pe - ps;
            }
        }
        struct budget_result r;
        memset(&r, 0, sizeof(r));
        int64_t hi = report_floor(t - t0, 60) / 60;
        for (int w = 0; w < PERIOD_N_WINDOWS; w++) {
            int64_t lo = report_floor(t - period_windows_s[w] - t0, 60) / 60 + 1;
            int64_t a = lo < 0 ? 0 : lo, b = hi > (int64_t)n - 1 ? (int64_t)n - 1 : hi;
            double sb = 0, st = 0;
            if (b >= a) {
                sb = pb[b + 1] - pb[a];
                st = pt[b + 1] - pt[a];
            }
            budget_window(sb, st, slo->objective, &r.windows[w]);
        }
        budget_window(0, 0, slo->objective, &r.period);
        budget_finish(slo, plen, &r);
        bool holds[2] = {r.page, r.ticket};
        double burn = r.windows[REPORT_W1H].burn;
        for (int sev = 0; sev < 2; sev++) {
            if (holds[sev] && open[sev] < 0 && last[sev] >= 0 &&
                t - ep[last[sev]].end < REPORT_EPISODE_GAP) {
                open[sev] = last[sev]; /* flapping: the same episode goes on */
                ep[open[sev]].held += 60;
                if (burn > ep[open[sev]].peak)
                    ep[open[sev]].peak = burn;
            } else if (holds[sev] && open[sev] < 0) {
                if (n_ep == cap) {
                    cap = cap ? 2 * cap : 8;
                    ep = realloc(ep, cap * sizeof(*ep));
                    if (ep == NULL)
                        abort();
                }
                ep[n_ep] =
                    (struct report_episode){(enum report_severity)sev, t, t, 60, false, burn};
                open[sev] = last[sev] = (long)n_ep++;
            } else if (holds[sev]) {
                ep[open[sev]].held += 60;
                if (burn > ep[open[sev]].peak)
                    ep[open[sev]].peak = burn;
            } else if (open[sev] >= 0) {
                ep[open[sev]].end = t;
                open[sev] = -1;
            }
        }
    }
    for (int sev = 0; sev < 2; sev++)
        if (open[sev] >= 0) {
            ep[open[sev]].end = report_floor(to, 60);
            ep[open[sev]].open = true;
        }
    free(pb);
    free(pt);
    *out = ep;
    return n_ep;
}

size_t report_worst_days(const struct report_day *days, size_t n, size_t k, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n && k > 0; i++) {
        if (!(days[i].total > 0) || !(days[i].bad > 0))
            continue;
        double c = report_sli(days[i].bad, days[i].total);
        /* Insertion into the sorted list; a later day goes after an equal one. */
        size_t at = m;
        while (at > 0 && report_sli(days[idx[at - 1]].bad, days[idx[at - 1]].total) > c)
            at--;
        if (at >= k)
            continue;
        size_t last = m < k ? m : k - 1;
        for (size_t j = last; j > at; j--)
            idx[j] = idx[j - 1];
        idx[at] = i;
        if (m < k)
            m++;
    }
    return m;
}

/* An interval of counts of the period: (end - len, end]. */
struct report_seg {
    int64_t end, len;
    double bad, total;
};

/* The minute ending at t, or false when the counts lack it. */
static bool report_minute(const struct report_counts *c, int64_t t, double *bad, double *total)
{
    if (c->n_min == 0 || t < c->min_t0 || (t - c->min_t0) % 60 != 0)
        return false;
    size_t k = (size_t)((t - c->min_t0) / 60);
    if (k >= c->n_min)
        return false;
    *bad = report_val(c->min_bad, k);
    *total = report_val(c->min_total, k);
    return true;
}

/* Hourly counts over (a, b], an hour straddling either end counted pro rata (as the
 * evaluator's history does). */
static void report_hsum(const struct report_counts *c, int64_t a, int64_t b, double *bad,
                        double *total)
{
    double sb = 0, st = 0;
    for (size_t k = 0; k < c->n_hour; k++) {
        int64_t e = c->hour_t0 + 3600 * (int64_t)k, s = e - 3600;
        int64_t over = (e < b ? e : b) - (s > a ? s : a);
        if (over <= 0)
            continue;
        double frac = (double)over / 3600.0;
        sb += frac * report_val(c->hour_bad, k);
        st += frac * report_val(c->hour_total, k);
    }
    *bad = sb;
    *total = st;
}

/* The intervals that make up (start, to]: the whole hours inside it from the hourly counts
 * when the SLO has no service hours or exclusions (as sloe eval sums a calendar period), and
 * minutes for the rest. Returns the number; *out is malloc'd. */
static size_t report_segments(const struct rules_slo *slo, const struct report_counts *c,
                              int64_t start, int64_t to, struct report_seg **out)
{
    *out = NULL;
    if (to <= start)
        return 0;
    bool hours = !mask_active(slo) && c->n_hour > 0 && c->hour_t0 % 3600 == 0;
    int64_t h_lo = report_ceil(start, 3600), h_hi = report_floor(to, 3600);
    if (hours) {
        int64_t first = c->hour_t0 - 3600, last = c->hour_t0 + 3600 * (int64_t)(c->n_hour - 1);
        if (h_lo < first)
            h_lo = first;
        if (h_hi > last)
            h_hi = last;
        hours = h_hi > h_lo;
    }
    size_t cap = hours ? (size_t)((h_lo - start) / 60 + (h_hi - h_lo) / 3600 + (to - h_hi) / 60)
                       : (size_t)((to - start) / 60);
    struct report_seg *seg = malloc((cap + 1) * sizeof(*seg));
    if (seg == NULL)
        abort();
    size_t n = 0;
    for (int64_t pos = start; pos < to && n < cap + 1;) {
        if (hours && pos == h_lo) {
            for (int64_t e = h_lo + 3600; e <= h_hi; e += 3600) {
                size_t k = (size_t)((e - c->hour_t0) / 3600);
                seg[n++] = (struct report_seg){e, 3600, report_val(c->hour_bad, k),
                                               report_val(c->hour_total, k)};
            }
            pos = h_hi;
            continue;
        }
        double b = 0, t = 0;
        (void)report_minute(c, pos + 60, &b, &t);
        seg[n++] = (struct report_seg){pos + 60, 60, b, t};
        pos += 60;
    }
    *out = seg;
    return n;
}

const struct report_slo_period *report_slo_period(struct report *r, size_t i)
{
    struct report_slo_period *sp = &r->per_slo[i];
    if (sp->ready)
        return sp;
    const char *zone = r->rules->slos[i]->timezone;
    if (report_period_bounds(&r->period, zone, &sp->start, &sp->end) != 0)
        return NULL;
    /* Every zone of this century has whole-minute offsets; be safe with older ones. */
    sp->start = report_ceil(sp->start, 60);
    sp->end = report_ceil(sp->end, 60);
    sp->measured_to = r->now < sp->end ? r->now : sp->end;
    if (sp->measured_to < sp->start)
        sp->measured_to = sp->start;
    struct report_period a = r->period, b;
    for (int j = 0; j < 2; j++) {
        report_period_prev(&a, &b);
        if (report_period_bounds(&b, zone, &sp->prev_start[j], &sp->prev_end[j]) != 0)
            return NULL;
        report_period_name(&b, sp->prev_name[j], sizeof(sp->prev_name[j]));
        a = b;
    }
    struct tm lt;
    if (tz_utc_to_local(zone, sp->start, &lt) != 0)
        return NULL;
    size_t cap = 100;
    sp->day_starts = malloc((cap + 1) * sizeof(*sp->day_starts));
    sp->day_dates = malloc(cap * sizeof(*sp->day_dates));
    if (sp->day_starts == NULL || sp->day_dates == NULL)
        abort();
    sp->day_starts[0] = sp->start;
    size_t n = 0;
    while (n < cap && sp->day_starts[n] < sp->end) {
        struct tm d;
        report_norm(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday + (int)n, &d);
        if (strftime(sp->day_dates[n], sizeof(sp->day_dates[n]), "%Y-%m-%d", &d) == 0)
            sp->day_dates[n][0] = '\0';
        int64_t next;
        if (report_midnight(zone, lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday + (int)n + 1,
                            &next) != 0)
            return NULL;
        next = report_ceil(next, 60);
        if (next <= sp->day_starts[n] || next > sp->end)
            next = sp->end;
        sp->day_starts[++n] = next;
    }
    sp->n_days = n;
    sp->ready = true;
    return sp;
}

struct report *report_new(const struct rules_set *rules, const struct report_period *p, int64_t now,
                          int64_t generated_at)
{
    struct report *r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    r->rules = rules;
    r->period = *p;
    report_period_name(p, r->name, sizeof(r->name));
    r->now = report_floor(now, 60);
    r->generated_at = generated_at;
    r->per_slo = calloc(rules->n_slos + 1, sizeof(*r->per_slo));
    if (r->per_slo == NULL)
        abort();
    return r;
}

static struct report_inst *report_push(struct report *r, size_t i)
{
    struct report_inst *in = calloc(1, sizeof(*in));
    if (in == NULL)
        abort();
    in->slo = r->rules->slos[i];
    in->slo_index = i;
    if (r->n_inst == r->cap_inst) {
        r->cap_inst = r->cap_inst ? 2 * r->cap_inst : 32;
        r->inst = realloc(r->inst, r->cap_inst * sizeof(*r->inst));
        if (r->inst == NULL)
            abort();
    }
    r->inst[r->n_inst++] = in;
    return in;
}

static char *report_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

void report_fail(struct report *r, size_t i, const char *error)
{
    struct report_inst *in = report_push(r, i);
    in->failed = true;
    in->error = report_xstrdup(error != NULL && error[0] != '\0' ? error : "the queries failed");
    in->key = report_xstrdup("");
    const struct report_slo_period *sp = report_slo_period(r, i);
    if (sp != NULL) {
        in->start = sp->start;
        in->end = sp->end;
        in->measured_to = sp->measured_to;
    }
    r->failed++;
}

int report_add(struct report *r, size_t i, const char *const *values, const struct report_counts *c)
{
    const struct rules_slo *slo = r->rules->slos[i];
    const struct report_slo_period *sp = report_slo_period(r, i);
    if (sp == NULL) {
        report_fail(r, i, "the SLO's time zone cannot be read");
        return 0;
    }
    struct report_seg *seg;
    size_t n_seg = report_segments(slo, c, sp->start, sp->measured_to, &seg);
    double bad = 0, total = 0;
    for (size_t k = 0; k < n_seg; k++) {
        bad += seg[k].bad;
        total += seg[k].total;
    }
    if (values != NULL && slo->n_group_by > 0 && !(total > 0)) {
        free(seg);
        return 0;
    }
    struct report_inst *in = report_push(r, i);
    if (values != NULL && slo->n_group_by > 0) {
        in->values = calloc(slo->n_group_by, sizeof(*in->values));
        if (in->values == NULL)
            abort();
        size_t len = 1;
        for (size_t g = 0; g < slo->n_group_by; g++) {
            in->values[g] = report_xstrdup(values[g] != NULL ? values[g] : "");
            len += strlen(in->values[g]) + 1;
        }
        in->key = calloc(1, len);
        if (in->key == NULL)
            abort();
        for (size_t g = 0; g < slo->n_group_by; g++) {
            if (g > 0)
                strcat(in->key, "\x1f");
            strcat(in->key, in->values[g]);
        }
    } else {
        in->key = report_xstrdup("");
    }
    in->start = sp->start;
    in->end = sp->end;
    in->measured_to = sp->measured_to;
    in->bad = bad;
    in->total = total;

    /* Compliance, state, score and credit as the evaluator derives them for this period. */
    struct budget_result res;
    memset(&res, 0, sizeof(res));
    budget_window(bad, total, slo->objective, &res.period);
    for (int w = 0; w < PERIOD_N_WINDOWS; w++)
        budget_window(0, 0, slo->objective, &res.windows[w]);
    budget_finish(slo, sp->end - sp->start, &res);
    in->compliance = res.period.sli;
    in->spent = 1 - res.remaining;
    in->state = res.state;
    in->score = res.score;
    in->credit = res.credit;

    /* Local days, an interval straddling a day boundary shared pro rata. */
    in->n_days = sp->n_days;
    in->days = calloc(sp->n_days + 1, sizeof(*in->days));
    if (in->days == NULL)
        abort();
    for (size_t d = 0; d < sp->n_days; d++) {
        in->days[d].start = sp->day_starts[d];
        in->days[d].end = sp->day_starts[d + 1];
        memcpy(in->days[d].date, sp->day_dates[d], sizeof(in->days[d].date));
    }
    size_t d = 0;
    for (size_t k = 0; k < n_seg; k++) {
        int64_t a = seg[k].end - seg[k].len, b = seg[k].end;
        while (d < sp->n_days && sp->day_starts[d + 1] <= a)
            d++;
        for (size_t dd = d; dd < sp->n_days && sp->day_starts[dd] < b; dd++) {
            int64_t lo = a > sp->day_starts[dd] ? a : sp->day_starts[dd];
            int64_t hi = b < sp->day_starts[dd + 1] ? b : sp->day_starts[dd + 1];
            if (hi <= lo)
                continue;
            double frac = (double)(hi - lo) / (double)seg[k].len;
            in->days[dd].bad += frac * seg[k].bad;
            in->days[dd].total += frac * seg[k].total;
        }
    }
    in->n_worst = report_worst_days(in->days, in->n_days, REPORT_WORST, in->worst);

    /* The burn-down, about 100 points: the error budget left at each time, as a share of the
     * bad events the whole period allows (allowed ratio times its events, so far when it is
     * not over); it ends at 1 - spent. */
    double budget = (1 - budget_ratio(slo->objective)) * total;
    int64_t step = report_ceil((sp->end - sp->start) / 96, 3600);
    if (step < 3600)
        step = 3600;
    size_t cap = (size_t)((sp->measured_to - sp->start) / step + 3);
    in->points = malloc(cap * sizeof(*in->points));
    if (in->points == NULL)
        abort();
    in->points[in->n_points++] = (struct report_point){sp->start, 1};
    double cb = 0;
    int64_t next = sp->start + step;
    if (next > sp->measured_to)
        next = sp->measured_to;
    for (size_t k = 0; k < n_seg && in->n_points < cap; k++) {
        cb += seg[k].bad;
        bool last = k + 1 == n_seg;
        while (in->n_points < cap && next > sp->start && (seg[k].end >= next || last)) {
            double rem = budget > 0 ? 1 - cb / budget : 1;
            in->points[in->n_points++] = (struct report_point){next, html_fin(rem, 1)};
            if (next >= sp->measured_to)
                break;
            next += step;
            if (next > sp->measured_to)
                next = sp->measured_to;
        }
    }
    free(seg);

    if (sp->measured_to > sp->start)
        in->n_episodes = report_episodes(slo, c->min_t0, c->n_min, c->min_bad, c->min_total,
                                         sp->start + 60, sp->measured_to, &in->episodes);

    /* The two periods before, from the hours, for the improvement plan. */
    double pass = slo->service->pass;
    in->plan_due = in->score < pass;
    for (int j = 0; j < 2; j++) {
        struct report_prev *pv = &in->prev[j];
        snprintf(pv->name, sizeof(pv->name), "%s", sp->prev_name[j]);
        pv->start = sp->prev_start[j];
        pv->end = sp->prev_end[j];
        report_hsum(c, pv->start, pv->end, &pv->bad, &pv->total);
        pv->compliance = report_sli(pv->bad, pv->total);
        pv->score = budget_score(slo, pv->compliance);
        in->plan_due = in->plan_due && pv->score < pass;
    }
    return 1;
}

static void report_inst_free(struct report_inst *in)
{
    if (in == NULL)
        return;
    if (in->values != NULL)
        for (size_t g = 0; g < in->slo->n_group_by; g++)
            free(in->values[g]);
    free(in->values);
    free(in->key);
    free(in->error);
    free(in->days);
    free(in->episodes);
    free(in->points);
    free(in);
}

void report_free(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < r->n_inst; k++)
        report_inst_free(r->inst[k]);
    free(r->inst);
    free(r->svcs);
    for (size_t i = 0; i < r->rules->n_slos; i++) {
        free(r->per_slo[i].day_starts);
        free(r->per_slo[i].day_dates);
    }
    free(r->per_slo);
    free(r);
}

/* Orders instances by SLO (the rule set's order: service, then name), then group key. */
static int report_cmp(const void *a, const void *b)
{
    const struct report_inst *x = *(const struct report_inst *const *)a;
    const struct report_inst *y = *(const struct report_inst *const *)b;
    if (x->slo_index != y->slo_index)
        return x->slo_index < y->slo_index ? -1 : 1;
    return strcmp(x->key, y->key);
}

void report_finish(struct report *r)
{
    const struct rules_set *rules = r->rules;
    bool *seen = calloc(rules->n_slos + 1, sizeof(*seen));
    size_t *per_slo = calloc(rules->n_slos + 1, sizeof(*per_slo));
    if (seen == NULL || per_slo == NULL)
        abort();
    for (size_t k = 0; k < r->n_inst; k++)
        seen[r->inst[k]->slo_index] = true;
    struct report_counts none = {0};
    for (size_t i = 0; i < rules->n_slos; i++)
        if (!seen[i])
            (void)report_add(r, i, NULL, &none);
    qsort(r->inst, r->n_inst, sizeof(*r->inst), report_cmp);
    for (size_t k = 0; k < r->n_inst; k++)
        per_slo[r->inst[k]->slo_index] += !r->inst[k]->failed;
    free(r->svcs);
    r->svcs = calloc(rules->n_services + 1, sizeof(*r->svcs));
    if (r->svcs == NULL)
        abort();
    r->n_svcs = rules->n_services;
    size_t k = 0;
    for (size_t v = 0; v < rules->n_services; v++) {
        struct report_service *sv = &r->svcs[v];
        sv->svc = rules->services[v];
        sv->first = k;
        double wsum = 0, ssum = 0;
        while (k < r->n_inst && r->inst[k]->slo->service == sv->svc) {
            const struct report_inst *in = r->inst[k++];
            if (in->failed)
                continue;
            double w = in->slo->scoring.weight / (double)per_slo[in->slo_index];
            wsum += w;
            ssum += w * in->score;
        }
        sv->n = k - sv->first;
        sv->scored = wsum > 0;
        sv->score = sv->scored ? ssum / wsum : 0;
        sv->grade = budget_grade(sv->svc, sv->score);
    }
    free(seen);
    free(per_slo);
}

/* ---- fetching ---- */

/* One instance's hourly counts, kept until its minutes arrive. */
struct report_hours {
    const struct eval_instance *in;
    size_t n;
    double *bad, *total;
    bool used; /* its minutes arrived */
};

struct report_fetch {
    struct report *r;
    size_t i;
    int64_t hour_t0, min_t0;
    struct report_hours *h;
    size_t n_h, cap_h;
    bool any;
};

static void report_on_hours(void *cls, const struct eval_instance *in, size_t n, const double *bad,
                            const double *total, const unsigned char *has)
{
    (void)has;
    struct report_fetch *f = cls;
    if (f->n_h == f->cap_h) {
        f->cap_h = f->cap_h ? 2 * f->cap_h : 8;
        f->h = realloc(f->h, f->cap_h * sizeof(*f->h));
        if (f->h == NULL)
            abort();
    }
    struct report_hours *h = &f->h[f->n_h++];
    h->in = in;
    h->n = n;
    h->used = false;
    h->bad = malloc((n + 1) * sizeof(double));
    h->total = malloc((n + 1) * sizeof(double));
    if (h->bad == NULL || h->total == NULL)
        abort();
    memcpy(h->bad, bad, n * sizeof(double));
    memcpy(h->total, total, n * sizeof(double));
    f->any = true;
}

static void report_on_minutes(void *cls, const struct eval_instance *in, size_t n,
                              const double *bad, const double *total, const unsigned char *has)
{
    (void)has;
    struct report_fetch *f = cls;
    struct report_counts c = {f->min_t0, n, bad, total, f->hour_t0, 0, NULL, NULL};
    for (size_t k = 0; k < f->n_h; k++)
        if (f->h[k].in == in) {
            c.n_hour = f->h[k].n;
            c.hour_bad = f->h[k].bad;
            c.hour_total = f->h[k].total;
            f->h[k].used = true;
            break;
        }
    f->any = true;
    (void)report_add(f->r, f->i, in->slo->n_group_by > 0 ? in->values : NULL, &c);
}

/* Fetches SLO i's counts and adds its instances; returns 0, or -1 with the reason in
 * s->slos[i].error. */
static int report_fetch_slo(struct report *r, struct eval_state *s, size_t i)
{
    const struct rules_slo *slo = r->rules->slos[i];
    const struct report_slo_period *sp = report_slo_period(r, i);
    if (sp == NULL) {
        snprintf(s->slos[i].error, sizeof(s->slos[i].error), "the time zone %s cannot be read",
                 slo->timezone);
        return -1;
    }
    if (sp->measured_to <= sp->start)
        return 0; /* not started: report_finish adds it without events */
    struct report_fetch f = {.r = r, .i = i};
    int rc = -1;
    /* Hours over the two periods before, and over this one unless the SLO counts only some
     * minutes (then the minutes are summed instead, as the evaluator does). */
    int64_t ha = report_floor(sp->prev_start[1], 3600);
    int64_t hb =
        mask_active(slo) ? report_ceil(sp->start, 3600) : report_floor(sp->measured_to, 3600);
    f.hour_t0 = ha + 3600;
    if (hb >= f.hour_t0 && eval_intervals(s, i, 3600, f.hour_t0, hb, report_on_hours, &f) != 0)
        goto out;
    /* Minutes over the period and the three days before it, for the alert windows. */
    f.min_t0 = sp->start - 3 * report_day_s + 60;
    bool any_hours = f.any;
    f.any = false;
    if (eval_intervals(s, i, 60, f.min_t0, sp->measured_to, report_on_minutes, &f) != 0)
        goto out;
    /* An instance with hours but no minutes has no events in the period; it is still
     * reported when the SLO has no group_by (with its periods before). */
    for (size_t k = 0; k < f.n_h; k++) {
        if (f.h[k].used || f.h[k].in->slo->n_group_by > 0)
            continue;
        struct report_counts c = {0, 0, NULL, NULL, f.hour_t0, f.h[k].n, f.h[k].bad, f.h[k].total};
        (void)report_add(r, i, NULL, &c);
    }
    if (!f.any && !any_hours) {
        snprintf(s->slos[i].error, sizeof(s->slos[i].error),
                 "no data: the queries returned no series over the period; check the "
                 "selectors");
        goto out;
    }
    rc = 0;
out:
    for (size_t k = 0; k < f.n_h; k++) {
        free(f.h[k].bad);
        free(f.h[k].total);
    }
    free(f.h);
    return rc;
}

struct report *report_build(struct eval_state *s, const struct report_period *p, int64_t now,
                            int64_t generated_at, FILE *progress)
{
    struct report *r = report_new(s->rules, p, now, generated_at);
    size_t n = s->rules->n_slos;
    for (size_t i = 0; i < n; i++) {
        if (progress != NULL) {
            fprintf(progress, "\rreport: %zu/%zu SLOs", i, n);
            fflush(progress);
        }
        if (report_fetch_slo(r, s, i) != 0)
            report_fail(r, i, s->slos[i].error);
    }
    if (progress != NULL) {
        fprintf(progress, "\rreport: %zu/%zu SLOs\r\033[K", n, n);
        fflush(progress);
    }
    report_finish(r);
    return r;
}

/* ---- shared by the writers ---- */

static const char *const report_day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* The service hours as written: "mon-fri 09:00-18:00"; "" without. */
static char *report_hours_text(const struct rules_slo *slo, char *buf, size_t size)
{
    const struct rules_service_hours *h = &slo->service_hours;
    buf[0] = '\0';
    if (!h->set)
        return buf;
    size_t o = 0;
    if (h->days == 0x7f) {
        o += (size_t)snprintf(buf, size, "daily");
    } else {
        for (int d = 0; d < 7 && o < size; d++) {
            if (!(h->days & (1u << d)))
                continue;
            int e = d;
            while (e + 1 < 7 && (h->days & (1u << (e + 1))))
                e++;
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "", report_day_names[d]);
            if (e > d && o < size)
                o += (size_t)snprintf(buf + o, size - o, "-%s", report_day_names[e]);
            d = e;
        }
    }
    if (o < size)
        snprintf(buf + o, size - o, " %02d:%02d-%02d:%02d", h->start_minute / 60,
                 h->start_minute % 60, h->end_minute / 60, h->end_minute % 60);
    return buf;
}

/* Counts of instances by state; index 4 counts the failed ones. */
static void report_state_counts(const struct report *r, size_t counts[5])
{
    memset(counts, 0, 5 * sizeof(counts[0]));
    for (size_t k = 0; k < r->n_inst; k++)
        counts[r->inst[k]->failed ? 4 : (int)r->inst[k]->state]++;
}

/* True when some instance's period is not over at the evaluation time. */
static bool report_partial(const struct report *r)
{
    for (size_t k = 0; k < r->n_inst; k++)
        if (r->inst[k]->measured_to < r->inst[k]->end)
            return true;
    return false;
}

static size_t report_count_sev(const struct report_inst *in, enum report_severity sev)
{
    size_t n = 0;
    for (size_t e = 0; e < in->n_episodes; e++)
        n += in->episodes[e].severity == sev;
    return n;
}

/* The alert episodes of an instance in a summary table: "none" or "2 page, 1 ticket". Returns
 * buf. */
static char *report_episodes_text(const struct report_inst *in, char *buf, size_t size)
{
    size_t np = report_count_sev(in, REPORT_PAGE), nt = report_count_sev(in, REPORT_TICKET);
    if (np + nt == 0)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%zu page, %zu ticket", np, nt);
    return buf;
}

/* The SLA credit of an instance in a summary table: "10 %", or an en dash for an SLO
 * without credit tiers. Returns buf. */
static char *report_credit_text(const struct report_inst *in, char *buf, size_t size)
{
    if (in->slo->n_credits > 0)
        snprintf(buf, size, "%.10g %%", html_fin(in->credit, 0) * 100);
    else
        snprintf(buf, size, "\xe2\x80\x93");
    return buf;
}

static const char *const report_sev_names[2] = {"page", "ticket"};

/* Alert episodes listed per SLO in markdown and HTML; JSON lists every one. */
enum { REPORT_SHOWN = 12 };

static bool report_tier_enabled(const struct rules_slo *slo, enum report_severity sev)
{
    return sev == REPORT_PAGE ? slo->alerting.page.enabled : slo->alerting.ticket.enabled;
}

/* "Month", "Week" ... for the period's kind. */
static const char *report_kind_title(enum report_kind k)
{
    static const char *const t[4] = {"Day", "Week", "Month", "Quarter"};
    return t[k];
}

/* ---- markdown ---- */

static void report_md_inst_row(FILE *out, const struct report_inst *in)
{
    const struct rules_slo *slo = in->slo;
    char a[64], b[64];
    int dec = html_decimals(slo->objective);
    fputs("| ", out);
    report_md_esc(out, slo->name);
    report_group_suffix(out, in, report_md_esc);
    if (in->failed) {
        fprintf(out,
                " | \xe2\x80\x93 | %s %% | **failed** | \xe2\x80\x93 | \xe2\x80\x93 | "
                "\xe2\x80\x93 | \xe2\x80\x93 | \xe2\x80\x93 | |\n",
                html_line(slo->objective, a, sizeof(a)));
        return;
    }
    fprintf(out, " | %s %% | %s %% | %s | %.1f %% | ",
            report_pct(in->compliance, dec, a, sizeof(a)), html_line(slo->objective, b, sizeof(b)),
            budget_state_names[in->state], html_fin(in->spent, 0) * 100);
    if (report_occurrences(slo)) {
        fprintf(out, "%s / ", html_count(in->bad, a, sizeof(a)));
        fprintf(out, "%s", html_count(in->total, b, sizeof(b)));
    } else {
        fputs("\xe2\x80\x93", out);
    }
    fprintf(out, " | %.1f | %s", html_fin(in->score, 0), report_credit_text(in, a, sizeof(a)));
    fprintf(out, " | %s | %s |\n", report_episodes_text(in, a, sizeof(a)),
            in->plan_due ? "**due**" : "");
}

/* The markup of the "periods before" line and of the improvement-plan note in one format. */
struct report_history_marks {
    const char *open, *sep, *name_open, *name_close, *close;
    const char *plan_open, *plan_close;
};

static const struct report_history_marks report_history_md = {
    "\n- Periods before: ", "; ", "", "", "\n", "- **Improvement plan due**: ", "\n"};
static const struct report_history_marks report_history_html = {
    "<p class=\"history\">Periods before: ",    " \xc2\xb7 ", "<b>", "</b>", "</p>",
    "<p class=\"plan\">Improvement plan due: ", ".</p>"};

/* Writes the two periods before the reported one (compliance, or "no events", and score) and,
 * when the score was below the service's pass line in all three, the improvement-plan note,
 * in the markup m. The period names are sloe's own ("2026-09", "2026-W40"): no escaping. */
static void report_history(FILE *out, const struct report *r, const struct report_inst *in, int dec,
                           const struct report_history_marks *m)
{
    char a[64];
    fputs(m->open, out);
    for (int j = 0; j < 2; j++) {
        const struct report_prev *pv = &in->prev[j];
        fprintf(out, "%s%s%s%s ", j ? m->sep : "", m->name_open, pv->name, m->name_close);
        if (pv->total > 0)
            fprintf(out, "%s %%", report_pct(pv->compliance, dec, a, sizeof(a)));
        else
            fputs("no events", out);
        fprintf(out, " (score %.1f)", html_fin(pv->score, 0));
    }
    fputs(m->close, out);
    if (in->plan_due)
        fprintf(out, "%sthe score was below the service's pass line (%.10g) in %s, %s and %s%s",
                m->plan_open, in->slo->service->pass, r->name, in->prev[0].name, in->prev[1].name,
                m->plan_close);
}

static void report_md_inst(FILE *out, const struct report *r, const struct report_inst *in)
{
    const struct rules_slo *slo = in->slo;
    const char *zone = slo->timezone;
    char a[64], b[64], c[64];
    int dec = html_decimals(slo->objective);
    fputs("### ", out);
    report_md_esc(out, slo->service->name);
    fputs(" / ", out);
    report_md_esc(out, slo->name);
    report_group_suffix(out, in, report_md_esc);
    fputs("\n\n", out);
    if (slo->description[0] != '\0') {
        fputs("Description: ", out);
        report_md_esc(out, slo->description);
        fputs("\n\n", out);
    }
    fprintf(out, "- Period: %s to ", html_time(zone, in->start, HTML_T_MINUTE, a, sizeof(a)));
    fprintf(out, "%s ", html_time(zone, in->end, HTML_T_MINUTE, b, sizeof(b)));
    report_md_esc(out, zone);
    fprintf(out, " (%s %s; SLO window %s)", report_kind_names[r->period.kind], r->name,
            report_window(slo, c, sizeof(c)));
    if (in->measured_to <= in->start)
        fputs("; **not started yet**", out);
    else if (in->measured_to < in->end)
        fprintf(out, "; **not over yet**, measured up to %s",
                html_time(zone, in->measured_to, HTML_T_MINUTE, a, sizeof(a)));
    fputs("\n", out);
    fprintf(out, "- SLI: %s", rules_sli_kind_name(slo->sli.kind));
    if (slo->service_hours.set)
        fprintf(out, "; service hours %s", report_hours_text(slo, a, sizeof(a)));
    if (slo->n_exclusions > 0)
        fprintf(out, "; %zu %s not counted", slo->n_exclusions,
                slo->n_exclusions == 1 ? "exclusion" : "exclusions");
    fputs("\n", out);
    if (in->failed) {
        fputs("- **Failed**: the queries failed, no numbers: ", out);
        report_md_esc(out, in->error);
        fputs("\n\n", out);
        return;
    }
    fprintf(out, "- Compliance: **%s %%** against objective %s %%",
            report_pct(in->compliance, dec, a, sizeof(a)), html_line(slo->objective, b, sizeof(b)));
    if (slo->warning < slo->objective)
        fprintf(out, ", warning %s %%", html_line(slo->warning, a, sizeof(a)));
    if (slo->minimum < slo->warning)
        fprintf(out, ", minimum %s %%", html_line(slo->minimum, a, sizeof(a)));
    fprintf(out, ": **%s**%s\n", budget_state_names[in->state],
            in->total > 0 ? "" : " (no events)");
    fprintf(out, "- Error budget spent: %.1f %%%s", html_fin(in->spent, 0) * 100,
            in->spent > 1 ? " (overspent)" : "");
    if (report_occurrences(slo) && in->total > 0)
        fprintf(out, "; %s bad of %s events, %s allowed", html_count(in->bad, a, sizeof(a)),
                html_count(in->total, b, sizeof(b)),
                html_count(in->total * (1 - budget_ratio(slo->objective)), c, sizeof(c)));
    fputs("\n", out);
    fprintf(out, "- Score %.1f (weight %.10g)", html_fin(in->score, 0), slo->scoring.weight);
    if (slo->n_credits > 0)
        fprintf(out, "; SLA credit %.10g %%", html_fin(in->credit, 0) * 100);
    report_history(out, r, in, dec, &report_history_md);
    fputs("\n", out);
    if (in->n_worst == 0) {
        fputs("Worst days: no day had events.\n\n", out);
    } else {
        fputs("Worst days:\n\n| day | compliance | bad / total |\n| --- | ---: | ---: |\n", out);
        for (size_t w = 0; w < in->n_worst; w++) {
            const struct report_day *d = &in->days[in->worst[w]];
            fprintf(out, "| %s | %s %% | %s / %s |\n", d->date,
                    report_pct(report_sli(d->bad, d->total), dec, a, sizeof(a)),
                    html_count(d->bad, b, sizeof(b)), html_count(d->total, c, sizeof(c)));
        }
        fputs("\n", out);
    }
    if (in->n_episodes == 0) {
        fputs("Alert episodes: no page or ticket condition held in the period.\n\n", out);
        return;
    }
    fputs("Alert episodes (", out);
    report_md_esc(out, zone);
    fputs("):\n\n| alert | start | end | duration | peak 1h burn rate |\n"
          "| --- | --- | --- | ---: | ---: |\n",
          out);
    size_t shown = in->n_episodes < REPORT_SHOWN ? in->n_episodes : REPORT_SHOWN;
    for (size_t e = 0; e < shown; e++) {
        const struct report_episode *ep = &in->episodes[e];
        fprintf(out, "| %s%s | %s | ", report_sev_names[ep->severity],
                report_tier_enabled(slo, ep->severity) ? "" : " (alert off)",
                html_time(zone, ep->start, HTML_T_MINUTE, a, sizeof(a)));
        fprintf(out, "%s%s | %s%s", ep->open ? "open at " : "",
                html_time(zone, ep->end, HTML_T_MINUTE, b, sizeof(b)),
                report_dur(ep->end - ep->start, c, sizeof(c)), ep->open ? " so far" : "");
        if (ep->held < ep->end - ep->start)
            fprintf(out, " (held %s)", report_dur(ep->held, a, sizeof(a)));
        fprintf(out, " | %.1f |\n", html_fin(ep->peak, 0));
    }
    if (shown < in->n_episodes)
        fprintf(out, "\n... and %zu more episodes (the JSON report lists them all).\n",
                in->n_episodes - shown);
    fputs("\n", out);
}

static void report_md(const struct report *r, const char *version, FILE *out)
{
    char a[64];
    size_t counts[5];
    report_state_counts(r, counts);
    fprintf(out, "# SLO report %s\n\n", r->name);
    fprintf(out, "%s %s, each SLO's period aligned in its own time zone. Generated %s UTC",
            report_kind_title(r->period.kind), r->name,
            html_time(NULL, r->generated_at, HTML_T_MINUTE, a, sizeof(a)));
    if (version != NULL && version[0] != '\0') {
        fputs(" by sloe ", out);
        report_md_esc(out, version);
    }
    fputs(".\n\n", out);
    if (report_partial(r))
        fprintf(out, "**Not over yet**: the period is reported up to %s UTC.\n\n",
                html_time(NULL, r->now, HTML_T_MINUTE, a, sizeof(a)));
    fprintf(out, "%zu SLO %s: %zu met, %zu degraded, %zu warning, %zu breach", r->n_inst,
            r->n_inst == 1 ? "instance" : "instances", counts[0], counts[1], counts[2], counts[3]);
    if (counts[4] > 0)
        fprintf(out, ", %zu failed", counts[4]);
    fputs(".\n\n", out);
    for (size_t v = 0; v < r->n_svcs; v++) {
        const struct report_service *sv = &r->svcs[v];
        if (sv->n == 0)
            continue;
        fputs("## ", out);
        report_md_esc(out, sv->svc->name);
        fputs("\n\n", out);
        if (sv->svc->labels.n > 0) {
            fputs("Labels: ", out);
            for (size_t l = 0; l < sv->svc->labels.n; l++) {
                fputs(l ? ", " : "", out);
                report_md_esc(out, sv->svc->labels.v[l].name);
                fputc('=', out);
                report_md_esc(out, sv->svc->labels.v[l].value);
            }
            fputs("\n\n", out);
        }
        if (sv->scored)
            fprintf(out,
                    "Service score **%.1f** / 100, grade **%s** (scorecard: excellent %.10g, "
                    "pass %.10g).\n\n",
                    sv->score, budget_grade_names[sv->grade], sv->svc->excellent, sv->svc->pass);
        else
            fputs("No service score: none of its SLOs was measured.\n\n", out);
        fputs("| SLO | compliance | objective | state | budget spent | bad / total | score | "
              "credit | alert episodes | improvement plan |\n"
              "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |\n",
              out);
        for (size_t k = sv->first; k < sv->first + sv->n; k++)
            report_md_inst_row(out, r->inst[k]);
        fputs("\n", out);
        for (size_t k = sv->first; k < sv->first + sv->n; k++)
            report_md_inst(out, r, r->inst[k]);
    }
}

/* ---- CSV ---- */

/* A number field: 15 significant digits, empty when not finite. */
static void report_csv_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, ",%.15g", v);
    else
        fputc(',', out);
}

static void report_csv_str(FILE *out, const char *s)
{
    fputc(',', out);
    report_csv_field(out, s);
}

static void report_csv(const struct report *r, FILE *out)
{
    fputs("service,slo,labels,sli_kind,timezone,period,period_start,period_end,measured_to,"
          "complete,objective,warning,minimum,compliance,state,error_budget_spent,good,bad,"
          "total,score,sla_credit,weight,service_score,service_grade,page_episodes,"
          "ticket_episodes,worst_day_1,worst_day_1_compliance,worst_day_2,"
          "worst_day_2_compliance,worst_day_3,worst_day_3_compliance,previous_1,"
          "previous_1_compliance,previous_1_score,previous_2,previous_2_compliance,"
          "previous_2_score,improvement_plan_due,error\r\n",
          out);
    char a[64];
    for (size_t v = 0; v < r->n_svcs; v++) {
        const struct report_service *sv = &r->svcs[v];
        for (size_t k = sv->first; k < sv->first + sv->n; k++) {
            const struct report_inst *in = r->inst[k];
            const struct rules_slo *slo = in->slo;
            const char *zone = slo->timezone;
            report_csv_field(out, sv->svc->name);
            report_csv_str(out, slo->name);
            char *g = report_group_text(in);
            report_csv_str(out, g);
            free(g);
            report_csv_str(out, rules_sli_kind_name(slo->sli.kind));
            report_csv_str(out, zone);
            report_csv_str(out, r->name);
            report_csv_str(out, report_iso(zone, in->start, a, sizeof(a)));
            report_csv_str(out, report_iso(zone, in->end, a, sizeof(a)));
            report_csv_str(out, report_iso(zone, in->measured_to, a, sizeof(a)));
            report_csv_str(out, in->measured_to >= in->end ? "true" : "false");
            report_csv_num(out, budget_ratio(slo->objective));
            report_csv_num(out, budget_ratio(slo->warning));
            report_csv_num(out, budget_ratio(slo->minimum));
            if (in->failed) {
                fputs(",,failed,,,,,,,", out);
                fprintf(out, "%.15g", slo->scoring.weight);
            } else {
                report_csv_num(out, in->compliance);
                report_csv_str(out, budget_state_names[in->state]);
                report_csv_num(out, in->spent);
                if (report_occurrences(slo)) {
                    report_csv_num(out, in->total - in->bad);
                    report_csv_num(out, in->bad);
                    report_csv_num(out, in->total);
                } else {
                    fputs(",,,", out);
                }
                report_csv_num(out, in->score);
                report_csv_num(out, in->credit);
                report_csv_num(out, slo->scoring.weight);
            }
            if (sv->scored) {
                report_csv_num(out, sv->score);
                report_csv_str(out, budget_grade_names[sv->grade]);
            } else {
                fputs(",,", out);
            }
            fprintf(out, ",%zu,%zu", report_count_sev(in, REPORT_PAGE),
                    report_count_sev(in, REPORT_TICKET));
            for (size_t w = 0; w < REPORT_WORST; w++) {
                if (w < in->n_worst) {
                    const struct report_day *d = &in->days[in->worst[w]];
                    report_csv_str(out, d->date);
                    report_csv_num(out, report_sli(d->bad, d->total));
                } else {
                    fputs(",,", out);
                }
            }
            for (int j = 0; j < 2; j++) {
                report_csv_str(out, in->prev[j].name);
                if (in->failed) {
                    fputs(",,", out);
                } else {
                    report_csv_num(out, in->prev[j].compliance);
                    report_csv_num(out, in->prev[j].score);
                }
            }
            report_csv_str(out, in->plan_due ? "true" : "false");
            report_csv_str(out, in->failed ? in->error : "");
            fputs("\r\n", out);
        }
    }
}

/* ---- JSON ---- */

/* A JSON string of s; a string that is not UTF-8 (not expected: rule files and Prometheus
 * answers are) is written with its invalid bytes replaced. */
static json_t *report_json_str(const char *s)
{
    json_t *j = json_string(s != NULL ? s : "");
    if (j != NULL)
        return j;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL)
        abort();
    html_walk(m, s, report_plain_char);
    fclose(m);
    j = json_string(buf);
    free(buf);
    return j != NULL ? j : json_string("");
}

/* A finite number, else null (JSON has no NaN). */
static json_t *report_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *report_json_time(const char *zone, int64_t t)
{
    char a[48];
    return json_string(report_iso(zone, t, a, sizeof(a)));
}

static json_t *report_json_day(const struct report_day *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "date", json_string(d->date));
    json_object_set_new(o, "start", json_integer(d->start));
    json_object_set_new(o, "end", json_integer(d->end));
    json_object_set_new(o, "compliance",
                        d->total > 0 ? report_json_num(report_sli(d->bad, d->total)) : json_null());
    json_object_set_new(o, "good", report_json_num(d->total - d->bad));
    json_object_set_new(o, "bad", report_json_num(d->bad));
    json_object_set_new(o, "total", report_json_num(d->total));
    return o;
}

static json_t *report_json_inst(const struct report *r, const struct report_inst *in)
{
    const struct rules_slo *slo = in->slo;
    const char *zone = slo->timezone;
    char a[64];
    json_t *o = json_object();
    json_object_set_new(o, "slo", report_json_str(slo->name));
    json_t *labels = json_object();
    for (size_t g = 0; in->values != NULL && g < slo->n_group_by; g++)
        json_object_set_new(labels, slo->group_by[g], report_json_str(in->values[g]));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "description", report_json_str(slo->description));
    json_object_set_new(o, "sli_kind", json_string(rules_sli_kind_name(slo->sli.kind)));
    json_object_set_new(o, "window", json_string(report_window(slo, a, sizeof(a))));
    json_object_set_new(o, "timezone", report_json_str(zone));
    json_object_set_new(o, "objective", json_real(budget_ratio(slo->objective)));
    json_object_set_new(o, "warning", json_real(budget_ratio(slo->warning)));
    json_object_set_new(o, "minimum", json_real(budget_ratio(slo->minimum)));
    json_t *period = json_object();
    json_object_set_new(period, "name", json_string(r->name));
    json_object_set_new(period, "start", json_integer(in->start));
    json_object_set_new(period, "end", json_integer(in->end));
    json_object_set_new(period, "start_local", report_json_time(zone, in->start));
    json_object_set_new(period, "end_local", report_json_time(zone, in->end));
    json_object_set_new(period, "measured_to", json_integer(in->measured_to));
    json_object_set_new(period, "complete", json_boolean(in->measured_to >= in->end));
    json_object_set_new(o, "period", period);
    json_object_set_new(o, "data_ok", json_boolean(!in->failed));
    json_object_set_new(o, "weight", json_real(slo->scoring.weight));
    if (in->failed) {
        json_object_set_new(o, "error", report_json_str(in->error));
        return o;
    }
    json_object_set_new(o, "compliance", report_json_num(in->compliance));
    json_object_set_new(o, "state", json_string(budget_state_names[in->state]));
    json_object_set_new(o, "error_budget_spent", report_json_num(in->spent));
    json_object_set_new(o, "error_budget_remaining", report_json_num(1 - in->spent));
    json_t *counts = json_object();
    json_object_set_new(counts, "good", report_json_num(in->total - in->bad));
    json_object_set_new(counts, "bad", report_json_num(in->bad));
    json_object_set_new(counts, "total", report_json_num(in->total));
    if (report_occurrences(slo)) {
        json_object_set_new(o, "events", counts);
    } else {
        json_object_set_new(
            counts, "unit",
            json_string(slo->sli.kind == RULES_SLI_TIMESLICE ? "slices" : "seconds"));
        json_object_set_new(o, "measured", counts);
    }
    json_object_set_new(o, "score", report_json_num(in->score));
    json_object_set_new(o, "sla_credit", report_json_num(in->credit));
    json_t *prev = json_array();
    for (int j = 0; j < 2; j++) {
        const struct report_prev *pv = &in->prev[j];
        json_t *p = json_object();
        json_object_set_new(p, "period", json_string(pv->name));
        json_object_set_new(p, "start", json_integer(pv->start));
        json_object_set_new(p, "end", json_integer(pv->end));
        json_object_set_new(p, "compliance", report_json_num(pv->compliance));
        json_object_set_new(p, "score", report_json_num(pv->score));
        json_object_set_new(p, "bad", report_json_num(pv->bad));
        json_object_set_new(p, "total", report_json_num(pv->total));
        json_array_append_new(prev, p);
    }
    json_object_set_new(o, "previous_periods", prev);
    json_object_set_new(o, "improvement_plan_due", json_boolean(in->plan_due));
    json_t *worst = json_array();
    for (size_t w = 0; w < in->n_worst; w++)
        json_array_append_new(worst, report_json_day(&in->days[in->worst[w]]));
    json_object_set_new(o, "worst_days", worst);
    json_t *days = json_array();
    for (size_t d = 0; d < in->n_days; d++)
        if (in->days[d].start < in->measured_to)
            json_array_append_new(days, report_json_day(&in->days[d]));
    json_object_set_new(o, "days", days);
    json_t *eps = json_array();
    for (size_t e = 0; e < in->n_episodes; e++) {
        const struct report_episode *ep = &in->episodes[e];
        json_t *j = json_object();
        json_object_set_new(j, "severity", json_string(report_sev_names[ep->severity]));
        json_object_set_new(j, "alert_enabled",
                            json_boolean(report_tier_enabled(slo, ep->severity)));
        json_object_set_new(j, "start", json_integer(ep->start));
        json_object_set_new(j, "end", json_integer(ep->end));
        json_object_set_new(j, "start_local", report_json_time(zone, ep->start));
        json_object_set_new(j, "end_local", report_json_time(zone, ep->end));
        json_object_set_new(j, "duration_seconds", json_integer(ep->end - ep->start));
        json_object_set_new(j, "held_seconds", json_integer(ep->held));
        json_object_set_new(j, "open", json_boolean(ep->open));
        json_object_set_new(j, "peak_burn_rate_1h", report_json_num(ep->peak));
        json_array_append_new(eps, j);
    }
    json_object_set_new(o, "alert_episodes", eps);
    json_t *burn = json_array();
    for (size_t p = 0; p < in->n_points; p++)
        json_array_append_new(burn, json_pack("{s:I, s:o}", "t", (json_int_t)in->points[p].t,
                                              "error_budget_remaining",
                                              report_json_num(in->points[p].remaining)));
    json_object_set_new(o, "budget_burn_down", burn);
    return o;
}

static int report_json(const struct report *r, const char *version, FILE *out)
{
    char a[48];
    json_t *root = json_object();
    json_t *period = json_object();
    json_object_set_new(period, "name", json_string(r->name));
    json_object_set_new(period, "kind", json_string(report_kind_names[r->period.kind]));
    json_object_set_new(root, "period", period);
    json_object_set_new(root, "generated_at", report_json_time(NULL, r->generated_at));
    json_object_set_new(root, "measured_to", json_integer(r->now));
    json_object_set_new(root, "measured_to_utc",
                        json_string(report_iso(NULL, r->now, a, sizeof(a))));
    json_object_set_new(root, "complete", json_boolean(!report_partial(r)));
    if (version != NULL)
        json_object_set_new(root, "sloe_version", report_json_str(version));
    json_object_set_new(root, "failed_slos", json_integer((json_int_t)r->failed));
    json_t *services = json_array();
    for (size_t v = 0; v < r->n_svcs; v++) {
        const struct report_service *sv = &r->svcs[v];
        if (sv->n == 0)
            continue;
        json_t *s = json_object();
        json_object_set_new(s, "service", report_json_str(sv->svc->name));
        json_t *labels = json_object();
        for (size_t l = 0; l < sv->svc->labels.n; l++)
            json_object_set_new(labels, sv->svc->labels.v[l].name,
                                report_json_str(sv->svc->labels.v[l].value));
        json_object_set_new(s, "labels", labels);
        json_object_set_new(
            s, "scorecard",
            json_pack("{s:f, s:f}", "excellent", sv->svc->excellent, "pass", sv->svc->pass));
        json_object_set_new(s, "score", sv->scored ? report_json_num(sv->score) : json_null());
        json_object_set_new(s, "grade",
                            sv->scored ? json_string(budget_grade_names[sv->grade]) : json_null());
        json_t *slos = json_array();
        for (size_t k = sv->first; k < sv->first + sv->n; k++)
            json_array_append_new(slos, report_json_inst(r, r->inst[k]));
        json_object_set_new(s, "slos", slos);
        json_array_append_new(services, s);
    }
    json_object_set_new(root, "services", services);
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    fputc('\n', out);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}

/* ---- HTML ---- */

/* The report's own rules, after html_css's shared ones (the status page's look), with print
 * rules for A4. */
static const char *const report_css[] = {
    ".mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\","
    "monospace;font-size:.86em}\n",
    ".top h1{margin:0 0 0 auto;font-size:20px;font-weight:600}\n",
    ".evaltime b{color:var(--fg)}\n",
    ".partial{margin:14px 0 0;padding:8px 12px;border-radius:6px;background:var(--deg-t);"
    "border:1px solid #e3c200;font-size:14px}\n",
    ".service{margin-top:26px}\n",
    ".err{margin:10px 0 0;padding:8px 12px;border-radius:6px;background:var(--breach-t);"
    "color:#82071e;font-size:13px;overflow-wrap:anywhere}\n",
    ".kpis{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;"
    "margin-top:12px}\n",
    ".kpi{border:1px solid var(--soft);border-radius:6px;padding:8px 12px;min-width:0}\n",
    ".big{font-size:24px;font-weight:650;line-height:1.25;margin:2px 0 4px;"
    "white-space:nowrap}\n",
    ".big small{font-size:13px;font-weight:500;color:var(--muted);margin-left:4px}\n",
    ".sub{margin:4px 0 0;font-size:13px;color:var(--muted)}\n",
    ".scale{display:block;width:100%;height:16px}\n",
    ".bar{height:12px;border-radius:6px;background:var(--soft);overflow:hidden;"
    "border:1px solid var(--line)}\n",
    ".bar span{display:block;height:100%;background:var(--accent)}\n",
    ".bar.f-low span{background:#e3b400}.bar.f-crit span{background:var(--warn)}"
    ".bar.f-over span{background:var(--breach)}\n",
    ".history{margin:10px 0 0;font-size:13px;color:var(--muted)}\n",
    ".history b{color:var(--fg);font-weight:600}\n",
    ".plan{margin:8px 0 0;padding:6px 10px;border-radius:6px;background:var(--breach-t);"
    "color:#a40e26;font-size:13px;font-weight:600}\n",
    ".charts{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:12px;"
    "margin-top:12px}\n",
    ".charts figure{margin:0;border:1px solid var(--soft);border-radius:6px;padding:8px 10px;"
    "min-width:0}\n",
    ".chart{display:block;width:100%;height:auto}\n",
    ".chart .obj{stroke:var(--met);stroke-width:1.5;stroke-dasharray:5 3}\n",
    ".chart .wrn{stroke:var(--warn);stroke-width:1;stroke-dasharray:3 3}\n",
    ".chart .min{stroke:var(--breach);stroke-width:1;stroke-dasharray:3 3}\n",
    ".chart text.lo{fill:var(--met)}.chart text.lw{fill:var(--warn)}"
    ".chart text.lm{fill:var(--breach)}\n",
    ".chart .b-met{fill:#2da44e}.chart .b-degraded{fill:#e3b400}"
    ".chart .b-warning{fill:var(--warn)}.chart .b-breach{fill:var(--breach)}"
    ".chart .b-none{fill:var(--line)}\n",
    ".chart text.clip{fill:var(--breach);font-size:9px;font-weight:700}\n",
    "figcaption{font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;"
    "letter-spacing:.05em;margin-bottom:4px}\n",
    ".lower{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr);gap:12px;"
    "margin-top:12px}\n",
    ".lower section{min-width:0}\n",
    "table.mini{border-collapse:collapse;width:100%;font-size:13px;margin-top:4px}\n",
    ".mini th,.mini td{padding:3px 8px;text-align:left;border-bottom:1px solid var(--soft);"
    "white-space:nowrap}\n",
    ".mini thead th{font-weight:600;color:var(--muted);border-bottom:1px solid var(--line)}\n",
    ".mini td.n,.mini th.n{text-align:right}\n",
    ".mini .pg{color:#a40e26;font-weight:700}.mini .tk{color:#953800;font-weight:700}\n",
    ".none{margin:4px 0 0;font-size:13px;color:var(--muted);font-style:italic}\n",
    "table.ov{width:100%;border-collapse:collapse;background:var(--card);font-size:14px;"
    "border:1px solid var(--line)}\n",
    ".ov td.n,.ov th.n{text-align:right;white-space:nowrap}.ov td.ep{white-space:nowrap}\n",
    ".ov .neg,.ov .due{color:var(--breach);font-weight:600}\n",
    ".ov a{color:inherit;text-decoration:none;overflow-wrap:break-word}\n",
    ".ov .svcname{color:var(--muted)}\n",
    "@media screen and (max-width:800px){.wrap{padding:0 12px}.kpis{grid-template-columns:repeat(2,"
    "minmax(0,1fr))}.charts,.lower{grid-template-columns:minmax(0,1fr)}.top h1{margin:0}"
    ".ov .hide-s{display:none}.lower section{overflow-x:auto}}\n",
    "@page{size:A4;margin:12mm 11mm}\n",
    "@media print{:root{--bg:#fff}body{font-size:11px;background:#fff}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".top{background:#fff;color:#000;border-bottom:2px solid #000}.brand small{color:#444}"
    ".top .wrap,.summary .wrap{padding-top:6px;padding-bottom:6px}"
    ".summary{border:0}.wrap{max-width:none;padding:0}"
    ".service{margin-top:18px}.service~.service{break-before:page;margin-top:0}.svc-head{break-"
    "after:avoid}"
    ".slo{box-shadow:none;break-inside:avoid;page-break-inside:avoid;padding:10px 12px}"
    ".ovbox{overflow:visible}.ov{font-size:11px}.ov th,.ov td{padding:3px 6px}"
    ".ov tr{break-inside:avoid}.ov thead th{white-space:normal;font-size:9px}"
    ".big{font-size:19px}"
    ".kpis{grid-template-columns:repeat(4,minmax(0,1fr));gap:8px}"
    ".charts{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}"
    ".lower{grid-template-columns:max-content minmax(0,1fr)}.chart text{font-size:14px}"
    ".chart text.cap{display:none}"
    ".charts figure,svg{break-inside:avoid}.mini{font-size:10.5px}"
    ".mini th,.mini td{padding:2px 5px}a{color:inherit;text-decoration:none}}\n",
};

/* The display state of an instance: a budget_state, or 4 failed. */
static const char *const report_state_class[5] = {"met", "degraded", "warning", "breach", "failed"};
static const char *const report_state_text[5] = {"Met", "Degraded", "Warning", "Breach", "Failed"};

static int report_st(const struct report_inst *in)
{
    return in->failed ? 4 : (int)in->state;
}

/* "checkout / availability (route=/pay)", escaped. */
static void report_html_name(FILE *out, const struct report_inst *in, bool service)
{
    if (service) {
        fputs("<span class=\"svcname\">", out);
        html_esc(out, in->slo->service->name);
        fputs(" / </span>", out);
    }
    html_esc(out, in->slo->name);
    report_group_suffix(out, in, html_esc);
}

/* Writes <time datetime="ISO">text</time> for t in zone. */
static void report_html_time(FILE *out, const char *zone, int64_t t, enum html_tfmt fmt)
{
    char iso[48], shown[48];
    fprintf(out, "<time datetime=\"%s\">%s</time>", report_iso(zone, t, iso, sizeof(iso)),
            html_time(zone, t, fmt, shown, sizeof(shown)));
}

/* The color class of a compliance (percent) against the SLO's lines. */
static const char *report_level(const struct rules_slo *slo, double pct)
{
    double c = pct + 1e-9;
    if (c >= slo->objective)
        return "met";
    if (c >= slo->warning)
        return "degraded";
    return c >= slo->minimum ? "warning" : "breach";
}

/* Geometry of the daily chart and the burn-down, in their viewBox units. */
enum { REPORT_DW = 600, REPORT_BW = 400, REPORT_CH = 200 };
static const double report_x0 = 62, report_y0 = 12, report_y1 = 166;

/* The daily compliance chart: one bar per local day against the objective (and warning and
 * minimum) lines; days without events get a grey stub, days to come nothing. */
static void report_svg_days(FILE *out, const struct report_inst *in)
{
    const struct rules_slo *slo = in->slo;
    size_t n = in->n_days;
    double x1 = REPORT_DW - 10;
    double lowest = 100;
    for (size_t d = 0; d < n; d++)
        if (in->days[d].total > 0 && in->days[d].start < in->measured_to) {
            double c = report_sli(in->days[d].bad, in->days[d].total) * 100;
            if (c < lowest)
                lowest = c;
        }
    /* The scale: the minimum line a third of the way up, widened for a worse day, but not so
     * far that the lines merge (worse days are then cut and labelled). */
    double gap = 100 - slo->minimum;
    if (gap < 0.01)
        gap = 0.01;
    double span = 3 * gap;
    if (100 - lowest > 0.9 * span)
        span = (100 - lowest) / 0.9;
    if (span > 20 * gap)
        span = 20 * gap;
    if (span > 100)
        span = 100;
    double unit = pow(10, floor(log10(span)));
    double lo = floor((100 - span) / unit + 1e-9) * unit;
    if (lo < 0)
        lo = 0;
    int lo_dec = unit >= 1 ? 0 : (int)nearbyint(-log10(unit));
#define REPORT_Y(v)                                                                                \
    (report_y1 - (((v) < lo    ? lo                                                                \
                   : (v) > 100 ? 100                                                               \
                               : (v)) -                                                            \
                  lo) /                                                                            \
                     (100 - lo) * (report_y1 - report_y0))
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\"><title>Daily compliance: ",
            REPORT_DW, REPORT_CH);
    report_html_name(out, in, true);
    fputs("</title>", out);
    fprintf(out,
            "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f%%</text>",
            report_x0, x1, report_y0, report_y0, report_x0, x1, report_y1, report_y1, report_x0 - 4,
            report_y1 + 3.5, lo_dec, lo);
    /* 100 % is labelled unless the objective's label would sit on it. */
    if (REPORT_Y(slo->objective) - report_y0 >= 11)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">100%%</text>", report_x0 - 4,
                report_y0 + 3.5);
    double slot = (x1 - report_x0) / (double)(n ? n : 1);
    double bw = slot * 0.72 > 26 ? 26 : slot * 0.72;
    for (size_t d = 0; d < n; d++) {
        const struct report_day *day = &in->days[d];
        if (day->start >= in->measured_to)
            continue;
        double x = report_x0 + slot * (double)d + (slot - bw) / 2;
        char a[32], b[32], c[32];
        if (!(day->total > 0)) {
            fprintf(out,
                    "<rect class=\"b-none\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"2\">"
                    "<title>%s: no events</title></rect>",
                    x, report_y1 - 2, bw, day->date);
            continue;
        }
        double pct = report_sli(day->bad, day->total) * 100;
        double y = REPORT_Y(pct);
        if (report_y1 - y < 1.5)
            y = report_y1 - 1.5;
        fprintf(out,
                "<rect class=\"b-%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                "<title>%s: %s %%",
                report_level(slo, pct), x, y, bw, report_y1 - y, day->date,
                report_pct(pct / 100, html_decimals(slo->objective), a, sizeof(a)));
        if (report_occurrences(slo))
            fprintf(out, " (%s bad of %s)", html_count(day->bad, b, sizeof(b)),
                    html_count(day->total, c, sizeof(c)));
        fputs("</title></rect>", out);
        if (pct < lo)
            fprintf(out,
                    "<text class=\"clip\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f"
                    "</text>",
                    x + bw / 2, report_y0 + 10 + (double)(d % 2) * 10, pct);
    }
    /* The lines, over the bars; their labels on the axis, left out where they would overlap
     * the one above or the scale's lower end. */
    struct {
        double v;
        const char *cls, *tcls, *name;
    } lines[3] = {{slo->objective, "obj", "lo", "objective"},
                  {slo->warning, "wrn", "lw", "warning"},
                  {slo->minimum, "min", "lm", "minimum"}};
    double last_y = -100;
    for (int l = 0; l < 3; l++) {
        if (l > 0 && !(lines[l].v < lines[l - 1].v))
            continue;
        if (lines[l].v < lo)
            continue;
        double y = REPORT_Y(lines[l].v);
        char a[32];
        html_line(lines[l].v, a, sizeof(a));
        fprintf(out,
                "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"><title>%s "
                "%s %%</title></line>",
                lines[l].cls, report_x0, x1, y, y, lines[l].name, a);
        if (y - last_y >= 11 && report_y1 - y >= 11) {
            fprintf(out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s%%</text>",
                    lines[l].tcls, report_x0 - 4, y + 3.5, a);
            last_y = y;
        }
    }
    /* Day labels: about a dozen. */
    size_t every = (n + 11) / 12;
    if (every == 0)
        every = 1;
    for (size_t d = 0; d < n; d += every) {
        int y, m, dd;
        if (sscanf(in->days[d].date, "%d-%d-%d", &y, &m, &dd) != 3)
            continue;
        struct tm tm;
        report_norm(y, m, dd, &tm);
        char label[32];
        size_t len;
        if (n <= 7)
            len = strftime(label, sizeof(label), "%a %d", &tm);
        else if (n > 31 || d == 0)
            len = strftime(label, sizeof(label), "%b %d", &tm);
        else
            len = strftime(label, sizeof(label), "%d", &tm);
        if (len == 0)
            continue;
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                report_x0 + slot * ((double)d + 0.5), REPORT_CH - 16, label);
    }
    fprintf(out, "<text class=\"cap\" x=\"%.1f\" y=\"%d\">each local day's good / all events (",
            report_x0, REPORT_CH - 2);
    html_esc(out, slo->timezone);
    fputs(")</text>", out);
    fputs("</svg>", out);
#undef REPORT_Y
}

/* The burn-down: error budget left, counted from the period's start, over the period. */
static void report_svg_burn(FILE *out, const struct report_inst *in)
{
    int64_t span = in->end - in->start > 0 ? in->end - in->start : 1;
    size_t n = in->n_points;
    /* n + 1: never malloc(0). */
    double *share = malloc((n + 1) * sizeof(*share)), *left = malloc((n + 1) * sizeof(*left));
    if (share == NULL || left == NULL)
        abort();
    double lowest = 0;
    for (size_t p = 0; p < n; p++) {
        share[p] = (double)(in->points[p].t - in->start) / (double)span;
        left[p] = in->points[p].remaining;
        if (left[p] < lowest)
            lowest = left[p];
    }
    struct html_burn fr;
    html_burn_init(&fr, report_x0, REPORT_BW - 10, report_y0, report_y1, lowest);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\"><title>Error budget left "
            "over the period: ",
            REPORT_BW, REPORT_CH);
    report_html_name(out, in, true);
    fputs("</title>", out);
    html_burn_grid(out, &fr);
    if (in->n_days > 0) {
        fprintf(out, "<text x=\"%.1f\" y=\"%d\">%s</text>", fr.x0, REPORT_CH - 16,
                in->days[0].date);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">%s</text>", fr.x1,
                REPORT_CH - 16, in->days[in->n_days - 1].date);
    }
    if (in->measured_to < in->end) {
        double x = html_burn_now(out, &fr, (double)(in->measured_to - in->start) / (double)span);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">now</text>", x,
                report_y0 - 2 > 8 ? report_y0 - 2 : 9.0);
    }
    if (n > 1)
        html_burn_curve(out, &fr, share, left, n);
    fprintf(
        out,
        "<text class=\"cap\" x=\"%.1f\" y=\"%d\">share of the period's error budget left</text>",
        report_x0, REPORT_CH - 2);
    fputs("</svg>", out);
    free(share);
    free(left);
}

/* The compliance scale: zones between the lines and a marker at the compliance. */
static void report_svg_scale(FILE *out, const struct rules_slo *slo, double compliance)
{
    struct html_scale sc;
    html_scale_init(&sc, slo->objective, slo->warning, slo->minimum, compliance);
    html_scale_svg(out, &sc, 16, false);
}

static void report_html_inst(FILE *out, const struct report *r, const struct report_inst *in,
                             size_t id)
{
    const struct rules_slo *slo = in->slo;
    const char *zone = slo->timezone;
    int st = report_st(in);
    int dec = html_decimals(slo->objective);
    char a[64], b[64], c[64];
    html_card_open(out, report_state_class[st], id, slo->service->name, slo->name);
    if (in->values != NULL || slo->labels.n > 0) {
        fputs("<div class=\"labels\">", out);
        for (size_t g = 0; in->values != NULL && g < slo->n_group_by; g++)
            html_chip(out, "<span class=\"lbl grp\">", slo->group_by[g], in->values[g]);
        for (size_t l = 0; l < slo->labels.n; l++)
            html_chip(out, "<span class=\"lbl\">", slo->labels.v[l].name, slo->labels.v[l].value);
        fputs("</div>", out);
    }
    fprintf(out, "</div><span class=\"badge b-%s\">%s</span></div>", report_state_class[st],
            report_state_text[st]);
    if (slo->description[0] != '\0') {
        fputs("<p class=\"desc\">", out);
        html_esc(out, slo->description);
        fputs("</p>", out);
    }
    if (in->failed) {
        fputs("<p class=\"err\">The queries failed; this SLO has no numbers for the period. "
              "Error: <span class=\"mono\">",
              out);
        html_esc(out, in->error);
        fputs("</span></p>", out);
    } else {
        /* Compliance, budget, score, alerts. */
        fputs("<div class=\"kpis\"><section class=\"kpi\"><h4>Compliance</h4>", out);
        fprintf(out, "<div class=\"big\">%s %%%s</div>",
                report_pct(in->compliance, dec, a, sizeof(a)),
                in->total > 0 ? "" : "<small>no events</small>");
        report_svg_scale(out, slo, in->compliance);
        fprintf(out, "<p class=\"sub\">objective <b>%s %%</b>",
                html_line(slo->objective, a, sizeof(a)));
        if (slo->warning < slo->objective)
            fprintf(out, " \xc2\xb7 warning %s %%", html_line(slo->warning, a, sizeof(a)));
        if (slo->minimum < slo->warning)
            fprintf(out, " \xc2\xb7 minimum %s %%", html_line(slo->minimum, a, sizeof(a)));
        fputs("</p></section>", out);

        double spent = html_fin(in->spent, 0);
        fprintf(out,
                "<section class=\"kpi\"><h4>Error budget spent</h4><div class=\"big%s\">%.1f %%%s"
                "</div>",
                spent > 1 ? " neg" : "", spent * 100, spent > 1 ? "<small>overspent</small>" : "");
        fprintf(out,
                "<div class=\"bar%s\" role=\"img\" aria-label=\"%.1f %% of the error budget "
                "spent\"><span style=\"width:%.1f%%\"></span></div>",
                spent > 1      ? " f-over"
                : spent > 0.75 ? " f-crit"
                : spent > 0.5  ? " f-low"
                               : "",
                spent * 100,
                spent > 1   ? 100
                : spent < 0 ? 0
                            : spent * 100);
        if (report_occurrences(slo) && in->total > 0)
            fprintf(out, "<p class=\"sub\"><b>%s</b> bad of %s events (%s allowed)</p>",
                    html_count(in->bad, a, sizeof(a)), html_count(in->total, b, sizeof(b)),
                    html_count(in->total * (1 - budget_ratio(slo->objective)), c, sizeof(c)));
        else if (slo->sli.kind == RULES_SLI_UPTIME && in->total > 0)
            fprintf(out, "<p class=\"sub\">down <b>%s</b> of %s measured</p>",
                    report_dur((int64_t)in->bad, a, sizeof(a)),
                    report_dur((int64_t)in->total, b, sizeof(b)));
        else if (!(in->total > 0))
            fputs("<p class=\"sub\">no events in the period</p>", out);
        fputs("</section>", out);

        fprintf(out,
                "<section class=\"kpi\"><h4>Score</h4><div class=\"big\">%.1f<small>/ 100"
                "</small></div><p class=\"sub\">weight %.10g",
                html_fin(in->score, 0), slo->scoring.weight);
        if (slo->n_credits > 0)
            fprintf(out, " \xc2\xb7 SLA credit <b>%.10g %%</b>", html_fin(in->credit, 0) * 100);
        fputs("</p></section>", out);

        size_t np = report_count_sev(in, REPORT_PAGE), nt = report_count_sev(in, REPORT_TICKET);
        int64_t paging = 0;
        for (size_t e = 0; e < in->n_episodes; e++)
            if (in->episodes[e].severity == REPORT_PAGE)
                paging += in->episodes[e].end - in->episodes[e].start;
        fprintf(out,
                "<section class=\"kpi\"><h4>Alert episodes</h4><div class=\"big\">%zu<small>"
                "page</small> %zu<small>ticket</small></div><p class=\"sub\">",
                np, nt);
        if (np > 0)
            fprintf(out, "paging condition held <b>%s</b>", report_dur(paging, a, sizeof(a)));
        else
            fputs("no paging condition", out);
        fputs("</p></section></div>", out);

        /* The periods before and the improvement plan. */
        report_history(out, r, in, dec, &report_history_html);

        /* Charts. */
        fputs("<div class=\"charts\"><figure><figcaption>Daily compliance</figcaption>", out);
        report_svg_days(out, in);
        fputs("</figure><figure><figcaption>Error budget burn-down</figcaption>", out);
        report_svg_burn(out, in);
        fputs("</figure></div>", out);

        /* Worst days and alert episodes. */
        fputs("<div class=\"lower\"><section><h4>Worst days</h4>", out);
        if (in->n_worst == 0) {
            fputs("<p class=\"none\">No day had events.</p>", out);
        } else {
            fputs("<table class=\"mini\"><thead><tr><th scope=\"col\">Day</th>"
                  "<th scope=\"col\" class=\"n\">Compliance</th>",
                  out);
            if (report_occurrences(slo))
                fputs("<th scope=\"col\" class=\"n\">Bad / total</th>", out);
            fputs("</tr></thead><tbody>", out);
            for (size_t w = 0; w < in->n_worst; w++) {
                const struct report_day *d = &in->days[in->worst[w]];
                double pct = report_sli(d->bad, d->total);
                fprintf(out, "<tr><td>%s</td><td class=\"n\">%s %%</td>", d->date,
                        report_pct(pct, dec, a, sizeof(a)));
                if (report_occurrences(slo))
                    fprintf(out, "<td class=\"n\">%s / %s</td>", html_count(d->bad, b, sizeof(b)),
                            html_count(d->total, c, sizeof(c)));
                fputs("</tr>", out);
            }
            fputs("</tbody></table>", out);
        }
        fputs("</section><section><h4>Alert episodes <span style=\"text-transform:none;"
              "letter-spacing:0;font-weight:400\">(",
              out);
        html_esc(out, zone);
        fputs(")</span></h4>", out);
        if (in->n_episodes == 0) {
            fputs("<p class=\"none\">No page or ticket condition held in the period.</p>", out);
        } else {
            fputs("<table class=\"mini\"><thead><tr><th scope=\"col\">Alert</th>"
                  "<th scope=\"col\">Start</th><th scope=\"col\">End</th>"
                  "<th scope=\"col\" class=\"n\">Duration</th>"
                  "<th scope=\"col\" class=\"n\" title=\"highest 1h burn rate while it held\">Peak "
                  "burn</th></tr></thead><tbody>",
                  out);
            size_t shown = in->n_episodes < REPORT_SHOWN ? in->n_episodes : REPORT_SHOWN;
            for (size_t e = 0; e < shown; e++) {
                const struct report_episode *ep = &in->episodes[e];
                fprintf(out, "<tr><td class=\"%s\">%s%s</td><td>",
                        ep->severity == REPORT_PAGE ? "pg" : "tk", report_sev_names[ep->severity],
                        report_tier_enabled(slo, ep->severity) ? "" : " (off)");
                report_html_time(out, zone, ep->start, HTML_T_SHORT);
                fputs("</td><td>", out);
                if (ep->open)
                    fputs("open at ", out);
                report_html_time(out, zone, ep->end, HTML_T_SHORT);
                fprintf(out, "</td><td class=\"n\">%s%s",
                        report_dur(ep->end - ep->start, a, sizeof(a)), ep->open ? "+" : "");
                if (ep->held < ep->end - ep->start)
                    fprintf(out, "<br><small>held %s</small>", report_dur(ep->held, a, sizeof(a)));
                fprintf(out, "</td><td class=\"n\">%.1f</td></tr>", html_fin(ep->peak, 0));
            }
            fputs("</tbody></table>", out);
            if (shown < in->n_episodes)
                fprintf(out,
                        "<p class=\"none\">\xe2\x80\xa6 and %zu more episodes (the JSON report "
                        "lists them all).</p>",
                        in->n_episodes - shown);
        }
        fputs("</section></div>", out);
    }
    /* What was measured. */
    fputs("<dl class=\"meta\"><div><dt>Period</dt><dd>", out);
    report_html_time(out, zone, in->start, HTML_T_MINUTE);
    fputs(" to ", out);
    report_html_time(out, zone, in->end, HTML_T_MINUTE);
    fputc(' ', out);
    html_esc(out, zone);
    if (in->measured_to <= in->start)
        fputs(" (not started yet)", out);
    else if (in->measured_to < in->end) {
        fputs(" (not over: measured to ", out);
        report_html_time(out, zone, in->measured_to, HTML_T_MINUTE);
        fputc(')', out);
    }
    fprintf(out, "</dd></div><div><dt>SLI</dt><dd>%s</dd></div>",
            rules_sli_kind_name(slo->sli.kind));
    fprintf(out, "<div><dt>Window</dt><dd>%s</dd></div>", report_window(slo, a, sizeof(a)));
    if (slo->service_hours.set)
        fprintf(out, "<div><dt>Service hours</dt><dd>%s</dd></div>",
                report_hours_text(slo, a, sizeof(a)));
    if (slo->n_exclusions > 0)
        fprintf(out, "<div><dt>Exclusions</dt><dd>%zu, not counted</dd></div>", slo->n_exclusions);
    fputs("</dl></article>\n", out);
}

static void report_html_overview(FILE *out, const struct report *r)
{
    char a[64], b[64];
    fputs("<div class=\"ovbox\"><table class=\"ov\"><caption>Overview</caption><thead><tr>"
          "<th scope=\"col\">SLO</th><th scope=\"col\">State</th>"
          "<th scope=\"col\" class=\"n\">Compliance</th>"
          "<th scope=\"col\" class=\"n hide-s\">Objective</th>"
          "<th scope=\"col\" class=\"n\">Budget spent</th>"
          "<th scope=\"col\" class=\"n hide-s\">Score</th>"
          "<th scope=\"col\" class=\"n hide-s\">Credit</th>"
          "<th scope=\"col\" class=\"hide-s\">Alert episodes</th>"
          "<th scope=\"col\" class=\"hide-s\">Plan</th></tr></thead><tbody>",
          out);
    for (size_t k = 0; k < r->n_inst; k++) {
        const struct report_inst *in = r->inst[k];
        const struct rules_slo *slo = in->slo;
        int st = report_st(in);
        fprintf(out, "<tr><td><a href=\"#slo-%zu\">", k);
        report_html_name(out, in, true);
        fprintf(out, "</a></td><td><span class=\"st\"><i class=\"dot d-%s\"></i>%s</span></td>",
                report_state_class[st], report_state_text[st]);
        if (in->failed) {
            fprintf(out,
                    "<td class=\"n\">\xe2\x80\x93</td><td class=\"n hide-s\">%s %%</td>"
                    "<td class=\"n\">\xe2\x80\x93</td><td class=\"n hide-s\">\xe2\x80\x93</td>"
                    "<td class=\"n hide-s\">\xe2\x80\x93</td><td class=\"hide-s\"></td>"
                    "<td class=\"hide-s\"></td></tr>\n",
                    html_line(slo->objective, a, sizeof(a)));
            continue;
        }
        fprintf(out,
                "<td class=\"n\">%s %%</td><td class=\"n hide-s\">%s %%</td>"
                "<td class=\"n%s\">%.1f %%</td><td class=\"n hide-s\">%.1f</td>",
                report_pct(in->compliance, html_decimals(slo->objective), a, sizeof(a)),
                html_line(slo->objective, b, sizeof(b)), in->spent > 1 ? " neg" : "",
                html_fin(in->spent, 0) * 100, html_fin(in->score, 0));
        fprintf(out, "<td class=\"n hide-s\">%s</td>", report_credit_text(in, a, sizeof(a)));
        fprintf(out, "<td class=\"hide-s ep\">%s</td>", report_episodes_text(in, a, sizeof(a)));
        fprintf(out, "<td class=\"hide-s%s\">%s</td></tr>\n", in->plan_due ? " due" : "",
                in->plan_due ? "due" : "");
    }
    fputs("</tbody></table></div>\n", out);
}

static void report_html(const struct report *r, const char *version, FILE *out)
{
    char a[64];
    size_t counts[5];
    report_state_counts(r, counts);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"color-scheme\" content=\"light\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n",
          out);
    fprintf(out, "<title>SLO report %s \xe2\x80\x94 sloe</title>\n", r->name);
    html_head_rest(out, report_css, sizeof(report_css) / sizeof(report_css[0]), version);
    fprintf(out, "compliance report</small></p><h1>%s %s</h1></div></header>\n",
            report_kind_title(r->period.kind), r->name);
    fputs("<div class=\"summary\"><div class=\"wrap\"><div class=\"evaltime\">Each SLO's "
          "period in its own time zone \xc2\xb7 generated ",
          out);
    report_html_time(out, NULL, r->generated_at, HTML_T_MINUTE_UTC);
    fputs("</div><ul class=\"counts\" aria-label=\"SLO instances by state\">", out);
    for (int st = 0; st < 5; st++) {
        if (st == 4 && counts[st] == 0)
            continue;
        fprintf(out, "<li><i class=\"dot d-%s\"></i><b>%zu</b> %s</li>", report_state_class[st],
                counts[st], report_state_class[st]);
    }
    fputs("</ul></div></div>\n<main class=\"wrap\">\n", out);
    if (report_partial(r)) {
        fputs("<p class=\"partial\"><b>Not over yet:</b> the period is reported up to ", out);
        report_html_time(out, NULL, r->now, HTML_T_MINUTE_UTC);
        fputs("; its numbers will change until it ends.</p>\n", out);
    }
    report_html_overview(out, r);
    for (size_t v = 0; v < r->n_svcs; v++) {
        const struct report_service *sv = &r->svcs[v];
        if (sv->n == 0)
            continue;
        fputs("<section class=\"service\"><div class=\"svc-head\"><h2>", out);
        html_esc(out, sv->svc->name);
        fputs("</h2>", out);
        if (sv->scored)
            fprintf(out,
                    "<span class=\"svc-score\">service score <b>%.1f</b> / 100<span class=\"grade "
                    "g-%s\">%s</span> <span>(excellent from %.10g, pass from %.10g)</span></span>",
                    sv->score, budget_grade_names[sv->grade], budget_grade_names[sv->grade],
                    sv->svc->excellent, sv->svc->pass);
        if (sv->svc->labels.n > 0) {
            fputs("<div class=\"labels\">", out);
            for (size_t l = 0; l < sv->svc->labels.n; l++)
                html_chip(out, "<span class=\"lbl\">", sv->svc->labels.v[l].name,
                          sv->svc->labels.v[l].value);
            fputs("</div>", out);
        }
        fputs("</div>\n", out);
        for (size_t k = sv->first; k < sv->first + sv->n; k++)
            report_html_inst(out, r, r->inst[k], k);
        fputs("</section>\n", out);
    }
    fputs("</main>\n<footer class=\"foot\"><div class=\"wrap\">Generated by sloe", out);
    if (version != NULL && version[0] != '\0') {
        fputc(' ', out);
        html_esc(out, version);
    }
    fprintf(out,
            " at %s UTC. Compliance is good events over all events in the period; "
            "the alert episodes are the minutes in which the multiwindow multi-burn-rate "
            "page and ticket conditions of the SRE Workbook held, scaled to each SLO's "
            "period.</div></footer>\n</body>\n</html>\n",
            html_time(NULL, r->generated_at, HTML_T_MINUTE, a, sizeof(a)));
}

int report_write(const struct report *r, enum report_format f, const char *version, FILE *out)
{
    int rc = 0;
    switch (f) {
    case REPORT_MARKDOWN:
        report_md(r, version, out);
        break;
    case REPORT_HTML:
        report_html(r, version, out);
        break;
    case REPORT_CSV:
        report_csv(r, out);
        break;
    case REPORT_JSON:
        rc = report_json(r, version, out);
        break;
    }
    if (fflush(out) != 0 || ferror(out))
        rc = -1;
    return rc;
}
