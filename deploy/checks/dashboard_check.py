#!/usr/bin/env python3
"""Validates the Grafana dashboards in deploy/grafana.

Usage: dashboard_check.py <dashboard.json>... [--promql-rules <out.yml>]

For each dashboard: valid JSON; uid, title and schemaVersion (>= 36) set; a
`datasource` template variable of type datasource that every panel and target
uses (so the file imports as is, whatever the Prometheus data source is
called); unique panel ids; every non-row panel has at least one target with a
refId and an expression; every metric an expression names is one of the
brief's metrics ("Metric names"). With --promql-rules, also writes every
expression (Grafana variables replaced) as recording rules so that
`promtool check rules` can parse the PromQL.
Prints one line per problem and exits 1 if there is any.
"""
import json
import re
import sys

# The brief's metric names, "Metric names" section. Histograms expose _bucket/_sum/_count.
COUNTERS_AND_GAUGES = {
    "o4o_policy_resolution_total", "o4o_policy_resolution_failures_total",
    "seller_auth_gate_checks_total", "seller_auth_gate_denies_total",
    "seller_auth_gate_cache_hits_total", "seller_auth_gate_cache_misses_total", "seller_auth_gate_fallbacks_total",
    "seller_auth_requests_total", "seller_auth_limit_rejections_total", "seller_auth_cooldown_blocks_total",
    "seller_auth_inbox_size", "seller_auth_inbox_max_supplier_size",
    "wire_calls_total", "wire_connections", "runtime_flags_stale", "runtime_flags_last_refresh_timestamp_seconds",
}
HISTOGRAMS = {
    "o4o_policy_resolution_duration_seconds", "o4o_commission_calculation_duration_seconds",
    "seller_auth_gate_duration_seconds", "seller_auth_decision_duration_seconds", "wire_call_duration_seconds",
}
KNOWN_METRICS = COUNTERS_AND_GAUGES | {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}

# PromQL words that look like identifiers but are not metric names.
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "time", "timestamp", "vector",
    "scalar", "abs", "ceil", "floor", "round", "clamp", "clamp_min", "clamp_max", "label_replace", "label_join",
    "sort", "sort_desc", "absent", "absent_over_time", "changes", "resets", "avg_over_time", "max_over_time",
    "min_over_time", "sum_over_time", "count_over_time", "last_over_time", "predict_linear", "exp", "ln", "log2",
    "log10", "sqrt", "inf", "nan",
}
VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}


def metric_names(expr: str) -> list[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # string literals (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)                     # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                    # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    text = re.sub(r"\$\w+", "", text)                         # Grafana variables
    names = re.findall(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", text)
    return [n for n in names if n.lower() not in PROMQL_WORDS]


def main() -> int:
    args = sys.argv[1:]
    rules_out = None
    if "--promql-rules" in args:
        index = args.index("--promql-rules")
        rules_out = args[index + 1]
        del args[index:index + 2]
    problems: list[str] = []
    expressions: list[tuple[str, str]] = []

    def fail(path: str, where: str, rule: str) -> None:
        problems.append(f"{path}: {where}: {rule}")

    if not args:
        problems.append("no dashboards given")
    for path in args:
        try:
            with open(path, encoding="utf-8") as handle:
                board = json.load(handle)
        except (OSError, json.JSONDecodeError) as error:
            fail(path, "file", f"not valid JSON: {error}")
            continue
        for key in ("uid", "title"):
            if not isinstance(board.get(key), str) or not board[key]:
                fail(path, "dashboard", f"{key} must be a non-empty string")
        if not isinstance(board.get("schemaVersion"), int) or board["schemaVersion"] < 36:
            fail(path, "dashboard", f"schemaVersion must be an integer >= 36, got {board.get('schemaVersion')!r}")
        if board.get("id") is not None:
            fail(path, "dashboard", "id must be null so the import creates the dashboard")
        variables = {v.get("name"): v for v in board.get("templating", {}).get("list", [])}
        if variables.get("datasource", {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
            fail(path, "templating", "needs a variable `datasource` of type datasource with query prometheus")

        panels = list(board.get("panels", []))
        for panel in list(panels):
            panels.extend(panel.get("panels", []))  # panels nested in collapsed rows
        ids = [p.get("id") for p in panels]
        if len(ids) != len(set(ids)):
            fail(path, "panels", "panel ids must be unique")
        graph_panels = [p for p in panels if p.get("type") != "row"]
        if not graph_panels:
            fail(path, "panels", "no panels")
        for panel in graph_panels:
            where = f"panel {panel.get('id')} '{panel.get('title', '')}'"
            if not panel.get("title"):
                fail(path, where, "title is empty")
            if not all(k in panel.get("gridPos", {}) for k in ("x", "y", "w", "h")):
                fail(path, where, "gridPos needs x, y, w and h")
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                fail(path, where, "datasource uid must be ${datasource}")
            targets = panel.get("targets", [])
            if not targets:
                fail(path, where, "has no targets")
            for target in targets:
                expr = target.get("expr", "")
                if not target.get("refId") or not expr.strip():
                    fail(path, where, "every target needs a refId and an expr")
                    continue
                if target.get("datasource", {}).get("uid") != "${datasource}":
                    fail(path, where, f"target {target['refId']}: datasource uid must be ${{datasource}}")
                names = metric_names(expr)
                if not names:
                    fail(path, where, f"target {target['refId']}: names no metric: {expr}")
                for name in names:
                    if name not in KNOWN_METRICS:
                        fail(path, where, f"target {target['refId']}: '{name}' is not a metric of the brief")
                concrete = expr
                for variable, value in VARIABLES.items():
                    concrete = concrete.replace(variable, value)
                expressions.append((f"{path} {where} {target['refId']}", concrete))

    if rules_out is not None:
        with open(rules_out, "w", encoding="utf-8") as handle:
            handle.write("groups:\n  - name: dashboard-expressions\n    rules:\n")
            for index, (where, expr) in enumerate(expressions):
                handle.write(f"      # {where}\n      - record: dashboard:expr_{index}\n        expr: {json.dumps(expr)}\n")

    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not problems:
        print(f"dashboards: {len(args)} dashboards, {len(expressions)} expressions name only the brief's metrics")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
