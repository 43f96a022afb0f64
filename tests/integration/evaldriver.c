/* evaldriver: runs the evaluator cycle by cycle for integration tests, so that a test can
 * step time, stop Prometheus between cycles and see the steady-state data path.
 *
 *   evaldriver --prometheus.url=URL [--timeout-ms=MS] [--stats] [--remote-read=off]
 *              --rules=FILE [--rules=FILE...]
 *
 * Reads commands on stdin: "eval T" evaluates at unix time T and prints the results as one
 * line of JSON (as sloe eval --format=json), followed by one line of the query counts by
 * result and the range queries of fills answered by remote read (remote_reads) or that fell
 * back to query_range (remote_fallbacks); "quit" ends. --remote-read=off fills by
 * query_range only. "history" prints every instance's history, one line of JSON. With --stats the
 * queries ask Prometheus for query statistics, and the second line also holds the samples
 * Prometheus touched in the cycle (its totalQueryableSamples summed over the cycle's queries, -1
 * when unknown) and the cycle's wall time in seconds: what the scale benchmark reports. */
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

/* One line of JSON: per instance, each tier's known intervals as [end, bad, total], the
 * floats the history keeps (printed so that they read back exactly). */
static void print_histories(const struct eval_state *s)
{
    printf("[");
    for (size_t k = 0; k < s->n_inst; k++) {
        const struct eval_instance *in = s->inst[k];
        printf("%s{\"service\": \"%s\", \"slo\": \"%s\", \"key\": \"", k ? ", " : "",
               in->slo->service->name, in->slo->name);
        for (const char *p = in->key; *p; p++) {
            if (*p == '"' || *p == '\\')
                putchar('\\');
            putchar(*p == '\x1f' ? '|' : *p);
        }
        printf("\", \"tiers\": [");
        for (int ti = 0; ti < HISTORY_TIERS; ti++) {
            const struct history_tier *tr = &in->hist->tier[ti];
            printf("%s[", ti ? ", " : "");
            bool first = true;
            for (size_t j = tr->n; tr->newest != 0 && j-- > 0;) {
                int64_t t = tr->newest - (int64_t)j * tr->step;
                if (!history_known(in->hist, ti, t))
                    continue;
                size_t slot = (size_t)((t / tr->step) % (int64_t)tr->n); /* as history.c */
                printf("%s[%lld, %.9g, %.9g]", first ? "" : ", ", (long long)t,
                       (double)tr->bad[slot], (double)tr->total[slot]);
                first = false;
            }
            printf("]");
        }
        printf("]}");
    }
    printf("]\n");
    fflush(stdout);
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
        else if (strcmp(argv[i], "--remote-read=off") == 0)
            cfg.remote_read_off = true;
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
            printf("}, \"remote_reads\": %llu, \"remote_fallbacks\": %llu",
                   (unsigned long long)s->stats.remote_reads,
                   (unsigned long long)s->stats.remote_fallbacks);
            if (cfg.stats)
                printf(", \"samples\": %lld, \"seconds\": %.6f", (long long)s->stats.samples, took);
            printf("}\n");
            fflush(stdout);
        } else if (strncmp(line, "history", 7) == 0) {
            print_histories(s);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
    }
    eval_free(s);
    prom_client_free(prom);
    rules_set_free(set);
    return 0;
}
