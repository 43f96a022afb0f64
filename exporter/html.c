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
