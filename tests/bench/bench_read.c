/* bench_read: the start-up backfill by Prometheus remote read (raw data, protobuf) against
 * the query_range calls sloe makes, on the same data. Prints each path's wall time, bytes and
 * points, and checks that their per-interval sums agree exactly.
 *
 *   bench_read --prometheus.url=URL --bad=SELECTOR --total=SELECTOR --end=UNIX_SECONDS
 *              [--by=LABEL] [--window=30d] [--piece=SECONDS] [--rounds=N]
 *
 * SELECTOR is a raw counter selector (`errors_total`, `requests_total{job="x"}`); the SLO
 * is `sum by (LABEL) (increase(SELECTOR[{{.window}}]))` for bad and total events, rolling
 * over --window. The query_range path is sloe's own: eval_intervals with the three tiers'
 * ranges of eval_update (hourly over the window, 5-minute over a day, 1-minute over 6
 * hours), timed alone and as a whole eval_cycle (which fills by remote read by default; it is
 * timed with it and with --prometheus.remote-read=off). The remote read path asks /api/v1/read for
 * the window's raw data, --piece seconds per request (default a day), in both response
 * types: SAMPLES (a snappy-compressed ReadResponse of samples) and STREAMED_XOR_CHUNKS
 * (frames of the TSDB's XOR chunks, decoded here). Either way it adds up, per LABEL value,
 * the counter increases of each interval of each tier (a drop means the counter restarted
 * from 0).
 *
 * Exit status: 0 when every path gave the same intervals, 1 when they differ, 2 on a usage
 * or transfer error. The sums agree exactly when every series has a sample on each minute
 * boundary (then increase() has nothing to extrapolate on Prometheus 2.x); the tool counts
 * the sample pairs that straddle an interval boundary, where Prometheus extrapolates and an
 * exact match is not to be expected. */
#include <curl/curl.h>
#include <math.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "diag.h"
#include "duration.h"
#include "eval.h"
#include "period.h"
#include "prom.h"
#include "prompb.pb-c.h"
#include "remote.h"
#include "rules.h"

/* The tiers' ranges as eval_update fills them (its fine and middle spans). */
static const int64_t bench_fine_span = 6 * 3600;
static const int64_t bench_mid_span = 24 * 3600;
enum { BENCH_CHUNK_POINTS = 10000 }; /* eval.c's points per range query */
enum { BENCH_MAX_ROUTES = 1 << 20 };

struct bench_tier {
    int64_t step, start, end; /* intervals (start - step, start] ... (end - step, end] */
    size_t n;
};

/* What one path found for one group (a value of the --by label), per tier. */
struct bench_group {
    char *value;
    double *bad[HISTORY_TIERS], *total[HISTORY_TIERS];
    unsigned char *has_bad[HISTORY_TIERS], *has_total[HISTORY_TIERS];
};

/* Groups by value, in order of first appearance, with an open-addressing index. */
struct bench_groups {
    const struct bench_tier *tiers;
    struct bench_group *g;
    size_t n, cap;
    size_t *index, index_cap; /* position + 1; 0 free */
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL)
        abort();
    return p;
}

static size_t bench_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static void bench_groups_reindex(struct bench_groups *gs)
{
    free(gs->index);
    gs->index_cap = 64;
    while (gs->index_cap < 2 * (gs->n + 1))
        gs->index_cap *= 2;
    gs->index = bench_xcalloc(gs->index_cap, sizeof(*gs->index));
    for (size_t k = 0; k < gs->n; k++) {
        size_t i = bench_hash(gs->g[k].value) & (gs->index_cap - 1);
        while (gs->index[i] != 0)
            i = (i + 1) & (gs->index_cap - 1);
        gs->index[i] = k + 1;
    }
}

/* The group of value v, added (with zeroed intervals) when new. */
static struct bench_group *bench_group_get(struct bench_groups *gs, const char *v)
{
    if (gs->index_cap != 0)
        for (size_t i = bench_hash(v) & (gs->index_cap - 1); gs->index[i] != 0;
             i = (i + 1) & (gs->index_cap - 1))
            if (strcmp(gs->g[gs->index[i] - 1].value, v) == 0)
                return &gs->g[gs->index[i] - 1];
    if (gs->n >= BENCH_MAX_ROUTES) {
        fprintf(stderr, "bench_read: more than %d groups\n", BENCH_MAX_ROUTES);
        exit(2);
    }
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? 2 * gs->cap : 64;
        gs->g = realloc(gs->g, gs->cap * sizeof(*gs->g));
        if (gs->g == NULL)
            abort();
    }
    struct bench_group *g = &gs->g[gs->n++];
    memset(g, 0, sizeof(*g));
    g->value = strdup(v);
    if (g->value == NULL)
        abort();
    for (int k = 0; k < HISTORY_TIERS; k++) {
        size_t n = gs->tiers[k].n;
        g->bad[k] = bench_xcalloc(n, sizeof(double));
        g->total[k] = bench_xcalloc(n, sizeof(double));
        g->has_bad[k] = bench_xcalloc(n, 1);
        g->has_total[k] = bench_xcalloc(n, 1);
    }
    if (2 * (gs->n + 1) > gs->index_cap)
        bench_groups_reindex(gs);
    else {
        size_t i = bench_hash(v) & (gs->index_cap - 1);
        while (gs->index[i] != 0)
            i = (i + 1) & (gs->index_cap - 1);
        gs->index[i] = gs->n;
    }
    return g;
}

