"""bench_read.py: remote read against query_range for sloe's start-up backfill, on a real
Prometheus backfilled with known data (Python 3 stdlib only; run from the repository root
after `make build/bench_read`, or through `make bench`).

    python3 tests/bench/bench_read.py [--routes=G] [--days=D] [--rounds=N] [--piece=S,...]

Generates D days (default 31) of per-minute counters errors_total and requests_total for G
routes (default 100), each with a sample on every minute boundary and some counter resets,
backfills them with promtool (the TSDB is cached under $BENCH_READ_CACHE, default
build/bench-read, keyed by its parameters), starts Prometheus on loopback and runs
$BENCH_READ (default build/bench_read), which times sloe's query_range fill and remote read
(as samples and as XOR chunks) and compares their intervals. Prints the figures.

Exits non-zero when the paths disagree on any interval, or when any path's sums
over each tier differ from the sums of the generated per-minute counts worked out here:
agreeing on wrong (or no) data must fail too. G and D may also come from the environment
(BENCH_READ_G, BENCH_READ_DAYS).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
import promlab as pl  # noqa: E402

# The data ends at a fixed minute (not on an hour or five minutes, so the tiers' ends
# differ): 2026-11-10 13:37 UTC. Fixed, so that a cached TSDB stays valid.
END = 1794317820
DATA_VERSION = 2  # change when the generated data or tiers() (the cached sums) change
WINDOW = 30 * pl.DAY


def tiers(end):
    """The intervals sloe's start-up fills at minute `end` (eval.c's eval_update): hourly
    over the 30-day window, 5-minute over a day, 1-minute over 6 hours; each as (step,
    first interval end, last interval end)."""
    t = end // 60 * 60
    hour, five = t // 3600 * 3600, t // 300 * 300
    coarse_start = (t - WINDOW) // 3600 * 3600 + 3600
    return [(60, t - 6 * 3600 + 60, t), (300, five - pl.DAY + 300, five),
            (3600, coarse_start, hour)]


def requests_per_minute(r, minutes):
    return [60 + (i * 7 + r * 13) % 41 for i in range(minutes)]


def errors_per_minute(r, req):
    # A few errors most minutes, and an error burst of an hour now and then.
    out = []
    for i, n in enumerate(req):
        e = int((i + r) % 13 == 0)
        if (i // 60 + r) % 97 == 0:
            e += n // 5
        elif (i + r) % 7 == 0:
            e += n // 50
        out.append(min(e, n))
    return out


def resets_for(r, start, days):
    """Counter restarts: one in every tenth route, somewhere after the first day."""
    if r % 10 != 3 or days < 3:
        return ()
    minutes = (days - 2) * 1440
    return (start + pl.DAY + (r * 7919 % minutes) * 60,)


def generate(path, routes, days, end):
    """Writes the OpenMetrics file and returns the sums of bad and total events over every
    tier's intervals, added up from the per-minute counts."""
    start = end - days * pl.DAY
    minutes = days * 1440
    tl = tiers(end)
    sums = {str(step): [0, 0] for step, _, _ in tl}
    samples = 0
    with open(path, "w", encoding="utf-8") as f:
        for fam, which in (("errors", 0), ("requests", 1)):
            f.write(f"# TYPE {fam} counter\n")
            for r in range(routes):
                req = requests_per_minute(r, minutes)
                incs = errors_per_minute(r, req) if which == 0 else req
                name = f"{fam}_total"
                labels = {"job": "bench", "route": f"/r{r}"}
                s, eff = pl._counter_samples(pl.series_key(name, labels), incs, start, end,
                                             60, None, None, resets_for(r, start, days), 0)
                prefix = f"{name}{pl.format_labels(labels)} "
                f.write("".join([f"{prefix}{v} {t}\n" for t, v in s]))
                samples += len(s)
                for step, first, last in tl:
                    sums[str(step)][which] += pl.window_sum(eff, start, last,
                                                            last - first + step)
        f.write("# EOF\n")
    return sums, samples


