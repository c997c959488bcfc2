#!/usr/bin/env python3
"""The Python half of tests/tools/alerts_live.sh: files derived from deploy/, Prometheus's HTTP API,
and the traffic it produces. Each subcommand prints what it did or found.

  serve-args ROOT SERVICE CLAIMGATE BOOTSTRAP STATE_DIR PORT
      the `env` arguments that run the docker-compose service SERVICE as compose does: its
      environment (a required ${VAR:?...} gets a test value), then CLAIMGATE and the service's
      command line with only the bootstrap servers, the state directory and the HTTP address
      replaced (the --config mount becomes its file in deploy/config); one a line.
  compress-rules IN OUT
      alerts.yml with every duration divided by 60, in the `for:` values and the range selectors
      of the expressions only (10m -> 10s, 1d -> 24m); everything else byte-identical.
  prom-config ROOT RULES OUT NAME=HOST:PORT...
      deploy/prometheus/prometheus.yml with scrape and evaluation every second, RULES as its rule
      file, and each compose target NAME:9464 (`prometheus` for the job's localhost:9090) at
      HOST:PORT; a target not named is left out.
  alerts URL
      the active alerts (pending or firing) of the Prometheus at URL.
  wait URL NAME STATE TIMEOUT [LABEL=VALUE...]
      polls every second until the alert NAME (with those labels) is in STATE (`firing`, or `gone`:
      not active); exit 1 after TIMEOUT seconds. Times are counted from the unix time
      $ALERTS_LIVE_SINCE (the cause, or its undoing), else from the call. What it saw is also
      appended to the file $ALERTS_LIVE_SUMMARY, if set.
  history URL STARTED SCRAPED
      every alert pending or firing at any evaluation since the unix time STARTED (Prometheus's
      start), from its ALERTS series; exit 1 if one fired since SCRAPED (the first scrape of the
      targets).
  await URL PROMQL TIMEOUT
      polls until the instant query PROMQL returns a series; exit 1 after TIMEOUT seconds.
  query URL PROMQL
      an instant query, a series a line.
  claims RATE | ledger-events RATE PREFIX | malformed EVERY
      lines for a console producer, until killed: valid claims (ACCEPT, ACCEPT, REJECT in turn,
      each with its own claim id and traceability code); valid ledger events (registrations of
      the persons PREFIX1, PREFIX2, ...); or the line `not json` every EVERY seconds.
"""
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
import check_rules_against_binary  # noqa: E402  (the compose command lines, started alike)


def serve_args(root, service, claimgate, bootstrap, state_dir, port):
    command, mounts, env = check_rules_against_binary.compose_services(root)[service]
    args = check_rules_against_binary.run_args(claimgate, command, mounts, bootstrap, state_dir,
                                               int(port))
    filled = ["%s=%s" % (k, re.sub(r"\$\{[^}]*\}", "alerts-live-token", v))
              for k, v in sorted(env.items())]
    print("\n".join(filled + args))


# Prometheus's duration units, in milliseconds, largest first.
UNITS = [("y", 365 * 86400000), ("w", 7 * 86400000), ("d", 86400000), ("h", 3600000),
         ("m", 60000), ("s", 1000), ("ms", 1)]
DURATION = r"(?:\d+(?:ms|[smhdwy]))+"


