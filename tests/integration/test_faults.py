#!/usr/bin/env python3
"""Faults from Prometheus and abusive clients, against `sloe serve`.

A small misbehaving Prometheus of ours (threaded, 127.0.0.1, HTTP/1.0 so that every query
opens a new connection) answers /api/v1/query and /api/v1/query_range for one events SLO
with a constant good ratio (good 99.5, total 100 per step: compliance 0.995), and can be
switched at run time to a fault. `sloe serve --evaluation-interval=1s --prometheus.timeout=1s`
runs against it. For each fault that fails the queries:

  - /metrics keeps answering within 1 s (polled every 0.1 s throughout);
  - slo_data_ok becomes 0 and the last good values stay (compliance unchanged);
  - sloe_queries_total{result="<reason>"} grows for the right reason;
  - stderr logs the failure once (over several failing cycles), not once per cycle;
  - after switching back, slo_data_ok returns to 1 and "all SLOs evaluated again" is logged.

Faults and reasons: connection refused (connect), a stall past the 1 s timeout (timeout),
503 and 400 with a Prometheus JSON error body (query), 502 with an HTML body (http),
malformed and truncated JSON (json), a body over 64 MiB (too_large). What the README's "How
sloe computes" implies for answers that do not fail:

  - empty results: "no series at all for the minutes a cycle asks about" is no data:
    slo_data_ok 0, last values kept, logged once, the queries count as result="ok";
  - NaN and +Inf values "count as missing": an interval where the total has no value has no
    events, so the SLO stays evaluated (slo_data_ok 1), compliance unchanged, nothing logged;
  - warnings in a successful answer are ignored: slo_data_ok 1, compliance unchanged.

Then abusive clients, while the fake Prometheus answers well: 500 idle TCP connections held
open, 20 slow clients sending their headers one byte per 100 ms, a request with a 1 MB header
and one with a 100 KB URL, and 16 threads scraping in parallel for 5 s. Throughout, /metrics
and /-/healthy answer within 1 s; sloe keeps running; the huge requests get a 4xx or are
closed.

Run from the repository root: python3 tests/integration/test_faults.py
The binary comes from SLOE_BIN (default bin/sloe). Python standard library only.
FAULTS_PROM_TIMEOUT (seconds, default 1) sets sloe's --prometheus.timeout; the stall and the
wait for further failing cycles scale with it (make check-valgrind uses 5).
"""

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check, note  # noqa: E402
import test_serve as ts  # noqa: E402  (Sloe, request, metric_value, wait_for)

GOOD, TOTAL = 99.5, 100.0
COMPLIANCE = GOOD / TOTAL
# sloe's --prometheus.timeout in seconds; make check-valgrind raises it, as sloe reads the
# 64 MiB body many times slower under valgrind.
PROM_TIMEOUT = int(os.environ.get("FAULTS_PROM_TIMEOUT", "1"))
HUGE = 64 * 1024 * 1024 + 4096  # past sloe's 64 MiB cap on a response body


# --------------------------------------------------------------------------------------
# The misbehaving Prometheus
# --------------------------------------------------------------------------------------

