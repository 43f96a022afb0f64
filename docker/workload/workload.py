#!/usr/bin/env python3
"""A synthetic HTTP workload for sloe's demo and tests (Python 3, standard library only).

It serves no real traffic: a background thread advances request counters with wall-clock
time at --rate requests per second, a share of them failing (code 500) and a share of them
slow, and an HTTP server exposes them in the Prometheus text format:

  http_requests_total{route, code}                 code "200" or "500"
  http_request_duration_seconds{route}             histogram, le 0.1, 0.3, 1, +Inf
  workload_rate_requests_per_second, workload_error_share, workload_slow_share (gauges)

Prometheus adds the `job` (and `instance`) labels when it scrapes.

Counts are exact and deterministic (error diffusion, no randomness): of the requests of a
route, floor(cumulative * share) fail; a request that is not slow is observed at or below
0.3 s (80 % of them at or below 0.1 s), a slow one above 0.3 s (70 % of them at or below
1 s). So a latency SLI with threshold 0.3 counts exactly the slow share as bad, and an
availability SLI exactly the error share (up to rounding of one request).

Endpoints:
  GET  /metrics    the metrics (text format 0.0.4)
  GET  /control    the current settings as JSON: {"rate": .., "error_share": .., "slow_share": ..}
  POST /control    change them: form fields rate, error_share, slow_share (any subset;
                   application/x-www-form-urlencoded body or query string); 400 when invalid
  GET  /-/healthy  200

  python3 workload.py --listen=127.0.0.1:8080 --rate=50 --error-share=0.001
  curl -d error_share=0.2 http://127.0.0.1:8080/control

--start-values=FILE starts the counters at given values (JSON object: series as written in
/metrics without the job label, e.g. 'http_requests_total{code="200",route="/pay"}', to a
number), so a live series continues a backfilled one without a counter reset.
"""

import argparse
import json
import math
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = (0.1, 0.3, 1.0)  # plus +Inf
# Where the observations go: a fast request is in the first or second bucket, a slow one in
# the third or above 1 s; the _sum adds these representative durations.
FAST_FIRST_SHARE = 0.8
SLOW_THIRD_SHARE = 0.7
DURATIONS = (0.05, 0.2, 0.6, 1.5)
MAX_BODY = 64 * 1024


def fmt_labels(labels):
    """{"route": "/pay", "code": "200"} -> '{code="200",route="/pay"}' (sorted, escaped)."""
    def esc(v):
        return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{esc(labels[k])}"' for k in sorted(labels)) + "}"


def fmt_le(b):
    """As client_golang writes it in the text format: 0.1, 0.3, 1, +Inf."""
    if math.isinf(b):
        return "+Inf"
    return str(int(b)) if float(b).is_integer() else repr(float(b))


def fmt_value(v):
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 2**53):
        return str(int(v))
    return repr(float(v))


class Diffuser:
    """Turns a running real-valued target into whole increments without drift."""

    def __init__(self):
        self.target = 0.0
        self.emitted = 0

    def add(self, x):
        self.target += x
        n = int(math.floor(self.target + 1e-9)) - self.emitted
        if n < 0:
            n = 0
        self.emitted += n
        return n


class Route:
    def __init__(self, name, weight):
        self.name, self.weight = name, weight
        self.requests = Diffuser()
        self.errors = Diffuser()
        self.slow = Diffuser()
        self.fast_first = Diffuser()
        self.slow_third = Diffuser()
        self.ok_total = 0
        self.err_total = 0
        self.buckets = [0, 0, 0, 0]  # non-cumulative: <=0.1, <=0.3, <=1, >1
        self.sum = 0.0


class Workload:
    """The counters and the settings, advanced by advance(now) under a lock."""

    def __init__(self, routes, rate, error_share, slow_share, start_values=None):
        total_w = sum(w for _, w in routes)
        self.routes = [Route(n, w / total_w) for n, w in routes]
        self.rate, self.error_share, self.slow_share = rate, error_share, slow_share
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.base = {}  # series text -> start value (added when rendering)
        if start_values:
            self.base = {k: float(v) for k, v in start_values.items()}

    def settings(self):
        with self.lock:
            return {"rate": self.rate, "error_share": self.error_share,
                    "slow_share": self.slow_share}

    def set(self, rate=None, error_share=None, slow_share=None):
        with self.lock:
            self._advance(time.monotonic())  # the old settings hold up to now
            if rate is not None:
                self.rate = rate
            if error_share is not None:
                self.error_share = error_share
            if slow_share is not None:
                self.slow_share = slow_share

    def advance(self):
        with self.lock:
            self._advance(time.monotonic())

    def _advance(self, now):
        dt = now - self.last
        if dt <= 0:
            return
        self.last = now
        for r in self.routes:
            n = r.requests.add(self.rate * dt * r.weight)
            if n == 0:
                continue
            e = r.errors.add(n * self.error_share)
            s = r.slow.add(n * self.slow_share)
            e, s = min(e, n), min(s, n)
            r.err_total += e
            r.ok_total += n - e
            f = n - s
            f1 = min(r.fast_first.add(f * FAST_FIRST_SHARE), f)
            s3 = min(r.slow_third.add(s * SLOW_THIRD_SHARE), s)
            inc = (f1, f - f1, s3, s - s3)
            for i, c in enumerate(inc):
                r.buckets[i] += c
            r.sum += sum(c * d for c, d in zip(inc, DURATIONS))

    def render(self):
        """The metrics in the Prometheus text format 0.0.4."""
        with self.lock:
            self._advance(time.monotonic())
            out = []
            w = out.append

            def line(name, labels, value):
                key = name + fmt_labels(labels)
                w(f"{key} {fmt_value(self.base.get(key, 0) + value)}\n")

            w("# HELP http_requests_total Requests handled, by route and status code.\n")
            w("# TYPE http_requests_total counter\n")
            for r in self.routes:
                line("http_requests_total", {"route": r.name, "code": "200"}, r.ok_total)
                line("http_requests_total", {"route": r.name, "code": "500"}, r.err_total)
            w("# HELP http_request_duration_seconds Request latency.\n")
            w("# TYPE http_request_duration_seconds histogram\n")
            for r in self.routes:
                cum = 0
                for b, c in zip(BUCKETS + (math.inf,), r.buckets):
                    cum += c
                    line("http_request_duration_seconds_bucket",
                         {"route": r.name, "le": fmt_le(b)}, cum)
                line("http_request_duration_seconds_sum", {"route": r.name}, round(r.sum, 6))
                line("http_request_duration_seconds_count", {"route": r.name}, cum)
            for name, help_, v in (
                    ("workload_rate_requests_per_second", "Configured request rate.", self.rate),
                    ("workload_error_share", "Configured share of failing requests.",
                     self.error_share),
                    ("workload_slow_share", "Configured share of slow requests.",
                     self.slow_share)):
                w(f"# HELP {name} {help_}\n# TYPE {name} gauge\n{name} {fmt_value(v)}\n")
            return "".join(out)


