/* html: small helpers shared by the HTML documents sloe writes (the status page and the
 * compliance report): escaping of strings for HTML, numbers and times as text, and the
 * stylesheet rules both share. None of them allocates; the ones that format into a caller's
 * buffer return that buffer. */
#ifndef SLOE_HTML_H
#define SLOE_HTML_H

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

/* Writes the stylesheet rules shared by the status page and the report (the inside of a
 * <style> element); each document writes its own rules after them. */
void html_css(FILE *out);

#endif
