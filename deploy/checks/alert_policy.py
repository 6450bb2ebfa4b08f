#!/usr/bin/env python3
"""Checks what promtool does not: every alert is documented and tested both ways.

Usage: alert_policy.py <alerts.yml> <alerts_test.yml> <RUNBOOK.md>

For every alert in the rule file:
  - labels.severity is critical or warning;
  - annotations summary, description and runbook_url exist;
  - the runbook_url anchor is a heading of RUNBOOK.md (GitHub slug) and equals
    the lowercased alert name;
  - the tests hold at least one case where it fires and one where it must not.
Prints one line per problem and exits 1 if there is any.
"""
import re
import sys

import yaml

SEVERITIES = {"critical", "warning"}


def github_slug(heading: str) -> str:
    """The anchor GitHub generates for a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def main() -> int:
    rules_path, tests_path, runbook_path = sys.argv[1:4]
    with open(rules_path, encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)
    with open(tests_path, encoding="utf-8") as handle:
        tests = yaml.safe_load(handle)
    with open(runbook_path, encoding="utf-8") as handle:
        anchors = {github_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", handle.read(), re.MULTILINE)}

    fires: set[str] = set()
    quiet: set[str] = set()
    for test in tests.get("tests", []):
        for case in test.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])

    problems: list[str] = []
    alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    if not alerts:
        problems.append(f"{rules_path}: no alerts found")
    for rule in alerts:
        name = rule["alert"]
        severity = rule.get("labels", {}).get("severity")
        if severity not in SEVERITIES:
            problems.append(f"{name}: labels.severity must be one of {sorted(SEVERITIES)}, got {severity!r}")
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not annotations.get(key):
                problems.append(f"{name}: annotation {key} is missing")
        url = annotations.get("runbook_url", "")
        anchor = url.rsplit("#", 1)[1] if "#" in url else ""
        if not url.split("#", 1)[0].endswith("deploy/RUNBOOK.md"):
            problems.append(f"{name}: runbook_url must point into deploy/RUNBOOK.md, got {url!r}")
        if anchor != name.lower():
            problems.append(f"{name}: runbook_url anchor must be #{name.lower()}, got #{anchor}")
        elif anchor not in anchors:
            problems.append(f"{name}: RUNBOOK.md has no heading for #{anchor} (add '### {name}')")
        if name not in fires:
            problems.append(f"{name}: no test case in which it fires")
        if name not in quiet:
            problems.append(f"{name}: no test case in which it must not fire")

    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not problems:
        print(f"alerts: {len(alerts)} alerts documented in the runbook and tested firing and quiet")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