static void bench_groups_free(struct bench_groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        free(gs->g[i].value);
        for (int k = 0; k < HISTORY_TIERS; k++) {
            free(gs->g[i].bad[k]);
            free(gs->g[i].total[k]);
            free(gs->g[i].has_bad[k]);
            free(gs->g[i].has_total[k]);
        }
    }
    free(gs->g);
    free(gs->index);
    memset(gs, 0, sizeof(*gs));
}

/* ---- a selector as remote read matchers ---- */

struct bench_matchers {
    size_t n;
    Prompb__LabelMatcher m[32];
};

/* Parses `name{label op "value", ...}` (op =, !=, =~ or !~; the name or the braces may be
 * left out) into matchers allocated in a. Returns 0, or -1 on anything else. */
static int bench_parse_selector(const char *sel, struct arena *a, struct bench_matchers *out)
{
    const char *p = sel;
    out->n = 0;
    size_t nl = strcspn(p, "{ ");
    if (nl > 0) {
        Prompb__LabelMatcher *m = &out->m[out->n++];
        prompb__label_matcher__init(m);
        m->type = PROMPB__LABEL_MATCHER__TYPE__EQ;
        m->name = arena_strdup(a, "__name__");
        m->value = arena_strndup(a, p, nl);
        p += nl;
    }
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return out->n > 0 ? 0 : -1;
    if (*p++ != '{')
        return -1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '}')
            return p[1] == '\0' && out->n > 0 ? 0 : -1;
        size_t ln = strcspn(p, "=!~ ");
        if (ln == 0 || out->n == sizeof(out->m) / sizeof(out->m[0]))
            return -1;
        Prompb__LabelMatcher *m = &out->m[out->n++];
        prompb__label_matcher__init(m);
        m->name = arena_strndup(a, p, ln);
        p += ln;
        while (*p == ' ')
            p++;
        if (strncmp(p, "=~", 2) == 0)
            m->type = PROMPB__LABEL_MATCHER__TYPE__RE, p += 2;
        else if (strncmp(p, "!~", 2) == 0)
            m->type = PROMPB__LABEL_MATCHER__TYPE__NRE, p += 2;
        else if (strncmp(p, "!=", 2) == 0)
            m->type = PROMPB__LABEL_MATCHER__TYPE__NEQ, p += 2;
        else if (*p == '=')
            m->type = PROMPB__LABEL_MATCHER__TYPE__EQ, p += 1;
        else
            return -1;
        while (*p == ' ')
            p++;
        if (*p++ != '"')
            return -1;
        /* The value up to the closing quote; a backslash escapes the next character. */
        char *v = arena_alloc(a, strlen(p) + 1), *w = v;
        while (*p != '"') {
            if (*p == '\0')
                return -1;
            if (*p == '\\' && p[1] != '\0')
                p++;
            *w++ = *p++;
        }
        *w = '\0';
        m->value = v;
        p++;
    }
}

/* ---- HTTP ---- */

struct bench_buf {
    char *p;
    size_t n, cap;
};

static size_t bench_write(char *data, size_t size, size_t nmemb, void *cls)
{
    struct bench_buf *b = cls;
    size_t len = size * nmemb;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + len)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return len;
}

/* POSTs body to url with headers; leaves the response in *resp and the bytes on the wire
 * in *wire. Returns the HTTP status, or -1 with a message on a transfer failure. */
static long bench_post(CURL *h, const char *url, struct curl_slist *headers, const void *body,
                       size_t len, struct bench_buf *resp, double *wire)
{
    resp->n = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "bench_read: POST %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t down = 0;
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    *wire += (double)down;
    return status;
}

/* ---- remote read ---- */

/* protobuf-c allocates every message on its own: an arena per response makes that one
 * bump per message and one free per response. */
static void *bench_pb_alloc(void *cls, size_t size)
{
    return arena_alloc(cls, size);
}

static void bench_pb_free(void *cls, void *p)
{
    (void)cls;
    (void)p;
}

/* The last sample of a series, kept across the pieces of the range. */
struct bench_last {
    char *key;
    int64_t t;
    double v;
};

struct bench_rr_stats {
    double seconds, http, snappy, decode, compute;
    double wire, decoded;
    size_t requests, series, samples, straddling;
};

struct bench_rr {
    const char *url;
    const char *by;
    struct bench_matchers sel[2]; /* bad, total */
    int64_t from_ms, to_ms, piece_ms;
    struct bench_last *last; /* series last samples, open addressing by key */
    size_t last_cap, last_n;
};

