#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "build.h"
#include "duration.h"
#include "native.h"
#include "openslo.h"
#include "sloth.h"
#include "ydoc.h"

const char *rules_sli_kind_name(enum rules_sli_kind kind)
{
    static const char *const names[] = {"events", "latency", "raw", "uptime", "timeslice"};
    return names[kind];
}

const char *rules_calendar_name(enum rules_calendar cal)
{
    static const char *const names[] = {"day", "week", "month", "quarter"};
    return names[cal];
}

const char *rules_op_name(enum rules_op op)
{
    static const char *const names[] = {"", "lt", "lte", "gt", "gte"};
    return names[op];
}

/* One YAML document of a rule file, kept until the whole set is read. */
struct rules_doc {
    yaml_document_t doc;
    struct ydoc yd;
    enum rules_format format;
    bool skip;
};

struct rules_docs {
    struct rules_doc **v;
    size_t n, cap;
};

static void rules_docs_push(struct rules_docs *ds, struct rules_doc *d)
{
    if (ds->n == ds->cap) {
        ds->cap = ds->cap ? 2 * ds->cap : 16;
        ds->v = realloc(ds->v, ds->cap * sizeof(*ds->v));
        if (ds->v == NULL)
            abort();
    }
    ds->v[ds->n++] = d;
}

static void rules_yaml_error(struct diag_list *diags, const char *file, yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "cannot be read";
    if (p->error == YAML_READER_ERROR) {
        /* The reader knows the byte offset of a bad byte, not its line. */
        diag_add(diags, DIAG_ERROR, file, 1, 1,
                 "not a text file in UTF-8: %s at byte %zu (save it as UTF-8)", problem,
                 p->problem_offset);
        return;
    }
    const yaml_mark_t *m = &p->problem_mark;
    if (p->context != NULL)
        diag_add(diags, DIAG_ERROR, file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                 "YAML syntax: %s %s (line %zu)", problem, p->context, p->context_mark.line + 1);
    else
        diag_add(diags, DIAG_ERROR, file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                 "YAML syntax: %s", problem);
}

/* A first pass over the events: reports syntax errors and refuses nesting past the cap
 * before any tree is built. Returns 0 when the text may be loaded. */
static int rules_prescan(const char *file, const unsigned char *data, size_t len,
                         struct diag_list *diags)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, data, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rules_yaml_error(diags, file, &p);
            rc = -1;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > RULES_MAX_DEPTH) {
                diag_add(diags, DIAG_ERROR, file, (unsigned)ev.start_mark.line + 1,
                         (unsigned)ev.start_mark.column + 1,
                         "nesting deeper than %d levels: not a rule file", RULES_MAX_DEPTH);
                yaml_event_delete(&ev);
                rc = -1;
                break;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

/* Tells the format of a document from its version or apiVersion key. */
static int rules_detect(struct rules_doc *rd)
{
    struct ydoc *d = &rd->yd;
    yaml_node_t *root = ydoc_root(d);
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        ydoc_error(d, root,
                   "not a rule file: expected a mapping starting with version: sloe/v1, "
                   "version: \"prometheus/v1\" (Sloth) or apiVersion: openslo/v1");
        return -1;
    }
    yaml_node_t *vn = ydoc_get(d, root, "version");
    yaml_node_t *an = ydoc_get(d, root, "apiVersion");
    const char *v = ydoc_scalar(vn), *a = ydoc_scalar(an);
    if (v != NULL && strcmp(v, "sloe/v1") == 0) {
        rd->format = RULES_FORMAT_NATIVE;
        return 0;
    }
    if (v != NULL && strcmp(v, "prometheus/v1") == 0) {
        rd->format = RULES_FORMAT_SLOTH;
        return 0;
    }
    if (a != NULL && strcmp(a, "openslo/v1") == 0) {
        rd->format = RULES_FORMAT_OPENSLO;
        return 0;
    }
    if (a != NULL && strncmp(a, "openslo/", 8) == 0)
        ydoc_error(d, an, "OpenSLO %.40s is not supported: sloe reads openslo/v1", a + 8);
    else if (a != NULL && strncmp(a, "sloth.slok.dev/", 15) == 0)
        ydoc_error(d, an,
                   "Sloth's Kubernetes PrometheusServiceLevel is not read: put its spec "
                   "in a file with version: \"prometheus/v1\"");
    else if (vn != NULL || an != NULL)
        ydoc_error(d, vn ? vn : an,
                   "unknown %s \"%.60s\": sloe reads version: sloe/v1, version: "
                   "\"prometheus/v1\" (Sloth) and apiVersion: openslo/v1",
                   vn ? "version" : "apiVersion", (v ? v : a) ? (v ? v : a) : "");
    else
        ydoc_error(d, root,
                   "missing field \"version\": start the file with version: sloe/v1 "
                   "(or Sloth's \"prometheus/v1\", or OpenSLO's apiVersion)");
    return -1;
}

