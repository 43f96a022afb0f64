#!/usr/bin/env python3
"""Checks sloe's Grafana dashboards (dashboards/*.json) without Grafana.

1. Static: every dashboard is valid JSON (also through `python3 -m json.tool`), has a uid,
   a title and a schemaVersion near 38; a `datasource` variable of type datasource
   (prometheus) that every panel, target and query variable uses as `${datasource}` (no
   hard-coded datasource uid anywhere); unique panel ids; every panel but rows has targets
   with an expr; stat/table targets are instant and time series targets range; every
   variable used ($x, ${x}, ${x:fmt}, [[x]]) is defined; ratio panels show percentunit and
   seconds panels s.
2. Live: the promlab checkout scenario (35 days ending at the current minute) is backfilled
   into Prometheus A; `sloe serve` evaluates a rule file written here (services with a
   `team` label, scoring, sla_credits, depends_on, warning/minimum lines, group_by); a
   Prometheus B scrapes sloe every second. Once B has a few samples, every variable query
   (label_values(...) becomes an instant query whose series must carry the label) and
   every expression of every panel is run against B with the variables substituted the way
   Grafana's Prometheus datasource does it, for one value, two values (a regex `(a|b)`)
   and All (`.*`): query_range over the last 2 minutes for time series panels, instant
   queries for the others. A check fails when the query errors or returns no series.

Run from the repository root: python3 tests/integration/test_dashboards.py
The binary comes from SLOE_BIN (default bin/sloe). Prints one line per check and ends with
"N passed, N failed"; exits 1 when a check fails. Python standard library only.
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
import traceback
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # keep the tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checks  # noqa: E402
from checks import check, note  # noqa: E402
import promlab as pl  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
DASH_DIR = os.path.join(HERE, "..", "..", "dashboards")
DAYS = 35
RANGE_SECONDS = 120
RANGE_STEP = 5
DS_REF = {"type": "prometheus", "uid": "${datasource}"}
GRAFANA_BUILTIN_DS = {"type": "grafana", "uid": "-- Grafana --"}
RANGE_PANELS = {"timeseries", "state-timeline", "status-history", "heatmap", "barchart"}
INSTANT_PANELS = {"stat", "table", "bargauge", "gauge", "piechart"}
# what a real value of a variable should preferably be (the rule file below has data for
# every panel there); otherwise the first one
PREFERRED = {"team": ["payments"], "service": ["checkout"], "slo": ["availability"]}
BUILTIN_VARS = {"__interval": "15s", "__rate_interval": "1m", "__range": "2m",
                "__range_s": "120", "__range_ms": "120000", "__interval_ms": "15000"}
VAR_RE = re.compile(r"\$(\w+)|\$\{([\w.]+)(?::([\w]+))?\}|\[\[(\w+)(?::(\w+))?\]\]")
SAN_RE = re.compile(r"Sanitizer|runtime error:")

expressions = set()  # distinct (dashboard, kind, expression) run against Prometheus B


# --------------------------------------------------------------------------------------
# The rule file: every panel has data for checkout/availability
# --------------------------------------------------------------------------------------

def q_inc(sel, by=""):
    by = f" by ({by})" if by else ""
    return json.dumps(f"sum{by}(increase(http_requests_total{sel}[{{{{.window}}}}]))")


RULES = f"""version: sloe/v1
services:
  - name: checkout
    labels: {{team: payments}}
    scorecard: {{excellent: 95, pass: 80}}
    slos:
      - name: availability
        description: Checkout requests that do not fail
        objective: 99.9
        warning: 99.8
        minimum: 99.5
        window: 30d
        sli:
          events:
            good_query: {q_inc('{job="checkout",code!~"5.."}')}
            total_query: {q_inc('{job="checkout"}')}
        depends_on: [payments-db/availability]
        alerting: {{page: true, ticket: true}}
        scoring: {{weight: 60, deduct: 5, per: 0.1}}
        sla_credits: [{{below: 99.9, credit: 10}}, {{below: 99.0, credit: 25}}]
      - name: by-route
        description: each route on its own
        objective: 99.95
        warning: 99.9
        window: 30d
        group_by: [route]
        sli:
          events:
            bad_query: {q_inc('{job="checkout",code=~"5.."}', "route")}
            total_query: {q_inc('{job="checkout"}', "route")}
        alerting: {{page: true, ticket: true}}
        scoring: {{weight: 20, deduct: 10, per: 0.1}}
      - name: latency-300ms
        description: requests served within 300 ms
        objective: 95
        window: 7d
        sli:
          latency: {{metric: http_request_duration_seconds, selector: '{{job="checkout"}}', threshold: 0.3}}
        scoring: {{weight: 20}}
        sla_credits: [{{below: 95, credit: 5}}]
  - name: payments-db
    labels: {{team: payments}}
    scorecard: {{excellent: 99, pass: 90}}
    slos:
      - name: availability
        description: what the checkout database answers without error
        objective: 99.95
        minimum: 99.9
        window: 30d
        sli:
          events:
            bad_query: {q_inc('{job="checkout",code=~"5.."}')}
            total_query: {q_inc('{job="checkout"}')}
  - name: blackbox
    labels: {{team: sre}}
    slos:
      - name: uptime
        description: the probe succeeds
        objective: 99.9
        window: 30d
        sli:
          uptime: {{query: 'probe_success{{job="blackbox"}}'}}
