#include "prom.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

/* A response body being received; never holds more than max bytes. */
struct prom_buf {
    char *p;
    size_t n, cap, max;
    bool over;
};

struct prom_client {
    CURL *curl;
    struct curl_slist *headers; /* may hold the bearer token: wiped before freeing */
    char *url_query, *url_range, *url_read, *url_buildinfo;
    char *shown_url; /* the base URL without credentials or query string, for messages */
    int64_t timeout_ms;
    bool stats;
    bool remote_read;         /* remote read may be tried: not turned off, not found unsupported */
    bool remote_read_checked; /* the server's version was found fit for it */
    struct prom_buf body;
    char errbuf[CURL_ERROR_SIZE];
};

enum { PROM_EXCERPT_BYTES = 200, PROM_KEEP_BUFFER = 1 << 20 };

static pthread_once_t prom_curl_once = PTHREAD_ONCE_INIT;
static CURLcode prom_curl_rc;

static void prom_curl_init(void)
{
    prom_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void *prom_xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fputs("sloe: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* Fills err and returns -1. A message cut at the end of msg is cut at a UTF-8 boundary. */
static int prom_fail(struct prom_error *err, enum prom_error_kind kind, int status, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static int prom_fail(struct prom_error *err, enum prom_error_kind kind, int status, const char *fmt,
                     ...)
{
    err->kind = kind;
    err->http_status = status;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(err->msg)) {
        size_t end = sizeof(err->msg) - 1;
        while (end > 0 && ((unsigned char)err->msg[end] & 0xC0) == 0x80)
            end--;
        err->msg[end] = '\0';
    }
    return -1;
}

const char *prom_error_reason(enum prom_error_kind k)
{
    static const char *const reasons[] = {"ok",   "config",    "connect", "timeout",
                                          "http", "too_large", "json",    "query"};
    return (unsigned)k < sizeof(reasons) / sizeof(reasons[0]) ? reasons[k] : "unknown";
}

void prom_result_free(struct prom_result *r)
{
    if (r == NULL)
        return;
    arena_free(&r->arena);
    memset(r, 0, sizeof(*r));
    r->total_queryable_samples = -1;
}

/* ---- Decoding ---- */

/* The first printable bytes of body with whitespace runs as one space, for messages. */
static void prom_excerpt(const char *body, size_t len, char *out, size_t size)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < len && o + 1 < size && o < PROM_EXCERPT_BYTES; i++) {
        unsigned char ch = (unsigned char)body[i];
        if (isspace(ch)) {
            space = o > 0;
        } else if (ch >= 0x20 && ch < 0x7F) {
            if (space && o + 2 < size)
                out[o++] = ' ';
            space = false;
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

static int prom_http_fail(const char *body, size_t len, int status, const char *origin,
                          struct prom_error *err)
{
    char ex[PROM_EXCERPT_BYTES + 1];
    prom_excerpt(body, len, ex, sizeof(ex));
    return prom_fail(err, PROM_ERR_HTTP, status, "HTTP %d%s%s: %s", status, origin ? " from " : "",
                     origin ? origin : "", ex[0] ? ex : "(empty body)");
}

/* Parses a sample value as Prometheus writes it: a decimal, "NaN", "+Inf" or "-Inf". */
static bool prom_parse_value(const char *s, double *v)
{
    if (strcmp(s, "NaN") == 0) {
        *v = NAN;
        return true;
    }
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
        *v = INFINITY;
        return true;
    }
    if (strcmp(s, "-Inf") == 0) {
        *v = -INFINITY;
        return true;
    }
    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    char *end;
    *v = strtod(s, &end);
    return *end == '\0';
}

/* Decodes [unix seconds, "value"]. */
static int prom_decode_sample(const json_t *pair, struct prom_sample *out, struct prom_error *err)
{
    const json_t *t = json_array_get(pair, 0), *v = json_array_get(pair, 1);
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_number(t) ||
        !json_is_string(v))
        return prom_fail(err, PROM_ERR_JSON, 0, "a sample is not [timestamp, \"value\"]");
    double ts = json_number_value(t);
    if (!(fabs(ts) < 1e13)) /* also refuses NaN */
        return prom_fail(err, PROM_ERR_JSON, 0, "sample timestamp %g out of range", ts);
    out->t_ms = llround(ts * 1000.0);
    if (!prom_parse_value(json_string_value(v), &out->v))
        return prom_fail(err, PROM_ERR_JSON, 0, "sample value \"%.40s\" is not a number",
                         json_string_value(v));
    return 0;
}

static int prom_label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct prom_label *)a)->name, ((const struct prom_label *)b)->name);
}

