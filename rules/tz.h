/* tz: IANA time zones from the system zone database, and conversions between UTC and a
 * zone's local time. Safe to call from several threads. */
#ifndef SLOE_TZ_H
#define SLOE_TZ_H

#include <stdint.h>
#include <time.h>

/* Returns 0 when name is a zone of the system database (TZDIR, else /usr/share/zoneinfo),
 * -1 otherwise. "UTC" is always valid. */
int tz_check(const char *name) __attribute__((warn_unused_result));

/* Converts the wall-clock time *local (tm_isdst ignored) in zone to unix seconds. A time in a
 * daylight-saving gap or overlap resolves as mktime(3) does with tm_isdst = -1.
 * Returns 0, or -1 when the zone is unknown or the time out of range. */
int tz_local_to_utc(const char *zone, const struct tm *local, int64_t *out)
    __attribute__((warn_unused_result));

/* Converts unix seconds t to the wall-clock time in zone. Returns 0 or -1. */
int tz_utc_to_local(const char *zone, int64_t t, struct tm *out)
    __attribute__((warn_unused_result));

#endif
