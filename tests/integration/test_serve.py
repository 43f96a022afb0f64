#!/usr/bin/env python3
"""Integration test of the sloe serve daemon against real Prometheus servers.

The promlab checkout scenario is generated to end at the current minute (plus a few minutes,
so that the data stays "live" for the whole run: sloe serve evaluates at wall-clock now and
its incremental cycles ask for the last minutes only), backfilled, and served by Prometheus
A. Several `sloe serve` daemons run against it:

  M  the main one (--evaluation-interval=1h: one snapshot, constant during comparisons),
     scraped by Prometheus B1 (OpenMetrics, 2.42's default Accept) and B2 (protobuf, with
     --enable-feature=native-histograms); checks 1, 2, 3, 8;
  H  one whose Prometheus never answers (not ready yet); check 3;
  T  TLS and basic auth from --web.config.file, scraped by Prometheus B3 over TLS; check 6;
  R  reloads over HTTP and SIGHUP, SIGTERM; check 4;
  D  --evaluation-interval=2s while Prometheus A is killed and restarted, SIGINT; check 5;
  S  the concurrency stress (8 scrapers, reloads, SIGHUP); check 7;
and chromium screenshots M's status page (check 8).

Run from the repository root: python3 tests/integration/test_serve.py [--tsan]
The binary comes from SLOE_BIN (default bin/sloe), so the same test runs against sanitizer
builds. --tsan runs only the stress check and check 9 (for `make check-tsan-serve`) and
fails on any ThreadSanitizer report. Prints one line per check and ends with "N passed, N failed"; exits 1
when a check fails. Python standard library only.
"""

import base64
import ctypes
import gzip
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check, note, skip  # noqa: E402
import promlab as pl  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
TSAN = "--tsan" in sys.argv[1:]
DAYS = 35
LIVE_MARGIN = 600  # seconds of data beyond now: the run's incremental cycles keep seeing data
SCREENSHOT = os.path.join("build", "serve-page.png")
DESCRIPTION = '<b>"quotes" & ampersands</b>'
DESCRIPTION_ESCAPED = "&lt;b&gt;&quot;quotes&quot; &amp; ampersands&lt;/b&gt;"
UPTIME_DESCRIPTION = "probe \\ blackbox\nsecond line"  # a backslash and a newline
SAN_RE = re.compile(r"Sanitizer|runtime error:")
PB_TYPE = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
           "encoding=delimited")
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OM_ACCEPT = "application/openmetrics-text;version=1.0.0"
PB_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
             "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")

findings = []  # bugs worth a closing note


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def request(port, path, method="GET", headers=None, body=None, timeout=10.0, ctx=None,
            host="127.0.0.1"):
    """One request on a fresh connection; returns a Resp (raises on transport errors)."""
    if ctx is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return Resp(r.status, hdrs, data)
    finally:
        conn.close()


def status_of(port, path, method="GET", **kw):
    try:
        return request(port, path, method, **kw).status
    except (OSError, http.client.HTTPException) as e:
        return f"error {e!r}"


# --------------------------------------------------------------------------------------
# Exposition formats
# --------------------------------------------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABEL_RE = re.compile(rf"({LNAME})=({LVALUE})")
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{((?:{LNAME}={LVALUE})(?:,{LNAME}={LVALUE})*,?)?\}})? "
                       r"(\S+)(?: (-?\d+(?:\.\d+)?))?$")
NUM_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def unescape(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "\\": "\\", '"': '"'}[v[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(s):
    labels = {}
    for k, v in LABEL_RE.findall(s or ""):
        if k in labels:
            raise ValueError(f"label {k} twice")
        labels[k] = unescape(v[1:-1])
    return labels


def key(name, labels, drop=()):
    return (name, tuple(sorted((k, v) for k, v in labels.items() if k not in drop)))


def fmt_key(k):
    return k[0] + "{" + ",".join(f'{a}="{b}"' for a, b in k[1]) + "}"


def parse_exposition(text, openmetrics=False):
    """Parses Prometheus text 0.0.4 (or OpenMetrics 1.0.0). Returns (samples {key: value},
    types {family: type}, problems [str]). Problems: malformed lines, bad escapes, a family
    whose metadata or samples are split (not contiguous), metadata after samples, a second
    TYPE, a sample of no declared family, duplicate series, and for OpenMetrics a missing or
    misplaced '# EOF'."""
    problems, types, samples = [], {}, {}
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum",
                                                                 "_created"),
                "summary": ("_count", "_sum", "_created", ""), "info": ("_info",),
                "gaugehistogram": ("_bucket", "_gcount", "_gsum")}
    if not text.endswith("\n"):
        problems.append("the body does not end with a newline")
    lines = text.split("\n")[:-1]
    if openmetrics:
        if not lines or lines[-1] != "# EOF":
            problems.append("no '# EOF' as the last line")
        else:
            lines = lines[:-1]
        if "# EOF" in lines:
            problems.append("'# EOF' before the end")
    current, closed, with_samples = None, set(), set()

    def enter(fam, n):
        nonlocal current
        if fam != current:
            if fam in closed:
                problems.append(f"line {n}: family {fam} split (it appeared before)")
            if current is not None:
                closed.add(current)
            current = fam

    def family_of(name):
        if name in types and (not openmetrics or types[name] in ("gauge", "unknown",
                                                                  "stateset")):
            return name
        for fam, typ in types.items():
            for suf in suffixes.get(typ, ()):
                if suf and name == fam + suf:
                    return fam
        return name if name in types else None

    for n, line in enumerate(lines, 1):
        if line == "":
            problems.append(f"line {n}: empty line")
            continue
        if line.startswith("#"):
            m = re.match(rf"^# (HELP|TYPE|UNIT) ({NAME})(?: (.*))?$", line)
            if not m:
                if openmetrics or line.startswith(("# HELP", "# TYPE")):
                    problems.append(f"line {n}: bad comment {line!r}")
                continue
            what, fam, rest = m.group(1), m.group(2), m.group(3) or ""
            enter(fam, n)
            if fam in with_samples:
                problems.append(f"line {n}: {what} for {fam} after its samples")
            if what == "TYPE":
                ok_types = (("counter", "gauge", "histogram", "summary", "info", "stateset",
                             "unknown", "gaugehistogram") if openmetrics else
                            ("counter", "gauge", "histogram", "summary", "untyped"))
                if rest not in ok_types:
                    problems.append(f"line {n}: bad type {line!r}")
                if fam in types:
                    problems.append(f"line {n}: second TYPE for {fam}")
                types[fam] = rest
            elif what == "HELP":
                if re.search(r'\\[^\\n' + ('"' if openmetrics else '') + ']', rest):
                    problems.append(f"line {n}: bad escape in HELP {line!r}")
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample {line!r}")
            continue
        name, labs, val = m.group(1), m.group(2), m.group(3)
        if val not in ("NaN", "+Inf", "-Inf") and not NUM_RE.match(val):
            problems.append(f"line {n}: bad value {val!r}")
            continue
        try:
            labels = parse_labels(labs)
        except ValueError as e:
            problems.append(f"line {n}: {e}")
            continue
        fam = family_of(name)
        if fam is None:
            problems.append(f"line {n}: {name} without a TYPE line")
            fam = name
        enter(fam, n)
        with_samples.add(fam)
        k = key(name, labels)
        if k in samples:
            problems.append(f"line {n}: duplicate series {fmt_key(k)}")
        samples[k] = float(val)
    return samples, types, problems


def varint(b, i):
    shift = r = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        r |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return r, i
        if shift > 63:
            raise ValueError("varint too long")


