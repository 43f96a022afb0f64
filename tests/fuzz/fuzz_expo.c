/* libFuzzer target: the exposition writers. The input builds a metric set (family types,
 * help texts, label names and values, sample values as doubles); it is written as Prometheus
 * text 0.0.4, OpenMetrics 1.0.0 and protobuf into gzip streams and inflated back, as sloe
 * serve sends them. The label values and help texts parsed back from both text formats
 * (unescaping \\, \" and \n) must equal the originals, and the sample values must read back
 * exactly, written by the rule of the first writers. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "expo_om.h"
#include "expo_pb.h"
#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FAMILIES = 4, MAX_SAMPLES = 4, MAX_LABELS = 4 };

struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take_byte(struct cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

/* A string of up to 255 bytes (its length the first byte), cut at the first NUL. */
static char *take_string(struct arena *a, struct cursor *c)
{
    size_t len = take_byte(c);
    if (len > c->n)
        len = c->n;
    const uint8_t *nul = memchr(c->p, 0, len);
    char *s = arena_strndup(a, (const char *)c->p, nul ? (size_t)(nul - c->p) : len);
    c->p += len;
    c->n -= len;
    return s;
}

/* A valid label name from the bytes, unique by its index suffix. */
static char *take_name(struct arena *a, struct cursor *c, size_t idx)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    size_t len = take_byte(c) % 8;
    char buf[32];
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        buf[k++] = alpha[take_byte(c) % (sizeof(alpha) - 1)];
    buf[k] = '\0';
    return arena_printf(a, "%c%s_%zu", 'l', buf, idx);
}

static double take_double(struct cursor *c)
{
    uint8_t b[8] = {0};
    for (size_t i = 0; i < 8; i++)
        b[i] = take_byte(c);
    double v;
    memcpy(&v, b, sizeof(v));
    return v;
}

/* Unescapes a quoted value starting after the opening quote at *pp; returns it (malloc'd) and
 * moves *pp past the closing quote, or NULL when there is none. */
static char *unquote(const char **pp, const char *end, char close)
{
    const char *p = *pp;
    char *out = malloc((size_t)(end - p) + 1);
    size_t k = 0;
    while (p < end && *p != close) {
        if (*p == '\\' && p + 1 < end) {
            char e = p[1];
            out[k++] = e == 'n' ? '\n' : e == '\\' ? '\\' : e == '"' ? '"' : '?';
            if (e != 'n' && e != '\\' && e != '"')
                abort(); /* an unknown escape */
            p += 2;
        } else {
            if (*p == '\n' && close == '"')
                abort(); /* a raw line feed inside a label value */
            out[k++] = *p++;
        }
    }
    out[k] = '\0';
    if (p >= end) {
        free(out);
        return NULL;
    }
    *pp = p + 1;
    return out;
}

/* Checks the value at the end of a sample line [p, nl): it reads back as v (any NaN as a
 * NaN, -0 as 0) and is written by the rule of the first writers, printf's "%.15g" when that
 * reads back exactly, else "%.17g", with integers below 1e15 in full. */