static int prom_decode_labels(const json_t *metric, struct arena *a, struct prom_series *s,
                              struct prom_error *err)
{
    if (metric == NULL)
        return 0;
    if (!json_is_object(metric))
        return prom_fail(err, PROM_ERR_JSON, 0, "\"metric\" is not an object");
    size_t n = json_object_size(metric);
    if (n > PROM_MAX_LABELS)
        return prom_fail(err, PROM_ERR_TOO_LARGE, 0, "a series has %zu labels, more than %d", n,
                         PROM_MAX_LABELS);
    struct prom_label *labels = arena_alloc(a, (n ? n : 1) * sizeof(*labels));
    const char *key;
    json_t *val;
    size_t i = 0;
    json_object_foreach((json_t *)metric, key, val)
    {
        if (!json_is_string(val))
            return prom_fail(err, PROM_ERR_JSON, 0, "label \"%.100s\" is not a string", key);
        labels[i].name = arena_strdup(a, key);
        labels[i].value = arena_strndup(a, json_string_value(val), json_string_length(val));
        i++;
    }
    qsort(labels, n, sizeof(*labels), prom_label_cmp);
    s->labels = labels;
    s->n_labels = n;
    return 0;
}

/* Decodes one element of a vector (matrix false) or matrix result. */
static int prom_decode_series(const json_t *el, bool matrix, struct arena *a, struct prom_series *s,
                              struct prom_error *err)
{
    if (!json_is_object(el))
        return prom_fail(err, PROM_ERR_JSON, 0, "a series is not an object");
    if (prom_decode_labels(json_object_get(el, "metric"), a, s, err) != 0)
        return -1;
    const json_t *values = json_object_get(el, matrix ? "values" : "value");
    const json_t *hist = json_object_get(el, matrix ? "histograms" : "histogram");
    if (hist != NULL && !(matrix && json_is_array(hist) && json_array_size(hist) == 0))
        return prom_fail(err, PROM_ERR_QUERY, 0,
                         "the query returned native histogram samples; sloe needs float samples "
                         "(use histogram_count, histogram_sum or histogram_fraction)");
    if (values == NULL) /* Prometheus leaves out an empty "values" */
        return matrix ? 0 : prom_fail(err, PROM_ERR_JSON, 0, "a vector element has no \"value\"");
    if (matrix && !json_is_array(values))
        return prom_fail(err, PROM_ERR_JSON, 0, "\"values\" is not an array");
    size_t n = matrix ? json_array_size(values) : 1;
    struct prom_sample *samples = arena_alloc(a, (n ? n : 1) * sizeof(*samples));
    for (size_t i = 0; i < n; i++)
        if (prom_decode_sample(matrix ? json_array_get(values, i) : values, &samples[i], err) != 0)
            return -1;
    s->samples = samples;
    s->n_samples = n;
    return 0;
}

