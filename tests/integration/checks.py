"""checks: how every integration test counts and prints its checks (Python standard library).

Each check prints one line, "ok   NAME" or "FAIL NAME: DETAIL"; finish() prints the closing
line "N passed, N failed" and returns the exit code: 1 when a check failed or none passed.
One test runs per process, so the counts are this module's.
"""

passed = failed = 0


def check(name, ok, detail=""):
    """Counts and prints one check; returns ok, so a caller can stop early on a failure."""
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}{': ' + str(detail) if detail else ''}", flush=True)
    return ok


def skip(name, why):
    print(f"skip {name}: {why}", flush=True)


def note(msg):
    print(f"# {msg}", flush=True)


def finish():
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not passed else 0