def pb_fields(b):
    """The (field, wire type, value) of one protobuf message (bytes for length-delimited,
    raw 8/4 bytes for fixed64/fixed32, int for varints)."""
    i = 0
    while i < len(b):
        tag, i = varint(b, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            ln, i = varint(b, i)
            v, i = b[i:i + ln], i + ln
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        if i > len(b):
            raise ValueError("truncated field")
        yield f, wt, v


def pb_double(v):

    return struct.unpack("<d", v)[0]


def pb_split(body):
    """Splits a delimited protobuf body into its messages; raises ValueError unless the
    varint lengths add up to exactly the body."""
    msgs, i = [], 0
    while i < len(body):
        ln, j = varint(body, i)
        if j + ln > len(body):
            raise ValueError(f"message at {i} of {ln} bytes overruns the body ({len(body)})")
        msgs.append(body[j:j + ln])
        i = j + ln
    return msgs


def pb_samples(body):
    """Decodes io.prometheus.client.MetricFamily messages into text-format samples
    {key: value} and {family: type name}."""
    tnames = {0: "counter", 1: "gauge", 2: "summary", 3: "untyped", 4: "histogram"}
    samples, types = {}, {}
    for msg in pb_split(body):
        name, typ, metrics = None, 3, []
        for f, _, v in pb_fields(msg):
            if f == 1:
                name = v.decode()
            elif f == 3:
                typ = v
            elif f == 4:
                metrics.append(v)
        types[name] = tnames.get(typ, str(typ))
        for m in metrics:
            labels, value, hist = {}, None, None
            for f, _, v in pb_fields(m):
                if f == 1:
                    lp = {ff: vv.decode() for ff, _, vv in pb_fields(v)}
                    labels[lp.get(1, "")] = lp.get(2, "")
                elif f in (2, 3, 5):  # gauge, counter, untyped: field 1 is the value
                    value = 0.0
                    for ff, _, vv in pb_fields(v):
                        if ff == 1:
                            value = pb_double(vv)
                elif f == 7:
                    hist = {"count": 0, "sum": 0.0, "buckets": []}
                    for ff, _, vv in pb_fields(v):
                        if ff == 1:
                            hist["count"] = vv
                        elif ff == 2:
                            hist["sum"] = pb_double(vv)
                        elif ff == 3:
                            bk = {gf: gv for gf, _, gv in pb_fields(vv)}
                            hist["buckets"].append((pb_double(bk[2]) if 2 in bk else math.inf,
                                                    bk.get(1, 0)))
            if hist is not None:
                les = set()
                for ub, c in hist["buckets"]:
                    les.add(ub)
                    samples[key(name + "_bucket", dict(labels, le=le_str(ub)))] = float(c)
                if math.inf not in les:
                    samples[key(name + "_bucket", dict(labels, le="+Inf"))] = \
                        float(hist["count"])
                samples[key(name + "_count", labels)] = float(hist["count"])
                samples[key(name + "_sum", labels)] = hist["sum"]
            elif value is not None:
                samples[key(name, labels)] = value
    return samples, types


def le_str(x):
    return "+Inf" if math.isinf(x) else repr(float(x))


def norm_le(samples):
    """Bucket bounds as canonical floats, so '1' and '1.0' compare equal."""
    out = {}
    for (name, labs), v in samples.items():
        labs = tuple((k, le_str(float(x)) if k == "le" else x) for k, x in labs)
        out[(name, labs)] = v
    return out


def same_samples(a, b, rel=0.0):
    """Differences between two {key: value} maps (at most 6 described)."""
    diffs = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            diffs.append(f"only in second: {fmt_key(k)}")
        elif k not in b:
            diffs.append(f"only in first: {fmt_key(k)}")
        elif not (a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) or
                  (rel and math.isclose(a[k], b[k], rel_tol=rel, abs_tol=1e-15))):
            diffs.append(f"{fmt_key(k)}: {a[k]!r} != {b[k]!r}")
    return diffs


def short(diffs, n=6):
    return "; ".join(diffs[:n]) + (f"; ... {len(diffs) - n} more" if len(diffs) > n else "")


def metric_value(text, name, **labels):
    """The value of one series in a text exposition (None when absent)."""
    for line in text.split("\n"):
        m = SAMPLE_RE.match(line)
        if m and m.group(1) == name:
            labs = parse_labels(m.group(2))
            if all(labs.get(k) == v for k, v in labels.items()):
                return float(m.group(3))
    return None


def metric_values(text, name):
    out = {}
    for line in text.split("\n"):
        m = SAMPLE_RE.match(line)
        if m and m.group(1) == name:
            labs = parse_labels(m.group(2))
            out[(labs.get("service"), labs.get("slo"), labs.get("route"))] = float(m.group(3))
    return out


# --------------------------------------------------------------------------------------
# sloe serve processes
# --------------------------------------------------------------------------------------

_daemons = []


class Sloe:
    """One `sloe serve` process on a free 127.0.0.1 port, stderr in a file."""

    def __init__(self, tmp, name, args, env=None):
        self.name = name
        self.err_path = os.path.join(tmp, f"sloe-{name}.stderr")
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None
        self.rc = None
        _daemons.append(self)

    def start(self, ready=True, timeout=60.0):
        for attempt in range(5):
            self.port = pl.free_port()
            argv = [SLOE, "serve", *self.args, f"--web.listen-address=127.0.0.1:{self.port}"]
            with open(self.err_path, "ab") as err:
                mark = err.tell()
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=err,
                                             env=self.env)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if "msg=\"sloe started\"" in self.stderr(mark):
                    break
                time.sleep(0.02)
            if self.proc.poll() is not None:
                if "cannot listen" in self.stderr(mark) and attempt < 4:
                    continue
                raise RuntimeError(f"sloe {self.name} exited with {self.proc.returncode}: "
                                   f"{self.stderr(mark)[-1500:]}")
            break
        if ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sloe {self.name} exited with {self.proc.returncode}: "
                                   f"{self.stderr()[-1500:]}")
            if status_of(self.port, "/-/ready", timeout=5, ctx=getattr(self, "ctx", None),
                         headers=getattr(self, "auth", None)) == 200:
                return True
            time.sleep(0.05)
        raise RuntimeError(f"sloe {self.name} not ready after {timeout}s")

    def stderr(self, offset=0):
        try:
            with open(self.err_path, errors="replace") as f:
                f.seek(offset)
                return f.read()
        except FileNotFoundError:
            return ""

    def get(self, path, **kw):
        return request(self.port, path, **kw)

    def metrics(self):
        r = self.get("/metrics")
        if r.status != 200:
            raise RuntimeError(f"/metrics answered {r.status}: {r.text[:200]}")
        return r.text

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig and waits; returns (exit code, seconds taken); SIGKILL after timeout."""
        if self.proc is None:
            return None, 0.0
        if self.proc.poll() is not None:
            self.rc = self.proc.returncode
            return self.rc, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.rc = self.proc.returncode
        return self.rc, time.monotonic() - t0

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def sanitizer_reports():
    out = []
    for d in _daemons:
        text = d.stderr()
        m = SAN_RE.search(text)
        if m:
            out.append(f"sloe {d.name}: {text[max(0, m.start() - 200):][:3000]}")
    return out


# --------------------------------------------------------------------------------------
# Rule files
# --------------------------------------------------------------------------------------

def q_inc(sel, by=""):
    by = f" by ({by})" if by else ""
    return f"sum{by}(increase(http_requests_total{sel}[{{{{.window}}}}]))"


def yq(s):
    """A YAML double-quoted scalar."""
    return json.dumps(s)


def rules_text(extra=""):
    return f"""version: sloe/v1
