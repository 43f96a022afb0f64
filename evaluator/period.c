#include "period.h"

#include <time.h>

#include "tz.h"

const int64_t period_windows_s[PERIOD_N_WINDOWS] = {
    5 * 60, 30 * 60, 3600, 2 * 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600,
};
const char *const period_window_names[PERIOD_N_WINDOWS] = {"5m", "30m", "1h", "2h",
                                                           "6h", "1d",  "3d"};

int period_bounds(const struct rules_slo *slo, int64_t t, int64_t *start, int64_t *end)
{
    if (slo->window.kind == RULES_WINDOW_ROLLING) {
        *start = t - slo->window.duration_ms / 1000;
        *end = t;
        return 0;
    }
    struct tm lt;
    if (tz_utc_to_local(slo->timezone, t, &lt) != 0)
        return -1;
    struct tm a = {0};
    a.tm_year = lt.tm_year;
    a.tm_mon = lt.tm_mon;
    a.tm_mday = lt.tm_mday;
    struct tm b = a;
    switch (slo->window.calendar) {
    case RULES_CAL_DAY:
        b.tm_mday += 1;
        break;
    case RULES_CAL_WEEK: {
        int since_monday = (lt.tm_wday + 6) % 7;
        a.tm_mday -= since_monday;
        b = a;
        b.tm_mday += 7;
        break;
    }
    case RULES_CAL_MONTH:
        a.tm_mday = 1;
        b = a;
        b.tm_mon += 1;
        break;
    case RULES_CAL_QUARTER:
        a.tm_mday = 1;
        a.tm_mon = lt.tm_mon / 3 * 3;
        b = a;
        b.tm_mon += 3;
        break;
    }
    /* timegm normalises day and month overflow; the zone then gives local midnight. */
    time_t na = timegm(&a), nb = timegm(&b);
    struct tm ua, ub;
    gmtime_r(&na, &ua);
    gmtime_r(&nb, &ub);
    if (tz_local_to_utc(slo->timezone, &ua, start) != 0 ||
        tz_local_to_utc(slo->timezone, &ub, end) != 0)
        return -1;
    return 0;
}

int64_t period_length(const struct rules_slo *slo, int64_t t)
{
    int64_t s, e;
    if (period_bounds(slo, t, &s, &e) != 0)
        return 0;
    return e - s;
}

int64_t period_max_length(const struct rules_slo *slo)
{
    if (slo->window.kind == RULES_WINDOW_ROLLING)
        return slo->window.duration_ms / 1000;
    static const int64_t longest[] = {25 * 3600, 7 * 24 * 3600 + 3600, 31 * 24 * 3600 + 3600,
                                      92 * 24 * 3600 + 3600};
    return longest[slo->window.calendar];
}

bool period_in_service_hours(const struct rules_slo *slo, int64_t t)
{
    const struct rules_service_hours *h = &slo->service_hours;
    if (!h->set)
        return true;
    struct tm lt;
    if (tz_utc_to_local(slo->timezone, t, &lt) != 0)
        return true;
    int day = (lt.tm_wday + 6) % 7; /* Monday = 0 */
    int minute = lt.tm_hour * 60 + lt.tm_min;
    return (h->days & (1u << day)) != 0 && minute >= h->start_minute && minute < h->end_minute;
}

bool period_excluded(const struct rules_slo *slo, int64_t t)
{
    for (size_t i = 0; i < slo->n_exclusions; i++)
        if (t >= slo->exclusions[i].start && t < slo->exclusions[i].end)
            return true;
    return false;
}
