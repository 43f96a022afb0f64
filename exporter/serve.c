#include "serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"
#include "eval.h"
#include "expo.h"
#include "expo_om.h"
#include "expo_pb.h"
#include "log.h"
#include "negotiate.h"
#include "page.h"
#include "rules.h"
#include "webcfg.h"

enum { SERVE_FORMATS = 3 };

/* A response body, kept gzipped: a client that takes gzip gets it as it is, any other gets
 * it inflated as it is sent. At 10,000 SLOs the text of /metrics is 38 MB and its gzip
 * 3.3 MB; /api/v1/slos 22 MB and 3.4 MB. A body is compressed as it is written, never held
 * whole uncompressed. */
struct serve_body {
    void *gz; /* NULL when it could not be made */
    size_t gz_len, len;
    bool made;
};

/* An immutable picture of the latest evaluation, shared by the requests that read it. */
struct serve_snap {
    atomic_int refs;
    struct expo_set *expo;
    struct serve_body json, html;
    pthread_mutex_t lock; /* guards the lazily made renderings of the metrics */
    struct serve_body metrics[SERVE_FORMATS];
};

/* Self-metrics kept across reloads. */
struct serve_counters {
    uint64_t evaluations[2]; /* success, failure */
    uint64_t queries[8];     /* by prom_error_kind */
    uint64_t query_buckets[EVAL_QUERY_BUCKETS + 1];
    double query_seconds;
    uint64_t eval_buckets[EVAL_QUERY_BUCKETS + 1];
    double eval_seconds;
    uint64_t eval_count;
};

/* web-config's rate_limit: a token bucket shared by every request. It starts full with burst
 * tokens and gains one each interval; a request without a token gets 429. */
struct serve_limit {
    pthread_mutex_t lock;
    bool on;
    double interval, burst; /* seconds a token takes; the most tokens kept */
    double tokens, last;    /* tokens at monotonic time last */
};

struct serve {
    const struct serve_config *cfg;
    struct webcfg *web;
    struct serve_limit limit;
    struct MHD_Daemon *mhd;
    pthread_t eval_thread;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    pthread_cond_t swapped; /* broadcast when a new snapshot is in */
    struct serve_snap *snap;
    struct rules_set *pending; /* validated rules waiting for the evaluation thread */
    bool stop, ready;
    bool refresh;                /* remake the snapshot (self-metrics changed) without evaluating */
    double reload_ok, reload_ts; /* the last reload's outcome, for the self-metrics */

    /* Owned by the evaluation thread. */
    struct rules_set *rules;
    struct prom_client *prom;
    struct eval_state *eval;
    uint64_t seen_queries[8], seen_buckets[EVAL_QUERY_BUCKETS + 1];
    double seen_query_seconds;
    char last_errors[256]; /* a digest of the failing SLOs, to log each change once */
    struct serve_counters c;
    pthread_mutex_t reload_lock; /* one reload at a time */
    double start_time;
};

static double serve_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double serve_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- snapshots ---- */

static void serve_snap_release(struct serve_snap *sn)
{
    if (sn == NULL || atomic_fetch_sub(&sn->refs, 1) != 1)
        return;
    expo_free(sn->expo);
    free(sn->json.gz);
    free(sn->html.gz);
    for (int i = 0; i < SERVE_FORMATS; i++)
        free(sn->metrics[i].gz);
    pthread_mutex_destroy(&sn->lock);
    free(sn);
}

/* Takes a reference to the current snapshot (NULL before the first evaluation). */
static struct serve_snap *serve_snap_get(struct serve *sv)
{
    pthread_mutex_lock(&sv->lock);
    struct serve_snap *sn = sv->snap;
    if (sn != NULL)
        atomic_fetch_add(&sn->refs, 1);
    pthread_mutex_unlock(&sv->lock);
    return sn;
}

/* Frees the metric set of the current snapshot, which is about to be replaced: the new set is
 * built next, and at 10,000 SLOs a set is 29 MB. The bodies made from it stay; a request for
 * a format not made yet waits for the next snapshot (serve_snap_next). */
static void serve_snap_retire(struct serve *sv)
{
    struct serve_snap *sn = serve_snap_get(sv);
    if (sn == NULL)
        return;
    pthread_mutex_lock(&sn->lock);
    expo_free(sn->expo);
    sn->expo = NULL;
    pthread_mutex_unlock(&sn->lock);
    serve_snap_release(sn);
}