static struct bench_last *bench_last_get(struct bench_rr *rr, const char *key)
{
    if (2 * (rr->last_n + 1) > rr->last_cap) {
        size_t cap = rr->last_cap ? 2 * rr->last_cap : 1024;
        struct bench_last *t = bench_xcalloc(cap, sizeof(*t));
        for (size_t i = 0; i < rr->last_cap; i++) {
            if (rr->last[i].key == NULL)
                continue;
            size_t j = bench_hash(rr->last[i].key) & (cap - 1);
            while (t[j].key != NULL)
                j = (j + 1) & (cap - 1);
            t[j] = rr->last[i];
        }
        free(rr->last);
        rr->last = t;
        rr->last_cap = cap;
    }
    size_t j = bench_hash(key) & (rr->last_cap - 1);
    while (rr->last[j].key != NULL && strcmp(rr->last[j].key, key) != 0)
        j = (j + 1) & (rr->last_cap - 1);
    if (rr->last[j].key == NULL) {
        rr->last[j].key = strdup(key);
        if (rr->last[j].key == NULL)
            abort();
        rr->last[j].t = INT64_MIN;
        rr->last_n++;
    }
    return &rr->last[j];
}

/* Adds one sample of a series: its increase over the sample before it (the whole value
 * after a drop) goes to the interval of each tier that holds both. */
static void bench_rr_sample(const struct bench_groups *gs, struct bench_group *g, int which,
                            struct bench_last *last, int64_t t, double v, struct bench_rr_stats *st)
{
    if (last->t != INT64_MIN && t > last->t && isfinite(v) && isfinite(last->v)) {
        double inc = v >= last->v ? v - last->v : v;
        for (int k = 0; k < HISTORY_TIERS; k++) {
            const struct bench_tier *tier = &gs->tiers[k];
            int64_t step_ms = tier->step * 1000;
            int64_t end_ms = t > 0 ? (t + step_ms - 1) / step_ms * step_ms : 0;
            if (end_ms < tier->start * 1000 || end_ms > tier->end * 1000)
                continue;
            if (last->t < end_ms - step_ms) {
                st->straddling++; /* Prometheus would extrapolate this pair */
                continue;
            }
            size_t i = (size_t)((end_ms / 1000 - tier->start) / tier->step);
            if (which == 0) {
                g->bad[k][i] += inc;
                g->has_bad[k][i] = 1;
            } else {
                g->total[k][i] += inc;
                g->has_total[k][i] = 1;
            }
        }
    }
    last->t = t;
    last->v = v;
}

/* The group and the last sample of a series, by its labels. */
static void bench_rr_series(struct bench_rr *rr, struct bench_groups *gs, int which,
                            size_t n_labels, Prompb__Label *const *labels, struct arena *a,
                            struct bench_group **g, struct bench_last **last)
{
    const char *value = "";
    size_t len = 3;
    for (size_t l = 0; l < n_labels; l++) {
        if (strcmp(labels[l]->name, rr->by) == 0)
            value = labels[l]->value;
        len += strlen(labels[l]->name) + strlen(labels[l]->value) + 2;
    }
    *g = bench_group_get(gs, value);
    char *key = arena_alloc(a, len), *w = key;
    *w++ = (char)('0' + which);
    for (size_t l = 0; l < n_labels; l++)
        w += sprintf(w, "\x1f%s\x1e%s", labels[l]->name, labels[l]->value);
    *last = bench_last_get(rr, key);
}

/* ---- XOR chunks (decoded by remote.c, sloe's own decoder) ---- */

/* Where the samples of one chunk go: those in [from, to] are added. */
struct bench_chunk_sink {
    int64_t from, to;
    const struct bench_groups *gs;
    struct bench_group *g;
    int which;
    struct bench_last *last;
    struct bench_rr_stats *st;
    long added;
};

static int bench_chunk_sample(void *cls, int64_t t, double v)
{
    struct bench_chunk_sink *k = cls;
    if (t < k->from || t > k->to)
        return 0;
    bench_rr_sample(k->gs, k->g, k->which, k->last, t, v, k->st);
    k->added++;
    return 0;
}

/* What the frames of one response go to. */
struct bench_frames_ctx {
    struct bench_rr *rr;
    struct bench_groups *gs;
    int64_t from, to;
    struct bench_rr_stats *st;
};

