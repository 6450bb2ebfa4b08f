#!/usr/bin/env bash
# Checks the Prometheus rules: syntax (promtool check rules), behaviour
# (promtool test rules: firing and must-not-fire cases) and documentation
# (every alert has severity, summary, description and a runbook_url whose
# anchor exists in deploy/RUNBOOK.md; deploy/checks/alert_policy.py).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
rules="${repo}/deploy/prometheus/alerts.yml"
tests="${repo}/deploy/prometheus/alerts_test.yml"
runbook="${repo}/deploy/RUNBOOK.md"
promtool="${PROMTOOL:-promtool}"

die() { echo "alerts: FAIL: $*" >&2; exit 1; }

command -v "${promtool}" >/dev/null 2>&1 || die "promtool not found (Debian package prometheus, or set PROMTOOL)"
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "alerts: python3 module yaml missing, installing PyYAML with pip" >&2
  python3 -m pip install --quiet pyyaml >/dev/null 2>&1 \
    || die "python3 module yaml (PyYAML) is missing and pip could not install it (apt-get install python3-yaml)"
fi
for file in "${rules}" "${tests}" "${runbook}"; do
  [[ -f "${file}" ]] || die "missing ${file#"${repo}/"}"
done

"${promtool}" check rules "${rules}" || die "promtool check rules rejected ${rules#"${repo}/"}"
# promtool resolves rule_files relative to the test file's directory.
"${promtool}" test rules "${tests}" || die "promtool test rules: a rule did not behave as its test expects (see above)"
python3 "${here}/alert_policy.py" "${rules}" "${tests}" "${runbook}" \
  || die "alerts are not all documented and tested (see lines above)"
echo "alerts: ok"
