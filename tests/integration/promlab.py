"""promlab: a small laboratory for sloe's integration tests (Python 3.11, stdlib only).

It knows nothing about sloe. It offers:

1. Data generation: write an OpenMetrics file for `promtool tsdb create-blocks-from
   openmetrics` from an in-memory description (Counter, Histogram, Gauge), and keep the
   exact number of events of every minute so tests can compute expected values on their
   own (write_openmetrics, checkout_scenario).
2. Backfill and run: backfill() runs promtool; Prometheus starts /usr/bin/prometheus on a
   free 127.0.0.1 port and queries it.
3. Arithmetic from first principles: window_sum, sli, burn_rate, sloth_period_error_ratio,
   mean_over_window.

Time model. Data runs from `start` to `end` (unix seconds, multiples of 60 and of the
scrape interval). Minute i covers (start + 60*i, start + 60*(i+1)]: its events are in the
sample at start + 60*(i+1) and not in the one at start + 60*i. A counter has a sample at
every scrape time from its first to its last sample time (default: start and end); its
value at its first sample is `initial` (default 0).

Prometheus 2.x facts this relies on (checked by test_promlab.py on 2.42): a range
selector [W] at time T holds the samples with T-W <= t <= T (both ends), so with samples
on the window's boundaries increase() has nothing to extrapolate and is exact; 3.x
excludes the sample at T-W and extrapolates instead.
"""

import atexit
import ctypes
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from fractions import Fraction

__all__ = [
    "Counter", "Histogram", "Gauge", "Dataset", "write_openmetrics", "checkout_scenario",
    "series_key", "format_labels", "backfill", "Prometheus", "PrometheusError",
    "QueryError", "free_port", "handle_sigterm", "window_sum", "sli", "error_ratio",
    "burn_rate", "sloth_period_error_ratio", "mean_over_window", "vector_value",
    "vector_values", "matrix_values",
]

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
DAY = 86400

# --------------------------------------------------------------------------------------
# 1. Data generation
# --------------------------------------------------------------------------------------


def _escape(v):
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_labels(labels):
    """{"b": "2", "a": "1"} -> '{a="1",b="2"}' (sorted; '' when empty)."""
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels)) + "}"


def series_key(name, labels):
    """The canonical key of a series: 'name{a="1",b="2"}' (labels sorted)."""
    return name + format_labels(labels)


def _fmt_value(v):
    """A sample value: integers as integers, other floats with repr (round-trips)."""
    if type(v) is int:
        return str(v)
    if isinstance(v, Fraction):
        v = float(v)
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _fmt_le(bound, style):
    if math.isinf(bound):
        return "+Inf"
    bound = float(bound)
    if style == "om":  # Prometheus 3 / OpenMetrics canonical: 1.0
        return repr(bound)
    if bound.is_integer():  # Prometheus 2 / client_golang: 1
        return str(int(bound))
    return repr(bound)


def _per_minute(spec, start, minutes, what):
    """Turn a per-minute spec (list, callable f(minute_start_time), or constant) into a list."""
    if callable(spec):
        return [spec(start + 60 * i) for i in range(minutes)]
    if isinstance(spec, (int, float, Fraction)):
        return [spec] * minutes
    out = list(spec)
    if len(out) < minutes:
        raise ValueError(f"{what}: {len(out)} per-minute values, {minutes} needed")
    return out[:minutes]


class Counter:
    """A counter series.

    name: the family name, with or without `_total` (the samples are written NAME_total).
    increments: events per minute: a list indexed by minute (minute i covers
        (start+60i, start+60(i+1)]), a callable f(t) -> count where t is the minute's
        start time, or a constant. Integers keep the values exact.
    first, last: times of the first and last sample (default: the data's start and end);
        the series is absent outside them (it appears late / vanishes early). Events of
        minutes ending at or before `first` or after `last` are dropped from the counts.
    resets: sample times at which the counter restarted from 0 just after the previous
        scrape: the sample at such a time holds only that scrape interval's events, so
        the value drops and Prometheus' reset handling counts every event. The value
        must really drop (ValueError otherwise).
    initial: the value at the first sample.
    """

    kind = "counter"

    def __init__(self, name, labels=None, increments=0, *, first=None, last=None,
                 resets=(), initial=0):
        self.family = name[:-6] if name.endswith("_total") else name
        self.labels = dict(labels or {})
        self.increments = increments
        self.first, self.last = first, last
        self.resets = sorted(resets)
        self.initial = initial