class FakeProm:
    """Answers the query API for the good and total queries; self.mode picks a fault."""

    def __init__(self):
        self.mode = "good"
        self.queries = 0
        self.lock = threading.Lock()
        self.port = 0
        self.server = None
        self.huge = None
        self.listen()

    def listen(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.handle_query(urllib.parse.urlsplit(self.path).query)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.handle_query(self.rfile.read(n).decode("utf-8", "replace"))

            def handle_query(self, qs):
                path = urllib.parse.urlsplit(self.path).path
                form = {k: v[-1] for k, v in urllib.parse.parse_qs(qs).items()}
                with fake.lock:
                    fake.queries += 1
                mode = fake.mode
                try:
                    if path not in ("/api/v1/query", "/api/v1/query_range"):
                        return self.send(404, b"not found", "text/plain")
                    if mode == "stall":
                        time.sleep(3 * PROM_TIMEOUT)
                        return self.send(200, fake.body(path, form, "good"))
                    if mode == "503":
                        return self.send(503, json.dumps({
                            "status": "error", "errorType": "unavailable",
                            "error": "the fake is unavailable"}).encode())
                    if mode == "400":
                        return self.send(400, json.dumps({
                            "status": "error", "errorType": "bad_data",
                            "error": "parse error: the fake refuses this query"}).encode())
                    if mode == "502":
                        return self.send(502, b"<html><body><h1>502 Bad Gateway</h1></body>"
                                         b"</html>", "text/html")
                    if mode == "malformed":
                        return self.send(200, b'{"status": success, "data": [}')
                    if mode == "truncated":
                        b = fake.body(path, form, "good")
                        return self.send(200, b[: len(b) // 2])
                    if mode == "huge":
                        if fake.huge is None:
                            pad = b" " * (HUGE - 80)
                            fake.huge = (b'{"status":"success","data":{"resultType":"matrix",'
                                         b'"result":[]}' + pad + b"}")
                        return self.send(200, fake.huge)
                    return self.send(200, fake.body(path, form, mode))
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def send(self, status, body, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                view = memoryview(body)
                for i in range(0, len(body), 1 << 20):
                    self.wfile.write(view[i:i + (1 << 20)])

            def log_message(self, *a):
                pass

        for attempt in range(50):
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode):
        if mode == "refused" and self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        elif mode != "refused" and self.server is None:
            self.listen()
        self.mode = mode

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @staticmethod
    def body(path, form, mode):
        q = form.get("query", "")
        v = GOOD if "fake_good" in q else TOTAL
        if mode == "nan":
            val = "NaN"
        elif mode == "inf":
            val = "+Inf"
        else:
            val = repr(v)
        labels = {}
        if mode == "empty":
            result = []
        elif path == "/api/v1/query":
            t = float(form.get("time", time.time()))
            result = [{"metric": labels, "value": [t, val]}]
        else:
            start, end = float(form["start"]), float(form["end"])
            step = float(form["step"])
            pts, t = [], start
            while t <= end + 1e-9:
                pts.append([t, val])
                t += step
            result = [{"metric": labels, "values": pts}]
        doc = {"status": "success", "data": {
            "resultType": "vector" if path == "/api/v1/query" else "matrix", "result": result}}
        if mode == "warnings":
            doc["warnings"] = ["the fake warns: results may be partial"]
        return json.dumps(doc).encode()


RULES = """version: sloe/v1
services:
  - name: fake
    slos:
      - name: events
        description: a constant good ratio from a fake Prometheus
        objective: 99
        window: 30d
        sli:
          events:
            good_query: sum(rate(fake_good_total[{{.window}}]))
            total_query: sum(rate(fake_all_total[{{.window}}]))
"""


# --------------------------------------------------------------------------------------
# Watching sloe
# --------------------------------------------------------------------------------------

class Watch:
    """Polls /metrics every 0.1 s in a thread and keeps the slowest answer (or error)."""

    def __init__(self, port, paths=("/metrics",)):
        self.port, self.paths = port, paths
        self.worst, self.errors, self.n = 0.0, [], 0
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop_ev.is_set():
            for p in self.paths:
                t0 = time.monotonic()
                try:
                    r = ts.request(self.port, p, timeout=5)
                    if r.status != 200:
                        self.errors.append(f"{p} {r.status}")
                except Exception as e:  # noqa: BLE001
                    self.errors.append(f"{p} {e!r}")
                self.worst = max(self.worst, time.monotonic() - t0)
                self.n += 1
            self.stop_ev.wait(0.1)

    def stop(self):
        self.stop_ev.set()
        self.th.join()
        return self


def data_ok(s):
    return ts.metric_value(s.metrics(), "slo_data_ok", service="fake", slo="events")


def queries(text, result):
    return ts.metric_value(text, "sloe_queries_total", result=result) or 0


# reason: the sloe_queries_total{result} that grows; None when the answer is not a failure.
FAULTS = [
    ("refused", "connect"),
    ("stall", "timeout"),
    ("503", "query"),
    ("400", "query"),
    ("502", "http"),
    ("malformed", "json"),
    ("truncated", "json"),
    ("huge", "too_large"),
    ("empty", "ok"),
]
BENIGN = ["nan", "inf", "warnings"]
REASONS = ["config", "connect", "timeout", "http", "too_large", "json", "query"]


def fault(s, fp, mode, reason):
    ok = ts.wait_for(lambda: data_ok(s) == 1, 15)
    if not check(f"{mode}: slo_data_ok 1 before the fault", ok, s.stderr()[-500:]):
        fp.set("good")
        return
    before = s.metrics()
    comp0 = ts.metric_value(before, "slo_compliance_ratio", service="fake", slo="events")
    q0 = queries(before, reason)
    ev0 = ts.metric_value(before, "sloe_evaluations_total", result="failure") or 0
    mark = len(s.stderr())
    w = Watch(s.port)
    fp.set(mode)
    t0 = time.monotonic()
    down = ts.wait_for(lambda: data_ok(s) == 0, 12, step=0.1)
    took = time.monotonic() - t0
    time.sleep(max(4, 2.5 * PROM_TIMEOUT))  # several more failing cycles
    after = s.metrics()
    w.stop()
    check(f"{mode}: slo_data_ok 0 ({took:.1f}s)", down)
    comp1 = ts.metric_value(after, "slo_compliance_ratio", service="fake", slo="events")
    check(f"{mode}: the last values stay (compliance {comp0} -> {comp1})",
          comp1 is not None and comp1 == comp0 and abs(comp0 - COMPLIANCE) < 1e-9)
    q1 = queries(after, reason)
    check(f"{mode}: sloe_queries_total{{result=\"{reason}\"}} grows ({q0:g} -> {q1:g})",
          q1 > q0)
    others = {r: (queries(before, r), queries(after, r)) for r in REASONS if r != reason}
    moved = {r: v for r, v in others.items() if v[0] != v[1]}
    check(f"{mode}: no other failure reason grows", not moved, str(moved))
    check(f"{mode}: /metrics answered within 1 s throughout ({w.n} scrapes, slowest "
          f"{w.worst:.3f}s)", w.worst < 1.0 and not w.errors and w.n > 20, str(w.errors[:3]))
    log = s.stderr(mark)
    fails = [ln for ln in log.split("\n") if "evaluation failed" in ln]
    evals = (ts.metric_value(after, "sloe_evaluations_total", result="failure") or 0) - ev0
    check(f"{mode}: the failure is logged once over {evals:g} failing cycles "
          f"({len(fails)} lines)", len(fails) == 1 and evals >= 2, "\n".join(fails[:4]))
    if fails:
        note(f"{mode}: {fails[0][fails[0].find('err='):][:220]}")
    fp.set("good")
    mark2 = len(s.stderr())
    up = ts.wait_for(lambda: data_ok(s) == 1, 15, step=0.1)
    check(f"{mode}: back to good answers: slo_data_ok 1", up)
    check(f"{mode}: 'all SLOs evaluated again' is logged", ts.wait_for(
        lambda: "all SLOs evaluated again" in s.stderr(mark2), 5))


def benign(s, fp, mode):
    ts.wait_for(lambda: data_ok(s) == 1, 15)
    before = s.metrics()
    comp0 = ts.metric_value(before, "slo_compliance_ratio", service="fake", slo="events")
    ok0 = queries(before, "ok")
    mark = len(s.stderr())
    w = Watch(s.port)
    fp.set(mode)
    time.sleep(4.5)
    after = s.metrics()
    w.stop()
    fp.set("good")
    comp1 = ts.metric_value(after, "slo_compliance_ratio", service="fake", slo="events")
    v = ts.metric_value(after, "slo_data_ok", service="fake", slo="events")
    check(f"{mode}: answers that do not fail keep slo_data_ok 1", v == 1, f"slo_data_ok {v}")
    check(f"{mode}: compliance unchanged ({comp0} -> {comp1})", comp1 == comp0)
    check(f"{mode}: the queries count as result=\"ok\" ({ok0:g} -> {queries(after, 'ok'):g})",
          queries(after, "ok") > ok0)
    check(f"{mode}: nothing logged as a failure",
          "evaluation failed" not in s.stderr(mark), s.stderr(mark)[-400:])
    check(f"{mode}: /metrics answered within 1 s throughout (slowest {w.worst:.3f}s)",
          w.worst < 1.0 and not w.errors, str(w.errors[:3]))
    exported = all(ts.SAMPLE_RE.match(ln) and not re.search(r" (NaN|[+-]Inf)$", ln)
                   for ln in after.split("\n")
                   if ln.startswith("slo_") and "ratio" in ln.split("{")[0])
    check(f"{mode}: no NaN or Inf exported for a ratio", exported)


# --------------------------------------------------------------------------------------
# Abusive clients
# --------------------------------------------------------------------------------------

def raw(port, data, timeout=10.0):
    """Sends data on a new connection; returns the status line's code, or 'closed'."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        try:
            c.sendall(data)
        except OSError:
            pass  # refused mid-way: read what came back
        buf = b""
        try:
            while b"\r\n" not in buf:
                chunk = c.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return int(m.group(1)) if m else "closed"


def abuse(s):
    w = Watch(s.port, ("/metrics", "/-/healthy"))
    # 500 idle connections.
    idle = []
    for _ in range(500):
        try:
            idle.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        except OSError as e:
            note(f"idle connection {len(idle)}: {e!r}")
            break
    check(f"abuse: 500 idle connections opened ({len(idle)})", len(idle) == 500)
    lat = []
    for _ in range(10):
        for p in ("/metrics", "/-/healthy"):
            t0 = time.monotonic()
            st = ts.status_of(s.port, p, timeout=5)
            lat.append((time.monotonic() - t0, st))
        time.sleep(0.1)
    check(f"abuse: with 500 idle connections /metrics and /-/healthy answer 200 within 1 s "
          f"(slowest {max(x[0] for x in lat):.3f}s)",
          all(st == 200 and t < 1.0 for t, st in lat), str(lat[:4]))

    # 20 slow clients: headers one byte per 100 ms (in parallel with the idle ones).
    slow_done = []

    def slow(i):
        req = f"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: {i}\r\n\r\n".encode()
        try:
            with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
                for b in req[:40]:  # 4 s of trickling
                    c.sendall(bytes([b]))
                    time.sleep(0.1)
                slow_done.append(i)
        except OSError:
            slow_done.append(i)
    th = [threading.Thread(target=slow, args=(i,), daemon=True) for i in range(20)]
    for t in th:
        t.start()
    time.sleep(1)
    lat = []
    for _ in range(10):
        for p in ("/metrics", "/-/healthy"):
            t0 = time.monotonic()
            st = ts.status_of(s.port, p, timeout=5)
            lat.append((time.monotonic() - t0, st))
        time.sleep(0.2)
    for t in th:
        t.join(15)
    check(f"abuse: with 20 slow clients /metrics and /-/healthy answer 200 within 1 s "
          f"(slowest {max(x[0] for x in lat):.3f}s)",
          all(st == 200 and t < 1.0 for t, st in lat), str(lat[:4]))
    for c in idle:
        c.close()

    # Huge requests.
    big_header = (b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) +
                  b"\r\n\r\n")
    st = raw(s.port, big_header)
    check(f"abuse: a 1 MB header is refused with a 4xx or closed ({st})",
          st == "closed" or 400 <= st < 500)
    big_url = b"GET /metrics?" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    st = raw(s.port, big_url)
    check(f"abuse: a 100 KB URL is refused with a 4xx or closed ({st})",
          st == "closed" or 400 <= st < 500)
    check("abuse: sloe still answers after the huge requests",
          ts.status_of(s.port, "/-/healthy", timeout=2) == 200)

    # 16 parallel scrapers for 5 s.
    results = []

    def scraper():
        end = time.monotonic() + 5
        while time.monotonic() < end:
            t0 = time.monotonic()
            st = ts.status_of(s.port, "/metrics", timeout=5)
            results.append((time.monotonic() - t0, st))
    th = [threading.Thread(target=scraper, daemon=True) for _ in range(16)]
    for t in th:
        t.start()
    for t in th:
        t.join(20)
    bad = [r for r in results if r[1] != 200 or r[0] >= 1.0]
    check(f"abuse: 16 parallel scrapers for 5 s: {len(results)} scrapes, all 200 within 1 s "
          f"(slowest {max(r[0] for r in results):.3f}s)", results and not bad, str(bad[:4]))
    w.stop()
    check(f"abuse: /metrics and /-/healthy answered within 1 s throughout ({w.n} polls, "
          f"slowest {w.worst:.3f}s)", w.worst < 1.0 and not w.errors, str(w.errors[:3]))
    check("abuse: sloe keeps running", s.proc.poll() is None, s.stderr()[-500:])


def rate_limit(tmp, fp, rules):
    """web-config rate_limit: burst 3, a token a second, for every request; 429 with
    Retry-After past it, and a token back after a second."""
    web = os.path.join(tmp, "web-rate.yml")
    with open(web, "w") as f:
        f.write("rate_limit:\n  interval: 1s\n  burst: 3\n")
    r = ts.Sloe(tmp, "rate", [f"--rules={rules}", f"--prometheus.url=http://127.0.0.1:{fp.port}",
                              "--evaluation-interval=1h", f"--web.config.file={web}"])
    try:
        r.start(ready=False)
        time.sleep(3.5)  # the bucket is full again, whatever the start-up used
        got = []
        for _ in range(6):
            try:
                got.append(ts.request(r.port, "/-/healthy", timeout=5))
            except OSError as e:
                got.append(e)
        codes = [getattr(g, "status", repr(g)) for g in got]
        check(f"rate_limit: 3 requests pass, the next 3 get 429 ({codes})",
              codes == [200, 200, 200, 429, 429, 429])
        last = got[-1]
        check("rate_limit: the 429 says Retry-After: 1 and why",
              getattr(last, "headers", {}).get("retry-after") == "1" and
              b"rate_limit" in getattr(last, "body", b""), str(last))
        time.sleep(1.2)
        codes = [ts.status_of(r.port, "/metrics", timeout=5) for _ in range(2)]
        check(f"rate_limit: a second later one more passes ({codes})", codes == [200, 429])
        rc, _ = r.stop()
        check("rate_limit: sloe exits 0", rc == 0, r.stderr()[-300:])
    finally:
        r.kill()


def main():
    t_all = time.monotonic()
    fp = FakeProm()
    tmp = tempfile.mkdtemp(prefix="sloe-faults-")
    rules = os.path.join(tmp, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    s = ts.Sloe(tmp, "faults", [f"--rules={rules}",
                                f"--prometheus.url=http://127.0.0.1:{fp.port}",
                                "--evaluation-interval=1s",
                                f"--prometheus.timeout={PROM_TIMEOUT}s"])
    try:
        s.start()
        check("sloe serve evaluates the fake Prometheus's answers (slo_data_ok 1)",
              ts.wait_for(lambda: data_ok(s) == 1, 15), s.stderr()[-500:])
        comp = ts.metric_value(s.metrics(), "slo_compliance_ratio", service="fake", slo="events")
        check(f"compliance {comp} = {COMPLIANCE}", comp is not None and
              abs(comp - COMPLIANCE) < 1e-9)
        for mode, reason in FAULTS:
            t0 = time.monotonic()
            fault(s, fp, mode, reason)
            note(f"{mode}: {time.monotonic() - t0:.1f}s")
        for mode in BENIGN:
            benign(s, fp, mode)
        fp.set("good")
        abuse(s)
        rate_limit(tmp, fp, rules)
        check("no sanitizer report on sloe's stderr", not ts.SAN_RE.search(s.stderr()),
              s.stderr()[-1500:])
        rc, took = s.stop()
        check(f"SIGTERM: exit 0 ({took:.2f}s)", rc == 0, s.stderr()[-300:])
    except Exception:  # noqa: BLE001
        check("no exception", False, traceback.format_exc())
    finally:
        s.kill()
        fp.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# total {time.monotonic() - t_all:.0f}s", flush=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