static int prom_decode_data(const json_t *data, struct prom_result *out, struct prom_error *err)
{
    struct arena *a = &out->arena;
    const char *type = json_string_value(json_object_get(data, "resultType"));
    const json_t *result = json_object_get(data, "result");
    if (type == NULL || result == NULL)
        return prom_fail(err, PROM_ERR_JSON, 0, "\"data\" lacks \"resultType\" or \"result\"");
    if (strcmp(type, "scalar") == 0) {
        struct prom_series *s = arena_alloc(a, sizeof(*s));
        struct prom_sample *sample = arena_alloc(a, sizeof(*sample));
        if (prom_decode_sample(result, sample, err) != 0)
            return -1;
        s->samples = sample;
        s->n_samples = 1;
        out->type = PROM_RESULT_SCALAR;
        out->series = s;
        out->n_series = 1;
        return 0;
    }
    if (strcmp(type, "string") == 0)
        return prom_fail(err, PROM_ERR_QUERY, 0, "the query returned a string, not a number");
    bool matrix = strcmp(type, "matrix") == 0;
    if (!matrix && strcmp(type, "vector") != 0)
        return prom_fail(err, PROM_ERR_JSON, 0, "unknown resultType \"%.40s\"", type);
    if (!json_is_array(result))
        return prom_fail(err, PROM_ERR_JSON, 0, "\"result\" of a %s is not an array", type);
    size_t n = json_array_size(result);
    struct prom_series *series = arena_alloc(a, (n ? n : 1) * sizeof(*series));
    for (size_t i = 0; i < n; i++)
        if (prom_decode_series(json_array_get(result, i), matrix, a, &series[i], err) != 0)
            return -1;
    out->type = matrix ? PROM_RESULT_MATRIX : PROM_RESULT_VECTOR;
    out->series = series;
    out->n_series = n;
    return 0;
}

static void prom_decode_extras(const json_t *root, const json_t *data, struct prom_result *out)
{
    const json_t *w = json_object_get(root, "warnings");
    size_t n = json_array_size(w);
    if (n > 0) {
        const char **warnings = arena_alloc(&out->arena, n * sizeof(*warnings));
        for (size_t i = 0; i < n; i++) {
            const json_t *s = json_array_get(w, i);
            if (json_is_string(s))
                warnings[out->n_warnings++] =
                    arena_strndup(&out->arena, json_string_value(s), json_string_length(s));
        }
        out->warnings = warnings;
    }
    const json_t *stats = json_object_get(json_object_get(data, "stats"), "samples");
    const json_t *total = json_object_get(stats, "totalQueryableSamples");
    if (json_is_integer(total) && json_integer_value(total) >= 0)
        out->total_queryable_samples = json_integer_value(total);
}

