#!/usr/bin/env python3
"""sloe's local demo (`make demo`, through docker/demo.sh): everything on loopback.

1. Generates 30 days of history for the demo workload's metrics, ending now, and backfills
   it into a fresh TSDB (promtool tsdb create-blocks-from openmetrics):
   http_requests_total{job="checkout",instance="workload",route,code} and
   http_request_duration_seconds{job="checkout",instance="workload",route} (le 0.1, 0.3, 1),
   day/night traffic (about 3 req/s at 03:00 UTC, 30 req/s at 15:00 UTC), a steady 0.03 %
   of errors and 0.3 % of slow requests, and three incidents:
     - 19 days ago 14:10-14:55 UTC: 8 % of all requests fail;
     - 9 to 5 days ago: /pay slows down, 6 % of its requests above 300 ms (the /pay latency
       SLO ends below its objective, with its error budget spent);
     - 2 days ago 03:00-03:20 UTC: half of the night's requests fail.
2. Starts Prometheus on that TSDB (scraping the workload as job checkout and sloe as job
   sloe every 10 s, with the rules of `sloe generate alerts`), Alertmanager
   (docker/alertmanager.yml), the workload (docker/workload/workload.py, its counters
   starting at the last backfilled values so the series continue without a reset) and
   `sloe serve` over docker/sloe/rules.yaml. Default ports 9090, 9093, 8080 and 9363; a busy
   one is replaced by a free one (printed).
3. Prints where to look and a summary of the SLOs every few seconds (from sloe's
   /api/v1/slos) until Ctrl-C or SIGTERM; then stops everything it started and removes its
   temporary directory.

Options: --days N (default 30), --refresh SECONDS (default 5), --once (exit after the first
summary; for tests). Python 3 standard library only.
"""

import argparse
import datetime
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import promlab as pl  # noqa: E402
import stack  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", os.path.join(ROOT, "bin", "sloe"))
RULES = os.path.join(ROOT, "docker", "sloe", "rules.yaml")
AM_CONFIG = os.path.join(ROOT, "docker", "alertmanager.yml")
WORKLOAD = os.path.join(ROOT, "docker", "workload", "workload.py")
DEFAULT_PORTS = {"prometheus": 9090, "alertmanager": 9093, "workload": 8080, "sloe": 9363}
INSTANCE = "workload"  # the instance label of the workload's target, live and backfilled
ROUTES = {"/pay": 0.4, "/cart": 0.6}
BASE_ERRORS = 0.0003
BASE_SLOW = 0.003
FAST_FIRST = 0.8   # as the workload: of the fast requests, 80 % at or below 0.1 s
SLOW_THIRD = 0.7   # of the slow ones, 70 % at or below 1 s
DURATIONS_MS = (50, 200, 600, 1500)
DAY = 86400


def rate_at(t):
    """Requests per second at unix time t: 3 at 03:00 UTC, 30 at 15:00 UTC."""
    h = (t % DAY) / 3600
    return 16.5 - 13.5 * math.cos(2 * math.pi * (h - 3) / 24)


class Diffuse:
    def __init__(self):
        self.acc, self.out = 0.0, 0

    def take(self, x):
        self.acc += x
        n = int(math.floor(self.acc + 1e-9)) - self.out
        self.out += n
        return n


def history(path, end, days):
    """Write the OpenMetrics history; return (Dataset, the workload's start values)."""
    start = end - days * DAY
    d0 = end - end % DAY
    incidents = [  # (start, end, routes, error share, slow share)
        (d0 - 19 * DAY + 14 * 3600 + 600, d0 - 19 * DAY + 14 * 3600 + 3300, ("/pay", "/cart"),
         0.08, None),
        (d0 - 9 * DAY, d0 - 5 * DAY, ("/pay",), None, 0.06),
        (d0 - 2 * DAY + 3 * 3600, d0 - 2 * DAY + 3 * 3600 + 1200, ("/pay", "/cart"), 0.5, None),
    ]
    minutes = days * 1440
    series = []
    for route, weight in ROUTES.items():
        req, err, slow, f1, s3 = Diffuse(), Diffuse(), Diffuse(), Diffuse(), Diffuse()
        good, bad, obs, sums = [], [], [], []
        for i in range(minutes):
            t = start + 60 * i
            n = req.take(rate_at(t) * 60 * weight)
            es, ss = BASE_ERRORS, BASE_SLOW
            for a, b, routes, e, s in incidents:
                if a <= t < b and route in routes:
                    es = e if e is not None else es
                    ss = s if s is not None else ss
            e = min(err.take(n * es), n)
            s = min(slow.take(n * ss), n)
            good.append(n - e)
            bad.append(e)
            fast = n - s
            a1 = min(f1.take(fast * FAST_FIRST), fast)
            b3 = min(s3.take(s * SLOW_THIRD), s)
            o = [a1, fast - a1, b3, s - b3]
            obs.append(o)
            sums.append(sum(c * d for c, d in zip(o, DURATIONS_MS)))
        labels = {"job": "checkout", "instance": INSTANCE, "route": route}
        series.append(pl.Counter("http_requests_total", dict(labels, code="200"), good))
        series.append(pl.Counter("http_requests_total", dict(labels, code="500"), bad))
        series.append(pl.Histogram("http_request_duration_seconds", labels, (0.1, 0.3, 1), obs,
                                   sums=sums, sum_divisor=1000))
    ds = pl.write_openmetrics(path, start, end, series, scrape=60)
    start_values = {}
    for key, counts in ds.counts.items():
        name, labels = ds.labels[key]
        lab = {k: v for k, v in labels.items() if k not in ("job", "instance")}
        total = sum(counts)
        start_values[pl.series_key(name, lab)] = round(total, 6) if name.endswith("_sum") \
            else int(total)
    return ds, start_values


