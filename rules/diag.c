#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *diag_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

void diag_add(struct diag_list *l, enum diag_severity sev, const char *file, unsigned line,
              unsigned col, const char *fmt, ...)
{
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
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    struct diag *d = &l->v[l->n++];
    d->file = diag_xstrdup(file ? file : "-");
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
    memset(l, 0, sizeof(*l));
}