"""


# --------------------------------------------------------------------------------------
# 1. Static checks
# --------------------------------------------------------------------------------------

def strict_load(path):
    """json.load refusing duplicate keys and NaN/Infinity."""
    def pairs(items):
        keys = [k for k, _ in items]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"duplicate keys {dup}")
        return dict(items)

    def constant(c):
        raise ValueError(f"non-standard constant {c}")

    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=pairs, parse_constant=constant)


def all_panels(dash):
    """Every panel, rows' nested panels (collapsed rows) included."""
    out = []
    for p in dash.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []) or [])
    return out


def walk(node, path=""):
    """Yields (path, key, value) for every mapping entry and every string in a list."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, str):
                yield path, i, v
            yield from walk(v, f"{path}[{i}]")


def variables(dash):
    return (dash.get("templating") or {}).get("list") or []


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        return q.get("query", "")
    return q or ""


def expected_unit(expr):
    """percentunit for an expression over *_ratio metrics only, s for *_seconds durations;
    None when the expression does not say (counts, timestamps, mixed)."""
    if re.search(r"\b(count|sum)\s*\(", expr) or "time()" in expr:
        return None
    names = set(re.findall(r"\b(slo_[a-z_]+|sloe_[a-z_]+)\b", expr))
    if not names:
        return None
    if all(n.endswith("_ratio") for n in names):
        return "percentunit"
    if all(n.endswith("_seconds") and not n.endswith("_timestamp_seconds") for n in names):
        return "s"
    return None


def overrides_for(panel, matcher_id, name):
    out = {}
    for o in (panel.get("fieldConfig") or {}).get("overrides") or []:
        m = o.get("matcher") or {}
        if m.get("id") == matcher_id and m.get("options") == name:
            for p in o.get("properties") or []:
                out[p.get("id")] = p.get("value")
    return out


def table_renames(panel):
    ren = {}
    for t in panel.get("transformations") or []:
        if t.get("id") == "organize":
            ren.update((t.get("options") or {}).get("renameByName") or {})
    return ren


def static_checks(name, path, dash, uids):
    p = subprocess.run([sys.executable, "-m", "json.tool", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    check(f"{name}: python3 -m json.tool accepts it", p.returncode == 0, p.stderr.strip())
    check(f"{name}: uid {dash.get('uid')!r} and title {dash.get('title')!r} set, uid unique",
          isinstance(dash.get("uid"), str) and dash["uid"] and len(dash["uid"]) <= 40
          and isinstance(dash.get("title"), str) and dash["title"].strip()
          and dash["uid"] not in uids)
    uids.add(dash.get("uid"))
    sv = dash.get("schemaVersion")
    check(f"{name}: schemaVersion {sv} (36..39)", isinstance(sv, int) and 36 <= sv <= 39)
    check(f"{name}: no dashboard id (importable anywhere)", dash.get("id") is None)

    vs = variables(dash)
    byname = {v.get("name"): v for v in vs}
    check(f"{name}: variable names unique", len(byname) == len(vs),
          repr([v.get("name") for v in vs]))
    dsv = byname.get("datasource") or {}
    check(f"{name}: variable datasource is of type datasource, query prometheus",
          dsv.get("type") == "datasource" and dsv.get("query") == "prometheus", repr(dsv))
    sv_ = byname.get("service") or {}
    check(f"{name}: variable service from label_values(slo_info..., service)",
          sv_.get("type") == "query"
          and re.fullmatch(r"label_values\(slo_info(\{[^}]*\})?,\s*service\)",
                           var_query(sv_) or "") is not None, var_query(sv_))
    slov = byname.get("slo") or {}
    check(f"{name}: variable slo from label_values(slo_info{{service=~\"$service\"}}, slo)",
          slov.get("type") == "query" and var_query(slov).replace(" ", "") ==
          'label_values(slo_info{service=~"$service"},slo)', var_query(slov))
    bad_vars = [v.get("name") for v in vs if v.get("type") == "query"
                and v.get("datasource") != DS_REF]
    check(f"{name}: every query variable uses ${{datasource}}", not bad_vars, repr(bad_vars))
    no_all = [v.get("name") for v in vs if v.get("includeAll") and "allValue" in v
              and v.get("allValue") != ".*"]
    check(f"{name}: variables with All use the regex .* as All value", not no_all,
          repr(no_all))

    # datasource references anywhere: ${datasource} or Grafana's built-in annotations
    bad_ds = []
    for at, k, v in walk(dash):
        if k != "datasource":
            continue
        if isinstance(v, dict):
            if v not in (DS_REF, GRAFANA_BUILTIN_DS):
                bad_ds.append(f"{at}: {v}")
        elif v not in ("${datasource}", "$datasource"):
            bad_ds.append(f"{at}: {v!r}")
    check(f"{name}: every datasource reference is ${{datasource}} (no hard-coded uid)",
          not bad_ds, "; ".join(bad_ds[:5]))

    panels = all_panels(dash)
    ids = [p.get("id") for p in panels]
    dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    check(f"{name}: {len(panels)} panels, unique integer ids",
          not dup and all(isinstance(i, int) for i in ids), f"duplicates {dup}")
    titles = [p.get("title") for p in panels if p.get("type") != "row"]
    dup = sorted({t for t in titles if titles.count(t) > 1}, key=str)
    check(f"{name}: panel titles unique", not dup, f"duplicates {dup}")
    problems = []
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title") or f"id {p.get('id')}"
        tg = p.get("targets") or []
        if not p.get("title"):
            problems.append(f"id {p.get('id')}: no title")
        if not tg:
            problems.append(f"{title}: no targets")
        if p.get("datasource") != DS_REF:
            problems.append(f"{title}: panel datasource {p.get('datasource')}")
        refs = [t.get("refId") for t in tg]
        if len(set(refs)) != len(refs):
            problems.append(f"{title}: duplicate refIds {refs}")
        for t in tg:
            if not (t.get("expr") or "").strip():
                problems.append(f"{title}/{t.get('refId')}: no expr")
            if t.get("datasource") != DS_REF:
                problems.append(f"{title}/{t.get('refId')}: datasource {t.get('datasource')}")
            if p.get("type") in INSTANT_PANELS and not t.get("instant"):
                problems.append(f"{title}/{t.get('refId')}: not instant in a {p['type']}")
            if p.get("type") in RANGE_PANELS and (t.get("instant") or not t.get("range")):
                problems.append(f"{title}/{t.get('refId')}: not range in a {p['type']}")
            if p.get("type") == "table" and t.get("format") != "table":
                problems.append(f"{title}/{t.get('refId')}: table target without "
                                "format table")
        if p.get("type") not in RANGE_PANELS | INSTANT_PANELS:
            problems.append(f"{title}: panel type {p.get('type')} not known to this test")
    check(f"{name}: every panel has a title and targets with an expr, ${{datasource}}, "
          "instant for stat/table and range for time series", not problems,
          "; ".join(problems[:6]))

    defined = set(byname)
    used = set()
    for at, k, v in walk(dash):
        if isinstance(v, str):
            for m in VAR_RE.finditer(v):
                used.add(m.group(1) or m.group(2) or m.group(4))
    undefined = sorted(u for u in used if u not in defined and not u.startswith("__"))
    check(f"{name}: every variable used is defined ({', '.join(sorted(used & defined))})",
          not undefined, f"undefined {undefined}")

    unit_problems = []
    for p in panels:
        if p.get("type") == "row":
            continue
        title = p.get("title")
        defaults = (p.get("fieldConfig") or {}).get("defaults") or {}
        if p.get("type") == "table":
            ren = table_renames(p)
            for t in p.get("targets") or []:
                want = expected_unit(t.get("expr", ""))
                col = ren.get(f"Value #{t.get('refId')}")
                if want and col:
                    got = overrides_for(p, "byName", col).get("unit", defaults.get("unit"))
                    if got != want:
                        unit_problems.append(f"{title}/{col}: unit {got}, want {want}")
            continue
        if not defaults.get("unit"):
            unit_problems.append(f"{title}: no unit")
        for t in p.get("targets") or []:
            want = expected_unit(t.get("expr", ""))
            got = overrides_for(p, "byFrameRefID", t.get("refId")).get(
                "unit", defaults.get("unit"))
            if want and got != want:
                unit_problems.append(f"{title}/{t.get('refId')}: unit {got}, want {want}")
    check(f"{name}: units set (percentunit for ratios, s for durations)", not unit_problems,
          "; ".join(unit_problems[:6]))


# --------------------------------------------------------------------------------------
# 2. Variables as Grafana's Prometheus datasource interpolates them
# --------------------------------------------------------------------------------------

def regular_escape(value):
    """prometheusRegularEscape: a single-value variable without All."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def special_regex_escape(value):
    """prometheusSpecialRegexEscape: values of multi-value or All variables."""
    value = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value)


