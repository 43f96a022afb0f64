#!/usr/bin/env python3
"""Checks of the container setup in docker/, without a Docker engine.

1. docker/prometheus.yml: `promtool check config` accepts it as it is (its rule_files glob
   alerts/*.yml matches nothing in the repository) and with the rules `sloe generate alerts`
   writes for docker/sloe/rules.yaml placed where the glob looks (in a temporary copy).
2. docker/alertmanager.yml: `amtool check-config` accepts it.
3. docker/sloe/rules.yaml: `sloe check` accepts it.
4. docker/compose.yaml (read with a small YAML-subset reader): the services are there;
   every file or directory it mounts from the repository exists; named volumes are
   declared; the build context and Dockerfile exist; Grafana gets the provisioning files of
   dashboards/ in its provisioning folders and the dashboard JSON files at the provider's
   path; every host Prometheus scrapes or alerts to, and the Grafana datasource's host, is
   a compose service on the port that service listens on; Prometheus reads the volume the
   alerts generator writes.
5. docker/Dockerfile: a Debian 12 build stage that runs make; a runtime stage that
   installs only runtime libraries (no -dev package, no compiler), switches to a non-root
   USER, exposes 9363, has ENTRYPOINT ["sloe"] and a serve CMD; every COPY source exists
   and is not excluded by docker/Dockerfile.dockerignore.
6. docker/workload/workload.py starts, serves /metrics and takes POST /control.

Run from the repository root: python3 tests/integration/test_docker.py
Prints one line per check and ends with "N passed, N failed"; exits 1 on a failure.
"""

import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402
import stack  # noqa: E402

SLOE = os.environ.get("SLOE_BIN", "bin/sloe")
PROMTOOL = "/usr/bin/promtool"
AMTOOL = "/usr/bin/amtool"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKER = os.path.join(ROOT, "docker")
RUNTIME_PACKAGES = {"libyaml-0-2", "libcurl4", "libjansson4", "libmicrohttpd12",
                    "libprotobuf-c1", "libgnutls30", "zlib1g", "libcrypt1",
                    "ca-certificates", "tzdata"}
BUILD_ONLY = re.compile(r"-dev$|^build-essential$|^gcc|^g\+\+|^clang|^make$|^pkg-config$|"
                        r"^protobuf-c-compiler$|^cpp")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, **kw)


# --------------------------------------------------------------------------------------
# A reader for the YAML subset the files in docker/ and dashboards/provisioning/ use:
# block mappings and sequences, plain, single- and double-quoted scalars, flow sequences
# and mappings on one line, comments. Scalars stay strings. Not a general YAML parser.
# --------------------------------------------------------------------------------------

def _strip_comment(line):
    q = None
    for i, c in enumerate(line):
        if q:
            if c == q:
                q = None
        elif c in "\"'":
            if i == 0 or line[i - 1] in " \t[{,:-":
                q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _scalar(s):
    s = s.strip()
    if not s:
        return None
    if s[0] == '"':
        return json.loads(s)
    if s[0] == "'":
        return s[1:-1].replace("''", "'")
    if s[0] in "[{":
        v, rest = _flow(s, 0)
        if s[rest:].strip():
            raise ValueError(f"trailing text after a flow collection: {s!r}")
        return v
    return s


def _flow(s, i):
    """Parse a flow collection or scalar starting at s[i]; return (value, next index)."""
    while s[i] == " ":
        i += 1
    if s[i] in "[{":
        close = "]" if s[i] == "[" else "}"
        out = [] if close == "]" else {}
        i += 1
        while True:
            while s[i] in " ,":
                i += 1
            if s[i] == close:
                return out, i + 1
            if close == "]":
                v, i = _flow(s, i)
                out.append(v)
            else:
                k, i = _flow_scalar(s, i, ":")
                i += 1  # the colon
                v, i = _flow(s, i)
                out[k] = v
    return _flow_scalar(s, i, ",]}")


