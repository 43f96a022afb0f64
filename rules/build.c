#include "build.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "tz.h"

/* Labels sloe puts on its own series: a rule may not use them. */
static const char *const build_reserved[] = {
    "service", "slo",         "window",   "type",     "state", "severity",
    "grade",   "description", "sli_kind", "timezone", "le",    NULL,
};

bool build_label_reserved(const char *name)
{
    for (size_t i = 0; build_reserved[i] != NULL; i++)
        if (strcmp(name, build_reserved[i]) == 0)
            return true;
    return false;
}

static bool build_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool build_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool build_label_name_ok(const char *name)
{
    if (!build_is_alpha(name[0]))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!build_is_alpha(*p) && !build_is_digit(*p))
            return false;
    return strncmp(name, "__", 2) != 0;
}

int build_name(struct ydoc *d, yaml_node_t *n, const char *what, const char **out)
{
    const char *s;
    if (ydoc_str(d, n, what, &s) != 0)
        return -1;
    bool ok = build_is_alpha(s[0]) && strlen(s) <= 128;
    for (const char *p = s; ok && *p; p++)
        ok = build_is_alpha(*p) || build_is_digit(*p) || *p == '-';
    if (!ok) {
        ydoc_error(d, n,
                   "%s \"%.100s\" is not a valid name: use letters, digits, '_' and '-', "
                   "starting with a letter or '_' (at most 128)",
                   what, s);
        return -1;
    }
    *out = s;
    return 0;
}

static int build_label_cmp(const void *pa, const void *pb)
{
    const struct rules_label *a = pa, *b = pb;
    return strcmp(a->name, b->name);
}

int build_labels(struct ydoc *d, yaml_node_t *n, const char *what, bool label_names,
                 struct rules_labels *out)
{
    out->n = 0;
    out->v = NULL;
    if (n == NULL)
        return 0;
    if (ydoc_map(d, n, what, NULL) != 0)
        return -1;
    int len = ydoc_map_len(n);
    if (len > RULES_MAX_LABELS) {
        ydoc_error(d, n, "%s has %d entries; the limit is %d", what, len, RULES_MAX_LABELS);
        return -1;
    }
    struct rules_label *v = arena_alloc(d->arena, (size_t)len * sizeof(*v) + 1);
    size_t k = 0;
    int rc = 0;
    for (int i = 0; i < len; i++) {
        yaml_node_t *kn = ydoc_key(d, n, i);
        const char *name, *value;
        if (ydoc_str(d, kn, what, &name) != 0 ||
            ydoc_str(d, ydoc_value(d, n, i), what, &value) != 0) {
            rc = -1;
            continue;
        }
        if (!build_label_name_ok(name)) {
            ydoc_error(d, kn,
                       "\"%.100s\" in %s is not a valid label name: letters, digits and '_', "
                       "not starting with a digit or \"__\"",
                       name, what);
            rc = -1;
            continue;
        }
        if (label_names && build_label_reserved(name)) {
            ydoc_error(d, kn, "label \"%s\" in %s is one sloe sets itself; choose another name",
                       name, what);
            rc = -1;
            continue;
        }
        v[k].name = name;
        v[k].value = value;
        k++;
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), build_label_cmp);
    out->n = k;
    out->v = v;
    return rc;
}

int build_percent(struct ydoc *d, yaml_node_t *n, const char *what, double *out)
{
    double v;
    if (ydoc_number(d, n, what, &v) != 0)
        return -1;
    if (!(v > 0 && v < 100)) {
        ydoc_error(d, n, "%s must be a percentage between 0 and 100 (exclusive), not %g", what, v);
        return -1;
    }
    *out = v;
    return 0;
}

int build_query(struct ydoc *d, yaml_node_t *n, const char *what, bool need_window,
                const char **out)
{
    const char *s;
    if (ydoc_str(d, n, what, &s) != 0)
        return -1;
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '\0') {
        ydoc_error(d, n, "%s is empty", what);
        return -1;
    }
    if (need_window && strstr(s, "{{.window}}") == NULL) {
        ydoc_error(d, n,
                   "%s has no {{.window}}: write the range as [{{.window}}] so sloe can "
                   "evaluate it over each window",
                   what);
        return -1;
    }
    *out = s;
    return 0;
}

