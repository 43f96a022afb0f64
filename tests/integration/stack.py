"""stack: processes and small HTTP helpers for sloe's end-to-end tests and the demo.

Python 3 standard library only. Used by tests/integration/test_e2e.py and docker/demo.py:

- Proc: a child process (sloe, Prometheus, Alertmanager, the workload) with its output in a
  log file, in its own session (a Ctrl-C on the terminal reaches only the parent, which
  stops the children in order), SIGTERM'd by the kernel if the parent dies
  (PR_SET_PDEATHSIG); stop() sends SIGTERM and SIGKILLs after a timeout.
- Webhook: an HTTP server recording the JSON bodies Alertmanager posts.
- get/get_json/post_form/wait_for/port_free/free_port.
- prometheus_config(), alertmanager_config(): the configuration texts.
"""

import ctypes
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def _die_with_parent():
    # Runs in the child before exec: SIGTERM it when the parent dies.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Proc:
    """A child process whose stdout and stderr go to log_path."""

    def __init__(self, name, args, log_path, env=None, cwd=None):
        self.name, self.args, self.log_path = name, list(args), log_path
        self.env, self.cwd = env, cwd
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent, env=self.env,
                                         cwd=self.cwd)
        finally:
            log.close()
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self, tail=None):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return ""
        return "".join(lines[-tail:] if tail else lines)

    def stop(self, timeout=10.0):
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    """Whether 127.0.0.1:port can be bound now (nothing listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers do: a port whose last connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    # A server listening on the wildcard address with SO_REUSEADDR may still let us bind:
    # a connection attempt tells.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def get(url, timeout=5.0, headers=None):
    """GET url -> (status, body text); status 0 when the connection failed."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def get_json(url, timeout=5.0):
    """GET url and parse JSON; None when it fails."""
    status, body = get(url, timeout)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def post_form(url, fields, timeout=5.0):
    """POST an application/x-www-form-urlencoded form -> (status, body text)."""
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def wait_for(cond, timeout, step=0.5):
    """Call cond() until it returns a true value (returned) or timeout seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


class Webhook:
    """An Alertmanager webhook receiver on 127.0.0.1: every POSTed JSON body is appended to
    .notifications as (monotonic time of arrival, parsed body)."""

    def __init__(self, port=0):
        self.notifications = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(n, 1 << 20))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {"unparsable": body.decode("utf-8", "replace")}
                with outer.lock:
                    outer.notifications.append((time.monotonic(), doc))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.notifications)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def prometheus_config(scrape_configs, rule_files, alertmanagers, *, scrape_interval="1s",
                      evaluation_interval="1s"):
    """A prometheus.yml (JSON, which is YAML)."""
    config = {
        "global": {"scrape_interval": scrape_interval,
                   "evaluation_interval": evaluation_interval},
        "rule_files": list(rule_files),
        "scrape_configs": list(scrape_configs),
    }
    if alertmanagers:
        config["alerting"] = {"alertmanagers": [
            {"static_configs": [{"targets": list(alertmanagers)}]}]}
    return json.dumps(config, indent=1) + "\n"


def alertmanager_config(webhook_url, *, group_wait="1s", group_interval="1s",
                        repeat_interval="1h"):
    """An alertmanager.yml: every alert to one webhook, grouped by alertname, service, slo."""
    return json.dumps({
        "route": {"receiver": "webhook", "group_by": ["alertname", "service", "slo"],
                  "group_wait": group_wait, "group_interval": group_interval,
                  "repeat_interval": repeat_interval},
        "receivers": [{"name": "webhook", "webhook_configs": [
            {"url": webhook_url, "send_resolved": True}]}],
    }, indent=1) + "\n"


def alertmanager_args(config, storage, port):
    return [ALERTMANAGER, f"--config.file={config}", f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]


def prometheus_args(config, tsdb, port, retention="3650d"):
    return [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
            f"--storage.tsdb.retention.time={retention}",
            f"--web.listen-address=127.0.0.1:{port}"]
