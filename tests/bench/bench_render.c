/* bench_render: how long building and rendering /metrics takes for many SLOs (best of 5),
 * and how many bytes each series costs, in every format. Prints figures; asserts nothing.
 *
 *   bench_render [--distinct] [--dump DIR] [N_SLOS]        (default 10000)
 *
 * By default the SLOs' traffic follows a few patterns, so that many values repeat; with
 * --distinct each SLO has traffic of its own, like a real fleet, and nearly every ratio is a
 * value of its own (most of them need 17 digits).
 *
 * --dump writes each format's exposition to DIR/metrics.{txt,om,pb}, so that a change to the
 * writers can be checked to leave the output byte for byte the same (compare checksums). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval.h"
#include "expo.h"
#include "expo_om.h"
#include "expo_pb.h"
#include "negotiate.h"
#include "rules.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Renders the set in a format (0 text, 1 OpenMetrics, 2 protobuf) as the daemon does. */
static char *bench_render_once(const struct expo_set *e, int fmt, size_t *len)
{
    return fmt == 0   ? expo_render_text(e, len)
           : fmt == 1 ? expo_om_render(e, len)
                      : expo_pb_render(e, len);
}

/* Renders the set 5 times and returns the best time in seconds and the size. */
static double bench_render(const struct expo_set *e, int fmt, size_t *size)
{
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        size_t len = 0;
        double t0 = bench_now();
        char *buf = bench_render_once(e, fmt, &len);
        double took = bench_now() - t0;
        if (took < best)
            best = took;
        *size = len;
        free(buf);
    }
    return best;
}

/* Writes len bytes of buf to dir/name; returns 0 or -1 (with a message). */
static int bench_dump(const char *dir, const char *name, const char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dump = NULL;
    bool distinct = false;
    int arg = 1;
    for (;;) {
        if (argc > arg && strcmp(argv[arg], "--distinct") == 0) {
            distinct = true;
            arg++;
        } else if (argc > arg + 1 && strcmp(argv[arg], "--dump") == 0) {
            dump = argv[arg + 1];
            arg += 2;
        } else {
            break;
        }
    }
    size_t n = argc > arg ? (size_t)atol(argv[arg]) : 10000;
    if (n == 0 || n > 10000 || argc > arg + 1) {
        fprintf(stderr, "usage: bench_render [--distinct] [--dump DIR] [N_SLOS <= 10000]\n");
        return 2;
    }
    /* Services of 100 SLOs each, with labels like a real rule set's. */
    char *yaml = NULL;
    size_t ylen = 0;
    FILE *y = open_memstream(&yaml, &ylen);
    fprintf(y, "version: sloe/v1\nservices:\n");
    for (size_t i = 0; i < n; i++) {
        if (i % 100 == 0)
            fprintf(y,
                    "  - name: service-%zu\n    labels: {team: team-%zu, tier: \"1\"}\n"
                    "    slos:\n",
                    i / 100, i / 1000);
        fprintf(y,
                "      - name: slo-%zu\n        description: Requests of route %zu that do not "
                "fail\n        objective: 99.9\n        warning: 99.7\n        minimum: 99.5\n"
                "        sli: {events: {bad_query: 'sum(increase(e{r=\"%zu\"}[{{.window}}]))', "
                "total_query: 'sum(increase(t{r=\"%zu\"}[{{.window}}]))'}}\n",
                i, i, i, i);
    }
    fclose(y);
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    double t0 = bench_now();
    if (rules_load_buffer("bench.yaml", yaml, ylen, &set, &diags) != 0) {
        diag_print(&diags, stderr);
        return 1;
    }
    double load = bench_now() - t0;
    diag_free(&diags);
    free(yaml);

    /* A day of 1-minute traffic in every instance's history. */
    int64_t now = 1795435200;
    struct eval_state *s = eval_new(set, NULL);
    for (size_t i = 0; i < s->n_inst; i++)
        for (int64_t t = now - 6 * 3600 + 60; t <= now; t += 60) {
            double bad = (double)((t / 60 + i) % 7 == 0), total = 1000;
            if (distinct) {
                bad *= (double)(1 + i % 5);
                total += (double)i;
            }
            history_put(s->inst[i]->hist, 0, t, bad, total);
        }
    t0 = bench_now();
    eval_compute_all(s, now);
    double compute = bench_now() - t0;
    /* Built 5 times like the renders, the best time kept: the daemon builds the set once per
     * evaluation, and a single build's time varies with the machine more than the code. */
    struct expo_set *e = NULL;
    double build = 1e9;
    for (int round = 0; round < 5; round++) {
        expo_free(e);
        t0 = bench_now();
        e = expo_build(s, now);
        double took = bench_now() - t0;
        if (took < build)
            build = took;
    }
    size_t series = 0;
    for (size_t i = 0; i < e->n; i++)
        series += e->families[i].n;

    printf("bench_render: %zu SLOs, %zu series\n", n, series);
    printf("  load rules          %8.1f ms\n", load * 1e3);
    printf("  compute results     %8.1f ms\n", compute * 1e3);
    printf("  build families      %8.1f ms\n", build * 1e3);
    static const char *const names[] = {"text 0.0.4", "OpenMetrics", "protobuf"};
    static const char *const files[] = {"metrics.txt", "metrics.om", "metrics.pb"};
    for (int fmt = 0; fmt < 3; fmt++) {
        size_t size = 0;
        double took = bench_render(e, fmt, &size);
        size_t len = 0;
        char *buf = bench_render_once(e, fmt, &len);
        if (dump != NULL && bench_dump(dump, files[fmt], buf, len) != 0)
            return 1;
        void *gz = NULL;
        size_t gz_len = 0;
        double g0 = bench_now();
        if (negot_gzip_compress(buf, len, &gz, &gz_len) != 0)
            gz_len = 0;
        double gz_took = bench_now() - g0;
        printf("  render %-12s %8.1f ms  %9zu bytes  %6.1f bytes/series  gzip %6.1f ms "
               "%5.1f bytes/series\n",
               names[fmt], took * 1e3, size, (double)size / (double)series, gz_took * 1e3,
               (double)gz_len / (double)series);
        free(gz);
        free(buf);
    }
    printf("  /metrics for %zu SLOs: build + text render %.1f ms (rendered once per evaluation, "
           "then served from memory)\n",
           n, (build + bench_render(e, 0, &(size_t){0})) * 1e3);
    expo_free(e);
    eval_free(s);
    rules_set_free(set);
    return 0;
}