/* Releases sn and takes a reference to the snapshot that replaces it, waiting up to 10 s
 * for it; NULL when none comes (sloe is stopping). */
static struct serve_snap *serve_snap_next(struct serve *sv, struct serve_snap *sn)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&sv->lock);
    while (sv->snap == sn && !sv->stop)
        if (pthread_cond_timedwait(&sv->swapped, &sv->lock, &deadline) == ETIMEDOUT)
            break;
    struct serve_snap *next = sv->snap != sn ? sv->snap : NULL;
    if (next != NULL)
        atomic_fetch_add(&next->refs, 1);
    pthread_mutex_unlock(&sv->lock);
    serve_snap_release(sn);
    return next;
}

/* Ends a body written into gz (NULL when the stream could not start). */
static void serve_body_finish(struct serve_body *b, struct negot_gz *gz)
{
    b->made = true;
    if (gz != NULL && negot_gz_finish(gz, &b->gz, &b->gz_len, &b->len) != 0)
        log_msg(LOG_ERROR, "could not compress a response body", NULL);
}

/* The snapshot's metrics in one format, rendered on first use; NULL when that format was not
 * made before the snapshot was retired (the next one is on its way). */
static const struct serve_body *serve_snap_metrics(struct serve_snap *sn, enum negot_format fmt)
{
    pthread_mutex_lock(&sn->lock);
    struct serve_body *b = &sn->metrics[fmt];
    if (!b->made && sn->expo == NULL) {
        b = NULL; /* retired: see serve_snap_retire */
    } else if (!b->made) {
        struct negot_gz *gz = negot_gz_new();
        if (gz != NULL) {
            FILE *f = negot_gz_file(gz);
            /* A failed write fails the stream too, which negot_gz_finish reports. */
            if (fmt == NEGOT_OPENMETRICS) {
                expo_om_write(sn->expo, f);
            } else if (fmt == NEGOT_TEXT) {
                expo_write_text(sn->expo, f);
            } else {
                int failed = expo_pb_write(sn->expo, f);
                (void)failed;
            }
        }
        serve_body_finish(b, gz);
    }
    pthread_mutex_unlock(&sn->lock);
    return b;
}

/* ---- self-metrics ---- */

static void serve_counter(struct expo_set *e, const char *name, const char *help, const char *label,
                          const char *value, double v)
{
    struct expo_family *f = expo_family(e, name, EXPO_COUNTER, help);
    struct expo_label l = {label, value};
    expo_add(e, f, &l, label ? 1 : 0, NULL, NULL, v);
}

static void serve_gauge(struct expo_set *e, const char *name, const char *help, double v)
{
    expo_add(e, expo_family(e, name, EXPO_GAUGE, help), NULL, 0, NULL, NULL, v);
}

static void serve_histogram(struct expo_set *e, const char *name, const char *help,
                            const uint64_t *buckets, double sum)
{
    double bounds[EVAL_QUERY_BUCKETS + 1];
    uint64_t cum[EVAL_QUERY_BUCKETS + 1], total = 0;
    for (int i = 0; i <= EVAL_QUERY_BUCKETS; i++) {
        bounds[i] = i < EVAL_QUERY_BUCKETS ? eval_query_bounds[i] : INFINITY;
        total += buckets[i];
        cum[i] = total;
    }
    struct expo_family *f = expo_family(e, name, EXPO_HISTOGRAM, help);
    expo_add_histogram(e, f, NULL, 0, bounds, cum, EVAL_QUERY_BUCKETS + 1, sum, total);
}

static double serve_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    double n = 0;
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d))
        n += de->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