/* prom_decode, naming origin (or nothing when NULL) in HTTP errors. */
static int prom_decode_from(const char *body, size_t len, int http_status, const char *origin,
                            struct prom_result *out, struct prom_error *err)
{
    int rc = -1;
    bool ok_status = http_status >= 200 && http_status < 300;
    json_error_t jerr;
    memset(out, 0, sizeof(*out));
    out->total_queryable_samples = -1;
    json_t *root = json_loadb(body, len, 0, &jerr);
    const char *status = json_string_value(json_object_get(root, "status"));
    if (!ok_status && (status == NULL || strcmp(status, "error") != 0)) {
        prom_http_fail(body, len, http_status, origin, err);
        goto out;
    }
    if (root == NULL) {
        prom_fail(err, PROM_ERR_JSON, http_status, "malformed JSON at line %d column %d: %s",
                  jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (status != NULL && strcmp(status, "error") == 0) {
        const char *type = json_string_value(json_object_get(root, "errorType"));
        const char *text = json_string_value(json_object_get(root, "error"));
        bool timeout = type != NULL && strcmp(type, "timeout") == 0;
        char where[300] = "";
        if (!ok_status)
            snprintf(where, sizeof(where), "HTTP %d%s%s: ", http_status, origin ? " from " : "",
                     origin ? origin : "");
        prom_fail(err, timeout ? PROM_ERR_TIMEOUT : PROM_ERR_QUERY, http_status, "%s%s: %s%s",
                  where, type ? type : "error", text ? text : "(no message)",
                  timeout ? " (raise the query timeout of Prometheus or narrow the query)" : "");
        goto out;
    }
    if (json_is_true(json_object_get(root, "isPartial"))) {
        /* VictoriaMetrics cluster: some storage nodes did not answer. Counting what came
         * would undercount events, so the query fails and the last values stay. */
        prom_fail(err, PROM_ERR_QUERY, http_status,
                  "a partial response (\"isPartial\": true): some storage nodes did not "
                  "answer; sloe keeps the last values (set -search.denyPartialResponse on "
                  "vmselect to get an error instead)");
        goto out;
    }
    const json_t *data = json_object_get(root, "data");
    if (status == NULL || strcmp(status, "success") != 0 || !json_is_object(data)) {
        prom_fail(err, PROM_ERR_JSON, http_status,
                  "not a query API response (no \"status\": \"success\" with \"data\")");
        goto out;
    }
    if (prom_decode_data(data, out, err) != 0) {
        err->http_status = http_status;
        goto out;
    }
    prom_decode_extras(root, data, out);
    err->kind = PROM_OK;
    err->http_status = http_status;
    err->msg[0] = '\0';
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        prom_result_free(out);
    return rc;
}

int prom_decode(const char *body, size_t len, int http_status, struct prom_result *out,
                struct prom_error *err)
{
    struct prom_error local;
    return prom_decode_from(body, len, http_status, NULL, out, err ? err : &local);
}

/* ---- The client ---- */

/* Reads a secret from path, trailing whitespace stripped; NULL and err when unusable. The
 * message names the flag and the file, never the content. */
static char *prom_read_secret(const char *path, const char *flag, struct prom_error *err)
{
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "cannot read %s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    buf = prom_xrealloc(NULL, PROM_MAX_SECRET_BYTES + 1);
    size_t n = fread(buf, 1, PROM_MAX_SECRET_BYTES + 1, f);
    bool failed = ferror(f) != 0, big = n > PROM_MAX_SECRET_BYTES;
    fclose(f);
    n = big ? PROM_MAX_SECRET_BYTES : n;
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    const char *why = failed                         ? "read error"
                      : big                          ? "larger than 65536 bytes"
                      : n == 0                       ? "empty"
                      : strlen(buf) != n             ? "contains a NUL byte"
                      : strpbrk(buf, "\r\n") != NULL ? "holds more than one line"
                                                     : NULL;
    if (why != NULL) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "%s %s: %s", flag, path, why);
        explicit_bzero(buf, PROM_MAX_SECRET_BYTES + 1);
        free(buf);
        return NULL;
    }
    return buf;
}

static void prom_free_secret(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* A "Name:Value" header: an HTTP token, a colon, a value without line breaks. */
static bool prom_header_ok(const char *h)
{
    size_t name = strspn(h, "!#$%&'*+-.^_`|~0123456789"
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    return name > 0 && h[name] == ':' && strpbrk(h, "\r\n") == NULL &&
           strlen(h) <= PROM_MAX_HEADER_BYTES;
}

/* Sets the request URLs and the shown URL from the base URL. */
static int prom_set_urls(struct prom_client *c, const char *url, struct prom_error *err)
{
    int rc = -1;
    char *path = NULL, *s = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        abort();
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "--prometheus.url must start with http:// or https://");
        goto out;
    }
    CURLUcode uc = strlen(url) > PROM_MAX_HEADER_BYTES ? CURLUE_MALFORMED_INPUT
                                                       : curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (uc != CURLUE_OK) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "--prometheus.url is not a valid URL: %s",
                  curl_url_strerror(uc));
        goto out;
    }
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    path[plen] = '\0';
    char **dst[] = {&c->url_query, &c->url_range, &c->url_read, &c->url_buildinfo, &c->shown_url};
    const char *suffix[] = {"/api/v1/query", "/api/v1/query_range", "/api/v1/read",
                            "/api/v1/status/buildinfo", "/"};
    for (size_t i = 0; i < 5; i++) {
        s = prom_xrealloc(NULL, plen + 32);
        snprintf(s, plen + 32, "%s%s", path, suffix[i]);
        if (i == 4) { /* shown in messages: no credentials, query or fragment */
            if (plen > 0)
                s[plen] = '\0';
            curl_url_set(u, CURLUPART_USER, NULL, 0);
            curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
            curl_url_set(u, CURLUPART_QUERY, NULL, 0);
            curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        }
        uc = curl_url_set(u, CURLUPART_PATH, s, 0);
        if (uc == CURLUE_OK)
            uc = curl_url_get(u, CURLUPART_URL, dst[i], 0);
        free(s);
        s = NULL;
        if (uc != CURLUE_OK) {
            prom_fail(err, PROM_ERR_CONFIG, 0, "--prometheus.url is not a valid URL: %s",
                      curl_url_strerror(uc));
            goto out;
        }
    }
    size_t slen = strlen(c->shown_url);
    if (slen > 0 && c->shown_url[slen - 1] == '/')
        c->shown_url[slen - 1] = '\0';
    rc = 0;
