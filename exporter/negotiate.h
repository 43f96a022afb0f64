/* negotiate: HTTP content negotiation for /metrics: which exposition format to answer an
 * Accept header with, and whether to gzip the body for an Accept-Encoding header.
 *
 * Headers are read the way Prometheus sends them: comma-separated media ranges with
 * parameters and q-values. Headers longer than NEGOT_MAX_HEADER bytes are not parsed (the
 * defaults apply), and only the first NEGOT_MAX_ENTRIES entries of a header are looked at. */
#ifndef SLOE_NEGOTIATE_H
#define SLOE_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#define NEGOT_MAX_HEADER 8192
#define NEGOT_MAX_ENTRIES 64
#define NEGOT_MAX_GZIP_INPUT ((size_t)256 << 20)

enum negot_format { NEGOT_TEXT, NEGOT_OPENMETRICS, NEGOT_PROTOBUF };

/* The format to answer accept with (NULL when the request has none): the acceptable entry
 * with the highest q-value, the first one on ties. Acceptable are
 * application/vnd.google.protobuf with proto=io.prometheus.client.MetricFamily and
 * encoding=delimited; application/openmetrics-text of version 1.0.0, 0.0.1 (answered as
 * 1.0.0) or none; text/plain of version 0.0.4, 1.0.0 (answered as 0.0.4) or none; and the
 * wildcards for any type and any text type, answered as text. Entries with q=0 are
 * refused; anything unknown, malformed, empty or too long yields NEGOT_TEXT. */
enum negot_format negot_format(const char *accept);

/* The Content-Type of a format's response (a static string). */
const char *negot_content_type(enum negot_format f);

/* Whether accept_encoding (NULL when absent) accepts gzip: "gzip" or "x-gzip" with q > 0,
 * or, when gzip is not named, "*" with q > 0. */
bool negot_gzip(const char *accept_encoding);

/* Compresses in[0..n) into a gzip stream (RFC 1952) in *out, malloc'd and owned by the
 * caller, of *out_n bytes. Returns 0, or -1 when n exceeds NEGOT_MAX_GZIP_INPUT or zlib
 * fails (*out is then NULL). Allocation failure aborts. */
int negot_gzip_compress(const void *in, size_t n, void **out, size_t *out_n)
    __attribute__((warn_unused_result));

#endif