static void serve_self_metrics(struct serve *sv, struct expo_set *e)
{
    const struct serve_counters *c = &sv->c;
    struct expo_label bi[2] = {{"version", SLOE_VERSION}, {"revision", SLOE_REVISION}};
    expo_add(e, expo_family(e, "sloe_build", EXPO_INFO, "sloe's version and build revision."), bi,
             2, NULL, NULL, 1);
    serve_histogram(e, "sloe_evaluation_duration_seconds", "Time taken by evaluation cycles.",
                    c->eval_buckets, c->eval_seconds);
    serve_counter(e, "sloe_evaluations", "Evaluation cycles, by result.", "result", "success",
                  (double)c->evaluations[0]);
    serve_counter(e, "sloe_evaluations", "Evaluation cycles, by result.", "result", "failure",
                  (double)c->evaluations[1]);
    for (int k = 0; k < 8; k++)
        serve_counter(e, "sloe_queries", "Queries sent to Prometheus, by result.", "result",
                      prom_error_reason((enum prom_error_kind)k), (double)c->queries[k]);
    serve_histogram(e, "sloe_query_duration_seconds", "Time taken by queries to Prometheus.",
                    c->query_buckets, c->query_seconds);
    serve_gauge(e, "sloe_slos", "SLOs loaded from the rule files.",
                sv->rules ? (double)sv->rules->n_slos : 0);
    serve_gauge(e, "sloe_slo_instances", "SLO instances evaluated (an SLO per group_by value).",
                sv->eval ? (double)sv->eval->n_inst : 0);
    pthread_mutex_lock(&sv->lock);
    double reload_ok = sv->reload_ok, reload_ts = sv->reload_ts;
    pthread_mutex_unlock(&sv->lock);
    serve_gauge(e, "sloe_config_last_reload_successful",
                "1 when the last reload of the rule files succeeded.", reload_ok);
    serve_gauge(e, "sloe_config_last_reload_success_timestamp_seconds",
                "When the rule files were last loaded successfully.", reload_ts);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    serve_counter(e, "process_cpu_seconds", "User and system CPU time spent, in seconds.", NULL,
                  NULL,
                  (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    long pages_total = 0, pages_rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2)
            pages_total = pages_rss = 0;
        fclose(f);
    }
    double page = (double)sysconf(_SC_PAGESIZE);
    serve_gauge(e, "process_resident_memory_bytes", "Resident memory size in bytes.",
                (double)pages_rss * page);
    serve_gauge(e, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                (double)pages_total * page);
    serve_gauge(e, "process_open_fds", "Open file descriptors.", serve_open_fds());
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    serve_gauge(e, "process_max_fds", "Limit on open file descriptors.", (double)rl.rlim_cur);
    serve_gauge(e, "process_start_time_seconds", "Start time of the process, unix seconds.",
                sv->start_time);
}

/* ---- evaluation thread ---- */

static struct rules_set *serve_load(const struct serve_config *cfg, char **why)
{
    struct diag_list diags = {0};
    char **files = NULL;
    size_t n_files = 0;
    struct rules_set *set = NULL;
    if (rules_expand_paths(cfg->rules, cfg->n_rules, &files, &n_files, &diags) != 0 ||
        rules_load_files((const char *const *)files, n_files, &set, &diags) != 0)
        set = NULL;
    if (why != NULL) {
        size_t len = 0;
        FILE *f = open_memstream(why, &len);
        diag_print(&diags, f);
        fclose(f);
    }
    rules_paths_free(files, n_files);
    diag_free(&diags);
    return set;
}

/* Logs the failing SLOs when the set of failures changes, not every cycle; and each remote
 * read that failed in a history fill (the fill went on by query_range), once. */
static void serve_log_failures(struct serve *sv)
{
    for (size_t i = 0; i < sv->rules->n_slos; i++) {
        struct eval_slo *es = &sv->eval->slos[i];
        if (es->remote_error[0] == '\0')
            continue;
        log_msg(LOG_INFO, "remote read not used for this fill; query_range instead", "service",
                sv->rules->slos[i]->service->name, "slo", sv->rules->slos[i]->name, "err",
                es->remote_error, NULL);
        es->remote_error[0] = '\0';
    }
    char digest[256] = "";
    size_t failing = 0;
    for (size_t i = 0; i < sv->rules->n_slos; i++) {
        if (sv->eval->slos[i].ok)
            continue;
        failing++;
        size_t len = strlen(digest);
        snprintf(digest + len, sizeof(digest) - len, "%zu:%.20s;", i, sv->eval->slos[i].error);
    }
    if (strcmp(digest, sv->last_errors) == 0)
        return;
    snprintf(sv->last_errors, sizeof(sv->last_errors), "%s", digest);
    if (failing == 0) {
        log_msg(LOG_INFO, "all SLOs evaluated again", NULL);
        return;
    }
    for (size_t i = 0; i < sv->rules->n_slos; i++)
        if (!sv->eval->slos[i].ok)
            log_msg(LOG_ERROR, "evaluation failed; keeping the last values (slo_data_ok 0)",
                    "service", sv->rules->slos[i]->service->name, "slo", sv->rules->slos[i]->name,
                    "err", sv->eval->slos[i].error, NULL);
}

/* Builds a snapshot of the current state at now and swaps it in. */
static void serve_snapshot(struct serve *sv, int64_t now);