class Histogram:
    """A classic histogram series set: NAME_bucket{le=...}, NAME_count, NAME_sum.

    buckets: the finite upper bounds, ascending (+Inf is added).
    observations: per minute, the NON-cumulative number of observations per bucket:
        len(buckets)+1 numbers, the last one for observations above the largest bound.
        A list of such sequences indexed by minute, or a callable f(minute_start_time).
    sums: per-minute increments of NAME_sum (list, callable or constant), divided by
        sum_divisor when written (give integers and a divisor, e.g. milliseconds and 1000,
        to keep the cumulative _sum exact); by default each observation counts as its
        bucket's midpoint (2x the largest bound above it), kept exact that way.
    le_style: "prom2" writes le="1" (Prometheus 2 / client_golang), "om" writes le="1.0".
    first, last, resets: as for Counter, applied to all the series.
    """

    kind = "histogram"

    def __init__(self, name, labels=None, buckets=(0.1, 0.3, 1), observations=None, *,
                 sums=None, sum_divisor=1, first=None, last=None, resets=(),
                 le_style="prom2"):
        self.family = name
        self.labels = dict(labels or {})
        self.buckets = [float(b) for b in buckets if not math.isinf(b)]
        if self.buckets != sorted(set(self.buckets)):
            raise ValueError(f"{name}: buckets must be ascending and distinct")
        self.observations = observations
        self.sums = sums
        self.sum_divisor = sum_divisor
        self.first, self.last = first, last
        self.resets = sorted(resets)
        self.le_style = le_style


class Gauge:
    """A gauge series. values: per sample (index k is time start + k*scrape) a list, a
    callable f(t) -> value or None (None: no sample), or a constant. first/last bound it."""

    kind = "gauge"

    def __init__(self, name, labels=None, values=0, *, first=None, last=None):
        self.family = name
        self.labels = dict(labels or {})
        self.values = values
        self.first, self.last = first, last


class Dataset:
    """What write_openmetrics wrote.

    path, start, end, scrape, minutes (number of minutes), meta (scenario facts).
    counts: series key -> per-minute increments (list, index i = minute (start+60i,
        start+60(i+1)]) for every counter-like series: NAME_total, NAME_bucket (one per
        le), NAME_count, NAME_sum. Events outside a series' life are 0.
    gauges: series key -> list of (t, value) samples.
    labels: series key -> (sample name, label dict).
    """

    def __init__(self, path, start, end, scrape):
        self.path, self.start, self.end, self.scrape = path, start, end, scrape
        self.minutes = (end - start) // 60
        self.counts, self.gauges, self.labels, self.meta = {}, {}, {}, {}
        self.samples_written = 0

    def _match(self, store, name, matchers):
        out = []
        for key in store:
            n, lab = self.labels[key]
            if n == name and all(lab.get(k) == str(v) for k, v in matchers.items()):
                out.append(key)
        return out

    def select(self, name, **matchers):
        """Per-minute sum over the counter-like series named `name` (e.g.
        'http_requests_total', 'h_bucket' with le='0.3') whose labels include the given
        equality matchers. Raises KeyError when nothing matches."""
        keys = self._match(self.counts, name, matchers)
        if not keys:
            raise KeyError(f"no series {name}{matchers}")
        total = [0] * self.minutes
        for key in keys:
            total = [a + b for a, b in zip(total, self.counts[key])]
        return total

    def select_gauge(self, name, **matchers):
        """The (t, value) samples of the one gauge series matching."""
        keys = self._match(self.gauges, name, matchers)
        if len(keys) != 1:
            raise KeyError(f"{len(keys)} gauge series match {name}{matchers}")
        return self.gauges[keys[0]]

    def minute_end(self, i):
        return self.start + 60 * (i + 1)