static void check_value(const char *p, const char *nl, double v)
{
    const char *sp = nl;
    while (sp > p && sp[-1] != ' ')
        sp--;
    char got[64], want[64], *stop;
    if (sp == p || nl - sp >= (long)sizeof(got))
        abort();
    memcpy(got, sp, (size_t)(nl - sp));
    got[nl - sp] = '\0';
    double back = strtod(got, &stop);
    if (*stop != '\0' || (isnan(v) ? !isnan(back) : back != v))
        abort();
    if (v == 0 || v == 1)
        snprintf(want, sizeof(want), "%d", (int)v);
    else if (isnan(v))
        snprintf(want, sizeof(want), "NaN");
    else if (isinf(v))
        snprintf(want, sizeof(want), v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(want, sizeof(want), "%.0f", v);
    else if (snprintf(want, sizeof(want), "%.15g", v) > 0 && strtod(want, NULL) != v)
        snprintf(want, sizeof(want), "%.17g", v);
    if (strcmp(got, want) != 0)
        abort();
}

/* Checks the label values and help texts written in buf against the set. */
static void check_text(const struct expo_set *e, const char *buf, size_t len, bool om)
{
    const char *p = buf, *end = buf + len;
    for (size_t i = 0; i < e->n; i++) {
        const struct expo_family *f = &e->families[i];
        /* The HELP line (OpenMetrics leaves out an empty one). */
        if (!om || f->help[0] != '\0') {
            const char *h = strstr(p, "# HELP ");
            if (h == NULL || h >= end)
                abort();
            h = memchr(h + 7, ' ', (size_t)(end - h - 7));
            if (h == NULL)
                abort();
            h++;
            char *help = unquote(&h, end, '\n');
            if (help == NULL || strcmp(help, f->help) != 0)
                abort();
            free(help);
            p = h;
        }
        for (size_t k = 0; k < f->n; k++) {
            const struct expo_sample *s = &f->samples[k];
            /* The next sample line: skip comment lines. */
            while (p < end && *p == '#') {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (nl == NULL)
                    abort();
                p = nl + 1;
            }
            if (p >= end || strncmp(p, f->name, strlen(f->name)) != 0)
                abort();
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *brace = memchr(p, '{', (size_t)(end - p));
            if (expo_sample_n_labels(s) > 0) {
                if (brace == NULL || (nl != NULL && brace > nl))
                    abort();
                p = brace + 1;
                for (size_t j = 0; j < expo_sample_n_labels(s); j++) {
                    const struct expo_label *l = expo_sample_label(s, j);
                    size_t nlen = strlen(l->name);
                    if ((size_t)(end - p) < nlen + 2 || strncmp(p, l->name, nlen) != 0 ||
                        p[nlen] != '=' || p[nlen + 1] != '"')
                        abort();
                    p += nlen + 2;
                    char *v = unquote(&p, end, '"');
                    if (v == NULL || strcmp(v, l->value) != 0)
                        abort(); /* the round trip of label escaping */
                    free(v);
                    if (p < end && *p == ',')
                        p++;
                }
                if (p >= end || *p != '}')
                    abort();
            }
            nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL)
                abort();
            check_value(p, nl, s->value);
            p = nl + 1;
        }
    }
    if (om && (len < 6 || memcmp(end - 6, "# EOF\n", 6) != 0))
        abort();
}

/* The body sloe serve sends for a format (0 text, 1 OpenMetrics, 2 protobuf): written by the
 * FILE writer into a gzip stream, then inflated in pieces as a client without gzip gets it;
 * malloc'd and NUL-terminated, *len bytes before the NUL. Aborts when anything fails. */
static char *served(const struct expo_set *e, int fmt, size_t *len)
{
    struct negot_gz *gz = negot_gz_new();
    if (gz == NULL)
        abort();
    FILE *f = negot_gz_file(gz);
    if (fmt == 0)
        expo_write_text(e, f);
    else if (fmt == 1)
        expo_om_write(e, f);
    else if (expo_pb_write(e, f) != 0)
        abort();
    void *z = NULL;
    size_t zn = 0, plain = 0;
    if (negot_gz_finish(gz, &z, &zn, &plain) != 0)
        abort();
    char *out = malloc(plain + 1);
    struct negot_gunzip *g = negot_gunzip_new(z, zn);
    if (out == NULL || g == NULL)
        abort();
    size_t n = 0;
    for (long got;
         (got = negot_gunzip_read(g, out + n, plain + 1 - n > 4096 ? 4096 : plain + 1 - n)) != 0;) {
        if (got < 0)
            abort();
        n += (size_t)got;
    }
    if (n != plain)
        abort();
    out[n] = '\0';
    negot_gunzip_free(g);
    free(z);
    *len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cursor c = {data, size};
    struct expo_set *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    static const enum expo_type types[] = {EXPO_GAUGE, EXPO_COUNTER, EXPO_INFO};
    size_t n_fam = 1 + take_byte(&c) % MAX_FAMILIES;
    for (size_t i = 0; i < n_fam; i++) {
        enum expo_type type = types[take_byte(&c) % 3];
        const char *name = arena_printf(&e->arena, "fz_f%zu", i);
        const char *help = take_string(&e->arena, &c);
        struct expo_family *f = expo_family(e, name, type, help);
        size_t n_samples = 1 + take_byte(&c) % MAX_SAMPLES;
        for (size_t k = 0; k < n_samples; k++) {
            size_t n_labels = take_byte(&c) % (MAX_LABELS + 1);
            struct expo_label *l = arena_alloc(&e->arena, (n_labels + 1) * sizeof(*l));
            for (size_t j = 0; j < n_labels; j++) {
                l[j].name = take_name(&e->arena, &c, j);
                l[j].value = take_string(&e->arena, &c);
            }
            expo_add(e, f, l, n_labels, NULL, NULL, take_double(&c));
        }
    }

    /* The bodies sloe serve sends: each FILE writer into a gzip stream, inflated back. */
    size_t len = 0;
    char *buf = served(e, 0, &len);
    check_text(e, buf, len, false);
    free(buf);
    buf = served(e, 1, &len);
    check_text(e, buf, len, true);
    free(buf);
    buf = served(e, 2, &len);
    if (len == 0)
        abort();
    free(buf);

    expo_free(e);
    return 0;
}