def interpolate(var, selection, options):
    """The text Grafana puts for `var` when `selection` (a list of values, or "All") is
    chosen among `options`."""
    if selection == "All":
        if var.get("allValue") is not None:
            return var["allValue"]
        selection = list(options)
    if not var.get("multi") and not var.get("includeAll"):
        return regular_escape(selection[0])
    esc = [special_regex_escape(v) for v in selection]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def substitute(text, values):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(4)
        if name in values:
            return values[name]
        if name in BUILTIN_VARS:
            return BUILTIN_VARS[name]
        raise KeyError(f"variable {name} has no value")
    return VAR_RE.sub(repl, text)


LV_RE = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$", re.S)


def choose(name, options, how):
    pref = [o for o in PREFERRED.get(name, []) if o in options]
    first = pref[0] if pref else options[0]
    if how == "two":
        others = [o for o in options if o != first]
        return [first] + others[:1]
    return [first]


def resolve_variables(prom, dname, dash, mode, now):
    """Runs the variable queries in order under `mode` ("one", "two", "All"); returns
    {name: interpolated text} or None when a variable has no options."""
    values = {}
    for v in variables(dash):
        name = v.get("name")
        if v.get("type") == "datasource":
            values[name] = "Prometheus"
            continue
        if v.get("type") != "query":
            check(f"{dname} [{mode}] variable {name}: type {v.get('type')} handled", False)
            return None
        q = var_query(v)
        m = LV_RE.match(q)
        if not m:
            check(f"{dname} [{mode}] variable {name}: {q} is label_values(metric, label)",
                  False)
            return None
        expr, label = substitute(m.group(1), values), m.group(2)
        key = (dname, "variable", expr, label)
        try:
            res = prom.query(expr, time=now)["result"]
            opts = sorted({r["metric"][label] for r in res if r["metric"].get(label)})
            err = ""
        except pl.PrometheusError as e:
            res, opts, err = [], [], str(e)
        if key not in expressions:
            expressions.add(key)
            check(f"{dname} [{mode}] variable {name}: label_values({expr}, {label}) -> "
                  f"{len(res)} series, values {opts}", not err and res and opts,
                  err or "no series or no such label")
        if not opts:
            return None
        how = "two" if mode == "two" and v.get("multi") else "one"
        sel = "All" if mode == "All" and v.get("includeAll") else choose(name, opts, how)
        values[name] = interpolate(v, sel, opts)
    return values


