#!/usr/bin/env python3
"""bench_load: sloe's CPU and memory at 10,000 SLOs, and /metrics throughput next to
node_exporter (make bench; issue 7). Python standard library and promlab only.

Data. SERVICES x ENDPOINTS (default 10 x 1,000) pairs of counters
    bench_requests_total{svc="sNN",ep="eNNNN"}   20 requests a second, always
    bench_errors_total{svc="sNN",ep="eNNNN"}     (ep % 4) errors every 15 s
both exact functions of time t (seconds since an origin T0): 20*t and (ep%4)*t/15, so every
SLO's compliance is exactly 1 - (ep % 4)/300 whatever the window. History is backfilled
with promtool: one sample an hour for DAYS days (default 30: sloe's 30-day period and its
hourly tier see a full month) and one a minute for the last HOURS hours (default 7: the
minute tier's 6 hours), ending at the start of the current hour. The TSDB is cached under
build/bench_load/ keyed by the parameters and that hour. The live part comes from a small
exporter in this process serving the same functions of time (each sample carries its
timestamp, a multiple of 15 s) that Prometheus scrapes every 15 s, so sloe's steady-state
cycles, which ask for the last minutes, find new samples as they would in production.

Layouts (the same 10,000 SLO instances, the same series):
    grouped   SERVICES rules `group_by: [ep]`, one per service: 2 queries per rule per
              cycle (20), each answering ENDPOINTS series;
    separate  SERVICES x ENDPOINTS rules, one per pair: 2 queries per SLO per cycle
              (20,000), the hard case for sloe's CPU (one HTTP query and JSON parse each).

For each layout `sloe serve --evaluation-interval=INTERVAL` runs against the Prometheus;
after its start-up fill, CPU (utime+stime from /proc/PID/stat) and memory (VmRSS, VmHWM
from /proc/PID/status) are read at the end of every cycle (the debug log line "evaluation
done", written after the cycle's snapshot), and CYCLES steady-state cycles are printed
(each span holds one cycle and the idle time up to the next), while a scraper fetches
/metrics every 15 s as Prometheus does (OpenMetrics, gzip), so that the figures include
rendering for a scrape. sloe's own self-metrics (process_cpu_seconds_total,
sloe_evaluation_duration_seconds) cross-check them. Then wrk scrapes /metrics (text, gzip, protobuf) of sloe and of prometheus-node-exporter
with the same settings, and the summary says MET/MISSED for each goal of issue 7.

The bench fails (exit 1) when sloe exits or logs a failed evaluation, or its /metrics is
incomplete (a per-SLO family without one series per SLO instance, slo_data_ok not 1, a
compliance other than the one worked out above); never on a speed or memory figure.

Run from the repository root after make:
    SLOE_BIN=bin/sloe python3 tests/bench/bench_load.py [--layout=grouped|separate|both]
        [--cycles=5] [--interval=30] [--wrk-seconds=10] [--services=10] [--endpoints=1000]
"""

import argparse
import gzip
import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # keep the tree clean
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import promlab as pl  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", os.path.join(ROOT, "bin", "sloe"))
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
WRK = "/usr/bin/wrk"
CACHE = os.path.join(ROOT, "build", "bench_load")
HOUR = 3600
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PB_ACCEPT = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
             "encoding=delimited")
GOAL_CPU = 0.25   # of one core at a 30 s interval
GOAL_RSS = 200e6  # bytes
GOAL_RATIO = 3.0  # sloe's series/s over node_exporter's


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------------------
# Data: exact functions of time, backfilled and served live
# --------------------------------------------------------------------------------------