services:
  - name: checkout
    labels: {{team: payments}}
    slos:
      - name: availability
        description: {yq(DESCRIPTION)}
        objective: 99.9
        warning: 99.7
        minimum: 99.5
        window: 30d
        sli:
          events:
            good_query: {yq(q_inc('{job="checkout",code!~"5.."}'))}
            total_query: {yq(q_inc('{job="checkout"}'))}
      - name: by-route
        description: each route on its own
        objective: 99.9
        window: 30d
        group_by: [route]
        sli:
          events:
            bad_query: {yq(q_inc('{job="checkout",code=~"5.."}', "route"))}
            total_query: {yq(q_inc('{job="checkout"}', "route"))}
      - name: latency-300ms
        description: requests served within 300 ms
        objective: 90
        window: 30d
        sli:
          latency: {{metric: http_request_duration_seconds, selector: '{{job="checkout"}}', threshold: 0.3}}
{extra}  - name: blackbox
    labels: {{team: sre}}
    slos:
      - name: uptime
        description: {yq(UPTIME_DESCRIPTION)}
        objective: 99.9
        window: 30d
        sli:
          uptime: {{query: 'probe_success{{job="blackbox"}}'}}
"""


EXTRA_SLO = f"""      - name: availability-7d
        description: the last week
        objective: 99.5
        window: 7d
        sli:
          events:
            bad_query: {yq(q_inc('{job="checkout",code=~"5.."}'))}
            total_query: {yq(q_inc('{job="checkout"}'))}
"""


def broken_text():
    """The rule file with one SLO's objective at 101; returns (text, line, column)."""
    text = rules_text(EXTRA_SLO).replace("objective: 90\n", "objective: 101\n")
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip() == "objective: 101":
            return text, n, line.index("101") + 1
    raise AssertionError("no objective: 101")


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def slo_keys(text):
    """(service, slo) of every slo_info series of a text exposition."""
    out = set()
    for line in text.split("\n"):
        m = SAMPLE_RE.match(line)
        if m and m.group(1) == "slo_info":
            labs = parse_labels(m.group(2))
            out.add((labs.get("service"), labs.get("slo")))
    return out


# --------------------------------------------------------------------------------------
# Helpers: bcrypt, TLS material, an Accept-header recorder, a server that never answers
# --------------------------------------------------------------------------------------

def bcrypt_hash(password, cost=6):
    """A $2b$ bcrypt hash from libxcrypt (ctypes); htpasswd as a fallback; None if neither."""
    try:
        lib = ctypes.CDLL("libcrypt.so.1")
        lib.crypt_gensalt_rn.restype = ctypes.c_char_p
        lib.crypt_gensalt_rn.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
                                         ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        buf = ctypes.create_string_buffer(128)
        salt = lib.crypt_gensalt_rn(b"$2b$", cost, None, 0, buf, len(buf))
        if salt:
            h = lib.crypt(password.encode(), buf.value)
            if h and h.startswith(b"$2b$") and lib.crypt(password.encode(), h) == h:
                return h.decode()
    except OSError:
        pass
    if shutil.which("htpasswd"):
        p = subprocess.run(["htpasswd", "-nbB", "-C", str(cost), "u", password],
                           stdout=subprocess.PIPE, text=True)
        if p.returncode == 0 and ":" in p.stdout:
            return p.stdout.strip().split(":", 1)[1]
    return None