int build_duration(struct ydoc *d, yaml_node_t *n, const char *what, int64_t min_ms, int64_t max_ms,
                   int64_t *out)
{
    const char *s = ydoc_scalar(n);
    int64_t ms;
    if (s == NULL || duration_parse_ms(s, &ms) != 0) {
        if (!d->over)
            ydoc_error(d, n,
                       "%s \"%.60s\" is not a duration: write it like 30s, 5m, 1h30m, 30d or 4w",
                       what, s ? s : "");
        return -1;
    }
    if (ms < min_ms || ms > max_ms) {
        char a[32], b[32];
        ydoc_error(d, n, "%s must be between %s and %s, not %s", what,
                   duration_format(min_ms, a, sizeof(a)), duration_format(max_ms, b, sizeof(b)), s);
        return -1;
    }
    *out = ms;
    return 0;
}

int build_timezone(struct ydoc *d, yaml_node_t *n, const char **out)
{
    const char *s;
    if (ydoc_str(d, n, "timezone", &s) != 0)
        return -1;
    if (tz_check(s) != 0) {
        ydoc_error(d, n,
                   "unknown time zone \"%.60s\": use an IANA name such as UTC, "
                   "Asia/Shanghai or America/New_York (see /usr/share/zoneinfo)",
                   s);
        return -1;
    }
    *out = s;
    return 0;
}

void build_check_lines(struct ydoc *d, yaml_node_t *n, const struct rules_slo *slo)
{
    if (slo->warning > slo->objective)
        ydoc_error(d, n,
                   "warning %g is above the objective %g: the warning line must be <= "
                   "the objective",
                   slo->warning, slo->objective);
    if (slo->minimum > slo->warning)
        ydoc_error(d, n,
                   "minimum %g is above the warning line %g: the minimum must be <= "
                   "warning <= objective",
                   slo->minimum, slo->warning);
}

static bool build_labels_equal(const struct rules_labels *a, const struct rules_labels *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) != 0 || strcmp(a->v[i].value, b->v[i].value) != 0)
            return false;
    return true;
}

static void *build_grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 16;
    v = realloc(v, *cap * size);
    if (v == NULL)
        abort();
    return v;
}

struct rules_service *build_service(struct build *b, struct ydoc *d,
                                    const struct build_service_def *def)
{
    const char *name = def->name;
    yaml_node_t *at = def->at;
    for (size_t i = 0; i < b->n_services; i++) {
        struct rules_service *s = b->services[i];
        if (strcmp(s->name, name) != 0)
            continue;
        bool ok = true;
        if (!build_labels_equal(&s->labels, &def->labels)) {
            ydoc_error(d, def->labels_at ? def->labels_at : at,
                       "service \"%s\" is also defined at %s:%u:%u with other labels: a "
                       "service spread over several places carries the same labels in each",
                       name, s->pos.file, s->pos.line, s->pos.col);
            ok = false;
        }
        if (s->excellent != def->excellent || s->pass != def->pass) {
            ydoc_error(d, def->scorecard_at ? def->scorecard_at : at,
                       "service \"%s\" is also defined at %s:%u:%u with another scorecard "
                       "(excellent %g, pass %g): give it the same one in each place",
                       name, s->pos.file, s->pos.line, s->pos.col, s->excellent, s->pass);
            ok = false;
        }
        return ok ? s : NULL;
    }
    b->services = build_grow(b->services, &b->cap_services, b->n_services, sizeof(*b->services));
    struct rules_service *s = arena_alloc(&b->set->arena, sizeof(*s));
    s->name = name;
    s->labels = def->labels;
    s->excellent = def->excellent;
    s->pass = def->pass;
    s->pos.file = d->file;
    s->pos.line = ydoc_line(at);
    s->pos.col = ydoc_col(at);
    b->services[b->n_services++] = s;
    return s;
}