out:
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static size_t prom_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct prom_buf *b = userp;
    size_t n = size * nmemb;
    if (n > b->max - b->n) {
        b->over = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->n + n)
            cap = cap > b->max / 2 ? b->max : cap * 2;
        b->p = prom_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return n;
}

static struct curl_slist *prom_slist_add(struct curl_slist *l, const char *s)
{
    struct curl_slist *n = curl_slist_append(l, s);
    if (n == NULL)
        abort();
    return n;
}

static void prom_slist_free(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i != NULL; i = i->next)
        explicit_bzero(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

struct prom_client *prom_client_new(const struct prom_config *cfg, struct prom_error *err)
{
    struct prom_error local;
    struct prom_client *c = NULL;
    char *token = NULL, *password = NULL, *auth = NULL;
    bool ok = false;
    err = err ? err : &local;
    memset(err, 0, sizeof(*err));
    pthread_once(&prom_curl_once, prom_curl_init);
    if (prom_curl_rc != CURLE_OK) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "cannot initialize libcurl: %s",
                  curl_easy_strerror(prom_curl_rc));
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    if (prom_set_urls(c, cfg->url ? cfg->url : "", err) != 0)
        goto out;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : PROM_DEFAULT_TIMEOUT_MS;
    if (c->timeout_ms < 1 || c->timeout_ms > 86400000) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "--prometheus.timeout must be between 1ms and 1d");
        goto out;
    }
    c->body.max = cfg->max_body_bytes ? cfg->max_body_bytes : PROM_DEFAULT_MAX_BODY;
    c->stats = cfg->stats;
    c->remote_read = !cfg->remote_read_off;
    if (cfg->n_headers > PROM_MAX_HEADERS) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "more than %d --prometheus.header flags",
                  PROM_MAX_HEADERS);
        goto out;
    }
    c->headers = prom_slist_add(NULL, "Accept: application/json");
    c->headers = prom_slist_add(c->headers, "Expect:");
    for (size_t i = 0; i < cfg->n_headers; i++) {
        if (!prom_header_ok(cfg->headers[i])) {
            int name = (int)strcspn(cfg->headers[i], ":\r\n"); /* the value may be secret */
            prom_fail(err, PROM_ERR_CONFIG, 0,
                      "--prometheus.header \"%.*s\" is not NAME:VALUE on one line",
                      name < 100 ? name : 100, cfg->headers[i]);
            goto out;
        }
        c->headers = prom_slist_add(c->headers, cfg->headers[i]);
    }
    if (cfg->bearer_token_file && cfg->basic_auth_user) {
        prom_fail(err, PROM_ERR_CONFIG, 0,
                  "--prometheus.bearer-token-file and --prometheus.basic-auth-user exclude "
                  "each other");
        goto out;
    }
    if (cfg->basic_auth_password_file && !cfg->basic_auth_user) {
        prom_fail(err, PROM_ERR_CONFIG, 0,
                  "--prometheus.basic-auth-password-file needs --prometheus.basic-auth-user");
        goto out;
    }
    if (cfg->bearer_token_file) {
        token = prom_read_secret(cfg->bearer_token_file, "--prometheus.bearer-token-file", err);
        if (token == NULL)
            goto out;
        size_t n = strlen(token) + 32;
        auth = prom_xrealloc(NULL, n);
        snprintf(auth, n, "Authorization: Bearer %s", token);
        c->headers = prom_slist_add(c->headers, auth);
    }
    if (cfg->basic_auth_password_file) {
        password = prom_read_secret(cfg->basic_auth_password_file,
                                    "--prometheus.basic-auth-password-file", err);
        if (password == NULL)
            goto out;
    }
    if (cfg->ca_file) {
        FILE *f = fopen(cfg->ca_file, "rb");
        if (f == NULL) {
            prom_fail(err, PROM_ERR_CONFIG, 0, "cannot read --prometheus.ca-file %s: %s",
                      cfg->ca_file, strerror(errno));
            goto out;
        }
        fclose(f);
    }
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "cannot initialize libcurl");
        goto out;
    }
    CURL *h = c->curl;
    bool bad = false;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : "sloe") !=
           CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, prom_write) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
    if (cfg->basic_auth_user) {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_USERNAME, cfg->basic_auth_user) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, password ? password : "") != CURLE_OK;
    }
    if (cfg->ca_file)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file) != CURLE_OK;
    if (bad) {
        prom_fail(err, PROM_ERR_CONFIG, 0, "libcurl refused an option (is it built with TLS?)");
        goto out;
    }
    ok = true;