class Data:
    """The SERVICES x ENDPOINTS counter pairs; values are exact functions of time."""

    def __init__(self, services, endpoints, t0):
        self.services, self.endpoints, self.t0 = services, endpoints, t0
        self.pairs = [(f"s{s:02d}", f"e{e:04d}", e % 4)
                      for s in range(services) for e in range(endpoints)]

    def requests(self, t):
        return 20 * (t - self.t0)

    def errors(self, per15, t):
        # t is a multiple of 15 s, and so is t0: the value is an integer.
        return per15 * (t - self.t0) // 15

    @staticmethod
    def compliance(per15):
        """Good over total in any window: 1 - errors/requests = 1 - per15/(20*15)."""
        return 1 - per15 / 300

    def write_openmetrics(self, path, times):
        """Both families at `times` (ascending), in promtool's OpenMetrics subset."""
        with open(path, "w", encoding="utf-8") as f:
            f.write("# TYPE bench_requests counter\n")
            for svc, ep, _ in self.pairs:
                p = f'bench_requests_total{{ep="{ep}",svc="{svc}"}} '
                f.write("".join(f"{p}{self.requests(t)} {t}\n" for t in times))
            f.write("# TYPE bench_errors counter\n")
            for svc, ep, per15 in self.pairs:
                p = f'bench_errors_total{{ep="{ep}",svc="{svc}"}} '
                f.write("".join(f"{p}{self.errors(per15, t)} {t}\n" for t in times))
            f.write("# EOF\n")
        return 2 * len(self.pairs) * len(times)

    def exposition(self, t):
        """The live scrape at t (a multiple of 15 s): text format with timestamps."""
        ms = t * 1000
        req = self.requests(t)
        out = ["# TYPE bench_requests_total counter\n"]
        out += [f'bench_requests_total{{ep="{ep}",svc="{svc}"}} {req} {ms}\n'
                for svc, ep, _ in self.pairs]
        out.append("# TYPE bench_errors_total counter\n")
        out += [f'bench_errors_total{{ep="{ep}",svc="{svc}"}} {self.errors(p, t)} {ms}\n'
                for svc, ep, p in self.pairs]
        return "".join(out).encode()


def sample_times(end, days, hours):
    """Hourly from end - days to end - hours, then every minute to end (inclusive)."""
    fine_from = end - hours * HOUR
    return list(range(end - days * 86400, fine_from, HOUR)) + list(range(fine_from, end + 1, 60))


def prepare_tsdb(args):
    """The backfilled TSDB for these parameters and the current hour (cached). Returns
    (tsdb dir, Data, end)."""
    end = int(time.time()) // HOUR * HOUR
    t0 = end - (args.days + 1) * 86400
    data = Data(args.services, args.endpoints, t0)
    key = f"tsdb-{args.services}x{args.endpoints}-d{args.days}-h{args.hours}-{end}"
    path = os.path.join(CACHE, key)
    if os.path.exists(os.path.join(path, "complete")):
        log(f"# data: cached {os.path.relpath(path, ROOT)}")
        return path, data, end
    os.makedirs(CACHE, exist_ok=True)
    for old in os.listdir(CACHE):  # an older hour's data is of no more use
        p = os.path.join(CACHE, old)
        if old.startswith(key):
            continue
        if old.endswith(f"-{end}") or old.endswith(f"-{end}.om"):
            continue
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)
    times = sample_times(end, args.days, args.hours)
    om = os.path.join(CACHE, key + ".om")
    t = time.monotonic()
    n = data.write_openmetrics(om, times)
    gen = time.monotonic() - t
    took = pl.backfill(om, path, timeout=900)
    os.unlink(om)
    with open(os.path.join(path, "complete"), "w") as f:
        f.write(f"{n} samples\n")
    log(f"# data: {n:,} samples ({2 * len(data.pairs):,} series x {len(times)}) written in "
        f"{gen:.1f} s, backfilled in {took:.1f} s")
    return path, data, end


