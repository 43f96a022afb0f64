/* remote: which queries remote read may answer, the increase()/rate() arithmetic on worked
 * examples (each worked out by hand in the comment above it), and the wire decoding (XOR
 * chunks built bit by bit here, CRC-32C's published check value, frames fed in pieces). The
 * whole path against a real Prometheus is in tests/integration/test_remote_read.py. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "prompb.pb-c.h"
#include "remote.h"

/* ---- recognizing queries ---- */

static void parse_eligible(void)
{
    static const char *const ok[] = {
        "sum(increase(http_requests_total[5m]))",
        "sum(rate(http_requests_total{job=\"a\"}[1m]))",
        "sum by (route) (increase(http_requests_total{code=~\"5..\"}[1h]))",
        "sum(increase(http_requests_total{code!=\"200\",}[1m])) by (route, instance)",
        "  SUM  BY(route)(increase( x:y_total { a !~ 'b' , c = `d\\e` } [ 1h30m ] ))  ",
        "sum(increase({__name__=\"req_total\", code=\"500\"}[5m]))",
        "sum by () (rate(x[1m]))",
        "sum(increase(lat_bucket{job=\"a\", le=\"0.5\"}[60s]))",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct arena a = {0};
        struct remote_expr e;
        if (remote_parse(ok[i], &a, &e) != 0)
            harness_fail(__FILE__, __LINE__, "not recognized: %s", ok[i]);
        arena_free(&a);
    }
}

static void parse_fields(void)
{
    struct arena a = {0};
    struct remote_expr e;
    EXPECT_INT(remote_parse("sum(rate(req_total{code=~\"5..\", job=\"a\\\"b\"}[1h30m])) by "
                            "(route, instance)",
                            &a, &e),
               0);
    EXPECT(e.rate);
    EXPECT_INT(e.range_ms, 5400000);
    EXPECT_INT(e.n_by, 2);
    EXPECT_STR(e.by[0], "route");
    EXPECT_STR(e.by[1], "instance");
    EXPECT_INT(e.n_matchers, 3);
    EXPECT_STR(e.matchers[0].name, "__name__");
    EXPECT_STR(e.matchers[0].value, "req_total");
    EXPECT_INT(e.matchers[0].type, REMOTE_EQ);
    EXPECT_STR(e.matchers[1].name, "code");
    EXPECT_INT(e.matchers[1].type, REMOTE_RE);
    EXPECT_STR(e.matchers[1].value, "5..");
    EXPECT_STR(e.matchers[2].value, "a\"b");

    /* the name given as a matcher goes first */
    EXPECT_INT(remote_parse("sum by (r) (increase({code!=\"500\", __name__=\"x\"}[5m]))", &a, &e),
               0);
    EXPECT(!e.rate);
    EXPECT_INT(e.range_ms, 300000);
    EXPECT_INT(e.n_matchers, 2);
    EXPECT_STR(e.matchers[0].value, "x");
    EXPECT_STR(e.matchers[1].name, "code");
    EXPECT_INT(e.matchers[1].type, REMOTE_NEQ);
    EXPECT_INT(e.n_by, 1);
    arena_free(&a);
}