/* Adds the series of one ChunkedReadResponse frame. Returns 0 or -1 with a message. */
static int bench_rr_frame(void *cls, const uint8_t *msg, size_t len)
{
    struct bench_frames_ctx *fc = cls;
    struct bench_rr_stats *st = fc->st;
    st->decoded += (double)len;
    double td = bench_now();
    struct arena pa = {0};
    ProtobufCAllocator alloc = {bench_pb_alloc, bench_pb_free, &pa};
    Prompb__ChunkedReadResponse *r = prompb__chunked_read_response__unpack(&alloc, len, msg);
    double tc = bench_now();
    st->decode += tc - td;
    if (r == NULL || r->query_index < 0 || r->query_index > 1) {
        fprintf(stderr, "bench_read: remote read: not a ChunkedReadResponse\n");
        arena_free(&pa);
        return -1;
    }
    int which = (int)r->query_index;
    for (size_t k = 0; k < r->n_chunked_series; k++) {
        const Prompb__ChunkedSeries *cs = r->chunked_series[k];
        struct bench_chunk_sink sink = {
            .from = fc->from, .to = fc->to, .gs = fc->gs, .which = which, .st = st};
        bench_rr_series(fc->rr, fc->gs, which, cs->n_labels, cs->labels, &pa, &sink.g, &sink.last);
        st->series++;
        for (size_t c = 0; c < cs->n_chunks; c++) {
            const Prompb__Chunk *ch = cs->chunks[c];
            if (ch->type != PROMPB__CHUNK__ENCODING__XOR) {
                fprintf(stderr, "bench_read: remote read: a chunk of encoding %d\n", (int)ch->type);
                arena_free(&pa);
                return -1;
            }
            sink.added = 0;
            if (remote_xor_decode(ch->data.data, ch->data.len, bench_chunk_sample, &sink) < 0) {
                fprintf(stderr, "bench_read: remote read: a malformed XOR chunk\n");
                arena_free(&pa);
                return -1;
            }
            st->samples += (size_t)sink.added;
        }
    }
    arena_free(&pa);
    st->compute += bench_now() - tc;
    return 0;
}

/* Adds the series of a STREAMED_XOR_CHUNKS body (frames of ChunkedReadResponse, split and
 * CRC-checked by remote.c), keeping the samples in [from, to]. Returns 0 or -1. */
static int bench_rr_frames(struct bench_rr *rr, struct bench_groups *gs, const uint8_t *p, size_t n,
                           int64_t from, int64_t to, struct bench_rr_stats *st)
{
    struct bench_frames_ctx fc = {rr, gs, from, to, st};
    struct remote_frames f = {.fn = bench_rr_frame, .cls = &fc};
    int rc = remote_frames_feed(&f, p, n) == 0 && remote_frames_end(&f) == 0 ? 0 : -1;
    if (rc != 0 && f.error[0] != '\0')
        fprintf(stderr, "bench_read: %s\n", f.error);
    remote_frames_free(&f);
    return rc;
}

/* Fetches [from_ms, to_ms] piece by piece, as samples or as XOR chunks, and fills gs.
 * Returns 0 or -1. */
static int bench_remote_read(struct bench_rr *rr, CURL *h, bool chunks, struct bench_groups *gs,
                             struct bench_rr_stats *st)
{
    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < rr->last_cap; i++)
        free(rr->last[i].key);
    free(rr->last);
    rr->last = NULL;
    rr->last_cap = rr->last_n = 0;
    char *url = NULL;
    if (asprintf(&url, "%s/api/v1/read", rr->url) < 0)
        abort();
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Content-Encoding: snappy");
    hd = curl_slist_append(hd, "Content-Type: application/x-protobuf");
    hd = curl_slist_append(hd, "X-Prometheus-Remote-Read-Version: 0.1.0");
    hd = curl_slist_append(hd, "Expect:");
    struct bench_buf resp = {0};
    char *raw = NULL;
    size_t raw_cap = 0;
    int rc = -1;
    double t0 = bench_now();
    for (int64_t a = rr->from_ms; a <= rr->to_ms; a += rr->piece_ms) {
        int64_t b = a + rr->piece_ms - 1 < rr->to_ms ? a + rr->piece_ms - 1 : rr->to_ms;
        /* One request, both queries; samples in [a, b] (both ends), so pieces do not
         * overlap. */
        Prompb__Query q[2], *qp[2] = {&q[0], &q[1]};
        Prompb__LabelMatcher *mp[2][32];
        for (int w = 0; w < 2; w++) {
            prompb__query__init(&q[w]);
            q[w].start_timestamp_ms = a;
            q[w].end_timestamp_ms = b;
            q[w].n_matchers = rr->sel[w].n;
            for (size_t m = 0; m < rr->sel[w].n; m++)
                mp[w][m] = &rr->sel[w].m[m];
            q[w].matchers = mp[w];
        }
        Prompb__ReadRequest req;
        prompb__read_request__init(&req);
        Prompb__ReadRequest__ResponseType types[1] = {
            chunks ? PROMPB__READ_REQUEST__RESPONSE_TYPE__STREAMED_XOR_CHUNKS
                   : PROMPB__READ_REQUEST__RESPONSE_TYPE__SAMPLES};
        req.n_queries = 2;
        req.queries = qp;
        req.n_accepted_response_types = 1;
        req.accepted_response_types = types;
        size_t plen = prompb__read_request__get_packed_size(&req);
        uint8_t *packed = bench_xcalloc(plen, 1);
        prompb__read_request__pack(&req, packed);
        size_t clen = snappy_max_compressed_length(plen);
        char *comp = bench_xcalloc(clen, 1);
        if (snappy_compress((const char *)packed, plen, comp, &clen) != SNAPPY_OK)
            abort();
        free(packed);

        double th = bench_now();
        long status = bench_post(h, url, hd, comp, clen, &resp, &st->wire);
        st->http += bench_now() - th;
        free(comp);
        st->requests++;
        if (status != 200) {
            if (status > 0)
                fprintf(stderr, "bench_read: remote read [%lld, %lld] ms: HTTP %ld: %.*s\n",
                        (long long)a, (long long)b, status, (int)(resp.n < 400 ? resp.n : 400),
                        resp.p ? resp.p : "");
            goto out;
        }
        if (chunks) {
            if (bench_rr_frames(rr, gs, (const uint8_t *)resp.p, resp.n, a, b, st) != 0)
                goto out;
            continue;
        }
        double ts = bench_now();
        size_t rlen = 0;
        if (snappy_uncompressed_length(resp.p, resp.n, &rlen) != SNAPPY_OK) {
            fprintf(stderr, "bench_read: remote read: the response is not snappy\n");
            goto out;
        }
        if (rlen > raw_cap) {
            free(raw);
            raw_cap = rlen;
            raw = bench_xcalloc(raw_cap, 1);
        }
        if (snappy_uncompress(resp.p, resp.n, raw, &rlen) != SNAPPY_OK) {
            fprintf(stderr, "bench_read: remote read: bad snappy data\n");
            goto out;
        }
        st->decoded += (double)rlen;
        double td = bench_now();
        st->snappy += td - ts;
        struct arena pa = {0};
        ProtobufCAllocator alloc = {bench_pb_alloc, bench_pb_free, &pa};
        Prompb__ReadResponse *r = prompb__read_response__unpack(&alloc, rlen, (uint8_t *)raw);
        double tc = bench_now();
        st->decode += tc - td;
        if (r == NULL || r->n_results != 2) {
            fprintf(stderr, "bench_read: remote read: not a ReadResponse of 2 results\n");
            arena_free(&pa);
            goto out;
        }
        for (int w = 0; w < 2; w++)
            for (size_t k = 0; k < r->results[w]->n_timeseries; k++) {
                const Prompb__TimeSeries *series = r->results[w]->timeseries[k];
                struct bench_group *g;
                struct bench_last *last;
                bench_rr_series(rr, gs, w, series->n_labels, series->labels, &pa, &g, &last);
                st->series++;
                st->samples += series->n_samples;
                for (size_t i = 0; i < series->n_samples; i++)
                    bench_rr_sample(gs, g, w, last, series->samples[i]->timestamp,
                                    series->samples[i]->value, st);
            }
        arena_free(&pa);
        st->compute += bench_now() - tc;
    }
    rc = 0;
