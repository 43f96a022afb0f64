/* evaldriver: runs the evaluator cycle by cycle for integration tests, so that a test can
 * step time, stop Prometheus between cycles and see the steady-state data path.
 *
 *   evaldriver --prometheus.url=URL [--timeout-ms=MS] [--stats] --rules=FILE [--rules=FILE...]
 *
 * Reads commands on stdin: "eval T" evaluates at unix time T and prints the results as one
 * line of JSON (as sloe eval --format=json), followed by one line of the query counts by
 * result; "quit" ends. With --stats the queries ask Prometheus for query statistics, and the
 * second line also holds the samples Prometheus touched in the cycle (its
 * totalQueryableSamples summed over the cycle's queries, -1 when unknown) and the cycle's
 * wall time in seconds: what the scale benchmark reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "eval.h"
#include "expo.h"
#include "prom.h"
#include "rules.h"

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *files[64];
    size_t n = 0;
    struct prom_config cfg = {.url = "http://127.0.0.1:9090", .timeout_ms = 5000};
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--prometheus.url=", 17) == 0)
            cfg.url = argv[i] + 17;
        else if (strncmp(argv[i], "--timeout-ms=", 13) == 0)
            cfg.timeout_ms = strtoll(argv[i] + 13, NULL, 10);
        else if (strcmp(argv[i], "--stats") == 0)
            cfg.stats = true;
        else if (strncmp(argv[i], "--rules=", 8) == 0 && n < 64)
            files[n++] = argv[i] + 8;
        else {
            fprintf(stderr, "evaldriver: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (rules_load_files(files, n, &set, &diags) != 0) {
        diag_print(&diags, stderr);
        return 2;
    }
    diag_free(&diags);
    struct prom_error err;
    struct prom_client *prom = prom_client_new(&cfg, &err);
    if (prom == NULL) {
        fprintf(stderr, "evaldriver: %s\n", err.msg);
        return 2;
    }
    struct eval_state *s = eval_new(set, prom);
    char line[256];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        long long t;
        if (sscanf(line, "eval %lld", &t) == 1) {
            double t0 = mono_seconds();
            int failed = eval_cycle(s, (int64_t)t);
            double took = mono_seconds() - t0;
            expo_write_json(s, stdout, true);
            printf("{\"failed\": %d, \"queries\": {", failed);
            for (int k = 0; k < 8; k++)
                printf("%s\"%s\": %llu", k ? ", " : "", prom_error_reason((enum prom_error_kind)k),
                       (unsigned long long)s->stats.queries[k]);
            printf("}");
            if (cfg.stats)
                printf(", \"samples\": %lld, \"seconds\": %.6f", (long long)s->stats.samples, took);
            printf("}\n");
            fflush(stdout);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    eval_free(s);
    prom_client_free(prom);
    rules_set_free(set);
    return 0;
}