/* Parses one file's text into documents appended to docs. */
static void rules_parse(const char *file, const char *data, size_t len, struct rules_set *set,
                        struct rules_docs *docs, struct diag_list *diags)
{
    if (len > RULES_MAX_FILE_BYTES) {
        diag_add(diags, DIAG_ERROR, file, 0, 0,
                 "file is %zu bytes; rule files are limited to %d bytes (split it)", len,
                 RULES_MAX_FILE_BYTES);
        return;
    }
    if (memchr(data, '\0', len) != NULL) {
        diag_add(diags, DIAG_ERROR, file, 0, 0, "binary file (holds NUL bytes): not a rule file");
        return;
    }
    const unsigned char *text = (const unsigned char *)data;
    if (rules_prescan(file, text, len, diags) != 0)
        return;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, text, len);
    size_t found = 0;
    for (;;) {
        struct rules_doc *rd = calloc(1, sizeof(*rd));
        if (rd == NULL)
            abort();
        if (!yaml_parser_load(&p, &rd->doc)) {
            rules_yaml_error(diags, file, &p);
            free(rd);
            break;
        }
        if (yaml_document_get_root_node(&rd->doc) == NULL) {
            yaml_document_delete(&rd->doc);
            free(rd);
            break;
        }
        rd->yd.file = arena_strdup(&set->arena, file);
        rd->yd.doc = &rd->doc;
        rd->yd.diags = diags;
        rd->yd.arena = &set->arena;
        rd->skip = rules_detect(rd) != 0;
        rules_docs_push(docs, rd);
        found++;
    }
    yaml_parser_delete(&p);
    if (found == 0 && diags->errors == 0)
        diag_add(diags, DIAG_ERROR, file, 0, 0, "no rules: the file is empty");
}

