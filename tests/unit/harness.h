/* harness: a small unit-test runner. Every test runs in its own process with a time limit;
 * expectations print both sides; the run ends with "N passed, N failed". */
#ifndef SLOE_HARNESS_H
#define SLOE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

struct harness_test {
    const char *name;
    void (*fn)(void);
};

/* A suite is a NULL-terminated array of tests. */
#define HARNESS_END                                                                                \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

/* Records a failure of the running test; the test goes on. */
void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool harness_expect_int(const char *file, int line, const char *ea, const char *eb, long long a,
                        long long b);
bool harness_expect_dbl(const char *file, int line, const char *ea, const char *eb, double a,
                        double b, double eps);
bool harness_expect_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                        const char *b);
bool harness_expect_contains(const char *file, int line, const char *ea, const char *hay,
                             const char *needle);

#define EXPECT(c) ((c) ? true : (harness_fail(__FILE__, __LINE__, "expected %s", #c), false))
#define EXPECT_INT(a, b)                                                                           \
    harness_expect_int(__FILE__, __LINE__, #a, #b, (long long)(a), (long long)(b))
#define EXPECT_DBL(a, b, eps) harness_expect_dbl(__FILE__, __LINE__, #a, #b, (a), (b), (eps))
#define EXPECT_STR(a, b) harness_expect_str(__FILE__, __LINE__, #a, #b, (a), (b))
#define EXPECT_CONTAINS(hay, needle)                                                               \
    harness_expect_contains(__FILE__, __LINE__, #hay, (hay), (needle))

/* Reads a whole file (malloc'd, NUL-terminated) or returns NULL. */
char *harness_read_file(const char *path, size_t *len);

/* Runs a program (argv[0] is a path), capturing stdout and stderr into malloc'd strings.
 * Returns its exit status, or -1 when it did not exit normally. */
int harness_run(char *const argv[], char **out, char **err);

/* The sloe binary under test: $SLOE_BIN, else bin/sloe. */
const char *harness_sloe(void);

#endif
