#include "remote.h"

#include <math.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"
#include "prompb.pb-c.h"

static void *remote_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL) {
        fputs("sloe: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* ---- recognizing the query ---- */

static void remote_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static bool remote_ident_start(char c, bool metric)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static bool remote_ident_char(char c, bool metric)
{
    return remote_ident_start(c, metric) || (c >= '0' && c <= '9');
}

/* A label name (or with metric, a metric name) at *p, copied into a; NULL when none. */
static const char *remote_ident(const char **p, struct arena *a, bool metric)
{
    const char *s = *p;
    if (!remote_ident_start(*s, metric))
        return NULL;
    while (remote_ident_char(**p, metric))
        (*p)++;
    return arena_strndup(a, s, (size_t)(*p - s));
}

/* Consumes the keyword w (any case, as PromQL's keywords) when it is the next word. */
static bool remote_keyword(const char **p, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(*p, w, n) != 0 || remote_ident_char((*p)[n], true))
        return false;
    *p += n;
    return true;
}

static bool remote_punct(const char **p, char c)
{
    remote_ws(p);
    if (**p != c)
        return false;
    (*p)++;
    remote_ws(p);
    return true;
}

/* A PromQL string: "..." or '...' with the common escapes, or `...` raw. Other escapes (\x,
 * \u, octal) are left to query_range: NULL. */
static const char *remote_string(const char **p, struct arena *a)
{
    char q = **p;
    if (q != '"' && q != '\'' && q != '`')
        return NULL;
    const char *s = *p + 1;
    char *out = arena_alloc(a, strlen(s) + 1), *w = out;
    for (; *s != q; s++) {
        if (*s == '\0' || (q != '`' && *s == '\n'))
            return NULL;
        if (q == '`' || *s != '\\') {
            *w++ = *s;
            continue;
        }
        s++;
        switch (*s) {
        case '\\':
        case '"':
        case '\'':
            if (*s != q && *s != '\\')
                return NULL;
            *w++ = *s;
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'r':
            *w++ = '\r';
            break;
        default:
            return NULL;
        }
    }
    *w = '\0';
    *p = s + 1;
    return out;
}

/* "(a, b, )": label names, at least none; *n and *names. */
static int remote_label_list(const char **p, struct arena *a, size_t *n, const char ***names)
{
    if (!remote_punct(p, '('))
        return -1;
    size_t cap = strlen(*p) / 2 + 1;
    const char **v = arena_alloc(a, cap * sizeof(*v));
    size_t k = 0;
    while (!remote_punct(p, ')')) {
        const char *name = remote_ident(p, a, false);
        if (name == NULL)
            return -1;
        for (size_t i = 0; i < k; i++)
            if (strcmp(v[i], name) == 0)
                return -1; /* a label twice: leave it to Prometheus */
        v[k++] = name;
        if (!remote_punct(p, ',') && **p != ')')
            return -1;
    }
    *n = k;
    *names = v;
    return 0;
}

/* The selector: name, name{...} or {...} with __name__="x". */
static int remote_selector(const char **p, struct arena *a, struct remote_expr *e)
{
    size_t cap = strlen(*p) / 3 + 2;
    struct remote_matcher *m = arena_alloc(a, cap * sizeof(*m));
    size_t n = 0;
    const char *name = remote_ident(p, a, true);
    if (name != NULL)
        m[n++] = (struct remote_matcher){REMOTE_EQ, "__name__", name};
    remote_ws(p);
    if (**p == '{') {
        (*p)++;
        while (!remote_punct(p, '}')) {
            if (n + 1 >= cap)
                return -1;
            const char *label = remote_ident(p, a, false);
            if (label == NULL)
                return -1;
            remote_ws(p);
            enum remote_match type;
            if (strncmp(*p, "=~", 2) == 0)
                type = REMOTE_RE, *p += 2;
            else if (strncmp(*p, "!~", 2) == 0)
                type = REMOTE_NRE, *p += 2;
            else if (strncmp(*p, "!=", 2) == 0)
                type = REMOTE_NEQ, *p += 2;
            else if (**p == '=')
                type = REMOTE_EQ, *p += 1;
            else
                return -1;
            remote_ws(p);
            const char *value = remote_string(p, a);
            if (value == NULL)
                return -1;
            if (strcmp(label, "__name__") == 0) {
                /* The name once, as an equality: a regex could select two metrics whose
                 * series clash once increase() drops the name, which Prometheus refuses. */
                if (name != NULL || type != REMOTE_EQ || value[0] == '\0')
                    return -1;
                name = value;
                memmove(m + 1, m, n * sizeof(*m));
                m[0] = (struct remote_matcher){REMOTE_EQ, "__name__", value};
                n++;
            } else {
                m[n++] = (struct remote_matcher){type, label, value};
            }
            if (!remote_punct(p, ',') && **p != '}')
                return -1;
        }
    }
    if (name == NULL)
        return -1;
    e->matchers = m;
    e->n_matchers = n;
    return 0;
}

int remote_parse(const char *query, struct arena *a, struct remote_expr *out)
{
    const char *p = query;
    memset(out, 0, sizeof(*out));
    remote_ws(&p);
    if (!remote_keyword(&p, "sum"))
        return -1;
    remote_ws(&p);
    bool by_first = remote_keyword(&p, "by");
    if (by_first && remote_label_list(&p, a, &out->n_by, &out->by) != 0)
        return -1;
    if (!remote_punct(&p, '('))
        return -1;
    if (strncmp(p, "increase", 8) == 0)
        p += 8;
    else if (strncmp(p, "rate", 4) == 0)
        out->rate = true, p += 4;
    else
        return -1;
    if (!remote_punct(&p, '(') || remote_selector(&p, a, out) != 0 || !remote_punct(&p, '['))
        return -1;
    const char *close = strchr(p, ']');
    if (close == NULL)
        return -1;
    size_t len = (size_t)(close - p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    const char *dur = arena_strndup(a, p, len);
    if (duration_parse_ms(dur, &out->range_ms) != 0 || out->range_ms <= 0)
        return -1; /* also a subquery [5m:1m] */
    p = close + 1;
    /* No offset or @ modifier: the function's and the sum's parentheses close. */
    if (!remote_punct(&p, ')') || !remote_punct(&p, ')'))
        return -1;
    if (!by_first && remote_keyword(&p, "by") &&
        remote_label_list(&p, a, &out->n_by, &out->by) != 0)
        return -1;
    remote_ws(&p);
    return *p == '\0' ? 0 : -1;
}

/* ---- the arithmetic ---- */

bool remote_is_stale(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits == 0x7ff0000000000002ULL;
}

/* Written from Prometheus 2.42's extrapolatedRate (promql/functions.go); the operations
 * are in its order so that the floating point results are the same. */
bool remote_extrapolate(const struct prom_sample *s, size_t n, int64_t range_ms, int64_t t_ms,
                        bool rate, double *out)
{
    if (n < 2)
        return false;
    int64_t range_start = t_ms - range_ms, range_end = t_ms;
    double result = s[n - 1].v - s[0].v;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].v < last)
            result += last; /* a counter reset: the value before the drop was lost */
        last = s[i].v;
    }
    double to_start = (double)(s[0].t_ms - range_start) / 1000;
    double to_end = (double)(range_end - s[n - 1].t_ms) / 1000;
    double sampled = (double)(s[n - 1].t_ms - s[0].t_ms) / 1000;
    double avg = sampled / (double)(n - 1);
    if (result > 0 && s[0].v >= 0) {
        /* A counter is not extrapolated below zero. */
        double to_zero = sampled * (s[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    double threshold = avg * 1.1;
    double extended = sampled;
    extended += to_start < threshold ? to_start : avg / 2;
    extended += to_end < threshold ? to_end : avg / 2;
    result = result * (extended / sampled);
    if (rate)
        result = result / ((double)range_ms / 1000);
    *out = result;
    return true;
}

/* ---- XOR chunks and frames ---- */

/* A chunk's bits, most significant first. */
struct remote_bits {
    const uint8_t *p;
    size_t n_bits, pos;
};

static int remote_bits_read(struct remote_bits *b, int n, uint64_t *out)
{
    if (b->pos + (size_t)n > b->n_bits)
        return -1;
    uint64_t v = 0;
    while (n > 0) {
        int off = (int)(b->pos & 7), avail = 8 - off, take = n < avail ? n : avail;
        unsigned cur = b->p[b->pos >> 3];
        v = (v << take) | ((cur >> (avail - take)) & ((1u << take) - 1));
        b->pos += (size_t)take;
        n -= take;
    }
    *out = v;
    return 0;
}

static int remote_bits_uvarint(struct remote_bits *b, uint64_t *out)
{
    uint64_t v = 0, byte;
    for (int shift = 0; shift < 64; shift += 7) {
        if (remote_bits_read(b, 8, &byte) != 0)
            return -1;
        v |= (byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The next value of an XOR chunk: unchanged (bit 0), or the bits that differ from the
 * previous value inside the previous window of leading and trailing zeros (10), or in a new
 * window (11: 5 bits of leading zeros, 6 of length, 0 meaning 64). */
static int remote_xor_value(struct remote_bits *b, uint64_t *vbits, int *leading, int *trailing)
{
    uint64_t bit, x;
    if (remote_bits_read(b, 1, &bit) != 0)
        return -1;
    if (bit == 0)
        return 0;
    if (remote_bits_read(b, 1, &bit) != 0)
        return -1;
    if (bit == 1) {
        uint64_t lead, len;
        if (remote_bits_read(b, 5, &lead) != 0 || remote_bits_read(b, 6, &len) != 0)
            return -1;
        if (len == 0)
            len = 64;
        if (lead + len > 64)
            return -1;
        *leading = (int)lead;
        *trailing = 64 - (int)lead - (int)len;
    }
    int len = 64 - *leading - *trailing;
    if (remote_bits_read(b, len, &x) != 0)
        return -1;
    *vbits ^= *trailing < 64 ? x << *trailing : 0;
    return 0;
}

long remote_xor_decode(const uint8_t *data, size_t len, remote_sample_fn fn, void *cls)
{
    if (len < 2)
        return -1;
    unsigned n = (unsigned)data[0] << 8 | data[1];
    struct remote_bits b = {data + 2, (len - 2) * 8, 0};
    int64_t t = 0, delta = 0;
    uint64_t vbits = 0, x;
    int leading = 0, trailing = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i == 0) {
            if (remote_bits_uvarint(&b, &x) != 0 || remote_bits_read(&b, 64, &vbits) != 0)
                return -1;
            t = (int64_t)(x >> 1) ^ -(int64_t)(x & 1); /* zigzag */
        } else {
            if (i == 1) {
                if (remote_bits_uvarint(&b, &x) != 0)
                    return -1;
                delta = (int64_t)x;
            } else {
                /* Delta of delta: 0 -> 0; 10, 110, 1110 -> 14, 17, 20 bits; 1111 -> 64. */
                static const int widths[4] = {14, 17, 20, 64};
                int ones = 0;
                while (ones < 4) {
                    if (remote_bits_read(&b, 1, &x) != 0)
                        return -1;
                    if (x == 0)
                        break;
                    ones++;
                }
                int64_t dod = 0;
                if (ones > 0) {
                    int w = widths[ones - 1];
                    if (remote_bits_read(&b, w, &x) != 0)
                        return -1;
                    if (w < 64 && x > (1ULL << (w - 1)))
                        dod = (int64_t)x - (int64_t)(1ULL << w);
                    else
                        dod = (int64_t)x;
                }
                delta += dod;
            }
            t += delta;
            if (remote_xor_value(&b, &vbits, &leading, &trailing) != 0)
                return -1;
        }
        double v;
        memcpy(&v, &vbits, sizeof(v));
        if (fn(cls, t, v) != 0)
            return -1;
    }
    return (long)n;
}

static uint32_t remote_crc_table[256];
static pthread_once_t remote_crc_once = PTHREAD_ONCE_INIT;

static void remote_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        remote_crc_table[i] = c;
    }
}

uint32_t remote_crc32c(const uint8_t *p, size_t n)
{
    pthread_once(&remote_crc_once, remote_crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = remote_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* Hands out the complete frames at the start of f->buf; keeps a partial one. */
static int remote_frames_drain(struct remote_frames *f)
{
    size_t max = f->max_frame ? f->max_frame : 64u << 20;
    size_t off = 0;
    int rc = 0;
    while (off < f->n) {
        uint64_t len = 0;
        size_t o = off;
        int shift = 0;
        bool done = false;
        while (o < f->n && shift < 64) {
            uint8_t byte = f->buf[o++];
            len |= (uint64_t)(byte & 0x7f) << shift;
            shift += 7;
            if ((byte & 0x80) == 0) {
                done = true;
                break;
            }
        }
        if (!done && shift < 64)
            break; /* the length is not all here yet */
        if (!done || len > max) {
            snprintf(f->error, sizeof(f->error), "a remote read frame of more than %zu bytes", max);
            rc = -1;
            break;
        }
        if (f->n - o < 4 || f->n - o - 4 < len)
            break;
        uint32_t crc = (uint32_t)f->buf[o] << 24 | (uint32_t)f->buf[o + 1] << 16 |
                       (uint32_t)f->buf[o + 2] << 8 | f->buf[o + 3];
        o += 4;
        if (remote_crc32c(f->buf + o, len) != crc) {
            snprintf(f->error, sizeof(f->error), "a remote read frame's CRC does not match");
            rc = -1;
            break;
        }
        if (f->fn(f->cls, f->buf + o, len) != 0) {
            snprintf(f->error, sizeof(f->error), "a remote read frame could not be decoded");
            rc = -1;
            break;
        }
        off = o + len;
    }
    if (off > 0) {
        memmove(f->buf, f->buf + off, f->n - off);
        f->n -= off;
    }
    return rc;
}

int remote_frames_feed(struct remote_frames *f, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (len > f->cap - f->n) {
        size_t cap = f->cap ? f->cap : 1 << 16;
        while (cap - f->n < len)
            cap *= 2;
        f->buf = remote_xrealloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->n, data, len);
    f->n += len;
    return remote_frames_drain(f);
}

int remote_frames_end(struct remote_frames *f)
{
    if (f->n == 0)
        return 0;
    snprintf(f->error, sizeof(f->error), "the remote read response ends inside a frame");
    return -1;
}

void remote_frames_free(struct remote_frames *f)
{
    free(f->buf);
    f->buf = NULL;
    f->n = f->cap = 0;
}

/* ---- evaluating a range from raw samples ---- */

/* The sums of one group (one value of the by labels) at each step. */
struct remote_group {
    char *key; /* the by labels' values, each followed by a NUL */
    size_t key_len;
    double *sum;
    unsigned char *has;
};

struct remote_run {
    const struct remote_expr *e;
    int64_t start, end, step, from; /* ms; samples in [from, end] are read */
    size_t n_pts;
    struct remote_group *g;
    size_t n_groups, cap_groups;
    size_t *index, index_cap; /* group position + 1; 0 free */
    /* The series being read: its labels (name NUL value NUL ...), group and samples. */
    char *labels;
    size_t labels_len, labels_cap;
    bool have_series;
    size_t group;
    struct prom_sample *samples;
    size_t n_samples, cap_samples;
    struct remote_frames frames;
    bool failed;
    char error[160];
};

static size_t remote_hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return (size_t)h;
}

static void remote_index_put(struct remote_run *r, size_t gi)
{
    size_t mask = r->index_cap - 1;
    size_t i = remote_hash(r->g[gi].key, r->g[gi].key_len) & mask;
    while (r->index[i] != 0)
        i = (i + 1) & mask;
    r->index[i] = gi + 1;
}

/* The group of the by label values key (key_len bytes), added when new. */
static size_t remote_group_of(struct remote_run *r, const char *key, size_t key_len)
{
    if (r->index_cap != 0)
        for (size_t i = remote_hash(key, key_len) & (r->index_cap - 1); r->index[i] != 0;
             i = (i + 1) & (r->index_cap - 1)) {
            const struct remote_group *g = &r->g[r->index[i] - 1];
            if (g->key_len == key_len && memcmp(g->key, key, key_len) == 0)
                return r->index[i] - 1;
        }
    if (r->n_groups == r->cap_groups) {
        r->cap_groups = r->cap_groups ? 2 * r->cap_groups : 16;
        r->g = remote_xrealloc(r->g, r->cap_groups * sizeof(*r->g));
    }
    struct remote_group *g = &r->g[r->n_groups++];
    g->key = remote_xrealloc(NULL, key_len);
    memcpy(g->key, key, key_len);
    g->key_len = key_len;
    g->sum = calloc(r->n_pts, sizeof(double));
    g->has = calloc(r->n_pts, 1);
    if (g->sum == NULL || g->has == NULL)
        abort();
    if (2 * (r->n_groups + 1) > r->index_cap) {
        free(r->index);
        r->index_cap = 64;
        while (r->index_cap < 2 * (r->n_groups + 1))
            r->index_cap *= 2;
        r->index = calloc(r->index_cap, sizeof(*r->index));
        if (r->index == NULL)
            abort();
        for (size_t k = 0; k < r->n_groups; k++)
            remote_index_put(r, k);
    } else {
        remote_index_put(r, r->n_groups - 1);
    }
    return r->n_groups - 1;
}

/* Evaluates the series read so far at every step and adds it to its group. The range of a
 * step at T holds the samples with T - range <= t <= T, as Prometheus 2.x selects them. */
static void remote_series_done(struct remote_run *r)
{
    if (!r->have_series)
        return;
    struct remote_group *g = &r->g[r->group];
    const struct prom_sample *s = r->samples;
    size_t lo = 0, hi = 0, n = r->n_samples;
    for (size_t k = 0; k < r->n_pts; k++) {
        int64_t t = r->start + (int64_t)k * r->step;
        while (lo < n && s[lo].t_ms < t - r->e->range_ms)
            lo++;
        if (hi < lo)
            hi = lo;
        while (hi < n && s[hi].t_ms <= t)
            hi++;
        double v;
        if (remote_extrapolate(s + lo, hi - lo, r->e->range_ms, t, r->e->rate, &v)) {
            g->sum[k] += v;
            g->has[k] = 1;
        }
    }
    r->have_series = false;
    r->n_samples = 0;
}

static int remote_fail(struct remote_run *r, const char *msg)
{
    snprintf(r->error, sizeof(r->error), "%s", msg);
    r->failed = true;
    return -1;
}

/* A series' value of a by label: "" when the series lacks it, and for __name__, which
 * increase() and rate() drop. */
static const char *remote_by_value(const Prompb__ChunkedSeries *cs, const char *name)
{
    if (strcmp(name, "__name__") == 0)
        return "";
    for (size_t l = 0; l < cs->n_labels; l++)
        if (strcmp(cs->labels[l]->name, name) == 0)
            return cs->labels[l]->value;
    return "";
}

/* Starts or continues the series of these labels (a series may span frames; the server
 * sends them in label order, each once). */
static int remote_series_begin(struct remote_run *r, const Prompb__ChunkedSeries *cs)
{
    size_t len = 0;
    for (size_t l = 0; l < cs->n_labels; l++)
        len += strlen(cs->labels[l]->name) + strlen(cs->labels[l]->value) + 2;
    char *buf = remote_xrealloc(NULL, len);
    size_t o = 0;
    for (size_t l = 0; l < cs->n_labels; l++) {
        size_t a = strlen(cs->labels[l]->name) + 1, b = strlen(cs->labels[l]->value) + 1;
        memcpy(buf + o, cs->labels[l]->name, a);
        memcpy(buf + o + a, cs->labels[l]->value, b);
        o += a + b;
    }
    if (r->have_series) {
        size_t m = len < r->labels_len ? len : r->labels_len;
        int c = memcmp(buf, r->labels, m);
        if (c == 0 && len == r->labels_len) {
            free(buf);
            return 0; /* the same series, continued */
        }
        if (c < 0 || (c == 0 && len < r->labels_len)) {
            free(buf);
            return remote_fail(r, "remote read returned series out of order");
        }
        remote_series_done(r);
    }
    free(r->labels);
    r->labels = buf;
    r->labels_len = len;
    /* The group key: each by label's value, NUL-terminated. */
    size_t klen = 0;
    for (size_t b = 0; b < r->e->n_by; b++)
        klen += strlen(remote_by_value(cs, r->e->by[b])) + 1;
    char *key = remote_xrealloc(NULL, klen), *w = key;
    for (size_t b = 0; b < r->e->n_by; b++) {
        const char *v = remote_by_value(cs, r->e->by[b]);
        size_t n = strlen(v) + 1;
        memcpy(w, v, n);
        w += n;
    }
    r->group = remote_group_of(r, key, klen);
    free(key);
    r->have_series = true;
    r->n_samples = 0;
    return 0;
}

/* Keeps a sample of the series being read: in the range read, not a staleness marker. */
static int remote_sample(void *cls, int64_t t, double v)
{
    struct remote_run *r = cls;
    if (t < r->from || t > r->end || remote_is_stale(v))
        return 0;
    if (r->n_samples > 0 && t <= r->samples[r->n_samples - 1].t_ms)
        return remote_fail(r, "remote read returned samples out of time order");
    if (r->n_samples == r->cap_samples) {
        r->cap_samples = r->cap_samples ? 2 * r->cap_samples : 1024;
        r->samples = remote_xrealloc(r->samples, r->cap_samples * sizeof(*r->samples));
    }
    r->samples[r->n_samples++] = (struct prom_sample){t, v};
    return 0;
}

static void *remote_pb_alloc(void *cls, size_t size)
{
    return arena_alloc(cls, size);
}

static void remote_pb_free(void *cls, void *p)
{
    (void)cls;
    (void)p;
}

/* One ChunkedReadResponse. */
static int remote_frame(void *cls, const uint8_t *msg, size_t len)
{
    struct remote_run *r = cls;
    struct arena pa = {0};
    ProtobufCAllocator alloc = {remote_pb_alloc, remote_pb_free, &pa};
    Prompb__ChunkedReadResponse *resp = prompb__chunked_read_response__unpack(&alloc, len, msg);
    int rc = -1;
    if (resp == NULL || resp->query_index != 0) {
        remote_fail(r, "remote read sent a frame that is not a ChunkedReadResponse");
        goto out;
    }
    for (size_t k = 0; k < resp->n_chunked_series; k++) {
        const Prompb__ChunkedSeries *cs = resp->chunked_series[k];
        if (remote_series_begin(r, cs) != 0)
            goto out;
        for (size_t c = 0; c < cs->n_chunks; c++) {
            const Prompb__Chunk *ch = cs->chunks[c];
            if (ch->type != PROMPB__CHUNK__ENCODING__XOR) {
                remote_fail(r, "remote read returned a chunk that is not of floats (XOR)");
                goto out;
            }
            if (remote_xor_decode(ch->data.data, ch->data.len, remote_sample, r) < 0) {
                if (!r->failed)
                    remote_fail(r, "remote read returned a malformed XOR chunk");
                goto out;
            }
        }
    }
    rc = 0;
out:
    arena_free(&pa);
    return rc;
}

static int remote_sink(void *cls, const char *data, size_t len)
{
    struct remote_run *r = cls;
    return remote_frames_feed(&r->frames, data, len);
}

static int remote_label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct prom_label *)a)->name, ((const struct prom_label *)b)->name);
}

