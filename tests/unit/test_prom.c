/* The Prometheus query API client: the decoder on canned bodies, and the client against a
 * fake HTTP server on loopback for what a real Prometheus will not do on demand. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "prom.h"
#include "remote.h"

/* ---- The decoder ---- */

static int decode(const char *body, int status, struct prom_result *r, struct prom_error *err)
{
    return prom_decode(body, strlen(body), status, r, err);
}

static const char *label(const struct prom_series *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

static void decode_vector(void)
{
    struct prom_result r;
    struct prom_error err;
    const char *body =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"job\":\"checkout\",\"__name__\":\"up\",\"instance\":\"a:80\"},"
        "\"value\":[1795802400.123,\"1\"]},"
        "{\"metric\":{},\"value\":[1795802400,\"0.25\"]}]}}";
    if (!EXPECT_INT(decode(body, 200, &r, &err), 0)) {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
        return;
    }
    EXPECT_INT(err.kind, PROM_OK);
    EXPECT_INT(r.type, PROM_RESULT_VECTOR);
    EXPECT_INT(r.n_series, 2);
    EXPECT_INT(r.series[0].n_labels, 3);
    EXPECT_STR(r.series[0].labels[0].name, "__name__");
    EXPECT_STR(r.series[0].labels[1].name, "instance");
    EXPECT_STR(r.series[0].labels[2].name, "job");
    EXPECT_STR(label(&r.series[0], "job"), "checkout");
    EXPECT_INT(r.series[0].n_samples, 1);
    EXPECT_INT(r.series[0].samples[0].t_ms, 1795802400123LL);
    EXPECT_DBL(r.series[0].samples[0].v, 1.0, 0);
    EXPECT_INT(r.series[1].n_labels, 0);
    EXPECT_DBL(r.series[1].samples[0].v, 0.25, 0);
    EXPECT_INT(r.n_warnings, 0);
    EXPECT_INT(r.total_queryable_samples, -1);
    prom_result_free(&r);
    prom_result_free(&r); /* twice is fine */
}

static void decode_matrix(void)
{
    struct prom_result r;
    struct prom_error err;
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                       "{\"metric\":{\"code\":\"500\"},\"values\":[[1795802400,\"0.5\"],"
                       "[1795802460.5,\"NaN\"],[1795802520,\"+Inf\"],[1795802580,\"-Inf\"],"
                       "[1795802640,\"1e-3\"]]},"
                       "{\"metric\":{\"code\":\"200\"}}]}}";
    if (!EXPECT_INT(decode(body, 200, &r, &err), 0)) {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
        return;
    }
    EXPECT_INT(r.type, PROM_RESULT_MATRIX);
    EXPECT_INT(r.n_series, 2);
    const struct prom_series *s = &r.series[0];
    EXPECT_INT(s->n_samples, 5);
    EXPECT_INT(s->samples[1].t_ms, 1795802460500LL);
    EXPECT_DBL(s->samples[0].v, 0.5, 0);
    EXPECT(isnan(s->samples[1].v));
    EXPECT(isinf(s->samples[2].v) && s->samples[2].v > 0);
    EXPECT(isinf(s->samples[3].v) && s->samples[3].v < 0);
    EXPECT_DBL(s->samples[4].v, 0.001, 1e-18);
    EXPECT_INT(r.series[1].n_samples, 0); /* Prometheus leaves out an empty "values" */
    prom_result_free(&r);
}

static void decode_scalar(void)
{
    struct prom_result r;
    struct prom_error err;
    EXPECT_INT(decode("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
                      "\"result\":[1795802400.5,\"42\"]}}",
                      200, &r, &err),
               0);
    EXPECT_INT(r.type, PROM_RESULT_SCALAR);
    EXPECT_INT(r.n_series, 1);
    EXPECT_INT(r.series[0].n_labels, 0);
    EXPECT_INT(r.series[0].n_samples, 1);
    EXPECT_INT(r.series[0].samples[0].t_ms, 1795802400500LL);
    EXPECT_DBL(r.series[0].samples[0].v, 42, 0);
    prom_result_free(&r);

    EXPECT_INT(decode("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
                      "\"result\":[1795802400,\"-Inf\"]}}",
                      200, &r, &err),
               0);
    EXPECT(isinf(r.series[0].samples[0].v) && r.series[0].samples[0].v < 0);
    prom_result_free(&r);
}

static void decode_warnings_and_stats(void)
{
    struct prom_result r;
    struct prom_error err;
    const char *body =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[],"
        "\"stats\":{\"timings\":{\"evalTotalTime\":0.01},\"samples\":{"
        "\"totalQueryableSamples\":123456,\"peakSamples\":12}}},"
        "\"warnings\":[\"PromQL warning: encountered a mix of histograms and floats\",7,"
        "\"second\"],\"infos\":[\"PromQL info: metric might not be a counter\"]}";
    if (!EXPECT_INT(decode(body, 200, &r, &err), 0))
        return;
    EXPECT_INT(r.n_series, 0);
    EXPECT_INT(r.total_queryable_samples, 123456);
    EXPECT_INT(r.n_warnings, 2); /* a non-string warning is skipped */
    EXPECT_STR(r.warnings[0], "PromQL warning: encountered a mix of histograms and floats");
    EXPECT_STR(r.warnings[1], "second");
    prom_result_free(&r);
}

/* VictoriaMetrics cluster's "isPartial": true fails the query (events would be undercounted);
 * false, or absent as in Prometheus, decodes as usual. */
static void decode_partial(void)
{
    struct prom_result r;
    struct prom_error err;
    const char *partial = "{\"status\":\"success\",\"isPartial\":true,\"data\":{"
                          "\"resultType\":\"vector\",\"result\":[]}}";
    EXPECT_INT(decode(partial, 200, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT(strstr(err.msg, "partial response") != NULL);
    EXPECT(strstr(err.msg, "denyPartialResponse") != NULL);
    prom_result_free(&r);
    const char *whole = "{\"status\":\"success\",\"isPartial\":false,\"data\":{"
                        "\"resultType\":\"vector\",\"result\":[]}}";
    EXPECT_INT(decode(whole, 200, &r, &err), 0);
    prom_result_free(&r);
}

static void decode_error_body(void)
{
    struct prom_result r;
    struct prom_error err;
    EXPECT_INT(decode("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid "
                      "parameter \\\"query\\\": 1:5: parse error: unexpected end of input\"}",
                      400, &r, &err),
               -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT_INT(err.http_status, 400);
    EXPECT_STR(err.msg, "HTTP 400: bad_data: invalid parameter \"query\": 1:5: parse error: "
                        "unexpected end of input");
    EXPECT_INT(r.n_series, 0);
    prom_result_free(&r);

    EXPECT_INT(decode("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed "
                      "out in expression evaluation\"}",
                      503, &r, &err),
               -1);
    EXPECT_INT(err.kind, PROM_ERR_TIMEOUT);
    EXPECT_INT(err.http_status, 503);
    EXPECT_CONTAINS(err.msg, "timeout: query timed out in expression evaluation");

    /* An error with a 2xx status still is an error. */
    EXPECT_INT(
        decode("{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"x\"}", 200, &r, &err),
        -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT_STR(err.msg, "execution: x");
    EXPECT_INT(decode("{\"status\":\"error\"}", 422, &r, &err), -1);
    EXPECT_STR(err.msg, "HTTP 422: error: (no message)");
}

static void decode_http_errors(void)
{
    struct prom_result r;
    struct prom_error err;
    const char *html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                       "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
    EXPECT_INT(decode(html, 502, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_HTTP);
    EXPECT_INT(err.http_status, 502);
    EXPECT_STR(err.msg, "HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body> "
                        "<center><h1>502 Bad Gateway</h1></center> </body> </html>");
    EXPECT_INT(decode("", 503, &r, &err), -1);
    EXPECT_STR(err.msg, "HTTP 503: (empty body)");
    /* JSON that is not a Prometheus error, with a failing status. */
    EXPECT_INT(decode("{\"message\":\"no org id\"}", 401, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_HTTP);
    EXPECT_STR(err.msg, "HTTP 401: {\"message\":\"no org id\"}");
    /* Only the first 200 printable bytes are quoted; control bytes are dropped. */
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[0] = '\x01';
    big[sizeof(big) - 1] = '\0';
    EXPECT_INT(decode(big, 500, &r, &err), -1);
    EXPECT_INT(strlen(err.msg), strlen("HTTP 500: ") + 200);
    prom_result_free(&r);
}

static void decode_malformed(void)
{
    static const char *const bad[] = {
        "",
        "{\"status\":\"succ",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[",
        "not json",
        "[]",
        "{}",
        "{\"status\":\"success\"}",
        "{\"status\":\"success\",\"data\":[]}",
        "{\"status\":\"success\",\"data\":{}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[1]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"tensor\",\"result\":[]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":7,\"result\":[]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,2]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[\"1\",\"2\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2\",3]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"abc\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\" 1\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1x\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1e300,\"1\"]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"a\":1},\"value\":[1,\"1\"]}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":[],\"value\":[1,\"1\"]}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
        "{\"metric\":{},\"values\":[1,\"1\"]}]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
        "{\"metric\":{},\"values\":{}}]}}",
        "{\"status\":\"ok\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}} trailing",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
        "{\"a\\u0000b\":\"1\"},\"value\":[1,\"1\"]}]}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct prom_result r;
        struct prom_error err;
        if (!EXPECT_INT(decode(bad[i], 200, &r, &err), -1)) {
            harness_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
            prom_result_free(&r);
            continue;
        }
        EXPECT_INT(err.kind, PROM_ERR_JSON);
        EXPECT_INT(err.http_status, 200);
        EXPECT(err.msg[0] != '\0');
        EXPECT_INT(r.n_series, 0);
    }
    struct prom_result r;
    struct prom_error err;
    EXPECT_INT(decode("{\"status\":\"succ", 200, &r, &err), -1);
    EXPECT_CONTAINS(err.msg, "malformed JSON at line 1 column");
    /* A body with a NUL byte in it is refused, not cut short. */
    EXPECT_INT(prom_decode("{}\0{", 4, 200, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_JSON);
}

static void decode_refused_results(void)
{
    struct prom_result r;
    struct prom_error err;
    EXPECT_INT(decode("{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
                      "\"result\":[1795802400,\"hello\"]}}",
                      200, &r, &err),
               -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT_CONTAINS(err.msg, "string");
    EXPECT_INT(decode("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                      "{\"metric\":{},\"histogram\":[1795802400,{\"count\":\"3\",\"sum\":\"1\"}]}"
                      "]}}",
                      200, &r, &err),
               -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT_CONTAINS(err.msg, "native histogram");
    EXPECT_INT(decode("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                      "{\"metric\":{},\"histograms\":[[1795802400,{\"count\":\"3\"}]]}]}}",
                      200, &r, &err),
               -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
}

/* A vector of one series with n labels l000..l(n-1), in reverse order. */
static char *labels_body(int n)
{
    size_t cap = (size_t)n * 32 + 256, len = 0;
    char *b = malloc(cap);
    len += (size_t)snprintf(b + len, cap - len,
                            "{\"status\":\"success\",\"data\":{\"resultType\":"
                            "\"vector\",\"result\":[{\"metric\":{");
    for (int i = n - 1; i >= 0; i--)
        len += (size_t)snprintf(b + len, cap - len, "%s\"l%03d\":\"v%d\"", i == n - 1 ? "" : ",", i,
                                i);
    snprintf(b + len, cap - len, "},\"value\":[1,\"1\"]}]}}");
    return b;
}

static void decode_label_cap(void)
{
    struct prom_result r;
    struct prom_error err;
    char *ok = labels_body(PROM_MAX_LABELS), *big = labels_body(PROM_MAX_LABELS + 1),
         *huge = labels_body(5000);
    if (EXPECT_INT(decode(ok, 200, &r, &err), 0)) {
        EXPECT_INT(r.series[0].n_labels, PROM_MAX_LABELS);
        EXPECT_STR(r.series[0].labels[0].name, "l000");
        EXPECT_STR(r.series[0].labels[PROM_MAX_LABELS - 1].value, "v127");
        prom_result_free(&r);
    }
    EXPECT_INT(decode(big, 200, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_TOO_LARGE);
    EXPECT_STR(err.msg, "a series has 129 labels, more than 128");
    EXPECT_INT(decode(huge, 200, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_TOO_LARGE);
    free(ok);
    free(big);
    free(huge);
}

static void error_reasons(void)
{
    EXPECT_STR(prom_error_reason(PROM_OK), "ok");
    EXPECT_STR(prom_error_reason(PROM_ERR_CONFIG), "config");
    EXPECT_STR(prom_error_reason(PROM_ERR_CONNECT), "connect");
    EXPECT_STR(prom_error_reason(PROM_ERR_TIMEOUT), "timeout");
    EXPECT_STR(prom_error_reason(PROM_ERR_HTTP), "http");
    EXPECT_STR(prom_error_reason(PROM_ERR_TOO_LARGE), "too_large");
    EXPECT_STR(prom_error_reason(PROM_ERR_JSON), "json");
    EXPECT_STR(prom_error_reason(PROM_ERR_QUERY), "query");
}

/* ---- A fake server: one thread serving canned replies on 127.0.0.1, in order ---- */

enum { FAKE_MAX = 4, FAKE_REQ = 65536 };

struct fake_reply {
    const char *bytes; /* the whole response; NULL: read the request, then stall */
    size_t len;        /* 0: strlen(bytes) */
};

static struct {
    int lfd, port, accepts;
    const struct fake_reply *replies;
    size_t n;
    char req[FAKE_MAX][FAKE_REQ]; /* the requests received, NUL-terminated */
    pthread_t thread;
} fake;

/* Reads one request (head and Content-Length body) into buf; false when the peer left. */
static bool fake_read_request(int fd, char *buf)
{
    size_t n = 0;
    for (;;) {
        char *head_end = strstr(buf, "\r\n\r\n");
        if (head_end != NULL) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t want = (size_t)(head_end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
            if (n >= want)
                return true;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (n + 1 >= FAKE_REQ || poll(&p, 1, 5000) != 1)
            return false;
        ssize_t got = recv(fd, buf + n, FAKE_REQ - 1 - n, 0);
        if (got <= 0)
            return false;
        n += (size_t)got;
        buf[n] = '\0';
    }
}

static void *fake_main(void *arg)
{
    (void)arg;
    int fd = -1;
    bool fresh = false;
    for (size_t i = 0; i < fake.n; i++) {
        if (fd < 0) {
            struct pollfd p = {.fd = fake.lfd, .events = POLLIN};
            if (poll(&p, 1, 5000) != 1 || (fd = accept(fake.lfd, NULL, NULL)) < 0)
                break;
            fake.accepts++;
            fresh = true;
        }
        if (!fake_read_request(fd, fake.req[i])) {
            close(fd); /* the client left a kept-alive connection: take the next one */
            fd = -1;
            if (fake.req[i][0] != '\0' || fresh)
                break;
            i--;
            continue;
        }
        fresh = false;
        const struct fake_reply *r = &fake.replies[i];
        if (r->bytes == NULL) { /* stall until the client gives up */
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 5000);
            close(fd);
            fd = -1;
            continue;
        }
        size_t len = r->len ? r->len : strlen(r->bytes);
        for (size_t off = 0; off < len;) {
            ssize_t w = send(fd, r->bytes + off, len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (strstr(r->bytes, "Connection: close") != NULL) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void fake_start(const struct fake_reply *replies, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    memset(&fake, 0, sizeof(fake));
    fake.replies = replies;
    fake.n = n;
    fake.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (fake.lfd < 0 || bind(fake.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fake.lfd, 4) != 0 || getsockname(fake.lfd, (struct sockaddr *)&a, &alen) != 0) {
        harness_fail(__FILE__, __LINE__, "cannot listen on 127.0.0.1");
        exit(1);
    }
    fake.port = ntohs(a.sin_port);
    pthread_create(&fake.thread, NULL, fake_main, NULL);
}

static void fake_stop(void)
{
    pthread_join(fake.thread, NULL);
    close(fake.lfd);
}

/* The body of request i. */
static const char *fake_body(size_t i)
{
    const char *p = strstr(fake.req[i], "\r\n\r\n");
    return p ? p + 4 : "";
}

static char url_buf[128];

static const char *fake_url(const char *path)
{
    snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", fake.port, path);
    return url_buf;
}

#define OK_VECTOR                                                                                  \
    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"        \
    "\"job\":\"checkout\"},\"value\":[1795802400,\"0.999\"]}]}}"

/* A response with the given status line, extra header lines and body; malloc'd. */
static char *reply(const char *status, const char *headers, const char *body)
{
    size_t n = strlen(status) + strlen(headers) + strlen(body) + 64;
    char *r = malloc(n);
    snprintf(r, n, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n%s", status, headers, strlen(body),
             body);
    return r;
}

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/sloe-test-secret-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        harness_fail(__FILE__, __LINE__, "cannot write %s", path);
    close(fd);
    return path;
}

/* ---- The client ---- */

static void client_instant(void)
{
    char *ok = reply("200 OK", "Content-Type: application/json\r\n", OK_VECTOR);
    struct fake_reply replies[] = {{ok, 0}, {ok, 0}};
    fake_start(replies, 2);
    const char *headers[] = {"X-Scope-OrgID:team-a"};
    struct prom_config cfg = {.url = fake_url("/prometheus/"),
                              .headers = headers,
                              .n_headers = 1,
                              .user_agent = "sloe/test"};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    if (!EXPECT(c != NULL)) {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
        exit(1);
    }
    struct prom_result r;
    const char *q = "sum(rate(http_requests_total{job=\"checkout\",code!~\"5..\"}[5m])) / 1 + 2";
    if (EXPECT_INT(prom_query(c, q, 1795802400000LL, &r, &err), 0)) {
        EXPECT_INT(r.n_series, 1);
        EXPECT_STR(label(&r.series[0], "job"), "checkout");
        EXPECT_DBL(r.series[0].samples[0].v, 0.999, 0);
        prom_result_free(&r);
    } else {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
    }
    /* A second query reuses the connection. */
    EXPECT_INT(prom_query(c, "up", -1500, &r, &err), 0);
    prom_result_free(&r);
    prom_client_free(c);
    fake_stop();
    EXPECT_INT(fake.accepts, 1);
    const char *req = fake.req[0];
    EXPECT(strncmp(req, "POST /prometheus/api/v1/query HTTP/1.1\r\n", 40) == 0);
    EXPECT_CONTAINS(req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    EXPECT_CONTAINS(req, "\r\nAccept: application/json\r\n");
    EXPECT_CONTAINS(req, "\r\nX-Scope-OrgID:team-a\r\n");
    EXPECT_CONTAINS(req, "\r\nUser-Agent: sloe/test\r\n");
    EXPECT_CONTAINS(req, "\r\nAccept-Encoding: ");
    EXPECT(strcasestr(req, "Authorization:") == NULL);
    EXPECT_STR(fake_body(0), "query=sum%28rate%28http_requests_total%7Bjob%3D%22checkout%22%2C"
                             "code%21~%225..%22%7D%5B5m%5D%29%29%20%2F%201%20%2B%202"
                             "&time=1795802400.000");
    EXPECT_STR(fake_body(1), "query=up&time=-1.500");
    free(ok);
}

static void client_range_and_stats(void)
{
    char *ok = reply("200 OK", "",
                     "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":"
                     "[{\"metric\":{},\"values\":[[1795802400,\"1\"],[1795802460,\"2\"]]}],"
                     "\"stats\":{\"samples\":{\"totalQueryableSamples\":42}}}}");
    struct fake_reply replies[] = {{ok, 0}};
    fake_start(replies, 1);
    struct prom_config cfg = {.url = fake_url(""), .stats = true};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query_range(c, "up", 1795802400000LL, 1795802460000LL, 60000, &r, &err), 0);
    EXPECT_INT(r.type, PROM_RESULT_MATRIX);
    EXPECT_INT(r.n_series, 1);
    EXPECT_INT(r.series[0].n_samples, 2);
    EXPECT_INT(r.total_queryable_samples, 42);
    prom_result_free(&r);
    /* Arguments refused before anything is sent. */
    EXPECT_INT(prom_query_range(c, "up", 2000, 1000, 1000, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_CONFIG);
    EXPECT_INT(prom_query_range(c, "up", 0, 1000, 0, &r, &err), -1);
    EXPECT_INT(prom_query_range(c, "up", 0, 11001000, 1000, &r, &err), -1);
    EXPECT_INT(prom_query(c, "", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_CONFIG);
    prom_client_free(c);
    fake_stop();
    EXPECT(strncmp(fake.req[0], "POST /api/v1/query_range HTTP/1.1\r\n", 35) == 0);
    EXPECT_STR(fake_body(0),
               "query=up&start=1795802400.000&end=1795802460.000&step=60.000&stats=all");
    free(ok);
}

static void client_bearer_token(void)
{
    char *ok = reply("200 OK", "", OK_VECTOR);
    struct fake_reply replies[] = {{ok, 0}};
    fake_start(replies, 1);
    char *token = write_temp("tok-123.abc\n");
    struct prom_config cfg = {.url = fake_url(""), .bearer_token_file = token};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), 0);
    prom_result_free(&r);
    prom_client_free(c);
    fake_stop();
    EXPECT_CONTAINS(fake.req[0], "\r\nAuthorization: Bearer tok-123.abc\r\n");
    unlink(token);
    free(token);
    free(ok);
}

static void client_basic_auth(void)
{
    char *denied = reply("401 Unauthorized", "Content-Type: text/plain\r\n", "Unauthorized\n");
    struct fake_reply replies[] = {{denied, 0}};
    fake_start(replies, 1);
    char *password = write_temp("s3cret\r\n");
    struct prom_config cfg = {
        .url = fake_url(""), .basic_auth_user = "alice", .basic_auth_password_file = password};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_HTTP);
    EXPECT_INT(err.http_status, 401);
    char want[256];
    snprintf(want, sizeof(want), "HTTP 401 from http://127.0.0.1:%d: Unauthorized", fake.port);
    EXPECT_STR(err.msg, want);
    prom_client_free(c);
    fake_stop();
    EXPECT_CONTAINS(fake.req[0], "\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n");
    unlink(password);
    free(password);
    free(denied);
}

static void client_url_credentials_hidden(void)
{
    char *boom = reply("500 Internal Server Error", "Content-Type: application/json\r\n",
                       "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"boom\"}");
    struct fake_reply replies[] = {{boom, 0}};
    fake_start(replies, 1);
    char url[128];
    snprintf(url, sizeof(url), "http://bob:hunter2@127.0.0.1:%d/select/0/prometheus?x=1",
             fake.port);
    struct prom_config cfg = {.url = url};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_QUERY);
    EXPECT_INT(err.http_status, 500);
    char want[256];
    snprintf(want, sizeof(want),
             "HTTP 500 from http://127.0.0.1:%d/select/0/prometheus: internal: boom", fake.port);
    EXPECT_STR(err.msg, want);
    EXPECT(strstr(err.msg, "hunter2") == NULL);
    prom_client_free(c);
    fake_stop();
    EXPECT(strncmp(fake.req[0], "POST /select/0/prometheus/api/v1/query?x=1 HTTP/1.1\r\n", 53) ==
           0);
    EXPECT_CONTAINS(fake.req[0], "\r\nAuthorization: Basic Ym9iOmh1bnRlcjI=\r\n");
    free(boom);
}

static void client_gzip(void)
{
    /* gzip -9n of {"status":"success",...,"result":[{"metric":{"job":"gz"},
     * "value":[1795802400,"7"]}]}} */
    static const unsigned char gz[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x25, 0x8b, 0x4b, 0x0a, 0x83,
        0x30, 0x10, 0x86, 0xef, 0xf2, 0xaf, 0xb3, 0x48, 0xa5, 0xc5, 0x9a, 0x73, 0xb8, 0x0b, 0x59,
        0x4c, 0xd3, 0x41, 0x14, 0xc5, 0x92, 0x99, 0x08, 0x36, 0xe4, 0xee, 0xa6, 0x74, 0xfb, 0x3d,
        0x0a, 0x44, 0x49, 0xb3, 0xc0, 0x41, 0x72, 0x8c, 0x2c, 0x02, 0x83, 0x37, 0x29, 0xc1, 0x15,
        0x24, 0x96, 0xbc, 0xea, 0x78, 0x7e, 0xb8, 0xe9, 0x83, 0xa3, 0xee, 0xa9, 0xd9, 0x3f, 0x85,
        0xf3, 0x05, 0x1b, 0x6b, 0x9a, 0xe3, 0x2f, 0x5d, 0xf6, 0x57, 0x6b, 0xa6, 0x2f, 0xaa, 0xc1,
        0x41, 0x6b, 0x6e, 0x87, 0xbf, 0xf5, 0xc3, 0xe3, 0x69, 0xbb, 0xbb, 0xb5, 0x06, 0x3d, 0x42,
        0x0d, 0xb5, 0x5e, 0xff, 0x6a, 0x44, 0x28, 0x6f, 0x00, 0x00, 0x00};
    char head[256];
    int hn = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                      sizeof(gz));
    char *bytes = malloc((size_t)hn + sizeof(gz));
    memcpy(bytes, head, (size_t)hn);
    memcpy(bytes + hn, gz, sizeof(gz));
    struct fake_reply replies[] = {{bytes, (size_t)hn + sizeof(gz)}};
    fake_start(replies, 1);
    struct prom_config cfg = {.url = fake_url("/")};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    if (EXPECT_INT(prom_query(c, "up", 0, &r, &err), 0)) {
        EXPECT_INT(r.n_series, 1);
        EXPECT_STR(label(&r.series[0], "job"), "gz");
        EXPECT_DBL(r.series[0].samples[0].v, 7, 0);
        prom_result_free(&r);
    } else {
        harness_fail(__FILE__, __LINE__, "%s", err.msg);
    }
    prom_client_free(c);
    fake_stop();
    const char *ae = strcasestr(fake.req[0], "\r\nAccept-Encoding:");
    EXPECT(ae != NULL && strstr(ae, "gzip") != NULL);
    free(bytes);
}

static void client_html_502(void)
{
    char *bad = reply("502 Bad Gateway", "Content-Type: text/html\r\nConnection: close\r\n",
                      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                      "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                      "</body>\r\n</html>\r\n");
    char *ok = reply("200 OK", "", OK_VECTOR);
    struct fake_reply replies[] = {{bad, 0}, {ok, 0}};
    fake_start(replies, 2);
    struct prom_config cfg = {.url = fake_url("")};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_HTTP);
    EXPECT_INT(err.http_status, 502);
    EXPECT_CONTAINS(err.msg, "HTTP 502 from http://127.0.0.1:");
    EXPECT_CONTAINS(err.msg, ": <html> <head><title>502 Bad Gateway</title></head> <body>");
    /* The client recovers on a new connection. */
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), 0);
    prom_result_free(&r);
    prom_client_free(c);
    fake_stop();
    EXPECT_INT(fake.accepts, 2);
    free(bad);
    free(ok);
}

static void client_body_cap(void)
{
    char body[4097];
    memset(body, ' ', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    memcpy(body, "{\"status\":\"success\"", 19);
    char *big = reply("200 OK", "", body);
    char *ok = reply("200 OK", "", OK_VECTOR);
    struct fake_reply replies[] = {{big, 0}, {ok, 0}};
    fake_start(replies, 2);
    struct prom_config cfg = {.url = fake_url(""), .max_body_bytes = 1024};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_TOO_LARGE);
    EXPECT_CONTAINS(err.msg, "larger than 1024 bytes");
    EXPECT_INT(r.n_series, 0);
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), 0); /* a small one still works */
    prom_result_free(&r);
    prom_client_free(c);
    fake_stop();
    free(big);
    free(ok);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void client_timeout(void)
{
    struct fake_reply replies[] = {{NULL, 0}};
    fake_start(replies, 1);
    struct prom_config cfg = {.url = fake_url(""), .timeout_ms = 300};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    double t0 = now_s();
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    double took = now_s() - t0;
    EXPECT_INT(err.kind, PROM_ERR_TIMEOUT);
    EXPECT_INT(err.http_status, 0);
    EXPECT_CONTAINS(err.msg, "timed out after 300ms (raise --prometheus.timeout)");
    EXPECT_DBL(took, 0.85, 0.6); /* 0.25 .. 1.45 s: curl may fire a little early */
    prom_client_free(c);
    fake_stop();
}

static void client_connection_refused(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    EXPECT_INT(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd); /* bound, never listened, closed: nothing accepts there */
    char url[64], want[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(want, sizeof(want), "cannot connect to %s: Connection refused (is Prometheus running?",
             url);
    struct prom_config cfg = {.url = url};
    struct prom_error err;
    struct prom_client *c = prom_client_new(&cfg, &err);
    struct prom_result r;
    EXPECT_INT(prom_query(c, "up", 0, &r, &err), -1);
    EXPECT_INT(err.kind, PROM_ERR_CONNECT);
    EXPECT_STR(prom_error_reason(err.kind), "connect");
    EXPECT_CONTAINS(err.msg, want);
    EXPECT_CONTAINS(err.msg, "check --prometheus.url)");
    prom_client_free(c);
}

/* ---- Remote read: what makes the client use it, give up on it, or fall back once ---- */

#define BUILDINFO(v) "{\"status\":\"success\",\"data\":{\"version\":\"" v "\",\"revision\":\"x\"}}"

/* Runs one remote read of sum(increase(x[1m])) against the fake server's replies; returns
 * its result code, with the client's usability after it in *usable. */
static int remote_once(const struct fake_reply *replies, size_t n, struct prom_error *err,
                       bool *usable, bool twice)
{
    fake_start(replies, n);
    const char *headers[] = {"X-Scope-OrgID:team-a"};
    struct prom_config cfg = {
        .url = fake_url("/prometheus"), .headers = headers, .n_headers = 1, .timeout_ms = 3000};
    struct prom_client *c = prom_client_new(&cfg, err);
    if (!EXPECT(c != NULL))
        exit(1);
    struct arena a = {0};
    struct remote_expr e;
    if (remote_parse("sum(increase(x[1m]))", &a, &e) != 0)
        exit(1);
    struct prom_result r;
    int rc = remote_query_range(c, &e, 60000, 120000, 60000, &r, err);
    if (rc == 0)
        prom_result_free(&r);
    if (twice) { /* not asked again: no request (the fake server would not answer one) */
        struct prom_error err2;
        EXPECT_INT(remote_query_range(c, &e, 60000, 120000, 60000, &r, &err2), -1);
    }
    *usable = prom_remote_read_usable(c);
    prom_client_free(c);
    arena_free(&a);
    fake_stop();
    return rc;
}

static void client_remote_read_not_prometheus2(void)
{
    char *b3 = reply("200 OK", "Content-Type: application/json\r\n", BUILDINFO("3.1.0"));
    struct fake_reply replies[] = {{b3, 0}};
    struct prom_error err;
    bool usable = true;
    EXPECT_INT(remote_once(replies, 1, &err, &usable, true), -1);
    EXPECT(!usable);
    EXPECT_CONTAINS(err.msg, "3.1.0");
    EXPECT(strncmp(fake.req[0], "GET /prometheus/api/v1/status/buildinfo HTTP/1.1\r\n", 50) == 0);
    EXPECT_CONTAINS(fake.req[0], "\r\nX-Scope-OrgID:team-a\r\n");
    free(b3);
}

static void client_remote_read_404(void)
{
    char *b2 = reply("200 OK", "Content-Type: application/json\r\n", BUILDINFO("2.42.0"));
    char *nf = reply("404 Not Found", "Content-Type: text/plain\r\n", "unsupported path");
    struct fake_reply replies[] = {{b2, 0}, {nf, 0}};
    struct prom_error err;
    bool usable = true;
    EXPECT_INT(remote_once(replies, 2, &err, &usable, true), -1);
    EXPECT(!usable);
    EXPECT_INT(err.http_status, 404);
    const char *req = fake.req[1];
    EXPECT(strncmp(req, "POST /prometheus/api/v1/read HTTP/1.1\r\n", 39) == 0);
    EXPECT_CONTAINS(req, "\r\nContent-Encoding: snappy\r\n");
    EXPECT_CONTAINS(req, "\r\nContent-Type: application/x-protobuf\r\n");
    EXPECT_CONTAINS(req, "\r\nX-Prometheus-Remote-Read-Version: 0.1.0\r\n");
    EXPECT_CONTAINS(req, "\r\nX-Scope-OrgID:team-a\r\n");
    EXPECT(strcasestr(req, "Accept: application/json") == NULL);
    free(b2);
    free(nf);
}

/* A response of the SAMPLES type (a server that does not stream chunks): unsupported. */
static void client_remote_read_samples_type(void)
{
    char *b2 = reply("200 OK", "Content-Type: application/json\r\n", BUILDINFO("2.42.0"));
    char *pb = reply("200 OK", "Content-Type: application/x-protobuf\r\n", "");
    struct fake_reply replies[] = {{b2, 0}, {pb, 0}};
    struct prom_error err;
    bool usable = true;
    EXPECT_INT(remote_once(replies, 2, &err, &usable, true), -1);
    EXPECT(!usable);
    EXPECT_CONTAINS(err.msg, "application/x-protobuf");
    free(b2);
    free(pb);
}

/* A frame whose CRC does not match: this read fails, remote read stays usable (the SLO's
 * fill goes to query_range; the next fill tries again). An empty stream is no series. */
static void client_remote_read_bad_frame(void)
{
    char *b2 = reply("200 OK", "Content-Type: application/json\r\n", BUILDINFO("2.42.0"));
    const char *ct = "Content-Type: application/x-streamed-protobuf; "
                     "proto=prometheus.ChunkedReadResponse\r\n";
    char *bad = reply("200 OK", ct, "\x02\x01\x02\x03\x04\x10\x01");
    char *empty = reply("200 OK", ct, "");
    struct fake_reply replies[] = {{b2, 0}, {bad, 0}};
    struct prom_error err;
    bool usable = false;
    EXPECT_INT(remote_once(replies, 2, &err, &usable, false), -1);
    EXPECT(usable);
    EXPECT_CONTAINS(err.msg, "CRC");
    struct fake_reply replies2[] = {{b2, 0}, {empty, 0}};
    EXPECT_INT(remote_once(replies2, 2, &err, &usable, false), 0);
    EXPECT(usable);
    free(b2);
    free(bad);
    free(empty);
}

static void client_config_errors(void)
{
    char *empty = write_temp("\n");
    char *two_lines = write_temp("a\nb\n");
    const char *bad_header[] = {"X-Scope-OrgID"}, *crlf_header[] = {"X-A:b\r\nX-B:c"},
               *space_header[] = {"X A:b"};
    static const struct {
        struct prom_config cfg;
        const char *want;
    } cases[] = {
        {{.url = NULL}, "--prometheus.url must start with http:// or https://"},
        {{.url = "localhost:9090"}, "--prometheus.url must start with http:// or https://"},
        {{.url = "ftp://x"}, "--prometheus.url must start with http:// or https://"},
        {{.url = "http://"}, "--prometheus.url is not a valid URL"},
        {{.url = "http://a b"}, "--prometheus.url is not a valid URL"},
        {{.url = "http://h", .timeout_ms = -1}, "--prometheus.timeout"},
        {{.url = "http://h", .bearer_token_file = "/nonexistent/token"},
         "cannot read --prometheus.bearer-token-file /nonexistent/token: No such file"},
        {{.url = "http://h", .basic_auth_user = "u", .basic_auth_password_file = "/nope"},
         "cannot read --prometheus.basic-auth-password-file /nope"},
        {{.url = "http://h", .basic_auth_password_file = "/nope"},
         "needs --prometheus.basic-auth-user"},
        {{.url = "http://h", .bearer_token_file = "/t", .basic_auth_user = "u"},
         "exclude each other"},
        {{.url = "http://h", .ca_file = "/nonexistent/ca.pem"},
         "cannot read --prometheus.ca-file /nonexistent/ca.pem"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prom_error err;
        struct prom_client *c = prom_client_new(&cases[i].cfg, &err);
        EXPECT(c == NULL);
        EXPECT_INT(err.kind, PROM_ERR_CONFIG);
        EXPECT_CONTAINS(err.msg, cases[i].want);
        prom_client_free(c);
    }
    struct prom_config cfg = {.url = "http://h", .headers = bad_header, .n_headers = 1};
    struct prom_error err;
    EXPECT(prom_client_new(&cfg, &err) == NULL);
    EXPECT_CONTAINS(err.msg, "--prometheus.header \"X-Scope-OrgID\" is not NAME:VALUE");
    cfg.headers = crlf_header;
    EXPECT(prom_client_new(&cfg, &err) == NULL);
    cfg.headers = space_header;
    EXPECT(prom_client_new(&cfg, &err) == NULL);
    cfg = (struct prom_config){.url = "http://h", .bearer_token_file = empty};
    EXPECT(prom_client_new(&cfg, &err) == NULL);
    EXPECT_CONTAINS(err.msg, ": empty");
    cfg.bearer_token_file = two_lines;
    EXPECT(prom_client_new(&cfg, &err) == NULL);
    EXPECT_CONTAINS(err.msg, "more than one line");
    EXPECT(strstr(err.msg, "a\nb") == NULL);
    /* Good ones. */
    cfg = (struct prom_config){.url = "HTTPS://Example.com:9443/prom/", .timeout_ms = 1};
    struct prom_client *c = prom_client_new(&cfg, &err);
    EXPECT(c != NULL);
    prom_client_free(c);
    prom_client_free(NULL);
    unlink(empty);
    unlink(two_lines);
    free(empty);
    free(two_lines);
}

const struct harness_test suite_prom[] = {
    {"decode_vector", decode_vector},
    {"decode_matrix", decode_matrix},
    {"decode_scalar", decode_scalar},
    {"decode_warnings_and_stats", decode_warnings_and_stats},
    {"decode_partial", decode_partial},
    {"decode_error_body", decode_error_body},
    {"decode_http_errors", decode_http_errors},
    {"decode_malformed", decode_malformed},
    {"decode_refused_results", decode_refused_results},
    {"decode_label_cap", decode_label_cap},
    {"error_reasons", error_reasons},
    {"client_instant", client_instant},
    {"client_range_and_stats", client_range_and_stats},
    {"client_bearer_token", client_bearer_token},
    {"client_basic_auth", client_basic_auth},
    {"client_url_credentials_hidden", client_url_credentials_hidden},
    {"client_gzip", client_gzip},
    {"client_html_502", client_html_502},
    {"client_body_cap", client_body_cap},
    {"client_timeout", client_timeout},
    {"client_connection_refused", client_connection_refused},
    {"client_config_errors", client_config_errors},
    {"client_remote_read_not_prometheus2", client_remote_read_not_prometheus2},
    {"client_remote_read_404", client_remote_read_404},
    {"client_remote_read_samples_type", client_remote_read_samples_type},
    {"client_remote_read_bad_frame", client_remote_read_bad_frame},
    HARNESS_END,
};