out:
    prom_free_secret(token);
    prom_free_secret(password);
    prom_free_secret(auth);
    if (!ok) {
        prom_client_free(c);
        c = NULL;
    }
    return c;
}

void prom_client_free(struct prom_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    prom_slist_free(c->headers);
    curl_free(c->url_query);
    curl_free(c->url_range);
    curl_free(c->url_read);
    curl_free(c->url_buildinfo);
    curl_free(c->shown_url);
    free(c->body.p);
    free(c);
}

/* Unix milliseconds as the seconds Prometheus parses: "1795802400.000". */
static void prom_format_time(int64_t ms, char *buf, size_t size)
{
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64, ms < 0 ? "-" : "", a / 1000, a % 1000);
}

static int prom_transfer_fail(struct prom_client *c, CURLcode rc, struct prom_error *err)
{
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    long os_errno = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return prom_fail(err, PROM_ERR_TIMEOUT, 0,
                         "query to %s timed out after %" PRId64 "%s (raise --prometheus.timeout)",
                         c->shown_url, c->timeout_ms % 1000 ? c->timeout_ms : c->timeout_ms / 1000,
                         c->timeout_ms % 1000 ? "ms" : "s");
    case CURLE_WRITE_ERROR:
        if (c->body.over)
            return prom_fail(err, PROM_ERR_TOO_LARGE, 0,
                             "response from %s larger than %zu bytes (narrow the query)",
                             c->shown_url, c->body.max);
        break;
    case CURLE_COULDNT_CONNECT:
        if (curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno)
            detail = strerror((int)os_errno);
        return prom_fail(err, PROM_ERR_CONNECT, 0,
                         "cannot connect to %s: %s (is Prometheus running? check "
                         "--prometheus.url)",
                         c->shown_url, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return prom_fail(err, PROM_ERR_CONNECT, 0,
                         "cannot connect to %s: %s (check "
                         "--prometheus.url)",
                         c->shown_url, detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return prom_fail(err, PROM_ERR_CONNECT, 0,
                         "TLS with %s failed: %s (check "
                         "--prometheus.ca-file)",
                         c->shown_url, detail);
    default:
        break;
    }
    return prom_fail(err, PROM_ERR_CONNECT, 0, "query to %s failed: %s", c->shown_url, detail);
}

/* POSTs the form fields after "query=..." to url and decodes the answer. */
static int prom_post(struct prom_client *c, const char *url, const char *query, const char *fields,
                     struct prom_result *out, struct prom_error *err)
{
    int rc = -1;
    char *form = NULL;
    memset(out, 0, sizeof(*out));
    out->total_queryable_samples = -1;
    memset(err, 0, sizeof(*err));
    size_t qlen = query ? strlen(query) : 0;
    if (qlen == 0 || qlen > PROM_MAX_QUERY_BYTES)
        return prom_fail(err, PROM_ERR_CONFIG, 0, "the query is empty or longer than %d bytes",
                         PROM_MAX_QUERY_BYTES);
    char *esc = curl_easy_escape(c->curl, query, (int)qlen);
    if (esc == NULL)
        abort();
    size_t n = strlen(esc) + strlen(fields) + 32;
    form = prom_xrealloc(NULL, n);
    snprintf(form, n, "query=%s%s%s", esc, fields, c->stats ? "&stats=all" : "");
    curl_free(esc);
    c->body.n = 0;
    c->body.over = false;
    c->errbuf[0] = '\0';
    bool bad = curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, form) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form)) !=
           CURLE_OK;
    CURLcode cc = bad ? CURLE_BAD_FUNCTION_ARGUMENT : curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    if (cc != CURLE_OK) {
        prom_transfer_fail(c, cc, err);
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    rc = prom_decode_from(c->body.p ? c->body.p : "", c->body.n, (int)status, c->shown_url, out,
                          err);
out:
    free(form);
    if (c->body.cap > PROM_KEEP_BUFFER) {
        free(c->body.p);
        c->body.p = NULL;
        c->body.cap = 0;
    }
    c->body.n = 0;
    return rc;
}