class LiveExporter:
    """Serves Data.exposition at the last multiple of 15 s on a free loopback port."""

    def __init__(self, data):
        self.data = data
        self.cache = (None, b"")
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = outer.body()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def body(self):
        t = int(time.time()) // 15 * 15
        with self.lock:
            if self.cache[0] != t:
                self.cache = (t, self.data.exposition(t))
            return self.cache[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------
# Rule files
# --------------------------------------------------------------------------------------

def q(family, matchers, by=""):
    by = f" by ({by})" if by else ""
    return f"sum{by}(increase({family}_total{{{matchers}}}[{{{{.window}}}}]))"


def write_rules(layout, data, directory):
    """One rule file per service; returns the glob for --rules."""
    os.makedirs(directory, exist_ok=True)
    for s in range(data.services):
        svc = f"s{s:02d}"
        lines = ["version: sloe/v1", "services:", f"  - name: {svc}", "    slos:"]
        if layout == "grouped":
            sel = f'svc="{svc}"'
            lines += ["      - name: availability",
                      "        objective: 99.5",
                      "        window: 30d",
                      "        group_by: [ep]",
                      "        sli:",
                      "          events:",
                      f"            bad_query: {json.dumps(q('bench_errors', sel, 'ep'))}",
                      f"            total_query: {json.dumps(q('bench_requests', sel, 'ep'))}"]
        else:
            for e in range(data.endpoints):
                sel = f'svc="{svc}",ep="e{e:04d}"'
                lines += [f"      - name: ep-e{e:04d}",
                          "        objective: 99.5",
                          "        window: 30d",
                          "        sli:",
                          "          events:",
                          f"            bad_query: {json.dumps(q('bench_errors', sel))}",
                          f"            total_query: {json.dumps(q('bench_requests', sel))}"]
        with open(os.path.join(directory, f"{svc}.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return os.path.join(directory, "*.yaml")


def expected_instances(layout, data):
    """{(service, slo, ep or None): expected compliance} for every SLO instance."""
    out = {}
    for svc, ep, per15 in data.pairs:
        if layout == "grouped":
            out[(svc, "availability", ep)] = data.compliance(per15)
        else:
            out[(svc, f"ep-{ep}", None)] = data.compliance(per15)
    return out


# --------------------------------------------------------------------------------------
# Measuring a process
# --------------------------------------------------------------------------------------

def proc_cpu(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def proc_mem(pid):
    """(VmRSS, VmHWM) in bytes."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return rss, hwm


def fetch(url, headers=None, timeout=60):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read(), dict(r.headers)


def parse_text(body):
    """Text exposition -> list of (name, labels dict, value)."""
    out = []
    lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in body.decode().split("\n"):
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels_text, value = rest.rsplit("}", 1)
            labels = dict(lab_re.findall(labels_text))
        else:
            name, value = line.split(" ", 1)
            labels = {}
        out.append((name, labels, float(value.split()[0])))
    return out


def series_count(body):
    return sum(1 for line in body.decode().split("\n") if line and not line.startswith("#"))


class Sloe:
    """sloe serve with debug logs; a thread turns each "evaluation done" line into an event
    (monotonic time, CPU seconds, RSS, HWM, the cycle's own duration, failed flag)."""

    def __init__(self, rules_glob, prom_url, interval, tmp):
        self.port = pl.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events = queue.Queue()
        self.tail = []
        self.errors = []
        self.log_path = os.path.join(tmp, "sloe.log")
        self.proc = subprocess.Popen(
            [SLOE, "serve", f"--rules={rules_glob}", f"--prometheus.url={prom_url}",
             f"--evaluation-interval={interval}s", "--prometheus.timeout=120s",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=debug"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self.started = time.monotonic()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.log_path, "wb") as logf:
            for raw in self.proc.stderr:
                logf.write(raw)
                line = raw.decode(errors="replace").rstrip("\n")
                self.tail = (self.tail + [line])[-20:]
                if "level=error" in line and len(self.errors) < 20:
                    self.errors.append(line)
                if 'msg="evaluation done"' not in line:
                    continue
                now = time.monotonic()
                try:
                    cpu = proc_cpu(self.proc.pid)
                    rss, hwm = proc_mem(self.proc.pid)
                except OSError:
                    continue
                m = re.search(r"duration_seconds=([0-9.]+)", line)
                self.events.put({"t": now, "cpu": cpu, "rss": rss, "hwm": hwm,
                                 "took": float(m.group(1)) if m else math.nan,
                                 "failed": "failed_slos=yes" in line})
        self.events.put(None)  # sloe's stderr closed: it exited

    def next_event(self, timeout):
        try:
            ev = self.events.get(timeout=timeout)
        except queue.Empty:
            raise BenchError(f"no evaluation finished within {timeout:.0f} s") from None
        if ev is None:
            raise BenchError(f"sloe exited with {self.proc.wait()}:\n" + "\n".join(self.tail))
        if ev["failed"]:
            raise BenchError("an evaluation failed:\n" + "\n".join(self.errors or self.tail))
        return ev

    def alive(self):
        if self.proc.poll() is not None:
            raise BenchError(f"sloe exited with {self.proc.returncode}:\n" + "\n".join(self.tail))

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode


class BenchError(Exception):
    pass


# What Prometheus 2.42 asks a target for.
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


class Scraper:
    """Scrapes sloe's /metrics every `every` seconds as Prometheus does (its Accept header,
    gzip), so that the measured cycles include rendering for a scrape, as in production."""

    def __init__(self, url, every=15):
        self.url, self.every = url + "/metrics", every
        self.scrapes, self.failures = 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                body, headers = fetch(self.url, {"Accept": PROM_ACCEPT, "Accept-Encoding": "gzip"})
                if headers.get("Content-Encoding") != "gzip" or not gzip.decompress(body):
                    raise BenchError("not a gzipped body")
                self.scrapes += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported
                self.failures.append(repr(e))
            self.stop.wait(self.every)

    def close(self):
        self.stop.set()
        self.thread.join(60)


def self_metrics(url):
    """sloe's self-metrics, the whole text body and the seconds the GET took."""
    t = time.perf_counter()
    body, _ = fetch(url + "/metrics")
    took = time.perf_counter() - t
    out = {}
    for name, labels, v in parse_text(body):
        if name.startswith("sloe_") or name.startswith("process_"):
            key = name + ("{" + ",".join(f"{k}={labels[k]}" for k in sorted(labels)) + "}"
                          if labels else "")
            out[key] = v
    return out, body, took


# --------------------------------------------------------------------------------------
# Completeness of /metrics
# --------------------------------------------------------------------------------------

# Per-SLO families the interface promises for every instance of a 30d events SLO without
# scoring, credits, service hours or exclusions, and how many series each has per instance.
PER_INSTANCE = {
    "slo_info": 1, "slo_objective_ratio": 1, "slo_warning_ratio": 1, "slo_minimum_ratio": 1,
    "slo_period_start_timestamp_seconds": 1, "slo_period_end_timestamp_seconds": 1,
    "slo_compliance_ratio": 1, "slo_sli_ratio": 7, "slo_burn_rate": 8,
    "slo_error_budget_remaining_ratio": 1, "slo_period_events": 2, "slo_state": 4,
    "slo_alert": 2, "slo_last_evaluation_timestamp_seconds": 1, "slo_data_ok": 1,
}


def check_metrics(body, expected):
    """Raises BenchError unless every SLO instance has its series, slo_data_ok 1 and the
    compliance worked out from the data. Returns the number of slo_ series."""
    series = parse_text(body)
    per = {}
    n_slo = 0
    problems = []
    for name, labels, v in series:
        if not name.startswith("slo_"):
            continue
        n_slo += 1
        if name.startswith("slo_service_"):
            continue
        inst = (labels.get("service"), labels.get("slo"), labels.get("ep"))
        if inst not in expected:
            problems.append(f"unexpected instance {inst} in {name}")
            continue
        per.setdefault(name, {}).setdefault(inst, 0)
        per[name][inst] += 1
        if name == "slo_data_ok" and v != 1:
            problems.append(f"slo_data_ok {v} for {inst}")
        if name == "slo_compliance_ratio" and abs(v - expected[inst]) > 1e-6:
            problems.append(f"slo_compliance_ratio {v!r} for {inst}, {expected[inst]!r} expected")
    for fam, n in PER_INSTANCE.items():
        got = per.get(fam, {})
        if len(got) != len(expected):
            problems.append(f"{fam}: {len(got)} instances, {len(expected)} expected")
        bad = [i for i, c in got.items() if c != n]
        if bad:
            problems.append(f"{fam}: {len(bad)} instances without {n} series, e.g. {bad[0]}")
    if problems:
        raise BenchError(f"/metrics incomplete ({len(problems)} problems):\n  "
                         + "\n  ".join(problems[:10]))
    return n_slo


# --------------------------------------------------------------------------------------
# One layout: start-up fill, steady cycles
# --------------------------------------------------------------------------------------

def run_layout(layout, args, data, prom, tmp, results):
    rules_glob = write_rules(layout, data, os.path.join(tmp, f"rules-{layout}"))
    expected = expected_instances(layout, data)
    n_rules = data.services if layout == "grouped" else len(data.pairs)
    log(f"\n## layout {layout}: {n_rules:,} SLO rules, {len(expected):,} SLO instances, "
        f"{2 * n_rules:,} queries per cycle")
    s = Sloe(rules_glob, prom.url, args.interval, tmp)
    try:
        fill = s.next_event(timeout=args.fill_timeout)
        log(f"start-up fill: {fill['t'] - s.started:.1f} s wall, {fill['cpu']:.2f} s CPU, "
            f"VmRSS {fill['rss'] / 1e6:.1f} MB, VmHWM {fill['hwm'] / 1e6:.1f} MB")
        scraper = Scraper(s.url)
        # The first cycle after the fill; then the steady ones are measured end to end.
        first = s.next_event(timeout=args.interval * 4 + 60)
        before, _, _ = self_metrics(s.url)
        base = dict(first, cpu=proc_cpu(s.proc.pid))
        log(f"{'cycle':>5} {'span s':>7} {'eval s':>7} {'CPU s':>6} {'core@' + str(args.interval) + 's':>9} "
            f"{'VmRSS MB':>9} {'VmHWM MB':>9}")
        rows = []
        prev = base
        for k in range(1, args.cycles + 1):
            ev = s.next_event(timeout=args.interval * 4 + 60)
            span = ev["t"] - prev["t"]
            cpu = ev["cpu"] - prev["cpu"]
            rows.append({"span": span, "cpu": cpu, "took": ev["took"],
                         "rss": ev["rss"], "hwm": ev["hwm"]})
            log(f"{k:>5} {span:>7.2f} {ev['took']:>7.3f} {cpu:>6.2f} {cpu / args.interval:>9.3f} "
                f"{ev['rss'] / 1e6:>9.1f} {ev['hwm'] / 1e6:>9.1f}")
            prev = ev
        scraper.close()
        log(f"a scraper like Prometheus (OpenMetrics, gzip) fetched /metrics every 15 s during "
            f"the cycles: {scraper.scrapes} scrapes, {len(scraper.failures)} failed")
        if scraper.failures or scraper.scrapes < args.cycles:
            raise BenchError(f"scrapes failed: {scraper.failures[:3]}")
        after, body, first_get = self_metrics(s.url)  # the snapshot's first text GET
        s.alive()
        n_slo = check_metrics(body, expected)
        log(f"/metrics: {n_slo:,} slo_ series, all {len(expected):,} instances complete, "
            f"slo_data_ok 1 and compliance as worked out")
        # sloe's own view of the same cycles (snapshots at the first and last cycle's end)
        d_cpu = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
        d_n = (after["sloe_evaluation_duration_seconds_count"]
               - before["sloe_evaluation_duration_seconds_count"])
        d_sum = (after["sloe_evaluation_duration_seconds_sum"]
                 - before["sloe_evaluation_duration_seconds_sum"])
        d_q = sum(v - before.get(k, 0) for k, v in after.items()
                  if k.startswith("sloe_queries_total"))
        my_cpu = sum(r["cpu"] for r in rows)
        log(f"self-metrics over the same {d_n:.0f} cycles: process_cpu_seconds_total "
            f"+{d_cpu:.2f} s (/proc: {my_cpu:.2f} s), mean sloe_evaluation_duration_seconds "
            f"{d_sum / d_n if d_n else math.nan:.3f} s, {d_q / d_n if d_n else math.nan:,.0f} "
            f"queries per cycle")
        if d_n != args.cycles:
            raise BenchError(f"sloe counted {d_n} cycles, {args.cycles} measured")
        res = {
            "layout": layout, "rules": n_rules, "fill_s": fill["t"] - s.started,
            "fill_cpu": fill["cpu"], "rows": rows,
            "core": my_cpu / len(rows) / args.interval, "first_get": first_get,
            "cpu_per_cycle": my_cpu / len(rows),
            "best_cpu": min(r["cpu"] for r in rows),
            "rss": max(r["rss"] for r in rows), "hwm": rows[-1]["hwm"],
            "eval_s": d_sum / d_n if d_n else math.nan,
            "queries": d_q / d_n if d_n else math.nan,
        }
        if args.wrk_seconds > 0:
            res["wrk"] = wrk_all(s.url, args)
        s.alive()
        results.append(res)
    finally:
        rc = s.close()
    if rc not in (0, None):
        raise BenchError(f"sloe exited with {rc} on SIGTERM:\n" + "\n".join(s.tail))


# --------------------------------------------------------------------------------------
# Scrape throughput
# --------------------------------------------------------------------------------------

ENCODINGS = [("text", {}), ("gzip", {"Accept-Encoding": "gzip"}), ("protobuf", {"Accept": PB_ACCEPT})]


def wrk_run(url, headers, seconds):
    cmd = [WRK, "-t2", "-c4", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    p = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=seconds + 60)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
    if p.returncode != 0 or m is None:
        raise BenchError(f"wrk failed ({p.returncode}):\n{p.stdout}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    errs = re.search(r"Socket errors: (.*)", p.stdout)
    if bad or errs:
        raise BenchError(f"wrk saw errors scraping {url}:\n{p.stdout}")
    return float(m.group(1))


def render_time(url, headers, n=15):
    """Best and median wall time of one GET /metrics (a fresh connection each)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fetch(url, headers)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[0], times[len(times) // 2]


def wrk_all(base_url, args):
    """{encoding: {...}} for GET base_url/metrics; series counted in the text response."""
    url = base_url + "/metrics"
    text, _ = fetch(url)
    series = series_count(text)
    out = {"series": series, "text_bytes": len(text)}
    out["render_best"], out["render_median"] = render_time(url, {})
    for enc, headers in ENCODINGS:
        body, hdrs = fetch(url, headers)
        if enc == "gzip":
            if hdrs.get("Content-Encoding") != "gzip":
                raise BenchError(f"{url}: no gzip body for Accept-Encoding: gzip")
            if series_count(gzip.decompress(body)) != series:
                raise BenchError(f"{url}: the gzip body has other series than the text one")
        if enc == "protobuf" and "protobuf" not in hdrs.get("Content-Type", ""):
            raise BenchError(f"{url}: no protobuf for Accept: {PB_ACCEPT}")
        rps = wrk_run(url, headers, args.wrk_seconds)
        out[enc] = {"rps": rps, "bytes": len(body), "series_s": rps * series,
                    "bytes_s": rps * len(body)}
    return out


def print_wrk(name, w):
    log(f"{name}: {w['series']:,} series per response, text {w['text_bytes']:,} bytes "
        f"({w['text_bytes'] / w['series']:.1f} bytes/series), one text GET best "
        f"{w['render_best'] * 1e3:.1f} ms, median {w['render_median'] * 1e3:.1f} ms")
    for enc, _ in ENCODINGS:
        r = w[enc]
        log(f"  {enc:<9} {r['rps']:>9.1f} req/s {r['bytes']:>11,} B/resp "
            f"{r['series_s'] / 1e6:>8.2f} M series/s {r['bytes_s'] / 1e6:>8.1f} MB/s")


def node_exporter(args, tmp):
    port = pl.free_port()
    log_path = os.path.join(tmp, "node_exporter.log")
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"],
                                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                fetch(url + "/metrics", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise BenchError("node_exporter did not start:\n" + open(log_path).read())
                time.sleep(0.1)
        return wrk_all(url, args)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------

def verdict(ok):
    return "MET   " if ok else "MISSED"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layout", choices=["grouped", "separate", "both"], default="both")
    ap.add_argument("--services", type=int, default=10)
    ap.add_argument("--endpoints", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--hours", type=int, default=7)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--interval", type=int, default=30)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--fill-timeout", type=float, default=900)
    args = ap.parse_args()
    pl.handle_sigterm()
    for b in (SLOE, NODE_EXPORTER, WRK):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench_load: {b} missing (make; make deps; apt-get install wrk "
                     f"prometheus-node-exporter)")
    log(f"# bench_load: {args.services * args.endpoints:,} SLOs, evaluation every "
        f"{args.interval} s, {args.cycles} steady cycles; load: {os.getloadavg()[0]:.2f}")
    tmp = tempfile.mkdtemp(prefix="sloe-bench-load-")
    prom = live = None
    results = []
    failed = None
    try:
        t = time.monotonic()
        tsdb, data, end = prepare_tsdb(args)
        live = LiveExporter(data)
        run_tsdb = os.path.join(tmp, "tsdb")
        shutil.copytree(tsdb, run_tsdb, ignore=shutil.ignore_patterns("complete"))
        scrape = [{"job_name": "bench", "scrape_interval": "15s", "scrape_timeout": "10s",
                   "static_configs": [{"targets": [f"127.0.0.1:{live.port}"]}],
                   # the backfilled series have neither label: keep them one series each
                   "metric_relabel_configs": [{"action": "labeldrop",
                                               "regex": "job|instance"}]}]
        prom = pl.Prometheus(run_tsdb, scrape_configs=scrape,
                             extra_flags=["--query.max-samples=200000000"])
        prom.start()
        # Wait for 90 s of live samples past the backfill (Prometheus' first scrape comes
        # late), so that the minutes sloe's steady cycles ask for have several samples.
        deadline = time.monotonic() + 180
        probe = 'timestamp(bench_requests_total{svc="s00",ep="e0000"})'
        first_live = None
        while True:
            last = prom.value(probe) or 0
            if last > end and first_live is None:
                first_live = last
            if first_live is not None and last >= first_live + 90:
                break
            if time.monotonic() > deadline:
                raise BenchError("Prometheus did not scrape the live exporter")
            time.sleep(1)
        n = prom.value("count(bench_requests_total) + count(bench_errors_total)")
        if n != 2 * len(data.pairs):
            raise BenchError(f"Prometheus has {n} series, {2 * len(data.pairs)} expected")
        log(f"# setup {time.monotonic() - t:.1f} s: Prometheus with {int(n):,} series, history "
            f"{args.days} d hourly + {args.hours} h per minute up to "
            f"{time.strftime('%H:%M', time.gmtime(end))} UTC, live every 15 s since")
        layouts = ["grouped", "separate"] if args.layout == "both" else [args.layout]
        for layout in layouts:
            run_layout(layout, args, data, prom, tmp, results)
        node = node_exporter(args, tmp) if args.wrk_seconds > 0 else None
    except BenchError as e:
        failed = str(e)
    finally:
        if prom is not None:
            prom.close()
        if live is not None:
            live.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        log(f"\nbench_load: FAIL: {failed}")
        return 1

    log(f"\n## summary (load average now {os.getloadavg()[0]:.2f}; 2 cores shared with "
        f"Prometheus, wrk and others)")
    for r in results:
        log(f"{r['layout']}: {r['rules']:,} rules, start-up fill {r['fill_s']:.1f} s "
            f"({r['fill_cpu']:.1f} s CPU), {r['queries']:,.0f} queries per cycle, mean cycle "
            f"{r['eval_s']:.2f} s")
        if r["eval_s"] > args.interval:
            log(f"  note: the cycles overran the {args.interval} s interval: sloe sends its "
                f"queries one after another and waits for Prometheus (same 2 cores), so the "
                f"cycles ran back to back; CPU per cycle is still per cycle")
        log(f"  {verdict(r['core'] < GOAL_CPU)} CPU {r['cpu_per_cycle']:.2f} s per cycle "
            f"(best {r['best_cpu']:.2f} s) = {r['core']:.3f} of a core at {args.interval} s "
            f"(goal < {GOAL_CPU})")
        log(f"  {verdict(r['hwm'] < GOAL_RSS)} memory: VmRSS {r['rss'] / 1e6:.1f} MB, "
            f"VmHWM {r['hwm'] / 1e6:.1f} MB (goal < {GOAL_RSS / 1e6:.0f} MB)")
    if node is not None:
        log("")
        for r in results:
            log(f"sloe ({r['layout']}): first text GET after a cycle (renders the snapshot) "
                f"{r['first_get'] * 1e3:.0f} ms; later GETs send the cached gzip (inflated for "
                f"a client without gzip)")
            print_wrk(f"sloe ({r['layout']})", r["wrk"])
        log("node_exporter: default collectors; each scrape gathers from /proc and /sys, then "
            "encodes (Go client)")
        print_wrk("node_exporter", node)
        for r in results:
            for enc, _ in ENCODINGS:
                ratio = r["wrk"][enc]["series_s"] / node[enc]["series_s"]
                log(f"  {verdict(ratio >= GOAL_RATIO)} series/s sloe ({r['layout']}) / "
                    f"node_exporter, {enc}: {ratio:.1f} (goal >= {GOAL_RATIO:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
