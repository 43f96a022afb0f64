/* evaldriver: runs the evaluator cycle by cycle for integration tests, so that a test can
 * step time, stop Prometheus between cycles and see the steady-state data path.
 *
 *   evaldriver --prometheus.url=URL --rules=FILE [--rules=FILE...]
 *
 * Reads commands on stdin: "eval T" evaluates at unix time T and prints the results as one
 * line of JSON (as sloe eval --format=json), followed by one line of the query counts by
 * result; "quit" ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "eval.h"
#include "expo.h"
#include "prom.h"
#include "rules.h"

int main(int argc, char **argv)
{
    const char *files[64];
    size_t n = 0;
    struct prom_config cfg = {.url = "http://127.0.0.1:9090", .timeout_ms = 5000};
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--prometheus.url=", 17) == 0)
            cfg.url = argv[i] + 17;
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
            int failed = eval_cycle(s, (int64_t)t);
            expo_write_json(s, stdout, true);
            printf("{\"failed\": %d, \"queries\": {", failed);
            for (int k = 0; k < 8; k++)
                printf("%s\"%s\": %llu", k ? ", " : "", prom_error_reason((enum prom_error_kind)k),
                       (unsigned long long)s->stats.queries[k]);
            printf("}}\n");
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