def run_target(prom, dname, panel, t, values, mode, now, results):
    kind = "range" if panel.get("type") in RANGE_PANELS else "instant"
    try:
        expr = substitute(t.get("expr", ""), values)
    except KeyError as e:
        check(f"{dname} [{mode}] {panel.get('title')}/{t.get('refId')}: variables", False,
              str(e))
        return
    key = (dname, kind, expr)
    results[(panel.get("title"), t.get("refId"), mode)] = None
    try:
        if kind == "range":
            data = prom.query_range(expr, now - RANGE_SECONDS, now, RANGE_STEP)
        else:
            data = prom.query(expr, time=now)
        res, err = data["result"], ""
    except pl.PrometheusError as e:
        res, err = [], str(e)
    results[(panel.get("title"), t.get("refId"), mode)] = res
    if key in expressions:
        return
    expressions.add(key)
    ok = not err and isinstance(res, list) and len(res) > 0
    detail = err or "no series"
    if ok and panel.get("type") == "table":
        named = [r["metric"].get("__name__") for r in res if "__name__" in r["metric"]]
        if named:
            ok, detail = False, f"series keep __name__ {named[:2]}: the merge would not join"
    check(f"{dname} [{mode}] {panel.get('title')!r} {t.get('refId')} {kind} "
          f"({len(res)} series): {expr}", ok, detail)


