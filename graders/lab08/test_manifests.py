"""Manifests validated with the ecosystem's tools: Kubernetes schemas, CRD schemas, checkov, kustomize."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graders.lab08 import sections, tooling
from graders.lab08.k8s_manifests import BLUE_GREEN_DIR, K8S_DIR, Manifest, ManifestSet, containers, pod_spec
from graders.lab08.variant import ANSWERS_FILE, gpu_variant
from graders.sdk import Checklist, Submission, check, fail, partial

# The plant's resources Notebook 08 asks for (the KEDA and Istio ones are counted by crd_resources).
REQUIRED_KINDS = ("Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy")


def _no_manifests() -> None:
    fail(
        f"no Kubernetes manifests found under {K8S_DIR}/: add the Deployment, Service, Ingress, HPA, PDB, "
        "ScaledObject, NetworkPolicies and Istio policies as YAML files",
        K8S_DIR,
    )


@check(
    8,
    "The plant's manifests are complete and validate against the Kubernetes schemas (strict)",
    section=sections.MANIFESTS,
)
def test_manifests_schema(
    manifest_set: ManifestSet,
    kustomize_builds: list[tooling.KustomizeBuild] | None,
    overlay_manifests: list[Manifest],
    checklist: Checklist,
) -> None:
    if not manifest_set.manifests and not manifest_set.errors:
        _no_manifests()
    for error in manifest_set.errors:
        checklist.require(False, str(error), error.location)
    problems: dict[str, list[str]] = defaultdict(list)
    for manifest in [*manifest_set.manifests, *overlay_manifests]:
        if tooling.crd_key(manifest) is not None:
            continue  # graded against the CRD schemas by crd_resources
        problem, _known = tooling.kubernetes_schema_errors(manifest.doc)
        problems[manifest.source]  # every file counts, valid or not
        if problem:
            problems[manifest.source].append(f"{manifest.kind} {manifest.name} ({manifest.where}): {problem}")
    for source, found in sorted(problems.items()):
        checklist.require(
            not found,
            f"{'; '.join(found[:3])} (Kubernetes {tooling.KUBERNETES_VERSION} schema, strict: no unknown fields)",
            source,
        )
    for build in kustomize_builds or []:
        checklist.require(build.error is None, build.error or "", build.directory)
    plant_kinds = {m.kind for m in manifest_set.outside(BLUE_GREEN_DIR)}
    for kind in REQUIRED_KINDS:
        checklist.require(
            kind in plant_kinds,
            f"no {kind} under {K8S_DIR}/ (outside blue-green/): the plant's manifests need one",
            K8S_DIR,
        )
    if kustomize_builds is None and manifest_set.kustomization_dirs and not checklist.problems:
        partial(
            1.0,
            "kubectl is not installed here, so the kustomizations were not built; every plain manifest file was "
            f"validated against the Kubernetes {tooling.KUBERNETES_VERSION} schemas",
        )


@check(6, "KEDA and Istio resources validate against their CRD schemas", section=sections.MESH)
def test_crd_resources(manifest_set: ManifestSet, checklist: Checklist) -> None:
    plant = manifest_set.outside(BLUE_GREEN_DIR)
    for group, kind in tooling.CRD_SCHEMAS:
        found = [m for m in plant if m.kind == kind and m.api_version.startswith(group + "/")]
        if not checklist.require(
            found, f"no {kind} ({group}) under {K8S_DIR}/: add one (see the notebook's section on it)", K8S_DIR
        ):
            continue
        for manifest in found:
            problems = tooling.crd_schema_errors(manifest)
            checklist.require(
                not problems,
                f"{manifest.label} does not match the {kind} CRD schema: {'; '.join(problems)}",
                manifest.where,
            )


@check(
    8,
    "checkov's Kubernetes checks pass (probes, requests and limits, hardened security context)",
    section=sections.MANIFESTS,
)
def test_checkov_kubernetes(
    manifest_set: ManifestSet, checkov_findings: tuple[list[tooling.CheckovFinding], int], checklist: Checklist
) -> None:
    deployments = manifest_set.of_kind("Deployment")
    if not deployments:
        fail(f"no Deployment found under {K8S_DIR}/: checkov has nothing to check", K8S_DIR)
    failures, _passes = checkov_findings
    by_check: dict[str, list[tooling.CheckovFinding]] = defaultdict(list)
    for finding in failures:
        by_check[finding.check_id].append(finding)
    for check_id, wanted in tooling.CHECKOV_CHECKS.items():
        found = by_check.get(check_id, [])
        shown = ", ".join(sorted({f"{f.resource.split('.')[-1]} ({f.source})" for f in found})[:4])
        checklist.require(
            not found,
            f"{check_id}: every workload needs {wanted}; missing in {shown}",
            found[0].source if found else None,
        )


GPU_RESOURCE = "nvidia.com/gpu"


def _requests_gpu(manifest: Manifest) -> bool:
    for container in containers(manifest):
        resources = container.get("resources") or {}
        for part in ("limits", "requests"):
            if (
                isinstance(resources, dict)
                and isinstance(resources.get(part), dict)
                and GPU_RESOURCE in resources[part]
            ):
                return True
    return False


def _targets_gpu_nodes(spec: dict[str, Any]) -> bool:
    selector = spec.get("nodeSelector") or {}
    keys = list(selector) if isinstance(selector, dict) else []
    affinity = str((spec.get("affinity") or {}).get("nodeAffinity") or "")
    return any("accelerator" in k or "gpu" in k.lower() for k in keys) or "accelerator" in affinity or "gpu" in affinity


def _tolerates_gpu_taint(spec: dict[str, Any]) -> bool:
    for toleration in spec.get("tolerations") or []:
        if not isinstance(toleration, dict):
            continue
        if toleration.get("key") == GPU_RESOURCE or (
            toleration.get("operator") == "Exists" and not toleration.get("key")
        ):
            return True
    return False


@check(4, "A GPU variant of the API with a GPU node selector, toleration and GPU limit", section=sections.MANIFESTS)
def test_gpu_variant(
    manifest_set: ManifestSet,
    overlay_manifests: list[Manifest],
    kustomize_builds: list[tooling.KustomizeBuild] | None,
    submission: Submission,
    checklist: Checklist,
) -> None:
    variant = gpu_variant(submission)
    if variant.not_part_of_this_repository:
        return  # generated with gpu_variant = no and no GPU files: nothing of the variant to grade
    candidates = [m for m in [*overlay_manifests, *manifest_set.of_kind("Deployment")] if m.kind == "Deployment"]
    note = ""
    if variant.declared_off:
        note = (
            f" ({ANSWERS_FILE} says gpu_variant: false, but {', '.join(variant.present)} "
            f"{'is' if len(variant.present) == 1 else 'are'} there: complete the GPU variant, or delete "
            "those files to leave it out)"
        )
    if kustomize_builds is None and manifest_set.kustomize_inputs:
        note += " (kubectl is not installed here: the overlay's patch files were read instead of its build)"
        for path in sorted(manifest_set.kustomize_inputs):
            if submission.is_file(path):
                docs = submission.load_yaml_all(path)
                candidates += [Manifest(path, i, d) for i, d in enumerate(docs) if isinstance(d, dict)]
    gpu = [m for m in candidates if _requests_gpu(m) or _targets_gpu_nodes(pod_spec(m))]
    if not gpu:
        fail(
            "no GPU variant of the API found: add a kustomize overlay (e.g. k8s/overlays/gpu) or a separate "
            f"manifest whose Deployment requests {GPU_RESOURCE}, selects GPU nodes and tolerates their taint{note}",
            K8S_DIR,
        )
    best = max(
        gpu, key=lambda m: (_requests_gpu(m), _targets_gpu_nodes(pod_spec(m)), _tolerates_gpu_taint(pod_spec(m)))
    )
    spec = pod_spec(best)
    checklist.require(
        _requests_gpu(best), f"{best.label}: request {GPU_RESOURCE} in the container's limits{note}", best.where
    )
    checklist.require(
        _targets_gpu_nodes(spec),
        f"{best.label}: add a nodeSelector (or node affinity) for GPU nodes, e.g. "
        f"cloud.google.com/gke-accelerator: nvidia-l4{note}",
        best.where,
    )
    checklist.require(
        _tolerates_gpu_taint(spec),
        f"{best.label}: GPU nodes are tainted {GPU_RESOURCE}=present:NoSchedule; add a toleration for key "
        f"{GPU_RESOURCE}{note}",
        best.where,
    )
    plain_api = [m for m in manifest_set.of_kind("Deployment") if m.name == best.name and m.source != best.source]
    checklist.require(
        all(not _requests_gpu(m) for m in plain_api),
        f"the CPU Deployment {best.name} also requests GPUs: keep the GPU settings in the variant only, so plants "
        "without GPU nodes can still run it",
        plain_api[0].where if plain_api else None,
    )
