/* The test suites, in the order they run. Each test file defines one array. */
extern const struct harness_test suite_duration[];
extern const struct harness_test suite_rules[];
extern const struct harness_test suite_corpus[];
extern const struct harness_test suite_cli[];
extern const struct harness_test suite_man[];
extern const struct harness_test suite_prom[];
extern const struct harness_test suite_remote[];
extern const struct harness_test suite_history[];
extern const struct harness_test suite_expo[];
extern const struct harness_test suite_page[];
extern const struct harness_test suite_webcfg[];
extern const struct harness_test suite_report[];

static const struct harness_suite harness_suites[] = {
    {"duration", suite_duration}, {"rules", suite_rules},     {"corpus", suite_corpus},
    {"cli", suite_cli},           {"man", suite_man},         {"prom", suite_prom},
    {"remote", suite_remote},     {"history", suite_history}, {"expo", suite_expo},
    {"page", suite_page},         {"webcfg", suite_webcfg},   {"report", suite_report},
};
