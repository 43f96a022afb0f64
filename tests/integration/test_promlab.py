#!/usr/bin/env python3
"""Self-test of promlab: generate the scenario, backfill it, start Prometheus and check
that PromQL sees exactly the events the generator counted.

Run from the repository root: python3 tests/integration/test_promlab.py
Ends with "N passed, N failed"; exits 1 when a check fails.
"""

import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402
import promlab as pl  # noqa: E402

END = 1767225600  # 2026-01-01T00:00:00Z
HOUR, DAY = 3600, 86400


def equal(name, got, want, rel=0.0):
    if got is None or want is None:
        ok = got is want
    elif rel:
        ok = abs(got - want) <= rel * max(abs(want), 1e-300)
    else:
        ok = got == want
    check(f"{name} = {want!r}", ok, f"got {got!r}, want {want!r}")


def main():
    pl.handle_sigterm()
    with tempfile.TemporaryDirectory(prefix="promlab-test-") as tmp:
        om = os.path.join(tmp, "scenario.om")
        tsdb = os.path.join(tmp, "tsdb")

        t0 = time.monotonic()
        ds = pl.checkout_scenario(om, END, days=40)
        gen = time.monotonic() - t0
        size = os.path.getsize(om) / 1e6
        print(f"# generated {ds.samples_written} samples, {len(ds.counts) + len(ds.gauges)} "
              f"series, {size:.0f} MB in {gen:.2f}s")
        start, meta = ds.start, ds.meta
        night, dayinc = meta["incidents"]
        reset_t = meta["reset"]["time"]

        # ---- the generator alone ----
        total = ds.select("http_requests_total", job="checkout")
        bad = ds.select("http_requests_total", job="checkout", code="500")
        good = ds.select("http_requests_total", job="checkout", code="200")
        equal("exact events in a full day (12h x 1000 + 12h x 50 per minute)",
              pl.window_sum(total, start, END, DAY), 756000)
        equal("good + bad = total in every minute",
              all(g + b == t for g, b, t in zip(good, bad, total)), True)
        quiet = pl.window_sum(bad, start, END, DAY) / pl.window_sum(total, start, END, DAY)
        check(f"steady error share of the last day {quiet:.6f} ~ 0.0005",
              abs(quiet - 0.0005) < 2e-6)
        equal("night incident errors (40 min x 50 req x 30 %)",
              pl.window_sum(bad, start, night["end"], 40 * 60), 600)
        br = pl.burn_rate(pl.error_ratio(bad, start=start, total=total, T=night["end"],
                                         W=40 * 60), 99.9)
        check(f"burn rate over the night incident {br:.1f} ~ 300", abs(br - 300) < 1e-9)
        ev = pl.error_ratio(bad, total, start, END, 30 * DAY)
        sl = pl.sloth_period_error_ratio(bad, total, start, END)
        print(f"# 30d error ratio at END: events {ev:.6f}, Sloth average of 5m ratios {sl:.6f}")
        check("Sloth's 30d average weighs the night incident more than the event ratio",
              sl > ev * 1.2)
        cart200 = ds.counts[meta["reset"]["series"]]
        i = (reset_t - start) // 60 - 1  # the minute ending at the reset
        with open(om) as f:
            want = f'{meta["reset"]["series"]} {cart200[i]} {reset_t}\n'
            check("the counter drops at the reset to that minute's events",
                  want in f.read())

        # ---- generator details: sub-minute scrapes, exact _sum, undetectable reset ----
        small = os.path.join(tmp, "small.om")
        s0 = END
        sd = pl.write_openmetrics(small, s0, s0 + 600, [
            pl.Counter("x", {"a": "1"}, [7, 1, 2, 3, 4, 5, 6, 7, 8, 9], resets=[s0 + 300]),
            pl.Histogram("h", None, (0.25, 1), [[1, 2, 3]] * 10)], scrape=15)
        with open(small) as f:
            text = f.read()
        check("scrape=15: the reset sample holds its 15 s of events",
              f'x_total{{a="1"}} 1 {s0 + 300}\n' in text)
        check("default _sum stays exact (10 x 7.375)",
              f"h_sum 73.75 {s0 + 600}\n" in text and sd.counts["h_sum"][0] == 7.375)
        try:
            pl.write_openmetrics(small, s0, s0 + 600, [
                pl.Counter("x", None, [1, 1, 1, 1, 9, 1, 1, 1, 1, 1], resets=[s0 + 300])])
            check("a reset that does not drop is refused", False)
        except ValueError:
            check("a reset that does not drop is refused", True)

        bf = pl.backfill(om, tsdb)
        print(f"# backfill {bf:.2f}s")

        def per_series(W, T):
            # increase() drops the metric name: key the expected values by labels alone
            n = len("http_requests_total")
            return {k[n:]: float(pl.window_sum(v, start, T, W)) for k, v in ds.counts.items()
                    if k.startswith("http_requests_total{") and 'job="checkout"' in k}

        with pl.Prometheus(tsdb) as prom:
            print(f"# prometheus ready in {prom.start_seconds:.2f}s at {prom.url}")

            # ---- increase over [1h] at hour-aligned times ----
            for label, T in (("END", END), ("END-1d+13h", END - DAY + 13 * HOUR),
                             ("night incident hour", night["start"] + HOUR),
                             ("day incident hour", dayinc["start"] + HOUR)):
                T -= T % HOUR
                got = prom.value('sum(increase(http_requests_total{job="checkout"}[1h]))', T)
                equal(f"sum(increase([1h])) at {label}", got,
                      float(pl.window_sum(total, start, T, HOUR)))
            T = night["start"] - night["start"] % HOUR + HOUR
            got = prom.values('increase(http_requests_total{job="checkout"}[1h])', T)
            want = per_series(HOUR, T)
            equal("increase([1h]) per series over the night incident", got, want)

            # ---- increase over [1m] per series ----
            bad_minutes = []
            times = [END, END - 7 * 60, night["start"] + 60, night["end"], dayinc["start"] + 60,
                     dayinc["end"] + 60, start + 60, reset_t, reset_t + 60]
            for T in times:
                got = prom.values('increase(http_requests_total{job="checkout"}[1m])', T)
                want = per_series(60, T)
                if got != want:
                    bad_minutes.append((T, got, want))
            check(f"increase([1m]) per series exact at {len(times)} minutes "
                  f"(incidents, reset, first minute)", not bad_minutes, repr(bad_minutes[:1]))

            # ---- across the counter reset ----
            sel = 'increase(http_requests_total{job="checkout",route="/cart",code="200"}[%s])'
            for rng, W, T in (("1m", 60, reset_t), ("1h", HOUR, reset_t + 30 * 60),
                              ("1d", DAY, reset_t + 12 * HOUR)):
                equal(f"increase([{rng}]) across the counter reset", prom.value(sel % rng, T),
                      float(pl.window_sum(cart200, start, T, W)))
            no_reset = prom.value('resets(http_requests_total{route="/cart",code="200"}[1h])',
                                  reset_t + 1800)
            equal("resets() sees the reset", no_reset, 1.0)

            # ---- long windows ----
            for rng, W in (("30d", 30 * DAY), ("1d", DAY)):
                equal(f"sum(increase(code=500 [{rng}])) at END",
                      prom.value(f'sum(increase(http_requests_total{{job="checkout",'
                                 f'code="500"}}[{rng}]))', END),
                      float(pl.window_sum(bad, start, END, W)))

            # ---- query_range step 60 over a day ----
            d = meta["midnight"] - 2 * DAY  # the day of the day incident
            data = prom.query_range('sum(increase(http_requests_total{job="checkout"}[1m]))',
                                    d + 60, d + DAY, 60)
            pts = list(pl.matrix_values(data).values())[0]
            equal("query_range points over a day", len(pts), 1440)
            equal("sum of query_range increase([1m]) step 60 over a day",
                  sum(v for _, v in pts), float(pl.window_sum(total, start, d + DAY, DAY)))
            equal("every query_range point equals its minute",
                  all(v == total[(int(t) - start) // 60 - 1] for t, v in pts), True)

            # ---- latency ----
            b03 = ds.select("http_request_duration_seconds_bucket", route="/pay", le="0.3")
            cnt = ds.select("http_request_duration_seconds_count", route="/pay")
            q = ('sum(increase(http_request_duration_seconds_bucket{job="checkout",'
                 'route="/pay",le="0.3"}[%s])) / sum(increase(http_request_duration_seconds_'
                 'count{job="checkout",route="/pay"}[%s]))')
            for label, T, rng, W in (
                    ("a quiet day hour", d + 12 * HOUR, "1h", HOUR),
                    ("the slow half hour", dayinc["end"], "30m", 1800),
                    ("the last 30d", END, "30d", 30 * DAY)):
                want = pl.window_sum(b03, start, T, W) / pl.window_sum(cnt, start, T, W)
                equal(f'le="0.3" ratio over {label}', prom.value(q % (rng, rng), T), want)
            equal("slow half hour ratio is 60 %",
                  pl.sli(b03, cnt, start, dayinc["end"], 1800), 0.6)

            # ---- a series that appears late and vanishes early (canary) ----
            can = ds.select("http_requests_total", job="canary")
            first, last = meta["canary"]["first"], meta["canary"]["last"]
            equal("appearing series: increase([1h]) exact (starts at 0)",
                  prom.value('increase(http_requests_total{job="canary"}[1h])', first + 1800),
                  float(pl.window_sum(can, start, first + 1800, HOUR)))
            # 2.x extrapolates a vanished series by half a scrape interval past its last
            # sample: 30 minutes of 10/min seen, extrapolated by 30 s.
            equal("vanishing series: increase([1h]) extrapolated by 30s (2.x rule)",
                  prom.value('increase(http_requests_total{job="canary"}[1h])', last + 1800),
                  pl.window_sum(can, start, last + 1800, HOUR) * 1830 / 1800, rel=1e-12)

            # ---- the uptime gauge: 2.x ranges include the start sample ----
            ps = ds.select_gauge("probe_success", job="blackbox")
            T = meta["outage"]["end"] - meta["outage"]["end"] % DAY + DAY
            equal("count_over_time(probe_success[1d]) (2.x: both ends)",
                  prom.value('count_over_time(probe_success{job="blackbox"}[1d])', T), 1441.0)
            equal("avg_over_time(probe_success[1d]) over the outage day",
                  prom.value('avg_over_time(probe_success{job="blackbox"}[1d])', T),
                  pl.mean_over_window(ps, T, DAY, include_start=True))
            equal("outage share (T-1d, T] from first principles",
                  pl.mean_over_window(ps, T, DAY), 1 - 20 / 1440)

            # ---- restart keeps the data ----
            t0 = time.monotonic()
            prom.restart()
            rs = time.monotonic() - t0
            equal(f"after restart ({rs:.2f}s) sum(increase([1h])) at END",
                  prom.value('sum(increase(http_requests_total{job="checkout"}[1h]))', END),
                  float(pl.window_sum(total, start, END, HOUR)))
            try:
                prom.query("sum(")
                check("a bad query raises QueryError", False)
            except pl.QueryError as e:
                check(f"a bad query raises QueryError ({e.error_type})", True)
            pid = prom.proc.pid
        check("prometheus stopped and temp dir removed",
              prom.proc.poll() is not None and prom.tmp is None)
        try:
            os.kill(pid, 0)
            gone = False
        except ProcessLookupError:
            gone = True
        check("no prometheus process left", gone)

    return checks.finish()


if __name__ == "__main__":
    t_all = time.monotonic()
    rc = main()
    print(f"# total {time.monotonic() - t_all:.1f}s", file=sys.stderr)
    sys.exit(rc)