int prom_query(struct prom_client *c, const char *query, int64_t time_ms, struct prom_result *out,
               struct prom_error *err)
{
    struct prom_error local;
    char t[32], fields[64];
    prom_format_time(time_ms, t, sizeof(t));
    snprintf(fields, sizeof(fields), "&time=%s", t);
    return prom_post(c, c->url_query, query, fields, out, err ? err : &local);
}

int prom_query_range(struct prom_client *c, const char *query, int64_t start_ms, int64_t end_ms,
                     int64_t step_ms, struct prom_result *out, struct prom_error *err)
{
    struct prom_error local;
    char s[32], e[32], st[32], fields[128];
    err = err ? err : &local;
    if (step_ms <= 0 || end_ms < start_ms ||
        ((uint64_t)end_ms - (uint64_t)start_ms) / (uint64_t)step_ms > PROM_MAX_RANGE_POINTS) {
        memset(out, 0, sizeof(*out));
        out->total_queryable_samples = -1;
        return prom_fail(err, PROM_ERR_CONFIG, 0,
                         "bad range query: needs step > 0, end >= start and at most %d steps",
                         PROM_MAX_RANGE_POINTS);
    }
    prom_format_time(start_ms, s, sizeof(s));
    prom_format_time(end_ms, e, sizeof(e));
    prom_format_time(step_ms, st, sizeof(st));
    snprintf(fields, sizeof(fields), "&start=%s&end=%s&step=%s", s, e, st);
    return prom_post(c, c->url_range, query, fields, out, err);
}

/* ---- Raw POSTs (remote read) ---- */

bool prom_remote_read_usable(const struct prom_client *c)
{
    return c->remote_read;
}

void prom_remote_read_unsupported(struct prom_client *c)
{
    c->remote_read = false;
}

bool prom_remote_read_checked(const struct prom_client *c)
{
    return c->remote_read_checked;
}

void prom_remote_read_set_checked(struct prom_client *c)
{
    c->remote_read_checked = true;
}