static void parse_not_eligible(void)
{
    static const char *const no[] = {
        "",
        "sum without (code) (increase(x[5m]))",
        "max(increase(x[5m]))",
        "sum(irate(x[5m]))",
        "sum(delta(x[5m]))",
        "sum(increase(x[5m] offset 1h))",
        "sum(increase(x[5m] @ 1700000000))",
        "sum(increase(x[5m:1m]))",
        "sum(increase(x[]))",
        "sum(increase(x[0s]))",
        "sum(increase(x[5m]))*60",
        "sum(increase(x[5m])) / sum(increase(y[5m]))",
        "(sum(increase(x[5m]))) * 300",
        "sum((increase(x[5m])))",
        "sum(increase(x[5m])) by (a) by (b)",
        "sum by (a) (increase(x[5m])) by (b)",
        "sum by (a, a) (increase(x[5m]))",
        "sum(increase({job=\"a\"}[5m]))",
        "sum(increase({__name__=~\"x|y\"}[5m]))",
        "sum(increase(x{__name__=\"x\"}[5m]))",
        "sum(increase(x{job=\"a\\x41\"}[5m]))",
        "sum(increase(x{job=\"a}[5m]))",
        "sum(increase(x{job=a}[5m]))",
        "sum(increase(x[5m])) # comment",
        "sum(increase(x[5m])",
        "sum(sum_over_time(x[5m]))",
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct arena a = {0};
        struct remote_expr e;
        if (remote_parse(no[i], &a, &e) == 0)
            harness_fail(__FILE__, __LINE__, "recognized, should not be: %s", no[i]);
        arena_free(&a);
    }
}

/* ---- the arithmetic ---- */

/* Range 60 s ending at 60 s; samples 10 @5 s, 20 @35 s, 30 @55 s. result 20, sampled 50 s,
 * average 25 s, threshold 27.5 s; to the start 5 s (to zero 50 * 10/20 = 25 s, not
 * shorter) and to the end 5 s are both under it: 20 * (50 + 5 + 5) / 50 = 24; rate 24 / 60
 * = 0.4. */
static void extrapolate_inside(void)
{
    const struct prom_sample s[] = {{5000, 10}, {35000, 20}, {55000, 30}};
    double v = -1;
    EXPECT(remote_extrapolate(s, 3, 60000, 60000, false, &v));
    EXPECT_DBL(v, 24, 1e-12);
    EXPECT(remote_extrapolate(s, 3, 60000, 60000, true, &v));
    EXPECT_DBL(v, 0.4, 1e-12);
}

/* Range 60 s ending at 60 s; samples 1 @20 s, 5 @40 s, 9 @60 s. result 8, sampled 40 s,
 * average 20 s, threshold 22 s; to the start 20 s, but the counter reaches zero
 * 40 * 1/8 = 5 s before its first sample, so 5 s; to the end 0: 8 * (40 + 5) / 40 = 9. */
static void extrapolate_zero_cap(void)
{
    const struct prom_sample s[] = {{20000, 1}, {40000, 5}, {60000, 9}};
    double v = -1;
    EXPECT(remote_extrapolate(s, 3, 60000, 60000, false, &v));
    EXPECT_DBL(v, 9, 1e-12);
}

/* Range 120 s ending at 120 s; samples 100 @10 s, 110 @20 s, 5 @30 s, 15 @40 s: one reset
 * (5 < 110 adds 110), result 15 - 100 + 110 = 25; sampled 30 s, average 10 s, threshold
 * 11 s; to the start 10 s (to zero 30 * 100/25 = 120 s, longer) is under it: + 10 s; to the
 * end 80 s is not: + 10/2 = 5 s. 25 * (30 + 10 + 5) / 30 = 37.5; rate 37.5 / 120. */
static void extrapolate_reset(void)
{
    const struct prom_sample s[] = {{10000, 100}, {20000, 110}, {30000, 5}, {40000, 15}};
    double v = -1;
    EXPECT(remote_extrapolate(s, 4, 120000, 120000, false, &v));
    EXPECT_DBL(v, 37.5, 1e-12);
    EXPECT(remote_extrapolate(s, 4, 120000, 120000, true, &v));
    EXPECT_DBL(v, 37.5 / 120, 1e-15);
}

/* Samples on both ends of the range (60 s): 0 @0, 6 @30 s, 12 @60 s; nothing to
 * extrapolate (0 s each side): exactly 12. One sample: no value. */