def _check_time(t, start, end, scrape, what):
    if t is None:
        return
    if not (start <= t <= end) or (t - start) % scrape:
        raise ValueError(f"{what}={t} is not a scrape time in [{start}, {end}]")


def _counter_samples(key, incs, start, end, scrape, first, last, resets, initial,
                     check_drop=True):
    """Return (samples [(t, value)], effective per-minute increments)."""
    minutes = len(incs)
    first = start if first is None else first
    last = end if last is None else last
    _check_time(first, start, end, scrape, f"{key}: first")
    _check_time(last, start, end, scrape, f"{key}: last")
    if last < first:
        raise ValueError(f"{key}: last < first")
    eff = list(incs)
    for i in range(minutes):
        e = start + 60 * (i + 1)
        if e <= first or e > last:
            eff[i] = 0
    prefix = [0] * (minutes + 1)
    acc = 0
    for i, v in enumerate(eff):
        acc = acc + v
        prefix[i + 1] = acc

    def cum(t):
        m, frac = divmod(t - start, 60)
        if frac == 0:
            return prefix[m]
        v = eff[m]
        part = v * frac // 60 if type(v) is int else v * frac / 60
        return prefix[m] + part

    for r in resets:
        _check_time(r, start, end, scrape, f"{key}: reset")
        if not first < r <= last:
            raise ValueError(f"{key}: reset {r} outside (first, last]")
    samples = []
    base, base_value = cum(first), initial
    ri = 0
    prev = None
    for t in range(first, last + 1, scrape):
        if ri < len(resets) and resets[ri] == t:
            base, base_value = cum(t - scrape), 0
            ri += 1
            v = base_value + cum(t) - base
            if check_drop and prev is not None and prev > 0 and v >= prev:
                raise ValueError(f"{key}: the reset at {t} does not make the value drop "
                                 f"({prev} -> {v}); Prometheus could not see it")
        else:
            v = base_value + cum(t) - base
        samples.append((t, v))
        prev = v
    return samples, eff


