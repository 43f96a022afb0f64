/* html: small helpers shared by the HTML documents sloe writes (the status page and the
 * compliance report): escaping of strings for HTML, numbers and times as text, and the
 * stylesheet rules both share. None of them allocates; the ones that format into a caller's
 * buffer return that buffer. */
#ifndef SLOE_HTML_H
#define SLOE_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Walks s as UTF-8 and writes it to out: valid multi-byte sequences as they are, printable
 * ASCII, tab and newline through ascii, invalid bytes and other control characters (C0, DEL,
 * C1) as U+FFFD. NULL writes nothing. Write errors are left in out's error indicator. */
void html_walk(FILE *out, const char *s, void (*ascii)(FILE *, unsigned char));

/* Writes s escaped for HTML text and for a double- or single-quoted attribute value: & < > "
 * and ' as character references; control characters other than tab and newline, and bytes
 * that are not UTF-8, as U+FFFD. NULL writes nothing. */
void html_esc(FILE *out, const char *s);

/* Returns v when it is finite, else def. */
double html_fin(double v, double def);

/* Returns the decimals that show a compliance next to this objective (percent): two more
 * than the objective has (99.9 gives 3), at most six. */
int html_decimals(double objective);

/* Formats a ratio (0..1) into buf as a percentage with dec decimals, rounded down so that a
 * value below a line never shows as the line itself; a value that is not finite shows as an
 * en dash. Returns buf. */
char *html_pct(double ratio, int dec, char *buf, size_t size);

/* Formats a percentage from the rule file (99.9) into buf with the digits it has; one that is
 * not finite as 0. Returns buf. */
char *html_line(double percent, char *buf, size_t size);

/* Formats a count into buf with thousands separators ("1,234,567"); a fractional count below
 * 100 (counts come from rates) keeps one decimal, one that is not finite shows as 0. Output
 * that does not fit in size is cut short. Returns buf. */
char *html_count(double v, char *buf, size_t size);

/* The fixed formats of html_time. */
enum html_tfmt {
    HTML_T_FULL,       /* 2026-10-01 00:00:00 */
    HTML_T_MINUTE,     /* 2026-10-01 00:00 */
    HTML_T_MINUTE_UTC, /* 2026-10-01 00:00 UTC */
    HTML_T_SHORT,      /* 10-01 00:00 */
    HTML_T_DAY,        /* Oct 01 */
    HTML_T_CLOCK,      /* 00:00 */
};

/* Formats t (unix seconds) into buf in zone (NULL, or a zone that fails: UTC) in format fmt;
 * an empty string when it does not fit in size. Returns buf. */
char *html_time(const char *zone, int64_t t, enum html_tfmt fmt, char *buf, size_t size);

/* The compliance scale: a bar from lo to 100 % with coloured zones between the SLO's lines,
 * the lines, and a marker at the compliance. Percentages throughout. */
struct html_scale {
    double objective, warning, minimum; /* the SLO's lines */
    double at;                          /* the compliance */
    double lo, span;                    /* the range shown: lo to lo + span (100) */
};

/* Fills s for an SLO's lines (percent) and a compliance (a ratio; one that is not finite is
 * drawn at 100 %). The range is twice the gap between the minimum and 100 %, widened until the
 * compliance falls in its upper 92 %, and never more than 0..100; callers that want round
 * ends move lo down and set span to 100 - lo. */
void html_scale_init(struct html_scale *s, double objective, double warning, double minimum,
                     double compliance);

/* Writes s as an <svg class="scale"> height units tall (the zones leave 3 above and below,
 * the lines 1): the objective's line, with every_line also the warning's and the minimum's
 * where each is below the next, and the compliance marker over them. */
void html_scale_svg(FILE *out, const struct html_scale *s, int height, bool every_line);

/* The frame of a burn-down chart (error budget left over a period: 1 the whole budget, 0
 * none, below 0 overspent), in its viewBox's units: time runs from x0 to x1, the budget from
 * 100 % at y0 down to the lower edge at y1. */
struct html_burn {
    double x0, x1, y0, y1;
    double ymin;  /* the lower edge: 0, or a quarter step below the lowest point, not below -1 */
    bool clipped; /* points went below -100 % and are drawn on the edge */
};

/* Fills b for a plot area and the lowest budget left the chart will draw. */
void html_burn_init(struct html_burn *b, double x0, double x1, double y0, double y1, double lowest);

/* The x of a time given as a share of the period (0 its start, 1 its end). */
double html_burn_x(const struct html_burn *b, double share);

/* The y of a budget left, clamped to the chart (100 % down to the lower edge). */
double html_burn_y(const struct html_burn *b, double left);

/* Writes the grid lines at 100 % and 50 %, at the lower edge when it is below 0 (marked "≤"
 * when points were clipped), and the dashed zero line, each with its label left of x0. */
void html_burn_grid(FILE *out, const struct html_burn *b);

/* Writes the dotted line from y0 to y1 at a time given as a share of the period, and returns
 * its x (for a label, which each document places its own way). */
double html_burn_now(FILE *out, const struct html_burn *b, double share);

/* Writes the n (at least one) points, at shares of the period share[k] with budget left
 * left[k]: the area down to the zero line, the line through them, and a dot on the last,
 * all in the overspent colour when the last point is below 0. */
void html_burn_curve(FILE *out, const struct html_burn *b, const double *share, const double *left,
                     size_t n);

/* Writes the stylesheet rules shared by the status page and the report (the inside of a
 * <style> element); each document writes its own rules after them. */
void html_css(FILE *out);

/* Writes the rest of a document's head after its <title>: the <style> element with the shared
 * rules and then the n rules of the document's own, and opens the body with the top bar's
 * "sloe" brand and, when version is neither NULL nor empty, "version V · " (escaped) in its
 * <small>, which the caller goes on to fill and close. */
void html_head_rest(FILE *out, const char *const *rules, size_t n, const char *version);

/* Writes a label as a chip: open (the chip's opening <span> tag, written as it is), name=value
 * escaped, </span>. A NULL value shows as "(none)" in italics. */
void html_chip(FILE *out, const char *open, const char *name, const char *value);

/* Opens an SLO's card: <article class="slo s-STATE" id="slo-ID">, its head, and the heading
 * "service / slo" (both escaped) in the head's first <div>, which the caller closes after
 * what it adds (the labels). */
void html_card_open(FILE *out, const char *state, size_t id, const char *service, const char *slo);

#endif