static void extrapolate_edges(void)
{
    const struct prom_sample s[] = {{0, 0}, {30000, 6}, {60000, 12}};
    double v = -1;
    EXPECT(remote_extrapolate(s, 3, 60000, 60000, false, &v));
    EXPECT_DBL(v, 12, 0);
    EXPECT(!remote_extrapolate(s, 1, 60000, 60000, false, &v));
    EXPECT(!remote_extrapolate(s, 0, 60000, 60000, false, &v));
}

static void stale_marker(void)
{
    uint64_t bits = 0x7ff0000000000002ULL;
    double stale;
    memcpy(&stale, &bits, sizeof(stale));
    EXPECT(remote_is_stale(stale));
    EXPECT(!remote_is_stale(NAN));
    EXPECT(!remote_is_stale(1.0));
    EXPECT(!remote_is_stale(0.0));
}

/* ---- wire ---- */

static void crc32c_check_value(void)
{
    /* The published check value of CRC-32C (Castagnoli): "123456789" -> 0xE3069283. */
    EXPECT_INT(remote_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u);
    EXPECT_INT(remote_crc32c((const uint8_t *)"", 0), 0);
}

struct got {
    int64_t t[8];
    double v[8];
    int n;
};

static int collect(void *cls, int64_t t, double v)
{
    struct got *g = cls;
    if (g->n == 8)
        return -1;
    g->t[g->n] = t;
    g->v[g->n++] = v;
    return 0;
}

/* Chunks written bit by bit: 2 bytes of count; the first time as a zigzag uvarint (1000 ->
 * 2000 -> D0 0F) and value as 64 bits (1.0 = 3FF0...); the second time as a uvarint delta
 * (15000 -> 98 75); then per sample a delta-of-delta ('0' for none) and a value ('0' for
 * unchanged; '11', 5 bits of leading zeros, 6 of length, the bits, for a new window). */
static void xor_chunks(void)
{
    /* three samples of 1.0, 15 s apart: after the delta, bits 0 (same) 0 (dod) 0 (same) */
    const uint8_t same[] = {0x00, 0x03, 0xD0, 0x0F, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0x98, 0x75, 0x00};
    struct got g = {0};
    EXPECT_INT(remote_xor_decode(same, sizeof(same), collect, &g), 3);
    EXPECT_INT(g.n, 3);
    EXPECT_INT(g.t[0], 1000);
    EXPECT_INT(g.t[1], 16000);
    EXPECT_INT(g.t[2], 31000);
    EXPECT_DBL(g.v[0], 1.0, 0);
    EXPECT_DBL(g.v[2], 1.0, 0);

    /* 1.0 then 2.0: XOR 7FF0000000000000, 1 leading zero, 11 bits, 52 trailing:
     * 11 00001 001011 11111111111 = C2 5F FF */
    const uint8_t change[] = {0x00, 0x02, 0xD0, 0x0F, 0x3F, 0xF0, 0,    0,   0,
                              0,    0,    0,    0x98, 0x75, 0xC2, 0x5F, 0xFF};
    struct got h = {0};
    EXPECT_INT(remote_xor_decode(change, sizeof(change), collect, &h), 2);
    EXPECT_INT(h.t[1], 16000);
    EXPECT_DBL(h.v[1], 2.0, 0);

    /* cut short: malformed */
    struct got k = {0};
    EXPECT_INT(remote_xor_decode(change, sizeof(change) - 2, collect, &k), -1);
    EXPECT_INT(remote_xor_decode(change, 1, collect, &k), -1);
}

struct frames_got {
    char msgs[4][32];
    int n;
};

static int frame_cb(void *cls, const uint8_t *msg, size_t len)
{
    struct frames_got *f = cls;
    if (f->n == 4 || len >= 32)
        return -1;
    memcpy(f->msgs[f->n], msg, len);
    f->msgs[f->n++][len] = '\0';
    return 0;
}

