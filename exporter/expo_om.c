#include "expo_om.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "expo_value.h"

/* Renders the number in s the canonical OpenMetrics way for "le" values: the shortest
 * digits that read back exactly, in exponent form below 1e-4 and from 1e6 on, with ".0"
 * appended to integers ("1.0", "0.005", "1e+06", "+Inf"). Returns s itself when it is not a
 * number, else buf. */
static const char *expo_om_canonical(const char *s, char *buf, size_t size)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || isnan(v))
        return s;
    if (isinf(v)) {
        snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
        return buf;
    }
    char e[40];
    int digits = 0; /* after the first one */
    for (; digits < 17; digits++) {
        snprintf(e, sizeof(e), "%.*e", digits, v);
        if (strtod(e, NULL) == v)
            break;
    }
    int exponent = atoi(strchr(e, 'e') + 1);
    if (exponent < -4 || exponent >= 6)
        snprintf(buf, size, "%s", e);
    else
        snprintf(buf, size, "%.*f", digits > exponent ? digits - exponent : 0, v);
    if (strpbrk(buf, ".e") == NULL && strlen(buf) + 3 <= size)
        strcat(buf, ".0");
    return buf;
}

/* The TYPE a family is written with. */
static const char *expo_om_type(const struct expo_family *f)
{
    switch (f->type) {
    case EXPO_COUNTER:
        return "counter";
    case EXPO_INFO:
        return "info";
    case EXPO_HISTOGRAM:
        return "histogram";
    case EXPO_STATESET:
        return f->state_label != NULL && strcmp(f->state_label, f->name) == 0 ? "stateset"
                                                                              : "gauge";
    case EXPO_GAUGE:
        break;
    }
    return "gauge";
}

/* Writes a histogram bucket sample, its "le" value in the canonical rendering. */
static void expo_om_bucket(struct expo_out *o, const char *name, size_t name_len,
                           const struct expo_sample *s)
{
    char buf[64];
    expo_out_put(o, name, name_len);
    expo_out_puts(o, s->suffix);
    size_t n = expo_sample_n_labels(s);
    if (n > 0) {
        expo_out_put(o, "{", 1);
        for (size_t j = 0; j < n; j++) {
            const struct expo_label *l = expo_sample_label(s, j);
            const char *value = l->value;
            if (strcmp(l->name, "le") == 0)
                value = expo_om_canonical(value, buf, sizeof(buf));
            if (j > 0)
                expo_out_put(o, ",", 1);
            expo_out_puts(o, l->name);
            expo_out_put(o, "=\"", 2);
            expo_out_escaped(o, value, true);
            expo_out_put(o, "\"", 1);
        }
        expo_out_put(o, "}", 1);
    }
    expo_out_put(o, " ", 1);
    expo_out_put(o, buf, expo_value_format(s->value, buf));
    expo_out_put(o, "\n", 1);
}

static void expo_om(const struct expo_set *e, struct expo_out *o)
{
    for (size_t i = 0; i < e->n; i++) {
        const struct expo_family *f = &e->families[i];
        const char *suffix = f->type == EXPO_COUNTER ? "_total"
                             : f->type == EXPO_INFO  ? "_info"
                                                     : "";
        size_t name_len = strlen(f->name), suffix_len = strlen(suffix);
        expo_out_puts(o, "# TYPE ");
        expo_out_put(o, f->name, name_len);
        expo_out_put(o, " ", 1);
        expo_out_puts(o, expo_om_type(f));
        expo_out_put(o, "\n", 1);
        if (f->help != NULL && f->help[0] != '\0') {
            expo_out_puts(o, "# HELP ");
            expo_out_put(o, f->name, name_len);
            expo_out_put(o, " ", 1);
            /* OpenMetrics escapes the double quote in help texts too. */
            expo_out_escaped(o, f->help, true);
            expo_out_put(o, "\n", 1);
        }
        for (size_t k = 0; k < f->n; k++) {
            const struct expo_sample *s = &f->samples[k];
            if (f->type == EXPO_HISTOGRAM && strcmp(s->suffix, "_bucket") == 0)
                expo_om_bucket(o, f->name, name_len, s); /* histograms have no family suffix */
            else
                expo_out_sample(o, f->name, name_len, suffix, suffix_len, s);
        }
    }
    expo_out_puts(o, "# EOF\n");
}

void expo_om_write(const struct expo_set *e, FILE *out)
{
    struct expo_out *o = expo_out_new(e, out);
    expo_om(e, o);
    if (expo_out_finish(o) != 0)
        clearerr(out);
}

char *expo_om_render(const struct expo_set *e, size_t *len)
{
    struct expo_out *o = expo_out_new(e, NULL);
    expo_om(e, o);
    return expo_out_take(o, len);
}
