#include "ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

yaml_node_t *ydoc_node(struct ydoc *d, int index)
{
    return d->over ? NULL : yaml_document_get_node(d->doc, index);
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
    return yaml_document_get_root_node(d->doc);
}

unsigned ydoc_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

unsigned ydoc_col(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.column + 1 : 0;
}

static void ydoc_vreport(struct ydoc *d, enum diag_severity sev, const yaml_node_t *n,
                         const char *fmt, va_list ap)
{
    char buf[900];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    diag_add(d->diags, sev, d->file, n ? ydoc_line(n) : 1, n ? ydoc_col(n) : 1, "%s", buf);
}

void ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ydoc_vreport(d, DIAG_ERROR, n, fmt, ap);
    va_end(ap);
}

void ydoc_warn(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ydoc_vreport(d, DIAG_WARNING, n, fmt, ap);
    va_end(ap);
}

/* Counts one step of reading; past the cap, reports once and stops all further reading. */
static bool ydoc_visit(struct ydoc *d, const yaml_node_t *n)
{
    if (d->over)
        return false;
    if (d->diags->errors >= DIAG_MAX) {
        d->over = true;
        ydoc_error(d, n, "more than %d problems: stopped reading; fix these first", DIAG_MAX);
        return false;
    }
    if (++d->visits > RULES_MAX_VISITS) {
        d->over = true;
        ydoc_error(d, n,
                   "document too complex: over %d entries read (aliases that repeat large "
                   "parts?); sloe refuses it",
                   RULES_MAX_VISITS);
        return false;
    }
    return true;
}

static size_t ydoc_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *ydoc_suggest(const char *key, const char *const *allowed)
{
    const char *best = NULL;
    size_t best_d = 99;
    size_t limit = strlen(key) / 3 + 1;
    if (limit > 3)
        limit = 3;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        size_t dist = ydoc_levenshtein(key, allowed[i]);
        if (strcasecmp(key, allowed[i]) == 0)
            dist = 0;
        if (dist < best_d) {
            best_d = dist;
            best = allowed[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

int ydoc_map_len(yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_MAPPING_NODE)
        return 0;
    return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

yaml_node_t *ydoc_key(struct ydoc *d, yaml_node_t *n, int i)
{
    return ydoc_node(d, n->data.mapping.pairs.start[i].key);
}

yaml_node_t *ydoc_value(struct ydoc *d, yaml_node_t *n, int i)
{
    return ydoc_node(d, n->data.mapping.pairs.start[i].value);
}

const char *ydoc_scalar(yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)n->data.scalar.value;
}

int ydoc_map(struct ydoc *d, yaml_node_t *n, const char *what, const char *const *allowed)
{
    if (n == NULL || n->type != YAML_MAPPING_NODE) {
        if (!d->over)
            ydoc_error(d, n, "%s must be a mapping (key: value lines)", what);
        return -1;
    }
    int len = ydoc_map_len(n);
    for (int i = 0; i < len; i++) {
        if (!ydoc_visit(d, n))
            return -1;
        yaml_node_t *k = ydoc_key(d, n, i);
        const char *key = ydoc_scalar(k);
        if (key == NULL) {
            ydoc_error(d, k, "a key in %s must be a plain word", what);
            continue;
        }
        for (int j = 0; j < i; j++) {
            const char *other = ydoc_scalar(ydoc_key(d, n, j));
            if (other != NULL && strcmp(other, key) == 0) {
                ydoc_error(d, k, "%s: key \"%s\" repeated (first at line %u)", what, key,
                           ydoc_line(ydoc_key(d, n, j)));
                break;
            }
        }
        if (allowed == NULL)
            continue;
        size_t a;
        for (a = 0; allowed[a] != NULL; a++)
            if (strcmp(allowed[a], key) == 0)
                break;
        if (allowed[a] != NULL)
            continue;
        const char *hint = ydoc_suggest(key, allowed);
        if (hint != NULL)
            ydoc_error(d, k, "unknown field \"%.100s\" in %s (did you mean \"%s\"?)", key, what,
                       hint);
        else
            ydoc_error(d, k, "unknown field \"%.100s\" in %s", key, what);
    }
    return 0;
}

yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *n, const char *key)
{
    int len = ydoc_map_len(n);
    for (int i = 0; i < len; i++) {
        const char *k = ydoc_scalar(ydoc_key(d, n, i));
        if (k != NULL && strcmp(k, key) == 0)
            return ydoc_value(d, n, i);
    }
    return NULL;
}

yaml_node_t *ydoc_get_key(struct ydoc *d, yaml_node_t *n, const char *key)
{
    int len = ydoc_map_len(n);
    for (int i = 0; i < len; i++) {
        yaml_node_t *k = ydoc_key(d, n, i);
        const char *s = ydoc_scalar(k);
        if (s != NULL && strcmp(s, key) == 0)
            return k;
    }
    return NULL;
}

yaml_node_t *ydoc_need(struct ydoc *d, yaml_node_t *n, const char *key, const char *what)
{
    yaml_node_t *v = ydoc_get(d, n, key);
    if (v == NULL && !d->over && n != NULL && n->type == YAML_MAPPING_NODE)
        ydoc_error(d, n, "missing field \"%s\" in %s", key, what);
    return v;
}

int ydoc_seq_len(struct ydoc *d, yaml_node_t *n, const char *what)
{
    if (n == NULL || n->type != YAML_SEQUENCE_NODE) {
        if (!d->over)
            ydoc_error(d, n, "%s must be a list", what);
        return -1;
    }
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *ydoc_item(struct ydoc *d, yaml_node_t *n, int i)
{
    if (!ydoc_visit(d, n))
        return NULL;
    return ydoc_node(d, n->data.sequence.items.start[i]);
}

int ydoc_str(struct ydoc *d, yaml_node_t *n, const char *what, const char **out)
{
    const char *s = ydoc_scalar(n);
    if (s == NULL) {
        if (!d->over)
            ydoc_error(d, n, "%s must be a single value, not a list or mapping", what);
        return -1;
    }
    size_t len = n->data.scalar.length;
    if (len > RULES_MAX_STRING) {
        ydoc_error(d, n, "%s is %zu bytes long; the limit is %d", what, len, RULES_MAX_STRING);
        return -1;
    }
    if (strlen(s) != len) {
        ydoc_error(d, n, "%s holds a NUL character", what);
        return -1;
    }
    *out = arena_strndup(d->arena, s, len);
    return 0;
}

int ydoc_number(struct ydoc *d, yaml_node_t *n, const char *what, double *out)
{
    const char *s = ydoc_scalar(n);
    if (s == NULL) {
        if (!d->over)
            ydoc_error(d, n, "%s must be a number", what);
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        ydoc_error(d, n, "%s must be a number, not \"%.60s\"", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

int ydoc_bool(struct ydoc *d, yaml_node_t *n, const char *what, bool *out)
{
    const char *s = ydoc_scalar(n);
    if (s != NULL && strcasecmp(s, "true") == 0) {
        *out = true;
        return 0;
    }
    if (s != NULL && strcasecmp(s, "false") == 0) {
        *out = false;
        return 0;
    }
    if (!d->over)
        ydoc_error(d, n, "%s must be true or false", what);
    return -1;
}
