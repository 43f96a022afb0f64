#!/usr/bin/env python3
"""End-to-end test: workload -> Prometheus -> sloe serve -> Prometheus rules -> Alertmanager.

Everything runs on loopback with free ports, in a temporary directory:

  workload      docker/workload/workload.py, error share 0
  Prometheus    scrapes the workload (job checkout) and sloe (job sloe) every 1 s, evaluates
                the rules of `sloe generate alerts` every 1 s, alerts to Alertmanager
  Alertmanager  groups by alertname, service, slo (group_wait and group_interval 1 s) and
                posts to a webhook receiver in this test
  sloe serve    --evaluation-interval=1s over the SLO below

1. Once sloe has data, the workload fails half of its requests. The page alert
   (SLOErrorBudgetBurn, severity page) must reach Alertmanager (its API /api/v2/alerts and
   the webhook) with the labels service, slo, severity, the SLO's labels and alerting labels,
   and the annotations summary (with the burn rate), description and runbook_url; not
   earlier than its `for: 2m` after sloe first reported the page condition.
2. The workload is fixed (error share 0) and the alert must resolve: the webhook gets a
   resolved notification.

How long the resolution takes. The page condition is (burn over 1h and 5m > 14.4) or
(burn over 6h and 30m > 6), each burn the error ratio bad/total over that window divided by
0.001. At a constant request rate an incident of D seconds at 50 % errors keeps the 30m error
ratio at 0.5 * D / 1800 for 30 minutes, above 0.006 for any D above 22 s: the alert would
stay for half an hour. So the incident runs at a low rate (LOW_RATE requests/s) and the fix
raises the rate to HIGH_RATE (10,000 times more): the minute in which the fix lands already
holds enough good requests to bring every window's error ratio below its threshold (the 5m
one below 1.44 %, the 30m one below 0.6 %), and the next minute boundary sloe evaluates ends
the alert: about 30-90 s after the fix (a window counts whole minutes). With a constant
rate the 5m window alone would take 5 minutes and the 30m one 30. A shorter SLO window would
not help: it lowers the thresholds (they scale with the period) and slows the resolution.

The whole run takes about 4-5 minutes. Run from the repository root:
python3 tests/integration/test_e2e.py (SLOE_BIN selects the binary, default bin/sloe).
Prints progress lines and one line per check, ends with "N passed, N failed"; exits 1 on a
failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402
import stack  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOAD = os.path.join(ROOT, "docker", "workload", "workload.py")
LOW_RATE = 10          # requests/s while failing
HIGH_RATE = 100000     # requests/s after the fix
RUNBOOK = "https://runbooks.example.com/checkout/availability"

SLOS = """\
version: sloe/v1
services:
  - name: checkout
    labels: {team: payments, tier: "1"}
    slos:
      - name: availability
        description: Checkout requests that do not fail
        objective: 99.9
        window: 30d
        labels: {journey: purchase}
        sli:
          events:
            good_query: sum(rate(http_requests_total{job="checkout",code!~"5.."}[{{.window}}]))
            total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
        alerting:
          page:
            labels: {routing: pager}
          ticket: true
          labels: {owner: payments-oncall}
          annotations:
            runbook_url: %s
