#!/usr/bin/env bash
# Validates the Grafana dashboards in deploy/grafana: valid JSON, importable
# as is (datasource variable, schemaVersion, ids), every panel has targets and
# every expression names only metrics of the brief (dashboard_check.py); then,
# when promtool is installed, parses every expression as PromQL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
dir="${repo}/deploy/grafana"
promtool="${PROMTOOL:-promtool}"

die() { echo "dashboards: FAIL: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found"
for service in policy-service gate-service inbox-service; do
  [[ -f "${dir}/${service}.json" ]] || die "missing deploy/grafana/${service}.json"
done

workdir="$(mktemp -d)"
trap 'rm -rf "${workdir}"' EXIT

python3 "${here}/dashboard_check.py" "${dir}"/*.json --promql-rules "${workdir}/expressions.yml" \
  || die "dashboards are not valid (see lines above)"

if command -v "${promtool}" >/dev/null 2>&1; then
  "${promtool}" check rules "${workdir}/expressions.yml" >"${workdir}/promtool.out" 2>&1 || {
    cat "${workdir}/promtool.out" >&2
    die "a dashboard expression is not valid PromQL (the comment above each rule in the output names the panel)"
  }
  echo "dashboards: every expression parses as PromQL (promtool)"
else
  echo "dashboards: promtool not found, PromQL syntax not checked" >&2
fi
echo "dashboards: ok"
