#include "cli.h"

#include <string.h>

#include "diag.h"
#include "rules.h"

static const char cli_usage[] =
    "usage: sloe COMMAND [FLAGS] [ARGS]\n"
    "\n"
    "sloe evaluates SLO rule files against Prometheus and exports compliance, error budgets,\n"
    "burn rates and states as metrics.\n"
    "\n"
    "commands:\n"
    "  check FILE|DIR...   validate rule files (sloe/v1, Sloth prometheus/v1, OpenSLO v1)\n"
    "\n"
    "flags:\n"
    "  --help              show this help (sloe COMMAND --help for a command)\n"
    "  --version           show the version\n"
    "\n"
    "eval, serve, generate alerts and report are not in this version yet.\n"
    "See sloe(1) and sloe-rules(5).\n";

static const char cli_check_usage[] =
    "usage: sloe check FILE|DIR...\n"
    "\n"
    "Validates rule files as one set: a directory stands for its *.yaml and *.yml files, and\n"
    "a quoted glob such as 'rules/*.yaml' is expanded. Every problem is printed to stderr as\n"
    "FILE:LINE:COL: message; on success one summary line goes to stdout.\n"
    "\n"
    "exit status: 0 valid, 1 invalid, 2 usage error.\n";

static const char *cli_plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int cli_check(int argc, char **argv, FILE *out, FILE *err)
{
    const char **paths = (const char **)argv;
    size_t n = 0;
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(cli_check_usage, out);
            return CLI_OK;
        }
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (!flags_done && a[0] == '-' && a[1] != '\0') {
            fprintf(err, "sloe check: unknown flag %s\n%s", a, cli_check_usage);
            return CLI_USAGE;
        }
        paths[n++] = a;
    }
    if (n == 0) {
        fprintf(err, "sloe check: no rule files given\n%s", cli_check_usage);
        return CLI_USAGE;
    }
    struct diag_list diags = {0};
    char **files = NULL;
    size_t n_files = 0;
    int rc = rules_expand_paths(paths, n, &files, &n_files, &diags);
    struct rules_set *set = NULL;
    if (rc == 0)
        rc = rules_load_files((const char *const *)files, n_files, &set, &diags);
    diag_print(&diags, err);
    if (rc == 0) {
        fprintf(out, "%zu %s, %zu %s: OK", n_files, cli_plural(n_files, "file", "files"),
                set->n_slos, cli_plural(set->n_slos, "SLO", "SLOs"));
        if (diags.warnings > 0)
            fprintf(out, " (%zu %s)", diags.warnings,
                    cli_plural(diags.warnings, "warning", "warnings"));
        fputc('\n', out);
    } else {
        fprintf(err, "sloe check: %zu %s", diags.errors,
                cli_plural(diags.errors, "error", "errors"));
        if (diags.warnings > 0)
            fprintf(err, ", %zu %s", diags.warnings,
                    cli_plural(diags.warnings, "warning", "warnings"));
        fputc('\n', err);
    }
    rules_set_free(set);
    rules_paths_free(files, n_files);
    diag_free(&diags);
    return rc == 0 ? CLI_OK : CLI_INVALID;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2) {
        fputs(cli_usage, err);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(cli_usage, out);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        fprintf(out, "sloe version %s (revision %s)\n", SLOE_VERSION, SLOE_REVISION);
        return CLI_OK;
    }
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 2, argv + 2, out, err);
    static const char *const later[] = {"eval", "serve", "generate", "report", NULL};
    for (size_t i = 0; later[i] != NULL; i++) {
        if (strcmp(cmd, later[i]) == 0) {
            fprintf(err,
                    "sloe: \"%s\" is not in this version (%s) yet; today sloe checks rule "
                    "files: sloe check FILE...\n",
                    cmd, SLOE_VERSION);
            return CLI_USAGE;
        }
    }
    fprintf(err, "sloe: unknown command \"%s\"\n%s", cmd, cli_usage);
    return CLI_USAGE;
}
