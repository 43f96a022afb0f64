#!/usr/bin/env python3
"""Tests of the alerting rules `sloe generate alerts` writes, with Prometheus' promtool.

1. For every file of rules/examples/ and for the whole directory: the rules generate
   (exit 0), `promtool check rules` accepts them, and there is one rule group per SLO (as
   many as `sloe check` counts), plus the group of sloe itself.
2. The rules for tests/alerts/slos.yaml are generated into a temporary directory next to a
   copy of tests/alerts/alerts_test.yml (which names them by the relative path
   generated.yml), and `promtool test rules` must pass: every alert fires with its exact
   labels and annotations, not before its `for:`, and resolves. Nothing generated is
   checked in, so the test always runs against what sloe writes today.

Run from the repository root: python3 tests/integration/test_alerts.py
(SLOE_BIN selects the binary, default bin/sloe). Prints one line per check and ends with
"N passed, N failed"; exits 1 on a failure. The end-to-end test with a real Prometheus and
Alertmanager is tests/integration/test_e2e.py.
"""

import glob
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

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "rules", "examples")
ALERTS_DIR = os.path.join(ROOT, "tests", "alerts")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=120, **kw)


def slo_count(path):
    """The number of SLOs `sloe check` reports for a file or directory ('N SLOs: OK')."""
    p = run([SLOE, "check", path])
    m = re.search(r"(\d+) SLOs?\b", p.stdout + p.stderr)
    return int(m.group(1)) if m and p.returncode == 0 else None


def check_generated(tmp, name, rules_path):
    out = os.path.join(tmp, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".yml")
    p = run([SLOE, "generate", "alerts", f"--rules={rules_path}"])
    if not check(f"{name}: sloe generate alerts exits 0", p.returncode == 0,
                 p.stderr.strip()[:500]):
        return
    with open(out, "w") as f:
        f.write(p.stdout)
    c = run([PROMTOOL, "check", "rules", out])
    m = re.search(r"SUCCESS: (\d+) rules found", c.stdout)
    check(f"{name}: promtool check rules accepts them ({m.group(1) if m else '?'} rules)",
          c.returncode == 0 and m is not None and int(m.group(1)) > 0,
          (c.stdout + c.stderr).strip()[-1500:])
    groups = re.findall(r"^- name: (\S+)$", p.stdout, re.M)
    per_slo = [g for g in groups if g.startswith("sloe-") and not g.startswith("sloe-service-")]
    want = slo_count(rules_path)
    check(f"{name}: one rule group per SLO ({want}) and sloe's own group",
          want is not None and len(per_slo) == want and "sloe" in groups
          and len(set(groups)) == len(groups), f"groups {groups}, sloe check says {want}")


def main():
    t0 = time.monotonic()
    for b in (SLOE, PROMTOOL):
        if not os.access(b, os.X_OK):
            print(f"missing {b} (make bin/sloe; make deps for promtool)\n0 passed, 1 failed")
            return 1
    examples = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml")))
    check("rules/examples/ has example files", len(examples) >= 1, EXAMPLES)
    with tempfile.TemporaryDirectory(prefix="sloe-alerts-test-") as tmp:
        # 1. Every example alone, then the whole directory.
        for path in examples:
            check_generated(tmp, os.path.basename(path)[:-5], path)
        check_generated(tmp, "rules/examples/", EXAMPLES + "/")

        # --sloe.job reaches the SloeDown alert.
        p = run([SLOE, "generate", "alerts", f"--rules={EXAMPLES}/", "--sloe.job=sloe-prod"])
        check("--sloe.job names the job of the SloeDown alert",
              'up{job="sloe-prod"} == 0' in p.stdout and 'absent(up{job="sloe-prod"})' in p.stdout,
              p.stdout[:400])

        # 2. promtool test rules over the rules for tests/alerts/slos.yaml.
        work = os.path.join(tmp, "unit")
        os.mkdir(work)
        shutil.copy(os.path.join(ALERTS_DIR, "alerts_test.yml"), work)
        p = run([SLOE, "generate", "alerts", f"--rules={os.path.join(ALERTS_DIR, 'slos.yaml')}",
                 "--sloe.job=sloe"])
        if check("tests/alerts/slos.yaml: sloe generate alerts exits 0", p.returncode == 0,
                 p.stderr.strip()):
            with open(os.path.join(work, "generated.yml"), "w") as f:
                f.write(p.stdout)
            c = run([PROMTOOL, "check", "rules", "generated.yml"], cwd=work)
            check("tests/alerts/slos.yaml: promtool check rules accepts them",
                  c.returncode == 0, (c.stdout + c.stderr)[-1500:])
            t = run([PROMTOOL, "test", "rules", "alerts_test.yml"], cwd=work)
            n_tests = len(re.findall(r"^  - (?:name|interval):", open(
                os.path.join(work, "alerts_test.yml")).read(), re.M))
            n_evals = len(re.findall(r"^      - eval_time:", open(
                os.path.join(work, "alerts_test.yml")).read(), re.M))
            check(f"promtool test rules tests/alerts/alerts_test.yml ({n_tests} tests, "
                  f"{n_evals} alert checks)",
                  t.returncode == 0 and "SUCCESS" in t.stdout,
                  (t.stdout + t.stderr).strip()[-4000:])
    print(f"# total {time.monotonic() - t0:.1f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