/* The groups with a value as a matrix in out. */
static void remote_result(struct remote_run *r, struct prom_result *out)
{
    struct arena *a = &out->arena;
    struct prom_series *series = arena_alloc(a, (r->n_groups + 1) * sizeof(*series));
    size_t n = 0;
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        const struct remote_group *g = &r->g[gi];
        size_t pts = 0;
        for (size_t k = 0; k < r->n_pts; k++)
            pts += g->has[k];
        if (pts == 0)
            continue;
        struct prom_series *s = &series[n++];
        struct prom_label *labels = arena_alloc(a, (r->e->n_by + 1) * sizeof(*labels));
        const char *v = g->key;
        for (size_t b = 0; b < r->e->n_by; b++) {
            if (*v != '\0')
                labels[s->n_labels++] =
                    (struct prom_label){arena_strdup(a, r->e->by[b]), arena_strdup(a, v)};
            v += strlen(v) + 1;
        }
        qsort(labels, s->n_labels, sizeof(*labels), remote_label_cmp);
        s->labels = labels;
        struct prom_sample *smp = arena_alloc(a, pts * sizeof(*smp));
        for (size_t k = 0; k < r->n_pts; k++)
            if (g->has[k])
                smp[s->n_samples++] =
                    (struct prom_sample){r->start + (int64_t)k * r->step, g->sum[k]};
        s->samples = smp;
    }
    out->type = PROM_RESULT_MATRIX;
    out->series = series;
    out->n_series = n;
}