/* Gives freed heap memory back to the system. A cycle frees the previous snapshot (at 10,000
 * SLOs its renderings, JSON and page weigh well over 100 MB) and the start-up fill its query
 * buffers; glibc keeps such memory in its heap, so the resident size would stay at the
 * highest it ever was. */
static void serve_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void serve_cycle(struct serve *sv)
{
    double t0 = serve_mono();
    int64_t now = (int64_t)serve_wall();
    int failed = eval_cycle(sv->eval, now);
    double took = serve_mono() - t0;
    struct serve_counters *c = &sv->c;
    c->evaluations[failed ? 1 : 0]++;
    c->eval_seconds += took;
    c->eval_count++;
    size_t b = 0;
    while (b < EVAL_QUERY_BUCKETS && took > eval_query_bounds[b])
        b++;
    c->eval_buckets[b]++;
    const struct eval_stats *st = &sv->eval->stats;
    for (int k = 0; k < 8; k++) {
        c->queries[k] += st->queries[k] - sv->seen_queries[k];
        sv->seen_queries[k] = st->queries[k];
    }
    for (int k = 0; k <= EVAL_QUERY_BUCKETS; k++) {
        c->query_buckets[k] += st->query_buckets[k] - sv->seen_buckets[k];
        sv->seen_buckets[k] = st->query_buckets[k];
    }
    c->query_seconds += st->query_seconds - sv->seen_query_seconds;
    sv->seen_query_seconds = st->query_seconds;
    serve_log_failures(sv);
    serve_snapshot(sv, now);
    char secs[32], n[32];
    snprintf(secs, sizeof(secs), "%.3f", took);
    snprintf(n, sizeof(n), "%zu", sv->eval->n_inst);
    serve_trim();
    log_msg(LOG_DEBUG, "evaluation done", "instances", n, "failed_slos", failed ? "yes" : "no",
            "duration_seconds", secs, NULL);
}

static void serve_snapshot(struct serve *sv, int64_t now)
{
    struct serve_snap *sn = calloc(1, sizeof(*sn));
    if (sn == NULL)
        abort();
    atomic_init(&sn->refs, 1);
    pthread_mutex_init(&sn->lock, NULL);
    serve_snap_retire(sv);
    log_msg(LOG_DEBUG, "building the next snapshot", NULL);
    sn->expo = expo_build(sv->eval, now);
    serve_self_metrics(sv, sn->expo);
    struct negot_gz *gz = negot_gz_new();
    if (gz != NULL)
        expo_write_json(sv->eval, negot_gz_file(gz), false);
    serve_body_finish(&sn->json, gz);
    gz = negot_gz_new();
    if (gz != NULL)
        page_write(sv->eval, now, SLOE_VERSION, negot_gz_file(gz));
    serve_body_finish(&sn->html, gz);

    pthread_mutex_lock(&sv->lock);
    struct serve_snap *old = sv->snap;
    sv->snap = sn;
    sv->ready = true;
    pthread_cond_broadcast(&sv->swapped);
    pthread_mutex_unlock(&sv->lock);
    serve_snap_release(old);
}

/* Starts over with a new rule set: a new evaluation state that fills its history afresh. */
static void serve_adopt(struct serve *sv, struct rules_set *set)
{
    eval_free(sv->eval);
    rules_set_free(sv->rules);
    sv->rules = set;
    sv->eval = eval_new(set, sv->prom);
    eval_set_shard(sv->eval, sv->cfg->shard_index, sv->cfg->shard_count);
    memset(sv->seen_queries, 0, sizeof(sv->seen_queries));
    memset(sv->seen_buckets, 0, sizeof(sv->seen_buckets));
    sv->seen_query_seconds = 0;
    sv->last_errors[0] = '\0';
}

static void *serve_eval_main(void *arg)
{
    struct serve *sv = arg;
    struct timespec next;
    clock_gettime(CLOCK_REALTIME, &next);
    for (;;) {
        pthread_mutex_lock(&sv->lock);
        struct rules_set *pending = sv->pending;
        sv->pending = NULL;
        bool stop = sv->stop;
        pthread_mutex_unlock(&sv->lock);
        if (stop) {
            rules_set_free(pending); /* a reload that came in with the stop */
            break;
        }
        if (pending != NULL)
            serve_adopt(sv, pending);
        serve_cycle(sv);
        int64_t ms = sv->cfg->interval_ms;
        next.tv_sec += ms / 1000;
        next.tv_nsec += (ms % 1000) * 1000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > next.tv_sec + 1)
            next = now; /* a cycle overran: start the next one now rather than catch up */
        pthread_mutex_lock(&sv->lock);
        while (!sv->stop && sv->pending == NULL) {
            if (sv->refresh) {
                /* A refused reload: show it in the self-metrics now. */
                sv->refresh = false;
                pthread_mutex_unlock(&sv->lock);
                serve_snapshot(sv, (int64_t)serve_wall());
                pthread_mutex_lock(&sv->lock);
                continue;
            }
            if (pthread_cond_timedwait(&sv->wake, &sv->lock, &next) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&sv->lock);
    }
    return NULL;
}

