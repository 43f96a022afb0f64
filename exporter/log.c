#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_min = LOG_INFO;
static const char *const log_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, log_names[i]) == 0) {
            atomic_store(&log_min, i);
            return 0;
        }
    return -1;
}

/* Appends v to buf, quoted and escaped when it holds a space, quote, = or control byte. */
static size_t log_value(char *buf, size_t at, size_t size, const char *v)
{
    bool quote = *v == '\0';
    for (const char *p = v; *p && !quote; p++)
        quote = *p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20;
    if (at < size && quote)
        buf[at++] = '"';
    for (const char *p = v; *p && at + 2 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char)c;
        } else if (c == '\n') {
            buf[at++] = '\\';
            buf[at++] = 'n';
        } else if (c < 0x20) {
            buf[at++] = ' ';
        } else {
            buf[at++] = (char)c;
        }
    }
    if (at < size && quote)
        buf[at++] = '"';
    return at;
}

void log_msg(enum log_level level, const char *msg, ...)
{
    if ((int)level < atomic_load(&log_min))
        return;
    char buf[4096];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t secs = tv.tv_sec;
    gmtime_r(&secs, &tm);
    size_t at = strftime(buf, sizeof(buf), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    at += (size_t)snprintf(buf + at, sizeof(buf) - at,
                           ".%03dZ level=%s msg=", (int)(tv.tv_usec / 1000), log_names[level]);
    char quoted[2048];
    size_t q = log_value(quoted, 0, sizeof(quoted) - 1, msg);
    quoted[q] = '\0';
    at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s", quoted);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        if (at + 2 >= sizeof(buf))
            continue;
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, " %s=", k);
        if (at < sizeof(buf))
            at = log_value(buf, at, sizeof(buf) - 1, v ? v : "");
    }
    va_end(ap);
    if (at >= sizeof(buf) - 1)
        at = sizeof(buf) - 2;
    buf[at++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, at);
    (void)w;
}