out:
    st->seconds = bench_now() - t0;
    free(raw);
    free(resp.p);
    curl_slist_free_all(hd);
    free(url);
    return rc;
}

/* ---- query_range, as sloe ---- */

struct bench_qr_cb {
    struct bench_groups *gs;
    int tier;
    size_t points;
};

static void bench_qr_interval(void *cls, const struct eval_instance *in, size_t n,
                              const double *bad, const double *total, const unsigned char *has)
{
    struct bench_qr_cb *cb = cls;
    struct bench_group *g = bench_group_get(cb->gs, in->values[0]);
    for (size_t i = 0; i < n && i < cb->gs->tiers[cb->tier].n; i++) {
        if (!has[i])
            continue;
        g->bad[cb->tier][i] = bad[i];
        g->total[cb->tier][i] = total[i];
        g->has_bad[cb->tier][i] = g->has_total[cb->tier][i] = 1;
        cb->points++;
    }
}

/* The bytes sloe's query_range requests of the tiers receive, on the wire (gzip, as prom.c
 * accepts it) and decoded: the same POSTs again, by hand, since prom.c does not count. */
static int bench_qr_bytes(CURL *h, const char *base, const struct rules_slo *slo,
                          const struct bench_tier *tiers, double *wire, double *decoded,
                          size_t *calls)
{
    char *url = NULL;
    if (asprintf(&url, "%s/api/v1/query_range", base) < 0)
        abort();
    struct curl_slist *hd =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    struct bench_buf resp = {0};
    int rc = 0;
    *wire = *decoded = 0;
    *calls = 0;
    for (int k = 0; k < HISTORY_TIERS && rc == 0; k++) {
        const struct bench_tier *t = &tiers[k];
        char window[32];
        duration_format(t->step * 1000, window, sizeof(window));
        struct arena a = {0};
        const char *q[2];
        bool good;
        if (eval_queries(slo, NULL, window, t->step, &a, &q[0], &q[1], &good) != 0)
            abort();
        for (int64_t cs = t->start; cs <= t->end && rc == 0; cs += t->step * BENCH_CHUNK_POINTS) {
            int64_t ce = cs + t->step * (BENCH_CHUNK_POINTS - 1);
            if (ce > t->end)
                ce = t->end;
            for (int w = 0; w < 2; w++) {
                char *esc = curl_easy_escape(h, q[w], 0);
                char *form = arena_printf(&a, "query=%s&start=%lld.000&end=%lld.000&step=%lld.000",
                                          esc, (long long)cs, (long long)ce, (long long)t->step);
                curl_free(esc);
                long status = bench_post(h, url, hd, form, strlen(form), &resp, wire);
                (*calls)++;
                *decoded += (double)resp.n;
                if (status != 200) {
                    fprintf(stderr, "bench_read: query_range: HTTP %ld\n", status);
                    rc = -1;
                    break;
                }
            }
        }
        arena_free(&a);
    }
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
    free(resp.p);
    curl_slist_free_all(hd);
    free(url);
    return rc;
}

