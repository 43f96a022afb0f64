#!/usr/bin/env python3
"""Integration test of `sloe report` against a real Prometheus.

promlab's checkout scenario (40 days of traffic ending 2026-01-01T00:00Z, with a night
incident on 2025-12-24 02:00-02:40 UTC and a day incident on 2025-12-30 14:00-14:30 UTC) is
generated and backfilled; one Prometheus serves the run. `sloe report --period=2025-12` is
run in all four formats over a rule file with calendar-month SLOs in UTC and Asia/Shanghai, a
group_by SLO, an SLO counted only in service hours (mon-fri 09:00-18:00 Asia/Shanghai) with
an exclusion, scoring, SLA credits and scorecards. Every expected number (compliance, events,
budget spent, score, credit, grade, worst days, alert episodes, the periods before) is
computed here from the generator's per-minute counts and the rules of
/work/shared/design/interface.md, never from sloe's output; the report's numbers are also
checked against `sloe eval` at the same time. The HTML report is rendered with headless
chromium to build/report.png and printed to build/report.pdf (first page to
build/report-page1.png with pdftoppm when installed).

Run from the repository root: python3 tests/integration/test_report.py
The binary comes from SLOE_BIN (default bin/sloe). Prints one line per check and ends with
"N passed, N failed"; exits 1 when a check fails. Python standard library only.
"""

import csv
import io
import json
import math
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check, skip  # noqa: E402
import promlab as pl  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
END = 1767225600  # 2026-01-01T00:00:00Z, the end of the data
DAYS = 40
START = END - DAYS * 86400
MIN, HOUR, DAY = 60, 3600, 86400
WINDOWS = [300, 1800, 3600, 7200, 21600, 86400, 259200]  # 5m 30m 1h 2h 6h 1d 3d
GAP = 15 * 60  # episodes less than this apart are one (a flapping condition)
PNG = "build/report.png"
PDF = "build/report.pdf"
PAGE1 = "build/report-page1.png"