/* Builds the snappy-compressed ReadRequest for [from, end]; *len its length. */
static char *remote_request(const struct remote_run *r, size_t *len)
{
    Prompb__LabelMatcher *m = remote_xrealloc(NULL, r->e->n_matchers * sizeof(*m));
    Prompb__LabelMatcher **mp = remote_xrealloc(NULL, r->e->n_matchers * sizeof(*mp));
    for (size_t i = 0; i < r->e->n_matchers; i++) {
        prompb__label_matcher__init(&m[i]);
        m[i].type = (Prompb__LabelMatcher__Type)r->e->matchers[i].type;
        m[i].name = (char *)r->e->matchers[i].name;
        m[i].value = (char *)r->e->matchers[i].value;
        mp[i] = &m[i];
    }
    Prompb__Query q, *qp = &q;
    prompb__query__init(&q);
    q.start_timestamp_ms = r->from;
    q.end_timestamp_ms = r->end;
    q.n_matchers = r->e->n_matchers;
    q.matchers = mp;
    Prompb__ReadRequest req;
    prompb__read_request__init(&req);
    Prompb__ReadRequest__ResponseType type =
        PROMPB__READ_REQUEST__RESPONSE_TYPE__STREAMED_XOR_CHUNKS;
    req.n_queries = 1;
    req.queries = &qp;
    req.n_accepted_response_types = 1;
    req.accepted_response_types = &type;
    size_t plen = prompb__read_request__get_packed_size(&req);
    uint8_t *packed = remote_xrealloc(NULL, plen);
    prompb__read_request__pack(&req, packed);
    size_t clen = snappy_max_compressed_length(plen);
    char *comp = remote_xrealloc(NULL, clen);
    if (snappy_compress((const char *)packed, plen, comp, &clen) != SNAPPY_OK)
        abort(); /* only with a too small buffer */
    free(packed);
    free(mp);
    free(m);
    *len = clen;
    return comp;
}

