#!/usr/bin/env python3
"""Checks that the Grafana dashboard and the Prometheus rules name only metrics claimgate exports.

Usage: check_dashboard.py METRICS_FILE [--dashboard JSON]... [--rules YAML]... [--emit-rules FILE]

METRICS_FILE lists the exported metric names, one a line (deploy/metrics.txt); blank lines and lines starting
with '#' are skipped. A name NAME_bucket, NAME_sum or NAME_count is accepted when NAME is listed and is not a
counter (a histogram's series). Names with a ':' are accepted when a rules file records them.

--emit-rules FILE also writes every panel expression as a recording rule (Grafana's variables replaced), so
that `promtool check rules FILE` checks their PromQL syntax (tests/deploy/check_deploy.sh does).

The defaults are deploy/grafana/dashboards/*.json and deploy/prometheus/alerts.yml of this repository.
Exit status: 0 when every name is known, 1 listing the unknown names (with where they occur), 2 on a usage
or input error. Python 3 standard library only.
"""
import argparse
import glob
import json
import os
import re
import sys

# PromQL words that are not metric names: keywords, aggregation operators, functions.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "offset", "atan2", "inf", "nan",
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio",
}
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
    "histogram_stdvar", "histogram_sum", "holt_winters", "double_exponential_smoothing", "hour", "idelta",
    "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month",
    "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label",
    "sort_by_label_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time",
    "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
    "stdvar_over_time", "last_over_time", "present_over_time", "mad_over_time", "acos", "acosh", "asin",
    "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
IDENT = re.compile(r"(?<![\w.:$])[A-Za-z_:][\w:]*")


def metric_names(expr):
    """The metric names an expression selects (PromQL, with Grafana's $variables)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "1", e)                                     # Grafana variables
    e = re.sub(r"\{[^{}]*\}", " ", e)                                            # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                            # ranges, subqueries
    # Label lists of by/without/on/ignoring/group_left/group_right.
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", r" \1 ", e)
    names = []
    for m in IDENT.finditer(e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if word in KEYWORDS or (word in FUNCTIONS and rest.startswith("(")):
            continue
        if re.fullmatch(r"(?i)inf|nan", word):
            continue
        names.append(word)
    return names


def grafana_query_names(query):
    """Metric names in a templating query: label_values([SELECTOR,] LABEL), query_result(EXPR), or PromQL."""
    m = re.fullmatch(r"\s*label_values\((.*)\)\s*", query, re.S)
    if m:
        args = m.group(1)
        return metric_names(args.rsplit(",", 1)[0]) if "," in args else []
    m = re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.S)
    if m:
        return metric_names(m.group(1))
    if re.fullmatch(r"\s*(label_names|metrics)\(.*\)\s*", query, re.S):
        return []
    return metric_names(query)


def dashboard_exprs(path):
    """(where, expression, kind) for every panel target (kind "promql") and templating query ("grafana").

    Rules files give kind "rule"."""
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    found = []

    def walk_panels(panels):
        for p in panels or []:
            title = p.get("title", "?")
            for t in p.get("targets", []) or []:
                if isinstance(t, dict) and t.get("expr"):
                    found.append((f"{path}: panel '{title}' target {t.get('refId', '?')}", t["expr"], "promql"))
            walk_panels(p.get("panels"))

    walk_panels(dash.get("panels"))
    for v in (dash.get("templating") or {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if q:
            found.append((f"{path}: variable '{v.get('name', '?')}'", q, "grafana"))
    return found


def rules_exprs(path):
    """(where, expression) for every expr of a Prometheus rules file, and the names it records.

    A small reader for the subset of YAML rule files use: `expr:` with a plain, quoted or block (| >) scalar.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    exprs, recorded = [], set()
    name = "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)(?:-\s+)?(alert|record|expr):\s*(.*?)\s*$", line)
        i += 1
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2), m.group(3)
        value = re.sub(r"\s+#.*$", "", value) if not value.startswith(("'", '"')) else value
        if key in ("alert", "record"):
            name = value.strip("'\"")
            if key == "record":
                recorded.add(name)
            continue
        if value in ("|", ">", "|-", ">-", "|+", ">+"):
            block = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            value = "\n".join(block)
        elif value.startswith('"'):
            value = json.loads(value)
        elif value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        exprs.append((f"{path}: rule '{name}'", value))
    return exprs, recorded


def emit_rules(path, exprs):
    """Panel expressions as a rules file: $__rate_interval and friends become 5m, other variables .*."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (where, x) in enumerate(exprs):
            x = re.sub(r"\$__(rate_)?interval|\$\{__(rate_)?interval\}|\$__range", "5m", x)
            x = re.sub(r"\$\{\w+\}|\$\w+", ".*", x)
            f.write(f"      # {where}\n      - record: dashboard:expr{i}\n        expr: {json.dumps(x)}\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", help="file of exported metric names, one a line")
    ap.add_argument("--dashboard", action="append", help="dashboard JSON (repeatable)")
    ap.add_argument("--rules", action="append", help="Prometheus rules YAML (repeatable)")
    ap.add_argument("--emit-rules", help="write the panel expressions as recording rules to this file")
    args = ap.parse_args()
    dashboards = args.dashboard or sorted(glob.glob(os.path.join(root, "deploy/grafana/dashboards/*.json")))
    rules = args.rules or [os.path.join(root, "deploy/prometheus/alerts.yml")]
    try:
        with open(args.metrics, encoding="utf-8") as f:
            known = {l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")}
        exprs, recorded = [], set()
        for r in rules:
            e, rec = rules_exprs(r)
            exprs += [(where, x, "rule") for where, x in e]
            recorded |= rec
        for d in dashboards:
            exprs += dashboard_exprs(d)
    except (OSError, ValueError) as err:
        print(f"check_dashboard: {err}", file=sys.stderr)
        return 2
    if not known:
        print(f"check_dashboard: {args.metrics} lists no metric", file=sys.stderr)
        return 2
    if not exprs:
        print("check_dashboard: found no expression to check", file=sys.stderr)
        return 2

    if args.emit_rules:
        emit_rules(args.emit_rules, [(w, x) for w, x, kind in exprs if kind == "promql"])

    def ok(name):
        if name in known or name in recorded:
            return True
        for s in HISTOGRAM_SUFFIXES:
            if name.endswith(s):
                base = name[: -len(s)]
                if base in known and not base.endswith("_total"):
                    return True
        return False

    unknown, checked = [], 0
    for where, x, kind in exprs:
        names = grafana_query_names(x) if kind == "grafana" else metric_names(x)
        if not names and kind != "grafana":
            unknown.append((where, "(no metric name)"))
        for n in names:
            checked += 1
            if not ok(n):
                unknown.append((where, n))
    if unknown:
        for where, n in unknown:
            print(f"unknown metric {n}: {where}")
        print(f"check_dashboard: {len(unknown)} unknown of {checked} metric references", file=sys.stderr)
        return 1
    print(f"check_dashboard: {len(exprs)} expressions, {checked} metric references, all in {args.metrics}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