/* FNV-1a over "service/slo" without building the string. */
static size_t build_hash(const char *svc, size_t svc_len, const char *name)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < svc_len; i++)
        h = (h ^ (unsigned char)svc[i]) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)h;
}

/* The index in b->slos of service/name, or -1. */
static long build_find(const struct build *b, const char *svc, size_t svc_len, const char *name)
{
    if (b->table_cap == 0)
        return -1;
    size_t mask = b->table_cap - 1;
    for (size_t i = build_hash(svc, svc_len, name) & mask;; i = (i + 1) & mask) {
        size_t slot = b->table[i];
        if (slot == 0)
            return -1;
        const struct rules_slo *o = b->slos[slot - 1];
        if (strlen(o->service->name) == svc_len && strncmp(o->service->name, svc, svc_len) == 0 &&
            strcmp(o->name, name) == 0)
            return (long)(slot - 1);
    }
}

static void build_table_put(struct build *b, size_t idx)
{
    size_t mask = b->table_cap - 1;
    const struct rules_slo *o = b->slos[idx];
    size_t i = build_hash(o->service->name, strlen(o->service->name), o->name) & mask;
    while (b->table[i] != 0)
        i = (i + 1) & mask;
    b->table[i] = idx + 1;
}

/* Keeps the table at most half full. */
static void build_table_grow(struct build *b)
{
    if (2 * (b->n_slos + 1) <= b->table_cap)
        return;
    free(b->table);
    b->table_cap = b->table_cap ? 2 * b->table_cap : 64;
    b->table = calloc(b->table_cap, sizeof(*b->table));
    if (b->table == NULL)
        abort();
    for (size_t i = 0; i < b->n_slos; i++)
        build_table_put(b, i);
}

struct rules_slo *build_slo(struct build *b, struct ydoc *d, yaml_node_t *at, yaml_node_t *name_at,
                            struct rules_service *svc, const char *name, enum rules_format fmt)
{
    if (b->too_many)
        return NULL;
    long dup = build_find(b, svc->name, strlen(svc->name), name);
    if (dup >= 0) {
        const struct rules_slo *o = b->slos[dup];
        ydoc_error(d, name_at != NULL ? name_at : at,
                   "duplicate SLO \"%s/%s\": first defined at %s:%u:%u", svc->name, name,
                   o->pos.file, o->pos.line, o->pos.col);
        return NULL;
    }
    if (b->n_slos >= RULES_MAX_SLOS) {
        ydoc_error(d, at, "more than %d SLOs in the rule set; split it across sloe shards",
                   RULES_MAX_SLOS);
        b->too_many = true;
        return NULL;
    }
    build_table_grow(b);
    b->slos = build_grow(b->slos, &b->cap_slos, b->n_slos, sizeof(*b->slos));
    struct rules_slo *o = arena_alloc(&b->set->arena, sizeof(*o));
    o->service = svc;
    o->name = name;
    o->description = "";
    o->objective = o->warning = o->minimum = NAN;
    o->window.kind = RULES_WINDOW_ROLLING;
    o->window.duration_ms = 30LL * 24 * 3600 * 1000;
    o->timezone = "UTC";
    o->alerting.page.enabled = true;
    o->alerting.ticket.enabled = true;
    o->scoring.weight = 1;
    o->scoring.deduct = 5;
    o->scoring.per = 0.1;
    o->format = fmt;
    o->pos.file = d->file;
    o->pos.line = ydoc_line(at);
    o->pos.col = ydoc_col(at);
    b->slos[b->n_slos] = o;
    build_table_put(b, b->n_slos);
    b->n_slos++;
    return o;
}

/* depends_on entries are checked once every file is read: the SLOs they name may come later. */
/* depends_on entries are checked once every file is read: the SLOs they name may come later.
 * Returns the index in b->slos of the SLO ref ("service/slo") names, or -1. */
static long build_lookup(struct build *b, const char *ref)
{
    const char *slash = strchr(ref, '/');
    if (slash == NULL)
        return -1;
    return build_find(b, ref, (size_t)(slash - ref), slash + 1);
}