static int rules_read_file(const char *path, char **data, size_t *len, struct diag_list *diags)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        abort();
    for (;;) {
        if (n == cap) {
            if (cap > RULES_MAX_FILE_BYTES) {
                diag_add(diags, DIAG_ERROR, path, 0, 0,
                         "file is larger than %d bytes, the limit for a rule file (split it)",
                         RULES_MAX_FILE_BYTES);
                free(buf);
                fclose(f);
                return -1;
            }
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL)
                abort();
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read (is it a directory?)");
        free(buf);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Reads every parsed document into the set and checks it; frees the documents. */
static int rules_build(struct rules_set *set, struct rules_docs *docs, struct diag_list *diags,
                       size_t errors_before, struct rules_set **out)
{
    struct build b = {.set = set, .diags = diags};

    struct openslo_sli *slis = calloc(docs->n + 1, sizeof(*slis));
    if (slis == NULL)
        abort();
    struct openslo_index index = {0, slis};
    for (size_t i = 0; i < docs->n; i++) {
        struct rules_doc *rd = docs->v[i];
        if (rd->skip || rd->format != RULES_FORMAT_OPENSLO)
            continue;
        const char *name = openslo_sli_name(&rd->yd, ydoc_root(&rd->yd));
        if (name != NULL)
            slis[index.n++] = (struct openslo_sli){name, &rd->yd, ydoc_root(&rd->yd)};
    }
    for (size_t i = 0; i < docs->n; i++) {
        struct rules_doc *rd = docs->v[i];
        if (rd->skip)
            continue;
        yaml_node_t *root = ydoc_root(&rd->yd);
        switch (rd->format) {
        case RULES_FORMAT_NATIVE:
            native_read(&b, &rd->yd, root);
            break;
        case RULES_FORMAT_SLOTH:
            sloth_read(&b, &rd->yd, root);
            break;
        case RULES_FORMAT_OPENSLO:
            openslo_read(&b, &rd->yd, root, &index);
            break;
        }
    }
    free(slis);
    if (b.n_slos == 0 && diags->errors == errors_before)
        diag_add(diags, DIAG_ERROR, set->n_files ? set->files[0] : "-", 0, 0,
                 "no SLOs defined in the rule files given");
    native_finish(&b);
    int rc = build_finish(&b);
    for (size_t i = 0; i < docs->n; i++) {
        yaml_document_delete(&docs->v[i]->doc);
        free(docs->v[i]);
    }
    free(docs->v);
    if (rc != 0 || diags->errors != errors_before) {
        rules_set_free(set);
        *out = NULL;
        return -1;
    }
    *out = set;
    return 0;
}

int rules_load_files(const char *const *files, size_t n, struct rules_set **out,
                     struct diag_list *diags)
{
    *out = NULL;
    struct rules_set *set = calloc(1, sizeof(*set));
    if (set == NULL)
        abort();
    if (n > RULES_MAX_FILES) {
        diag_add(diags, DIAG_ERROR, files[0], 0, 0, "%zu rule files; the limit is %d", n,
                 RULES_MAX_FILES);
        free(set);
        return -1;
    }
    const char **names = arena_alloc(&set->arena, (n + 1) * sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = arena_strdup(&set->arena, files[i]);
    set->files = names;
    set->n_files = n;
    struct rules_docs docs = {0};
    size_t errors_before = diags->errors;
    for (size_t i = 0; i < n; i++) {
        char *data;
        size_t len;
        if (rules_read_file(files[i], &data, &len, diags) != 0)
            continue;
        rules_parse(files[i], data, len, set, &docs, diags);
        free(data);
    }
    return rules_build(set, &docs, diags, errors_before, out);
}

int rules_load_buffer(const char *name, const char *data, size_t len, struct rules_set **out,
                      struct diag_list *diags)
{
    struct rules_set *set = calloc(1, sizeof(*set));
    if (set == NULL)
        abort();
    const char **names = arena_alloc(&set->arena, 2 * sizeof(*names));
    names[0] = arena_strdup(&set->arena, name);
    set->files = names;
    set->n_files = 1;
    struct rules_docs docs = {0};
    size_t errors_before = diags->errors;
    rules_parse(name, data, len, set, &docs, diags);
    return rules_build(set, &docs, diags, errors_before, out);
}

void rules_set_free(struct rules_set *set)
{
    if (set == NULL)
        return;
    arena_free(&set->arena);
    free(set);
}

const struct rules_slo *rules_find(const struct rules_set *set, const char *service,
                                   const char *slo)
{
    for (size_t i = 0; i < set->n_slos; i++)
        if (strcmp(set->slos[i]->service->name, service) == 0 &&
            strcmp(set->slos[i]->name, slo) == 0)
            return set->slos[i];
    return NULL;
}

/* ---- paths ---- */

static int rules_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rules_paths_push(char ***v, size_t *n, size_t *cap, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *v = realloc(*v, *cap * sizeof(**v));
        if (*v == NULL)
            abort();
    }
    (*v)[*n] = strdup(s);
    if ((*v)[*n] == NULL)
        abort();
    (*n)++;
}

static bool rules_yaml_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && ((len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
                              (len > 4 && strcmp(name + len - 4, ".yml") == 0));
}

int rules_expand_paths(const char *const *paths, size_t n, char ***out, size_t *n_out,
                       struct diag_list *diags)
{
    char **v = NULL;
    size_t k = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *path = paths[i];
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **ents;
            int m = scandir(path, &ents, NULL, alphasort);
            if (m < 0) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot read directory: %s",
                         strerror(errno));
                rc = -1;
                continue;
            }
            size_t before = k;
            for (int j = 0; j < m; j++) {
                if (rules_yaml_name(ents[j]->d_name)) {
                    size_t len = strlen(path);
                    char *full = malloc(len + strlen(ents[j]->d_name) + 2);
                    if (full == NULL)
                        abort();
                    sprintf(full, "%s%s%s", path, len && path[len - 1] == '/' ? "" : "/",
                            ents[j]->d_name);
                    rules_paths_push(&v, &k, &cap, full);
                    free(full);
                }
                free(ents[j]);
            }
            free(ents);
            if (k == before) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, "directory holds no .yaml or .yml files");
                rc = -1;
            }
        } else if (strpbrk(path, "*?[") != NULL && stat(path, &st) != 0) {
            glob_t g;
            int grc = glob(path, 0, NULL, &g);
            if (grc != 0) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, "pattern matches no file");
                rc = -1;
                continue;
            }
            qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), rules_str_cmp);
            for (size_t j = 0; j < g.gl_pathc; j++)
                rules_paths_push(&v, &k, &cap, g.gl_pathv[j]);
            globfree(&g);
        } else if (stat(path, &st) != 0) {
            diag_add(diags, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
            rc = -1;
        } else {
            rules_paths_push(&v, &k, &cap, path);
        }
    }
    *out = v;
    *n_out = k;
    return rc;
}

void rules_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

/* ---- canonical dump ---- */

static void rules_dump_labels(FILE *f, const char *what, const struct rules_labels *l)
{
    if (l->n == 0)
        return;
    fprintf(f, " %s{", what);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s%s=\"%s\"", i ? "," : "", l->v[i].name, l->v[i].value);
    fputc('}', f);
}