def utc(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def close(a, b, rel=1e-12, abs_=1e-12):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------

def q(sel, by=""):
    return (f"sum{' by (' + by + ')' if by else ''}"
            f"(increase(http_requests_total{sel}[{{{{.window}}}}]))")


BAD, TOTAL = q('{job="checkout",code=~"5.."}'), q('{job="checkout"}')
GOOD = q('{job="checkout",code!~"5.."}')
EXCL = ("2025-12-24T10:20:00+08:00", "2025-12-24T12:00:00+08:00")
DESC = 'Checkout requests that do not fail <script>alert("x")</script> & more'

RULES = f"""version: sloe/v1
services:
  - name: checkout
    labels: {{team: payments}}
    scorecard: {{excellent: 95, pass: 80}}
    slos:
      - name: month-utc
        description: '{DESC}'
        objective: 99.95
        warning: 99.9
        minimum: 99.5
        window: month
        sli:
          events:
            bad_query: '{BAD}'
            total_query: '{TOTAL}'
        scoring: {{weight: 3, deduct: 5, per: 0.1}}
        sla_credits: [{{below: 99.95, credit: 5}}, {{below: 99.5, credit: 25}}]
      - name: month-shanghai
        objective: 99.9
        window: month
        timezone: Asia/Shanghai
        sli:
          events:
            good_query: '{GOOD}'
            total_query: '{TOTAL}'
        scoring: {{weight: 1, deduct: 10, per: 0.05}}
      - name: by-route
        objective: 99.9
        window: month
        group_by: [route]
        sli:
          events:
            bad_query: '{q('{job="checkout",code=~"5.."}', "route")}'
            total_query: '{q('{job="checkout"}', "route")}'
        scoring: {{weight: 2}}
      - name: office-hours
        objective: 99.5
        window: month
        timezone: Asia/Shanghai
        service_hours: {{days: mon-fri, start: "09:00", end: "18:00"}}
        exclusions:
          - {{start: "{EXCL[0]}", end: "{EXCL[1]}", reason: planned failover}}
        sli:
          events:
            bad_query: '{BAD}'
            total_query: '{TOTAL}'
  - name: strict
    scorecard: {{excellent: 99, pass: 90}}
    slos:
      - name: four-nines
        objective: 99.99
        window: month
        sli:
          events:
            bad_query: '{BAD}'
            total_query: '{TOTAL}'
        scoring: {{deduct: 50, per: 0.01}}
"""

BROKEN = f"""version: sloe/v1
services:
  - name: checkout
    slos:
      - name: fine
        objective: 99.9
        window: month
        sli:
          events:
            bad_query: '{BAD}'
            total_query: '{TOTAL}'
      - name: refused
        objective: 99.9
        window: month
        sli:
          events:
            bad_query: '{BAD} +'
            total_query: '{TOTAL}'
"""


# --------------------------------------------------------------------------------------
# Expected values from first principles
# --------------------------------------------------------------------------------------

def ratio(percent):
    return round(percent * 1e10) / 1e12


class Spec:
    """An SLO instance as the test sees it: per-minute bad and total (minute i covers
    (START+60i, START+60(i+1)]), already masked when the SLO counts only some minutes."""

    def __init__(self, service, slo, bad, total, objective, warning=None, minimum=None, *,
                 tz="UTC", labels=None, weight=1.0, deduct=5.0, per=0.1, credits=()):
        self.service, self.slo = service, slo
        self.bad, self.total = bad, total
        self.objective = objective
        self.warning = objective if warning is None else warning
        self.minimum = self.warning if minimum is None else minimum
        self.tz, self.labels = tz, labels or {}
        self.weight, self.deduct, self.per = weight, deduct, per
        self.credits = list(credits)
        self.pb, self.pt = [0], [0]
        for b, t in zip(bad, total):
            self.pb.append(self.pb[-1] + b)
            self.pt.append(self.pt[-1] + t)

    def name(self):
        return f"{self.service}/{self.slo}" + "".join(f" {k}={v}" for k, v in self.labels.items())

    def sums(self, a, b):
        """bad and total over (a, b]: the minutes whose end lies in it."""
        lo = max(0, min(len(self.bad), (a - START) // 60))
        hi = max(0, min(len(self.bad), (b - START) // 60))
        if hi <= lo:
            return 0, 0
        return self.pb[hi] - self.pb[lo], self.pt[hi] - self.pt[lo]

    def score(self, c):
        short = self.objective - c * 100
        if short <= 1e-12:
            return 100.0
        return max(0.0, 100 - self.deduct * short / self.per)

    def credit(self, c):
        out = 0.0
        for below, credit in self.credits:
            if c * 100 < below:
                out = credit / 100
        return out

    def state(self, c):
        x = c * 100 + 1e-9
        return ("met" if x >= self.objective else "degraded" if x >= self.warning
                else "warning" if x >= self.minimum else "breach")


def sli(bad, total):
    return 1 - bad / total if total > 0 else 1.0


def month_bounds(year, month, tz):
    z = ZoneInfo(tz)
    a = datetime(year, month, 1, tzinfo=z)
    b = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=z)
    return int(a.timestamp()), int(b.timestamp())


def local_days(ps, pe, tz):
    """The local days [start, end) of (ps, pe], with their dates."""
    z = ZoneInfo(tz)
    out = []
    d = datetime.fromtimestamp(ps, z).date()
    while True:
        a = int(datetime(d.year, d.month, d.day, tzinfo=z).timestamp())
        if a >= pe:
            return out
        n = d.toordinal() + 1
        nd = datetime.fromordinal(n).date()
        b = int(datetime(nd.year, nd.month, nd.day, tzinfo=z).timestamp())
        out.append((d.isoformat(), a, min(b, pe)))
        d = nd


_expected = {}


def expect_period(spec, ps, pe, to):
    """What the report should say of spec for the period [ps, pe), measured to `to`."""
    key = (id(spec), ps, pe, to)
    if key not in _expected:
        _expected[key] = _expect_period(spec, ps, pe, to)
    return _expected[key]


def _expect_period(spec, ps, pe, to):
    end = min(pe, to)
    bad, total = spec.sums(ps, end)
    c = sli(bad, total)
    allowed = 1 - ratio(spec.objective)
    x = {"bad": bad, "total": total, "good": total - bad, "compliance": c,
         "spent": (bad / total) / allowed if total > 0 else 0.0,
         "state": spec.state(c), "score": spec.score(c), "credit": spec.credit(c)}
    days = []
    for date, a, b in local_days(ps, end, spec.tz):
        db, dt = spec.sums(a, b)
        days.append((date, db, dt))
    worst = sorted([d for d in days if d[2] > 0 and d[1] > 0],
                   key=lambda d: (sli(d[1], d[2]), d[0]))[:3]
    x["worst"] = [(d[0], sli(d[1], d[2])) for d in worst]
    x["episodes"] = episodes(spec, ps + 60, end)
    return x


def episodes(spec, frm, to):
    """The page and ticket episodes evaluated at every minute T in [frm, to]: the SRE
    Workbook conditions with the factor (calendar month of T in the SLO's zone) / 30 days;
    windows (T-W, T] from the per-minute counts."""
    allowed = 1 - ratio(spec.objective)
    z = ZoneInfo(spec.tz)
    out, opened, last = [], [None, None], [None, None]
    cache = (0, 0)
    T = frm
    while T <= to:
        if not cache[0] <= T < cache[1]:
            lt = datetime.fromtimestamp(T, z)
            cache = month_bounds(lt.year, lt.month, spec.tz)
        f = (cache[1] - cache[0]) / (30 * DAY)
        burn = []
        for W in WINDOWS:
            b, t = spec.sums(T - W, T)
            burn.append((b / t) / allowed if t > 0 else 0.0)
        b5, b30, b1h, b2h, b6h, b1d, b3d = burn
        holds = ((b1h > 14.4 * f and b5 > 14.4 * f) or (b6h > 6 * f and b30 > 6 * f),
                 (b1d > 3 * f and b2h > 3 * f) or (b3d > 1 * f and b6h > 1 * f))
        for sev in (0, 1):
            if holds[sev] and opened[sev] is None:
                if last[sev] is not None and T - out[last[sev]]["end"] < GAP:
                    opened[sev] = last[sev]
                else:
                    out.append({"severity": ("page", "ticket")[sev], "start": T, "end": T,
                                "open": False})
                    opened[sev] = last[sev] = len(out) - 1
            elif not holds[sev] and opened[sev] is not None:
                out[opened[sev]]["end"] = T
                opened[sev] = None
        T += 60
    for sev in (0, 1):
        if opened[sev] is not None:
            out[opened[sev]]["end"] = to
            out[opened[sev]]["open"] = True
    return out


def masked(ds, bad, total, tz, days, start_min, end_min, excl):
    """Zeroes the minutes whose start lies outside service hours (local weekdays `days`,
    [start_min, end_min) minutes after local midnight) or inside the exclusion [a, b)."""
    z = ZoneInfo(tz)
    mb, mt = [], []
    for i in range(ds.minutes):
        s = START + 60 * i
        lt = datetime.fromtimestamp(s, z)
        m = lt.hour * 60 + lt.minute
        keep = lt.weekday() in days and start_min <= m < end_min and not excl[0] <= s < excl[1]
        mb.append(bad[i] if keep else 0)
        mt.append(total[i] if keep else 0)
    return mb, mt


def specs_for(ds):
    sel = ds.select
    tot = sel("http_requests_total", job="checkout")
    bad = sel("http_requests_total", job="checkout", code="500")
    exa = int(datetime.fromisoformat(EXCL[0]).timestamp())
    exb = int(datetime.fromisoformat(EXCL[1]).timestamp())
    ob, ot = masked(ds, bad, tot, "Asia/Shanghai", range(5), 9 * 60, 18 * 60, (exa, exb))
    hb, ht = masked(ds, bad, tot, "Asia/Shanghai", range(5), 9 * 60, 18 * 60, (0, 0))
    S = Spec
    sp = [
        S("checkout", "month-utc", bad, tot, 99.95, 99.9, 99.5, weight=3,
          credits=[(99.95, 5), (99.5, 25)]),
        S("checkout", "month-shanghai", bad, tot, 99.9, tz="Asia/Shanghai", deduct=10,
          per=0.05),
    ]
    for r in ("/cart", "/pay"):
        sp.append(S("checkout", "by-route", sel("http_requests_total", job="checkout",
                                                 route=r, code="500"),
                    sel("http_requests_total", job="checkout", route=r), 99.9,
                    labels={"route": r}, weight=1.0))  # weight 2 shared by two routes
    sp.append(S("checkout", "office-hours", ob, ot, 99.5, tz="Asia/Shanghai"))
    sp.append(S("strict", "four-nines", bad, tot, 99.99, deduct=50, per=0.01))
    unmasked = {"hours_only": (hb, ht), "all": (bad, tot)}
    return sp, unmasked


# --------------------------------------------------------------------------------------
# Running sloe
# --------------------------------------------------------------------------------------

def sloe(args, timeout=120):
    p = subprocess.run([SLOE] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def report(rules, url, period, fmt, *extra):
    return sloe(["report", f"--rules={rules}", f"--prometheus.url={url}", f"--period={period}",
                 f"--format={fmt}"] + list(extra))


def find(doc, service, slo, labels=None):
    for s in doc.get("services", []):
        if s.get("service") != service:
            continue
        for o in s.get("slos", []):
            if o.get("slo") == slo and o.get("labels", {}) == (labels or {}):
                return s, o
    return None, None


def md_pct(c, objective):
    d = 0
    while d < 5 and abs(objective * 10 ** d - round(objective * 10 ** d)) > 1e-6:
        d += 1
    d = min(d + 2, 6)
    return f"{math.floor(c * 100 * 10 ** d + 1e-6) / 10 ** d:.{d}f}"


def local(t, tz):
    return datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------

def check_json(doc, specs, period_bounds, to, tag):
    """Every number of every instance of the JSON report against the expectations."""
    svc_w, svc_s = {}, {}
    for sp in specs:
        ps, pe = period_bounds(sp)
        x = expect_period(sp, ps, pe, to)
        s, o = find(doc, sp.service, sp.slo, sp.labels)
        name = f"{tag} {sp.name()}"
        if not check(f"{name}: in the report", o is not None):
            continue
        svc_w[sp.service] = svc_w.get(sp.service, 0) + sp.weight
        svc_s[sp.service] = svc_s.get(sp.service, 0) + sp.weight * x["score"]
        per = o.get("period", {})
        check(f"{name}: period [{utc(ps)}, {utc(pe)}) in {sp.tz}",
              per.get("start") == ps and per.get("end") == pe,
              f"got [{per.get('start')}, {per.get('end')})")
        ev = o.get("events", {})
        check(f"{name}: events {x['bad']} bad of {x['total']}",
              close(ev.get("bad"), x["bad"]) and close(ev.get("total"), x["total"]) and
              close(ev.get("good"), x["good"]), f"got {ev}")
        check(f"{name}: compliance {x['compliance']:.9f}",
              close(o.get("compliance"), x["compliance"]), f"got {o.get('compliance')}")
        check(f"{name}: budget spent {x['spent']:.6f}, state {x['state']}",
              close(o.get("error_budget_spent"), x["spent"], 1e-9) and
              o.get("state") == x["state"],
              f"got {o.get('error_budget_spent')} {o.get('state')}")
        check(f"{name}: score {x['score']:.4f}, credit {x['credit']}",
              close(o.get("score"), x["score"], 1e-9, 1e-9) and
              close(o.get("sla_credit"), x["credit"]),
              f"got {o.get('score')} {o.get('sla_credit')}")
        got_w = [(d.get("date"), d.get("compliance")) for d in o.get("worst_days", [])]
        check(f"{name}: worst days {[w[0] for w in x['worst']]}",
              len(got_w) == len(x["worst"]) and
              all(g[0] == w[0] and close(g[1], w[1]) for g, w in zip(got_w, x["worst"])),
              f"got {got_w}, want {x['worst']}")
        got_e = [(e.get("severity"), e.get("start"), e.get("end"), e.get("open"))
                 for e in o.get("alert_episodes", [])]
        want_e = [(e["severity"], e["start"], e["end"], e["open"]) for e in x["episodes"]]
        check(f"{name}: {len(want_e)} alert episodes",
              len(got_e) == len(want_e) and all(
                  g[0] == w[0] and abs(g[1] - w[1]) <= 60 and abs(g[2] - w[2]) <= 60 and
                  g[3] == w[3] for g, w in zip(got_e, want_e)),
              f"got {[(a, utc(b), utc(c), d) for a, b, c, d in got_e][:6]}, "
              f"want {[(a, utc(b), utc(c), d) for a, b, c, d in want_e][:6]}")
    for svc, w in svc_w.items():
        s = next((s for s in doc.get("services", []) if s.get("service") == svc), {})
        score = svc_s[svc] / w
        card = {"checkout": (95, 80), "strict": (99, 90)}[svc]
        grade = "excellent" if score >= card[0] else "pass" if score >= card[1] else "fail"
        check(f"{tag} service {svc}: score {score:.4f}, grade {grade}",
              close(s.get("score"), score, 1e-9, 1e-9) and s.get("grade") == grade,
              f"got {s.get('score')} {s.get('grade')}")


def run(prom, ds, tmp):
    url = prom.url
    rules = os.path.join(tmp, "report.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    rc, out, err = sloe(["check", rules])
    check("sloe check accepts the rule file", rc == 0, out + err)
    specs, unmasked = specs_for(ds)

    def month_of(sp):
        return month_bounds(2025, 12, sp.tz)

    # ---- JSON, the month of December 2025 ----
    rc, out, err = report(rules, url, "2025-12", "json")
    doc = None
    try:
        doc = json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as e:
        print(f"# unparsable JSON: {e}: {out[:300]!r} {err[-300:]!r}")
    check("json: exit 0, a JSON object without NaN/Inf", rc == 0 and isinstance(doc, dict),
          f"rc {rc} {err[-300:]}")
    if not isinstance(doc, dict):
        return
    check("json: period 2025-12 (month), complete, no failed SLO",
          doc.get("period") == {"name": "2025-12", "kind": "month"} and
          doc.get("complete") is True and doc.get("failed_slos") == 0, str(doc.get("period")))
    check_json(doc, specs, month_of, END, "2025-12")

    # The night incident (2025-12-24 02:00-02:40 UTC): one page episode of month-utc.
    night = ds.meta["incidents"][0]
    mu = specs[0]
    x = expect_period(mu, *month_of(mu), END)
    pages = [e for e in x["episodes"] if e["severity"] == "page" and
             night["start"] <= e["start"] < night["end"]]
    _, o = find(doc, "checkout", "month-utc")
    got = [e for e in (o or {}).get("alert_episodes", []) if e.get("severity") == "page" and
           night["start"] <= e.get("start", 0) < night["end"] + HOUR]
    check(f"night incident: one page episode "
          f"{utc(pages[0]['start']) if pages else '?'} to {utc(pages[0]['end']) if pages else '?'}"
          " (within a minute)",
          len(pages) == 1 and len(got) == 1 and abs(got[0]["start"] - pages[0]["start"]) <= 60
          and abs(got[0]["end"] - pages[0]["end"]) <= 60 and
          got[0]["duration_seconds"] == got[0]["end"] - got[0]["start"],
          f"got {got}, want {pages}")
    check("night incident: the page starts within 10 minutes of the incident and ends "
          "within 40 minutes after it",
          bool(pages) and night["start"] < pages[0]["start"] <= night["start"] + 600 and
          night["end"] < pages[0]["end"] <= night["end"] + 2400, str(pages))

    # Service hours and the exclusion: the masked expectation is what was counted.
    oh = next(s for s in specs if s.slo == "office-hours")
    _, o = find(doc, "checkout", "office-hours")
    ps, pe = month_of(oh)
    hb, ht = Spec("x", "y", *unmasked["hours_only"], 99.5).sums(ps, pe)
    ab, at = Spec("x", "y", *unmasked["all"], 99.5).sums(ps, pe)
    mb, mt = oh.sums(ps, pe)
    ev = (o or {}).get("events", {})
    check(f"office-hours: {mb} bad of {mt} counted; errors outside service hours "
          f"({ab - hb} of {ab}) and in the exclusion ({hb - mb}) are not",
          close(ev.get("bad"), mb) and close(ev.get("total"), mt) and mb < hb < ab and
          mt < at, f"got {ev}")
    dayinc = ds.meta["incidents"][1]
    got_days = {d["date"]: d for d in (o or {}).get("days", [])}
    d30 = got_days.get("2025-12-30", {})
    b30, _ = oh.sums(dayinc["start"], dayinc["end"])
    check("office-hours: the day incident (22:00 Shanghai) counts nothing",
          b30 == 0 and d30.get("bad", -1) == oh.sums(*local_days(ps, pe, oh.tz)[29][1:])[0],
          f"got {d30}")

    # The periods before and the improvement plan: November has data from the 22nd, October
    # none, so four-nines (score 0 now) is not due.
    _, o = find(doc, "strict", "four-nines")
    prev = (o or {}).get("previous_periods", [])
    nb, nt = specs[-1].sums(*month_bounds(2025, 11, "UTC"))
    check("four-nines: previous periods 2025-11 (from the 22nd) and 2025-10 (no events)",
          len(prev) == 2 and prev[0].get("period") == "2025-11" and
          close(prev[0].get("compliance"), sli(nb, nt)) and prev[1].get("period") == "2025-10"
          and prev[1].get("total") == 0 and prev[1].get("compliance") == 1, str(prev))
    check("four-nines: no improvement plan (October scored 100)",
          o is not None and o.get("improvement_plan_due") is False)

    # ---- the same report in markdown, CSV and HTML ----
    rc, md, err = report(rules, url, "2025-12", "markdown")
    check("markdown: exit 0, title, one heading per service",
          rc == 0 and md.startswith("# SLO report 2025-12\n") and "\n## checkout\n" in md and
          "\n## strict\n" in md, err[-300:])
    missing = []
    for sp in specs:
        x = expect_period(sp, *month_of(sp), END)
        if f"| {md_pct(x['compliance'], sp.objective)} % |" not in md:
            missing.append(sp.name())
    check("markdown: every SLO's compliance in its table", not missing, str(missing))
    if pages:
        line = f"| page | {local(pages[0]['start'], 'UTC')} | {local(pages[0]['end'], 'UTC')} |"
        check(f"markdown: the night page episode {line}", line in md)
    check("markdown: user strings escaped", "\\<script\\>" in md and "<script>" not in md)

    rc, out, err = report(rules, url, "2025-12", "csv")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    check("csv: exit 0, header and one row per instance, CRLF line ends",
          rc == 0 and len(rows) == len(specs) and out.count("\r\n") == len(specs) + 1,
          f"rc {rc}, {len(rows)} rows")
    bad_rows = []
    for sp in specs:
        x = expect_period(sp, *month_of(sp), END)
        lab = ", ".join(f"{k}={v}" for k, v in sp.labels.items())
        r = next((r for r in rows if r["service"] == sp.service and r["slo"] == sp.slo and
                  r["labels"] == lab), None)
        if r is None or not close(float(r["compliance"]), x["compliance"], 1e-13) or \
                float(r["total"]) != x["total"] or r["state"] != x["state"] or \
                not close(float(r["score"]), x["score"], 1e-9, 1e-9):
            bad_rows.append((sp.name(), r and (r["compliance"], r["total"], r["state"])))
    check("csv: compliance, events, state and score of every row", not bad_rows, str(bad_rows))
    desc_ok = any(r["slo"] == "month-utc" for r in rows)
    check("csv: quoted fields parse back (labels, descriptions)", desc_ok)

    rc, html, err = report(rules, url, "2025-12", "html")
    check("html: exit 0, one document", rc == 0 and html.startswith("<!DOCTYPE html>") and
          html.rstrip().endswith("</html>"), err[-300:])
    check("html: no script, no external asset, user strings escaped",
          "<script" not in html and "http://" not in html and "https://" not in html and
          "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html)
    check("html: print rules (A4, page breaks between services) and one chart pair per SLO",
          "size:A4" in html and "break-before:page" in html and
          html.count("<svg class=\"chart\"") == 2 * len(specs), str(html.count("<svg")))
    miss = [sp.name() for sp in specs
            if f"{md_pct(expect_period(sp, *month_of(sp), END)['compliance'], sp.objective)} %"
            not in html]
    check("html: every SLO's compliance shown", not miss, str(miss))
    out_html = os.path.abspath("build/report.html")
    os.makedirs("build", exist_ok=True)
    with open(out_html, "w") as f:
        f.write(html)

    # --output writes the file whole.
    out_file = os.path.join(tmp, "out.json")
    rc, out, err = report(rules, url, "2025-12", "json", f"--output={out_file}")
    try:
        same = json.load(open(out_file))["services"] == doc["services"]
    except (OSError, ValueError, KeyError):
        same = False
    check("--output=FILE: the same report in the file, nothing on stdout",
          rc == 0 and out == "" and same and
          not [n for n in os.listdir(tmp) if n.startswith("out.json.")])

    # ---- sloe eval agrees ----
    # eval at a month's last minute measures the month up to it (at the month's end itself a
    # calendar window has moved on to the next month): a report measured to the same minute
    # must give the same numbers, and the full month adds the last minute's events.
    for sp, T in ((specs[0], END - 60), (specs[1], month_of(specs[1])[1] - 60),
                  (specs[0], 1766217600)):  # 2025-12-20T08:00Z, a month not over
        rc_e, out_e, _ = sloe(["eval", f"--rules={rules}", f"--prometheus.url={url}",
                               f"--time={T}", "--format=json"])
        rc_r, out_r, _ = report(rules, url, "2025-12", "json", f"--time={T}")
        try:
            ev = next(o for o in json.loads(out_e) if o["slo"] == sp.slo)
            _, ro = find(json.loads(out_r), sp.service, sp.slo)
        except (ValueError, StopIteration):
            ev, ro = None, None
        ok = ev is not None and ro is not None
        check(f"eval --time={utc(T)} and report --time={utc(T)} agree on {sp.slo}: "
              "compliance, events, budget, state, score, credit",
              ok and close(ro["compliance"], ev["compliance"]) and
              close(ro["events"]["bad"], ev["period"]["bad"]) and
              close(ro["events"]["total"], ev["period"]["total"]) and
              close(ro["error_budget_remaining"], ev["error_budget_remaining"], 1e-9) and
              ro["state"] == ev["state"] and close(ro["score"], ev["score"], 1e-9, 1e-9) and
              close(ro["sla_credit"], ev["sla_credit"]),
              f"eval {ev and (ev['compliance'], ev['period'])} report "
              f"{ro and (ro['compliance'], ro['events'])}")
        if T < month_of(sp)[1] - 60:
            check(f"report --time={utc(T)}: not over yet, measured to it",
                  ok and ro["period"]["complete"] is False and ro["period"]["measured_to"] == T
                  and "Not over yet" in report(rules, url, "2025-12", "markdown",
                                               f"--time={T}")[1])
            continue
        _, full = find(doc, sp.service, sp.slo)
        lb, lt = sp.sums(T, T + 60)
        check(f"{sp.slo}: the month = eval at {utc(T)} + the last minute ({lt} events)",
              ok and close(full["events"]["total"], ev["period"]["total"] + lt) and
              close(full["events"]["bad"], ev["period"]["bad"] + lb))

    # ---- an ISO week: the improvement plan of a week below the pass line three times ----
    rc, out, err = report(rules, url, "2025-W52", "json")
    try:
        wdoc = json.loads(out)
    except ValueError:
        wdoc = {}
    _, o = find(wdoc, "strict", "four-nines")
    check("week 2025-W52: Monday 2025-12-22 to 2025-12-29, weeks 51 and 50 before",
          o is not None and o["period"]["start"] == 1766361600 and
          o["period"]["end"] == 1766966400 and
          [p["period"] for p in o["previous_periods"]] == ["2025-W51", "2025-W50"])
    sp4 = specs[-1]
    wanted = []
    for a, b in ((1766361600, 1766966400), (1765756800, 1766361600),
                 (1765152000, 1765756800)):
        wanted.append(sp4.score(sli(*sp4.sums(a, b))))
    check(f"week 2025-W52: four-nines scored {wanted} (pass 90): improvement plan due",
          o is not None and all(w < 90 for w in wanted) and
          o.get("improvement_plan_due") is True and
          close(o["score"], wanted[0], 1e-9, 1e-9) and
          close(o["previous_periods"][0]["score"], wanted[1], 1e-9, 1e-9))
    _, o = find(wdoc, "checkout", "month-utc")
    check("week 2025-W52: month-utc's alert conditions scale by its own month (31 days)",
          o is not None and len(o["alert_episodes"]) ==
          len(episodes(specs[0], 1766361600 + 60, 1766966400)))

    # ---- failures and usage errors ----
    broken = os.path.join(tmp, "broken.yaml")
    with open(broken, "w") as f:
        f.write(BROKEN)
    rc, out, err = report(broken, url, "2025-12", "json")
    try:
        bdoc = json.loads(out)
    except ValueError:
        bdoc = {}
    _, fine = find(bdoc, "checkout", "fine")
    _, refused = find(bdoc, "checkout", "refused")
    check("a refused query: exit 1, the SLO listed as failed with the error, the others "
          "reported",
          rc == 1 and refused is not None and refused.get("data_ok") is False and
          "parse error" in refused.get("error", "") and fine is not None and
          fine.get("data_ok") is True and bdoc.get("failed_slos") == 1 and
          "refused" in err, f"rc {rc} {refused} {err[-300:]}")
    rc, md, err = report(broken, url, "2025-12", "markdown")
    check("a refused query: markdown says failed, with the error",
          rc == 1 and "**failed**" in md and "parse error" in md)
    rc, out, err = report(rules, f"http://127.0.0.1:{pl.free_port()}", "2025-12", "csv")
    check("Prometheus down: exit 1, every SLO failed in the CSV",
          rc == 1 and out.count(",failed,") == 5, f"rc {rc} {out[:300]!r}")
    for bad in ("2025-13", "2025-W53", "2025-Q5", "December", "2025-12-32"):
        rc, out, err = report(rules, url, bad, "json")
        check(f"--period={bad}: exit 2, the accepted forms named",
              rc == 2 and "a month (2026-10), a quarter (2026-Q3), an ISO week (2026-W44) "
              "or a day (2026-10-31)" in err and out == "", err[-200:])
    rc, out, err = sloe(["report", f"--rules={rules}"])
    check("no --period: exit 2", rc == 2 and "--period" in err)
    rc, out, err = report(rules, url, "2030-01", "json")
    check("a period not started yet: exit 2", rc == 2 and "has not started yet" in err, err)

    # Progress on a terminal only.
    rc, out, err = report(rules, url, "2025-12", "csv")
    check("stderr not a terminal: no progress", rc == 0 and "report:" not in err, err[-200:])
    master, slave = pty.openpty()
    p = subprocess.Popen([SLOE, "report", f"--rules={rules}", f"--prometheus.url={url}",
                          "--period=2025-12", "--format=csv"], stdout=subprocess.PIPE,
                         stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    out, _ = p.communicate(timeout=120)
    os.close(master)
    check("stderr a terminal: 'report: i/5 SLOs' on one overwritten line, cleared at the end",
          p.returncode == 0 and b"\rreport: 0/5 SLOs" in tty and b"\rreport: 5/5 SLOs" in tty
          and tty.endswith(b"\r\x1b[K") and b"\n" not in tty and out.count(b"\r\n") == 7,
          repr(tty[-200:]))

    render(out_html)


def run_chromium(argv, timeout=90):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        log, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
    return p.returncode, log.decode(errors="replace")


def render(html_path):
    """The HTML report as a screenshot and as a PDF, in headless chromium."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        skip("html rendered by chromium", "chromium not installed")
        return
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]
    for path in (PNG, PDF, PAGE1):
        if os.path.exists(path):
            os.remove(path)
    profile = tempfile.mkdtemp(prefix="sloe-chromium-")
    try:
        rc, log = run_chromium(base + [f"--user-data-dir={profile}", "--window-size=1280,1800",
                                       f"--screenshot={os.path.abspath(PNG)}",
                                       f"file://{html_path}"])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    size = os.path.getsize(PNG) if os.path.exists(PNG) else 0
    magic = open(PNG, "rb").read(8) if size else b""
    check(f"chromium screenshot of the HTML report is a PNG over 50 KB ({size} bytes): {PNG}",
          magic == b"\x89PNG\r\n\x1a\n" and size > 50 * 1024, f"rc {rc} {log[-300:]}")
    profile = tempfile.mkdtemp(prefix="sloe-chromium-")
    try:
        rc, log = run_chromium(base + [f"--user-data-dir={profile}", "--no-pdf-header-footer",
                                       f"--print-to-pdf={os.path.abspath(PDF)}",
                                       f"file://{html_path}"])
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    data = open(PDF, "rb").read() if os.path.exists(PDF) else b""
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    check(f"chromium prints the HTML report to a PDF over 50 KB ({len(data)} bytes, "
          f"{pages} pages): {PDF}",
          data.startswith(b"%PDF-") and len(data) > 50 * 1024 and pages >= 3,
          f"rc {rc} {log[-300:]}")
    if shutil.which("pdftoppm") is None:
        skip("first PDF page as a PNG", "pdftoppm (poppler-utils) not installed")
        return
    p = subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        PDF, PAGE1[:-4]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    size = os.path.getsize(PAGE1) if os.path.exists(PAGE1) else 0
    check(f"pdftoppm renders the first PDF page ({size} bytes): {PAGE1}",
          p.returncode == 0 and size > 10 * 1024, p.stdout.decode(errors="replace")[-200:])


def main():
    pl.handle_sigterm()
    t_all = time.monotonic()
    if not os.access(SLOE, os.X_OK):
        print(f"missing binary {SLOE}: run make")
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory(prefix="sloe-report-test-") as tmp:
        om, tsdb = os.path.join(tmp, "scenario.om"), os.path.join(tmp, "tsdb")
        ds = pl.checkout_scenario(om, END, days=DAYS)
        assert ds.start == START
        pl.backfill(om, tsdb)
        print(f"# data generated and backfilled in {time.monotonic() - t_all:.1f}s")
        with pl.Prometheus(tsdb) as prom:
            print(f"# prometheus ready in {prom.start_seconds:.2f}s at {prom.url}")
            run(prom, ds, tmp)
    print(f"# total {time.monotonic() - t_all:.1f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
