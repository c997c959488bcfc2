#!/usr/bin/env python3
"""Checks the shipped Prometheus rules and Grafana dashboard against running processes.

Usage: check_rules_against_binary.py CLAIMGATE [--root DIR] [--keep DIR]

Starts `claimgate mock-broker`, then the ledger and a gate with the command lines, configuration files and
environment deploy/docker-compose.yml gives them (only the broker address, the state directory and the HTTP
address are replaced), waits until both are ready, scrapes their /metrics and checks:

1. Each process exports the series of its own role only: a series with a `service` label names the role.
2. Every selector of the alerts, the recording rules and the dashboard (metric name and equality matchers;
   Prometheus's `job`/`instance` and Grafana's variables aside) matches a series scraped at start-up, so
   `increase()` sees the first event and no panel reads "No data" (a label value created at zero, a lag
   reported from assignment on). A selector naming `service="X"` must be matched by the role X.
   Every *_timestamp_seconds series is a time within a day of now.
3. With promtool: a unit test built from the scraped series (each role under the job name prometheus.yml
   gives it, an hour of healthy samples: counters flat, gauges as scraped, timestamps moving with time)
   fires no alert at all.

Exit status: 0 when all pass, 1 listing what failed, 2 on a usage or start-up error. Every process it starts
is stopped (by its PID) before it exits.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_dashboard  # noqa: E402  (the dashboard's expressions, Grafana's variables replaced)

IGNORED_LABELS = {"job", "instance"}  # added by Prometheus at the scrape
JOB_OF_ROLE = {}                      # role -> job name, from deploy/prometheus/prometheus.yml


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


class Processes:
    """Processes started here, stopped by PID (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self):
        self.started = []

    def start(self, args, log_path, env=None, stdout=None):
        log = open(log_path, "w")
        p = subprocess.Popen(args, stdout=stdout or log, stderr=log, env=env)
        self.started.append((p, log))
        return p

    def stop_all(self):
        for p, _ in reversed(self.started):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, log in reversed(self.started):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


