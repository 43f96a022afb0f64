/* remote: the start-up history fill by Prometheus remote read (POST /api/v1/read, response
 * type STREAMED_XOR_CHUNKS) instead of query_range, for the one query shape where raw samples
 * can give exactly what Prometheus would compute: a sum, plain or by labels, of increase() or
 * rate() over one selector with a fixed metric name, on Prometheus 2.x. The raw samples of the
 * range are read, and increase()/rate() are evaluated at every step as Prometheus 2.x does (its
 * range selection and extrapolation), then summed per group; the result has the shape of the range
 * query's. Any other query is not eligible and goes to query_range. */
#ifndef SLOE_REMOTE_H
#define SLOE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "prom.h"

/* Label matcher types, numbered as in the remote read protocol. */
enum remote_match { REMOTE_EQ = 0, REMOTE_NEQ = 1, REMOTE_RE = 2, REMOTE_NRE = 3 };

struct remote_matcher {
    enum remote_match type;
    const char *name, *value;
};

/* A recognized query: sum [by (by...)] (increase|rate(selector[range])). */
struct remote_expr {
    bool rate;        /* rate(), else increase() */
    int64_t range_ms; /* the range selector's duration */
    size_t n_by;      /* 0 for a plain sum */
    const char **by;
    size_t n_matchers; /* the metric name (__name__ =) first */
    struct remote_matcher *matchers;
};

/* Recognizes query as one of the forms remote read can answer exactly:
 *   sum(F(SEL[D]))   sum by (l1, ...) (F(SEL[D]))   sum(F(SEL[D])) by (l1, ...)
 * with F increase or rate, SEL a selector with a metric name (name{...} or {__name__="x",
 * ...}) and D a duration. Returns 0 and fills out (strings allocated in a), or -1 when the
 * query is anything else (then it goes to query_range). */
int remote_parse(const char *query, struct arena *a, struct remote_expr *out)
    __attribute__((warn_unused_result));

/* increase() (rate false) or rate() of the n samples (time ascending, staleness markers left
 * out) selected by a range of range_ms ending at t_ms, as Prometheus 2.x's extrapolatedRate:
 * counter resets corrected, extrapolated towards the range's ends. Returns false (no value)
 * with fewer than 2 samples. */
bool remote_extrapolate(const struct prom_sample *s, size_t n, int64_t range_ms, int64_t t_ms,
                        bool rate, double *out);

/* True for Prometheus' staleness marker (a NaN of one bit pattern), which is not a sample. */
bool remote_is_stale(double v);

/* CRC-32 with the Castagnoli polynomial, as remote read frames carry. */
uint32_t remote_crc32c(const uint8_t *p, size_t n);

/* Receives each sample of an XOR chunk; returns 0, or -1 to stop. */
typedef int (*remote_sample_fn)(void *cls, int64_t t_ms, double v);

/* Decodes a TSDB XOR chunk (len bytes) and hands each sample to fn, in time order. Returns
 * the number of samples, or -1 when the chunk is malformed or fn stopped. */
long remote_xor_decode(const uint8_t *data, size_t len, remote_sample_fn fn, void *cls);

/* Splits a STREAMED_XOR_CHUNKS body, fed in any pieces, into its frames (a uvarint length,
 * a big-endian CRC-32C, the message) and hands each checked message to fn. */
typedef int (*remote_frame_fn)(void *cls, const uint8_t *msg, size_t len);

struct remote_frames {
    uint8_t *buf;
    size_t n, cap;
    size_t max_frame; /* a longer frame is an error; 0 means 64 MiB */
    remote_frame_fn fn;
    void *cls;
    char error[160]; /* why remote_frames_feed failed */
};

/* Adds len bytes of the body. Returns 0, or -1 with f->error (bad CRC, a frame over
 * max_frame, fn failed). remote_frames_end checks nothing is left half; remote_frames_free
 * frees the buffer. */
int remote_frames_feed(struct remote_frames *f, const void *data, size_t len);
int remote_frames_end(struct remote_frames *f);
void remote_frames_free(struct remote_frames *f);

/* Evaluates e at start_ms, start_ms + step_ms, ..., end_ms from one remote read of the raw
 * samples in [start_ms - range, end_ms], as query_range would: a matrix with a series per
 * group that has a value at some step (labels: the by labels that are not empty, by name),
 * a point at each step where some series of the group had two samples in range. The first
 * call on a client checks /api/v1/status/buildinfo: only Prometheus 2.x computes as this
 * module does (3.x leaves the sample at the range's start out). On success returns 0 and
 * fills out (free with prom_result_free; total_queryable_samples -1). On failure returns -1
 * and fills err; when the server is not Prometheus 2.x or has no remote read (404, 400, 405,
 * 415, 501 or another response type) it also calls prom_remote_read_unsupported on c, so
 * that it is not tried again. */
int remote_query_range(struct prom_client *c, const struct remote_expr *e, int64_t start_ms,
                       int64_t end_ms, int64_t step_ms, struct prom_result *out,
                       struct prom_error *err) __attribute__((warn_unused_result));

/* Decodes a whole STREAMED_XOR_CHUNKS body (len bytes) as remote_query_range does the one it
 * receives, without asking anything: for tests and fuzzing. Ownership as there. */
int remote_decode(const struct remote_expr *e, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                  const void *body, size_t len, struct prom_result *out, struct prom_error *err)
    __attribute__((warn_unused_result));

#endif
