"""How the plant's resources fit together: autoscaling, Service/Ingress/PDB wiring and zero trust."""

from __future__ import annotations

from typing import Any

from graders.lab08 import sections
from graders.lab08.k8s_manifests import BLUE_GREEN_DIR, K8S_DIR, Manifest, ManifestSet, containers, pod_labels
from graders.lab08.selectors import label_selector_matches, service_selects
from graders.lab08.wiring import pdb_problems, port_exists
from graders.sdk import Checklist, check, fail

CUSTOM_METRIC_TYPES = ("Pods", "Object", "External")
QUEUE_TRIGGERS = (
    "redis",
    "rabbitmq",
    "gcp-pubsub",
    "aws-sqs-queue",
    "azure-servicebus",
    "azure-queue",
    "kafka",
    "nats-jetstream",
)


def _deployments(manifest_set: ManifestSet) -> dict[str, Manifest]:
    return {m.name: m for m in manifest_set.outside(BLUE_GREEN_DIR) if m.kind == "Deployment"}


def _target(ref: Any, deployments: dict[str, Manifest]) -> Manifest | None:
    if not isinstance(ref, dict) or ref.get("kind", "Deployment") != "Deployment":
        return None
    return deployments.get(str(ref.get("name")))


def _cpu_requested(deployment: Manifest) -> list[str]:
    """Names of containers without a CPU request (HPA utilisation is measured against it).

    A container with a CPU limit but no request gets the limit as its request (Kubernetes defaulting).
    """
    missing = []
    for container in containers(deployment):
        resources = container.get("resources") or {}
        given = [resources.get(part) or {} for part in ("requests", "limits")] if isinstance(resources, dict) else []
        if not any(isinstance(part, dict) and "cpu" in part for part in given):
            missing.append(str(container.get("name", "?")))
    return missing


@check(7, "HPA on CPU and a custom metric; KEDA scales the worker on queue depth", section=sections.AUTOSCALING)
def test_autoscaling(manifest_set: ManifestSet, checklist: Checklist) -> None:
    deployments = _deployments(manifest_set)
    hpas = [m for m in manifest_set.outside(BLUE_GREEN_DIR) if m.kind == "HorizontalPodAutoscaler"]
    if not hpas:
        fail(f"no HorizontalPodAutoscaler under {K8S_DIR}/: add an autoscaling/v2 HPA for the API", K8S_DIR)
    hpa = hpas[0]
    spec = hpa.spec
    target = _target(spec.get("scaleTargetRef"), deployments)
    checklist.require(
        target is not None,
        f"{hpa.label}: scaleTargetRef {spec.get('scaleTargetRef')} names no Deployment in {K8S_DIR}/",
        hpa.where,
    )
    metrics = [m for m in spec.get("metrics") or [] if isinstance(m, dict)]
    cpu = [
        m
        for m in metrics
        if m.get("type") in ("Resource", "ContainerResource")
        and (m.get("resource") or m.get("containerResource") or {}).get("name") == "cpu"
    ]
    checklist.require(cpu, f"{hpa.label}: add a Resource metric on cpu (target type Utilization)", hpa.where)
    checklist.require(
        any(m.get("type") in CUSTOM_METRIC_TYPES for m in metrics),
        f"{hpa.label}: add a custom metric (type Pods, Object or External), e.g. requests per second or latency "
        "served by prometheus-adapter",
        hpa.where,
    )
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    checklist.require(
        isinstance(low, int) and isinstance(high, int) and 2 <= low < high,
        f"{hpa.label}: minReplicas ({low}) should be at least 2 for availability and below maxReplicas ({high})",
        hpa.where,
    )
    if target is not None and cpu:
        missing = _cpu_requested(target)
        checklist.require(
            not missing,
            f"{hpa.label} scales on CPU utilisation, which is measured against the CPU request, but container(s) "
            f"{', '.join(missing)} of {target.label} request no CPU: set resources.requests.cpu",
            target.where,
        )
    scaled = [m for m in manifest_set.outside(BLUE_GREEN_DIR) if m.kind == "ScaledObject"]
    if not checklist.require(
        scaled, f"no KEDA ScaledObject under {K8S_DIR}/: scale the worker on queue depth", K8S_DIR
    ):
        return
    keda = scaled[0]
    keda_target = _target(keda.spec.get("scaleTargetRef"), deployments)
    checklist.require(
        keda_target is not None,
        f"{keda.label}: scaleTargetRef {keda.spec.get('scaleTargetRef')} names no Deployment in {K8S_DIR}/",
        keda.where,
    )
    checklist.require(
        keda_target is None or target is None or keda_target.name != target.name,
        f"{keda.label} and {hpa.label} scale the same Deployment; KEDA creates its own HPA, so they would fight",
        keda.where,
    )
    triggers = [t for t in keda.spec.get("triggers") or [] if isinstance(t, dict)]
    on_queue = [
        t
        for t in triggers
        if t.get("type") in QUEUE_TRIGGERS or "queue" in str((t.get("metadata") or {}).get("query", "")).lower()
    ]
    checklist.require(
        on_queue,
        f"{keda.label}: add a trigger on the queue's depth (e.g. type prometheus with query "
        "sum(copilot_queue_depth{...}), or the queue's own scaler)",
        keda.where,
    )
    low, high = keda.spec.get("minReplicaCount", 0), keda.spec.get("maxReplicaCount", 100)
    checklist.require(
        isinstance(low, int) and isinstance(high, int) and low <= high,
        f"{keda.label}: minReplicaCount ({low}) must not exceed maxReplicaCount ({high})",
        keda.where,
    )