def values_of(res):
    out = []
    for r in res or []:
        if "value" in r:
            out.append(float(r["value"][1]))
        elif r.get("values"):
            out.append(float(r["values"][-1][1]))
    return out


def live_checks(prom, dashes, now):
    all_results = {}
    for dname, dash in dashes:
        results = all_results.setdefault(dname, {})
        done_modes = set()
        for mode in ("one", "two", "All"):
            values = resolve_variables(prom, dname, dash, mode, now)
            if values is None:
                check(f"{dname} [{mode}]: every variable has a value", False)
                continue
            sig = tuple(sorted(values.items()))
            note(f"{dname} [{mode}]: " + ", ".join(f"${k}={v}" for k, v in values.items()
                                                   if k != "datasource"))
            if sig in done_modes:
                continue  # the same values as a previous mode (no multi/All variables)
            done_modes.add(sig)
            for p in all_panels(dash):
                if p.get("type") == "row":
                    continue
                for t in p.get("targets") or []:
                    run_target(prom, dname, p, t, values, mode, now, results)
    return all_results


def detail_sweep(prom, dashes, now):
    """The detail dashboard for every SLO instance: each expression has data, except
    the series the contract leaves out (events for time-based SLIs, the exhaustion
    forecast when not burning, alert tiers the SLO does not enable)."""
    det = dict(dashes).get("slo-detail")
    if det is None:
        return
    info = prom.query("slo_info", time=now)["result"]
    slos = sorted({(r["metric"]["service"], r["metric"]["slo"], r["metric"].get("sli_kind"))
                   for r in info})
    for service, slo, kind in slos:
        values = {"datasource": "Prometheus", "service": regular_escape(service),
                  "slo": regular_escape(slo)}
        sel = f'service="{service}",slo="{slo}"'
        burning = prom.query(f'slo_burn_rate{{{sel},window="1h"}} > 0', time=now)["result"]
        empty, allowed, n = [], [], 0
        for p in all_panels(det):
            if p.get("type") == "row":
                continue
            kind_q = "range" if p.get("type") in RANGE_PANELS else "instant"
            for t in p.get("targets") or []:
                expr = substitute(t["expr"], values)
                n += 1
                try:
                    if kind_q == "range":
                        res = prom.query_range(expr, now - RANGE_SECONDS, now,
                                               RANGE_STEP)["result"]
                    else:
                        res = prom.query(expr, time=now)["result"]
                except pl.PrometheusError as e:
                    empty.append(f"{p['title']}/{t['refId']}: {e}")
                    continue
                if res:
                    continue
                what = f"{p['title']}/{t['refId']}"
                if "slo_period_events" in expr and kind not in ("events", "latency"):
                    allowed.append(what)
                elif "slo_error_budget_exhaustion_seconds" in expr and not burning:
                    allowed.append(what)
                else:
                    empty.append(what)
        check(f"detail {service}/{slo} ({kind}): {n} expressions, "
              f"{n - len(empty) - len(allowed)} with data"
              + (f", empty as the contract says: {', '.join(allowed)}" if allowed else ""),
              not empty, f"empty: {empty}")