int prom_buildinfo(struct prom_client *c, char *version, size_t vsize, char *application,
                   size_t asize, struct prom_error *err)
{
    struct prom_error local;
    err = err ? err : &local;
    memset(err, 0, sizeof(*err));
    version[0] = application[0] = '\0';
    c->body.n = 0;
    c->body.over = false;
    c->errbuf[0] = '\0';
    bool bad = curl_easy_setopt(c->curl, CURLOPT_URL, c->url_buildinfo) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    CURLcode cc = bad ? CURLE_BAD_FUNCTION_ARGUMENT : curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    int rc = -1;
    long status = 0;
    json_t *root = NULL;
    if (cc != CURLE_OK) {
        prom_transfer_fail(c, cc, err);
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        prom_http_fail(c->body.p ? c->body.p : "", c->body.n, (int)status, c->shown_url, err);
        goto out;
    }
    root = json_loadb(c->body.p ? c->body.p : "", c->body.n, 0, NULL);
    const json_t *data = json_object_get(root, "data");
    const char *v = json_string_value(json_object_get(data, "version"));
    const char *app = json_string_value(json_object_get(data, "application"));
    if (v == NULL) {
        prom_fail(err, PROM_ERR_JSON, (int)status, "%s/api/v1/status/buildinfo has no version",
                  c->shown_url);
        goto out;
    }
    snprintf(version, vsize, "%s", v);
    snprintf(application, asize, "%s", app ? app : "");
    rc = 0;
out:
    json_decref(root);
    c->body.n = 0;
    return rc;
}

/* Where prom_write_raw sends a response: the caller's sink on a 2xx status, else the first
 * bytes into the client's buffer for the message. */
struct prom_raw {
    struct prom_client *c;
    prom_sink_fn sink;
    void *cls;
    long status; /* 0 until the first bytes arrive */
    bool sink_failed;
};

static size_t prom_write_raw(char *data, size_t size, size_t nmemb, void *userp)
{
    struct prom_raw *r = userp;
    size_t n = size * nmemb;
    if (r->status == 0)
        curl_easy_getinfo(r->c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status < 200 || r->status > 299) {
        size_t room = r->c->body.n < PROM_EXCERPT_BYTES ? PROM_EXCERPT_BYTES - r->c->body.n : 0;
        (void)prom_write(data, 1, n < room ? n : room, &r->c->body);
        return n;
    }
    if (r->sink(r->cls, data, n) != 0) {
        r->sink_failed = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return n;
}

int prom_post_raw(struct prom_client *c, const char *const *headers, size_t n_headers,
                  const void *body, size_t len, prom_sink_fn sink, void *cls, char *content_type,
                  size_t ct_size, struct prom_error *err)
{
    struct prom_error local;
    err = err ? err : &local;
    memset(err, 0, sizeof(*err));
    if (ct_size > 0)
        content_type[0] = '\0';
    /* The client's headers (auth, --prometheus.header) and then these, which win. */
    struct curl_slist *hd = NULL;
    for (struct curl_slist *i = c->headers; i != NULL; i = i->next)
        if (strncasecmp(i->data, "Accept:", 7) != 0)
            hd = prom_slist_add(hd, i->data);
    for (size_t i = 0; i < n_headers; i++)
        hd = prom_slist_add(hd, headers[i]);
    struct prom_raw r = {.c = c, .sink = sink, .cls = cls};
    c->body.n = 0;
    c->body.over = false;
    c->errbuf[0] = '\0';
    bool bad = curl_easy_setopt(c->curl, CURLOPT_URL, c->url_read) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hd) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, prom_write_raw) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &r) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK;
    bad |= curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK;
    CURLcode cc = bad ? CURLE_BAD_FUNCTION_ARGUMENT : curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, prom_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
    prom_slist_free(hd);
    int rc = -1;
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_WRITE_ERROR && r.sink_failed) {
        prom_fail(err, PROM_ERR_JSON, (int)status, "remote read from %s: undecodable response",
                  c->shown_url);
    } else if (cc != CURLE_OK) {
        prom_transfer_fail(c, cc, err);
    } else if (status < 200 || status > 299) {
        prom_http_fail(c->body.p ? c->body.p : "", c->body.n, (int)status, c->shown_url, err);
    } else {
        char *ct = NULL;
        if (ct_size > 0 && curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
            ct != NULL)
            snprintf(content_type, ct_size, "%s", ct);
        err->http_status = (int)status;
        rc = 0;
    }
    c->body.n = 0;
    return rc;
}