@check(5, "Service, Ingress (TLS) and PodDisruptionBudget select the API's pods and ports", section=sections.MANIFESTS)
def test_service_wiring(manifest_set: ManifestSet, checklist: Checklist) -> None:
    plant = manifest_set.outside(BLUE_GREEN_DIR)
    deployments = _deployments(manifest_set)
    services = [m for m in plant if m.kind == "Service"]
    if not services:
        fail(f"no Service under {K8S_DIR}/: add one that selects the API's pods", K8S_DIR)
    service = services[0]
    selected = [d for d in deployments.values() if service_selects(service.spec.get("selector"), pod_labels(d))]
    checklist.require(
        selected,
        f"{service.label}: its selector {service.spec.get('selector')} matches no Deployment's pod labels",
        service.where,
    )
    api = selected[0] if selected else None
    ports = [p for p in service.spec.get("ports") or [] if isinstance(p, dict)]
    for port in ports:
        target_port = port.get("targetPort", port.get("port"))
        checklist.require(
            api is None or port_exists(target_port, api),
            f"{service.label}: targetPort {target_port!r} is not a containerPort (name/number) of {api and api.name}",
            service.where,
        )
    ingresses = [m for m in plant if m.kind == "Ingress"]
    if checklist.require(ingresses, f"no Ingress under {K8S_DIR}/: expose the API over HTTPS", K8S_DIR):
        ingress = ingresses[0]
        tls = [t for t in ingress.spec.get("tls") or [] if isinstance(t, dict)]
        if not (tls and all(t.get("secretName") and t.get("hosts") for t in tls)):  # tokens in plain text
            fail(f"{ingress.label}: add spec.tls with hosts and a secretName (the certificate)", ingress.where)
        tls_hosts = {h for t in tls for h in t.get("hosts") or []}
        for rule in ingress.spec.get("rules") or []:
            if not isinstance(rule, dict):
                continue
            host = rule.get("host")
            if host not in tls_hosts:
                fail(f"{ingress.label}: host {host!r} is served without TLS (not in spec.tls)", ingress.where)
            for path in (rule.get("http") or {}).get("paths") or []:
                backend: dict[str, Any] = ((path or {}).get("backend") or {}).get("service") or {}
                name = backend.get("name")
                backend_port = (backend.get("port") or {}).get("name") or (backend.get("port") or {}).get("number")
                target = next((s for s in plant if s.kind == "Service" and s.name == name), None)
                checklist.require(
                    target is not None
                    and any(backend_port in (p.get("name"), p.get("port")) for p in target.spec.get("ports") or []),
                    f"{ingress.label}: backend service {name!r} port {backend_port!r} does not exist",
                    ingress.where,
                )
    if api is not None:
        pdbs = [m for m in plant if m.kind == "PodDisruptionBudget"]
        covering = next((p for p in pdbs if label_selector_matches(p.spec.get("selector"), pod_labels(api))), None)
        for problem in pdb_problems(covering or (pdbs[0] if pdbs else None), api, f"Deployment {api.name}"):
            checklist.require(False, problem, (covering or api).where)


