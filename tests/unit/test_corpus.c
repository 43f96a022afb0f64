/* The rule-file corpus: good files and examples load; each bad file yields exactly the
 * problems its "# expect:" lines name, at their line and column. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rules.h"

/* Lists the *.yaml files of dir, sorted; returns their count. */
static size_t corpus_list(const char *dir, char ***out)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    char **v = calloc(n > 0 ? (size_t)n + 1 : 1, sizeof(*v));
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(ents[i]->d_name);
        if (len > 5 && strcmp(ents[i]->d_name + len - 5, ".yaml") == 0) {
            v[k] = malloc(strlen(dir) + len + 2);
            sprintf(v[k], "%s/%s", dir, ents[i]->d_name);
            k++;
        }
        free(ents[i]);
    }
    if (n > 0)
        free(ents);
    *out = v;
    return k;
}

static void corpus_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int corpus_load(const char *const *files, size_t n, struct diag_list *diags)
{
    struct rules_set *set = NULL;
    int rc = rules_load_files(files, n, &set, diags);
    rules_set_free(set);
    return rc;
}

static void good_files_each_alone(const char *dir, size_t at_least)
{
    char **files;
    size_t n = corpus_list(dir, &files);
    if (!EXPECT(n >= at_least))
        harness_fail(__FILE__, __LINE__, "%s holds %zu files", dir, n);
    for (size_t i = 0; i < n; i++) {
        struct diag_list diags = {0};
        const char *one = files[i];
        if (!EXPECT_INT(corpus_load(&one, 1, &diags), 0) || diags.errors != 0) {
            fprintf(stderr, "    in %s:\n", one);
            diag_print(&diags, stderr);
        }
        diag_free(&diags);
    }
    corpus_free(files, n);
}

static void good_files(void)
{
    good_files_each_alone("tests/rules/good", 5);
}

static void examples_each_alone(void)
{
    good_files_each_alone("rules/examples", 8);
}

static void examples_together(void)
{
    char **files;
    size_t n = corpus_list("rules/examples", &files);
    struct diag_list diags = {0};
    if (!EXPECT_INT(corpus_load((const char *const *)files, n, &diags), 0))
        diag_print(&diags, stderr);
    /* The examples teach: they carry no warning either. */
    EXPECT_INT(diags.warnings, 0);
    diag_free(&diags);
    corpus_free(files, n);
}

struct corpus_expect {
    unsigned line, col;
    int warning;
    char text[256];
    int matched;
};

/* Reads the "# expect: L:C: text" and "# expect-warning: L:C: text" lines of a file. */
static size_t corpus_expects(const char *path, struct corpus_expect *v, size_t cap)
{
    char *text = harness_read_file(path, NULL);
    size_t n = 0;
    for (char *p = text; p != NULL && *p && n < cap;) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        char *at = strstr(p, "# expect");
        if (at != NULL) {
            struct corpus_expect *e = &v[n];
            memset(e, 0, sizeof(*e));
            const char *rest = NULL;
            if (strncmp(at, "# expect: ", 10) == 0)
                rest = at + 10;
            else if (strncmp(at, "# expect-warning: ", 18) == 0) {
                rest = at + 18;
                e->warning = 1;
            }
            int used = 0;
            if (rest != NULL && sscanf(rest, "%u:%u: %n", &e->line, &e->col, &used) == 2 &&
                used > 0) {
                snprintf(e->text, sizeof(e->text), "%s", rest + used);
                n++;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    free(text);
    return n;
}

static void bad_files(void)
{
    char **files;
    size_t n = corpus_list("tests/rules/bad", &files);
    if (!EXPECT(n >= 30))
        harness_fail(__FILE__, __LINE__, "tests/rules/bad holds %zu files", n);
    for (size_t i = 0; i < n; i++) {
        struct corpus_expect ex[32];
        size_t n_ex = corpus_expects(files[i], ex, 32);
        size_t n_err = 0;
        for (size_t k = 0; k < n_ex; k++)
            n_err += !ex[k].warning;
        if (n_ex == 0) {
            harness_fail(__FILE__, __LINE__, "%s has no # expect lines", files[i]);
            continue;
        }
        struct diag_list diags = {0};
        const char *one = files[i];
        int rc = corpus_load(&one, 1, &diags);
        bool ok = (rc != 0) == (n_err > 0) && diags.errors == n_err;
        for (size_t k = 0; k < n_ex; k++) {
            for (size_t d = 0; d < diags.n; d++) {
                const struct diag *g = &diags.v[d];
                if (g->line == ex[k].line && g->col == ex[k].col &&
                    (g->severity == DIAG_WARNING) == (ex[k].warning != 0) &&
                    strstr(g->msg, ex[k].text) != NULL)
                    ex[k].matched = 1;
            }
            if (!ex[k].matched) {
                ok = false;
                harness_fail(__FILE__, __LINE__, "%s: no %s at %u:%u containing \"%s\"", files[i],
                             ex[k].warning ? "warning" : "error", ex[k].line, ex[k].col,
                             ex[k].text);
            }
        }
        if (!ok) {
            harness_fail(__FILE__, __LINE__, "%s: expected %zu errors, got %zu:", files[i], n_err,
                         diags.errors);
            diag_print(&diags, stderr);
        }
        diag_free(&diags);
    }
    corpus_free(files, n);
}

const struct harness_test suite_corpus[] = {
    {"good_files", good_files},
    {"examples_each_alone", examples_each_alone},
    {"examples_together", examples_together},
    {"bad_files", bad_files},
    HARNESS_END,
};
