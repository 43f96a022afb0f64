"""test_remote_read: the start-up history fill by remote read gives the histories query_range
gives (Python 3 standard library).

Data: counters and a histogram written with IRREGULAR scrape timing into an OpenMetrics
file and backfilled into a real Prometheus 2.42 with promtool: two scrape intervals (20 s,
30 s), every timestamp jittered by up to +-4 s at millisecond precision (some exactly on a
minute), missed scrapes, counter resets, non-integer increments, gaps (one inside the
last 6 hours), a series that appears and one that vanishes. So increase() and rate()
extrapolate almost everywhere, resets and the zero-point cap come into play, and some
intervals of the fine tier have fewer than two samples (no value). promtool cannot write
staleness markers (OpenMetrics has no way to spell one), so those are covered by the unit
tests only.

Checks, with build/evaldriver (one evaluation at the data's end, then "history"):
1. the histories built with remote read (default) equal those built with
   --remote-read=off, every interval of every tier of every instance, within 1e-9
   relative (sums may be added in another order); the same instances and intervals;
2. remote read did answer the eligible queries (remote_reads > 0, no fallback), the
   ineligible SLO (raw error ratio) still went to query_range, and extrapolation did
   happen (some interval totals are not whole numbers: the data are not trivially
   aligned);
3. the same against VictoriaMetrics (no /api/v1/read): one remote read fails, the client
   gives up on it (one fallback in the whole run), and the histories equal VM's with
   --remote-read=off;
4. sloe eval --prometheus.remote-read=auto|off print the same results; a bad value is a
   usage error (exit 2).
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
from checks import check, note  # noqa: E402
import promlab as pl  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
DRIVER = os.environ.get("EVALDRIVER", "build/evaldriver")

END = 1767225600  # 2026-01-01T00:00:00Z
HOUR, DAY = 3600, 86400
START = END - 3 * DAY - 2 * HOUR
REL = 1e-9

RULES = """version: sloe/v1
services:
  - name: rr
    slos:
      - name: plain-inc
        objective: 99
        window: 3d
        sli:
          events:
            bad_query: 'sum(increase(req_total{code="500"}[{{.window}}]))'
            total_query: 'sum(increase(req_total[{{.window}}]))'
      - name: plain-rate
        objective: 99
        window: 3d
        sli:
          events:
            bad_query: 'sum(rate(req_total{code="500"}[{{.window}}]))'
            total_query: 'SUM (rate( req_total { } [ {{.window}} ] ))'
      - name: grouped-inc
        objective: 99
        window: 3d
        group_by: [route]
        sli:
          events:
            good_query: 'sum by (route) (increase({__name__="req_total", code!="500"}[{{.window}}]))'
            total_query: 'sum by (route) (increase(req_total[{{.window}}]))'
      - name: grouped-rate
        objective: 99
        window: 3d
        group_by: [route, instance]
        sli:
          events:
            bad_query: 'sum(rate(req_total{code=~"5.."}[{{.window}}])) by (route, instance)'
            total_query: 'sum(rate(req_total[{{.window}}])) by (instance, route,)'
      - name: latency
        objective: 95
        window: 3d
        group_by: [route]
        sli:
          latency: {metric: lat_seconds, selector: '{instance=~"i.*"}', threshold: 0.5}
      - name: raw
        objective: 90
        window: 3d
        sli:
          raw:
            error_ratio_query: 'sum(rate(req_total{code="500"}[{{.window}}])) / sum(rate(req_total[{{.window}}]))'