static size_t put_frame(uint8_t *w, const char *msg)
{
    size_t len = strlen(msg);
    uint32_t crc = remote_crc32c((const uint8_t *)msg, len);
    w[0] = (uint8_t)len; /* under 128: one uvarint byte */
    w[1] = (uint8_t)(crc >> 24);
    w[2] = (uint8_t)(crc >> 16);
    w[3] = (uint8_t)(crc >> 8);
    w[4] = (uint8_t)crc;
    memcpy(w + 5, msg, len);
    return len + 5;
}

static void frames_in_pieces(void)
{
    uint8_t body[128];
    size_t n = put_frame(body, "first");
    n += put_frame(body + n, "second frame");
    struct frames_got got = {0};
    struct remote_frames f = {.fn = frame_cb, .cls = &got};
    for (size_t i = 0; i < n; i++)
        EXPECT_INT(remote_frames_feed(&f, body + i, 1), 0);
    EXPECT_INT(remote_frames_end(&f), 0);
    EXPECT_INT(got.n, 2);
    EXPECT_STR(got.msgs[0], "first");
    EXPECT_STR(got.msgs[1], "second frame");
    remote_frames_free(&f);

    /* a frame cut short: not an error until the body ends */
    struct frames_got got2 = {0};
    struct remote_frames f2 = {.fn = frame_cb, .cls = &got2};
    EXPECT_INT(remote_frames_feed(&f2, body, n - 3), 0);
    EXPECT_INT(got2.n, 1);
    EXPECT_INT(remote_frames_end(&f2), -1);
    EXPECT_CONTAINS(f2.error, "ends inside a frame");
    remote_frames_free(&f2);

    /* a flipped bit: the CRC does not match */
    body[7] ^= 1;
    struct frames_got got3 = {0};
    struct remote_frames f3 = {.fn = frame_cb, .cls = &got3};
    EXPECT_INT(remote_frames_feed(&f3, body, n), -1);
    EXPECT_CONTAINS(f3.error, "CRC");
    EXPECT_INT(got3.n, 0);
    remote_frames_free(&f3);

    /* a frame longer than allowed */
    body[7] ^= 1;
    struct frames_got got4 = {0};
    struct remote_frames f4 = {.fn = frame_cb, .cls = &got4, .max_frame = 8};
    EXPECT_INT(remote_frames_feed(&f4, body, n), -1);
    EXPECT_CONTAINS(f4.error, "more than 8 bytes");
    remote_frames_free(&f4);
}

/* ---- decoding a response into the range query's result ---- */

/* A bit writer for test chunks: every delta of delta in the 64-bit form (1111 + 64 bits) and
 * every value in a new window of all 64 bits (11 + 00000 + 000000 + 64 bits): valid XOR
 * chunks, simpler than TSDB's. */
struct bits_out {
    uint8_t buf[1024];
    size_t pos;
};

static void put_bits(struct bits_out *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        if ((v >> i) & 1)
            b->buf[b->pos / 8] |= (uint8_t)(0x80 >> (b->pos % 8));
        b->pos++;
    }
}

static void put_uvarint(struct bits_out *b, uint64_t v)
{
    do {
        uint64_t byte = v & 0x7f;
        v >>= 7;
        put_bits(b, byte | (v ? 0x80 : 0), 8);
    } while (v);
}

/* An XOR chunk of n samples; its length in *len. */
static uint8_t *xor_chunk(const int64_t *t, const double *v, int n, size_t *len)
{
    static struct bits_out b;
    memset(&b, 0, sizeof(b));
    put_bits(&b, (uint64_t)n, 16);
    uint64_t prev = 0;
    int64_t delta = 0;
    for (int i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof(bits));
        if (i == 0) {
            put_uvarint(&b, (uint64_t)(t[0] << 1) ^ (uint64_t)(t[0] >> 63));
            put_bits(&b, bits, 64);
        } else {
            if (i == 1) {
                delta = t[1] - t[0];
                put_uvarint(&b, (uint64_t)delta);
            } else {
                int64_t d = t[i] - t[i - 1];
                put_bits(&b, 0xF, 4);
                put_bits(&b, (uint64_t)(d - delta), 64);
                delta = d;
            }
            put_bits(&b, 0x3, 2);
            put_bits(&b, 0, 5);
            put_bits(&b, 0, 6);
            put_bits(&b, bits ^ prev, 64);
        }
        prev = bits;
    }
    *len = (b.pos + 7) / 8;
    return b.buf;
}

