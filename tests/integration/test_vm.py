#!/usr/bin/env python3
"""Integration test of sloe's evaluation against VictoriaMetrics as the query API.

The standard promlab checkout scenario (31 days ending 2026-01-01T00:00Z: a night and a day
incident, a counter reset, slow /pay latency during the day incident, a probe outage, a canary
that appears and vanishes) is imported into a real single-node VictoriaMetrics
(/usr/bin/victoria-metrics, Debian package `victoria-metrics`) started with default query
settings (only the retention is raised, for data this old), and `sloe eval --time=T` runs
against it at explicit times. Every expected number is computed here from the generator's
exact per-minute counts, never from sloe's or VictoriaMetrics's output. build/evaldriver then
steps one evaluator a minute at a time (the steady-state path of sloe serve: only the new
minutes are fetched); `sloe serve` evaluates live data imported up to 30 minutes from now
(its /api/v1/slos and /metrics are checked, and the same VictoriaMetrics scrapes its /metrics
every second: every sample is ingested, values are stored to 12 significant digits); and
the same rules run against Prometheus 2.42 backfilled from the same file, to show where the
two engines agree (to 1e-12: all but uptime and the rate() form) and where they legitimately
differ.

What VictoriaMetrics does differently from Prometheus 2.x, and what this test expects of it:

- Import: /api/v1/import/prometheus takes the Prometheus text format, whose timestamps are in
  milliseconds; the test writes milliseconds (VictoriaMetrics 1.79 also took the OpenMetrics
  seconds promtool reads, by guessing the unit: the test does not rely on that).
- increase(x[W]) at T uses the last sample at or before T-W as the base and the last sample in
  (T-W, T], without extrapolation: the exact number of events whose minute ends in (T-W, T],
  also when T is not on the sample grid (Prometheus 2.x extrapolates there). With a sample on
  every minute boundary Prometheus 2.x is exact too, so every events, latency and calendar
  SLO must match the exact counts; a counter reset is handled the same way.
- rate(x[W]) is increase(x[W]) / W as well, except when the window holds a single sample (a
  1-minute window on data scraped every minute: sloe's 1-minute intervals): VictoriaMetrics
  1.79 then answers the mean rate over the last two scrape intervals (not documented; checked
  below, and not the case with 15 s or 30 s scrapes). An events SLI written with rate(), the
  contract's form, then counts each minute as the mean of it and the minute before: a window
  read by the minute reports the exact events plus (c(T-W) - c(T)) / 2 (c(e): the events of
  the minute ending at e); rate_shift() computes that, and Prometheus 2.x, exact here, is
  checked against the exact counts. The increase() form is exact on both.
- A subquery x[W:S] at T has its points in (T-W, T] (left-open, as Prometheus 3.x; Prometheus
  2.x includes T-W). For the uptime SLI, sloe's query averages each minute over its 1m
  subquery: on Prometheus 2.x the minute (e-60, e] is worth the mean of the samples at e-60 and
  e, on VictoriaMetrics (and Prometheus 3.x) the sample at e alone. The expected uptime values
  here follow VictoriaMetrics: a minute is down when the sample at its end is 0. The totals
  over an outage are the same; windows that cut an outage differ by half a minute per edge.
- A timeslice SLI has exactly one slice per minute here on both engines (sloe's subquery
  covers (t-step, t], so the left-closed ranges of Prometheus 2.x count a boundary slice once).
- VictoriaMetrics counts a subquery's own points against -search.maxPointsPerTimeseries (30,000
  by default) for the whole range of a range query: sloe must split the range queries of
  subquery SLIs (uptime, timeslice) so that a 30-day period works with the default.
- The query result cache (on by default) is reset after the import.

Run from the repository root: python3 tests/integration/test_vm.py (after make).
The binaries come from SLOE_BIN (default bin/sloe) and EVALDRIVER (default build/evaldriver).
Prints one line per check and ends with "N passed, N failed"; exits 1 when a check fails.
A missing victoria-metrics binary is a failure: install it with `make deps`.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402
import promlab as pl  # noqa: E402
# From test_eval: the alert windows, the history tiers' pro-rata slack, the expected values of
# a window and of the alerts, the comparison of an instance with them (here with exact
# tolerances) and of two instances with each other.
from test_eval import (DAY, HOUR, MIN, WINDOWS, compare_common, expected_alerts,  # noqa: E402
                       same_results, slack, win)

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
DRIVER = os.environ.get("EVALDRIVER", "build/evaldriver")
VM_BIN = os.environ.get("VICTORIA_METRICS", "/usr/bin/victoria-metrics")

END = 1767225600  # 2026-01-01T00:00:00Z, the end of the data
DAYS = 31
D = END  # midnight UTC of END's day: the scenario's reference
START = END - DAYS * DAY  # 2025-12-01T00:00:00Z

SAN_RE = re.compile(r"Sanitizer|runtime error:")


def rel(t):
    """A time relative to D, for check names: 'D-8d 02:30'."""
    d, s = divmod(t - D, DAY)
    hm = f"{s // 3600:02d}:{s % 3600 // 60:02d}"
    return f"D{d:+d}d {hm}" if d else f"D {hm}"


# --------------------------------------------------------------------------------------
# VictoriaMetrics
# --------------------------------------------------------------------------------------

class VMError(RuntimeError):
    pass


class VictoriaMetrics:
    """A single-node VictoriaMetrics on a free 127.0.0.1 port with a temporary data dir."""

    def __init__(self, flags=()):
        self.tmp = tempfile.mkdtemp(prefix="sloe-vm-")
        self.log_path = os.path.join(self.tmp, "vm.log")
        self.flags = list(flags)
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        for attempt in range(5):
            self.port = pl.free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [VM_BIN, f"-storageDataPath={os.path.join(self.tmp, 'data')}",
                     "-retentionPeriod=100y", f"-httpListenAddr=127.0.0.1:{self.port}"]
                    + self.flags, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=pl._die_with_parent)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                        if r.status == 200:
                            return self
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                time.sleep(0.05)
            self.stop()
            if "address already in use" in self.log(tail=20) and attempt < 4:
                continue
            raise VMError(f"victoria-metrics did not start:\n{self.log(tail=20)}")

    def log(self, tail=None):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return ""
        return "".join(lines[-tail:] if tail else lines)

    def get(self, path, params=None, data=None, timeout=60):
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()

    def query(self, expr, t):
        """An instant query's {series key: value}."""
        _, body = self.get("/api/v1/query", {"query": expr, "time": str(t)})
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise VMError(f"query {expr!r}: {doc}")
        return pl.vector_values(doc["data"])

    def value(self, expr, t):
        vals = self.query(expr, t)
        return next(iter(vals.values())) if len(vals) == 1 else None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def import_openmetrics(vm, om_path):
    """Sends an OpenMetrics file (promlab's, seconds with or without a fraction) to
    /api/v1/import/prometheus as Prometheus text with millisecond timestamps (the text
    format's unit). Returns the bytes sent."""
    out = []
    with open(om_path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            head, ts = line.rstrip("\n").rsplit(" ", 1)
            out.append(f"{head} {round(float(ts) * 1000)}\n")
    body = "".join(out).encode()
    status, _ = vm.get("/api/v1/import/prometheus", data=body, timeout=300)
    if status != 204:
        raise VMError(f"import: HTTP {status}")
    return len(body)


# --------------------------------------------------------------------------------------
# Running sloe
# --------------------------------------------------------------------------------------

def sloe_eval(rules, T, url, fmt="json", timeout=120):
    args = [SLOE, "eval", f"--rules={rules}", f"--prometheus.url={url}", f"--time={T}"]
    if fmt:
        args.append(f"--format={fmt}")
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    out = p.stdout
    if fmt == "json":
        try:
            out = json.loads(p.stdout, parse_constant=lambda c: {"bad constant": c})
        except ValueError as e:
            out = None
            print(f"# @{T}: unparsable JSON ({e}): {p.stdout[:300]!r} stderr {p.stderr[:300]!r}")
    return p.returncode, out, p.stderr


def one(res, service, slo, **labels):
    m = [o for o in res or [] if o.get("service") == service and o.get("slo") == slo
         and all(o.get("labels", {}).get(k) == v for k, v in labels.items())]
    return m[0] if len(m) == 1 else None


# --------------------------------------------------------------------------------------
# Expected values from first principles (semantics of /work/shared/design/interface.md)
# --------------------------------------------------------------------------------------

class Spec:
    """An SLO as the test sees it: per-minute bad and total (index i = minute
    (START+60i, START+60(i+1)]) and its definition. For time-based SLIs the units are those
    sloe reports (seconds for uptime, slices for timeslice)."""

    def __init__(self, service, slo, bad, total, objective, *, window=30 * DAY,
                 calendar=None, tz="UTC", labels=None, origin=START, vm_rate=False):
        self.service, self.slo = service, slo
        self.bad, self.total = bad, total
        self.origin = origin  # minute i covers (origin+60i, origin+60(i+1)]
        self.vm_rate = vm_rate  # rate() queries on VictoriaMetrics: see rate_shift
        self.objective = objective
        self.window, self.calendar, self.tz = window, calendar, tz
        self.labels = labels or {}

    def name(self):
        return f"{self.service}/{self.slo}" + "".join(f" {k}={v}" for k, v in
                                                      sorted(self.labels.items()))

    def period_bounds(self, T):
        if self.calendar is None:
            return T - self.window, T
        z = ZoneInfo(self.tz)
        lt = datetime.fromtimestamp(T, z)
        a = datetime(lt.year, lt.month, 1, tzinfo=z)
        b = datetime(lt.year + (lt.month == 12), lt.month % 12 + 1, 1, tzinfo=z)
        return int(a.timestamp()), int(b.timestamp())


FINE_SPAN = 6 * HOUR  # sloe reads the last 6 hours from its 1-minute intervals


def rate_shift(counts, origin, T, W):
    """What VictoriaMetrics's rate(x[1m]) does to a window's events, as (shift, tolerance).

    On data scraped every minute a [1m] window holds one sample, and VictoriaMetrics 1.79
    answers the mean rate over the last two minutes (rate x 60 = (c(t) + c(t-60)) / 2, c(e)
    the events of the minute ending at e; increase() and rate() over [5m] and [1h] are exact).
    Summed over the minutes of (a, T] that sloe reads from its 1-minute intervals this is the
    exact sum plus (c(a) - c(T)) / 2. A window up to 6 hours is read wholly by the minute, so
    a = T - W; a longer one switches to 5-minute intervals (exact) somewhere in the 5 minutes
    after T - 6h, so c(a) is one of those minutes' counts: the tolerance covers them."""
    def c(e):
        i = (e - origin) // 60 - 1
        return counts[i] if 0 <= i < len(counts) else 0

    if W <= FINE_SPAN:
        return (c(T - W) - c(T)) / 2, 0
    near = [c(T - FINE_SPAN + 60 * k) for k in range(6)]
    lo, hi = min(near), max(near)
    return (lo + hi) / 4 - c(T) / 2, (hi - lo) / 4


def counted(spec, counts, T, W):
    """The events of (T-W, T] sloe should report and the allowed error."""
    n = pl.window_sum(counts, spec.origin, T, W)
    sl = slack(counts, spec.origin, T, W)
    if spec.vm_rate and W > 0:
        shift, tol = rate_shift(counts, spec.origin, T, W)
        n, sl = n + shift, sl + tol
    return n, sl


def expected(spec, T):
    o = spec.objective / 100
    x = {"windows": {}, "slack": {}}
    for name, W in WINDOWS:
        b, sb = counted(spec, spec.bad, T, W)
        t, st = counted(spec, spec.total, T, W)
        x["windows"][name] = win(b, t, o)
        x["slack"][name] = (sb, st)
    ps, pe = spec.period_bounds(T)
    b, sb = counted(spec, spec.bad, T, T - ps)
    t, st = counted(spec, spec.total, T, T - ps)
    x["period"] = dict(win(b, t, o), start=ps, end=pe)
    x["slack"]["period"] = (sb, st)
    x["compliance"] = x["period"]["sli"]
    x["error_budget_remaining"] = 1 - (b / t) / (1 - o) if t > 0 else 1.0
    pct = x["compliance"] * 100
    x["state"] = "met" if pct >= spec.objective else "breach"  # no warning/minimum lines here
    x["f"] = (pe - ps) / (30 * DAY)
    x["alerts"] = expected_alerts(x["windows"], x["f"])
    return x


def compare(spec, got, T):
    """Mismatches between sloe's JSON instance and the expected values, as strings, and those
    values. Counts must be exact (to 1e-9 relative) except where sloe's tiers allow slack;
    the SLIs, burn rates, compliance and budget left to 1e-9 beyond what that slack moves."""
    x = expected(spec, T)
    bad = compare_common(got, x, T, spec.objective / 100, sli_tol=1e-9, budget_tol=1e-9,
                         count_rel=1e-9, counts=True)
    return bad, x


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------

def q_inc(sel, by="", fn="increase"):
    return (f"sum{' by (' + by + ')' if by else ''}"
            f"({fn}(http_requests_total{sel}[{{{{.window}}}}]))")


def events(kind, a, b):
    return (f"        sli:\n          events:\n            {kind}_query: '{a}'\n"
            f"            total_query: '{b}'\n")


def rules_text(canary=True):
    bad_co, tot_co = q_inc('{job="checkout",code=~"5.."}'), q_inc('{job="checkout"}')
    good_co = q_inc('{job="checkout",code!~"5.."}')
    s = ["version: sloe/v1\nservices:\n  - name: checkout\n    slos:\n"]
    s.append("      - name: availability\n        objective: 99.9\n        window: 30d\n"
             + events("good", good_co, tot_co))
    s.append("      - name: by-route\n        objective: 99.9\n        window: 30d\n"
             "        group_by: [route]\n"
             + events("bad", q_inc('{job="checkout",code=~"5.."}', "route"),
                      q_inc('{job="checkout"}', "route")))
    # the rate() form of the contract and Sloth: sloe turns rates into interval counts
    s.append("      - name: availability-rate\n        objective: 99.9\n        window: 30d\n"
             + events("good", q_inc('{job="checkout",code!~"5.."}', fn="rate"),
                      q_inc('{job="checkout"}', fn="rate")))
    s.append("      - name: by-route-rate\n        objective: 99.9\n        window: 30d\n"
             "        group_by: [route]\n"
             + events("bad", q_inc('{job="checkout",code=~"5.."}', "route", "rate"),
                      q_inc('{job="checkout"}', "route", "rate")))
    s.append("      - name: latency-300ms\n        objective: 90\n        window: 30d\n"
             "        sli:\n          latency: {metric: http_request_duration_seconds, "
             "selector: '{job=\"checkout\"}', threshold: 0.3}\n")
    s.append("      - name: month-utc\n        objective: 99.9\n        window: month\n"
             + events("bad", bad_co, tot_co))
    s.append("      - name: month-shanghai\n        objective: 99.9\n        window: month\n"
             "        timezone: Asia/Shanghai\n" + events("bad", bad_co, tot_co))
    if canary:
        s.append("  - name: canary\n    slos:\n      - name: availability\n        objective: 99\n"
                 "        window: 30d\n"
                 + events("bad", q_inc('{job="canary",code=~"5.."}'),
                          q_inc('{job="canary"}')))
    # subquery SLIs, 30-day periods: VictoriaMetrics's default limit of 30,000 points per
    # series counts the subquery's points over the whole range of a range query
    for name, window in (("uptime", "30d"), ("uptime-7d", "7d")):
        s.append(("  - name: blackbox\n    slos:\n" if window == "30d" else "")
                 + f"      - name: {name}\n        objective: 99.9\n        window: {window}\n"
                 "        sli:\n          uptime: {query: 'probe_success{job=\"blackbox\"}'}\n")
    ratio = q_inc('{job="checkout",code=~"5.."}') + " / " + q_inc('{job="checkout"}')
    s.append("      - name: slices\n        objective: 99\n        window: 30d\n"
             f"        sli:\n          timeslice: {{query: '{ratio}', op: lt, value: 0.01, "
             "slice: 1m}\n")
    return "".join(s)


# --------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------

def specs_for(ds):
    sel = ds.select
    co_t = sel("http_requests_total", job="checkout")
    co_b = sel("http_requests_total", job="checkout", code="500")
    lat_t = sel("http_request_duration_seconds_count", job="checkout")
    lat_g = sel("http_request_duration_seconds_bucket", job="checkout", le="0.3")
    can_t = sel("http_requests_total", job="canary")
    zero = [0] * ds.minutes
    sp = {
        "availability": Spec("checkout", "availability", co_b, co_t, 99.9),
        "availability-rate": Spec("checkout", "availability-rate", co_b, co_t, 99.9,
                                  vm_rate=True),
        "latency-300ms": Spec("checkout", "latency-300ms",
                              [t - g for t, g in zip(lat_t, lat_g)], lat_t, 90),
        "month-utc": Spec("checkout", "month-utc", co_b, co_t, 99.9, calendar="month"),
        "month-shanghai": Spec("checkout", "month-shanghai", co_b, co_t, 99.9,
                               calendar="month", tz="Asia/Shanghai"),
        "canary": Spec("canary", "availability", zero, can_t, 99),
    }
    # uptime, as VictoriaMetrics evaluates sloe's query: the minute (e-60, e] is down when
    # the sample at e is 0 (Prometheus 2.x: the mean of the samples at e-60 and e); counted
    # in seconds, from the minute ending at START (the first sample)
    ps = dict(ds.select_gauge("probe_success", job="blackbox"))
    ends = [START + 60 * i for i in range(ds.minutes + 1)]
    up_b, up_t = [60 * (1 - ps[e]) for e in ends], [60] * len(ends)
    sp["uptime"] = Spec("blackbox", "uptime", up_b, up_t, 99.9, origin=START - 60)
    sp["uptime-7d"] = Spec("blackbox", "uptime-7d", up_b, up_t, 99.9, window=7 * DAY,
                           origin=START - 60)
    # timeslice: one slice per minute from the first minute with an increase, bad when the
    # minute's error ratio is not below 1 %
    sp["slices"] = Spec("blackbox", "slices", [1 if b * 100 >= t else 0 for b, t in
                                                zip(co_b, co_t)], [1] * ds.minutes, 99)
    for r in ("/pay", "/cart"):
        for name in ("by-route", "by-route-rate"):
            sp[f"{name} {r}"] = Spec("checkout", name,
                                     sel("http_requests_total", job="checkout", route=r,
                                         code="500"),
                                     sel("http_requests_total", job="checkout", route=r), 99.9,
                                     labels={"route": r}, vm_rate=name.endswith("-rate"))
    return sp


def engine_facts(vm, ds):
    """What VictoriaMetrics itself answers, against the exact counts (documents the
    semantics sloe relies on; independent of sloe)."""
    co_t = ds.select("http_requests_total", job="checkout")
    T = D - DAY + 13 * HOUR + 37 * MIN + 17  # off the sample grid
    for W, ws in ((300, "5m"), (HOUR, "1h")):
        got = vm.value(f'sum(increase(http_requests_total{{job="checkout"}}[{ws}]))', T)
        want = pl.window_sum(co_t, START, T, W)
        check(f"VM: increase[{ws}] at {rel(T)}:17 (off the grid) counts exactly the minutes "
              f"ending in the window, no extrapolation ({want})", got == want, f"got {got}")
    # rate over a window holding one sample: the mean over the last two scrape intervals
    night = ds.meta["incidents"][0]["start"]
    pay_b = ds.select("http_requests_total", job="checkout", route="/pay", code="500")
    T = night + MIN  # the first minute of the night incident
    got = vm.value('sum(rate(http_requests_total{job="checkout",route="/pay",code="500"}'
                   '[1m])) * 60', T)
    inc = pl.window_sum(pay_b, START, T, 60)
    want = pl.window_sum(pay_b, START, T, 120) / 2
    check(f"VM: rate[1m] x 60 in the first minute of the night incident is {want} (the mean of "
          f"the last two minutes), not its {inc} events: VictoriaMetrics's rate over a window "
          "holding one sample", got == want and inc != want, f"got {got}")
    got = vm.value('sum(rate(http_requests_total{job="checkout",route="/pay",code="500"}'
                   '[5m])) * 300', night + 5 * MIN)
    want = pl.window_sum(pay_b, START, night + 5 * MIN, 300)
    check(f"VM: rate[5m] x 300 at the incident's fifth minute is exact ({want})", got == want,
          f"got {got}")
    reset = ds.meta["reset"]
    cart = ds.counts[reset["series"]]
    T = reset["time"] + 3 * MIN
    got = vm.value('sum(increase(http_requests_total{job="checkout",route="/cart",code="200"}'
                   '[10m]))', T)
    want = pl.window_sum(cart, START, T, 600)
    check(f"VM: increase[10m] across the counter reset at {rel(reset['time'])} is exact "
          f"({want})", got == want, f"got {got}")
    can = ds.meta["canary"]
    can_t = ds.select("http_requests_total", job="canary")
    T = can["first"] + 2 * MIN
    got = vm.value('sum(increase(http_requests_total{job="canary"}[5m]))', T)
    want = pl.window_sum(can_t, START, T, 300)
    check(f"VM: increase[5m] of a counter that appeared 2 minutes earlier at value 0 counts "
          f"its {want} events", got == want, f"got {got}")


def run(vm, ds, rules):
    sp = specs_for(ds)
    ps = dict(ds.select_gauge("probe_success", job="blackbox"))
    inc = ds.meta["incidents"]
    night, day = inc[0], inc[1]
    times = {
        "night incident": night["start"] + 30 * MIN,      # D-8d 02:30, both routes failing
        "day incident": day["start"] + 20 * MIN,          # D-2d 14:20, /pay failing and slow
        "after the reset": ds.meta["reset"]["time"] + 3 * MIN,
        "an odd minute": D - DAY + 13 * HOUR + 37 * MIN,  # 30d/1d/3d starts off the hour
        "canary live": ds.meta["canary"]["first"] + 2 * HOUR,
        "probe outage": ds.meta["outage"]["start"] + 10 * MIN,  # D-5d 06:10
        "after the outage": ds.meta["outage"]["end"] + 30 * MIN,
        "end of data": END,                               # the new month has no events yet
    }
    for what, T in times.items():
        rc, res, err = sloe_eval(rules, T, vm.url)
        check(f"sloe eval @{rel(T)} ({what}): exit 0, no sanitizer report",
              rc == 0 and res is not None and not SAN_RE.search(err),
              f"rc {rc}, stderr {err[-600:]!r}")
        for key, spec in sp.items():
            if key == "uptime" and T - spec.window < START:
                # sloe's uptime SLI scales the mean of an interval's known minutes to the
                # whole interval: the hour ending at the first sample would count as an
                # hour up (any engine); uptime-7d covers these times
                continue
            got = one(res, spec.service, spec.slo, **spec.labels)
            if got is None:
                check(f"{spec.name()} @{rel(T)}: present", False, "no such instance")
                continue
            mism, x = compare(spec, got, T)
            w = x["windows"]
            check(f"{spec.name()} @{rel(T)}: compliance {x['compliance']:.6f}, budget "
                  f"{x['error_budget_remaining']:.4f}, burn 5m/1h/6h "
                  f"{w['5m']['burn_rate']:.2f}/{w['1h']['burn_rate']:.2f}/"
                  f"{w['6h']['burn_rate']:.2f}, page {x['alerts']['page']}",
                  not mism, "; ".join(mism[:6]) + (f" (+{len(mism) - 6} more)"
                                                    if len(mism) > 6 else ""))
    # the scenario makes the checks bite
    xs = expected(sp["availability"], times["night incident"])
    check("(scenario) the night incident pages and spends budget",
          xs["alerts"]["page"] and xs["error_budget_remaining"] < 0.9)
    xs = expected(sp["latency-300ms"], times["day incident"])
    check("(scenario) the day incident burns the latency budget over 5m (burn > 1)",
          xs["windows"]["5m"]["burn_rate"] > 1)
    T = times["probe outage"]
    prom2 = sum(1 - (ps[e - 60] + ps[e]) / 2 for e in range(T - 1740, T + 1, 60)) * 60
    got = expected(sp["uptime-7d"], T)["windows"]["30m"]["bad"]
    check(f"(scenario) at {rel(T)} the 30m uptime window tells the engines apart: "
          f"{got:.0f} s down here, {prom2:.0f} s with Prometheus 2.x's boundary samples",
          got == 660 and prom2 == 630)
    xs = expected(sp["month-shanghai"], times["end of data"])
    check("(scenario) at the end of data the Shanghai month has 8 hours of events, the UTC "
          "month none", xs["period"]["total"] > 0 and
          expected(sp["month-utc"], END)["period"]["total"] == 0)


def cross(prom, vm, ds, rules):
    """The same rules against Prometheus 2.42 (backfilled from the same file): every SLO
    whose semantics agree gives the same numbers on both engines; Prometheus's timeslice
    counts are checked against the exact slices, its uptime against its own boundary rule
    (the minute (e-60, e] is worth the mean of the samples at e-60 and e)."""
    sp = specs_for(ds)
    ps = dict(ds.select_gauge("probe_success", job="blackbox"))
    ends = [START + 60 * i for i in range(ds.minutes + 1)]
    up2 = [60 * (1 - (ps[e] + ps.get(e - 60, ps[e])) / 2) for e in ends]
    sp2 = Spec("blackbox", "uptime-7d", up2, [60] * len(ends), 99.9, window=7 * DAY,
               origin=START - 60)
    out = ds.meta["outage"]
    for T in (ds.meta["incidents"][0]["start"] + 30 * MIN, out["start"] + 10 * MIN,
              out["end"] + 30 * MIN, END):
        rc_p, res_p, err_p = sloe_eval(rules, T, prom.url)
        rc_v, res_v, err_v = sloe_eval(rules, T, vm.url)
        check(f"Prometheus and VM @{rel(T)}: sloe eval exits 0 on both", rc_p == 0 and
              rc_v == 0, f"rc {rc_p}/{rc_v}: {err_p[-300:]!r} {err_v[-300:]!r}")
        for key, spec in sp.items():
            if key.startswith("uptime"):
                continue
            if spec.vm_rate:  # Prometheus 2.x: rate(x[1m]) x 60 is exact here
                got = one(res_p, spec.service, spec.slo, **spec.labels)
                spec.vm_rate = False
                mism = compare(spec, got, T)[0] if got else ["missing"]
                spec.vm_rate = True
                check(f"{spec.name()} @{rel(T)} on Prometheus: the exact counts (VM smooths "
                      "its 1-minute rates)", not mism, "; ".join(mism[:5]))
                continue
            a = one(res_p, spec.service, spec.slo, **spec.labels)
            b = one(res_v, spec.service, spec.slo, **spec.labels)
            diffs = same_results(a, b, rel_tol=1e-12) if a and b else ["missing"]
            check(f"{spec.name()} @{rel(T)}: the same on Prometheus and VM", not diffs,
                  "; ".join(diffs[:5]))
        got = one(res_p, "blackbox", "slices")
        mism, _ = compare(sp["slices"], got, T) if got else (["missing"], None)
        check(f"blackbox/slices @{rel(T)} on Prometheus: one slice per minute", not mism,
              "; ".join(mism[:5]))
        got = one(res_p, "blackbox", "uptime-7d")
        mism, _ = compare(sp2, got, T) if got else (["missing"], None)
        check(f"blackbox/uptime-7d @{rel(T)} on Prometheus: its boundary rule", not mism,
              "; ".join(mism[:5]))


def steady(vm, ds, rules):
    """build/evaldriver keeps one evaluator and steps it a minute at a time into the night
    incident: after the first full fetch each cycle asks VictoriaMetrics only for the new
    minutes (one range query per query of an SLO: 2 for events, latency and timeslice, 1 for
    uptime; 18 for these rules, the canary left out: its series vanished long before, so a
    steady cycle finds none in the last minutes and reports no data, which a fresh eval of
    the whole period does not), and every cycle equals a fresh sloe eval and the expected
    values."""
    sp = specs_for(ds)
    T0 = ds.meta["incidents"][0]["start"] - 3 * MIN
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([DRIVER, f"--prometheus.url={vm.url}", f"--rules={rules}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                            text=True, bufsize=1)
    try:
        pages = []
        prev = 0
        for k in range(8):
            T = T0 + 60 * k
            proc.stdin.write(f"eval {T}\n")
            proc.stdin.flush()
            a, b = proc.stdout.readline(), proc.stdout.readline()
            if not a or not b:
                err.seek(0)
                check(f"evaldriver cycle {k}", False, f"died: {err.read()[-800:]}")
                break
            res, stats = json.loads(a), json.loads(b)
            q = stats["queries"]
            new, prev = q.get("ok", 0) - prev, q.get("ok", 0)
            bad = {kk: v for kk, v in q.items() if kk != "ok" and v}
            check(f"steady cycle {k} @{rel(T)}: {new} queries, none failed",
                  stats["failed"] == 0 and not bad and (k == 0 or new == 18), repr(stats))
            rc, fresh, _ = sloe_eval(rules, T, vm.url)
            for key in ("availability", "availability-rate", "by-route /pay", "slices",
                        "uptime-7d"):
                spec = sp[key]
                got = one(res, spec.service, spec.slo, **spec.labels)
                f1 = one(fresh, spec.service, spec.slo, **spec.labels)
                # rate() on VictoriaMetrics: where sloe's minutes give way to 5-minute
                # intervals differs between a steady and a fresh evaluator, and the smoothed
                # minutes differ from the exact intervals: only the expected values hold
                diffs = ([] if spec.vm_rate else
                         same_results(got, f1, rel_tol=1e-12) if got and f1 else ["missing"])
                mism = compare(spec, got, T)[0] if got else ["missing"]
                check(f"steady cycle {k} @{rel(T)} {spec.name()}: "
                      + ("" if spec.vm_rate else "equals a fresh sloe eval and ")
                      + "the expected values", not diffs and not mism,
                      "; ".join((diffs + mism)[:5]))
            g = one(res, "checkout", "availability")
            pages.append((g or {}).get("alerts", {}).get("page"))
        want = [expected(sp["availability"], T0 + 60 * k)["alerts"]["page"] for k in range(8)]
        check(f"steady: the page alert switches on during the incident ({want})",
              pages == want and not want[0] and want[-1], f"got {pages}")
    finally:
        if proc.poll() is None:
            proc.stdin.write("quit\n")
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.seek(0)
        text = err.read()
        err.close()
    check("evaldriver exits 0, no sanitizer report", proc.returncode == 0 and
          not SAN_RE.search(text), f"rc {proc.returncode}: {text[-800:]}")


LIVE_RULES = """version: sloe/v1
services:
  - name: live
    slos:
      - name: availability
        objective: 99
        window: 1d
        sli:
          events:
            bad_query: 'sum(increase(http_requests_total{job="live",code=~"5.."}[{{.window}}]))'
            total_query: 'sum(increase(http_requests_total{job="live"}[{{.window}}]))'
"""


def export(vm, selector, since):
    """The raw samples of the series matching selector since `since`:
    {series key: [(unix seconds, value)]}."""
    _, body = vm.get("/api/v1/export", {"match[]": selector, "start": str(since)})
    out = {}
    for line in body.decode().splitlines():
        doc = json.loads(line)
        m = dict(doc["metric"])
        name = m.pop("__name__", "")
        out[pl.series_key(name, m)] = [(ts / 1000, v) for ts, v in
                                        zip(doc["timestamps"], doc["values"])]
    return out


def serve(vm, tmp, port):
    """sloe serve against VictoriaMetrics at the current time: two days of data ending 30
    minutes from now (an error burst started 30 minutes ago), imported; the daemon's
    /api/v1/slos and /metrics must give the expected values at its evaluation time. The same
    VictoriaMetrics scrapes sloe's /metrics every second (-promscrape.config, job "sloe"):
    every sample must be ingested and the compliance stored must be sloe's."""
    now = int(time.time())
    le = now - now % 60 + 30 * MIN
    ls = le - 2 * DAY
    burst = le - HOUR

    def bad(t):
        return 12 if t >= burst else (1 if (t // 60) % 97 == 0 else 0)

    om = os.path.join(tmp, "live.om")
    lds = pl.write_openmetrics(om, ls, le, [
        pl.Counter("http_requests_total", {"job": "live", "code": "200"},
                   lambda t: 100 - bad(t)),
        pl.Counter("http_requests_total", {"job": "live", "code": "500"}, bad)])
    import_openmetrics(vm, om)
    vm.get("/internal/force_flush")
    n, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        n = vm.value('sum(count_over_time(http_requests_total{job="live"}[3d]))', le)
        if n == lds.samples_written:
            break
        time.sleep(0.2)
    check(f"VM: live data ({lds.samples_written} samples up to now + 30m) queryable",
          n == lds.samples_written, f"count {n}")
    vm.get("/internal/resetRollupResultCache")
    rules = os.path.join(tmp, "live.yaml")
    with open(rules, "w") as f:
        f.write(LIVE_RULES)
    errp = os.path.join(tmp, "serve.stderr")
    with open(errp, "wb") as err:
        proc = subprocess.Popen([SLOE, "serve", f"--rules={rules}",
                                 f"--prometheus.url={vm.url}", "--evaluation-interval=2s",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, preexec_fn=pl._die_with_parent)
    try:
        got, deadline = None, time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/slos",
                                            timeout=5) as r:
                    doc = json.load(r)
                got = one(doc, "live", "availability")
                if got and got.get("data_ok"):
                    break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            time.sleep(0.1)
        since = int(time.time()) + 1  # scrapes before sloe answered found it down
        T = (got or {}).get("last_evaluation")
        check("sloe serve: /api/v1/slos has the live SLO evaluated (data_ok true) at the "
              "current minute", got is not None and got.get("data_ok") is True
              and isinstance(T, int) and abs(T - time.time()) < 120,
              f"{got and {k: got.get(k) for k in ('data_ok', 'error', 'last_evaluation')}}")
        if got and got.get("data_ok"):
            b = lds.select("http_requests_total", job="live", code="500")
            t = lds.select("http_requests_total", job="live")
            spec = Spec("live", "availability", b, t, 99, window=DAY, origin=ls)
            mism, x = compare(spec, got, T)
            check(f"sloe serve @now: compliance {x['compliance']:.6f}, burn 5m/30m/1h "
                  f"{x['windows']['5m']['burn_rate']:.2f}/{x['windows']['30m']['burn_rate']:.2f}/"
                  f"{x['windows']['1h']['burn_rate']:.2f}, page {x['alerts']['page']}",
                  not mism, "; ".join(mism[:6]))
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            m = re.search(r'^slo_compliance_ratio\{service="live",slo="availability"\} (\S+)$',
                          text, re.M)
            check("sloe serve: /metrics slo_compliance_ratio equals the JSON compliance",
                  m is not None and float(m.group(1)) == got["compliance"],
                  m.group(0) if m else text[:300])
            lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
            seen, scraped, deadline = {}, {}, time.monotonic() + 20
            while time.monotonic() < deadline:
                seen = export(vm, '{job="sloe",__name__="slo_compliance_ratio",service="live"}',
                              since)
                scraped = export(vm, '{job="sloe",__name__="scrape_samples_scraped"}', since)
                if seen and scraped:
                    break
                time.sleep(0.2)
            vals = [tv for tvs in seen.values() for tv in tvs]

            def sloe_had(ts, v):
                # sloe evaluates every 2 s: a scrape just after a minute turns may still
                # show the previous minute's result. The period's start may cut a history
                # interval, counted pro rata: its events are the slack.
                m = int(ts) // 60 * 60
                for e in (m, m - 60):
                    x = expected(spec, e)
                    sb, st = x["slack"]["period"]
                    tot = x["period"]["total"]
                    if abs(v - x["compliance"]) <= 1e-9 + ((sb + st) / tot if tot else 0):
                        return True
                return False

            check(f"VM scraping sloe serve: slo_compliance_ratio stored ({len(vals)} samples), "
                  f"each the expected compliance at its time (~{got['compliance']:.12g}: "
                  "VictoriaMetrics keeps 12 significant digits)",
                  vals and all(sloe_had(ts, v) for ts, v in vals), f"{seen}")
            counts = [v for tvs in scraped.values() for _, v in tvs]
            check(f"VM scraping sloe serve: every scrape ingests all {len(lines)} samples of "
                  "/metrics (scrape_samples_scraped)", counts and
                  all(c == len(lines) for c in counts), f"{scraped}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with open(errp, errors="replace") as f:
            text = f.read()
    check("sloe serve exits 0 on SIGTERM, no sanitizer report",
          proc.returncode == 0 and not SAN_RE.search(text), f"rc {proc.returncode}: "
          f"{text[-800:]}")


def main():
    pl.handle_sigterm()
    t_all = time.monotonic()
    if not os.access(SLOE, os.X_OK) or not os.access(DRIVER, os.X_OK):
        print(f"missing binary {SLOE} or {DRIVER}: run make bin/sloe build/evaldriver")
        print("0 passed, 1 failed")
        return 1
    if not os.access(VM_BIN, os.X_OK):
        print(f"missing {VM_BIN}: run `make deps` (Debian package victoria-metrics)")
        print("0 passed, 1 failed")
        return 1
    vm = None
    with tempfile.TemporaryDirectory(prefix="sloe-vm-test-") as tmp:
        try:
            om = os.path.join(tmp, "scenario.om")
            ds = pl.checkout_scenario(om, END, days=DAYS)
            assert ds.start == START
            rules = os.path.join(tmp, "rules.yaml")
            with open(rules, "w") as f:
                f.write(rules_text())
            p = subprocess.run([SLOE, "check", rules], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            check("sloe check accepts the rule file", p.returncode == 0, p.stdout.strip())
            serve_port = pl.free_port()  # sloe serve's, scraped by VictoriaMetrics
            scrape = os.path.join(tmp, "scrape.yml")
            with open(scrape, "w") as f:
                f.write("scrape_configs:\n  - job_name: sloe\n    scrape_interval: 1s\n"
                        f"    static_configs:\n      - targets: ['127.0.0.1:{serve_port}']\n")
            vm = VictoriaMetrics([f"-promscrape.config={scrape}"]).start()
            t0 = time.monotonic()
            sent = import_openmetrics(vm, om)
            vm.get("/internal/force_flush")
            n, deadline = None, time.monotonic() + 30
            while time.monotonic() < deadline:
                n = vm.value('sum(count_over_time({__name__=~"http_.+|probe_success"}[32d]))',
                             END)
                if n == ds.samples_written:
                    break
                time.sleep(0.2)
            check(f"VM: all {ds.samples_written} samples imported ({sent >> 20} MiB, "
                  f"{time.monotonic() - t0:.1f}s) and queryable", n == ds.samples_written,
                  f"count_over_time says {n}")
            vm.get("/internal/resetRollupResultCache")
            engine_facts(vm, ds)
            run(vm, ds, rules)
            rules2 = os.path.join(tmp, "no-canary.yaml")
            with open(rules2, "w") as f:
                f.write(rules_text(canary=False))
            steady(vm, ds, rules2)
            serve(vm, tmp, serve_port)
            t0 = time.monotonic()
            pl.backfill(om, os.path.join(tmp, "tsdb"))
            with pl.Prometheus(os.path.join(tmp, "tsdb")) as prom:
                print(f"# prometheus backfilled and ready in {time.monotonic() - t0:.1f}s")
                cross(prom, vm, ds, rules)
        except Exception:  # noqa: BLE001
            import traceback
            check("no exception", False, traceback.format_exc())
        finally:
            if vm is not None:
                rc = vm.stop()
                check("victoria-metrics stops cleanly on SIGTERM", rc == 0,
                      f"rc {rc}: {vm.log(tail=5)}")
                vm.close()
    print(f"# total {time.monotonic() - t_all:.1f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