static void rules_dump_slo(FILE *f, const struct rules_slo *o)
{
    char b1[32];
    const struct rules_sli *s = &o->sli;
    fprintf(f, "  slo %s\n", o->name);
    fprintf(f, "    description: %s\n", o->description);
    fprintf(f, "    lines: objective=%.10g warning=%.10g minimum=%.10g\n", o->objective, o->warning,
            o->minimum);
    if (o->window.kind == RULES_WINDOW_ROLLING)
        fprintf(f, "    window: rolling %s\n",
                duration_format(o->window.duration_ms, b1, sizeof(b1)));
    else
        fprintf(f, "    window: calendar %s\n", rules_calendar_name(o->window.calendar));
    fprintf(f, "    timezone: %s\n", o->timezone);
    fprintf(f, "    sli: %s\n", rules_sli_kind_name(s->kind));
    switch (s->kind) {
    case RULES_SLI_EVENTS:
        if (s->good_query)
            fprintf(f, "      good: %s\n", s->good_query);
        if (s->bad_query)
            fprintf(f, "      bad: %s\n", s->bad_query);
        fprintf(f, "      total: %s\n", s->total_query ? s->total_query : "");
        break;
    case RULES_SLI_LATENCY:
        fprintf(f, "      histogram: %s%s le=%.10g\n", s->metric ? s->metric : "",
                s->selector ? s->selector : "", s->threshold);
        break;
    case RULES_SLI_RAW:
        fprintf(f, "      error_ratio: %s\n", s->error_ratio_query ? s->error_ratio_query : "");
        break;
    case RULES_SLI_UPTIME:
        fprintf(f, "      query: %s\n", s->query ? s->query : "");
        break;
    case RULES_SLI_TIMESLICE:
        fprintf(f, "      query: %s\n", s->query ? s->query : "");
        if (s->op != RULES_OP_NONE)
            fprintf(f, "      good when: %s %.10g\n", rules_op_name(s->op), s->value);
        else
            fprintf(f, "      good when: mean of slice values\n");
        fprintf(f, "      slice: %s\n", duration_format(s->slice_ms, b1, sizeof(b1)));
        break;
    }
    if (o->n_group_by > 0) {
        fprintf(f, "    group_by:");
        for (size_t i = 0; i < o->n_group_by; i++)
            fprintf(f, " %s", o->group_by[i]);
        fputc('\n', f);
    }
    if (o->service_hours.set)
        fprintf(f, "    service_hours: days=%02x minutes=%d-%d\n", o->service_hours.days,
                o->service_hours.start_minute, o->service_hours.end_minute);
    for (size_t i = 0; i < o->n_exclusions; i++)
        fprintf(f, "    exclusion: %lld-%lld %s\n", (long long)o->exclusions[i].start,
                (long long)o->exclusions[i].end, o->exclusions[i].reason);
    for (size_t i = 0; i < o->n_depends_on; i++)
        fprintf(f, "    depends_on: %s\n", o->depends_on[i]);
    const struct rules_alerting *a = &o->alerting;
    fprintf(f, "    alerting: name=%s", a->name ? a->name : "");
    rules_dump_labels(f, "labels", &a->labels);
    rules_dump_labels(f, "annotations", &a->annotations);
    fprintf(f, " page=%s", a->page.enabled ? "on" : "off");
    rules_dump_labels(f, "page_labels", &a->page.labels);
    rules_dump_labels(f, "page_annotations", &a->page.annotations);
    fprintf(f, " ticket=%s", a->ticket.enabled ? "on" : "off");
    rules_dump_labels(f, "ticket_labels", &a->ticket.labels);
    rules_dump_labels(f, "ticket_annotations", &a->ticket.annotations);
    fputc('\n', f);
    fprintf(f, "    scoring: weight=%.10g deduct=%.10g per=%.10g\n", o->scoring.weight,
            o->scoring.deduct, o->scoring.per);
    for (size_t i = 0; i < o->n_credits; i++)
        fprintf(f, "    credit: below=%.10g credit=%.10g\n", o->credits[i].below,
                o->credits[i].credit);
    if (o->labels.n > 0) {
        fprintf(f, "   ");
        rules_dump_labels(f, "labels", &o->labels);
        fputc('\n', f);
    }
}

char *rules_dump(const struct rules_set *set)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        abort();
    for (size_t i = 0; i < set->n_services; i++) {
        const struct rules_service *svc = set->services[i];
        fprintf(f, "service %s scorecard=%.10g/%.10g", svc->name, svc->excellent, svc->pass);
        rules_dump_labels(f, "labels", &svc->labels);
        fputc('\n', f);
        for (size_t j = 0; j < svc->n_slos; j++)
            rules_dump_slo(f, svc->slos[j]);
    }
    fclose(f);
    return buf;
}