def _flow_scalar(s, i, stops):
    while s[i] == " ":
        i += 1
    if s[i] in "\"'":
        q, j = s[i], i + 1
        while True:
            if s[j] == "\\" and q == '"':
                j += 2
                continue
            if s[j] == q:
                if q == "'" and j + 1 < len(s) and s[j + 1] == "'":
                    j += 2
                    continue
                break
            j += 1
        return _scalar(s[i:j + 1]), j + 1
    j = i
    while j < len(s):
        if stops == ":":  # a key ends at a colon followed by a space
            if s[j] == ":" and (j + 1 == len(s) or s[j + 1] == " "):
                break
        elif s[j] in stops:
            break
        j += 1
    return s[i:j].strip(), j


_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#][^:]*?)\s*:(?:\s+(.*))?$""")


def load_yaml(text):
    lines = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip() and line.strip() != "---":
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    value, pos = _block(lines, 0, 0)
    if pos != len(lines):
        raise ValueError(f"unparsed line: {lines[pos][1]!r}")
    return value


def _block(lines, pos, indent):
    if pos >= len(lines):
        return None, pos
    ind, text = lines[pos]
    if text.startswith("- ") or text == "-":
        out = []
        while pos < len(lines) and lines[pos][0] == ind and \
                (lines[pos][1].startswith("- ") or lines[pos][1] == "-"):
            item = lines[pos][1][2:].strip()
            if not item:
                v, pos = _block(lines, pos + 1, ind + 1)
            elif item[0] not in "[{" and _KEY.match(item):
                # "- key: value" opens a mapping indented at the item's text
                lines[pos] = (ind + 2, item)
                v, pos = _mapping(lines, pos, ind + 2)
            else:
                v, pos = _scalar(item), pos + 1
            out.append(v)
        return out, pos
    return _mapping(lines, pos, ind)


def _mapping(lines, pos, ind):
    out = {}
    while pos < len(lines) and lines[pos][0] == ind:
        m = _KEY.match(lines[pos][1])
        if not m:
            raise ValueError(f"not a mapping entry: {lines[pos][1]!r}")
        key = _scalar(m.group(1))
        rest = m.group(2)
        if rest is not None and rest.strip():
            if rest.strip() in ("|", ">", "|-", ">-"):
                pos += 1
                block = []
                while pos < len(lines) and lines[pos][0] > ind:
                    block.append(lines[pos][1])
                    pos += 1
                out[key] = "\n".join(block)
                continue
            out[key] = _scalar(rest)
            pos += 1
        elif pos + 1 < len(lines) and (lines[pos + 1][0] > ind or (
                lines[pos + 1][0] == ind and lines[pos + 1][1].startswith("- "))):
            out[key], pos = _block(lines, pos + 1, lines[pos + 1][0])
        else:
            out[key] = None
            pos += 1
    return out, pos


def load_file(path):
    with open(path) as f:
        return load_yaml(f.read())


# --------------------------------------------------------------------------------------

