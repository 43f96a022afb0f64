#!/usr/bin/env python3
"""Soak test of `sloe serve` (make soak; not part of make test).

A real Prometheus over a backfilled TSDB (promlab's checkout scenario, ending after the run),
`sloe serve --evaluation-interval=5s` against it, 50 scrapes a second (text, OpenMetrics,
protobuf, gzip in turn, plus /api/v1/slos and / now and then) and a reload (POST /-/reload)
every minute, for SOAK_SECONDS (default 1800). Every 10 s it samples sloe's RSS (VmRSS in
/proc/PID/status) and open fds (/proc/PID/fd), prints a table, and compares the first and
second halves of the run:

  - RSS: the mean of the second half's samples against the first half's; fails past +10 %;
  - fds: the minimum of each half (the baseline, without the scrape connections in flight at
    the sampling instant); fails when the second half's is higher.

It also fails when a scrape or a reload fails or sloe exits. Python standard library only.
Run from the repository root: SOAK_SECONDS=120 python3 tests/integration/soak.py
"""

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep the tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promlab as pl  # noqa: E402
import test_serve as ts  # noqa: E402  (Sloe, request, rules_text)

SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
RATE = 50  # scrapes a second
SAMPLE_EVERY = 10
RELOAD_EVERY = 60
ACCEPTS = [
    ("/metrics", {}),
    ("/metrics", {"Accept": ts.OM_ACCEPT}),
    ("/metrics", {"Accept": ts.PB_ACCEPT}),
    ("/metrics", {"Accept-Encoding": "gzip"}),
]


def proc_sample(pid):
    rss = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])  # kB
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    pl.handle_sigterm()
    t_all = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="sloe-soak-")
    prom = None
    s = None
    failures = []
    try:
        now = int(time.time())
        end = now - now % 60 + SECONDS + 900  # the data stays live for the whole run
        om, tsdb = os.path.join(tmp, "scenario.om"), os.path.join(tmp, "tsdb")
        pl.checkout_scenario(om, end, days=35)
        pl.backfill(om, tsdb)
        os.remove(om)
        prom = pl.Prometheus(tsdb)
        prom.start()
        rules = os.path.join(tmp, "rules.yaml")
        ts.write_atomic(rules, ts.rules_text())
        s = ts.Sloe(tmp, "soak", [f"--rules={rules}", f"--prometheus.url={prom.url}",
                                  "--evaluation-interval=5s"]).start()
        print(f"# set-up {time.monotonic() - t_all:.1f}s; sloe pid {s.proc.pid} on port "
              f"{s.port}; {SECONDS}s at {RATE} scrapes/s, evaluation every 5s, reload every "
              f"{RELOAD_EVERY}s", flush=True)

        stop = threading.Event()
        counts = {"scrapes": 0, "errors": 0, "slowest": 0.0}
        lock = threading.Lock()

        def scraper(k, n):
            # Thread k of n: its share of RATE scrapes a second, paced on a fixed schedule.
            period = n / RATE
            nxt = time.monotonic() + k * period / n
            i = k
            while not stop.is_set():
                delay = nxt - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                nxt += period
                i += 1
                path, hdrs = ACCEPTS[i % len(ACCEPTS)]
                if i % 97 == 0:
                    path, hdrs = ("/api/v1/slos", {}) if i % 2 else ("/", {})
                t0 = time.monotonic()
                try:
                    st = ts.request(s.port, path, headers=hdrs, timeout=10).status
                except Exception as e:  # noqa: BLE001
                    st = repr(e)
                took = time.monotonic() - t0
                with lock:
                    counts["scrapes"] += 1
                    counts["slowest"] = max(counts["slowest"], took)
                    if st != 200:
                        counts["errors"] += 1
                        if len(failures) < 5:
                            failures.append(f"{path}: {st}")

        threads = [threading.Thread(target=scraper, args=(k, 5), daemon=True) for k in range(5)]
        for t in threads:
            t.start()

        samples = []  # (seconds, rss kB, fds)
        reloads = reload_fail = 0
        t0 = time.monotonic()
        next_sample, next_reload = t0 + SAMPLE_EVERY, t0 + RELOAD_EVERY
        print(f"{'t (s)':>6} {'RSS (kB)':>10} {'fds':>5} {'scrapes':>8} {'errors':>6} "
              f"{'reloads':>7}", flush=True)
        while time.monotonic() - t0 < SECONDS:
            time.sleep(0.2)
            if s.proc.poll() is not None:
                failures.append(f"sloe exited with {s.proc.returncode}")
                break
            nowm = time.monotonic()
            if nowm >= next_reload:
                next_reload += RELOAD_EVERY
                reloads += 1
                st = ts.status_of(s.port, "/-/reload", "POST", timeout=30)
                if st != 200:
                    reload_fail += 1
                    failures.append(f"reload: {st}")
            if nowm >= next_sample:
                next_sample += SAMPLE_EVERY
                rss, fds = proc_sample(s.proc.pid)
                samples.append((nowm - t0, rss, fds))
                with lock:
                    sc, er = counts["scrapes"], counts["errors"]
                print(f"{nowm - t0:6.0f} {rss:10d} {fds:5d} {sc:8d} {er:6d} {reloads:7d}",
                      flush=True)
        stop.set()
        for t in threads:
            t.join(15)
        elapsed = time.monotonic() - t0
        half = len(samples) // 2
        first, second = samples[:half], samples[half:]
        ok = True
        if half == 0:
            print("FAIL too few samples for halves")
            return 1
        rss1 = statistics.mean(x[1] for x in first)
        rss2 = statistics.mean(x[1] for x in second)
        growth = (rss2 - rss1) / rss1 * 100
        fd1, fd2 = min(x[2] for x in first), min(x[2] for x in second)
        fdmax1, fdmax2 = max(x[2] for x in first), max(x[2] for x in second)
        print(f"# {counts['scrapes']} scrapes in {elapsed:.0f}s ({counts['scrapes'] / elapsed:.1f}"
              f"/s), {counts['errors']} errors, slowest {counts['slowest']:.3f}s; "
              f"{reloads} reloads, {reload_fail} failed", flush=True)
        print(f"# RSS mean first half {rss1:.0f} kB, second half {rss2:.0f} kB: "
              f"{growth:+.2f} % (first sample {samples[0][1]} kB, last {samples[-1][1]} kB)")
        print(f"# fds min first half {fd1}, second half {fd2} (max {fdmax1}, {fdmax2})")
        ok &= growth <= 10.0
        print(f"{'ok  ' if growth <= 10.0 else 'FAIL'} RSS growth {growth:+.2f} % <= 10 %")
        print(f"{'ok  ' if fd2 <= fd1 else 'FAIL'} open fds do not grow ({fd1} -> {fd2})")
        ok &= fd2 <= fd1
        print(f"{'ok  ' if not failures else 'FAIL'} every scrape and reload succeeded, sloe "
              f"kept running{': ' + '; '.join(failures) if failures else ''}")
        ok &= not failures
        sanitizer = ts.SAN_RE.search(s.stderr())
        ok &= not sanitizer
        if sanitizer:
            print(f"FAIL sanitizer report: {s.stderr()[sanitizer.start():][:1500]}")
        rc, took = s.stop()
        print(f"{'ok  ' if rc == 0 else 'FAIL'} SIGTERM: exit {rc} ({took:.2f}s)")
        ok &= rc == 0
        print(f"# total {time.monotonic() - t_all:.0f}s")
        return 0 if ok else 1
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 1
    finally:
        if s is not None:
            s.kill()
        if prom is not None:
            prom.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
