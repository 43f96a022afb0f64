/* serve: the sloe daemon. An evaluation thread runs every evaluation interval and swaps in
 * an immutable snapshot (the metric families, and their renderings made on first request);
 * libmicrohttpd threads serve /metrics, /-/healthy, /-/ready, /-/reload, /api/v1/slos and
 * the status page from the current snapshot without ever waiting for an evaluation. */
#ifndef SLOE_SERVE_H
#define SLOE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "prom.h"

struct serve_config {
    const char *const *rules; /* paths, directories or globs */
    size_t n_rules;
    struct prom_config prom;
    const char *listen;                /* "[host]:port", ":9363" for every address */
    const char *web_config;            /* exporter-toolkit web-config file, or NULL */
    int64_t interval_ms;               /* evaluation interval */
    unsigned shard_index, shard_count; /* evaluate shard index of count (count 1: all) */
};

/* Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the rules. Returns the exit code:
 * 0 after a clean stop, 1 when it could not start (the reason is logged). */
int serve_run(const struct serve_config *cfg);

#endif