def check_prometheus(tmp):
    p = run([PROMTOOL, "check", "config", os.path.join(DOCKER, "prometheus.yml")])
    check("promtool check config docker/prometheus.yml (no rule files yet)",
          p.returncode == 0, p.stdout.strip())
    d = os.path.join(tmp, "prom")
    os.makedirs(os.path.join(d, "alerts"))
    shutil.copy(os.path.join(DOCKER, "prometheus.yml"), d)
    g = subprocess.run([SLOE, "generate", "alerts",
                        f"--rules={os.path.join(DOCKER, 'sloe', 'rules.yaml')}",
                        "--sloe.job=sloe"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    with open(os.path.join(d, "alerts", "sloe-alerts.yml"), "w") as f:
        f.write(g.stdout)
    p = run([PROMTOOL, "check", "config", os.path.join(d, "prometheus.yml")])
    m = re.search(r"SUCCESS: (\d+) rules found", p.stdout)
    check("promtool check config with the generated rules at alerts/sloe-alerts.yml "
          f"({m.group(1) if m else '?'} rules)",
          g.returncode == 0 and p.returncode == 0 and m and int(m.group(1)) > 0
          and "sloe-alerts.yml" in p.stdout, g.stderr + p.stdout)


def check_compose():
    path = os.path.join(DOCKER, "compose.yaml")
    try:
        doc = load_file(path)
    except (ValueError, IndexError) as e:
        check("docker/compose.yaml reads", False, e)
        return
    services = doc.get("services") or {}
    want = {"sloe", "prometheus", "alertmanager", "grafana", "workload"}
    check(f"compose: services {sorted(want)}", want <= set(services), sorted(services))
    declared = set((doc.get("volumes") or {}).keys())
    mounts = {}  # service -> [(source, target)]
    missing, undeclared = [], []
    for name, svc in services.items():
        for v in (svc or {}).get("volumes") or []:
            parts = v.split(":")
            src, dst = parts[0], parts[1]
            mounts.setdefault(name, []).append((src, dst))
            if src.startswith((".", "/")):
                host = os.path.normpath(os.path.join(DOCKER, src))
                if not os.path.exists(host):
                    missing.append(f"{name}: {src}")
                elif not os.path.realpath(host).startswith(ROOT + os.sep):
                    missing.append(f"{name}: {src} is outside the repository")
            elif src not in declared:
                undeclared.append(f"{name}: {src}")
        b = (svc or {}).get("build")
        if b:
            ctx = os.path.normpath(os.path.join(DOCKER, b.get("context", ".")))
            df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
            if not os.path.isfile(df):
                missing.append(f"{name}: build {df}")
    n = sum(len(m) for m in mounts.values())
    # Paths the services' environment names inside a bind mount (Grafana's home dashboard).
    for name, svc in services.items():
        for k, v in ((svc or {}).get("environment") or {}).items():
            for src, dst in mounts.get(name, []):
                if isinstance(v, str) and src.startswith(".") and v.startswith(dst + "/"):
                    host = os.path.normpath(os.path.join(DOCKER, src, v[len(dst) + 1:]))
                    if not os.path.exists(host):
                        missing.append(f"{name}: {k}={v} ({host} is missing)")
    check(f"compose: every mounted repository path exists ({n} mounts)", not missing, missing)
    check("compose: named volumes are declared", not undeclared, undeclared)

    # Grafana: provisioning files and the dashboards at the provider's path.
    gm = dict((dst, src) for src, dst in mounts.get("grafana", []))
    prov = os.path.join(ROOT, "dashboards", "provisioning")
    ds_target = [d for d, s in gm.items() if os.path.normpath(os.path.join(DOCKER, s)) ==
                 os.path.join(prov, "datasource.yaml")]
    db_target = [d for d, s in gm.items() if os.path.normpath(os.path.join(DOCKER, s)) ==
                 os.path.join(prov, "dashboards.yaml")]
    check("compose: Grafana gets dashboards/provisioning/datasource.yaml in "
          "/etc/grafana/provisioning/datasources/",
          len(ds_target) == 1 and ds_target[0].startswith(
              "/etc/grafana/provisioning/datasources/") and ds_target[0].endswith(".yaml"),
          ds_target)
    check("compose: Grafana gets dashboards/provisioning/dashboards.yaml in "
          "/etc/grafana/provisioning/dashboards/",
          len(db_target) == 1 and db_target[0].startswith(
              "/etc/grafana/provisioning/dashboards/") and db_target[0].endswith(".yaml"),
          db_target)
    try:
        providers = load_file(os.path.join(prov, "dashboards.yaml")).get("providers") or []
        paths = [p["options"]["path"] for p in providers]
    except (OSError, ValueError, KeyError, TypeError) as e:
        paths = []
        print(f"# dashboards.yaml: {e}")
    jsons = sorted(f for f in os.listdir(os.path.join(ROOT, "dashboards")) if f.endswith(".json"))
    at_path = []
    for p in paths:
        src = gm.get(p) or gm.get(p.rstrip("/"))
        if src:
            host = os.path.normpath(os.path.join(DOCKER, src))
            at_path += [f for f in os.listdir(host) if f.endswith(".json")] \
                if os.path.isdir(host) else []
        else:  # files mounted one by one into the folder
            at_path += [os.path.basename(d) for d in gm if os.path.dirname(d) == p.rstrip("/")
                        and d.endswith(".json")]
    check(f"compose: the dashboard JSON files ({len(jsons)}) are mounted at the provider's "
          f"path {paths}", paths and jsons and set(jsons) <= set(at_path), f"{at_path}")

    # Hosts: what Prometheus scrapes and alerts to, and Grafana's datasource.
    listen = {"sloe": 9363, "prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
    wcmd = " ".join((services.get("workload") or {}).get("command") or [])
    m = re.search(r"--listen=\S*:(\d+)", wcmd)
    if m:
        listen["workload"] = int(m.group(1))
    scmd = " ".join((services.get("sloe") or {}).get("command") or [])
    m = re.search(r"--web\.listen-address=\S*:(\d+)", scmd)
    if m:
        listen["sloe"] = int(m.group(1))
    prom = load_file(os.path.join(DOCKER, "prometheus.yml"))
    targets = []
    for sc in prom.get("scrape_configs") or []:
        for st in sc.get("static_configs") or []:
            targets += [(sc["job_name"], t) for t in st.get("targets") or []]
    for am in (prom.get("alerting") or {}).get("alertmanagers") or []:
        for st in am.get("static_configs") or []:
            targets += [("alerting", t) for t in st.get("targets") or []]
    try:
        ds = load_file(os.path.join(prov, "datasource.yaml"))["datasources"]
        for d in ds:
            u = urllib.parse.urlsplit(d["url"])
            targets.append((f"grafana datasource {d.get('name')}", f"{u.hostname}:{u.port}"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"# datasource.yaml: {e}")
    bad = []
    for job, t in targets:
        host, _, port = t.rpartition(":")
        if host == "localhost" and job == "prometheus":
            host = "prometheus"
        if host not in services or listen.get(host) != int(port):
            bad.append(f"{job} -> {t}")
    check(f"compose: every scrape, alerting and datasource target is a service on its port "
          f"({len(targets)})", targets and not bad, bad)
    jobs = {j for j, _ in targets}
    check("prometheus.yml scrapes the jobs the SLOs and alerts name (checkout, sloe)",
          {"checkout", "sloe"} <= jobs, sorted(jobs))

    # The alert rules: generated into a volume Prometheus reads where rule_files looks.
    pm = dict((dst, src) for src, dst in mounts.get("prometheus", []))
    cfg_dst = [d for d, s in pm.items() if s.endswith("prometheus.yml")]
    ok = False
    if cfg_dst:
        base = os.path.dirname(cfg_dst[0])
        for rf in prom.get("rule_files") or []:
            full = rf if rf.startswith("/") else os.path.join(base, rf)
            vol = pm.get(os.path.dirname(full))
            writers = [n for n, ms in mounts.items() if n != "prometheus" and
                       any(s == vol for s, _ in ms)]
            ok = ok or (vol is not None and any(
                "generate alerts" in " ".join((services[w].get("entrypoint") or []) +
                                              (services[w].get("command") or []))
                for w in writers))
    check("compose: Prometheus' rule_files are in a volume `sloe generate alerts` writes", ok,
          f"rule_files {prom.get('rule_files')}, prometheus mounts {pm}")
    rules_dst = [d for s, d in mounts.get("sloe", []) if s.endswith("rules.yaml")]
    check("compose: sloe serve reads the mounted docker/sloe/rules.yaml",
          rules_dst and any(f"--rules={os.path.dirname(d)}" in scmd for d in rules_dst),
          f"{rules_dst} {scmd}")


def dockerfile_stages(text):
    """[(FROM line, [(instruction, argument text)])] with continuation lines joined."""
    joined, buf = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        joined.append(buf + s)
        buf = ""
    stages = []
    for line in joined:
        ins, _, arg = line.partition(" ")
        ins = ins.upper()
        if ins == "FROM":
            stages.append((arg.strip(), []))
        elif stages:
            stages[-1][1].append((ins, arg.strip()))
    return stages


def apt_packages(run_arg):
    pk = []
    for cmd in re.split(r"&&|;", run_arg):
        words = cmd.split()
        if "apt-get" in words and "install" in words:
            pk += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pk


def check_dockerfile():
    path = os.path.join(DOCKER, "Dockerfile")
    with open(path) as f:
        text = f.read()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    stages = dockerfile_stages(text)
    check("Dockerfile: two stages or more", len(stages) >= 2, [s[0] for s in stages])
    if len(stages) < 2:
        return

    def image(frm):
        img = frm.split()[0]
        return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), img)

    build, runtime = stages[0], stages[-1]
    check(f"Dockerfile: the build stage is Debian 12 ({image(build[0])})",
          re.match(r"(docker\.io/(library/)?)?debian:(12|bookworm)", image(build[0])),
          build[0])
    bruns = " ".join(a for i, a in build[1] if i == "RUN")
    bpk = apt_packages(bruns)
    check("Dockerfile: the build stage installs the -dev packages and runs make",
          "build-essential" in bpk and sum(p.endswith("-dev") for p in bpk) >= 6
          and re.search(r"\bmake\b", bruns), bpk)
    check(f"Dockerfile: the runtime stage is Debian 12 ({image(runtime[0])})",
          re.match(r"(docker\.io/(library/)?)?debian:(12|bookworm)", image(runtime[0])))
    rpk = [p for i, a in runtime[1] if i == "RUN" for p in apt_packages(a)]
    extra = [p for p in rpk if p not in RUNTIME_PACKAGES]
    check(f"Dockerfile: the runtime stage installs only runtime libraries ({len(rpk)})",
          rpk and not extra and not any(BUILD_ONLY.search(p) for p in rpk), extra)
    check("Dockerfile: the runtime stage installs every runtime library sloe links",
          RUNTIME_PACKAGES <= set(rpk), sorted(RUNTIME_PACKAGES - set(rpk)))
    users = [a for i, a in runtime[1] if i == "USER"]
    last_user = users[-1].split(":")[0] if users else "root"
    check(f"Dockerfile: the runtime stage switches to a non-root USER ({last_user})",
          users and last_user not in ("root", "0"), users)
    after = [i for i, _ in runtime[1][[i for i, _ in runtime[1]].index("USER") + 1:]] \
        if users else []
    check("Dockerfile: nothing runs as root after USER", "RUN" not in after, after)
    ins = dict(runtime[1])
    check("Dockerfile: EXPOSE 9363", "9363" in ins.get("EXPOSE", "").split())
    try:
        ep = json.loads(ins.get("ENTRYPOINT", "null"))
        cmd = json.loads(ins.get("CMD", "null"))
    except ValueError:
        ep = cmd = None
    check("Dockerfile: ENTRYPOINT [\"sloe\"]", ep == ["sloe"], ins.get("ENTRYPOINT"))
    check("Dockerfile: CMD serve with --rules and --prometheus.url",
          isinstance(cmd, list) and cmd[:1] == ["serve"]
          and any(c.startswith("--rules=") for c in cmd)
          and any(c.startswith("--prometheus.url=") for c in cmd), cmd)
    copies = [a for i, a in runtime[1] if i == "COPY"]
    check("Dockerfile: the runtime stage copies bin/sloe from the build stage",
          any(c.startswith("--from=") and "bin/sloe" in c for c in copies), copies)
    # COPY sources of the build stage exist and the .dockerignore keeps them.
    ignore_path = os.path.join(DOCKER, "Dockerfile.dockerignore")
    ignores = []
    if os.path.exists(ignore_path):
        ignores = [l.strip().rstrip("/") for l in open(ignore_path)
                   if l.strip() and not l.startswith("#")]
    bad = []
    for i, a in build[1]:
        if i != "COPY" or a.startswith("--from"):
            continue
        for src in a.split()[:-1]:
            s = src.rstrip("/")
            if not os.path.exists(os.path.join(ROOT, s)):
                bad.append(f"{src} missing")
            if any(fnmatch.fnmatch(s, g) or s.startswith(g + "/") for g in ignores):
                bad.append(f"{src} ignored")
    check("Dockerfile: the build stage's COPY sources exist and are in the context", not bad,
          bad)


def check_workload(tmp):
    port = stack.free_port()
    wl = stack.Proc("workload", [sys.executable,
                                 os.path.join(DOCKER, "workload", "workload.py"),
                                 f"--listen=127.0.0.1:{port}", "--rate=600",
                                 "--error-share=0.25", "--slow-share=0.5"],
                    os.path.join(tmp, "workload.log")).start()
    try:
        url = f"http://127.0.0.1:{port}"
        up = stack.wait_for(lambda: stack.get(url + "/-/healthy")[0] == 200, 20, 0.1)
        check("workload: starts and answers /-/healthy", up, wl.log())
        if not up:
            return
        time.sleep(2)
        st, text = stack.get(url + "/metrics")
        vals = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                vals[k] = float(v)
        tot = sum(v for k, v in vals.items() if k.startswith("http_requests_total"))
        err = sum(v for k, v in vals.items()
                  if k.startswith("http_requests_total") and 'code="500"' in k)
        hist = "http_request_duration_seconds"
        cnt = sum(v for k, v in vals.items() if k.startswith(hist + "_count"))
        fast = sum(v for k, v in vals.items()
                   if k.startswith(hist + "_bucket") and 'le="0.3"' in k)
        check(f"workload: /metrics counts requests with time ({tot:.0f} after ~2s at 600/s)",
              st == 200 and 900 <= tot <= 2400, text[:300])
        check("workload: the error share holds (25 %, within one request a series)",
              abs(err - 0.25 * tot) <= 2, f"{err} of {tot}")
        check("workload: every request is observed once, half of them slower than 0.3 s",
              cnt == tot and abs(fast - 0.5 * cnt) <= 2, f"count {cnt}, <=0.3s {fast}")
        st, body = stack.post_form(url + "/control", {"error_share": "0", "rate": "5"})
        st2, body2 = stack.get(url + "/control")
        check("workload: POST /control changes the settings and GET /control reads them",
              st == 200 and json.loads(body2) == {"rate": 5.0, "error_share": 0.0,
                                                   "slow_share": 0.5}, body2)
        st, _ = stack.post_form(url + "/control", {"error_share": "1.5"})
        st2, _ = stack.post_form(url + "/control", {"bogus": "1"})
        check("workload: invalid settings are refused with 400", st == 400 and st2 == 400)
    finally:
        rc = wl.stop()
    check("workload: exits 0 on SIGTERM", rc == 0, f"rc {rc}: {wl.log()[-300:]}")


def main():
    t0 = time.monotonic()
    for b in (SLOE, PROMTOOL, AMTOOL):
        if not os.access(b, os.X_OK):
            print(f"missing {b} (make bin/sloe; make deps)\n0 passed, 1 failed")
            return 1
    with tempfile.TemporaryDirectory(prefix="sloe-docker-test-") as tmp:
        check_prometheus(tmp)
        p = run([AMTOOL, "check-config", os.path.join(DOCKER, "alertmanager.yml")])
        check("amtool check-config docker/alertmanager.yml", p.returncode == 0,
              p.stdout.strip())
        p = run([SLOE, "check", os.path.join(DOCKER, "sloe", "rules.yaml")])
        check("sloe check docker/sloe/rules.yaml", p.returncode == 0, p.stdout.strip())
        check_compose()
        check_dockerfile()
        with open(os.path.join(DOCKER, "workload", "workload.py")) as f:
            ast.parse(f.read())
        check_workload(tmp)
    print(f"# total {time.monotonic() - t0:.1f}s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
