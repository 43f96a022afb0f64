#include "tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The C library converts through the process-wide TZ: every conversion holds this lock,
 * points TZ at the zone, and puts the old value back. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static int tz_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/' || strstr(name, "..") != NULL)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return 0;
    }
    return 1;
}

int tz_check(const char *name)
{
    if (name == NULL || !tz_name_ok(name))
        return -1;
    if (strcmp(name, "UTC") == 0)
        return 0;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char magic[4];
    size_t n = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    return n == 4 && memcmp(magic, "TZif", 4) == 0 ? 0 : -1;
}

/* Sets TZ to zone; returns the old value (malloc'd, or NULL when unset). Lock held. */
static char *tz_enter(const char *zone)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    char buf[80];
    snprintf(buf, sizeof(buf), ":%s", zone);
    setenv("TZ", buf, 1);
    tzset();
    return saved;
}

static void tz_leave(char *saved)
{
    if (saved != NULL) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

int tz_local_to_utc(const char *zone, const struct tm *local, int64_t *out)
{
    if (tz_check(zone) != 0)
        return -1;
    struct tm tm = *local;
    tm.tm_isdst = -1;
    pthread_mutex_lock(&tz_lock);
    char *saved = tz_enter(zone);
    time_t t = mktime(&tm);
    tz_leave(saved);
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1 && !(local->tm_year == 69 && local->tm_mon == 11))
        return -1;
    *out = (int64_t)t;
    return 0;
}

int tz_utc_to_local(const char *zone, int64_t t, struct tm *out)
{
    if (tz_check(zone) != 0)
        return -1;
    time_t tt = (time_t)t;
    pthread_mutex_lock(&tz_lock);
    char *saved = tz_enter(zone);
    struct tm *r = localtime_r(&tt, out);
    tz_leave(saved);
    pthread_mutex_unlock(&tz_lock);
    return r == NULL ? -1 : 0;
}
