"""Whether a Service port or a PodDisruptionBudget fits the pods it is meant for."""

from __future__ import annotations

from typing import Any

from graders.lab08.k8s_manifests import Manifest, containers, pod_labels
from graders.lab08.selectors import label_selector_matches


def port_exists(port: Any, deployment: Manifest) -> bool:
    """A Service targetPort names (or numbers) a containerPort of the Deployment's pods."""
    for container in containers(deployment):
        for declared in container.get("ports") or []:
            if isinstance(declared, dict) and port in (declared.get("name"), declared.get("containerPort")):
                return True
    return False


def _disruption_allowed(pdb: Manifest, replicas: int) -> bool:
    spec = pdb.spec
    if "maxUnavailable" in spec:
        return spec["maxUnavailable"] not in (0, "0", "0%")
    value = spec.get("minAvailable")
    if isinstance(value, int):
        return value < replicas
    return isinstance(value, str) and value.endswith("%") and value != "100%"


def pdb_problems(pdb: Manifest | None, pods: Manifest, what: str) -> list[str]:
    """Why a PDB does not protect ``pods`` (empty when it does)."""
    if pdb is None:
        return [f"no PodDisruptionBudget covers {what}: add one whose selector matches its pod labels"]
    problems = []
    if not label_selector_matches(pdb.spec.get("selector"), pod_labels(pods)):
        problems.append(
            f"{pdb.label}: its selector {pdb.spec.get('selector')} matches none of {what}'s pods "
            f"(labels {pod_labels(pods)})"
        )
    if "minAvailable" not in pdb.spec and "maxUnavailable" not in pdb.spec:
        problems.append(f"{pdb.label}: set minAvailable or maxUnavailable")
    elif not _disruption_allowed(pdb, int(pods.spec.get("replicas", 1) or 1)):
        problems.append(
            f"{pdb.label}: it allows no disruption at {pods.spec.get('replicas', 1)} replicas, so node drains "
            "hang; leave room for one pod to move"
        )
    return problems