/* Whether the server's query engine is the one this module computes like: Prometheus 2.x
 * (3.x leaves the sample at the range's start out; other engines have their own
 * arithmetic). Asked once per client; anything else, or no answer, turns remote read off. */
static int remote_engine_ok(struct prom_client *c, struct prom_error *err)
{
    if (prom_remote_read_checked(c))
        return 0;
    char version[64], app[64];
    if (prom_buildinfo(c, version, sizeof(version), app, sizeof(app), err) != 0) {
        prom_remote_read_unsupported(c);
        char why[sizeof(err->msg)];
        memcpy(why, err->msg, sizeof(why));
        snprintf(err->msg, sizeof(err->msg),
                 "remote read not used: the server's version is unknown, so it may not be "
                 "Prometheus 2.x (%.300s)",
                 why);
        return -1;
    }
    if (strncmp(version, "2.", 2) != 0 || (app[0] != '\0' && strcmp(app, "Prometheus") != 0)) {
        prom_remote_read_unsupported(c);
        err->kind = PROM_ERR_QUERY;
        snprintf(err->msg, sizeof(err->msg),
                 "remote read not used: the server is %s %s, not Prometheus 2.x, whose "
                 "increase() and rate() sloe computes like",
                 app[0] ? app : "Prometheus", version);
        return -1;
    }
    prom_remote_read_set_checked(c);
    return 0;
}

