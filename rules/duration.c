#include "duration.h"

#include <stdio.h>
#include <string.h>

struct duration_unit {
    const char *name;
    int64_t ms;
};

/* Largest first: the order a duration must be written in. */
static const struct duration_unit duration_units[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
enum { DURATION_NUNITS = sizeof(duration_units) / sizeof(duration_units[0]) };

int duration_parse_ms(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    int64_t total = 0;
    size_t next_unit = 0; /* index of the largest unit still allowed */
    const char *p = s;
    while (*p != '\0') {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        size_t u;
        for (u = next_unit; u < DURATION_NUNITS; u++) {
            size_t len = strlen(duration_units[u].name);
            /* "m" must not swallow the "m" of "ms". */
            if (strncmp(p, duration_units[u].name, len) == 0 &&
                !(len == 1 && p[0] == 'm' && p[1] == 's'))
                break;
        }
        if (u == DURATION_NUNITS)
            return -1;
        if (n > INT64_MAX / duration_units[u].ms)
            return -1;
        int64_t add = n * duration_units[u].ms;
        if (total > INT64_MAX - add)
            return -1;
        total += add;
        p += strlen(duration_units[u].name);
        next_unit = u + 1;
    }
    *out = total;
    return 0;
}

char *duration_format(int64_t ms, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (ms <= 0) {
        snprintf(buf, size, "%s", ms == 0 ? "0s" : "-");
        return buf;
    }
    size_t len = 0;
    /* Days are the largest unit written: "30d" reads better than "4w2d". */
    for (size_t u = 2; u < DURATION_NUNITS && ms > 0; u++) {
        int64_t n = ms / duration_units[u].ms;
        if (n == 0)
            continue;
        ms -= n * duration_units[u].ms;
        int w = snprintf(buf + len, size - len, "%lld%s", (long long)n, duration_units[u].name);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
    return buf;
}