def _selects(policy_selector: Any, labels: dict[str, str]) -> bool:
    """Istio's workload selector: no selector means every workload of the namespace."""
    if not policy_selector:
        return True
    return label_selector_matches(policy_selector, labels)


@check(
    5,
    "Zero trust: default-deny NetworkPolicies, STRICT mTLS and AuthorizationPolicies naming their sources",
    section=sections.MESH,
)
def test_zero_trust(manifest_set: ManifestSet, checklist: Checklist) -> None:
    plant = manifest_set.outside(BLUE_GREEN_DIR)
    deployments = list(_deployments(manifest_set).values())
    policies = [m for m in plant if m.kind == "NetworkPolicy"]
    default_deny = [
        p
        for p in policies
        if p.spec.get("podSelector") in ({}, None)
        and "Ingress" in (p.spec.get("policyTypes") or [])
        and not p.spec.get("ingress")
    ]
    checklist.require(
        default_deny,
        "add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress], no ingress rules) so that only "
        "the traffic other policies allow gets through",
        policies[0].where if policies else K8S_DIR,
    )
    allowing = [p for p in policies if p.spec.get("ingress")]
    for deployment in deployments:
        checklist.require(
            any(label_selector_matches(p.spec.get("podSelector"), pod_labels(deployment)) for p in allowing),
            f"no NetworkPolicy allows any traffic to {deployment.label}: behind the default deny it cannot be "
            "reached (not even by Prometheus)",
            deployment.where,
        )
    peer = [m for m in plant if m.kind == "PeerAuthentication"]
    namespace_wide = [p for p in peer if not (p.spec.get("selector") or {}).get("matchLabels")]
    checklist.require(
        any((p.spec.get("mtls") or {}).get("mode") == "STRICT" for p in namespace_wide),
        "add a namespace-wide PeerAuthentication (no selector) with mtls.mode STRICT",
        peer[0].where if peer else K8S_DIR,
    )
    for p in peer:
        modes = [(p.spec.get("mtls") or {}).get("mode")]
        modes += [(v or {}).get("mode") for v in (p.spec.get("portLevelMtls") or {}).values() if isinstance(v, dict)]
        weak = [m for m in modes if m in ("PERMISSIVE", "DISABLE")]
        if weak:  # plain text inside the mesh: zero trust does not hold at all
            fail(f"{p.label}: mTLS mode {weak[0]} accepts plain-text traffic; use STRICT", p.where)
    authz = [m for m in plant if m.kind == "AuthorizationPolicy"]
    allow = [a for a in authz if a.spec.get("action", "ALLOW") == "ALLOW" and a.spec.get("rules")]
    deny_all = [a for a in authz if not a.spec.get("rules") and a.spec.get("action", "ALLOW") == "ALLOW"]
    for deployment in deployments:
        labels = pod_labels(deployment)
        checklist.require(
            any(_selects(a.spec.get("selector"), labels) for a in [*allow, *deny_all]),
            f"no AuthorizationPolicy applies to {deployment.label}: each workload needs an ALLOW policy naming who may "
            "call it (or a namespace-wide allow-nothing policy)",
            deployment.where,
        )
    for policy in allow:
        for i, rule in enumerate(policy.spec.get("rules") or []):
            sources = [f.get("source") or {} for f in (rule or {}).get("from") or [] if isinstance(f, dict)]
            named = sources and all(
                any(s.get(k) for k in ("principals", "namespaces", "serviceAccounts", "requestPrincipals"))
                for s in sources
            )
            checklist.require(
                named,
                f"{policy.label}: rule {i} has no 'from' with principals, namespaces or serviceAccounts, so it allows "
                "every caller; name the identities that may call",
                policy.where,
            )
