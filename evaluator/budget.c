#include "budget.h"

#include <math.h>

const char *const budget_state_names[4] = {"met", "degraded", "warning", "breach"};
const char *const budget_grade_names[3] = {"excellent", "pass", "fail"};

/* Window indexes in period_windows_s. */
enum { W5M, W30M, W1H, W2H, W6H, W1D, W3D };

double budget_ratio(double percent)
{
    return round(percent * 1e10) / 1e12;
}

void budget_window(double bad, double total, double objective, struct budget_window *w)
{
    if (!(bad >= 0) || !isfinite(bad))
        bad = 0;
    if (!(total >= 0) || !isfinite(total))
        total = 0;
    if (bad > total)
        bad = total;
    w->bad = bad;
    w->total = total;
    if (total <= 0) {
        w->sli = 1;
        w->burn = 0;
        return;
    }
    double err = bad / total;
    w->sli = 1 - err;
    w->burn = err / (1 - budget_ratio(objective));
}

double budget_period_factor(int64_t period_len)
{
    return (double)period_len / (30.0 * 24 * 3600);
}

double budget_score(const struct rules_slo *slo, double compliance)
{
    double short_pp = slo->objective - compliance * 100;
    if (short_pp <= 1e-12)
        return 100;
    double score = 100 - slo->scoring.deduct * short_pp / slo->scoring.per;
    return score < 0 ? 0 : score;
}

double budget_credit(const struct rules_slo *slo, double compliance)
{
    double credit = 0;
    for (size_t i = 0; i < slo->n_credits; i++)
        if (compliance * 100 < slo->credits[i].below)
            credit = slo->credits[i].credit / 100;
    return credit;
}

int budget_grade(const struct rules_service *svc, double score)
{
    if (score >= svc->excellent)
        return 0;
    return score >= svc->pass ? 1 : 2;
}

void budget_finish(const struct rules_slo *slo, int64_t period_len, struct budget_result *r)
{
    const struct budget_window *p = &r->period;
    double allowed = 1 - budget_ratio(slo->objective);
    r->remaining = p->total > 0 ? 1 - (p->bad / p->total) / allowed : 1;
    double burn_1h = r->windows[W1H].burn;
    if (r->remaining <= 0)
        r->exhaustion_s = 0;
    else if (burn_1h > 0)
        r->exhaustion_s = r->remaining * (double)period_len / burn_1h;
    else
        r->exhaustion_s = -1;

    /* A hair of tolerance, so that exactly 99.9 % meets a 99.9 objective despite rounding. */
    double c = p->sli * 100 + 1e-9;
    if (c >= slo->objective)
        r->state = BUDGET_MET;
    else if (c >= slo->warning)
        r->state = BUDGET_DEGRADED;
    else if (c >= slo->minimum)
        r->state = BUDGET_WARNING;
    else
        r->state = BUDGET_BREACH;

    double f = budget_period_factor(period_len);
    const struct budget_window *w = r->windows;
    r->page = (w[W1H].burn > 14.4 * f && w[W5M].burn > 14.4 * f) ||
              (w[W6H].burn > 6 * f && w[W30M].burn > 6 * f);
    r->ticket = (w[W1D].burn > 3 * f && w[W2H].burn > 3 * f) ||
                (w[W3D].burn > 1 * f && w[W6H].burn > 1 * f);
    r->score = budget_score(slo, p->sli);
    r->credit = budget_credit(slo, p->sli);
}
