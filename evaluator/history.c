#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int64_t history_steps[HISTORY_TIERS] = {60, 300, 3600};
/* What the finer tiers keep: the longest window they serve (6 hours, 1 day) and an hour
 * more, so that a window ending a little before the newest interval is still whole. The 3d
 * window is summed from hourly intervals: 5-minute ones for 3 days were 43 % of the memory
 * of an SLO instance (47 MB at 10,000 SLOs). */
static const int64_t history_spans[HISTORY_TIERS - 1] = {7 * 3600, 24 * 3600 + 3600};

static size_t history_tier_len(int tier, int64_t span)
{
    /* The coarse tier serves the period and the 3d burn-rate window, whichever is longer. */
    if (span < HISTORY_LONGEST_WINDOW)
        span = HISTORY_LONGEST_WINDOW;
    int64_t s = tier < HISTORY_TIERS - 1 ? history_spans[tier] : span;
    return (size_t)((s + history_steps[tier] - 1) / history_steps[tier] + 1);
}

size_t history_bytes(int64_t span)
{
    size_t bytes = sizeof(struct history);
    for (int i = 0; i < HISTORY_TIERS; i++)
        bytes +=
            history_tier_len(i, span) * 2 * sizeof(float) + (history_tier_len(i, span) + 7) / 8;
    return bytes;
}

struct history *history_new(int64_t span)
{
    struct history *h = calloc(1, sizeof(*h));
    if (h == NULL)
        abort();
    for (int i = 0; i < HISTORY_TIERS; i++) {
        struct history_tier *t = &h->tier[i];
        t->step = history_steps[i];
        t->n = history_tier_len(i, span);
        t->bad = calloc(t->n, sizeof(float));
        t->total = calloc(t->n, sizeof(float));
        t->known = calloc((t->n + 7) / 8, 1);
        if (t->bad == NULL || t->total == NULL || t->known == NULL)
            abort();
    }
    return h;
}

void history_free(struct history *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < HISTORY_TIERS; i++) {
        free(h->tier[i].bad);
        free(h->tier[i].total);
        free(h->tier[i].known);
    }
    free(h);
}

static size_t history_slot(const struct history_tier *t, int64_t end)
{
    int64_t k = end / t->step;
    return (size_t)(k % (int64_t)t->n);
}

/* The known flags are a bitmap, one bit a slot: at 10,000 SLOs a byte a slot was 18 MB. */
static bool history_bit(const struct history_tier *t, size_t s)
{
    return (t->known[s / 8] >> (s % 8)) & 1;
}

static void history_set_bit(struct history_tier *t, size_t s, bool on)
{
    unsigned char m = (unsigned char)(1u << (s % 8));
    t->known[s / 8] =
        on ? (unsigned char)(t->known[s / 8] | m) : (unsigned char)(t->known[s / 8] & ~m);
}

/* True when interval `end` is within what the tier keeps. */
static bool history_in_range(const struct history_tier *t, int64_t end)
{
    return t->newest != 0 && end <= t->newest && end > t->newest - (int64_t)t->n * t->step;
}

bool history_known(const struct history *h, int tier, int64_t t)
{
    const struct history_tier *ti = &h->tier[tier];
    return history_in_range(ti, t) && history_bit(ti, history_slot(ti, t));
}

static void history_write(struct history_tier *t, int64_t end, double bad, double total)
{
    if (t->newest == 0 || end > t->newest) {
        /* Clear the intervals the newest end skips over, and those that now fall out. */
        int64_t from = t->newest == 0 ? end - (int64_t)t->n * t->step : t->newest;
        if (end - from > (int64_t)t->n * t->step)
            from = end - (int64_t)t->n * t->step;
        for (int64_t e = from + t->step; e <= end; e += t->step) {
            size_t s = history_slot(t, e);
            t->bad[s] = t->total[s] = 0;
            history_set_bit(t, s, false);
        }
        t->newest = end;
    } else if (!history_in_range(t, end)) {
        return;
    }
    size_t s = history_slot(t, end);
    t->bad[s] = (float)bad;
    t->total[s] = (float)total;
    history_set_bit(t, s, true);
    if (t->oldest == 0 || end < t->oldest)
        t->oldest = end;
}

/* Recomputes interval `end` of tier `tier` from the finer tier when that knows it whole. */
static void history_roll_up(struct history *h, int tier, int64_t end)
{
    const struct history_tier *f = &h->tier[tier - 1];
    struct history_tier *c = &h->tier[tier];
    double bad = 0, total = 0;
    for (int64_t e = end - c->step + f->step; e <= end; e += f->step) {
        if (!history_in_range(f, e))
            return;
        size_t s = history_slot(f, e);
        if (!history_bit(f, s))
            return;
        bad += f->bad[s];
        total += f->total[s];
    }
    history_write(c, end, bad, total);
}

void history_put(struct history *h, int tier, int64_t t, double bad, double total)
{
    if (tier < 0 || tier >= HISTORY_TIERS || t % h->tier[tier].step != 0)
        return;
    history_write(&h->tier[tier], t, bad, total);
    for (int c = tier + 1; c < HISTORY_TIERS; c++) {
        int64_t step = h->tier[c].step;
        int64_t end = (t + step - 1) / step * step;
        /* Only whole coarse intervals are rebuilt; a partial one waits for its last part. */
        if (end <= h->tier[c - 1].newest)
            history_roll_up(h, c, end);
        else
            break;
    }
}

/* The tier to read interval `cur` from: the coarsest whose interval ending at cur lies wholly
 * in (a, cur] and is known; else the finest that knows cur (the interval straddles a). */
static int history_pick(const struct history *h, int64_t a, int64_t cur)
{
    for (int i = HISTORY_TIERS - 1; i >= 0; i--) {
        const struct history_tier *t = &h->tier[i];
        if (cur % t->step == 0 && cur - t->step >= a && history_known(h, i, cur))
            return i;
    }
    for (int i = 0; i < HISTORY_TIERS; i++)
        if (cur % h->tier[i].step == 0 && history_known(h, i, cur))
            return i;
    return -1;
}

/* The end of the oldest interval any tier may still know; nothing at or before
 * (that - its step) has data. */
static int64_t history_floor(const struct history *h)
{
    int64_t floor = INT64_MAX;
    for (int i = 0; i < HISTORY_TIERS; i++) {
        const struct history_tier *t = &h->tier[i];
        if (t->newest == 0)
            continue;
        int64_t kept = t->newest - ((int64_t)t->n - 1) * t->step;
        int64_t from = (t->oldest > kept ? t->oldest : kept) - t->step;
        if (from < floor)
            floor = from;
    }
    return floor;
}

void history_sum(const struct history *h, int64_t a, int64_t b, double *bad, double *total,
                 int64_t *covered)
{
    double sb = 0, st = 0;
    int64_t cov = 0;
    /* Below the oldest data there is nothing to walk through. */
    int64_t floor = history_floor(h);
    if (a < floor)
        a = floor;
    for (int64_t cur = b; cur > a;) {
        int use = history_pick(h, a, cur);
        if (use < 0) {
            cur -= history_steps[0];
            continue;
        }
        const struct history_tier *t = &h->tier[use];
        double frac = cur - t->step < a ? (double)(cur - a) / (double)t->step : 1.0;
        size_t s = history_slot(t, cur);
        sb += frac * t->bad[s];
        st += frac * t->total[s];
        cov += cur - t->step < a ? cur - a : t->step;
        cur -= t->step;
    }
    *bad = sb;
    *total = st;
    if (covered != NULL)
        *covered = cov;
}
