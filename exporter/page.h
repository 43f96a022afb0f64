/* page: the human status page served at "/": one self-contained HTML5 document (UTF-8) with
 * an overview table of every SLO instance and, grouped by service, a card with state,
 * compliance, error budget, burn rates, alert conditions and a budget burn-down chart for at
 * most 100 instances (those not met first). It needs no external asset and no script, so
 * it can be served under the Content-Security-Policy
 * "default-src 'none'; style-src 'unsafe-inline'; img-src data:". Every string taken from
 * the rule files or the evaluation is escaped for HTML text and attributes. */
#ifndef SLOE_PAGE_H
#define SLOE_PAGE_H

#include <stdint.h>
#include <stdio.h>

#include "eval.h"

/* The Content-Security-Policy the page is written for. */
#define PAGE_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

/* Writes the status page of the evaluation state s, as evaluated at now (unix seconds), for
 * sloe version `version` (NULL is fine) to out. Reads s and its histories; writes nothing
 * else and allocates nothing that outlives the call. Write errors are left in out's error
 * indicator for the caller to check. */
void page_write(const struct eval_state *s, int64_t now, const char *version, FILE *out);

#endif