""" % RUNBOOK

EXPECTED_LABELS = {"alertname": "SLOErrorBudgetBurn", "severity": "page", "service": "checkout",
                   "slo": "availability", "team": "payments", "tier": "1",
                   "journey": "purchase", "owner": "payments-oncall", "routing": "pager"}
SUMMARY_RE = re.compile(r"^checkout/availability burns its error budget fast: "
                        r"(\d+(\.\d)?)x the sustainable rate over 1h \(alert above 14\.4x over "
                        r"1h and 5m, or 6x over 6h and 30m\)$")

T0 = time.monotonic()


def progress(msg):
    print(f"# [{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def is_page(labels):
    return labels.get("alertname") == "SLOErrorBudgetBurn" and labels.get("severity") == "page"


def check_alert(where, labels, annotations):
    missing = {k: v for k, v in EXPECTED_LABELS.items() if labels.get(k) != v}
    check(f"{where}: labels service, slo, severity, SLO labels and alerting labels",
          not missing, f"differ: {missing}; got {labels}")
    m = SUMMARY_RE.match(annotations.get("summary", ""))
    check(f"{where}: summary with the burn rate ({annotations.get('summary')!r})",
          m is not None and float(m.group(1)) > 14.4, repr(annotations.get("summary")))
    desc = annotations.get("description", "")
    check(f"{where}: description",
          desc.startswith("The page multiwindow multi-burn-rate condition holds for "
                          "checkout/availability (objective 99.9% over 30d)"), repr(desc))
    check(f"{where}: runbook_url", annotations.get("runbook_url") == RUNBOOK,
          repr(annotations.get("runbook_url")))


def sloe_slo(port):
    doc = stack.get_json(f"http://127.0.0.1:{port}/api/v1/slos")
    if not doc:
        return None
    slos = doc.get("slos", doc) if isinstance(doc, dict) else doc
    for s in slos:
        if s.get("service") == "checkout" and s.get("slo") == "availability":
            return s
    return None


def page_condition(slo):
    """Whether sloe reports the page condition in its JSON (alerts.page or similar)."""
    if not slo:
        return False
    alerts = slo.get("alerts") or slo.get("alert") or {}
    if isinstance(alerts, dict):
        return bool(alerts.get("page"))
    return "page" in alerts


def am_alerts(am_port):
    doc = stack.get_json(f"http://127.0.0.1:{am_port}/api/v2/alerts?active=true"
                         "&silenced=false&inhibited=false")
    return doc or []


def webhook_alerts(hook, status=None):
    """(arrival time, notification status, alert) for every alert in every notification."""
    out = []
    for t, doc in hook.snapshot():
        for a in doc.get("alerts", []):
            if status is None or a.get("status") == status:
                out.append((t, doc.get("status"), a))
    return out


def main():
    if not os.access(SLOE, os.X_OK):
        print(f"missing binary {SLOE}: run make bin/sloe\n0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="sloe-e2e-")
    procs = []
    hook = stack.Webhook()
    try:
        return run(tmp, procs, hook)
    finally:
        for p in reversed(procs):
            p.stop()
        hook.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp, procs, hook):
    ports = {n: stack.free_port() for n in ("workload", "sloe", "prometheus", "alertmanager")}
    slos = os.path.join(tmp, "slos.yaml")
    with open(slos, "w") as f:
        f.write(SLOS)
    rules = os.path.join(tmp, "sloe-alerts.yml")
    with open(rules, "w") as f:
        p = subprocess.run([SLOE, "generate", "alerts", f"--rules={slos}", "--sloe.job=sloe"],
                           stdout=f, stderr=subprocess.PIPE, text=True)
    if not check("sloe generate alerts for the e2e SLO", p.returncode == 0, p.stderr):
        return finish()
    am_cfg = os.path.join(tmp, "alertmanager.yml")
    with open(am_cfg, "w") as f:
        f.write(stack.alertmanager_config(hook.url))
    prom_cfg = os.path.join(tmp, "prometheus.yml")
    with open(prom_cfg, "w") as f:
        f.write(stack.prometheus_config(
            [{"job_name": "checkout", "static_configs": [
                {"targets": [f"127.0.0.1:{ports['workload']}"]}]},
             {"job_name": "sloe", "static_configs": [
                 {"targets": [f"127.0.0.1:{ports['sloe']}"]}]}],
            [rules], [f"127.0.0.1:{ports['alertmanager']}"]))

    def spawn(name, args):
        p = stack.Proc(name, args, os.path.join(tmp, name + ".log")).start()
        procs.append(p)
        return p

    wl = spawn("workload", [sys.executable, WORKLOAD,
                            f"--listen=127.0.0.1:{ports['workload']}",
                            f"--rate={LOW_RATE}", "--error-share=0"])
    am = spawn("alertmanager", stack.alertmanager_args(am_cfg, os.path.join(tmp, "am"),
                                                       ports["alertmanager"]))
    prom = spawn("prometheus", stack.prometheus_args(prom_cfg, os.path.join(tmp, "tsdb"),
                                                     ports["prometheus"]))
    sloe = spawn("sloe", [SLOE, "serve", f"--rules={slos}",
                          f"--prometheus.url=http://127.0.0.1:{ports['prometheus']}",
                          "--evaluation-interval=1s",
                          f"--web.listen-address=127.0.0.1:{ports['sloe']}"])
    up = {}
    for name, path in (("workload", "/-/healthy"), ("alertmanager", "/-/ready"),
                       ("prometheus", "/-/ready"), ("sloe", "/-/healthy")):
        up[name] = stack.wait_for(
            lambda: stack.get(f"http://127.0.0.1:{ports[name]}{path}")[0] == 200, 60, 0.2)
        check(f"{name} answers {path} on port {ports[name]}", up[name],
              {"workload": wl, "alertmanager": am, "prometheus": prom,
               "sloe": sloe}[name].log(tail=10))
    if not all(up.values()):
        return finish()
    progress("all four processes are up")

    # sloe has data once Prometheus holds a minute of the workload's samples.
    slo = stack.wait_for(lambda: (lambda s: s if s and s.get("data_ok") else None)(
        sloe_slo(ports["sloe"])), 150, 1)
    check("sloe evaluates the SLO with data (data_ok)", slo is not None,
          json.dumps(sloe_slo(ports["sloe"]))[:600])
    if slo is None:
        return finish(sloe)
    progress(f"sloe has data: {json.dumps(slo)[:300]}")
    prom_url = f"http://127.0.0.1:{ports['prometheus']}"
    scraped = stack.wait_for(lambda: (stack.get_json(
        prom_url + "/api/v1/query?query=slo_data_ok%7Bjob%3D%22sloe%22%7D") or {})
        .get("data", {}).get("result"), 30, 1)
    check("Prometheus scrapes sloe's metrics (slo_data_ok{job=\"sloe\"})", scraped)

    # 1. The incident.
    st, body = stack.post_form(f"http://127.0.0.1:{ports['workload']}/control",
                               {"error_share": "0.5"})
    check("the workload takes error_share=0.5", st == 200 and '"error_share": 0.5' in body, body)
    t_err = time.monotonic()
    progress(f"error share 0.5 at {LOW_RATE} req/s; waiting for the page alert (for: 2m)")
    t_cond = None
    got = None
    deadline = time.monotonic() + 330
    last_report = 0
    while time.monotonic() < deadline:
        if t_cond is None and page_condition(sloe_slo(ports["sloe"])):
            t_cond = time.monotonic()
            progress("sloe reports the page condition (slo_alert{severity=\"page\"} 1)")
        pages = [a for _, _, a in webhook_alerts(hook, "firing") if is_page(a["labels"])]
        if pages:
            got = time.monotonic()
            break
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            pend = stack.get_json(prom_url + "/api/v1/alerts") or {}
            states = sorted({(a["labels"].get("alertname"), a["labels"].get("severity"),
                              a.get("state")) for a in pend.get("data", {}).get("alerts", [])})
            progress(f"waiting; Prometheus alerts: {states}")
        time.sleep(0.5)
    check("the page alert reaches the webhook", got is not None,
          f"notifications: {json.dumps(hook.snapshot())[:800]}")
    if got is None:
        return finish(sloe, prom)
    progress(f"page alert at the webhook {got - t_err:.0f}s after the errors began")
    check("sloe reported the page condition before the alert arrived", t_cond is not None)
    if t_cond is not None:
        check(f"the alert arrived no earlier than for: 2m after sloe's page condition "
              f"({got - t_cond:.0f}s)", got - t_cond >= 118, f"{got - t_cond:.1f}s")
    firing = [a for _, _, a in webhook_alerts(hook, "firing") if is_page(a["labels"])][0]
    check_alert("webhook", firing["labels"], firing["annotations"])
    note = [d for _, d in hook.snapshot() if any(is_page(a["labels"]) for a in d["alerts"])][0]
    check("webhook: the group is keyed by alertname, service, slo",
          note.get("groupLabels") == {"alertname": "SLOErrorBudgetBurn",
                                      "service": "checkout", "slo": "availability"},
          repr(note.get("groupLabels")))
    api = [a for a in am_alerts(ports["alertmanager"]) if is_page(a.get("labels", {}))]
    check("Alertmanager's /api/v2/alerts lists the page alert as active",
          len(api) == 1 and api[0].get("status", {}).get("state") == "active",
          json.dumps(api)[:600])
    if api:
        check_alert("Alertmanager API", api[0]["labels"], api[0]["annotations"])
        print("# the page alert as Alertmanager holds it:")
        print("#   labels: " + json.dumps(api[0]["labels"], sort_keys=True))
        print("#   annotations: " + json.dumps(api[0]["annotations"], sort_keys=True))

    # 2. The fix.
    st, body = stack.post_form(f"http://127.0.0.1:{ports['workload']}/control",
                               {"error_share": "0", "rate": str(HIGH_RATE)})
    check("the workload takes error_share=0 and a higher rate", st == 200, body)
    t_fix = time.monotonic()
    progress(f"error share 0 at {HIGH_RATE} req/s; waiting for the resolution")
    res = stack.wait_for(lambda: [a for _, _, a in webhook_alerts(hook, "resolved")
                                  if is_page(a["labels"])], 300, 0.5)
    check("the webhook gets a resolved notification for the page alert", res,
          f"sloe: {json.dumps(sloe_slo(ports['sloe']))[:600]}")
    if res:
        progress(f"resolved at the webhook {time.monotonic() - t_fix:.0f}s after the fix")
        check("the resolved notification carries the same labels",
              res[0]["labels"] == firing["labels"], f"{res[0]['labels']} vs {firing['labels']}")
        check("the resolved notification has an endsAt",
              not res[0].get("endsAt", "").startswith("0001"), res[0].get("endsAt"))
        gone = stack.wait_for(lambda: not [a for a in am_alerts(ports["alertmanager"])
                                           if is_page(a.get("labels", {}))], 30, 0.5)
        check("Alertmanager's /api/v2/alerts no longer lists the page alert", gone)

    # What else reached Alertmanager (informational; SloeDown must not).
    names = sorted({(a["labels"].get("alertname"), a["labels"].get("severity"), s)
                    for _, s, a in webhook_alerts(hook)})
    print(f"# every alert the webhook saw (alertname, severity, status): {names}")
    check("SloeDown never fired", not any(n[0] == "SloeDown" for n in names), repr(names))
    check("no process died", all(p.alive() for p in procs),
          ", ".join(p.name for p in procs if not p.alive()))
    rc = sloe.stop(timeout=30)
    check("sloe serve exits 0 on SIGTERM", rc == 0, f"rc {rc}: {sloe.log(tail=10)}")
    san = re.findall(r".*(?:Sanitizer|runtime error:).*", sloe.log())
    check("no sanitizer report in sloe's log", not san, "\n".join(san[:5]))
    return finish()


def finish(*dump):
    for p in dump:
        print(f"# last lines of {p.name}'s log:\n" + p.log(tail=15))
    print(f"# total {time.monotonic() - T0:.0f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
