#define ZLIB_CONST
#include "negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define NEGOT_MAX_PARAMS 16

/* A piece of a header, not NUL-terminated. */
struct negot_span {
    const char *s;
    size_t n;
};

/* One entry of an Accept or Accept-Encoding header: the media range or coding and the
 * parameters that matter here. */
struct negot_entry {
    struct negot_span type, version, proto, encoding;
    bool has_version;
    int q; /* in thousandths, 0..1000 */
};

/* Case-insensitive comparison with a literal, as for media types and parameter names. */
static bool negot_is(struct negot_span a, const char *lit)
{
    return a.n == strlen(lit) && strncasecmp(a.s, lit, a.n) == 0;
}

/* Exact comparison with a literal, as for parameter values. */
static bool negot_same(struct negot_span a, const char *lit)
{
    return a.n == strlen(lit) && memcmp(a.s, lit, a.n) == 0;
}

static void negot_skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* A token: everything up to a separator, white space or the end. */
static struct negot_span negot_token(const char **p)
{
    const char *s = *p;
    while (**p != '\0' && strchr(",;=\" \t", **p) == NULL)
        (*p)++;
    return (struct negot_span){s, (size_t)(*p - s)};
}

/* A parameter value: a token or a quoted string (the span is between the quotes, escapes
 * left as they are). */
static struct negot_span negot_value(const char **p)
{
    if (**p != '"')
        return negot_token(p);
    const char *s = ++*p;
    while (**p != '\0' && **p != '"') {
        if (**p == '\\' && (*p)[1] != '\0')
            (*p)++;
        (*p)++;
    }
    struct negot_span v = {s, (size_t)(*p - s)};
    if (**p == '"')
        (*p)++;
    return v;
}

/* A q-value ("0", "0.7", "1.000") in thousandths, or -1 when it is not one. */
static int negot_qvalue(struct negot_span v)
{
    if (v.n == 0 || v.n > 5 || (v.s[0] != '0' && v.s[0] != '1'))
        return -1;
    int q = (v.s[0] - '0') * 1000;
    if (v.n == 1)
        return q;
    if (v.s[1] != '.')
        return -1;
    int scale = 100;
    for (size_t i = 2; i < v.n; i++, scale /= 10) {
        if (v.s[i] < '0' || v.s[i] > '9')
            return -1;
        q += (v.s[i] - '0') * scale;
    }
    return q <= 1000 ? q : -1;
}

/* Parses the entry at *p and moves *p past the comma that ends it (or to the end). Returns
 * false when the entry is malformed; *p moves on all the same. */
static bool negot_entry(const char **p, struct negot_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->q = 1000;
    negot_skip_ws(p);
    e->type = negot_token(p);
    bool ok = e->type.n > 0;
    negot_skip_ws(p);
    for (int n_params = 0; **p == ';'; n_params++) {
        (*p)++;
        negot_skip_ws(p);
        struct negot_span name = negot_token(p);
        negot_skip_ws(p);
        if (name.n == 0 && (**p == ',' || **p == '\0'))
            break; /* a trailing ";" */
        if (**p != '=' || n_params >= NEGOT_MAX_PARAMS) {
            ok = false;
            break;
        }
        (*p)++;
        negot_skip_ws(p);
        struct negot_span value = negot_value(p);
        negot_skip_ws(p);
        if (negot_is(name, "q")) {
            e->q = negot_qvalue(value);
            ok = ok && e->q >= 0;
        } else if (negot_is(name, "version")) {
            e->version = value;
            e->has_version = true;
        } else if (negot_is(name, "proto")) {
            e->proto = value;
        } else if (negot_is(name, "encoding")) {
            e->encoding = value;
        }
    }
    if (**p != ',' && **p != '\0')
        ok = false;
    while (**p != '\0' && **p != ',') {
        if (**p == '"')
            negot_value(p);
        else
            (*p)++;
    }
    if (**p == ',')
        (*p)++;
    return ok;
}

/* The format an Accept entry asks for, or -1 when it is none that sloe writes. */
static int negot_match(const struct negot_entry *e)
{
    if (negot_is(e->type, "application/vnd.google.protobuf"))
        return negot_same(e->proto, "io.prometheus.client.MetricFamily") &&
                       negot_is(e->encoding, "delimited")
                   ? NEGOT_PROTOBUF
                   : -1;
    if (negot_is(e->type, "application/openmetrics-text"))
        return !e->has_version || negot_same(e->version, "1.0.0") || negot_same(e->version, "0.0.1")
                   ? NEGOT_OPENMETRICS
                   : -1;
    if (negot_is(e->type, "text/plain"))
        return !e->has_version || negot_same(e->version, "0.0.4") || negot_same(e->version, "1.0.0")
                   ? NEGOT_TEXT
                   : -1;
    if (negot_is(e->type, "*/*") || negot_is(e->type, "text/*"))
        return NEGOT_TEXT;
    return -1;
}

/* Whether h is present and short enough to be parsed. */
static bool negot_parsable(const char *h)
{
    return h != NULL && strnlen(h, NEGOT_MAX_HEADER + 1) <= NEGOT_MAX_HEADER;
}

enum negot_format negot_format(const char *accept)
{
    if (!negot_parsable(accept))
        return NEGOT_TEXT;
    enum negot_format best = NEGOT_TEXT;
    int best_q = 0;
    const char *p = accept;
    for (int i = 0; i < NEGOT_MAX_ENTRIES && *p != '\0'; i++) {
        struct negot_entry e;
        if (!negot_entry(&p, &e))
            continue;
        int m = negot_match(&e);
        if (m >= 0 && e.q > best_q) {
            best = (enum negot_format)m;
            best_q = e.q;
        }
    }
    return best;
}

const char *negot_content_type(enum negot_format f)
{
    switch (f) {
    case NEGOT_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case NEGOT_PROTOBUF:
        return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
               "encoding=delimited";
    case NEGOT_TEXT:
        break;
    }
    return "text/plain; version=0.0.4; charset=utf-8";
}

bool negot_gzip(const char *accept_encoding)
{
    if (!negot_parsable(accept_encoding))
        return false;
    int gzip_q = -1, any_q = -1;
    const char *p = accept_encoding;
    for (int i = 0; i < NEGOT_MAX_ENTRIES && *p != '\0'; i++) {
        struct negot_entry e;
        if (!negot_entry(&p, &e))
            continue;
        if ((negot_is(e.type, "gzip") || negot_is(e.type, "x-gzip")) && gzip_q < 0)
            gzip_q = e.q;
        else if (negot_is(e.type, "*") && any_q < 0)
            any_q = e.q;
    }
    return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

int negot_gzip_compress(const void *in, size_t n, void **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (n > NEGOT_MAX_GZIP_INPUT)
        return -1;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 window bits, plus 16 for the gzip header and trailer instead of zlib's. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    size_t cap = deflateBound(&zs, n);
    unsigned char *buf = malloc(cap);
    if (buf == NULL)
        abort();
    zs.next_in = in;
    zs.avail_in = (uInt)n;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = cap - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_n = produced;
    return 0;
}