def parse_share(v, what):
    x = float(v)
    if not 0 <= x <= 1 or math.isnan(x):
        raise ValueError(f"{what} must be between 0 and 1")
    return x


def parse_rate(v):
    x = float(v)
    if not 0 <= x <= 1e9 or math.isnan(x):
        raise ValueError("rate must be between 0 and 1e9 requests per second")
    return x


def make_handler(wl):
    class Handler(BaseHTTPRequestHandler):
        server_version = "sloe-workload/1"

        def log_message(self, fmt, *args):  # quiet: one line per scrape is noise
            pass

        def send(self, code, body, ctype="text/plain; charset=utf-8"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/metrics":
                self.send(200, wl.render(), "text/plain; version=0.0.4; charset=utf-8")
            elif path == "/control":
                self.send(200, json.dumps(wl.settings()) + "\n", "application/json")
            elif path in ("/-/healthy", "/-/ready"):
                self.send(200, "OK\n")
            elif path == "/":
                self.send(200, "sloe demo workload: /metrics, /control (GET, POST rate, "
                          "error_share, slow_share)\n")
            else:
                self.send(404, "not found\n")

        do_HEAD = do_GET

        def do_POST(self):
            parts = urllib.parse.urlsplit(self.path)
            if parts.path != "/control":
                self.send(404, "not found\n")
                return
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                self.send(400, "bad Content-Length\n")
                return
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            fields = dict(urllib.parse.parse_qsl(parts.query))
            fields.update(urllib.parse.parse_qsl(body))
            unknown = set(fields) - {"rate", "error_share", "slow_share"}
            if unknown:
                self.send(400, f"unknown field(s): {', '.join(sorted(unknown))}\n")
                return
            try:
                kw = {}
                if "rate" in fields:
                    kw["rate"] = parse_rate(fields["rate"])
                for k in ("error_share", "slow_share"):
                    if k in fields:
                        kw[k] = parse_share(fields[k], k)
            except ValueError as e:
                self.send(400, f"{e}\n")
                return
            wl.set(**kw)
            self.send(200, json.dumps(wl.settings()) + "\n", "application/json")

    return Handler


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"--listen {s!r}: want HOST:PORT or :PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def parse_route(s):
    name, sep, w = s.rpartition(":")
    if not sep:
        return s, 1.0
    if not name or not float(w) > 0:
        raise argparse.ArgumentTypeError(f"--route {s!r}: want PATH or PATH:WEIGHT (> 0)")
    return name, float(w)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Synthetic HTTP workload exposing request "
                                 "counters and a latency histogram for sloe.")
    ap.add_argument("--listen", default=":8080", type=parse_listen,
                    help="HOST:PORT or :PORT (default :8080)")
    ap.add_argument("--rate", type=parse_rate, default=20.0,
                    help="requests per second (default 20)")
    ap.add_argument("--error-share", type=lambda v: parse_share(v, "--error-share"),
                    default=0.0, help="share of requests answered 500 (default 0)")
    ap.add_argument("--slow-share", type=lambda v: parse_share(v, "--slow-share"),
                    default=0.0, help="share of requests slower than 0.3 s (default 0)")
    ap.add_argument("--route", action="append", type=parse_route, metavar="PATH[:WEIGHT]",
                    help="a route and its share of the traffic; repeatable "
                    "(default /pay:0.4 and /cart:0.6)")
    ap.add_argument("--start-values", metavar="FILE",
                    help="JSON object: series -> starting counter value")
    ap.add_argument("--tick", type=float, default=0.1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    routes = args.route or [("/pay", 0.4), ("/cart", 0.6)]
    start = None
    if args.start_values:
        with open(args.start_values) as f:
            start = json.load(f)
    wl = Workload(routes, args.rate, args.error_share, args.slow_share, start)

    host, port = args.listen
    ThreadingHTTPServer.daemon_threads = True
    if ":" in host:
        import socket
        ThreadingHTTPServer.address_family = socket.AF_INET6
    srv = ThreadingHTTPServer((host, port), make_handler(wl))
    stop = threading.Event()

    def ticker():
        while not stop.wait(args.tick):
            wl.advance()

    threading.Thread(target=ticker, daemon=True).start()

    def on_signal(signum, frame):
        stop.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"workload: listening on {host}:{srv.server_address[1]}, rate {wl.rate}/s, "
          f"error share {wl.error_share}, slow share {wl.slow_share}", file=sys.stderr,
          flush=True)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