def compress(duration):
    """A Prometheus duration divided by 60, in the largest unit that keeps it whole."""
    ms = sum(int(n) * dict(UNITS)[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", duration))
    ms //= 60
    unit, size = next((u, s) for u, s in UNITS if ms % s == 0)
    return "%d%s" % (ms // size, unit)


def compress_rules(path_in, path_out):
    text = open(path_in).read()
    changes = {}

    def note(old, new):
        changes[(old, new)] = changes.get((old, new), 0) + 1

    def for_value(m):
        new = compress(m.group(2))
        note("for: " + m.group(2), new)
        return m.group(1) + new

    def range_selector(m):
        new = ":".join(compress(d) if d else d for d in m.group(1).split(":"))
        note("[%s]" % m.group(1), "[%s]" % new)
        return "[%s]" % new

    out = re.sub(r"(?m)^([ \t]+for:[ \t]*)(%s)(?=[ \t]*$)" % DURATION, for_value, text)
    out = re.sub(r"\[(%s(?::(?:%s)?)?)\]" % (DURATION, DURATION), range_selector, out)
    # Only `for` and the range selectors of `expr` may differ.
    before, after = yaml.safe_load(text), yaml.safe_load(out)
    for g_before, g_after in zip(before["groups"], after["groups"]):
        for r_before, r_after in zip(g_before["rules"], g_after["rules"]):
            for key in set(r_before) | set(r_after):
                if key not in ("for", "expr"):
                    assert r_before.get(key) == r_after.get(key), (r_before, key)
    with open(path_out, "w") as f:
        f.write(out)
    print(", ".join("%s -> %s (x%d)" % (old, new, n) for (old, new), n in sorted(changes.items())))


def prom_config(root, rules, path_out, targets):
    where = dict(t.split("=", 1) for t in targets)
    with open(os.path.join(root, "deploy/prometheus/prometheus.yml")) as f:
        config = yaml.safe_load(f)
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    config["rule_files"] = [rules]
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            names = [t.split(":")[0] for t in static["targets"]]
            names = ["prometheus" if n == "localhost" else n for n in names]
            static["targets"] = [where[n] for n in names if n in where]
    with open(path_out, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def api(url, path, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    with urllib.request.urlopen(url + path + query, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError("%s%s: %s" % (path, query, body))
    return body["data"]


def label_text(labels, skip=("alertname",)):
    return "{" + ", ".join('%s="%s"' % (k, v) for k, v in sorted(labels.items())
                           if k not in skip) + "}"


def alert_line(a):
    try:
        value = "%g" % float(a.get("value", ""))
    except ValueError:
        value = a.get("value", "")
    return "%-19s %-7s activeAt=%s labels=%s value=%s" % (
        a["labels"]["alertname"], a["state"], a.get("activeAt", "?"), label_text(a["labels"]),
        value)


def active_alerts(url):
    return sorted(api(url, "/api/v1/alerts")["alerts"],
                  key=lambda a: (a["labels"]["alertname"], label_text(a["labels"])))


def print_alerts(url):
    alerts = active_alerts(url)
    if not alerts:
        print("  (no alert pending or firing)")
    for a in alerts:
        print("  " + alert_line(a))


def summary(line):
    path = os.environ.get("ALERTS_LIVE_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def wait(url, name, state, timeout, label_args):
    labels = dict(a.split("=", 1) for a in label_args)
    wanted = name + (label_text(labels) if labels else "")
    start = time.time()
    since = float(os.environ.get("ALERTS_LIVE_SINCE") or start)
    seen = {}  # state -> seconds after `since` when first seen
    while True:
        try:
            mine = [a for a in active_alerts(url) if a["labels"]["alertname"] == name
                    and all(a["labels"].get(k) == v for k, v in labels.items())]
        except (OSError, RuntimeError) as e:
            print("  (Prometheus did not answer: %s)" % e)
            mine = None
        elapsed = time.time() - since
        if mine is not None:
            for a in mine:
                seen.setdefault(a["state"], elapsed)
            if state == "gone" and not mine:
                print("  %s is no longer active, %.0f s after the cause was undone" %
                      (wanted, elapsed))
                summary("  gone %.0f s after the cause was undone" % elapsed)
                return 0
            hits = [a for a in mine if a["state"] == state]
            if hits:
                when = ", ".join("%s at +%.0f s" % kv for kv in sorted(seen.items(),
                                                                        key=lambda kv: kv[1]))
                print("  %s %s (%s after the cause)" % (wanted, state, when))
                summary("%s: %s after the cause" % (name, when))
                for a in hits:
                    print("    " + alert_line(a))
                    summary("  " + alert_line(a))
                return 0
        if time.time() - start > timeout:
            now = ", ".join(a["state"] for a in mine or []) or "not active"
            print("FAIL: %s not %s after %d s (now: %s)" % (wanted, state, timeout, now))
            summary("FAIL: %s not %s after %d s (now: %s)" % (wanted, state, timeout, now))
            return 1
        time.sleep(1)


def alerts_since(url, since):
    """{(name, state, labels)} of the ALERTS series at any evaluation since the unix time `since`,
    and the whole seconds that covers (rounded down: nothing from before `since`)."""
    seconds = max(1, int(time.time() - since))
    result = api(url, "/api/v1/query", query="max_over_time(ALERTS[%ds])" % seconds)["result"]
    return {(r["metric"]["alertname"], r["metric"]["alertstate"],
             label_text(r["metric"], skip=("__name__", "alertname", "alertstate")))
            for r in result}, seconds


def history(url, started, scraped):
    since_start, seconds = alerts_since(url, started)
    since_scrape, _ = alerts_since(url, scraped)
    print("  ALERTS at any evaluation since Prometheus started, max_over_time(ALERTS[%ds]):" %
          seconds)
    if not since_start:
        print("    none pending or firing")
    for name, state, labels in sorted(since_start):
        before = (name, state, labels) not in since_scrape
        print("    %-19s %-7s labels=%s%s" % (name, state, labels,
                                            "  (only before the first scrape)" if before else ""))
    fired = sorted({n for n, s, _ in since_scrape if s == "firing"})
    pending = sorted({n for n, s, _ in since_scrape if s == "pending"} - set(fired))
    summary("healthy: %s after the first scrape" %
            ("FIRED: " + ", ".join(fired) if fired else "no alert fired"))
    if pending:
        print("    pending after the first scrape, never firing: %s (true at an evaluation,"
              " not for their whole `for:`)" % ", ".join(pending))
        summary("  pending at times, never firing: " + ", ".join(pending))
    return 1 if fired else 0


def await_series(url, promql, timeout):
    start = time.time()
    while time.time() - start < timeout:
        try:
            if api(url, "/api/v1/query", query=promql)["result"]:
                return 0
        except (OSError, RuntimeError):
            pass
        time.sleep(0.2)
    print("FAIL: no series for %s after %d s" % (promql, timeout))
    return 1


def query(url, promql):
    print("  " + promql)
    for r in api(url, "/api/v1/query", query=promql)["result"]:
        print("    %s = %s" % (label_text(r["metric"], ("__name__",)), r["value"][1]))


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def event(event_id, body_name, body):
    return json.dumps({"event_id": event_id, "time": body.pop("time"), body_name: body},
                      separators=(",", ":"))


def claims(rate):
    n = 0
    while True:
        n += 1
        # D001 is suspended from 2025-03-10 on (tests/golden/spec_example.jsonl): every third
        # claim is for a service after that, and is rejected.
        service = "2025-03-20T10:30:00+08:00" if n % 3 == 0 else "2025-03-09T10:30:00+08:00"
        emit(event("CL%d" % n, "claim", {
            "time": "2025-03-20T11:00:00+08:00", "claim_id": "CL%d" % n, "kind": "SETTLEMENT",
            "institution_id": "H001", "service_time": service, "visit_type": "OUTPATIENT",
            "insured_id": "P9", "practitioners": [{"person_id": "D001", "role": "PRESCRIBER"}],
            "items": [{"item_code": "X1", "category": "DRUG", "amount_fen": 1250,
                       "traceability_codes": ["8%019d" % n]}]}))
        time.sleep(1.0 / rate)


def ledger_events(rate, prefix):
    n = 0
    burst = max(1, int(rate / 10))  # ten writes a second
    while True:
        for _ in range(burst):
            n += 1
            emit(event("%s%d" % (prefix, n), "person_registered", {
                "time": "2025-04-01T09:00:00+08:00", "person_id": "%s%d" % (prefix, n),
                "institution_id": "H001", "role": "NURSE"}))
        time.sleep(burst / rate)


def malformed(every):
    while True:
        emit("not json")
        time.sleep(every)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "serve-args":
        serve_args(*a)
    elif cmd == "compress-rules":
        compress_rules(*a)
    elif cmd == "prom-config":
        prom_config(a[0], a[1], a[2], a[3:])
    elif cmd == "alerts":
        print_alerts(a[0])
    elif cmd == "wait":
        return wait(a[0], a[1], a[2], int(a[3]), a[4:])
    elif cmd == "history":
        return history(a[0], float(a[1]), float(a[2]))
    elif cmd == "await":
        return await_series(a[0], a[1], int(a[2]))
    elif cmd == "query":
        query(a[0], a[1])
    elif cmd == "claims":
        claims(float(a[0]))
    elif cmd == "ledger-events":
        ledger_events(float(a[0]), a[1])
    elif cmd == "malformed":
        malformed(float(a[0]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:  # the console producer it feeds has stopped
        sys.exit(0)