/* Appends a frame holding one series (route label, then samples) to body. */
static size_t add_frame(uint8_t *body, size_t at, const char *route, const int64_t *t,
                        const double *v, int n)
{
    Prompb__Label l0 = PROMPB__LABEL__INIT, l1 = PROMPB__LABEL__INIT;
    l0.name = (char *)"__name__";
    l0.value = (char *)"x";
    l1.name = (char *)"route";
    l1.value = (char *)route;
    Prompb__Label *labels[] = {&l0, &l1};
    Prompb__Chunk ch = PROMPB__CHUNK__INIT;
    ch.type = PROMPB__CHUNK__ENCODING__XOR;
    ch.data.data = xor_chunk(t, v, n, &ch.data.len);
    Prompb__Chunk *chunks[] = {&ch};
    Prompb__ChunkedSeries cs = PROMPB__CHUNKED_SERIES__INIT;
    cs.n_labels = 2;
    cs.labels = labels;
    cs.n_chunks = 1;
    cs.chunks = chunks;
    Prompb__ChunkedSeries *series[] = {&cs};
    Prompb__ChunkedReadResponse r = PROMPB__CHUNKED_READ_RESPONSE__INIT;
    r.n_chunked_series = 1;
    r.chunked_series = series;
    uint8_t msg[2048];
    size_t len = prompb__chunked_read_response__pack(&r, msg);
    size_t o = at;
    /* the length as a two-byte uvarint (not the shortest below 128; it reads the same) */
    body[o++] = (uint8_t)(len | 0x80);
    body[o++] = (uint8_t)(len >> 7);
    uint32_t crc = remote_crc32c(msg, len);
    body[o++] = (uint8_t)(crc >> 24);
    body[o++] = (uint8_t)(crc >> 16);
    body[o++] = (uint8_t)(crc >> 8);
    body[o++] = (uint8_t)crc;
    memcpy(body + o, msg, len);
    return o + len;
}