def write_openmetrics(path, start, end, series, *, scrape=60):
    """Write `series` (Counter, Histogram, Gauge objects) sampled every `scrape` seconds
    from `start` to `end` inclusive into the OpenMetrics file `path`, and return a
    Dataset with the exact per-minute counts.

    Format rules (promtool 2.42 checked): one `# TYPE` per family and the family's lines
    contiguous; each series' samples in time order (promtool silently drops a sample older
    than the previous one of its series); a timestamp on every sample (in seconds;
    promtool refuses a sample without one); `# EOF` last (refused without it). A
    histogram is written one MetricPoint (all buckets, _count, _sum) per timestamp.
    """
    if scrape <= 0 or (60 % scrape and scrape % 60):
        raise ValueError("scrape must divide 60 or be a multiple of 60")
    for t, what in ((start, "start"), (end, "end")):
        if t % 60 or t % scrape:
            raise ValueError(f"{what}={t} must be a multiple of 60 and of scrape")
    if end <= start:
        raise ValueError("end must be after start")
    ds = Dataset(path, start, end, scrape)
    minutes = ds.minutes

    families = {}  # family -> (kind, [series]) in order of first appearance
    for s in series:
        kind, members = families.setdefault(s.family, (s.kind, []))
        if kind != s.kind:
            raise ValueError(f"family {s.family}: both {kind} and {s.kind}")
        members.append(s)

    seen = set()
    out = []
    w = out.append
    nsamples = 0
    for family, (kind, members) in families.items():
        w(f"# TYPE {family} {kind}\n")
        for s in members:
            lab = format_labels(s.labels)
            ident = (family, lab)
            if ident in seen:
                raise ValueError(f"duplicate series {family}{lab}")
            seen.add(ident)
            if kind == "counter":
                name = family + "_total"
                key = name + lab
                incs = _per_minute(s.increments, start, minutes, key)
                samples, eff = _counter_samples(key, incs, start, end, scrape, s.first,
                                                s.last, s.resets, s.initial)
                ds.counts[key] = eff
                ds.labels[key] = (name, dict((k, str(v)) for k, v in s.labels.items()))
                prefix = f"{name}{lab} "
                for t, v in samples:
                    w(f"{prefix}{_fmt_value(v)} {t}\n")
                nsamples += len(samples)
            elif kind == "gauge":
                key = family + lab
                first = start if s.first is None else s.first
                last = end if s.last is None else s.last
                _check_time(first, start, end, scrape, f"{key}: first")
                _check_time(last, start, end, scrape, f"{key}: last")
                vals = s.values
                samples = []
                for k, t in enumerate(range(start, end + 1, scrape)):
                    if t < first or t > last:
                        continue
                    if callable(vals):
                        v = vals(t)
                    elif isinstance(vals, (int, float, Fraction)):
                        v = vals
                    else:
                        v = vals[k]
                    if v is not None:
                        samples.append((t, v))
                ds.gauges[key] = samples
                ds.labels[key] = (family, dict((k, str(v)) for k, v in s.labels.items()))
                prefix = f"{family}{lab} "
                for t, v in samples:
                    w(f"{prefix}{_fmt_value(v)} {t}\n")
                nsamples += len(samples)
            else:
                nsamples += _write_histogram(ds, w, s, start, end, scrape, minutes)
    w("# EOF\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))
    ds.samples_written = nsamples
    return ds


def _write_histogram(ds, w, s, start, end, scrape, minutes):
    family, labels = s.family, {k: str(v) for k, v in s.labels.items()}
    nb = len(s.buckets) + 1
    obs = _per_minute(s.observations, start, minutes, family)
    for i, o in enumerate(obs):
        if len(o) != nb:
            raise ValueError(f"{family}: minute {i}: {len(o)} bucket counts, {nb} needed")
    bounds = s.buckets + [math.inf]
    # cumulative-over-le increments per bucket
    cum_incs = []
    for j in range(nb):
        cum_incs.append([sum(o[: j + 1]) for o in obs])
    if s.sums is None:
        # integer sums in units of 1/div, so the cumulative _sum stays exact
        decs = [Fraction(repr(b)) for b in s.buckets]
        fmids, lo = [], Fraction(0)
        for d in decs:
            fmids.append((lo + d) / 2)
            lo = d
        fmids.append(2 * decs[-1] if decs else Fraction(1))
        div = 1
        for m in fmids:
            while (m * div).denominator != 1:
                div *= 10
        mids = [int(m * div) for m in fmids]
        sums = [sum(c * m for c, m in zip(o, mids)) for o in obs]
    else:
        div = s.sum_divisor
        sums = _per_minute(s.sums, start, minutes, family + "_sum")
    parts = []  # (sample name, labels, key, samples)
    for j, b in enumerate(bounds):
        lab = dict(labels, le=_fmt_le(b, s.le_style))
        parts.append((family + "_bucket", lab, cum_incs[j]))
    parts.append((family + "_count", labels, cum_incs[-1]))
    parts.append((family + "_sum", labels, sums))
    columns = []
    for name, lab, incs in parts:
        key = series_key(name, lab)
        if key in ds.counts:
            raise ValueError(f"duplicate series {key}")
        # _sum restarts with the others; it need not drop (e.g. no observations)
        samples, eff = _counter_samples(key, incs, start, end, scrape, s.first, s.last,
                                        s.resets, 0, check_drop=not name.endswith("_sum"))
        if name.endswith("_sum") and div != 1:
            eff = [x / div for x in eff]
            samples = [(t, v / div) for t, v in samples]
        ds.counts[key] = eff
        ds.labels[key] = (name, lab)
        columns.append((f"{name}{format_labels(lab)} ", samples))
    n = len(columns[0][1])
    for k in range(n):
        t = columns[0][1][k][0]
        for prefix, samples in columns:
            w(f"{prefix}{_fmt_value(samples[k][1])} {t}\n")
    return n * len(columns)


# ---- the standard scenario ------------------------------------------------------------

def _diffuse(totals, num, den):
    """Per-minute integer shares num/den of `totals` whose running sum is exactly
    floor(cumulative_total * num / den) (error diffusion: no drift)."""
    out, c = [], 0
    for n in totals:
        before = c * num // den
        c += n
        out.append(c * num // den - before)
    return out


def checkout_scenario(path, end, days=40, *, scrape=60):
    """Write the standard test scenario to `path` and return its Dataset.

    `days` days ending at `end` (a multiple of 60; use a midnight or an hour for round
    figures). Let D = midnight UTC of `end`'s day. Series (all exact, integer):

    http_requests_total{job="checkout",route="/pay"|"/cart",code="200"|"500"}
        traffic per minute: day (minute starting 09:00 <= t < 21:00 UTC) 1000 req/min,
        night 50 req/min, split /pay 40 %, /cart 60 % (day 400/600, night 20/30);
        errors: a steady 0.05 % by error diffusion (exactly floor(cum_total*5/10000)).
        Incident "night": D-8d 02:00-02:40 UTC, both routes, 30 % errors (40 minutes).
        Incident "day": D-2d 14:00-14:30 UTC, /pay only, 20 % errors (30 minutes), and
        slow /pay latency meanwhile.
        Counter reset: {route="/cart",code="200"} at D-12d 12:00 UTC.
    http_request_duration_seconds{job="checkout",route=...} (classic histogram, le 0.1,
        0.3, 1, +Inf): one observation per request; per minute with n requests the
        cumulative buckets are floor(n*70%), floor(n*95%), floor(n*99%), n; during the
        day incident on /pay floor(n*30%), floor(n*60%), floor(n*90%), n.
    probe_success{job="blackbox"} gauge: 1, and 0 for the samples at
        D-5d 06:00 <= t < 06:20 UTC (20 samples).
    http_requests_total{job="canary",code="200"}: 10 req/min, appears at D-20d 10:00
        (first sample, value 0) and vanishes after D-19d 10:00 (last sample).

    Incident times are in ds.meta (unix seconds, [start, end) on minute starts: the
    minutes i whose start lies in [start, end) are affected).
    """
    if days < 21:
        raise ValueError("the scenario needs at least 21 days")
    start = end - days * DAY
    d0 = end - end % DAY
    night = (d0 - 8 * DAY + 2 * 3600, d0 - 8 * DAY + 2 * 3600 + 40 * 60)
    dayinc = (d0 - 2 * DAY + 14 * 3600, d0 - 2 * DAY + 14 * 3600 + 30 * 60)
    outage = (d0 - 5 * DAY + 6 * 3600, d0 - 5 * DAY + 6 * 3600 + 20 * 60)
    reset_t = d0 - 12 * DAY + 12 * 3600
    canary = (d0 - 20 * DAY + 10 * 3600, d0 - 19 * DAY + 10 * 3600)
    minutes = days * 1440
    tstarts = [start + 60 * i for i in range(minutes)]

    def is_day(t):
        return 9 <= (t % DAY) // 3600 < 21

    routes = {"/pay": (400, 20), "/cart": (600, 30)}
    series = []
    hist = []
    for route, (dayrate, nightrate) in routes.items():
        totals = [dayrate if is_day(t) else nightrate for t in tstarts]
        errors = _diffuse(totals, 5, 10000)
        for i, t in enumerate(tstarts):
            if night[0] <= t < night[1]:
                errors[i] = totals[i] * 3 // 10
            elif route == "/pay" and dayinc[0] <= t < dayinc[1]:
                errors[i] = totals[i] * 2 // 10
        good = [n - e for n, e in zip(totals, errors)]
        base = {"job": "checkout", "route": route}
        series.append(Counter("http_requests_total", dict(base, code="200"), good,
                              resets=[reset_t] if route == "/cart" else ()))
        series.append(Counter("http_requests_total", dict(base, code="500"), errors))
        obs = []
        for n, t in zip(totals, tstarts):
            slow = route == "/pay" and dayinc[0] <= t < dayinc[1]
            p = (300, 600, 900) if slow else (700, 950, 990)
            c = [n * x // 1000 for x in p] + [n]
            obs.append([c[0], c[1] - c[0], c[2] - c[1], c[3] - c[2]])
        hist.append(Histogram("http_request_duration_seconds", base, (0.1, 0.3, 1), obs))
    series.append(Counter("http_requests_total", {"job": "canary", "code": "200"}, 10,
                          first=canary[0], last=canary[1]))
    series.extend(hist)
    series.append(Gauge("probe_success", {"job": "blackbox"},
                        lambda t: 0 if outage[0] <= t < outage[1] else 1))
    ds = write_openmetrics(path, start, end, series, scrape=scrape)
    ds.meta = {
        "start": start, "end": end, "midnight": d0,
        "incidents": [
            {"name": "night", "start": night[0], "end": night[1], "routes": ["/pay", "/cart"],
             "error_ratio": 0.3},
            {"name": "day", "start": dayinc[0], "end": dayinc[1], "routes": ["/pay"],
             "error_ratio": 0.2, "slow": True},
        ],
        "outage": {"start": outage[0], "end": outage[1]},
        "reset": {"series": series_key("http_requests_total", {"job": "checkout",
                                       "route": "/cart", "code": "200"}), "time": reset_t},
        "canary": {"first": canary[0], "last": canary[1]},
        "day_hours": (9, 21), "rates": routes, "error_share": Fraction(5, 10000),
    }
    return ds


# --------------------------------------------------------------------------------------
# 2. Backfill and run
# --------------------------------------------------------------------------------------


class PrometheusError(RuntimeError):
    pass


class QueryError(PrometheusError):
    def __init__(self, error_type, message, status=None):
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message, self.status = error_type, message, status


def backfill(om_path, tsdb_dir, *, max_block_duration="960h", promtool=PROMTOOL,
             timeout=300):
    """Turn an OpenMetrics file into TSDB blocks under tsdb_dir (created if missing).
    Returns the seconds it took; raises PrometheusError with promtool's output on failure.
    (promtool 2.42 rounds --max-block-duration down to 2h*3^k: 960h gives 486h blocks.)"""
    os.makedirs(tsdb_dir, exist_ok=True)
    t0 = time.monotonic()
    p = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                        f"--max-block-duration={max_block_duration}", om_path, tsdb_dir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise PrometheusError(f"promtool failed ({p.returncode}): {p.stdout.strip()}")
    return time.monotonic() - t0


def free_port():
    """A TCP port free on 127.0.0.1 right now (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Runs in the child before exec: SIGTERM it when this Python process dies.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


_live = weakref.WeakSet()


@atexit.register
def _cleanup_all():
    for p in list(_live):
        try:
            p.close()
        except Exception:
            pass


def handle_sigterm():
    """Make SIGTERM (and SIGHUP) raise SystemExit, so `with` blocks and atexit clean up."""
    def raiser(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, raiser)
    signal.signal(signal.SIGHUP, raiser)


def _ts(t):
    if isinstance(t, (int,)):
        return str(t)
    if isinstance(t, float):
        return repr(t)
    return str(t)


class Prometheus:
    """A Prometheus server for a test.

    p = Prometheus(tsdb_dir, scrape_configs=None, rule_files=(), extra_flags=(),
                   global_config=None, binary=PROMETHEUS, ready_timeout=60)
    with p:                       # or p.start() ... p.close()
        p.url                     # http://127.0.0.1:PORT
        p.query('up', time=T)     # the API's "data": {"resultType": ..., "result": ...}
        p.value('sum(x)', T)      # one number (or None when the vector is empty)
        p.query_range(expr, start, end, step)

    tsdb_dir None: a temporary one. The config (JSON, which is YAML), the log
    (p.log_path, p.log()) and a temporary tsdb live in a temp dir removed by close().
    stop() (SIGTERM, then SIGKILL after `timeout`), kill() (SIGKILL), restart() (same port
    and data), reload() (SIGHUP). The process gets SIGTERM if this Python process dies.
    scrape_configs: a list of Prometheus scrape_config mappings; note that Prometheus
    applies discovered targets about 5 s after start, so the first scrape comes late.
    """

    def __init__(self, tsdb_dir=None, *, scrape_configs=None, rule_files=(),
                 extra_flags=(), global_config=None, binary=PROMETHEUS,
                 ready_timeout=60.0, retention="3650d"):
        self.binary = binary
        self.ready_timeout = ready_timeout
        self.extra_flags = list(extra_flags)
        self.retention = retention
        self.tmp = tempfile.mkdtemp(prefix="promlab-")
        self.tsdb_dir = tsdb_dir or os.path.join(self.tmp, "data")
        self.config_path = os.path.join(self.tmp, "prometheus.yml")
        self.log_path = os.path.join(self.tmp, "prometheus.log")
        config = {"global": dict({"scrape_interval": "15s", "evaluation_interval": "15s"},
                                 **(global_config or {})),
                  "scrape_configs": list(scrape_configs or []),
                  "rule_files": [os.path.abspath(f) for f in rule_files]}
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)
        self.port = None
        self.proc = None
        self.start_seconds = None
        _live.add(self)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self):
        args = [self.binary, f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.tsdb_dir}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address=127.0.0.1:{self.port}"] + self.extra_flags
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        finally:
            log.close()

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return self
        t0 = time.monotonic()
        fixed = self.port is not None
        for attempt in range(5):
            if not fixed:
                self.port = free_port()
            mark = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            self._spawn()
            try:
                self._wait_ready()
                self.start_seconds = time.monotonic() - t0
                return self
            except PrometheusError:
                self.kill()
                with open(self.log_path, errors="replace") as f:
                    f.seek(mark)
                    text = f.read()
                if "address already in use" in text and attempt < 4:
                    time.sleep(0.2)
                    continue
                raise

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited with {self.proc.returncode}:\n"
                                      + self.log(tail=20))
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise PrometheusError(f"prometheus not ready after {self.ready_timeout}s:\n"
                              + self.log(tail=20))

    def log(self, tail=None):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return ""
        return "".join(lines[-tail:] if tail else lines)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; SIGKILL after `timeout` seconds. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def close(self):
        """Stop the server and remove the temp dir (the caller's tsdb_dir is kept)."""
        try:
            self.stop()
        finally:
            if self.tmp and os.path.isdir(self.tmp):
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
            _live.discard(self)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- HTTP API ----

    def api(self, path, params, timeout=60.0):
        """POST a form to /api/v1/PATH; returns "data"; raises QueryError on an error."""
        body = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(self.url + "/api/v1/" + path, data=body, method="POST",
                                     headers={"Content-Type":
                                              "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                doc = json.load(r)
        except urllib.error.HTTPError as e:
            try:
                doc = json.load(e)
            except Exception:
                raise QueryError("http", f"{e.code} {e.reason}", e.code) from None
            raise QueryError(doc.get("errorType", "?"), doc.get("error", "?"), e.code) \
                from None
        if doc.get("status") != "success":
            raise QueryError(doc.get("errorType", "?"), doc.get("error", "?"))
        return doc["data"]

    def query(self, expr, time=None, timeout=60.0):
        params = {"query": expr}
        if time is not None:
            params["time"] = _ts(time)
        return self.api("query", params, timeout)

    def query_range(self, expr, start, end, step, timeout=60.0):
        return self.api("query_range", {"query": expr, "start": _ts(start),
                                        "end": _ts(end), "step": _ts(step)}, timeout)

    def value(self, expr, time=None):
        return vector_value(self.query(expr, time))

    def values(self, expr, time=None):
        return vector_values(self.query(expr, time))


def _num(s):
    return float(s)


def vector_values(data):
    """An instant query's data -> {series_key(name, labels): float}."""
    if data["resultType"] == "scalar":
        return {"": _num(data["result"][1])}
    out = {}
    for r in data["result"]:
        m = dict(r["metric"])
        name = m.pop("__name__", "")
        out[series_key(name, m)] = _num(r["value"][1])
    return out


def vector_value(data):
    """An instant query's data -> its one value (None for an empty vector)."""
    vals = vector_values(data)
    if not vals:
        return None
    if len(vals) != 1:
        raise ValueError(f"{len(vals)} series, one expected")
    return next(iter(vals.values()))


def matrix_values(data):
    """A range query's data -> {series_key: [(t, float), ...]}."""
    out = {}
    for r in data["result"]:
        m = dict(r["metric"])
        name = m.pop("__name__", "")
        out[series_key(name, m)] = [(float(t), _num(v)) for t, v in r["values"]]
    return out


# --------------------------------------------------------------------------------------
# 3. Arithmetic from first principles
# --------------------------------------------------------------------------------------


def _window_range(n, start, T, W):
    """Indices [lo, hi) of the minutes whose end start+60(i+1) lies in (T-W, T]."""
    lo = math.floor((T - W - start) / 60)  # smallest i with start+60(i+1) > T-W
    hi = math.floor((T - start) / 60)      # first i with start+60(i+1) > T
    return max(lo, 0), min(max(hi, 0), n)


def window_sum(counts, start, T, W):
    """Events in (T-W, T]: the sum of the minutes whose end lies in the window
    (minute i covers (start+60i, start+60(i+1)])."""
    lo, hi = _window_range(len(counts), start, T, W)
    return sum(counts[lo:hi]) if hi > lo else 0


def sli(good, total, start, T, W):
    """good/total over (T-W, T]; None when there are no events."""
    t = window_sum(total, start, T, W)
    if t == 0:
        return None
    return window_sum(good, start, T, W) / t


def error_ratio(bad, total, start, T, W):
    """bad/total over (T-W, T]; None when there are no events."""
    t = window_sum(total, start, T, W)
    if t == 0:
        return None
    return window_sum(bad, start, T, W) / t


def burn_rate(err_ratio, objective):
    """error ratio / (1 - objective); objective as a ratio (0.999) or percent (99.9)."""
    if objective > 1:
        objective = objective / 100
    return err_ratio / (1 - objective)


def sloth_period_error_ratio(bad, total, start, T, *, period=30 * DAY, ratio_window=300,
                             step=60):
    """Sloth's period error ratio: the plain average of the `ratio_window` (5m) error
    ratios evaluated every `step` seconds at the times T, T-step, ... in (T-period, T]
    (what sum_over_time(ratio_rate5m[30d]) / count_over_time(...) gives with a rule
    evaluated every minute). Evaluations without events are skipped. Compare with
    error_ratio(bad, total, start, T, period), the event-weighted value: an incident at
    night (few events) weighs far more in Sloth's average."""
    n = len(total)
    pb, pt = [0], [0]
    for b, t in zip(bad, total):
        pb.append(pb[-1] + b)
        pt.append(pt[-1] + t)
    acc, cnt = 0.0, 0
    k = 0
    while True:
        te = T - k * step
        if te <= T - period:
            break
        k += 1
        lo, hi = _window_range(n, start, te, ratio_window)
        if hi <= lo:
            continue
        tot = pt[hi] - pt[lo]
        if tot == 0:
            continue
        acc += (pb[hi] - pb[lo]) / tot
        cnt += 1
    return acc / cnt if cnt else None


def mean_over_window(samples, T, W, *, include_start=False):
    """Mean of the (t, v) samples with T-W < t <= T (include_start=True: T-W <= t <= T,
    what avg_over_time(x[W]) sees on Prometheus 2.x). For a 0/1 signal, the share of
    samples at 1. None when there are none."""
    lo = T - W
    vals = [v for t, v in samples if (t >= lo if include_start else t > lo) and t <= T]
    return sum(vals) / len(vals) if vals else None