/* ---- comparing ---- */

/* As eval_point_counts for an events SLI: no total, no interval; counts clamped. */
static bool bench_counts(const struct bench_group *g, int k, size_t i, double *bad, double *total)
{
    if (!g->has_total[k][i])
        return false;
    *total = g->total[k][i] < 0 ? 0 : g->total[k][i];
    *bad = g->has_bad[k][i] ? g->bad[k][i] : 0;
    if (*bad < 0)
        *bad = 0;
    if (*bad > *total)
        *bad = *total;
    return true;
}

static const struct bench_group *bench_group_find(const struct bench_groups *gs, const char *v)
{
    if (gs->index_cap == 0)
        return NULL;
    for (size_t i = bench_hash(v) & (gs->index_cap - 1); gs->index[i] != 0;
         i = (i + 1) & (gs->index_cap - 1))
        if (strcmp(gs->g[gs->index[i] - 1].value, v) == 0)
            return &gs->g[gs->index[i] - 1];
    return NULL;
}

/* Counts the intervals where a and b differ, printing the first few. */
static size_t bench_compare(const struct bench_groups *a, const struct bench_groups *b,
                            const char *name_a, const char *name_b)
{
    size_t diffs = 0;
    for (int side = 0; side < 2; side++) {
        const struct bench_groups *x = side ? b : a, *y = side ? a : b;
        for (size_t gi = 0; gi < x->n; gi++) {
            const struct bench_group *gx = &x->g[gi], *gy = bench_group_find(y, gx->value);
            if (gy == NULL) {
                diffs++;
                if (diffs <= 10)
                    printf("  DIFF group \"%s\" only in %s\n", gx->value, side ? name_b : name_a);
                continue;
            }
            if (side == 1)
                continue; /* both have it: compared on the first pass */
            for (int k = 0; k < HISTORY_TIERS; k++)
                for (size_t i = 0; i < a->tiers[k].n; i++) {
                    double bx = 0, tx = 0, by = 0, ty = 0;
                    bool hx = bench_counts(gx, k, i, &bx, &tx),
                         hy = bench_counts(gy, k, i, &by, &ty);
                    if (hx == hy && bx == by && tx == ty)
                        continue;
                    diffs++;
                    if (diffs <= 10)
                        printf("  DIFF \"%s\" tier %llds interval ending %lld: %s %s %.17g/%.17g, "
                               "%s %s %.17g/%.17g\n",
                               gx->value, (long long)a->tiers[k].step,
                               (long long)(a->tiers[k].start + (int64_t)i * a->tiers[k].step),
                               name_a, hx ? "bad/total" : "none", bx, tx, name_b,
                               hy ? "bad/total" : "none", by, ty);
                }
        }
    }
    return diffs;
}

/* Prints the tiers' sums over all groups and intervals, for the driver to check. */
static void bench_print_sums(const char *name, const struct bench_groups *gs)
{
    for (int k = 0; k < HISTORY_TIERS; k++) {
        double sb = 0, st = 0;
        size_t n = 0;
        for (size_t gi = 0; gi < gs->n; gi++)
            for (size_t i = 0; i < gs->tiers[k].n; i++) {
                double b, t;
                if (bench_counts(&gs->g[gi], k, i, &b, &t)) {
                    sb += b;
                    st += t;
                    n++;
                }
            }
        printf("sums %s tier=%lld groups=%zu intervals=%zu bad=%.17g total=%.17g\n", name,
               (long long)gs->tiers[k].step, gs->n, n, sb, st);
    }
}

/* ---- main ---- */

static void bench_usage(void)
{
    fputs("usage: bench_read --prometheus.url=URL --bad=SELECTOR --total=SELECTOR "
          "--end=UNIX_SECONDS\n"
          "                  [--by=LABEL] [--window=30d] [--piece=SECONDS] [--rounds=N]\n",
          stderr);
}

