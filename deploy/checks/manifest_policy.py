#!/usr/bin/env python3
"""Checks the rollout invariants of rendered manifests that a schema cannot see.

Usage: manifest_policy.py <overlay-name> <rendered.yaml>

The schema check (kubernetes-validate) proves the YAML is a valid Kubernetes
object; this proves it is the object we promised on-call (issue 6, RUNBOOK):
zero-downtime rolling updates, probes on the admin port, a grace period longer
than preStop + drain, non-root read-only containers, limits, the migration Job.
Prints one line per broken rule and exits 1 if there is any.
"""
import sys

import yaml

# The fixed port pairs of the brief.
PORTS = {
    "policy-service": (7101, 9101),
    "gate-service": (7102, 9102),
    "inbox-service": (7103, 9103),
}
PRESTOP_SECONDS = 5


def main() -> int:
    overlay, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d]
    problems: list[str] = []

    def fail(kind: str, name: str, rule: str) -> None:
        problems.append(f"{overlay}: {kind}/{name}: {rule}")

    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)

    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        fail("Deployment", "*", f"expected exactly one Deployment, found {len(deployments)}")
        return report(problems)
    deployment = deployments[0]
    name = deployment["metadata"]["name"]
    if name not in PORTS:
        fail("Deployment", name, f"unknown service; expected one of {sorted(PORTS)}")
        return report(problems)
    wire_port, admin_port = PORTS[name]

    spec = deployment["spec"]
    strategy = spec.get("strategy", {})
    rolling = strategy.get("rollingUpdate", {})
    if strategy.get("type") != "RollingUpdate" or rolling.get("maxSurge") != 1 or rolling.get("maxUnavailable") != 0:
        fail("Deployment", name, "strategy must be RollingUpdate with maxSurge 1 and maxUnavailable 0")

    pod = spec["template"]["spec"]
    annotations = spec["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(admin_port):
        fail("Deployment", name, f"pod needs prometheus.io/scrape=\"true\" and prometheus.io/port=\"{admin_port}\"")
    pod_security = pod.get("securityContext", {})
    if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser") != 10001:
        fail("Deployment", name, "pod securityContext must set runAsNonRoot true and runAsUser 10001")

    container = pod["containers"][0]
    env = collect_env(container, configmaps)
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    if ports.get("wire") != wire_port or ports.get("admin") != admin_port:
        fail("Deployment", name, f"container ports must be wire={wire_port} admin={admin_port}, got {ports}")
    if env.get("WIRE_PORT") != str(wire_port) or env.get("ADMIN_PORT") != str(admin_port):
        fail("Deployment", name, f"WIRE_PORT/ADMIN_PORT must be {wire_port}/{admin_port}, got {env.get('WIRE_PORT')}/{env.get('ADMIN_PORT')}")
    for probe_name, path in (("startupProbe", "/healthz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        probe = container.get(probe_name, {}).get("httpGet", {})
        if probe.get("path") != path or probe.get("port") not in ("admin", admin_port):
            fail("Deployment", name, f"{probe_name} must GET {path} on the admin port")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
    if pre_stop != ["sleep", str(PRESTOP_SECONDS)]:
        fail("Deployment", name, f"preStop must be exec [\"sleep\", \"{PRESTOP_SECONDS}\"], got {pre_stop}")
    try:
        drain = float(env.get("DRAIN_TIMEOUT_SECONDS", "nan"))
    except ValueError:
        drain = float("nan")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if not drain == drain:  # NaN: missing or malformed
        fail("Deployment", name, "DRAIN_TIMEOUT_SECONDS must be set to a number in the ConfigMap")
    elif grace <= PRESTOP_SECONDS + drain:
        fail("Deployment", name, f"terminationGracePeriodSeconds {grace} must exceed preStop {PRESTOP_SECONDS} s + drain {drain:g} s")
    check_container_security(container, "Deployment", name, fail)
    limits = container.get("resources", {}).get("limits", {})
    requests = container.get("resources", {}).get("requests", {})
    if "memory" not in limits or "cpu" not in requests or "memory" not in requests:
        fail("Deployment", name, "container needs cpu/memory requests and a memory limit")
    for variable in ("DATABASE_URL", "WIRE_CREDENTIALS_FILE", "LOG_LEVEL"):
        if variable not in env:
            fail("Deployment", name, f"environment variable {variable} is missing")
    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    if env.get("WIRE_CREDENTIALS_FILE", "").rsplit("/", 1)[0] not in mounts:
        fail("Deployment", name, "WIRE_CREDENTIALS_FILE must point into a mounted volume")
    if "/tmp" not in mounts:
        fail("Deployment", name, "a writable /tmp volume is required with a read-only root filesystem")

    for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Job"):
        if not by_kind.get(kind):
            fail(kind, name, f"missing {kind}")
    for service in by_kind.get("Service", []):
        service_ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
        if service_ports.get("wire") != wire_port or service_ports.get("http-admin") != admin_port:
            fail("Service", service["metadata"]["name"], f"ports must be wire={wire_port} http-admin={admin_port}")
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        if hpa["apiVersion"] != "autoscaling/v2" or hpa["spec"]["scaleTargetRef"]["name"] != name:
            fail("HorizontalPodAutoscaler", hpa["metadata"]["name"], f"must be autoscaling/v2 targeting Deployment {name}")
    for job in by_kind.get("Job", []):
        job_container = job["spec"]["template"]["spec"]["containers"][0]
        if job_container.get("args") != ["migrate", "up"]:
            fail("Job", job["metadata"]["name"], f"migration Job must run `migrate up`, got {job_container.get('args')}")
        check_container_security(job_container, "Job", job["metadata"]["name"], fail)
        job_env = collect_env(job_container, configmaps)
        job_mounts = {m["mountPath"] for m in job_container.get("volumeMounts", [])}
        if job_env.get("BACKUP_DIR") not in job_mounts:
            fail("Job", job["metadata"]["name"], "BACKUP_DIR must be a mounted volume (the migrate step writes its pg_dump there)")
    return report(problems)


def collect_env(container: dict, configmaps: dict) -> dict:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef", {}).get("name")
        env.update({k: str(v) for k, v in configmaps.get(ref, {}).items()})
    for item in container.get("env", []):
        env[item["name"]] = str(item.get("value", "<from secret or field>"))
    return env


def check_container_security(container: dict, kind: str, name: str, fail) -> None:
    security = container.get("securityContext", {})
    if security.get("readOnlyRootFilesystem") is not True:
        fail(kind, name, "container must set readOnlyRootFilesystem true")
    if security.get("allowPrivilegeEscalation") is not False:
        fail(kind, name, "container must set allowPrivilegeEscalation false")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        fail(kind, name, "container must drop ALL capabilities")


def report(problems: list[str]) -> int:
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