def pick_port(name):
    p = DEFAULT_PORTS[name]
    if stack.port_free(p):
        return p, False
    return stack.free_port(), True


def pct(x, digits=3):
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def summary(ports):
    slos = stack.get_json(f"http://127.0.0.1:{ports['sloe']}/api/v1/slos")
    am = stack.get_json(f"http://127.0.0.1:{ports['alertmanager']}/api/v2/alerts"
                        "?active=true&silenced=false&inhibited=false")
    now = datetime.datetime.now().strftime("%H:%M:%S")
    lines = [f"SLOs at {now} (sloe /api/v1/slos; Ctrl-C stops the demo)"]
    if slos is None:
        return "\n".join(lines + ["  sloe does not answer yet"])
    lines.append(f"  {'service/slo':34} {'state':9} {'compliance':>10} {'objective':>9} "
                 f"{'budget left':>11} {'burn 1h':>8}  alerts")
    for s in slos:
        groups = ",".join(f"{k}={v}" for k, v in sorted(s.get("labels", {}).items())
                          if k == "route")
        name = f"{s['service']}/{s['slo']}" + (f" {groups}" if groups else "")
        if not s.get("data_ok") and "state" not in s:
            lines.append(f"  {name:34} no data yet {s.get('error', '')}")
            continue
        al = s.get("alerts") or {}
        firing = ",".join(k for k in ("page", "ticket") if al.get(k)) or "-"
        burn = ((s.get("windows") or {}).get("1h") or {}).get("burn_rate")
        lines.append(f"  {name:34} {s.get('state', '?'):9} {pct(s.get('compliance')):>10} "
                     f"{pct(s.get('objective'), 1):>9} "
                     f"{pct(s.get('error_budget_remaining'), 1):>11} "
                     f"{'-' if burn is None else f'{burn:.2f}':>8}  {firing}"
                     + ("" if s.get("data_ok") else "  (stale)"))
    if am is not None:
        names = sorted({(a["labels"].get("alertname", "?"), a["labels"].get("slo", ""),
                         a["labels"].get("route", ""), a["labels"].get("severity", ""))
                        for a in am})
        lines.append(f"  Alertmanager: {len(am)} active alert(s)" +
                     "".join(f"\n    {n} {s}{' ' + r if r else ''} ({sev})"
                             for n, s, r, sev in names))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="sloe's local demo")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--refresh", type=float, default=5.0)
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    stop = {"sig": None}

    def on_signal(signum, frame):
        stop["sig"] = signum
        raise KeyboardInterrupt

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    tmp = tempfile.mkdtemp(prefix="sloe-demo-")
    procs = []
    try:
        return run(args, tmp, procs)
    except KeyboardInterrupt:
        print(f"\ndemo: {signal.Signals(stop['sig'] or signal.SIGINT).name}: stopping",
              flush=True)
        return 0
    finally:
        # Ignore further signals while cleaning up, so a second Ctrl-C does not leave
        # processes behind.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        for p in reversed(procs):
            rc = p.stop()
            print(f"demo: stopped {p.name} (pid {p.pid}, exit {rc})", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"demo: removed {tmp}", flush=True)