/* Starts a run of e over [start, end] every step; -1 with err on a bad range. */
static int remote_run_init(struct remote_run *r, const struct remote_expr *e, int64_t start_ms,
                           int64_t end_ms, int64_t step_ms, struct prom_error *err)
{
    memset(r, 0, sizeof(*r));
    if (step_ms <= 0 || end_ms < start_ms ||
        (end_ms - start_ms) / step_ms > PROM_MAX_RANGE_POINTS) {
        err->kind = PROM_ERR_CONFIG;
        snprintf(err->msg, sizeof(err->msg), "bad range for remote read");
        return -1;
    }
    r->e = e;
    r->start = start_ms;
    r->end = end_ms;
    r->step = step_ms;
    r->from = start_ms - e->range_ms;
    r->n_pts = (size_t)((end_ms - start_ms) / step_ms + 1);
    r->frames.fn = remote_frame;
    r->frames.cls = r;
    return 0;
}

/* Ends a run whose whole body was fed: the result in out, or -1 with err. */
static int remote_run_finish(struct remote_run *r, struct prom_result *out, struct prom_error *err)
{
    if (remote_frames_end(&r->frames) != 0) {
        err->kind = PROM_ERR_JSON;
        snprintf(err->msg, sizeof(err->msg), "remote read: %s", r->frames.error);
        return -1;
    }
    remote_series_done(r);
    remote_result(r, out);
    return 0;
}