/* Loads and validates the rule files; on success hands them to the evaluation thread.
 * Returns 0, or -1 with the reason in *why (malloc'd) and the running set kept. */
static int serve_reload(struct serve *sv, char **why)
{
    pthread_mutex_lock(&sv->reload_lock);
    struct rules_set *set = serve_load(sv->cfg, why);
    int rc = 0;
    pthread_mutex_lock(&sv->lock);
    if (set == NULL) {
        sv->reload_ok = 0;
        sv->refresh = true; /* show the failure now, not at the next evaluation */
        rc = -1;
    } else {
        sv->reload_ok = 1;
        sv->reload_ts = serve_wall();
        rules_set_free(sv->pending);
        sv->pending = set;
    }
    pthread_cond_signal(&sv->wake);
    pthread_mutex_unlock(&sv->lock);
    if (set == NULL) {
        log_msg(LOG_ERROR, "reload failed; keeping the running rules", "err", *why, NULL);
    } else {
        char n[32];
        snprintf(n, sizeof(n), "%zu", set->n_slos);
        log_msg(LOG_INFO, "rules reloaded", "slos", n, NULL);
    }
    pthread_mutex_unlock(&sv->reload_lock);
    return rc;
}

/* ---- HTTP ---- */

/* Adds the web configuration's extra headers. */
static void serve_headers(struct serve *sv, struct MHD_Response *r)
{
    if (sv->web == NULL)
        return;
    size_t n = 0;
    const struct webcfg_header *h = webcfg_headers(sv->web, &n);
    for (size_t i = 0; i < n; i++)
        MHD_add_response_header(r, h[i].name, h[i].value);
}