static double stale_nan(void)
{
    uint64_t bits = 0x7ff0000000000002ULL;
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static const struct prom_series *series_of(const struct prom_result *r, const char *route)
{
    for (size_t i = 0; i < r->n_series; i++)
        for (size_t l = 0; l < r->series[i].n_labels; l++)
            if (strcmp(r->series[i].labels[l].value, route) == 0)
                return &r->series[i];
    return NULL;
}

/* increase(x[1m]) summed by route at 60 s and 120 s. Route a, in two frames (a series may
 * span frames): 0 @0, 6 @30 s, 12 @60 s | 20 @90 s, 30 @110 s, stale @120 s, 99 @121 s.
 * At 60 s the range [0, 60 s] holds 0, 6, 12: both ends included, nothing to extrapolate:
 * 12. At 120 s, [60 s, 120 s] holds 12, 20, 30 (the staleness marker is no sample, 121 s
 * is past the end): 18 over 50 s, average 25 s, 10 s to the end (under 27.5 s):
 * 18 * 60 / 50 = 21.6. Route b: 100 @10 s, 103 @70 s: one sample in each range, no value,
 * no series. Route c: 5 @0, 5 @60 s: 0 at 60 s (no events is a value), and one sample in
 * [60 s, 120 s]: no point at 120 s. */
static void decode_ranges(void)
{
    uint8_t body[8192];
    const int64_t ta1[] = {0, 30000, 60000}, ta2[] = {90000, 110000, 120000, 121000};
    const double va1[] = {0, 6, 12}, va2[] = {20, 30, stale_nan(), 99};
    const int64_t tb[] = {10000, 70000}, tc[] = {0, 60000};
    const double vb[] = {100, 103}, vc[] = {5, 5};
    size_t n = add_frame(body, 0, "a", ta1, va1, 3);
    n = add_frame(body, n, "a", ta2, va2, 4);
    n = add_frame(body, n, "b", tb, vb, 2);
    n = add_frame(body, n, "c", tc, vc, 2);
    struct arena a = {0};
    struct remote_expr e;
    EXPECT_INT(remote_parse("sum by (route) (increase(x[1m]))", &a, &e), 0);
    struct prom_result r;
    struct prom_error err;
    if (!EXPECT_INT(remote_decode(&e, 60000, 120000, 60000, body, n, &r, &err), 0)) {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
        return;
    }
    EXPECT_INT(r.type, PROM_RESULT_MATRIX);
    EXPECT_INT(r.n_series, 2); /* b has no value at any step: no series */
    const struct prom_series *sa = series_of(&r, "a"), *sc = series_of(&r, "c");
    if (EXPECT(sa != NULL) && EXPECT_INT(sa->n_samples, 2)) {
        EXPECT_INT(sa->n_labels, 1);
        EXPECT_STR(sa->labels[0].name, "route");
        EXPECT_INT(sa->samples[0].t_ms, 60000);
        EXPECT_DBL(sa->samples[0].v, 12, 0);
        EXPECT_INT(sa->samples[1].t_ms, 120000);
        EXPECT_DBL(sa->samples[1].v, 21.6, 1e-12);
    }
    if (EXPECT(sc != NULL) && EXPECT_INT(sc->n_samples, 1)) {
        EXPECT_INT(sc->samples[0].t_ms, 60000);
        EXPECT_DBL(sc->samples[0].v, 0, 0);
    }
    prom_result_free(&r);

    /* a plain sum adds the groups: 12 + 0 at 60 s, 21.6 at 120 s */
    EXPECT_INT(remote_parse("sum(increase(x[1m]))", &a, &e), 0);
    if (EXPECT_INT(remote_decode(&e, 60000, 120000, 60000, body, n, &r, &err), 0) &&
        EXPECT_INT(r.n_series, 1) && EXPECT_INT(r.series[0].n_samples, 2)) {
        EXPECT_INT(r.series[0].n_labels, 0);
        EXPECT_DBL(r.series[0].samples[0].v, 12, 0);
        EXPECT_DBL(r.series[0].samples[1].v, 21.6, 1e-12);
    }
    prom_result_free(&r);

    /* series out of label order (c before b): refused, not added up twice */
    size_t m = add_frame(body, 0, "c", tc, vc, 2);
    m = add_frame(body, m, "b", tb, vb, 2);
    EXPECT_INT(remote_decode(&e, 60000, 120000, 60000, body, m, &r, &err), -1);
    EXPECT_CONTAINS(err.msg, "out of order");
    /* a series whose samples go back in time across frames: refused */
    m = add_frame(body, 0, "a", ta2, va2, 4);
    m = add_frame(body, m, "a", ta1, va1, 3);
    EXPECT_INT(remote_decode(&e, 60000, 120000, 60000, body, m, &r, &err), -1);
    EXPECT_CONTAINS(err.msg, "time order");
    arena_free(&a);
}

const struct harness_test suite_remote[] = {
    {"parse_eligible", parse_eligible},
    {"parse_fields", parse_fields},
    {"parse_not_eligible", parse_not_eligible},
    {"extrapolate_inside", extrapolate_inside},
    {"extrapolate_zero_cap", extrapolate_zero_cap},
    {"extrapolate_reset", extrapolate_reset},
    {"extrapolate_edges", extrapolate_edges},
    {"stale_marker", stale_marker},
    {"crc32c_check_value", crc32c_check_value},
    {"xor_chunks", xor_chunks},
    {"frames_in_pieces", frames_in_pieces},
    {"decode_ranges", decode_ranges},
    HARNESS_END,
};