"""


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def ts(ms):
    return f"{ms // 1000}.{ms % 1000:03d}"


def scrape_times(rng, period, first, last, gaps):
    """Jittered scrape times (ms) from first to last (s): nominal every period seconds,
    +-4 s of jitter (an eighth of the time none, so some fall on a minute), 3 % missed,
    none inside a gap [a, b) (s)."""
    out = []
    for base in range(first, last + 1, period):
        if rng.random() < 0.03 or any(a <= base < b for a, b in gaps):
            continue
        j = 0 if rng.random() < 0.125 else rng.randint(-4000, 4000)
        t = base * 1000 + j
        if out and t <= out[-1]:
            continue
        if START * 1000 <= t <= END * 1000:
            out.append(t)
    return out


def counter_lines(rng, name, labels, times, per_scrape):
    v = rng.choice([0, 0, rng.randint(1, 5000)])
    lines = []
    for t in times:
        if rng.random() < 0.002:
            v = rng.choice([0, rng.randint(0, 3)])  # a restart
        else:
            v += per_scrape(rng)
        lines.append(f"{name}{pl.format_labels(labels)} {pl._fmt_value(v)} {ts(t)}\n")
    return lines


def write_data(path):
    rng = random.Random(7)
    out = ["# TYPE req counter\n"]
    series = []
    for route in ("a", "b", "c", "d"):
        for inst, period in (("i1", 20), ("i2", 30)):
            first, last, gaps = START, END, []
            if route == "d":
                first = END - 20 * HOUR  # appears
            if route == "a" and inst == "i2":
                last = END - 10 * HOUR  # vanishes
            if route == "b" and inst == "i2":
                gaps = [(END - 30 * HOUR, END - 27 * HOUR)]
            if route == "c" and inst == "i1":
                gaps = [(END - 4 * HOUR, END - 3 * HOUR - 1800)]  # in the fine tier
            series.append((route, inst, period, first, last, gaps))
    for route, inst, period, first, last, gaps in series:
        for code in ("200", "500"):
            times = scrape_times(rng, period, first, last, gaps)
            if code == "200":
                def per(r):
                    return r.randint(0, 30) + (0.25 if r.random() < 0.1 else 0)
            else:
                def per(r):
                    return r.randint(0, 2) if r.random() < 0.3 else 0
            out += counter_lines(rng, "req_total", {"route": route, "instance": inst,
                                                    "code": code}, times, per)
    out.append("# TYPE lat_seconds histogram\n")
    for route, inst, period, first, last, gaps in series:
        times = scrape_times(rng, period, first, last, gaps)
        cum = [0, 0, 0]  # le 0.1, 0.5, +Inf
        total = 0.0
        lab = {"route": route, "instance": inst}
        for t in times:
            if rng.random() < 0.002:
                cum, total = [0, 0, 0], 0.0
            n = [rng.randint(0, 6), rng.randint(0, 4), rng.randint(0, 2)]
            cum = [cum[0] + n[0], cum[1] + n[0] + n[1], cum[2] + n[0] + n[1] + n[2]]
            total += 0.05 * n[0] + 0.3 * n[1] + 2 * n[2]
            for le, c in (("0.1", cum[0]), ("0.5", cum[1]), ("+Inf", cum[2])):
                out.append(f"lat_seconds_bucket{pl.format_labels(dict(lab, le=le))} {c} {ts(t)}\n")
            out.append(f"lat_seconds_count{pl.format_labels(lab)} {cum[2]} {ts(t)}\n")
            out.append(f"lat_seconds_sum{pl.format_labels(lab)} {total!r} {ts(t)}\n")
    out.append("# EOF\n")
    with open(path, "w") as f:
        f.write("".join(out))
    return sum(1 for line in out if not line.startswith("#"))


# --------------------------------------------------------------------------------------
# Running sloe
# --------------------------------------------------------------------------------------

def histories(url, rules, remote):
    """evaldriver at END: (cycle stats, {(service, slo, key): [tier0, tier1, tier2]}) with
    each tier {end: (bad, total)}."""
    args = [DRIVER, f"--prometheus.url={url}", f"--rules={rules}", "--timeout-ms=60000"]
    if not remote:
        args.append("--remote-read=off")
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.run(args, input=f"eval {END}\nhistory\nquit\n", stdout=subprocess.PIPE,
                           stderr=err, text=True, timeout=600)
        err.seek(0)
        text = err.read()
    lines = p.stdout.splitlines()
    if p.returncode != 0 or len(lines) != 3:
        raise RuntimeError(f"evaldriver: rc {p.returncode}, {len(lines)} lines, stderr "
                           f"{text[-1500:]}")
    if "Sanitizer" in text or "runtime error:" in text:
        raise RuntimeError(f"evaldriver: {text[-1500:]}")
    stats = json.loads(lines[1])
    hist = {}
    for inst in json.loads(lines[2]):
        hist[(inst["service"], inst["slo"], inst["key"])] = [
            {t: (b, tot) for t, b, tot in tier} for tier in inst["tiers"]]
    return stats, hist


def close(a, b):
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b))


def compare(name, got, want):
    """Checks got == want interval by interval; returns the intervals compared."""
    check(f"{name}: the same instances", sorted(got) == sorted(want),
          f"{sorted(got)} vs {sorted(want)}")
    n, diffs = 0, []
    for key in sorted(set(got) & set(want)):
        for k in range(3):
            g, w = got[key][k], want[key][k]
            if sorted(g) != sorted(w):
                diffs.append(f"{key} tier {k}: intervals {sorted(set(g) ^ set(w))[:5]} in "
                             f"only one")
            for t in sorted(set(g) & set(w)):
                n += 1
                if not (close(g[t][0], w[t][0]) and close(g[t][1], w[t][1])):
                    diffs.append(f"{key} tier {k} @{t}: {g[t]} vs {w[t]}")
    check(f"{name}: {n} intervals equal within {REL:g} relative", not diffs and n > 0,
          "; ".join(diffs[:8]) + (f" ... ({len(diffs)} differences)" if len(diffs) > 8 else ""))
    return n


def per_slo(hist):
    out = {}
    for (svc, slo, key), tiers in hist.items():
        out[slo] = out.get(slo, 0) + sum(len(t) for t in tiers)
    return out


def sloe_eval(rules, url, mode):
    args = [SLOE, "eval", f"--rules={rules}", f"--prometheus.url={url}", f"--time={END}",
            "--format=json"]
    if mode is not None:
        args.append(f"--prometheus.remote-read={mode}")
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=600)
    return p.returncode, p.stdout, p.stderr


def main():
    pl.handle_sigterm()
    tmp = tempfile.mkdtemp(prefix="sloe-rr-")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    om = os.path.join(tmp, "data.om")
    rules = os.path.join(tmp, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    samples = write_data(om)
    secs = pl.backfill(om, os.path.join(tmp, "tsdb"))
    note(f"{samples} sample lines, jittered, backfilled in {secs:.1f} s")

    with pl.Prometheus(os.path.join(tmp, "tsdb")) as prom:
        st_on, h_on = histories(prom.url, rules, True)
        st_off, h_off = histories(prom.url, rules, False)
        note(f"remote read on: {st_on}")
        note(f"remote read off: {st_off}")
        check("1. no SLO failed either way", st_on["failed"] == 0 and st_off["failed"] == 0,
              f"{st_on} / {st_off}")
        compare("1. Prometheus, remote read vs query_range", h_on, h_off)
        counts = per_slo(h_on)
        check("1. every SLO has intervals", all(counts.get(s, 0) > 0 for s in (
            "plain-inc", "plain-rate", "grouped-inc", "grouped-rate", "latency", "raw")),
            f"{counts}")
        check("1. grouped SLOs have their groups",
              sum(1 for k in h_on if k[1] == "grouped-inc") == 4 and
              sum(1 for k in h_on if k[1] == "grouped-rate") == 8,
              f"{sorted(k for k in h_on if k[1].startswith('grouped'))}")
        # 5 SLOs x 2 range queries x 3 tiers at least (grouped ones take a few chunks)
        check("2. remote read answered the eligible queries, none fell back",
              st_on["remote_reads"] >= 30 and st_on["remote_fallbacks"] == 0, f"{st_on}")
        check("2. --remote-read=off made no remote read",
              st_off["remote_reads"] == 0 and st_off["remote_fallbacks"] == 0, f"{st_off}")
        check("2. the raw SLO (not eligible) still has its history from query_range",
              counts.get("raw", 0) > 0 and st_on["queries"].get("ok", 0) >
              st_on["remote_reads"], f"{st_on}")
        frac = sum(1 for key, tiers in h_on.items() if key[1] == "plain-inc"
                   for t, (b, tot) in tiers[0].items() if tot != int(tot))
        check("2. extrapolation happened (non-integer fine-tier totals)", frac > 100,
              f"{frac} non-integer totals")

        rc_a, out_a, err_a = sloe_eval(rules, prom.url, None)
        rc_o, out_o, err_o = sloe_eval(rules, prom.url, "off")
        check("4. sloe eval: the same results with remote read (default auto) and off",
              rc_a == 0 and rc_o == 0 and out_a == out_o and len(out_a) > 100,
              f"rc {rc_a}/{rc_o}, stderr {err_a[-300:]!r} {err_o[-300:]!r}")
        rc_b, _, err_b = sloe_eval(rules, prom.url, "sometimes")
        check("4. --prometheus.remote-read=sometimes is a usage error",
              rc_b == 2 and "remote-read" in err_b, f"rc {rc_b}, {err_b[-300:]!r}")

    # ---- VictoriaMetrics: no /api/v1/read ----
    from test_vm import VictoriaMetrics, import_openmetrics
    vm = VictoriaMetrics().start()
    try:
        import_openmetrics(vm, om)
        vm.get("/internal/force_flush")
        vm.get("/internal/resetRollupResultCache")
        st_von, h_von = histories(vm.url, rules, True)
        st_voff, h_voff = histories(vm.url, rules, False)
        note(f"VictoriaMetrics, remote read auto: {st_von}")
        check("3. VictoriaMetrics: no SLO failed",
              st_von["failed"] == 0 and st_voff["failed"] == 0, f"{st_von} / {st_voff}")
        check("3. VictoriaMetrics: one remote read tried, then not again",
              st_von["remote_reads"] == 0 and st_von["remote_fallbacks"] == 1, f"{st_von}")
        check("3. VictoriaMetrics: the fallback's queries all succeeded",
              all(v == 0 for k, v in st_von["queries"].items() if k != "ok"), f"{st_von}")
        compare("3. VictoriaMetrics, auto (fallen back) vs off", h_von, h_voff)
    finally:
        vm.close()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
