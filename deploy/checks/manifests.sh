#!/usr/bin/env bash
# Renders every kustomize overlay under deploy/k8s/overlays with `kubectl kustomize`
# and validates the output offline:
#   1. against the Kubernetes OpenAPI schemas shipped in the PyPI package
#      kubernetes-validate (strict: unknown fields are errors), and
#   2. against our rollout invariants (deploy/checks/manifest_policy.py).
# Environment: K8S_SCHEMA_VERSION (default 1.30.0), KUBECTL (default kubectl).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
overlays="${repo}/deploy/k8s/overlays"
schema_version="${K8S_SCHEMA_VERSION:-1.30.0}"
kubectl="${KUBECTL:-kubectl}"

die() { echo "manifests: FAIL: $*" >&2; exit 1; }

command -v "${kubectl}" >/dev/null 2>&1 \
  || die "kubectl not found (install Debian's kubernetes-client, or set KUBECTL)"
command -v python3 >/dev/null 2>&1 || die "python3 not found"
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "manifests: kubernetes-validate missing, installing it with pip" >&2
  python3 -m pip install --quiet kubernetes-validate >/dev/null 2>&1 \
    || die "kubernetes-validate is not installed and pip could not install it (python3 -m pip install kubernetes-validate)"
  command -v kubernetes-validate >/dev/null 2>&1 || die "kubernetes-validate installed but not on PATH"
fi
# PyYAML comes with kubernetes-validate; manifest_policy.py needs it too.
python3 -c 'import yaml' 2>/dev/null || die "python3 module yaml (PyYAML) is missing: python3 -m pip install pyyaml"

workdir="$(mktemp -d)"
trap 'rm -rf "${workdir}"' EXIT

count=0
for environment in staging production; do
  for service in policy-service gate-service inbox-service; do
    overlay="${overlays}/${environment}/${service}"
    [[ -f "${overlay}/kustomization.yaml" ]] || die "missing overlay ${overlay#"${repo}/"}/kustomization.yaml"
  done
done

for overlay in "${overlays}"/*/*/; do
  overlay="${overlay%/}"
  label="${overlay#"${overlays}/"}"
  rendered="${workdir}/${label//\//_}.yaml"
  # Newer kustomize prints deprecation notices for the old fields we keep on
  # purpose (bases, commonLabels, patchesStrategicMerge); show anything else.
  if ! "${kubectl}" kustomize "${overlay}" >"${rendered}" 2>"${rendered}.err"; then
    cat "${rendered}.err" >&2
    die "kubectl kustomize ${overlay#"${repo}/"} failed"
  fi
  grep -v "^# Warning: '[a-zA-Z]*' is deprecated" "${rendered}.err" >&2 || true
  [[ -s "${rendered}" ]] || die "kubectl kustomize ${overlay#"${repo}/"} rendered nothing"

  if ! kubernetes-validate --kubernetes-version "${schema_version}" --strict --quiet "${rendered}" >"${rendered}.val" 2>&1; then
    cat "${rendered}.val" >&2
    die "${label}: schema validation against Kubernetes ${schema_version} failed"
  fi
  # kubernetes-validate exits 0 on warnings (e.g. a kind it has no schema for): treat any output as a failure.
  if grep -q . "${rendered}.val"; then
    cat "${rendered}.val" >&2
    die "${label}: kubernetes-validate reported problems"
  fi
  python3 "${here}/manifest_policy.py" "${label}" "${rendered}" \
    || die "${label}: rollout invariants broken (see lines above)"
  resources="$(grep -c '^kind:' "${rendered}")"
  echo "manifests: ok ${label} (${resources} resources, Kubernetes ${schema_version} schemas, invariants)"
  count=$((count + 1))
done

[[ "${count}" -ge 6 ]] || die "expected at least 6 overlays, validated ${count}"
echo "manifests: all ${count} overlays render and validate"
