#include "harness.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int harness_failures; /* in the child running one test */

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    harness_failures++;
}

bool harness_expect_int(const char *file, int line, const char *ea, const char *eb, long long a,
                        long long b)
{
    if (a == b)
        return true;
    harness_fail(file, line, "expected %s == %s\n      left:  %lld\n      right: %lld", ea, eb, a,
                 b);
    return false;
}

bool harness_expect_dbl(const char *file, int line, const char *ea, const char *eb, double a,
                        double b, double eps)
{
    if (fabs(a - b) <= eps || (isnan(a) && isnan(b)))
        return true;
    harness_fail(file, line,
                 "expected %s == %s (within %g)\n      left:  %.17g\n      right: %.17g", ea, eb,
                 eps, a, b);
    return false;
}

bool harness_expect_str(const char *file, int line, const char *ea, const char *eb, const char *a,
                        const char *b)
{
    if (a != NULL && b != NULL && strcmp(a, b) == 0)
        return true;
    if (a == NULL && b == NULL)
        return true;
    harness_fail(file, line, "expected %s == %s\n      left:  \"%s\"\n      right: \"%s\"", ea, eb,
                 a ? a : "(null)", b ? b : "(null)");
    return false;
}

bool harness_expect_contains(const char *file, int line, const char *ea, const char *hay,
                             const char *needle)
{
    if (hay != NULL && strstr(hay, needle) != NULL)
        return true;
    harness_fail(file, line, "expected %s to contain \"%s\"\n      it is: \"%s\"", ea, needle,
                 hay ? hay : "(null)");
    return false;
}

char *harness_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static char *harness_slurp_fd(int fd)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    return buf;
}

int harness_run(char *const argv[], char **out, char **err)
{
    char out_path[] = "/tmp/sloe-test-out-XXXXXX", err_path[] = "/tmp/sloe-test-err-XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    unlink(out_path);
    unlink(err_path);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    lseek(ofd, 0, SEEK_SET);
    lseek(efd, 0, SEEK_SET);
    *out = harness_slurp_fd(ofd);
    *err = harness_slurp_fd(efd);
    close(ofd);
    close(efd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *harness_sloe(void)
{
    const char *b = getenv("SLOE_BIN");
    return b && *b ? b : "bin/sloe";
}

/* Runs one test in a child process; returns true when it passed. */
static bool harness_run_one(const char *suite, const struct harness_test *t, unsigned timeout)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(timeout);
        harness_failures = 0;
        t->fn();
        fflush(stdout);
        exit(harness_failures ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && WIFSIGNALED(status))
        fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
    else if (!ok && WEXITSTATUS(status) != 1)
        fprintf(stderr, "    exited with %d\n", WEXITSTATUS(status));
    printf("%s %s/%s\n", ok ? "ok  " : "FAIL", suite, t->name);
    return ok;
}

struct harness_suite {
    const char *name;
    const struct harness_test *tests;
};

#include "suites.h"

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    unsigned passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t s = 0; s < sizeof(harness_suites) / sizeof(harness_suites[0]); s++) {
        for (const struct harness_test *t = harness_suites[s].tests; t->name != NULL; t++) {
            char full[256];
            snprintf(full, sizeof(full), "%s/%s", harness_suites[s].name, t->name);
            if (filter != NULL && strstr(full, filter) == NULL)
                continue;
            if (harness_run_one(harness_suites[s].name, t, 60))
                passed++;
            else
                failed++;
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
