#define ZLIB_CONST
#include "negotiate.h"

#include <stdbool.h>
#include <stdio.h>
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

struct negot_gz {
    z_stream zs;
    FILE *file;
    unsigned char *out;
    size_t len, cap; /* the gzip bytes so far */
    size_t in;       /* the bytes written */
    bool failed;
};

/* Compresses in[0..n) into the stream, flushing it all with Z_FINISH. */
static void negot_gz_deflate(struct negot_gz *gz, const char *in, size_t n, int flush)
{
    gz->zs.next_in = (const Bytef *)in;
    gz->zs.avail_in = (uInt)n;
    for (;;) {
        if (gz->cap - gz->len < 4096) {
            gz->cap = gz->cap ? 2 * gz->cap : 1 << 16;
            gz->out = realloc(gz->out, gz->cap);
            if (gz->out == NULL)
                abort();
        }
        gz->zs.next_out = gz->out + gz->len;
        gz->zs.avail_out = (uInt)(gz->cap - gz->len);
        int rc = deflate(&gz->zs, flush);
        gz->len = gz->cap - gz->zs.avail_out;
        if (rc == Z_STREAM_END || (rc == Z_OK && gz->zs.avail_in == 0 && flush == Z_NO_FLUSH))
            return;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            gz->failed = true;
            return;
        }
    }
}

static ssize_t negot_gz_write(void *cookie, const char *buf, size_t n)
{
    struct negot_gz *gz = cookie;
    if (gz->failed || n > NEGOT_MAX_GZIP_INPUT - gz->in) {
        gz->failed = true;
        return 0; /* a short write: the FILE reports an error */
    }
    gz->in += n;
    /* zlib takes at most 4 GiB a call; a FILE passes far less. */
    for (size_t done = 0; done < n && !gz->failed;) {
        size_t part = n - done < (1u << 30) ? n - done : (1u << 30);
        negot_gz_deflate(gz, buf + done, part, Z_NO_FLUSH);
        done += part;
    }
    return gz->failed ? 0 : (ssize_t)n;
}

struct negot_gz *negot_gz_new(void)
{
    struct negot_gz *gz = calloc(1, sizeof(*gz));
    if (gz == NULL)
        abort();
    /* 15 window bits, plus 16 for the gzip header and trailer instead of zlib's. */
    if (deflateInit2(&gz->zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(gz);
        return NULL;
    }
    gz->file = fopencookie(gz, "w", (cookie_io_functions_t){.write = negot_gz_write});
    if (gz->file == NULL) {
        deflateEnd(&gz->zs);
        free(gz);
        return NULL;
    }
    return gz;
}

FILE *negot_gz_file(struct negot_gz *gz)
{
    return gz->file;
}

int negot_gz_finish(struct negot_gz *gz, void **out, size_t *out_n, size_t *in_n)
{
    *out = NULL;
    *out_n = *in_n = 0;
    if (fclose(gz->file) != 0)
        gz->failed = true;
    if (!gz->failed)
        negot_gz_deflate(gz, "", 0, Z_FINISH);
    deflateEnd(&gz->zs);
    int rc = -1;
    if (!gz->failed) {
        /* The buffer grew by doubling: give back what it does not use, as it is kept. */
        unsigned char *fit = realloc(gz->out, gz->len > 0 ? gz->len : 1);
        *out = fit != NULL ? fit : gz->out;
        *out_n = gz->len;
        *in_n = gz->in;
        gz->out = NULL;
        rc = 0;
    }
    free(gz->out);
    free(gz);
    return rc;
}

int negot_gzip_compress(const void *in, size_t n, void **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (n > NEGOT_MAX_GZIP_INPUT)
        return -1;
    struct negot_gz *gz = negot_gz_new();
    if (gz == NULL)
        return -1;
    size_t in_n;
    if (n > 0 && fwrite(in, 1, n, gz->file) != n)
        gz->failed = true;
    return negot_gz_finish(gz, out, out_n, &in_n);
}

struct negot_gunzip {
    z_stream zs;
    bool done;
};

struct negot_gunzip *negot_gunzip_new(const void *gz, size_t n)
{
    struct negot_gunzip *g = calloc(1, sizeof(*g));
    if (g == NULL)
        abort();
    if (inflateInit2(&g->zs, 15 + 16) != Z_OK) {
        free(g);
        return NULL;
    }
    g->zs.next_in = gz;
    g->zs.avail_in = (uInt)n;
    return g;
}

long negot_gunzip_read(struct negot_gunzip *g, void *buf, size_t max)
{
    if (max == 0)
        return 0;
    if (max > (1u << 30))
        max = 1u << 30;
    g->zs.next_out = buf;
    g->zs.avail_out = (uInt)max;
    /* Until something comes out: the header alone inflates to nothing. */
    while (!g->done && g->zs.avail_out == max) {
        int rc = inflate(&g->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            g->done = true;
        else if (rc != Z_OK)
            return -1; /* corrupt, or the input ended before the stream did */
    }
    return (long)(max - g->zs.avail_out);
}

void negot_gunzip_free(struct negot_gunzip *g)
{
    if (g == NULL)
        return;
    inflateEnd(&g->zs);
    free(g);
}