static void build_error_at(struct build *b, const struct rules_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void build_error_at(struct build *b, const struct rules_pos *pos, const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    diag_add(b->diags, DIAG_ERROR, pos->file, pos->line, pos->col, "%s", buf);
}

/* Tarjan's strongly connected components over depends_on, to find cycles in linear time. */
struct build_scc {
    struct build *b;
    long *index, *low, *comp; /* per SLO; index -1 = unvisited */
    long *stack;
    size_t sp;
    long next, n_comp;
    bool *on_stack;
};

static void build_scc_visit(struct build_scc *t, long v)
{
    t->index[v] = t->low[v] = t->next++;
    t->stack[t->sp++] = v;
    t->on_stack[v] = true;
    const struct rules_slo *o = t->b->slos[v];
    for (size_t k = 0; k < o->n_depends_on; k++) {
        long w = build_lookup(t->b, o->depends_on[k]);
        if (w < 0)
            continue;
        if (t->index[w] < 0) {
            build_scc_visit(t, w);
            if (t->low[w] < t->low[v])
                t->low[v] = t->low[w];
        } else if (t->on_stack[w] && t->index[w] < t->low[v]) {
            t->low[v] = t->index[w];
        }
    }
    if (t->low[v] == t->index[v]) {
        long w;
        do {
            w = t->stack[--t->sp];
            t->on_stack[w] = false;
            t->comp[w] = t->n_comp;
        } while (w != v);
        t->n_comp++;
    }
}

/* Reports each depends_on cycle once, at the entry of its first SLO that leads into it. */
static void build_check_cycles(struct build *b)
{
    size_t n = b->n_slos;
    struct build_scc t = {.b = b};
    t.index = malloc((n + 1) * sizeof(long));
    t.low = malloc((n + 1) * sizeof(long));
    t.comp = malloc((n + 1) * sizeof(long));
    t.stack = malloc((n + 1) * sizeof(long));
    t.on_stack = calloc(n + 1, sizeof(bool));
    bool *reported = calloc(n + 1, sizeof(bool));
    if (!t.index || !t.low || !t.comp || !t.stack || !t.on_stack || !reported)
        abort();
    for (size_t i = 0; i < n; i++)
        t.index[i] = -1;
    for (size_t i = 0; i < n; i++)
        if (t.index[i] < 0)
            build_scc_visit(&t, (long)i);
    for (size_t i = 0; i < n; i++) {
        const struct rules_slo *o = b->slos[i];
        for (size_t k = 0; k < o->n_depends_on && !reported[t.comp[i]]; k++) {
            long w = build_lookup(b, o->depends_on[k]);
            if (w < 0 || (size_t)w == i || t.comp[w] != t.comp[i])
                continue;
            reported[t.comp[i]] = true;
            build_error_at(b, &o->depends_on_pos[k],
                           "depends_on \"%s\" closes a cycle: %s/%s depends on itself through "
                           "it; underpinning SLOs cannot depend back on what they support",
                           o->depends_on[k], o->service->name, o->name);
        }
    }
    free(t.index);
    free(t.low);
    free(t.comp);
    free(t.stack);
    free(t.on_stack);
    free(reported);
}

static void build_check_depends(struct build *b)
{
    for (size_t i = 0; i < b->n_slos; i++) {
        struct rules_slo *o = b->slos[i];
        double product = 1;
        bool all_found = o->n_depends_on > 0;
        for (size_t k = 0; k < o->n_depends_on; k++) {
            const struct rules_pos *pos = &o->depends_on_pos[k];
            const char *ref = o->depends_on[k];
            const char *slash = strchr(ref, '/');
            if (slash == NULL || slash == ref || slash[1] == '\0' || strchr(slash + 1, '/')) {
                all_found = false; /* reported as malformed where it was read */
                continue;
            }
            long j = build_lookup(b, ref);
            struct rules_slo *dep = j >= 0 ? b->slos[j] : NULL;
            if (dep == NULL) {
                build_error_at(b, pos,
                               "depends_on \"%s\" names no loaded SLO: write service/slo of an "
                               "SLO in the rule files given",
                               ref);
                all_found = false;
                continue;
            }
            if (dep == o) {
                build_error_at(b, pos, "SLO \"%s\" depends on itself", ref);
                all_found = false;
                continue;
            }
            product *= dep->objective / 100;
        }
        if (all_found && product * 100 < o->objective - 1e-9)
            diag_add(b->diags, DIAG_WARNING, o->depends_on_pos[0].file, o->depends_on_pos[0].line,
                     o->depends_on_pos[0].col,
                     "the SLOs %s/%s depends on cannot support its objective %g%%: together "
                     "they promise at most %.10g%% (the product of their objectives)",
                     o->service->name, o->name, o->objective, product * 100);
    }
    build_check_cycles(b);
}

static int build_slo_cmp(const void *pa, const void *pb)
{
    const struct rules_slo *a = *(const struct rules_slo *const *)pa;
    const struct rules_slo *b = *(const struct rules_slo *const *)pb;
    int c = strcmp(a->service->name, b->service->name);
    return c != 0 ? c : strcmp(a->name, b->name);
}

static int build_service_cmp(const void *pa, const void *pb)
{
    const struct rules_service *a = *(const struct rules_service *const *)pa;
    const struct rules_service *b = *(const struct rules_service *const *)pb;
    return strcmp(a->name, b->name);
}

void build_check_label_clash(struct ydoc *d, yaml_node_t *labels_node,
                             const struct rules_service *svc, const struct rules_slo *slo)
{
    int len = ydoc_map_len(labels_node);
    for (int i = 0; i < len; i++) {
        yaml_node_t *k = ydoc_key(d, labels_node, i);
        const char *name = ydoc_scalar(k);
        if (name == NULL)
            continue;
        for (size_t j = 0; svc != NULL && j < svc->labels.n; j++)
            if (strcmp(name, svc->labels.v[j].name) == 0)
                ydoc_error(d, k,
                           "SLO label \"%s\" is also a label of service \"%s\": set it in one "
                           "place",
                           name, svc->name);
        for (size_t g = 0; g < slo->n_group_by; g++)
            if (strcmp(name, slo->group_by[g]) == 0)
                ydoc_error(d, k, "label \"%s\" is both a fixed label and in group_by", name);
    }
}

int build_finish(struct build *b)
{
    size_t errors_before = b->diags->errors;
    build_check_depends(b);

    struct arena *a = &b->set->arena;
    if (b->n_slos > 1)
        qsort(b->slos, b->n_slos, sizeof(*b->slos), build_slo_cmp);
    if (b->n_services > 1)
        qsort(b->services, b->n_services, sizeof(*b->services), build_service_cmp);
    const struct rules_slo **slos = arena_alloc(a, (b->n_slos + 1) * sizeof(*slos));
    for (size_t i = 0; i < b->n_slos; i++)
        slos[i] = b->slos[i];
    const struct rules_service **svcs = arena_alloc(a, (b->n_services + 1) * sizeof(*svcs));
    for (size_t i = 0; i < b->n_services; i++) {
        struct rules_service *s = b->services[i];
        svcs[i] = s;
        size_t n = 0;
        for (size_t j = 0; j < b->n_slos; j++)
            if (b->slos[j]->service == s)
                n++;
        const struct rules_slo **mine = arena_alloc(a, (n + 1) * sizeof(*mine));
        n = 0;
        for (size_t j = 0; j < b->n_slos; j++)
            if (b->slos[j]->service == s)
                mine[n++] = b->slos[j];
        s->slos = mine;
        s->n_slos = n;
    }
    b->set->slos = slos;
    b->set->n_slos = b->n_slos;
    b->set->services = svcs;
    b->set->n_services = b->n_services;
    free(b->slos);
    free(b->services);
    free(b->table);
    b->table = NULL;
    b->slos = NULL;
    b->services = NULL;
    return b->diags->errors == errors_before ? 0 : -1;
}