/* A YAML single-quoted scalar of s. */
static char *bench_yaml_quote(struct arena *a, const char *s)
{
    char *q = arena_alloc(a, 2 * strlen(s) + 3), *w = q;
    *w++ = '\'';
    for (; *s; s++) {
        if (*s == '\'')
            *w++ = '\'';
        *w++ = *s;
    }
    *w++ = '\'';
    *w = '\0';
    return q;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *bad = NULL, *total = NULL, *by = "route", *window = "30d";
    long long end = 0, piece = 86400;
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--prometheus.url=", 17) == 0)
            url = a + 17;
        else if (strncmp(a, "--bad=", 6) == 0)
            bad = a + 6;
        else if (strncmp(a, "--total=", 8) == 0)
            total = a + 8;
        else if (strncmp(a, "--by=", 5) == 0)
            by = a + 5;
        else if (strncmp(a, "--window=", 9) == 0)
            window = a + 9;
        else if (strncmp(a, "--end=", 6) == 0)
            end = atoll(a + 6);
        else if (strncmp(a, "--piece=", 8) == 0)
            piece = atoll(a + 8);
        else if (strncmp(a, "--rounds=", 9) == 0)
            rounds = atoi(a + 9);
        else {
            bench_usage();
            return 2;
        }
    }
    if (url == NULL || bad == NULL || total == NULL || end <= 0 || piece < 60 || rounds < 1) {
        bench_usage();
        return 2;
    }

    /* The SLO sloe would evaluate. */
    struct arena a = {0};
    const char *yaml = arena_printf(
        &a,
        "version: sloe/v1\nservices:\n  - name: bench\n    slos:\n      - name: read\n"
        "        objective: 99.9\n        window: %s\n        group_by: [%s]\n        sli:\n"
        "          events:\n            bad_query: %s\n            total_query: %s\n",
        window, by,
        bench_yaml_quote(&a, arena_printf(&a, "sum by (%s) (increase(%s[{{.window}}]))", by, bad)),
        bench_yaml_quote(&a,
                         arena_printf(&a, "sum by (%s) (increase(%s[{{.window}}]))", by, total)));
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (rules_load_buffer("bench_read.yaml", yaml, strlen(yaml), &set, &diags) != 0) {
        diag_print(&diags, stderr);
        return 2;
    }
    diag_free(&diags);
    const struct rules_slo *slo = set->slos[0];

    /* The tiers as eval_update fills them at minute t. */
    int64_t t = (int64_t)end / 60 * 60;
    int64_t hour = t / 3600 * 3600, five = t / 300 * 300;
    int64_t coarse_start = (t - period_max_length(slo)) / 3600 * 3600 + 3600;
    struct bench_tier tiers[HISTORY_TIERS] = {
        {60, t - bench_fine_span + 60, t, 0},
        {300, five - bench_mid_span + 300, five, 0},
        {3600, coarse_start, hour, 0},
    };
    for (int k = 0; k < HISTORY_TIERS; k++)
        tiers[k].n = (size_t)((tiers[k].end - tiers[k].start) / tiers[k].step + 1);

    struct bench_rr rr = {.url = url, .by = by, .piece_ms = (int64_t)piece * 1000};
    if (bench_parse_selector(bad, &a, &rr.sel[0]) != 0 ||
        bench_parse_selector(total, &a, &rr.sel[1]) != 0) {
        fprintf(stderr, "bench_read: a selector is not name{label=\"value\",...}\n");
        return 2;
    }
    /* The oldest interval needs the sample at its start; samples at its start and end
     * both count, as in a range selector. */
    rr.from_ms = (tiers[2].start - tiers[2].step) * 1000;
    rr.to_ms = t * 1000;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct prom_config cfg = {.url = url, .timeout_ms = 120000};
    struct prom_error perr;
    struct prom_client *prom = prom_client_new(&cfg, &perr);
    struct prom_config cfg_off = cfg;
    cfg_off.remote_read_off = true;
    struct prom_client *prom_off = prom ? prom_client_new(&cfg_off, &perr) : NULL;
    if (h == NULL || prom == NULL || prom_off == NULL) {
        fprintf(stderr, "bench_read: %s\n", prom ? "curl" : perr.msg);
        return 2;
    }

    printf("bench_read: %s, window %s, end %lld, tiers 60s x %zu, 300s x %zu, 3600s x %zu\n", url,
           window, (long long)t, tiers[0].n, tiers[1].n, tiers[2].n);
    printf("  queries: %s\n           %s\n", slo->sli.bad_query, slo->sli.total_query);

    /* Each path `rounds` times, alternating; the best time of each is reported. */
    static const char *const rr_names[2] = {"remote_read_samples", "remote_read_chunks"};
    struct bench_groups qr = {.tiers = tiers}, rd[2] = {{.tiers = tiers}, {.tiers = tiers}};
    double best_qr = 1e30, best_cycle = 1e30, best_cycle_off = 1e30,
           best_tier[HISTORY_TIERS] = {1e30, 1e30, 1e30};
    struct bench_rr_stats best_rst[2] = {{.seconds = 1e30}, {.seconds = 1e30}};
    size_t qr_points = 0, qr_series = 0;
    int status = 0;
    for (int round = 0; round < rounds; round++) {
        /* query_range: sloe's three tiers through eval_intervals (eval_collect, as a fill). */
        bench_groups_free(&qr);
        qr.tiers = tiers;
        struct eval_state *s = eval_new(set, prom);
        double t0 = bench_now();
        qr_points = 0;
        for (int k = HISTORY_TIERS - 1; k >= 0; k--) {
            struct bench_qr_cb cb = {&qr, k, 0};
            double tk = bench_now();
            if (eval_intervals(s, 0, tiers[k].step, tiers[k].start, tiers[k].end, bench_qr_interval,
                               &cb) != 0) {
                fprintf(stderr, "bench_read: query_range: %s\n", s->slos[0].error);
                return 2;
            }
            tk = bench_now() - tk;
            if (tk < best_tier[k])
                best_tier[k] = tk;
            qr_points += cb.points;
        }
        double took = bench_now() - t0;
        qr_series = s->n_inst;
        eval_free(s);
        if (took < best_qr)
            best_qr = took;

        /* The whole start-up: eval_cycle fills the histories of every group, by remote
         * read (sloe's default) and by query_range only. */
        for (int m = 0; m < 2; m++) {
            s = eval_new(set, m ? prom_off : prom);
            t0 = bench_now();
            int failed = eval_cycle(s, t);
            took = bench_now() - t0;
            bool remote_used = s->stats.remote_reads > 0 && s->stats.remote_fallbacks == 0;
            eval_free(s);
            if (failed != 0 || remote_used == (m == 1)) {
                fprintf(stderr, "bench_read: eval_cycle failed (or remote read %s)\n",
                        m ? "was used" : "was not used");
                return 2;
            }
            double *best = m ? &best_cycle_off : &best_cycle;
            if (took < *best)
                *best = took;
        }

        /* remote read, as samples and as chunks */
        for (int m = 0; m < 2; m++) {
            struct bench_rr_stats rst;
            bench_groups_free(&rd[m]);
            rd[m].tiers = tiers;
            if (bench_remote_read(&rr, h, m == 1, &rd[m], &rst) != 0)
                return 2;
            if (rst.seconds < best_rst[m].seconds)
                best_rst[m] = rst;
        }
    }
    double qr_wire = 0, qr_decoded = 0;
    size_t qr_calls = 0;
    if (bench_qr_bytes(h, url, slo, tiers, &qr_wire, &qr_decoded, &qr_calls) != 0)
        return 2;

    printf("  query_range (sloe's fill):    %8.3f s  %zu calls  %.0f bytes on the wire (gzip), "
           "%.0f decoded  %zu groups  %zu intervals\n",
           best_qr, qr_calls, qr_wire, qr_decoded, qr_series, qr_points);
    printf("    by tier: 3600s %.3f s, 300s %.3f s, 60s %.3f s\n", best_tier[2], best_tier[1],
           best_tier[0]);
    printf("  eval_cycle (whole start-up):  %8.3f s by remote read (sloe's default), %.3f s "
           "with --prometheus.remote-read=off\n",
           best_cycle, best_cycle_off);
    for (int m = 0; m < 2; m++) {
        const struct bench_rr_stats *r = &best_rst[m];
        printf("  %-28s %8.3f s  %zu calls  %.0f bytes on the wire (%s), %.0f decoded  %zu "
               "series pieces  %zu samples\n",
               m ? "remote read (XOR chunks):" : "remote read (samples):", r->seconds, r->requests,
               r->wire, m ? "frames" : "snappy", r->decoded, r->series, r->samples);
        printf("    of which HTTP %.3f s, snappy %.3f s, protobuf %.3f s, sums %.3f s\n", r->http,
               r->snappy, r->decode, r->compute);
        printf("    ratio to query_range: time %.2f, wire bytes %.2f, decoded bytes %.2f\n",
               r->seconds / best_qr, r->wire / qr_wire, r->decoded / qr_decoded);
    }
    double fastest = best_qr;
    const char *winner = "query_range";
    for (int m = 0; m < 2; m++)
        if (best_rst[m].seconds < fastest) {
            fastest = best_rst[m].seconds;
            winner = rr_names[m];
        }
    printf("  faster: %s\n", winner);
    bench_print_sums("query_range", &qr);
    for (int m = 0; m < 2; m++)
        bench_print_sums(rr_names[m], &rd[m]);
    for (int m = 0; m < 2; m++) {
        size_t diffs = bench_compare(&qr, &rd[m], "query_range", rr_names[m]);
        if (best_rst[m].straddling > 0)
            printf("  %s: %zu sample pairs straddle an interval boundary: query_range "
                   "extrapolates those, so the sums may differ there\n",
                   rr_names[m], best_rst[m].straddling);
        if (diffs > 0) {
            printf("  MISMATCH: %s: %zu intervals differ from query_range\n", rr_names[m], diffs);
            status = 1;
        } else {
            printf("  agree: %s and query_range, every interval of every group and tier\n",
                   rr_names[m]);
        }
    }

    bench_groups_free(&qr);
    bench_groups_free(&rd[0]);
    bench_groups_free(&rd[1]);
    for (size_t i = 0; i < rr.last_cap; i++)
        free(rr.last[i].key);
    free(rr.last);
    prom_client_free(prom);
    prom_client_free(prom_off);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    rules_set_free(set);
    arena_free(&a);
    return status;
}