class Recorder:
    """A scrape target that records the Accept header of each scrape by path."""

    def __init__(self):
        seen = self.seen = {}

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.setdefault(self.path, self.headers.get("Accept", ""))
                body = b"# TYPE recorder_up gauge\nrecorder_up 1\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scrape_job(name, port, **extra):
    return dict({"job_name": name, "scrape_interval": "1s", "scrape_timeout": "1s",
                 "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}, **extra)


def wait_for(cond, timeout, step=0.2):
    """Polls cond() until it returns a true value or timeout seconds pass; returns the last
    value (exceptions count as false)."""
    deadline = time.monotonic() + timeout
    v = None
    while True:
        try:
            v = cond()
        except Exception:  # noqa: BLE001 - a failing poll is just "not yet"
            v = None
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


UP_SLOE = 'up{job="sloe"}'


def target_error(prom, job="sloe"):
    """The lastError of a Prometheus' scrape target of that job ('' when none)."""
    try:
        with urllib.request.urlopen(prom.url + "/api/v1/targets", timeout=10) as r:
            doc = json.load(r)
        return "; ".join(t.get("lastError", "") for t in doc["data"]["activeTargets"]
                         if t.get("labels", {}).get("job") == job)
    except (OSError, ValueError, KeyError) as e:
        return repr(e)


def prom_series(prom, expr):
    """{key (without job and instance): value} of an instant query."""
    out = {}
    for r in prom.query(expr, timeout=20)["result"]:
        m = dict(r["metric"])
        name = m.pop("__name__", "")
        out[key(name, m, drop=("job", "instance"))] = float(r["value"][1])
    return out


# --------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------

def check_formats(m):
    """2. /metrics in every format, fetched directly from M."""
    r = m.get("/metrics")
    check("2. default format: 200 and Content-Type text 0.0.4",
          r.status == 200 and r.header("content-type") == TEXT_TYPE,
          f"{r.status} {r.header('content-type')!r}")
    check("2. Vary header names Accept and Accept-Encoding",
          "accept" in (r.header("vary") or "").lower() and
          "accept-encoding" in (r.header("vary") or "").lower(), repr(r.header("vary")))
    text = r.text
    samples, types, problems = parse_exposition(text)
    check(f"2. text: every line parses; families contiguous; escapes valid "
          f"({len(samples)} samples, {len(types)} families)", not problems, short(problems))
    info = {dict(k[1]).get("slo"): dict(k[1]) for k in samples if k[0] == "slo_info"}
    check("2. text: the description label round-trips (quotes escaped)",
          info.get("availability", {}).get("description") == DESCRIPTION,
          repr(info.get("availability")))
    check("2. text: a backslash and a newline in a label value round-trip",
          info.get("uptime", {}).get("description") == UPTIME_DESCRIPTION and
          'description="probe \\\\ blackbox\\nsecond line"' in text,
          repr(info.get("uptime")))

    r = m.get("/metrics", headers={"Accept": OM_ACCEPT})
    check("2. OpenMetrics Accept: Content-Type openmetrics 1.0.0",
          r.status == 200 and r.header("content-type") == OM_TYPE,
          f"{r.status} {r.header('content-type')!r}")
    check("2. OpenMetrics body ends with '# EOF\\n'", r.body.endswith(b"# EOF\n"),
          repr(r.body[-40:]))
    om, om_types, om_problems = parse_exposition(r.text, openmetrics=True)
    check("2. OpenMetrics: every line parses, families contiguous", not om_problems,
          short(om_problems))
    d = same_samples(norm_le(samples), norm_le(om))
    check("2. OpenMetrics holds the same samples as the text format", not d, short(d))

    r = m.get("/metrics", headers={"Accept": PB_ACCEPT})
    check("2. protobuf Accept: Content-Type delimited protobuf",
          r.status == 200 and r.header("content-type") == PB_TYPE,
          f"{r.status} {r.header('content-type')!r}")
    try:
        msgs = pb_split(r.body)
        check(f"2. protobuf: {len(msgs)} varint-delimited messages add up to the body "
              f"({len(r.body)} bytes)", len(msgs) == len(types) and sum(
                  len(x) for x in msgs) + sum(len(enc_varint(len(x))) for x in msgs) ==
              len(r.body), f"{len(msgs)} messages for {len(types)} families")
        pb, pb_types = pb_samples(r.body)
        d = same_samples(norm_le(samples), norm_le(pb))
        check("2. protobuf decodes to the same samples as the text format", not d, short(d))
    except (ValueError, KeyError, UnicodeDecodeError) as e:
        check("2. protobuf: varint-delimited messages add up to the body", False, repr(e))

    for accept, what in ((None, "text"), (OM_ACCEPT, "OpenMetrics"), (PB_ACCEPT, "protobuf")):
        h = {"Accept-Encoding": "gzip"}
        if accept:
            h["Accept"] = accept
        plain = m.get("/metrics", headers={"Accept": accept} if accept else {})
        r = m.get("/metrics", headers=h)
        try:
            unz = gzip.decompress(r.body)
        except (OSError, EOFError) as e:
            unz = repr(e).encode()
        check(f"2. gzip ({what}): Content-Encoding gzip, Vary, and the body inflates to the "
              f"plain one", r.status == 200 and r.header("content-encoding") == "gzip" and
              r.header("vary") is not None and unz == plain.body,
              f"{r.status} {r.header('content-encoding')!r} {len(unz)} vs {len(plain.body)}")
    r = m.get("/metrics", headers={"Accept-Encoding": "identity"})
    check("2. Accept-Encoding identity: no Content-Encoding",
          r.status == 200 and r.header("content-encoding") is None,
          repr(r.header("content-encoding")))
    return samples


def enc_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def check_endpoints(m, h_sloe):
    """3. The endpoints of M, and of H before its first evaluation."""
    # H first: its Prometheus accepts connections and never answers (5 s timeout)
    check("3. before the first evaluation: /-/healthy 200",
          status_of(h_sloe.port, "/-/healthy") == 200)
    check("3. before the first evaluation: /-/ready 503",
          status_of(h_sloe.port, "/-/ready") == 503)
    check("3. before the first evaluation: /metrics 503",
          status_of(h_sloe.port, "/metrics") == 503)
    check("3. before the first evaluation: /api/v1/slos 503",
          status_of(h_sloe.port, "/api/v1/slos") == 503)
    rc, took = h_sloe.stop(signal.SIGTERM)
    check(f"3. SIGTERM during a hanging first evaluation: exit 0 within 1.5 s "
          f"(rc {rc}, {took:.2f}s)", rc == 0 and took < 1.5, h_sloe.stderr()[-500:])

    check("3. /-/healthy 200", status_of(m.port, "/-/healthy") == 200)
    check("3. /-/ready 200 after the first evaluation", status_of(m.port, "/-/ready") == 200)
    r = m.get("/api/v1/slos")
    try:
        doc = json.loads(r.body)
    except ValueError as e:
        doc = None
        note(f"/api/v1/slos: {e}")
    want = {("checkout", "availability", None), ("checkout", "by-route", "/pay"),
            ("checkout", "by-route", "/cart"), ("checkout", "latency-300ms", None),
            ("blackbox", "uptime", None)}
    got = {(o.get("service"), o.get("slo"), o.get("labels", {}).get("route"))
           for o in doc or []} if isinstance(doc, list) else set()
    check("3. /api/v1/slos: JSON (application/json) with every SLO instance",
          r.status == 200 and (r.header("content-type") or "").startswith("application/json")
          and got == want, f"{r.status} {r.header('content-type')!r} {sorted(got, key=str)}")
    metrics = m.metrics()
    comp = metric_values(metrics, "slo_compliance_ratio")
    bad = []
    for o in doc or []:
        k = (o.get("service"), o.get("slo"), o.get("labels", {}).get("route"))
        if not isinstance(o.get("compliance"), float) or o["compliance"] != comp.get(k) or \
                not isinstance(o.get("windows"), dict) or "state" not in o:
            bad.append(f"{k}: {o.get('compliance')!r} vs {comp.get(k)!r}")
    check("3. /api/v1/slos: results (compliance, windows, state) equal /metrics", doc and
          not bad, short(bad))
    defs = [k for k in ("description", "window", "timezone", "sli_kind", "objective")
            if not all(k in o.get("definition", {}) for o in doc or [])]
    check("3. /api/v1/slos: each SLO carries its definition (description, window), as the "
          "contract says ('every SLO with its definition and latest results')",
          doc and not defs, f"no {', '.join(defs)} in {sorted((doc or [{}])[0].keys())}")
    if doc and defs:
        findings.append("/api/v1/slos lacks the SLO definition (no description, window, sli)")

    r = m.get("/")
    csp = r.header("content-security-policy") or ""
    check("3. /: HTML with a Content-Security-Policy of default-src 'none'",
          r.status == 200 and (r.header("content-type") or "").startswith("text/html") and
          "default-src 'none'" in csp, f"{r.status} {r.header('content-type')!r} {csp!r}")
    page = r.text
    check("3. /: the description is escaped (&lt;b&gt;...) and never raw",
          DESCRIPTION_ESCAPED in page and DESCRIPTION not in page and "<b>\"quotes" not in page,
          "escaped form missing" if DESCRIPTION_ESCAPED not in page else "raw form present")
    check("3. /: no <script", "<script" not in page.lower())
    check("3. /: every SLO is on the page", all(s in page for s in (
        "availability", "by-route", "latency-300ms", "uptime", "/pay", "/cart")))
    check("3. unknown path: 404", status_of(m.port, "/nope") == 404)
    check("3. GET /-/reload: 405", status_of(m.port, "/-/reload") == 405)
    check("3. POST /metrics: 405", status_of(m.port, "/metrics", "POST", body=b"") == 405)


def check_scraped(b1, b2, m, rules, prom_a, recorder):
    """1. B1 (OpenMetrics) and B2 (protobuf) scrape M: the same series, equal to sloe eval."""
    def scraped(b):
        up = b.values('up{job="sloe"}')
        n = b.value('count({__name__=~"slo_.*",job="sloe"})')
        return up and list(up.values()) == [1.0] and n
    ok1 = wait_for(lambda: scraped(b1), 40)
    ok2 = wait_for(lambda: scraped(b2), 20)
    wait_for(lambda: "/b1" in recorder.seen and "/b2" in recorder.seen, 10)
    check("1. B1 (OpenMetrics) and B2 (protobuf) both scraped sloe: up == 1", ok1 and ok2,
          f"B1 {b1.values(UP_SLOE)} {target_error(b1)!r} "
          f"B2 {b2.values(UP_SLOE)} {target_error(b2)!r}")
    acc1, acc2 = recorder.seen.get("/b1", ""), recorder.seen.get("/b2", "")
    note(f"B1 Accept: {acc1}")
    note(f"B2 Accept: {acc2}")
    r1 = m.get("/metrics", headers={"Accept": acc1}) if acc1 else None
    r2 = m.get("/metrics", headers={"Accept": acc2}) if acc2 else None
    check("1. B1's Accept header gets OpenMetrics and B2's gets protobuf from sloe",
          r1 is not None and r2 is not None and r1.header("content-type") == OM_TYPE and
          r2.header("content-type") == PB_TYPE,
          f"{r1 and r1.header('content-type')!r} / {r2 and r2.header('content-type')!r}")
    s1 = prom_series(b1, '{__name__=~"slo_.*",job="sloe"}')
    s2 = prom_series(b2, '{__name__=~"slo_.*",job="sloe"}')
    d = same_samples(s1, s2)
    check(f"1. every slo_* series ({len(s1)}) has the same labels and value in B1 and B2",
          s1 and not d, short(d))

    text = m.metrics()
    T = metric_value(text, "slo_last_evaluation_timestamp_seconds", slo="availability")
    T = int(T) if T is not None else 0
    p = subprocess.run([SLOE, "eval", f"--rules={rules}", f"--prometheus.url={prom_a.url}",
                        f"--time={T}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    ev, _, ev_problems = parse_exposition(p.stdout)
    ev = {k: v for k, v in ev.items() if k[0].startswith("slo_")}
    check(f"1. sloe eval --time={T} (the served snapshot's time) exits 0 and parses",
          p.returncode == 0 and ev and not ev_problems,
          f"rc {p.returncode} {short(ev_problems)} {p.stderr[-300:]}")
    d = same_samples(s1, ev)
    check(f"1. B1's slo_* series equal sloe eval's text output at T ({len(ev)} series)",
          s1 and not d, short(d))

    p = subprocess.run([SLOE, "eval", f"--rules={rules}", f"--prometheus.url={prom_a.url}",
                        f"--time={T}", "--format=json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        res = []
    want = {}
    for o in res:
        L = dict(o["labels"], service=o["service"], slo=o["slo"])

        def put(name, v, **extra):
            if v is not None:
                want[key(name, dict(L, **extra))] = float(v)
        put("slo_compliance_ratio", o["compliance"])
        put("slo_error_budget_remaining_ratio", o["error_budget_remaining"])
        put("slo_error_budget_exhaustion_seconds", o["exhaustion_seconds"])
        put("slo_objective_ratio", o["objective"])
        put("slo_warning_ratio", o["warning"])
        put("slo_minimum_ratio", o["minimum"])
        put("slo_data_ok", 1 if o["data_ok"] else 0)
        put("slo_last_evaluation_timestamp_seconds", o["last_evaluation"])
        put("slo_period_start_timestamp_seconds", o["period"]["start"])
        put("slo_period_end_timestamp_seconds", o["period"]["end"])
        put("slo_burn_rate", o["period"]["burn_rate"], window="period")
        for w, x in o["windows"].items():
            put("slo_sli_ratio", x["sli"], window=w)
            put("slo_burn_rate", x["burn_rate"], window=w)
        for s in ("met", "degraded", "warning", "breach"):
            put("slo_state", 1 if o["state"] == s else 0, state=s)
        for sev, on in o["alerts"].items():
            put("slo_alert", 1 if on else 0, severity=sev)
        put("slo_score", o["score"])
        put("slo_sla_credit_ratio", o["sla_credit"])
    sub = {k: s1[k] for k in want if k in s1}
    d = same_samples(want, sub, rel=1e-12)
    check(f"1. B1 equals sloe eval --format=json: compliance, SLI and burn rate per window, "
          f"budget, state, alerts ({len(want)} values, 5 instances)",
          len(res) == 5 and not d, f"{len(res)} instances; {short(d)}")
    absent = [fmt_key(k) for k in s1 if k[0] == "slo_error_budget_exhaustion_seconds"
              and k not in want]
    check("1. slo_error_budget_exhaustion_seconds only where JSON has a value", not absent,
          short(absent))

    names = ["sloe_build_info", "sloe_evaluations_total", "sloe_queries_total",
             "sloe_evaluation_duration_seconds_bucket", "sloe_query_duration_seconds_count",
             "sloe_slos", "sloe_config_last_reload_successful",
             "sloe_config_last_reload_success_timestamp_seconds",
             "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
             "process_cpu_seconds_total"]
    for b, what in ((b1, "B1"), (b2, "B2")):
        have = {k[0] for k in prom_series(b, '{__name__=~"sloe_.*|process_.*",job="sloe"}')}
        miss = [n for n in names if n not in have]
        check(f"1. self-metrics in {what}: {', '.join(n.split('_', 1)[1] for n in names[:3])}"
              f"... ({len(names)} names)", not miss, f"missing {miss}")
    e1 = prom_series(b1, '{__name__=~"sloe_.*|process_.*",job="sloe"}')
    e2 = prom_series(b2, '{__name__=~"sloe_.*|process_.*",job="sloe"}')
    d = same_samples(e1, e2)
    check(f"1. self-metrics identical in B1 and B2 ({len(e1)} series)", e1 and not d, short(d))


def check_tls(t, b3, password, hashed):
    """6. TLS and basic auth (T), and Prometheus B3 scraping it over TLS."""
    ctx, cafile = t.ctx, t.cafile
    good = {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:not-the-password").decode()}
    try:
        r = t.get("/metrics", headers=good, ctx=ctx)
        check("6. HTTPS with the right password: 200 and metrics",
              r.status == 200 and b"slo_compliance_ratio" in r.body, f"{r.status}")
        r = t.get("/metrics", headers=wrong, ctx=ctx)
        check("6. HTTPS with a wrong password: 401 with WWW-Authenticate Basic",
              r.status == 401 and (r.header("www-authenticate") or "").startswith("Basic"),
              f"{r.status} {r.header('www-authenticate')!r}")
        r = t.get("/metrics", ctx=ctx)
        check("6. HTTPS without credentials: 401 with WWW-Authenticate",
              r.status == 401 and r.header("www-authenticate") is not None, f"{r.status}")
        r = t.get("/", headers=good, ctx=ctx)
        check("6. HTTPS status page with the right password: 200", r.status == 200, f"{r.status}")
    except (OSError, http.client.HTTPException) as e:
        check("6. HTTPS requests", False, repr(e))
    try:
        r = request(t.port, "/metrics", headers=good, timeout=5)
        check("6. plain HTTP to the TLS port fails", False, f"answered {r.status}")
    except (OSError, http.client.HTTPException) as e:
        check("6. plain HTTP to the TLS port fails", True)
        note(f"plain HTTP: {e!r}")

    def handshake(maxv):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.load_verify_locations(cafile)
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                c.set_ciphers("DEFAULT:@SECLEVEL=0")
                c.minimum_version = maxv
            except (ssl.SSLError, ValueError):
                pass
            c.maximum_version = maxv
        with socket.create_connection(("127.0.0.1", t.port), timeout=5) as s:
            with c.wrap_socket(s, server_hostname="127.0.0.1") as ss:
                return ss.version()
    try:
        v = handshake(ssl.TLSVersion.TLSv1_2)
        check("6. a TLS 1.2 client is accepted (min_version TLS12)", v == "TLSv1.2", v)
    except (OSError, ssl.SSLError) as e:
        check("6. a TLS 1.2 client is accepted (min_version TLS12)", False, repr(e))
    try:
        v = handshake(ssl.TLSVersion.TLSv1_1)
        check("6. a TLS 1.1 client is refused", False, f"negotiated {v}")
    except ssl.SSLError as e:
        if "NO_PROTOCOLS_AVAILABLE" in str(e).upper() or "NO_CIPHERS" in str(e).upper():
            skip("6. a TLS 1.1 client is refused", f"the local OpenSSL will not speak TLS 1.1 "
                 f"({e.reason})")
        else:
            check("6. a TLS 1.1 client is refused", True)
            note(f"TLS 1.1: {e!r}")
    except OSError as e:
        check("6. a TLS 1.1 client is refused", True)
        note(f"TLS 1.1: {e!r}")

    def b3_up():
        v = b3.values('up{job="sloe-tls"}')
        return v and list(v.values()) == [1.0] and b3.value(
            'count({__name__=~"slo_.*",job="sloe-tls"})')
    ok = wait_for(b3_up, 30)
    check("6. Prometheus B3 scrapes over TLS with basic_auth and tls_config.ca_file: up == 1",
          ok, f"{b3.values('up')} {b3.log(tail=5)}")
    err = t.stderr()
    leaked = [w for w, s in (("password", password), ("wrong password", "not-the-password"),
                             ("hash", hashed), ("hash salt", hashed[7:29])) if s in err]
    check("6. no password or hash in sloe's stderr (debug log level)", not leaked,
          f"found the {', '.join(leaked)}")


def check_reload(tmp, prom_a):
    """4. POST /-/reload, a broken file, SIGHUP; SIGTERM."""
    path = os.path.join(tmp, "reload.yaml")
    write_atomic(path, rules_text())
    r = Sloe(tmp, "reload", [f"--rules={path}", f"--prometheus.url={prom_a.url}",
                             "--evaluation-interval=1h"]).start()
    text0 = r.metrics()
    ts0 = metric_value(text0, "sloe_config_last_reload_success_timestamp_seconds")
    time.sleep(0.05)
    write_atomic(path, rules_text(EXTRA_SLO))
    t0 = time.monotonic()
    resp = r.get("/-/reload", method="POST", body=b"")
    check("4. POST /-/reload with a valid changed file: 200", resp.status == 200,
          f"{resp.status} {resp.text[:300]}")
    new = ("checkout", "availability-7d")
    text = wait_for(lambda: (lambda x: x if new in slo_keys(x) else None)(r.metrics()), 10,
                    step=0.05)
    took = time.monotonic() - t0
    check(f"4. the new SLO is served after the next evaluation, at once despite the 1h "
          f"interval ({took:.2f}s)", text is not None, sorted(slo_keys(r.metrics())))
    text = text or r.metrics()
    ok = metric_value(text, "sloe_config_last_reload_successful")
    ts1 = metric_value(text, "sloe_config_last_reload_success_timestamp_seconds")
    check("4. sloe_config_last_reload_successful 1 and a newer success timestamp, sloe_slos 5",
          ok == 1 and ts1 is not None and ts0 is not None and ts1 > ts0 and
          metric_value(text, "sloe_slos") == 5, f"{ok} {ts0} -> {ts1}")

    btext, line, col = broken_text()
    write_atomic(path, btext)
    resp = r.get("/-/reload", method="POST", body=b"")
    want = f"{path}:{line}:{col}:"
    check(f"4. POST /-/reload with objective 101: 400 with '{os.path.basename(path)}:{line}:"
          f"{col}:' and the message", resp.status == 400 and want in resp.text and
          "101" in resp.text, f"{resp.status} {resp.text[:300]!r}")
    text = r.metrics()
    check("4. after the refused reload /metrics keeps the previous SLOs",
          new in slo_keys(text) and len(slo_keys(text)) == 5, sorted(slo_keys(text)))
    got = wait_for(lambda: metric_value(r.metrics(), "sloe_config_last_reload_successful") == 0,
                   3, step=0.1)
    text = r.metrics()
    check("4. sloe_config_last_reload_successful 0 after the refused reload (and the success "
          "timestamp unchanged)", got and metric_value(
              text, "sloe_config_last_reload_success_timestamp_seconds") == ts1,
          f"still {metric_value(text, 'sloe_config_last_reload_successful')} 3 s later "
          "(the self-metrics are refreshed only by an evaluation: --evaluation-interval=1h)")
    if not got:
        findings.append("sloe_config_last_reload_successful stays 1 after a refused reload "
                        "until the next evaluation cycle")

    write_atomic(path, rules_text())  # fixed: the extra SLO goes away again
    r.send(signal.SIGHUP)
    text = wait_for(lambda: (lambda x: x if new not in slo_keys(x) and metric_value(
        x, "sloe_config_last_reload_successful") == 1 else None)(r.metrics()), 10, step=0.05)
    check("4. SIGHUP with a fixed file reloads: sloe_config_last_reload_successful 1, the "
          "new set served", text is not None, f"{sorted(slo_keys(r.metrics()))}")
    log = r.stderr()
    check("4. the log tells of the refused reload and the reloads",
          "reload failed" in log and log.count("rules reloaded") >= 2, log[-400:])
    rc, took = r.stop(signal.SIGTERM)
    check(f"4. SIGTERM: exit 0 within 1 s ({took:.2f}s)", rc == 0 and took < 1.0,
          f"rc {rc} {r.stderr()[-300:]}")


def check_down(tmp, prom_a, rules):
    """5. Prometheus A killed and restarted under a 2 s evaluation interval; SIGINT."""
    d = Sloe(tmp, "down", [f"--rules={rules}", f"--prometheus.url={prom_a.url}",
                           "--evaluation-interval=2s"]).start()

    def all_ok(want):
        v = metric_values(d.metrics(), "slo_data_ok")
        return len(v) == 5 and all(x == want for x in v.values())
    check("5. all SLOs evaluated (slo_data_ok 1) with Prometheus up", wait_for(
        lambda: all_ok(1), 10))
    if time.time() % 60 > 48:  # keep the last good cycle and the failures in one minute
        time.sleep(61 - time.time() % 60)
        wait_for(lambda: all_ok(1), 5)
    before = d.metrics()
    comp0 = metric_values(before, "slo_compliance_ratio")
    conn0 = metric_value(before, "sloe_queries_total", result="connect") or 0
    mark = len(d.stderr())
    prom_a.kill()
    t0 = time.monotonic()
    down = wait_for(lambda: all_ok(0), 12, step=0.25)
    check(f"5. Prometheus killed: slo_data_ok 0 for every SLO within a few cycles "
          f"({time.monotonic() - t0:.1f}s)", down, str(metric_values(d.metrics(), "slo_data_ok")))
    time.sleep(6.5)  # three more failing cycles
    after = d.metrics()
    comp1 = metric_values(after, "slo_compliance_ratio")
    check("5. the last values are still exported (compliance unchanged)",
          comp1 == comp0 and len(comp1) == 5, f"{comp0} -> {comp1}")
    conn1 = metric_value(after, "sloe_queries_total", result="connect") or 0
    check(f"5. sloe_queries_total{{result=\"connect\"}} grows ({conn0:g} -> {conn1:g})",
          conn1 > conn0)
    evals = metric_value(after, "sloe_evaluations_total", result="failure") or 0
    check(f"5. failing cycles are counted: sloe_evaluations_total{{result=\"failure\"}} "
          f"{evals:g} >= 3", evals >= 3)
    log = d.stderr(mark)
    fails = [ln for ln in log.split("\n") if "evaluation failed" in ln]
    per = {}
    for ln in fails:
        m = re.search(r"service=(\S+) slo=(\S+)", ln)
        per[m.groups() if m else ln] = per.get(m.groups() if m else ln, 0) + 1
    want = {("checkout", "availability"), ("checkout", "by-route"),
            ("checkout", "latency-300ms"), ("blackbox", "uptime")}
    check(f"5. the failure is logged once per SLO over {evals:g} failing cycles "
          f"({len(fails)} lines)", set(per) == want and all(v == 1 for v in per.values()),
          f"{per}")
    prom_a.start()
    up = wait_for(lambda: all_ok(1), 20, step=0.25)
    check("5. Prometheus restarted: slo_data_ok back to 1", up,
          str(metric_values(d.metrics(), "slo_data_ok")))
    check("5. 'all SLOs evaluated again' is logged", wait_for(
        lambda: "all SLOs evaluated again" in d.stderr(mark), 5))
    rc, took = d.stop(signal.SIGINT)
    check(f"5. SIGINT: exit 0 within 1 s ({took:.2f}s)", rc == 0 and took < 1.0,
          f"rc {rc} {d.stderr()[-300:]}")


def stress(tmp, prom_a, seconds, name):
    """7. 8 scrapers and a reloader against one sloe with a 1 s interval."""
    path = os.path.join(tmp, f"stress-{name}.yaml")
    good = [rules_text(), rules_text(EXTRA_SLO)]
    broken = broken_text()[0]
    write_atomic(path, good[0])
    s = Sloe(tmp, f"stress-{name}", [f"--rules={path}", f"--prometheus.url={prom_a.url}",
                                     "--evaluation-interval=1s"]).start(timeout=120)
    kinds = [("/metrics", None, False), ("/metrics", OM_ACCEPT, False),
             ("/metrics", PB_ACCEPT, False), ("/metrics", None, True),
             ("/metrics", OM_ACCEPT, True), ("/metrics", PB_ACCEPT, True),
             ("/", None, False), ("/api/v1/slos", None, False)]
    stop = threading.Event()
    lock = threading.Lock()
    stats = {"requests": 0, "bad": [], "reloads": 0, "reload_bad": [], "sighup": 0}

    def complete(path_, accept, r):
        body = r.body
        if r.header("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if path_ == "/":
            return body.rstrip().endswith(b"</html>")
        if path_ == "/api/v1/slos":
            doc = json.loads(body)
            return isinstance(doc, list) and len(doc) >= 5
        if accept == OM_ACCEPT:
            return body.endswith(b"\n# EOF\n") and b"process_start_time_seconds" in body
        if accept == PB_ACCEPT:
            return len(pb_split(body)) > 20 and b"process_start_time_seconds" in body
        return body.endswith(b"\n") and b"\nprocess_start_time_seconds " in body

    def scraper(i):
        conn = None
        n = 0
        while not stop.is_set():
            path_, accept, gz = kinds[(i + n) % len(kinds)]
            n += 1
            h = {}
            if accept:
                h["Accept"] = accept
            if gz:
                h["Accept-Encoding"] = "gzip"
            try:
                if conn is None or n % 5 == 0:  # keep-alive, with a fresh connection now and then
                    if conn is not None:
                        conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
                conn.request("GET", path_, headers=h)
                resp = conn.getresponse()
                r = Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
                ok = r.status == 200 and complete(path_, accept, r)
                why = f"{path_} {accept} gzip={gz}: {r.status} {len(r.body)} bytes"
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                ok, why = False, f"{path_} {accept} gzip={gz}: {e!r}"
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                stats["requests"] += 1
                if not ok:
                    stats["bad"].append(why)
        if conn is not None:
            conn.close()

    def reloader():
        k = 0
        while not stop.wait(0.5):
            k += 1
            if k % 2:
                write_atomic(path, good[(k // 2) % 2])
                want = 200
            else:
                write_atomic(path, broken)
                want = 400
            if k % 5 == 0:
                s.send(signal.SIGHUP)
                with lock:
                    stats["sighup"] += 1
            try:
                r = s.get("/-/reload", method="POST", body=b"", timeout=30)
                st = r.status
            except Exception as e:  # noqa: BLE001
                st = repr(e)
            with lock:
                stats["reloads"] += 1
                if st != want:
                    stats["reload_bad"].append(f"reload {k}: {st}, wanted {want}")

    threads = [threading.Thread(target=scraper, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=reloader))
    for th in threads:
        th.start()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join(60)
    evals = metric_value(s.metrics(), "sloe_evaluations_total", result="success") or 0
    write_atomic(path, good[0])
    rc, took = s.stop(signal.SIGTERM)
    label = f"7. stress ({name}, {seconds:g}s)"
    check(f"{label}: {stats['requests']} scrapes of /metrics (text, OpenMetrics, protobuf, "
          f"gzip), / and /api/v1/slos all 200 with a complete body",
          stats["requests"] > 0 and not stats["bad"],
          f"{len(stats['bad'])} bad: {short(stats['bad'], 4)}")
    check(f"{label}: {stats['reloads']} POST /-/reload alternating good (200) and broken (400), "
          f"{stats['sighup']} SIGHUP, {evals:g} evaluations", stats["reloads"] >= seconds and
          not stats["reload_bad"], short(stats["reload_bad"], 4))
    check(f"{label}: sloe exits 0 after SIGTERM ({took:.2f}s)", rc == 0,
          f"rc {rc}" + (" (66: ThreadSanitizer reported)" if rc == 66 else ""))
    err = s.stderr()
    races = err.count("WARNING: ThreadSanitizer")
    check(f"{label}: no ThreadSanitizer or other sanitizer report on stderr",
          races == 0 and not SAN_RE.search(err), f"{races} ThreadSanitizer warnings")
    if races or SAN_RE.search(err):
        report = os.path.join("build", f"serve-stress-{name}.stderr")
        os.makedirs("build", exist_ok=True)
        shutil.copyfile(s.err_path, report)
        note(f"the full stderr is in {report}")
        for block in re.findall(r"==================\n(WARNING: ThreadSanitizer.*?)"
                                r"==================", err, re.S)[:3]:
            print("\n".join("#   " + ln for ln in block.rstrip().split("\n")))


def check_retired(tmp, prom_a):
    """9. A scrape for a format not made from the current snapshot, arriving while the next
    snapshot is built (the current one's metric set is freed by then), waits for the next
    and gets it whole. SLOs with long descriptions make each build take a while; on each
    "building the next snapshot" log line the test asks for one format, in turn, so that
    the retired snapshot never made it."""
    paths = []
    for k in range(3):
        slos = "".join(
            f"      - name: slo-{k}-{j}\n        description: {'d' * 30000}-{k}-{j}\n"
            f"        objective: 99\n        sli:\n          events:\n"
            f"            bad_query: 'sum(increase(none_bad_total[{{{{.window}}}}]))'\n"
            f"            total_query: 'sum(increase(none_total[{{{{.window}}}}]))'\n"
            for j in range(100))
        path = os.path.join(tmp, f"retire-{k}.yaml")
        write_atomic(path, f"version: sloe/v1\nservices:\n  - name: long-{k}\n    slos:\n{slos}")
        paths.append(path)
    s = Sloe(tmp, "retire", [*[f"--rules={p}" for p in paths], f"--prometheus.url={prom_a.url}",
                             "--evaluation-interval=1s", "--log.level=debug"]).start()
    formats = [(OM_ACCEPT, "gzip"), (PB_ACCEPT, "identity"), (None, "gzip")]
    seen, tries, bad = s.stderr(0).count('msg="building the next snapshot"'), 0, []
    deadline = time.monotonic() + 60
    while tries < 9 and time.monotonic() < deadline:
        text = s.stderr(0)
        builds = text.split('msg="building the next snapshot"')
        if len(builds) - 1 <= seen:
            time.sleep(0.001)
            continue
        seen = len(builds) - 1
        # The snapshot being built follows the evaluations logged before its build began.
        before = "".join(builds[:-1]).count('msg="evaluation done"')
        accept, enc = formats[tries % 3]
        tries += 1
        h = {"Accept-Encoding": enc}
        if accept:
            h["Accept"] = accept
        r = s.get("/metrics", headers=h, timeout=30)
        body = gzip.decompress(r.body) if r.header("content-encoding") == "gzip" else r.body
        done = evaluations_done(body, accept)
        if r.status != 200 or done is None or done < before + 1:
            bad.append(f"{accept} {enc}: {r.status}, {len(body)} bytes, evaluations {done} "
                       f"(at least {before + 1} wanted)")
    waits = s.stderr(0).count('msg="a scrape waits for the next snapshot"')
    rc, _ = s.stop()
    err = s.stderr(0)
    check(f"9. {tries} scrapes sent while a snapshot was being built: {waits} waited for it and "
          f"each got the new snapshot, whole; exit 0, no sanitizer report",
          tries == 9 and waits >= 1 and not bad and rc == 0 and not SAN_RE.search(err),
          f"{waits} waits, rc {rc}; {short(bad, 3)}")


def evaluations_done(body, accept):
    """sloe_evaluations_total (both results) in a /metrics body of any format."""
    if accept == PB_ACCEPT:
        got = pb_samples(body)[0]
        vals = [got.get(key("sloe_evaluations_total", {"result": r})) for r in ("success", "failure")]
    else:
        vals = [metric_value(body.decode(), "sloe_evaluations_total", result=r)
                for r in ("success", "failure")]
    return None if None in vals else sum(vals)


def check_screenshot(m):
    """8. The status page in headless chromium."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        skip("8. status page screenshot", "chromium not installed")
        return
    os.makedirs("build", exist_ok=True)
    out = os.path.abspath(SCREENSHOT)
    if os.path.exists(out):
        os.remove(out)
    profile = tempfile.mkdtemp(prefix="sloe-chromium-")
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,1600",
            f"--screenshot={out}", f"http://127.0.0.1:{m.port}/"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        log, _ = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # helpers left behind by the browser
        except ProcessLookupError:
            pass
        shutil.rmtree(profile, ignore_errors=True)
    size = os.path.getsize(out) if os.path.exists(out) else 0
    with open(out, "rb") if size else open(os.devnull, "rb") as f:
        magic = f.read(8)
    check(f"8. chromium screenshot of / is a PNG over 20 KB ({size} bytes, "
          f"{time.monotonic() - t0:.1f}s): {SCREENSHOT}",
          magic == b"\x89PNG\r\n\x1a\n" and size > 20 * 1024,
          f"rc {p.returncode} {log.decode(errors='replace')[-400:]}")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main():
    pl.handle_sigterm()
    t_all = time.monotonic()
    if not os.access(SLOE, os.X_OK):
        print(f"missing binary {SLOE}: run make bin/sloe")
        print("0 passed, 1 failed")
        return 1
    if TSAN:
        os.environ.setdefault("TSAN_OPTIONS", "halt_on_error=0 exitcode=66 "
                              "second_deadlock_stack=1 history_size=7")
    proms, helpers = [], []
    tmp = tempfile.mkdtemp(prefix="sloe-serve-test-")
    reports = []
    try:
        run(tmp, proms, helpers, t_all)
    except Exception as e:  # noqa: BLE001 - a crash of the set-up or a check is a failure
        check("the run completes", False, "".join(
            traceback.format_exception(type(e), e, e.__traceback__))[-2000:])
    finally:
        for d in _daemons:
            d.kill()
        reports = sanitizer_reports()
        for h in helpers:
            try:
                h.close()
            except Exception:  # noqa: BLE001
                pass
        for p in proms:
            p.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not TSAN:
        check("sanitizers: no report on any sloe's stderr", not reports,
              short([r[:1500] for r in reports], 2))
    print(f"# total {time.monotonic() - t_all:.1f}s")
    return checks.finish()


def run(tmp, proms, helpers, t_all):
    now = int(time.time())
    end = now - now % 60 + LIVE_MARGIN
    om, tsdb = os.path.join(tmp, "scenario.om"), os.path.join(tmp, "tsdb")
    pl.checkout_scenario(om, end, days=DAYS)
    pl.backfill(om, tsdb)
    os.remove(om)
    note(f"data generated and backfilled in {time.monotonic() - t_all:.1f}s "
         f"(ends {end - now}s from now)")
    prom_a = pl.Prometheus(tsdb)
    proms.append(prom_a)
    prom_a.start()
    note(f"Prometheus A ready in {prom_a.start_seconds:.2f}s at {prom_a.url}")
    rules = os.path.join(tmp, "rules.yaml")
    write_atomic(rules, rules_text())
    p = subprocess.run([SLOE, "check", rules], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    check("set-up: sloe check accepts the rule file", p.returncode == 0, p.stdout.strip())

    if TSAN:
        t0 = time.monotonic()
        stress(tmp, prom_a, 15, "tsan")
        note(f"stress in {time.monotonic() - t0:.1f}s")
        check_retired(tmp, prom_a)
        return

    # M, T and H start first, so that B1, B2, B3 can begin scraping while other checks run.
    m = Sloe(tmp, "main", [f"--rules={rules}", f"--prometheus.url={prom_a.url}",
                           "--evaluation-interval=1h"]).start()
    password = "s3cret-Pässword"
    hashed = bcrypt_hash(password)
    t = None
    if hashed is None:
        skip("6. TLS and basic auth", "no bcrypt implementation (libcrypt, htpasswd)")
    else:
        cert, keyf = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "1", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-keyout", keyf, "-out", cert],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        webcfg = os.path.join(tmp, "web.yml")
        with open(webcfg, "w") as f:
            f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {keyf}\n"
                    f"  min_version: TLS12\nbasic_auth_users:\n  admin: '{hashed}'\n")
        t = Sloe(tmp, "tls", [f"--rules={rules}", f"--prometheus.url={prom_a.url}",
                              "--evaluation-interval=1h", f"--web.config.file={webcfg}",
                              "--log.level=debug"])
        t.ctx = ssl.create_default_context(cafile=cert)
        t.cafile = cert
        t.auth = {"Authorization": "Basic " + base64.b64encode(
            f"admin:{password}".encode()).decode()}
        if p.returncode != 0:
            check("6. openssl makes a self-signed certificate", False, p.stdout[-300:])
            t = None
        else:
            t.start()
    recorder = Recorder()
    helpers.append(recorder)
    b1 = pl.Prometheus(scrape_configs=[
        scrape_job("sloe", m.port), scrape_job("recorder", recorder.port, metrics_path="/b1")])
    b2 = pl.Prometheus(scrape_configs=[
        scrape_job("sloe", m.port), scrape_job("recorder", recorder.port, metrics_path="/b2")],
        extra_flags=["--enable-feature=native-histograms"])
    bs = [b1, b2]
    b3 = None
    if t is not None:
        b3 = pl.Prometheus(scrape_configs=[scrape_job(
            "sloe-tls", t.port, scheme="https",
            basic_auth={"username": "admin", "password": password},
            tls_config={"ca_file": t.cafile})])
        bs.append(b3)
    for b in bs:
        proms.append(b)
        b.start()
    note(f"sloe M, T and Prometheus B1, B2{', B3' if b3 else ''} up "
         f"at {time.monotonic() - t_all:.1f}s")

    # H: its Prometheus is a socket that accepts connections and never answers, so its first
    # evaluation lasts --prometheus.timeout (5 s): the 503 checks come right after its start.
    hang = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    helpers.append(hang)
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    h_sloe = Sloe(tmp, "hang", [f"--rules={rules}",
                                f"--prometheus.url=http://127.0.0.1:{hang.getsockname()[1]}",
                                "--prometheus.timeout=5s", "--evaluation-interval=1h"])
    h_sloe.start(ready=False)
    t0 = time.monotonic()
    check_endpoints(m, h_sloe)
    check_formats(m)
    note(f"checks 2 and 3 in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    check_scraped(b1, b2, m, rules, prom_a, recorder)
    note(f"check 1 in {time.monotonic() - t0:.1f}s")
    if t is not None:
        t0 = time.monotonic()
        check_tls(t, b3, password, hashed)
        note(f"check 6 in {time.monotonic() - t0:.1f}s")
    for b in bs:
        b.close()
    t0 = time.monotonic()
    check_screenshot(m)
    t0 = time.monotonic()
    check_reload(tmp, prom_a)
    note(f"check 4 in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    check_down(tmp, prom_a, rules)
    note(f"check 5 in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    stress(tmp, prom_a, 8, "normal")
    note(f"check 7 in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    check_retired(tmp, prom_a)
    note(f"check 9 in {time.monotonic() - t0:.1f}s")
    for d, what in ((m, "M"), (t, "T")):
        if d is None:
            continue
        rc, took = d.stop(signal.SIGTERM)
        check(f"SIGTERM ends sloe {what} with exit 0 within 1 s ({took:.2f}s)",
              rc == 0 and took < 1.0, f"rc {rc} {d.stderr()[-300:]}")


if __name__ == "__main__":
    sys.exit(main())
