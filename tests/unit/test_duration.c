/* Durations, time zones, and the time and day notations of rule files. */
#include <string.h>

#include "duration.h"
#include "harness.h"
#include "native.h"
#include "tz.h"

static void parse_good(void)
{
    static const struct {
        const char *s;
        int64_t ms;
    } cases[] = {
        {"0", 0},
        {"30s", 30000},
        {"5m", 300000},
        {"1h30m", 5400000},
        {"30d", 30LL * 86400000},
        {"4w", 28LL * 86400000},
        {"1y", 365LL * 86400000},
        {"500ms", 500},
        {"1m500ms", 60500},
        {"2h0m", 7200000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -1;
        EXPECT_INT(duration_parse_ms(cases[i].s, &ms), 0);
        EXPECT_INT(ms, cases[i].ms);
    }
}

static void parse_bad(void)
{
    static const char *const bad[] = {"",     "30",  "30x",  "1h30",
                                      "m",    "-5m", "1.5h", "5m1h",
                                      "1h1h", " 5m", "5m ",  "99999999999999999999s",
                                      "1M"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 0;
        if (!EXPECT_INT(duration_parse_ms(bad[i], &ms), -1))
            harness_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
    }
}

static void format_round_trip(void)
{
    char buf[32];
    EXPECT_STR(duration_format(30LL * 86400000, buf, sizeof(buf)), "30d");
    EXPECT_STR(duration_format(5400000, buf, sizeof(buf)), "1h30m");
    EXPECT_STR(duration_format(0, buf, sizeof(buf)), "0s");
    EXPECT_STR(duration_format(60500, buf, sizeof(buf)), "1m500ms");
    static const char *const back[] = {"5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d", "90d"};
    for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
        int64_t ms;
        EXPECT_INT(duration_parse_ms(back[i], &ms), 0);
        EXPECT_STR(duration_format(ms, buf, sizeof(buf)), back[i]);
    }
}

static void zones(void)
{
    EXPECT_INT(tz_check("UTC"), 0);
    EXPECT_INT(tz_check("Asia/Shanghai"), 0);
    EXPECT_INT(tz_check("America/New_York"), 0);
    EXPECT_INT(tz_check("Mars/Olympus"), -1);
    EXPECT_INT(tz_check("../../etc/passwd"), -1);
    EXPECT_INT(tz_check("/etc/localtime"), -1);
    EXPECT_INT(tz_check(""), -1);
    /* A directory of the database is not a zone. */
    EXPECT_INT(tz_check("Asia"), -1);
}

static void local_times(void)
{
    /* 2026-11-28 02:00 in Shanghai (UTC+8, no DST) is 2026-11-27 18:00 UTC = 1795802400. */
    int64_t t;
    EXPECT_INT(native_parse_time("2026-11-28T02:00:00", "Asia/Shanghai", &t), 0);
    EXPECT_INT(t, 1795802400);
    EXPECT_INT(native_parse_time("2026-11-28T02:00:00+08:00", "UTC", &t), 0);
    EXPECT_INT(t, 1795802400);
    EXPECT_INT(native_parse_time("2026-11-27T18:00:00Z", "Asia/Shanghai", &t), 0);
    EXPECT_INT(t, 1795802400);
    EXPECT_INT(native_parse_time("2026-11-27T13:00:00-05:00", "UTC", &t), 0);
    EXPECT_INT(t, 1795802400);
    /* New York: 2026-07-01 12:00 is EDT (UTC-4) = 16:00 UTC; 2026-01-15 12:00 is EST (UTC-5). */
    EXPECT_INT(native_parse_time("2026-07-01T12:00", "America/New_York", &t), 0);
    EXPECT_INT(t, 1782921600);
    EXPECT_INT(native_parse_time("2026-01-15T12:00", "America/New_York", &t), 0);
    EXPECT_INT(t, 1768496400);
    /* A date alone is local midnight. */
    EXPECT_INT(native_parse_time("2026-11-01", "Asia/Shanghai", &t), 0);
    EXPECT_INT(t, 1793462400);
    EXPECT_INT(native_parse_time("2026-02-30T00:00:00Z", "UTC", &t), -1);
    EXPECT_INT(native_parse_time("2026-11-28 25:00", "UTC", &t), -1);
    EXPECT_INT(native_parse_time("yesterday", "UTC", &t), -1);
    EXPECT_INT(native_parse_time("2026-11-28T02:00:00+8", "UTC", &t), -1);
    struct tm tm;
    EXPECT_INT(tz_utc_to_local("Asia/Shanghai", 1795802400, &tm), 0);
    EXPECT_INT(tm.tm_hour, 2);
    EXPECT_INT(tm.tm_mday, 28);
}

static void days(void)
{
    uint8_t m = 0;
    EXPECT_INT(native_parse_days("mon-fri", &m), 0);
    EXPECT_INT(m, 0x1f);
    EXPECT_INT(native_parse_days("sat-sun", &m), 0);
    EXPECT_INT(m, 0x60);
    EXPECT_INT(native_parse_days("mon,wed,fri", &m), 0);
    EXPECT_INT(m, 0x15);
    EXPECT_INT(native_parse_days("daily", &m), 0);
    EXPECT_INT(m, 0x7f);
    EXPECT_INT(native_parse_days("Mon-Thu, sat", &m), 0);
    EXPECT_INT(m, 0x2f);
    EXPECT_INT(native_parse_days("fri-mon", &m), -1);
    EXPECT_INT(native_parse_days("funday", &m), -1);
    EXPECT_INT(native_parse_days("mon-", &m), -1);
    EXPECT_INT(native_parse_days("", &m), -1);
}

const struct harness_test suite_duration[] = {
    {"parse_good", parse_good},
    {"parse_bad", parse_bad},
    {"format_round_trip", format_round_trip},
    {"zones", zones},
    {"local_times", local_times},
    {"days", days},
    HARNESS_END,
};