static enum MHD_Result serve_send(struct MHD_Connection *conn, unsigned status, const char *type,
                                  const void *data, size_t len, struct serve_snap *hold,
                                  struct serve *sv)
{
    struct MHD_Response *r;
    if (hold != NULL)
        r = MHD_create_response_from_buffer_with_free_callback_cls(
            len, (void *)data, (MHD_ContentReaderFreeCallback)serve_snap_release, hold);
    else
        r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        serve_snap_release(hold);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    serve_headers(sv, r);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_text(struct MHD_Connection *conn, struct serve *sv, unsigned status,
                                  const char *text)
{
    return serve_send(conn, status, "text/plain; charset=utf-8", text, strlen(text), NULL, sv);
}

/* A plain response inflated from a snapshot's body as it is sent. */
struct serve_stream {
    struct serve_snap *sn;
    struct negot_gunzip *g;
};

static ssize_t serve_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct serve_stream *st = cls;
    (void)pos;
    long n = negot_gunzip_read(st->g, buf, max);
    return n > 0    ? (ssize_t)n
           : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                    : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void serve_stream_free(void *cls)
{
    struct serve_stream *st = cls;
    negot_gunzip_free(st->g);
    serve_snap_release(st->sn);
    free(st);
}

/* A response with body b of snapshot sn, whose reference it takes over (released when the
 * response is done, or here on failure): gzipped when accept_encoding takes gzip, else
 * inflated as it is sent. NULL when it cannot be made. */
static struct MHD_Response *serve_body_response(struct serve_snap *sn, const struct serve_body *b,
                                                const char *accept_encoding)
{
    struct MHD_Response *r = NULL;
    if (negot_gzip(accept_encoding)) {
        r = MHD_create_response_from_buffer_with_free_callback_cls(
            b->gz_len, b->gz, (MHD_ContentReaderFreeCallback)serve_snap_release, sn);
        if (r != NULL)
            MHD_add_response_header(r, "Content-Encoding", "gzip");
    } else {
        struct serve_stream *st = calloc(1, sizeof(*st));
        if (st == NULL)
            abort();
        st->sn = sn;
        st->g = negot_gunzip_new(b->gz, b->gz_len);
        if (st->g != NULL)
            r = MHD_create_response_from_callback(b->len, 64 * 1024, serve_stream_read, st,
                                                  serve_stream_free);
        if (r == NULL) {
            negot_gunzip_free(st->g);
            free(st);
        }
    }
    if (r == NULL)
        serve_snap_release(sn);
    return r;
}

/* What a body is, for its headers. */
enum serve_kind { SERVE_METRICS, SERVE_JSON, SERVE_HTML };

/* Answers with body b of snapshot sn (taking over the reference) and its headers; type is
 * its Content-Type. */
static enum MHD_Result serve_body_send(struct MHD_Connection *conn, struct serve *sv,
                                       struct serve_snap *sn, const struct serve_body *b,
                                       enum serve_kind kind, const char *type)
{
    if (b->gz == NULL) {
        serve_snap_release(sn);
        return serve_text(conn, sv, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "the response could not be compressed; see the log\n");
    }
    const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
    struct MHD_Response *r = serve_body_response(sn, b, enc);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Vary",
                            kind == SERVE_METRICS ? "Accept, Accept-Encoding" : "Accept-Encoding");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (kind == SERVE_HTML) {
        MHD_add_response_header(r, "Content-Security-Policy",
                                PAGE_CSP "; frame-ancestors 'none'; base-uri 'none'; "
                                         "form-action 'none'");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    serve_headers(sv, r);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_metrics(struct MHD_Connection *conn, struct serve *sv)
{
    struct serve_snap *sn = serve_snap_get(sv);
    if (sn == NULL)
        return serve_text(conn, sv, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the first evaluation has not finished yet\n");
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    enum negot_format fmt = negot_format(accept);
    const struct serve_body *b;
    while ((b = serve_snap_metrics(sn, fmt)) == NULL) {
        log_msg(LOG_DEBUG, "a scrape waits for the next snapshot", "format",
                negot_content_type(fmt), NULL);
        if ((sn = serve_snap_next(sv, sn)) == NULL)
            return serve_text(conn, sv, MHD_HTTP_SERVICE_UNAVAILABLE, "sloe is stopping\n");
    }
    return serve_body_send(conn, sv, sn, b, SERVE_METRICS, negot_content_type(fmt));
}

static enum MHD_Result serve_page(struct MHD_Connection *conn, struct serve *sv, bool json)
{
    struct serve_snap *sn = serve_snap_get(sv);
    if (sn == NULL)
        return serve_text(conn, sv, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the first evaluation has not finished yet\n");
    if (json)
        return serve_body_send(conn, sv, sn, &sn->json, SERVE_JSON, "application/json");
    return serve_body_send(conn, sv, sn, &sn->html, SERVE_HTML, "text/html; charset=utf-8");
}

/* Takes a token when one is there and returns 0; else returns the seconds until the next. */
static double serve_limit_take(struct serve_limit *l)
{
    pthread_mutex_lock(&l->lock);
    double now = serve_mono();
    l->tokens += (now - l->last) / l->interval;
    if (l->tokens > l->burst)
        l->tokens = l->burst;
    l->last = now;
    double wait = 0;
    if (l->tokens >= 1)
        l->tokens -= 1;
    else
        wait = (1 - l->tokens) * l->interval;
    pthread_mutex_unlock(&l->lock);
    return wait;
}

static enum MHD_Result serve_too_many(struct MHD_Connection *conn, struct serve *sv, double wait)
{
    static const char text[] = "too many requests: the web config's rate_limit is reached; "
                               "retry later\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    char retry[32];
    snprintf(retry, sizeof(retry), "%.0f", ceil(wait));
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Retry-After", retry);
    serve_headers(sv, r);
    enum MHD_Result ret = MHD_queue_response(conn, 429, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_size, void **con_cls)
{
    struct serve *sv = cls;
    (void)version;
    (void)upload_data;
    /* The first call only announces the request; bodies (none are wanted) are skipped. */
    if (*con_cls == NULL) {
        *con_cls = sv;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (sv->limit.on) {
        double wait = serve_limit_take(&sv->limit);
        if (wait > 0)
            return serve_too_many(conn, sv, wait);
    }
    if (sv->web != NULL && webcfg_tls_enabled(sv->web) &&
        webcfg_client_auth(sv->web) != WEBCFG_CLIENT_AUTH_NONE) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        char why[256];
        if (ci == NULL || webcfg_verify_session(sv->web, (gnutls_session_t)ci->tls_session, why,
                                                sizeof(why)) != 0) {
            log_msg(LOG_DEBUG, "client certificate refused", "err", ci ? why : "no TLS session",
                    NULL);
            return serve_text(conn, sv, MHD_HTTP_FORBIDDEN, "client certificate refused\n");
        }
    }
    if (sv->web != NULL && webcfg_auth_required(sv->web)) {
        const char *auth =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!webcfg_check_basic(sv->web, auth)) {
            struct MHD_Response *r = MHD_create_response_from_buffer(13, (void *)"Unauthorized\n",
                                                                     MHD_RESPMEM_PERSISTENT);
            MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"sloe\"");
            MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
            enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
            MHD_destroy_response(r);
            return ret;
        }
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    if (strcmp(url, "/-/reload") == 0) {
        if (!post)
            return serve_text(conn, sv, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "reload with POST /-/reload\n");
        char *why = NULL;
        int rc = serve_reload(sv, &why);
        enum MHD_Result ret =
            rc == 0 ? serve_text(conn, sv, MHD_HTTP_OK, "rules reloaded\n")
                    : serve_text(conn, sv, MHD_HTTP_BAD_REQUEST, why ? why : "reload failed\n");
        free(why);
        return ret;
    }
    if (!get)
        return serve_text(conn, sv, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(conn, sv);
    if (strcmp(url, "/-/healthy") == 0)
        return serve_text(conn, sv, MHD_HTTP_OK, "sloe is healthy\n");
    if (strcmp(url, "/-/ready") == 0) {
        pthread_mutex_lock(&sv->lock);
        bool ready = sv->ready;
        pthread_mutex_unlock(&sv->lock);
        return ready ? serve_text(conn, sv, MHD_HTTP_OK, "sloe is ready\n")
                     : serve_text(conn, sv, MHD_HTTP_SERVICE_UNAVAILABLE,
                                  "the first evaluation has not finished yet\n");
    }
    if (strcmp(url, "/api/v1/slos") == 0)
        return serve_page(conn, sv, true);
    if (strcmp(url, "/") == 0)
        return serve_page(conn, sv, false);
    return serve_text(conn, sv, MHD_HTTP_NOT_FOUND,
                      "not found: sloe serves /, /metrics, /api/v1/slos, /-/healthy, /-/ready "
                      "and POST /-/reload\n");
}

static void serve_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    log_msg(LOG_DEBUG, "http", "detail", buf, NULL);
}

/* Parses "host:port", "[v6]:port" or ":port" into an address. Returns 0 or -1. */
static int serve_parse_listen(const char *s, struct sockaddr_storage *ss, bool *any)
{
    memset(ss, 0, sizeof(*ss));
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
        return -1;
    char host[128];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    *any = hl == 0;
    if (hl == 0 || strcmp(host, "[::]") == 0) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        a6->sin6_port = htons((uint16_t)port);
        *any = true;
        return 0;
    }
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -1;
    }
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
}

int serve_run(const struct serve_config *cfg)
{
    static struct serve sv; /* static: the signal-waiting main thread and MHD share it */
#ifdef __GLIBC__
    /* One malloc arena for every thread. With an arena per thread, the memory that reloads
     * and scrapes free on the server's threads stayed scattered over arenas: RSS crept up by
     * 1 MB in a 30-minute soak while the heap stayed flat (valgrind massif). With one arena it
     * stays flat (6,000 reloads: 11.9 MB throughout). */
    mallopt(M_ARENA_MAX, 1);
    /* Blocks of 256 KiB and more (a family's samples, a gzip body) are mapped and unmapped
     * on their own. glibc would otherwise raise this threshold to the largest block freed
     * and serve such blocks from the heap, where they fragment it: at 10,000 separate SLOs
     * the peak was 195 MB with that, 184 MB without. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    memset(&sv, 0, sizeof(sv));
    sv.cfg = cfg;
    sv.start_time = serve_wall();
    pthread_mutex_init(&sv.lock, NULL);
    pthread_mutex_init(&sv.reload_lock, NULL);
    pthread_mutex_init(&sv.limit.lock, NULL);
    pthread_cond_init(&sv.wake, NULL);
    pthread_cond_init(&sv.swapped, NULL);
    int rc = 1;

    /* Signals are taken by this thread alone, with sigwait; every other thread blocks them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char *why = NULL;
    struct rules_set *set = serve_load(cfg, &why);
    if (set == NULL) {
        log_msg(LOG_ERROR, "cannot load the rule files; fix them (sloe check shows every problem)",
                "err", why, NULL);
        free(why);
        return 1;
    }
    free(why);
    sv.reload_ok = 1;
    sv.reload_ts = serve_wall();
    if (cfg->web_config != NULL) {
        char err[512];
        if (webcfg_load(cfg->web_config, &sv.web, err, sizeof(err)) != 0) {
            log_msg(LOG_ERROR, "cannot use the web configuration", "file", cfg->web_config, "err",
                    err, NULL);
            rules_set_free(set);
            return 1;
        }
        int64_t interval_ms;
        unsigned burst;
        if (webcfg_rate_limit(sv.web, &interval_ms, &burst)) {
            sv.limit.on = true;
            sv.limit.interval = (double)interval_ms / 1000;
            sv.limit.burst = sv.limit.tokens = burst;
            sv.limit.last = serve_mono();
        }
    }
    struct prom_error perr;
    sv.prom = prom_client_new(&cfg->prom, &perr);
    if (sv.prom == NULL) {
        log_msg(LOG_ERROR, "bad Prometheus settings", "err", perr.msg, NULL);
        goto out;
    }
    sv.rules = set;
    set = NULL;
    sv.eval = eval_new(sv.rules, sv.prom);
    eval_set_shard(sv.eval, cfg->shard_index, cfg->shard_count);

    struct sockaddr_storage addr;
    bool any = false;
    if (serve_parse_listen(cfg->listen, &addr, &any) != 0) {
        log_msg(LOG_ERROR, "bad --web.listen-address: write host:port, [v6]:port or :port",
                "address", cfg->listen, NULL);
        goto out;
    }
    /* epoll on Linux: hundreds of idle connections must not crowd out a scrape. */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    if (sv.web != NULL && webcfg_tls_enabled(sv.web))
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[16];
    int k = 0;
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, 4, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 1000, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 15, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)serve_mhd_log, NULL};
    if (flags & MHD_USE_TLS) {
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                            (void *)webcfg_tls_cert_pem(sv.web)};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                            (void *)webcfg_tls_key_pem(sv.web)};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)webcfg_tls_priorities(sv.web)};
        if (webcfg_tls_ca_pem(sv.web) != NULL)
            opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
                                                (void *)webcfg_tls_ca_pem(sv.web)};
    }
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    sv.mhd = MHD_start_daemon(flags, 0, NULL, NULL, serve_handler, &sv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (sv.mhd == NULL) {
        log_msg(LOG_ERROR, "cannot listen (address in use, or TLS settings refused?)", "address",
                cfg->listen, NULL);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv.mhd, MHD_DAEMON_INFO_BIND_PORT);
    char port[16];
    snprintf(port, sizeof(port), "%u", di ? (unsigned)di->port : 0);
    char n[32];
    snprintf(n, sizeof(n), "%zu", sv.rules->n_slos);
    log_msg(LOG_INFO, "sloe started", "version", SLOE_VERSION, "address", cfg->listen, "port", port,
            "tls", (flags & MHD_USE_TLS) ? "on" : "off", "slos", n, NULL);
    if (pthread_create(&sv.eval_thread, NULL, serve_eval_main, &sv) != 0) {
        log_msg(LOG_ERROR, "cannot start the evaluation thread", NULL);
        goto out;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            char *reason = NULL;
            (void)serve_reload(&sv, &reason);
            free(reason);
            continue;
        }
        log_msg(LOG_INFO, "stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
        break;
    }
    MHD_stop_daemon(sv.mhd);
    sv.mhd = NULL;
    pthread_mutex_lock(&sv.lock);
    sv.stop = true;
    pthread_cond_signal(&sv.wake);
    pthread_cond_broadcast(&sv.swapped);
    pthread_mutex_unlock(&sv.lock);
    /* An evaluation in flight may wait on a slow Prometheus: give it a moment, then leave it
     * to the process exit rather than keep the caller waiting. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 700 * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(sv.eval_thread, NULL, &deadline) != 0) {
        log_msg(LOG_WARN, "an evaluation was still running at exit", NULL);
        return 0;
    }
    rc = 0;
out:
    if (sv.mhd != NULL)
        MHD_stop_daemon(sv.mhd);
    serve_snap_release(sv.snap);
    rules_set_free(sv.pending);
    eval_free(sv.eval);
    rules_set_free(sv.rules);
    rules_set_free(set);
    prom_client_free(sv.prom);
    webcfg_free(sv.web);
    return rc;
}