def prepare(cache, routes, days):
    """The cached TSDB and its facts, made when missing."""
    key = f"g{routes}-d{days}-e{END}-v{DATA_VERSION}"
    d = os.path.join(cache, key)
    meta_path = os.path.join(d, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        meta["cached"] = True
        return d, meta
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    om = os.path.join(d, "data.om")
    t0 = time.monotonic()
    sums, samples = generate(om, routes, days, END)
    gen = time.monotonic() - t0
    size = os.path.getsize(om)
    fill = pl.backfill(om, os.path.join(d, "tsdb"), timeout=3600)
    os.remove(om)
    meta = {"routes": routes, "days": days, "end": END, "sums": sums, "samples": samples,
            "generate_seconds": gen, "backfill_seconds": fill, "openmetrics_bytes": size}
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f)
    os.rename(meta_path + ".tmp", meta_path)
    meta["cached"] = False
    return d, meta


def check_sums(out, meta, routes):
    """The tool's per-tier sums of both paths against the generated counts."""
    bad = []
    n_int = {str(step): (last - first) // step + 1 for step, first, last in tiers(END)}
    seen = 0
    for m in re.finditer(r"^sums (\S+) tier=(\d+) groups=(\d+) intervals=(\d+) "
                         r"bad=(\S+) total=(\S+)$", out, re.M):
        path, step, groups, intervals = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        got = (float(m.group(5)), float(m.group(6)))
        want = tuple(meta["sums"][step])
        seen += 1
        if groups != routes:
            bad.append(f"{path} tier {step}s: {groups} groups, want {routes}")
        if intervals != routes * n_int[step]:
            bad.append(f"{path} tier {step}s: {intervals} intervals with data, "
                       f"want {routes * n_int[step]}")
        if got != want:
            bad.append(f"{path} tier {step}s: bad/total {got[0]:.17g}/{got[1]:.17g}, "
                       f"want {want[0]}/{want[1]}")
    if seen != 9:
        bad.append(f"{seen} sums lines, want 9 (three paths, three tiers)")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--routes", type=int, default=int(os.environ.get("BENCH_READ_G", 100)))
    ap.add_argument("--days", type=int, default=int(os.environ.get("BENCH_READ_DAYS", 31)))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--piece", default="86400",
                    help="seconds of data per remote read request; a comma list runs each")
    args = ap.parse_args()
    if args.routes < 1 or args.days < 31:
        ap.error("--routes must be >= 1 and --days >= 31 (the window is 30 days)")
    tool = os.environ.get("BENCH_READ", "build/bench_read")
    cache = os.environ.get("BENCH_READ_CACHE", "build/bench-read")
    pl.handle_sigterm()

    t0 = time.monotonic()
    d, meta = prepare(cache, args.routes, args.days)
    print(f"bench_read.py: {args.routes} routes, {args.days} days ending {END}, "
          f"{meta['samples']} samples, TSDB {d}"
          + (" (cached)" if meta["cached"] else f" (made in {time.monotonic() - t0:.1f} s)"))
    print(f"  data: generated in {meta['generate_seconds']:.1f} s "
          f"({meta['openmetrics_bytes'] / 1e6:.0f} MB OpenMetrics), "
          f"promtool backfill {meta['backfill_seconds']:.1f} s")
    failures = []
    tmp = tempfile.mkdtemp(prefix="bench-read-")
    try:
        # Prometheus writes into its TSDB directory: give it a copy.
        tsdb = os.path.join(tmp, "tsdb")
        shutil.copytree(os.path.join(d, "tsdb"), tsdb)
        with pl.Prometheus(tsdb, retention="3650d") as prom:
            print(f"  prometheus ready in {prom.start_seconds:.1f} s at {prom.url}")
            for piece in args.piece.split(","):
                cmd = [tool, f"--prometheus.url={prom.url}",
                       '--bad=errors_total{job="bench"}', '--total=requests_total{job="bench"}',
                       f"--end={END}", f"--piece={int(piece)}", f"--rounds={args.rounds}"]
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, timeout=1800)
                sys.stdout.write(p.stdout)
                sys.stdout.write(p.stderr)
                if p.returncode != 0:
                    failures.append(f"piece {piece}: bench_read exited {p.returncode}")
                    continue
                failures += [f"piece {piece}: {b}" for b in check_sums(p.stdout, meta,
                                                                        args.routes)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        for f in failures:
            print(f"bench_read.py: FAIL {f}")
        return 1
    print("bench_read.py: all paths agree with each other and with the generated counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