def compose_services(root):
    """service name -> (command line, {container path: file on the host}, environment) of every compose
    service that runs `claimgate serve`."""
    with open(os.path.join(root, "deploy/docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    out = {}
    for name, service in sorted(compose["services"].items()):
        command = service.get("command") or []
        if not command or command[0] != "serve":
            continue
        mounts = {}
        for v in service.get("volumes", []):
            parts = v.split(":")
            if parts[0].startswith("./"):
                mounts[parts[1]] = os.path.join(root, "deploy", parts[0][2:])
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        out[name] = (command, mounts, env)
    return out


def compose_commands(root):
    """role -> (service name, command line, config file on the host, environment) of the compose services."""
    out = {}
    for name, (command, mounts, env) in sorted(compose_services(root).items()):
        role = next(a.split("=", 1)[1] for a in command if a.startswith("--role="))
        if role in out:
            continue  # the first gate stands for the others (they differ in their ids only)
        out[role] = (name, command, mounts, env)
    return out


def run_args(binary, command, mounts, bootstrap, state_dir, port):
    args = [binary]
    for a in command:
        key, _, value = a.partition("=")
        if key == "--bootstrap-servers":
            a = "--bootstrap-servers=" + bootstrap
        elif key == "--state-dir":
            a = "--state-dir=" + state_dir
        elif key == "--http-address":
            a = "--http-address=127.0.0.1:%d" % port
        elif key == "--config":
            a = "--config=" + mounts[value]
        args.append(a)
    return args


SERIES = re.compile(r'^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """[(name, {label: value}, value)]."""
    series = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES.match(line)
        if m:
            series.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return series


SELECTOR = re.compile(r'(?<![\w:.$"])([a-z_][\w]*)\s*(\{[^{}]*\})?')
MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def selectors(expr):
    """[(metric name, {label: value})]: the equality matchers of each claimgate_/process_ selector."""
    out = []
    stripped = re.sub(r"\[[^\]]*\]", " ", expr)
    for m in SELECTOR.finditer(stripped):
        name = m.group(1)
        if not name.startswith(("claimgate_", "process_")):
            continue
        equal = {k: v for k, op, v in MATCHER.findall(m.group(2) or "") if op == "="}
        out.append((name, {k: v for k, v in equal.items() if k not in IGNORED_LABELS}))
    return out


def rule_expressions(root):
    with open(os.path.join(root, "deploy/prometheus/alerts.yml")) as f:
        rules = yaml.safe_load(f)
    out, alerts = [], []
    for group in rules["groups"]:
        for r in group["rules"]:
            what = r.get("alert") or r.get("record")
            out.append(("%s %s" % ("alert" if "alert" in r else "record", what), r["expr"]))
            if "alert" in r:
                alerts.append(r["alert"])
    return out, alerts


def dashboard_expressions(root):
    out = []
    pattern = os.path.join(root, "deploy/grafana/dashboards/*.json")
    for path in sorted(check_dashboard.glob.glob(pattern)):
        for where, expr, _ in check_dashboard.dashboard_exprs(path):
            out.append((os.path.relpath(where, root), expr))
    return out


def series_matches(name, labels, scraped):
    """The roles with a series of `name` carrying `labels` (a histogram's name matches its series)."""
    roles = set()
    for role, series in scraped.items():
        for n, l, _ in series:
            histogram = n.endswith(("_bucket", "_sum", "_count")) and n.rsplit("_", 1)[0] == name
            if (n == name or histogram) and all(l.get(k) == v for k, v in labels.items()):
                roles.add(role)
    return roles


def promtool_test(root, scraped, alerts, work):
    """A promtool unit test: an hour of the scraped series, healthy; no alert fires."""
    lines = []
    for role, series in sorted(scraped.items()):
        for name, labels, value in series:
            all_labels = dict(labels, job=JOB_OF_ROLE[role], instance="%s:9464" % role)
            text = ",".join('%s="%s"' % (k, v) for k, v in sorted(all_labels.items()))
            if name.endswith("_timestamp_seconds") and name != "process_start_time_seconds":
                values = "0+60x60"  # confirmed every minute
            else:
                values = "%sx60" % repr(value)
            lines.append("      - series: '%s{%s}'\n        values: '%s'" % (name, text, values))
    checks = []
    for minute in (15, 30, 60):
        for alert in alerts:
            checks.append("      - eval_time: %dm\n        alertname: %s\n        exp_alerts: []" %
                          (minute, alert))
    shutil.copy(os.path.join(root, "deploy/prometheus/alerts.yml"), os.path.join(work, "alerts.yml"))
    path = os.path.join(work, "healthy_test.yml")
    with open(path, "w") as f:
        f.write("rule_files:\n  - alerts.yml\nevaluation_interval: 1m\ntests:\n"
                "  - interval: 1m\n    input_series:\n%s\n    alert_rule_test:\n%s\n" %
                ("\n".join(lines), "\n".join(checks)))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claimgate")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    parser.add_argument("--keep", help="write the scrapes and the generated promtool test here")
    a = parser.parse_args()

    with open(os.path.join(a.root, "deploy/prometheus/prometheus.yml")) as f:
        for job in yaml.safe_load(f)["scrape_configs"]:
            for role in ("gate", "ledger"):
                if job["job_name"] == "claimgate-" + role:
                    JOB_OF_ROLE[role] = job["job_name"]
    work = a.keep or tempfile.mkdtemp(prefix="rules-against-binary-")
    os.makedirs(work, exist_ok=True)
    procs = Processes()
    failures = []
    try:
        broker = procs.start([a.claimgate, "mock-broker", "--brokers", "1"],
                             os.path.join(work, "broker.log"), stdout=subprocess.PIPE)
        bootstrap = broker.stdout.readline().decode().strip()
        if not bootstrap:
            print("check_rules_against_binary: mock-broker printed no bootstrap list", file=sys.stderr)
            return 2
        ports = {}
        for role, (service, command, mounts, env) in sorted(compose_commands(a.root).items()):
            ports[role] = free_port()
            state = os.path.join(work, role + "-state")
            shutil.rmtree(state, ignore_errors=True)
            environment = dict(os.environ)
            for k, v in env.items():
                # ${VAR:?message} (required): a value for the test.
                environment[k] = re.sub(r"\$\{[^}]*\}", "rules-against-binary-token", v)
            args = run_args(a.claimgate, command, mounts, bootstrap, state, ports[role])
            print("%s (compose service %s): %s" % (role, service, " ".join(args[1:])))
            procs.start(args, os.path.join(work, role + ".log"), env=environment)
        deadline = time.time() + 60
        for role, port in sorted(ports.items()):
            while http_get("http://127.0.0.1:%d/readyz" % port)[0] != 200:
                if time.time() > deadline:
                    print("check_rules_against_binary: the %s is not ready after 60 s (%s)" %
                          (role, os.path.join(work, role + ".log")), file=sys.stderr)
                    return 2
                time.sleep(0.2)
        # The claims partitions reach the gate once the group has assigned them.
        scraped = {}
        while True:
            for role, port in sorted(ports.items()):
                status, text = http_get("http://127.0.0.1:%d/metrics" % port)
                if status != 200:
                    print("check_rules_against_binary: /metrics of the %s: %s" % (role, status),
                          file=sys.stderr)
                    return 2
                with open(os.path.join(work, role + ".metrics"), "w") as f:
                    f.write(text)
                scraped[role] = parse_exposition(text)
            if series_matches("claimgate_consumergroup_lag", {"topic": "claims"}, scraped) or \
                    time.time() > deadline:
                break
            time.sleep(0.5)
    finally:
        procs.stop_all()

    # 1. Each role's own series.
    for role, series in sorted(scraped.items()):
        for name, labels, _ in series:
            if "service" in labels and labels["service"] != role:
                failures.append("the %s exports %s{service=\"%s\"}" % (role, name, labels["service"]))
    # 1b. Timestamps are times: within a day of now (a gauge left at 0 reads as 1970 to time() - x).
    now = time.time()
    for role, series in sorted(scraped.items()):
        for name, labels, value in series:
            if name.endswith("_timestamp_seconds") and not now - 86400 < value < now + 60:
                failures.append("the %s exports %s %s, not a time near now (%d)" %
                                (role, name, value, now))
    # 2. Every selector matched at start-up.
    rules, alerts = rule_expressions(a.root)
    checked = 0
    for where, expr in rules + dashboard_expressions(a.root):
        for name, labels in selectors(expr):
            checked += 1
            roles = series_matches(name, labels, scraped)
            want = labels.get("service")
            matchers = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
            shown = name + ("{%s}" % matchers if labels else "")
            if not roles:
                failures.append("%s: %s is exported by no role at start-up" % (where, shown))
            elif want and want not in roles:
                failures.append("%s: %s is exported by %s, not by the %s" %
                                (where, shown, ", ".join(sorted(roles)), want))
    print("selectors: %d checked against %s" %
          (checked, ", ".join("%s (%d series)" % (r, len(s)) for r, s in sorted(scraped.items()))))
    # 3. promtool: healthy series fire nothing.
    promtool = shutil.which("promtool")
    if promtool is None:
        print("promtool not found (apt-get install prometheus): the healthy-series test is skipped")
    else:
        path = promtool_test(a.root, scraped, alerts, work)
        r = subprocess.run([promtool, "test", "rules", path], cwd=work, capture_output=True, text=True)
        if r.returncode != 0:
            failures.append("promtool test rules %s (series scraped from the binary):\n%s%s" %
                            (path, r.stdout, r.stderr))
        else:
            print("promtool: %d alerts stay silent over an hour of the scraped series" % len(alerts))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
