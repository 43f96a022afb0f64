/* prom: a client for the Prometheus HTTP query API (/api/v1/query and /api/v1/query_range),
 * also fit for Thanos Query, Mimir and VictoriaMetrics. Requests are form-encoded POSTs over
 * one reused libcurl handle (keep-alive); responses are decoded into an arena per result.
 *
 * A client is used by one thread at a time: give each evaluating thread its own client, or
 * serialize calls. Clients on different threads are independent. */
#ifndef SLOE_PROM_H
#define SLOE_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Caps on what a client accepts and a response may hold. */
enum {
    PROM_DEFAULT_TIMEOUT_MS = 30000,
    PROM_DEFAULT_MAX_BODY = 64 * 1024 * 1024,
    PROM_MAX_LABELS = 128,          /* per series */
    PROM_MAX_HEADERS = 64,          /* --prometheus.header */
    PROM_MAX_HEADER_BYTES = 8192,   /* per header */
    PROM_MAX_SECRET_BYTES = 65536,  /* bearer token and password files */
    PROM_MAX_QUERY_BYTES = 1 << 20, /* a PromQL expression */
    PROM_MAX_RANGE_POINTS = 11000,  /* (end - start) / step at most, as Prometheus */
};

struct prom_config {
    const char *url;            /* base URL, http:// or https://, may end in a path prefix */
    int64_t timeout_ms;         /* per query; 0 means PROM_DEFAULT_TIMEOUT_MS */
    const char *const *headers; /* "Name:Value" strings */
    size_t n_headers;
    const char *bearer_token_file; /* read once by prom_client_new */
    const char *basic_auth_user;
    const char *basic_auth_password_file;
    const char *ca_file;
    size_t max_body_bytes;  /* decompressed; 0 means PROM_DEFAULT_MAX_BODY */
    bool stats;             /* ask for stats and fill total_queryable_samples */
    const char *user_agent; /* NULL means "sloe" */
    bool remote_read_off;   /* never try remote read (--prometheus.remote-read=off) */
};

enum prom_error_kind {
    PROM_OK,
    PROM_ERR_CONFIG,    /* bad configuration or arguments */
    PROM_ERR_CONNECT,   /* connection, TLS or transfer failure */
    PROM_ERR_TIMEOUT,   /* the query took longer than timeout_ms */
    PROM_ERR_HTTP,      /* a non-2xx status without a Prometheus error body */
    PROM_ERR_TOO_LARGE, /* the body or a series is past a cap */
    PROM_ERR_JSON,      /* not the JSON of the query API */
    PROM_ERR_QUERY,     /* Prometheus refused or failed the query */
};

/* msg says what happened and what to do about it; it never holds a secret. */
struct prom_error {
    enum prom_error_kind kind;
    int http_status; /* 0 when no response was received */
    char msg[512];
};

enum prom_result_type { PROM_RESULT_VECTOR, PROM_RESULT_MATRIX, PROM_RESULT_SCALAR };

struct prom_sample {
    int64_t t_ms;
    double v; /* may be NaN or +-Inf */
};

struct prom_label {
    const char *name, *value;
};

struct prom_series {
    size_t n_labels;
    const struct prom_label *labels; /* sorted by name; __name__ included when present */
    size_t n_samples;
    const struct prom_sample *samples; /* in the order received (time ascending) */
};

struct prom_result {
    struct arena arena; /* owns everything below */
    enum prom_result_type type;
    size_t n_series;
    const struct prom_series *series; /* a scalar is one series without labels */
    size_t n_warnings;
    const char *const *warnings;
    int64_t total_queryable_samples; /* -1 unless stats were asked for and returned */
};

struct prom_client;

/* The short label value for sloe_queries_total{result}: "ok", "config", "connect", "timeout",
 * "http", "too_large", "json" or "query". Never NULL. */
const char *prom_error_reason(enum prom_error_kind k);

/* Creates a client from cfg, which is copied (the caller keeps ownership of cfg). The token
 * and password files are read here. Returns NULL and fills err (kind PROM_ERR_CONFIG, naming
 * the flag or file) on a bad configuration. Free with prom_client_free. */
struct prom_client *prom_client_new(const struct prom_config *cfg, struct prom_error *err);

/* Frees c and closes its connection; NULL is fine. */
void prom_client_free(struct prom_client *c);

/* Evaluates query at time_ms (unix milliseconds). On success returns 0 and fills out, which
 * the caller frees with prom_result_free. On failure returns -1, fills err, and leaves out
 * empty (freeing it is allowed, not needed). out's previous contents are not freed. */
int prom_query(struct prom_client *c, const char *query, int64_t time_ms, struct prom_result *out,
               struct prom_error *err) __attribute__((warn_unused_result));

/* As prom_query over [start_ms, end_ms] every step_ms; the result is a matrix. */
int prom_query_range(struct prom_client *c, const char *query, int64_t start_ms, int64_t end_ms,
                     int64_t step_ms, struct prom_result *out, struct prom_error *err)
    __attribute__((warn_unused_result));

/* Decodes a query API response body (len bytes, no terminator needed) received with
 * http_status. Ownership and failure as prom_query. Any input is decoded or refused with a
 * message; for a non-2xx status without a JSON error the message quotes the body. */
int prom_decode(const char *body, size_t len, int http_status, struct prom_result *out,
                struct prom_error *err) __attribute__((warn_unused_result));

/* Frees everything r owns and leaves it empty; an empty or zeroed r is fine. */
void prom_result_free(struct prom_result *r);

/* Remote read (/api/v1/read, see remote.h) goes through the same connection, headers and
 * credentials. prom_remote_read_usable is false when the configuration turned it off or
 * prom_remote_read_unsupported was called (the server lacks it): it is not tried again. */
bool prom_remote_read_usable(const struct prom_client *c);
void prom_remote_read_unsupported(struct prom_client *c);

/* Whether remote.c has checked the server (its version) once; then it is not asked again. */
bool prom_remote_read_checked(const struct prom_client *c);
void prom_remote_read_set_checked(struct prom_client *c);

/* GETs /api/v1/status/buildinfo and copies its version and application (Prometheus leaves
 * that out: then "") into the buffers. Returns 0, or -1 with err filled. */
int prom_buildinfo(struct prom_client *c, char *version, size_t vsize, char *application,
                   size_t asize, struct prom_error *err) __attribute__((warn_unused_result));

/* Receives a response body piece by piece; returns 0, or -1 to stop the transfer. */
typedef int (*prom_sink_fn)(void *cls, const char *data, size_t len);

/* POSTs body (len bytes) to the remote read URL (base URL + /api/v1/read) with the client's
 * headers plus headers ("Name: value"), handing a 2xx response body to sink and copying its
 * Content-Type into content_type (ct_size bytes). Returns 0, or -1 with err filled: the
 * transfer failed, the status was not 2xx (kind PROM_ERR_HTTP with the status and the body's
 * start), or the sink stopped it (PROM_ERR_JSON). */
int prom_post_raw(struct prom_client *c, const char *const *headers, size_t n_headers,
                  const void *body, size_t len, prom_sink_fn sink, void *cls, char *content_type,
                  size_t ct_size, struct prom_error *err) __attribute__((warn_unused_result));

#endif