def run(args, tmp, procs):
    t0 = time.monotonic()
    if not os.access(SLOE, os.X_OK):
        print(f"demo: {SLOE} is missing: run make", file=sys.stderr)
        return 1
    end = int(time.time()) // 60 * 60
    om = os.path.join(tmp, "history.om")
    print(f"demo: generating {args.days} days of checkout traffic ending "
          f"{datetime.datetime.fromtimestamp(end, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
          flush=True)
    ds, start_values = history(om, end, args.days)
    tsdb = os.path.join(tmp, "tsdb")
    secs = pl.backfill(om, tsdb)
    os.remove(om)
    print(f"demo: {ds.samples_written} samples backfilled in {secs:.1f}s "
          f"({time.monotonic() - t0:.0f}s so far)", flush=True)
    values = os.path.join(tmp, "start-values.json")
    with open(values, "w") as f:
        json.dump(start_values, f, indent=1)

    ports = {}
    for name in DEFAULT_PORTS:
        ports[name], moved = pick_port(name)
        if moved:
            print(f"demo: port {DEFAULT_PORTS[name]} is busy: {name} uses {ports[name]}",
                  flush=True)
    alerts = os.path.join(tmp, "sloe-alerts.yml")
    with open(alerts, "w") as f:
        p = subprocess.run([SLOE, "generate", "alerts", f"--rules={RULES}", "--sloe.job=sloe"],
                           stdout=f, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print(f"demo: sloe generate alerts failed: {p.stderr}", file=sys.stderr)
        return 1
    prom_cfg = os.path.join(tmp, "prometheus.yml")
    with open(prom_cfg, "w") as f:
        f.write(stack.prometheus_config(
            [{"job_name": "checkout", "static_configs": [
                {"targets": [f"127.0.0.1:{ports['workload']}"],
                 "labels": {"instance": INSTANCE}}]},
             {"job_name": "sloe", "static_configs": [
                 {"targets": [f"127.0.0.1:{ports['sloe']}"]}]},
             {"job_name": "prometheus", "static_configs": [
                 {"targets": [f"127.0.0.1:{ports['prometheus']}"]}]}],
            [alerts], [f"127.0.0.1:{ports['alertmanager']}"],
            scrape_interval="10s", evaluation_interval="10s"))
    logs = os.path.join(tmp, "logs")
    os.mkdir(logs)

    def spawn(name, argv):
        proc = stack.Proc(name, argv, os.path.join(logs, name + ".log")).start()
        procs.append(proc)
        return proc

    # Mid-rate of the hour we are in, as the history has it.
    live_rate = round(rate_at(end), 2)
    spawn("alertmanager", stack.alertmanager_args(AM_CONFIG, os.path.join(tmp, "alertmanager"),
                                                  ports["alertmanager"]))
    spawn("prometheus", stack.prometheus_args(prom_cfg, tsdb, ports["prometheus"],
                                              retention="60d"))
    spawn("workload", [sys.executable, WORKLOAD, f"--listen=127.0.0.1:{ports['workload']}",
                       f"--rate={live_rate}", f"--error-share={BASE_ERRORS}",
                       f"--slow-share={BASE_SLOW}", f"--start-values={values}"])
    for name, path in (("alertmanager", "/-/ready"), ("prometheus", "/-/ready"),
                       ("workload", "/-/healthy")):
        if not stack.wait_for(lambda: stack.get(f"http://127.0.0.1:{ports[name]}{path}")[0]
                              == 200, 90, 0.2):
            proc = [p for p in procs if p.name == name][0]
            print(f"demo: {name} did not start:\n{proc.log(tail=20)}", file=sys.stderr)
            return 1
    sloe = spawn("sloe", [SLOE, "serve", f"--rules={RULES}",
                          f"--prometheus.url=http://127.0.0.1:{ports['prometheus']}",
                          "--evaluation-interval=10s",
                          f"--web.listen-address=127.0.0.1:{ports['sloe']}"])
    if not stack.wait_for(lambda: stack.get(f"http://127.0.0.1:{ports['sloe']}/-/ready")[0]
                          == 200, 120, 0.3):
        print(f"demo: sloe did not get ready:\n{sloe.log(tail=20)}", file=sys.stderr)
        return 1

    s, a, w, pr = (f"http://127.0.0.1:{ports[n]}" for n in
                   ("sloe", "alertmanager", "workload", "prometheus"))
    # Debian's Prometheus 2.x serves only the classic UI (/classic/...).
    ui = pr + ("/classic" if stack.get(pr + "/alerts")[0] != 200 and
               stack.get(pr + "/classic/alerts")[0] == 200 else "")
    links = f"""
sloe demo is running ({time.monotonic() - t0:.0f}s to start; pids {', '.join(
        f'{p.name} {p.pid}' for p in procs)}):

  sloe status page     {s}/
  sloe metrics         {s}/metrics
  sloe JSON            {s}/api/v1/slos
  Prometheus alerts    {ui}/alerts
  Prometheus graph     {ui}/graph?g0.expr=slo_error_budget_remaining_ratio&g0.range_input=30d&g0.tab=0
  Alertmanager         {a}/
  workload             {w}/metrics   (settings: {w}/control)

  Break the checkout service and watch the burn rates and alerts:
    curl -d error_share=0.2 {w}/control     # 20 % of requests fail
    curl -d slow_share=0.1 {w}/control      # 10 % of requests slower than 300 ms
    curl -d error_share={BASE_ERRORS} -d slow_share={BASE_SLOW} {w}/control   # back to normal

  Logs and data: {tmp} (removed on exit)
"""
    print(links, flush=True)
    tty = sys.stdout.isatty()
    while True:
        dead = [p for p in procs if not p.alive()]
        if dead:
            for p in dead:
                print(f"demo: {p.name} exited ({p.proc.returncode}):\n{p.log(tail=15)}",
                      file=sys.stderr)
            return 1
        if tty:  # redraw in place: clear the screen, the links, then the summary
            print("\033[H\033[2J" + links, flush=True)
        print(summary(ports) + "\n", flush=True)
        if args.once:
            return 0
        time.sleep(args.refresh)


if __name__ == "__main__":
    sys.exit(main())