def semantic_checks(prom, dashes, results, now):
    """A few numbers the panels must show for the rule file above."""
    ov = results.get("slo-overview", {})
    n = values_of(ov.get(("SLOs", "A", "All")))
    states = [values_of(ov.get((s, "A", "All"))) for s in ("Met", "Degraded", "Warning",
                                                              "Breach")]
    check(f"overview [All]: 6 SLO instances, the four state counts add up to it "
          f"({states})", n == [6] and sum(sum(s) for s in states) == 6, f"SLOs {n}")
    det = dict(dashes).get("slo-detail")
    if det is None:
        return
    burn = [p for p in all_panels(det) if p.get("title") == "Burn rate: page tier"]
    if not burn:
        check("detail: a 'Burn rate: page tier' panel", False)
        return
    thr = {t["refId"]: t["expr"] for t in burn[0]["targets"]}
    for slo, window_days in (("availability", 30), ("latency-300ms", 7)):
        vals = {"service": "checkout", "slo": slo}
        got = {}
        for ref in ("B", "C"):
            try:
                got[ref] = values_of(prom.query(substitute(thr[ref], vals), time=now)
                                     ["result"])
            except (KeyError, pl.PrometheusError) as e:
                got[ref] = str(e)
        want = {"B": 14.4 * window_days / 30, "C": 6 * window_days / 30}
        check(f"detail checkout/{slo} ({window_days}d): page thresholds drawn at "
              f"{want['B']:.2f} and {want['C']:.2f}",
              all(isinstance(got[r], list) and len(got[r]) == 1
                  and abs(got[r][0] - want[r]) < 1e-9 for r in want), repr(got))
    sc = results.get("slo-scorecard", {})
    grades = sc.get(("Grades", "A", "All")) or []
    check(f"scorecard [All]: one grade per service ({len(grades)} rows)",
          len(grades) == 3 and all(r["metric"].get("grade") in ("excellent", "pass", "fail")
                                   for r in grades), repr(grades)[:300])


# --------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------

