#include "mask.h"

#include <string.h>
#include <time.h>

#include "tz.h"

bool mask_active(const struct rules_slo *slo)
{
    return slo->service_hours.set || slo->n_exclusions > 0;
}

void mask_init(struct mask *m, const struct rules_slo *slo)
{
    memset(m, 0, sizeof(*m));
    m->slo = slo;
}

/* Unix time of minute `minute` (may be 1440) of the local day given by y/m/d. */
static int64_t mask_local(const char *zone, const struct tm *day, int minute)
{
    struct tm tm = {0};
    tm.tm_year = day->tm_year;
    tm.tm_mon = day->tm_mon;
    tm.tm_mday = day->tm_mday + minute / 1440;
    tm.tm_hour = (minute % 1440) / 60;
    tm.tm_min = minute % 60;
    /* Normalise the day (the 32nd becomes the 1st of the next month) in UTC first. */
    time_t flat = timegm(&tm);
    struct tm norm;
    gmtime_r(&flat, &norm);
    int64_t t = 0;
    if (tz_local_to_utc(zone, &norm, &t) != 0)
        t = (int64_t)flat;
    return t;
}

/* Fills the cache with the local day holding x. */
static void mask_day(struct mask *m, int64_t x)
{
    const struct rules_slo *slo = m->slo;
    struct tm lt;
    if (tz_utc_to_local(slo->timezone, x, &lt) != 0)
        gmtime_r(&(time_t){(time_t)x}, &lt);
    m->day_from = mask_local(slo->timezone, &lt, 0);
    m->day_to = mask_local(slo->timezone, &lt, 1440);
    if (m->day_to <= x) /* a zone whose midnight does not exist: keep going */
        m->day_to = x + 1;
    if (m->day_from > x)
        m->day_from = x;
    const struct rules_service_hours *h = &slo->service_hours;
    int weekday = (lt.tm_wday + 6) % 7;
    if (!h->set) {
        m->open = m->day_from;
        m->close = m->day_to;
    } else if (h->days & (1u << weekday)) {
        m->open = mask_local(slo->timezone, &lt, h->start_minute);
        m->close = mask_local(slo->timezone, &lt, h->end_minute);
    } else {
        m->open = m->close = m->day_from;
    }
}

bool mask_counts(struct mask *m, int64_t t)
{
    int64_t x = t - 60;
    const struct rules_slo *slo = m->slo;
    for (size_t i = 0; i < slo->n_exclusions; i++)
        if (x >= slo->exclusions[i].start && x < slo->exclusions[i].end)
            return false;
    if (!slo->service_hours.set)
        return true;
    if (x < m->day_from || x >= m->day_to || m->day_to == 0)
        mask_day(m, x);
    return x >= m->open && x < m->close;
}
