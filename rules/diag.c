#include "diag.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *diag_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static uint64_t diag_hash(const char *file, unsigned line, unsigned col, const char *msg)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = file; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ line) * 1099511628211ULL;
    h = (h ^ col) * 1099511628211ULL;
    for (const char *p = msg; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h | 1; /* 0 marks a free slot */
}

/* Returns true when h was already there; otherwise adds it. */
static bool diag_seen(struct diag_list *l, uint64_t h)
{
    if (l->seen_cap == 0) {
        /* A power of two, as the probe wraps with a mask; at most a quarter full. */
        l->seen_cap = 1;
        while (l->seen_cap < 4 * DIAG_MAX)
            l->seen_cap *= 2;
        l->seen = calloc(l->seen_cap, sizeof(*l->seen));
        if (l->seen == NULL)
            abort();
    }
    size_t mask = l->seen_cap - 1, i = (size_t)h & mask;
    while (l->seen[i] != 0) {
        if (l->seen[i] == h)
            return true;
        i = (i + 1) & mask;
    }
    l->seen[i] = h;
    return false;
}

void diag_add(struct diag_list *l, enum diag_severity sev, const char *file, unsigned line,
              unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (file == NULL)
        file = "-";
    if (l->n < DIAG_MAX && diag_seen(l, diag_hash(file, line, col, buf)))
        return;
    if (sev == DIAG_ERROR)
        l->errors++;
    else
        l->warnings++;
    if (l->n >= DIAG_MAX)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (l->v == NULL)
            abort();
    }
    struct diag *d = &l->v[l->n++];
    d->file = diag_xstrdup(file);
    d->line = line;
    d->col = col;
    d->severity = sev;
    d->msg = diag_xstrdup(buf);
    d->seq = l->n - 1;
}

static int diag_cmp(const void *pa, const void *pb)
{
    const struct diag *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c != 0)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diag_print(struct diag_list *l, FILE *out)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), diag_cmp);
    for (size_t i = 0; i < l->n; i++) {
        const struct diag *d = &l->v[i];
        const char *sev = d->severity == DIAG_WARNING ? "warning: " : "";
        if (d->line > 0)
            fprintf(out, "%s:%u:%u: %s%s\n", d->file, d->line, d->col, sev, d->msg);
        else
            fprintf(out, "%s: %s%s\n", d->file, sev, d->msg);
    }
    size_t dropped = l->errors + l->warnings - l->n;
    if (dropped > 0)
        fprintf(out, "... and %zu more problems\n", dropped);
}

void diag_free(struct diag_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].msg);
    }
    free(l->v);
    free(l->seen);
    memset(l, 0, sizeof(*l));
}