static void remote_run_free(struct remote_run *r)
{
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        free(r->g[gi].key);
        free(r->g[gi].sum);
        free(r->g[gi].has);
    }
    free(r->g);
    free(r->index);
    free(r->labels);
    free(r->samples);
    remote_frames_free(&r->frames);
}

int remote_decode(const struct remote_expr *e, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                  const void *body, size_t len, struct prom_result *out, struct prom_error *err)
{
    struct prom_error local;
    err = err ? err : &local;
    memset(out, 0, sizeof(*out));
    out->total_queryable_samples = -1;
    memset(err, 0, sizeof(*err));
    struct remote_run r;
    if (remote_run_init(&r, e, start_ms, end_ms, step_ms, err) != 0)
        return -1;
    int rc = -1;
    if (remote_frames_feed(&r.frames, body, len) != 0) {
        err->kind = PROM_ERR_JSON;
        snprintf(err->msg, sizeof(err->msg), "remote read: %s",
                 r.failed ? r.error : r.frames.error);
    } else {
        rc = remote_run_finish(&r, out, err);
    }
    remote_run_free(&r);
    return rc;
}

int remote_query_range(struct prom_client *c, const struct remote_expr *e, int64_t start_ms,
                       int64_t end_ms, int64_t step_ms, struct prom_result *out,
                       struct prom_error *err)
{
    struct prom_error local;
    err = err ? err : &local;
    memset(out, 0, sizeof(*out));
    out->total_queryable_samples = -1;
    memset(err, 0, sizeof(*err));
    if (remote_engine_ok(c, err) != 0)
        return -1;
    struct remote_run r;
    if (remote_run_init(&r, e, start_ms, end_ms, step_ms, err) != 0)
        return -1;
    static const char *const headers[] = {
        "Content-Encoding: snappy",
        "Content-Type: application/x-protobuf",
        "X-Prometheus-Remote-Read-Version: 0.1.0",
    };
    size_t len;
    char *body = remote_request(&r, &len);
    char ct[128];
    int rc = prom_post_raw(c, headers, 3, body, len, remote_sink, &r, ct, sizeof(ct), err);
    free(body);
    if (rc != 0) {
        int st = err->http_status;
        if (err->kind == PROM_ERR_HTTP &&
            (st == 400 || st == 404 || st == 405 || st == 415 || st == 501))
            prom_remote_read_unsupported(c);
        if (err->kind == PROM_ERR_JSON) /* the sink stopped: say why */
            snprintf(err->msg, sizeof(err->msg), "remote read: %s",
                     r.failed ? r.error : r.frames.error);
    } else if (strncmp(ct, "application/x-streamed-protobuf", 31) != 0) {
        /* A server that answers with another response type does not stream chunks. */
        prom_remote_read_unsupported(c);
        err->kind = PROM_ERR_HTTP;
        snprintf(err->msg, sizeof(err->msg),
                 "remote read answered with Content-Type \"%.80s\", not streamed chunks", ct);
        rc = -1;
    } else {
        rc = remote_run_finish(&r, out, err);
    }
    remote_run_free(&r);
    return rc;
}