def http_status(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def start_sloe(tmp, rules, prom_url):
    err_path = os.path.join(tmp, "sloe.stderr")
    for attempt in range(5):
        port = pl.free_port()
        with open(err_path, "ab") as err:
            proc = subprocess.Popen([SLOE, "serve", f"--rules={rules}",
                                     f"--prometheus.url={prom_url}",
                                     "--evaluation-interval=1h",
                                     f"--web.listen-address=127.0.0.1:{port}"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if http_status(f"http://127.0.0.1:{port}/-/ready") == 200:
                return proc, port, err_path
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise RuntimeError("sloe serve not ready after 90 s")
        with open(err_path, errors="replace") as f:
            text = f.read()
        if "cannot listen" not in text or attempt == 4:
            raise RuntimeError(f"sloe serve exited with {proc.returncode}: {text[-1500:]}")
    raise RuntimeError("sloe serve did not start")


def run(tmp):
    # ---- static ----
    files = sorted(f for f in os.listdir(DASH_DIR) if f.endswith(".json"))
    check(f"dashboards: {len(files)} files ({', '.join(files)})",
          {"slo-overview.json", "slo-detail.json", "slo-scorecard.json"} <= set(files))
    dashes, uids = [], set()
    for f in files:
        path = os.path.join(DASH_DIR, f)
        name = f[:-5]
        try:
            dash = strict_load(path)
            err = ""
        except ValueError as e:
            dash, err = None, str(e)
        if not check(f"{name}: valid JSON (no duplicate keys, no NaN)", dash is not None
                     and isinstance(dash, dict), err):
            continue
        static_checks(name, path, dash, uids)
        dashes.append((name, dash))
    for f in ("dashboards.yaml", "datasource.yaml"):
        path = os.path.join(DASH_DIR, "provisioning", f)
        text = open(path).read() if os.path.exists(path) else ""
        want = ("/var/lib/grafana/dashboards/sloe" if f == "dashboards.yaml"
                else "http://prometheus:9090")
        check(f"provisioning/{f}: present, apiVersion 1, mentions {want}",
              "apiVersion: 1" in text and want in text)

    # ---- live ----
    t0 = time.monotonic()
    now = int(time.time())
    end = now - now % 60
    om, tsdb = os.path.join(tmp, "scenario.om"), os.path.join(tmp, "tsdb")
    pl.checkout_scenario(om, end, days=DAYS)
    pl.backfill(om, tsdb)
    os.remove(om)
    note(f"scenario ({DAYS} days to {end}) generated and backfilled in "
         f"{time.monotonic() - t0:.1f}s")
    prom_a = pl.Prometheus(tsdb)
    prom_a.start()
    rules = os.path.join(tmp, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    p = subprocess.run([SLOE, "check", rules], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check("set-up: sloe check accepts the rule file", p.returncode == 0, p.stdout.strip())
    proc = None
    prom_b = None
    try:
        proc, port, err_path = start_sloe(tmp, rules, prom_a.url)
        note(f"sloe serve ready on port {port} at {time.monotonic() - t0:.1f}s")
        prom_b = pl.Prometheus(scrape_configs=[{
            "job_name": "sloe", "scrape_interval": "1s", "scrape_timeout": "1s",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}])
        prom_b.start()
        deadline = time.monotonic() + 60
        have = None
        while time.monotonic() < deadline:
            try:
                have = prom_b.value('min(count_over_time(slo_info{service="checkout"}[2m]))')
            except pl.PrometheusError:
                have = None
            if have is not None and have >= 4:
                break
            time.sleep(0.5)
        check(f"set-up: Prometheus B has scraped sloe ({have} samples per slo_info series)",
              have is not None and have >= 4)
        note(f"B ready at {time.monotonic() - t0:.1f}s")
        ok = prom_b.value('min(slo_data_ok)', time.time())
        check("set-up: every SLO has data (slo_data_ok 1)", ok == 1, f"min {ok}")
        qnow = time.time()
        results = live_checks(prom_b, dashes, qnow)
        semantic_checks(prom_b, dashes, results, qnow)
        detail_sweep(prom_b, dashes, qnow)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            check("sloe serve exits 0 on SIGTERM", rc == 0, f"rc {rc}")
            with open(err_path, errors="replace") as f:
                text = f.read()
            m = SAN_RE.search(text)
            check("no sanitizer report on sloe's stderr", not m,
                  text[max(0, m.start() - 200):][:1500] if m else "")
        for p in (prom_b, prom_a):
            if p is not None:
                p.close()


def main():
    pl.handle_sigterm()
    t_all = time.monotonic()
    if not os.access(SLOE, os.X_OK):
        print(f"missing binary {SLOE}: run make bin/sloe")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="sloe-dash-test-")
    try:
        run(tmp)
    except Exception as e:  # noqa: BLE001 - a crash of the set-up or a check is a failure
        check("the run completes", False, "".join(
            traceback.format_exception(type(e), e, e.__traceback__))[-2000:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    note(f"{len([k for k in expressions if k[1] != 'variable'])} distinct panel expressions "
         f"and {len([k for k in expressions if k[1] == 'variable'])} variable queries run; "
         f"total {time.monotonic() - t_all:.1f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
